import {
  encodeMessage,
  EnrollRequestSchema,
  EventSchema,
  HeartbeatSchema,
  LIMITS,
  parseAgentMessage,
  parseProtocolTime,
  sliceWhole,
  storableText,
  cleanCapturedText,
  codePoints,
  truncateUnits,
  uuidv7,
  type AgentEvent,
} from './index';

const deviceId = '0b9f1f5e-3c1a-4d47-9a3e-2f5d6c7b8a90';
const event = (over: Record<string, unknown> = {}): AgentEvent =>
  ({
    id: uuidv7(),
    occurredAt: '2026-03-04T10:15:29.870Z',
    source: 'keys',
    category: 'bullying',
    severity: 3,
    ruleIds: ['bullying.en.insult.1'],
    evidence: { match: 'matched', before: 'before ', after: ' after' },
    app: 'Notepad',
    windowTitle: 'Untitled - Notepad',
    osUser: 'pupil1',
    deviceId,
    ...over,
  }) as AgentEvent;

/** The batch as the collector reads it off the wire. */
const parse = (events: unknown[]) => parseAgentMessage(JSON.stringify({ type: 'events', batchId: uuidv7(), events }));

describe('protocol times', () => {
  it.each([
    '2026-03-04T10:15:30Z',
    '2026-03-04T10:15:30.123456789Z',
    '2024-02-29T00:00:00+00:00',
    '2000-02-29T23:59:59-12:00',
    '2026-03-04T10:15:30+14:00',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '1970-01-01T00:00:00Z',
  ])('accepts %s', (t) => {
    expect(parseProtocolTime(t)).not.toBeNull();
    expect(EventSchema.safeParse(event({ occurredAt: t })).success).toBe(true);
  });

  it.each([
    ['year 0000 (PostgreSQL: 22008)', '0000-01-01T00:00:00Z'],
    ['an instant before year 1 in UTC', '0001-01-01T00:00:00+01:00'],
    ['an instant after 9999 in UTC', '9999-12-31T23:59:59-00:01'],
    ['a day that does not exist', '2026-02-30T10:00:00Z'],
    ['29 February of a common year', '2100-02-29T10:00:00Z'],
    ['an offset PostgreSQL cannot store (22009)', '2026-03-04T10:15:30+16:00'],
    ['an offset beyond ±14:00', '2026-03-04T10:15:30-14:01'],
    ['offset hours out of range', '2026-03-04T10:15:30+25:00'],
    ['a leap second', '2016-12-31T23:59:60Z'],
    ['hour 24', '2026-03-04T24:00:00Z'],
    ['no seconds', '2026-03-04T10:15Z'],
    ['no offset', '2026-03-04T10:15:30'],
    ['a lower-case separator', '2026-03-04t10:15:30z'],
    ['too many fraction digits', '2026-03-04T10:15:30.1234567890Z'],
    ['a five-digit year', '+10000-01-01T00:00:00Z'],
  ])('refuses %s', (_why, t) => {
    expect(parseProtocolTime(t)).toBeNull();
    const result = parse([event(), event({ occurredAt: t })]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.failure).toMatchObject({ kind: 'invalid', index: 1 });
  });

  it('reads the instant with its offset', () => {
    expect(parseProtocolTime('2026-03-04T10:15:30.5+01:30')).toBe(Date.UTC(2026, 2, 4, 8, 45, 30, 500));
  });

  it('holds heartbeat times to the same rule', () => {
    const beat = { type: 'heartbeat', agentVersion: '1', sources: { keys: { state: 'ok', lastCaptureAt: '0000-01-01T00:00:00Z' } }, outboxDepth: 0, sentAt: '2026-03-04T10:15:30Z' };
    expect(HeartbeatSchema.safeParse(beat).success).toBe(false);
  });
});

describe('strings the database cannot store', () => {
  it('replaces lone surrogates and removes NUL in every string field of an event', () => {
    const bad = 'a\u0000b\ud83dc\ude00';
    const result = parse([
      event({ evidence: { match: bad, before: bad, after: bad }, app: bad, windowTitle: bad, osUser: bad, ruleIds: [bad] }),
    ]);
    expect(result.ok).toBe(true);
    if (!result.ok || result.message.type !== 'events') return;
    const e = result.message.events[0]!;
    for (const s of [e.evidence.match, e.evidence.before, e.evidence.after, e.app, e.windowTitle, e.osUser, e.ruleIds[0]]) {
      expect(s).toBe('ab\ufffdc\ufffd');
    }
  });

  it('keeps whole astral characters as they are', () => {
    expect(storableText('ok 😀 ok')).toBe('ok 😀 ok');
  });

  it('refuses a field that is empty once NUL is removed, with its index', () => {
    const result = parse([event(), event(), event({ osUser: '\u0000' })]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.failure).toMatchObject({ kind: 'invalid', index: 2 });
  });

  it('makes hello, heartbeat and enrolment strings storable too', () => {
    const hello = parseAgentMessage(
      JSON.stringify({ type: 'hello', protocol: 1, deviceId, credential: 'hvn_dev_x', agentVersion: '1\u0000', os: { platform: 'linux\ud800', release: '', arch: 'x' } }),
    );
    expect(hello.ok && hello.message.type === 'hello' && hello.message.os.platform).toBe('linux\ufffd');
    const beat = HeartbeatSchema.parse({ type: 'heartbeat', agentVersion: '1', sources: { keys: { state: 'ok', detail: 'x\u0000' } }, outboxDepth: 0, sentAt: '2026-03-04T10:15:30Z' });
    expect(beat.sources.keys!.detail).toBe('x');
    const enrol = EnrollRequestSchema.parse({ token: 't', hostname: 'PC\u0000\udc00', os: { platform: 'win32', release: '' }, agentVersion: '1' });
    expect(enrol.hostname).toBe('PC\ufffd');
  });
});

describe('limits count Unicode code points (docs/protocol.md §1), as the staff API does', () => {
  const astral = (n: number) => '😀'.repeat(n); // one code point, two UTF-16 units each
  it.each([
    ['evidence.match', LIMITS.maxEvidenceMatchChars, (s: string) => ({ evidence: { match: s, before: '', after: '' } })],
    ['evidence.before', LIMITS.maxEvidenceContextChars, (s: string) => ({ evidence: { match: 'm', before: s, after: '' } })],
    ['app', LIMITS.maxAppChars, (s: string) => ({ app: s })],
    ['windowTitle', LIMITS.maxWindowTitleChars, (s: string) => ({ windowTitle: s })],
    ['osUser', LIMITS.maxOsUserChars, (s: string) => ({ osUser: s })],
    ['ruleIds.0', LIMITS.maxRuleIdChars, (s: string) => ({ ruleIds: [s] })],
  ] as const)('%s: %i astral characters fit, one more does not', (_field, max, build) => {
    expect(parse([event(build(astral(max)))]).ok).toBe(true);
    const over = parse([event(), event(build(astral(max + 1)))]);
    expect(over.ok).toBe(false);
    if (!over.ok) expect(over.failure).toMatchObject({ index: 1 });
    // A lone surrogate counts one, as its U+FFFD does.
    expect(parse([event(build(astral(max - 1) + '\ud83d'))]).ok).toBe(true);
    expect(parse([event(build(astral(max) + '\ud83d'))]).ok).toBe(false);
  });

  it('counts a surrogate pair once and a lone surrogate once', () => {
    expect(codePoints('a😀b')).toBe(3);
    expect(codePoints('\ud83d\ud83d\ude00')).toBe(2);
    expect(codePoints('')).toBe(0);
  });

  it('encodes an event at its limits within one frame', () => {
    expect(() => encodeMessage({ type: 'events', batchId: uuidv7(), events: [event({ windowTitle: astral(512) })] })).not.toThrow();
  });
});

describe('text helpers for the agent', () => {
  it('never cuts an astral character in two', () => {
    expect(truncateUnits('ab😀', 3)).toBe('ab');
    expect(truncateUnits('ab😀', 4)).toBe('ab😀');
    expect(sliceWhole('😀x😀', 1, 4)).toBe('x');
  });

  it('removes C0 controls but tab and newline, and mends lone surrogates', () => {
    expect(cleanCapturedText('a\u0000b\u0007c\td\ne\u001b[0m\ud800')).toBe('abc\td\ne[0m\ufffd');
  });
});
