import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeMessage, parseAgentMessage, type AgentEvent } from '@haven/protocol';
import { WebSocketServer } from 'ws';
import { saveCredential } from '../src/link/credential';
import type { ScreenText } from '../src/sources/screen/screen-source';
import { captureX11 } from '../src/sources/screen/capture-x11';
import { ScreenSource } from '../src/sources/screen/screen-source';
import { toEvent } from '../src/transform/to-event';
import { Desktop, waitFor } from './support/desktop';
import { helloOk, testCredential } from './support/fake-collector';

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
      { source: 'screen', text: screen.text, unsure: screen.unsure, app: 'XTerm', title: 'Notes', at: screen.at },
      { threshold: 3, ageBand: 'secondary' },
      { deviceId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', osUser: 'pupil' },
    );
    expect(event?.source).toBe('screen');
    expect(event?.category).toBe('suicide');
  });

  it("captures the active window's client area, not the whole screen with its title bar", async () => {
    const id = /window id # (0x[0-9a-f]+)/i.exec(await desktop.x('xprop', ['-root', '-notype', '_NET_ACTIVE_WINDOW']))![1]!;
    const info = await desktop.x('xwininfo', ['-id', id]);
    const size = (name: string) => Number(new RegExp(`${name}: (\\d+)`).exec(info)![1]);
    const png = await captureX11(desktop.display);
    // A PNG's IHDR: width and height, big-endian, at bytes 16 and 20.
    expect({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) }).toEqual({ width: size('Width'), height: size('Height') });
    expect(size('Height')).toBeLessThan(800); // the screen is 1280×800: this is a window, not the screen
  });

  it('does not read an unchanged screen again', async () => {
    await waitFor(() => source.stats.unchanged >= 2, 15_000, 'unchanged screens were not skipped');
    expect(source.stats.ocrRuns).toBeLessThan(source.stats.captures);
  });
});

/**
 * The whole agent on a real X desktop (its own process: the sources read DISPLAY from the real
 * environment, which jest's sandbox does not change): a search page whose title and search box
 * hold the same flagged words is one event from the title source, not a second from the screen.
 * Needs the agent built (`npm run build -w @haven/agent-core`; turbo builds before tests).
 */
describe('the agent on a real X desktop', () => {
  const TITLE = 'how to tie a noose - Google Search';
  let desktop: Desktop;
  let server: WebSocketServer;
  let child: ChildProcess | null = null;
  let dir: string;
  const events: AgentEvent[] = [];
  const status = () => {
    try {
      return JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')) as { repeatsSuppressed?: number; sources: Record<string, { state: string }> };
    } catch {
      return null;
    }
  };

  beforeAll(async () => {
    desktop = await Desktop.start();
    dir = mkdtempSync(path.join(tmpdir(), 'haven-screen-'));
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    server.on('connection', (socket) => {
      socket.on('message', (data: Buffer) => {
        const parsed = parseAgentMessage(data);
        if (!parsed.ok) return;
        const m = parsed.message;
        if (m.type === 'hello') socket.send(encodeMessage(helloOk(m.deviceId)));
        else if (m.type === 'events') {
          events.push(...m.events);
          socket.send(encodeMessage({ type: 'ack', batchId: m.batchId, ids: m.events.map((e) => e.id), duplicates: 0 }));
        }
      });
    });
    const collector = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    saveCredential(dir, testCredential(collector));
    child = spawn(
      process.execPath,
      [path.join(__dirname, '..', '..', '..', 'apps', 'agent', 'bin', 'haven-agent.js'), 'run', '--collector', collector, '--data-dir', dir, '--sources', 'title,screen'],
      { env: { ...process.env, DISPLAY: desktop.display }, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    await waitFor(() => status()?.sources.screen?.state === 'ok', 20_000, 'the agent did not start its sources');
  });
  afterAll(async () => {
    child?.kill('SIGTERM');
    await desktop?.stop();
    await new Promise((r) => server?.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports a flagged title once, from the title source, and not again from the screen', async () => {
    // The page repeats its title's words, as a search results page shows the query.
    await desktop.openWindow(TITLE, 'how to tie a noose');
    await waitFor(() => events.some((e) => e.source === 'title'), 20_000, 'the title was not reported');
    // The screen source has read the window and found the same words: left out, and counted.
    await waitFor(() => (status()?.repeatsSuppressed ?? 0) >= 1, 60_000, `the screen text was not recognised as a repeat: ${JSON.stringify(events.map((e) => [e.source, e.evidence.match]))}`);
    const titleEvents = events.filter((e) => e.source === 'title' && e.windowTitle === TITLE);
    expect(titleEvents).toHaveLength(1);
    expect(titleEvents[0]!.category).toBe('suicide');
    expect(events.filter((e) => e.source === 'screen')).toEqual([]);
  });
});
