import { useEffect, useRef, type MouseEvent } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router-dom';
import { MetaProvider } from '../../meta-context';
import { useMe, useSession } from '../auth/session-context';
import { LiveProvider } from '../queue/live-context';

const skipToContent = (event: MouseEvent<HTMLAnchorElement>) => {
  const main = document.getElementById('main');
  if (!main) return;
  event.preventDefault();
  main.focus();
  main.scrollIntoView();
};

/** Header (skip link, main navigation, who is signed in, sign out) around every signed-in page. */
export const AppLayout = () => {
  const me = useMe();
  const { signOut } = useSession();
  const { pathname } = useLocation();
  const firstRender = useRef(true);

  // After moving to another page, start keyboard and screen-reader users at its content.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [pathname]);

  const content = (
    <main id="main" tabIndex={-1}>
      <Outlet />
    </main>
  );

  return (
    <>
      <a className="skip-link" href="#main" onClick={skipToContent}>
        Skip to content
      </a>
      <header className="app-header">
        <div className="app-header-inner">
          <span className="brand">Haven</span>
          <nav aria-label="Main">
            <ul>
              {me.can.incidents && (
                <li>
                  <NavLink to="/" end>
                    Queue
                  </NavLink>
                </li>
              )}
              {me.can.audit && (
                <li>
                  <NavLink to="/audit">Audit log</NavLink>
                </li>
              )}
              {me.can.devices && (
                <li>
                  <NavLink to="/devices">Devices</NavLink>
                </li>
              )}
            </ul>
          </nav>
          <div className="account">
            <span className="account-name">
              <span className="visually-hidden">Signed in as </span>
              {me.displayName}
            </span>
            <button
              type="button"
              className="link-button"
              onClick={() => {
                void signOut();
              }}
            >
              Sign out
            </button>
          </div>
        </div>
      </header>
      {me.can.incidents ? (
        <MetaProvider>
          <LiveProvider>{content}</LiveProvider>
        </MetaProvider>
      ) : (
        content
      )}
    </>
  );
};
