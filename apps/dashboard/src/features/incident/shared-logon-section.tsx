import { useEffect, useId, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { attributeIncident, errorMessage, searchPeople, type IncidentDetail, type PersonMatch } from '../../api';
import { yearGroupLabel } from '../../format';

const SEARCH_DELAY_MS = 300;
const REASON_MAX = 500;

/** "Alex Pupil (Year 9, 9B)", "Sam Teacher (staff)": enough to tell two people of one name apart. */
const personLabel = (p: PersonMatch): string => {
  const details = p.kind === 'staff' ? ['staff'] : [p.yearGroup ? yearGroupLabel(p.yearGroup) : null, p.className].filter((d): d is string => !!d);
  return details.length > 0 ? `${p.displayName} (${details.join(', ')})` : p.displayName;
};

type Search = { state: 'idle' } | { state: 'searching' } | { state: 'done'; people: PersonMatch[] } | { state: 'error'; message: string };

type AttributeFormProps = {
  incident: IncidentDetail;
  /** Attributed, and the incident is still this user's: reload it. */
  onAttributed: () => Promise<void>;
};

/** Naming the pupil behind a class logon: search the school's directory, choose, say how you know. */
const AttributeForm = ({ incident, onAttributed }: AttributeFormProps) => {
  const ids = useId();
  const navigate = useNavigate();
  const [q, setQ] = useState('');
  const [search, setSearch] = useState<Search>({ state: 'idle' });
  const [personId, setPersonId] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  // Ask the directory after a pause in typing; a newer search cancels the one before.
  useEffect(() => {
    const term = q.trim();
    if (term === '') {
      setSearch({ state: 'idle' });
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      setSearch({ state: 'searching' });
      searchPeople(incident.schoolId, term, controller.signal)
        .then((people) => setSearch({ state: 'done', people }))
        .catch((e: unknown) => {
          if (!controller.signal.aborted) setSearch({ state: 'error', message: errorMessage(e) });
        });
    }, SEARCH_DELAY_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [q, incident.schoolId]);

  const people = search.state === 'done' ? search.people : [];
  // A choice the latest search no longer lists does not count: the button never names someone unseen.
  const chosen = people.some((p) => p.id === personId) ? personId : '';

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    if (!chosen) {
      setError('Search for the pupil and choose them from the list.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const result = await attributeIncident(incident.id, chosen, reason.trim() || undefined);
      if (result.incident === null) {
        // Attributed to a member of staff: the incident is the head teacher's now.
        void navigate('/', { state: { notice: result.message } });
        return;
      }
      await onAttributed();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const searchHint =
    search.state === 'searching'
      ? 'Searching…'
      : search.state === 'error'
        ? search.message
        : search.state === 'done'
          ? search.people.length === 0
            ? 'No one in the school’s directory matches.'
            : `${search.people.length === 1 ? '1 person matches' : `${search.people.length} people match`}${search.people.length >= 50 ? ' (the first 50): type more of the name' : ''}.`
          : 'Type part of a name or a user name.';

  return (
    <form aria-label="Attribute to a pupil" className="attribute-form" onSubmit={(e) => void submit(e)} noValidate>
      <p className="hint">
        If you know who was using this account (from a seating plan, or the teacher in the room), name them. The incident then joins their
        record; this is recorded in the history and the audit log.
      </p>
      <div className="field">
        <label htmlFor={`${ids}-search`}>Search pupils</label>
        <input
          id={`${ids}-search`}
          type="search"
          autoComplete="off"
          maxLength={100}
          aria-describedby={`${ids}-search-hint`}
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <p id={`${ids}-search-hint`} className="hint" aria-live="polite">
          {searchHint}
        </p>
      </div>
      <div className="field">
        <label htmlFor={`${ids}-person`}>Pupil</label>
        <select id={`${ids}-person`} value={chosen} disabled={people.length === 0} onChange={(e) => setPersonId(e.target.value)}>
          <option value="">{people.length === 0 ? 'Search first' : 'Choose…'}</option>
          {people.map((p) => (
            <option key={p.id} value={p.id}>
              {personLabel(p)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${ids}-reason`}>How you know</label>
        <textarea
          id={`${ids}-reason`}
          rows={2}
          maxLength={REASON_MAX}
          aria-describedby={`${ids}-reason-hint`}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
        <p id={`${ids}-reason-hint`} className="hint">
          Optional, for the record: for example “Seating plan, period 3”.
        </p>
      </div>
      <div className="button-row">
        <button type="submit" className="primary" disabled={busy}>
          Attribute
        </button>
      </div>
      <div role="alert" className="form-error">
        {error}
      </div>
    </form>
  );
};

/** The class logon an incident came from, its device and room, and (until named) the form to attribute it. */
export const SharedLogonSection = ({ incident, onReload }: { incident: IncidentDetail; onReload: () => Promise<void> }) => {
  const [status, setStatus] = useState('');
  const shared = incident.sharedLogon;
  if (!shared) return null;
  return (
    <section aria-labelledby="shared-logon-heading" className="shared-logon">
      <h2 id="shared-logon-heading">Shared logon</h2>
      <dl className="summary">
        <div>
          <dt>Account</dt>
          <dd>{shared.osUser}</dd>
        </div>
        <div>
          <dt>Device</dt>
          <dd>{shared.device.hostname}</dd>
        </div>
        <div>
          <dt>Room</dt>
          <dd>{shared.device.room ?? 'Not recorded'}</dd>
        </div>
      </dl>
      {incident.subject.kind === 'shared' ? (
        <AttributeForm
          incident={incident}
          onAttributed={async () => {
            setStatus('Attributed.');
            await onReload();
          }}
        />
      ) : (
        <p>The incident has been attributed to the person using this account; see the history.</p>
      )}
      <p role="status" className="form-status">
        {status}
      </p>
    </section>
  );
};
