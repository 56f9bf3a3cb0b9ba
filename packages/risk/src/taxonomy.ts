import { CATEGORIES, type Category } from '@haven/protocol';

export { CATEGORIES, type Category };

/**
 * Severity 0–5, as shown to the Designated Safeguarding Lead:
 * 0 none · 1 low (logged, weekly digest) · 2 moderate (queue) · 3 high (queue, today)
 * · 4 severe (DSL alerted now) · 5 critical (imminent risk to life, or illegal content).
 */
export type Severity = 0 | 1 | 2 | 3 | 4 | 5;

export const SEVERITY_MEANING: Record<Severity, string> = {
  0: 'none',
  1: 'low: logged, in the weekly digest',
  2: 'moderate: in the queue',
  3: 'high: in the queue for today',
  4: 'severe: the DSL is alerted now',
  5: 'critical: imminent risk to life, or illegal content',
};

/** When two categories reach the same severity, the first in this list is reported. */
export const CATEGORY_PRIORITY: readonly Category[] = [
  'suicide',
  'self_harm',
  'illegal',
  'cse',
  'extremism',
  'violence',
  'discrimination',
  'bullying',
  'drugs',
  'pornography',
  'gambling',
];

export function clampSeverity(n: number): Severity {
  return Math.max(0, Math.min(5, Math.round(n))) as Severity;
}

export function isCategory(value: unknown): value is Category {
  return typeof value === 'string' && (CATEGORIES as readonly string[]).includes(value);
}
