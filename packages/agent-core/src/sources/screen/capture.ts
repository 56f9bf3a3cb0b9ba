import { captureX11 } from './capture-x11';

/** Takes a greyscale screenshot of the active window's contents as PNG bytes. Platform code lives in its own file. */
export type Capture = () => Promise<Buffer>;

export function platformCapture(display?: string): Capture {
  if (process.platform === 'linux') return () => captureX11(display);
  return () => Promise.reject(new Error(`screen capture is not available on ${process.platform} in this version`));
}
