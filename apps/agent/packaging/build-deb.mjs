// Builds the Linux packages: haven-agent_<version>_<arch>.deb (dpkg-deb) and a tarball of the same
// layout. `npm run package -w @haven/agent` runs it after a build; `--out DIR` chooses where.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_DIR, REPO, stageApp, treeBytes } from './stage.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const linux = path.join(here, 'linux');

export function debArch() {
  try {
    return execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
  } catch {
    return process.arch === 'x64' ? 'amd64' : process.arch;
  }
}

/** Builds the .deb and the tarball into `outDir`; returns their paths. */
export function buildDeb({ outDir, version = JSON.parse(readFileSync(path.join(AGENT_DIR, 'package.json'), 'utf8')).version } = {}) {
  const arch = debArch();
  const work = path.join(outDir, 'work');
  const root = path.join(work, `haven-agent_${version}_${arch}`);
  rmSync(work, { recursive: true, force: true });
  const put = (from, to, mode) => {
    mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
    copyFileSync(from, path.join(root, to));
    chmodSync(path.join(root, to), mode);
  };

  stageApp(path.join(root, 'usr', 'lib', 'haven-agent'));
  mkdirSync(path.join(root, 'usr', 'bin'), { recursive: true });
  symlinkSync('../lib/haven-agent/bin/haven-agent.js', path.join(root, 'usr', 'bin', 'haven-agent'));
  put(path.join(linux, 'haven-agent.service'), 'lib/systemd/system/haven-agent.service', 0o644);
  put(path.join(linux, 'haven-agent.init'), 'etc/init.d/haven-agent', 0o755);
  put(path.join(linux, 'haven-agent-session.desktop'), 'etc/xdg/autostart/haven-agent-session.desktop', 0o644);
  put(path.join(REPO, 'LICENSE'), 'usr/share/doc/haven-agent/copyright', 0o644);
  put(path.join(REPO, 'docs', 'deploy.md'), 'usr/share/doc/haven-agent/README', 0o644);

  const installedKb = Math.ceil(treeBytes(root) / 1024);
  mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
  writeFileSync(
    path.join(root, 'DEBIAN', 'control'),
    [
      'Package: haven-agent',
      `Version: ${version}`,
      `Architecture: ${arch}`,
      'Maintainer: Haven <security@haven.invalid>',
      `Installed-Size: ${installedKb}`,
      'Depends: nodejs (>= 20), adduser, procps, passwd, x11-utils',
      'Recommends: imagemagick',
      'Section: admin',
      'Priority: optional',
      'Homepage: https://github.com/haven-safeguarding/haven',
      'Description: Haven safeguarding agent for school computers',
      ' Spots signs that a pupil may be at risk (self-harm, grooming, bullying and more) in',
      ' window titles, typed phrases and screen text, scores them on the computer and sends',
      " only what is flagged to the school's Haven collector. A per-machine service holds the",
      ' device credential; a session part runs in each login and shows the monitoring notice.',
      '',
    ].join('\n'),
  );
  for (const s of ['postinst', 'prerm', 'postrm']) put(path.join(linux, s), `DEBIAN/${s}`, 0o755);

  mkdirSync(outDir, { recursive: true });
  const deb = path.join(outDir, `haven-agent_${version}_${arch}.deb`);
  execFileSync('dpkg-deb', ['--build', '--root-owner-group', '-Zxz', '-z1', root, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
  // The tarball: the same tree, the maintainer scripts beside it for a technician to read.
  const tarball = path.join(outDir, `haven-agent_${version}_linux-${process.arch}.tar.gz`);
  execFileSync('tar', ['-czf', tarball, '--owner=0', '--group=0', '-C', root, '--exclude=./DEBIAN', '.', '-C', root, 'DEBIAN'], { stdio: 'inherit' });
  rmSync(work, { recursive: true, force: true });
  return { deb, tarball };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const outDir = path.resolve(i > 0 ? process.argv[i + 1] : path.join(AGENT_DIR, 'dist-pkg'));
  const { deb, tarball } = buildDeb({ outDir });
  process.stdout.write(`${deb}\n${tarball}\n`);
}
