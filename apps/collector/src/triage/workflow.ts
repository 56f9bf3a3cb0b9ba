import { CATEGORIES } from '@haven/protocol';
import type { ExplanationRecord, IncidentStatus } from '@haven/db';

/**
 * The school's response flowchart as data: who is involved, what kind of activity, how
 * worried, what was done, how it ended. Labels are what staff read.
 *
 *   new ──► in_review ──► escalated ──► closed
 *    │          │  ▲            ▲ │          ▲
 *    │          │  └────────────┘ │          │
 *    ├──────────┼─────────────────┘          │   escalated needs a referral,
 *    └──────────┴──────────► closed ◄────────┘   closed an outcome;
 *                                                closed ──► in_review (reopened)
 */
type Option<V extends string = string> = { value: V; label: string };

export const CATEGORY_LABELS: Record<(typeof CATEGORIES)[number], string> = {
  illegal: 'Illegal content',
  bullying: 'Bullying',
  cse: 'Sexual exploitation and grooming',
  discrimination: 'Hate and discrimination',
  drugs: 'Drugs and substance misuse',
  extremism: 'Radicalisation and extremism',
  gambling: 'Gambling',
  pornography: 'Pornography',
  self_harm: 'Self-harm',
  suicide: 'Suicide',
  violence: 'Violence and weapons',
};

export const STATUS_OPTIONS: Option<IncidentStatus>[] = [
  { value: 'new', label: 'New' },
  { value: 'in_review', label: 'In review' },
  { value: 'escalated', label: 'Escalated' },
  { value: 'closed', label: 'Closed' },
];

export const INVOLVEMENT: Option[] = [
  { value: 'child_victim', label: 'Child as victim' },
  { value: 'child_instigator', label: 'Child as instigator' },
  { value: 'staff_victim', label: 'Staff as victim' },
  { value: 'staff_instigator', label: 'Staff as instigator' },
];

export const ACTIVITY_TYPES: Option[] = [
  { value: 'illegal', label: 'Illegal' },
  { value: 'inappropriate', label: 'Inappropriate' },
  { value: 'neither', label: 'Neither' },
];

export const CONCERN_LEVELS: Option[] = [
  { value: 'low', label: 'Low' },
  { value: 'medium', label: 'Medium' },
  { value: 'high', label: 'High' },
  { value: 'immediate_risk', label: 'Immediate risk of harm' },
];

export const ACTIONS: Array<Option & { referral: boolean }> = [
  { value: 'internal_discipline', label: 'Internal discipline', referral: false },
  { value: 'parents_informed', label: 'Parents or carers informed', referral: false },
  { value: 'pastoral_support', label: 'Pastoral support', referral: false },
  { value: 'referral_mash', label: 'Referral to MASH (children’s social care)', referral: true },
  { value: 'referral_police_101', label: 'Police (101)', referral: true },
  { value: 'referral_police_999', label: 'Police (999)', referral: true },
  { value: 'referral_iwf', label: 'Report to the IWF', referral: true },
  { value: 'referral_ceop', label: 'Report to CEOP', referral: true },
  { value: 'referral_lado', label: 'Referral to the LADO', referral: true },
];

/** The actions that are referrals outside the school (escalation needs one; retention treats them apart). */
export const REFERRAL_ACTIONS = ACTIONS.filter((a) => a.referral).map((a) => a.value);

export const OUTCOMES: Option[] = [
  { value: 'false_positive', label: 'False positive' },
  { value: 'no_further_action', label: 'No further action' },
  { value: 'resolved', label: 'Resolved' },
];

export const TRANSITIONS: Record<IncidentStatus, IncidentStatus[]> = {
  // A false positive is closed in one save, and an emergency referred at once, straight from New.
  new: ['in_review', 'escalated', 'closed'],
  in_review: ['escalated', 'closed'],
  escalated: ['in_review', 'closed'],
  closed: ['in_review'],
};

export const MAX_NOTE_CHARS = 4000;

export type WorkflowState = { status: IncidentStatus; actions: string[]; outcome: string | null };

/** Why the move is not allowed, or null when it is. */
export function transitionProblem(from: IncidentStatus, to: IncidentStatus, after: WorkflowState): string | null {
  if (from === to) return null;
  if (!TRANSITIONS[from].includes(to)) return `An incident cannot go from ${label(from)} to ${label(to)}.`;
  if (to === 'escalated' && !after.actions.some((a) => REFERRAL_ACTIONS.includes(a))) {
    return 'Record the referral (MASH, police, IWF, CEOP or LADO) before marking the incident escalated.';
  }
  if (to === 'closed' && !after.outcome) return 'Choose an outcome before closing the incident.';
  return null;
}

function label(status: IncidentStatus): string {
  return STATUS_OPTIONS.find((s) => s.value === status)?.label.toLowerCase() ?? status;
}

export function meta() {
  return {
    categories: CATEGORIES.map((value) => ({ value, label: CATEGORY_LABELS[value] })),
    statuses: STATUS_OPTIONS,
    involvement: INVOLVEMENT,
    activityTypes: ACTIVITY_TYPES,
    concernLevels: CONCERN_LEVELS,
    actions: ACTIONS,
    outcomes: OUTCOMES,
  };
}

const SOURCE_WORDS = { title: 'a window title', keys: 'typed text', screen: 'text on screen' } as const;
export const SEVERITY_WORDS = ['none', 'low', 'moderate', 'high', 'severe', 'critical'];

/** A time as staff read it: "24 Nov 2026, 10:42", UK time. */
export function ukTime(d: Date): string {
  return d.toLocaleString('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** The scorer's explanation as stored (docs/protocol.md §5.4): ids, names and numbers, no captured text. */
export type StoredReason = ExplanationRecord;

/** The same for staff: each rule's kind and each adjustment in words. */
export type ReasonView = Omit<StoredReason, 'adjustments'> & {
  kindLabel: string;
  adjustments: { name: string; delta: number; label: string }[];
};

const KIND_LABELS: Record<string, string> = {
  term: 'a listed phrase',
  pair: 'two words near each other',
  frame: 'a pattern of words',
  learned: 'the learned model (the words it relied on are marked in the evidence)',
};

/**
 * What each of the scorer's adjustments means, in staff's words (names as in
 * packages/risk/README.md, "The explanation"). The one place these labels live; a name this
 * collector does not know (a newer agent's scorer) is shown as sent.
 */
export const ADJUSTMENT_LABELS: Record<string, string> = {
  time: 'a time or plan',
  farewell: 'a farewell',
  intent: 'a stated intention',
  means_first_person: 'a means of harm, about themselves',
  negation: 'a negation',
  third_person: 'about someone else',
  reporting: 'news or reporting',
  self_reference: 'describing themselves (a reclaimed word)',
  quoted: 'a quotation',
  counter_speech: 'speaking against it',
  educational: 'a lesson or revision title',
  own_involvement: 'their own involvement',
  game: 'a game',
  joking: 'a joke',
  help_seeking: 'seeking help',
  age_primary: 'a primary-age pupil',
  age_secondary: 'a secondary-age pupil',
  age_staff: 'a member of staff',
  cap: 'the highest severity for the category',
  corroborated: 'a second rule agreeing',
  learned: 'the learned model agreeing',
};

export const adjustmentLabel = (name: string): string => ADJUSTMENT_LABELS[name] ?? name;

/** A stored explanation with its words, or null when the agent sent none. */
export function explanationView(stored: readonly StoredReason[] | null): ReasonView[] | null {
  if (!stored?.length) return null;
  return stored.map((r) => ({
    ...r,
    kindLabel: KIND_LABELS[r.kind] ?? r.kind,
    adjustments: r.adjustments.map((a) => ({ name: a.name, delta: a.delta, label: adjustmentLabel(a.name) })),
  }));
}

/** +1, −3 (a minus sign, not a hyphen), 0. */
const signed = (n: number): string => (n > 0 ? `+${n}` : n < 0 ? `\u2212${-n}` : '0');

/** "a time or plan (+1) and a farewell (+1)". */
function listed(adjustments: ReasonView['adjustments'], corroboratedBy: string | undefined): string {
  const parts = adjustments.map((a) => `${a.label}${a.name === 'corroborated' && corroboratedBy ? `, ${corroboratedBy}` : ''} (${signed(a.delta)})`);
  return parts.length <= 1 ? parts.join('') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

/**
 * "Why flagged", without quoting the captured text. With the scorer's explanation it names the
 * rule that set the severity and what raised or lowered it; without (an older agent) it says
 * how many rules matched.
 */
export function whyFlagged(e: { source: string; category: string; severity: number; ruleIds: string[]; explanation?: readonly StoredReason[] | null }): string {
  const where = SOURCE_WORDS[e.source as keyof typeof SOURCE_WORDS] ?? e.source;
  const what = CATEGORY_LABELS[e.category as keyof typeof CATEGORY_LABELS] ?? e.category;
  const scored = `scored ${e.severity} (${SEVERITY_WORDS[e.severity] ?? e.severity}) on the device`;
  const [first, ...rest] = explanationView(e.explanation ?? null) ?? [];
  if (!first) {
    const rules = e.ruleIds.length === 1 ? 'one lexicon rule' : `${e.ruleIds.length} lexicon rules`;
    return `${what} language in ${where} matched ${rules}; ${scored}.`;
  }
  const parts = [`${what} language in ${where} matched rule ${first.ruleId} (${first.base}, ${first.kindLabel})`];
  const raised = first.adjustments.filter((a) => a.delta > 0);
  const lowered = first.adjustments.filter((a) => a.delta < 0);
  const held = first.adjustments.filter((a) => a.delta === 0);
  if (raised.length) parts.push(`raised by ${listed(raised, first.corroboratedBy)}`);
  if (lowered.length) parts.push(`lowered by ${listed(lowered, first.corroboratedBy)}`);
  if (held.length) parts.push(`held at ${held.map((a) => a.label).join(' and ')}`);
  parts.push(scored);
  const more = rest.length === 0 ? '' : rest.length === 1 ? ' One more rule matched.' : ` ${rest.length} more rules matched.`;
  return `${parts.join('; ')}.${more}`;
}
