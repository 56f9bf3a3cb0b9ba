import { useEffect, useState } from 'react';
import { errorMessage, listDevices, type Device } from '../../api';
import { formatDateTime, humanise, sourceLabel } from '../../format';
import { useDocumentTitle } from '../layout/use-document-title';

const PLATFORMS: Record<string, string> = { win32: 'Windows', windows: 'Windows', darwin: 'macOS', macos: 'macOS', linux: 'Linux' };

const HEALTH_LABELS: Record<string, string> = {
  ok: 'OK',
  degraded: 'Degraded',
  failed: 'Failed',
  disabled: 'Disabled',
  paused: 'Paused',
};

const SESSION_LABELS: Record<string, string> = {
  running: 'Monitoring',
  ended: 'Logged out',
  stopped: 'Stopped while logged in',
};

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

const connection = (device: Device): { label: string; tone: string } =>
  device.revoked
    ? { label: 'Revoked', tone: 'revoked' }
    : device.connected
      ? { label: 'Connected', tone: 'connected' }
      : { label: 'Offline', tone: 'offline' };

/** Fleet health only: which devices report, and how each capture source is doing. */
export const DevicesPage = () => {
  useDocumentTitle('Devices');
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    listDevices(controller.signal)
      .then((list) => setDevices([...list].sort((a, b) => a.schoolName.localeCompare(b.schoolName, 'en-GB') || a.hostname.localeCompare(b.hostname, 'en-GB'))))
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(errorMessage(e));
      });
    return () => controller.abort();
  }, [reload]);

  return (
    <section className="page">
      <div className="page-heading">
        <h1>Devices</h1>
        <button type="button" onClick={() => setReload((n) => n + 1)}>
          Refresh
        </button>
      </div>
      {error !== null ? (
        <div className="notice">
          <p role="alert">{error}</p>
          <button type="button" onClick={() => setReload((n) => n + 1)}>
            Try again
          </button>
        </div>
      ) : devices === null ? (
        <p role="status">Loading devices…</p>
      ) : devices.length === 0 ? (
        <p className="empty">No devices have enrolled yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table">
            <caption>Devices</caption>
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">School</th>
                <th scope="col">Platform</th>
                <th scope="col">Agent version</th>
                <th scope="col">Last seen</th>
                <th scope="col">Connection</th>
                <th scope="col">Sources</th>
                <th scope="col">Users</th>
                <th scope="col" className="numeric">
                  Outbox
                </th>
                <th scope="col" className="numeric">
                  Dropped
                </th>
              </tr>
            </thead>
            <tbody>
              {devices.map((device) => {
                const conn = connection(device);
                const health = Object.entries(device.health ?? {});
                return (
                  <tr key={device.id}>
                    <td>{device.hostname}</td>
                    <td>{device.schoolName}</td>
                    <td>{device.osPlatform ? (PLATFORMS[device.osPlatform.toLowerCase()] ?? device.osPlatform) : <span className="muted">Unknown</span>}</td>
                    <td>{device.agentVersion ?? <span className="muted">Unknown</span>}</td>
                    <td>
                      {device.lastSeenAt ? (
                        <time dateTime={device.lastSeenAt}>{formatDateTime(device.lastSeenAt)}</time>
                      ) : (
                        <span className="muted">Never</span>
                      )}
                    </td>
                    <td>
                      <span className={`connection connection-${conn.tone}`}>{conn.label}</span>
                    </td>
                    <td>
                      {health.length === 0 ? (
                        <span className="muted">No report</span>
                      ) : (
                        <ul className="health-list">
                          {health.map(([source, h]) => (
                            <li key={source}>
                              {sourceLabel(source)}:{' '}
                              <span className={`health health-${h.state}`}>{HEALTH_LABELS[h.state] ?? humanise(h.state)}</span>
                              {h.detail ? <span className="muted"> — {h.detail}</span> : null}
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                    <td>
                      {device.sessions === null ? (
                        <span className="muted">Not reported</span>
                      ) : device.sessions.running + device.sessions.stopped === 0 ? (
                        <span className="muted">No one logged in</span>
                      ) : (
                        <ul className="health-list">
                          {device.sessions.running > 0 ? (
                            <li>
                              <span className="health health-ok">{SESSION_LABELS.running}</span>: {plural(device.sessions.running, 'user')}
                            </li>
                          ) : null}
                          {device.sessions.stopped > 0 ? (
                            <li>
                              <span className="health health-failed">{SESSION_LABELS.stopped}</span>: {plural(device.sessions.stopped, 'user')}
                            </li>
                          ) : null}
                        </ul>
                      )}
                      {device.clockWrongEvents > 0 ? (
                        <p className="tamper" role="note">
                          Clock wrong: {plural(device.clockWrongEvents, 'event')} in the last 7 days kept with the time they arrived. Check this device&rsquo;s date and time.
                        </p>
                      ) : null}
                      {device.setAsideEvents > 0 ? (
                        <p className="tamper" role="note">
                          {plural(device.setAsideEvents, 'event')} set aside: they could not be grouped into incidents (see the operations guide).
                        </p>
                      ) : null}
                      {device.lastTamperAt ? (
                        <p className="tamper" role="note">
                          Monitoring was last stopped by a user at <time dateTime={device.lastTamperAt}>{formatDateTime(device.lastTamperAt)}</time>.
                        </p>
                      ) : null}
                    </td>
                    <td className="numeric">{device.outboxDepth ?? '—'}</td>
                    <td className="numeric">{device.droppedEvents ?? '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
};
