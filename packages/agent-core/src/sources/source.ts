import type { OcrLanguage, SourceHealth } from '@haven/protocol';
import type { Observation } from '../transform/to-event';
import { KeysSource } from './keys/keys-source';
import { ScreenSource } from './screen/screen-source';
import { WindowSource } from './window/window-source';

/** The protocol's and the policy's name for each capture source. */
export const SOURCE_NAMES = ['title', 'keys', 'screen'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

/** `url`: a browser window's cleaned address, where the platform gives one (optional: not on Linux). */
export type ForegroundWindow = { title: string | null; app: string | null; url?: string | null };

/** What a running source may do: report what it saw, its health and the foreground window. */
export type SourceContext = {
  observe(obs: Observation): void;
  health(h: SourceHealth): void;
  /** The window source tells the others when the foreground window changes. */
  setWindow(w: ForegroundWindow): void;
  /** The foreground window as last reported. */
  window(): ForegroundWindow;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** The languages the school's policy reads screen text in (absent: English). */
  ocrLanguages?(): readonly OcrLanguage[];
};

/**
 * One capture source. Each owns its platform checks (`available`), so the pipeline loops over
 * a list and never asks what platform it is on. Runner: start(ctx) / stop().
 */
export type Source = {
  readonly name: SourceName;
  /** Whether it can run here; if not, why, in words a technician can act on. */
  available(env?: NodeJS.ProcessEnv): { ok: true } | { ok: false; detail: string };
  /** Throws if it cannot start; the pipeline reports that as the source's health. */
  start(ctx: SourceContext): void;
  stop(): void | Promise<void>;
  /** The foreground window changed (sent to every source but the one that saw it). */
  windowChanged?(w: ForegroundWindow): void;
};

/** On Linux keys and screen need an X display: libuiohook aborts the whole process without one. */
function needsX11(env: NodeJS.ProcessEnv): { ok: true } | { ok: false; detail: string } {
  if (process.platform === 'linux' && !env.DISPLAY) return { ok: false, detail: 'no X display (DISPLAY is not set)' };
  return { ok: true };
}

export function windowSource(): Source {
  let inner: WindowSource | null = null;
  return {
    name: 'title',
    available: () => ({ ok: true }),
    start(ctx) {
      inner = new WindowSource({
        onChange: (w) => {
          ctx.setWindow({ title: w?.title ?? null, app: w?.app ?? null, url: w?.url ?? null });
          ctx.health({ state: 'ok' });
          if (w && w.title) ctx.observe({ source: 'title', text: w.title, app: w.app, title: w.title, url: w.url, at: new Date() });
        },
        onError: (err) => ctx.health({ state: 'degraded', detail: err.message.slice(0, 200) }),
      });
      inner.start();
    },
    stop() {
      inner?.stop();
      inner = null;
    },
  };
}

export function keysSource(): Source {
  let inner: KeysSource | null = null;
  return {
    name: 'keys',
    available: (env = process.env) => needsX11(env),
    start(ctx) {
      const keys = new KeysSource({
        onPhrase: (p) => ctx.observe({ source: 'keys', text: p.text, app: p.window.app, title: p.window.title, url: p.window.url ?? null, at: p.at }),
      });
      keys.start();
      keys.setWindow(ctx.window());
      inner = keys;
    },
    windowChanged(w) {
      inner?.setWindow(w);
    },
    stop() {
      inner?.stop();
      inner = null;
    },
  };
}

export function screenSource(options: { intervalSeconds?: number } = {}): Source {
  let inner: ScreenSource | null = null;
  return {
    name: 'screen',
    available: (env = process.env) => needsX11(env),
    start(ctx) {
      inner = new ScreenSource({
        intervalSeconds: options.intervalSeconds ?? 10,
        languages: () => ctx.ocrLanguages?.(),
        onText: (t) => {
          ctx.health({ state: 'ok' });
          const w = ctx.window();
          ctx.observe({ source: 'screen', text: t.text, unsure: t.unsure, app: w.app, title: w.title, url: w.url ?? null, at: t.at });
        },
        onError: (err) => ctx.health({ state: 'degraded', detail: err.message.slice(0, 200) }),
      });
      inner.start();
    },
    windowChanged() {
      inner?.windowChanged();
    },
    async stop() {
      await inner?.stop();
      inner = null;
    },
  };
}

/** The sources this platform has, those turned off left out (tests and `--sources`). */
export function defaultSources(want: Partial<Record<SourceName, boolean>> = {}, options: { screenIntervalSeconds?: number } = {}): Source[] {
  const all = [keysSource(), windowSource(), screenSource({ intervalSeconds: options.screenIntervalSeconds })];
  return all.filter((s) => want[s.name] !== false);
}
