import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { AgentEvent } from '@haven/protocol';
import { Desktop, waitFor } from './support/desktop';

type Seen = { kind: string; text?: string; title?: string | null; app?: string | null; url?: string | null; event?: AgentEvent | null };

/**
 * The sources on a real X desktop: real window titles from the X server, real key events
 * typed by xdotool and heard by the global hook, scored on the device.
 */
describe('sources on a real X desktop', () => {
  let desktop: Desktop;
  let child: ChildProcess;
  const seen: Seen[] = [];
  const phrase = (text: string) => seen.find((s) => s.kind === 'phrase' && s.text === text);
  /** Opens a window and waits until the agent's window source has seen it too. */
  const focus = async (title: string) => {
    await desktop.openWindow(title);
    await waitFor(() => seen.some((s) => s.kind === 'window' && s.title === title), 5000, `window not seen: ${title}`);
  };

  beforeAll(async () => {
    desktop = await Desktop.start();
    child = spawn(process.execPath, [path.join(__dirname, 'support', 'sources-harness.js')], {
      env: { ...process.env, DISPLAY: desktop.display },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    createInterface({ input: child.stdout! }).on('line', (line) => seen.push(JSON.parse(line) as Seen));
    await waitFor(() => seen.some((s) => s.kind === 'ready'), 10_000, 'the sources did not start');
  });

  afterAll(async () => {
    child?.kill('SIGTERM');
    await desktop?.stop();
  });

  it('reports the active window title and application, and a risky title is an event', async () => {
    await focus('how to tie a noose - Google Search');
    const w = seen.find((s) => s.kind === 'window' && s.title === 'how to tie a noose - Google Search')!;
    expect(w.app).toBe('XTerm');
    expect(w.event?.source).toBe('title');
    expect(w.event?.category).toBe('suicide');
    // Linux gives no browser address: none is read, and the event goes without one.
    expect(w.url).toBeNull();
    expect(w.event).not.toHaveProperty('url');
  });

  it('reports a title change within the same window at once (a browser switching tabs)', async () => {
    const id = (await desktop.x('xdotool', ['getactivewindow'])).trim();
    await desktop.x('xdotool', ['set_window', '--name', 'buy a zombie knife uk - Google Search', id]);
    await waitFor(() => seen.some((s) => s.kind === 'window' && s.title === 'buy a zombie knife uk - Google Search'), 3000, 'title change not seen');
    const w = seen.find((s) => s.kind === 'window' && s.title === 'buy a zombie knife uk - Google Search')!;
    expect(w.event?.category).toBe('violence');
    await desktop.x('xdotool', ['set_window', '--name', 'how to tie a noose - Google Search', id]);
    await waitFor(() => seen.filter((s) => s.kind === 'window' && s.title === 'how to tie a noose - Google Search').length >= 2, 3000, 'title change back not seen');
  });

  it('assembles real typed keys into phrases: a flagged one becomes an event, homework does not', async () => {
    await desktop.type('i want to kill myself tonight');
    await desktop.key('Return');
    await waitFor(() => phrase('i want to kill myself tonight') !== undefined, 5000, 'phrase not heard');
    const p = phrase('i want to kill myself tonight')!;
    expect(p.title).toBe('how to tie a noose - Google Search');
    expect(p.event?.category).toBe('suicide');
    expect(p.event?.severity).toBeGreaterThanOrEqual(4);

    await focus('Year 9 English - Notes');
    for (const text of ['kill the process', 'romeo and juliet essay']) {
      await desktop.type(text);
      await desktop.key('Return');
      await waitFor(() => phrase(text) !== undefined, 5000, `phrase not heard: ${text} in ${JSON.stringify(seen.map((s) => [s.kind, s.text ?? s.title]))}`);
      expect(phrase(text)!.event).toBeNull();
    }
  });

  it('assembles shifted keys and backspace as typed, and completes a phrase when idle', async () => {
    await desktop.type('Hello Mr Jones, I lost my PE kitt');
    await desktop.key('BackSpace');
    await waitFor(() => phrase('Hello Mr Jones, I lost my PE kit') !== undefined, 5000, 'idle phrase not heard');
  });

  it('skips a password context entirely', async () => {
    await focus('Sign in - Google Accounts');
    await desktop.type('hunter2 my secret');
    await desktop.key('Return');
    await focus('Notes');
    await desktop.type('back to normal');
    await desktop.key('Return');
    await waitFor(() => phrase('back to normal') !== undefined, 5000, 'phrase not heard');
    expect(seen.some((s) => s.kind === 'phrase' && s.text?.includes('hunter2'))).toBe(false);
  });
});
