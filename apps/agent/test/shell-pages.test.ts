/**
 * The shell's two pages as web pages in Debian's Chromium, loaded from file:// as Electron loads
 * them. The preload's `window.haven` is replaced by a fake injected before the page's own script
 * (addInitScript): the page is what is tested; the rows it shows come from the real statusView.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { HavenBridge } from '../src/shell/ipc';
import { noticeView, type NoticeView } from '../src/shell/notice';
import { rowSentences, statusView, type ShellStatus, type StatusView } from '../src/shell/status-model';
import { healthyStatus, usSpellingsIn } from './shell-support';

// Page-side code below runs in Chromium; this package's tsconfig has no DOM types.
declare const window: any;
declare const document: any;
declare const getComputedStyle: any;

const CHROMIUM_PATH = '/usr/bin/chromium';
const PAGES = path.join(__dirname, '..', 'shell', 'pages');
const pageUrl = (name: 'notice.html' | 'status.html') => pathToFileURL(path.join(PAGES, name)).href;

type Fake = { notice?: NoticeView | null; status?: StatusView | null; statusDelayMs?: number; failStatus?: boolean };

/** Installs a fake `window.haven` before any page script runs; calls are recorded in window.__calls. */
async function withFakeHaven(context: BrowserContext, fake: Fake | 'none'): Promise<void> {
  await context.addInitScript((fake: Fake | 'none') => {
    window.__calls = [];
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e: any) => window.__violations.push(e.violatedDirective));
    if (fake === 'none') return;
    const listeners: ((v: StatusView) => void)[] = [];
    window.__emitStatus = (v: StatusView) => listeners.forEach((l) => l(v));
    const bridge: HavenBridge = {
      getNotice: async () => {
        window.__calls.push('notice:get');
        if (!fake.notice) throw new Error('no notice');
        return fake.notice;
      },
      getStatus: () => {
        window.__calls.push('status:get');
        return new Promise((resolve, reject) =>
          setTimeout(() => (fake.failStatus || !fake.status ? reject(new Error('refused')) : resolve(fake.status)), fake.statusDelayMs ?? 0),
        );
      },
      onStatusChanged: (cb) => {
        window.__calls.push('status:changed (listening)');
        listeners.push(cb);
        return () => listeners.splice(listeners.indexOf(cb), 1);
      },
      acknowledgeNotice: async () => {
        window.__calls.push('notice:acknowledge');
      },
      openTransparency: async () => {
        window.__calls.push('notice:open-transparency');
        return true;
      },
    };
    window.haven = bridge;
  }, fake);
}

const calls = (page: Page): Promise<string[]> => page.evaluate(() => window.__calls);
const visibleText = (page: Page): Promise<string> => page.evaluate(() => document.body.innerText);

/** Whether anything is wider than the window: the page scrolls sideways or an element's text spills out. */
function overflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    const width = window.innerWidth;
    if (document.documentElement.scrollWidth > width) found.push(`page is ${document.documentElement.scrollWidth}px wide`);
    for (const el of document.querySelectorAll('body *')) {
      if (el.offsetParent === null && getComputedStyle(el).position !== 'fixed') continue;
      const r = el.getBoundingClientRect();
      if (r.right > width + 0.5) found.push(`${el.tagName}#${el.id} ends at ${Math.round(r.right)}px`);
      if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible') found.push(`${el.tagName}#${el.id} scrolls`);
    }
    return found;
  });
}

/** A real place name: one word wider than a 360px window. */
const LONG_SCHOOL = 'Ysgol Gynradd Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch Church in Wales Voluntary Aided Primary School';

const describeInChromium = existsSync(CHROMIUM_PATH)
  ? describe
  : (name: string, fn: () => void) => describe.skip(`${name} (skipped: ${CHROMIUM_PATH} does not exist; install Debian's chromium package to run it)`, fn);

describeInChromium('the tray shell pages in Chromium', () => {
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await context?.close();
  });

  async function open(name: 'notice.html' | 'status.html', fake: Fake | 'none', width = 520): Promise<Page> {
    context = await browser.newContext({ viewport: { width, height: 640 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    await withFakeHaven(context, fake);
    const page = await context.newPage();
    await page.goto(pageUrl(name));
    return page;
  }

  describe('the monitoring notice', () => {
    const riverside = noticeView({ school: 'Riverside Academy', transparencyUrl: 'https://riverside.example.sch.uk/monitoring' });

    test("names the school, links to its transparency notice and opens it through the shell, not by navigating", async () => {
      const page = await open('notice.html', { notice: riverside });
      await page.getByText('This computer is monitored by Riverside Academy to keep pupils safe.').waitFor();
      expect(await page.getAttribute('html', 'lang')).toBe('en-GB');
      expect(await page.title()).toBe('This computer is monitored');
      await page.getByRole('main', { name: 'This computer is monitored' }).waitFor();
      expect(await page.getByRole('heading', { level: 1 }).allInnerTexts()).toEqual(['This computer is monitored']);
      const link = page.getByRole('link', { name: "Read the school's notice about monitoring" });
      expect(await link.getAttribute('href')).toBe('https://riverside.example.sch.uk/monitoring');
      await link.click();
      await page.waitForFunction(() => window.__calls.includes('notice:open-transparency'));
      expect(page.url()).toBe(pageUrl('notice.html'));
      expect(await calls(page)).toEqual(['notice:get', 'notice:open-transparency']);
    });

    test('acknowledged by keyboard alone: Tab to the link, Tab to the button, Enter; focus is visible', async () => {
      const page = await open('notice.html', { notice: riverside });
      await page.getByText('This computer is monitored by Riverside Academy', { exact: false }).waitFor();
      const button = page.getByRole('button', { name: 'I understand' });
      const unfocused = await button.evaluate((el: any) => getComputedStyle(el).outlineStyle);
      expect(unfocused).toBe('none');

      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement.id)).toBe('notice-link');
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement.id)).toBe('acknowledge');
      const ring = await button.evaluate((el: any) => {
        const s = getComputedStyle(el);
        return { style: s.outlineStyle, width: parseFloat(s.outlineWidth), matches: el.matches(':focus-visible') };
      });
      expect(ring).toEqual({ style: 'solid', width: 3, matches: true });

      await page.keyboard.press('Enter');
      await page.waitForFunction(() => window.__calls.includes('notice:acknowledge'));
      expect(await calls(page)).toEqual(['notice:get', 'notice:acknowledge']);
      expect(await button.isDisabled()).toBe(true);
    });

    test("a school's name is text, never markup", async () => {
      const page = await open('notice.html', { notice: noticeView({ school: '<img src=x onerror="window.__pwned=1">Hill <b>School</b>', transparencyUrl: null }) });
      await page.getByText('This computer is monitored by <img src=x onerror="window.__pwned=1">Hill <b>School</b> to keep pupils safe.').waitFor();
      expect(await page.locator('main img, main b').count()).toBe(0);
      expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    });

    test('no transparency address, or one that is not http(s): no link at all', async () => {
      const none = await open('notice.html', { notice: noticeView({ school: null, transparencyUrl: 'javascript:alert(1)' }) });
      await none.getByText('This computer is monitored by your school to keep pupils safe.').waitFor();
      await none.waitForFunction(() => window.__calls.includes('notice:get'));
      expect(await none.getByRole('link').count()).toBe(0);
      await context.close();

      // Even if the shell handed the page a javascript: address, the page would not make it a link.
      const forged = await open('notice.html', { notice: { ...riverside, link: { href: 'javascript:window.__pwned=1', label: 'Read more' } } });
      await forged.getByText('This computer is monitored by Riverside Academy', { exact: false }).waitFor();
      expect(await forged.getByRole('link').count()).toBe(0);
      expect(await forged.locator('a[href^="javascript"]').count()).toBe(0);
      await forged.keyboard.press('Tab');
      expect(await forged.evaluate(() => document.activeElement.id)).toBe('acknowledge');
    });

    test('without the shell (no window.haven) it still says the computer is monitored', async () => {
      const page = await open('notice.html', 'none');
      expect(await page.locator('#notice-text').innerText()).toBe('This computer is monitored by your school to keep pupils safe.');
      expect(await page.getByRole('link').count()).toBe(0);
    });

    test('the Content-Security-Policy lets only its own files run: an injected inline script does not', async () => {
      const page = await open('notice.html', { notice: riverside });
      await page.getByText('This computer is monitored by Riverside Academy', { exact: false }).waitFor();
      const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe');
      await page.evaluate(() => {
        const s = document.createElement('script');
        s.textContent = 'window.__inline = true';
        document.body.append(s);
      });
      await page.waitForFunction(() => window.__violations.length > 0);
      expect(await page.evaluate(() => window.__inline)).toBeUndefined();
      expect(await page.evaluate(() => window.__violations)).toContain('script-src-elem');
    });

    test('British English, and nothing spills out at 360px wide, even with a very long school name', async () => {
      const page = await open('notice.html', { notice: noticeView({ school: LONG_SCHOOL, transparencyUrl: `https://${'a'.repeat(60)}.example.sch.uk/${'b'.repeat(120)}` }) }, 360);
      await page.getByText(LONG_SCHOOL, { exact: false }).waitFor();
      expect(usSpellingsIn(await visibleText(page))).toEqual([]);
      expect(await overflow(page)).toEqual([]);
    });
  });

  describe('the status window', () => {
    const rowsOnPage = (page: Page): Promise<string[]> =>
      page.evaluate(() => [...document.querySelectorAll('.row')].map((r: any) => `${r.querySelector('dt').innerText}: ${r.querySelector('dd').innerText}`));

    test('shows the rows with headings and landmarks', async () => {
      const view = statusView(healthyStatus());
      const page = await open('status.html', { status: view });
      await page.getByText('Typed phrases', { exact: true }).waitFor();
      await page.getByRole('main', { name: 'Monitoring status' }).waitFor();
      expect(await page.getByRole('heading', { level: 1 }).allInnerTexts()).toEqual(['Monitoring status']);
      expect(await page.getByRole('heading', { level: 2 }).allInnerTexts()).toEqual(['Connection', 'What is watched']);
      await page.getByRole('region', { name: 'Connection' }).waitFor();
      await page.getByRole('region', { name: 'What is watched' }).waitFor();
      expect(await page.getByRole('status').innerText()).toBe("Connected to the school's Haven server. Monitoring is working.");
      expect(await page.getByRole('region', { name: 'What is watched' }).getByRole('term').allInnerTexts()).toEqual(['Window titles', 'Typed phrases', 'Text on the screen']);
      expect(await rowsOnPage(page)).toEqual(rowSentences(view));
      expect(await rowsOnPage(page)).toContain('Last delivery: 14:05, 7 December 2026');
      expect(await page.locator('#updated').innerText()).toBe('Updated 14:06, 7 December 2026');
    });

    const states: [string, ShellStatus][] = [
      ['connecting', healthyStatus({ service: { state: 'connecting', since: null }, collector: { state: 'unknown', lastDeliveryAt: null } })],
      ['offline, keys paused', healthyStatus({ collector: { state: 'offline', lastDeliveryAt: '2026-07-07T13:05:00Z' }, sources: { title: { state: 'ok' }, keys: { state: 'paused', detail: 'quiet hours' }, screen: { state: 'disabled' } } })],
      ['refused', healthyStatus({ collector: { state: 'refused', lastDeliveryAt: null } })],
      ['service unreachable', healthyStatus({ service: { state: 'unreachable', since: '2026-12-07T14:00:00Z' } })],
      ['sources failing', healthyStatus({ sources: { title: { state: 'degraded', detail: 'no window manager' }, keys: { state: 'failed', detail: 'no input device' }, screen: { state: 'failed' } } })],
      ['all well again', healthyStatus()],
    ];

    test('updates on each status:changed, through every state, in British English', async () => {
      const page = await open('status.html', { status: statusView(healthyStatus()) });
      await page.getByText('Typed phrases', { exact: true }).waitFor();
      for (const [name, status] of states) {
        const view = statusView(status);
        await page.evaluate((v) => window.__emitStatus(v), view);
        await page.waitForFunction((summary) => document.getElementById('summary').innerText === summary && true, view.summary);
        expect({ name, rows: await rowsOnPage(page) }).toEqual({ name, rows: rowSentences(view) });
        expect(await page.locator('#summary').getAttribute('data-tone')).toBe(view.summaryTone);
        const tones = await page.evaluate(() => [...document.querySelectorAll('.row')].map((r: any) => r.dataset.tone));
        expect(tones).toEqual([...view.connection, ...view.sources].map((r) => r.tone));
        expect(usSpellingsIn(await visibleText(page))).toEqual([]);
      }
      expect(await rowsOnPage(page)).toContain('Typed phrases: watched');
      expect((await calls(page)).filter((c) => c === 'status:get')).toHaveLength(1);
    });

    test('a change that arrives while the first answer is on its way is not overwritten by it', async () => {
      const page = await open('status.html', { status: statusView(healthyStatus()), statusDelayMs: 400 });
      await page.waitForFunction(() => window.__calls.includes('status:changed (listening)'));
      const newer = statusView(states[2]![1]);
      await page.evaluate((v) => window.__emitStatus(v), newer);
      await page.waitForTimeout(600);
      expect(await rowsOnPage(page)).toEqual(rowSentences(newer));
    });

    test('no status from the shell: says it is not available', async () => {
      const refused = await open('status.html', { failStatus: true });
      await refused.getByText('The status is not available. Please try again in a moment.').waitFor();
      await context.close();
      const alone = await open('status.html', 'none');
      await alone.getByText('The status is not available. Please try again in a moment.').waitFor();
    });

    test('nothing spills out at 360px wide, with the longest rows', async () => {
      const view = statusView(
        healthyStatus({
          collector: { state: 'refused', lastDeliveryAt: '2026-12-07T14:05:00Z' },
          sources: { title: { state: 'degraded', detail: 'x'.repeat(80) }, keys: { state: 'failed', detail: 'the keyboard hook could not be installed' }, screen: { state: 'paused', detail: 'quiet hours' } },
        }),
      );
      const page = await open('status.html', { status: view }, 360);
      await page.getByText('Typed phrases', { exact: true }).waitFor();
      expect(await overflow(page)).toEqual([]);
      expect(usSpellingsIn(await visibleText(page))).toEqual([]);
    });
  });
});
