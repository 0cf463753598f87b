// Archives: every stored archive (origin, sequence, time range, events, signer, status), the continuity of each
// origin as a timeline, a detail view (verification report, signed checkpoint, manifest) and "re-check database".

import { useCallback, useEffect, useRef, useState } from 'react';

import { backend } from '../backend';
import type { ArchiveDetail, ArchiveRow, ArchivesView, CheckEvent, CheckProgress, CheckReport } from '../backend';
import { useApp } from '../app-context';
import { FailureFields } from '../components/FailureFields';
import { EmptyState } from '../components/EmptyState';
import { ProgressBar } from '../components/ProgressBar';
import { Timeline } from '../components/Timeline';
import { reindentJson } from '../format/json';
import { formatBytes, formatCount, formatDuration, formatElapsed, rateAndEta } from '../format/numbers';
import { formatTime, zoneLabel } from '../format/time';

type CheckState =
  | { state: 'idle' }
  | { state: 'running'; job: number | null; progress: CheckProgress | null; elapsedMs: number }
  | { state: 'done'; report: CheckReport; elapsedMs: number }
  | { state: 'cancelled' };

export function ArchivesScreen({ visible }: { visible: boolean }) {
  const { dataVersion, showError, settings } = useApp();
  const [view, setView] = useState<ArchivesView | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [check, setCheck] = useState<CheckState>({ state: 'idle' });

  useEffect(() => {
    if (!visible) return;
    backend.archives().then(setView).catch(showError);
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
        {formatCount(Number(r.archives_checked))} archives and {formatCount(Number(r.events_checked))} events checked
        against their signed checkpoints in {formatElapsed(check.elapsedMs)}
        {r.ok ? '; nothing was changed since import.' : '.'}
      </div>
      {!r.ok && (
        <ul className="problems">
          {r.problems.map((p, i) => (
            <li key={i}>
              {p.origin && <span className="mono">{p.origin}@{String(p.sequence)}</span>}
              {p.event_index != null && ` event ${p.event_index}`}: {p.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function statusBadge(a: ArchiveRow) {
  const tone = a.status === 'verified' ? 'good' : a.status === 'untrusted' ? 'warn' : 'bad';
  const text = a.status === 'verified' ? 'Verified' : a.status === 'untrusted' ? 'Untrusted key' : 'Failed';
  return <span className={`badge ${tone}`}>{text}</span>;
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
          <th>Status</th>
        </tr>
      </thead>
      <tbody>
        {archives.map((a) => (
          <tr
            key={a.id}
            tabIndex={0}
            className={a.id === selected ? 'selected' : ''}
            onClick={() => onSelect(a.id)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' || e.key === ' ') {
                e.preventDefault();
                onSelect(a.id);
              }
            }}
            aria-selected={a.id === selected}
            data-archive-id={a.id}
          >
            <td className="mono">{a.origin}</td>
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
              <span className="mono">{a.signer_name}</span>
              {a.signer_change_from != null && (
                <span className="badge warn small signer-changed" title={`signer changed: previously ${a.signer_change_from}`}>
                  signer changed
                </span>
              )}
              <div className="mono small muted">{a.signer_fingerprint}</div>
            </td>
            <td>{statusBadge(a)}</td>
          </tr>
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
            <span className="mono">{a.origin}</span>: signer changes at sequence {String(a.sequence)}:{' '}
            <span className="mono">{a.signer_change_from}</span> → <span className="mono">{a.signer_name}</span>{' '}
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

function ArchiveDetailPanel({ id, onClose }: { id: number; onClose: () => void }) {
  const { showError, settings } = useApp();
  const [detail, setDetail] = useState<ArchiveDetail | null>(null);
  const panel = useRef<HTMLElement>(null);
  useEffect(() => {
    setDetail(null);
    backend
      .archiveDetail(id)
      .then((d) => {
        setDetail(d);
        requestAnimationFrame(() => panel.current?.scrollIntoView({ block: 'start', behavior: 'smooth' }));
      })
      .catch(showError);
  }, [id, showError]);
  if (!detail) return <aside className="detail" aria-busy="true">Loading…</aside>;
  const a = detail.archive;
  const f = detail.failure;
  const zone = settings.time_zone;
  return (
    <aside className="detail" id="archive-detail" ref={panel} aria-label={`Archive ${a.origin}@${a.sequence}`}>
      <div className="toolbar">
        <h2>
          <span className="mono">{a.origin}</span> · sequence {String(a.sequence)}
        </h2>
        <div className="spacer" />
        <button className="link" onClick={onClose}>
          Close
        </button>
      </div>
      <h3>Verification report</h3>
      <dl className="fields">
        <dt>Status</dt>
        <dd>
          {statusBadge(a)}{' '}
          {a.status === 'verified'
            ? 'signature, manifest, every event, Merkle root and hash chain verified under a trusted key at import'
            : a.status === 'untrusted'
              ? 'valid signature by a key that was not trusted; its events are never shown as verified'
              : 'did not verify; kept flagged, its events are never shown as verified'}
        </dd>
        {f && <FailureFields failure={f} />}
        <dt>Signer</dt>
        <dd>
          <span className="mono">{a.signer_name}</span> <span className="mono small">{a.signer_fingerprint}</span>
          <div className="mono small wrap muted key">{a.signer_key}</div>
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
          {formatCount(Number(a.events))} ({formatBytes(Number(a.bytes))}) · source {a.source_kind}
        </dd>
        <dt>Time range</dt>
        <dd>
          {a.time_first ? `${formatTime(a.time_first, zone)} → ${formatTime(a.time_last, zone)}` : 'no event has a time'}
        </dd>
        {detail.declared_time_range && (
          <>
            <dt>Declared range</dt>
            <dd className="small">
              {detail.declared_time_range.first} → {detail.declared_time_range.last} (manifest, as written)
            </dd>
          </>
        )}
        <dt>Imported</dt>
        <dd>{formatTime(a.imported_at, zone)}</dd>
        <dt>File</dt>
        <dd className="mono small wrap">{a.path}</dd>
      </dl>
      <h3>Signed checkpoint</h3>
      <pre className="code" id="archive-checkpoint">{detail.checkpoint ?? '(not stored)'}</pre>
      <h3>Manifest</h3>
      <pre className="code" id="archive-manifest">{detail.manifest ? reindentJson(detail.manifest) : '(not stored)'}</pre>
    </aside>
  );
}
