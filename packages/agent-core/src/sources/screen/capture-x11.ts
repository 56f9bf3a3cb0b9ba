import { execFile } from 'node:child_process';

/**
 * A screenshot of the whole X screen, in greyscale, as PNG bytes: ImageMagick's `import`
 * (apt: imagemagick) reads the root window straight from the X server. Greyscale is the only
 * preprocessing: OCR time follows the amount of text, not pixels, and downscaling destroys
 * small text.
 */
export function captureX11(display?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      'import',
      ['-silent', '-window', 'root', '-colorspace', 'Gray', 'png:-'],
      { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, env: display ? { ...process.env, DISPLAY: display } : process.env, timeout: 15_000 },
      (err, stdout) => (err ? reject(new Error(`screen capture failed: ${err.message.split('\n')[0]}`)) : resolve(stdout)),
    );
  });
}
