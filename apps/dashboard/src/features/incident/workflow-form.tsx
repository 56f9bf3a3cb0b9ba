import { useEffect, useId, useState, type FormEvent } from 'react';
import { ApiError, errorMessage, updateIncident, type IncidentDetail, type IncidentPatch, type Meta, type Status } from '../../api';
import { labelFrom } from '../../format';

const NOTE_MAX = 4000;

type Draft = {
  involvement: string[];
  activityType: string;
  concernLevel: string;
  actions: string[];
  outcome: string;
  assigneeId: string;
  status: Status;
  note: string;
};

const draftFrom = (incident: IncidentDetail): Draft => ({
  involvement: [...incident.involvement],
  activityType: incident.activityType ?? '',
  concernLevel: incident.concernLevel ?? '',
  actions: [...incident.actions],
  outcome: incident.outcome ?? '',
  assigneeId: incident.assignee?.id ?? '',
  status: incident.status,
  note: '',
});

const sameSet = (a: string[], b: string[]): boolean => a.length === b.length && a.every((v) => b.includes(v));

/** Only what changed, plus the version the user was looking at. */
export const changesFrom = (incident: IncidentDetail, draft: Draft): IncidentPatch | null => {
  const patch: IncidentPatch = { version: incident.version };
  let changed = false;
  if (!sameSet(draft.involvement, incident.involvement)) {
    patch.involvement = draft.involvement;
    changed = true;
  }
  if ((draft.activityType || null) !== incident.activityType) {
    patch.activityType = draft.activityType || null;
    changed = true;
  }
  if ((draft.concernLevel || null) !== incident.concernLevel) {
    patch.concernLevel = draft.concernLevel || null;
    changed = true;
  }
  if (!sameSet(draft.actions, incident.actions)) {
    patch.actions = draft.actions;
    changed = true;
  }
  if ((draft.outcome || null) !== incident.outcome) {
    patch.outcome = draft.outcome || null;
    changed = true;
  }
  if ((draft.assigneeId || null) !== (incident.assignee?.id ?? null)) {
    patch.assigneeId = draft.assigneeId || null;
    changed = true;
  }
  if (draft.status !== incident.status) {
    patch.status = draft.status;
    changed = true;
  }
  if (draft.note.trim() !== '') {
    patch.note = draft.note.trim();
    changed = true;
  }
  return changed ? patch : null;
};

type Result = { kind: 'saved' } | { kind: 'unchanged' } | { kind: 'conflict' } | { kind: 'error'; message: string } | null;

export type WorkflowFormProps = {
  incident: IncidentDetail;
  meta: Meta;
  onSaved: (incident: IncidentDetail) => void;
  onReload: () => Promise<void>;
};

/** Recording what was done: the fields of the safeguarding workflow, saved as one change. */
export const WorkflowForm = ({ incident, meta, onSaved, onReload }: WorkflowFormProps) => {
  const ids = useId();
  const [draft, setDraft] = useState<Draft>(() => draftFrom(incident));
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result>(null);

  // A fresh copy of the incident (saved, acknowledged, reloaded) resets the form to it.
  useEffect(() => setDraft(draftFrom(incident)), [incident]);

  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => {
    setResult((r) => (r?.kind === 'saved' || r?.kind === 'unchanged' ? null : r));
    setDraft((d) => ({ ...d, [key]: value }));
  };
  const toggle = (key: 'involvement' | 'actions', value: string, on: boolean) =>
    set(key, on ? [...draft[key].filter((v) => v !== value), value] : draft[key].filter((v) => v !== value));

  const statuses: Status[] = [incident.status, ...incident.allowedStatuses.filter((s) => s !== incident.status)];
  const assignable = [...incident.assignable];
  if (incident.assignee && !assignable.some((p) => p.id === incident.assignee?.id)) assignable.unshift(incident.assignee);
  const referrals = meta.actions.filter((a) => a.referral).map((a) => a.label);

  // Keep values the reference data no longer lists, so saving never silently drops them.
  const withCurrent = (options: { value: string; label: string }[], current: string[]) => [
    ...options,
    ...current.filter((v) => v && !options.some((o) => o.value === v)).map((v) => ({ value: v, label: labelFrom(undefined, v) })),
  ];

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    const patch = changesFrom(incident, draft);
    if (!patch) {
      setResult({ kind: 'unchanged' });
      return;
    }
    setBusy(true);
    setResult(null);
    try {
      const updated = await updateIncident(incident.id, patch);
      setResult({ kind: 'saved' });
      onSaved(updated);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'HAVEN_ERR_CONFLICT') setResult({ kind: 'conflict' });
      else if (e instanceof ApiError && (e.status === 400 || e.status === 422)) setResult({ kind: 'error', message: e.message || errorMessage(e) });
      else setResult({ kind: 'error', message: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form aria-label="Workflow" className="workflow" onSubmit={(e) => void submit(e)} noValidate>
      <fieldset>
        <legend>Who is involved</legend>
        <div className="checkbox-grid">
          {withCurrent(meta.involvement, draft.involvement).map((o) => (
            <label key={o.value} className="checkbox">
              <input
                type="checkbox"
                checked={draft.involvement.includes(o.value)}
                onChange={(e) => toggle('involvement', o.value, e.target.checked)}
              />
              {o.label}
            </label>
          ))}
        </div>
      </fieldset>

      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${ids}-activity`}>Type of activity</label>
          <select id={`${ids}-activity`} value={draft.activityType} onChange={(e) => set('activityType', e.target.value)}>
            <option value="">Not recorded</option>
            {withCurrent(meta.activityTypes, [draft.activityType]).map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-concern`}>Level of concern</label>
          <select id={`${ids}-concern`} value={draft.concernLevel} onChange={(e) => set('concernLevel', e.target.value)}>
            {incident.concernLevel === null && <option value="">Not recorded</option>}
            {withCurrent(meta.concernLevels, [draft.concernLevel]).map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </div>
      </div>

      <fieldset aria-describedby={`${ids}-actions-hint`}>
        <legend>Actions</legend>
        <div className="checkbox-grid">
          {withCurrent(meta.actions, draft.actions).map((o) => (
            <label key={o.value} className="checkbox">
              <input type="checkbox" checked={draft.actions.includes(o.value)} onChange={(e) => toggle('actions', o.value, e.target.checked)} />
              {o.label}
            </label>
          ))}
        </div>
        {referrals.length > 0 && (
          <p id={`${ids}-actions-hint`} className="hint">
            Escalating needs at least one referral: {referrals.join(', ')}.
          </p>
        )}
      </fieldset>

      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${ids}-outcome`}>Outcome</label>
          <select id={`${ids}-outcome`} value={draft.outcome} onChange={(e) => set('outcome', e.target.value)}>
            <option value="">Not recorded</option>
            {withCurrent(meta.outcomes, [draft.outcome]).map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-assignee`}>Assigned to</label>
          <select id={`${ids}-assignee`} value={draft.assigneeId} onChange={(e) => set('assigneeId', e.target.value)}>
            <option value="">Unassigned</option>
            {assignable.map((p) => (
              <option key={p.id} value={p.id}>
                {p.displayName}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-status`}>Status</label>
          <select
            id={`${ids}-status`}
            value={draft.status}
            aria-describedby={`${ids}-status-hint`}
            onChange={(e) => set('status', e.target.value as Status)}
          >
            {statuses.map((s) => (
              <option key={s} value={s}>
                {labelFrom(meta.statuses, s)}
              </option>
            ))}
          </select>
          <p id={`${ids}-status-hint`} className="hint">
            Closing needs an outcome.
          </p>
        </div>
      </div>

      <div className="field">
        <label htmlFor={`${ids}-note`}>Add a note</label>
        <textarea
          id={`${ids}-note`}
          rows={4}
          maxLength={NOTE_MAX}
          aria-describedby={`${ids}-note-hint`}
          value={draft.note}
          onChange={(e) => set('note', e.target.value)}
        />
        <p id={`${ids}-note-hint`} className="hint">
          Notes are added to the record and cannot be edited later. Up to {NOTE_MAX.toLocaleString('en-GB')} characters.
        </p>
      </div>

      <div className="button-row">
        <button type="submit" className="primary" disabled={busy}>
          Save changes
        </button>
      </div>

      <div role="status" className="form-status">
        {result?.kind === 'saved' && 'Saved.'}
        {result?.kind === 'unchanged' && 'There are no changes to save.'}
      </div>
      <div role="alert" className="form-error">
        {result?.kind === 'conflict' && 'This incident was changed by someone else. Reload to see the latest.'}
        {result?.kind === 'error' && result.message}
      </div>
      {result?.kind === 'conflict' && (
        <div className="button-row">
          <button
            type="button"
            onClick={() => {
              void onReload().then(() => setResult(null));
            }}
          >
            Reload
          </button>
        </div>
      )}
    </form>
  );
};
