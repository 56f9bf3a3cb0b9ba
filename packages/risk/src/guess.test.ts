import { compileLexicon, looksLike, soundKey } from './lexicon/compile';
import { CONTEXT_KINDS, type CategoryFile, type ContextKind, type LexiconSource, type SourceTerm } from './lexicon/source';
import { Scorer, type ScoreOptions } from './score';

const category = (name: CategoryFile['category'], terms: SourceTerm[]): CategoryFile => ({ file: `${name}.en.yaml`, category: name, language: 'en', terms, pairs: [] });

/** A small lexicon written for these tests: guesses are pinned as mechanisms, not shipped rows. */
const source: LexiconSource = {
  categories: [
    category('suicide', [
      { text: 'kill myself', severity: 4, flags: [] },
      { text: 'want to die', severity: 4, flags: [] },
    ]),
    category('self_harm', [
      { text: 'self harm', severity: 3, flags: [] },
      { text: 'slit wrists', severity: 4, flags: [] },
    ]),
    category('bullying', [{ text: 'slut', severity: 2, flags: [] }]),
    category('violence', [
      { text: 'stab him', severity: 4, flags: [] },
      { text: 'shanked him', severity: 4, flags: [] },
      { text: 'knife crime', severity: 3, flags: [] },
    ]),
  ],
  contexts: [
    {
      file: 'context.en.yaml',
      language: 'en',
      words: { ...(Object.fromEntries(CONTEXT_KINDS.map((k) => [k, []])) as unknown as Record<ContextKind, string[]>), first_person: ['i', 'my'], negation: ['dont'] },
    },
  ],
  common: new Set(['dye', 'hair', 'the', 'lights', 'shelf']),
};

const scorer = new Scorer(compileLexicon(source));
const keys: ScoreOptions = { source: 'keys' };
const sev = (text: string) => scorer.score(text, keys).severity;
const cat = (text: string) => scorer.score(text, keys).category;

describe('guessed readings need a term word beside them', () => {
  it('reads a vowel-less word as the term word beside which it stands', () => {
    expect(sev('gonna kll myself')).toBe(4);
    expect(sev('kll mslf')).toBe(0); // both unknown: neither is evidence for the other
    expect(sev('press kll to quit')).toBe(0);
  });

  it('reads swapped and dropped letters only beside the rest of a term', () => {
    expect(sev('slef harm again')).toBe(3);
    expect(sev('i want to dei')).toBe(0); // three letters: too often another word
    expect(sev('slef assessment')).toBe(0);
  });

  it('reads doubled letters and sounded-out spellings', () => {
    expect(sev('gonna stabb him')).toBe(4);
    expect(sev('nife crime is up')).toBe(3);
    expect(soundKey('tyme')).toBe(soundKey('time'));
    expect(soundKey('suiside')).toBe(soundKey('suicide'));
    expect(soundKey('shatting')).not.toBe(soundKey('shooting'));
  });

  it('settles a masked word that two lexicon words share by the word beside it', () => {
    expect(cat('sl*t wrists')).toBe('self_harm');
    expect(sev('sl*t wrists')).toBe(4);
  });

  it('never guesses an ordinary word, adds a letter or changes one', () => {
    expect(sev('i want to dye my hair')).toBe(0); // an ordinary word is what it says
    expect(sev('shelf harm')).toBe(0);
    expect(sev('spanked him')).toBe(0); // a changed letter: another word
    expect(looksLike('harries', 'harris')).toBe(false); // a guess never adds letters
    expect(looksLike('harmd', 'harm')).toBe(false);
    expect(looksLike('harm', 'harmd')).toBe(true);
  });
});
