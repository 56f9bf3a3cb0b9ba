import type { ScreenText } from '../src/sources/screen/screen-source';
import { ScreenSource } from '../src/sources/screen/screen-source';
import { toEvent } from '../src/transform/to-event';
import { Desktop, waitFor } from './support/desktop';

/** Screen text from a real X screen: screenshot, OCR with the packaged language data, scoring. */
describe('screen source on a real X desktop', () => {
  let desktop: Desktop;
  let source: ScreenSource;
  const texts: ScreenText[] = [];

  beforeAll(async () => {
    desktop = await Desktop.start();
    await desktop.openWindow('Notes', 'I feel like nobody would miss me. I want to kill myself tonight.');
    source = new ScreenSource({ display: desktop.display, intervalSeconds: 1, budgetFactor: 1, onText: (t) => texts.push(t) });
    source.start();
  });
  afterAll(async () => {
    await source?.stop();
    await desktop?.stop();
  });

  it('reads a window of risky text and scores it as a screen event', async () => {
    await waitFor(() => texts.some((t) => /kill myself/i.test(t.text)), 30_000, `not read: ${JSON.stringify(texts.map((t) => t.text))}`);
    const screen = texts.find((t) => /kill myself/i.test(t.text))!;
    const { event } = toEvent(
      { source: 'screen', text: screen.text, app: 'XTerm', title: 'Notes', at: screen.at },
      { threshold: 3, ageBand: 'secondary' },
      { deviceId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', osUser: 'pupil' },
    );
    expect(event?.source).toBe('screen');
    expect(event?.category).toBe('suicide');
  });

  it('does not read an unchanged screen again', async () => {
    await waitFor(() => source.stats.unchanged >= 2, 15_000, 'unchanged screens were not skipped');
    expect(source.stats.ocrRuns).toBeLessThan(source.stats.captures);
  });
});
