import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiError, getMe, type IncidentSummary } from '../../api';
import { connectLive, type LiveStatus } from '../../live';

type Listener = (incident: IncidentSummary) => void;

type Live = {
  status: LiveStatus;
  subscribe: (listener: Listener) => () => void;
  subscribeRemovals: (listener: (id: string) => void) => () => void;
};

const LiveContext = createContext<Live | null>(null);

/** One live feed for the signed-in session, shared by the pages that show incidents. */
export const LiveProvider = ({ children }: { children: ReactNode }) => {
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const listeners = useRef(new Set<Listener>());
  const removals = useRef(new Set<(id: string) => void>());

  useEffect(
    () =>
      connectLive({
        onStatus: setStatus,
        onIncident: (incident) => {
          for (const listener of listeners.current) listener(incident);
        },
        onRemoved: (id) => {
          for (const listener of removals.current) listener(id);
        },
        // A socket that keeps closing may mean the session ended: GET /api/me says so (and its
        // 401 sends the user to sign in).
        beforeReconnect: async () => {
          try {
            await getMe();
            return true;
          } catch (error) {
            return !(error instanceof ApiError && error.status === 401);
          }
        },
      }),
    [],
  );

  const subscribe = useCallback((listener: Listener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);

  const subscribeRemovals = useCallback((listener: (id: string) => void) => {
    removals.current.add(listener);
    return () => {
      removals.current.delete(listener);
    };
  }, []);

  const value = useMemo(() => ({ status, subscribe, subscribeRemovals }), [status, subscribe, subscribeRemovals]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
};

/** Calls the listener for every incident the feed reports while the component is mounted. */
export const useLiveIncidents = (listener: Listener): LiveStatus => {
  const live = useContext(LiveContext);
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  const subscribe = live?.subscribe;
  useEffect(() => subscribe?.((incident) => latest.current(incident)), [subscribe]);
  return live?.status ?? 'connecting';
};

/** Calls the listener with the id of each incident that leaves this user's reach. */
export const useLiveRemovals = (listener: (id: string) => void): void => {
  const live = useContext(LiveContext);
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  const subscribe = live?.subscribeRemovals;
  useEffect(() => subscribe?.((id) => latest.current(id)), [subscribe]);
};

export const LiveIndicator = ({ status }: { status: LiveStatus }) => (
  <span className={`live-indicator live-${status}`}>
    <span className="live-dot" aria-hidden="true" />
    {status === 'live' ? 'Live' : status === 'reconnecting' ? 'Reconnecting…' : 'Connecting…'}
  </span>
);
