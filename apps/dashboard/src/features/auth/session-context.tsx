import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, errorMessage, getMe, logout as apiLogout, setUnauthenticatedHandler, type Me } from '../../api';

export type SessionState =
  | { status: 'loading' }
  /** `explicit`: the user chose Sign out, so the next sign-in starts afresh rather than returning to this page. */
  | { status: 'signed-out'; explicit: boolean }
  | { status: 'error'; message: string }
  | { status: 'signed-in'; me: Me };

export type Session = {
  state: SessionState;
  signedIn: (me: Me) => void;
  signOut: () => Promise<void>;
  retry: () => void;
};

const SessionContext = createContext<Session | null>(null);

/** Holds who is signed in (GET /api/me). Any 401 from the API signs the page out. */
export const SessionProvider = ({ children }: { children: ReactNode }) => {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    setUnauthenticatedHandler(() => setState({ status: 'signed-out', explicit: false }));
    return () => setUnauthenticatedHandler(null);
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    getMe(controller.signal)
      .then((me) => setState({ status: 'signed-in', me }))
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && error.status === 401) setState({ status: 'signed-out', explicit: false });
        else setState({ status: 'error', message: errorMessage(error) });
      });
    return () => controller.abort();
  }, [attempt]);

  const signedIn = useCallback((me: Me) => setState({ status: 'signed-in', me }), []);
  const signOut = useCallback(async () => {
    try {
      await apiLogout();
    } catch {
      // Signed out locally either way; the cookie expires on its own.
    }
    setState({ status: 'signed-out', explicit: true });
  }, []);
  const retry = useCallback(() => {
    setState({ status: 'loading' });
    setAttempt((n) => n + 1);
  }, []);

  const value = useMemo(() => ({ state, signedIn, signOut, retry }), [state, signedIn, signOut, retry]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
};

export const useSession = (): Session => {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
};

/** The signed-in user; only for pages rendered inside RequireAuth. */
export const useMe = (): Me => {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('useMe without a session');
  return state.me;
};

/** Where a user lands: the queue if they may see incidents, otherwise what their role allows. */
export const landingPath = (me: Me): string | null => {
  if (me.can.incidents) return '/';
  if (me.can.audit) return '/audit';
  if (me.can.devices) return '/devices';
  return null;
};
