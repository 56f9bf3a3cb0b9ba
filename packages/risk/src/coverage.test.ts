import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { compileLexicon } from './lexicon/compile';
import { CATEGORIES } from './taxonomy';

type Theme = { theme: string; source: string; kinds: string[]; registers: string[]; rules: string[]; languages: string[]; status: string };
const map = parse(readFileSync(path.resolve(__dirname, '..', 'coverage-map', 'map.yaml'), 'utf8')) as { categories: Record<string, Theme[]> };

describe('coverage map', () => {
  const lexicon = compileLexicon();
  const ids = new Set(lexicon.rules.map((r) => r.id));

  it('lists themes for every category', () => {
    for (const c of CATEGORIES) expect(map.categories[c]?.length ?? 0).toBeGreaterThan(0);
  });

  it('names only rules and lexicon files that exist, with known kinds, registers and statuses', () => {
    for (const themes of Object.values(map.categories)) {
      for (const t of themes) {
        for (const r of t.rules) {
          const known = r.endsWith('.yaml') ? existsSync(path.resolve(__dirname, '..', 'lexicon', r)) : ids.has(r);
          if (!known) throw new Error(`coverage-map/map.yaml: ${t.theme} names ${r}, which is not in the lexicon`);
        }
        expect(t.kinds.every((k) => ['title', 'typed', 'screen'].includes(k))).toBe(true);
        expect(t.registers.every((k) => ['formal', 'slang', 'txt', 'evasion'].includes(k))).toBe(true);
        expect(['covered', 'partial', 'gap']).toContain(t.status);
      }
    }
  });
});
