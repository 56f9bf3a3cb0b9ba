import { connect, type Socket } from 'node:net';
import { userInfo } from 'node:os';
import type { AgentEvent, Policy, SourceHealth } from '@haven/protocol';
import { AGENT_VERSION, type Logger } from './version';
import { Capture } from './capture';
import { encodeLine, IPC_VERSION, LineReader, MAX_IPC_EVENTS, ServiceMessageSchema, type LinkView } from './ipc/messages';
import { DEFAULT_POLICY, policyHealth } from './policy';
import { defaultSources, type Source, type SourceName } from './sources/source';
import { warmScorer } from './warm';

const NIL_DEVICE = '00000000-0000-0000-0000-000000000000';

export type SessionOptions = {
  socketPath: string;
  log: Logger;
  sources?: Source[];
  /** Flagged events held while the service cannot be reached (oldest dropped beyond it). */
  maxPending?: number;
  reconnectMs?: number;
  env?: NodeJS.ProcessEnv;
};

/** What the tray shell and `haven-agent status` show for a session part: never captured text. */
export type SessionView = {
  notice: { school: string | null; transparencyUrl: string | null };
  service: { state: 'connected' | 'connecting' | 'unreachable'; since: string | null };
  collector: LinkView;
  sources: Record<SourceName, { state: SourceHealth['state']; detail?: string }>;
  pending: number;
  dropped: number;
  updatedAt: string;
};

/**
 * The per-user half of a split agent: runs the capture sources and the scoring in the user's
 * login, and hands what is flagged to the machine's service over the local socket. It holds no
 * credential and writes nothing to disk; while the service is away it keeps a bounded queue of
 * flagged events in memory. Runner: start() / stop().
 */
export class CaptureSession {
  private capture: Capture | null = null;
  private socket: Socket | null = null;
  private policy: Policy = DEFAULT_POLICY;
  private osUser = safeUser();
  private deviceId: string | null = null;
  private notice: SessionView['notice'] = { school: null, transparencyUrl: null };
  private link: LinkView = { state: 'unknown', lastDeliveryAt: null };
  private service: SessionView['service'] = { state: 'connecting', since: null };
  private readonly pending = new Map<string, AgentEvent>();
  private readonly inFlight = new Set<string>();
  private dropped = 0;
  private retry: NodeJS.Timeout | null = null;
  private healthTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly listeners = new Set<(v: SessionView) => void>();

  constructor(private readonly options: SessionOptions) {}

  start(): void {
    warmScorer();
    this.capture = new Capture({
      sources: this.options.sources ?? defaultSources(),
      policy: () => this.policy,
      identity: () => ({ deviceId: this.deviceId ?? NIL_DEVICE, osUser: this.osUser }),
      emit: (event) => this.enqueue(event),
      log: this.options.log,
      env: this.options.env,
    });
    this.capture.start();
    this.connect();
    this.healthTimer = setInterval(() => this.sendHealth(), 30_000);
    this.healthTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.healthTimer) clearInterval(this.healthTimer);
    await this.capture?.stop();
    // Flagged events the service has not confirmed get one last chance to go.
    this.flush();
    await new Promise<void>((resolve) => {
      if (!this.socket || this.socket.destroyed) return resolve();
      this.socket.end(() => resolve());
      setTimeout(resolve, 500).unref();
    });
  }

  view(): SessionView {
    const health = policyHealth(this.policy, this.capture?.health() ?? {});
    const sources = {} as SessionView['sources'];
    for (const name of ['title', 'keys', 'screen'] as const) {
      const h = health[name] ?? { state: 'disabled' as const };
      sources[name] = h.detail ? { state: h.state, detail: h.detail } : { state: h.state };
    }
    return { notice: this.notice, service: this.service, collector: this.link, sources, pending: this.pending.size, dropped: this.dropped, updatedAt: new Date().toISOString() };
  }

  onChange(listener: (v: SessionView) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Scores an observation (tests). */
  get captureForTests(): Capture | null {
    return this.capture;
  }

  private changed(): void {
    if (this.listeners.size === 0) return;
    const v = this.view();
    for (const l of this.listeners) l(v);
  }

  private enqueue(event: AgentEvent): void {
    const max = this.options.maxPending ?? 1000;
    if (this.pending.size >= max) {
      const oldest = this.pending.keys().next().value as string;
      this.pending.delete(oldest);
      this.inFlight.delete(oldest);
      this.dropped++;
    }
    this.pending.set(event.id, event);
    this.flush();
  }

  private flush(): void {
    const socket = this.socket;
    if (!socket || this.service.state !== 'connected' || socket.destroyed) return;
    const batch: AgentEvent[] = [];
    for (const [id, e] of this.pending) {
      if (this.inFlight.has(id)) continue;
      batch.push(e);
      this.inFlight.add(id);
      if (batch.length === MAX_IPC_EVENTS) {
        socket.write(encodeLine({ type: 'events', events: batch.splice(0) }));
      }
    }
    if (batch.length > 0) socket.write(encodeLine({ type: 'events', events: batch }));
  }

  private sendHealth(): void {
    if (this.socket && this.service.state === 'connected') {
      const sources = this.capture?.health() ?? {};
      this.socket.write(encodeLine({ type: 'health', sources }));
    }
  }

  private connect(): void {
    if (this.stopped) return;
    const socket = connect(this.options.socketPath);
    this.socket = socket;
    const reader = new LineReader();
    socket.on('connect', () => socket.write(encodeLine({ type: 'hello', ipc: IPC_VERSION, agentVersion: AGENT_VERSION })));
    socket.on('data', (chunk: Buffer) => {
      const { lines, overflow } = reader.push(chunk);
      for (const line of lines) this.onLine(line);
      if (overflow) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket === socket) this.socket = null;
      this.inFlight.clear();
      const wasConnected = this.service.state === 'connected';
      if (wasConnected || this.service.since === null) this.service = { state: 'unreachable', since: new Date().toISOString() };
      if (wasConnected) this.options.log('warn', 'Lost the connection to the Haven service; flagged items are held here until it is back.');
      this.changed();
      if (!this.stopped) {
        this.retry = setTimeout(() => this.connect(), this.options.reconnectMs ?? 2000);
        this.retry.unref();
      }
    });
  }

  private onLine(line: string): void {
    let message;
    try {
      message = ServiceMessageSchema.parse(JSON.parse(line));
    } catch {
      this.options.log('error', 'The Haven service sent a message this session part does not understand.');
      return;
    }
    switch (message.type) {
      case 'welcome':
        this.osUser = message.osUser;
        this.deviceId = message.deviceId;
        this.policy = message.policy;
        this.notice = message.notice;
        this.link = message.link;
        this.service = { state: 'connected', since: new Date().toISOString() };
        this.options.log('info', 'Connected to the Haven service.');
        this.sendHealth();
        this.flush();
        break;
      case 'policy':
        this.policy = message.policy;
        break;
      case 'link':
        this.link = message.link;
        break;
      case 'stored':
      case 'refused':
        for (const id of message.ids) {
          this.pending.delete(id);
          this.inFlight.delete(id);
        }
        if (message.type === 'refused') this.dropped += message.ids.length;
        break;
      case 'error':
        this.options.log('error', `The Haven service refused this session part: ${message.message}`);
        break;
    }
    this.changed();
  }
}

function safeUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}
