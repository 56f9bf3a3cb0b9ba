/**
 * The Windows/macOS screen source's plain-Node half (src/shell/desktop-screen.ts): the decisions,
 * and the source itself reading a real screenshot (a page rendered by Chromium, standing in for
 * desktopCapturer's PNG) with the real OCR and its change detection.
 */
import { existsSync } from 'node:fs';
import type { SourceContext, Source } from '@haven/agent-core';
import type { Observation } from '@haven/agent-core';
import type { SourceHealth } from '@haven/protocol';
import { chromium } from 'playwright-core';
import {
  capturedScreenSource,
  checkThumbnail,
  desktopScreenAvailable,
  MAX_CAPTURE_SIDE,
  primaryScreen,
  shellSources,
  thumbnailSize,
} from '../src/shell/desktop-screen';

const CHROMIUM_PATH = '/usr/bin/chromium';

async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('thumbnailSize', () => {
  test('physical pixels on a high-DPI screen, so text is not blurred by scaling down', () => {
    expect(thumbnailSize({ id: 1, size: { width: 1280, height: 800 }, scaleFactor: 2 })).toEqual({ width: 2560, height: 1600 });
    expect(thumbnailSize({ id: 1, size: { width: 1366, height: 768 }, scaleFactor: 1 })).toEqual({ width: 1366, height: 768 });
    expect(thumbnailSize({ id: 1, size: { width: 1536, height: 864 }, scaleFactor: 1.25 })).toEqual({ width: 1920, height: 1080 });
  });
  test('a 4K or 5K screen is capped at the longest side, aspect kept (portrait too)', () => {
    expect(thumbnailSize({ id: 1, size: { width: 3840, height: 2160 }, scaleFactor: 1 })).toEqual({ width: MAX_CAPTURE_SIDE, height: 1440 });
    expect(thumbnailSize({ id: 1, size: { width: 2560, height: 1440 }, scaleFactor: 2 })).toEqual({ width: 2560, height: 1440 });
    expect(thumbnailSize({ id: 1, size: { width: 1080, height: 1920 }, scaleFactor: 2 })).toEqual({ width: 1440, height: 2560 });
  });
  test('a missing size or scale does not give a zero-sized request', () => {
    expect(thumbnailSize({ id: 1, size: { width: 0, height: 0 }, scaleFactor: 1 })).toEqual({ width: 1280, height: 800 });
    expect(thumbnailSize({ id: 1, size: { width: 1280, height: 800 }, scaleFactor: 0 })).toEqual({ width: 1280, height: 800 });
    expect(thumbnailSize({ id: 1, size: { width: 1280, height: 800 }, scaleFactor: Number.NaN })).toEqual({ width: 1280, height: 800 });
  });
});

describe('primaryScreen', () => {
  const list = [
    { id: 'window:123:0', display_id: '', name: 'a window' },
    { id: 'screen:0:0', display_id: '2779098405', name: 'Screen 1' },
    { id: 'screen:1:0', display_id: '69733378', name: 'Screen 2' },
  ];
  test('the screen whose display_id is the primary display', () => {
    expect(primaryScreen(list, 69733378)?.id).toBe('screen:1:0');
    expect(primaryScreen(list, 2779098405)?.id).toBe('screen:0:0');
  });
  test('without a match (display_id empty on some platforms), the first screen; never a window', () => {
    expect(primaryScreen([list[0]!, { ...list[2]!, display_id: '' }], 5)?.id).toBe('screen:1:0');
    expect(primaryScreen([list[0]!], 5)).toBeNull();
    expect(primaryScreen([], 5)).toBeNull();
  });
});

describe('desktopScreenAvailable', () => {
  test('Windows: yes; macOS only with Screen Recording granted, saying how to fix it otherwise', () => {
    expect(desktopScreenAvailable('win32', null)).toEqual({ ok: true });
    expect(desktopScreenAvailable('darwin', 'granted')).toEqual({ ok: true });
    for (const access of ['not-determined', 'denied', 'restricted', 'unknown'] as const) {
      const r = desktopScreenAvailable('darwin', access);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.detail).toContain('Screen Recording');
      if (!r.ok) expect(r.detail).toContain(access);
    }
  });
  test('Linux is not its platform', () => {
    expect(desktopScreenAvailable('linux', null).ok).toBe(false);
  });
});

test('checkThumbnail: an empty image is an error, a real one is not', () => {
  expect(checkThumbnail({ empty: true, width: 0, height: 0 })?.message).toMatch(/empty image/);
  expect(checkThumbnail({ empty: false, width: 0, height: 10 })).not.toBeNull();
  expect(checkThumbnail({ empty: false, width: 1920, height: 1080 })).toBeNull();
});

describe('shellSources', () => {
  const named = (name: Source['name'], tag: string): Source & { tag: string } => ({ name, tag, available: () => ({ ok: true }), start: () => undefined, stop: () => undefined });
  const defaults = () => [named('keys', 'uiohook'), named('title', 'get-windows'), named('screen', 'x11')];
  const tags = (list: Source[]) => list.map((s) => `${s.name}:${(s as Source & { tag: string }).tag}`);

  test('Windows and macOS: the screen source is the desktopCapturer one; the others are kept', () => {
    for (const platform of ['win32', 'darwin'] as const) {
      expect(tags(shellSources(platform, defaults(), () => named('screen', 'desktopCapturer')))).toEqual(['keys:uiohook', 'title:get-windows', 'screen:desktopCapturer']);
    }
  });
  test('Linux: the X11 screen source; the desktopCapturer one is never made', () => {
    const make = jest.fn(() => named('screen', 'desktopCapturer'));
    expect(tags(shellSources('linux', defaults(), make))).toEqual(['keys:uiohook', 'title:get-windows', 'screen:x11']);
    expect(make).not.toHaveBeenCalled();
  });
  test('screen turned off stays off', () => {
    const make = jest.fn(() => named('screen', 'desktopCapturer'));
    expect(tags(shellSources('win32', defaults().slice(0, 2), make))).toEqual(['keys:uiohook', 'title:get-windows']);
    expect(make).not.toHaveBeenCalled();
  });
});

/** The context a running source gets from agent-core's Capture, recording what it is told. */
function recordingContext(window = { title: 'Notes', app: 'notepad.exe' }) {
  const observed: Observation[] = [];
  const health: SourceHealth[] = [];
  const ctx: SourceContext = {
    observe: (o) => void observed.push(o),
    health: (h) => void health.push(h),
    setWindow: () => undefined,
    window: () => window,
    log: () => undefined,
  };
  return { ctx, observed, health };
}

const describeInChromium = existsSync(CHROMIUM_PATH)
  ? describe
  : (name: string, fn: () => void) => describe.skip(`${name} (skipped: ${CHROMIUM_PATH} does not exist; install Debian's chromium package to run it)`, fn);

describeInChromium('capturedScreenSource: a real screenshot, the real OCR', () => {
  let screenshot: Buffer;
  let other: Buffer;

  beforeAll(async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const shot = async (text: string) => {
        await page.setContent(`<body style="margin:40px;font:28px sans-serif;background:#fff;color:#000"><p>${text}</p></body>`);
        return page.screenshot({ type: 'png' });
      };
      screenshot = await shot('I feel like nobody would miss me. I want to kill myself tonight.');
      other = await shot('Homework: the water cycle, due on Friday.');
    } finally {
      await browser.close();
    }
  });

  test('reads the screen, reports the text with the foreground window, and does not read an unchanged screen again', async () => {
    let image = screenshot;
    let captures = 0;
    const source = capturedScreenSource({
      capture: async () => {
        captures++;
        return image;
      },
      available: () => ({ ok: true }),
      intervalSeconds: 0.2,
      budgetFactor: 0,
    });
    const { ctx, observed, health } = recordingContext();
    source.start(ctx);
    try {
      await waitFor(() => observed.length >= 1, 45_000, 'the OCR of the first screen');
      expect(observed[0]).toMatchObject({ source: 'screen', title: 'Notes', app: 'notepad.exe' });
      expect(observed[0]!.text).toMatch(/kill myself tonight/i);
      expect(health).toContainEqual({ state: 'ok' });

      await waitFor(() => captures >= 4, 10_000, 'more captures of the same screen');
      expect(source.stats!.ocrRuns).toBe(1); // the same image is not read again
      expect(source.stats!.unchanged).toBeGreaterThanOrEqual(3);
      expect(observed).toHaveLength(1);

      image = other;
      await waitFor(() => observed.length >= 2, 45_000, 'the OCR of the changed screen');
      expect(observed[1]!.text).toMatch(/water cycle/i);
    } finally {
      await source.stop();
    }
    expect(source.stats).toBeNull();
  });

  test('a capture that fails (empty image, no permission) is reported as degraded health with the reason', async () => {
    const source = capturedScreenSource({
      capture: () => Promise.reject(checkThumbnail({ empty: true, width: 0, height: 0 })!),
      available: () => ({ ok: true }),
      intervalSeconds: 0.2,
    });
    const { ctx, observed, health } = recordingContext();
    source.start(ctx);
    try {
      await waitFor(() => health.length >= 1, 5000, 'the health report');
      expect(health[0]).toEqual({ state: 'degraded', detail: 'the screen could not be captured (an empty image: locked, asleep or blocked)' });
      expect(observed).toEqual([]);
    } finally {
      await source.stop();
    }
  });

  test('available() is the one it is given (agent-core reports a failed source with its detail and does not start it)', () => {
    const source = capturedScreenSource({ capture: async () => screenshot, available: () => desktopScreenAvailable('darwin', 'denied') });
    expect(source.name).toBe('screen');
    expect(source.available()).toMatchObject({ ok: false });
  });
});
