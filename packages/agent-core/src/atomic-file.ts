import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';

/**
 * Replaces `file` with `data` so that a reader (or a crash) sees the old file or the new one,
 * never half of one: write a temporary file, fsync it, rename it over, fsync the directory.
 */
export function writeFileAtomic(file: string, data: string | Buffer, mode: number): void {
  const tmp = `${file}.tmp`;
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = openSync(tmp, 'w', mode);
  try {
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  syncDir(path.dirname(file));
}

/** Makes a rename durable: fsync the directory that holds the file (not possible on Windows). */
function syncDir(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
