import { mkdirSync } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import { userInfo } from 'node:os';
import path from 'node:path';
import type { Policy, SourceHealth } from '@haven/protocol';
import { defaultScorer } from '@haven/risk';
import { writeFileAtomic } from './atomic-file';
import { enroll, EnrollError, loadCredential, saveCredential, type Credential } from './link/credential';
import { Link, type LinkStatus } from './link/link';
import { Outbox } from './outbox/outbox';
import { DEFAULT_POLICY, inQuietHours, POLICY_FILE, readPolicy, writePolicy } from './policy';
import { KeysSource } from './sources/keys/keys-source';
import { ScreenSource } from './sources/screen/screen-source';
import { WindowSource } from './sources/window/window-source';
import { RecentReports } from './transform/repeats';
import { toEvent, type Observation } from './transform/to-event';

export const AGENT_VERSION = '0.1.0';

export type Logger = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export type AgentOptions = {
  collector: string;
  enrollToken?: string;
  dataDir: string;
  log: Logger;
  /** Which sources to run here (tests and platforms without one turn some off). */
  sources?: { window?: boolean; keys?: boolean; screen?: boolean };
  /** Seconds between periodic screen captures (default 10). */
  screenIntervalSeconds?: number;
  backoff?: { minMs: number; maxMs: number };
};

/** What `haven-agent status` shows: never captured text. */
export type AgentStatus = {
  pid: number;
  collector: string;
  deviceId: string | null;
  link: LinkStatus;
  sources: Record<string, SourceHealth>;
  outboxDepth: number;
  droppedEvents: number;
  /** Screen events left out because the title or keys source had just reported the same words. */
  repeatsSuppressed: number;
  policy: Pick<Policy, 'threshold' | 'sources' | 'ageBand' | 'quietHours'> & { usersWithAgeBands: number };
  policyError: string | null;
  updatedAt: string;
};

/**
 * The headless agent: sources → transform (score on the device) → outbox → link. Runner:
 * start() / stop(). Everything platform-specific lives in the sources.
 */
export class Agent {
  private outbox!: Outbox;
  private link: Link | null = null;
  private windowSource: WindowSource | null = null;
  private keys: KeysSource | null = null;
  private screen: ScreenSource | null = null;
  private policy: Policy = DEFAULT_POLICY;
  private policyError: string | null = null;
  private credential: Credential | null = null;
  private current: { title: string | null; app: string | null } = { title: null, app: null };
  private readonly health: Record<string, SourceHealth> = {};
  private statusTimer: NodeJS.Timeout | null = null;
  private policyWatcher: FSWatcher | null = null;
  private readonly osUser = safeUser();
  /** Digests of recent title and keys reports, so screen text repeating them is not sent. */
  private readonly recent = new RecentReports();
  private repeatsSuppressed = 0;

  constructor(private readonly options: AgentOptions) {}

  async start(): Promise<void> {
    const { dataDir, log } = this.options;
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.outbox = new Outbox({ dir: dataDir });
    const r = this.outbox.recovery;
    if (r.truncatedBytes > 0) log('warn', `The outbox had a damaged tail (${r.reason}); ${r.truncatedBytes} bytes were cut and ${r.pending} events kept.`);
    this.loadPolicy();
    // The policy file is watched: a technician's edit, or a policy the collector pushed and this
    // agent wrote atomically, takes effect without a restart.
    this.policyWatcher = watch(dataDir, { depth: 0, ignoreInitial: true });
    this.policyWatcher.on('all', (_event, file) => {
      if (path.basename(file) !== POLICY_FILE) return;
      this.loadPolicy();
      if (!this.policyError) log('info', 'The policy file changed; the new policy is in force.', { threshold: this.policy.threshold });
      this.writeStatus();
    });
    await new Promise<void>((resolve) => this.policyWatcher!.once('ready', () => resolve()));

    // Compile the lexicon now, once, rather than on the first thing a pupil types.
    defaultScorer();

    this.credential = await this.obtainCredential();
    this.link = new Link({
      credential: this.credential,
      outbox: this.outbox,
      agentVersion: AGENT_VERSION,
      health: () => this.reportedHealth(),
      backoff: this.options.backoff,
      log: (level, message) => log(level, message),
      onPolicy: (policy) => {
        writePolicy(dataDir, policy);
        this.loadPolicy();
        log('info', 'A new policy from the collector is in force.');
      },
      onStatus: () => this.writeStatus(),
    });
    this.link.start();
    this.startSources();
    this.statusTimer = setInterval(() => this.writeStatus(), 2000);
    this.statusTimer.unref();
    this.writeStatus();
  }

  stop(): void {
    void this.policyWatcher?.close();
    this.policyWatcher = null;
    void this.screen?.stop();
    this.keys?.stop();
    this.windowSource?.stop();
    this.link?.stop();
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.writeStatus();
    this.outbox?.close();
  }

  /**
   * Each source's health as the school should read it: a source the policy has turned off is
   * "disabled" and one inside quiet hours "paused", whatever the capture code itself last said,
   * so the Devices page never shows "OK" for something that is not being watched.
   */
  private reportedHealth(now = new Date()): Record<string, SourceHealth> {
    const out: Record<string, SourceHealth> = { ...this.health };
    const quiet = inQuietHours(this.policy, now);
    for (const name of ['title', 'keys', 'screen'] as const) {
      const h = out[name];
      if (!h || h.state === 'disabled') continue;
      if (!this.policy.sources[name]) out[name] = { state: 'disabled', detail: "turned off by the school's policy", lastCaptureAt: h.lastCaptureAt ?? null };
      else if (quiet && h.state === 'ok') out[name] = { state: 'paused', detail: 'quiet hours', lastCaptureAt: h.lastCaptureAt ?? null };
    }
    return out;
  }

  /** Scores an observation and keeps it if flagged. Public for the sources and for tests. */
  observe(obs: Observation): void {
    if (!this.policy.sources[obs.source]) return;
    if (inQuietHours(this.policy, obs.at)) return;
    if (!this.credential) return;
    const { event } = toEvent(obs, this.policy, { deviceId: this.credential.deviceId, osUser: this.osUser });
    if (!event) return; // below the threshold: nothing is kept, nothing leaves
    if (this.recent.isRepeat(event, Date.now())) {
      // The same words in the same window were reported moments ago by the title or keys source.
      this.repeatsSuppressed++;
      return;
    }
    this.outbox.append([event]);
    this.health[obs.source] = { state: 'ok', lastCaptureAt: event.occurredAt };
    this.options.log('info', 'Captured a flagged item.', { category: event.category, severity: event.severity, source: event.source, rules: event.ruleIds.slice(0, 3) });
    this.link?.notify();
  }

  private async obtainCredential(): Promise<Credential> {
    const { dataDir, collector, enrollToken, log } = this.options;
    const saved = loadCredential(dataDir);
    if (saved) return saved;
    if (!enrollToken) throw new EnrollError('this device is not enrolled: give an enrolment token (--enroll-token)', true);
    for (let attempt = 0; ; attempt++) {
      try {
        const credential = await enroll(collector, enrollToken, AGENT_VERSION);
        saveCredential(dataDir, credential);
        log('info', 'Enrolled this device.', { deviceId: credential.deviceId });
        return credential;
      } catch (err) {
        if (err instanceof EnrollError && err.fatal) throw err;
        const wait = Math.max(Math.min(60_000, 1000 * 2 ** attempt), err instanceof EnrollError ? (err.retryAfterMs ?? 0) : 0);
        log('warn', `Enrolment failed (${(err as Error).message}); trying again in ${Math.round(wait / 1000)} s.`);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private loadPolicy(): void {
    const read = readPolicy(this.options.dataDir, this.policy);
    this.policy = read.policy;
    if (read.error && read.error !== this.policyError) this.options.log('error', `${read.error}; keeping the policy in force.`);
    this.policyError = read.error;
  }

  private startSources(): void {
    const want = this.options.sources ?? {};
    const { log } = this.options;
    if (want.keys !== false && process.platform === 'linux' && !process.env.DISPLAY) {
      // libuiohook aborts the whole process when it cannot open the display: do not try.
      this.health.keys = { state: 'failed', detail: 'no X display (DISPLAY is not set)' };
      log('error', 'The keys source cannot start: there is no X display (DISPLAY is not set).');
    } else if (want.keys !== false) {
      this.keys = new KeysSource({
        onPhrase: (p) => this.observe({ source: 'keys', text: p.text, app: p.window.app, title: p.window.title, at: p.at }),
      });
      try {
        this.keys.start();
        this.health.keys = { state: 'ok' };
      } catch (err) {
        this.keys = null;
        this.health.keys = { state: 'failed', detail: (err as Error).message.slice(0, 200) };
        log('error', `The keys source could not start: ${(err as Error).message}`);
      }
    } else this.health.keys = { state: 'disabled' };
    if (want.window !== false) {
      this.windowSource = new WindowSource({
        onChange: (w) => {
          this.current = { title: w?.title ?? null, app: w?.app ?? null };
          this.keys?.setWindow(this.current);
          this.screen?.windowChanged();
          this.health.title = { state: 'ok', lastCaptureAt: this.health.title?.lastCaptureAt ?? null };
          if (w && w.title) this.observe({ source: 'title', text: w.title, app: w.app, title: w.title, at: new Date() });
        },
        onError: (err) => {
          this.health.title = { state: 'degraded', detail: err.message.slice(0, 200) };
        },
      });
      this.windowSource.start();
      this.health.title = { state: 'ok' };
    } else this.health.title = { state: 'disabled' };
    if (want.screen !== false && process.platform === 'linux' && !process.env.DISPLAY) {
      this.health.screen = { state: 'failed', detail: 'no X display (DISPLAY is not set)' };
      log('error', 'The screen source cannot start: there is no X display (DISPLAY is not set).');
    } else if (want.screen !== false) {
      this.screen = new ScreenSource({
        intervalSeconds: this.options.screenIntervalSeconds ?? 10,
        onText: (t) => {
          this.health.screen = { state: 'ok', lastCaptureAt: this.health.screen?.lastCaptureAt ?? null };
          this.observe({ source: 'screen', text: t.text, unsure: t.unsure, app: this.current.app, title: this.current.title, at: t.at });
        },
        onError: (err) => {
          this.health.screen = { state: 'degraded', detail: err.message.slice(0, 200) };
        },
      });
      this.screen.start();
      this.health.screen = { state: 'ok' };
    } else this.health.screen = { state: 'disabled' };
  }

  status(): AgentStatus {
    return {
      pid: process.pid,
      collector: this.options.collector,
      deviceId: this.credential?.deviceId ?? null,
      link: this.link?.state ?? { state: 'idle', lastError: null, fatal: false },
      sources: this.reportedHealth(),
      outboxDepth: this.outbox?.depth ?? 0,
      droppedEvents: this.outbox?.dropped ?? 0,
      repeatsSuppressed: this.repeatsSuppressed,
      policy: {
        threshold: this.policy.threshold,
        sources: this.policy.sources,
        ageBand: this.policy.ageBand,
        quietHours: this.policy.quietHours,
        // A count, not the names: status.json is readable by anyone on the device.
        usersWithAgeBands: Object.keys(this.policy.userAgeBands ?? {}).length,
      },
      policyError: this.policyError,
      updatedAt: new Date().toISOString(),
    };
  }

  private writeStatus(): void {
    if (!this.outbox) return;
    const file = path.join(this.options.dataDir, 'status.json');
    try {
      writeFileAtomic(file, JSON.stringify(this.status(), null, 2) + '\n', 0o600);
    } catch {
      // status is a convenience for `haven-agent status`; capture goes on without it
    }
  }
}

function safeUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}
