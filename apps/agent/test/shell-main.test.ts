/**
 * The Electron main process's wiring (shell/main.ts), run in Node against a recording stand-in
 * for the parts of electron's API it calls: the Electron binary cannot be downloaded here, so this
 * is the closest the shell's main process gets to running. Everything it decides comes from
 * src/shell (tested on its own); this checks that main.ts asks the right things and refuses the
 * wrong ones. Real files for the notice state, the real status and notice models.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readNoticeState } from '../src/shell/notice';
import type { SessionCore } from '../src/shell/session-core';
import { statusView, type ShellStatus } from '../src/shell/status-model';
import { healthyStatus } from './shell-support';

type Listener = (...args: any[]) => any;

function fakeElectron(opts: { lock: boolean; stateDir: string }) {
  const rec = {
    appEvents: new Map<string, Listener[]>(),
    handlers: new Map<string, Listener>(),
    windows: [] as any[],
    trays: [] as any[],
    loginItems: [] as unknown[],
    opened: [] as string[],
    quit: 0,
    exit: [] as number[],
    sandboxed: false,
    permissionHandler: null as Listener | null,
  };
  class BrowserWindow {
    events = new Map<string, Listener>();
    file: string | null = null;
    shown = false;
    closed = false;
    webContents = { sent: [] as [string, unknown][], send: (c: string, p: unknown) => this.webContents.sent.push([c, p]), isDestroyed: () => this.closed };
    constructor(public options: any) {
      rec.windows.push(this);
    }
    loadFile(file: string) {
      this.file = file;
      return Promise.resolve();
    }
    removeMenu() {}
    once(event: string, cb: Listener) {
      if (event === 'ready-to-show') queueMicrotask(cb);
    }
    on(event: string, cb: Listener) {
      this.events.set(event, cb);
    }
    show() {
      this.shown = true;
    }
    focus() {}
    close() {
      this.closed = true;
      this.events.get('closed')?.();
    }
    isDestroyed() {
      return this.closed;
    }
  }
  class Tray {
    tooltip = '';
    menu: any[] = [];
    constructor(public image: unknown) {
      rec.trays.push(this);
    }
    setToolTip(t: string) {
      this.tooltip = t;
    }
    setContextMenu(m: any[]) {
      this.menu = m;
    }
    on() {}
  }
  const electron = {
    app: {
      isPackaged: true,
      requestSingleInstanceLock: () => opts.lock,
      quit: () => void rec.quit++,
      exit: (code: number) => void rec.exit.push(code),
      enableSandbox: () => void (rec.sandboxed = true),
      on: (event: string, cb: Listener) => rec.appEvents.set(event, [...(rec.appEvents.get(event) ?? []), cb]),
      whenReady: () => Promise.resolve(),
      getPath: () => opts.stateDir,
      setLoginItemSettings: (s: unknown) => void rec.loginItems.push(s),
    },
    BrowserWindow,
    Tray,
    Menu: { buildFromTemplate: (t: any[]) => t },
    nativeImage: { createFromPath: (p: string) => ({ path: p }) },
    ipcMain: { handle: (c: string, fn: Listener) => void rec.handlers.set(c, fn) },
    session: { defaultSession: { setPermissionRequestHandler: (h: Listener) => void (rec.permissionHandler = h), setPermissionCheckHandler: () => undefined } },
    shell: { openExternal: async (url: string) => void rec.opened.push(url) },
  };
  return { electron, rec };
}

function fakeCore(status: ShellStatus) {
  const listeners: ((s: ShellStatus) => void)[] = [];
  const core = {
    current: status,
    stopped: 0,
    status: () => core.current,
    onChange: (cb: (s: ShellStatus) => void) => {
      listeners.push(cb);
      return () => void listeners.splice(listeners.indexOf(cb), 1);
    },
    stop: async () => void core.stopped++,
    emit: (s: ShellStatus) => {
      core.current = s;
      listeners.forEach((l) => l(s));
    },
  };
  return core satisfies SessionCore;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('the shell main process (against a stand-in for electron)', () => {
  let stateDir: string;
  const pagesDir = path.join(__dirname, '..', 'shell', 'pages');
  const from = (page: string) => ({ senderFrame: { url: pathToFileURL(path.join(pagesDir, page)).href } });

  beforeEach(() => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'haven-shell-main-'));
  });
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  async function start(opts: { lock?: boolean; status?: ShellStatus } = {}) {
    const { electron, rec } = fakeElectron({ lock: opts.lock ?? true, stateDir });
    const core = fakeCore(opts.status ?? healthyStatus());
    let created = 0;
    const logs: any[] = [];
    jest.isolateModules(() => {
      jest.doMock('electron', () => electron);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { startShell } = require('../shell/main') as typeof import('../shell/main');
      startShell(() => {
        created++;
        return core;
      }, { pagesDir, writeLog: (line) => logs.push(JSON.parse(line)) });
    });
    await settle();
    const invoke = (channel: string, event: unknown, ...args: unknown[]) => rec.handlers.get(channel)!(event, ...args);
    return { rec, core, created: () => created, invoke, logs };
  }

  test('a second instance quits at once and starts no core', async () => {
    const { rec, created } = await start({ lock: false });
    expect(rec.quit).toBe(1);
    expect(created()).toBe(0);
    expect(rec.windows).toHaveLength(0);
    expect(rec.trays).toHaveLength(0);
  });

  test('first start: sandboxed, a tray with two items and no way to quit, the notice shown and remembered', async () => {
    const { rec, created, logs } = await start();
    expect(created()).toBe(1);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'monitoring notice', show: true, reason: 'first-run' }));
    expect(rec.sandboxed).toBe(true);
    expect(rec.trays).toHaveLength(1);
    expect(rec.trays[0].tooltip).toBe('Haven: this computer is monitored');
    expect(rec.trays[0].menu.map((i: any) => i.label)).toEqual(['Status…', 'About the monitoring notice']);
    expect(rec.windows).toHaveLength(1);
    const notice = rec.windows[0];
    expect(notice.file).toBe(path.join(pagesDir, 'notice.html'));
    expect(notice.shown).toBe(true);
    expect(notice.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
    expect(readNoticeState(stateDir)).toMatchObject({ version: 1, acknowledgedAt: null });
    // Linux: the package's XDG autostart entry starts the shell, it registers nothing itself.
    if (process.platform === 'linux') expect(rec.loginItems).toEqual([]);
    // Every permission a page might ask for is refused.
    const answer = jest.fn();
    rec.permissionHandler!(null, 'media', answer);
    expect(answer).toHaveBeenCalledWith(false);
  });

  test("the pages' requests: answered for the shell's pages, refused for anything else", async () => {
    const { invoke, logs } = await start();
    expect(await invoke('notice:get', from('notice.html'))).toMatchObject({ text: 'This computer is monitored by Riverside Academy to keep pupils safe.' });
    expect(await invoke('status:get', from('status.html'))).toEqual(statusView(healthyStatus()));
    expect(() => invoke('status:get', { senderFrame: { url: 'https://evil.example/status.html' } })).toThrow('refused');
    expect(() => invoke('status:get', { senderFrame: null })).toThrow('refused');
    expect(() => invoke('notice:open-transparency', from('notice.html'), 'https://evil.example/')).toThrow('refused');
    expect(logs.filter((l) => l.level === 'warn').map((l) => [l.msg, l.channel, l.reason])).toEqual([
      ['refused a message from a page that is not the shell', 'status:get', undefined],
      ['refused a message from a page that is not the shell', 'status:get', undefined],
      ['refused a message', 'notice:open-transparency', 'wrong arguments for notice:open-transparency'],
    ]);
  });

  test('the transparency link opens only the address the shell knows, and only http(s)', async () => {
    const { rec, invoke, core } = await start();
    expect(await invoke('notice:open-transparency', from('notice.html'))).toBe(true);
    expect(rec.opened).toEqual(['https://riverside.example.sch.uk/monitoring']);
    core.current = healthyStatus({ notice: { school: 'Riverside Academy', transparencyUrl: 'javascript:alert(1)' } });
    expect(await invoke('notice:open-transparency', from('notice.html'))).toBe(false);
    expect(rec.opened).toHaveLength(1);
  });

  test('"I understand" is remembered and closes the notice; the next start in the same login does not show it', async () => {
    const first = await start();
    await first.invoke('notice:acknowledge', from('notice.html'));
    expect(first.rec.windows[0].closed).toBe(true);
    expect(readNoticeState(stateDir)?.acknowledgedAt).toEqual(expect.any(String));

    const again = await start();
    expect(again.rec.windows).toHaveLength(0);
  });

  test('the status window follows the core: each change is sent to it as status rows', async () => {
    const { rec, core } = await start();
    rec.trays[0].menu[0].click();
    const status = rec.windows[1];
    expect(status.file).toBe(path.join(pagesDir, 'status.html'));
    const offline = healthyStatus({ collector: { state: 'offline', lastDeliveryAt: null } });
    core.emit(offline);
    expect(status.webContents.sent).toEqual([['status:changed', statusView(offline)]]);
    // A second start of the shell hands over: it opens the same window, not a new one.
    rec.appEvents.get('second-instance')![0]!({}, ['/opt/haven/haven']);
    expect(rec.windows).toHaveLength(2);
  });

  test('pages cannot open windows or navigate away, and quitting stops the core', async () => {
    const { rec, core } = await start();
    const contents = { events: new Map<string, Listener>(), openHandler: null as Listener | null, setWindowOpenHandler(h: Listener) { this.openHandler = h; }, on(e: string, cb: Listener) { this.events.set(e, cb); } };
    rec.appEvents.get('web-contents-created')![0]!({}, contents);
    expect(contents.openHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    const navigation = { preventDefault: jest.fn() };
    contents.events.get('will-navigate')!(navigation, 'https://evil.example/');
    expect(navigation.preventDefault).toHaveBeenCalled();
    expect(rec.opened).toEqual([]);
    const webview = { preventDefault: jest.fn() };
    contents.events.get('will-attach-webview')!(webview);
    expect(webview.preventDefault).toHaveBeenCalled();

    const quitting = { preventDefault: jest.fn() };
    rec.appEvents.get('will-quit')![0]!(quitting);
    await settle();
    expect(quitting.preventDefault).toHaveBeenCalled();
    expect(core.stopped).toBe(1);
    expect(rec.quit).toBe(1);
  });
});
