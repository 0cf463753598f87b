// Event detail: the normalized fields, the raw event (pretty-printed by re-indenting only, or the exact stored
// bytes) and its provenance: archive, origin, index, leaf hash, checkpoint, signer key, verification status (an
// event sealed on receipt, or of an AWS CloudTrail export verified with AWS's signatures, is labelled so).
// An event marked "not parsed" (verified bytes that are not a JSON object the parser reads) has no fields but
// source and origin: it says so, with the parser's reason, and shows its exact bytes only (re-indenting text
// that is not JSON, or 10,000 levels of nesting, would mislead or explode).
// Everything here is attacker-controlled text and is rendered as text nodes only.

import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';

import { backend } from '../backend';
import type { AppError, EventDetail } from '../backend';
import { useApp } from '../app-context';
import type { EventList } from '../app-context';
import { EventPapers } from '../components/EventPapers';
import { BLOCK } from '../components/ResultsTable';
import { RECEIPT_MEANING } from '../components/ReceiveDialog';
import { formatCount } from '../format/numbers';
import { reindentJson } from '../format/json';
import { safeText } from '../format/safeText';
import { aroundTerms, fieldTerm, withTerm } from '../format/query';
import { formatTime, parseUtcMicros, zoneLabel } from '../format/time';

/** The windows "events around this one" offers, in microseconds. */
const WINDOWS: [string, number][] = [
  ['± 1 minute', 60e6],
  ['± 5 minutes', 300e6],
  ['± 1 hour', 3600e6],
  ['± 1 day', 86400e6],
];

/** Fields (their query names are the keys) in the order the detail shows them. */
const FIELDS: [keyof EventDetail & string, string][] = [
  ['source', 'Source'],
  ['origin', 'Origin'],
  ['actor', 'Actor'],
  ['action', 'Action'],
  ['resource', 'Resource'],
  ['outcome', 'Outcome'],
  ['category', 'Category'],
  ['ip', 'IP'],
  ['agent', 'Agent'],
  ['env', 'Env'],
  ['stage', 'Stage'],
  ['privilege', 'Privilege'],
];

export function EventScreen({
  id,
  list,
  onBack,
  onGo,
}: {
  id: string;
  /** The results it was opened from, for previous/next (Alt+↑ / Alt+↓). */
  list?: EventList;
  onBack: () => void;
  onGo?: (list: EventList) => void;
}) {
  const { settings, searchQuery, openSearch } = useApp();
  const [span, setSpan] = useState(WINDOWS[1][1]);
  const [around, setAround] = useState<'all' | 'actor' | 'resource' | 'origin'>('all');
  const [event, setEvent] = useState<EventDetail | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [exact, setExact] = useState(false);

  useEffect(() => {
    setEvent(null);
    setError(null);
    backend.event(id).then(setEvent, setError);
  }, [id]);

  const [moving, setMoving] = useState(false);
  // The event's position among all the matches when the results are counted, else among the loaded rows.
  const at = list ? (list.from ? list.from.start : 0) + list.index : 0;
  const total = list ? (list.from ? list.from.total : list.ids.length) : 0;
  const step = useCallback(
    (by: number) => {
      if (!list || !onGo) return;
      const index = list.index + by;
      if (index >= 0 && index < list.ids.length) {
        onGo({ ...list, index });
        return;
      }
      // Past the loaded rows: the neighbouring block of matches, read by its offset (forward from the next match,
      // or back to the previous one).
      const f = list.from;
      if (!f || moving) return;
      const pos = f.start + index;
      if (pos < 0 || pos >= f.total) return;
      const start = by > 0 ? pos : Math.max(0, pos - BLOCK + 1);
      setMoving(true);
      backend.search(f.query, BLOCK, null, f.sort, false, start).then(
        (page) => {
          setMoving(false);
          const ids = page.events.map((e) => e.id);
          const i = pos - start;
          if (i >= 0 && i < ids.length) onGo({ ids, index: i, from: { ...f, start } });
        },
        (e) => {
          setMoving(false);
          setError(e);
        },
      );
    },
    [list, onGo, moving],
  );
  // The keys act on what is shown: the latest `step` and `onBack`, updated as the screen is drawn, not once the
  // effects run (a key pressed in between went to the previous event's list and was lost).
  const keys = useRef({ step, onBack });
  useLayoutEffect(() => {
    keys.current = { step, onBack };
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const { step, onBack } = keys.current;
      if (e.key === 'Escape' || (e.altKey && e.key === 'ArrowLeft')) onBack();
      else if (e.altKey && e.key === 'ArrowUp') step(-1);
      else if (e.altKey && e.key === 'ArrowDown') step(1);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const zone = settings.time_zone;
  const unparsed = event?.parse_error != null;
  // Sealed on receipt by the auditor (docs/archive-format.md section 4.1): labelled so, never just "verified".
  const received = event?.received === true || event?.received_label != null;
  // An event of an AWS CloudTrail export verified with AWS's own signatures (docs/cloudtrail.md section 5): its
  // proof is AWS's signed digest of its log file, not an AuditLens signature; labelled so.
  const aws = !received && (event?.evidence === 'aws-cloudtrail' || event?.evidence_label != null);
  return (
    <div className="event-screen" id="event-detail">
      <div className="toolbar">
        <button onClick={onBack} id="event-back" title="Back (Escape)">
          ← Back
        </button>
        <h1 className="mono event-id">{id}</h1>
        {list && (
          <span className="event-steps">
            <button id="event-prev" onClick={() => step(-1)} disabled={at === 0 || moving} title="Previous result (Alt+↑)">
              ↑ Previous
            </button>
            <span className="small muted" id="event-position">
              {formatCount(at + 1)} of {formatCount(total)} {list.from ? 'results' : 'loaded results'}
            </span>
            <button id="event-next" onClick={() => step(1)} disabled={at >= total - 1 || moving} title="Next result (Alt+↓)">
              Next ↓
            </button>
          </span>
        )}
      </div>
      {error && (
        <div className="banner error" role="alert">
          {error.message}
        </div>
      )}
      {event && (
        <div className="event-grid">
          <section>
            <h2>Fields</h2>
            {unparsed && (
              <div className="banner warn" id="event-not-parsed" role="note">
                <span className="badge warn">Not parsed</span> This event{' '}
                {received ? 'is unchanged since receipt' : 'verified'}, but its bytes are not a JSON
                object the parser reads, so it has no fields besides its source and origin. The raw text is the
                event. Parser: <span className="mono">{event.parse_error}</span>
              </div>
            )}
            <dl className="fields" id="event-fields">
              <dt>Time</dt>
              <dd>
                {formatTime(event.time, zone)}
                {zone === 'local' && <span className="muted small"> ({zoneLabel(zone)})</span>}
              </dd>
              {FIELDS.map(([k, label]) => (
                <Field
                  key={k}
                  field={k}
                  label={label}
                  value={event[k] as string | null}
                  onFilter={(exclude) => openSearch(withTerm(searchQuery, fieldTerm(k, event[k] as string | null, exclude)))}
                />
              ))}
            </dl>
            {event.time && parseUtcMicros(event.time) !== null && (
              <div className="around" id="event-around">
                <label>
                  Events around this one{' '}
                  <select value={span} onChange={(e) => setSpan(Number(e.target.value))} id="around-window">
                    {WINDOWS.map(([label, w]) => (
                      <option key={w} value={w}>
                        {label}
                      </option>
                    ))}
                  </select>
                </label>{' '}
                <select
                  value={around}
                  onChange={(e) => setAround(e.target.value as typeof around)}
                  id="around-scope"
                  aria-label="Which events"
                >
                  <option value="all">all events</option>
                  <option value="actor">same actor</option>
                  <option value="resource">same resource</option>
                  <option value="origin">same origin</option>
                </select>{' '}
                <button
                  id="around-open"
                  onClick={() => {
                    const range = aroundTerms(parseUtcMicros(event.time!)!, span);
                    openSearch(around === 'all' ? range : withTerm(range, fieldTerm(around, event[around], false)));
                  }}
                >
                  Search
                </button>
              </div>
            )}
            <EventPapers id={id} onSearch={openSearch} />
            <h2>Provenance</h2>
            <dl className="fields" id="event-provenance">
              <dt>Verification</dt>
              <dd
                id="event-status"
                data-status={!event.verified ? 'unverified' : received ? 'received' : aws ? 'aws-cloudtrail' : 'verified'}
              >
                {!event.verified ? (
                  <span className="badge bad">NOT VERIFIED</span>
                ) : received ? (
                  <span className="badge receipt" title={RECEIPT_MEANING}>
                    Sealed on receipt
                  </span>
                ) : aws ? (
                  <span className="badge good aws-cloudtrail">Signed by AWS CloudTrail</span>
                ) : (
                  <span className="badge good">Verified</span>
                )}{' '}
                {!event.verified && event.not_trusted_now ? (
                  <span id="event-not-trusted-now">
                    {' '}
                    its archive is marked verified in this database, but{' '}
                    {safeText(event.not_trusted_now)}: do not rely on this event until you trust its key
                  </span>
                ) : !event.verified && event.not_confirmed ? (
                  <span id="event-not-confirmed">
                    {' '}
                    its archive is marked verified in this database, but {safeText(event.not_confirmed)}: do not
                    rely on this event; Re-check database lists every such change
                  </span>
                ) : !event.verified ? (
                  ` its archive is stored flagged “${safeText(event.archive_status)}”: do not rely on this event`
                ) : received ? (
                  // Sealed on receipt (docs/archive-format.md section 4.1): the auditor's own seal, made when the
                  // files arrived; its label, never "verified in full under a trusted key".
                  <span className="receipt-label" id="event-receipt-label">
                    {safeText(event.received_label ?? `sealed on receipt: ${RECEIPT_MEANING}`)}
                  </span>
                ) : aws ? (
                  // No checkpoint or manifest: the log file's hash in AWS's signed digest is the proof.
                  <span className="evidence-label" id="event-evidence-label">
                    {safeText(event.evidence_label ?? "signed by AWS CloudTrail: log file verified against AWS's signed digest")}
                  </span>
                ) : (
                  ' its archive verified in full under a trusted key when imported'
                )}
              </dd>
              <dt>Archive</dt>
              <dd className="mono" id="event-archive">
                {safeText(event.archive)} (#{event.archive_id})
              </dd>
              <dt>File</dt>
              <dd className="mono small wrap">{safeText(event.archive_path)}</dd>
              <dt>Origin</dt>
              <dd className="mono">{safeText(event.archive.slice(0, event.archive.lastIndexOf('@')))}</dd>
              <dt>Sequence</dt>
              <dd>{String(event.sequence)}</dd>
              <dt>Index</dt>
              <dd id="event-index">{String(event.index)}</dd>
              <dt>Fields by</dt>
              <dd id="event-normalization" data-by={event.normalization?.by ?? 'none'}>
                {event.normalization ? event.normalization.text : 'not recorded'}
                {event.normalization?.by === 'producer_mapping' && (
                  <div className="small warn-text">
                    The fields above are what the producer's own mapping file says; the raw event is what was signed.
                  </div>
                )}
              </dd>
              <dt>Leaf hash</dt>
              <dd className="mono small wrap" id="event-leaf">
                {event.leaf}
              </dd>
              <dt>Merkle root</dt>
              <dd className="mono small wrap">{event.root}</dd>
              {event.cloudtrail ? (
                // CloudTrail evidence: no AuditLens checkpoint; the proof is the log file and AWS's signed digest.
                <>
                  <dt>Log file</dt>
                  <dd className="mono small wrap" id="event-cloudtrail-log">
                    {safeText(event.cloudtrail.log_file)}
                    <div className="muted">
                      record {String(event.cloudtrail.record)} · SHA-256 {safeText(event.cloudtrail.log_sha256)}
                    </div>
                  </dd>
                  <dt>Signed digest</dt>
                  <dd className="mono small wrap" id="event-cloudtrail-digest">
                    {safeText(event.cloudtrail.digest_file)}
                    <div className="muted">
                      {safeText(event.cloudtrail.digest_start)} – {safeText(event.cloudtrail.digest_end)} · SHA-256{' '}
                      {safeText(event.cloudtrail.digest_sha256)}
                    </div>
                  </dd>
                  <dt>AWS key</dt>
                  <dd className="mono small wrap" id="event-signer">
                    {safeText(event.cloudtrail.fingerprint)}
                  </dd>
                </>
              ) : (
                <>
                  <dt>Signer key</dt>
                  <dd className="mono small wrap key" id="event-signer">
                    {safeText(event.signer_key)}
                    <div className="muted">{event.signer_fingerprint}</div>
                  </dd>
                  <dt>Checkpoint</dt>
                  <dd>
                    <pre className="code small" id="event-checkpoint">
                      {event.checkpoint}
                    </pre>
                  </dd>
                </>
              )}
            </dl>
          </section>
          <section>
            <div className="toolbar">
              <h2>Raw event</h2>
              <div className="spacer" />
              {!unparsed && (
                <div role="radiogroup" aria-label="How to show the raw event" className="segmented">
                  <button role="radio" aria-checked={!exact} onClick={() => setExact(false)} id="raw-pretty">
                    Pretty-printed
                  </button>
                  <button role="radio" aria-checked={exact} onClick={() => setExact(true)} id="raw-exact">
                    Exact bytes
                  </button>
                </div>
              )}
            </div>
            <p className="muted small">
              {unparsed
                ? 'Not parsed: the event exactly as stored and signed (raw text); its SHA-256 leaf hash is above.'
                : exact
                  ? 'The event exactly as stored and signed; its SHA-256 leaf hash is above.'
                  : 'Re-indented only: members, strings and numbers exactly as stored.'}
            </p>
            <pre className="code raw" id="event-raw">
              {exact || unparsed ? event.raw : reindentJson(event.raw)}
            </pre>
          </section>
        </div>
      )}
    </div>
  );
}

/** One field with its pivots: filter the search for it or against it (added to the last search), copy it. */
function Field({
  field,
  label,
  value,
  onFilter,
}: {
  field: string;
  label: string;
  value: string | null;
  onFilter: (exclude: boolean) => void;
}) {
  const [copied, setCopied] = useState(false);
  const what = value == null ? `missing ${field}` : `${field} ${safeText(value)}`;
  return (
    <>
      <dt>{label}</dt>
      <dd className={value == null ? 'muted field-value' : 'wrap field-value'} data-field={field}>
        <span>{value == null ? '—' : safeText(value)}</span>
        <span className="pivots">
          <button className="link" title="Filter for this value" aria-label={`Filter for ${what}`} onClick={() => onFilter(false)}>
            +
          </button>
          <button className="link" title="Filter out this value" aria-label={`Filter out ${what}`} onClick={() => onFilter(true)}>
            −
          </button>
          {value != null && (
            <button
              className="link"
              title="Copy the value"
              aria-label={`Copy ${field}`}
              onClick={() =>
                navigator.clipboard?.writeText(value).then(
                  () => setCopied(true),
                  () => undefined,
                )
              }
            >
              {copied ? 'copied' : 'copy'}
            </button>
          )}
        </span>
      </dd>
    </>
  );
}
