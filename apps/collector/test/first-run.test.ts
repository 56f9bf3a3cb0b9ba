import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * What a new user runs after `npm install` in a fresh clone: every `npx <command>` the README,
 * the docs and the start-up banner give must be a bin of this repository, linked at install
 * time, so npx never asks the public registry for a package of that name.
 */
const REPO = path.resolve(__dirname, '..', '..', '..');
const tracked = new Set(execFileSync('git', ['ls-files'], { cwd: REPO, encoding: 'utf8' }).split('\n').filter(Boolean));

type Manifest = { name: string; bin?: Record<string, string>; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
const workspaces = [...tracked].filter((f) => /^(apps|packages)\/[^/]+\/package\.json$/.test(f));
const bins = new Map<string, string>(); // bin name -> path from the repository root
/** Tools the repository itself depends on (eslint, vite…): npx runs the installed copy. */
const declared = new Set<string>();
for (const file of ['package.json', ...workspaces]) {
  const manifest = JSON.parse(readFileSync(path.join(REPO, file), 'utf8')) as Manifest;
  for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })) declared.add(dep);
  if (file === 'package.json') continue;
  for (const [name, target] of Object.entries(manifest.bin ?? {})) bins.set(name, path.posix.join(path.posix.dirname(file), target));
}

/** Every `npx name` in the text a new user reads. */
function npxCommands(): Map<string, string[]> {
  const sources = [...tracked].filter((f) => f.endsWith('.md') || f === 'apps/collector/src/server.ts');
  const found = new Map<string, string[]>();
  for (const file of sources) {
    for (const m of readFileSync(path.join(REPO, file), 'utf8').matchAll(/\bnpx\s+(?:--no-install\s+)?([a-z@][\w@/.-]*)/g)) {
      const name = m[1]!;
      found.set(name, [...(found.get(name) ?? []), file]);
    }
  }
  return found;
}

describe('commands a new user is given', () => {
  it('every workspace bin is a committed file, so npm links it at install time', () => {
    expect(bins.size).toBeGreaterThanOrEqual(3);
    for (const [name, target] of bins) {
      expect({ name, target, committed: tracked.has(target) }).toEqual({ name, target, committed: true });
    }
  });

  it('every `npx` command in the README, the docs and the banner is one of these bins or a declared tool', () => {
    const commands = npxCommands();
    expect([...commands.keys()]).toEqual(expect.arrayContaining(['haven-collector', 'haven-agent', 'haven-risk']));
    for (const [name, files] of commands) {
      const local = bins.has(name) || (declared.has(name) && existsSync(path.join(REPO, 'node_modules', '.bin', name)));
      expect({ name, files, local }).toEqual({ name, files, local: true });
    }
  });

  it.each(['haven-collector', 'haven-agent', 'haven-risk'])('`npx --no-install %s --help` answers from the linked bin and exits 0', (name) => {
    expect(existsSync(path.join(REPO, 'node_modules', '.bin', name))).toBe(true);
    const r = spawnSync('npx', ['--no-install', name, '--help'], { cwd: REPO, encoding: 'utf8', env: { ...process.env, npm_config_offline: 'true' } });
    expect({ status: r.status, usage: /Usage/.test(r.stdout) }).toEqual({ status: 0, usage: true });
  });
});

describe('what the README promises of the test suites', () => {
  it('every collector suite that stores data through the harness runs on each available driver', () => {
    const dir = path.join(REPO, 'apps', 'collector', 'test');
    const suites = [...tracked].filter((f) => f.startsWith('apps/collector/test/') && f.endsWith('.test.ts'));
    const storing = suites.filter((f) => /\bstartCollector\(/.test(readFileSync(path.join(REPO, f), 'utf8')));
    expect(storing.length).toBeGreaterThan(5);
    const singleDriver = storing.filter((f) => !/availableDrivers\(\)|describeWithChromiumOnEachDriver\(/.test(readFileSync(path.join(REPO, f), 'utf8')));
    expect({ dir, singleDriver }).toEqual({ dir, singleDriver: [] });
  });
});

describe('what the packages ship', () => {
  it('no test helper is under a package’s src/ (built into dist/) or exported by a package', () => {
    const inSrc = [...tracked].filter((f) => /^(apps|packages)\/[^/]+\/src\/(.*\/)?(testing|test-support)\//.test(f));
    expect(inSrc).toEqual([]);
    for (const file of workspaces) {
      const manifest = JSON.parse(readFileSync(path.join(REPO, file), 'utf8')) as { exports?: Record<string, unknown> };
      expect({ file, exports: Object.keys(manifest.exports ?? {}).filter((k) => /test/.test(k)) }).toEqual({ file, exports: [] });
    }
  });
});
