import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router-dom';
import { ApiError, login } from '../../api';
import { useDocumentTitle } from '../layout/use-document-title';
import { landingPath, useSession } from './session-context';

const rateLimitMessage = (retryAfterSeconds: number | null): string => {
  if (retryAfterSeconds === null) return 'Too many attempts. Try again later.';
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  return `Too many attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
};

const fromPath = (state: unknown): string | null => {
  const from = (state as { from?: unknown } | null)?.from;
  return typeof from === 'string' && from.startsWith('/') && !from.startsWith('//') && !from.startsWith('/login') ? from : null;
};

export const LoginPage = () => {
  useDocumentTitle('Sign in');
  const { state, signedIn } = useSession();
  const location = useLocation();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const totpRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (needTotp) totpRef.current?.focus();
  }, [needTotp]);

  if (state.status === 'signed-in') {
    return <Navigate to={fromPath(location.state) ?? landingPath(state.me) ?? '/'} replace />;
  }

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const me = await login(email.trim(), password, needTotp ? totp.replace(/\s+/g, '') : undefined);
      signedIn(me);
      navigate(fromPath(location.state) ?? landingPath(me) ?? '/', { replace: true });
    } catch (e) {
      if (e instanceof ApiError) {
        switch (e.code) {
          case 'HAVEN_ERR_BAD_LOGIN':
            setError('Email or password is incorrect.');
            break;
          case 'HAVEN_ERR_TOTP_REQUIRED':
            if (needTotp) setError(totp.trim() ? 'The authenticator code is incorrect. Try the current code.' : 'Enter the code from your authenticator app.');
            setNeedTotp(true);
            setTotp('');
            break;
          case 'HAVEN_ERR_RATE_LIMITED':
            setError(rateLimitMessage(e.retryAfterSeconds));
            break;
          case 'HAVEN_ERR_NETWORK':
            setError('Haven could not be reached. Check your connection and try again.');
            break;
          default:
            setError(e.message || 'Haven could not sign you in. Try again.');
        }
      } else {
        setError('Haven could not sign you in. Try again.');
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="login" tabIndex={-1}>
      <form className="login-form" onSubmit={(e) => void submit(e)} noValidate>
        <h1>Sign in to Haven</h1>
        <div className="field">
          <label htmlFor="login-email">Email</label>
          <input
            id="login-email"
            name="email"
            type="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="login-password">Password</label>
          <input
            id="login-password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        {needTotp && (
          <div className="field">
            <label htmlFor="login-totp">Authenticator code</label>
            <input
              id="login-totp"
              ref={totpRef}
              name="totp"
              type="text"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9 ]*"
              maxLength={8}
              aria-describedby="login-totp-hint"
              value={totp}
              onChange={(e) => setTotp(e.target.value)}
            />
            <p id="login-totp-hint" className="hint">
              Enter the 6-digit code from your authenticator app.
            </p>
          </div>
        )}
        <div role="alert" className="form-error">
          {error}
        </div>
        <button type="submit" className="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
};
