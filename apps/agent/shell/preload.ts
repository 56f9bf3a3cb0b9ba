/**
 * The preload of the shell's pages: exposes `window.haven` (HavenBridge) and nothing else.
 *
 * Pages run sandboxed, and a sandboxed preload can require only 'electron' (no files of ours), so
 * everything from ../src/shell is imported as types only and the channel names are written out;
 * the compiler checks each against the IPC map.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { EventChannel, HavenBridge, InvokeChannel, IpcEventMap, IpcInvokeMap } from '../src/shell/ipc';

function invoke<C extends InvokeChannel>(channel: C, ...args: IpcInvokeMap[C]['request']): Promise<IpcInvokeMap[C]['response']> {
  return ipcRenderer.invoke(channel, ...args) as Promise<IpcInvokeMap[C]['response']>;
}

function on<C extends EventChannel>(channel: C, cb: (payload: IpcEventMap[C]) => void): () => void {
  const listener = (_event: IpcRendererEvent, payload: IpcEventMap[C]): void => cb(payload);
  ipcRenderer.on(channel, listener);
  return () => {
    ipcRenderer.removeListener(channel, listener);
  };
}

const haven: HavenBridge = {
  getStatus: () => invoke('status:get'),
  onStatusChanged: (cb) => on('status:changed', cb),
  getNotice: () => invoke('notice:get'),
  acknowledgeNotice: () => invoke('notice:acknowledge'),
  openTransparency: () => invoke('notice:open-transparency'),
};

contextBridge.exposeInMainWorld('haven', haven);
