import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import type { Policy, SourceHealth } from '@haven/protocol';
import { writeFileAtomic } from './atomic-file';
import { obtainCredential, type Credential } from './link/credential';
import { Link, type LinkStatus } from './link/link';
import { Outbox } from './outbox/outbox';
import { DEFAULT_POLICY, policyHealth } from './policy';
import { PolicyStore } from './policy-store';
import { Capture } from './capture';
import { defaultSources, type Source } from './sources/source';
import type { Observation } from './transform/to-event';

import { AGENT_VERSION, type Logger } from './version';
import { warmScorer } from './warm';

export { AGENT_VERSION, type Logger };

export type AgentOptions = {
  collector: string;
  enrollToken?: string;
  dataDir: string;
  log: Logger;
  /** Which sources to run here (tests and platforms without one turn some off). */
  sources?: { window?: boolean; keys?: boolean; screen?: boolean };
  /** Seconds between periodic screen captures (default 10). */
  screenIntervalSeconds?: number;
  /** The capture sources (default: this platform's, as `sources` selects). */
  sourceList?: Source[];
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
  private capture: Capture | null = null;
  private policies!: PolicyStore;
  private credential: Credential | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private readonly osUser = safeUser();

  constructor(private readonly options: AgentOptions) {}

  async start(): Promise<void> {
    const { dataDir, log } = this.options;
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.outbox = new Outbox({ dir: dataDir });
    const r = this.outbox.recovery;
    if (r.truncatedBytes > 0) log('warn', `The outbox had a damaged tail (${r.reason}); ${r.truncatedBytes} bytes were cut and ${r.pending} events kept.`);
    this.policies = new PolicyStore(dataDir, log);
    await this.policies.start(() => {
      if (!this.policies.error) log('info', 'The policy file changed; the new policy is in force.', { threshold: this.policy.threshold });
      this.writeStatus();
    });

    warmScorer();

    this.credential = await this.obtainCredential();
    this.link = new Link({
      credential: this.credential,
      outbox: this.outbox,
      agentVersion: AGENT_VERSION,
      health: () => this.reportedHealth(),
      backoff: this.options.backoff,
      log: (level, message) => log(level, message),
      onPolicy: (policy) => {
        this.policies.save(policy);
        log('info', 'A new policy from the collector is in force.');
      },
      onStatus: () => this.writeStatus(),
    });
    this.link.start();
    const want = this.options.sources ?? {};
    this.capture = new Capture({
      sources: this.options.sourceList ?? defaultSources({ title: want.window, keys: want.keys, screen: want.screen }, { screenIntervalSeconds: this.options.screenIntervalSeconds }),
      policy: () => this.policy,
      identity: () => (this.credential ? { deviceId: this.credential.deviceId, osUser: this.osUser } : null),
      emit: (event) => {
        this.outbox.append([event]);
        this.link?.notify();
      },
      log,
    });
    this.capture.start();
    this.statusTimer = setInterval(() => this.writeStatus(), 2000);
    this.statusTimer.unref();
    this.writeStatus();
  }

  stop(): void {
    this.policies?.stop();
    void this.capture?.stop();
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
    return policyHealth(this.policy, this.capture?.health() ?? {}, now);
  }

  /** Scores an observation and keeps it if flagged. Public for tests. */
  observe(obs: Observation): void {
    this.capture?.observe(obs);
  }

  private obtainCredential(): Promise<Credential> {
    const { dataDir, collector, enrollToken, log } = this.options;
    return obtainCredential({ dataDir, collector, enrolToken: enrollToken ?? null, agentVersion: AGENT_VERSION, log });
  }

  private get policy(): Policy {
    return this.policies?.policy ?? DEFAULT_POLICY;
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
      repeatsSuppressed: this.capture?.repeatsSuppressed ?? 0,
      policy: {
        threshold: this.policy.threshold,
        sources: this.policy.sources,
        ageBand: this.policy.ageBand,
        quietHours: this.policy.quietHours,
        // A count, not the names: status.json is readable by anyone on the device.
        usersWithAgeBands: Object.keys(this.policy.userAgeBands ?? {}).length,
      },
      policyError: this.policies?.error ?? null,
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
