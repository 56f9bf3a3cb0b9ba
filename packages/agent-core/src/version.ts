/** The agent's version, as hello and heartbeats report it. */
export const AGENT_VERSION = '0.1.0';

/** Log lines: what happened, never what was captured. */
export type Logger = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
