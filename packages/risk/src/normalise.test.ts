import { isLaughter, normalisePhrase, tokenize } from './normalise';

const words = (s: string) => tokenize(s).map((t) => t.text);
/** What the matcher would look up: the text, or the first leetspeak reading. */
const reading = (s: string) => tokenize(s).map((t) => t.variants[0] ?? t.text);

describe('normaliser', () => {
  it('folds case and NFKC forms: maths alphabets, full-width letters', () => {
    expect(words('KILL Myself')).toEqual(['kill', 'myself']);
    expect(words('𝐤𝐢𝐥𝐥 𝓂𝓎𝓈𝑒𝓁𝒻')).toEqual(['kill', 'myself']);
    expect(words('ｋｉｌｌ')).toEqual(['kill']);
  });

  it('maps Cyrillic and Greek look-alikes to Latin', () => {
    expect(words('kіll')).toEqual(['kill']); // Cyrillic і
    expect(words('ѕuісіdе')).toEqual(['suicide']);
    expect(words('κιll')).toEqual(['kill']); // Greek kappa, iota
  });

  it('drops zero-width characters and soft hyphens inside words', () => {
    expect(words('ki\u200bll my\u00adself')).toEqual(['kill', 'myself']);
    expect(words('s\u200du\u2060i\ufeffcide')).toEqual(['suicide']);
  });

  it('strips diacritics so typed-without-accents matches', () => {
    expect(words('zabić się')).toEqual(['zabic', 'sie']);
    expect(words('sinucidere ȘI moarte')).toEqual(['sinucidere', 'si', 'moarte']);
    expect(words('Łódź')).toEqual(['lodz']);
  });

  it('reads leetspeak inside words, not in plain numbers', () => {
    expect(reading('k1ll mys3lf')).toEqual(['kill', 'myself']);
    expect(reading('$uicide')).toEqual(['suicide']);
    expect(reading('h@te')).toEqual(['hate']);
    expect(reading('k!ll')).toEqual(['kill']);
    expect(reading('year 2026')).toEqual(['year', '2026']);
    // "1" may be l as well as i.
    expect(tokenize('ki11')[0]!.variants).toContain('kill');
  });

  it('keeps trailing punctuation out of words', () => {
    expect(words('hello! are you ok?')).toEqual(['hello', 'are', 'you', 'ok']);
  });

  it('offers a squeezed reading for repeated letters', () => {
    const [t] = tokenize('kiiiiiilllll');
    expect(t!.text).toBe('kiiiiiilllll');
    expect(t!.squeezed).toBe('kil');
    expect(tokenize('kill')[0]!.squeezed).toBeNull(); // ordinary doubles are left alone
  });

  it('joins split letters: spaces, dots, dashes', () => {
    expect(words('k i l l m y s e l f')).toEqual(['killmyself']);
    expect(words('k.i.l.l')).toEqual(['kill']);
    expect(words('s-u-i-c-i-d-e now')).toEqual(['suicide', 'now']);
    expect(words('i am a b')).toEqual(['i', 'am', 'a', 'b']); // two single letters are not a split word
  });

  it('joins split letters including a leading one-letter word, which the scorer parts later', () => {
    expect(words('I h a t e them')).toEqual(['ihate', 'them']);
  });

  it('reads whole-word txt-speak as the word', () => {
    expect(words('see u at skool 2moro')).toEqual(['see', 'you', 'at', 'school', 'tomorrow']);
  });

  it('offers the dropped g and Arabic words without their clitics', () => {
    expect(tokenize('bringin')[0]!.variants).toContain('bringing');
    expect(tokenize('بالسكين')[0]!.variants).toContain('سكين');
  });

  it('drops apostrophes without splitting words', () => {
    expect(words("don't i'm can’t")).toEqual(['dont', 'im', 'cant']);
  });

  it('unifies Arabic letter variants and drops diacritics and tatweel', () => {
    expect(normalisePhrase('أنتحر')).toBe(normalisePhrase('انتحر'));
    expect(normalisePhrase('انـتـحـر')).toBe(normalisePhrase('انتحر'));
    expect(normalisePhrase('مَوْت')).toBe('موت');
  });

  it('keeps offsets into the original text', () => {
    const text = 'oh  K1LL  me';
    const [, k] = tokenize(text);
    expect(text.slice(k!.start, k!.end)).toBe('K1LL');
    const astral = '𝐤𝐢𝐥𝐥 x';
    const [a] = tokenize(astral);
    expect(astral.slice(a!.start, a!.end)).toBe('𝐤𝐢𝐥𝐥');
  });

  it('reads "not going to" and "not gonna" as one word, "wont", spanning the original words', () => {
    expect(words("I'm NOT going to go")).toEqual(['im', 'wont', 'go']);
    expect(words('not gonna lie')).toEqual(['wont', 'lie']);
    expect(normalisePhrase('not going to be here')).toBe(normalisePhrase("won't be here"));
    expect(words('not going home')).toEqual(['not', 'going', 'home']); // "going" without "to" stays
    const text = 'i am not  going to go';
    const w = tokenize(text)[2]!;
    expect(text.slice(w.start, w.end)).toBe('not  going to');
  });
});

describe('normaliser: evasions read by construction', () => {
  it('keeps a star inside a word as a masked letter, and joins stars between single letters', () => {
    expect(reading('k*ll me')).toEqual(['k*ll', 'me']);
    expect(reading('k*i*l*l')).toEqual(['kill']);
    expect(words('**bold** text')).toEqual(['bold', 'text']);
  });

  it('ends a spaced-out word at a wider gap', () => {
    expect(words('h o w  m a n y  p i l l s')).toEqual(['how', 'many', 'pills']);
    expect(words('s e n d  a  p i c  i n  u r')).toEqual(['send', 'a', 'pic', 'in', 'your']);
    expect(words('k i l l m y s e l f')).toEqual(['killmyself']);
    expect(words('i am a b')).toEqual(['i', 'am', 'a', 'b']);
  });

  it('reads small capitals and keycap digits', () => {
    expect(words('ᴄᴀꜱᴇꜱ')).toEqual(['cases']);
    expect(words('1️⃣4️⃣')).toEqual(['14']);
  });

  it('reads emoji that stand for words as their own tokens', () => {
    expect(words('🔫🏫 soon')).toEqual(['gun', 'school', 'soon']);
    expect(words('big sleep 2nite 💊💊')).toEqual(['big', 'sleep', 'tonight', 'pills', 'pills']);
    expect(words('lol 🌸')).toEqual(['lol']); // an emoji with no word is a separator
    expect(words('so funny 😂🤣')).toEqual(['so', 'funny', 'lol', 'lol']); // laughing faces are a joke marker
  });

  it('keeps txt-speak 1 for one', () => {
    expect(reading('ev3ry1 h3r')).toEqual(['everyone', 'her']);
  });
});

describe('laughter', () => {
  it('is a repeated syllable or letter run, not a word that starts like one', () => {
    for (const w of ['haha', 'hahaha', 'hahah', 'jajaja', 'jejeje', 'hihi', 'kkkk', 'rsrsrs', 'lol', 'loool', 'lmaooo', 'lmfao', 'xddd']) expect(isLaughter(w)).toBe(true);
    for (const w of ['jihad', 'hash', 'have', 'hajj', 'kaka', 'kick', 'lolly', 'hello', 'ha', 'xd']) expect(isLaughter(w)).toBe(false);
  });
});

describe('normaliser: txt-speak numbers, trailing masks, money', () => {
  it('reads a lone 2 or 4 between words as to or for', () => {
    expect(words('i w@nt 2 d!e')).toEqual(['i', 'w@nt', 'to', 'd!e']);
    expect(words('how 2 get there 4 pe')).toEqual(['how', 'to', 'get', 'there', 'for', 'pe']);
  });

  it('keeps numbers that count things, stand beside units, numbers or punctuation', () => {
    expect(words('year 2 maths')).toEqual(['year', '2', 'maths']);
    expect(words('meet at 4 pm')).toEqual(['meet', 'at', '4', 'pm']);
    expect(words('she is 2 and he is 4 or so')).toEqual(['she', 'is', '2', 'and', 'he', 'is', '4', 'or', 'so']);
    expect(words('we need 2, not 3')).toEqual(['we', 'need', '2', 'not', '3']);
    expect(words('page 4 of the book')).toEqual(['page', '4', 'of', 'the', 'book']);
    expect(words('2 caps each')).toEqual(['2', 'caps', 'each']);
  });

  it('keeps one trailing @ or * as a masked last letter, the bare word read first', () => {
    expect(words('n1gg@ get out')).toEqual(['n1gg@', 'get', 'out']);
    expect(words('pr*-an* tips')).toEqual(['pr*', 'an*', 'tips']);
    expect(tokenize('what a thot*')[2]!.variants[0]).toBe('thot');
    expect(words('email me@ school')).toEqual(['email', 'me@', 'school']);
    expect(words('hello! a* grade')).toEqual(['hello', 'a', 'grade']); // one letter: not a masked word
  });

  it('reads a run of currency signs as money, a single one as nothing', () => {
    expect(words('easy £££ just need ur bank')).toEqual(['easy', 'money', 'just', 'need', 'your', 'bank']);
    expect(words('$$$ fast')).toEqual(['money', 'fast']);
    expect(words('costs £5')).toEqual(['costs', '5']);
  });
});

describe('Token.reading', () => {
  it('is the first variant, else the text, whether or not the variants were worked out first', () => {
    const text = 'goin k1ll kill walkin in £££ $uicide ev3ry1 hello n0 sl*t sewerslide مرحبا kiiill 2day ok';
    const quick = tokenize(text).map((t) => t.reading);
    const slow = tokenize(text).map((t) => t.variants[0] ?? t.text);
    expect(quick).toEqual(slow);
    expect(quick).toContain('walking');
    expect(quick).toContain('kill');
  });
});
