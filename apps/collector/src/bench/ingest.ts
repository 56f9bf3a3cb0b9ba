#!/usr/bin/env node
/**
 * Ingest benchmark: N simulated agents over real WebSockets into a collector (a child
 * process, as deployed) on a real PostgreSQL, against a peer measured in the same run: the
 * same rows inserted straight into PostgreSQL, 1,000 per statement, ON CONFLICT DO NOTHING.
 *
 *   npm run bench -w @haven/collector
 *
 * Settings (environment): DATABASE_URL (an admin URL; a scratch database is made and
 * dropped), BENCH_AGENTS (200), BENCH_BATCHES (10 per agent), BENCH_BATCH_SIZE (100),
 * BENCH_WINDOW (2 batches in flight per agent), BENCH_IDLE (1,000 idle connections).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  encodeMessage,
  parseAgentMessage,
  parseCollectorMessage,
  PROTOCOL_VERSION,
  uuidv7,
  type AgentEvent,
  type EnrollResponse,
} from '@haven/protocol';
import postgres from 'postgres';
import WebSocket from 'ws';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const AGENTS = env('BENCH_AGENTS', 200);
const BATCHES = env('BENCH_BATCHES', 10);
const BATCH_SIZE = env('BENCH_BATCH_SIZE', 100);
const WINDOW = env('BENCH_WINDOW', 2);
const IDLE = env('BENCH_IDLE', 1000);
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const serverJs = path.resolve(__dirname, '..', 'server.js');
const PHRASES = ['i want to hurt myself', 'nobody would miss me', 'send me a pic', 'meet me after school', 'buy weed near me'];

function makeEvent(deviceId: string, i: number): AgentEvent {
  return {
    id: uuidv7(),
    occurredAt: new Date().toISOString(),
    source: (['title', 'keys', 'screen'] as const)[i % 3]!,
    category: 'self_harm',
    severity: (i % 5) + 1,
    ruleIds: ['self_harm.en.method.3', 'boost.first_person'],
    evidence: { match: PHRASES[i % PHRASES.length]!, before: 'some words typed before the phrase ', after: ' and a few after it' },
    app: 'chrome.exe',
    windowTitle: 'New Tab - Google Chrome',
    osUser: `pupil${i % 30}`,
    deviceId,
  };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** CPU seconds used so far by a process (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
  } catch {
    return 0;
  }
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** CPU seconds of every PostgreSQL server process on this machine. */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') total += cpuSeconds(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return total;
}

/** What the collector printed (warnings and errors), shown if the run fails. */
let collectorOutput = '';

/** A refused batch would never be acked: stop the run and say why, instead of waiting forever. */
function failRun(message: string): never {
  process.stderr.write(`bench failed: ${message}\ncollector output (last 4,000 characters):\n${collectorOutput.slice(-4000)}\n`);
  process.exit(1);
}

async function startCollector(databaseUrl: string): Promise<{ child: ChildProcess; url: string; token: string }> {
  const child = spawn(process.execPath, ['--expose-gc', serverJs], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      collectorOutput = out.length > 100_000 ? out.slice(-50_000) : out;
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const token = /hvn_enr_[A-Za-z0-9_-]+/.exec(out)?.[0];
      if (url && token) resolve({ child, url, token });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`collector exited (${code}): ${out}`)));
  });
}

async function enroll(url: string, token: string, n: number): Promise<EnrollResponse> {
  const res = await fetch(`${url}/api/v1/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, hostname: `bench-${n}`, os: { platform: 'linux', release: 'bench' }, agentVersion: 'bench' }),
  });
  if (res.status !== 201) throw new Error(`enroll: ${res.status}`);
  return (await res.json()) as EnrollResponse;
}

type Link = { socket: WebSocket; onAck: Map<string, () => void> };

async function connect(url: string, cred: EnrollResponse): Promise<Link> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/agent`);
  const onAck = new Map<string, () => void>();
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('open', () => {
      socket.send(
        JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, deviceId: cred.deviceId, credential: cred.deviceSecret, agentVersion: 'bench', os: { platform: 'linux', release: 'bench' } }),
      );
    });
    socket.on('message', (data) => {
      const parsed = parseCollectorMessage(data as Buffer);
      if (!parsed.ok) return reject(new Error(parsed.failure.message));
      const m = parsed.message;
      if (m.type === 'hello-ok') resolve();
      else if (m.type === 'hello-rejected') reject(new Error(m.reason));
      else if (m.type === 'ack') onAck.get(m.batchId)?.();
      else if (m.type === 'error') {
        reject(new Error(`collector error ${m.code}`));
        failRun(`the collector answered ${m.code}: ${m.message}`);
      }
    });
  });
  return { socket, onAck };
}

async function withScratchDatabase<T>(run: (url: string) => Promise<T>): Promise<T> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
  const name = `haven_bench_${process.pid}`;
  await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    return await run(url.toString());
  } finally {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
}

/** The peer: the same rows straight into PostgreSQL, 1,000 per INSERT … ON CONFLICT DO NOTHING. */
async function rawInsertRate(databaseUrl: string, deviceId: string, schoolId: string, rows: number): Promise<number> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  try {
    const events = Array.from({ length: rows }, (_, i) => makeEvent(deviceId, i));
    const started = performance.now();
    for (let i = 0; i < events.length; i += 1000) {
      const chunk = events.slice(i, i + 1000).map((e) => ({
        id: e.id,
        device_id: deviceId,
        school_id: schoolId,
        occurred_at: e.occurredAt,
        source: e.source,
        category: e.category,
        severity: e.severity,
        rule_ids: e.ruleIds,
        evidence: sql.json(e.evidence),
        app: e.app,
        window_title: e.windowTitle,
        os_user: e.osUser,
      }));
      await sql`insert into events ${sql(chunk)} on conflict (id) do nothing`;
    }
    return rows / ((performance.now() - started) / 1000);
  } finally {
    await sql.end();
  }
}

/** The ceiling: the same rows through one COPY … FROM STDIN stream (no conflict handling). */
async function copyRate(databaseUrl: string, deviceId: string, schoolId: string, rows: number): Promise<number> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
  try {
    const lines = Array.from({ length: rows }, (_, i) => {
      const e = makeEvent(deviceId, i);
      return [e.id, deviceId, schoolId, e.occurredAt, e.source, e.category, String(e.severity), `{${e.ruleIds.join(',')}}`, esc(JSON.stringify(e.evidence)), esc(e.app ?? ''), esc(e.windowTitle ?? ''), esc(e.osUser)].join('\t');
    });
    const started = performance.now();
    const stream = await sql`copy events (id, device_id, school_id, occurred_at, source, category, severity, rule_ids, evidence, app, window_title, os_user) from stdin`.writable();
    await new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      stream.on('finish', () => resolve());
      for (let i = 0; i < lines.length; i += 1000) stream.write(lines.slice(i, i + 1000).join('\n') + '\n');
      stream.end();
    });
    return rows / ((performance.now() - started) / 1000);
  } finally {
    await sql.end();
  }
}

/** Validation cost alone: how fast the collector's parser reads the same frames. */
function parseRate(frames: string[], events: number): number {
  const started = performance.now();
  for (const f of frames) if (!parseAgentMessage(f).ok) throw new Error('bench frame invalid');
  return events / ((performance.now() - started) / 1000);
}

async function metric(url: string, name: string, gc = false): Promise<number> {
  const text = await (await fetch(`${url}/metrics${gc ? '?gc=1' : ''}`)).text();
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  if (!m) throw new Error(`metric ${name} missing`);
  return Number(m[1]);
}

/** Sends every agent's frames with WINDOW batches in flight; returns ack latencies. */
async function saturate(links: Link[], frames: Array<Array<{ batchId: string; frame: string }>>): Promise<number[]> {
  const latencies: number[] = [];
  await Promise.all(
    links.map(async (link, a) => {
      let next = 0;
      const sendOne = (): Promise<void> => {
        const item = frames[a]![next++];
        if (!item) return Promise.resolve();
        return sendAndWait(link, item, latencies).then(sendOne);
      };
      await Promise.all(Array.from({ length: WINDOW }, sendOne));
    }),
  );
  return latencies;
}

function sendAndWait(link: Link, item: { batchId: string; frame: string }, latencies: number[]): Promise<void> {
  return new Promise<void>((resolve) => {
    const t0 = performance.now();
    link.onAck.set(item.batchId, () => {
      latencies.push(performance.now() - t0);
      link.onAck.delete(item.batchId);
      resolve();
    });
    link.socket.send(item.frame);
  });
}

/** Each agent sends one batch every `intervalMs`, starting at a random offset: a steady offered load. */
async function paced(links: Link[], frames: Array<Array<{ batchId: string; frame: string }>>, intervalMs: number): Promise<number[]> {
  const latencies: number[] = [];
  await Promise.all(
    links.map(async (link, a) => {
      await new Promise((r) => setTimeout(r, Math.random() * intervalMs));
      const pending: Array<Promise<void>> = [];
      const start = performance.now();
      for (let b = 0; b < frames[a]!.length; b++) {
        const due = start + b * intervalMs;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        pending.push(sendAndWait(link, frames[a]![b]!, latencies));
      }
      await Promise.all(pending);
    }),
  );
  return latencies;
}

function buildFrames(creds: EnrollResponse[], batches: number, size: number) {
  return creds.map((c, a) =>
    Array.from({ length: batches }, (_, b) => {
      const batchId = uuidv7();
      const events = Array.from({ length: size }, (_, i) => makeEvent(c.deviceId, a * 7 + b * 3 + i));
      return { batchId, frame: encodeMessage({ type: 'events', batchId, events }) };
    }),
  );
}

async function main(): Promise<void> {
  await withScratchDatabase(async (databaseUrl) => {
    const { child, url, token } = await startCollector(databaseUrl);
    const pid = child.pid!;
    try {
      const creds: EnrollResponse[] = [];
      for (let i = 0; i < AGENTS + IDLE; i++) creds.push(await enroll(url, token, i));
      const loadCreds = creds.slice(0, AGENTS);
      const links = await Promise.all(loadCreds.map((c) => connect(url, c)));

      // 1. Memory per idle authenticated connection, heap after a full collection.
      const heapBefore = (await metric(url, 'process_heap_used_bytes', true)) + (await metric(url, 'process_external_bytes'));
      const rssBefore = rssKiB(pid);
      const idle: Link[] = [];
      for (let i = AGENTS; i < creds.length; i += 100) idle.push(...(await Promise.all(creds.slice(i, i + 100).map((c) => connect(url, c)))));
      await new Promise((r) => setTimeout(r, 500));
      const heapAfter = (await metric(url, 'process_heap_used_bytes', true)) + (await metric(url, 'process_external_bytes'));
      const rssAfter = rssKiB(pid);
      for (const l of idle) l.socket.terminate();

      // 2. Saturation: as fast as the collector acks.
      const frames = buildFrames(loadCreds, BATCHES, BATCH_SIZE);
      const total = AGENTS * BATCHES * BATCH_SIZE;
      const cpu0 = { collector: cpuSeconds(pid), postgres: postgresCpuSeconds(), client: process.cpuUsage() };
      const started = performance.now();
      const latencies = (await saturate(links, frames)).sort((x, y) => x - y);
      const seconds = (performance.now() - started) / 1000;
      const clientCpu = process.cpuUsage(cpu0.client);
      const cpu = {
        collector: cpuSeconds(pid) - cpu0.collector,
        postgres: postgresCpuSeconds() - cpu0.postgres,
        client: (clientCpu.user + clientCpu.system) / 1e6,
      };

      // 3. Steady offered load of PACED_RATE events/s: latency when the collector is not the queue.
      const pacedRate = env('BENCH_PACED_RATE', 20_000);
      const pacedSeconds = env('BENCH_PACED_SECONDS', 10);
      const pacedBatch = 20;
      const intervalMs = (1000 * AGENTS * pacedBatch) / pacedRate;
      const pacedFrames = buildFrames(loadCreds, Math.round((pacedSeconds * 1000) / intervalMs), pacedBatch);
      const pacedTotal = pacedFrames.reduce((n, f) => n + f.length * pacedBatch, 0);
      const pacedStart = performance.now();
      const pacedLatencies = (await paced(links, pacedFrames, intervalMs)).sort((x, y) => x - y);
      const pacedWall = (performance.now() - pacedStart) / 1000;

      const check = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
      const [{ n }] = (await check`select count(*)::int as n from events`) as unknown as [{ n: number }];
      await check.end();
      if (n !== total + pacedTotal) throw new Error(`expected ${total + pacedTotal} rows, found ${n}`);

      // 4. Peers in the same run, on the same database.
      const rawFrames = frames.flat().slice(0, 200).map((f) => f.frame);
      const parsePerSec = parseRate(rawFrames, rawFrames.length * BATCH_SIZE);
      const schoolId = await schoolOf(databaseUrl);
      const peer = await rawInsertRate(databaseUrl, loadCreds[0]!.deviceId, schoolId, 50_000);
      const peerCopy = await copyRate(databaseUrl, loadCreds[0]!.deviceId, schoolId, 50_000);

      const eps = total / seconds;
      const report = {
        agents: AGENTS,
        events: total,
        batchSize: BATCH_SIZE,
        inFlightPerAgent: WINDOW,
        seconds: round(seconds, 2),
        eventsPerSecond: Math.round(eps),
        ackLatencyMs: { p50: round(quantile(latencies, 0.5), 1), p99: round(quantile(latencies, 0.99), 1), max: round(latencies.at(-1)!, 1) },
        cpuSeconds: { collector: round(cpu.collector, 2), postgres: round(cpu.postgres, 2), benchAgents: round(cpu.client, 2), wall: round(seconds, 2) },
        paced: {
          offeredEventsPerSecond: pacedRate,
          achievedEventsPerSecond: Math.round(pacedTotal / pacedWall),
          batchSize: pacedBatch,
          ackLatencyMs: { p50: round(quantile(pacedLatencies, 0.5), 1), p99: round(quantile(pacedLatencies, 0.99), 1), max: round(pacedLatencies.at(-1)!, 1) },
        },
        idleConnection: { heapKiB: round((heapAfter - heapBefore) / 1024 / IDLE, 1), rssKiB: round((rssAfter - rssBefore) / IDLE, 1), connections: IDLE },
        peer: {
          rawPostgresInsertRowsPerSecond: Math.round(peer),
          rawPostgresCopyRowsPerSecond: Math.round(peerCopy),
          collectorParseEventsPerSecond: Math.round(parsePerSec),
        },
        ratios: {
          collectorVsRawInsert: round(eps / peer, 3),
          collectorVsCopy: round(eps / peerCopy, 3),
        },
      };
      for (const l of links) l.socket.terminate();
      printReport(report);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
}

async function schoolOf(databaseUrl: string): Promise<string> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  const [row] = (await sql`select id from schools limit 1`) as unknown as [{ id: string }];
  await sql.end();
  return row.id;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

type Report = {
  agents: number;
  events: number;
  batchSize: number;
  inFlightPerAgent: number;
  seconds: number;
  eventsPerSecond: number;
  ackLatencyMs: { p50: number; p99: number; max: number };
  cpuSeconds: Record<string, number>;
  paced: { offeredEventsPerSecond: number; achievedEventsPerSecond: number; batchSize: number; ackLatencyMs: { p50: number; p99: number; max: number } };
  idleConnection: { heapKiB: number; rssKiB: number; connections: number };
  peer: { rawPostgresInsertRowsPerSecond: number; rawPostgresCopyRowsPerSecond: number; collectorParseEventsPerSecond: number };
  ratios: { collectorVsRawInsert: number; collectorVsCopy: number };
};

function printReport(r: Report): void {
  const lines = [
    `Haven collector ingest — ${r.agents} agents over real WebSockets, collector and PostgreSQL on this machine`,
    `saturation: ${r.events} events in batches of ${r.batchSize}, ${r.inFlightPerAgent} batches in flight per agent`,
    `  throughput            ${r.eventsPerSecond} events/s over ${r.seconds} s`,
    `  batch → ack latency   p50 ${r.ackLatencyMs.p50} ms, p99 ${r.ackLatencyMs.p99} ms, max ${r.ackLatencyMs.max} ms (queueing: the load generator keeps every agent busy)`,
    `  CPU seconds           collector ${r.cpuSeconds.collector}, PostgreSQL ${r.cpuSeconds.postgres}, bench agents ${r.cpuSeconds.benchAgents} (wall ${r.cpuSeconds.wall}, 2 cores)`,
    `steady load: ${r.paced.offeredEventsPerSecond} events/s offered in batches of ${r.paced.batchSize}`,
    `  achieved              ${r.paced.achievedEventsPerSecond} events/s`,
    `  batch → ack latency   p50 ${r.paced.ackLatencyMs.p50} ms, p99 ${r.paced.ackLatencyMs.p99} ms, max ${r.paced.ackLatencyMs.max} ms`,
    `idle agent connection   ${r.idleConnection.heapKiB} KiB heap+external, ${r.idleConnection.rssKiB} KiB RSS (mean of ${r.idleConnection.connections})`,
    `peers in this run (one connection; INSERT 1,000 rows a statement, COPY one stream):`,
    `  INSERT … ON CONFLICT  ${r.peer.rawPostgresInsertRowsPerSecond} rows/s   ratio collector/peer ${r.ratios.collectorVsRawInsert}`,
    `  COPY                  ${r.peer.rawPostgresCopyRowsPerSecond} rows/s   ratio collector/peer ${r.ratios.collectorVsCopy}`,
    `  parse + validate only ${r.peer.collectorParseEventsPerSecond} events/s (the collector's own frame parser, one core)`,
  ];
  process.stdout.write(lines.join('\n') + '\n' + JSON.stringify(r) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
