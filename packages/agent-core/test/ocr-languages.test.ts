import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_POLICY } from '../src/policy';
import { Capture } from '../src/capture';
import type { Source, SourceContext } from '../src/sources/source';
import { Ocr } from '../src/sources/screen/ocr';
import { ScreenSource, type ScreenText } from '../src/sources/screen/screen-source';
import { waitFor } from './support/desktop';

const PANGRAM = 'Zażółć gęślą jaźń';

/** Polish text rendered by ImageMagick, as a screen would show it. */
function polishImage(dir: string): Buffer {
  const file = path.join(dir, 'pl.png');
  execFileSync('convert', [
    '-size', '900x200', 'xc:white', '-font', 'DejaVu-Sans', '-pointsize', '36', '-fill', 'black',
    '-draw', `text 20,60 '${PANGRAM}'`,
    '-draw', "text 20,130 'Pchnąć w tę łódź jeża'",
    file,
  ]);
  return readFileSync(file);
}

describe('OCR in the languages the school chose', () => {
  let dir: string;
  let image: Buffer;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-ocr-test-'));
    image = polishImage(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads Polish diacritics with English and Polish, and not with English alone', async () => {
    const english = new Ocr(200, ['eng']);
    const polish = new Ocr(200, ['eng', 'pol']);
    try {
      const withoutPol = (await english.readWords(image)).text;
      const withPol = (await polish.readWords(image)).text;
      expect(withPol).toContain(PANGRAM);
      expect(withPol).toContain('łódź');
      expect(withoutPol).not.toContain(PANGRAM);
      expect(withoutPol).not.toMatch(/[ąćęłńóśźż]{2}/); // English data has no Polish letters to give
    } finally {
      await english.close();
      await polish.close();
    }
  }, 60_000);

  it('leaves no directory of language data behind once the worker has started', async () => {
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith('haven-ocr-') && !f.startsWith('haven-ocr-test-'));
    const ocr = new Ocr(200, ['eng', 'pol']);
    try {
      await ocr.read(image);
      const after = readdirSync(tmpdir()).filter((f) => f.startsWith('haven-ocr-') && !f.startsWith('haven-ocr-test-'));
      expect(after.sort()).toEqual(before.sort());
    } finally {
      await ocr.close();
    }
  }, 60_000);

  it('restarts its worker and reads the screen again when the policy changes the languages', async () => {
    let languages: ('eng' | 'pol')[] = ['eng'];
    const texts: ScreenText[] = [];
    const ocr = new Ocr();
    const source = new ScreenSource({
      capture: async () => image, // the same screen throughout
      ocr,
      languages: () => languages,
      intervalSeconds: 0.2,
      budgetFactor: 0,
      onText: (t) => texts.push(t),
    });
    source.start();
    try {
      await waitFor(() => texts.length >= 1, 30_000, 'nothing read');
      expect(texts[0]!.text).not.toContain(PANGRAM);
      expect(ocr.languages).toEqual(['eng']);
      await waitFor(() => source.stats.unchanged >= 1, 10_000, 'unchanged screen read again');
      languages = ['eng', 'pol'];
      await waitFor(() => texts.some((t) => t.text.includes(PANGRAM)), 30_000, `not read in Polish: ${JSON.stringify(texts.map((t) => t.text))}`);
      expect(ocr.languages).toEqual(['eng', 'pol']);
    } finally {
      await source.stop();
    }
  }, 90_000);

  it("gives sources the policy's languages, English when the policy names none", () => {
    let ctx: SourceContext | null = null;
    const probe: Source = { name: 'screen', available: () => ({ ok: true }), start: (c) => void (ctx = c), stop: () => undefined };
    let policy = { ...DEFAULT_POLICY };
    const capture = new Capture({ sources: [probe], policy: () => policy, identity: () => null, emit: () => undefined, log: () => undefined, env: {} });
    capture.start();
    expect(ctx!.ocrLanguages?.()).toEqual(['eng']);
    policy = { ...DEFAULT_POLICY, ocrLanguages: ['eng', 'urd'] };
    expect(ctx!.ocrLanguages?.()).toEqual(['eng', 'urd']);
  });
});
