/**
 * The normaliser: turns raw text into word tokens that survive common evasions, keeping each
 * token's position in the original text so evidence can be cut from what was really typed.
 *
 * Per character: NFKC (maths alphabets, full-width forms, ligatures), case folding, zero-width
 * characters dropped, diacritics stripped (pupils type "zabic sie" as often as "zabić się"),
 * Cyrillic and Greek look-alikes mapped to Latin, Arabic letter variants unified. Per token:
 * leetspeak ("k1ll", "$uicide"), runs of repeated letters ("kiiiill"). Across tokens: split
 * letters ("k i l l", "k.i.l.l") joined. Lexicon terms go through the same function, so both
 * sides always agree.
 *
 * Linear in the input: one pass over characters, one over tokens; no regular expression runs
 * on input text.
 */

/** A word of the input, normalised, with its position in the original text. */
export class Token {
  private leet: readonly string[] | undefined;
  private squeezedForm: string | null | undefined;

  constructor(
    /** The normalised token. */
    readonly text: string,
    /** UTF-16 offsets of the token in the original input: [start, end). */
    readonly start: number,
    readonly end: number,
  ) {}

  /** Other spellings to try when `text` is not a lexicon word: leetspeak decoded. Computed on first use. */
  get variants(): readonly string[] {
    return (this.leet ??= leetVariants(this.text));
  }

  /**
   * The token's first reading (`variants[0]`, else `text`): for a plain lower-case word that
   * no reading changes, the text itself without working out the variants.
   */
  get reading(): string {
    if (this.leet === undefined && plainWord(this.text)) return this.text;
    return this.variants[0] ?? this.text;
  }

  /**
   * For a token with a run of three or more of one letter ("kiiiill"): every run cut to one
   * letter ("kil"), to look up among lexicon words squeezed the same way ("kill" → "kil").
   */
  get squeezed(): string | null {
    if (this.squeezedForm === undefined) {
      const base = this.variants[0] ?? this.text;
      this.squeezedForm = hasTripleRun(base) ? squeeze(base, 1) : null;
    }
    return this.squeezedForm;
  }
}

const ZERO_WIDTH = new Set([0x00ad, 0x034f, 0x061c, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x180e, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff, 0xfe0e, 0xfe0f, 0x20e3]);

/** Cyrillic and Greek letters that look like Latin ones (after lower-casing). */
const CONFUSABLES: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  і: 'i', ї: 'i', ј: 'j', ѕ: 's', ԁ: 'd', ɡ: 'g', һ: 'h', ԛ: 'q', ԝ: 'w', ӏ: 'l', ь: 'b', з: '3', ч: '4',
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', γ: 'y', μ: 'u', ω: 'w',
  ł: 'l', đ: 'd', ø: 'o', ß: 'ss', æ: 'ae', œ: 'oe', ı: 'i', ð: 'd', þ: 'th',
  // Small capitals ("ᴄᴀꜱᴇꜱ"), which NFKC leaves alone.
  ᴀ: 'a', ʙ: 'b', ᴄ: 'c', ᴅ: 'd', ᴇ: 'e', ꜰ: 'f', ɢ: 'g', ʜ: 'h', ɪ: 'i', ᴊ: 'j', ᴋ: 'k', ʟ: 'l', ᴍ: 'm', ɴ: 'n',
  ᴏ: 'o', ᴘ: 'p', ǫ: 'q', ʀ: 'r', ꜱ: 's', ᴛ: 't', ᴜ: 'u', ᴠ: 'v', ᴡ: 'w', ʏ: 'y', ᴢ: 'z',
  // Arabic letter variants written interchangeably.
  أ: 'ا', إ: 'ا', آ: 'ا', ٱ: 'ا', ى: 'ي', ة: 'ه', ؤ: 'و', ئ: 'ي', ک: 'ك', ی: 'ي',
};

/** Characters that stand for letters inside a word ("k!ll", "$uicide", "h@te"). */
const LEET: Record<string, string> = {
  '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '9': 'g',
  $: 's', '@': 'a', '!': 'i', '|': 'l', '+': 't', '€': 'e', '£': 'l',
};
const LEET_SYMBOLS = new Set(['$', '@', '!', '|', '+', '€', '£', '*']);

const enum Kind {
  Separator = 0,
  Word = 1,
  /** A leet symbol: part of a word only between word characters (or "$" before one). */
  Symbol = 2,
  /** An apostrophe or zero-width character: dropped, but does not split a word. */
  Joiner = 3,
}

type Piece = { chars: string; kind: Kind };

const cache = new Map<number, Piece>();
const WORD_RE = /[\p{L}\p{N}]/u;
const MARK_RE = /\p{M}/gu;

/** ASCII needs no normalisation: one precomputed piece per code. */
const ASCII: Piece[] = Array.from({ length: 128 }, (_, cp) => {
  if ((cp >= 0x61 && cp <= 0x7a) || (cp >= 0x30 && cp <= 0x39)) return { chars: String.fromCharCode(cp), kind: Kind.Word };
  if (cp >= 0x41 && cp <= 0x5a) return { chars: String.fromCharCode(cp + 32), kind: Kind.Word };
  const ch = String.fromCharCode(cp);
  if (ch === "'" || ch === '`') return { chars: '', kind: Kind.Joiner };
  if (LEET_SYMBOLS.has(ch)) return { chars: ch, kind: Kind.Symbol };
  return { chars: '', kind: Kind.Separator };
});

function classify(cp: number): Piece {
  if (cp < 0x80) return ASCII[cp]!;
  const hit = cache.get(cp);
  if (hit) return hit;
  let piece: Piece;
  if (ZERO_WIDTH.has(cp) || cp === 0x2019 || cp === 0x2018 || cp === 0x02bc || cp === 0x0640) {
    piece = { chars: '', kind: Kind.Joiner };
  } else {
    const raw = String.fromCodePoint(cp);
    let s = raw.normalize('NFKC').toLowerCase();
    // Strip diacritics (NFD, drop marks), then map look-alikes.
    s = s.normalize('NFD').replace(MARK_RE, '');
    let mapped = '';
    for (const ch of s) mapped += CONFUSABLES[ch] ?? ch;
    if (mapped.length === 0) piece = { chars: '', kind: Kind.Joiner }; // a lone combining mark
    else if ([...mapped].every((ch) => WORD_RE.test(ch))) piece = { chars: mapped, kind: Kind.Word };
    else if (LEET_SYMBOLS.has(mapped)) piece = { chars: mapped, kind: Kind.Symbol };
    else piece = { chars: '', kind: Kind.Separator };
  }
  if (cache.size < 65_536) cache.set(cp, piece);
  return piece;
}

/** Codes of characters that leetspeak uses for letters (digits and symbols). */
const LEET_CODE = new Uint8Array(0x2100);
for (const ch of Object.keys(LEET)) LEET_CODE[ch.charCodeAt(0)] = 1;
LEET_CODE[0x2a] = 1; // a star masks a letter: k*ll

function hasLetter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || c > 0x7f) return true;
  }
  return false;
}

function hasLeet(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x2100 && LEET_CODE[c] === 1) return true;
  }
  return false;
}

/**
 * Txt-speak written for whole words, read as the word. Lexicon terms pass through the same
 * table, so "skool" in a term and "school" in a message meet.
 */
const SLANG_WORDS: Record<string, string> = {
  skool: 'school', skewl: 'school', skl: 'school',
  '2moro': 'tomorrow', '2morrow': 'tomorrow', '2mrw': 'tomorrow', tmrw: 'tomorrow', tmr: 'tomorrow', tomoz: 'tomorrow', tmoz: 'tomorrow',
  '2nite': 'tonight', '2night': 'tonight', tonite: 'tonight', tnight: 'tonight',
  '2day': 'today', b4: 'before', coz: 'because', cuz: 'because', bc: 'because', becoz: 'because',
  pls: 'please', plz: 'please', ppl: 'people', peeps: 'people', u: 'you', ur: 'your', urself: 'yourself', ya: 'you',
  bf: 'boyfriend', gf: 'girlfriend', pix: 'pics', pic: 'pic', nudez: 'nudes', wiv: 'with', wid: 'with', w: 'with',
  m8: 'mate', m8s: 'mates', gr8: 'great', wen: 'when', wot: 'what', wat: 'what', dat: 'that', dis: 'this', der: 'there',
};

const SLANG = new Map(Object.entries({ ...SLANG_WORDS, every1: 'everyone', evry1: 'everyone', no1: 'nobody', some1: 'someone', sum1: 'someone', any1: 'anyone' }));

/**
 * Emoji that pupils use for words (algospeak): each is read as its own word token, so the
 * lexicon's phrases and frames see it ("🔫🏫" is "gun school", "🍆💦" is "aubergine splash").
 * Named plainly; the lexicon says what a combination means.
 */
const EMOJI_WORDS: ReadonlyMap<number, string> = new Map(
  Object.entries({
    '💊': 'pills', '🔪': 'knife', '🗡': 'knife', '🔫': 'gun', '🏫': 'school', '💣': 'bomb', '🧨': 'explosive', '🪓': 'axe',
    '🩸': 'blood', '⚰': 'coffin', '🪦': 'grave', '👼': 'angel', '🪢': 'rope', '💉': 'needle', '🚽': 'toilet', '🤮': 'vomit',
    '🍆': 'aubergine', '🍑': 'peach', '💦': 'splash', '🌽': 'corn', '🔞': 'nsfw', '📸': 'pics', '🤫': 'secret',
    '🎰': 'slots', '🃏': 'cards', '🐎': 'horses', '🏇': 'horses', '🎲': 'dice', '💷': 'money', '💰': 'money', '💸': 'money',
    '🍄': 'shrooms', '🥦': 'weed', '🌿': 'weed', '🍃': 'weed', '🌲': 'trees', '❄': 'snow', '🧊': 'ice', '🍫': 'choc', '🚬': 'smoke',
    '🐒': 'monkey', '🦍': 'gorilla', '🍌': 'banana', '😂': 'lol', '🤣': 'lol', '😹': 'lol',
  }).map(([e, w]) => [e.codePointAt(0)!, w]),
);

const LAUGH_SYLLABLES: ReadonlySet<string> = new Set(['ha', 'he', 'hi', 'hu', 'ja', 'je', 'ji', 'rs']);

/** The index of the first letter from `from` on that is not `c`. */
function runEnd(word: string, from: number, c: string): number {
  let i = from;
  while (i < word.length && word[i] === c) i++;
  return i;
}

/**
 * Laughter written out, in any language pupils type it in: "hahaha", "jajaja" (Spanish),
 * "kkkkk" (Portuguese), "hehe", "jeje", "hihi", "xddd", "rsrs", "lmaooo", "loool". A loop, not a
 * regular expression: the scorer runs none on input text.
 */
export function isLaughter(word: string): boolean {
  const n = word.length;
  if (n < 3) return false;
  const c0 = word[0]!;
  // kkk…, xddd…
  if (c0 === 'k') return runEnd(word, 0, 'k') === n;
  if (c0 === 'x') return word[1] === 'd' && runEnd(word, 1, 'd') === n;
  if (c0 === 'l') {
    // lol, loool, lolll; lmao, lmaooo; lmfao
    if (word[1] === 'o') {
      const o = runEnd(word, 1, 'o');
      return o < n && word[o] === 'l' && runEnd(word, o, 'l') === n;
    }
    if (word.startsWith('lmao') || word.startsWith('lmfao')) return runEnd(word, word.indexOf('o'), 'o') === n;
    return false;
  }
  // One syllable repeated: haha, hehehe, hihi, huhu, jajaja, jejeje, rsrs; a trailing "h"/"j" is fine.
  if (n < 4 || (c0 !== 'h' && c0 !== 'j' && c0 !== 'r') || !LAUGH_SYLLABLES.has(word.slice(0, 2))) return false;
  const c1 = word[1]!;
  let i = 0;
  while (i + 1 < n && word[i] === c0 && word[i + 1] === c1) i += 2;
  return i >= 4 && (i === n || (i === n - 1 && word[i] === c0));
}

function makeToken(text: string, start: number, end: number): Token {
  return new Token(SLANG.get(text) ?? text, start, end);
}

const NONE: readonly string[] = Object.freeze([]);

/** Arabic words carry clitics: "bi-" (with), "wa-" (and), "li-" (for), "al-" (the). */
const ARABIC_PREFIXES = ['وال', 'بال', 'لل', 'ال', 'و', 'ب', 'ل', 'ف'];

function arabicVariants(text: string): readonly string[] {
  const out: string[] = [];
  for (const p of ARABIC_PREFIXES) if (text.startsWith(p) && text.length - p.length >= 3) out.push(text.slice(p.length));
  return out.length ? out : NONE;
}

/** Spoken English drops the final g: "bringin", "stabbin", "killin". */
function gDropped(text: string): readonly string[] {
  if (text.length < 5 || text.charCodeAt(text.length - 1) !== 0x6e || text.charCodeAt(text.length - 2) !== 0x69) return NONE;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x61 || c > 0x7a) return NONE;
  }
  return [text + 'g'];
}

/** a–z only, and not a dropped-g candidate ("goin"): `leetVariants` gives it no reading. */
function plainWord(text: string): boolean {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x61 || c > 0x7a) return false;
  }
  return n < 5 || text.charCodeAt(n - 1) !== 0x6e || text.charCodeAt(n - 2) !== 0x69;
}

/** Leetspeak readings of a token that mixes letters with digits or symbols. */
function leetVariants(text: string): readonly string[] {
  const c = text.charCodeAt(0);
  if (c >= 0x0600 && c <= 0x06ff) return arabicVariants(text);
  if (!hasLeet(text) || !hasLetter(text)) return gDropped(text);
  const out: string[] = [];
  // A trailing star is a masked last letter ("an*") or a correction or emphasis mark ("thot*",
  // "*sigh*"): the bare word first.
  if (text.endsWith('*') && text.length > 2) out.push(text.slice(0, -1));
  if (text.includes('*')) {
    // "k*i*l*l": stars between single letters are separators; otherwise a star masks a letter
    // (read by the lexicon's masked index, see CompiledLexicon.resolve).
    const bare = text.replace(/\*/g, '');
    if (/^(\w\*){2,}\w$/.test(text)) out.push(bare);
  }
  {
    let decoded = '';
    for (const ch of text) decoded += LEET[ch] ?? ch;
    out.push(SLANG.get(decoded) ?? decoded);
    if (text.includes('1')) {
      // "ev3ry1", "n01": txt-speak keeps its 1 ("every1" is everyone).
      let keep1 = '';
      for (const ch of text) keep1 += ch === '1' ? '1' : (LEET[ch] ?? ch);
      const slang = SLANG.get(keep1);
      if (slang) out.unshift(slang);
      let withL = '';
      for (const ch of text) withL += ch === '1' ? 'l' : (LEET[ch] ?? ch);
      out.push(withL);
    }
  }
  return out;
}

function hasTripleRun(s: string): boolean {
  for (let i = 2; i < s.length; i++) if (s[i] === s[i - 1] && s[i] === s[i - 2]) return true;
  return false;
}

/** Cuts every run of one character down to at most `max`. */
export function squeeze(s: string, max: number): string {
  let out = '';
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    run = i > 0 && s[i] === s[i - 1] ? run + 1 : 1;
    if (run <= max) out += s[i];
  }
  return out;
}

/** Separators that may sit between split letters: "k i l l", "k.i.l.l", "k-i-l-l", "k_i_l_l", "k*i*l*l". */
function isLetterGap(input: string, from: number, to: number): boolean {
  if (to - from > 3) return false;
  for (let i = from; i < to; i++) {
    const c = input[i];
    if (c !== ' ' && c !== '.' && c !== '-' && c !== '_' && c !== '*' && c !== '/') return false;
  }
  return true;
}

/** A two-letter run counts as a spaced-out word only beside another spaced-out run ("s e n d  a  p i c"). */
function spaced(raw: ReadonlyArray<{ text: string; start: number; end: number }>, i: number, j: number): boolean {
  const single = (k: number) => k >= 0 && k < raw.length && raw[k]!.text.length === 1;
  return (single(i - 1) && single(i - 2)) || (single(j) && single(j + 1));
}

/** Txt-speak digits for whole words: "how 2 hide", "want 2 die", "4 pe". */
const NUMBER_WORDS: Record<string, string> = { '2': 'to', '4': 'for' };

const COUNTED: ReadonlySet<string> = new Set(
  'year yr y page p chapter ch level lvl grade room rm part step question q number no num act scene ks stage set group table lesson period week day episode ep season series gen round test paper unit section sec bus platform form class block floor gate team line verse task exercise ex figure fig box player size age bottom top under over plus minus times divided equals than'.split(' '),
);
const UNITS: ReadonlySet<string> = new Set(
  'pm am oclock x times percent pc cm mm m km kg g mg ml l lb lbs ft in mins min minutes hours hrs hr h secs seconds days weeks months years yrs quid pounds p pence mph stone st grand k and or of but to for so then each more less times'.split(' '),
);

function isWord(t: { text: string } | undefined): boolean {
  if (!t) return false;
  const c = t.text.charCodeAt(0);
  return (c >= 0x61 && c <= 0x7a) || c > 0x7f;
}

function spacesOnly(input: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) if (input.charCodeAt(i) !== 0x20) return false;
  return true;
}

/**
 * A lone "2" or "4" between two words, with only spaces around it, is a word ("w@nt 2 d!e"):
 * a number stands beside another number, a unit or punctuation ("2 x 4", "£4", "at 4:30").
 */
function numberWord(input: string, raw: ReadonlyArray<{ text: string; start: number; end: number }>, i: number): string | undefined {
  const t = raw[i]!;
  const word = t.text.length === 1 ? NUMBER_WORDS[t.text] : undefined;
  if (word === undefined) return undefined;
  const prev = raw[i - 1];
  const next = raw[i + 1];
  if (!isWord(prev) || !isWord(next) || !spacesOnly(input, prev!.end, t.start) || !spacesOnly(input, t.end, next!.start)) return undefined;
  // "year 2 maths", "page 4 of", "at 4 pm": a counted thing or a unit beside it keeps the number.
  if (COUNTED.has(prev!.text) || UNITS.has(next!.text)) return undefined;
  return word;
}

/** Splits text into normalised word tokens. */
export function tokenize(input: string): Token[] {
  const raw: Array<{ text: string; start: number; end: number }> = [];
  let text = '';
  let start = -1;
  let end = 0;
  let pendingSymbol = '';
  let pendingSymbolEnd = 0;

  const flush = () => {
    // One trailing "@" or "*" stands for a last letter ("n1gg@", "an*"), not punctuation.
    if (start >= 0 && pendingSymbol.length === 1 && (pendingSymbol === '@' || pendingSymbol === '*') && hasLetter(text) && text.length >= 2) {
      text += pendingSymbol;
      end = pendingSymbolEnd;
    }
    if (start >= 0 && text.length > 0) raw.push({ text, start, end });
    text = '';
    start = -1;
    pendingSymbol = '';
  };

  for (let i = 0; i < input.length; ) {
    const cp = input.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (cp >= 0x2600) {
      const emoji = EMOJI_WORDS.get(cp);
      if (emoji !== undefined) {
        flush();
        raw.push({ text: emoji, start: i, end: i + width });
        i += width;
        continue;
      }
    }
    if (start < 0 && (cp === 0xa3 || cp === 0x24 || cp === 0x20ac) && input.charCodeAt(i + 1) === cp) {
      // "£££", "$$$": money, as pupils write it ("easy £££").
      let j = i;
      while (input.charCodeAt(j) === cp) j++;
      if (j >= input.length || classify(input.codePointAt(j)!).kind === Kind.Separator) {
        flush();
        raw.push({ text: 'money', start: i, end: j });
        i = j;
        continue;
      }
    }
    const piece = classify(cp);
    if (piece.kind === Kind.Word) {
      if (start < 0) start = pendingSymbol ? pendingSymbolEnd - pendingSymbol.length : i;
      text += pendingSymbol + piece.chars;
      pendingSymbol = '';
      end = i + width;
    } else if (piece.kind === Kind.Symbol) {
      if (start >= 0 || piece.chars === '$' || piece.chars === '@') {
        // Kept only if a word character follows.
        pendingSymbol += piece.chars;
        pendingSymbolEnd = i + width;
      }
    } else if (piece.kind === Kind.Separator) {
      flush();
    }
    // Joiners: nothing, the word goes on.
    i += width;
  }
  flush();

  // Join runs of single letters: "k i l l" → "kill". A wider gap than the run's own ends a word
  // ("h o w  m a n y" → "how", "many"); a run of two joins only between such wider gaps ("i n").
  const tokens: Token[] = [];
  for (let i = 0; i < raw.length; ) {
    let j = i;
    const width = i + 1 < raw.length ? raw[i + 1]!.start - raw[i]!.end : 0;
    while (j < raw.length && raw[j]!.text.length === 1 && (j === i || (isLetterGap(input, raw[j - 1]!.end, raw[j]!.start) && raw[j]!.start - raw[j - 1]!.end === width))) j++;
    const bounded = (k: number, l: number) =>
      (k === 0 || raw[k]!.start - raw[k - 1]!.end > width) && (l === raw.length || raw[l]!.start - raw[l - 1]!.end > width) && spaced(raw, k, l);
    if (j - i >= 3 || (j - i === 2 && width > 0 && bounded(i, j))) {
      // "I h a t e", "a c a n c e r" join to "ihate", "acancer": the scorer parts a leading
      // pronoun or article from a lexicon word when the whole is not one (see splitRunOn).
      const joined = raw.slice(i, j).map((t) => t.text).join('');
      tokens.push(makeToken(joined, raw[i]!.start, raw[j - 1]!.end));
      i = j;
    } else {
      const t = raw[i]!;
      tokens.push(makeToken(numberWord(input, raw, i) ?? t.text, t.start, t.end));
      i++;
    }
  }
  return foldNegatedFuture(tokens);
}

/**
 * "not going to" and "not gonna" say what "wont" says: one word, so a lexicon phrase written with
 * either matches both ("im not going to be here" = "im wont be here"), the negation sits next to
 * the verb it denies and "going to" no longer reads as intent. Applied to lexicon terms too.
 */
function foldNegatedFuture(tokens: Token[]): Token[] {
  let out: Token[] | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === 'not' && i + 1 < tokens.length) {
      const next = tokens[i + 1]!.text;
      const span = next === 'gonna' || next === 'gunna' ? 2 : next === 'going' && tokens[i + 2]?.text === 'to' ? 3 : 0;
      if (span) {
        out ??= tokens.slice(0, i);
        out.push(makeToken('wont', t.start, tokens[i + span - 1]!.end));
        i += span - 1;
        continue;
      }
    }
    out?.push(t);
  }
  return out ?? tokens;
}

/** The normalised words of a lexicon term or any short text, space-separated. */
export function normalisePhrase(phrase: string): string {
  return tokenize(phrase)
    .map((t) => t.text)
    .join(' ');
}

const VOWEL = new Uint8Array(128);
for (const c of 'aeiou') VOWEL[c.charCodeAt(0)] = 1;

/** Is s[i] a vowel? "y" after a consonant counts as one ("cry", "dying"). */
function vowelAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (VOWEL[c] === 1) return true;
  return c === 0x79 && i > 0 && !vowelAt(s, i - 1);
}

function hasVowel(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (vowelAt(s, i)) return true;
  return false;
}

/** Porter's measure m = 1 and the stem ends consonant–vowel–consonant (not w, x, y): "hop", "tak", "scar". */
function shortCvc(s: string): boolean {
  const n = s.length;
  if (n < 3 || vowelAt(s, n - 1) || !vowelAt(s, n - 2) || vowelAt(s, n - 3)) return false;
  const last = s[n - 1]!;
  if (last === 'w' || last === 'x' || last === 'y') return false;
  return measure(s) === 1;
}

/** Porter's m: the number of vowel–consonant sequences. */
function measure(s: string): number {
  let m = 0;
  for (let i = 1; i < s.length; i++) if (!vowelAt(s, i) && vowelAt(s, i - 1)) m++;
  return m;
}

const STEM_CACHE = new Map<string, string>();

/**
 * A light English stemmer (Porter's steps 1a–1c, with guards for short words), so one lexicon
 * entry covers its inflections: "cut", "cuts", "cutting"; "hate", "hated", "hating"; "stab",
 * "stabbed"; "pill", "pills"; "die", "dies", "died", "dying". Derivations ("killer",
 * "hopeless") are left alone: they often mean something else. Words under four letters, words
 * with characters other than a–z, and "-ss", "-us", "-is" endings are kept as they are.
 * The lexicon compiler and the scorer use the same function, so both sides always agree.
 */
export function stem(word: string): string {
  const n = word.length;
  if (n < 4) {
    // "cry", "try": the y of "cried", "tried" becomes i, so the short form must too.
    return n === 3 && word.endsWith('y') && !vowelAt(word, 1) && !vowelAt(word, 0) ? word.slice(0, 2) + 'i' : word;
  }
  const hit = STEM_CACHE.get(word);
  if (hit !== undefined) return hit;
  let out = word;
  for (let i = 0; i < n; i++) {
    const c = word.charCodeAt(i);
    if (c < 0x61 || c > 0x7a) {
      out = '';
      break;
    }
  }
  if (out === '') out = word;
  else out = stemAscii(word);
  if (STEM_CACHE.size < 200_000) STEM_CACHE.set(word, out);
  return out;
}

function stemAscii(w: string): string {
  // 1a: plurals and third person.
  if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('ies') && w.length >= 5) w = w.slice(0, -2);
  else if (w.endsWith('ies')) w = w.slice(0, -1); // "dies" → "die"
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is') && w.length >= 4) w = w.slice(0, -1);
  // 1b: past tense and -ing.
  let cut = '';
  if (w.endsWith('eed')) {
    if (w.length > 5) w = w.slice(0, -1); // "agreed" → "agree"; "bleed", "speed", "need" stay
  } else if (w.endsWith('ied') && w.length <= 4) {
    w = w.slice(0, -1); // "died" → "die", "lied" → "lie"
  } else if (w.endsWith('ying') && w.length <= 5) {
    w = w.slice(0, -4) + 'ie'; // "dying" → "die", "lying" → "lie"
  } else if (w.endsWith('ed') && hasVowel(w.slice(0, -2)) && w.length >= 5) {
    cut = w = w.slice(0, -2);
  } else if (w.endsWith('ing') && hasVowel(w.slice(0, -3)) && w.length >= 6) {
    cut = w = w.slice(0, -3);
  }
  if (cut) {
    const n = w.length;
    if (w.endsWith('at') || w.endsWith('bl') || w.endsWith('iz')) w += 'e';
    else if (n >= 2 && w[n - 1] === w[n - 2] && !vowelAt(w, n - 1) && !'lsz'.includes(w[n - 1]!)) w = w.slice(0, -1);
    else if (shortCvc(w)) w += 'e';
  }
  // 1c: final y after a consonant → i ("happy", "happier" stay apart; "cry", "cries", "cried" meet).
  if (w.length > 2 && w.endsWith('y') && !vowelAt(w, w.length - 2)) w = w.slice(0, -1) + 'i';
  // 5a: a final e goes when the rest is long enough and not a short cvc ("starve", "starving" →
  // "starv"; "purge" → "purg"; but "hate", "scare" keep it, so "scare" never meets "scar").
  if (w.length >= 5 && w.endsWith('e') && !w.endsWith('ee')) {
    const base = w.slice(0, -1);
    const m = measure(base);
    if (m > 1 || (m === 1 && !shortCvc(base))) w = base;
  }
  return w;
}
