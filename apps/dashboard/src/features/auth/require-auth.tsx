import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router-dom';
import type { Me } from '../../api';
import { landingPath, useSession } from './session-context';

export type Capability = keyof Me['can'];

/** Renders children for a signed-in user; otherwise sends them to /login and back afterwards. */
export const RequireAuth = ({ children }: { children: ReactNode }) => {
  const { state, retry } = useSession();
  const location = useLocation();
  if (state.status === 'loading') {
    return (
      <p className="page-status" role="status">
        Loading…
      </p>
    );
  }
  if (state.status === 'error') {
    return (
      <div className="page-status">
        <p role="alert">{state.message}</p>
        <button type="button" onClick={retry}>
          Try again
        </button>
      </div>
    );
  }
  if (state.status === 'signed-out') {
    return <Navigate to="/login" replace state={state.explicit ? null : { from: `${location.pathname}${location.search}` }} />;
  }
  return <>{children}</>;
};

/** Sends a user whose role lacks the capability to the page their role does allow. */
export const RequireCan = ({ can, children }: { can: Capability; children: ReactNode }) => {
  const { state } = useSession();
  if (state.status !== 'signed-in') return null;
  if (state.me.can[can]) return <>{children}</>;
  const home = landingPath(state.me);
  // landingPath only names a page the user's role can open, so this cannot loop.
  if (home) return <Navigate to={home} replace />;
  return (
    <section className="page">
      <h1>No access</h1>
      <p>Your account does not have a role that can use this part of Haven. Ask your Haven administrator if you think this is wrong.</p>
    </section>
  );
};
