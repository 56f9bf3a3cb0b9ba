import type { AgentEvent, Policy, SourceHealth } from '@haven/protocol';
import { inQuietHours } from './policy';
import { SOURCE_NAMES, type ForegroundWindow, type Source, type SourceName } from './sources/source';
import { RecentReports } from './transform/repeats';
import { toEvent, type Observation } from './transform/to-event';

export type CaptureLogger = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export type CaptureOptions = {
  sources: Source[];
  /** The policy in force (read at every observation: a pushed policy applies at once). */
  policy: () => Policy;
  /** Who and where: null until the device is enrolled (nothing is kept before). */
  identity: () => { deviceId: string; osUser: string } | null;
  /** A flagged event, to keep: the outbox in one process, the service in a split agent. */
  emit: (event: AgentEvent) => void;
  log: CaptureLogger;
  env?: NodeJS.ProcessEnv;
};

/**
 * The capture half of the agent: the sources, scoring on the device, and the rule that screen
 * text repeating what the title or keys source just reported is not sent twice. Only what is
 * flagged leaves it (through `emit`); everything else is forgotten here.
 */
export class Capture {
  private readonly running: Source[] = [];
  private readonly healthBySource: Partial<Record<SourceName, SourceHealth>> = {};
  private current: ForegroundWindow = { title: null, app: null };
  private readonly recent = new RecentReports();
  private suppressed = 0;

  constructor(private readonly options: CaptureOptions) {}

  start(): void {
    const { log } = this.options;
    const wanted = new Set(this.options.sources.map((s) => s.name));
    for (const name of SOURCE_NAMES) if (!wanted.has(name)) this.healthBySource[name] = { state: 'disabled' };
    for (const source of this.options.sources) {
      const can = source.available(this.options.env ?? process.env);
      if (!can.ok) {
        this.healthBySource[source.name] = { state: 'failed', detail: can.detail };
        log('error', `The ${source.name} source cannot start: ${can.detail}.`);
        continue;
      }
      try {
        this.healthBySource[source.name] = { state: 'ok' };
        source.start(this.contextFor(source));
        this.running.push(source);
      } catch (err) {
        this.healthBySource[source.name] = { state: 'failed', detail: (err as Error).message.slice(0, 200) };
        log('error', `The ${source.name} source could not start: ${(err as Error).message}`);
      }
    }
  }

  async stop(): Promise<void> {
    const stopping = this.running.splice(0).map((s) => s.stop());
    await Promise.all(stopping);
  }

  /** Each source's own health (what the capture code last said). */
  health(): Partial<Record<SourceName, SourceHealth>> {
    return { ...this.healthBySource };
  }

  get repeatsSuppressed(): number {
    return this.suppressed;
  }

  /** Scores an observation and emits it if flagged. Public for tests. */
  observe(obs: Observation): void {
    const policy = this.options.policy();
    if (!policy.sources[obs.source]) return;
    if (inQuietHours(policy, obs.at)) return;
    const identity = this.options.identity();
    if (!identity) return;
    const { event } = toEvent(obs, policy, identity);
    if (!event) return; // below the threshold: nothing is kept, nothing leaves
    if (this.recent.isRepeat(event, Date.now())) {
      // The same words in the same window were reported moments ago by the title or keys source.
      this.suppressed++;
      return;
    }
    this.healthBySource[obs.source] = { state: 'ok', lastCaptureAt: event.occurredAt };
    this.options.log('info', 'Captured a flagged item.', { category: event.category, severity: event.severity, source: event.source, rules: event.ruleIds.slice(0, 3) });
    this.options.emit(event);
  }

  private contextFor(source: Source) {
    return {
      observe: (obs: Observation) => this.observe(obs),
      health: (h: SourceHealth) => {
        const last = this.healthBySource[source.name]?.lastCaptureAt ?? null;
        this.healthBySource[source.name] = { ...h, lastCaptureAt: h.lastCaptureAt ?? last };
      },
      setWindow: (w: ForegroundWindow) => {
        this.current = w;
        for (const other of this.running) if (other !== source) other.windowChanged?.(w);
      },
      window: () => this.current,
      ocrLanguages: () => this.options.policy().ocrLanguages ?? ['eng'],
      log: (level: 'info' | 'warn' | 'error', message: string) => this.options.log(level, message),
    };
  }
}
