// Archives: every stored archive (origin, sequence, time range, events, signer, status, whose rules made its
// fields), the continuity of each origin as a timeline, a detail view (verification report, signed checkpoint,
// manifest, "Re-normalize with built-in mapper…") and "re-check database". An archive sealed on receipt by the
// auditor says so, with its label, in its row and its detail (never just "verified"). An AWS CloudTrail export
// imported with AWS's signatures (docs/cloudtrail.md section 5) is "Signed by AWS CloudTrail", with its label and the
// hours its signed digests cover, and every hour of its trail no digest covers.

import { Fragment, useCallback, useEffect, useRef, useState } from 'react';

import { backend } from '../backend';
import type {
  ArchiveDetail,
  ArchiveRow,
  ArchivesView,
  CheckEvent,
  CheckProgress,
  CheckReport,
  CloudTrailHours,
  Incident,
  Normalization,
} from '../backend';
import { useApp } from '../app-context';
import { FailureFields } from '../components/FailureFields';
import { EmptyState } from '../components/EmptyState';
import { IncidentList } from '../components/Incidents';
import { LookalikeWarning } from '../components/LookalikeWarning';
import { RECEIPT_MEANING } from '../components/ReceiveDialog';
import { ProgressBar } from '../components/ProgressBar';
import { Timeline } from '../components/Timeline';
import { reindentJson } from '../format/json';
import { fieldTerm } from '../format/query';
import { countOf, formatBytes, formatCount, formatDuration, formatElapsed, rateAndEta } from '../format/numbers';
import { formatTime, zoneLabel } from '../format/time';
import { safeText } from '../format/safeText';

type CheckState =
  | { state: 'idle' }
  | { state: 'running'; job: number | null; progress: CheckProgress | null; elapsedMs: number }
  | { state: 'done'; report: CheckReport; elapsedMs: number }
  | { state: 'cancelled' };

export function ArchivesScreen({ visible }: { visible: boolean }) {
  const { dataVersion, showError, settings, refreshDb } = useApp();
  const [view, setView] = useState<ArchivesView | null>(null);
  const [incidents, setIncidents] = useState<Incident[]>([]);
  const [selected, setSelected] = useState<number | null>(null);
  const [check, setCheck] = useState<CheckState>({ state: 'idle' });

  useEffect(() => {
    if (!visible) return;
    backend.archives().then(setView).catch(showError);
    backend.incidents(true).then(setIncidents).catch(showError);
  }, [visible, dataVersion, showError]);

  const onCheckEvent = useCallback((ev: CheckEvent) => {
    setCheck((old) => {
      switch (ev.kind) {
        case 'progress':
          return { state: 'running', job: ev.job, progress: ev.progress, elapsedMs: ev.elapsed_ms };
        case 'finished':
          return { state: 'done', report: ev.report, elapsedMs: ev.elapsed_ms };
        case 'cancelled':
          return { state: 'cancelled' };
        case 'failed':
          showError(ev.error);
          return old.state === 'running' ? { state: 'idle' } : old;
      }
    });
  }, [showError]);

  const startCheck = () => {
    setCheck({ state: 'running', job: null, progress: null, elapsedMs: 0 });
    backend
      .checkDatabase(onCheckEvent)
      .then((job) => setCheck((old) => (old.state === 'running' ? { ...old, job } : old)))
      .catch(showError);
  };

  const zone = settings.time_zone;
  const archives = view?.archives ?? [];
  return (
    <div className="archives-screen">
      <div className="toolbar">
        <h1>Archives</h1>
        <div className="spacer" />
        {check.state === 'running' ? (
          <button className="danger" id="cancel-check" disabled={check.job === null} onClick={() => check.job !== null && backend.cancelJob(check.job)}>
            Cancel check
          </button>
        ) : (
          <button id="recheck" onClick={startCheck} disabled={archives.length === 0}>
            Re-check database
          </button>
        )}
      </div>
      <CheckPanel check={check} />
      <LookalikeWarning groups={view?.lookalikes ?? []} id="archives-lookalikes" />
      {view && archives.length === 0 ? (
        <EmptyState title="No archive in this database yet" id="archives-empty">
          Import a signed archive: drop it anywhere on the window, or use <strong>Choose files…</strong> on the Import
          screen.
        </EmptyState>
      ) : (
        <>
          <Timeline archives={archives} selected={selected} onSelect={setSelected} />
          <SignerChanges archives={archives} onSelect={setSelected} />
          <ArchiveTable archives={archives} selected={selected} onSelect={setSelected} zone={zone} />
          {selected !== null && <ArchiveDetailPanel id={selected} onClose={() => setSelected(null)} />}
        </>
      )}
      {incidents.length > 0 && (
        <section className="panel" id="archives-incidents">
          <h3>Integrity incidents</h3>
          <p className="small muted">
            Every import that failed verification, was refused or met an untrusted key, kept or not, with the
            importer&apos;s reason; those not reviewed are also on the Overview.
          </p>
          <IncidentList incidents={incidents} onReviewed={refreshDb} />
        </section>
      )}
    </div>
  );
}

function CheckPanel({ check }: { check: CheckState }) {
  if (check.state === 'idle') return null;
  if (check.state === 'cancelled') return <div className="banner" id="check-result">Check cancelled: nothing was changed.</div>;
  if (check.state === 'running') {
    const p = check.progress;
    const done = Number(p?.events_done ?? 0);
    const total = Number(p?.events_total ?? 0);
    const { rate, eta } = rateAndEta(done, total, check.elapsedMs);
    return (
      <div className="banner" id="check-progress">
        <div>
          Re-checking every stored event against its signed checkpoint…{' '}
          {p && `archive ${formatCount(Number(p.archives_done))} of ${formatCount(Number(p.archives_total))}`}
        </div>
        <ProgressBar done={done} total={total} label="Database check" />
        <div className="small">
          {formatCount(done)} / {formatCount(total)} events · {formatCount(Math.round(rate))} events/s · ETA{' '}
          {formatDuration(eta)}
        </div>
      </div>
    );
  }
  const r = check.report;
  return (
    <div className={r.ok ? 'banner good' : 'banner error'} id="check-result" role="status">
      <div>
        {r.ok ? 'Database verified: ' : 'PROBLEMS FOUND: '}
        {countOf(r.archives_checked, 'archive')} and {countOf(r.events_checked, 'event')} checked
        against their signed checkpoints in {formatElapsed(check.elapsedMs)}
        {r.ok ? '; nothing was changed since import.' : '.'}
      </div>
      {!r.ok && (
        <ul className="problems">
          {r.problems.map((p, i) => (
            <li key={i}>
              {p.origin && <span className="mono">{safeText(p.origin)}@{String(p.sequence)}</span>}
              {p.event_index != null && ` event ${p.event_index}`}: {safeText(p.message)}
            </li>
          ))}
        </ul>
      )}
      {r.notices.length > 0 && (
        <ul className="notices" id="check-notices">
          {r.notices.map((n, i) => (
            <li key={i}>
              {n.origin && <span className="mono">{safeText(n.origin)}@{String(n.sequence)}</span>}: {safeText(n.message)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Whether the archive was sealed on receipt (docs/archive-format.md section 4.1): its signer is the auditor who
 * received the files, so it is labelled so, never just "verified". */
function sealedOnReceipt(a: ArchiveRow): boolean {
  return a.received_at != null || a.received_label != null;
}

/** The label of an archive sealed on receipt, as the backend words it. */
function receiptLabel(a: ArchiveRow): string {
  return safeText(a.received_label ?? `sealed on receipt at ${a.received_at ?? '?'}: ${RECEIPT_MEANING}`);
}

/** Whether the archive is an AWS CloudTrail export verified with AWS's own signatures (docs/cloudtrail.md section 5):
 * its proof is AWS's signed digests, not an AuditLens signature, so it is labelled so. */
function awsEvidence(a: ArchiveRow): boolean {
  return a.evidence === 'aws-cloudtrail' || a.evidence_label != null;
}

/** What the "Signed by AWS CloudTrail" badge means, in its tooltip. */
const AWS_MEANING =
  "each log file's SHA-256 checked against AWS's signed hourly digests, each digest's signature verified with AWS's public keys";

/** The label of CloudTrail evidence, as the backend words it. */
function evidenceLabel(a: ArchiveRow): string {
  return safeText(a.evidence_label ?? `signed by AWS CloudTrail: ${AWS_MEANING}`);
}

/** The hours a CloudTrail archive's signed digests cover, and each gap in its trail's hourly digests (a warning:
 * logging stopped, a digest never delivered, or an export not imported). */
function CloudTrailHoursText({ hours, zone }: { hours: CloudTrailHours; zone: 'utc' | 'local' }) {
  return (
    <span className="cloudtrail-hours" data-digests={hours.digests} data-gaps={hours.gaps.length}>
      <span className="hours-span">
        Hourly digests: {formatCount(Number(hours.digests))}, {formatTime(hours.first_start, zone, 0)} –{' '}
        {formatTime(hours.last_end, zone, 0)}
      </span>
      {hours.gaps.length > 0 && (
        <ul className="plain hour-gaps">
          {hours.gaps.map((g, i) => (
            <li key={i} className="warn-text hour-gap">
              no digest {formatTime(g.from, zone, 0)} – {formatTime(g.to, zone, 0)} (about {formatCount(Number(g.hours))} h)
            </li>
          ))}
        </ul>
      )}
    </span>
  );
}

function statusBadge(a: ArchiveRow) {
  if (a.status === 'verified' && awsEvidence(a)) {
    return (
      <span className="badge good aws-cloudtrail" title={`Signed by AWS CloudTrail: ${AWS_MEANING}`}>
        Signed by AWS CloudTrail
      </span>
    );
  }
  if (a.status === 'verified' && sealedOnReceipt(a)) {
    return (
      <span className="badge receipt" title={`Sealed on receipt by the auditor's key: ${RECEIPT_MEANING}`}>
        Sealed on receipt
      </span>
    );
  }
  if (a.status === 'verified' && a.not_trusted_now) {
    return (
      <span className="badge warn not-trusted-now" title={safeText(a.not_trusted_now)}>
        Not trusted now
      </span>
    );
  }
  const tone = a.status === 'verified' ? 'good' : a.status === 'untrusted' ? 'warn' : 'bad';
  const text = a.status === 'verified' ? 'Verified' : a.status === 'untrusted' ? 'Untrusted key' : 'Failed';
  return <span className={`badge ${tone}`}>{text}</span>;
}

/** The built-in mappers an auditor can choose instead of the producer's rules (docs/sources.md, "Whose rules"). */
export const BUILTIN_KINDS = ['k8s', 'cloudtrail', 'github', 'gcp', 'teleport', 'okta', 'jsonl'] as const;

/** Whose rules made an archive's fields, in a few words for the table. */
function rulesShort(n: Normalization | undefined) {
  if (!n) return <span className="muted">not recorded</span>;
  switch (n.by) {
    case 'builtin':
      return <span>built-in {n.mapper}</span>;
    case 'producer_mapping':
      return (
        <span className="badge warn" title={n.text}>
          producer's mapping file
        </span>
      );
    case 'auditor':
      return (
        <span className="badge good" title={n.text}>
          auditor: {n.mapper}
        </span>
      );
  }
}

function ArchiveTable({
  archives,
  selected,
  onSelect,
  zone,
}: {
  archives: ArchiveRow[];
  selected: number | null;
  onSelect: (id: number) => void;
  zone: 'utc' | 'local';
}) {
  return (
    <table className="table archives-table" id="archives-table">
      <thead>
        <tr>
          <th>Origin</th>
          <th>Seq.</th>
          <th>Time range ({zoneLabel(zone)})</th>
          <th className="num">Events</th>
          <th>Signer</th>
          <th>Fields by</th>
          <th>Status</th>
        </tr>
      </thead>
      <tbody>
        {archives.map((a) => (
          <Fragment key={a.id}>
            <tr
              tabIndex={0}
              className={`${a.id === selected ? 'selected' : ''}${sealedOnReceipt(a) ? ' has-receipt' : ''}${awsEvidence(a) ? ' has-evidence' : ''}`}
              onClick={() => onSelect(a.id)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  onSelect(a.id);
                }
              }}
              aria-selected={a.id === selected}
              data-archive-id={a.id}
              data-origin={a.origin ?? ''}
            >
              <td className="mono">{safeText(a.origin)}</td>
              <td>
                {String(a.sequence ?? '')}
                {a.gap_before != null && (
                  <span className="badge bad small" title="earlier sequences are missing">
                    gap before
                  </span>
                )}
              </td>
              <td className="small nowrap">
                {a.time_first ? (
                  <>
                    <div>{formatTime(a.time_first, zone, 0)}</div>
                    <div>→ {formatTime(a.time_last, zone, 0)}</div>
                  </>
                ) : (
                  'no event time'
                )}
              </td>
              <td className="num">{formatCount(Number(a.events))}</td>
              <td>
                <span className="mono">{safeText(a.signer_name)}</span>
                {a.signer_change_from != null && (
                  <span className="badge warn small signer-changed" title={`signer changed: previously ${safeText(a.signer_change_from)}`}>
                    signer changed
                  </span>
                )}
                <div className="mono small muted">{safeText(a.signer_fingerprint)}</div>
              </td>
              <td className="small normalization-cell">{rulesShort(a.normalization)}</td>
              <td className="status-cell">{statusBadge(a)}</td>
            </tr>
            {sealedOnReceipt(a) && (
              // The label of an archive sealed on receipt, under its row across the table (one line to read).
              <tr
                className={`receipt-row${a.id === selected ? ' selected' : ''}`}
                data-receipt-for={a.id}
                onClick={() => onSelect(a.id)}
              >
                <td colSpan={7} className="small receipt-label archive-receipt-label">
                  {receiptLabel(a)}
                </td>
              </tr>
            )}
            {awsEvidence(a) && (
              // CloudTrail evidence: its label and the hours its signed digests cover, under its row likewise.
              <tr
                className={`evidence-row${a.id === selected ? ' selected' : ''}`}
                data-evidence-for={a.id}
                onClick={() => onSelect(a.id)}
              >
                <td colSpan={7} className="small">
                  <div className="evidence-label archive-evidence-label">{evidenceLabel(a)}</div>
                  {a.cloudtrail_hours && <CloudTrailHoursText hours={a.cloudtrail_hours} zone={zone} />}
                </td>
              </tr>
            )}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
}

/** Every change of signer inside an origin (a verified archive signed by another key than the verified archive
 * before it): always shown, with the sequence where it happens. */
export function SignerChanges({ archives, onSelect }: { archives: ArchiveRow[]; onSelect: (id: number) => void }) {
  const changes = archives.filter((a) => a.signer_change_from != null);
  if (changes.length === 0) return null;
  return (
    <section className="banner warn signer-changes" id="signer-changes" aria-label="Signer changes">
      <strong>
        {changes.length === 1 ? 'A signer changes inside an origin' : `${changes.length} signer changes inside origins`}
      </strong>
      <ul className="plain">
        {changes.map((a) => (
          <li key={a.id} data-origin={a.origin ?? ''} data-sequence={String(a.sequence ?? '')}>
            <span className="mono">{safeText(a.origin)}</span>: signer changes at sequence {String(a.sequence)}:{' '}
            <span className="mono">{safeText(a.signer_change_from)}</span> → <span className="mono">{safeText(a.signer_name)}</span>{' '}
            <span className="mono small">({a.signer_fingerprint})</span>{' '}
            <button className="link" onClick={() => onSelect(a.id)}>
              Details
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

/**
 * "Re-normalize with built-in mapper…": the auditor reads the archive's verified bytes with a built-in mapper
 * instead of the producer's rules (the same library call as `auditlens import --as KIND`).
 */
function RenormalizeAction({ archive, onDone }: { archive: ArchiveRow; onDone: (text: string) => void }) {
  const { showError, refreshDb } = useApp();
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState<string>(archive.source_kind && archive.source_kind !== 'mapping' ? archive.source_kind : 'k8s');
  const [busy, setBusy] = useState(false);
  if (archive.status === 'failed') return null;
  if (!open) {
    return (
      <button id="renormalize-open" onClick={() => setOpen(true)}>
        Re-normalize with built-in mapper…
      </button>
    );
  }
  const run = () => {
    setBusy(true);
    backend
      .renormalizeArchive(archive.id, kind)
      .then((r) => {
        setOpen(false);
        onDone(
          r.changed
            ? `${countOf(r.events, 'event')} re-normalized: ${r.normalization.text}. The verified bytes, leaves and root are unchanged.`
            : `Already normalized this way: ${r.normalization.text}. Nothing changed.`,
        );
        refreshDb();
      })
      .catch(showError)
      .finally(() => setBusy(false));
  };
  return (
    <div className="renormalize" id="renormalize-form" role="group" aria-label="Re-normalize with a built-in mapper">
      <label>
        Built-in mapper{' '}
        <select id="renormalize-kind" value={kind} onChange={(e) => setKind(e.target.value)} disabled={busy}>
          {BUILTIN_KINDS.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </label>{' '}
      <button id="renormalize-run" onClick={run} disabled={busy}>
        {busy ? 'Re-normalizing…' : 'Re-normalize'}
      </button>{' '}
      <button className="link" onClick={() => setOpen(false)} disabled={busy}>
        Cancel
      </button>
      <div className="small muted">
        Reads the same verified events with AuditLens's own rules for this kind instead of the producer's; the
        dashboards and searches then show those fields. The signed bytes are not touched.
      </div>
    </div>
  );
}

function ArchiveDetailPanel({ id, onClose }: { id: number; onClose: () => void }) {
  const { showError, settings, dataVersion, openSearch } = useApp();
  const [detail, setDetail] = useState<ArchiveDetail | null>(null);
  const [renormalized, setRenormalized] = useState<string | null>(null);
  const panel = useRef<HTMLElement>(null);
  useEffect(() => {
    setRenormalized(null);
  }, [id]);
  useEffect(() => {
    setDetail(null);
    backend
      .archiveDetail(id)
      .then((d) => {
        setDetail(d);
        requestAnimationFrame(() => panel.current?.scrollIntoView({ block: 'start', behavior: 'smooth' }));
      })
      .catch(showError);
  }, [id, showError, dataVersion]);
  if (!detail) return <aside className="detail" aria-busy="true">Loading…</aside>;
  const a = detail.archive;
  const f = detail.failure;
  const zone = settings.time_zone;
  return (
    <aside className="detail" id="archive-detail" ref={panel} aria-label={`Archive ${safeText(a.origin)}@${a.sequence}`}>
      <div className="toolbar">
        <h2>
          <span className="mono">{safeText(a.origin)}</span> · sequence {String(a.sequence)}
        </h2>
        <div className="spacer" />
        <button className="link" onClick={onClose}>
          Close
        </button>
      </div>
      <h3>Verification report</h3>
      <dl className="fields">
        <dt>Status</dt>
        <dd id="archive-status">
          {statusBadge(a)}{' '}
          {a.status === 'verified' && a.not_trusted_now
            ? `marked verified in this database, but ${safeText(a.not_trusted_now)}: its events are not shown as verified until you trust the key (Keyring) or mark it as not trusted (Overview)`
            : a.status === 'verified' && awsEvidence(a)
            ? `${AWS_MEANING}, at import; "Re-check database" verifies them again with the AWS keys kept next to the keyring`
            : a.status === 'verified' && sealedOnReceipt(a)
            ? 'signature, manifest, every event, Merkle root and hash chain checked at import, under the key that sealed the files when they were received (not their producer’s)'
            : a.status === 'verified'
              ? 'signature, manifest, every event, Merkle root and hash chain verified under a trusted key at import'
              : a.status === 'untrusted'
                ? 'valid signature by a key that was not trusted; its events are never shown as verified'
                : 'did not verify; kept flagged, its events are never shown as verified'}
        </dd>
        {sealedOnReceipt(a) && (
          <>
            <dt>Evidence</dt>
            <dd className="receipt-label" id="archive-receipt-label">
              {receiptLabel(a)}
            </dd>
          </>
        )}
        {awsEvidence(a) && (
          <>
            <dt>Evidence</dt>
            <dd className="evidence-label" id="archive-evidence-label">
              {evidenceLabel(a)}
            </dd>
            {a.cloudtrail_hours && (
              <>
                <dt>Hours</dt>
                <dd id="archive-cloudtrail-hours">
                  <CloudTrailHoursText hours={a.cloudtrail_hours} zone={zone} />
                </dd>
              </>
            )}
          </>
        )}
        {f && <FailureFields failure={f} />}
        <dt>Signer</dt>
        <dd>
          <span className="mono">{safeText(a.signer_name)}</span>{' '}
          <span className="mono small">{safeText(a.signer_fingerprint)}</span>
          <div className="mono small wrap muted key">{safeText(a.signer_key)}</div>
        </dd>
        {a.signer_change_from != null && (
          <>
            <dt>Signer change</dt>
            <dd className="warn-text" id="archive-signer-change">
              signer changes at sequence {String(a.sequence)}: previously {a.signer_change_from}
            </dd>
          </>
        )}
        <dt>Events</dt>
        <dd>
          {formatCount(Number(a.events))} ({formatBytes(Number(a.bytes))}) · source {safeText(a.source_kind)}
        </dd>
        {a.untimed != null && a.untimed > 0 && (
          <>
            <dt>No time</dt>
            <dd className="warn-text" id="archive-untimed">
              {countOf(a.untimed, 'event')} of this archive {a.untimed === 1 ? 'has' : 'have'} no time under its
              rules: in no time filter, histogram or time-bounded figure.{' '}
              <button
                className="link"
                onClick={() => openSearch(`${fieldTerm('origin', a.origin ?? '', false)} -time:*`)}
              >
                Show events without time
              </button>
            </dd>
          </>
        )}
        <dt>Normalization</dt>
        <dd id="archive-normalization" data-by={a.normalization?.by ?? 'none'}>
          {a.normalization ? a.normalization.text : 'not recorded (run Re-check database)'}
          {a.normalization?.by === 'producer_mapping' && (
            <div className="small warn-text">
              The outcome, category and other fields of these events are what the producer's own mapping file says,
              not AuditLens's rules.
            </div>
          )}
          <div>
            <RenormalizeAction archive={a} onDone={setRenormalized} />
          </div>
          {renormalized && (
            <div className="banner good small" role="status" id="renormalize-result">
              {renormalized}
            </div>
          )}
        </dd>
        <dt>Time range</dt>
        <dd>
          {a.time_first ? `${formatTime(a.time_first, zone)} → ${formatTime(a.time_last, zone)}` : 'no event has a time'}
        </dd>
        {detail.declared_time_range && (
          <>
            <dt>Declared range</dt>
            <dd className="small">
              {safeText(detail.declared_time_range.first)} → {safeText(detail.declared_time_range.last)} (manifest, as
              written)
            </dd>
          </>
        )}
        <dt>Imported</dt>
        <dd>{formatTime(a.imported_at, zone)}</dd>
        <dt>File</dt>
        <dd className="mono small wrap">{safeText(a.path)}</dd>
      </dl>
      <h3>Signed checkpoint</h3>
      <pre className="code" id="archive-checkpoint">
        {detail.checkpoint ?? (awsEvidence(a) ? "(none: AWS's signed digests, stored with the log files, are the proof)" : '(not stored)')}
      </pre>
      <h3>Manifest</h3>
      <pre className="code" id="archive-manifest">
        {detail.manifest ? reindentJson(detail.manifest) : awsEvidence(a) ? '(none: a CloudTrail export has no AuditLens manifest)' : '(not stored)'}
      </pre>
    </aside>
  );
}
