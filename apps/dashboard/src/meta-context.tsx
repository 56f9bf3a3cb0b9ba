import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { errorMessage, getMeta, type Meta } from './api';

export type MetaState = { meta: Meta | null; error: string | null };

const MetaContext = createContext<MetaState>({ meta: null, error: null });

/** Reference data (GET /api/meta), loaded once per session for users who work with incidents. */
export const MetaProvider = ({ children }: { children: ReactNode }) => {
  const [state, setState] = useState<MetaState>({ meta: null, error: null });
  useEffect(() => {
    const controller = new AbortController();
    getMeta(controller.signal)
      .then((meta) => setState({ meta, error: null }))
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setState({ meta: null, error: errorMessage(error) });
      });
    return () => controller.abort();
  }, []);
  return <MetaContext.Provider value={state}>{children}</MetaContext.Provider>;
};

export const useMeta = (): MetaState => useContext(MetaContext);
