// @ts-check
// The status window. Rows come ready-made from the shell (window.haven.getStatus, then each
// 'status:changed'); the page only lays them out, as text, never as HTML.
/* global window, document */
'use strict';

(function () {
  const haven = window.haven;
  const summary = /** @type {HTMLElement} */ (document.getElementById('summary'));
  const connection = /** @type {HTMLElement} */ (document.getElementById('connection'));
  const sources = /** @type {HTMLElement} */ (document.getElementById('sources'));
  const updated = /** @type {HTMLElement} */ (document.getElementById('updated'));
  const TONES = ['ok', 'waiting', 'problem', 'off'];

  /** @param {unknown} tone */
  function toneOf(tone) {
    return typeof tone === 'string' && TONES.includes(tone) ? tone : 'waiting';
  }

  /**
   * @param {HTMLElement} list
   * @param {import('../../src/shell/status-model').StatusRow[]} rows
   */
  function renderRows(list, rows) {
    const items = rows.map((row) => {
      const item = document.createElement('div');
      item.className = 'row';
      item.dataset.row = String(row.id);
      item.dataset.tone = toneOf(row.tone);
      const label = document.createElement('dt');
      label.textContent = String(row.label);
      const value = document.createElement('dd');
      value.textContent = String(row.value);
      item.append(label, value);
      return item;
    });
    list.replaceChildren(...items);
  }

  /** @param {import('../../src/shell/status-model').StatusView} view */
  function render(view) {
    summary.textContent = String(view.summary);
    summary.dataset.tone = toneOf(view.summaryTone);
    renderRows(connection, Array.isArray(view.connection) ? view.connection : []);
    renderRows(sources, Array.isArray(view.sources) ? view.sources : []);
    updated.textContent = String(view.updated);
  }

  function unavailable() {
    summary.textContent = 'The status is not available. Please try again in a moment.';
    summary.dataset.tone = 'problem';
  }

  if (!haven) {
    unavailable();
    return;
  }
  let latest = false;
  haven.onStatusChanged((view) => {
    latest = true;
    render(view);
  });
  haven.getStatus().then(
    (view) => {
      // A change that arrived while asking is newer than the answer.
      if (!latest) render(view);
    },
    () => {
      if (!latest) unavailable();
    },
  );
})();
