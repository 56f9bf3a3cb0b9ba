import { z } from 'zod';
import { storableText } from './text';

/**
 * String fields, counted in the protocol's one unit: the UTF-16 code unit (docs/protocol.md §1,
 * "character"), as `String.length` counts it and as the agent cuts text. zod's own `.max()`
 * counts code points, so an astral character (most emoji) would count one there and two
 * everywhere else; the limit is checked here instead.
 */
export function units(max: number, min = 0) {
  return z
    .string()
    .refine((s) => s.length >= min, { message: min === 1 ? 'must not be empty' : `must be at least ${min} characters`, abort: true })
    .refine((s) => s.length <= max, { message: `must be at most ${max} characters (UTF-16 code units)`, abort: true });
}

/**
 * A string from an agent that the collector stores: made storable first (lone surrogates
 * become U+FFFD, NUL is removed; see text.ts), then held to its limits.
 */
export function storedText(max: number, min = 0) {
  return z
    .string()
    .overwrite(storableText)
    .refine((s) => s.length >= min, { message: min === 1 ? 'must not be empty' : `must be at least ${min} characters`, abort: true })
    .refine((s) => s.length <= max, { message: `must be at most ${max} characters (UTF-16 code units)`, abort: true });
}
