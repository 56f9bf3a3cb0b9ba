import { cleanCapturedText, LIMITS, sliceWhole, truncateUnits } from '@haven/protocol';

/**
 * Evidence for the DSL: the matched words and a little either side, with personal details
 * masked before anything leaves the device. Masking is decided on the whole text first, so a
 * phone number that straddles the cut between context and match is still masked in both.
 */

export type Evidence = { match: string; before: string; after: string };
type Span = { start: number; end: number; label: string };

// Linear patterns over at most a few hundred characters of context; no nested quantifiers.
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
/** A run of digits with spaces, dots, dashes or brackets between: phone and card numbers. */
const NUMBER_RUN = /\+?\(?\d[\d ().-]{7,}\d/g;

/** Where e-mail addresses, phone numbers and card-like numbers sit in `text`. */
export function sensitiveSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const m of text.matchAll(EMAIL)) spans.push({ start: m.index, end: m.index + m[0].length, label: '[email]' });
  for (const m of text.matchAll(NUMBER_RUN)) {
    const digits = m[0].replace(/\D/g, '').length;
    // 9–12 digits: a phone number (UK mobiles and landlines); 13–19: card-like.
    if (digits >= 9 && digits <= 19) spans.push({ start: m.index, end: m.index + m[0].length, label: digits >= 13 ? '[card number]' : '[phone number]' });
  }
  return spans.sort((a, b) => a.start - b.start);
}

/** `text[from, to)` with every sensitive span replaced by its label (once, where the span starts or the slice begins). */
function maskedSlice(text: string, from: number, to: number, spans: readonly Span[]): string {
  let out = '';
  let i = from;
  for (const s of spans) {
    if (s.end <= from || s.start >= to) continue;
    const a = Math.max(s.start, from);
    if (a > i) out += text.slice(i, a);
    if (a >= i) out += s.label;
    i = Math.max(i, Math.min(s.end, to));
  }
  return out + text.slice(i, to);
}

/** A stretch of text (UTF-16 offsets, end exclusive). */
export type TextSpan = { start: number; end: number };

/**
 * `text` with each unsure span outside the match `[start, end)` replaced by an ellipsis (a run
 * of unsure words separated only by spaces becomes one), and the match's new offsets. A span
 * that touches the match is kept: the match itself is never dropped.
 */
export function withoutUnsure(text: string, start: number, end: number, unsure: readonly TextSpan[]): { text: string; start: number; end: number } {
  const spans = unsure.filter((u) => u.end > u.start).sort((a, b) => a.start - b.start);
  const before = ellipsise(text.slice(0, start), spans.filter((u) => u.end <= start));
  const after = ellipsise(
    text.slice(end),
    spans.filter((u) => u.start >= end).map((u) => ({ start: u.start - end, end: u.end - end })),
  );
  return { text: before + text.slice(start, end) + after, start: before.length, end: before.length + (end - start) };
}

/** `text` with each span replaced by "…", neighbours separated only by spaces or tabs sharing one. */
function ellipsise(text: string, spans: readonly TextSpan[]): string {
  let out = '';
  let i = 0;
  for (const u of spans) {
    if (u.start < i) continue; // overlapping spans: the first already covers it
    const gap = text.slice(i, u.start);
    out += out.endsWith('…') && /^[ \t]*$/.test(gap) ? '' : gap + '…';
    i = u.end;
  }
  return out + text.slice(i);
}

/**
 * The match `[start, end)` of `text` as evidence: the match (at most 200 characters) and up to
 * 200 characters of context shared between before and after, all masked. Words in `unsure`
 * (OCR recognised them with low confidence) become an ellipsis in the context.
 */
export function cutEvidence(text: string, start: number, end: number, unsure: readonly TextSpan[] = []): Evidence {
  if (unsure.length) ({ text, start, end } = withoutUnsure(text, start, end, unsure));
  // Only the neighbourhood of the match is examined: a screen of OCR can be long.
  const from = Math.max(0, start - LIMITS.maxEvidenceContextChars - 64);
  const to = Math.min(text.length, end + LIMITS.maxEvidenceContextChars + 64);
  const spans = sensitiveSpans(text.slice(from, to)).map((s) => ({ ...s, start: s.start + from, end: s.end + from }));
  const matchEnd = Math.min(end, start + LIMITS.maxEvidenceMatchChars);
  const budget = LIMITS.maxEvidenceContextChars;
  const half = budget / 2;
  const beforeLen = Math.min(start, Math.max(half, budget - (text.length - matchEnd)));
  const afterLen = Math.min(text.length - matchEnd, budget - beforeLen);
  // Cuts fall on UTF-16 units (the protocol's measure) but never inside an astral character;
  // control characters and NUL are removed (PostgreSQL stores no NUL).
  let match = truncateUnits(clean(maskedSlice(text, start, matchEnd, spans)), LIMITS.maxEvidenceMatchChars);
  if (match.trim() === '') match = '…';
  let before = clean(maskedSlice(text, start - beforeLen, start, spans));
  let after = clean(maskedSlice(text, matchEnd, matchEnd + afterLen, spans));
  // Labels can make a slice longer than it was; keep the protocol's limit.
  if (before.length + after.length > budget) {
    before = sliceWhole(before, Math.max(0, before.length - half));
    after = truncateUnits(after, budget - before.length);
  }
  return { match, before, after };
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/**
 * A slice's edges may have cut an astral character in two (the scorer's offsets and the
 * context budget count UTF-16 units): the half is dropped, not sent as a lone surrogate.
 */
function clean(slice: string): string {
  let s = slice;
  if (s.length > 0 && isLow(s.charCodeAt(0))) s = s.slice(1);
  if (s.length > 0 && isHigh(s.charCodeAt(s.length - 1))) s = s.slice(0, -1);
  return cleanCapturedText(s);
}

/** The whole of a short text (a window title) with personal details masked. */
export function maskText(text: string): string {
  return maskedSlice(text, 0, text.length, sensitiveSpans(text));
}
