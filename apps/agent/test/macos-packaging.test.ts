// Checks the macOS package recipe's files on Linux: macOS's own tools (plutil, pkgbuild, launchd) are
// not here, so the property lists are parsed by the small XML property-list reader below, which
// rejects anything that is not well-formed (unbalanced or unknown elements, stray text). The recipe
// itself (build-pkg.sh) has never run; this only proves its files are consistent with each other.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const DIR = resolve(__dirname, '../packaging/macos');

type Plist = string | number | boolean | Plist[] | { [key: string]: Plist };
type Node = { name: string; children: Node[]; text: string };

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const decode = (s: string) =>
  s.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ENTITIES[e]!).replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)));

/** Parses element-only XML (no attributes but plist's version) into a tree; throws if not well-formed. */
function parseXml(xml: string): Node {
  const body = xml
    .replace(/^\uFEFF?<\?xml[^?]*\?>/, '')
    .replace(/<!--[\s\S]*?-->/g, (c) => {
      if (c.slice(4, -3).includes('--')) throw new Error('"--" inside a comment');
      return '';
    })
    .replace(/<!DOCTYPE plist PUBLIC "-\/\/Apple\/\/DTD PLIST 1\.0\/\/EN" "http:\/\/www\.apple\.com\/DTDs\/PropertyList-1\.0\.dtd">/, '');
  const root: Node = { name: '#root', children: [], text: '' };
  const stack: Node[] = [root];
  const re = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) {
    const [, close, name, , selfClose, text, stray] = m;
    const top = stack[stack.length - 1]!;
    if (stray) throw new Error(`stray "<" at ${m.index}`);
    if (text !== undefined) {
      if (/[<>]/.test(text) || /&(?!(lt|gt|amp|quot|apos|#\d+);)/.test(text)) throw new Error(`bad text ${JSON.stringify(text)}`);
      top.text += decode(text);
    } else if (close) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      stack.pop();
    } else {
      const node: Node = { name: name!, children: [], text: '' };
      top.children.push(node);
      if (!selfClose) stack.push(node);
    }
  }
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1]!.name}> not closed`);
  if (root.children.length !== 1 || root.text.trim()) throw new Error('more than one root');
  return root.children[0]!;
}

function toPlist(node: Node): Plist {
  const elements = node.children;
  const noText = () => {
    if (node.text.trim()) throw new Error(`text inside <${node.name}>`);
  };
  switch (node.name) {
    case 'string':
      if (elements.length) throw new Error('element inside <string>');
      return node.text;
    case 'integer':
      if (!/^-?\d+$/.test(node.text.trim())) throw new Error(`bad integer ${node.text}`);
      return Number(node.text);
    case 'true':
    case 'false':
      noText();
      if (elements.length) throw new Error(`element inside <${node.name}>`);
      return node.name === 'true';
    case 'array':
      noText();
      return elements.map(toPlist);
    case 'dict': {
      noText();
      const out: Record<string, Plist> = {};
      for (let i = 0; i < elements.length; i += 2) {
        const k = elements[i]!;
        const v = elements[i + 1];
        if (k.name !== 'key' || !v) throw new Error('dict must alternate <key> and a value');
        if (k.text in out) throw new Error(`duplicate key ${k.text}`);
        out[k.text] = toPlist(v);
      }
      return out;
    }
    default:
      throw new Error(`unknown plist element <${node.name}>`);
  }
}

function readPlist(file: string): Record<string, any> {
  const root = parseXml(readFileSync(join(DIR, file), 'utf8'));
  if (root.name !== 'plist' || root.children.length !== 1) throw new Error(`${file}: not one <plist> with one value`);
  return toPlist(root.children[0]!) as Record<string, any>;
}

const APP = '/Library/Application Support/Haven/Haven Agent.app';

describe('macOS package recipe (files checked on Linux; build-pkg.sh needs macOS and has never run)', () => {
  const info = readPlist('Info.plist');
  const executable = `${APP}/Contents/MacOS/${info.CFBundleExecutable}`;
  const script = `${APP}/Contents/Resources/app/bin/haven-agent.js`;

  test('the reader rejects malformed property lists', () => {
    expect(() => parseXml('<plist><dict></plist>')).toThrow();
    expect(() => toPlist(parseXml('<dict><key>a</key></dict>'))).toThrow('alternate');
    expect(() => toPlist(parseXml('<dict><key>a</key><data>x</data></dict>'))).toThrow('unknown');
    expect(() => parseXml('<!-- a -- b --><plist/>')).toThrow('--');
    expect(toPlist(parseXml('<dict><key>a</key><array><true/><integer>63</integer><string>x &amp; y</string></array></dict>'))).toEqual({
      a: [true, 63, 'x & y'],
    });
  });

  test('every property list and profile in the recipe parses', () => {
    const files = readdirSync(DIR).filter((f) => /\.(plist|mobileconfig)$/.test(f));
    expect(files.sort()).toEqual([
      'Info.plist',
      'entitlements.plist',
      'haven-agent-pppc.mobileconfig',
      'uk.org.haven.agent.managed-preferences.plist',
      'uk.org.haven.agent.service.plist',
      'uk.org.haven.agent.session.plist',
    ]);
    for (const f of files) expect(() => readPlist(f)).not.toThrow();
  });

  test('the bundle: identifier uk.org.haven.agent, node as its executable, no Dock icon', () => {
    expect(info).toMatchObject({ CFBundleIdentifier: 'uk.org.haven.agent', CFBundleExecutable: 'haven-agent', LSUIElement: true });
    expect(info.CFBundleShortVersionString).toBe('@VERSION@');
    const build = readFileSync(join(DIR, 'build-pkg.sh'), 'utf8');
    expect(build).toContain('APP="$ROOT/Library/Application Support/Haven/Haven Agent.app"');
    expect(build).toContain('"$APP/Contents/MacOS/haven-agent"');
    expect(readPlist('entitlements.plist')['com.apple.security.cs.allow-jit']).toBe(true);
  });

  test('the LaunchDaemon runs the service as root at boot and keeps it running, with a private umask', () => {
    const d = readPlist('uk.org.haven.agent.service.plist');
    expect(d.Label).toBe('uk.org.haven.agent.service');
    expect(d.ProgramArguments).toEqual([executable, '--max-semi-space-size=2', script, 'service']);
    expect(d).toMatchObject({ RunAtLoad: true, KeepAlive: true, Umask: 0o077 });
    expect(d.UserName).toBeUndefined(); // a LaunchDaemon with no UserName runs as root
    // The data dir agent-core uses on macOS (packages/agent-core/src/config.ts defaultDataDir).
    expect(d.WorkingDirectory).toBe('/Library/Application Support/Haven/agent');
  });

  test('the LaunchAgent runs the session part in every graphical login and restarts it', () => {
    const a = readPlist('uk.org.haven.agent.session.plist');
    expect(a.Label).toBe('uk.org.haven.agent.session');
    expect(a.ProgramArguments).toEqual([executable, '--max-semi-space-size=2', script, 'session']);
    expect(a).toMatchObject({ RunAtLoad: true, KeepAlive: true, LimitLoadToSessionType: ['Aqua'] });
  });

  test('the PPPC profile: Screen Recording and Input Monitoring left to a standard user, Accessibility granted', () => {
    const p = readPlist('haven-agent-pppc.mobileconfig');
    expect(p).toMatchObject({ PayloadType: 'Configuration', PayloadScope: 'System', PayloadVersion: 1 });
    const [tcc, ...rest] = p.PayloadContent;
    expect(rest).toHaveLength(0);
    expect(tcc.PayloadType).toBe('com.apple.TCC.configuration-profile-policy');
    const uuids = [p.PayloadUUID, tcc.PayloadUUID];
    for (const u of uuids) expect(u).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    expect(new Set(uuids).size).toBe(2);
    expect(Object.keys(tcc.Services).sort()).toEqual(['Accessibility', 'ListenEvent', 'ScreenCapture']);
    const expected: Record<string, string> = {
      ScreenCapture: 'AllowStandardUserToSetSystemService', // a profile cannot grant it (Apple's schema)
      ListenEvent: 'AllowStandardUserToSetSystemService', // likewise
      Accessibility: 'Allow',
    };
    for (const [service, authorization] of Object.entries(expected)) {
      const [entry, ...more] = tcc.Services[service];
      expect(more).toHaveLength(0);
      expect(entry).toMatchObject({ Identifier: info.CFBundleIdentifier, IdentifierType: 'bundleID', Authorization: authorization });
      expect(entry.Allowed).toBeUndefined(); // Allowed and Authorization are mutually exclusive
      expect(entry.CodeRequirement).toMatch(/^identifier "uk\.org\.haven\.agent" and anchor apple generic and .*certificate leaf\[subject\.OU\] = /);
    }
  });

  test('the managed preferences example carries the four settings the service reads, as strings', () => {
    const prefs = readPlist('uk.org.haven.agent.managed-preferences.plist');
    expect(Object.keys(prefs).sort()).toEqual(['CollectorUrl', 'EnrolToken', 'SchoolName', 'TransparencyUrl']);
    for (const v of Object.values(prefs)) expect(typeof v).toBe('string');
    expect(() => new URL(prefs.CollectorUrl)).not.toThrow();
  });

  test('the install scripts are executable, parse, and name the job files the recipe installs', () => {
    for (const [file, shell] of [
      ['scripts/preinstall', 'sh'],
      ['scripts/postinstall', 'sh'],
      ['uninstall.sh', 'sh'],
      ['build-pkg.sh', 'bash'],
    ] as const) {
      expect(statSync(join(DIR, file)).mode & 0o111).toBe(0o111);
      const r = spawnSync(shell, ['-n', join(DIR, file)], { encoding: 'utf8' });
      expect({ file, status: r.status, stderr: r.stderr }).toEqual({ file, status: 0, stderr: '' });
    }
    const post = readFileSync(join(DIR, 'scripts/postinstall'), 'utf8');
    expect(post).toContain('DAEMON=/Library/LaunchDaemons/uk.org.haven.agent.service.plist');
    expect(post).toContain('AGENT=/Library/LaunchAgents/uk.org.haven.agent.session.plist');
    expect(post).toMatch(/chmod 700 "\$HAVEN\/agent"/);
  });

  test('build-pkg.sh refuses to run off macOS and says why', () => {
    if (process.platform === 'darwin') return;
    const r = spawnSync('bash', [join(DIR, 'build-pkg.sh'), DIR, '1.2.3', '/tmp/never.pkg'], { encoding: 'utf8' });
    expect(r.status).toBe(69);
    expect(r.stderr).toContain('needs macOS');
  });
});
