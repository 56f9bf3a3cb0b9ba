import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { errorMessage } from '../../api';

/** The API counts lengths in Unicode code points (docs/api.md, Input): so does the counter. */
const codePoints = (text: string): number => [...text].length;

export const REASON_MIN = 10;
export const REASON_MAX = 500;

export type ReasonDialogProps = {
  title: string;
  /** The textarea's label, e.g. "Reason for viewing". */
  label: string;
  submitLabel: string;
  explanation: string;
  /** Resolves to close the dialog; a rejection is shown inside it. */
  onSubmit: (reason: string) => Promise<void>;
  onClose: () => void;
};

/**
 * A modal asking why the user needs to see or take evidence. The reason goes to the audit log,
 * so the dialog says so before anything is revealed.
 */
export const ReasonDialog = ({ title, label, submitLabel, explanation, onSubmit, onClose }: ReasonDialogProps) => {
  const ref = useRef<HTMLDialogElement>(null);
  const ids = useId();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      if (dialog?.open) dialog.close();
      opener?.focus();
    };
  }, []);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    const text = reason.trim();
    if (codePoints(text) < REASON_MIN) {
      setError(`Give a reason of at least ${REASON_MIN} characters.`);
      return;
    }
    if (codePoints(text) > REASON_MAX) {
      setError(`Keep the reason to ${REASON_MAX} characters or fewer.`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSubmit(text);
      onClose();
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={`${ids}-title`}
      aria-describedby={`${ids}-explanation`}
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onClose();
      }}
    >
      <form onSubmit={(e) => void submit(e)} noValidate>
        <h2 id={`${ids}-title`}>{title}</h2>
        <p id={`${ids}-explanation`}>{explanation}</p>
        <div className="field">
          <label htmlFor={`${ids}-reason`}>{label}</label>
          <textarea
            id={`${ids}-reason`}
            rows={4}
            minLength={REASON_MIN}
            // maxLength counts UTF-16 units (an emoji as two); the API counts code points, so
            // the limit is checked on submit instead.
            required
            aria-describedby={`${ids}-hint`}
            aria-invalid={error !== null}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
          <p id={`${ids}-hint`} className="hint">
            {REASON_MIN} to {REASON_MAX} characters. Your name, the time and this reason are recorded in the audit log.{' '}
            <span className="counter">
              {codePoints(reason.trim())} of {REASON_MAX}
            </span>
          </p>
        </div>
        <div role="alert" className="form-error">
          {error}
        </div>
        <div className="button-row">
          <button type="submit" className="primary" disabled={busy}>
            {submitLabel}
          </button>
          <button type="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
};
