import { isCleanUrl, LIMITS, truncateUnits } from '@haven/protocol';
import { maskText } from '../../transform/evidence';

/**
 * The foreground window, or null when there is none (no window manager, a locked screen).
 * `url`: the address in a browser window, cleaned by `cleanUrl`; null where get-windows gives
 * none (always on Linux, and for windows that are not browsers).
 */
export type ActiveWindow = { title: string; app: string; pid: number | null; url: string | null };

/**
 * get-windows (formerly active-win): on Linux it reads X properties (_NET_ACTIVE_WINDOW) with
 * xprop/xwininfo; on Windows and macOS it ships a small native helper, which also gives a
 * browser window's address. It is an ES module, loaded once with a dynamic import.
 */
type GetWindows = { activeWindow: () => Promise<{ title: string; owner: { name: string; processId?: number }; url?: string } | undefined> };
let loaded: Promise<GetWindows> | null = null;

export async function activeWindow(): Promise<ActiveWindow | null> {
  loaded ??= import('get-windows') as Promise<GetWindows>;
  const w = await (await loaded).activeWindow();
  if (!w) return null;
  return { title: w.title, app: w.owner.name, pid: w.owner.processId ?? null, url: cleanUrl(w.url) };
}

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/**
 * A browser address as an event may carry it, or null: http and https only; scheme, host and
 * path, never the query string or fragment (they carry search terms, session tokens and
 * form contents) nor a user name or password; e-mail addresses, phone and card numbers in
 * the path masked as in titles; at most 2,048 characters. An address bar's text without a
 * scheme ("example.com/page", as some browsers show it) is read as https when its host has
 * a dot; anything else typed there (a search being written) is not an address.
 */
export function cleanUrl(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  let text = raw.trim();
  if (!text || /\s/.test(text)) return null;
  if (!SCHEME.test(text)) {
    if (!/^[^/?#@:]+\.[^/?#@:]+(:\d+)?([/?#]|$)/.test(text)) return null;
    text = `https://${text}`;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.host) return null;
  const path = maskText(url.pathname).replace(/\s/g, '_');
  // Cut to the limit without leaving half a %-escape at the end.
  const clean = truncateUnits(`${url.protocol}//${url.host}${path}`, LIMITS.maxUrlChars).replace(/%[0-9a-f]?$/i, '');
  return isCleanUrl(clean) ? clean : null;
}
