import type { UiohookKeyboardEvent, uIOhook as Hook } from 'uiohook-napi';

/** A global keyboard hook: the platform part of the keys source, behind a small interface. */
export type KeyHook = {
  start(onDown: (code: number) => void, onUp: (code: number) => void): void;
  stop(): void;
};

/** libuiohook through uiohook-napi: X11 (XRecord) on Linux, low-level hooks on Windows and macOS. */
export function uiohookKeyHook(): KeyHook {
  // Loaded when first used, not at import: libuiohook reads the display (DISPLAY on X11) as it loads.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { uIOhook } = require('uiohook-napi') as { uIOhook: typeof Hook };
  let down: ((e: UiohookKeyboardEvent) => void) | null = null;
  let up: ((e: UiohookKeyboardEvent) => void) | null = null;
  return {
    start(onDown, onUp) {
      down = (e) => onDown(e.keycode);
      up = (e) => onUp(e.keycode);
      uIOhook.on('keydown', down);
      uIOhook.on('keyup', up);
      uIOhook.start();
    },
    stop() {
      if (down) uIOhook.off('keydown', down);
      if (up) uIOhook.off('keyup', up);
      down = up = null;
      uIOhook.stop();
    },
  };
}
