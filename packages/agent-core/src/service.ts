import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import type { AgentEvent, Policy, SessionReport, SourceHealth } from '@haven/protocol';
import { AGENT_VERSION, type Logger } from './version';
import { writeFileAtomic } from './atomic-file';
import { forgetEnrolToken, type AgentConfig } from './config';
import { encodeLine, IpcEventSchema, LineReader, SessionMessageSchema, type LinkView, type ServiceMessage } from './ipc/messages';
import { peerOf, userHasProcesses, userName, type PeerCredentials } from './ipc/peer';
import { obtainCredential, type Credential } from './link/credential';
import { Link, type LinkStatus } from './link/link';
import { Outbox } from './outbox/outbox';
import { DEFAULT_POLICY, policyForUser, policyHealth } from './policy';
import { PolicyStore } from './policy-store';

export type ServiceOptions = {
  config: AgentConfig;
  /** The configuration file, so the enrolment token can be removed from it once used. */
  configFile?: string;
  log: Logger;
  backoff?: { minMs: number; maxMs: number };
  /** How long after a session part disconnects the service looks whether its user is still logged in. */
  stopGraceMs?: number;
  /** Tests: who is at the other end of a connection (default: the kernel's peer credentials). */
  peer?: (socket: Socket) => PeerCredentials;
};

type Connection = { socket: Socket; peer: PeerCredentials; osUser: string; health: Partial<Record<string, SourceHealth>>; greeted: boolean };
type SessionState = SessionReport & { uid: number; connections: Set<Connection>; check: NodeJS.Timeout | null };

/** What `haven-agent status` shows for the service: never captured text, never account names. */
export type ServiceStatus = {
  role: 'service';
  pid: number;
  collector: string;
  deviceId: string | null;
  link: LinkStatus;
  lastDeliveryAt: string | null;
  sessions: { running: number; stopped: number; ended: number };
  outboxDepth: number;
  droppedEvents: number;
  policyError: string | null;
  updatedAt: string;
};

/**
 * The per-machine half of a split agent. It alone holds the device credential, the outbox and
 * the link to the collector; it listens on a local socket for the session parts (one per
 * logged-in user), identifies each connection's OS user from the kernel, stamps their events
 * with it, and reports every session part in its heartbeats — one that stops while its user is
 * still logged in is a tamper signal. Runner: start() / stop().
 */
export class AgentService {
  private outbox!: Outbox;
  private link: Link | null = null;
  private credential: Credential | null = null;
  private policies!: PolicyStore;
  private server: Server | null = null;
  private readonly connections = new Set<Connection>();
  private readonly sessions = new Map<number, SessionState>();
  private lastDeliveryAt: string | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly options: ServiceOptions) {}

  async start(): Promise<void> {
    const { config, log } = this.options;
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    chmodSync(config.dataDir, 0o700);
    this.outbox = new Outbox({ dir: config.dataDir });
    const r = this.outbox.recovery;
    if (r.truncatedBytes > 0) log('warn', `The outbox had a damaged tail (${r.reason}); ${r.truncatedBytes} bytes were cut and ${r.pending} events kept.`);
    this.policies = new PolicyStore(config.dataDir, log);
    await this.policies.start(() => this.broadcastPolicy());

    this.credential = await obtainCredential({
      dataDir: config.dataDir,
      collector: config.collector,
      enrolToken: config.enrolToken,
      agentVersion: AGENT_VERSION,
      log,
      onEnrolled: () => {
        // The token has done its job: it must not stay readable on the machine.
        if (this.options.configFile) {
          try {
            if (forgetEnrolToken(this.options.configFile)) log('info', 'The enrolment token was removed from the agent configuration.');
          } catch (err) {
            log('warn', `The enrolment token could not be removed from ${this.options.configFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); remove it by hand.`);
          }
        }
      },
    });
    if (this.stopped) return;
    this.link = new Link({
      credential: this.credential,
      outbox: this.outbox,
      agentVersion: AGENT_VERSION,
      health: () => this.reportedHealth(),
      sessions: () => this.sessionReports(),
      backoff: this.options.backoff,
      log: (level, message) => log(level, message),
      onPolicy: (policy) => {
        this.policies.save(policy);
        this.broadcastPolicy();
        log('info', 'A new policy from the collector is in force.');
      },
      onStatus: () => this.broadcastLink(),
      onDelivered: (_n, at) => {
        this.lastDeliveryAt = at.toISOString();
        this.broadcastLink();
      },
    });
    this.link.start();
    await this.listen();
    this.statusTimer = setInterval(() => this.writeStatus(), 2000);
    this.statusTimer.unref();
    this.writeStatus();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.policies?.stop();
    for (const c of this.connections) c.socket.destroy();
    for (const s of this.sessions.values()) if (s.check) clearTimeout(s.check);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    if (process.platform !== 'win32') rmSync(this.options.config.socketPath, { force: true });
    this.link?.stop();
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.writeStatus();
    this.outbox?.close();
  }

  private get policy(): Policy {
    return this.policies?.policy ?? DEFAULT_POLICY;
  }

  status(): ServiceStatus {
    const counts = { running: 0, stopped: 0, ended: 0 };
    for (const s of this.sessions.values()) counts[s.state]++;
    return {
      role: 'service',
      pid: process.pid,
      collector: this.options.config.collector,
      deviceId: this.credential?.deviceId ?? null,
      link: this.link?.state ?? { state: 'idle', lastError: null, fatal: false },
      lastDeliveryAt: this.lastDeliveryAt,
      sessions: counts,
      outboxDepth: this.outbox?.depth ?? 0,
      droppedEvents: this.outbox?.dropped ?? 0,
      policyError: this.policies?.error ?? null,
      updatedAt: new Date().toISOString(),
    };
  }

  /** The session parts as heartbeats report them (protocol §5.6). */
  sessionReports(): SessionReport[] {
    return [...this.sessions.values()].slice(0, 64).map(({ osUser, state, since, detail }) => ({ osUser, state, since, ...(detail ? { detail } : {}) }));
  }

  private async listen(): Promise<void> {
    const { socketPath } = this.options.config;
    if (process.platform !== 'win32') {
      // The directory is the service's (0755 so every user can reach the socket); a stale
      // socket from a killed service is replaced.
      mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o755 });
      rmSync(socketPath, { force: true });
    }
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    // Any user may connect: who they are comes from the kernel, not from the socket's mode.
    if (process.platform !== 'win32') chmodSync(socketPath, 0o666);
    this.options.log('info', 'Listening for session parts.', { socket: socketPath });
  }

  private accept(socket: Socket): void {
    let peer: PeerCredentials;
    try {
      peer = (this.options.peer ?? peerOf)(socket);
    } catch (err) {
      this.options.log('error', `A session part's connection was refused: its user cannot be identified (${(err as Error).message}).`);
      socket.end(encodeLine({ type: 'error', message: 'this connection cannot be identified' }));
      return;
    }
    const conn: Connection = { socket, peer, osUser: userName(peer.uid), health: {}, greeted: false };
    this.connections.add(conn);
    const reader = new LineReader();
    socket.on('data', (chunk: Buffer) => {
      const { lines, overflow } = reader.push(chunk);
      for (const line of lines) this.onLine(conn, line);
      if (overflow) this.refuse(conn, 'a message was longer than the limit');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.onClose(conn));
  }

  private refuse(conn: Connection, message: string): void {
    this.options.log('warn', `A session part's connection was closed: ${message}.`, { uid: conn.peer.uid });
    conn.socket.end(encodeLine({ type: 'error', message }));
    conn.socket.destroySoon?.();
  }

  private send(conn: Connection, message: ServiceMessage): void {
    if (!conn.socket.destroyed) conn.socket.write(encodeLine(message));
  }

  private onLine(conn: Connection, line: string): void {
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return this.refuse(conn, 'a message was not JSON');
    }
    const parsed = SessionMessageSchema.safeParse(json);
    if (!parsed.success) return this.refuse(conn, `a message broke the IPC schema (${parsed.error.issues[0]?.path.join('.') ?? ''})`);
    const m = parsed.data;
    if (m.type !== 'hello' && !conn.greeted) return this.refuse(conn, 'the first message must be hello');
    switch (m.type) {
      case 'hello':
        conn.greeted = true;
        this.sessionStarted(conn);
        this.send(conn, {
          type: 'welcome',
          ipc: 1,
          osUser: conn.osUser,
          deviceId: this.credential?.deviceId ?? null,
          policy: policyForUser(this.policy, conn.osUser),
          notice: { school: this.options.config.schoolName, transparencyUrl: this.options.config.transparencyUrl },
          link: this.linkView(),
        });
        return;
      case 'health':
        conn.health = m.sources;
        return;
      case 'events':
        return this.onEvents(conn, m.events);
    }
  }

  private onEvents(conn: Connection, events: unknown[]): void {
    const stored: AgentEvent[] = [];
    const refused: string[] = [];
    for (const raw of events) {
      // Who and where come from the service, whatever the session part wrote.
      const stamped = typeof raw === 'object' && raw !== null ? { ...raw, osUser: conn.osUser, deviceId: this.credential!.deviceId } : raw;
      const parsed = IpcEventSchema.safeParse(stamped);
      if (parsed.success) stored.push(parsed.data);
      else refused.push(typeof (raw as { id?: unknown })?.id === 'string' ? String((raw as { id: string }).id).slice(0, 64) : '?');
    }
    if (stored.length > 0) {
      this.outbox.append(stored);
      this.link?.notify();
      this.send(conn, { type: 'stored', ids: stored.map((e) => e.id) });
    }
    if (refused.length > 0) {
      this.options.log('warn', `Refused ${refused.length} event(s) from a session part that broke the event schema.`, { uid: conn.peer.uid });
      this.send(conn, { type: 'refused', ids: refused, message: 'not a valid event' });
    }
  }

  private sessionStarted(conn: Connection): void {
    const uid = conn.peer.uid;
    const s = this.sessions.get(uid);
    if (s) {
      if (s.check) clearTimeout(s.check);
      s.check = null;
      s.connections.add(conn);
      if (s.state !== 'running') Object.assign(s, { state: 'running', since: new Date().toISOString(), detail: undefined });
    } else {
      this.sessions.set(uid, { osUser: conn.osUser, uid, state: 'running', since: new Date().toISOString(), connections: new Set([conn]), check: null });
    }
    this.options.log('info', 'A session part connected.', { uid });
    this.link?.heartbeatNow();
  }

  private onClose(conn: Connection): void {
    this.connections.delete(conn);
    const s = this.sessions.get(conn.peer.uid);
    if (!s || !s.connections.delete(conn) || s.connections.size > 0 || this.stopped) return;
    // Logged out, or stopped while the user is still there? Look once the grace period has
    // passed (a logout ends the user's processes; a restart reconnects within it).
    s.check = setTimeout(() => {
      s.check = null;
      if (s.connections.size > 0 || this.stopped) return;
      const stillThere = userHasProcesses(s.uid, conn.peer.pid);
      s.state = stillThere ? 'stopped' : 'ended';
      s.since = new Date().toISOString();
      s.detail = stillThere ? 'the monitoring session part stopped while the user was still logged in' : undefined;
      if (stillThere) this.options.log('warn', 'A session part stopped while its user was still logged in (tamper signal).', { uid: s.uid });
      else this.options.log('info', 'A session part ended with its login.', { uid: s.uid });
      this.link?.heartbeatNow();
      this.writeStatus();
    }, this.options.stopGraceMs ?? 5000);
    s.check.unref();
  }

  /** Per source, the best health among the running session parts, as the policy leaves it. */
  private reportedHealth(): Record<string, SourceHealth> {
    const rank = ['ok', 'degraded', 'paused', 'failed', 'disabled'];
    const out: Record<string, SourceHealth> = {};
    for (const conn of this.connections) {
      for (const [name, h] of Object.entries(conn.health)) {
        if (!h) continue;
        const cur = out[name];
        if (!cur || rank.indexOf(h.state) < rank.indexOf(cur.state)) out[name] = h;
      }
    }
    if (Object.keys(out).length === 0)
      for (const name of ['title', 'keys', 'screen']) out[name] = { state: 'paused', detail: 'no session part is running (no one is logged in)' };
    return policyHealth(this.policy, out);
  }

  private linkView(): LinkView {
    const state = this.link?.state;
    const map: Record<string, LinkView['state']> = { ready: 'online', connecting: 'connecting', backoff: 'offline', stopped: 'refused', idle: 'connecting' };
    return { state: state ? (map[state.state] ?? 'unknown') : 'connecting', lastDeliveryAt: this.lastDeliveryAt };
  }

  private broadcastLink(): void {
    const link = this.linkView();
    for (const c of this.connections) if (c.greeted) this.send(c, { type: 'link', link });
  }

  private broadcastPolicy(): void {
    for (const c of this.connections) if (c.greeted) this.send(c, { type: 'policy', policy: policyForUser(this.policy, c.osUser) });
    this.writeStatus();
  }

  private writeStatus(): void {
    if (!this.outbox) return;
    try {
      writeFileAtomic(path.join(this.options.config.dataDir, 'status.json'), JSON.stringify(this.status(), null, 2) + '\n', 0o600);
    } catch {
      // a convenience for `haven-agent status`
    }
  }
}
