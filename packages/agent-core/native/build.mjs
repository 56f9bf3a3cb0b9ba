// Builds peercred.node with the system's C compiler against Node's own headers (Node-API, so
// the result does not depend on the Node version). Only on Linux and macOS: Windows identifies
// a named pipe's client with GetNamedPipeClientProcessId instead (not built here).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, '..', 'dist-native', 'peercred.node');
if (process.platform !== 'linux' && process.platform !== 'darwin') process.exit(0);

const candidates = [
  path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
];
const include = candidates.find((d) => existsSync(path.join(d, 'node_api.h')));
if (!include) {
  process.stderr.write(`peercred: Node's headers (node_api.h) were not found in ${candidates.join(', ')}\n`);
  process.exit(1);
}
mkdirSync(path.dirname(out), { recursive: true });
const flags = process.platform === 'darwin' ? ['-bundle', '-undefined', 'dynamic_lookup'] : ['-shared', '-fPIC'];
execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-Werror', ...flags, '-I', include, path.join(here, 'peercred.c'), '-o', out], { stdio: 'inherit' });
