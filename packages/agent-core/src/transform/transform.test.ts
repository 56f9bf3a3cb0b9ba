import { EventSchema, LIMITS } from '@haven/protocol';
import { cutEvidence, maskText, sensitiveSpans } from './evidence';
import { toEvent, type Observation } from './to-event';

const identity = { deviceId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', osUser: 'pupil' };
const policy = { threshold: 3, ageBand: 'secondary' as const };
const obs = (text: string, source: Observation['source'] = 'keys', title: string | null = 'Untitled - Notepad'): Observation => ({
  source,
  text,
  app: 'notepad.exe',
  title: source === 'title' ? text : title,
  at: new Date('2026-11-24T10:00:00Z'),
});

describe('evidence masking', () => {
  it('finds e-mail addresses, phone numbers and card-like numbers', () => {
    const text = 'mail me at jo.bloggs+x@school.sch.uk or ring 07700 900123, card 4111 1111 1111 1111, room 12';
    expect(sensitiveSpans(text).map((s) => [text.slice(s.start, s.end), s.label])).toEqual([
      ['jo.bloggs+x@school.sch.uk', '[email]'],
      ['07700 900123', '[phone number]'],
      ['4111 1111 1111 1111', '[card number]'],
    ]);
    expect(maskText('Inbox - jo@school.org - Outlook')).toBe('Inbox - [email] - Outlook');
  });

  it('masks a number that straddles the cut between context and match, on both sides', () => {
    const text = 'call 07700 900123 i want to die';
    const start = text.indexOf('900123');
    const e = cutEvidence(text, start, text.length);
    expect(e.before).toBe('call [phone number]');
    expect(e.match).not.toMatch(/\d/);
    expect(JSON.stringify(e)).not.toMatch(/900123|07700/);
  });

  it('keeps within the protocol limits: match ≤ 200, context ≤ 200 together', () => {
    const text = 'a'.repeat(1000) + ' kill myself ' + 'b'.repeat(1000);
    const start = 1001;
    const e = cutEvidence(text, start, start + 11);
    expect(e.match).toBe('kill myself');
    expect(e.before.length + e.after.length).toBeLessThanOrEqual(LIMITS.maxEvidenceContextChars);
    expect(e.before.length).toBeGreaterThan(50);
    expect(e.after.length).toBeGreaterThan(50);
    const atStart = cutEvidence('kill myself ' + 'z'.repeat(500), 0, 11);
    expect(atStart.before).toBe('');
    expect(atStart.after.length).toBe(LIMITS.maxEvidenceContextChars); // the unused side's share goes to the other
  });
});

describe('toEvent', () => {
  it('turns a flagged phrase into a valid event with the match, masked context and rule ids', () => {
    const { event } = toEvent(obs('text me on 07700 900123 because i want to kill myself tonight'), policy, identity);
    expect(event).not.toBeNull();
    expect(EventSchema.safeParse(event).success).toBe(true);
    expect(event!.category).toBe('suicide');
    expect(event!.severity).toBeGreaterThanOrEqual(4);
    expect(event!.evidence.match).toMatch(/kill myself/);
    expect(event!.evidence.before).toContain('[phone number]');
    expect(JSON.stringify(event)).not.toContain('900123');
    expect(event!.ruleIds.every((r) => r.startsWith('suicide.'))).toBe(true);
    expect(event!.occurredAt).toBe('2026-11-24T10:00:00.000Z');
  });

  it('keeps nothing below the threshold: homework, allow-phrases, ordinary typing', () => {
    for (const text of ['kill the process', 'romeo and juliet essay', 'see you at football after school']) {
      expect(toEvent(obs(text), policy, identity).event).toBeNull();
    }
    const text = 'sad quotes about wanting to disappear - Pinterest - Google Chrome';
    const low = toEvent(obs(text, 'title'), { ...policy, threshold: 1 }, identity);
    expect(low.event).not.toBeNull();
    const severity = low.result.severity;
    expect(severity).toBeLessThan(5);
    const above = toEvent(obs(text, 'title'), { ...policy, threshold: severity + 1 }, identity);
    expect(above.event).toBeNull(); // flagged, but below this school's threshold
  });

  it('scores a window title as a title, and typed text in the light of its window', () => {
    const { event } = toEvent(obs('how to tie a noose - Google Search - Google Chrome', 'title'), policy, identity);
    expect(event?.source).toBe('title');
    expect(event?.windowTitle).toBe('how to tie a noose - Google Search - Google Chrome');
    const essay = toEvent(obs('juliet wanted to die', 'keys', 'Romeo and Juliet essay - Word'), policy, identity);
    expect(essay.event).toBeNull();
  });
});

describe('age band of the user at the keyboard', () => {
  it('scores with the band the school’s directory gave that user, and the device’s band for anyone else', () => {
    const bands: Array<string | undefined> = [];
    const score = (_text: string, options: { ageBand?: string }) => {
      bands.push(options.ageBand);
      return { category: null, severity: 0, matches: [] } as unknown as ReturnType<NonNullable<Parameters<typeof toEvent>[3]>>;
    };
    const withBands = { ...policy, userAgeBands: { 'year3.pupil': 'primary' as const, 'mr.jones': 'staff' as const } };
    toEvent(obs('hello'), withBands, { ...identity, osUser: 'Year3.Pupil' }, score);
    toEvent(obs('hello'), withBands, { ...identity, osUser: 'mr.jones' }, score);
    toEvent(obs('hello'), withBands, { ...identity, osUser: 'visitor' }, score);
    toEvent(obs('hello'), policy, { ...identity, osUser: 'year3.pupil' }, score);
    expect(bands).toEqual(['primary', 'staff', 'secondary', 'secondary']);
  });

  it('raises gambling for a primary pupil at a shared device set to secondary', () => {
    const text = 'free online casino slots';
    const primary = toEvent(obs(text), { ...policy, userAgeBands: { 'year3.pupil': 'primary' } }, { ...identity, osUser: 'year3.pupil' });
    const secondary = toEvent(obs(text), { ...policy, userAgeBands: { 'year3.pupil': 'primary' } }, { ...identity, osUser: 'year10.pupil' });
    expect(primary.result).toMatchObject({ category: 'gambling' });
    expect(primary.result.severity).toBe(secondary.result.severity + 1);
  });
});
