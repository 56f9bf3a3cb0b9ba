/**
 * The tray shell's Electron main process: the session part's face, with no business logic.
 *
 * It shows the monitoring notice (src/shell/notice decides when), a status window (the rows come
 * from src/shell/status-model), a tray icon, registers itself to start at login
 * (src/shell/autostart) and keeps one instance per login. Everything it shows comes from the
 * SessionCore it is given; it never sees anything captured.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, Menu, nativeImage, session, shell, Tray, ipcMain, type NativeImage, type WebContents } from 'electron';
import { autostartPlan, openRequested, type ShellOpen } from '../src/shell/autostart';
import { INVOKE_CHANNELS, isTrustedSender, validateRendererMessage, type EventChannel, type InvokeChannel, type IpcEventMap, type IpcInvokeMap } from '../src/shell/ipc';
import { loginSessionId, noticeAcknowledged, noticeShown, noticeView, readNoticeState, shouldShowNotice, writeNoticeState } from '../src/shell/notice';
import type { SessionCore } from '../src/shell/session-core';
import { statusView } from '../src/shell/status-model';

export type { SessionCore } from '../src/shell/session-core';

export type ShellOptions = {
  /** Where notice.html and status.html are; default: ./pages next to this file. */
  pagesDir?: string;
  /** The compiled preload; default: ./preload.js next to this file. */
  preloadPath?: string;
  /** The tray icons (tray.png, tray@2x.png, trayTemplate.png); default: ./assets next to this file. */
  assetsDir?: string;
  /** Where the shell remembers the notice; default: Electron's userData directory. */
  stateDir?: string;
  /** Where its JSON log lines go; default: stderr. */
  writeLog?: (line: string) => void;
};

type Log = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/** JSON lines (stderr by default): what the shell did, never what was captured (it never sees any). */
function logger(write: (line: string) => void = (line) => process.stderr.write(line)): Log {
  return (level, msg, fields = {}) => write(JSON.stringify({ level, time: new Date().toISOString(), component: 'shell', msg, ...fields }) + '\n');
}

function send<C extends EventChannel>(contents: WebContents, channel: C, payload: IpcEventMap[C]): void {
  if (!contents.isDestroyed()) contents.send(channel, payload);
}

function bootId(): string | null {
  if (process.platform !== 'linux') return null;
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * Starts the shell in this Electron main process. Call before the app is ready. `createCore` is
 * called only once this process holds the single-instance lock, so a second start of the shell
 * hands over to the first (which opens the status window) and creates nothing.
 */
export function startShell(createCore: () => SessionCore | Promise<SessionCore>, options: ShellOptions = {}): void {
  const pagesDir = options.pagesDir ?? path.join(__dirname, 'pages');
  const preloadPath = options.preloadPath ?? path.join(__dirname, 'preload.js');
  const assetsDir = options.assetsDir ?? path.join(__dirname, 'assets');
  const pagesUrl = pathToFileURL(pagesDir).href;
  const log = logger(options.writeLog);

  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.enableSandbox();

  let core: SessionCore | null = null;
  let tray: Tray | null = null;
  let statusWindow: BrowserWindow | null = null;
  let noticeWindow: BrowserWindow | null = null;
  const loginSession = loginSessionId(process.platform, process.env, bootId());
  const stateDir = (): string => options.stateDir ?? app.getPath('userData');

  const transparencyHref = (): string | null => (core ? noticeView(core.status().notice).link?.href ?? null : null);

  function pageWindow(page: 'notice.html' | 'status.html', size: { width: number; height: number }, title: string): BrowserWindow {
    const win = new BrowserWindow({
      ...size,
      minWidth: 360,
      minHeight: 320,
      title,
      show: false,
      center: true,
      autoHideMenuBar: true,
      webPreferences: {
        preload: preloadPath,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        spellcheck: false,
        devTools: !app.isPackaged,
      },
    });
    win.removeMenu();
    win.once('ready-to-show', () => {
      win.show();
      win.focus();
    });
    void win.loadFile(path.join(pagesDir, page));
    return win;
  }

  function openStatus(): void {
    if (statusWindow && !statusWindow.isDestroyed()) {
      statusWindow.show();
      statusWindow.focus();
      return;
    }
    statusWindow = pageWindow('status.html', { width: 440, height: 560 }, 'Monitoring status');
    statusWindow.on('closed', () => {
      statusWindow = null;
    });
  }

  /** `remember`: shown at start (recorded for shouldShowNotice), not from the tray menu. */
  function openNotice(remember: boolean): void {
    if (remember) {
      try {
        writeNoticeState(stateDir(), noticeShown(readNoticeState(stateDir()), new Date(), loginSession));
      } catch (err) {
        log('warn', 'could not remember that the notice was shown', { error: (err as Error).message });
      }
    }
    if (noticeWindow && !noticeWindow.isDestroyed()) {
      noticeWindow.show();
      noticeWindow.focus();
      return;
    }
    noticeWindow = pageWindow('notice.html', { width: 520, height: 400 }, 'This computer is monitored');
    noticeWindow.on('closed', () => {
      noticeWindow = null;
    });
  }

  function open(what: ShellOpen): void {
    if (what === 'status') openStatus();
    else if (what === 'notice') openNotice(false);
  }

  const handlers: { [C in InvokeChannel]: (core: SessionCore) => IpcInvokeMap[C]['response'] | Promise<IpcInvokeMap[C]['response']> } = {
    'status:get': (core) => statusView(core.status()),
    'notice:get': (core) => noticeView(core.status().notice),
    'notice:acknowledge': () => {
      try {
        writeNoticeState(stateDir(), noticeAcknowledged(readNoticeState(stateDir()), new Date(), loginSession));
      } catch (err) {
        log('warn', 'could not remember that the notice was acknowledged', { error: (err as Error).message });
      }
      noticeWindow?.close();
    },
    'notice:open-transparency': async () => {
      const href = transparencyHref();
      if (!href) return false;
      await shell.openExternal(href);
      return true;
    },
  };

  app.on('second-instance', (_event, argv) => open(openRequested(argv, true)));
  // A tray app: closing its last window does not quit it.
  app.on('window-all-closed', () => undefined);

  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.on('will-navigate', (event, url) => {
      event.preventDefault();
      // A click on the transparency link that the page's script did not catch.
      if (url === transparencyHref()) void shell.openExternal(url);
    });
  });

  let stopped = false;
  let unsubscribe: () => void = () => undefined;
  app.on('will-quit', (event) => {
    if (stopped || !core) return;
    event.preventDefault();
    const stopping = core;
    core = null;
    unsubscribe();
    stopping
      .stop()
      .catch((err: unknown) => log('error', 'the session core did not stop cleanly', { error: (err as Error).message }))
      .finally(() => {
        stopped = true;
        app.quit();
      });
  });

  void app.whenReady().then(async () => {
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);

    try {
      core = await createCore();
    } catch (err) {
      log('error', 'the session core did not start', { error: (err as Error).message });
      app.exit(1);
      return;
    }

    for (const channel of INVOKE_CHANNELS) {
      ipcMain.handle(channel, (event, ...args: unknown[]) => {
        if (!isTrustedSender(event.senderFrame?.url, pagesUrl)) {
          log('warn', 'refused a message from a page that is not the shell', { channel });
          throw new Error('refused');
        }
        const checked = validateRendererMessage(channel, args);
        if (!checked.ok) {
          log('warn', 'refused a message', { channel, reason: checked.reason });
          throw new Error('refused');
        }
        if (!core) throw new Error('stopping');
        return handlers[checked.message.channel](core);
      });
    }

    unsubscribe = core.onChange((status) => {
      if (statusWindow && !statusWindow.isDestroyed()) send(statusWindow.webContents, 'status:changed', statusView(status));
    });

    const plan = autostartPlan({ platform: process.platform, isPackaged: app.isPackaged, execPath: process.execPath });
    if (plan.register) app.setLoginItemSettings(plan.settings);
    else log('info', 'not registering a login item', { reason: plan.reason });

    tray = new Tray(trayImage(assetsDir));
    tray.setToolTip('Haven: this computer is monitored');
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: 'Status…', click: () => openStatus() },
        { label: 'About the monitoring notice', click: () => openNotice(false) },
      ]),
    );
    if (process.platform === 'win32') tray.on('click', () => openStatus());

    const decision = shouldShowNotice(readNoticeState(stateDir()), {
      now: new Date(),
      bootedAt: new Date(Date.now() - os.uptime() * 1000),
      session: loginSession,
    });
    log('info', 'monitoring notice', { show: decision.show, reason: decision.reason });
    if (decision.show) openNotice(true);
    else open(openRequested(process.argv, false));
  });
}

function trayImage(assetsDir: string): NativeImage {
  // macOS draws "Template" images in the menu bar's own colour; tray@2x.png is picked up by name.
  const file = process.platform === 'darwin' ? 'trayTemplate.png' : 'tray.png';
  return nativeImage.createFromPath(path.join(assetsDir, file));
}
