#!/usr/bin/env node
// Records every platform's optional binary package in package-lock.json.
//
// Why: the package registry reachable from Haven's build machines serves only the Linux
// builds of packages such as turbo, @swc/core and unrs-resolver. `npm install` then leaves the
// other platforms' optional packages out of the lock file, and `npm ci` refuses that lock
// ("Missing: @turbo/darwin-64@ from lock file"). This script adds an entry for each missing
// optional dependency with its exact version and the os/cpu read from its name, so npm ci on
// any platform skips the ones that do not fit without fetching them.
//
// Run after changing dependencies:  npm install && node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;

const OS = { darwin: 'darwin', linux: 'linux', win32: 'win32', windows: 'win32', freebsd: 'freebsd', android: 'android', openharmony: 'openharmony', sunos: 'sunos', openbsd: 'openbsd', netbsd: 'netbsd', aix: 'aix' };
const CPU = { x64: 'x64', '64': 'x64', arm64: 'arm64', arm: 'arm', ia32: 'ia32', ppc64: 'ppc64', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', mips64el: 'mips64el', wasm32: 'wasm32' };

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.map((p) => OS[p]).find(Boolean);
  const cpu = parts.map((p) => CPU[p]).find(Boolean);
  const libc = parts.some((p) => p.startsWith('musl')) ? 'musl' : parts.some((p) => p === 'gnu' || p.startsWith('gnueabi')) ? 'glibc' : undefined;
  return { os, cpu, libc };
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  const optional = entry.optionalDependencies;
  if (!optional) continue;
  const base = path === '' ? '' : `${path}/`;
  for (const [name, spec] of Object.entries(optional)) {
    if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(spec)) continue; // only exact pins can be recorded blind
    const nested = `${base}node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    if (packages[nested] || packages[hoisted]) continue;
    const { os, cpu, libc } = platformOf(name);
    if (!os && !cpu) continue;
    const record = { version: spec, dev: entry.dev || undefined, optional: true };
    if (cpu) record.cpu = [cpu];
    if (libc) record.libc = [libc];
    if (os) record.os = [os];
    packages[path === '' ? hoisted : nested] = JSON.parse(JSON.stringify(record));
    added++;
  }
}

const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)),
);
lock.packages = sorted;
writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`complete-lockfile: added ${added} optional platform entries`);
