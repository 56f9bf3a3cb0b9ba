import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CATEGORIES } from '../taxonomy';
import { compileLexicon } from './compile';
import { readLexicon } from './source';
import { Scorer } from '../score';

describe('lexicon files', () => {
  const write = (files: Record<string, string>) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-lexicon-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    return dir;
  };
  const pairFile = (b: string) => `category: discrimination\nlanguage: en\npairs:\n  - { id: hate, a: [hate], b: ["${b}"], severity: 3 }\n`;

  it('are written once and used in pairs of any file as @name', () => {
    const dir = write({ 'sets.en.yaml': 'language: en\nsets:\n  groups: [women, immigrants]\n', 'discrimination.en.yaml': pairFile('@groups') });
    try {
      const pair = readLexicon(dir).categories[0]!.pairs[0]!;
      expect(pair.b).toEqual(['women', 'immigrants']);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('may be a slot inside a term, matched without expanding every combination', () => {
    const dir = write({
      'sets.en.yaml': 'language: en\nsets:\n  groups: ["{women,immigrants}", gay people]\n',
      'discrimination.en.yaml': 'category: discrimination\nlanguage: en\nterms:\n  - { text: "make those @groups suffer", severity: 4 }\n',
    });
    try {
      const source = readLexicon(dir);
      expect(source.categories[0]!.terms[0]!.text).toBe('make those {women,immigrants,gay people} suffer');
      const scorer = new Scorer(compileLexicon(source));
      expect(scorer.score('i will make those gay people suffer', { source: 'keys' }).severity).toBe(4);
      expect(scorer.score('i will make those gay people smile', { source: 'keys' }).severity).toBe(0);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('rejects nested or unbalanced braces, naming the file and the entry', () => {
    const dir = write({ 'suicide.en.yaml': 'category: suicide\nlanguage: en\nterms:\n  - { text: "{{want,need}} to die", severity: 3 }\n' });
    try {
      expect(() => readLexicon(dir)).toThrow(/suicide\.en\.yaml: terms\[0\]: .* nests braces/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('fail the build when unknown or defined twice, naming the file', () => {
    const unknown = write({ 'discrimination.en.yaml': pairFile('@nothing') });
    const twice = write({ 'sets.en.yaml': 'language: en\nsets:\n  groups: [women]\n', 'sets.fr.yaml': 'language: fr\nsets:\n  groups: [femmes]\n' });
    try {
      expect(() => readLexicon(unknown)).toThrow(/discrimination\.en\.yaml: pairs\[0\]\.b: no set named nothing/);
      expect(() => readLexicon(twice)).toThrow(/sets\.fr\.yaml: sets\.groups: already defined in sets\.en\.yaml/);
    } finally {
      rmSync(unknown, { recursive: true });
      rmSync(twice, { recursive: true });
    }
  });
});

describe('the shipped lexicon', () => {
  const source = readLexicon();

  it('reads and compiles without error', () => {
    const lex = compileLexicon(source);
    expect(lex.rules.length).toBeGreaterThan(1000);
  });

  it('covers every category in English', () => {
    const english = new Set(source.categories.filter((f) => f.language === 'en' && f.terms.length > 0).map((f) => f.category));
    for (const c of CATEGORIES) expect(english).toContain(c);
  });

  it('covers the high-severity categories in Polish, Romanian, Urdu (Latin), Arabic, Spanish and French', () => {
    for (const category of ['suicide', 'self_harm', 'cse', 'violence', 'extremism'] as const) {
      const languages = new Set(source.categories.filter((f) => f.category === category).map((f) => f.language));
      for (const lang of ['pl', 'ro', 'ur-latn', 'ar', 'es', 'fr']) expect({ category, lang, has: languages.has(lang) }).toEqual({ category, lang, has: true });
    }
  });

  it('logs an extremist ideology named, and alerts on holding it', () => {
    const scorer = new Scorer(compileLexicon(source));
    const sev = (text: string) => scorer.score(text, { source: 'keys' }).severity;
    // Named in a lesson, the news or condemnation as often as in support.
    expect(sev('this is where i come to argue with white supremacists')).toBe(1);
    expect(sev('i am a white nationalist')).toBeGreaterThanOrEqual(3);
    expect(sev('white nationalism is the only way')).toBeGreaterThanOrEqual(3);
    expect(sev('join a white nationalist group')).toBeGreaterThanOrEqual(4);
  });

  it('reads a weapon in a shop’s basket as a purchase, and a knife in a recipe as nothing', () => {
    const scorer = new Scorer(compileLexicon(source));
    const screen = (text: string) => scorer.score(text, { source: 'screen' });
    expect(screen('Combat knife with sheath\n£24.99\nAdd to basket\nDeliver to Flat 2')).toMatchObject({ category: 'violence', severity: 3 });
    expect(screen('Chop the onions with a sharp knife\nAdd the garlic').severity).toBe(0);
  });

  it('reads a browser’s history page and a Teams chat as what they are, not as lessons', () => {
    const scorer = new Scorer(compileLexicon(source));
    const screen = (text: string) => scorer.score(text, { source: 'screen' });
    const search = 'Today\n23:48  does overdosing hurt - Google Search';
    expect(screen(`History - Google Chrome\n${search}`).severity).toBe(screen(search).severity);
    expect(screen(`History - Google Chrome\n${search}`).severity).toBeGreaterThanOrEqual(3);
    const chat = 'Chat | Miss Okafor\nmiss can i ask something. if someone didnt want to be alive anymore who would they even tell';
    expect(screen(`Microsoft Teams\n${chat}`).severity).toBe(screen(chat).severity);
    // A lesson's page still reads as a lesson.
    expect(screen('GCSE History - BBC Bitesize\ndoes overdosing hurt').severity).toBeLessThan(screen(search).severity);
  });

  it('has context words for English and the other languages', () => {
    const languages = source.contexts.map((c) => c.language).sort();
    expect(languages).toEqual(['en', 'mul']);
  });
});
