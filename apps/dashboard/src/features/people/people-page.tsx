import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { ApiError, errorMessage, getChronology, type Chronology } from '../../api';
import { personName } from '../../format';
import { useDocumentTitle } from '../layout/use-document-title';
import { EventTimeline } from '../incident/event-timeline';
import { IncidentTable } from '../queue/incident-table';

type Load = { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; chronology: Chronology };

const newestFirst = <T,>(items: T[], at: (item: T) => string): T[] => [...items].sort((a, b) => Date.parse(at(b)) - Date.parse(at(a)));

/** One person's incidents and events at one school, newest first. */
export const PeoplePage = () => {
  const [params] = useSearchParams();
  const schoolId = params.get('schoolId') ?? '';
  const subject = params.get('subject') ?? '';
  const [load, setLoad] = useState<Load>({ state: 'loading' });

  const name = load.state === 'ready' ? personName(load.chronology.subject) : null;
  useDocumentTitle(name ? `Chronology: ${name}` : 'Chronology');

  useEffect(() => {
    if (!schoolId || !subject) return;
    const controller = new AbortController();
    setLoad({ state: 'loading' });
    getChronology(schoolId, subject, controller.signal)
      .then((chronology) => setLoad({ state: 'ready', chronology }))
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setLoad({ state: 'error', error });
      });
    return () => controller.abort();
  }, [schoolId, subject]);

  if (!schoolId || !subject) {
    return (
      <section className="page">
        <h1>Chronology</h1>
        <p>Open a chronology from an incident: choose “Chronology for …” on the incident page.</p>
        <p>
          <Link to="/">Back to incidents</Link>
        </p>
      </section>
    );
  }
  if (load.state === 'loading') return <p role="status">Loading chronology…</p>;
  if (load.state === 'error') {
    const notFound = load.error instanceof ApiError && load.error.status === 404;
    return (
      <section className="page">
        <h1>Chronology</h1>
        <p role="alert">{notFound ? 'There is no such person, or they are not someone you can see.' : errorMessage(load.error)}</p>
        <p>
          <Link to="/">Back to incidents</Link>
        </p>
      </section>
    );
  }

  const { chronology } = load;
  const incidents = newestFirst(chronology.incidents, (i) => i.lastSeenAt);
  const events = newestFirst(chronology.events, (e) => e.occurredAt);
  return (
    <section className="page">
      <p className="breadcrumb">
        <Link to="/">Back to incidents</Link>
      </p>
      <h1>Chronology: {name}</h1>
      <p className="muted">
        {chronology.subject.kind === 'staff' ? 'Staff' : chronology.subject.kind === 'pupil' ? 'Pupil' : 'Not in the directory'}
        {chronology.subject.yearGroup ? ` · ${chronology.subject.yearGroup}` : ''}
        {chronology.subject.displayName ? ` · user name ${chronology.subject.key}` : ''}
      </p>
      <section aria-labelledby="people-incidents">
        <h2 id="people-incidents">Incidents</h2>
        {incidents.length === 0 ? (
          <p className="empty">No incidents.</p>
        ) : (
          <IncidentTable caption={`Incidents for ${name ?? subject}`} incidents={incidents} />
        )}
      </section>
      <section aria-labelledby="people-timeline">
        <h2 id="people-timeline">Timeline</h2>
        <EventTimeline events={events} showCategory />
      </section>
    </section>
  );
};
