import { cleanDetail, formatLondonTime, rowSentences, statusView, type ShellStatus, type StatusView } from '../src/shell/status-model';
import { healthyStatus, usSpellingsIn } from './shell-support';

/** Compile-time: ShellStatus has exactly these fields, none of them captured text. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const shapeIsFixed: [
  Same<keyof ShellStatus, 'notice' | 'service' | 'collector' | 'sources' | 'updatedAt'>,
  Same<keyof ShellStatus['sources'], 'title' | 'keys' | 'screen'>,
  Same<keyof ShellStatus['sources']['keys'], 'state' | 'detail'>,
] = [true, true, true];

function allText(view: StatusView): string {
  return [view.summary, view.updated, ...rowSentences(view)].join('\n');
}

describe('status rows', () => {
  test('a healthy agent: British English sentences, times in Europe/London', () => {
    expect(shapeIsFixed).toEqual([true, true, true]);
    const view = statusView(healthyStatus());
    expect(rowSentences(view)).toEqual([
      'Monitoring service: running on this computer',
      "School's Haven server: connected",
      'Last delivery: 14:05, 7 December 2026',
      'Window titles: watched',
      'Typed phrases: watched',
      'Text on the screen: watched',
    ]);
    expect(view.summary).toBe("Connected to the school's Haven server. Monitoring is working.");
    expect(view.summaryTone).toBe('ok');
    expect(view.updated).toBe('Updated 14:06, 7 December 2026');
  });

  test('times are British Summer Time in summer and cross midnight into the next day', () => {
    expect(formatLondonTime('2026-07-07T13:05:00Z')).toBe('14:05, 7 July 2026');
    expect(formatLondonTime('2026-06-30T23:30:00Z')).toBe('00:30, 1 July 2026');
    expect(formatLondonTime('2026-12-31T23:59:00Z')).toBe('23:59, 31 December 2026');
    expect(formatLondonTime('2026-03-29T00:59:00Z')).toBe('00:59, 29 March 2026');
    expect(formatLondonTime('2026-03-29T01:00:00Z')).toBe('02:00, 29 March 2026');
    expect(formatLondonTime('not a time')).toBeNull();
    expect(formatLondonTime('')).toBeNull();
    expect(formatLondonTime(null)).toBeNull();
  });

  test('paused, turned off, failing and degraded sources say so, with the reason', () => {
    const view = statusView(
      healthyStatus({
        sources: {
          title: { state: 'degraded', detail: 'no window manager' },
          keys: { state: 'paused', detail: 'quiet hours' },
          screen: { state: 'failed' },
        },
      }),
    );
    expect(rowSentences(view).slice(3)).toEqual([
      'Window titles: watched, with problems (no window manager)',
      'Typed phrases: paused (quiet hours)',
      'Text on the screen: not working',
    ]);
    expect(view.sources.map((r) => r.tone)).toEqual(['problem', 'off', 'problem']);
    expect(view.summaryTone).toBe('problem');
    expect(view.summary).toBe("Something is not working. If it goes on, please tell the school's IT team.");

    const off = statusView(healthyStatus({ sources: { title: { state: 'disabled' }, keys: { state: 'paused' }, screen: { state: 'failed', detail: 'no display' } } }));
    expect(rowSentences(off).slice(3)).toEqual([
      'Window titles: not watched (turned off by the school)',
      'Typed phrases: paused (by the school)',
      'Text on the screen: not working (no display)',
    ]);
  });

  test('each connection state of the school server', () => {
    const say = (state: ShellStatus['collector']['state'], lastDeliveryAt: string | null = null) =>
      rowSentences(statusView(healthyStatus({ collector: { state, lastDeliveryAt } }))).slice(1, 3);
    expect(say('connecting')).toEqual(["School's Haven server: connecting…", 'Last delivery: none yet']);
    expect(say('offline', '2026-12-07T09:15:00Z')).toEqual([
      "School's Haven server: not connected: anything to send is kept on this computer for later",
      'Last delivery: 09:15, 7 December 2026',
    ]);
    expect(say('refused')[0]).toBe("School's Haven server: refused this computer: please tell the school's IT team");
    expect(say('unknown')[0]).toBe("School's Haven server: not known yet");
    expect(statusView(healthyStatus({ collector: { state: 'connecting', lastDeliveryAt: null } })).summaryTone).toBe('waiting');
  });

  test('with the service unreachable, nothing is claimed about the server or the sources (except what the school turned off)', () => {
    const view = statusView(
      healthyStatus({
        service: { state: 'unreachable', since: '2026-12-07T14:00:00Z' },
        sources: { title: { state: 'ok' }, keys: { state: 'ok' }, screen: { state: 'disabled' } },
      }),
    );
    expect(rowSentences(view)).toEqual([
      'Monitoring service: not responding since 14:00, 7 December 2026',
      "School's Haven server: not known while the monitoring service is not responding",
      'Last delivery: 14:05, 7 December 2026',
      'Window titles: not known while the monitoring service is not responding',
      'Typed phrases: not known while the monitoring service is not responding',
      'Text on the screen: not watched (turned off by the school)',
    ]);
    expect(view.summaryTone).toBe('problem');
    expect(rowSentences(statusView(healthyStatus({ service: { state: 'connecting', since: null } })))[0]).toBe('Monitoring service: starting…');
  });

  test('a reason is one short line: no line breaks or control characters, at most 60 characters', () => {
    expect(cleanDetail('quiet\nhours\u0007')).toBe('quiet hours');
    expect(cleanDetail('  \n ')).toBeNull();
    const long = cleanDetail('x'.repeat(200))!;
    expect(long).toHaveLength(60);
    expect(long.endsWith('…')).toBe(true);
  });

  test('never any captured text: fields smuggled into the status do not reach the rows', () => {
    const phrase = 'i want to hurt myself tonight';
    const title = 'Secret chat with Sam - Browser';
    const smuggled = {
      ...healthyStatus(),
      lastPhrase: phrase,
      sources: { title: { state: 'ok', text: title }, keys: { state: 'ok', phrase }, screen: { state: 'ok', words: [phrase] } },
      collector: { state: 'online', lastDeliveryAt: '2026-12-07T14:05:00Z', lastEvent: { text: phrase } },
    } as unknown as ShellStatus;
    const text = JSON.stringify(statusView(smuggled));
    expect(text).not.toContain(phrase);
    expect(text).not.toContain(title);
    expect(text).not.toContain('hurt');
  });

  test('every combination of states reads as whole British English sentences', () => {
    const services: ShellStatus['service']['state'][] = ['connected', 'connecting', 'unreachable'];
    const collectors: ShellStatus['collector']['state'][] = ['online', 'connecting', 'offline', 'refused', 'unknown'];
    const sources: ShellStatus['sources']['keys']['state'][] = ['ok', 'degraded', 'failed', 'disabled', 'paused'];
    let checked = 0;
    for (const service of services)
      for (const collector of collectors)
        for (const title of sources)
          for (const keys of sources)
            for (const screen of sources) {
              const view = statusView({
                notice: { school: null, transparencyUrl: null },
                service: { state: service, since: null },
                collector: { state: collector, lastDeliveryAt: null },
                sources: { title: { state: title }, keys: { state: keys }, screen: { state: screen } },
                updatedAt: '2026-12-07T14:06:30Z',
              });
              const text = allText(view);
              expect(usSpellingsIn(text)).toEqual([]);
              expect(text).not.toMatch(/undefined|null|NaN|Invalid Date|\[object/);
              expect([...view.connection, ...view.sources].every((r) => r.label.trim() !== '' && r.value.trim() !== '')).toBe(true);
              checked++;
            }
    expect(checked).toBe(3 * 5 * 5 * 5 * 5);
  });

  test('the spelling check itself catches US spellings and passes British ones', () => {
    expect(usSpellingsIn('Change the color of the organization center; behavior; a license; enroll')).toHaveLength(6);
    expect(usSpellingsIn('Change the colour of the organisation centre; behaviour; a licence; enrol; enrolment')).toEqual([]);
  });

  test('an unreadable update time is said plainly', () => {
    expect(statusView(healthyStatus({ updatedAt: 'garbage' })).updated).toBe('Not updated yet');
  });
});
