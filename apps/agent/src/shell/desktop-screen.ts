/**
 * The screen source for the tray shell on Windows and macOS, in plain Node: every decision the
 * Electron side (shell/desktop-capturer-source.ts) needs, so it only calls Electron's API.
 *
 * On those platforms the screen is captured through Electron's desktopCapturer (a thumbnail of
 * the primary screen, as PNG) and read by the same OCR, on the same schedule and with the same
 * change detection (an unchanged image is not read again) as the X11 source on Linux: both are a
 * ScreenSource from agent-core with a different capture function.
 */
import { ScreenSource, type Ocr, type Source } from '@haven/agent-core';

/** Seconds between periodic captures (a window change captures sooner), as on Linux. */
export const DESKTOP_SCREEN_INTERVAL_SECONDS = 10;

/**
 * The longest side of the image handed to OCR, in pixels. OCR time grows with the pixel count;
 * a 4K or 5K screen scaled to this still has legible text at ordinary sizes.
 */
export const MAX_CAPTURE_SIDE = 2560;

export type DisplayInfo = { id: number; size: { width: number; height: number }; scaleFactor: number };

/**
 * The thumbnail size to ask desktopCapturer for: the display's size in physical pixels (so text
 * is not blurred by scaling down on a high-DPI screen), its longest side capped at `maxSide`,
 * aspect kept. Garbage in (a zero or missing size) gives a 1280×800 request.
 */
export function thumbnailSize(display: DisplayInfo, maxSide = MAX_CAPTURE_SIDE): { width: number; height: number } {
  const scale = Number.isFinite(display.scaleFactor) && display.scaleFactor > 0 ? display.scaleFactor : 1;
  let width = Math.round(display.size.width * scale);
  let height = Math.round(display.size.height * scale);
  if (!(width > 0 && height > 0)) return { width: 1280, height: 800 };
  const longest = Math.max(width, height);
  if (longest > maxSide) {
    width = Math.max(1, Math.round((width * maxSide) / longest));
    height = Math.max(1, Math.round((height * maxSide) / longest));
  }
  return { width, height };
}

/**
 * The primary display's entry among desktopCapturer's screen sources: the one whose display_id
 * is the primary display's id; failing that (display_id is empty on some platforms) the only
 * screen, or the first `screen:` one. Null when there is none.
 */
export function primaryScreen<T extends { id: string; display_id: string }>(sources: readonly T[], primaryDisplayId: number): T | null {
  const screens = sources.filter((s) => s.id.startsWith('screen:'));
  return screens.find((s) => s.display_id !== '' && s.display_id === String(primaryDisplayId)) ?? screens[0] ?? null;
}

/** macOS's Screen Recording permission as systemPreferences.getMediaAccessStatus('screen') reports it. */
export type ScreenAccess = 'not-determined' | 'granted' | 'denied' | 'restricted' | 'unknown';

/**
 * Whether the desktopCapturer source can run here. On macOS without the Screen Recording
 * permission the capture would succeed but show only the wallpaper and the menu bar, so the
 * source is reported as failed, with the fix, instead of silently reading nothing.
 */
export function desktopScreenAvailable(platform: NodeJS.Platform, access: ScreenAccess | null): { ok: true } | { ok: false; detail: string } {
  if (platform === 'win32') return { ok: true };
  if (platform === 'darwin') {
    if (access === 'granted') return { ok: true };
    return {
      ok: false,
      detail: `Screen Recording is not allowed for Haven (${access ?? 'unknown'}): the school's configuration profile grants it, or System Settings, Privacy & Security, Screen Recording`,
    };
  }
  return { ok: false, detail: `the desktop capture is for Windows and macOS; ${platform} uses its own screen source` };
}

/** What a thumbnail said about itself; an empty one is an error (the screen is locked, or capture is blocked). */
export function checkThumbnail(thumb: { empty: boolean; width: number; height: number }): Error | null {
  if (thumb.empty || thumb.width === 0 || thumb.height === 0) return new Error('the screen could not be captured (an empty image: locked, asleep or blocked)');
  return null;
}

export type CapturedScreenOptions = {
  /** PNG bytes of what is on the screen now. */
  capture: () => Promise<Buffer>;
  available: () => { ok: true } | { ok: false; detail: string };
  intervalSeconds?: number;
  /** CPU budget (see ScreenSource); default ScreenSource's. */
  budgetFactor?: number;
  ocr?: Ocr;
};

/**
 * A 'screen' Source from a capture function: a ScreenSource (schedule, CPU budget, change
 * detection, OCR with per-word confidence) whose text is reported with the foreground window
 * the window source last saw.
 */
export function capturedScreenSource(options: CapturedScreenOptions): Source & { readonly stats: ScreenSource['stats'] | null } {
  let inner: ScreenSource | null = null;
  return {
    name: 'screen',
    available: () => options.available(),
    get stats() {
      return inner?.stats ?? null;
    },
    start(ctx) {
      inner = new ScreenSource({
        capture: options.capture,
        ocr: options.ocr,
        intervalSeconds: options.intervalSeconds ?? DESKTOP_SCREEN_INTERVAL_SECONDS,
        budgetFactor: options.budgetFactor,
        languages: () => ctx.ocrLanguages?.(),
        onText: (t) => {
          ctx.health({ state: 'ok' });
          const w = ctx.window();
          ctx.observe({ source: 'screen', text: t.text, unsure: t.unsure, app: w.app, title: w.title, at: t.at });
        },
        onError: (err) => ctx.health({ state: 'degraded', detail: err.message.slice(0, 200) }),
      });
      inner.start();
    },
    windowChanged() {
      inner?.windowChanged();
    },
    async stop() {
      const stopping = inner;
      inner = null;
      await stopping?.stop();
    },
  };
}

/**
 * The shell's sources: on Windows and macOS the 'screen' source is replaced by the
 * desktopCapturer one (made only there); on Linux and anywhere else the list is kept as it is
 * (the X11 screen source). A list without 'screen' (turned off) stays without it.
 */
export function shellSources(platform: NodeJS.Platform, sources: Source[], desktopScreen: () => Source): Source[] {
  if (platform !== 'win32' && platform !== 'darwin') return sources;
  return sources.map((s) => (s.name === 'screen' ? desktopScreen() : s));
}
