import { EventSchema, LIMITS, type AgentEvent } from '@haven/protocol';
import { cutEvidence } from './evidence';
import { eventText, toEvent, type Observation } from './to-event';

const identity = { deviceId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', osUser: 'pupil' };
const policy = { threshold: 1, ageBand: 'secondary' as const };
const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F]/;

function strings(e: AgentEvent): string[] {
  return [e.evidence.match, e.evidence.before, e.evidence.after, e.app ?? '', e.windowTitle ?? '', e.osUser, ...e.ruleIds];
}

/** What the database can store and the protocol takes as it is. */
function expectSendable(e: AgentEvent): void {
  for (const s of strings(e)) {
    expect(s).not.toMatch(LONE);
    expect(s).not.toMatch(CONTROL);
  }
  const parsed = EventSchema.safeParse(e);
  expect(parsed.success).toBe(true);
  // Nothing for the collector to mend: the event arrives as it was built.
  if (parsed.success) expect(parsed.data).toEqual(e);
}

describe('events never carry what the database cannot store', () => {
  it('drops NUL and control characters from titles, app names and the user, keeping tab and newline', () => {
    const obs: Observation = {
      source: 'keys',
      text: 'i want to kill myself tonight',
      app: 'chat\u0000.exe\u001b',
      title: 'Chat\u0000 - \u0007Friends\tonline\n',
      at: new Date('2026-11-24T10:00:00Z'),
    };
    const { event } = toEvent(obs, policy, { ...identity, osUser: 'pupil\u0000' });
    expect(event).not.toBeNull();
    expect(event!.app).toBe('chat.exe');
    expect(event!.windowTitle).toBe('Chat - Friends\tonline\n');
    expect(event!.osUser).toBe('pupil');
    expectSendable(event!);
  });

  it('never cuts an emoji in two at the evidence, title or app limits', () => {
    const emoji = '😀';
    const text = emoji.repeat(301) + ' i want to kill myself tonight ' + emoji.repeat(301);
    const obs: Observation = { source: 'keys', text, app: emoji.repeat(LIMITS.maxAppChars), title: 'x' + emoji.repeat(LIMITS.maxWindowTitleChars), at: new Date() };
    const { event } = toEvent(obs, policy, identity);
    expect(event).not.toBeNull();
    expect(event!.app).toBe(emoji.repeat(LIMITS.maxAppChars / 2));
    expect(event!.windowTitle).toBe('x' + emoji.repeat(LIMITS.maxWindowTitleChars / 2 - 1));
    expectSendable(event!);

    // Offsets that fall inside a pair, on every side of the match.
    for (let start = 590; start < 606; start++) {
      const e = cutEvidence(text, start, start + 7);
      for (const s of [e.match, e.before, e.after]) expect(s).not.toMatch(LONE);
      expect(e.before.length + e.after.length).toBeLessThanOrEqual(LIMITS.maxEvidenceContextChars);
    }
  });

  it('mends lone surrogates already in the captured text', () => {
    const { event } = toEvent(
      { source: 'title', text: 'how to kill myself \ud83d - Search', app: 'b\udc00', title: null, at: new Date() },
      policy,
      identity,
    );
    expect(event).not.toBeNull();
    expectSendable(event!);
    expect(event!.app).toBe('b\ufffd');
  });

  it('holds for seeded random text of controls, halves and astral characters', () => {
    let seed = 0x5eed;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pieces = ['\u0000', '\u0007', '\t', '\n', '\r', '\ud83d', '\ude00', '😀', '𝕏', 'é', ' ', 'a', 'kill myself', 'i want to die', '07700 900123'];
    let events = 0;
    for (let i = 0; i < 400; i++) {
      const build = (n: number) => Array.from({ length: n }, () => pieces[rand(pieces.length)]).join('');
      const obs: Observation = { source: (['keys', 'title', 'screen'] as const)[rand(3)]!, text: build(1 + rand(120)), app: build(rand(200)), title: build(rand(400)), at: new Date() };
      const { event } = toEvent(obs, policy, { ...identity, osUser: build(1 + rand(80)) });
      if (!event) continue;
      events++;
      expectSendable(event);
    }
    expect(events).toBeGreaterThan(50);
  });

  it('gives an event a time the protocol takes even from an invalid clock reading', () => {
    const { event } = toEvent({ source: 'keys', text: 'i want to kill myself', app: null, title: null, at: new Date(Number.NaN) }, policy, identity);
    expect(event).not.toBeNull();
    expectSendable(event!);
  });

  it('cleans and cuts in UTF-16 units', () => {
    expect(eventText('ab\u0000😀', 3)).toBe('ab');
    expect(eventText('ab\u0000😀', 4)).toBe('ab😀');
  });
});
