import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { isCategory, type Category } from '../taxonomy';

/** The lexicon as written: what the YAML files say, checked but not yet compiled. */
export type TermFlag = 'direct' | 'strong' | 'method';
export type SourceTerm = { text: string; severity: number; flags: TermFlag[] };
/**
 * A pair (a near b) or a frame (a near b near c, each part usually a word class such as
 * `@body_parts`), optionally only when a context kind (`needs`: first person, a search…) sits
 * within three words before the span or inside it.
 */
export type SourcePair = {
  id: string;
  a: string[];
  b: string[];
  c?: string[];
  window: number;
  severity: number;
  flags: TermFlag[];
  needs?: ContextKind[];
  /** The word classes each part named ("@body_parts"), for the explanation. */
  classes?: string[][];
};
export type CategoryFile = { file: string; category: Category; language: string; terms: SourceTerm[]; pairs: SourcePair[] };

export const CONTEXT_KINDS = [
  'first_person',
  'second_person',
  'intent',
  'time',
  'farewell',
  'negation',
  'third_person',
  'reporting',
  'quoting',
  'help_seeking',
  'educational_titles',
  'allow',
  'self_reference',
  'play',
  'joking',
  'searching',
  'threat_condition',
  'discussing',
] as const;
export type ContextKind = (typeof CONTEXT_KINDS)[number];
export type ContextFile = { file: string; language: string; words: Record<ContextKind, string[]> };

export type LexiconSource = {
  categories: CategoryFile[];
  contexts: ContextFile[];
  /** Ordinary words (common-words.*.txt): evidence against typo readings and word cuts. */
  common?: ReadonlySet<string>;
};

/** A named list of words, written once (`sets:` in any file) and used in pairs as `"@name"`. */
const SET_NAME = /^[a-z][a-z0-9_]*$/;

export class LexiconError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'LexiconError';
  }
}

export const DEFAULT_LEXICON_DIR = path.resolve(__dirname, '..', '..', 'lexicon');
const FLAGS: readonly TermFlag[] = ['direct', 'strong', 'method'];

function severityOf(file: string, where: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 5) {
    throw new LexiconError(file, `${where}: severity must be a whole number 1–5`);
  }
  return value;
}

function flagsOf(file: string, where: string, value: unknown): TermFlag[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((f) => FLAGS.includes(f as TermFlag))) {
    throw new LexiconError(file, `${where}: flags must be a list of ${FLAGS.join(', ')}`);
  }
  return value as TermFlag[];
}

function words(file: string, where: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((w) => typeof w === 'string' || typeof w === 'number')) {
    throw new LexiconError(file, `${where}: must be a list of words or phrases`);
  }
  return value.map((w) => checkBraces(file, where, String(w)));
}

/** Alternatives are one level deep: `{a,b}`, never `{{a,b}}` or an unclosed `{`. */
function checkBraces(file: string, where: string, text: string): string {
  let open = false;
  for (const c of text) {
    if (c === '{') {
      if (open) throw new LexiconError(file, `${where}: "${text}" nests braces; alternatives are one level deep`);
      open = true;
    } else if (c === '}') {
      if (!open) throw new LexiconError(file, `${where}: "${text}" closes a brace it never opened`);
      open = false;
    }
  }
  if (open) throw new LexiconError(file, `${where}: "${text}" leaves a brace open`);
  return text;
}

/** Reads and checks every lexicon file in a directory. Throws LexiconError naming the file. */
export function readLexicon(dir: string = DEFAULT_LEXICON_DIR): LexiconSource {
  const categories: CategoryFile[] = [];
  const contexts: ContextFile[] = [];
  const sets = new Map<string, { file: string; words: string[] }>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort()) {
    let doc: unknown;
    try {
      doc = parse(readFileSync(path.join(dir, name), 'utf8'));
    } catch (err) {
      throw new LexiconError(name, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    if (typeof doc !== 'object' || doc === null) throw new LexiconError(name, 'must be a YAML mapping');
    const d = doc as Record<string, unknown>;
    if (typeof d.language !== 'string') throw new LexiconError(name, '`language` is required');
    if (d.sets !== undefined) {
      if (typeof d.sets !== 'object' || d.sets === null || Array.isArray(d.sets)) throw new LexiconError(name, '`sets` must be a mapping of names to lists');
      for (const [setName, list] of Object.entries(d.sets as Record<string, unknown>)) {
        if (!SET_NAME.test(setName)) throw new LexiconError(name, `sets.${setName}: names are lower-case letters, digits and _`);
        const held = sets.get(setName);
        if (held) throw new LexiconError(name, `sets.${setName}: already defined in ${held.file}`);
        sets.set(setName, { file: name, words: words(name, `sets.${setName}`, list) });
      }
    }
    if (name.startsWith('sets.')) continue;
    if (name.startsWith('context.')) {
      const w = {} as Record<ContextKind, string[]>;
      for (const kind of CONTEXT_KINDS) w[kind] = d[kind] === undefined ? [] : words(name, kind, d[kind]);
      contexts.push({ file: name, language: d.language, words: w });
      continue;
    }
    if (!isCategory(d.category)) throw new LexiconError(name, '`category` must be one of the taxonomy ids');
    const terms: SourceTerm[] = [];
    const seen = new Set<string>();
    for (const [i, t] of ((d.terms as unknown[] | undefined) ?? []).entries()) {
      const where = `terms[${i}]`;
      if (typeof t !== 'object' || t === null || typeof (t as { text?: unknown }).text !== 'string') {
        throw new LexiconError(name, `${where}: needs a text`);
      }
      const term = t as { text: string; severity?: unknown; flags?: unknown };
      const text = term.text.trim().toLowerCase();
      if (seen.has(text)) continue; // a repeated entry adds nothing
      seen.add(text);
      terms.push({ text: checkBraces(name, where, text), severity: severityOf(name, where, term.severity), flags: flagsOf(name, where, term.flags) });
    }
    const pairs: SourcePair[] = [];
    for (const [i, p] of ((d.pairs as unknown[] | undefined) ?? []).entries()) {
      const where = `pairs[${i}]`;
      if (typeof p !== 'object' || p === null) throw new LexiconError(name, `${where}: must be a mapping`);
      const pair = p as Record<string, unknown>;
      const id = typeof pair.id === 'string' && pair.id ? pair.id : `pair${i + 1}`;
      const window = pair.window === undefined ? 5 : pair.window;
      if (typeof window !== 'number' || !Number.isInteger(window) || window < 0 || window > 50) {
        throw new LexiconError(name, `${where}: window must be a whole number 0–50`);
      }
      const needs = pair.needs === undefined ? undefined : words(name, `${where}.needs`, pair.needs);
      if (needs && !needs.every((k) => (CONTEXT_KINDS as readonly string[]).includes(k))) {
        throw new LexiconError(name, `${where}: needs must list context kinds (${CONTEXT_KINDS.join(', ')})`);
      }
      // A frame of one part (`b` left out) is a word class that needs a context kind near it.
      if (pair.b === undefined && pair.needs === undefined) throw new LexiconError(name, `${where}: a pair needs b (or needs, for a one-part frame)`);
      const parts = [
        words(name, `${where}.a`, pair.a),
        pair.b === undefined ? [] : words(name, `${where}.b`, pair.b),
        ...(pair.c === undefined ? [] : [words(name, `${where}.c`, pair.c)]),
      ];
      pairs.push({
        id,
        a: parts[0]!,
        b: parts[1]!,
        ...(parts[2] ? { c: parts[2] } : {}),
        window,
        severity: severityOf(name, where, pair.severity),
        flags: flagsOf(name, where, pair.flags),
        ...(needs ? { needs: needs as ContextKind[] } : {}),
        classes: parts.map((list) => list.filter((w) => w.startsWith('@')).map((w) => w.slice(1))),
      });
    }
    categories.push({ file: name, category: d.category, language: d.language, terms, pairs });
  }
  // Pairs may name a set ("@protected_groups") in place of words, and a term may use one as a
  // slot ("make those @protected_groups suffer"); sets are resolved once all files are read.
  const expanded = new Map<string, string[]>();
  const setWords = (file: string, where: string, name: string) => {
    let list = expanded.get(name);
    if (!list) {
      const set = sets.get(name);
      if (!set) throw new LexiconError(file, `${where}: no set named ${name}`);
      list = [...new Set(set.words.flatMap((w) => expandAlternatives(w.trim().toLowerCase())))].filter((w) => !/[,{}@]/.test(w));
      expanded.set(name, list);
    }
    return list;
  };
  const resolve = (file: string, where: string, list: string[]) => [...new Set(list.flatMap((w) => (w.startsWith('@') ? setWords(file, where, w.slice(1)) : [w])))];
  for (const c of categories) {
    for (const [i, t] of c.terms.entries()) {
      if (t.text.includes('@')) t.text = t.text.replace(/@([a-z][a-z0-9_]*)/g, (_m, name: string) => `{${setWords(c.file, `terms[${i}]`, name).join(',')}}`);
    }
    for (const [i, p] of c.pairs.entries()) {
      p.a = resolve(c.file, `pairs[${i}].a`, p.a);
      p.b = resolve(c.file, `pairs[${i}].b`, p.b);
      if (p.c) p.c = resolve(c.file, `pairs[${i}].c`, p.c);
    }
  }
  const common = new Set<string>();
  for (const name of readdirSync(dir).filter((n) => n.startsWith('common-words.') && n.endsWith('.txt'))) {
    for (const line of readFileSync(path.join(dir, name), 'utf8').split('\n')) if (line && !line.startsWith('#')) common.add(line.trim());
  }
  return { categories, contexts, common };
}

/** Expands `{a,b}` alternatives: "cut{,s,ting} myself" → cut myself, cuts myself, cutting myself. */
export function expandAlternatives(text: string): string[] {
  const open = text.indexOf('{');
  if (open < 0) return [text];
  const close = text.indexOf('}', open);
  if (close < 0) return [text.replace('{', '')];
  const head = text.slice(0, open);
  const tail = expandAlternatives(text.slice(close + 1));
  const out: string[] = [];
  for (const alt of text.slice(open + 1, close).split(',')) for (const t of tail) out.push(head + alt + t);
  return out;
}
