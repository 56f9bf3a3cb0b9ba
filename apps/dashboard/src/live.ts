// The live feed: one WebSocket to /api/live (same cookie), reconnecting with capped,
// jittered exponential backoff. The client never sends anything.

import type { IncidentSummary, LiveMessage } from './api';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

export type LiveOptions = {
  onIncident: (incident: IncidentSummary) => void;
  onStatus?: (status: LiveStatus) => void;
  /**
   * Called before each reconnect. Return false to stop for good (for example when the session
   * has gone: the caller checks GET /api/me, whose 401 already sends the user to sign in).
   */
  beforeReconnect?: () => Promise<boolean>;
  /** An incident has left this user's reach (e.g. attributed to a member of staff). */
  onRemoved?: (id: string) => void;
  /** For tests; the defaults suit a school network. */
  initialDelayMs?: number;
  maxDelayMs?: number;
};

export const liveUrl = (): string => {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/api/live`;
};

const isIncidentMessage = (value: unknown): value is Extract<LiveMessage, { type: 'incident' }> =>
  value !== null &&
  typeof value === 'object' &&
  (value as { type?: unknown }).type === 'incident' &&
  typeof (value as { incident?: unknown }).incident === 'object' &&
  (value as { incident?: unknown }).incident !== null;

/** Opens the feed; the returned function closes it and stops reconnecting. */
export const connectLive = (options: LiveOptions): (() => void) => {
  const initialDelay = options.initialDelayMs ?? 1_000;
  const maxDelay = options.maxDelayMs ?? 30_000;
  let socket: WebSocket | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let attempt = 0;
  let stopped = false;
  let status: LiveStatus | null = null;

  const setStatus = (next: LiveStatus): void => {
    if (next === status) return;
    status = next;
    options.onStatus?.(next);
  };

  const schedule = (): void => {
    if (stopped) return;
    setStatus('reconnecting');
    const ceiling = Math.min(maxDelay, initialDelay * 2 ** attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    attempt += 1;
    timer = setTimeout(() => {
      timer = null;
      void (async () => {
        if (options.beforeReconnect) {
          let go = true;
          try {
            go = await options.beforeReconnect();
          } catch {
            go = true; // the check itself failed (network): keep trying
          }
          if (!go) {
            stopped = true;
            return;
          }
        }
        open();
      })();
    }, delay);
  };

  const open = (): void => {
    if (stopped) return;
    if (status === null) setStatus('connecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(liveUrl());
    } catch {
      schedule();
      return;
    }
    socket = ws;
    ws.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== 'string') return;
      let message: unknown;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message !== null && typeof message === 'object' && (message as { type?: unknown }).type === 'ready') {
        attempt = 0;
        setStatus('live');
      } else if (isIncidentMessage(message)) {
        // A message can only arrive on a subscribed socket, even if 'ready' was missed.
        setStatus('live');
        options.onIncident(message.incident);
      } else if (
        message !== null &&
        typeof message === 'object' &&
        (message as { type?: unknown }).type === 'incident-removed' &&
        typeof (message as { id?: unknown }).id === 'string'
      ) {
        options.onRemoved?.((message as { id: string }).id);
      }
    };
    ws.onclose = () => {
      if (socket === ws) socket = null;
      schedule();
    };
    // An error is always followed by close, which reconnects.
    ws.onerror = () => undefined;
  };

  open();

  return () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.close(1000);
      socket = null;
    }
  };
};
