import { compileLexicon } from './lexicon/compile';
import type { CategoryFile, LexiconSource, SourcePair, SourceTerm } from './lexicon/source';
import { Scorer, type ScoreOptions } from './score';

const category = (name: CategoryFile['category'], terms: SourceTerm[], pairs: SourcePair[] = []): CategoryFile => ({
  file: `${name}.en.yaml`,
  category: name,
  language: 'en',
  terms,
  pairs,
});

/** A small lexicon written for these tests: it pins what frames and evidence rules mean, not the shipped data. */
const source = (common: string[] = []): LexiconSource => ({
  categories: [
    category(
      'self_harm',
      [
        { text: 'cutter', severity: 3, flags: [] },
        { text: 'hurt myself', severity: 3, flags: [] },
      ],
      [
        {
          id: 'injure-own-body',
          a: ['cut', 'burned', 'scratched'],
          b: ['arm', 'arms', 'wrist', 'legs'],
          c: ['again', 'deep', 'till it bled'],
          window: 3,
          severity: 3,
          flags: [],
          needs: ['first_person'],
          classes: [['injury_verbs'], ['body_parts'], ['repetition']],
        },
      ],
    ),
    category('suicide', [], [{ id: 'jump-height', a: ['roof', 'bridge'], b: ['jumped', 'jump'], window: 4, severity: 3, flags: [], needs: ['first_person'] }]),
    category('bullying', [{ text: 'loser', severity: 2, flags: [] }]),
    category('gambling', [], [{ id: 'burden-self', a: ['a burden', 'better off without'], b: [], window: 0, severity: 3, flags: [], needs: ['first_person'] }]),
    category('pornography', [{ text: 'pron', severity: 3, flags: [] }]),
    category('drugs', [{ text: 'ounce', severity: 1, flags: [] }]),
  ],
  contexts: [
    {
      file: 'context.en.yaml',
      language: 'en',
      words: {
        first_person: ['i', 'my', 'myself'],
        second_person: ['you'],
        intent: [],
        time: [],
        farewell: [],
        negation: ['dont', 'not'],
        third_person: ['she'],
        reporting: [],
        quoting: [],
        help_seeking: [],
        educational_titles: [],
        allow: [],
        self_reference: [],
        play: [],
        joking: [],
        searching: ['how to'],
        threat_condition: [],
        discussing: [],
      },
    },
  ],
  common: new Set(common),
});

const keys: ScoreOptions = { source: 'keys' };

describe('frames', () => {
  const scorer = new Scorer(compileLexicon(source()));

  it('needs all three parts within the window, in any order', () => {
    expect(scorer.score('i cut my arm again', keys).category).toBe('self_harm');
    expect(scorer.score('again i burned my wrist', keys).category).toBe('self_harm');
    expect(scorer.score('i cut my arm', keys).category).toBeNull(); // two of three parts
    expect(scorer.score('i cut the bread and then later that week my arm was sore again', keys).category).toBeNull(); // too far apart
  });

  it('needs the context kind it names: the writer’s own body, not a story about someone else', () => {
    expect(scorer.score('she cut the arm off the doll again', keys).category).toBeNull();
    expect(scorer.score('the cat jumped onto the roof', keys).category).toBeNull();
    expect(scorer.score('i jumped off the roof', keys).category).toBe('suicide');
  });

  it('reads a one-part frame only with the context it needs', () => {
    expect(scorer.score('i feel like a burden', keys).category).toBe('gambling');
    expect(scorer.score('the tax is a burden on farmers', keys).category).toBeNull();
  });

  it('names the frame and its word classes in the explanation', () => {
    const r = scorer.score('i cut my arm again', keys);
    expect(r.matches[0]!.ruleId).toBe('self_harm.en.frame_injure_own_body');
    expect(r.reasons[0]).toMatchObject({ ruleId: 'self_harm.en.frame_injure_own_body', kind: 'frame', classes: ['injury_verbs', 'body_parts', 'repetition'], needs: ['first_person'] });
  });
});

describe('evidence for evasion readings', () => {
  it('does not cut an ordinary word into two lexicon words', () => {
    const without = new Scorer(compileLexicon(source()));
    const withCommon = new Scorer(compileLexicon(source(['pronounce'])));
    expect(without.score('how do you pronounce it', keys).category).toBe('pornography'); // the guess the word list prevents
    expect(withCommon.score('how do you pronounce it', keys).category).toBeNull();
  });

  it('does not read an ordinary word as a typo of a lexicon word', () => {
    const without = new Scorer(compileLexicon(source()));
    const withCommon = new Scorer(compileLexicon(source(['cuter'])));
    expect(without.score('my puppy is cuter', keys).category).toBe('self_harm');
    expect(withCommon.score('my puppy is cuter', keys).category).toBeNull();
    expect(withCommon.score('she is a cuttre', keys).category).toBe('self_harm'); // a real typo still reads
  });
});

describe('negation and searches', () => {
  const scorer = new Scorer(compileLexicon(source()));

  it('does not read "don’t be such a …" as a denial: the imperative presupposes the insult', () => {
    expect(scorer.score('dont be such a loser', keys).category).toBe('bullying');
    expect(scorer.score('i am not a loser', keys).category).toBeNull();
  });

  it('reads a search in the second person as the searcher’s own question', () => {
    expect(scorer.score('how to hurt yourself - Google Search', { source: 'title' }).category).toBe('self_harm');
    expect(scorer.score('how to hurt yourself', keys).category).toBe('self_harm');
    expect(scorer.score('why does she hurt yourself', keys).category).toBeNull(); // not a search: no rewrite
  });
});

describe('word forms', () => {
  it('stems inflections to one key, and keeps derivations and short words apart', () => {
    const { stem } = jest.requireActual<typeof import('./normalise')>('./normalise');
    for (const [forms, key] of [
      [['cut', 'cuts', 'cutting'], 'cut'],
      [['stab', 'stabbed', 'stabbing', 'stabs'], 'stab'],
      [['hate', 'hated', 'hating', 'hates'], 'hate'],
      [['die', 'dies', 'died', 'dying'], 'die'],
      [['starve', 'starved', 'starving'], 'starv'],
    ] as const) {
      for (const f of forms) expect(stem(f)).toBe(key);
    }
    expect(stem('killer')).toBe('killer'); // a derivation is another word
    expect(stem('scared')).not.toBe(stem('scar'));
    expect(stem('this')).toBe('this');
    expect(stem('bleed')).toBe('bleed');
  });

  it('reads an unlisted inflection as its listed word, but a listed form wins', () => {
    const lex = compileLexicon({
      ...source(['shot', 'whoring']),
      categories: [
        category('violence', [{ text: 'stab him', severity: 3, flags: [] }]),
        category('drugs', [{ text: 'shotting', severity: 3, flags: [] }]),
        category('bullying', [{ text: 'whore', severity: 2, flags: [] }]),
      ],
    });
    const scorer = new Scorer(lex);
    expect(scorer.score('i stabbed him', keys).category).toBe('violence');
    expect(scorer.score('he got shot', keys).category).toBeNull(); // "shotting" means dealing; "shot" is not its inflection
    expect(scorer.score('karma whoring', keys).category).toBeNull(); // an ordinary word is not read as a slang word's inflection
  });
});
