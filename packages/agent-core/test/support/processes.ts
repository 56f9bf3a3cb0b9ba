import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from './desktop';

/** The repository's root: the nearest folder up with the lock file (from the tests' source or the bench's build). */
export const REPO = (() => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package-lock.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no repository root above ${__dirname}`);
  }
})();

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** The built collector as a child process on a given port and database. */
export class CollectorProcess {
  readonly output: string[] = [];
  /** With `databaseUrl` null, the collector uses its embedded database in `dataDir`. */
  private constructor(private readonly child: ChildProcess) {}

  static async start(port: number, databaseUrl: string | null, dataDir: string): Promise<CollectorProcess> {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', HAVEN_DATA_DIR: dataDir, LOG_LEVEL: 'warn', INVOCATION_ID: '' };
    if (databaseUrl) env.DATABASE_URL = databaseUrl;
    else delete env.DATABASE_URL; // the embedded database in dataDir
    const child = spawn(process.execPath, [path.join(REPO, 'apps', 'collector', 'dist', 'server.js')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const c = new CollectorProcess(child);
    createInterface({ input: child.stdout! }).on('line', (l) => c.output.push(l));
    createInterface({ input: child.stderr! }).on('line', (l) => c.output.push(l));
    await waitFor(() => c.output.some((l) => l.includes('Haven collector listening')), 30_000, `the collector did not start: ${c.output.join('\n')}`);
    return c;
  }

  /** The first enrolment token from the banner of a first run. */
  get firstToken(): string | null {
    for (const l of this.output) {
      const m = /(hvn_enr_[A-Za-z0-9_-]+)/.exec(l);
      if (m) return m[1]!;
    }
    return null;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** The headless agent (`haven-agent run`) as a child process. */
export class AgentProcess {
  readonly log: string[] = [];
  private constructor(private readonly child: ChildProcess) {}

  static start(args: string[], env: Record<string, string>, command: 'run' | 'service' | 'session' = 'run'): AgentProcess {
    // Run as installed: the bin's own interpreter line (and its Node flags) applies.
    const child = spawn(path.join(REPO, 'apps', 'agent', 'bin', 'haven-agent.js'), [command, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const a = new AgentProcess(child);
    createInterface({ input: child.stderr! }).on('line', (l) => a.log.push(l));
    return a;
  }

  /**
   * The service as the Linux package runs it: the Node flags of the systemd unit's ExecStart
   * (apps/agent/packaging/linux/haven-agent.service), with the repository's bin in place of the
   * installed one.
   */
  static serviceAsInstalled(args: string[], env: Record<string, string>): AgentProcess {
    const unit = readFileSync(path.join(REPO, 'apps', 'agent', 'packaging', 'linux', 'haven-agent.service'), 'utf8');
    const exec = /^ExecStart=(.*)$/m.exec(unit)![1]!.split(/\s+/);
    const flags = exec.slice(1).filter((a) => a.startsWith('--') && exec.indexOf(a) < exec.findIndex((x) => x.endsWith('haven-agent.js')));
    const child = spawn(process.execPath, [...flags, path.join(REPO, 'apps', 'agent', 'bin', 'haven-agent.js'), 'service', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const a = new AgentProcess(child);
    createInterface({ input: child.stderr! }).on('line', (l) => a.log.push(l));
    return a;
  }

  /** A bare Node process doing nothing: the peer the agent's CPU and memory are compared with. */
  static peer(): AgentProcess {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: ['ignore', 'ignore', 'pipe'] });
    return new AgentProcess(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  async waitForLog(text: string, timeoutMs = 15_000): Promise<void> {
    await waitFor(() => this.log.some((l) => l.includes(text)), timeoutMs, `agent never logged "${text}": ${this.log.join('\n')}`);
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill(signal);
    await exited;
  }
}
