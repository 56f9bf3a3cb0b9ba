import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Policy } from '@haven/protocol';
import { DEFAULT_POLICY, POLICY_FILE, readPolicy, writePolicy } from './policy';
import type { Logger } from './version';

/**
 * The policy in force, from `policy.json` in the data dir, watched: a technician's edit, or a
 * policy the collector pushed and `save` wrote atomically, takes effect without a restart. A
 * file that cannot be read is reported once and the policy in force is kept.
 */
export class PolicyStore {
  policy: Policy = DEFAULT_POLICY;
  error: string | null = null;
  private watcher: FSWatcher | null = null;

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  /** Reads the file, then watches it; `onChange` runs after each change the watcher sees. */
  async start(onChange: () => void): Promise<void> {
    this.reload();
    const watcher = watch(this.dir, { depth: 0, ignoreInitial: true });
    this.watcher = watcher;
    watcher.on('all', (_event, file) => {
      if (path.basename(file) !== POLICY_FILE) return;
      this.reload();
      onChange();
    });
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  /** Keeps a policy the collector pushed, and puts it in force now. */
  save(policy: Policy): void {
    writePolicy(this.dir, policy);
    this.reload();
  }

  stop(): void {
    void this.watcher?.close();
    this.watcher = null;
  }

  private reload(): void {
    const read = readPolicy(this.dir, this.policy);
    this.policy = read.policy;
    if (read.error && read.error !== this.error) this.log('error', `${read.error}; keeping the policy in force.`);
    this.error = read.error;
  }
}
