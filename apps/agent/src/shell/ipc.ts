/**
 * The typed IPC map between the shell's main process, its preload and its pages.
 *
 * Pages are untrusted: they only ask (invoke) on the channels below, with no arguments, and the
 * main process checks every message with validateRendererMessage and where it came from with
 * isTrustedSender before it answers. Requests carry no data on purpose: "open the transparency
 * notice" opens the address the main process knows, never one a page supplies.
 */
import type { NoticeView } from './notice';
import type { StatusView } from './status-model';

/** Renderer → main, answered (ipcRenderer.invoke / ipcMain.handle). */
export type IpcInvokeMap = {
  'status:get': { request: []; response: StatusView };
  'notice:get': { request: []; response: NoticeView };
  /** The pupil pressed "I understand": remembered, and the notice window closes. */
  'notice:acknowledge': { request: []; response: void };
  /** Opens the school's transparency notice in the default browser; false when there is none. */
  'notice:open-transparency': { request: []; response: boolean };
};

/** Main → renderer, pushed (webContents.send / ipcRenderer.on). */
export type IpcEventMap = {
  'status:changed': StatusView;
};

export type InvokeChannel = keyof IpcInvokeMap;
export type EventChannel = keyof IpcEventMap;

/** What each invoke channel accepts as arguments; all take none today. */
const REQUEST_SHAPES: { [C in InvokeChannel]: (args: readonly unknown[]) => args is IpcInvokeMap[C]['request'] } = {
  'status:get': noArgs,
  'notice:get': noArgs,
  'notice:acknowledge': noArgs,
  'notice:open-transparency': noArgs,
};

function noArgs(args: readonly unknown[]): args is [] {
  return args.length === 0;
}

export const INVOKE_CHANNELS = Object.keys(REQUEST_SHAPES) as InvokeChannel[];
export const EVENT_CHANNELS: EventChannel[] = ['status:changed'];

export type RendererMessage = { [C in InvokeChannel]: { channel: C; args: IpcInvokeMap[C]['request'] } }[InvokeChannel];

export type Validated = { ok: true; message: RendererMessage } | { ok: false; reason: string };

/** Checks a message from a page: a known invoke channel and arguments of its shape, or a reason why not. */
export function validateRendererMessage(channel: unknown, args: unknown): Validated {
  if (typeof channel !== 'string') return { ok: false, reason: 'channel is not a string' };
  if (!Object.hasOwn(REQUEST_SHAPES, channel)) {
    const pushOnly = (EVENT_CHANNELS as string[]).includes(channel);
    return { ok: false, reason: pushOnly ? `${channel} goes from the shell to pages only` : 'unknown channel' };
  }
  if (!Array.isArray(args)) return { ok: false, reason: 'arguments are not a list' };
  const c = channel as InvokeChannel;
  if (!REQUEST_SHAPES[c](args)) return { ok: false, reason: `wrong arguments for ${c}` };
  return { ok: true, message: { channel: c, args } as RendererMessage };
}

/** The shell's pages, in shell/pages. */
export const SHELL_PAGES = ['notice.html', 'status.html'] as const;

/**
 * Whether a message came from one of the shell's own pages: a file: URL of a page in the
 * shell's pages directory (not a subdirectory, not a page with another name).
 */
export function isTrustedSender(senderUrl: string | undefined, pagesDirUrl: string, pages: readonly string[] = SHELL_PAGES): boolean {
  if (typeof senderUrl !== 'string') return false;
  let url: URL;
  let dir: URL;
  try {
    url = new URL(senderUrl);
    dir = new URL(pagesDirUrl.endsWith('/') ? pagesDirUrl : `${pagesDirUrl}/`);
  } catch {
    return false;
  }
  if (url.protocol !== 'file:' || dir.protocol !== 'file:' || url.host !== dir.host) return false;
  if (!url.pathname.startsWith(dir.pathname)) return false;
  const rest = url.pathname.slice(dir.pathname.length);
  return pages.includes(rest);
}

/** What the preload exposes to pages as `window.haven` (contextBridge.exposeInMainWorld). */
export type HavenBridge = {
  getStatus(): Promise<StatusView>;
  /** Calls `cb` with each new status; returns the function that stops it. */
  onStatusChanged(cb: (view: StatusView) => void): () => void;
  getNotice(): Promise<NoticeView>;
  acknowledgeNotice(): Promise<void>;
  openTransparency(): Promise<boolean>;
};
