import { z } from 'zod';
import { codePoints, storableText } from './text';

/**
 * `schema` held to [min, max] characters, counted in Haven's one unit: the Unicode code point
 * (docs/protocol.md §1, "character"; the staff API counts the same way), so 😀 is one character.
 * Checked here rather than with zod's `.max()` so that the rule is written once and cannot drift
 * with zod.
 */
function withinLength(schema: z.ZodString, max: number, min: number) {
  return schema
    .refine((s) => codePoints(s) >= min, { message: min === 1 ? 'must not be empty' : `must be at least ${min} characters`, abort: true })
    .refine((s) => codePoints(s) <= max, { message: `must be at most ${max} characters`, abort: true });
}

/** A string field of at most `max` (and at least `min`) characters. */
export function units(max: number, min = 0) {
  return withinLength(z.string(), max, min);
}

/**
 * A string from an agent that the collector stores: made storable first (lone surrogates
 * become U+FFFD, NUL is removed; see text.ts), then held to its limits.
 */
export function storedText(max: number, min = 0) {
  return withinLength(z.string().overwrite(storableText), max, min);
}
