/**
 * Haven's own training data (packages/risk/train-data): phrasings written from the coverage map by
 * several writers who never read an evaluation row. One folder per writer; `holdout/` is written
 * by a writer who never saw the others and is never trained on — it measures whether what the
 * model learned from the others carries to a stranger's words.
 *
 * One example per line, seven fields separated by `|` (the text is last and may contain `|`):
 *   label|severity|kind|register|lang|theme|text
 * `label` is a category or `none`; `\n` in the text is a line break. `#` starts a comment line.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CATEGORIES } from '../taxonomy';

export const TRAIN_DATA_DIR = path.resolve(__dirname, '..', '..', 'train-data');
export const HOLDOUT_WRITER = 'holdout';

export type OwnRow = {
  id: string;
  writer: string;
  label: string | null;
  severity: number;
  kind: 'title' | 'typed' | 'screen';
  register: string;
  lang: string;
  theme: string;
  text: string;
};

const KINDS = new Set(['title', 'typed', 'screen']);
const LABELS = new Set<string>([...CATEGORIES, 'none']);

/** Parses one writer's file; a malformed line is an error naming the file and line. */
export function parseOwn(content: string, writer: string, file: string): OwnRow[] {
  const rows: OwnRow[] = [];
  content.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const f = line.split('|');
    if (f.length < 7) throw new Error(`${writer}/${file}:${i + 1}: expected 7 fields separated by |`);
    const [label, sev, kind, register, lang, theme] = f.map((x) => x.trim()) as [string, string, string, string, string, string];
    const text = f.slice(6).join('|').trim().replace(/\\n/g, '\n');
    if (!LABELS.has(label)) throw new Error(`${writer}/${file}:${i + 1}: unknown label "${label}"`);
    if (!KINDS.has(kind)) throw new Error(`${writer}/${file}:${i + 1}: unknown kind "${kind}"`);
    const severity = Number(sev);
    if (!Number.isInteger(severity) || severity < 0 || severity > 5) throw new Error(`${writer}/${file}:${i + 1}: severity must be 0–5`);
    if (!text) throw new Error(`${writer}/${file}:${i + 1}: empty text`);
    rows.push({
      id: `${writer}/${file}:${i + 1}`,
      writer,
      label: label === 'none' ? null : label,
      severity: label === 'none' ? 0 : Math.max(1, severity),
      kind: kind as OwnRow['kind'],
      register: register || 'formal',
      lang: (lang || 'en').toLowerCase(),
      theme: theme || '?',
      text,
    });
  });
  return rows;
}

/** Every writer's rows (sorted by writer and file, so training is reproducible). */
export function loadOwn(dir = TRAIN_DATA_DIR): OwnRow[] {
  if (!existsSync(dir)) return [];
  const rows: OwnRow[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!entry.isDirectory()) continue;
    const writer = entry.name;
    const wdir = path.join(dir, writer);
    for (const file of readdirSync(wdir).filter((f) => f.endsWith('.txt')).sort()) {
      rows.push(...parseOwn(readFileSync(path.join(wdir, file), 'utf8'), writer, file));
    }
  }
  return rows;
}

/**
 * What the training data covers, per category: lines, the severe share, each kind, evasions,
 * other languages and distinct themes — the learned part's side of the coverage map.
 * `node dist/model/own-data.js` prints it as the Markdown table in train-data/README.md.
 */
export function coverageTable(rows: readonly OwnRow[]): string {
  const trained = rows.filter((r) => r.writer !== HOLDOUT_WRITER);
  const out = ['| category | lines | severity 4–5 | title | typed | screen | evasion | other languages | themes |', '|---|--:|--:|--:|--:|--:|--:|--:|--:|'];
  const row = (name: string, rs: readonly OwnRow[]) => {
    const n = (p: (r: OwnRow) => boolean) => rs.filter(p).length.toLocaleString('en-GB');
    out.push(
      `| ${name} | ${rs.length.toLocaleString('en-GB')} | ${n((r) => r.severity >= 4)} | ${n((r) => r.kind === 'title')} | ${n((r) => r.kind === 'typed')} | ${n((r) => r.kind === 'screen')} | ${n((r) => r.register === 'evasion')} | ${n((r) => r.lang !== 'en')} | ${new Set(rs.map((r) => r.theme)).size.toLocaleString('en-GB')} |`,
    );
  };
  for (const c of CATEGORIES) row(c, trained.filter((r) => r.label === c));
  row('none (hard negatives)', trained.filter((r) => r.label === null));
  row('all', trained);
  return out.join('\n');
}

if (require.main === module) process.stdout.write(`${coverageTable(loadOwn())}\n`);
