/**
 * Monitoring categories, after the UK Safer Internet Centre's "appropriate monitoring" guidance.
 * The wire format carries these ids; @haven/risk produces them.
 */
export const CATEGORIES = [
  'illegal',
  'bullying',
  'cse',
  'discrimination',
  'drugs',
  'extremism',
  'gambling',
  'pornography',
  'self_harm',
  'suicide',
  'violence',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const SOURCES = ['title', 'keys', 'screen'] as const;
export type Source = (typeof SOURCES)[number];

/**
 * Severity 0–5. 0 none, 1 low (weekly digest), 2 moderate, 3 high (today's queue),
 * 4 severe (DSL alerted now), 5 critical (imminent risk to life, or illegal content).
 */
export type Severity = 0 | 1 | 2 | 3 | 4 | 5;
