import { execFile } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '@haven/db/testing';
import { Agent } from '../src/agent';
import { writePolicy } from '../src/policy';
import { waitFor } from './support/desktop';
import { CollectorProcess, freePort, REPO } from './support/processes';
import { describeWithPostgres } from './support/postgres';

const run = promisify(execFile);

type Line = { level: string; message: string };

/** Bad local state is reported clearly; the agent keeps running and keeps what it can. */
describeWithPostgres('the agent with bad local state', () => {
  let db: TestDatabase;
  let collector: CollectorProcess;
  let dir: string;
  let token: string;
  let url: string;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-state-'));
    db = await createTestDatabase('postgres');
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    collector = await CollectorProcess.start(port, db.url, path.join(dir, 'collector'));
    token = collector.firstToken!;
  });
  afterAll(async () => {
    await collector?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (dataDir: string) => {
    const lines: Line[] = [];
    const agent = new Agent({
      collector: url,
      enrollToken: token,
      dataDir,
      sources: { window: false, keys: false },
      backoff: { minMs: 100, maxMs: 500 },
      log: (level, message) => lines.push({ level, message }),
    });
    await agent.start();
    return { agent, lines };
  };
  const observe = (agent: Agent, text: string) => agent.observe({ source: 'keys', text, app: 'notes', title: 'Notes', at: new Date() });

  it('a corrupt outbox tail is cut and reported; the events before it are still delivered', async () => {
    const dataDir = path.join(dir, 'a');
    const first = await start(dataDir);
    await waitFor(() => first.agent.status().link.state === 'ready', 10_000, 'not connected');
    first.agent.stop(); // offline from here: capture into the outbox only
    const offline = new Agent({ collector: 'http://127.0.0.1:9', dataDir, sources: { window: false, keys: false }, log: () => undefined, backoff: { minMs: 60_000, maxMs: 60_000 } });
    await offline.start();
    observe(offline, 'i want to kill myself tonight');
    expect(offline.status().outboxDepth).toBe(1);
    offline.stop();
    appendFileSync(path.join(dataDir, 'outbox.log'), Buffer.from([0xa5, 0xff, 0x00])); // a torn write
    const again = await start(dataDir);
    expect(again.lines.some((l) => l.level === 'warn' && /outbox had a damaged tail/.test(l.message))).toBe(true);
    await waitFor(() => again.agent.status().outboxDepth === 0, 10_000, 'the kept event was not delivered');
    again.agent.stop();
  });

  it('a policy file that is not valid JSON, or not a valid policy, is reported and the policy in force is kept', async () => {
    const dataDir = path.join(dir, 'b');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path.join(dataDir, 'policy.json'), '{"threshold": 9');
    const { agent, lines } = await start(dataDir);
    expect(lines.some((l) => l.level === 'error' && /policy file is not valid JSON; keeping the policy in force/.test(l.message))).toBe(true);
    expect(agent.status().policyError).toMatch(/not valid JSON/);
    observe(agent, 'i want to kill myself tonight'); // capture goes on under the policy in force (the default)
    await waitFor(() => agent.status().outboxDepth === 0, 10_000, 'not delivered');
    agent.stop();
    writeFileSync(path.join(dataDir, 'policy.json'), JSON.stringify({ threshold: 3, sources: { keys: true } }));
    const second = await start(dataDir);
    expect(second.lines.some((l) => l.level === 'error' && /policy file is not a valid policy/.test(l.message))).toBe(true);
    second.agent.stop();
  });

  it('a policy file written while the agent runs takes effect without a restart', async () => {
    const dataDir = path.join(dir, 'd');
    const { agent, lines } = await start(dataDir);
    const captured = () => lines.filter((l) => l.message === 'Captured a flagged item.').length;
    observe(agent, 'im going to stab him after school'); // severe: kept under the default threshold (3)
    expect(captured()).toBe(1);
    writePolicy(dataDir, { threshold: 5, sources: { title: true, keys: true, screen: true }, quietHours: [], ageBand: 'secondary' });
    await waitFor(() => agent.status().policy.threshold === 5, 10_000, 'the new policy was not picked up');
    observe(agent, 'he wants pics of me in my underwear'); // severe (4), now below the school's threshold
    expect(captured()).toBe(1);
    agent.stop();
  });

  it('a revoked credential is reported, the link stops for good, capture continues into the outbox', async () => {
    const dataDir = path.join(dir, 'c');
    const { agent, lines } = await start(dataDir);
    await waitFor(() => agent.status().link.state === 'ready', 10_000, 'not connected');
    const deviceId = agent.status().deviceId!;
    await run(process.execPath, [path.join(REPO, 'apps', 'collector', 'dist', 'cli.js'), 'device', 'revoke', deviceId], { env: { ...process.env, DATABASE_URL: db.url } });
    // A restart drops every connection; the revoked device is refused when it comes back.
    await collector.stop();
    collector = await CollectorProcess.start(port, db.url, path.join(dir, 'collector'));
    await waitFor(() => agent.status().link.fatal, 15_000, 'the revocation was not noticed');
    expect(lines.some((l) => l.level === 'error' && /refused this device/.test(l.message))).toBe(true);
    observe(agent, 'i want to kill myself tonight');
    expect(agent.status().outboxDepth).toBe(1); // kept on the device, for a re-enrolled agent to send
    agent.stop();

    // The credential is readable by the agent's user only; `haven-agent status` says what happened, never what was captured.
    expect(statSync(path.join(dataDir, 'credential.json')).mode & 0o777).toBe(0o600);
    const { stdout } = await run(process.execPath, [path.join(REPO, 'apps', 'agent', 'bin', 'haven-agent.js'), 'status', '--data-dir', dataDir]);
    expect(stdout).toMatch(/Collector: .* stopped \(refused: this device needs re-enrolling\)/);
    expect(stdout).toMatch(/Outbox: +1 waiting to send, 0 dropped/);
    expect(stdout).not.toMatch(/kill myself/);
  });
});
