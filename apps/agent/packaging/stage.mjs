// Lays out the agent as it is installed: <out>/bin, <out>/dist, <out>/package.json and
// <out>/node_modules holding exactly the production dependencies (workspace packages as their
// published `files`, third-party packages whole), resolved the way Node resolves them from the
// repository's install. No dev dependencies (electron is only for the shell's types).
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const AGENT_DIR = path.resolve(here, '..');
export const REPO = path.resolve(AGENT_DIR, '..', '..');

const readJson = (f) => JSON.parse(readFileSync(f, 'utf8'));

/** Where Node would find `name` from `fromDir` (the logical path, before symlinks). */
function resolvePackage(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === REPO || path.dirname(dir) === dir) return null;
  }
}

/** Copies a workspace package's published files (package.json `files`) and its package.json. */
function copyWorkspace(src, dest) {
  const pkg = readJson(path.join(src, 'package.json'));
  mkdirSync(dest, { recursive: true });
  cpSync(path.join(src, 'package.json'), path.join(dest, 'package.json'));
  for (const f of pkg.files ?? []) {
    const from = path.join(src, f);
    if (!existsSync(from)) throw new Error(`${pkg.name}: "${f}" is listed in files but missing — run npm run build first`);
    cpSync(from, path.join(dest, f), { recursive: true, filter: (p) => !/\.(test|spec)\.(js|d\.ts|js\.map|d\.ts\.map)$/.test(p) && !p.endsWith('.tsbuildinfo') });
  }
}

/**
 * Stages the app into `out` and returns the list of packages copied (name@version).
 * The destination mirrors each package's place under the repository's node_modules, so nested
 * versions stay nested.
 */
export function stageApp(out) {
  rmSync(out, { recursive: true, force: true });
  copyWorkspace(AGENT_DIR, out);
  const copied = [];
  const seen = new Set();
  const visit = (pkgDir, logicalDir) => {
    const pkg = readJson(path.join(pkgDir, 'package.json'));
    const deps = { ...(pkg.dependencies ?? {}), ...(pkg.optionalDependencies ?? {}) };
    for (const name of Object.keys(deps)) {
      const found = resolvePackage(name, logicalDir);
      if (!found) {
        if (pkg.optionalDependencies?.[name]) continue; // an optional one for another platform
        throw new Error(`${pkg.name} needs ${name}, which is not installed (run npm ci)`);
      }
      if (seen.has(found)) continue;
      seen.add(found);
      const real = realpathSync(found);
      const rel = path.relative(REPO, found);
      const dest = path.join(out, rel.startsWith('node_modules') ? rel : path.join('node_modules', name));
      const isWorkspace = !real.includes(`${path.sep}node_modules${path.sep}`);
      // OCR language packages: the agent reads only the 4.0.0_best_int models, not the larger 4.0.0 ones.
      const unused = name.startsWith('@tesseract.js-data/') ? path.join(real, '4.0.0') : null;
      if (isWorkspace) copyWorkspace(real, dest);
      else cpSync(real, dest, { recursive: true, dereference: true, filter: (p) => !p.includes(`${path.sep}.cache${path.sep}`) && p !== unused });
      copied.push(`${name}@${readJson(path.join(real, 'package.json')).version}`);
      visit(real, isWorkspace ? real : found);
    }
  };
  visit(AGENT_DIR, AGENT_DIR);
  return copied.sort();
}

/** The size of a directory tree in bytes. */
export function treeBytes(dir) {
  let total = 0;
  const walk = (d) => {
    for (const e of (readdirSyncSafe(d))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) total += statSync(p).size;
    }
  };
  walk(dir);
  return total;
}

import { readdirSync } from 'node:fs';
function readdirSyncSafe(d) {
  try {
    return readdirSync(d, { withFileTypes: true });
  } catch {
    return [];
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = path.resolve(process.argv[2] ?? path.join(AGENT_DIR, 'dist-stage'));
  const copied = stageApp(out);
  process.stdout.write(`Staged ${copied.length} packages into ${out} (${(treeBytes(out) / 1e6).toFixed(1)} MB)\n`);
}
