/**
 * Key codes (uiohook's, which are PC scan codes) to characters on a UK keyboard. Only keys
 * that type text are here; everything else is a control key to the phrase assembler.
 */

/** [unshifted, shifted] for each code. Letters are handled apart (caps lock applies to them). */
const SYMBOLS: ReadonlyMap<number, readonly [string, string]> = new Map([
  [41, ['`', '¬']],
  [2, ['1', '!']],
  [3, ['2', '"']],
  [4, ['3', '£']],
  [5, ['4', '$']],
  [6, ['5', '%']],
  [7, ['6', '^']],
  [8, ['7', '&']],
  [9, ['8', '*']],
  [10, ['9', '(']],
  [11, ['0', ')']],
  [12, ['-', '_']],
  [13, ['=', '+']],
  [26, ['[', '{']],
  [27, [']', '}']],
  [39, [';', ':']],
  [40, ["'", '@']],
  [43, ['#', '~']], // the key left of Enter on a UK keyboard
  [86, ['\\', '|']], // the key left of Z on a UK keyboard
  [51, [',', '<']],
  [52, ['.', '>']],
  [53, ['/', '?']],
  [57, [' ', ' ']],
]);

const LETTERS: ReadonlyMap<number, string> = new Map([
  [30, 'a'], [48, 'b'], [46, 'c'], [32, 'd'], [18, 'e'], [33, 'f'], [34, 'g'], [35, 'h'], [23, 'i'],
  [36, 'j'], [37, 'k'], [38, 'l'], [50, 'm'], [49, 'n'], [24, 'o'], [25, 'p'], [16, 'q'], [19, 'r'],
  [31, 's'], [20, 't'], [22, 'u'], [47, 'v'], [17, 'w'], [45, 'x'], [21, 'y'], [44, 'z'],
]);

/** The number pad types digits and operators whatever shift says (num lock assumed on). */
const NUMPAD: ReadonlyMap<number, string> = new Map([
  [82, '0'], [79, '1'], [80, '2'], [81, '3'], [75, '4'], [76, '5'], [77, '6'], [71, '7'], [72, '8'], [73, '9'],
  [55, '*'], [78, '+'], [74, '-'], [83, '.'], [3637, '/'],
]);

export const KEY = {
  backspace: 14,
  delete: 3667,
  enter: 28,
  numpadEnter: 3612,
  tab: 15,
  escape: 1,
  capsLock: 58,
  shift: 42,
  shiftRight: 54,
  ctrl: 29,
  ctrlRight: 3613,
  alt: 56,
  altRight: 3640,
  meta: 3675,
  metaRight: 3676,
} as const;

/** The character a key types, or null for a control key. AltGr and Ctrl chords type nothing here. */
export function keyToChar(code: number, shift: boolean, capsLock: boolean): string | null {
  const letter = LETTERS.get(code);
  if (letter !== undefined) return shift !== capsLock ? letter.toUpperCase() : letter;
  const symbol = SYMBOLS.get(code);
  if (symbol !== undefined) return symbol[shift ? 1 : 0];
  return NUMPAD.get(code) ?? null;
}
