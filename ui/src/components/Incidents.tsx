// Integrity incidents (store/incidents.rs): imports that failed verification, were refused (a fork, a broken link)
// or met an untrusted key, kept until the auditor marks them reviewed with a note. Shown on the Overview (those not
// reviewed) and on Archives (all of them). Every string is the auditee's or the verifier's: rendered as text.

import { useState } from 'react';

import { backend } from '../backend';
import type { Incident } from '../backend';
import { useApp } from '../app-context';
import { formatTime } from '../format/time';
import { safeText } from '../format/safeText';

const KIND_LABEL: Record<string, string> = {
  failed: 'Failed verification',
  refused: 'Refused (contradicts the store)',
  untrusted: 'Untrusted key',
};

function ReviewForm({ incident, onDone }: { incident: Incident; onDone: () => void }) {
  const { showError } = useApp();
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  if (!open) {
    return (
      <button className="link review-open" onClick={() => setOpen(true)}>
        Mark reviewed…
      </button>
    );
  }
  const id = `review-note-${incident.id}`;
  return (
    <form
      className="review-form"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        backend
          .reviewIncident(incident.id, note)
          .then(() => {
            setOpen(false);
            onDone();
          })
          .catch(showError)
          .finally(() => setBusy(false));
      }}
    >
      <label htmlFor={id} className="small">
        Review note (required): what you found or did about it
      </label>
      <textarea id={id} rows={2} value={note} maxLength={4000} onChange={(e) => setNote(e.target.value)} />
      <div className="row">
        <button type="submit" className="primary" disabled={busy || note.trim() === ''}>
          Mark reviewed
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** A list of incidents; those not reviewed offer "Mark reviewed…". */
export function IncidentList({ incidents, onReviewed }: { incidents: Incident[]; onReviewed: () => void }) {
  const { settings } = useApp();
  return (
    <ul className="incidents">
      {incidents.map((i) => (
        <li key={i.id} data-incident-id={i.id} data-kind={i.kind} data-reviewed={i.reviewed_at != null}>
          <div>
            <strong>{KIND_LABEL[i.kind] ?? safeText(i.kind)}</strong>{' '}
            <span className="mono small">{safeText(i.path)}</span>
            {i.origin != null && (
              <span className="mono small">
                {' '}
                · {safeText(i.origin)}
                {i.sequence != null && ` #${String(i.sequence)}`}
              </span>
            )}
          </div>
          <div className="small incident-reason">{safeText(i.reason)}</div>
          <div className="small muted">
            {Number(i.times) > 1
              ? `${String(i.times)} times, first ${formatTime(i.first_seen, settings.time_zone)}, last ${formatTime(i.last_seen, settings.time_zone)}`
              : formatTime(i.last_seen, settings.time_zone)}
            {i.archive_id != null ? ' · a flagged copy is kept (never shown as verified)' : ' · nothing of it was stored'}
          </div>
          {i.reviewed_at != null ? (
            <div className="small incident-review">
              Reviewed {formatTime(i.reviewed_at, settings.time_zone)}: {safeText(i.review_note ?? '')}
            </div>
          ) : (
            <ReviewForm incident={i} onDone={onReviewed} />
          )}
        </li>
      ))}
    </ul>
  );
}

/** The Overview's box of incidents not reviewed yet; nothing when there is none. */
export function OpenIncidents({ incidents }: { incidents: Incident[] }) {
  const { refreshDb } = useApp();
  if (incidents.length === 0) return null;
  return (
    <div className="banner error incidents-banner" id="overview-incidents" role="alert">
      <div>
        <strong>
          {incidents.length === 1 ? '1 integrity incident' : `${String(incidents.length)} integrity incidents`} not
          reviewed.
        </strong>{' '}
        Imports that failed verification, were refused or met an untrusted key. Each stays here until you mark it
        reviewed with a note.
      </div>
      <IncidentList incidents={incidents} onReviewed={refreshDb} />
    </div>
  );
}
