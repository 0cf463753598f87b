// An AWS CloudTrail export (the trail's S3 folder copied to a disk, or a ZIP or tar of it), verified offline against
// AWS's own signed digests (docs/cloudtrail.md): the auditor gives the public keys (`aws cloudtrail
// list-public-keys`), optionally a file of digest signatures and the audited accounts, and reads the same report as
// `auditlens verify`. "Verify and import" verifies it the same way and, only when it verifies in full, imports its
// events (one archive per trail and region, origin `aws-cloudtrail:ACCOUNT/REGION/TRAIL`, labelled "signed by AWS
// CloudTrail"); an export that fails stores nothing and its failures are listed as the verification lists them.
// Every name in the report and the import comes from the export: shown through safeText, as text.

import { useEffect, useState } from 'react';

import { useApp } from '../app-context';
import { backend } from '../backend';
import type { AppError, CloudTrailCheck, CloudTrailImport, CloudTrailStep } from '../backend';
import { countOf } from '../format/numbers';
import { safeText } from '../format/safeText';
import { baseName } from '../imports';
import { Modal } from './Modal';
import { ProgressBar } from './ProgressBar';

/** The accounts typed by the auditor: 12-digit numbers separated by spaces or commas. */
export function parseAccounts(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((a) => a.trim())
    .filter((a) => a !== '');
}

/** An AWS key file (the JSON `aws cloudtrail list-public-keys` prints) dropped on the dialog. */
const isKeyFile = (p: string) => /\.json$/i.test(p);

/** A verification report to show: a check's, with `auditlens verify`'s text, or a failed import's (no text). */
type Shown = Omit<CloudTrailCheck, 'text'> & { text: string[] | null };

export function CloudTrailDialog({ path, onClose }: { path: string; onClose: () => void }) {
  const { refreshDb, setDropTarget, openSearch, navigate } = useApp();
  const [keys, setKeys] = useState<string[]>([]);
  const [signatures, setSignatures] = useState<string | null>(null);
  const [accounts, setAccounts] = useState('');
  // What runs: a verification alone, or a verification and import.
  const [running, setRunning] = useState<'verify' | 'import' | null>(null);
  const busy = running !== null;
  const [error, setError] = useState<string | null>(null);
  const [check, setCheck] = useState<Shown | null>(null);
  const [imported, setImported] = useState<CloudTrailImport | null>(null);
  // How far a running import has got (log files checked, then stored).
  const [step, setStep] = useState<CloudTrailStep | null>(null);

  // While the dialog is open, JSON files dropped on the window are its AWS keys (as if chosen with "Choose keys…");
  // anything else dropped is handled as usual.
  useEffect(() => {
    setDropTarget((paths) => {
      const dropped = paths.filter(isKeyFile);
      if (dropped.length > 0) setKeys((k) => [...k, ...dropped.filter((c) => !k.includes(c))]);
      return paths.filter((p) => !isKeyFile(p));
    });
    return () => setDropTarget(null);
  }, [setDropTarget]);
  const chooseKeys = () =>
    backend
      .pickJson('AWS CloudTrail public keys (aws cloudtrail list-public-keys)', true)
      .then((chosen) => chosen.length > 0 && setKeys((k) => [...k, ...chosen.filter((c) => !k.includes(c))]))
      .catch((e: AppError) => setError(e.message));
  const chooseSignatures = () =>
    backend
      .pickJson('Digest signatures ({"<digest S3 key>": "<hex>"})', false)
      .then((chosen) => chosen.length > 0 && setSignatures(chosen[0]))
      .catch((e: AppError) => setError(e.message));
  const run = async () => {
    setRunning('verify');
    setError(null);
    setCheck(null);
    setImported(null);
    try {
      setCheck(await backend.verifyCloudtrail(path, keys, signatures, parseAccounts(accounts)));
    } catch (e) {
      setError((e as AppError).message);
    } finally {
      setRunning(null);
    }
  };
  const runImport = async () => {
    setRunning('import');
    setError(null);
    setCheck(null);
    setImported(null);
    setStep(null);
    try {
      const r = await backend.importCloudtrail(path, keys, signatures, parseAccounts(accounts), setStep);
      setImported(r);
      // A failed import stored nothing: its report says why, listed as a verification lists it.
      if (r.outcome === 'failed') setCheck({ path: r.path, report: r.report, text: null });
      // Stored events: Archives, Search and the dashboards read the database again.
      if (r.outcome === 'imported') refreshDb();
    } catch (e) {
      setError((e as AppError).message);
    } finally {
      setRunning(null);
      setStep(null);
    }
  };
  const failures = check ? [...check.report.chains.flatMap((c) => c.failures), ...check.report.failures] : [];

  return (
    <Modal title="AWS CloudTrail export" onClose={busy ? () => undefined : onClose} id="cloudtrail-dialog">
      <div className="modal-body">
        <div className="mono small wrap" id="cloudtrail-path">
          {safeText(path)}
        </div>
        <div className="banner receipt-explain" role="note" id="cloudtrail-explain">
          <p>
            AWS signs a CloudTrail export itself: a digest file per region and hour lists the SHA-256 of every log
            file and links to the previous digest. AuditLens checks all of it <strong>offline</strong>: each digest&apos;s
            signature with AWS&apos;s public keys, the chain, gaps, moved or missing digests, and every log file&apos;s
            hash.
          </p>
          <p className="small">
            Only an export that verifies in full is imported; its events then appear in search and dashboards
            labelled &quot;signed by AWS CloudTrail&quot;, and the AWS keys are kept next to the keyring so that
            &quot;Re-check database&quot; can re-verify the stored digests. (The same check on the command line:{' '}
            <span className="mono">auditlens verify --aws-keys KEYS.json</span>.)
          </p>
        </div>

        <h3>AWS public keys</h3>
        <div className="muted small">
          The JSON <span className="mono">aws cloudtrail list-public-keys</span> prints, for the period of the export:
          choose it, or drop it on this dialog.
        </div>
        {keys.length > 0 && (
          <ul className="plain" id="cloudtrail-keys">
            {keys.map((k) => (
              <li key={k} className="mono small">
                {safeText(baseName(k))}{' '}
                <button className="link" onClick={() => setKeys(keys.filter((x) => x !== k))} disabled={busy}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
        <div className="inline-form">
          <button onClick={chooseKeys} disabled={busy} id="cloudtrail-choose-keys">
            Choose keys…
          </button>
          <button onClick={chooseSignatures} disabled={busy} id="cloudtrail-choose-signatures">
            {signatures ? `Signatures: ${safeText(baseName(signatures))}` : 'Digest signatures (optional)…'}
          </button>
        </div>
        <label htmlFor="cloudtrail-accounts" className="field-label">
          Audited AWS accounts{' '}
          <span className="muted small">
            (12 digits each; a trail of any other account then fails: AWS&apos;s signature proves what an account
            logged, not which one you audit)
          </span>
        </label>
        <input
          id="cloudtrail-accounts"
          className="mono"
          value={accounts}
          onChange={(e) => setAccounts(e.target.value)}
          placeholder="111122223333"
          spellCheck={false}
          autoComplete="off"
          disabled={busy}
        />

        {error && (
          <div className="banner error pre-text" role="alert" id="cloudtrail-error">
            {safeText(error)}
          </div>
        )}
        {running === 'import' && step && <ImportProgress step={step} />}
        {imported && (
          <ImportResult
            result={imported}
            onSearch={(query) => {
              onClose();
              openSearch(query);
            }}
            onArchives={() => {
              onClose();
              navigate({ name: 'archives' });
            }}
          />
        )}
        {check && (
          <div id="cloudtrail-result" data-verified={String(check.report.verified)}>
            <div className={check.report.verified ? 'banner good' : 'banner error'} role="status" id="cloudtrail-verdict">
              <strong>{check.report.verified ? 'Verified.' : 'Not verified.'}</strong>{' '}
              {check.report.verified
                ? 'Every digest and log file checked against AWS’s signatures.'
                : `${failures.length} ${failures.length === 1 ? 'failure' : 'failures'}; each is listed below.`}
            </div>
            <table className="table compact" id="cloudtrail-chains">
              <thead>
                <tr>
                  <th>Trail</th>
                  <th>Account</th>
                  <th>Region</th>
                  <th>Digests verified</th>
                  <th>Hours</th>
                  <th>Log files verified</th>
                  <th>Not yet covered</th>
                </tr>
              </thead>
              <tbody>
                {check.report.chains.map((c, i) => (
                  <tr key={i}>
                    <td className="mono">
                      {safeText(c.trail)}
                      {c.backfill && <span className="badge small">backfill digests</span>}
                    </td>
                    <td className="mono">{safeText(c.account)}</td>
                    <td className="mono">{safeText(c.region)}</td>
                    <td>
                      {String(c.digests_verified)} of {String(c.digests_found)}
                    </td>
                    <td>{String(c.hours_spanned)}</td>
                    <td>
                      {String(c.log_files_verified)} of {String(c.log_files_listed)}
                    </td>
                    <td>{String(c.log_files_not_yet_covered)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {failures.length > 0 && (
              <ul className="plain" id="cloudtrail-failures">
                {failures.map((f, i) => (
                  <li key={i} className="small">
                    <span className="badge bad small">{f.kind}</span> <span className="mono">{safeText(f.file)}</span>
                    <div>{safeText(f.detail)}</div>
                    {(f.expected != null || f.found != null) && (
                      <div className="mono small muted">
                        expected {safeText(f.expected ?? '—')}, found {safeText(f.found ?? '—')}
                      </div>
                    )}
                  </li>
                ))}
              </ul>
            )}
            {check.text && (
              <details>
                <summary>The report as text</summary>
                <pre className="mono small" id="cloudtrail-text">
                  {check.text.map((l) => safeText(l)).join('\n')}
                </pre>
              </details>
            )}
          </div>
        )}
      </div>
      <div className="actions">
        <button onClick={onClose} disabled={busy} id="cloudtrail-close">
          Close
        </button>
        <button onClick={run} disabled={busy || keys.length === 0} id="cloudtrail-verify">
          {running === 'verify' ? 'Verifying…' : 'Verify offline'}
        </button>
        <button className="primary" onClick={runImport} disabled={busy || keys.length === 0} id="cloudtrail-import">
          {running === 'import' ? 'Verifying and importing…' : 'Verify and import'}
        </button>
      </div>
    </Modal>
  );
}

/** What "Verify and import" did: its message, and per trail and region what was stored under which origin. */
/** How far a running import has got: every listed log file is checked against its digest, then stored. */
function ImportProgress({ step }: { step: CloudTrailStep }) {
  const [phase, s] =
    'verifying' in step
      ? (['Verifying log files', step.verifying] as const)
      : (['Storing log files', step.storing] as const);
  return (
    <div className="progress-block" id="cloudtrail-progress">
      <ProgressBar done={s.done} total={s.total} label={phase} />
      <div className="progress-text small">
        {phase}: {s.done.toLocaleString('en-US')} of {s.total.toLocaleString('en-US')}
        {'storing' in step && `, ${step.storing.events.toLocaleString('en-US')} events stored`}
      </div>
    </div>
  );
}

/** The query selecting one origin's events: the origin quoted, as it is compared exactly. */
export function originQuery(origin: string): string {
  return `origin:"${origin.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function ImportResult({
  result,
  onSearch,
  onArchives,
}: {
  result: CloudTrailImport;
  onSearch: (query: string) => void;
  onArchives: () => void;
}) {
  const ok = result.outcome === 'imported' || result.outcome === 'already-imported';
  // Only `imported` stored something; `already-imported` changed nothing but the export is in the database; anything
  // else stored nothing, and the backend's message says why.
  const head =
    result.outcome === 'imported' ? 'Imported:' : result.outcome === 'already-imported' ? 'Already in the database:' : 'Failed:';
  return (
    <div id="cloudtrail-import-result" data-outcome={result.outcome}>
      <div className={ok ? 'banner good' : 'banner error'} role="status" id="cloudtrail-import-message">
        <div>
          <strong>{head}</strong> <span className="pre-text">{safeText(result.message)}</span>
        </div>
      </div>
      {result.trails.length > 0 && (
        <ul className="plain cloudtrail-trails" id="cloudtrail-import-trails">
          {result.trails.map((t, i) => (
            <li key={i} className="small" data-origin={t.origin} data-outcome={t.outcome}>
              <span className="mono">{safeText(t.origin)}</span>:{' '}
              {countOf(t.events, 'event')}, {countOf(t.log_files, 'log file')}
              {t.log_files_already_stored > 0 && ` (${countOf(t.log_files_already_stored, 'log file')} already stored)`},{' '}
              {countOf(t.digests, 'signed digest')}
              {t.parse_errors > 0 && (
                <span className="warn-text">, {countOf(t.parse_errors, 'event')} not parsed (kept as text)</span>
              )}
              <div className="evidence-label">{safeText(t.label)}</div>
              {t.message && <div className="muted">{safeText(t.message)}</div>}
              {ok && (
                <button className="link" onClick={() => onSearch(originQuery(t.origin))}>
                  Search its events
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {ok && (
        <button className="link" id="cloudtrail-show-archives" onClick={onArchives}>
          Show on Archives (hourly digests)
        </button>
      )}
    </div>
  );
}
