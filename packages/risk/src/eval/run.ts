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
 *   npm run eval -w @haven/risk -- --no-model       the lexicon alone (no learned part)
 *   npm run eval -w @haven/risk -- --model DIR      another trained model (node dist/model/train.js --out DIR)
 *   npm run eval -w @haven/risk -- --cross          also retrains the learned part without one language,
 *       one theme group or one writer at a time and measures what it then catches there (minutes).
 */
import { compileLexicon } from '../lexicon/compile';
import { readLexicon } from '../lexicon/source';
import { Model } from '../model/model';
import { HOLDOUT_WRITER, loadOwn, type OwnRow } from '../model/own-data';
import { trainingSet, trainModel, type Holdout } from '../model/train';
import { Scorer, type Source } from '../score';
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
const model = args.includes('--no-model') ? null : modelArg ? Model.read(modelArg) : Model.shipped();

function scoreRows(scorer: Scorer, rows: readonly Row[]): Scored[] {
  return rows.map((r) => {
    const s = scorer.score(r.text, { source: KIND[r.kind] ?? 'keys' });
    return { category: s.category as string | null, severity: s.severity as number, explanation: s.explanation };
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
      const scorer = new Scorer(compileLexicon({ categories: source.categories.filter((f) => f.language !== code), contexts: source.contexts }), model);
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

/** What the learned part adds on each part of the authored sets: lexicon alone → with it, tune | check. */
function learnedReport(rows: Row[], outs: Scored[], lexOnly: Scored[], lines: string[]): void {
  const t = new Table();
  const l = new Table();
  rows.forEach((r, i) => {
    if (!r.source.startsWith('authored') && r.source !== 'hatecheck') return;
    const key = r.source === 'hatecheck' ? `hatecheck ${r.expect.category ? 'hateful' : 'non-hateful (FA)'}` : `${r.file.replace('.jsonl', '')} ${partOf(r) === 'negative' ? 'negatives (FA)' : partOf(r)}`;
    l.add(key, r, good(r, lexOnly[i]!));
    t.add(key, r, good(r, outs[i]!));
  });
  lines.push('', 'The learned part: lexicon alone → lexicon with the learned part (tune | check)');
  for (const [k, p] of [...t.rows].sort(([a], [b]) => a.localeCompare(b))) {
    const q = l.rows.get(k)!;
    lines.push(`    ${k.padEnd(34)} tune ${pct(q.tune)} → ${pct(p.tune)}  check ${pct(q.check)} → ${pct(p.check)}`);
  }
}

const bothSelf = (a: string | null, b: string | null) => a === b || (['suicide', 'self_harm'].includes(a ?? '') && ['suicide', 'self_harm'].includes(b ?? ''));
/** A holdout row is caught at its category (suicide and self-harm accept each other) at ≥ 3, or ≥ 2 where its writer said ≤ 2. */
const ownGood = (r: OwnRow, s: Scored) => (r.label ? bothSelf(r.label, s.category) && s.severity >= Math.min(3, Math.max(2, r.severity)) : s.severity <= 1);

function ownScored(scorer: Scorer, rows: readonly OwnRow[]): Scored[] {
  return rows.map((r) => {
    const s = scorer.score(r.text, { source: KIND[r.kind] ?? 'keys' });
    return { category: s.category, severity: s.severity, explanation: s.explanation };
  });
}

/** The holdout writer's set: written by a writer who never saw the training data; never trained on. */
function holdoutReport(lexOnly: Scorer, full: Scorer, lines: string[]): void {
  const rows = loadOwn().filter((r) => r.writer === HOLDOUT_WRITER);
  if (!rows.length) return;
  const a = ownScored(lexOnly, rows);
  const b = ownScored(full, rows);
  const groups = new Map<string, [number, number, number]>();
  rows.forEach((r, i) => {
    const keys = r.label ? ['all concerns', `  ${r.label}`, r.register === 'evasion' ? 'evasions' : r.lang !== 'en' ? 'other languages' : 'English, not evasion'] : ['hard negatives: false alerts'];
    for (const k of keys) {
      const g = groups.get(k) ?? [0, 0, 0];
      g[0]++;
      const fa = !r.label;
      if (fa ? !ownGood(r, a[i]!) : ownGood(r, a[i]!)) g[1]++;
      if (fa ? !ownGood(r, b[i]!) : ownGood(r, b[i]!)) g[2]++;
      groups.set(k, g);
    }
  });
  const f = (ok: number, n: number) => `${((ok / n) * 100).toFixed(1).padStart(5)}% (${ok}/${n})`;
  lines.push('', `Holdout writers (${rows.length} rows by two writers who never saw the training data; never trained on): lexicon alone → with the learned part`);
  for (const [k, [n, x, y]] of [...groups].sort(([p], [q]) => p.localeCompare(q))) lines.push(`    ${k.padEnd(30)} ${f(x, n).padEnd(18)} → ${f(y, n)}`);
}

/** Theme groups for leave-one-theme-out: the same regular expression picks a group's themes in the training data and in authored-dev-2's theme tags. */
const THEME_GROUPS: Array<{ name: string; categories: string[]; re: RegExp }> = [
  { name: 'grooming stages', categories: ['cse'], re: /groom|older|age|secre|gift|flatter|trust|platform|private|meet|webcam|livestream|boyfriend|isolat/ },
  { name: 'eating disorders', categories: ['self_harm'], re: /eat|restrict|purg|laxat|calor|weigh|thin|ana|ed-|fast|binge|spo|exercis|body|food|chew|water|amenor|diet/ },
  { name: 'goodbyes and plans', categories: ['suicide'], re: /goodbye|farewell|note|giving|belonging|delet|funeral|after-death|plan|date|countdown|imminent/ },
  { name: 'county lines', categories: ['drugs', 'violence'], re: /county|line|trap|runner|plug|debt|recruit|exploitation/ },
  { name: 'loot boxes and skins', categories: ['gambling'], re: /loot|skin|case|mystery|gacha|roblox|box/ },
  { name: 'domestic abuse', categories: ['violence'], re: /domestic|home|parent|honour|relationship|family/ },
  { name: 'extremist content', categories: ['extremism'], re: /recruit|slogan|symbol|figure|manifesto|propaganda|incel|accelerat|replacement|shooter|manosphere|takfir|conspiracy/ },
];

function crossReport(rows: Row[], lexOnly: Scorer, fullOuts: Scored[], lines: string[]): void {
  const own = loadOwn();
  const compiled = lexOnly.lexicon;
  const retrained = (holdout: Holdout) => new Scorer(compiled, trainModel(trainingSet(holdout), 'cross-check'));
  const d2 = rows.map((r, i) => ({ r, i })).filter(({ r }) => r.file === 'authored-dev-2.jsonl');
  const f = (xs: Array<{ r: Row; s: Scored }>, split: 'tune' | 'check') => {
    const sel = xs.filter((x) => x.r.split === split);
    const ok = sel.filter((x) => good(x.r, x.s)).length;
    return sel.length ? `${((ok / sel.length) * 100).toFixed(1).padStart(5)}% (${ok}/${sel.length})` : '–';
  };
  lines.push('', 'Leave-one-theme-out (learned part retrained without the training rows of a theme group; authored-dev-2 core rows of that group): full → without');
  for (const g of THEME_GROUPS) {
    const inGroup = (cat: string | null | undefined, theme: string | null) => !!cat && g.categories.includes(cat) && g.re.test(theme ?? '');
    const sel = d2.filter(({ r }) => partOf(r) === 'core' && inGroup(r.expect.category, themeOf(r)));
    const without = retrained({ themes: (o) => inGroup(o.label, o.theme) });
    const full = sel.map(({ r, i }) => ({ r, s: fullOuts[i]! }));
    const wo = sel.map(({ r }) => ({ r, s: scoreRows(without, [r])[0]! }));
    const n = own.filter((o) => inGroup(o.label, o.theme)).length;
    lines.push(`    ${g.name.padEnd(22)} (${String(n).padStart(4)} training rows)  tune ${f(full, 'tune')} → ${f(wo, 'tune')}  check ${f(full, 'check')} → ${f(wo, 'check')}`);
  }
  lines.push('', 'Leave-one-language-out for the learned part (retrained without that language\'s training rows; authored-dev-2 rows in it): full → without');
  const langs = [...new Set(d2.map(({ r }) => languageOf(r)).filter((x): x is string => !!x))].sort();
  for (const lang of langs) {
    const code = lang.toLowerCase();
    const sel = d2.filter(({ r }) => languageOf(r) === lang && partOf(r) === 'multilingual');
    const without = retrained({ langs: new Set([code]) });
    const full = sel.map(({ r, i }) => ({ r, s: fullOuts[i]! }));
    const wo = sel.map(({ r }) => ({ r, s: scoreRows(without, [r])[0]! }));
    lines.push(`    ${lang.padEnd(8)} (${String(own.filter((o) => o.lang === code && o.writer !== HOLDOUT_WRITER).length).padStart(4)} training rows)  tune ${f(full, 'tune')} → ${f(wo, 'tune')}  check ${f(full, 'check')} → ${f(wo, 'check')}`);
  }
  lines.push('', 'Leave-one-writer-out (retrained without one writer; that writer\'s concerns caught, and its negatives kept ≤ 1): full → without');
  const fullScorer = new Scorer(compiled, model);
  for (const w of [...new Set(own.map((o) => o.writer))].filter((w) => w !== HOLDOUT_WRITER).sort()) {
    const mine = own.filter((o) => o.writer === w);
    const without = retrained({ writers: new Set([w]) });
    const a = ownScored(fullScorer, mine);
    const b = ownScored(without, mine);
    const rate = (xs: Scored[], pos: boolean) => {
      const idx = mine.map((o, i) => i).filter((i) => !!mine[i]!.label === pos);
      const ok = idx.filter((i) => ownGood(mine[i]!, xs[i]!)).length;
      return `${((ok / Math.max(1, idx.length)) * 100).toFixed(1).padStart(5)}%`;
    };
    lines.push(`    ${w.padEnd(8)} concerns ${rate(a, true)} → ${rate(b, true)}   negatives kept ${rate(a, false)} → ${rate(b, false)}`);
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
  const compiled = compileLexicon();
  const scorer = new Scorer(compiled, model);
  const lexOnly = new Scorer(compiled);
  const rows = loadEval();
  const outs = scoreRows(scorer, rows);
  if (args.includes('--misses')) return showTune(rows, outs, false);
  const benign = loadBenign();
  if (args.includes('--benign-alerts')) return showTune(benign, scoreRows(scorer, benign), true);
  const benignOuts = scoreRows(scorer, benign);
  const benignLex = model ? scoreRows(lexOnly, benign) : benignOuts;
  const lines: string[] = [`Haven risk evaluation — ${rows.length} labelled rows, ${benign.length} benign train rows; tune | check split by sha256(id)`];
  authoredReport(rows, outs, lines);
  if (!args.includes('--quick')) leaveOneLanguageOut(rows, outs, lines);
  if (model) {
    learnedReport(rows, outs, scoreRows(lexOnly, rows), lines);
    holdoutReport(lexOnly, scorer, lines);
    if (args.includes('--cross')) crossReport(rows, lexOnly, outs, lines);
    else lines.push('', 'Leave-one-theme-out, leave-one-language-out and leave-one-writer-out for the learned part: npm run eval -w @haven/risk -- --cross');
  } else lines.push('', 'The lexicon alone (--no-model or no model shipped).');
  publicReport(rows, outs, lines);
  benignReport(benign, benignOuts, lines);
  if (model) {
    const fa = (xs: Scored[], split: string) => {
      const idx = benign.map((r, i) => i).filter((i) => benign[i]!.split === split);
      return `${((idx.filter((i) => xs[i]!.severity > 1).length / idx.length) * 100).toFixed(2)}%`;
    };
    lines.push(`    benign, lexicon alone → with the learned part: tune ${fa(benignLex, 'tune')} → ${fa(benignOuts, 'tune')}  check ${fa(benignLex, 'check')} → ${fa(benignOuts, 'check')}`);
  }
  lines.push('', `(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  process.stdout.write(lines.join('\n') + '\n');
}

main();
