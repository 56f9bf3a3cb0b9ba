/**
 * Evaluation: scores the labelled files in ../shared/eval through the `haven-risk` CLI and
 * prints recall per category and per source, and false-alert rates, against the targets.
 *
 *   npm run eval -w @haven/risk [-- --dir DIR] [-- --misses]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

type Expect = { category?: string; min?: number; accept?: string[]; max?: number };
type Row = { id: string; text: string; kind: string; source: string; expect: Expect; tags?: string[]; file: string };
type Out = { id: string | null; category: string | null; severity: number; rules?: string[]; error?: string };

const args = process.argv.slice(2);
const dirArg = args.indexOf('--dir');
const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
const dir = dirArg >= 0 ? path.resolve(args[dirArg + 1]!) : (process.env.HAVEN_EVAL_DIR ?? path.resolve(repoRoot, '..', 'shared', 'eval'));
const showMisses = args.includes('--misses');

function load(): Row[] {
  if (!existsSync(dir)) throw new Error(`no evaluation data at ${dir} (use --dir)`);
  const rows: Row[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (line.trim()) rows.push({ ...(JSON.parse(line) as Omit<Row, 'file'>), file });
    }
  }
  return rows;
}

function scoreAll(rows: Row[]): Out[] {
  const bin = path.resolve(__dirname, '..', '..', 'bin', 'haven-risk.js');
  const input = rows.map((r) => JSON.stringify({ id: r.id, text: r.text, kind: r.kind })).join('\n') + '\n';
  const run = spawnSync(process.execPath, [bin, 'score'], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`haven-risk failed: ${run.stderr}`);
  const out = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Out);
  if (out.length !== rows.length) throw new Error(`expected ${rows.length} lines from the CLI, got ${out.length}`);
  return out;
}

const isHit = (r: Row, o: Out) =>
  o.severity >= (r.expect.min ?? 1) && o.category !== null && (o.category === r.expect.category || (r.expect.accept ?? []).includes(o.category));
const isFalseAlert = (r: Row, o: Out) => o.severity > (r.expect.max ?? 0);

type Tally = { n: number; ok: number };
const rate = (t: Tally) => (t.n ? t.ok / t.n : NaN);
const fmt = (t: Tally) => `${(rate(t) * 100).toFixed(1).padStart(5)}%  (${t.ok}/${t.n})`;
function add(map: Map<string, Tally>, key: string, ok: boolean) {
  const t = map.get(key) ?? { n: 0, ok: 0 };
  t.n++;
  if (ok) t.ok++;
  map.set(key, t);
}

function main(): void {
  const rows = load();
  const started = Date.now();
  const outs = scoreAll(rows);
  const seconds = (Date.now() - started) / 1000;

  const authoredByCategory = new Map<string, Tally>();
  const authoredBySource = new Map<string, Tally>();
  const authoredByKind = new Map<string, Tally>();
  const publicPositive = new Map<string, Tally>();
  const falseAlerts = new Map<string, Tally>();
  const hatecheckSpell: Tally = { n: 0, ok: 0 };
  const davidsonOffensive: Tally = { n: 0, ok: 0 };
  const misses: string[] = [];

  rows.forEach((r, i) => {
    const o = outs[i]!;
    const authored = r.source.startsWith('authored');
    if (r.expect.category) {
      const hit = isHit(r, o);
      if (authored) {
        add(authoredByCategory, r.expect.category, hit);
        add(authoredBySource, r.source.replace('authored-', ''), hit);
        add(authoredByKind, r.kind, hit);
      } else {
        add(publicPositive, r.source, hit);
        if (r.source === 'hatecheck' && (r.tags ?? []).some((t) => t.startsWith('spell_'))) {
          hatecheckSpell.n++;
          if (hit) hatecheckSpell.ok++;
        }
      }
      if (!hit && showMisses) misses.push(`MISS  ${r.id} [${r.expect.category}≥${r.expect.min}] got ${o.category}/${o.severity}: ${r.text.slice(0, 110)}`);
    } else {
      const fa = isFalseAlert(r, o);
      const key = r.source === 'davidson' ? `davidson ${(r.tags ?? [''])[0]}` : r.source;
      add(falseAlerts, key, fa);
      if (r.source === 'davidson' && (r.tags ?? []).includes('class1')) {
        davidsonOffensive.n++;
        if (o.severity <= 2) davidsonOffensive.ok++;
      }
      if (fa && showMisses) misses.push(`FALSE ${r.id} [max ${r.expect.max}] got ${o.category}/${o.severity} ${o.rules?.join(',')}: ${r.text.slice(0, 110)}`);
    }
  });

  const lines: string[] = [];
  lines.push(`Haven risk evaluation — ${rows.length} rows from ${dir}, scored through the CLI in ${seconds.toFixed(2)} s`);
  lines.push('', 'Authored positives: recall by category (target ≥ 90% each)');
  for (const [k, t] of [...authoredByCategory].sort()) lines.push(`  ${k.padEnd(16)} ${fmt(t)}${rate(t) < 0.9 ? '   BELOW TARGET' : ''}`);
  lines.push('Authored positives: recall by set (evasion target ≥ 85%)');
  for (const [k, t] of [...authoredBySource].sort()) lines.push(`  ${k.padEnd(16)} ${fmt(t)}`);
  lines.push('Authored positives: recall by source kind');
  for (const [k, t] of [...authoredByKind].sort()) lines.push(`  ${k.padEnd(16)} ${fmt(t)}`);
  lines.push('', 'Public positives: recall');
  for (const [k, t] of [...publicPositive].sort()) lines.push(`  ${k.padEnd(16)} ${fmt(t)}${k === 'hatecheck' ? '   (target ≥ 80%)' : ''}`);
  lines.push(`  ${'hatecheck spell_*'.padEnd(16)} ${fmt(hatecheckSpell)}`);
  lines.push('', 'False alerts (severity above the row’s max): lower is better');
  for (const [k, t] of [...falseAlerts].sort()) {
    const target = k === 'authored-negative' ? ' (target ≤ 2%)' : k === 'davidson class1' ? '' : ' (target ≤ 1%)';
    lines.push(`  ${k.padEnd(18)} ${fmt(t)}${target}`);
  }
  lines.push(`  davidson offensive at or below severity 2: ${fmt(davidsonOffensive)} (target ≥ 95%)`);
  process.stdout.write(lines.join('\n') + '\n');
  if (showMisses) process.stdout.write('\n' + misses.join('\n') + '\n');
}

main();
