// @ts-check
// The monitoring notice page. Its words come from the shell (window.haven.getNotice); it adds none
// of its own beyond the fallback in the HTML, and writes everything as text, never as HTML.
/* global window, document */
'use strict';

(function () {
  const haven = window.haven;
  const text = /** @type {HTMLElement} */ (document.getElementById('notice-text'));
  const heading = /** @type {HTMLElement} */ (document.getElementById('notice-heading'));
  const explanation = /** @type {HTMLElement} */ (document.getElementById('notice-explanation'));
  const linkLine = /** @type {HTMLElement} */ (document.getElementById('notice-link-line'));
  const link = /** @type {HTMLAnchorElement} */ (document.getElementById('notice-link'));
  const button = /** @type {HTMLButtonElement} */ (document.getElementById('acknowledge'));

  /** Only an absolute http(s) address becomes a link (the shell checks too). */
  function safeHref(/** @type {unknown} */ href) {
    return typeof href === 'string' && /^https?:\/\/[^\s]+$/i.test(href) ? href : null;
  }

  link.addEventListener('click', (event) => {
    event.preventDefault();
    if (haven) void haven.openTransparency();
  });

  button.addEventListener('click', () => {
    if (!haven) return;
    button.disabled = true;
    haven.acknowledgeNotice().catch(() => {
      button.disabled = false;
    });
  });

  if (!haven) return;
  haven.getNotice().then(
    (notice) => {
      heading.textContent = notice.heading;
      document.title = notice.heading;
      text.textContent = notice.text;
      explanation.textContent = notice.explanation;
      button.textContent = notice.acknowledge;
      const href = notice.link ? safeHref(notice.link.href) : null;
      if (notice.link && href) {
        link.href = href;
        link.textContent = notice.link.label;
        linkLine.hidden = false;
      } else {
        link.removeAttribute('href');
        linkLine.hidden = true;
      }
    },
    () => undefined,
  );
})();
