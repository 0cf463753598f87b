// "Export evidence": every match of the current query, or only the ticked rows, into a signed evidence bundle
// (docs/evidence-bundle.md). Before anything is written it shows what will be disclosed (how many events, from
// which archives, over which time range, the first of them) and asks why (the purpose is signed into the bundle).
// The export runs off the main thread; the result names the file, the events and the signing key.

import { useEffect, useRef, useState } from 'react';

import { backend } from '../backend';
import type { AppError, ExportPreview, ExportResult, ExportSelection, TimeZoneChoice } from '../backend';
import { formatBytes, formatCount } from '../format/numbers';
import { safeText } from '../format/safeText';
import { formatTime } from '../format/time';
import { AuditorKeyPanel, useAuditorKey } from './AuditorKeyPanel';
import { Modal } from './Modal';

type Scope = 'query' | 'ids';

export function ExportDialog({
  query,
  matches,
  selectedIds,
  zone,
  onClose,
}: {
  /** The query of the results shown. */
  query: string;
  /** Its number of matches, when counted. */
  matches: number | null;
  /** The ticked rows, in the order they were ticked. */
  selectedIds: string[];
  zone: TimeZoneChoice;
  onClose: () => void;
}) {
  const [scope, setScope] = useState<Scope>(selectedIds.length > 0 ? 'ids' : 'query');
  const [purpose, setPurpose] = useState('');
  const [out, setOut] = useState('');
  const [preview, setPreview] = useState<ExportPreview | null>(null);
  const [previewError, setPreviewError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<ExportResult | null>(null);
  const auditor = useAuditorKey();
  const generation = useRef(0);

  const selection: ExportSelection = scope === 'ids' ? { kind: 'ids', ids: selectedIds } : { kind: 'query', query };
  const selectionKey = JSON.stringify(selection);

  useEffect(() => {
    const gen = ++generation.current;
    setPreview(null);
    setPreviewError(null);
    backend.exportPreview(JSON.parse(selectionKey) as ExportSelection).then(
      (p) => gen === generation.current && setPreview(p),
      (e) => gen === generation.current && setPreviewError(e),
    );
  }, [selectionKey]);

  const chooseOut = async () => {
    const stamp = new Date().toISOString().slice(0, 10);
    const path = await backend.pickBundleOut(`evidence-${stamp}.zip`).catch((e) => {
      setError(e.message);
      return null;
    });
    if (path) setOut(path);
  };

  const blocked =
    !preview || preview.too_many || preview.events === 0 || preview.unverified > 0 || preview.missing.length > 0;
  const ready = !blocked && !!auditor.key && purpose.trim() !== '' && out.trim() !== '' && !busy;

  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await backend.exportBundle(selection, purpose, out.trim()));
    } catch (e) {
      setError((e as AppError).message);
    } finally {
      setBusy(false);
    }
  };

  if (result) {
    return (
      <Modal title="Evidence bundle exported" onClose={onClose} id="export-dialog">
        <div className="banner good" role="status" id="export-result">
          <strong>
            Exported {formatCount(result.events)} {result.events === 1 ? 'event' : 'events'} from{' '}
            {formatCount(result.archives)} {result.archives === 1 ? 'archive' : 'archives'}.
          </strong>
        </div>
        <dl className="fields">
          <dt>File</dt>
          <dd className="mono wrap" id="export-result-file">{result.out}</dd>
          <dt>Size</dt>
          <dd>{formatBytes(result.bytes)}</dd>
          <dt>SHA-256</dt>
          <dd className="mono small wrap" id="export-result-sha256">{result.sha256}</dd>
          <dt>Exported</dt>
          <dd className="mono">{formatTime(result.exported, zone, 0)}</dd>
          <dt>Purpose</dt>
          <dd className="pre-text">{result.purpose}</dd>
          <dt>Signed by</dt>
          <dd>
            <span className="mono">{result.auditor.name}</span>{' '}
            <span className="mono fingerprint-inline" id="export-result-fingerprint">{result.auditor.fingerprint}</span>
          </dd>
        </dl>
        <p className="muted small">
          Recipients check it with <span className="mono">auditlens verify-bundle --trust PRODUCER.pub BUNDLE.zip</span>{' '}
          (or the “Received bundle” screen), and compare the auditor fingerprint above.
        </p>
        <div className="actions">
          <button className="primary" onClick={onClose} data-autofocus id="export-close">
            Close
          </button>
        </div>
      </Modal>
    );
  }

  return (
    // While the bundle is being written the dialog stays open (the export runs off the main thread).
    <Modal title="Export evidence" onClose={busy ? () => undefined : onClose} id="export-dialog">
      <div className="modal-body">
        <fieldset className="scope" id="export-scope">
          <legend>Events</legend>
          <label>
            <input type="radio" name="export-scope" value="query" checked={scope === 'query'} onChange={() => setScope('query')} id="export-scope-query" />{' '}
            All {matches === null ? '' : formatCount(matches) + ' '}
            {matches === 1 ? 'match' : 'matches'} of {query ? <span className="mono">{query}</span> : 'the empty query (every event)'}
          </label>
          <label>
            <input
              type="radio"
              name="export-scope"
              value="ids"
              checked={scope === 'ids'}
              disabled={selectedIds.length === 0}
              onChange={() => setScope('ids')}
              id="export-scope-ids"
            />{' '}
            Only the {formatCount(selectedIds.length)} selected {selectedIds.length === 1 ? 'row' : 'rows'}
            {selectedIds.length === 0 && <span className="muted small"> (tick rows in the results to pick them)</span>}
          </label>
        </fieldset>

        <section className="export-preview" id="export-preview" aria-live="polite">
          <h3>What will be disclosed</h3>
          {previewError ? (
            <div className="banner error" role="alert">
              {previewError.message}
            </div>
          ) : !preview ? (
            <p className="muted">Looking at the selection…</p>
          ) : (
            <PreviewView preview={preview} zone={zone} />
          )}
        </section>

        <label htmlFor="export-purpose" className="field-label">
          Purpose <span className="muted small">(required; recorded in the bundle and signed)</span>
        </label>
        <textarea
          id="export-purpose"
          rows={2}
          value={purpose}
          onChange={(e) => setPurpose(e.target.value)}
          placeholder="e.g. SOC 2 access review Q2, ticket AUD-142"
          data-autofocus
        />

        <h3>Your signing key</h3>
        <AuditorKeyPanel auditor={auditor} compact />

        <label htmlFor="export-out" className="field-label">
          Save as
        </label>
        <div className="inline-form">
          <input
            id="export-out"
            className="mono grow"
            value={out}
            onChange={(e) => setOut(e.target.value)}
            placeholder="/path/to/evidence.zip"
            spellCheck={false}
            autoComplete="off"
          />
          <button onClick={chooseOut} id="export-choose-out">
            Choose…
          </button>
        </div>

      </div>
      {/* Outside the scrolling body, just above the buttons: always in sight however long the preview is. */}
      {error && (
        <div className="banner error pre-text" role="alert" id="export-error">
          {error}
        </div>
      )}
      <div className="actions">
        <button onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button className="primary" onClick={run} disabled={!ready} id="export-confirm">
          {busy ? 'Exporting…' : 'Export and sign'}
        </button>
      </div>
    </Modal>
  );
}

function PreviewView({ preview: p, zone }: { preview: ExportPreview; zone: TimeZoneChoice }) {
  const sel = p.selection;
  return (
    <>
      <dl className="fields compact">
        <dt>Events</dt>
        <dd id="preview-events">
          <strong>{formatCount(p.events)}</strong>
          {p.too_many && (
            <span className="reason">
              {' '}
              — more than one bundle holds ({formatCount(p.max_events)}): narrow the query or pick rows
            </span>
          )}
        </dd>
        <dt>Selection</dt>
        <dd id="preview-selection">
          {sel.kind === 'query' ? (
            <>
              query <span className="mono">{sel.query || '(empty: every event)'}</span>
            </>
          ) : (
            <>
              {formatCount(sel.ids.length)} event {sel.ids.length === 1 ? 'id' : 'ids'}
            </>
          )}
        </dd>
        <dt>Time range</dt>
        <dd id="preview-range" className="mono">
          {p.first && p.last ? `${formatTime(p.first, zone, 0)} – ${formatTime(p.last, zone, 0)}` : 'no event has a time'}
          {p.untimed > 0 && p.first && <span className="muted"> (and {formatCount(p.untimed)} without a time)</span>}
        </dd>
        <dt>Archives</dt>
        <dd>
          <ul className="plain" id="preview-archives">
            {p.archives.map((a) => (
              <li key={a.archive}>
                <span className="mono">{safeText(a.archive)}</span> — {formatCount(a.events)}{' '}
                {a.events === 1 ? 'event' : 'events'}
                {!a.verified && <span className="badge bad small">NOT VERIFIED</span>}
                {a.cloudtrail_note != null && <span className="badge good small aws-cloudtrail">AWS CloudTrail</span>}
              </li>
            ))}
          </ul>
        </dd>
      </dl>
      {p.unverified > 0 && (
        <div className="banner error" role="alert">
          {formatCount(p.unverified)} selected {p.unverified === 1 ? 'event is' : 'events are'} not verified: only
          verified events can be exported.
        </div>
      )}
      {p.archives.some((a) => a.cloudtrail_note != null) && (
        <div className="banner warn" role="note" id="preview-cloudtrail">
          {/* A CloudTrail log file cannot be disclosed partially: each archive says how much more goes out. */}
          {p.archives
            .filter((a) => a.cloudtrail_note != null)
            .map((a) => (
              <p key={a.archive} className="small">
                <span className="mono">{safeText(a.archive)}</span>: {safeText(a.cloudtrail_note ?? '')}
              </p>
            ))}
        </div>
      )}
      {p.missing.length > 0 && (
        <div className="banner error" role="alert">
          Not in this database: <span className="mono">{p.missing.join(', ')}</span>
        </div>
      )}
      {p.sample.length > 0 && (
        <table className="table compact preview-sample" id="preview-sample">
          <caption className="muted small">
            The first {p.sample.length === p.events ? '' : `${p.sample.length} of the `}events (each goes out byte
            for byte as signed)
          </caption>
          <thead>
            <tr>
              <th>Time</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Resource</th>
            </tr>
          </thead>
          <tbody>
            {p.sample.map((r) => (
              <tr key={r.id} data-event-id={r.id}>
                <td className="mono nowrap">{formatTime(r.time, zone, 0)}</td>
                <td className="clip" title={safeText(r.actor)}>{safeText(r.actor)}</td>
                <td className="clip" title={safeText(r.action)}>{safeText(r.action)}</td>
                <td className="clip" title={safeText(r.resource)}>{safeText(r.resource)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted small" id="preview-carries">
        Besides these events the bundle carries one inclusion proof per event (hashes only) and, per archive, its signed
        checkpoint and manifest (origin, size, sealing time, input file names) — nothing else of the log
        {p.archives.some((a) => a.cloudtrail_note != null)
          ? ', except for AWS CloudTrail archives: their whole log files, signed digests and AWS keys, as said above.'
          : '.'}
      </p>
    </>
  );
}
