import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '@haven/db/testing';
import { AgentService } from '../src/service';
import { CaptureSession } from '../src/session';
import { readConfigFile } from '../src/config';
import type { Source, SourceContext } from '../src/sources/source';
import { waitFor } from './support/desktop';
import { CollectorProcess, freePort, REPO } from './support/processes';
import { describeWithPostgres, sqlClient } from './support/postgres';

type Row = Record<string, any>;

/** A capture source driven by the test: what it "sees" is real text, scored for real. */
function scriptedSource(): Source & { see(text: string): void } {
  let ctx: SourceContext | null = null;
  return {
    name: 'keys',
    available: () => ({ ok: true }),
    start(c) {
      ctx = c;
    },
    stop() {
      ctx = null;
    },
    see(text) {
      ctx?.observe({ source: 'keys', text, app: 'notepad', title: 'Untitled', at: new Date() });
    },
  };
}

/** A raw IPC client: what a pupil's own program could send. */
function rawClient(socketPath: string) {
  const socket = connect(socketPath);
  const lines: any[] = [];
  let buf = '';
  socket.on('data', (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  return { socket, lines, closed, send: (m: unknown) => socket.write(typeof m === 'string' ? m : JSON.stringify(m) + '\n') };
}

const log = (lines: string[]) => (level: string, message: string, fields?: Record<string, unknown>) => lines.push(JSON.stringify({ level, message, ...fields }));

describeWithPostgres('the split agent: a service and per-user session parts over a local socket', () => {
  let db: TestDatabase;
  let sql: (q: string) => Promise<Row[]>;
  let end: () => Promise<void>;
  let collector: CollectorProcess;
  let service: AgentService;
  let dir: string;
  let configFile: string;
  let socketPath: string;
  const serviceLog: string[] = [];
  const me = userInfo().username;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-split-'));
    db = await createTestDatabase('postgres');
    ({ sql, end } = await sqlClient(db.url));
    const port = await freePort();
    collector = await CollectorProcess.start(port, db.url, path.join(dir, 'collector'));
    socketPath = path.join(dir, 'run', 'agent.sock');
    configFile = path.join(dir, 'agent.conf');
    writeFileSync(
      configFile,
      `# written by the installer\ncollector = http://127.0.0.1:${port}\nenrol_token = ${collector.firstToken}\nschool_name = Test Academy\ntransparency_url = https://school.example/privacy\ndata_dir = ${path.join(dir, 'data')}\nsocket = ${socketPath}\n`,
      { mode: 0o600 },
    );
    service = new AgentService({ config: readConfigFile(configFile), configFile, log: log(serviceLog), stopGraceMs: 300, backoff: { minMs: 100, maxMs: 500 } });
    await service.start();
    await waitFor(() => serviceLog.some((l) => l.includes('Connected to the collector.')), 15_000, `the service never connected: ${serviceLog.join('\n')}`);
  });

  afterAll(async () => {
    await service?.stop();
    await collector?.stop();
    await end?.();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('enrols from the configuration, then removes the token from it and keeps the rest', () => {
    const text = readFileSync(configFile, 'utf8');
    expect(text).not.toMatch(/enrol_token|hvn_enr_/);
    expect(text).toContain('# written by the installer');
    expect(text).toContain('school_name = Test Academy');
    expect(statSync(path.join(dir, 'data')).mode & 0o777).toBe(0o700);
    expect(statSync(socketPath).mode & 0o777).toBe(0o666);
  });

  it("delivers a session part's flagged phrase, stamped with the OS user the kernel names, and never an unflagged one", async () => {
    const source = scriptedSource();
    const views: string[] = [];
    const session = new CaptureSession({ socketPath, log: () => undefined, sources: [source] });
    session.onChange((v) => views.push(v.service.state));
    session.start();
    await waitFor(() => session.view().service.state === 'connected', 5000, 'the session part never connected');
    expect(session.view().notice).toEqual({ school: 'Test Academy', transparencyUrl: 'https://school.example/privacy' });
    source.see('romeo and juliet essay plan');
    source.see('i am going to kill myself tonight');
    await waitFor(async () => (await sql(`select os_user from events where source = 'keys'`)).length > 0, 15_000, 'no event reached the collector');
    await new Promise((r) => setTimeout(r, 500));
    const rows = await sql(`select os_user, category, evidence from events where source = 'keys'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.os_user).toBe(me);
    expect(rows[0]!.category).toBe('suicide');
    await waitFor(() => session.view().pending === 0, 5000, 'the service never confirmed the event');
    await session.stop();
  });

  it('ignores who a client says it is: the OS user and the device come from the service', async () => {
    const c = rawClient(socketPath);
    c.send({ type: 'hello', ipc: 1, agentVersion: 'x' });
    await waitFor(() => c.lines.some((l) => l.type === 'welcome'), 5000, 'no welcome');
    const welcome = c.lines.find((l) => l.type === 'welcome');
    expect(welcome.osUser).toBe(me);
    const id = '0190a1b2-c3d4-7e5f-8a9b-' + Date.now().toString(16).padStart(12, '0').slice(-12);
    c.send({
      type: 'events',
      events: [
        {
          id,
          occurredAt: new Date().toISOString(),
          source: 'keys',
          category: 'bullying',
          severity: 4,
          ruleIds: ['x'],
          evidence: { match: 'forged', before: '', after: '' },
          app: null,
          windowTitle: null,
          osUser: 'headteacher',
          deviceId: '00000000-0000-7000-8000-000000000000',
        },
      ],
    });
    await waitFor(() => c.lines.some((l) => l.type === 'stored' || l.type === 'refused'), 5000, 'no answer to the events');
    expect(c.lines.find((l) => l.type === 'stored' || l.type === 'refused')).toEqual({ type: 'stored', ids: [id] });
    await waitFor(async () => (await sql(`select 1 from events where id = '${id}'`)).length > 0, 15_000, 'the event never arrived');
    const [row] = await sql(`select os_user, device_id::text from events where id = '${id}'`);
    expect(row!.os_user).toBe(me);
    expect(row!.device_id).toBe(welcome.deviceId);
    c.socket.end();
  });

  it('closes a connection that sends garbage or skips hello, and goes on serving others', async () => {
    const a = rawClient(socketPath);
    a.send('{not json\n');
    await a.closed;
    expect(a.lines.at(-1)).toEqual({ type: 'error', message: 'a message was not JSON' });
    const b = rawClient(socketPath);
    b.send({ type: 'events', events: [{}] });
    await b.closed;
    expect(b.lines.at(-1).message).toMatch(/first message must be hello/);
    const big = rawClient(socketPath);
    big.send('x'.repeat(1024 * 1024 + 10));
    await big.closed;
    const ok = rawClient(socketPath);
    ok.send({ type: 'hello', ipc: 1, agentVersion: 'x' });
    await waitFor(() => ok.lines.some((l) => l.type === 'welcome'), 5000, 'a good client was not served after bad ones');
    ok.socket.end();
    expect(serviceLog.join('\n')).not.toContain('x'.repeat(100));
  });

  it('reports a session part killed while its user is logged in as stopped (tamper) to the collector', async () => {
    const child = spawn(path.join(REPO, 'apps', 'agent', 'bin', 'haven-agent.js'), ['session', '--socket', socketPath, '--sources', 'title'], {
      env: { ...process.env, DISPLAY: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const out: string[] = [];
    child.stderr!.on('data', (d) => out.push(String(d)));
    await waitFor(() => out.join('').includes('Connected to the Haven service.'), 15_000, `the session part never connected: ${out.join('')}`);
    const running = async () => (await sql(`select sessions from devices`))[0]?.sessions as any[] | null;
    await waitFor(async () => (await running())?.some((s) => s.osUser === me && s.state === 'running') ?? false, 15_000, 'the collector never saw the session part running');
    const killedAt = Date.now();
    child.kill('SIGKILL');
    // This test's own process is the user "still logged in". (An earlier test's session part
    // that stopped while the user was still here was a tamper signal too: wait for this one.)
    await waitFor(
      async () => (await sql(`select 1 from devices where last_tamper_at >= to_timestamp(${killedAt / 1000}) and sessions @> '[{"state":"stopped"}]'`)).length > 0,
      15_000,
      `the collector never recorded the tamper signal: ${serviceLog.slice(-8).join('\n')}`,
    );
    const sessions = await running();
    expect(sessions).toEqual([expect.objectContaining({ osUser: me, state: 'stopped', detail: expect.stringMatching(/still logged in/) })]);
    expect(serviceLog.some((l) => l.includes('tamper signal'))).toBe(true);
  });
});
