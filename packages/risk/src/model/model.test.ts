import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compileLexicon } from '../lexicon/compile';
import type { ContextFile, LexiconSource } from '../lexicon/source';
import { tokenize } from '../normalise';
import { Scorer } from '../score';
import { features, GROUP, modelWord } from './features';
import { CLASSES, Model, writeModel } from './model';
import { coverageTable, parseOwn } from './own-data';
import { trainModel, type Example } from './train';

const NONE = CLASSES.length - 1;
const label = (c: string) => CLASSES.indexOf(c as (typeof CLASSES)[number]);

/**
 * A model trained in the test on made-up words, so these tests pin the plumbing (what the model
 * reads, how the scorer uses it, what it names), not the shipped weights.
 */
function toyModel(): Model {
  const data: Example[] = [];
  const add = (text: string, c: number, severe: number, times = 30) => {
    for (let i = 0; i < times; i++) data.push({ ids: features(text).ids, label: c, weight: 1, severe });
  };
  add('the zorp blick is coming', label('suicide'), 1);
  add('zorp blick tonight', label('suicide'), 1);
  add('a quiet frindle near the zorp', label('gambling'), 0);
  add('frindle frindle again', label('gambling'), 0);
  for (const t of ['we went to the park', 'homework is due tomorrow', 'the cat sat on the mat', 'football after school', 'my mum made tea', 'the bus was late again']) add(t, NONE, -1, 60);
  return trainModel(data, 'test');
}

/** A lexicon with one gambling phrase at 2, so agreement between the two parts can be seen. */
const source: LexiconSource = {
  categories: [{ file: 'gambling.en.yaml', category: 'gambling', language: 'en', terms: [{ text: 'frindle', severity: 2, flags: [] }], pairs: [] }],
  contexts: [],
};

describe('own training data', () => {
  it('reads seven fields with the text last, line breaks written as \\n', () => {
    const rows = parseOwn('# a comment\nsuicide|4|screen|txt|en|goodbye|a: you ok?\\nb: not really | bye\nnone|0|typed|formal|pl|idiom|umieram ze śmiechu\n', 'w-x', 'part-01.txt');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ id: 'w-x/part-01.txt:2', label: 'suicide', severity: 4, kind: 'screen', text: 'a: you ok?\nb: not really | bye' });
    expect(rows[1]).toMatchObject({ label: null, severity: 0, lang: 'pl' });
  });

  it('counts what the training data covers per category, leaving the holdout writers out', () => {
    const rows = [
      ...parseOwn('suicide|5|title|evasion|en|search|a\nsuicide|3|typed|txt|pl|goodbye|b\nnone|0|screen|formal|en|lesson|c\n', 'w-x', 'p.txt'),
      ...parseOwn('suicide|4|typed|txt|en|plan|d\n', 'holdout', 'p.txt'),
    ];
    const table = coverageTable(rows).split('\n');
    expect(table).toContain('| suicide | 2 | 1 | 1 | 1 | 0 | 1 | 1 | 2 |');
    expect(table).toContain('| none (hard negatives) | 1 | 0 | 0 | 0 | 1 | 0 | 0 | 1 |');
    expect(table).toContain('| all | 3 | 1 | 1 | 1 | 1 | 1 | 1 | 3 |');
  });

  it('refuses a malformed line, naming the file and line', () => {
    expect(() => parseOwn('suicide|4|typed|txt|en|no text', 'w-x', 'a.txt')).toThrow('w-x/a.txt:1');
    expect(() => parseOwn('sucide|4|typed|txt|en|t|text', 'w-x', 'a.txt')).toThrow('unknown label "sucide"');
    expect(() => parseOwn('suicide|9|typed|txt|en|t|text', 'w-x', 'a.txt')).toThrow('severity');
    expect(() => parseOwn('suicide|4|chat|txt|en|t|text', 'w-x', 'a.txt')).toThrow('unknown kind');
  });
});

describe('features', () => {
  const ids = (t: string) => new Set(features(t).ids);
  const shared = (a: string, b: string) => [...ids(a)].filter((x) => ids(b).has(x)).length;

  it('an inflection or a misspelling shares character grams with its word', () => {
    expect(shared('cutting', 'cuts')).toBeGreaterThanOrEqual(2); // <cu, <cut
    expect(shared('stabbed', 'stabbing')).toBeGreaterThan(shared('stabbed', 'listening'));
    expect(shared('suicidal', 'suicide')).toBeGreaterThan(4);
  });

  it('reads the scorer’s normalised words: leetspeak and look-alike letters meet the plain word', () => {
    expect([...ids('k1ll')]).toEqual([...ids('kill')]);
    expect([...ids('kіll')]).toEqual([...ids('kill')]); // Cyrillic і
  });

  it('names of protected groups are one class; a colour or a slur is not a group', () => {
    const word = (t: string, i = 0) => modelWord(tokenize(t), i);
    expect(word('muslims are')).toBe(GROUP);
    expect(word('immigrants are')).toBe(GROUP);
    expect([...ids('muslims are lovely')]).toEqual([...ids('immigrants are lovely')]);
    expect(word('black people')).toBe(GROUP);
    expect(word('black coffee')).toBe('black');
    expect(word('polish my shoes', 0)).toBe('polish');
    expect(word('pakis')).not.toBe(GROUP);
  });

  it('a group’s name carries nothing alone, only beside other words', () => {
    expect(features('muslims').ids).toHaveLength(0);
    expect(features('muslims are').ids.length).toBe(features('are').ids.length + 1);
  });
});

describe('the learned model', () => {
  const model = toyModel();

  it('scores by word lookup exactly as by the full feature list (the cache changes nothing)', () => {
    for (const t of ['the zorp blick is coming tonight', 'frindle', 'we went to the park after homework', 'zorp 🙂 blick', '']) {
      const fast = model.probabilities(t);
      const full = model.probabilitiesOf(features(t).ids);
      for (let c = 0; c < fast.length; c++) expect(fast[c]).toBeCloseTo(full[c]!, 12);
    }
  });

  it('stays exact when more distinct words pass than the cache holds', () => {
    const before = model.probabilities('zorp blick tonight');
    const words = Array.from({ length: 40_000 }, (_, i) => `w${i.toString(36)}x`);
    for (let i = 0; i < words.length; i += 200) model.probabilities(words.slice(i, i + 200).join(' '));
    expect(Array.from(model.probabilities('zorp blick tonight'))).toEqual(Array.from(before));
  });

  it('predicts the most likely concern exactly when its probability reaches the threshold', () => {
    const vocab = ['zorp', 'blick', 'frindle', 'the', 'park', 'homework', 'tonight', 'coming', 'again', 'cat', 'lol', 'x', 'quiet'];
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let k = 0; k < 2000; k++) {
      const text = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => vocab[Math.floor(rand() * vocab.length)]).join(' ');
      for (const min of [0.3, 0.5, 0.6, 0.9]) {
        const p = model.probabilities(text);
        let best = 0;
        for (let c = 1; c < CLASSES.length - 1; c++) if (p[c]! > p[best]!) best = c;
        const expected = p[best]! >= min ? CLASSES[best] : null;
        expect(model.predict(text, min)?.category ?? null).toBe(expected);
      }
    }
  });

  it('is written and read back unchanged; a corrupt or mismatched file is refused clearly', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-model-'));
    writeModel(model, dir);
    const back = Model.read(dir);
    expect(Array.from(back.probabilities('the zorp blick'))).toEqual(Array.from(model.probabilities('the zorp blick')));
    const bin = readFileSync(path.join(dir, 'weights.bin'));
    writeFileSync(path.join(dir, 'weights.bin'), bin.subarray(0, bin.length - 3));
    expect(() => Model.read(dir)).toThrow('weights.bin is corrupt');
    const meta = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { classes: string[] };
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ ...meta, classes: meta.classes.slice(1) }));
    writeFileSync(path.join(dir, 'weights.bin'), bin);
    expect(() => Model.read(dir)).toThrow('does not match this scorer');
  });

  it('trains reproducibly: the same data gives the same weights', () => {
    const again = toyModel();
    expect(Array.from(again.probabilities('zorp frindle blick park'))).toEqual(Array.from(model.probabilities('zorp frindle blick park')));
  });

  it('names the words that carried a prediction, and where they are', () => {
    const text = 'honestly zorp blick lol';
    const guess = model.predict(text, 0.5)!;
    expect(guess.category).toBe('suicide');
    const why = model.explain(text, guess)!;
    expect(why.features.slice(0, 2).sort()).toEqual(['blick', 'zorp']);
    expect(text.slice(why.start, why.end)).toBe('zorp blick');
  });
});

describe('the scorer with a learned part', () => {
  const model = toyModel();
  const scorer = new Scorer(compileLexicon(source), model);
  const lexiconOnly = new Scorer(compileLexicon(source));

  it('adds what the lexicon cannot see, as a learned reason with its confidence', () => {
    expect(lexiconOnly.score('the zorp blick is coming', { source: 'keys' }).severity).toBe(0);
    const r = scorer.score('the zorp blick is coming', { source: 'keys' });
    expect(r.category).toBe('suicide');
    expect(r.severity).toBeGreaterThanOrEqual(2);
    expect(r.reasons[0]).toMatchObject({ ruleId: 'learned.suicide', kind: 'learned', category: 'suicide' });
    expect(r.reasons[0]!.confidence).toBeGreaterThanOrEqual(50);
    expect(r.matches[0]!.ruleId).toBe('learned.suicide');
  });

  it('never reports more on its own than the model allows', () => {
    const capped = new Model({ ...model.meta, aloneMax: 2 }, (model as unknown as { weights: Int8Array }).weights);
    const r = new Scorer(compileLexicon(source), capped).score('the zorp blick is coming tonight', { source: 'keys' });
    expect(r.severity).toBeLessThanOrEqual(2);
  });

  it('raises a lexicon match it agrees with, naming the adjustment', () => {
    expect(lexiconOnly.score('frindle frindle again', { source: 'keys' }).severity).toBe(2);
    const r = scorer.score('frindle frindle again', { source: 'keys' });
    expect(r.severity).toBe(3);
    expect(r.reasons[0]!.adjustments).toContainEqual({ name: 'learned', delta: 1 });
    expect(r.reasons[0]!.kind).toBe('term');
  });

  it('is not consulted under a lesson or revision title', () => {
    const under = (title: string) => scorer.score('the zorp blick is coming', { source: 'keys', title });
    const words = { educational_titles: ['revision'] } as unknown as ContextFile['words'];
    const educational = new Scorer(compileLexicon({ ...source, contexts: [{ file: 'context.en.yaml', language: 'en', words }] }), model);
    expect(under('Untitled - Notepad').severity).toBeGreaterThan(0);
    expect(educational.score('the zorp blick is coming', { source: 'keys', title: 'Revision notes - Word' }).severity).toBe(0);
  });

  it('lowers its own report under news, quoting or a lesson’s discussion, and raises nothing there', () => {
    const words = { reporting: ['headline'], quoting: ['saying'] } as unknown as ContextFile['words'];
    const withContext = new Scorer(compileLexicon({ ...source, contexts: [{ file: 'context.en.yaml', language: 'en', words }] }), model);
    const plain = withContext.score('the zorp blick is coming', { source: 'keys' });
    const news = withContext.score('headline the zorp blick is coming', { source: 'keys' });
    expect(news.severity).toBe(Math.max(0, plain.severity - 2));
    if (news.severity > 0) expect(news.reasons[0]!.adjustments).toContainEqual({ name: 'reporting', delta: -2 });
    const quoted = withContext.score('saying frindle frindle again', { source: 'keys' });
    expect(quoted.severity).toBe(2);
  });

  it('does not read the condition of a threat as quoting: "if you say anything …" lowers nothing', () => {
    const words = { quoting: ['if you say'], threat_condition: ['if you say anything'] } as unknown as ContextFile['words'];
    const withContext = new Scorer(compileLexicon({ ...source, contexts: [{ file: 'context.en.yaml', language: 'en', words }] }), model);
    const plain = withContext.score('the zorp blick is coming', { source: 'keys' });
    expect(plain.severity).toBeGreaterThan(0);
    expect(withContext.score('if you say anything the zorp blick is coming', { source: 'keys' }).severity).toBe(plain.severity);
    expect(withContext.score('if you say the zorp blick is coming', { source: 'keys' }).severity).toBe(Math.max(0, plain.severity - 2));
  });

  it('leaves text the model does not recognise to the lexicon', () => {
    expect(scorer.score('we went to the park', { source: 'keys' })).toEqual(lexiconOnly.score('we went to the park', { source: 'keys' }));
  });
});
