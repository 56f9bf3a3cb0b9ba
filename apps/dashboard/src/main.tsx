import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Route, Routes } from 'react-router-dom';
import { AuditPage } from './features/audit/audit-page';
import { LoginPage } from './features/auth/login-page';
import { RequireAuth, RequireCan } from './features/auth/require-auth';
import { SessionProvider } from './features/auth/session-context';
import { DevicesPage } from './features/devices/devices-page';
import { IncidentPage } from './features/incident/incident-page';
import { AppLayout } from './features/layout/app-layout';
import { NotFoundPage } from './features/layout/not-found-page';
import { PeoplePage } from './features/people/people-page';
import { QueuePage } from './features/queue/queue-page';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');

createRoot(root).render(
  <StrictMode>
    <SessionProvider>
      <BrowserRouter>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route
            element={
              <RequireAuth>
                <AppLayout />
              </RequireAuth>
            }
          >
            <Route
              index
              element={
                <RequireCan can="incidents">
                  <QueuePage />
                </RequireCan>
              }
            />
            <Route
              path="incidents/:id"
              element={
                <RequireCan can="incidents">
                  <IncidentPage />
                </RequireCan>
              }
            />
            <Route
              path="people"
              element={
                <RequireCan can="incidents">
                  <PeoplePage />
                </RequireCan>
              }
            />
            <Route
              path="audit"
              element={
                <RequireCan can="audit">
                  <AuditPage />
                </RequireCan>
              }
            />
            <Route
              path="devices"
              element={
                <RequireCan can="devices">
                  <DevicesPage />
                </RequireCan>
              }
            />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </SessionProvider>
  </StrictMode>,
);
