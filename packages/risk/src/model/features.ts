/**
 * Features of the learned signal, shared by training and scoring so both sides always agree:
 * over the scorer's own normalised words (leetspeak, homoglyphs and masking already read), the
 * stemmed word unigrams and bigrams, and the character 3- and 4-grams of each word with its
 * edges marked (`<cut`, `ing>`), so an inflection, a misspelling or a word in a language with few
 * examples still meets features it shares with the words the model saw. Hashed into 2^17
 * buckets without building strings.
 */
import { stem, tokenize, type Token } from '../normalise';

export const HASH_BITS = 17;
const MASK = (1 << HASH_BITS) - 1;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const GRAM_PRIME = 0x2f0b3;

function fnv(s: string, h = FNV_OFFSET): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

/** Final mixing of a hash into a bucket (murmur3's finaliser). */
function bucket(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & MASK;
}

/** A stem's hash, from which its unigram and the pairs it is in are made. */
export const stemHash = (stemmed: string): number => fnv(stemmed);
/** A word's unigram bucket, from its stem's hash. */
export const unigramId = (h: number): number => bucket(h);
/** A word pair's bucket, from the two stems' hashes. */
export const bigramId = (a: number, b: number): number => bucket(Math.imul(a ^ 0x5bd1e995, 0x27d4eb2d) + b);

const code = (raw: string, k: number, len: number): number => (k === 0 ? 0x3c : k === len - 1 ? 0x3e : raw.charCodeAt(k - 1));

/**
 * The character 3- and 4-grams of "<raw>" into `out` from `at`; returns the new end. A word of
 * one letter has none. Polynomial hashes, the 4-gram extending the 3-gram, so each costs a few
 * multiplications.
 */
export function charGramIds(raw: string, out: Int32Array | number[], at: number): number {
  const len = raw.length + 2;
  if (len <= 3) return at;
  for (let j = 0; j + 3 <= len; j++) {
    const h3 = Math.imul(Math.imul(code(raw, j, len) + 0x100, GRAM_PRIME) + code(raw, j + 1, len), GRAM_PRIME) + code(raw, j + 2, len);
    out[at++] = bucket(h3 ^ 0x3000000);
    if (j + 4 <= len) out[at++] = bucket((Math.imul(h3, GRAM_PRIME) + code(raw, j + 3, len)) ^ 0x4000000);
  }
  return at;
}

/** How many character grams a word of this length has. */
export const charGramCount = (n: number): number => (n + 2 <= 3 ? 0 : 2 * (n + 2) - 5);

export type Features = { ids: Int32Array; names: string[]; spans: Array<[number, number]> };

/** At most this many words are read: the model scores phrases, titles and the start of a screen. */
export const MAX_WORDS = 200;

/** The word a token gives the model: its first reading (leetspeak decoded), as the lexicon sees it. */
export const tokenWord = (t: Token): string => t.reading;

/**
 * Groups protected by the Equality Act 2010 (and the nationalities and faiths pupils name) are
 * one word class to the model, `xgroupx`: it learns what is said of a group ("are vermin", "are
 * amazing", "should be sent back"), not which group is named, so naming a group is never the
 * concern and every group is treated alike. Neutral names only — a slur is not a group name and
 * keeps its own features. Adjectives that are also colours or everyday words ("black", "gay",
 * "polish") count only before a word for people.
 */
export const GROUP = 'xgroupx';
const GROUP_NOUNS: ReadonlySet<string> = new Set(
  ('women woman females lesbians lesbian bisexuals homosexuals lgbt lgbtq lgbtq+ transgender transgenders enbies nonbinary muslims muslim jews jewish ' +
    'immigrants immigrant migrants migrant refugees refugee foreigners asylum asians arabs gypsies travellers roma indians pakistanis bangladeshis ' +
    'poles romanians albanians africans nigerians somalis somalians mexicans hindus hindu sikhs sikh christians catholics protestants ' +
    'lithuanians turks kurds afghans syrians eritreans sudanese ukrainians russians jamaicans caribbeans').split(' '),
);
const GROUP_ADJECTIVES: ReadonlySet<string> = new Set(
  ('gay bi bisexual queer trans transgender black white brown asian arab mixed disabled autistic deaf blind muslim jewish christian hindu sikh ' +
    'polish romanian albanian irish chinese indian pakistani bangladeshi african somali nigerian turkish kurdish afghan syrian lithuanian foreign immigrant migrant refugee traveller gypsy roma').split(' '),
);
const PEOPLE: ReadonlySet<string> = new Set('people person persons men women man woman folk folks kids lads guys girls boys students pupils community communities family families children teens teenagers'.split(' '));

/** 1: a group's name; 2: a group's name before a word for people; 0: neither. */
export const groupKind = (raw: string): number => (GROUP_NOUNS.has(raw) ? 1 : GROUP_ADJECTIVES.has(raw) ? 2 : 0);
/** Whether token i + 1 is a word for people (after a kind-2 word, the two name a group). */
export const peopleNext = (tokens: readonly Token[], i: number): boolean => i + 1 < tokens.length && PEOPLE.has(tokenWord(tokens[i + 1]!));

/** The word the model reads for token i: the group class for a group's name, else `tokenWord`. */
export function modelWord(tokens: readonly Token[], i: number): string {
  const raw = tokenWord(tokens[i]!);
  const kind = groupKind(raw);
  return kind === 1 || (kind === 2 && peopleNext(tokens, i)) ? GROUP : raw;
}

/** Every feature of a text (training, and naming what carried a prediction). */
export function features(input: string | readonly Token[], withNames = false): Features {
  const tokens = typeof input === 'string' ? tokenize(input) : input;
  const ids: number[] = [];
  const names: string[] = [];
  const spans: Array<[number, number]> = [];
  let prev: string | null = null;
  let prevHash = 0;
  let prevStart = 0;
  for (let i = 0; i < tokens.length && i < MAX_WORDS; i++) {
    const t = tokens[i]!;
    const raw = modelWord(tokens, i);
    const word = stem(raw);
    const h = stemHash(word);
    // A group's name says nothing by itself: only the words beside it do (its pairs).
    const group = raw === GROUP;
    if (!group) ids.push(unigramId(h));
    if (withNames && !group) {
      names.push(word);
      spans.push([t.start, t.end]);
    }
    if (prev !== null) {
      ids.push(bigramId(prevHash, h));
      if (withNames) {
        names.push(`${prev} ${word}`);
        spans.push([prevStart, t.end]);
      }
    }
    prev = word;
    prevHash = h;
    prevStart = t.start;
    const from = ids.length;
    const end = group ? from : charGramIds(raw, ids, from);
    if (withNames) {
      for (let k = from; k < end; k++) {
        names.push(`#${raw}`);
        spans.push([t.start, t.end]);
      }
    }
  }
  return { ids: Int32Array.from(ids), names, spans };
}
