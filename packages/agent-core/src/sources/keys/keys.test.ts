import { KEY, keyToChar } from './uk-layout';
import { isPasswordContext } from './password-context';
import { PhraseAssembler, type Phrase } from './phrase-assembler';

// Scan codes of the keys these tests type (uiohook's UiohookKey values).
const CODE: Record<string, number> = {
  a: 30, b: 48, c: 46, d: 32, e: 18, f: 33, g: 34, h: 35, i: 23, j: 36, k: 37, l: 38, m: 50, n: 49, o: 24,
  p: 25, q: 16, r: 19, s: 31, t: 20, u: 22, v: 47, w: 17, x: 45, y: 21, z: 44, ' ': 57, '.': 52, '/': 53,
  '2': 3, '3': 4, "'": 40, '#': 43,
};
const SHIFTED = new Set(['?', '"', '£', '@', '~']);
const SHIFTED_BASE: Record<string, string> = { '?': '/', '"': '2', '£': '3', '@': "'", '~': '#' };

function setup(now = { t: 0 }) {
  const phrases: Phrase[] = [];
  const asm = new PhraseAssembler({ onPhrase: (p) => phrases.push(p), idleMs: 3000, now: () => now.t });
  const press = (code: number) => {
    asm.keydown(code);
    asm.keyup(code);
  };
  const type = (text: string) => {
    for (const ch of text) {
      const lower = ch.toLowerCase();
      const shifted = SHIFTED.has(ch) || ch !== lower;
      const code = CODE[SHIFTED_BASE[ch] ?? lower];
      if (code === undefined) throw new Error(`no code for ${ch}`);
      if (shifted) asm.keydown(KEY.shift);
      press(code);
      if (shifted) asm.keyup(KEY.shift);
      now.t += 50;
    }
  };
  return { asm, phrases, press, type, now };
}

describe('UK layout', () => {
  it('maps letters with shift and caps lock, and UK symbols', () => {
    expect(keyToChar(30, false, false)).toBe('a');
    expect(keyToChar(30, true, false)).toBe('A');
    expect(keyToChar(30, false, true)).toBe('A');
    expect(keyToChar(30, true, true)).toBe('a'); // shift undoes caps lock for letters
    expect(keyToChar(3, true, false)).toBe('"'); // UK: shift+2 is a double quote
    expect(keyToChar(4, true, false)).toBe('£');
    expect(keyToChar(40, true, false)).toBe('@'); // UK: shift+' is @
    expect(keyToChar(43, false, false)).toBe('#');
    expect(keyToChar(2, false, true)).toBe('1'); // caps lock does not shift digits
    expect(keyToChar(KEY.enter, false, false)).toBeNull();
  });
});

describe('phrase assembler', () => {
  it('completes a phrase on Enter, with shift and caps lock applied', () => {
    const { asm, phrases, press, type } = setup();
    type('I want');
    press(KEY.capsLock);
    type(' to');
    press(KEY.capsLock);
    type(' die');
    press(KEY.enter);
    expect(phrases.map((p) => p.text)).toEqual(['I want TO die']);
    asm.flush();
    expect(phrases).toHaveLength(1); // nothing left over
  });

  it('honours backspace and ctrl+backspace', () => {
    const { phrases, press, asm, type } = setup();
    type('i want to diex');
    press(KEY.backspace);
    type(' tonihgt');
    asm.keydown(KEY.ctrl);
    press(KEY.backspace); // the whole last word
    asm.keyup(KEY.ctrl);
    type('tonight');
    press(KEY.enter);
    expect(phrases.map((p) => p.text)).toEqual(['i want to die tonight']);
  });

  it('completes phrases at sentence punctuation, on idle and on a window change', () => {
    const { asm, phrases, type, now } = setup();
    type('see you later. are you ok?');
    expect(phrases.map((p) => p.text)).toEqual(['see you later.', 'are you ok?']);
    type('i am fine');
    asm.tick();
    expect(phrases).toHaveLength(2); // not idle yet
    now.t += 3000;
    asm.tick();
    expect(phrases.map((p) => p.text)[2]).toBe('i am fine');
    type('half a thought');
    asm.setWindow({ title: 'Minecraft', app: 'java' }, false);
    expect(phrases.map((p) => p.text)[3]).toBe('half a thought');
    expect(phrases[3]!.window).toEqual({ title: null, app: null }); // the window it was typed in
  });

  it('types nothing for shortcuts (ctrl, alt) and nothing at all in a password context', () => {
    const { asm, phrases, press, type } = setup();
    asm.keydown(KEY.ctrl);
    press(CODE.c!);
    asm.keyup(KEY.ctrl);
    type('hello');
    press(KEY.enter);
    expect(phrases.map((p) => p.text)).toEqual(['hello']);
    type('half typed');
    asm.setWindow({ title: 'Sign in - Google Accounts', app: 'chrome' }, true);
    type('hunter2 secret');
    press(KEY.enter);
    asm.setWindow({ title: 'Notes', app: 'gedit' }, false);
    expect(phrases.map((p) => p.text)).toEqual(['hello', 'half typed']);
  });
});

describe('password context', () => {
  it('recognises sign-in pages, password prompts and password managers', () => {
    expect(isPasswordContext('Sign in - Google Accounts - Google Chrome', 'chrome')).toBe(true);
    expect(isPasswordContext('Enter your password', null)).toBe(true);
    expect(isPasswordContext('Untitled', 'Bitwarden')).toBe(true);
    expect(isPasswordContext('Authentication required', 'polkit-gnome-authentication-agent-1')).toBe(true);
    expect(isPasswordContext('Year 9 history essay - Word', 'winword.exe')).toBe(false);
    expect(isPasswordContext('Pinterest', 'chrome')).toBe(false);
  });
});
