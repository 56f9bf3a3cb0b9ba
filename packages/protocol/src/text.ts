/**
 * Strings as PostgreSQL can store them, and as the agent cuts them.
 *
 * Lengths count Unicode code points (docs/protocol.md §1, "character"), in the protocol as in
 * the staff API: 😀 is one character. The agent cuts by UTF-16 units (`truncateUnits`), which
 * never gives more code points than units, so what it cuts always fits. Two things JavaScript strings
 * can hold that PostgreSQL cannot: U+0000 (text refuses NUL, 22021; jsonb refuses \u0000,
 * 22P05) and a lone UTF-16 surrogate — half of an astral character such as an emoji cut in
 * two (jsonb refuses it, 22P02; text silently stores U+FFFD).
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const NEEDS_STORING = /[\u0000\uD800-\uDFFF]/;
/** C0 controls other than tab and newline: never meaningful in evidence, titles or names. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F]/g;

/** Each lone surrogate replaced by U+FFFD (what `String.prototype.toWellFormed` does). Same length. */
export function toWellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * What the collector makes of every agent string before checking its limits: lone surrogates
 * become U+FFFD and NUL is removed, so a cut emoji from an older agent costs one character,
 * not the event. Never longer than the input.
 */
export function storableText(s: string): string {
  if (!NEEDS_STORING.test(s)) return s;
  // eslint-disable-next-line no-control-regex -- removing NUL is the point
  return toWellFormed(s).replace(/\u0000/g, '');
}

/**
 * What the agent sends of captured text: well-formed, without NUL or other C0 controls
 * (tab and newline are kept). Never longer than the input.
 */
export function cleanCapturedText(s: string): string {
  return toWellFormed(s.replace(CONTROLS, ''));
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** How many Unicode code points `s` holds (a surrogate pair is one; a lone surrogate is one). */
export function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if (isHigh(s.charCodeAt(i)) && isLow(s.charCodeAt(i + 1))) {
      n--;
      i++;
    }
  }
  return n;
}

/**
 * `s[start, end)` in UTF-16 units, moved inwards so that no surrogate pair is cut in two: a
 * boundary inside a pair drops that character rather than leaving half of it.
 */
export function sliceWhole(s: string, start: number, end = s.length): string {
  let a = Math.max(0, Math.min(start, s.length));
  let b = Math.max(a, Math.min(end, s.length));
  if (a > 0 && a < s.length && isLow(s.charCodeAt(a)) && isHigh(s.charCodeAt(a - 1))) a++;
  if (b < s.length && b > a && isLow(s.charCodeAt(b)) && isHigh(s.charCodeAt(b - 1))) b--;
  return s.slice(a, Math.max(a, b));
}

/** At most `max` UTF-16 units of `s`, never ending in half a surrogate pair. */
export function truncateUnits(s: string, max: number): string {
  return s.length <= max ? s : sliceWhole(s, 0, max);
}
