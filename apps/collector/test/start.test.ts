import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const serverJs = path.resolve(__dirname, '..', 'dist', 'server.js');
const cliJs = path.resolve(__dirname, '..', 'dist', 'cli.js');

function cli(dataDir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, HAVEN_DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  const r = spawnSync(process.execPath, [cliJs, ...args], { env, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the built server the way `npm start` does, with no PostgreSQL configured. */
function startServer(dataDir: string, extraEnv: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string; url: Promise<string> } {
  const env: NodeJS.ProcessEnv = { ...process.env, HAVEN_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...extraEnv };
  delete env.DATABASE_URL;
  if (!('INVOCATION_ID' in extraEnv)) delete env.INVOCATION_ID;
  const child = spawn(process.execPath, [serverJs], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return { child, output: () => out, url };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('the built collector on the embedded database', () => {
  let dataDir: string;
  beforeAll(() => {
    if (!existsSync(serverJs)) throw new Error(`${serverJs} is missing: run \`npm run build\` first (npm test does)`);
    dataDir = mkdtempSync(path.join(tmpdir(), 'haven-start-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts on an empty data dir, prints an enrollment token, serves /healthz and stops cleanly', async () => {
    const server = startServer(dataDir);
    const url = await server.url;
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', database: 'up', driver: 'pglite' });
    expect(server.output()).toMatch(/First enrolment token .*\n\s+hvn_enr_[A-Za-z0-9_-]{32}/);
    expect(readdirSync(path.join(dataDir, 'pglite')).length).toBeGreaterThan(0);

    // The token it printed enrolls a device.
    const token = /hvn_enr_[A-Za-z0-9_-]{32}/.exec(server.output())![0];
    const enroll = await fetch(`${url}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, hostname: 'lab-01', os: { platform: 'linux', release: '6.1' }, agentVersion: '0.1.0' }),
    });
    expect(enroll.status).toBe(201);

    // The administrator it printed signs in to the dashboard, which the same server serves.
    const admin = /Sign in as (\S+) with password (\S+) /.exec(server.output());
    expect(admin).not.toBeNull();
    const login = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: admin![1], password: admin![2] }),
    });
    expect(login.status).toBe(200);
    expect(((await login.json()) as { me: { roles: Array<{ role: string }> } }).me.roles.map((r: { role: string }) => r.role).sort()).toEqual(['head', 'technician']);
    const page = await fetch(`${url}/incidents/anything`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<div id="root">');

    // The CLI refuses to open the embedded database while the server holds it.
    const busy = cli(dataDir, 'token', 'list');
    expect(busy.status).toBe(1);
    expect(busy.stderr).toMatch(/in use by process \d+/);
    expect(await stop(server.child)).toBe(0);
  });

  it('lets the technician list and make tokens and list devices once the server is stopped', () => {
    const tokens = cli(dataDir, 'token', 'list');
    expect(tokens.status).toBe(0);
    expect(tokens.stdout).toMatch(/active\s+expires .* 1 uses\s+first token/);
    expect(tokens.stdout).not.toContain('hvn_enr_');
    const created = cli(dataDir, 'staff', 'create', '--email', 'DSL@School.example', '--name', 'Dana DSL', '--role', 'dsl');
    expect(created.status).toBe(0);
    expect(created.stdout).toMatch(/Created dsl@school\.example \(dsl\)\. Password, shown only now:\n\S{20}\n/);
    expect(cli(dataDir, 'staff', 'create', '--email', 'x@school.example', '--name', 'X', '--role', 'janitor').status).toBe(2);
    expect(cli(dataDir, 'staff', 'list').stdout).toMatch(/dsl@school\.example\s+Dana DSL\s+dsl at My school/);
    const shared = cli(dataDir, 'shared-logon', 'add', 'Class5B', '--label', 'Class 5B');
    expect(shared.status).toBe(0);
    expect(cli(dataDir, 'shared-logon', 'list').stdout).toBe('class5b  Class 5B\n');
    const settings = cli(dataDir, 'school', 'settings', '--vulnerable-step', '2', '--retention', 'false_positive=14', '--retention', 'resolved=never');
    expect(settings.stdout).toBe(
      "Vulnerable pupils' incidents raised by 2. Closed incidents kept: false_positive 14 days; no_further_action 365 days; resolved not deleted automatically; referred not deleted automatically. Agents keep their own policy files.\n",
    );
    const agents = cli(dataDir, 'school', 'settings', '--agent-threshold', '2', '--agent-sources', 'title,keys', '--quiet-hours', '18:00-07:00');
    expect(agents.stdout).toMatch(/Agents: threshold 2, sources title, keys, quiet hours 18:00-07:00, screen text languages English \(pushed when they connect\)\.\n$/);
    const languages = cli(dataDir, 'school', 'settings', '--ocr-languages', 'eng,pol,ron');
    expect(languages.stdout).toMatch(/threshold 2, .* quiet hours 18:00-07:00, screen text languages English, Polish, Romanian \(pushed when they connect\)\.\n$/);
    for (const bad of ['eng,som', 'eng,pol,ron,ara,urd', '', 'eng,eng', 'klingon']) {
      const refused = cli(dataDir, 'school', 'settings', '--ocr-languages', bad);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain('--ocr-languages takes one to 4 different languages');
    }
    // Other agent settings keep the chosen languages; a refused change left them as they were.
    expect(cli(dataDir, 'school', 'settings', '--agent-threshold', '2').stdout).toContain('screen text languages English, Polish, Romanian');
    expect(cli(dataDir, 'school', 'settings', '--quiet-hours', '25:00-07:00').status).toBe(2);
    expect(cli(dataDir, 'school', 'settings', '--retention', 'forever=1').status).toBe(2);
    expect(cli(dataDir, 'retention', 'purge').stdout).toMatch(/^\S+ {2}0 incidents, 0 events removed\n$/);
    const devicesOut = cli(dataDir, 'device', 'list');
    expect(devicesOut.stdout).toMatch(/active\s+lab-01\s+linux/);
    const deviceId = /^(\S+)\s+active\s+lab-01/m.exec(devicesOut.stdout)![1]!;
    expect(cli(dataDir, 'device', 'room', deviceId, 'Room 12').stdout).toBe(`Device ${deviceId} is in Room 12.\n`);
    const made = cli(dataDir, 'token', 'create', '--days', '7', '--max-uses', '30', '--label', 'Year 7 laptops');
    expect(made.status).toBe(0);
    expect(made.stdout).toMatch(/hvn_enr_[A-Za-z0-9_-]{32}/);
    expect(cli(dataDir, 'token', 'list').stdout).toMatch(/0\/30 uses\s+Year 7 laptops/);
    expect(cli(dataDir, 'token', 'create', '--days', 'soon').status).toBe(2);
  });

  it('keeps its data across a restart and does not print a second first token', async () => {
    const server = startServer(dataDir);
    const url = await server.url;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(server.output()).not.toContain('hvn_enr_');
    expect(server.output()).not.toContain('Sign in as');
    expect(server.output()).toContain('token create');
    expect(await stop(server.child)).toBe(0);
  });

  it('under systemd writes the first token to a private file instead of the journal', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-systemd-'));
    try {
      const server = startServer(dir, { INVOCATION_ID: 'a1b2c3' });
      await server.url;
      const file = path.join(dir, 'first-enrolment-token');
      expect(server.output()).not.toContain('hvn_enr_');
      expect(server.output()).toContain(file);
      expect(readFileSync(file, 'utf8')).toMatch(/^hvn_enr_[A-Za-z0-9_-]{32}\n$/);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const adminFile = path.join(dir, 'first-admin-password');
      expect(server.output()).not.toContain('Sign in as');
      expect(readFileSync(adminFile, 'utf8')).toMatch(/^admin@haven\.local\n\S{20}\n$/);
      expect(statSync(adminFile).mode & 0o777).toBe(0o600);
      expect(await stop(server.child)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
