/**
 * Builds lexicon/common-words.en.txt: ordinary English words (four letters or more) seen at
 * least MIN_COUNT times in the *tune* split of openly licensed benign text — Gutenberg set texts
 * (public domain), GSM8K maths questions (MIT), CLINC150 requests and Wikipedia sentences
 * (CC BY 3.0 / CC BY-SA) and GoEmotions Reddit comments (Apache-2.0).
 *
 * Why: a typo reading ("haet" → "hate") or a cut of a run-together word ("femalevermin") is a
 * guess. A token that is itself an ordinary word ("pronounce", "therapist") is evidence
 * against the guess, so the scorer does not make it (see CompiledLexicon.resolve / splitPair).
 * Check rows are never read, so the benign check figures stay honest.
 *
 *   npm run train -w @haven/risk
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { tokenize } from '../normalise';
import { TRAIN_DIR } from '../eval/data';
import { isTune } from '../eval/split';

const SOURCES = ['literature_gutenberg', 'gsm8k', 'clinc150', 'goemotions'];
const MIN_COUNT = 3;
export const COMMON_WORDS_FILE = path.resolve(__dirname, '..', '..', 'lexicon', 'common-words.en.txt');

export function buildCommonWords(dir = TRAIN_DIR): string[] {
  const counts = new Map<string, number>();
  for (const name of SOURCES) {
    const file = path.join(dir, `${name}.jsonl`);
    if (!existsSync(file)) throw new Error(`missing ${file}`);
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (!line.trim() || !isTune(`${name}:${i}`)) return;
        const row = JSON.parse(line) as { text: string; labels: string[] };
        if (row.labels.length) return;
        for (const t of tokenize(row.text)) if (t.text.length >= 4 && /^[a-z]+$/.test(t.text)) counts.set(t.text, (counts.get(t.text) ?? 0) + 1);
      });
  }
  return [...counts].filter(([, n]) => n >= MIN_COUNT).map(([w]) => w).sort();
}

if (require.main === module) {
  const words = buildCommonWords();
  writeFileSync(
    COMMON_WORDS_FILE,
    `# Ordinary English words from openly licensed benign text (tune split); built by npm run train. One per line.\n${words.join('\n')}\n`,
  );
  process.stdout.write(`${words.length} common words → ${COMMON_WORDS_FILE}\n`);
}
