/**
 * Agent benchmark: `npm run bench -w @haven/agent-core` (needs the X tools of the tests).
 *
 * - CPU share and RSS of the agent as installed — the service plus one session part, summed —
 *   and of the single-process `haven-agent run`, idle and while xdotool types at 60 words a
 *   minute for 60 s with a window switch every 10 s; the same for a bare Node process in the
 *   same run, as the peer.
 * - OCR time per 1920×1080 screen (median, p95), CPU share during OCR, and word error rate on
 *   screens of known text rendered with ImageMagick.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Ocr } from '../src/sources/screen/ocr';
import { Desktop } from '../test/support/desktop';
import { AgentProcess, CollectorProcess, freePort } from '../test/support/processes';

const run = promisify(execFile);
const TICKS = 100; // USER_HZ on Linux
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const out = (line: string) => process.stdout.write(line + '\n');

/**
 * CPU seconds (user + system), RSS and PSS (MiB) of a process, from /proc. PSS divides each
 * shared page (the Node binary, shared libraries) among the processes mapping it, so PSS adds
 * up across the service and its session parts where RSS counts shared pages twice.
 */
function sample(pid: number): { cpu: number; rssMiB: number; pssMiB: number; ussMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[11]) + Number(fields[12])) / TICKS;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
  return { cpu, rssMiB: rss ? Number(rss[1]) / 1024 : NaN, pssMiB: kb('Pss') / 1024, ussMiB: (kb('Private_Clean') + kb('Private_Dirty')) / 1024 };
}

type Measured = { cpuPct: number; rssMiB: number; pssMiB: number; ussMiB: number };

/** Mean CPU % of one core and peak RSS and PSS over a phase, sampled every second. */
async function measure(pids: number[], seconds: number, during?: () => Promise<void>): Promise<Measured[]> {
  const start = pids.map(sample);
  const t0 = Date.now();
  const peaks = pids.map(() => ({ rss: 0, pss: 0, uss: 0 }));
  const work = during ? during() : Promise.resolve();
  while (Date.now() - t0 < seconds * 1000) {
    await sleep(1000);
    pids.forEach((pid, i) => {
      const s = sample(pid);
      peaks[i] = { rss: Math.max(peaks[i]!.rss, s.rssMiB), pss: Math.max(peaks[i]!.pss, s.pssMiB), uss: Math.max(peaks[i]!.uss, s.ussMiB) };
    });
  }
  await work;
  const wall = (Date.now() - t0) / 1000;
  return pids.map((pid, i) => ({ cpuPct: ((sample(pid).cpu - start[i]!.cpu) / wall) * 100, rssMiB: peaks[i]!.rss, pssMiB: peaks[i]!.pss, ussMiB: peaks[i]!.uss }));
}

const SENTENCES = [
  'the homework for tomorrow is chapter four of the history book',
  'are we meeting at the park after school or at the library',
  'i think the answer to question three is forty two',
  'my mum says i can come to the match on saturday',
];

/** Types at 60 wpm (200 ms a key) for about a minute, switching window every sentence. */
async function typeLikeAPupil(desktop: Desktop): Promise<void> {
  for (let i = 0; i < 6; i++) {
    await desktop.x('xdotool', ['search', '--name', `Notes ${(i % 2) + 1}`, 'windowactivate']).catch(() => desktop.openWindow(`Notes ${(i % 2) + 1}`));
    await desktop.type(SENTENCES[i % SENTENCES.length]!.slice(0, 50), 200);
    await desktop.key('Return');
  }
}

/** The agent as a school installs it: the service and one session part, measured together. */
async function splitPhase(desktop: Desktop, collectorUrl: string, token: string, dir: string, sources: string): Promise<void> {
  await desktop.openWindow('Notes 1');
  const conf = path.join(dir, `split-${sources}.conf`);
  const socket = path.join(dir, `split-${sources}.sock`);
  writeFileSync(conf, `collector = ${collectorUrl}\nenrol_token = ${token}\ndata_dir = ${path.join(dir, `split-${sources}`)}\nsocket = ${socket}\n`, { mode: 0o600 });
  // Enrol once, then measure the service as it runs after every boot: already enrolled.
  const enrolling = AgentProcess.serviceAsInstalled(['--config', conf], {});
  await enrolling.waitForLog('Listening for session parts.', 30_000);
  await enrolling.kill();
  const service = AgentProcess.serviceAsInstalled(['--config', conf], {});
  await service.waitForLog('Listening for session parts.', 30_000);
  const session = AgentProcess.start(['--socket', socket, '--sources', sources], { DISPLAY: desktop.display }, 'session');
  await session.waitForLog('Connected to the Haven service.', 30_000);
  const peer = AgentProcess.peer();
  await sleep(10_000);
  const [idleSvc, idleSes, idlePeer] = await measure([service.pid, session.pid, peer.pid], 20);
  await desktop.openWindow('Notes 2');
  const [typeSvc, typeSes, typePeer] = await measure([service.pid, session.pid, peer.pid], 60, () => typeLikeAPupil(desktop));
  const sum = (a: Measured, b: Measured): Measured => ({ cpuPct: a.cpuPct + b.cpuPct, rssMiB: a.rssMiB + b.rssMiB, pssMiB: a.pssMiB + b.pssMiB, ussMiB: a.ussMiB + b.ussMiB });
  // The pair's own memory: what each holds privately, plus the shared pages (the Node binary,
  // libraries) once — the larger process's shared set, which contains the other's.
  const pair = (a: Measured, b: Measured) => a.ussMiB + b.ussMiB + Math.max(a.rssMiB - a.ussMiB, b.rssMiB - b.ussMiB);
  const idle = sum(idleSvc!, idleSes!);
  const typing = sum(typeSvc!, typeSes!);
  out(`  service (already enrolled, as after a reboot) + session part (sources: ${sources}) — targets: idle < 0.5 %, typing < 2 % of a core, RSS < 150 MB`);
  out(`    idle 20 s          CPU ${idle.cpuPct.toFixed(2)} % of a core (service ${idleSvc!.cpuPct.toFixed(2)}, session ${idleSes!.cpuPct.toFixed(2)}), RSS ${idle.rssMiB.toFixed(0)} MiB (${idleSvc!.rssMiB.toFixed(0)} + ${idleSes!.rssMiB.toFixed(0)}), private ${idle.ussMiB.toFixed(0)} MiB, the pair with shared pages once ${pair(idleSvc!, idleSes!).toFixed(0)} MiB   (bare node: ${idlePeer!.cpuPct.toFixed(2)} %, ${idlePeer!.rssMiB.toFixed(0)} MiB)`);
  out(`    typing 60 s        CPU ${typing.cpuPct.toFixed(2)} % of a core (service ${typeSvc!.cpuPct.toFixed(2)}, session ${typeSes!.cpuPct.toFixed(2)}), RSS ${typing.rssMiB.toFixed(0)} MiB (${typeSvc!.rssMiB.toFixed(0)} + ${typeSes!.rssMiB.toFixed(0)}), private ${typing.ussMiB.toFixed(0)} MiB, the pair with shared pages once ${pair(typeSvc!, typeSes!).toFixed(0)} MiB   (bare node: ${typePeer!.cpuPct.toFixed(2)} %, ${typePeer!.rssMiB.toFixed(0)} MiB)`);
  out(`    RSS ratio to bare node: idle ${(idle.rssMiB / idlePeer!.rssMiB).toFixed(1)}×, typing ${(typing.rssMiB / typePeer!.rssMiB).toFixed(1)}×`);
  await session.kill();
  await service.kill();
  await peer.kill();
}

async function agentPhase(desktop: Desktop, collectorUrl: string, token: string, dir: string, sources: string): Promise<void> {
  await desktop.openWindow('Notes 1');
  const conf = path.join(dir, `agent-${sources}.conf`);
  writeFileSync(conf, `collector = ${collectorUrl}\nenrol_token = ${token}\n`, { mode: 0o600 });
  const agent = AgentProcess.start(['--config', conf, '--data-dir', path.join(dir, `agent-${sources}`), '--sources', sources], { DISPLAY: desktop.display });
  await agent.waitForLog('Connected to the collector.', 30_000);
  const peer = AgentProcess.peer();
  await sleep(10_000); // start-up (lexicon compile, first window, first screen) settles
  const [idleAgent, idlePeer] = await measure([agent.pid, peer.pid], 20);
  await desktop.openWindow('Notes 2');
  const [typeAgent, typePeer] = await measure([agent.pid, peer.pid], 60, () => typeLikeAPupil(desktop));
  out(`  one process, haven-agent run (sources: ${sources})`);
  out(`    idle 20 s          CPU ${idleAgent!.cpuPct.toFixed(2)} % of a core, RSS ${idleAgent!.rssMiB.toFixed(0)} MiB   (bare node: ${idlePeer!.cpuPct.toFixed(2)} %, ${idlePeer!.rssMiB.toFixed(0)} MiB)`);
  out(`    typing 60 s        CPU ${typeAgent!.cpuPct.toFixed(2)} % of a core, RSS ${typeAgent!.rssMiB.toFixed(0)} MiB   (bare node: ${typePeer!.cpuPct.toFixed(2)} %, ${typePeer!.rssMiB.toFixed(0)} MiB)`);
  out(`    RSS ratio to bare node: idle ${(idleAgent!.rssMiB / idlePeer!.rssMiB).toFixed(1)}×, typing ${(typeAgent!.rssMiB / typePeer!.rssMiB).toFixed(1)}×`);
  await agent.kill();
  await peer.kill();
}

const PARAGRAPHS = [
  'Keeping children safe in education means that schools must have appropriate filtering and monitoring in place.',
  'The designated safeguarding lead reviews concerns every day and decides whether to refer them to children’s social care.',
  'Pupils are told that their school devices are monitored and that the information is used only to keep them safe.',
  'Year nine will study the causes of the First World War, including the alliance system and the assassination in Sarajevo.',
];

function wordErrorRate(reference: string, hypothesis: string): number {
  const r = reference.toLowerCase().replace(/[^a-z0-9’' ]/g, ' ').split(/\s+/).filter(Boolean);
  const h = hypothesis.toLowerCase().replace(/[^a-z0-9’' ]/g, ' ').split(/\s+/).filter(Boolean);
  const d = Array.from({ length: r.length + 1 }, (_, i) => [i, ...Array<number>(h.length).fill(0)]);
  for (let j = 1; j <= h.length; j++) d[0]![j] = j;
  for (let i = 1; i <= r.length; i++) {
    for (let j = 1; j <= h.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (r[i - 1] === h[j - 1] ? 0 : 1));
    }
  }
  return d[r.length]![h.length]! / Math.max(1, r.length);
}

async function ocrPhase(dir: string): Promise<void> {
  const ocr = new Ocr();
  const times: number[] = [];
  const wers: number[] = [];
  let cpu = 0;
  let wall = 0;
  for (const [k, lines] of [1, 8, 24].entries()) {
    // A 1920×1080 screen with `lines` lines of known text in a 20-point sans font.
    const text = Array.from({ length: lines }, (_, i) => PARAGRAPHS[i % PARAGRAPHS.length]!.slice(0, 110)).join('\n');
    const file = path.join(dir, `screen-${k}.png`);
    await run('convert', ['-size', '1920x1080', 'xc:white', '-font', 'DejaVu-Sans', '-pointsize', '20', '-fill', 'black', '-annotate', '+40+40', text, '-colorspace', 'Gray', file]);
    const image = readFileSync(file);
    await ocr.read(image); // warm the worker (first job loads the language data)
    for (let i = 0; i < 5; i++) {
      const c0 = process.cpuUsage();
      const t0 = Date.now();
      const got = await ocr.read(image);
      const ms = Date.now() - t0;
      const c = process.cpuUsage(c0);
      cpu += (c.user + c.system) / 1000;
      wall += ms;
      times.push(ms);
      wers.push(wordErrorRate(text, got));
    }
    out(`    ${String(lines).padStart(2)} lines of text    median ${median(times.slice(-5)).toFixed(0)} ms, WER ${(median(wers.slice(-5)) * 100).toFixed(1)} %`);
  }
  await ocr.close();
  const sorted = [...times].sort((a, b) => a - b);
  out(`    all screens          median ${median(times).toFixed(0)} ms, p95 ${sorted[Math.floor(sorted.length * 0.95)]!.toFixed(0)} ms, CPU during OCR ${((cpu / wall) * 100).toFixed(0)} % of a core, WER ${(median(wers) * 100).toFixed(1)} %`);
  out(`    with the default budget (next OCR waits 10 × the last), OCR takes at most ≈ 10 % of a core`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'haven-agent-bench-'));
  const desktop = await Desktop.start();
  const port = await freePort();
  const collector = await CollectorProcess.start(port, null, path.join(dir, 'collector'));
  const token = collector.firstToken;
  if (!token) throw new Error('the collector printed no enrolment token');
  try {
    out('Haven agent benchmark (2-core development machine; Xvfb 1280×800; collector on the embedded database)');
    // BENCH_ONLY=split runs only the installed shape (service + session part).
    const only = process.env.BENCH_ONLY;
    await splitPhase(desktop, `http://127.0.0.1:${port}`, token, dir, 'title,keys');
    if (only === 'split') return;
    await agentPhase(desktop, `http://127.0.0.1:${port}`, token, dir, 'title,keys');
    await agentPhase(desktop, `http://127.0.0.1:${port}`, token, dir, 'title,keys,screen');
    out('  OCR of 1920×1080 screens (tesseract.js, packaged English data, one worker)');
    await ocrPhase(dir);
  } finally {
    await collector.stop();
    await desktop.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
