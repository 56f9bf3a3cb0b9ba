import { execFile } from 'node:child_process';

type Env = NodeJS.ProcessEnv;

function run(cmd: string, args: string[], env: Env): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, env, timeout: 15_000 }, (err, stdout) =>
      err ? reject(new Error(`screen capture failed: ${err.message.split('\n')[0]}`)) : resolve(stdout),
    );
  });
}

/**
 * The active window's X id, from the window manager's _NET_ACTIVE_WINDOW on the root window
 * (xprop, from x11-utils, which the window source already uses); null when no window is active.
 */
export async function activeWindowId(env: Env): Promise<string | null> {
  const out = (await run('xprop', ['-root', '-notype', '_NET_ACTIVE_WINDOW'], env)).toString('utf8');
  const id = /window id # (0x[0-9a-f]+)/i.exec(out)?.[1];
  return id && Number.parseInt(id, 16) !== 0 ? id : null;
}

/**
 * A greyscale PNG of the active window's client area, read straight from the X server by
 * ImageMagick's `import` (apt: imagemagick). _NET_ACTIVE_WINDOW names the application's own
 * window, not the frame the window manager draws round it, so the title bar and decorations
 * are not in the picture: the title source already reports the title, and OCR of a title bar
 * was half the screen events of a real incident, with garbled context. With no active window
 * (an empty desktop) the whole screen is read. Greyscale is the only preprocessing: OCR time
 * follows the amount of text, not pixels, and downscaling destroys small text.
 */
export async function captureX11(display?: string): Promise<Buffer> {
  const env = display ? { ...process.env, DISPLAY: display } : process.env;
  const id = await activeWindowId(env).catch(() => null);
  const image = await run('import', ['-silent', '-window', id ?? 'root', '-colorspace', 'Gray', 'png:-'], env).catch((err: Error) => {
    // The window can close between the two calls: the screen as a whole is the fallback.
    if (id === null) throw err;
    return run('import', ['-silent', '-window', 'root', '-colorspace', 'Gray', 'png:-'], env);
  });
  return image;
}
