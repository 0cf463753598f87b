// Import: drop archives anywhere on the window or pick them; one card per archive with its progress (events, MB,
// rate, ETA), a cancel button, and its result: verified, failed with the verifier's exact reason, already imported,
// refused, or signed by a key not trusted for the archive's origin: the reason, and "trust this key for <origin>"
// (which asks first when the key is new to the keyring, shows the origin in an editable field, then imports again).
// "Import unsigned logs…" (and a dropped file that is not a ZIP) opens the dialog that seals log files on receipt
// with the auditor's key; such an archive's card says "Sealed on receipt" and its label, never just "Verified".

import { useEffect, useRef, useState } from 'react';

import { backend } from '../backend';
import type { ImportResult, TrustOutcome } from '../backend';
import { useApp } from '../app-context';
import { FailureFields } from '../components/FailureFields';
import { ProgressBar } from '../components/ProgressBar';
import { CloudTrailDialog } from '../components/CloudTrailDialog';
import { ReceiveDialog } from '../components/ReceiveDialog';
import { TrustDialog, checkOrigins } from '../components/TrustDialog';
import type { GrantChoice, KeyToTrust } from '../components/TrustDialog';
import { baseName } from '../imports';
import type { ImportItem } from '../imports';
import { formatCount, formatDuration, formatElapsed, formatMB, rateAndEta, untimedText } from '../format/numbers';
import { safeText } from '../format/safeText';

/** A request to trust an archive's signer: the key, the archive's origin and why it is not trusted now. */
export interface TrustRequest {
  signer: KeyToTrust;
  origin: string;
  reason: string | null;
  path: string;
}

/** Words for the kept archives a grant promoted (or could not). */
function promotedText(outcome: TrustOutcome): string | null {
  if (outcome.promoted.length === 0) return null;
  return outcome.promoted.map((p) => p.message).join(' ');
}

export function ImportScreen() {
  const { imports, startImport, cancelImport, showError, setKeys, keys, receiveRequest, cloudtrailRequest } = useApp();
  const [trusting, setTrusting] = useState<TrustRequest | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  // The "Import unsigned logs" dialog, with the files it starts with (none from the button; the dropped, picked or
  // command-line files that are not ZIPs otherwise). `seq` remounts it for each request.
  const [receiving, setReceiving] = useState<{ paths: string[]; seq: number } | null>(null);
  const handledReceive = useRef(0);
  useEffect(() => {
    if (!receiveRequest || receiveRequest.seq === handledReceive.current) return;
    handledReceive.current = receiveRequest.seq;
    setReceiving((r) => ({ paths: receiveRequest.paths, seq: (r?.seq ?? 0) + 1 }));
  }, [receiveRequest]);
  // The CloudTrail export dialog, for a dropped, picked or command-line export.
  const [cloudtrail, setCloudtrail] = useState<{ path: string; seq: number } | null>(null);
  const handledCloudtrail = useRef(0);
  useEffect(() => {
    if (!cloudtrailRequest || cloudtrailRequest.seq === handledCloudtrail.current) return;
    handledCloudtrail.current = cloudtrailRequest.seq;
    setCloudtrail({ path: cloudtrailRequest.path, seq: cloudtrailRequest.seq });
  }, [cloudtrailRequest]);

  const pick = () => backend.pickArchives().then(startImport).catch(showError);
  // A CloudTrail export is a folder (a ZIP or tar of one is picked as a file): it opens its dialog like a drop.
  const pickCloudtrail = () =>
    backend
      .pickCloudtrailFolder()
      .then((folder) => folder && startImport([folder]))
      .catch(showError);
  const grant = async (req: TrustRequest, choice: GrantChoice) => {
    setBusy(true);
    try {
      const outcome = await backend.grantKey(req.signer.key, choice.origins, choice.validAfter, choice.validBefore);
      if (outcome.added) setKeys([...keys, outcome.key]);
      setNotice(promotedText(outcome));
      // Imported again: this archive, and every other one shown as not trusted with the same signer (the new grant
      // may cover them too; those it does not cover now say why).
      const others = imports
        .filter(
          (i) =>
            i.path !== req.path &&
            i.result?.outcome === 'untrusted' &&
            i.result.report.signer?.fingerprint === req.signer.fingerprint,
        )
        .map((i) => i.path)
        .reverse();
      startImport([req.path, ...others]);
      setTrusting(null);
    } catch (e) {
      showError(e);
    } finally {
      setBusy(false);
    }
  };
  const knownKey = (fingerprint: string) => keys.some((k) => k.fingerprint === fingerprint);

  const runningJobs = [...new Set(imports.filter((i) => i.state === 'running' || i.state === 'waiting').map((i) => i.job))];

  return (
    <div className="import-screen">
      <div className={imports.length === 0 ? 'dropzone big' : 'dropzone'} id="dropzone">
        <div className="dropzone-title">Drop a signed audit archive here</div>
        <div className="dropzone-sub">
          Drop archive files anywhere on this window, or{' '}
          <button className="primary" id="pick-archives" onClick={pick}>
            Choose files…
          </button>
        </div>
        <div className="dropzone-sub receive-entry">
          Log files nobody signed (plain or gzip): drop them here too, or{' '}
          <button
            id="receive-open"
            onClick={() => setReceiving((r) => ({ paths: [], seq: (r?.seq ?? 0) + 1 }))}
            title="Seal log files on receipt with your auditor key and import them: proves no change since receipt, not authenticity at the source"
          >
            Import unsigned logs…
          </button>
        </div>
        <div className="dropzone-sub cloudtrail-entry">
          An AWS CloudTrail export (the trail&apos;s S3 folder, verified against AWS&apos;s own signatures): drop the
          folder, or{' '}
          <button id="pick-cloudtrail" onClick={pickCloudtrail}>
            Choose a CloudTrail export…
          </button>
        </div>
        {imports.length === 0 && (
          <p className="hint" id="import-empty">
            Each archive is verified (signature, Merkle root, hash chain, every event) before anything is stored. An
            archive signed by a key that is not in your keyring is shown here with the key's fingerprint, so you can
            decide to trust it. Archives named on the command line (<span className="mono">auditlens-app ARCHIVE…</span>)
            are imported here when the app starts.
          </p>
        )}
      </div>
      {notice && (
        <div className="banner" role="status" id="promoted-message">
          {notice}
        </div>
      )}
      {runningJobs.length > 0 && (
        <div className="toolbar">
          {runningJobs.map((job) => (
            <button key={job} className="danger" onClick={() => cancelImport(job)} id={`cancel-job-${job}`}>
              Cancel import
            </button>
          ))}
        </div>
      )}
      {imports.length > 0 && (
        <ul className="cards" id="import-list" aria-label="Imports">
          {imports.map((item) => (
            <ImportCard
              key={item.key}
              item={item}
              knownKey={knownKey}
              busy={busy}
              onTrust={(req) => setTrusting(req)}
              onGrant={grant}
            />
          ))}
        </ul>
      )}
      {trusting && (
        <TrustDialog
          signer={trusting.signer}
          origin={trusting.origin}
          reason={trusting.reason}
          busy={busy}
          onConfirm={(choice) => grant(trusting, choice)}
          onCancel={() => setTrusting(null)}
        />
      )}
      {cloudtrail && (
        <CloudTrailDialog key={cloudtrail.seq} path={cloudtrail.path} onClose={() => setCloudtrail(null)} />
      )}
      {receiving && (
        <ReceiveDialog
          key={receiving.seq}
          initialPaths={receiving.paths}
          // Closes this dialog only (a later request, dropped while these files were being sealed, stays open).
          onClose={() => setReceiving((r) => (r?.seq === receiving.seq ? null : r))}
        />
      )}
    </div>
  );
}

function outcomeBadge(item: ImportItem): { text: string; tone: string } {
  if (item.state === 'waiting') return { text: 'Waiting', tone: 'neutral' };
  if (item.state === 'running') return { text: 'Verifying…', tone: 'neutral' };
  if (item.state === 'cancelled') return { text: 'Cancelled', tone: 'neutral' };
  if (item.state === 'failed') return { text: 'Could not import', tone: 'bad' };
  // Sealed on receipt: the signature is the auditor's own, made when the files arrived; never just "verified".
  const received = item.result?.report.received != null;
  switch (item.result?.outcome) {
    case 'imported':
      return received ? { text: 'Sealed on receipt', tone: 'receipt' } : { text: 'Verified', tone: 'good' };
    case 'already-imported':
      return received
        ? { text: 'Sealed on receipt · already imported', tone: 'receipt' }
        : { text: 'Verified · already imported', tone: 'good' };
    case 'refused':
      return { text: 'Verified · refused', tone: 'bad' };
    case 'untrusted':
      return { text: 'Not trusted', tone: 'warn' };
    case 'failed':
      return { text: 'Failed verification', tone: 'bad' };
    default:
      return { text: 'Cancelled', tone: 'neutral' };
  }
}

interface TrustActions {
  /** Whether the keyring already holds a grant of this key (for other origins). */
  knownKey: (fingerprint: string) => boolean;
  busy: boolean;
  /** Opens the trust dialog (a key new to the keyring: its fingerprint is shown first). */
  onTrust: (req: TrustRequest) => void;
  /** Grants at once (a key already in the keyring, for one more origin). */
  onGrant: (req: TrustRequest, choice: GrantChoice) => void;
}

function ImportCard({ item, ...actions }: { item: ImportItem } & TrustActions) {
  const badge = outcomeBadge(item);
  const r = item.result;
  return (
    <li className={`card import-card tone-${badge.tone}`} data-path={item.path} data-outcome={r?.outcome ?? item.state}>
      <div className="card-head">
        <span className={`badge ${badge.tone}`}>{badge.text}</span>
        <span className="card-title" title={item.path}>
          {safeText(baseName(item.path))}
        </span>
      </div>
      <div className="card-path mono small">{safeText(item.path)}</div>
      {item.state === 'running' && item.progress && <Progress item={item} progress={item.progress} />}
      {item.state === 'running' && !item.progress && <div className="muted small">Checking the signature…</div>}
      {item.error && <p className="reason">{safeText(item.error.message)}</p>}
      {r && <ResultDetails result={r} elapsedMs={item.elapsedMs} {...actions} />}
    </li>
  );
}

function Progress({ item, progress: p }: { item: ImportItem; progress: NonNullable<ImportItem['progress']> }) {
  const done = Number(p.events_done);
  const total = Number(p.events_total);
  const { rate, eta } = rateAndEta(done, total, item.elapsedMs);
  return (
    <div className="progress-block">
      <ProgressBar done={done} total={total} label={`Import of ${baseName(item.path)}`} />
      <div className="progress-text small">
        {formatCount(done)} / {formatCount(total)} events · {formatMB(Number(p.bytes_done))} /{' '}
        {formatMB(Number(p.bytes_total))} · {formatCount(Math.round(rate))} events/s · ETA {formatDuration(eta)}
      </div>
    </div>
  );
}

function ResultDetails({
  result,
  elapsedMs,
  ...actions
}: {
  result: ImportResult;
  elapsedMs: number;
} & TrustActions) {
  const rep = result.report;
  const f = rep.failure;
  const known = rep.signer ? actions.knownKey(rep.signer.fingerprint) : false;
  return (
    <div className="result">
      <p className="result-message">
        {result.outcome === 'untrusted'
          ? known
            ? 'The signature is valid, but the signing key is not trusted for this origin, so nothing was imported.'
            : 'The signature is valid, but the signing key is not in your keyring, so nothing was imported.'
          : result.outcome === 'failed'
            ? 'This archive did not verify; nothing was imported.'
            : safeText(result.message)}
      </p>
      {f && result.outcome === 'failed' && (
        <dl className="fields failure" aria-label="Why verification failed">
          <FailureFields failure={f} />
        </dl>
      )}
      <dl className="fields compact">
        {rep.origin && (
          <>
            <dt>Origin</dt>
            <dd className="mono">
              {safeText(rep.origin)} · sequence {String(rep.sequence)}
            </dd>
          </>
        )}
        {result.lookalikes.length > 0 && (
          <>
            <dt>Look-alike</dt>
            <dd className="warn-text lookalike-warning">
              This origin looks like {result.lookalikes.map((o) => `“${safeText(o)}”`).join(' and ')}, already in this
              database: they differ only in case, Unicode form or invisible characters. Origins are compared exactly,
              so these are different logs.
            </dd>
          </>
        )}
        {rep.events != null && (
          <>
            <dt>Events</dt>
            <dd>
              {formatCount(Number(rep.events))}
              {result.outcome === 'imported' &&
                ` (${rep.received ? 'checked' : 'verified'} and stored in ${formatElapsed(elapsedMs)})`}
            </dd>
          </>
        )}
        {rep.parse_errors != null && rep.parse_errors > 0 && (
          <>
            <dt>Not parsed</dt>
            <dd className="warn-text not-parsed-count">
              {formatCount(Number(rep.parse_errors))} verified events are not JSON objects the parser reads: stored as
              raw text marked “not parsed”, found by text search.
            </dd>
          </>
        )}
        {result.untimed && (
          <>
            <dt>No time</dt>
            <dd className="warn-text untimed-count">
              {safeText(untimedText(result.untimed))}. They are in no time filter, histogram or time-bounded figure
              (time rules: docs/sources.md section 2).
            </dd>
          </>
        )}
        {rep.received && (
          <>
            <dt>Received</dt>
            <dd className="received-files">
              <ul className="plain">
                {rep.received.files.map((f, i) => (
                  <li key={i}>
                    <span className="mono">{safeText(f.name)}</span>{' '}
                    <span className="muted small">
                      {formatCount(Number(f.bytes))} bytes · SHA-256 <span className="mono">{f.sha256}</span>
                      {f.entry === null && ' · held no event'}
                    </span>
                  </li>
                ))}
              </ul>
            </dd>
          </>
        )}
        {rep.signer && (
          <>
            <dt>{rep.received ? 'Sealed by' : 'Signer'}</dt>
            <dd>
              <span className="mono">{safeText(rep.signer.name)}</span> <span className="mono small">{safeText(rep.signer.fingerprint)}</span>
              {rep.signer.trusted ? ' (trusted)' : known ? ' (not trusted for this origin)' : ' (not in your keyring)'}
            </dd>
            {rep.signer.trust_reason && (
              <>
                <dt>Trust</dt>
                <dd className="trust-reason">{rep.signer.trust_reason}</dd>
              </>
            )}
          </>
        )}
        {result.gap_before != null && (
          <>
            <dt>Continuity</dt>
            <dd className="warn-text">A gap: the sequence just before {String(result.gap_before)} is not in this database.</dd>
          </>
        )}
      </dl>
      {result.outcome === 'untrusted' && rep.signer && rep.origin != null && (
        <TrustAction
          request={{ signer: rep.signer, origin: rep.origin, reason: rep.signer.trust_reason ?? null, path: result.path }}
          known={known}
          {...actions}
        />
      )}
    </div>
  );
}

/** The action on a result whose signer is not trusted for its origin: a key already in the keyring is granted for
 * the origin in one click (the field can be turned into a prefix first); a new key opens the dialog that shows its
 * fingerprint. */
function TrustAction({ request, known, busy, onTrust, onGrant }: { request: TrustRequest; known: boolean } & TrustActions) {
  const [origins, setOrigins] = useState(request.origin);
  if (!known) {
    return (
      <div className="actions left">
        <button className="primary trust-button" onClick={() => onTrust(request)}>
          Trust this key for {request.origin}…
        </button>
        <span className="muted small">Shows the key's fingerprint and asks before trusting it.</span>
      </div>
    );
  }
  const problem = checkOrigins(origins);
  return (
    <div className="grant-inline">
      <label className="visually-hidden" htmlFor={`grant-origins-${request.path}`}>
        Origins to trust this key for
      </label>
      <input
        id={`grant-origins-${request.path}`}
        className="mono grant-origins"
        value={origins}
        onChange={(e) => setOrigins(e.target.value)}
        spellCheck={false}
      />
      <button
        className="primary grant-button"
        disabled={busy || problem !== null}
        onClick={() => onGrant(request, { origins: origins.trim(), validAfter: null, validBefore: null })}
      >
        Trust this key for {origins.trim()}
      </button>
      <button className="link grant-more" onClick={() => onTrust({ ...request, origin: origins.trim() })}>
        With a time window…
      </button>
      {problem && <span className="warn-text small">{problem}</span>}
    </div>
  );
}
