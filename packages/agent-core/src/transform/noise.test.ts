import type { Block } from 'tesseract.js';
import { layoutWords } from '../sources/screen/ocr';
import { cutEvidence, withoutUnsure } from './evidence';
import { normaliseWords, RecentReports, REPEAT_MEMORY, REPEAT_WINDOW_MS } from './repeats';
import { toEvent, type Observation } from './to-event';

const identity = { deviceId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', osUser: 'pupil' };
const policy = { threshold: 3, ageBand: 'secondary' as const };
const TITLE = 'how to tie a noose - Google Search';
const obs = (source: Observation['source'], text: string, title: string | null = TITLE): Observation => ({
  source,
  text,
  app: 'chrome',
  title,
  at: new Date('2026-11-24T10:00:00Z'),
});
const eventOf = (o: Observation) => {
  const { event } = toEvent(o, policy, identity);
  if (!event) throw new Error(`not flagged: ${o.source}`);
  return event;
};

describe('screen text that repeats another source', () => {
  const T0 = Date.UTC(2026, 10, 24, 10);

  it('leaves out screen OCR of the words the title source has just reported for the same window', () => {
    const recent = new RecentReports();
    const title = eventOf(obs('title', TITLE));
    // OCR reads the search box: different case, punctuation and surroundings, the same words.
    const screen = eventOf(obs('screen', 'Google\n\nHow to tie a NOOSE?\n\nAll Images Videos News'));
    expect(screen.ruleIds[0]).toBe(title.ruleIds[0]);
    expect(recent.isRepeat(title, T0)).toBe(false);
    expect(recent.isRepeat(screen, T0 + 5_000)).toBe(true);
    // Again a little later: still the same report.
    expect(recent.isRepeat(screen, T0 + 60_000)).toBe(true);
  });

  it('leaves out screen text repeating what was just typed in that window', () => {
    const recent = new RecentReports();
    expect(recent.isRepeat(eventOf(obs('keys', 'i want to kill myself', 'Chat - Discord')), T0)).toBe(false);
    expect(recent.isRepeat(eventOf(obs('screen', 'Jo: I want to kill myself.', 'Chat - Discord')), T0 + 3000)).toBe(true);
  });

  it('still reports the screen when the words, the window or the time differ', () => {
    const recent = new RecentReports();
    recent.isRepeat(eventOf(obs('title', TITLE)), T0);
    // Other words in the same window: new information.
    expect(recent.isRepeat(eventOf(obs('screen', 'i want to kill myself tonight')), T0 + 1000)).toBe(false);
    // The same words in another window.
    expect(recent.isRepeat(eventOf(obs('screen', 'how to tie a noose', 'Notes')), T0 + 1000)).toBe(false);
    // The same words and window, but longer ago than the window of time.
    expect(recent.isRepeat(eventOf(obs('screen', 'how to tie a noose')), T0 + REPEAT_WINDOW_MS + 1)).toBe(false);
  });

  it('never suppresses title or keys events, and a screen event alone is not remembered', () => {
    const recent = new RecentReports();
    const screen = eventOf(obs('screen', 'how to tie a noose'));
    expect(recent.isRepeat(screen, T0)).toBe(false);
    expect(recent.isRepeat(screen, T0 + 1000)).toBe(false);
    const title = eventOf(obs('title', TITLE));
    expect(recent.isRepeat(title, T0)).toBe(false);
    expect(recent.isRepeat(title, T0 + 1000)).toBe(false);
  });

  it('stays bounded in memory and forgets what is older than the window of time', () => {
    const recent = new RecentReports();
    const base = eventOf(obs('title', TITLE));
    for (let i = 0; i < REPEAT_MEMORY * 3; i++) recent.isRepeat({ ...base, windowTitle: `window ${i}` }, T0 + i);
    expect(recent.size).toBe(REPEAT_MEMORY);
    // The oldest were forgotten first.
    expect(recent.isRepeat({ ...base, source: 'screen', windowTitle: 'window 0' }, T0 + REPEAT_MEMORY * 3)).toBe(false);
    expect(recent.isRepeat({ ...base, source: 'screen', windowTitle: `window ${REPEAT_MEMORY * 3 - 1}` }, T0 + REPEAT_MEMORY * 3)).toBe(true);
    recent.isRepeat({ ...base, source: 'screen' }, T0 + REPEAT_MEMORY * 3 + REPEAT_WINDOW_MS + 1);
    expect(recent.size).toBe(0);
  });

  it('compares words, not case or punctuation', () => {
    expect(normaliseWords('  How to tie a NOOSE?! ')).toBe('how to tie a noose');
  });
});

describe('OCR context from confident words only', () => {
  const word = (text: string, confidence: number) => ({ text, confidence }) as unknown as Block['paragraphs'][number]['lines'][number]['words'][number];
  const blocks = (lines: [string, number][][]): Block[] =>
    [{ paragraphs: [{ lines: lines.map((words) => ({ words: words.map(([t, c]) => word(t, c)) })) }] }] as unknown as Block[];

  it('lays the words out as text and marks the low-confidence ones', () => {
    const read = layoutWords(
      blocks([
        [['x', 31], ['Fowi', 22], ['Eo', 40]],
        [['I', 95], ['want', 93], ['to', 96], ['kill', 91], ['myself', 92]],
      ]),
      70,
    );
    expect(read.text).toBe('x Fowi Eo\nI want to kill myself\n');
    expect(read.unsure.map((u) => read.text.slice(u.start, u.end))).toEqual(['x', 'Fowi', 'Eo']);
  });

  it('replaces unsure context words with an ellipsis, one for a run of them', () => {
    const text = 'x Fowi Eo fie & Roose I want to kill myself tonight Bx qq';
    const unsureWords = ['x', 'Fowi', 'Eo', 'fie', '&', 'Roose', 'Bx', 'qq'];
    let from = 0;
    const unsure = unsureWords.map((w) => {
      const start = text.indexOf(w, from);
      from = start + w.length;
      return { start, end: from };
    });
    const start = text.indexOf('kill myself');
    const e = cutEvidence(text, start, start + 'kill myself'.length, unsure);
    expect(e).toEqual({ before: '… I want to ', match: 'kill myself', after: ' tonight …' });
    // Without the confidence the old garble is context.
    expect(cutEvidence(text, start, start + 'kill myself'.length).before).toContain('Fowi');
  });

  it('never drops the match, even when OCR was unsure of it', () => {
    const text = 'Notes: kil1 myself now';
    const start = text.indexOf('kil1');
    const out = withoutUnsure(text, start, start + 11, [
      { start: 0, end: 6 },
      { start, end: start + 4 },
    ]);
    expect(out.text.slice(out.start, out.end)).toBe('kil1 myself');
    expect(out.text).toBe('… kil1 myself now');
  });

  it('builds a screen event whose evidence context leaves out the unsure words', () => {
    const read = layoutWords(
      blocks([
        [['x', 31], ['Fowi', 22], ['Eo', 40], ['fie', 12], ['&', 30], ['Roose', 25]],
        [['I', 95], ['feel', 93], ['like', 96], ['I', 91], ['want', 92], ['to', 92], ['kill', 90], ['myself', 94]],
      ]),
    );
    const event = eventOf({ ...obs('screen', read.text, 'Notes'), unsure: read.unsure });
    expect(event.evidence.match.toLowerCase()).toContain('kill myself');
    expect(event.evidence.before).not.toMatch(/Fowi|Roose/);
    expect(event.evidence.before).toContain('…');
    expect(event.evidence.before).toContain('I feel like');
  });
});
