import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AgentEvent, EnrollResponse } from '@haven/protocol';
import { makeEvent, TestAgent } from './agent-client';

/**
 * A PostgreSQL cluster of the test's own, and a collector as a real child process on it, so a
 * test can terminate connections and restart the server (which it must never do to the shared
 * cluster on 5432) and see a crash of the collector as what it is: the process exiting.
 */

const run = promisify(execFile);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a value (not undefined/false) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Resolves as `promise` does, or rejects naming `what` once `timeoutMs` has passed. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why the fault suite cannot run here, or null when it can (CI runs as root with PostgreSQL). */
export function clusterToolsMissing(): string | null {
  if (spawnSync('pg_createcluster', ['--help'], { stdio: 'ignore' }).error) {
    return 'pg_createcluster is not installed (apt-get install postgresql-common postgresql)';
  }
  if (process.getuid?.() !== 0) return 'creating a PostgreSQL cluster needs root (CI runs as root)';
  if (!existsSync('/etc/postgresql')) return 'no PostgreSQL server installed under /etc/postgresql';
  return null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const CLUSTER_PREFIX = 'haven_faults_';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export type OwnCluster = {
  version: string;
  name: string;
  port: number;
  /** postgres://… for a database on this cluster. */
  url(database: string): string;
  /** Runs SQL as the superuser through psql (not through the driver under test). */
  psql(sqlText: string, database?: string): Promise<string>;
  /** Terminates every backend of `database`; resolves with how many it cut. */
  terminateBackends(database: string): Promise<number>;
  /** Stops the server as a crash would (SIGQUIT to every backend, no checkpoint), then starts it. */
  restartImmediate(): Promise<void>;
  drop(): Promise<void>;
};

/** Creates and starts a throwaway cluster with trust auth on 127.0.0.1 (pg_createcluster). */
export async function createOwnCluster(): Promise<OwnCluster> {
  const version = readdirSync('/etc/postgresql')
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(a) - Number(b))
    .pop()!;
  dropLeftoverClusters(version);
  const name = `${CLUSTER_PREFIX}${process.pid}`;
  const port = await freePort();
  const ctl = (...args: string[]) => run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, ...args]);
  await run('pg_createcluster', [
    version,
    name,
    '--port',
    String(port),
    // Small and quick: a crash (stop -m immediate) loses nothing the OS has, with fsync or not.
    '-o',
    'fsync=off',
    '-o',
    'shared_buffers=16MB',
    '-o',
    'max_connections=40',
    '--',
    '--auth-host=trust',
    '--auth-local=trust',
  ]);
  try {
    await ctl('start');
  } catch (err) {
    spawnSync('pg_dropcluster', ['--stop', version, name], { stdio: 'ignore' });
    throw err;
  }
  const psql = async (sqlText: string, database = 'postgres') => {
    const { stdout } = await run('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sqlText]);
    return stdout.trim();
  };
  return {
    version,
    name,
    port,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    psql,
    async terminateBackends(database) {
      const out = await psql(
        `select count(*) filter (where pg_terminate_backend(pid)) from pg_stat_activity where datname = '${database}' and pid <> pg_backend_pid()`,
      );
      return Number(out);
    },
    async restartImmediate() {
      await ctl('stop', '-m', 'immediate');
      await ctl('start');
    },
    async drop() {
      await run('pg_dropcluster', ['--stop', version, name]);
    },
  };
}

/** Clusters a killed earlier run left behind (their pid is gone) are dropped, so none piles up. */
function dropLeftoverClusters(version: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(path.join('/etc/postgresql', version));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(CLUSTER_PREFIX)) continue;
    const pid = Number(name.slice(CLUSTER_PREFIX.length));
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) continue;
    spawnSync('pg_dropcluster', ['--stop', version, name], { stdio: 'ignore' });
  }
}

const collectorDir = path.resolve(__dirname, '..', '..');
/** The collector from its source, as jest runs it: a test never runs a stale build. */
const serverArgs = ['-r', path.join(__dirname, 'register-ts.cjs'), path.join(collectorDir, 'src', 'server.ts')];

export type Exit = { code: number | null; signal: NodeJS.Signals | null; output: string };

/** The built collector as a child process; `exits` records each time it died. */
export class CollectorProcess {
  child: ChildProcess | undefined;
  /** Every line the collector wrote to stdout and stderr, over all its lives. */
  output = '';
  readonly exits: Exit[] = [];
  /** Start again after a crash, so that a run counts all of them. */
  respawn = true;
  private stopping = false;
  private lifeOutput = '';

  private constructor(
    readonly url: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async start(databaseUrl: string): Promise<CollectorProcess> {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      HAVEN_SHUTDOWN_GRACE_SECONDS: '2',
    };
    delete env.INVOCATION_ID;
    const collector = new CollectorProcess(`http://127.0.0.1:${port}`, env);
    await collector.spawn();
    return collector;
  }

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts (or, after a crash, starts again) the collector on the same port and database. */
  async spawn(): Promise<void> {
    this.lifeOutput = '';
    const child = spawn(process.execPath, serverArgs, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.output += text;
      this.lifeOutput += text;
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        resolve();
        if (this.stopping) return;
        this.exits.push({ code, signal, output: this.lifeOutput });
        // Started again only so that one run counts every crash (the test fails on the first
        // regardless): a supervisor's restart is not what keeps Haven up.
        if (this.respawn) this.spawn().catch((err: unknown) => this.exits.push({ code: null, signal: null, output: String(err) }));
      }),
    );
    await Promise.race([
      waitFor('the collector to listen', () => /listening on http/.test(this.lifeOutput), 60_000),
      exited.then(() => {
        throw new Error(`the collector exited while starting:\n${this.lifeOutput}`);
      }),
    ]);
  }

  /** The first enrolment token the collector printed on its first start. */
  firstToken(): string {
    const m = /hvn_enr_[A-Za-z0-9_-]{32}/.exec(this.output);
    if (!m) throw new Error(`no enrolment token in the collector's output:\n${this.output}`);
    return m[0];
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.stopping = true;
    if (!child || !this.alive) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}

/**
 * An agent that keeps streaming as a real one does: batch after batch, each resent until it
 * is acknowledged (an `unavailable` error, a closed socket or no answer all mean "resend"),
 * reconnecting whenever the collector closes its socket.
 */
export class StreamingAgent {
  /** Ids of every event the collector acknowledged. */
  readonly acked = new Set<string>();
  batchesAcked = 0;
  unavailable = 0;
  reconnects = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private agent: TestAgent | undefined;
  /** Events to send ahead of the stream (the probe events), each resent until acked. */
  private readonly priority: Array<{ event: AgentEvent; acked: () => void }> = [];

  constructor(
    private readonly collector: CollectorProcess,
    readonly credential: EnrollResponse,
    private readonly batchSize: number,
    private readonly pauseMs = 0,
  ) {}

  start(): void {
    this.running = true;
    // A failure (an answer no valid batch should get) stops this agent and is thrown by stop().
    this.loop = this.run();
    this.loop.catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.running = false;
    try {
      await this.loop;
    } finally {
      await this.agent?.close();
    }
  }

  /** Sends one event ahead of the stream and resolves once it is acknowledged. */
  sendUntilAcked(over: Partial<AgentEvent>): Promise<AgentEvent> {
    const event = this.makeEvent(over);
    return new Promise((resolve) => this.priority.push({ event, acked: () => resolve(event) }));
  }

  private makeEvent(over: Partial<AgentEvent> = {}): AgentEvent {
    // Several pupils, so grouping opens and updates more than one incident.
    return makeEvent(this.credential.deviceId, { osUser: `pupil.${this.acked.size % 7}`, ...over });
  }

  private async run(): Promise<void> {
    let pending: AgentEvent[] = [];
    let waiting: Array<() => void> = [];
    while (this.running) {
      if (!this.agent || this.agent.socket.readyState !== this.agent.socket.OPEN) {
        this.agent = await TestAgent.connect(this.collector.url, this.credential).catch(() => undefined);
        if (!this.agent) {
          this.reconnects++;
          await sleep(200);
          continue;
        }
      }
      if (pending.length === 0) {
        if (this.batchSize === 0 && this.priority.length === 0) {
          await sleep(20); // a probe: it sends only what it is given
          continue;
        }
        const first = this.priority.splice(0);
        pending = [...first.map((p) => p.event), ...Array.from({ length: this.batchSize }, () => this.makeEvent())];
        waiting = first.map((p) => p.acked);
      }
      const reply = await this.agent.sendBatch(pending).catch(() => undefined);
      if (reply?.type === 'ack') {
        for (const id of reply.ids) this.acked.add(id);
        this.batchesAcked++;
        pending = [];
        for (const done of waiting.splice(0)) done();
        if (this.pauseMs) await sleep(this.pauseMs);
      } else if (reply?.type === 'error' && reply.code === 'unavailable') {
        this.unavailable++;
        await sleep(100); // shorter than the collector's hint, to keep the test quick
      } else if (reply) {
        throw new Error(`unexpected reply to a valid batch: ${JSON.stringify(reply)}`);
      } else {
        // No answer: the socket closed (or stalled); reconnect and resend the same batch.
        this.agent.socket.terminate();
      }
    }
  }
}
