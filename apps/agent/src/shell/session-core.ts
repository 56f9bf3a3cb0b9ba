import type { ShellStatus } from './status-model';

/**
 * What the tray shell needs from the session part's core (apps/agent's session code implements
 * it): the status to show, a way to hear when it changes, and a clean stop. The shell holds no
 * other link to the core and no business logic of its own.
 */
export type SessionCore = {
  status(): ShellStatus;
  /** Calls `cb` whenever the status changes; returns the function that stops it. */
  onChange(cb: (status: ShellStatus) => void): () => void;
  stop(): Promise<void>;
};
