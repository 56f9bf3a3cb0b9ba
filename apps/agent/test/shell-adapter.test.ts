/**
 * The tray shell's SessionCore over a real CaptureSession, connected over a real Unix socket to a
 * stand-in service that speaks the IPC (welcome, link, policy, stored lines): what the status
 * window would show, and that nothing captured can reach it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CaptureSession, DEFAULT_POLICY, type SessionView, type Source, type SourceContext } from '@haven/agent-core';
import { sessionCore, shellStatus } from '../src/shell/session-adapter';
import type { SessionCore } from '../src/shell/session-core';
import { rowSentences, statusView, type ShellStatus } from '../src/shell/status-model';

const PHRASE = 'i want to kill myself tonight';
const TITLE = 'Private diary of Jamie Example';

async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A stand-in for the machine's service: a Unix socket that speaks the session IPC, one JSON object a line. */
class FakeService {
  readonly received: Record<string, any>[] = [];
  readonly clients: Socket[] = [];
  private constructor(private readonly server: Server) {}

  static async listen(socketPath: string, welcome: (client: Socket) => object | null): Promise<FakeService> {
    const server = createServer();
    const svc = new FakeService(server);
    server.on('connection', (client) => {
      svc.clients.push(client);
      let buf = '';
      client.on('error', () => undefined);
      client.on('data', (d) => {
        buf += d.toString('utf8');
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const msg = JSON.parse(buf.slice(0, i)) as Record<string, any>;
          buf = buf.slice(i + 1);
          svc.received.push(msg);
          if (msg.type === 'hello') {
            const w = welcome(client);
            if (w) client.write(JSON.stringify(w) + '\n');
          }
          if (msg.type === 'events') client.write(JSON.stringify({ type: 'stored', ids: msg.events.map((e: { id: string }) => e.id) }) + '\n');
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    return svc;
  }

  send(message: object): void {
    for (const c of this.clients) if (!c.destroyed) c.write(JSON.stringify(message) + '\n');
  }

  /** Closes the listening socket and every connection (the service stopped or crashed). */
  async close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function welcome(over: Record<string, unknown> = {}) {
  return {
    type: 'welcome',
    ipc: 1,
    osUser: 'pupil1',
    deviceId: '6f1c2b9e-4a55-4c1e-9b7a-2d1e0c3f4a5b',
    policy: DEFAULT_POLICY,
    notice: { school: 'Riverside Academy', transparencyUrl: 'https://riverside.example.sch.uk/monitoring' },
    link: { state: 'online', lastDeliveryAt: '2026-12-07T14:05:00.000Z' },
    ...over,
  };
}

/** A keys source driven by the test: what it "sees" is real text, scored for real by the session. */
function scriptedKeys(): Source & { see(text: string, title: string): void; say(detail: string): void } {
  let ctx: SourceContext | null = null;
  return {
    name: 'keys',
    available: () => ({ ok: true }),
    start(c) {
      ctx = c;
    },
    stop() {
      ctx = null;
    },
    see(text, title) {
      ctx?.setWindow({ title, app: 'notes' });
      ctx?.observe({ source: 'keys', text, app: 'notes', title, at: new Date() });
    },
    say(detail) {
      ctx?.health({ state: 'degraded', detail });
    },
  };
}

/** A screen source that cannot run here, saying why (as the X11 one does without a display). */
function unavailableScreen(): Source {
  return { name: 'screen', available: () => ({ ok: false, detail: 'no X display (DISPLAY is not set)' }), start: () => undefined, stop: () => undefined };
}

describe('sessionCore: the tray shell over a real CaptureSession and a local socket', () => {
  let dir: string;
  let socketPath: string;
  let service: FakeService | null = null;
  let session: CaptureSession | null = null;
  let core: SessionCore | null = null;
  const logLines: string[] = [];
  const log = (level: string, message: string, fields?: Record<string, unknown>) => void logLines.push(JSON.stringify({ level, message, ...fields }));

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-adapter-'));
    socketPath = path.join(dir, 'agent.sock');
  });

  afterEach(async () => {
    await core?.stop();
    core = null;
    session = null;
    await service?.close();
    service = null;
    rmSync(dir, { recursive: true, force: true });
  });

  function startSession(sources: Source[]): { statuses: ShellStatus[] } {
    session = new CaptureSession({ socketPath, log, sources, reconnectMs: 50 });
    session.start();
    core = sessionCore(session);
    const statuses: ShellStatus[] = [];
    core.onChange((s) => statuses.push(s));
    return { statuses };
  }

  test('connected: the service, the collector, the notice and each source as the status window shows them', async () => {
    service = await FakeService.listen(socketPath, () => welcome());
    const { statuses } = startSession([scriptedKeys(), unavailableScreen()]);
    await waitFor(() => core!.status().service.state === 'connected', 5000, 'the welcome');

    const status = core!.status();
    expect(status.notice).toEqual({ school: 'Riverside Academy', transparencyUrl: 'https://riverside.example.sch.uk/monitoring' });
    expect(status.service.state).toBe('connected');
    expect(Date.parse(status.service.since!)).toBeGreaterThan(Date.now() - 10_000);
    expect(status.collector).toEqual({ state: 'online', lastDeliveryAt: '2026-12-07T14:05:00.000Z' });
    expect(status.sources).toEqual({
      title: { state: 'disabled' }, // not in this session's list of sources
      keys: { state: 'ok' },
      screen: { state: 'failed', detail: 'no X display (DISPLAY is not set)' },
    });
    expect(Object.keys(status).sort()).toEqual(['collector', 'notice', 'service', 'sources', 'updatedAt']);
    expect(statuses.length).toBeGreaterThan(0); // onChange heard the welcome

    expect(rowSentences(statusView(status))).toEqual([
      'Monitoring service: running on this computer',
      "School's Haven server: connected",
      'Last delivery: 14:05, 7 December 2026',
      'Window titles: not watched (turned off by the school)',
      'Typed phrases: watched',
      'Text on the screen: not working (no X display (DISPLAY is not set))',
    ]);
  });

  test('link and policy lines from the service change what the shell shows, and onChange hears each', async () => {
    service = await FakeService.listen(socketPath, () => welcome({ link: { state: 'connecting', lastDeliveryAt: null } }));
    const { statuses } = startSession([scriptedKeys()]);
    await waitFor(() => core!.status().service.state === 'connected', 5000, 'the welcome');
    expect(core!.status().collector).toEqual({ state: 'connecting', lastDeliveryAt: null });

    service.send({ type: 'link', link: { state: 'refused', lastDeliveryAt: '2026-12-07T09:00:00.000Z' } });
    await waitFor(() => statuses.some((s) => s.collector.state === 'refused'), 5000, 'the refused link');
    expect(statuses.at(-1)!.collector).toEqual({ state: 'refused', lastDeliveryAt: '2026-12-07T09:00:00.000Z' });
    expect(statusView(statuses.at(-1)!).summaryTone).toBe('problem');

    service.send({ type: 'link', link: { state: 'offline', lastDeliveryAt: '2026-12-07T09:00:00.000Z' } });
    await waitFor(() => statuses.at(-1)!.collector.state === 'offline', 5000, 'the offline link');

    service.send({ type: 'policy', policy: { ...DEFAULT_POLICY, sources: { title: true, keys: false, screen: true } } });
    await waitFor(() => statuses.at(-1)!.sources.keys.state === 'disabled', 5000, 'keys turned off');
    expect(statuses.at(-1)!.sources.keys).toEqual({ state: 'disabled', detail: "turned off by the school's policy" });
  });

  test('no service listening, then the service going away: "not responding since"', async () => {
    const { statuses } = startSession([scriptedKeys()]);
    await waitFor(() => core!.status().service.state === 'unreachable', 5000, 'unreachable');
    const down = core!.status();
    expect(down.service.since).not.toBeNull();
    expect(down.collector).toEqual({ state: 'unknown', lastDeliveryAt: null });
    expect(statusView(down).connection[0]!.value).toMatch(/^not responding since \d\d:\d\d, \d+ \w+ \d{4}$/);

    // The service starts: the session reconnects by itself.
    service = await FakeService.listen(socketPath, () => welcome());
    await waitFor(() => core!.status().service.state === 'connected', 5000, 'the reconnection');

    await service.close();
    service = null;
    await waitFor(() => statuses.at(-1)!.service.state === 'unreachable', 5000, 'the lost connection');
    expect(statusView(statuses.at(-1)!).connection[1]!.value).toBe('not known while the monitoring service is not responding');
  });

  test('a flagged phrase reaches the service but never the status: no typed text, no window title, no capture times', async () => {
    service = await FakeService.listen(socketPath, () => welcome());
    const keys = scriptedKeys();
    const { statuses } = startSession([keys]);
    await waitFor(() => core!.status().service.state === 'connected', 5000, 'the welcome');

    keys.see(PHRASE, TITLE);
    await waitFor(() => service!.received.some((m) => m.type === 'events'), 5000, 'the flagged event at the service');
    const sent = JSON.stringify(service.received.filter((m) => m.type === 'events'));
    expect(sent).toContain('kill myself'); // it was captured and flagged for real

    // The session itself knows a capture time (lastCaptureAt) for keys; the shell must not.
    const view = session!.view() as SessionView & { sources: { keys: Record<string, unknown> } };
    const raw = (session as unknown as { captureForTests: { health(): Record<string, Record<string, unknown>> } }).captureForTests.health();
    expect(raw.keys!.lastCaptureAt).toEqual(expect.any(String));
    expect(view.sources.keys.state).toBe('ok');

    const shown = [core!.status(), ...statuses];
    const everything = JSON.stringify(shown) + JSON.stringify(shown.map((s) => statusView(s)));
    for (const word of ['kill', 'myself', 'tonight', 'diary', 'Jamie', 'notes', 'lastCaptureAt']) expect(everything).not.toContain(word);
    for (const s of shown) for (const src of Object.values(s.sources)) expect(Object.keys(src).every((k) => k === 'state' || k === 'detail')).toBe(true);
  });

  test("a source's own words about its health are shown (they are the source's, not the pupil's)", async () => {
    service = await FakeService.listen(socketPath, () => welcome());
    const keys = scriptedKeys();
    const { statuses } = startSession([keys]);
    await waitFor(() => core!.status().service.state === 'connected', 5000, 'the welcome');
    keys.say('the keyboard hook stopped');
    service.send({ type: 'link', link: { state: 'online', lastDeliveryAt: null } }); // any change makes the session tell its listeners
    await waitFor(() => statuses.at(-1)!.sources.keys.state === 'degraded', 5000, 'degraded keys');
    expect(statuses.at(-1)!.sources.keys).toEqual({ state: 'degraded', detail: 'the keyboard hook stopped' });
  });

  test('stop() stops the session: the service sees the connection end, and onChange can be turned off', async () => {
    service = await FakeService.listen(socketPath, () => welcome());
    const { statuses } = startSession([scriptedKeys()]);
    await waitFor(() => core!.status().service.state === 'connected', 5000, 'the welcome');
    const ended = new Promise<void>((r) => service!.clients[0]!.on('end', () => r()));
    const heard: ShellStatus[] = [];
    const off = core!.onChange((s) => heard.push(s));
    off();
    service.send({ type: 'link', link: { state: 'offline', lastDeliveryAt: null } });
    await waitFor(() => statuses.at(-1)!.collector.state === 'offline', 5000, 'offline');
    expect(heard).toEqual([]);
    await core!.stop();
    core = null;
    await ended;
  });
});

describe('shellStatus: field by field', () => {
  const view: SessionView = {
    notice: { school: null, transparencyUrl: null },
    service: { state: 'connecting', since: null },
    collector: { state: 'unknown', lastDeliveryAt: null },
    sources: { title: { state: 'paused', detail: 'quiet hours' }, keys: { state: 'ok' }, screen: { state: 'disabled' } },
    pending: 3,
    dropped: 1,
    updatedAt: '2026-12-07T14:06:30.000Z',
  };

  test('every state maps to the same state; pending and dropped counts are not shown', () => {
    expect(shellStatus(view)).toEqual({
      notice: { school: null, transparencyUrl: null },
      service: { state: 'connecting', since: null },
      collector: { state: 'unknown', lastDeliveryAt: null },
      sources: { title: { state: 'paused', detail: 'quiet hours' }, keys: { state: 'ok' }, screen: { state: 'disabled' } },
      updatedAt: '2026-12-07T14:06:30.000Z',
    });
    for (const state of ['ok', 'degraded', 'failed', 'disabled', 'paused'] as const) {
      expect(shellStatus({ ...view, sources: { ...view.sources, keys: { state } } }).sources.keys.state).toBe(state);
    }
    for (const state of ['online', 'connecting', 'offline', 'refused', 'unknown'] as const) {
      expect(shellStatus({ ...view, collector: { state, lastDeliveryAt: null } }).collector.state).toBe(state);
    }
    for (const state of ['connected', 'connecting', 'unreachable'] as const) {
      expect(shellStatus({ ...view, service: { state, since: null } }).service.state).toBe(state);
    }
  });

  test('fields the shell does not know are left behind; a state it does not know is not shown as working', () => {
    const odd = {
      ...view,
      lastText: PHRASE,
      notice: { ...view.notice, extra: TITLE },
      sources: { ...view.sources, keys: { state: 'recording', detail: '', lastCaptureAt: '2026-12-07T14:00:00Z', text: PHRASE } },
      collector: { state: 'sideways', lastDeliveryAt: 42 },
    } as unknown as SessionView;
    const s = shellStatus(odd);
    expect(JSON.stringify(s)).not.toContain('kill');
    expect(JSON.stringify(s)).not.toContain('diary');
    expect(s.sources.keys).toEqual({ state: 'failed' });
    expect(s.collector).toEqual({ state: 'unknown', lastDeliveryAt: null });
  });
});
