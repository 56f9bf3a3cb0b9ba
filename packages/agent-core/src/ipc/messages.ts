import { EventSchema, PolicySchema, SourceHealthSchema } from '@haven/protocol';
import { z } from 'zod';

/**
 * The local IPC between a user's session part and the machine's service (a Unix socket, on
 * Windows a named pipe): one JSON object per line. The service never believes what a session
 * part says about who it is — it reads the OS user from the connection (peer credentials) and
 * stamps every event with it.
 */
export const IPC_VERSION = 1;
/** A line longer than this is refused and the connection closed (a batch of flagged events fits easily). */
export const MAX_IPC_LINE_BYTES = 1024 * 1024;
export const MAX_IPC_EVENTS = 200;

const sourceHealth = z.record(z.enum(['title', 'keys', 'screen']), SourceHealthSchema);

export const SessionMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), ipc: z.literal(IPC_VERSION), agentVersion: z.string().max(64) }),
  z.object({ type: z.literal('events'), events: z.array(z.unknown()).min(1).max(MAX_IPC_EVENTS) }),
  z.object({ type: z.literal('health'), sources: sourceHealth }),
]);
export type SessionMessage = z.infer<typeof SessionMessageSchema>;

export const LinkViewSchema = z.object({
  state: z.enum(['online', 'connecting', 'offline', 'refused', 'unknown']),
  lastDeliveryAt: z.string().nullable(),
});
export type LinkView = z.infer<typeof LinkViewSchema>;

export const ServiceMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('welcome'),
    ipc: z.literal(IPC_VERSION),
    /** The OS account the service identified this connection as (from the kernel, not from the session part). */
    osUser: z.string(),
    deviceId: z.string().nullable(),
    policy: PolicySchema,
    notice: z.object({ school: z.string().nullable(), transparencyUrl: z.string().nullable() }),
    link: LinkViewSchema,
  }),
  z.object({ type: z.literal('policy'), policy: PolicySchema }),
  z.object({ type: z.literal('link'), link: LinkViewSchema }),
  /** These events are in the service's outbox (on disk): the session part may forget them. */
  z.object({ type: z.literal('stored'), ids: z.array(z.string()) }),
  /** Events the service refused, by index, with why (never their content). */
  z.object({ type: z.literal('refused'), ids: z.array(z.string()), message: z.string() }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type ServiceMessage = z.infer<typeof ServiceMessageSchema>;

/** The event as the service re-checks it before it enters the outbox. */
export const IpcEventSchema = EventSchema;

/**
 * Splits a byte stream into lines, refusing one longer than the limit (the connection is then
 * closed by the caller). Returns the complete lines; keeps the rest.
 */
export class LineReader {
  private buffered: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxBytes = MAX_IPC_LINE_BYTES) {}

  push(chunk: Buffer): { lines: string[]; overflow: boolean } {
    const lines: string[] = [];
    let start = 0;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, start)) {
      const part = chunk.subarray(start, i);
      if (this.size + part.length > this.maxBytes) return { lines, overflow: true };
      this.buffered.push(part);
      lines.push(Buffer.concat(this.buffered).toString('utf8'));
      this.buffered = [];
      this.size = 0;
      start = i + 1;
    }
    const rest = chunk.subarray(start);
    if (this.size + rest.length > this.maxBytes) return { lines, overflow: true };
    if (rest.length > 0) {
      this.buffered.push(Buffer.from(rest));
      this.size += rest.length;
    }
    return { lines, overflow: false };
  }
}

export function encodeLine(message: object): string {
  return JSON.stringify(message) + '\n';
}
