import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '@haven/db/testing';
import { Desktop, waitFor } from './support/desktop';
import { AgentProcess, CollectorProcess, freePort } from './support/processes';
import { describeWithPostgres, sqlClient } from './support/postgres';

type Row = { source: string; category: string; severity: number; evidence: { match: string } };


/**
 * The whole path on a real desktop: X window titles and key events → the headless agent
 * (scored on the device) → the built collector → PostgreSQL.
 */
describeWithPostgres('the headless agent against a real collector on PostgreSQL', () => {
  let desktop: Desktop;
  let db: TestDatabase;
  let sql: (query: string) => Promise<Row[]>;
  let end: () => Promise<void>;
  let collector: CollectorProcess;
  let agent: AgentProcess;
  let port: number;
  let dir: string;
  let token: string;
  // The token is in a configuration file, never on the command line.
  const agentArgs = () => {
    const conf = path.join(dir, 'agent.conf');
    if (!existsSync(conf)) writeFileSync(conf, `collector = http://127.0.0.1:${port}\nenrol_token = ${token}\n`, { mode: 0o600 });
    return ['--config', conf, '--data-dir', path.join(dir, 'agent')];
  };
  const agentEnv = () => ({ DISPLAY: desktop.display });
  const rows = () => sql('select source, category, severity, evidence from events order by occurred_at');

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-e2e-'));
    db = await createTestDatabase('postgres');
    ({ sql, end } = await sqlClient<Row>(db.url));
    port = await freePort();
    collector = await CollectorProcess.start(port, db.url, path.join(dir, 'collector'));
    token = collector.firstToken!;
    expect(token).toMatch(/^hvn_enr_/);
    desktop = await Desktop.start();
    await desktop.openWindow('how to tie a noose - Google Search');
    agent = AgentProcess.start(agentArgs(), agentEnv());
    await agent.waitForLog('Connected to the collector.');
  });

  afterAll(async () => {
    await agent?.kill();
    await collector?.stop();
    await desktop?.stop();
    await end?.();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers a risky window title and a risky typed phrase; homework and allow-phrases stay on the device', async () => {
    await waitFor(async () => (await rows()).some((r) => r.source === 'title' && r.category === 'suicide'), 10_000, 'no title event');
    await new Promise((r) => setTimeout(r, 500)); // the keys source has seen the window
    await desktop.type('i want to kill myself tonight');
    await desktop.key('Return');
    await desktop.type('kill the process');
    await desktop.key('Return');
    await desktop.type('romeo and juliet essay');
    await desktop.key('Return');
    await waitFor(async () => (await rows()).some((r) => r.source === 'keys'), 10_000, 'no keys event');
    await new Promise((r) => setTimeout(r, 1500)); // time for anything else to (wrongly) arrive
    const keys = (await rows()).filter((r) => r.source === 'keys');
    expect(keys).toHaveLength(1);
    expect(keys[0]!.category).toBe('suicide');
    expect(keys[0]!.severity).toBeGreaterThanOrEqual(4);
    expect(keys[0]!.evidence.match).toContain('kill myself');
  });

  it('reads a window of risky text on screen and delivers a screen event', async () => {
    await desktop.openWindow('Diary - Notes', 'Dear diary, I want to kill myself tonight and nobody would miss me.');
    await waitFor(async () => (await rows()).some((r) => r.source === 'screen' && r.category === 'suicide'), 30_000, 'no screen event');
  });

  it('with the collector down, a captured event survives kill -9 of the agent and arrives exactly once', async () => {
    await collector.stop();
    const captured = () => agent.log.filter((l) => l.includes('Captured a flagged item.')).length;
    const before = captured();
    await desktop.type('i am going to hang myself tonight');
    await desktop.key('Return');
    await waitFor(() => captured() > before, 10_000, 'the phrase was not captured');
    await agent.kill('SIGKILL');
    agent = AgentProcess.start(agentArgs(), agentEnv());
    await new Promise((r) => setTimeout(r, 500));
    collector = await CollectorProcess.start(port, db.url, path.join(dir, 'collector'));
    await waitFor(async () => (await rows()).some((r) => r.source === 'keys' && r.evidence.match.includes('hang myself')), 20_000, 'the event captured while the collector was down never arrived');
    await new Promise((r) => setTimeout(r, 1500));
    const hang = (await rows()).filter((r) => r.source === 'keys' && r.evidence.match.includes('hang myself'));
    expect(hang).toHaveLength(1);
    expect((await rows()).filter((r) => r.source === 'keys' && r.evidence.match.includes('kill myself'))).toHaveLength(1);
  });
});
