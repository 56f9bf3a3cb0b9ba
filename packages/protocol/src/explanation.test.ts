import {
  EventSchema,
  LIMITS,
  MAX_EXPLANATION_ADJUSTMENTS,
  MAX_EXPLANATION_ENTRIES,
  MAX_EXPLANATION_NAMES,
  parseAgentMessage,
  uuidv7,
  type AgentEvent,
  type ExplanationEntry,
} from './index';

const deviceId = '0b9f1f5e-3c1a-4d47-9a3e-2f5d6c7b8a90';

function event(over: Partial<AgentEvent> = {}): AgentEvent {
  return {
    id: uuidv7(),
    occurredAt: new Date().toISOString(),
    source: 'keys',
    category: 'suicide',
    severity: 5,
    ruleIds: ['suicide.en.kill_myself'],
    evidence: { match: 'kill myself', before: 'i want to ', after: ' tonight' },
    app: 'Notepad',
    windowTitle: 'Untitled - Notepad',
    osUser: 'pupil1',
    deviceId,
    ...over,
  };
}

/** The scorer's reason for "i want to kill myself tonight", as @haven/risk reports it. */
const reason = (over: Partial<ExplanationEntry> = {}): ExplanationEntry => ({
  ruleId: 'suicide.en.kill_myself',
  category: 'suicide',
  kind: 'term',
  base: 4,
  adjustments: [{ name: 'time', delta: 1 }],
  severity: 5,
  ...over,
});

/** A batch of these events as the collector reads it. */
const parse = (...events: AgentEvent[]) => parseAgentMessage(JSON.stringify({ type: 'events', batchId: uuidv7(), events }));

describe('an event’s explanation', () => {
  it('is optional: an older agent’s event without one is valid', () => {
    const parsed = EventSchema.parse(event());
    expect(parsed.explanation).toBeUndefined();
  });

  it('carries the scorer’s reasons: terms, pairs and frames with their classes, needs and corroboration', () => {
    const explanation: ExplanationEntry[] = [
      reason({ adjustments: [{ name: 'time', delta: 1 }, { name: 'corroborated', delta: 1 }], corroboratedBy: 'suicide.en.frame_not_being_here' }),
      reason({
        ruleId: 'self_harm.en.frame_injure_own_body',
        category: 'self_harm',
        kind: 'frame',
        base: 3,
        adjustments: [{ name: 'negation', delta: -3 }, { name: 'cap', delta: 0 }],
        severity: 0,
        classes: ['injury_verbs', 'body_parts'],
        needs: ['first_person'],
      }),
      reason({ ruleId: 'suicide.pl.chcę_umrzeć', kind: 'pair', adjustments: [] }),
      reason({ ruleId: 'bullying.ar.cbb16b1e71', category: 'bullying', adjustments: [{ name: 'age_primary', delta: 1 }] }),
    ];
    const result = parse(event({ explanation }));
    expect(result).toMatchObject({ ok: true, message: { events: [{ explanation }] } });
  });

  it('drops fields it does not know, as every protocol object does (§10), so none is stored', () => {
    const parsed = EventSchema.parse(event({ explanation: [{ ...reason(), text: 'i want to kill myself' } as ExplanationEntry] }));
    expect(parsed.explanation?.[0]).toEqual(reason());
    expect(JSON.stringify(parsed)).not.toContain('"text"');
  });

  it('refuses free text in any string, naming the event’s index and never quoting the text', () => {
    const secret = 'i want to kill myself tonight';
    const cases: Array<Partial<ExplanationEntry>> = [
      { ruleId: secret },
      { corroboratedBy: secret },
      { adjustments: [{ name: secret, delta: 1 }] },
      { adjustments: [{ name: 'Time', delta: 1 }] },
      { classes: [secret] },
      { needs: ['first person'] },
      { ruleId: 'suicide.en.kill_myself\u0000' },
    ];
    for (const over of cases) {
      const result = parse(event(), event(), event({ explanation: [reason(), reason(over)] }));
      expect(result).toMatchObject({ ok: false, failure: { kind: 'invalid', index: 2 } });
      if (!result.ok) expect(result.failure.message).toMatch(/^events\.2\.explanation\.1\./);
      expect(JSON.stringify(result)).not.toContain('kill myself');
    }
  });

  it('refuses values outside the scorer’s ranges', () => {
    const cases: Array<Partial<ExplanationEntry>> = [
      { category: 'sadness' as never },
      { kind: 'model' as never },
      { base: 6 as never },
      { severity: -1 as never },
      { adjustments: [{ name: 'time', delta: 6 }] },
      { adjustments: [{ name: 'time', delta: -6 }] },
      { adjustments: [{ name: 'time', delta: 0.5 }] },
    ];
    for (const over of cases) expect(parse(event({ explanation: [reason(over)] }))).toMatchObject({ ok: false, failure: { kind: 'invalid', index: 0 } });
  });

  it('holds to its sizes: entries, adjustments, names, rule id length', () => {
    const at = {
      explanation: Array.from({ length: MAX_EXPLANATION_ENTRIES }, () =>
        reason({
          ruleId: `suicide.en.${'x'.repeat(LIMITS.maxRuleIdChars - 11)}`,
          adjustments: Array.from({ length: MAX_EXPLANATION_ADJUSTMENTS }, () => ({ name: 'n'.repeat(40), delta: -5 })),
          classes: Array.from({ length: MAX_EXPLANATION_NAMES }, () => 'body_parts'),
          needs: Array.from({ length: MAX_EXPLANATION_NAMES }, () => 'first_person'),
        }),
      ),
    };
    expect(parse(event(at)).ok).toBe(true);
    const over: Array<Partial<AgentEvent>> = [
      { explanation: Array.from({ length: MAX_EXPLANATION_ENTRIES + 1 }, () => reason()) },
      { explanation: [reason({ adjustments: Array.from({ length: MAX_EXPLANATION_ADJUSTMENTS + 1 }, () => ({ name: 'time', delta: 1 })) })] },
      { explanation: [reason({ classes: Array.from({ length: MAX_EXPLANATION_NAMES + 1 }, () => 'body_parts') })] },
      { explanation: [reason({ needs: Array.from({ length: MAX_EXPLANATION_NAMES + 1 }, () => 'time') })] },
      { explanation: [reason({ adjustments: [{ name: 'n'.repeat(41), delta: 1 }] })] },
      // Counted in code points, as every protocol length is: 65 letters of any script are too many.
      { explanation: [reason({ ruleId: 'é'.repeat(LIMITS.maxRuleIdChars + 1) })] },
      { explanation: [reason({ corroboratedBy: 'x'.repeat(LIMITS.maxRuleIdChars + 1) })] },
      { explanation: [reason({ ruleId: '' })] },
    ];
    for (const o of over) expect(parse(event(), event(o))).toMatchObject({ ok: false, failure: { kind: 'invalid', index: 1 } });
    // A rule id of 64 letters outside the BMP is 64 characters, though 128 UTF-16 units.
    expect(parse(event({ explanation: [reason({ ruleId: '𝒳'.repeat(LIMITS.maxRuleIdChars) })] })).ok).toBe(true);
  });
});
