import { CATEGORIES } from '../taxonomy';
import { compileLexicon } from './compile';
import { readLexicon } from './source';

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

  it('has context words for English and the other languages', () => {
    const languages = source.contexts.map((c) => c.language).sort();
    expect(languages).toEqual(['en', 'mul']);
  });
});
