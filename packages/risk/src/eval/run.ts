/**
 * Evaluation you cannot fool yourself with. Every labelled set is split by a fixed hash of the
 * row id into *tune* and *check* (split.ts); this prints both side by side:
 *   - per authored file: core recall per category and per kind, evasion, other languages
 *     (per language), hard-negative false alerts;
 *   - leave-one-language-out: each language's recall with its own lexicon files removed, which
 *     shows how much of it the shared (English and cross-language) rules carry;
 *   - leave-one-theme-out, for the learned part (when there is one);
 *   - public sets (HateCheck hateful / non-hateful, Davidson, Wikipedia talk, madlibs);
 *   - the benign files of ../shared/train: false alerts above severity 1.
 *
 *   npm run eval -w @haven/risk                      figures only
 *   npm run eval -w @haven/risk -- --misses [--file authored-dev-2] [--part core] [--category cse] [--lang pl]
 *       lists TUNE misses and false alerts with the explanation; check rows are never printed.
 *   npm run eval -w @haven/risk -- --benign-alerts [--file gsm8k]   TUNE false alerts on the benign train files.
 *   npm run eval -w @haven/risk -- --model FILE   also scores the lexicon with an experimental learned
 *       signal (npm run train:model) added: where the lexicon says less than 3 and the model's
 *       probability passes the file's threshold, the model's class at 2 (or 3 above `high`).
 */
import { compileLexicon } from '../lexicon/compile';
import { readLexicon } from '../lexicon/source';
import { Model, type ModelFile } from '../model/model';
import { Scorer, type Source } from '../score';
import { readFileSync } from 'node:fs';
import { isFalseAlert, isHit, languageOf, loadBenign, loadEval, partOf, themeOf, type Row } from './data';
import { tuneOnly } from './split';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const KIND: Record<string, Source> = { typed: 'keys', keys: 'keys', title: 'title', screen: 'screen' };

type Scored = { category: string | null; severity: number; explanation: string };
type Tally = { n: number; ok: number };
type Pair = { tune: Tally; check: Tally };

const modelArg = opt('--model');
const model = modelArg ? new Model(JSON.parse(readFileSync(modelArg, 'utf8')) as ModelFile) : null;

function scoreRows(scorer: Scorer, rows: readonly Row[]): Scored[] {
  return rows.map((r) => {
    const s = scorer.score(r.text, { source: KIND[r.kind] ?? 'keys' });
    const out = { category: s.category as string | null, severity: s.severity as number, explanation: s.explanation };
    const m = model && s.severity < 3 ? model.predict(r.text) : null;
    if (m) {
      const sev = m.probability >= model!.high ? 3 : 2;
      if (sev > out.severity) return { category: m.category, severity: sev, explanation: `model.${m.category} p=${m.probability.toFixed(2)} [${m.features.join(', ')}] → ${sev}` };
    }
    return out;
  });
}

const good = (r: Row, s: Scored) => (r.expect.category ? isHit(r, s.category, s.severity) : isFalseAlert(r, s.severity));

class Table {
  readonly rows = new Map<string, Pair>();
  add(key: string, r: Row, ok: boolean): void {
    let p = this.rows.get(key);
    if (!p) this.rows.set(key, (p = { tune: { n: 0, ok: 0 }, check: { n: 0, ok: 0 } }));
    const t = p[r.split];
    t.n++;
    if (ok) t.ok++;
  }
}

const pct = (t: Tally) => (t.n ? `${((t.ok / t.n) * 100).toFixed(1).padStart(5)}% ${`(${t.ok}/${t.n})`.padEnd(11)}` : '    –              ');
function print(title: string, table: Table, lines: string[], sort = true): void {
  if (table.rows.size === 0) return;
  lines.push(`  ${title}`);
  lines.push(`    ${''.padEnd(26)} ${'tune'.padEnd(19)} check`);
  const entries = [...table.rows];
  if (sort) entries.sort(([a], [b]) => a.localeCompare(b));
  for (const [k, p] of entries) {
    const gap = p.tune.n && p.check.n ? p.tune.ok / p.tune.n - p.check.ok / p.check.n : 0;
    lines.push(`    ${k.padEnd(26)} ${pct(p.tune)} ${pct(p.check)}${gap > 0.15 && p.check.n >= 10 ? '   check far below tune' : ''}`);
  }
}

function authoredReport(rows: Row[], outs: Scored[], lines: string[]): void {
  const files = [...new Set(rows.filter((r) => r.source.startsWith('authored') || r.file.startsWith('own-')).map((r) => r.file))];
  for (const file of files) {
    const core = new Table();
    const kinds = new Table();
    const parts = new Table();
    const langs = new Table();
    rows.forEach((r, i) => {
      if (r.file !== file) return;
      const s = outs[i]!;
      const ok = good(r, s);
      const part = partOf(r);
      parts.add(part === 'negative' ? 'negative: false alerts' : part, r, ok);
      if (part === 'core') {
        core.add(r.expect.category!, r, ok);
        kinds.add(r.kind, r, ok);
      }
      if (part === 'multilingual') langs.add(languageOf(r) ?? '?', r, ok);
    });
    lines.push('', `${file}`);
    print('recall by part (targets: core ≥ 80% per category, evasion ≥ 90%, languages ≥ 70%; negatives ≤ 2%)', parts, lines);
    print('core recall by category', core, lines);
    print('core recall by kind', kinds, lines);
    print('other languages: recall by language', langs, lines);
  }
}

function leaveOneLanguageOut(rows: Row[], outs: Scored[], lines: string[]): void {
  const source = readLexicon();
  const multi = rows.map((r, i) => ({ r, s: outs[i]!, lang: languageOf(r) })).filter((x) => x.lang && partOf(x.r) === 'multilingual');
  const langs = [...new Set(multi.map((x) => x.lang!))].sort();
  const table = new Table();
  lines.push('', 'Leave-one-language-out: recall on a language with its own lexicon files removed (full → without)');
  for (const lang of langs) {
    const code = lang.toLowerCase();
    const own = source.categories.filter((f) => f.language === code);
    const mine = multi.filter((x) => x.lang === lang);
    let without: Scored[] | null = null;
    if (own.length) {
      const scorer = new Scorer(compileLexicon({ categories: source.categories.filter((f) => f.language !== code), contexts: source.contexts }));
      without = scoreRows(scorer, mine.map((x) => x.r));
    }
    const full = new Table();
    mine.forEach((x, i) => {
      full.add('full', x.r, good(x.r, x.s));
      table.add(`${lang} without own`, x.r, good(x.r, without ? without[i]! : x.s));
    });
    const f = full.rows.get('full')!;
    const w = table.rows.get(`${lang} without own`)!;
    lines.push(`    ${lang.padEnd(8)} files ${String(own.length).padStart(2)}   tune ${pct(f.tune)} → ${pct(w.tune)}  check ${pct(f.check)} → ${pct(w.check)}`);
  }
}

function publicReport(rows: Row[], outs: Scored[], lines: string[]): void {
  const t = new Table();
  rows.forEach((r, i) => {
    if (r.source.startsWith('authored') || r.file.startsWith('own-')) return;
    const s = outs[i]!;
    let key: string = r.source;
    if (r.source === 'hatecheck') key = r.expect.category ? 'hatecheck hateful' : 'hatecheck non-hateful (FA)';
    else if (r.source === 'davidson') key = `davidson ${(r.tags ?? [''])[0]}${r.expect.category ? '' : ' (FA)'}`;
    else if (!r.expect.category) key = `${r.source} (FA)`;
    t.add(key, r, good(r, s));
    if (r.source === 'hatecheck' && r.expect.category && (r.tags ?? []).some((x) => x.startsWith('spell_'))) t.add('hatecheck spell_* hateful', r, good(r, s));
  });
  lines.push('', 'Public sets (hatecheck hateful ≥ 85%, non-hateful FA ≤ 3%; FA = false-alert rate)');
  print('', t, lines);
}

function benignReport(rows: Row[], outs: Scored[], lines: string[]): void {
  const t = new Table();
  rows.forEach((r, i) => {
    const fa = outs[i]!.severity > 1;
    t.add(r.source, r, fa);
    t.add('ALL benign rows', r, fa);
  });
  lines.push('', 'Benign files of ../shared/train: false alerts above severity 1 (target ≤ 1%)');
  print('', t, lines);
}

function showTune(rows: Row[], outs: Scored[], benign: boolean): void {
  const file = opt('--file');
  const part = opt('--part');
  const category = opt('--category');
  const lang = opt('--lang');
  const limit = Number(opt('--limit') ?? 400);
  const byId = new Map(rows.map((r, i) => [r.id, outs[i]!]));
  const out: string[] = [];
  for (const r of tuneOnly(rows)) {
    if (file && !r.file.startsWith(file)) continue;
    if (part && partOf(r) !== part) continue;
    if (category && r.expect.category !== category) continue;
    if (lang && languageOf(r) !== lang) continue;
    const s = byId.get(r.id)!;
    if (benign ? s.severity <= 1 : r.expect.category ? good(r, s) : !good(r, s)) continue;
    const label = r.expect.category ? `MISS [${r.expect.category}≥${r.expect.min ?? 1}${themeOf(r) ? ' ' + themeOf(r) : ''}]` : `FALSE [≤${r.expect.max}]`;
    out.push(`${label} ${r.kind} got ${s.category}/${s.severity}: ${r.text.slice(0, 200).replace(/\n/g, ' ⏎ ')}\n      ${s.explanation.slice(0, 300)}`);
    if (out.length >= limit) break;
  }
  process.stdout.write(out.join('\n') + `\n(${out.length} tune rows shown; check rows are never printed)\n`);
}

function main(): void {
  const t0 = Date.now();
  const scorer = new Scorer(compileLexicon());
  const rows = loadEval();
  const outs = scoreRows(scorer, rows);
  if (args.includes('--misses')) return showTune(rows, outs, false);
  const benign = loadBenign();
  if (args.includes('--benign-alerts')) return showTune(benign, scoreRows(scorer, benign), true);
  const benignOuts = scoreRows(scorer, benign);
  const lines: string[] = [`Haven risk evaluation — ${rows.length} labelled rows, ${benign.length} benign train rows; tune | check split by sha256(id)`];
  authoredReport(rows, outs, lines);
  if (!args.includes('--quick')) leaveOneLanguageOut(rows, outs, lines);
  lines.push('', model ? `Learned signal added from ${modelArg} (experimental; leave-one-theme-out: train with HAVEN_HOLDOUT_THEMES)` : 'Leave-one-theme-out: no learned part ships — the lexicon and frames are not fitted to rows, so there is nothing to retrain per theme.');
  publicReport(rows, outs, lines);
  benignReport(benign, benignOuts, lines);
  lines.push('', `(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  process.stdout.write(lines.join('\n') + '\n');
}

main();
