import { encodeMessage, EventSchema, MAX_EXPLANATION_ENTRIES, MAX_EXPLANATION_NAMES, parseAgentMessage, uuidv7, type AgentEvent } from '@haven/protocol';
import type { Reason, ScoreResult } from '@haven/risk';
import { toEvent, toExplanation, type Observation } from './to-event';

const identity = { deviceId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', osUser: 'pupil' };
const policy = { threshold: 3, ageBand: 'secondary' as const };
const obs = (text: string): Observation => ({ source: 'keys', text, app: 'notepad.exe', title: 'Untitled - Notepad', at: new Date('2026-11-24T10:00:00Z') });

const reason = (ruleId: string, over: Partial<Reason> = {}): Reason => ({
  ruleId,
  category: 'suicide',
  kind: 'term',
  base: 4,
  adjustments: [{ name: 'time', delta: 1 }],
  severity: 5,
  ...over,
});

/** A scorer that reports these reasons for a match on the first word of the text. */
const scoring =
  (reasons: Reason[] | undefined, category: ScoreResult['category'] = 'suicide') =>
  (): ScoreResult =>
    ({
      category,
      severity: 5,
      matches: [{ ruleId: 'suicide.en.kill_myself', category, severity: 5, start: 0, end: 4 }],
      explanation: 'suicide.en.kill_myself (4) time (+1) → 5',
      reasons,
    }) as ScoreResult;

/** Every string in a value, however deep. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

describe('the explanation an event carries', () => {
  it('carries a learned reason’s kind and confidence but never the words that carried it', () => {
    const learned = reason('learned.suicide', { kind: 'learned', base: 3, adjustments: [], severity: 3, confidence: 91, features: ['nobody', 'miss me', 'tonight'] });
    const entries = toExplanation([learned], 'suicide');
    expect(entries).toEqual([{ ruleId: 'learned.suicide', category: 'suicide', kind: 'learned', base: 3, adjustments: [], severity: 3, confidence: 91 }]);
    const event = toEvent(obs('nobody would miss me tonight'), policy, identity, scoring([learned])).event!;
    for (const s of strings(event.explanation)) expect(['nobody', 'miss me', 'tonight']).not.toContain(s);
  });

  it('is the real scorer’s reason for a flagged phrase: rule, kind, base, the boost for a time, the final severity', () => {
    const text = 'text me on 07700 900123 because i want to kill myself tonight';
    const { event, result } = toEvent(obs(text), policy, identity);
    expect(event).not.toBeNull();
    expect(EventSchema.safeParse(event).success).toBe(true);
    const [first] = event!.explanation ?? [];
    expect(first).toMatchObject({ ruleId: event!.ruleIds[0], category: 'suicide', severity: event!.severity });
    expect(['term', 'pair', 'frame']).toContain(first!.kind);
    expect(first!.base).toBeLessThan(first!.severity);
    expect(first!.adjustments).toContainEqual({ name: 'time', delta: 1 });
    expect(event!.explanation).toEqual(toExplanation(result.reasons, 'suicide'));
    // Ids and names only: nothing with a space, nothing of what was typed around the match.
    for (const s of strings(event!.explanation)) expect(s).toMatch(/^[\p{L}\p{N}_.-]+$/u);
    expect(JSON.stringify(event!.explanation)).not.toMatch(/tonight|900123|because/);
  });

  it('passes the collector’s reader whole, for terms, pairs and frames in several languages', () => {
    const phrases = [
      'i want to die, goodbye everyone, tonight i will take all my pills',
      'i punched my arm until it bled',
      'im bringing a knife to school tomorrow',
      'chcę umrzeć',
      'quiero morir esta noche',
      'i bought some weed off him',
      'kill myself lol i hate maths homework, i will cut my wrists',
    ];
    // A primary pupil's band adds an age adjustment; drugs adds a cap.
    const events = phrases.map((text) => toEvent(obs(text), { threshold: 1, ageBand: 'primary' }, identity).event).filter((e): e is AgentEvent => e !== null);
    expect(events).toHaveLength(phrases.length);
    // What the collector's gateway runs on every frame.
    const read = parseAgentMessage(encodeMessage({ type: 'events', batchId: uuidv7(), events }));
    expect(read.ok).toBe(true);
    if (!read.ok || read.message.type !== 'events') return;
    expect(read.message.events.map((e) => e.explanation)).toEqual(events.map((e) => e.explanation));
    const entries = events.flatMap((e) => e.explanation ?? []);
    expect(new Set(entries.map((e) => e.kind))).toEqual(new Set(['term', 'pair', 'frame']));
    expect(entries.some((e) => !e.ruleId.includes('.en.'))).toBe(true);
    expect(entries.some((e) => e.adjustments.some((a) => a.delta < 0))).toBe(true);
    for (const e of events) expect(e.explanation?.[0]?.category).toBe(e.category);
  });

  it('puts the reported category’s reasons first and keeps at most ten', () => {
    const other = reason('self_harm.en.cut_my_arm', { category: 'self_harm', severity: 4 });
    const mine = Array.from({ length: 12 }, (_, i) => reason(`suicide.en.rule_${i}`));
    const { event } = toEvent(obs('kill myself'), policy, identity, scoring([other, ...mine]));
    expect(event!.explanation).toHaveLength(MAX_EXPLANATION_ENTRIES);
    expect(event!.explanation!.map((e) => e.ruleId)).toEqual(mine.slice(0, 10).map((r) => r.ruleId));

    const few = toEvent(obs('kill myself'), policy, identity, scoring([other, mine[0]!])).event!;
    expect(few.explanation!.map((e) => e.ruleId)).toEqual(['suicide.en.rule_0', 'self_harm.en.cut_my_arm']);
  });

  it('takes only the fields the protocol knows; repeated word classes once, at most eight', () => {
    const classes = ['body_parts', 'body_parts', ...Array.from({ length: 10 }, (_, i) => `class_${i}`)];
    const r = { ...reason('self_harm.en.frame_injure_own_body', { kind: 'frame', classes, needs: ['first_person'] }), features: ['i want to'] } as Reason;
    const { event } = toEvent(obs('kill myself'), policy, identity, scoring([r]));
    expect(EventSchema.safeParse(event).success).toBe(true);
    const [entry] = event!.explanation!;
    expect(entry).not.toHaveProperty('features');
    expect(entry!.classes).toEqual(['body_parts', ...Array.from({ length: MAX_EXPLANATION_NAMES - 1 }, (_, i) => `class_${i}`)]);
    expect(entry!.needs).toEqual(['first_person']);
  });

  it('leaves out a reason the protocol would refuse, and keeps the event', () => {
    const reasons = [
      reason('suicide.en.kill myself'), // a space: not an id
      reason('suicide.en.ok', { adjustments: [{ name: 'Time Of Day', delta: 1 }] }),
      reason('suicide.en.far', { adjustments: [{ name: 'time', delta: 9 }] }),
      reason('suicide.en.kill_myself'),
    ];
    const { event } = toEvent(obs('kill myself'), policy, identity, scoring(reasons));
    expect(EventSchema.safeParse(event).success).toBe(true);
    expect(event!.explanation!.map((e) => e.ruleId)).toEqual(['suicide.en.kill_myself']);

    const none = toEvent(obs('kill myself'), policy, identity, scoring([reason('suicide.en.kill myself')])).event!;
    expect(none).not.toHaveProperty('explanation');
    expect(EventSchema.safeParse(none).success).toBe(true);
  });

  it('is left out when the scorer gives no reasons', () => {
    for (const reasons of [undefined, []]) {
      const { event } = toEvent(obs('kill myself'), policy, identity, scoring(reasons));
      expect(event).not.toHaveProperty('explanation');
      expect(EventSchema.safeParse(event).success).toBe(true);
    }
  });
});
