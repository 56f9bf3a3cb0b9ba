import { createHash } from 'node:crypto';
import { normalisePhrase, squeeze, stem, Token } from '../normalise';
import type { Category, Severity } from '../taxonomy';
import { CONTEXT_KINDS, expandAlternatives, readLexicon, type ContextKind, type LexiconSource, type TermFlag } from './source';

const RUN_ON_PREFIXES = ['i', 'im', 'u', 'ur', 'we', 'you', 'my', 'all', 'a'];
const RUN_ON_FIRST = new Set(RUN_ON_PREFIXES.map((p) => p.charCodeAt(0)));
const RUN_ON_SUFFIXES = ['all', 'them', 'you', 'to', 'em'];
/** A word beside more term words than this ("my", "the", "to") is not evidence for a guess. */
const MAX_PARTNERS = 120;

function latinOrMask(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x61 || c > 0x7a) && c !== 0x2a) return false;
  }
  return true;
}

const isVowel = (c: string) => c === 'a' || c === 'e' || c === 'i' || c === 'o' || c === 'u';

/**
 * One edit apart: a letter changed, added or dropped, or two neighbouring letters swapped
 * (`swapOnly`: of two words of one length, only a swap counts).
 */
export function oneEdit(a: string, b: string, swapOnly = false): boolean {
  const n = a.length;
  const m = b.length;
  if (Math.abs(n - m) > 1 || a === b) return false;
  let i = 0;
  while (i < n && i < m && a[i] === b[i]) i++;
  if (n === m) {
    if (!swapOnly && a.slice(i + 1) === b.slice(i + 1)) return true;
    return i + 1 < n && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  return n > m ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/**
 * How a word sounds, roughly: silent letters dropped (kn, wr, gh, a final e), spellings of one
 * sound made one (ph/f, ck/k, c/s/k, z/s, y/i), doubled letters single and every vowel run one
 * mark. "nife" and "knife", "tyme" and "time", "ded" and "dead", "suiside" and "suicide" meet.
 */
export function soundKey(w: string): string {
  let s = w;
  if (s.startsWith('kn') || s.startsWith('gn') || s.startsWith('wr') || s.startsWith('pn')) s = s.slice(1);
  if (s.length > 3 && s.endsWith('e') && !isVowel(s[s.length - 2]!)) s = s.slice(0, -1);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const next = s[i + 1];
    let k: string;
    if (c === 'p' && next === 'h') { k = 'f'; i++; }
    else if (c === 'c' && next === 'k') { k = 'k'; i++; }
    else if (c === 'g' && next === 'h') { k = ''; i++; }
    else if (c === 'c') k = next === 'e' || next === 'i' || next === 'y' ? 's' : 'k';
    else if (c === 'q') k = 'k';
    else if (c === 'z') k = 's';
    else if (c === 'x') k = 'ks';
    else if (isVowel(c) || c === 'y' || (c === 'w' && i > 0 && isVowel(s[i - 1]!))) {
      // A vowel run keeps its first vowel ("ea" in "dead" is "e"): "shatting" is not "shooting".
      if (i > 0 && (isVowel(s[i - 1]!) || s[i - 1] === 'y')) continue;
      k = c === 'y' ? 'i' : c;
    } else k = c;
    if (k && out[out.length - 1] !== k) out += k;
  }
  return out;
}

/** The letters of a word without its vowels: "kll" for "kill", "myslf" for "myself". */
function skeleton(w: string): string {
  let out = '';
  for (const c of w) if (!isVowel(c)) out += c;
  return out;
}

/** A word's shapes for guessing: as written, squeezed, without vowels, by sound. */
type GuessForm = { text: string; squeezed: string; vowelless: boolean; skeleton: string; sound: string; masked: boolean };

function shapesOf(w: string): GuessForm {
  let vowels = 0;
  for (const c of w) if (isVowel(c)) vowels++;
  const masked = w.includes('*');
  return { text: w, squeezed: squeeze(w, 1), vowelless: vowels === 0, skeleton: skeleton(w), sound: masked || w.length < 4 ? '' : soundKey(w), masked };
}

/** Could `t` (a token's letters, maybe with a star) be a way of writing the lexicon word `w`? */
function looksLikeForm(t: GuessForm, w: GuessForm): boolean {
  const a = t.text;
  const b = w.text;
  const n = a.length;
  const m = b.length;
  if (t.masked) {
    if (n !== m) return false;
    for (let i = 0; i < n; i++) if (a[i] !== '*' && a[i] !== b[i]) return false;
    return true;
  }
  // Typos keep the first letter; three-letter tokens are too often other words ("dye", "qat").
  // A letter left out ("harmd") or two swapped ("slef"); a changed or added letter is too often
  // another word ("spanked", "harries"). No guess adds letters, except a doubled one ("stabb").
  if (n >= 4 && n <= m && m - n <= 1 && a[0] === b[0] && oneEdit(a, b, true)) return true;
  if (t.squeezed === w.squeezed) return true;
  if (t.vowelless && n >= 2 && t.skeleton === w.skeleton) return true;
  return n >= 4 && n <= m && t.sound === w.sound;
}

/** Could `t` (a token's letters, maybe with a star) be a way of writing the lexicon word `w`? */
export function looksLike(t: string, w: string): boolean {
  return w.length >= 3 && latinOrMask(w) && !w.includes('*') && looksLikeForm(shapesOf(t), shapesOf(w));
}

/**
 * The automaton's transitions: an open-addressing hash table over (state, word) in typed
 * arrays, grown as patterns are added. A Map keyed by state × words + word needs keys beyond
 * small integers, which V8 boxes and hashes slowly; this table is what the scan reads for
 * every word, and what building writes for every pattern word.
 */
class EdgeTable {
  private states: Int32Array;
  private words: Int32Array;
  private targets: Int32Array;
  private mask: number;
  private count = 0;

  constructor(size = 1 << 16) {
    this.mask = size - 1;
    this.states = new Int32Array(size).fill(-1);
    this.words = new Int32Array(size);
    this.targets = new Int32Array(size);
  }

  private static hash(state: number, word: number): number {
    return Math.imul(state, 0x9e3779b1) ^ Math.imul(word + 0x7f4a7c15, 0x85ebca77);
  }

  /** The state reached from `state` on `word`, or -1. */
  get(state: number, word: number): number {
    let h = EdgeTable.hash(state, word) & this.mask;
    for (;;) {
      const s = this.states[h]!;
      if (s === -1) return -1;
      if (s === state && this.words[h] === word) return this.targets[h]!;
      h = (h + 1) & this.mask;
    }
  }

  /** Adds a transition that is not there yet. */
  add(state: number, word: number, to: number): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    let h = EdgeTable.hash(state, word) & this.mask;
    while (this.states[h] !== -1) h = (h + 1) & this.mask;
    this.states[h] = state;
    this.words[h] = word;
    this.targets[h] = to;
    this.count++;
  }

  private grow(): void {
    const { states, words, targets } = this;
    const size = (this.mask + 1) * 2;
    this.mask = size - 1;
    this.states = new Int32Array(size).fill(-1);
    this.words = new Int32Array(size);
    this.targets = new Int32Array(size);
    this.count = 0;
    for (let i = 0; i < states.length; i++) if (states[i] !== -1) this.add(states[i]!, words[i]!, targets[i]!);
  }
}

/** What a matched pattern means. One word sequence can mean several things at once. */
export type Payload =
  | { kind: 'term'; rule: number }
  /** One part of a pair (0, 1) or frame (0, 1, 2). */
  | { kind: 'part'; rule: number; part: number }
  | { kind: 'context'; context: ContextKind };

/**
 * A phrase with many alternatives ("{dont,cant,wont} {go to,see} {the nurse,a doctor}") is not
 * expanded into every combination — that grows as the product of its choices. Its slots are
 * matched on their own and chained when they sit end to end: memory grows with the sum of the
 * choices (plus the first two slots' product), and matching stays one pass.
 */
export type SlottedPhrase = { payload: Payload; slots: number };

export type Rule = {
  id: string;
  category: Category;
  severity: Severity;
  flags: ReadonlySet<TermFlag>;
  language: string;
  /** For pair rules: most words allowed between the two parts. */
  window?: number;
  pair: boolean;
  /** Pairs have 2 parts, frames 3. */
  parts?: number;
  /** Context kinds of which one must sit just before or inside the span (frames). */
  needs?: readonly ContextKind[];
  /** Word classes each part named, for the explanation. */
  classes?: readonly string[][];
  /**
   * A one-word term written only in inflected forms ("shotting", "jewed", "homos") means
   * something its stem does not ("shot", "jew", "homo"): it matches only these forms.
   */
  exactForms?: ReadonlySet<string>;
};

export type Match = { payloads: readonly Payload[]; start: number; end: number; pattern: number };

/**
 * The compiled lexicon: words become integer ids, every term a sequence of ids, and all
 * sequences one Aho–Corasick automaton over words. Scanning is one pass over the tokens with
 * a bounded number of failure steps per token (amortised linear), whatever the lexicon size.
 */
export class CompiledLexicon {
  readonly vocab = new Map<string, number>();
  /**
   * Lexicon words with every letter run cut to one, for inputs like "kiiiill": the first word
   * listed that squeezes to each form. Only forms first claimed by another word ("kil" by
   * "kill") are kept here; a form first claimed by the word itself (most words have no doubled
   * letter) is found in `vocab` (see `squeezedId`).
   */
  private readonly squeezedVocab = new Map<string, number>();
  /**
   * One-typo readings of longer lexicon words — two neighbouring letters swapped ("haet"),
   * or one inner letter missing ("hatrd") — for the misspellings that slip past exact lists:
   * `typoOk[id]` marks the words that get them (see `untypo`).
   */
  private typoOk: Uint8Array = new Uint8Array(0);
  /** Lexicon words by id. */
  private readonly words: string[] = [];
  /** Lexicon words by stem: the reading of an inflection the lexicon does not list. */
  private readonly stems = new Map<string, number>();
  /** Words of category terms and pairs (not context words), the only ones given typo readings. */
  readonly typoWords = new Set<number>();
  private readonly table = new EdgeTable();
  private states = 1;
  private fail: Int32Array = new Int32Array(1);
  /** Transitions from the root, by word id: the hot path, as most words start nothing. */
  private root: Int32Array = new Int32Array(0);
  /** The pattern ending at each state (-1: none): a trie state stands for one word sequence. */
  private readonly output: number[] = [-1];
  /** Children of each state, for building failure links breadth-first. */
  private readonly children: number[][] = [[]];
  /**
   * Per automaton state, the patterns ending there (own and through failure links): list
   * `emitOf[state]`, whose patterns are `emitList[emitStart[list] .. emitStart[list + 1])`.
   * A state with no pattern of its own shares its failure state's list.
   */
  private emitOf: Int32Array = new Int32Array(1);
  private emitStart: Int32Array = new Int32Array(2);
  private emitList: Int32Array = new Int32Array(0);
  readonly patternLength: number[] = [];
  readonly patternPayloads: Payload[][] = [];
  /**
   * Slotted phrases: only the first slot is in the automaton. Their later slots are tries over
   * word ids, all held in one edge table (`slotEdges`, node × word → child node). For a pattern
   * p that is some phrase's first slot, `firstTrie[p]` is the root of one trie over the second
   * slots of every phrase p starts; a node's ends (`slotEnds`) are the phrases whose second slot
   * can end there. A phrase's third and later slots each have their own trie, whose roots are
   * `laterRoots[laterBase[phrase] + slot - 2]`. Typed arrays, not a Map per node: a trie node is
   * then a dozen bytes, not a hundred.
   */
  private readonly slotEdges = new EdgeTable(1 << 12);
  private slotNodes = 0;
  /** Phrases ending at each trie node, while building; `slotEndStart`/`slotEndList` after sealing. */
  private slotEndsBuild: Map<number, number[]> | null = new Map();
  private slotEndStart: Int32Array = new Int32Array(1);
  private slotEndList: Int32Array = new Int32Array(0);
  /** Trie root per first-slot pattern, while building (`firstTrie` after sealing). */
  private readonly afterFirst = new Map<number, number>();
  /** `afterFirst` as an array by pattern index (-1: no phrase starts with it), for the scan-time lookup. */
  private firstTrie: Int32Array = new Int32Array(0);
  private readonly laterBase: number[] = [];
  private readonly laterRoots: number[] = [];
  readonly rules: Rule[] = [];
  readonly slotted: SlottedPhrase[] = [];
  /** Ordinary words: a token that is one is not read as a typo of, or cut into, lexicon words. */
  common: ReadonlySet<string> = new Set();
  /**
   * Evidence for cutting a run-together token: the two halves are neighbours in some phrase
   * (`bigrams`, key left × 2^21 + right) or parts of one pair or frame (`partsOf`, rule × 4 + part).
   * Once sealed, the bigram keys are one sorted Float64Array (`bigramKeys`): keys beyond small
   * integers would each be a boxed number in a Set.
   */
  private bigrams: Set<number> | null = new Set<number>();
  private bigramKeys: Float64Array = new Float64Array(0);
  private readonly partsOf = new Map<number, number[]>();

  /**
   * Neighbouring words in category terms (not context phrases): for each word, the words that
   * follow it (`follows`) and precede it (`precedes`). The evidence for a guessed reading.
   */
  private readonly follows = new Map<number, number[]>();
  private readonly precedes = new Map<number, number[]>();

  private noteNeighbours(ids: readonly number[]): void {
    for (let i = 1; i < ids.length; i++) {
      const a = ids[i - 1]!;
      const b = ids[i]!;
      let f = this.follows.get(a);
      if (!f) this.follows.set(a, (f = []));
      if (!f.includes(b)) f.push(b);
      let p = this.precedes.get(b);
      if (!p) this.precedes.set(b, (p = []));
      if (!p.includes(a)) p.push(a);
    }
  }

  /** Does `id` begin or end any category term of two or more words? */
  hasNeighbours(id: number): boolean {
    return id >= 0 && (this.follows.has(id) || this.precedes.has(id));
  }

  /**
   * A reading of a token the lexicon does not know — masked ("k*ll", "b*g"), misspelt ("slef",
   * "agian", "stabb"), sounded out ("nife", "tyme", "hyde") or without vowels ("kll") — taken only
   * with evidence: the word it would be is one the known word beside it (`left`, `right`, ids or
   * -1) is written next to in some category term ("slef harm" is "self harm"; "kll" alone stays
   * unread). Ordinary words are never guessed at. Returns the word's id or -1.
   */
  guessBeside(token: Token, left: number, right: number): number {
    const l = left >= 0 ? this.follows.get(left) : undefined;
    const r = right >= 0 ? this.precedes.get(right) : undefined;
    // A word that sits beside hundreds of others ("my", "the") is no evidence.
    const useL = l !== undefined && l.length <= MAX_PARTNERS;
    const useR = r !== undefined && r.length <= MAX_PARTNERS;
    if (!useL && !useR) return -1;
    const form = this.guessForm(token);
    if (form === null) return -1;
    const key = `${useL ? left : -1} ${useR ? right : -1} ${token.text}`;
    const hit = this.guesses.get(key);
    if (hit !== undefined) return hit;
    let id = -1;
    if (useL) for (const w of l) if (this.fits(form, w)) { id = w; break; }
    if (id < 0 && useR) for (const w of r) if (this.fits(form, w)) { id = w; break; }
    if (this.guesses.size >= 50_000) this.guesses.clear();
    this.guesses.set(key, id);
    return id;
  }

  /** Guesses made, by neighbours and token text (bounded). */
  private readonly guesses = new Map<string, number>();

  /** A token's shapes for guessing, by text (bounded cache); null when it is not to be guessed at. */
  private readonly guessForms = new Map<string, GuessForm | null>();

  private guessForm(token: Token): GuessForm | null {
    const hit = this.guessForms.get(token.text);
    if (hit !== undefined) return hit;
    const plain = token.variants[0] ?? token.text;
    let form: GuessForm | null = null;
    if (plain.length >= 2 && plain.length <= 16 && !this.common.has(plain) && latinOrMask(plain)) form = shapesOf(plain);
    if (this.guessForms.size >= 50_000) this.guessForms.clear();
    this.guessForms.set(token.text, form);
    return form;
  }

  /** Lexicon words' shapes, by id, made on first use. */
  private wordForms: Array<GuessForm | null | undefined> = [];

  private fits(t: GuessForm, id: number): boolean {
    let w = this.wordForms[id];
    if (w === undefined) {
      const word = this.words[id]!;
      w = this.wordForms[id] = word.length >= 3 && latinOrMask(word) && !word.includes('*') ? shapesOf(word) : null;
    }
    return w !== null && looksLikeForm(t, w);
  }

  /** Records that a one-word alternative is part `part` of pair or frame `rule`. */
  notePart(word: string, rule: number, part: number): void {
    const id = this.wordId(word);
    let list = this.partsOf.get(id);
    if (!list) this.partsOf.set(id, (list = []));
    list.push(rule * 4 + part);
  }

  private hasBigram(key: number): boolean {
    if (this.bigrams) return this.bigrams.has(key);
    const keys = this.bigramKeys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo < keys.length && keys[lo] === key;
  }

  private linked(left: number, right: number): boolean {
    if (this.hasBigram(left * 2 ** 21 + right)) return true;
    const a = this.partsOf.get(left);
    const b = this.partsOf.get(right);
    if (!a || !b) return false;
    for (const x of a) for (const y of b) if (x >> 2 === y >> 2 && x !== y) return true;
    return false;
  }

  /**
   * Words are keyed as written. Each is also filed under its stem (see `stem` in normalise.ts),
   * so a token the lexicon does not list ("stabbed", "overdosing", "pills") is read as the
   * lexicon word of the same stem ("stab", "overdose", "pill"). A listed form always wins: the
   * lexicon's own distinctions ("threats to" is not "threat to", "gays" is not "gay") stand.
   */
  wordId(word: string, exact = false): number {
    let id = this.vocab.get(word);
    if (id === undefined) {
      id = this.vocab.size;
      this.vocab.set(word, id);
      this.words.push(word);
      const sq = squeeze(word, 1);
      // `vocab` holding the form means that word (its own squeeze) claimed it when added.
      if (sq !== word && !this.squeezedVocab.has(sq) && !this.vocab.has(sq)) this.squeezedVocab.set(sq, id);
      // A joined form ("proed" from "pro ed") is an artefact, not an inflection: never stemmed.
      if (!exact) {
        const st = stem(word);
        // The base form (its own stem) takes the slot; otherwise the first form listed.
        if (st === word || !this.stems.has(st)) this.stems.set(st, id);
      }
    }
    return id;
  }

  /** The first lexicon word that squeezes to `squeezed` (a form with no letter run), if any. */
  private squeezedId(squeezed: string): number | undefined {
    return this.squeezedVocab.get(squeezed) ?? this.vocab.get(squeezed);
  }

  /**
   * Tokens already resolved, by text: resolution depends on the text alone, and text is
   * Zipfian, so one lookup replaces the exact, stem, common-word, variant and typo lookups for
   * almost every token. Bounded: cleared when full.
   */
  private readonly resolved = new Map<string, number>();

  /** The lexicon word a token stands for, or -1. */
  resolve(token: Token): number {
    const hit = this.resolved.get(token.text);
    if (hit !== undefined) return hit;
    const id = this.resolveUncached(token);
    if (this.resolved.size >= 100_000) this.resolved.clear();
    this.resolved.set(token.text, id);
    return id;
  }

  private resolveUncached(token: Token): number {
    const exact = this.vocab.get(token.text);
    if (exact !== undefined) return exact;
    // A word with no inflection's ending is its own stem: "pest" finds the listed "pests".
    const inflected = this.stems.get(inflectable(token.text) ? stem(token.text) : token.text);
    // An ordinary word is not read as an inflection of a word that is not ordinary ("whoring",
    // "impeding"): slang and other languages' words stand only in their listed forms.
    if (inflected !== undefined && (!this.common.has(token.text) || this.common.has(this.words[inflected]!))) return inflected;
    // An ordinary word is what it says: no dropped-g or typo guesses ("begin" is not "beging").
    if (this.common.has(token.text)) return -1;
    for (const v of token.variants) {
      const id = this.vocab.get(v) ?? this.stems.get(inflectable(v) ? stem(v) : v);
      if (id !== undefined) return id;
    }
    if (token.squeezed !== null) {
      const id = this.squeezedId(token.squeezed);
      if (id !== undefined) return id;
    }
    const plain = token.variants[0] ?? token.text;
    const mask = plain.includes('*') ? plain : token.variants.find((v) => v.includes('*'));
    if (mask !== undefined) {
      return this.unmask(mask);
    }
    if (plain.length < 4 || plain.length > 13 || this.common.has(plain)) return -1;
    return this.untypo(plain);
  }

  /**
   * A pronoun run into the next word ("ihate", "ukill", "allmuslims"): the two words, when the
   * rest is a lexicon word of four or more letters. Only these short prefixes are tried, so
   * ordinary words that merely contain a lexicon word ("therapist") are left alone.
   */
  splitRunOn(token: Token): [Token, Token] | null {
    // Where a word is cut depends on its text alone: found once per word (bounded cache).
    let cut = this.runOnCuts.get(token.text);
    if (cut === undefined) {
      cut = this.runOnCut(token.text);
      if (this.runOnCuts.size >= 50_000) this.runOnCuts.clear();
      this.runOnCuts.set(token.text, cut);
    }
    return cut < 0 ? null : this.cutAt(token, cut);
  }

  /** Where splitRunOn cuts a word, by its text; -1 for nowhere. */
  private readonly runOnCuts = new Map<string, number>();

  private runOnCut(text: string): number {
    if (text.length < 5 || !RUN_ON_FIRST.has(text.charCodeAt(0))) return this.splitPair(text);
    for (const prefix of RUN_ON_PREFIXES) {
      if (!text.startsWith(prefix) || text.length - prefix.length < 4) continue;
      const rest = text.slice(prefix.length);
      if (!(this.vocab.has(rest) || this.stems.has(stem(rest))) || !this.vocab.has(prefix)) continue;
      return prefix.length;
    }
    return this.splitPair(text);
  }

  /**
   * Two lexicon words with the space between them lost ("femalevermin", "hangall"): both
   * parts of four or more letters, or a longer word and one of a few short words that
   * often follow. Only tokens the lexicon does not know get here, and a cut counts only when
   * both halves are lexicon words, so "therapist" stays whole.
   */
  private splitPair(text: string): number {
    if (text.length < 6 || text.length > 24 || !/^[a-z]+$/.test(text) || this.common.has(text)) return -1;
    for (const suffix of RUN_ON_SUFFIXES) {
      if (text.length - suffix.length >= 4 && text.endsWith(suffix) && this.vocab.has(text.slice(0, -suffix.length))) {
        return text.length - suffix.length;
      }
    }
    // An ordinary word ("pronounce") was never two words: the common-word check above is the
    // evidence. Of the cuts left, one whose halves belong together (a phrase, a pair) comes first.
    let fallback = -1;
    for (let i = 4; i <= text.length - 4; i++) {
      const left = this.vocab.get(text.slice(0, i));
      const right = left === undefined ? undefined : this.vocab.get(text.slice(i));
      if (left === undefined || right === undefined) continue;
      if (this.linked(left, right)) return i;
      if (fallback < 0) fallback = i;
    }
    return fallback;
  }

  private cutAt(token: Token, i: number): [Token, Token] {
    const cut = Math.min(token.start + i, token.end);
    return [new Token(token.text.slice(0, i), token.start, cut), new Token(token.text.slice(i), cut, token.end)];
  }

  /** Marks the words that get typo readings: category words (typoWords), Latin letters only. */
  private markTypos(): void {
    this.typoOk = new Uint8Array(this.words.length);
    for (const id of this.typoWords) if (/^[a-z]+$/.test(this.words[id]!)) this.typoOk[id] = 1; // other scripts have other typos
  }

  /**
   * The one typo-reading word `plain` is a typo of, or -1: a word with two neighbouring letters
   * swapped (not the first; "haet") from four letters, or one inner letter dropped ("hatrd")
   * from six. A reading that is itself a lexicon word, or that two words share, stands for none.
   * Found by undoing each possible typo (a swap back, each letter put back) and looking the
   * results up, so no index of every word's typos (41,000 keys) is held.
   */
  private untypo(plain: string): number {
    const n = plain.length;
    if (n < 4 || this.vocab.has(plain)) return -1;
    for (let i = 0; i < n; i++) {
      const c = plain.charCodeAt(i);
      if (c < 0x61 || c > 0x7a) return -1;
    }
    let found = -1;
    const consider = (word: string): boolean => {
      const id = this.vocab.get(word);
      if (id === undefined || this.typoOk[id] !== 1) return true;
      if (found >= 0 && found !== id) return false; // two words: ambiguous
      found = id;
      return true;
    };
    for (let i = 1; i < n - 1; i++) {
      if (plain[i] === plain[i + 1]) continue;
      if (!consider(plain.slice(0, i) + plain[i + 1] + plain[i] + plain.slice(i + 2))) return -1;
    }
    if (n + 1 >= 6) {
      for (let i = 1; i < n; i++) {
        const before = plain.slice(0, i);
        const after = plain.slice(i);
        for (let c = 0x61; c <= 0x7a; c++) if (!consider(before + String.fromCharCode(c) + after)) return -1;
      }
    }
    return found;
  }

  /** Adds a phrase (already normalised, space-separated words) with a meaning. */
  addPattern(words: readonly string[], payload: Payload | null, typo = false, joined = false): number {
    if (words.length === 0) return -1;
    const ids = words.map((w) => this.wordId(w, joined));
    for (let i = 1; i < ids.length; i++) this.bigrams!.add(ids[i - 1]! * 2 ** 21 + ids[i]!);
    if (payload && payload.kind !== 'context' && ids.length > 1) this.noteNeighbours(ids);
    if (typo && payload && payload.kind !== 'context') {
      // A single word gets typo readings from four letters; inside a phrase, whose other words
      // must match too, from five (short words' typos are too often other real words).
      const min = words.length === 1 ? 4 : 5;
      words.forEach((w, i) => {
        if (w.length >= min && w.length <= 12) this.typoWords.add(ids[i]!);
      });
    }
    // A trie state stands for exactly one word sequence, so the state a pattern ends in is its identity.
    let state = 0;
    for (const id of ids) {
      let to = this.table.get(state, id);
      if (to === -1) {
        to = this.states++;
        this.output.push(-1);
        this.children.push([]);
        this.table.add(state, id, to);
        this.children[state]!.push(id);
      }
      state = to;
    }
    let index = this.output[state]!;
    if (index < 0) {
      index = this.patternLength.length;
      this.patternLength.push(ids.length);
      this.patternPayloads.push([]);
      this.output[state] = index;
    }
    const list = this.patternPayloads[index]!;
    if (payload && !list.some((p) => samePayload(p, payload))) list.push(payload);
    return index;
  }

  /**
   * The lexicon word a token with one letter masked ("k*ll", "sl*t", "c*ke") stands for, or -1:
   * the one Latin word of 3–12 letters that fills the star with a letter. A mask two words fill
   * ("b*g": bag, big…) stands for none. Read by filling the star (26 lookups, and `resolve`
   * remembers the answer) rather than from an index of every word's masks, which is
   * 145,000 keys and 11 MB held for good once a masked token turns up.
   */
  private unmask(mask: string): number {
    const star = mask.indexOf('*');
    if (mask.length < 3 || mask.length > 12 || star < 0 || mask.indexOf('*', star + 1) >= 0) return -1;
    for (let i = 0; i < mask.length; i++) {
      const c = mask.charCodeAt(i);
      if (i !== star && (c < 0x61 || c > 0x7a)) return -1;
    }
    const before = mask.slice(0, star);
    const after = mask.slice(star + 1);
    let found = -1;
    for (let c = 0x61; c <= 0x7a; c++) {
      const id = this.vocab.get(before + String.fromCharCode(c) + after);
      if (id === undefined) continue;
      if (found >= 0 && found !== id) return -1;
      found = id;
    }
    return found;
  }

  /** Builds failure links breadth-first; call once after the last addPattern. */
  seal(): void {
    this.markTypos();
    const table = this.table;
    const n = this.states;
    this.fail = new Int32Array(n);
    const emits = new Array<number[]>(n);
    emits[0] = this.output[0]! >= 0 ? [this.output[0]!] : [];
    const queue: number[] = [];
    for (const id of this.children[0]!) queue.push(table.get(0, id));
    for (let q = 0; q < queue.length; q++) {
      const state = queue[q]!;
      const f = this.fail[state]!;
      const own = this.output[state]!;
      emits[state] = own >= 0 ? [own, ...emits[f]!] : emits[f]!;
      for (const id of this.children[state]!) {
        const child = table.get(state, id);
        let g = f;
        while (g !== 0 && table.get(g, id) === -1) g = this.fail[g]!;
        const to = table.get(g, id);
        this.fail[child] = to !== -1 && to !== child ? to : 0;
        queue.push(child);
      }
    }
    this.root = new Int32Array(this.vocab.size);
    for (const id of this.children[0]!) this.root[id] = table.get(0, id);
    // Only needed to build: a small heap matters on a school laptop.
    this.children.length = 0;
    this.output.length = 0;
    // Emit lists packed: one Int32Array, each distinct list once.
    const listOf = new Map<number[], number>();
    let total = 0;
    for (const list of emits) {
      if (!listOf.has(list)) {
        listOf.set(list, listOf.size);
        total += list.length;
      }
    }
    this.emitOf = new Int32Array(n);
    this.emitStart = new Int32Array(listOf.size + 1);
    this.emitList = new Int32Array(total);
    let at = 0;
    for (const [list, i] of listOf) {
      this.emitStart[i] = at;
      for (const p of list) this.emitList[at++] = p;
    }
    this.emitStart[listOf.size] = at;
    for (let state = 0; state < n; state++) this.emitOf[state] = listOf.get(emits[state]!)!;
    this.bigramKeys = Float64Array.from(this.bigrams ?? []).sort();
    this.bigrams = null;
    // Neighbour and part lists exact-sized (a list grown by push keeps spare room).
    for (const map of [this.follows, this.precedes, this.partsOf]) for (const [k, list] of map) map.set(k, list.slice());
    // Payload lists exact-sized, and one list for each distinct meaning (most are one term's).
    const lists = new Map<string, Payload[]>();
    const payloadIds = new Map<Payload, number>();
    for (let p = 0; p < this.patternPayloads.length; p++) {
      const list = this.patternPayloads[p]!;
      let key = '';
      for (const payload of list) {
        let id = payloadIds.get(payload);
        if (id === undefined) payloadIds.set(payload, (id = payloadIds.size));
        key += `${id},`;
      }
      let shared = lists.get(key);
      if (!shared) lists.set(key, (shared = list.slice()));
      this.patternPayloads[p] = shared;
    }
    this.typoWords.clear();
    this.firstTrie = new Int32Array(this.patternLength.length).fill(-1);
    for (const [p, root] of this.afterFirst) this.firstTrie[p] = root;
    this.afterFirst.clear(); // firstTrie holds them now
    const ends = this.slotEndsBuild ?? new Map<number, number[]>();
    this.slotEndStart = new Int32Array(this.slotNodes + 1);
    let endCount = 0;
    for (const list of ends.values()) endCount += list.length;
    this.slotEndList = new Int32Array(endCount);
    for (let node = 0, k = 0; node < this.slotNodes; node++) {
      this.slotEndStart[node] = k;
      for (const phrase of ends.get(node) ?? []) this.slotEndList[k++] = phrase;
      this.slotEndStart[node + 1] = k;
    }
    this.slotEndsBuild = null;
  }

  /** Every pattern occurrence in the tokens, as token index ranges [start, end). */
  scan(ids: ArrayLike<number>): Match[] {
    const found: Match[] = [];
    const table = this.table;
    let state = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < 0) {
        state = 0;
        continue;
      }
      let to = state === 0 ? -1 : table.get(state, id);
      while (to === -1 && state !== 0) {
        state = this.fail[state]!;
        if (state !== 0) to = table.get(state, id);
      }
      state = to !== -1 ? to : this.root[id]!;
      const list = this.emitOf[state]!;
      for (let k = this.emitStart[list]!, last = this.emitStart[list + 1]!; k < last; k++) {
        const p = this.emitList[k]!;
        found.push({ payloads: this.patternPayloads[p]!, start: i + 1 - this.patternLength[p]!, end: i + 1, pattern: p });
      }
    }
    return found;
  }

  /**
   * Completes slotted phrases: from each first-slot match, the later slots are read straight
   * off the word ids through their tries. Work per first-slot match is bounded by the longest
   * slot alternative, not by the input. Completed phrases are merged into `found` by end, so
   * the result stays in scan order.
   */
  chainSlots(found: Match[], ids: ArrayLike<number>): Match[] {
    const firsts = this.firstTrie;
    const edges = this.slotEdges;
    const endStart = this.slotEndStart;
    const endList = this.slotEndList;
    let k = 0;
    while (k < found.length && !(found[k]!.pattern >= 0 && firsts[found[k]!.pattern]! >= 0)) k++;
    if (k === found.length) return found; // no slotted phrase starts here: nothing to build
    let done: Match[] | null = null;
    const complete = (phrase: number, slot: number, start: number, end: number) => {
      const sp = this.slotted[phrase]!;
      if (slot === sp.slots - 1) {
        (done ??= []).push({ payloads: [sp.payload], start, end, pattern: -1 });
        return;
      }
      walk(this.laterRoots[this.laterBase[phrase]! + slot + 1 - 2]!, slot + 1, start, end);
    };
    const walk = (root: number, slot: number, start: number, from: number) => {
      let node = root;
      for (let i = from; i < ids.length; ) {
        const id = ids[i]!;
        node = id < 0 ? -1 : edges.get(node, id);
        if (node < 0) return;
        i++;
        for (let e = endStart[node]!, last = endStart[node + 1]!; e < last; e++) complete(endList[e]!, slot, start, i);
      }
    };
    for (; k < found.length; k++) {
      const m = found[k]!;
      const root = m.pattern >= 0 ? firsts[m.pattern]! : -1;
      if (root >= 0) walk(root, 1, m.start, m.end);
    }
    if (!done) return found;
    const extra = (done as Match[]).sort((a, b) => a.end - b.end);
    const out: Match[] = [];
    let j = 0;
    for (const m of found) {
      while (j < extra.length && extra[j]!.end <= m.end) out.push(extra[j++]!);
      out.push(m);
    }
    while (j < extra.length) out.push(extra[j++]!);
    return out;
  }

  /** Registers a slotted phrase from its slots' alternatives (normalised words, none empty). */
  addSlotted(slots: string[][][], payload: Payload, typos = false): void {
    const phrase = this.slotted.length;
    this.slotted.push({ payload, slots: slots.length });
    const ends = this.slotEndsBuild!;
    const insert = (root: number, words: string[]) => {
      let node = root;
      for (const w of words) {
        const id = this.wordId(w);
        if (typos && w.length >= 5 && w.length <= 12) this.typoWords.add(id);
        let child = this.slotEdges.get(node, id);
        if (child < 0) this.slotEdges.add(node, id, (child = this.slotNodes++));
        node = child;
      }
      const list = ends.get(node);
      if (!list) ends.set(node, [phrase]);
      else if (list[list.length - 1] !== phrase) list.push(phrase);
    };
    for (const words of slots[0]!) {
      const q = this.addPattern(words, null);
      if (typos) for (const w of words) if (w.length >= 5 && w.length <= 12) this.typoWords.add(this.wordId(w));
      let trie = this.afterFirst.get(q);
      if (trie === undefined) this.afterFirst.set(q, (trie = this.slotNodes++));
      for (const alt of slots[1]!) insert(trie, alt);
    }
    this.laterBase.push(this.laterRoots.length);
    for (let slot = 2; slot < slots.length; slot++) {
      const root = this.slotNodes++;
      for (const alt of slots[slot]!) insert(root, alt);
      this.laterRoots.push(root);
    }
  }

  get stateCount(): number {
    return this.states;
  }
}

/**
 * Could stemming change this word? Only words that end in an inflection's letter (s, d, g, y,
 * e) can change: a cheap test that keeps the stemmer off most tokens.
 */
function inflectable(w: string): boolean {
  const n = w.length;
  if (n < 3) return false;
  const c = w.charCodeAt(n - 1);
  return c === 0x73 || c === 0x64 || c === 0x67 || c === 0x79 || c === 0x65;
}

function samePayload(a: Payload, b: Payload): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'context') return a.context === (b as typeof a).context;
  if (a.kind === 'part') return a.rule === (b as typeof a).rule && a.part === (b as typeof a).part;
  return a.rule === (b as { rule: number }).rule;
}

/** Phrases with more combinations than this are matched slot by slot. */
const MAX_EXPANSIONS = 16;

/** Splits a phrase template into words at spaces outside braces: "a {b c,d} e{,s}" → [a, {b c,d}, e{,s}]. */
function templateWords(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let word = '';
  for (const ch of text) {
    if (ch === '{') depth++;
    if (ch === '}') depth = Math.max(0, depth - 1);
    if (ch === ' ' && depth === 0) {
      if (word) out.push(word);
      word = '';
    } else word += ch;
  }
  if (word) out.push(word);
  return out;
}

/**
 * Normalised words of a phrase, remembered while a lexicon compiles: the same alternatives
 * ("@protected_groups", pronouns, time words) recur in thousands of phrases.
 */
const normalisedCache = new Map<string, string[]>();
function normalisedWords(phrase: string): string[] {
  let words = normalisedCache.get(phrase);
  if (!words) {
    words = normalisePhrase(phrase).split(' ').filter(Boolean);
    normalisedCache.set(phrase, words);
  }
  return words;
}

/** Registers a phrase: every combination if there are few, otherwise slot by slot. */
/**
 * `typos`: give the phrase's words one-typo readings. Only English terms get them: a typo of a
 * word in another language is too often a real word of that language ("pociłam" for "pocięłam").
 */
function addPhrase(lex: CompiledLexicon, text: string, payload: Payload, typos = false): void {
  const expansions = expandAlternatives(text);
  if (expansions.length <= MAX_EXPANSIONS) {
    for (const f of forms(text)) lex.addPattern(f.words, payload, typos && f.typo, !f.typo);
    return;
  }
  // Slots: each template word's alternatives; runs of plain words become one slot.
  let slots: string[][] = [];
  for (const w of templateWords(text)) {
    const alts = expandAlternatives(w).map((a) => normalisePhrase(a));
    const last = slots[slots.length - 1];
    if (alts.length === 1 && last && last.length === 1 && last[0] !== '') last[0] = `${last[0]} ${alts[0]}`.trim();
    else slots.push(alts);
  }
  // An optional slot ("{,all}") is folded into its neighbour, so every slot is required.
  for (let i = 0; i < slots.length; ) {
    const alts = slots[i]!;
    if (!alts.includes('') || slots.length === 1) {
      i++;
      continue;
    }
    const other = i + 1 < slots.length ? i + 1 : i - 1;
    const [first, second] = other > i ? [alts, slots[other]!] : [slots[other]!, alts];
    const joined = [...new Set(first.flatMap((x) => second.map((y) => `${x} ${y}`.trim())))];
    slots.splice(Math.min(i, other), 2, joined);
    i = Math.min(i, other);
  }
  slots = slots.map((alts) => alts.filter((a) => a !== ''));
  if (slots.length === 1) {
    for (const alt of slots[0]!) lex.addPattern(alt.split(' '), payload, typos);
    return;
  }
  lex.addSlotted(
    slots.map((alts) => alts.map((a) => a.split(' '))),
    payload,
    typos,
  );
}

function slug(category: string, language: string, text: string, taken: Set<string>): string {
  const ascii = /^[a-z0-9 ]+$/.test(text);
  const base = ascii ? text.replace(/ /g, '_').slice(0, 40) : createHash('sha1').update(text).digest('hex').slice(0, 10);
  let id = `${category}.${language}.${base}`;
  for (let n = 2; taken.has(id); n++) id = `${category}.${language}.${base}.${n}`;
  taken.add(id);
  return id;
}

/**
 * Every normalised form of a lexicon phrase: alternatives expanded; multi-word also joined.
 * `typo` marks the words as written (not the joined form), which get one-typo readings.
 */
function forms(text: string): Array<{ words: string[]; typo: boolean }> {
  const out: Array<{ words: string[]; typo: boolean }> = [];
  for (const alt of expandAlternatives(text)) {
    const words = normalisedWords(alt);
    if (words.length === 0) continue;
    out.push({ words, typo: true });
    if (words.length > 1) out.push({ words: [words.join('')], typo: false });
  }
  return out;
}

/** One read-only flag set per distinct combination, shared by the rules that have it (thousands of rules, a few combinations). */
const flagSets = new Map<string, ReadonlySet<TermFlag>>();
function flagSet(flags: readonly TermFlag[]): ReadonlySet<TermFlag> {
  const key = flags.join(',');
  let set = flagSets.get(key);
  if (!set) flagSets.set(key, (set = new Set(flags)));
  return set;
}

/** Compiles the lexicon source (by default, the YAML files beside the package). */
export function compileLexicon(source: LexiconSource = readLexicon()): CompiledLexicon {
  const lex = new CompiledLexicon();
  lex.common = source.common ?? new Set();
  const taken = new Set<string>();
  for (const file of source.categories) {
    for (const term of file.terms) {
      const rule = lex.rules.length;
      lex.rules.push({
        id: slug(file.category, file.language, normalisePhrase(expandAlternatives(term.text).find((t) => t.trim()) ?? '') || 'term', taken),
        category: file.category,
        severity: term.severity as Severity,
        flags: flagSet(term.flags),
        language: file.language,
        pair: false,
      });
      // One-word terms only (no space outside braces, few alternatives): phrases are long and many.
      if (templateWords(term.text).length === 1) {
        const alternatives = expandAlternatives(term.text);
        const single = alternatives.length <= MAX_EXPANSIONS ? alternatives.map((t) => normalisePhrase(t)).filter((t) => t && !t.includes(' ')) : [];
        if (single.length && single.every((w) => stem(w) !== w)) lex.rules[rule]!.exactForms = new Set(single);
      }
      addPhrase(lex, term.text, { kind: 'term', rule }, file.language === 'en');
    }
    for (const pair of file.pairs) {
      const rule = lex.rules.length;
      lex.rules.push({
        id: slug(file.category, file.language, `${pair.c || pair.needs ? 'frame' : 'pair'} ${pair.id.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim()}`, taken),
        category: file.category,
        severity: pair.severity as Severity,
        flags: flagSet(pair.flags),
        language: file.language,
        window: pair.window,
        pair: true,
        parts: pair.c ? 3 : pair.b.length ? 2 : 1,
        ...(pair.needs ? { needs: pair.needs } : {}),
        classes: pair.classes ?? [],
      });
      [pair.a, pair.b, ...(pair.c ? [pair.c] : [])].forEach((list, part) => {
        const payload: Payload = { kind: 'part', rule, part };
        for (const w of list) {
          addPhrase(lex, w, payload, file.language === 'en');
          const words = normalisePhrase(w).split(' ');
          if (words.length === 1 && !w.includes('{')) lex.notePart(words[0]!, rule, part);
        }
      });
    }
  }
  const contextPayloads = new Map<ContextKind, Payload>(CONTEXT_KINDS.map((kind) => [kind, { kind: 'context', context: kind }]));
  for (const ctx of source.contexts) {
    for (const kind of CONTEXT_KINDS) {
      for (const phrase of ctx.words[kind] ?? []) addPhrase(lex, phrase, contextPayloads.get(kind)!);
    }
  }
  lex.seal();
  normalisedCache.clear();
  return lex;
}
