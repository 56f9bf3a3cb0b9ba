/**
 * Features of the learned signal: hashed word unigrams and bigrams over the scorer's own
 * normalised, stemmed words, so leetspeak, homoglyphs and inflections meet the same features the
 * lexicon sees. Shared by training and scoring, so both sides always agree.
 */
import { stem, tokenize } from '../normalise';

export const HASH_BITS = 18;
const MASK = (1 << HASH_BITS) - 1;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export type Features = { ids: Int32Array; names: string[] };

/** At most this many words are read: the model scores phrases, titles and the start of a screen. */
const MAX_WORDS = 200;

export function features(text: string, withNames = false): Features {
  const words: string[] = [];
  for (const t of tokenize(text)) {
    if (words.length >= MAX_WORDS) break;
    words.push(stem(t.variants[0] ?? t.text));
  }
  const names: string[] = [];
  const ids: number[] = [];
  const add = (name: string) => {
    ids.push(fnv1a(name) & MASK);
    if (withNames) names.push(name);
  };
  for (let i = 0; i < words.length; i++) {
    add(words[i]!);
    if (i > 0) add(`${words[i - 1]} ${words[i]}`);
  }
  return { ids: Int32Array.from(ids), names };
}
