import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { AgentEvent } from '@haven/protocol';
import { writeFileAtomic } from '../atomic-file';

/**
 * The agent's outbox: flagged events waiting for the collector's ack, in one append-only file.
 *
 *   append ──fsync──► pending ──send──► (collector) ──ack──► removed
 *                        │
 *                        └─ full: the lowest-severity, oldest event below 4 is dropped
 *
 * An event counts as captured only once `append` has returned: its record is written and
 * fsync'd, so it survives kill -9 and power loss. Each record is framed
 *
 *   0xA5 | length (u32 LE) | CRC-32 of the payload (u32 LE) | payload (JSON, UTF-8)
 *
 * and a payload is `{"k":"e","event":…}` (an event), `{"k":"a","ids":[…]}` (acked) or
 * `{"k":"d","ids":[…]}` (dropped to stay within the bound); a compacted file starts with
 * `{"k":"s","dropped":n}` so the drop count survives. At open, records are read until
 * the first that is torn or corrupt; the file is cut there, and what came before is kept.
 * Flagged events are rare (a few an hour), so a synchronous fsync per append costs nothing a
 * pupil would notice, and keeps the order of writes obvious.
 */

const MAGIC = 0xa5;
const HEADER = 9;
/** A record larger than this cannot be ours: the length field is corrupt. */
const MAX_RECORD = 1 << 20;

export type OutboxOptions = {
  /** The agent's data directory; the outbox is `outbox.log` in it. */
  dir: string;
  /** Most pending events kept; beyond it the lowest-severity, oldest event below 4 goes. */
  maxEvents?: number;
  /** Rewrite the file when this many bytes are dead (acked or dropped) and they outweigh the live ones. */
  compactAfterBytes?: number;
};

/** What opening found: how many events are pending and what was cut from a damaged tail. */
export type OutboxRecovery = { pending: number; truncatedBytes: number; reason: string | null };

type Record = { k: 'e'; event: AgentEvent } | { k: 'a'; ids: string[] } | { k: 'd'; ids: string[] } | { k: 's'; dropped: number };

export class OutboxError extends Error {
  constructor(
    message: string,
    /** A fatal error leaves the outbox unusable; the agent must stop capturing. */
    readonly fatal: boolean,
  ) {
    super(message);
    this.name = 'OutboxError';
  }
}

export class Outbox {
  private fd: number;
  private size = 0;
  private liveBytes = 0;
  private readonly pendingById = new Map<string, { event: AgentEvent; bytes: number }>();
  /** Per severity 0–3, ids in arrival order; ids no longer pending are skipped lazily. */
  private readonly bySeverity: string[][] = [[], [], [], []];
  private droppedTotal = 0;
  readonly recovery: OutboxRecovery;
  private readonly file: string;
  private readonly maxEvents: number;
  private readonly compactAfterBytes: number;

  constructor(options: OutboxOptions) {
    this.file = path.join(options.dir, 'outbox.log');
    this.maxEvents = options.maxEvents ?? 50_000;
    this.compactAfterBytes = options.compactAfterBytes ?? 4 * 1024 * 1024;
    this.fd = openSync(this.file, existsSync(this.file) ? 'r+' : 'w+', 0o600);
    this.recovery = this.load();
  }

  /** Events waiting for an ack, oldest first. */
  get depth(): number {
    return this.pendingById.size;
  }

  /** Events dropped to stay within the bound, since this outbox file began. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Up to `limit` pending events, oldest first, skipping ids in `exclude` (already in flight). */
  pending(limit: number, exclude?: ReadonlySet<string>): AgentEvent[] {
    const out: AgentEvent[] = [];
    for (const [id, p] of this.pendingById) {
      if (out.length >= limit) break;
      if (!exclude?.has(id)) out.push(p.event);
    }
    return out;
  }

  /**
   * Writes events durably. Returns once they are on disk; an event whose id is already pending
   * is not written twice. When the outbox is full, events below severity 4 make room, lowest
   * severity and oldest first — possibly the new event itself.
   */
  append(events: readonly AgentEvent[]): void {
    const fresh = events.filter((e) => !this.pendingById.has(e.id));
    if (fresh.length === 0) return;
    const records = fresh.map((event) => encode({ k: 'e', event }));
    this.write(Buffer.concat(records), true);
    fresh.forEach((event, i) => this.track(event, records[i]!.length));
    this.enforceBound();
  }

  /**
   * Removes events that will never be delivered (the collector refused them as invalid) and
   * counts them as dropped, so heartbeats tell the school that something was lost.
   */
  discard(ids: readonly string[]): void {
    const known = ids.filter((id) => this.pendingById.has(id));
    if (known.length === 0) return;
    this.write(encode({ k: 'd', ids: known }), true);
    for (const id of known) this.forget(id);
    this.droppedTotal += known.length;
    this.maybeCompact();
  }

  /** Removes acked events. Not fsync'd: after a crash they are sent again, and the collector drops repeats by id. */
  ack(ids: readonly string[]): void {
    const known = ids.filter((id) => this.pendingById.has(id));
    if (known.length === 0) return;
    this.write(encode({ k: 'a', ids: known }), false);
    for (const id of known) this.forget(id);
    this.maybeCompact();
  }

  close(): void {
    closeSync(this.fd);
  }

  private track(event: AgentEvent, bytes: number): void {
    this.pendingById.set(event.id, { event, bytes });
    this.liveBytes += bytes;
    if (event.severity < 4) this.bySeverity[event.severity]!.push(event.id);
  }

  private forget(id: string): void {
    const p = this.pendingById.get(id);
    if (!p) return;
    this.pendingById.delete(id);
    this.liveBytes -= p.bytes;
  }

  private enforceBound(): void {
    const victims: string[] = [];
    while (this.pendingById.size - victims.length > this.maxEvents) {
      const id = this.nextVictim(new Set(victims));
      if (id === null) break; // only severity 4 and 5 left: they are never dropped
      victims.push(id);
    }
    if (victims.length === 0) return;
    this.write(encode({ k: 'd', ids: victims }), true);
    for (const id of victims) this.forget(id);
    this.droppedTotal += victims.length;
    this.maybeCompact();
  }

  private nextVictim(taken: ReadonlySet<string>): string | null {
    for (const queue of this.bySeverity) {
      while (queue.length > 0 && !this.pendingById.has(queue[0]!)) queue.shift();
      for (const id of queue) if (!taken.has(id)) return id;
    }
    return null;
  }

  private write(buf: Buffer, sync: boolean): void {
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off, this.size + off);
    this.size += buf.length;
    if (sync) fsyncSync(this.fd);
  }

  /** Reads every intact record; cuts the file at the first torn or corrupt one. */
  private load(): OutboxRecovery {
    const total = fstatSync(this.fd).size;
    const data = Buffer.alloc(total);
    let got = 0;
    while (got < total) {
      const n = readSync(this.fd, data, got, total - got, got);
      if (n === 0) break;
      got += n;
    }
    let off = 0;
    let reason: string | null = null;
    while (off < got) {
      if (got - off < HEADER) {
        reason = 'a record header was cut short';
        break;
      }
      const len = data.readUInt32LE(off + 1);
      if (data[off] !== MAGIC || len > MAX_RECORD) {
        reason = 'a record header is corrupt';
        break;
      }
      if (got - off - HEADER < len) {
        reason = 'the last record was cut short';
        break;
      }
      const payload = data.subarray(off + HEADER, off + HEADER + len);
      if (crc32(payload) !== data.readUInt32LE(off + 5)) {
        reason = 'a record failed its checksum';
        break;
      }
      let rec: Record;
      try {
        rec = JSON.parse(payload.toString('utf8')) as Record;
      } catch {
        reason = 'a record is not valid JSON';
        break;
      }
      this.apply(rec, HEADER + len);
      off += HEADER + len;
    }
    this.size = off;
    const truncatedBytes = total - off;
    if (truncatedBytes > 0) {
      ftruncateSync(this.fd, off);
      fsyncSync(this.fd);
    }
    return { pending: this.pendingById.size, truncatedBytes, reason };
  }

  private apply(rec: Record, bytes: number): void {
    if (rec.k === 'e') {
      if (!this.pendingById.has(rec.event.id)) this.track(rec.event, bytes);
    } else if (rec.k === 's') {
      this.droppedTotal = rec.dropped;
    } else {
      for (const id of rec.ids) this.forget(id);
      if (rec.k === 'd') this.droppedTotal += rec.ids.length;
    }
  }

  /** Rewrites the file with only pending events once dead records outweigh live ones. */
  private maybeCompact(): void {
    const dead = this.size - this.liveBytes;
    if (dead < this.compactAfterBytes || dead < this.liveBytes) return;
    const parts = [...this.pendingById.values()].map((p) => encode({ k: 'e', event: p.event }));
    try {
      writeFileAtomic(this.file, Buffer.concat([encode({ k: 's', dropped: this.droppedTotal }), ...parts]), 0o600);
    } catch (err) {
      throw new OutboxError(`could not compact the outbox: ${(err as Error).message}`, false);
    }
    closeSync(this.fd);
    this.fd = openSync(this.file, 'r+');
    this.size = fstatSync(this.fd).size;
    this.liveBytes = this.size;
  }
}

function encode(rec: Record): Buffer {
  const payload = Buffer.from(JSON.stringify(rec), 'utf8');
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out[0] = MAGIC;
  out.writeUInt32LE(payload.length, 1);
  out.writeUInt32LE(crc32(payload), 5);
  payload.copy(out, HEADER);
  return out;
}
