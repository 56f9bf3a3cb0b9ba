import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '@haven/db/testing';
import { sqlClient } from '../../../packages/agent-core/test/support/postgres';
import { CollectorProcess, freePort } from '../../../packages/agent-core/test/support/processes';

const exec = promisify(execFile);
type Row = Record<string, any>;

/**
 * The Linux package as a technician uses it, on this machine for real: build the .deb, write
 * /etc/haven/agent.conf, `dpkg -i`, the service and a session part for each of two OS users on
 * their own X displays, then `dpkg -r` and `dpkg -P`. It installs into the real system, so it
 * runs only as root, with dpkg, Xvfb and PostgreSQL, and only when no haven-agent is installed.
 */
const why = (() => {
  if (process.getuid?.() !== 0) return 'not root';
  if (!process.env.DATABASE_URL?.startsWith('postgres')) return 'DATABASE_URL is not PostgreSQL';
  for (const tool of ['/usr/bin/dpkg-deb', '/usr/bin/Xvfb', '/usr/bin/openbox', '/usr/bin/xdotool', '/usr/sbin/useradd', '/sbin/runuser'])
    if (!existsSync(tool)) return `${tool} is missing`;
  if (existsSync('/etc/haven') || existsSync('/var/lib/dpkg/info/haven-agent.list')) return 'a haven-agent is already installed here';
  return null;
})();
const describeInstalled = why ? describe.skip : describe;

const sh = async (cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) => {
  try {
    const { stdout, stderr } = await exec(cmd, args, { env: opts.env ?? process.env, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: (e.stdout ?? '') + (e.stderr ?? '') };
  }
};
const asUser = (user: string, args: string[]) => sh('runuser', ['-u', user, '--', ...args]);

async function waitFor<T>(check: () => Promise<T | null | false | undefined> | T | null | false | undefined, ms: number, message: () => string): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(message());
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A pupil's login: an X display of their own with a window manager running as them. */
class Login {
  readonly children: ChildProcess[] = [];
  session: ChildProcess | null = null;
  readonly log: string[] = [];
  constructor(
    readonly user: string,
    readonly display: string,
  ) {}

  static async start(user: string): Promise<Login> {
    let n = 150 + (process.pid % 40);
    while (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) n++;
    const login = new Login(user, `:${n}`);
    login.children.push(spawn('Xvfb', [login.display, '-screen', '0', '1024x768x24', '-nolisten', 'tcp', '-ac'], { stdio: 'ignore' }));
    await waitFor(() => existsSync(`/tmp/.X11-unix/X${n}`), 10_000, () => 'Xvfb did not start');
    // The user's desktop: it stays while they are logged in.
    login.children.push(spawn('runuser', ['-u', user, '--', 'env', '-i', `DISPLAY=${login.display}`, `HOME=/home/${user}`, 'PATH=/usr/bin:/bin', 'openbox'], { stdio: 'ignore' }));
    await waitFor(async () => (await login.x('xprop', ['-root', '_NET_SUPPORTING_WM_CHECK'])).out.includes('window id'), 10_000, () => 'openbox did not start');
    return login;
  }

  /** What the autostart entry runs, run at login as the user. */
  startSession(exec: string[]): void {
    const child = spawn('runuser', ['-u', this.user, '--', 'env', '-i', `DISPLAY=${this.display}`, `HOME=/home/${this.user}`, 'PATH=/usr/bin:/bin', `USER=${this.user}`, ...exec], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (d) => this.log.push(String(d)));
    this.session = child;
  }

  x(cmd: string, args: string[]) {
    return sh(cmd, args, { env: { ...process.env, DISPLAY: this.display } });
  }

  async type(text: string): Promise<void> {
    await this.x('xdotool', ['type', '--delay', '25', text]);
    await this.x('xdotool', ['key', 'Return']);
  }

  /** The user's processes, as pgrep sees them. */
  async pids(pattern: string): Promise<number[]> {
    const r = await sh('pgrep', ['-u', this.user, '-f', pattern]);
    return r.out.split('\n').filter(Boolean).map(Number);
  }

  async logout(): Promise<void> {
    await sh('pkill', ['-KILL', '-u', this.user]);
  }

  async stop(): Promise<void> {
    await this.logout();
    for (const c of this.children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describeInstalled(`the .deb on this machine: install, two users, tamper, remove, purge${why ? ` (skipped: ${why})` : ''}`, () => {
  const suffix = (process.pid % 100000).toString(36);
  const users = [`hvpa${suffix}`, `hvpb${suffix}`];
  let dir: string;
  let db: TestDatabase;
  let sql: (q: string) => Promise<Row[]>;
  let end: () => Promise<void>;
  let collector: CollectorProcess;
  let deb: string;
  let token: string;
  let logins: Login[] = [];
  let contents: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-deb-'));
    // As `npm run package -w @haven/agent` builds it.
    const built = await sh(process.execPath, [path.join(__dirname, '..', 'packaging', 'build-deb.mjs'), '--out', path.join(dir, 'pkg')]);
    if (built.code !== 0) throw new Error(`the package did not build: ${built.out}`);
    deb = built.out.split('\n').find((l) => l.endsWith('.deb'))!;
    contents = (await sh('dpkg-deb', ['-c', deb])).out
      .split('\n')
      .map((l) => /\s\.(\/\S*)/.exec(l)?.[1])
      .filter((p): p is string => !!p && p !== '/');
    db = await createTestDatabase('postgres');
    ({ sql, end } = await sqlClient(db.url));
    const port = await freePort();
    collector = await CollectorProcess.start(port, db.url, path.join(dir, 'collector'));
    token = collector.firstToken!;
    // What the technician (or Intune/Ansible) writes before installing.
    await sh('mkdir', ['-p', '/etc/haven']);
    writeFileSync(
      '/etc/haven/agent.conf',
      `collector = http://127.0.0.1:${port}\nenrol_token = ${token}\nschool_name = Oak Academy\ntransparency_url = https://oak.example/monitoring\n`,
      { mode: 0o600 },
    );
    for (const u of users) {
      const r = await sh('useradd', ['-m', '-s', '/bin/sh', u]);
      if (r.code !== 0) throw new Error(`useradd ${u}: ${r.out}`);
    }
  }, 180_000);

  afterAll(async () => {
    for (const l of logins) await l.stop();
    if (existsSync('/var/lib/dpkg/info/haven-agent.list')) await sh('dpkg', ['-P', 'haven-agent']);
    rmSync('/etc/haven', { recursive: true, force: true });
    for (const u of users) await sh('userdel', ['-r', '-f', u]);
    await collector?.stop();
    await end?.();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  let installOutput = '';

  it('installs with dpkg -i, enrols at once and removes the token from the configuration', async () => {
    const r = await sh('dpkg', ['-i', deb]);
    installOutput = r.out;
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Enrolled: this device is [0-9a-f-]{36}/);
    const [device] = await sql('select id::text from devices');
    expect(device).toBeDefined();
    const conf = readFileSync('/etc/haven/agent.conf', 'utf8');
    expect(conf).not.toContain(token);
    expect(conf).toContain('school_name = Oak Academy');
    expect((await sh('stat', ['-c', '%U %a', '/etc/haven/agent.conf'])).out.trim()).toBe('haven-agent 600');
    expect((await sh('stat', ['-c', '%U %a', '/var/lib/haven-agent'])).out.trim()).toBe('haven-agent 700');
  });

  it('runs the service as its own account (started by its init script where policy-rc.d forbids packages to start services)', async () => {
    if (!(await sh('/etc/init.d/haven-agent', ['status'])).out.includes('is running')) {
      expect(installOutput).toMatch(/start it with: \/etc\/init\.d\/haven-agent start/);
      expect((await sh('/etc/init.d/haven-agent', ['start'])).code).toBe(0);
    }
    const owner = await waitFor(async () => {
      const r = await sh('pgrep', ['-u', 'haven-agent', '-f', 'haven-agent.js service']);
      return r.code === 0 ? r.out.trim() : null;
    }, 15_000, () => 'the service is not running as haven-agent');
    expect(owner).toMatch(/^\d+$/);
    await waitFor(() => existsSync('/run/haven-agent/agent.sock'), 15_000, () => `no socket: ${readFileSync('/var/log/haven-agent/service.log', 'utf8')}`);
    await waitFor(async () => (await sql('select last_seen_at from devices where last_seen_at is not null')).length > 0, 15_000, () => 'the service never reached the collector');
  });

  it('attributes each user’s typed phrase to that user, from two session parts on two displays', async () => {
    const desktop = readFileSync('/etc/xdg/autostart/haven-agent-session.desktop', 'utf8');
    const exec = /^Exec=(.*)$/m.exec(desktop)![1]!.split(' ');
    expect(exec).toEqual(['/usr/bin/haven-agent', 'session']);
    logins = [await Login.start(users[0]!), await Login.start(users[1]!)];
    for (const l of logins) l.startSession(exec);
    await waitFor(
      async () => ((await sql('select sessions from devices'))[0]?.sessions as any[] | null)?.filter((s) => s.state === 'running').length === 2,
      30_000,
      () => `both session parts should be running: ${logins.map((l) => l.log.join('')).join('\n')}`,
    );
    await new Promise((r) => setTimeout(r, 1000)); // the key hooks are listening
    await logins[0]!.type('i want to kill myself tonight');
    await logins[1]!.type('i am going to hang myself tonight');
    const rows = await waitFor(async () => {
      const r = await sql(`select os_user, evidence from events where source = 'keys'`);
      return r.length >= 2 ? r : null;
    }, 30_000, () => `the typed phrases did not arrive: ${logins.map((l) => l.log.join('')).join('\n')}`);
    const byUser = Object.fromEntries(rows.map((r) => [r.os_user, r.evidence.match as string]));
    expect(byUser[users[0]!]).toContain('kill myself');
    expect(byUser[users[1]!]).toContain('hang myself');
    expect(rows).toHaveLength(2);
  });

  it('keeps the credential, the outbox, the configuration and the other user’s session part out of a pupil’s reach', async () => {
    const a = users[0]!;
    const dataFiles = readdirSync('/var/lib/haven-agent');
    expect(dataFiles.some((f) => f.startsWith('credential'))).toBe(true);
    for (const f of dataFiles) expect((await asUser(a, ['cat', path.join('/var/lib/haven-agent', f)])).code).not.toBe(0);
    expect((await asUser(a, ['ls', '/var/lib/haven-agent'])).code).not.toBe(0);
    expect((await asUser(a, ['cat', '/etc/haven/agent.conf'])).code).not.toBe(0);
    expect((await asUser(a, ['cat', '/var/log/haven-agent/service.log'])).code).not.toBe(0);
    const [pidB] = await logins[1]!.pids('haven-agent session');
    expect(pidB).toBeDefined();
    expect((await asUser(a, ['cat', `/proc/${pidB}/environ`])).code).not.toBe(0);
    expect((await asUser(a, ['kill', '-TERM', String(pidB)])).code).not.toBe(0);
    // Nor stop the service.
    const service = (await sh('pgrep', ['-u', 'haven-agent', '-f', 'haven-agent.js service'])).out.trim();
    expect((await asUser(a, ['kill', '-KILL', service])).code).not.toBe(0);
  });

  it('puts no secret on any command line', async () => {
    const credential = JSON.parse(readFileSync(readdirSync('/var/lib/haven-agent').map((f) => path.join('/var/lib/haven-agent', f)).find((f) => f.includes('credential'))!, 'utf8'));
    const secrets = [token, credential.deviceSecret as string].filter(Boolean);
    expect(secrets).toHaveLength(2);
    let seen = 0;
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      seen++;
      for (const s of secrets) expect(cmdline.includes(s) ? `${pid}: ${cmdline.replace(/\0/g, ' ')}` : null).toBeNull();
    }
    expect(seen).toBeGreaterThan(10);
  });

  it('reports a session part killed while its user is logged in as a tamper signal, and a logout as ended', async () => {
    const [a, b] = logins as [Login, Login];
    const [pidA] = await a.pids('haven-agent session');
    await sh('kill', ['-KILL', String(pidA)]); // as the pupil could: it is their own process
    await b.logout();
    const sessions = await waitFor(async () => {
      const [d] = await sql('select sessions, last_tamper_at from devices');
      const s = d?.sessions as any[] | null;
      return s?.find((x) => x.osUser === users[0] && x.state === 'stopped') && s.find((x) => x.osUser === users[1] && x.state === 'ended') ? d : null;
    }, 30_000, () => 'the collector never saw the stopped and ended session parts');
    expect(sessions!.last_tamper_at).not.toBeNull();
  });

  it('dpkg -r stops the service and every session part; dpkg -P leaves nothing behind', async () => {
    // A fresh session part for the user still logged in, so removal has one to stop.
    logins[0]!.startSession(['/usr/bin/haven-agent', 'session']);
    await waitFor(async () => (await logins[0]!.pids('haven-agent session')).length > 0, 10_000, () => 'no session part');
    const r = await sh('dpkg', ['-r', 'haven-agent']);
    expect(r.code).toBe(0);
    expect((await sh('pgrep', ['-f', 'haven-agent(\\.js)? (service|session)'])).out.trim()).toBe('');
    expect(existsSync('/usr/lib/haven-agent')).toBe(false);
    expect(existsSync('/var/lib/haven-agent')).toBe(true); // data stays until purge

    const p = await sh('dpkg', ['-P', 'haven-agent']);
    expect(p.code).toBe(0);
    const left = [...contents.filter((f) => !['/etc', '/etc/init.d', '/etc/xdg', '/etc/xdg/autostart', '/lib', '/lib/systemd', '/lib/systemd/system', '/usr', '/usr/bin', '/usr/lib', '/usr/share', '/usr/share/doc'].includes(f.replace(/\/$/, ''))), '/var/lib/haven-agent', '/var/log/haven-agent', '/run/haven-agent', '/etc/haven', '/etc/rc2.d/S01haven-agent']
      .map((f) => f.replace(/\/$/, ''))
      .filter((f) => existsSync(f));
    expect(left).toEqual([]);
    expect((await sh('getent', ['passwd', 'haven-agent'])).code).not.toBe(0);
    expect(readdirSync('/etc/rc2.d').filter((f) => f.includes('haven'))).toEqual([]);
  });
});
