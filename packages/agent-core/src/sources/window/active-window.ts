/** The foreground window, or null when there is none (no window manager, a locked screen). */
export type ActiveWindow = { title: string; app: string; pid: number | null };

/**
 * get-windows (formerly active-win): on Linux it reads X properties (_NET_ACTIVE_WINDOW) with
 * xprop/xwininfo; on Windows and macOS it ships a small native helper. It is an ES module,
 * loaded once with a dynamic import.
 */
type GetWindows = { activeWindow: () => Promise<{ title: string; owner: { name: string; processId?: number } } | undefined> };
let loaded: Promise<GetWindows> | null = null;

export async function activeWindow(): Promise<ActiveWindow | null> {
  loaded ??= import('get-windows') as Promise<GetWindows>;
  const w = await (await loaded).activeWindow();
  if (!w) return null;
  return { title: w.title, app: w.owner.name, pid: w.owner.processId ?? null };
}
