import type { z } from 'zod';
import {
  AGENT_MESSAGE_TYPES,
  CollectorMessageSchema,
  type AgentMessage,
  type CollectorMessage,
  EventsSchema,
  HeartbeatSchema,
  HelloSchema,
} from './messages';
import { LIMITS, PROTOCOL_VERSION } from './limits';

/**
 * Why a frame could not be read. Messages name fields and rules, never field values, so they
 * are safe to log and to send back: a frame may carry captured text.
 */
export type ParseFailure =
  | { kind: 'too-big'; message: string }
  | { kind: 'malformed'; message: string }
  | { kind: 'unknown-type'; type: string; message: string }
  | { kind: 'unsupported-protocol'; protocol: number; message: string }
  | { kind: 'invalid'; type: string; message: string; batchId?: string; index?: number };

export type ParseResult<T> = { ok: true; message: T } | { ok: false; failure: ParseFailure };

type RawData = string | Buffer | ArrayBuffer | Buffer[];

/** The frame as JSON, or why not: over the frame limit, or not JSON at all. */
function readJson(data: RawData): { ok: true; value: unknown } | { ok: false; failure: ParseFailure } {
  const buf = typeof data === 'string' ? null : Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  const bytes = buf ? buf.length : Buffer.byteLength(data as string, 'utf8');
  if (bytes > LIMITS.maxFrameBytes) {
    return { ok: false, failure: { kind: 'too-big', message: `frame exceeds ${LIMITS.maxFrameBytes} bytes` } };
  }
  try {
    return { ok: true, value: JSON.parse(buf ? buf.toString('utf8') : (data as string)) };
  } catch {
    return { ok: false, failure: { kind: 'malformed', message: 'frame is not valid JSON' } };
  }
}

function describe(error: z.ZodError): { message: string; path: PropertyKey[] } {
  const issue = error.issues[0];
  if (!issue) return { message: 'invalid message', path: [] };
  const where = issue.path.length ? issue.path.map(String).join('.') : 'message';
  return { message: `${where}: ${issue.message}`, path: issue.path };
}

const agentSchemas = { hello: HelloSchema, events: EventsSchema, heartbeat: HeartbeatSchema } as const;

/** Reads one frame from an agent. Never throws. */
export function parseAgentMessage(data: RawData): ParseResult<AgentMessage> {
  const json = readJson(data);
  if (!json.ok) return json;
  const value = json.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, failure: { kind: 'malformed', message: 'frame is not a JSON object' } };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') {
    return { ok: false, failure: { kind: 'malformed', message: 'frame has no string "type"' } };
  }
  if (!(AGENT_MESSAGE_TYPES as readonly string[]).includes(type)) {
    return {
      ok: false,
      failure: { kind: 'unknown-type', type: type.slice(0, 64), message: `unknown message type` },
    };
  }
  if (type === 'hello') {
    // Checked before the schema: another version's hello may have another shape.
    const protocol = (value as { protocol?: unknown }).protocol;
    if (typeof protocol === 'number' && protocol !== PROTOCOL_VERSION) {
      return {
        ok: false,
        failure: { kind: 'unsupported-protocol', protocol, message: `protocol ${protocol} is not supported; this collector speaks ${PROTOCOL_VERSION}` },
      };
    }
  }
  const schema = agentSchemas[type as keyof typeof agentSchemas];
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, message: parsed.data as AgentMessage };
  const { message, path } = describe(parsed.error);
  const failure: ParseFailure = { kind: 'invalid', type, message };
  if (type === 'events') {
    const batchId = (value as { batchId?: unknown }).batchId;
    if (typeof batchId === 'string' && EventsSchema.shape.batchId.safeParse(batchId).success) {
      failure.batchId = batchId;
    }
    if (path[0] === 'events' && typeof path[1] === 'number') failure.index = path[1];
  }
  return { ok: false, failure };
}

/** Reads one frame from the collector. Never throws. */
export function parseCollectorMessage(data: RawData): ParseResult<CollectorMessage> {
  const json = readJson(data);
  if (!json.ok) return json;
  const value = json.value;
  const parsed = CollectorMessageSchema.safeParse(value);
  if (parsed.success) return { ok: true, message: parsed.data };
  const type = typeof (value as { type?: unknown })?.type === 'string' ? String((value as { type: string }).type) : '';
  return { ok: false, failure: { kind: 'invalid', type: type.slice(0, 64), message: describe(parsed.error).message } };
}

/** Serialises a message, refusing one that would break the frame limit. */
export function encodeMessage(message: AgentMessage | CollectorMessage): string {
  const text = JSON.stringify(message);
  if (Buffer.byteLength(text, 'utf8') > LIMITS.maxFrameBytes) {
    throw new RangeError(`message of type ${message.type} exceeds ${LIMITS.maxFrameBytes} bytes`);
  }
  return text;
}
