// An AWS CloudTrail export (the trail's S3 folder copied to a disk, or a ZIP or tar of it), verified offline against
// AWS's own signed digests (docs/cloudtrail.md): the auditor gives the public keys (`aws cloudtrail
// list-public-keys`), optionally a file of digest signatures and the audited accounts, and reads the same report as
// `auditlens verify`. Nothing is imported: importing a CloudTrail export into the database is not built yet, and the
// dialog says so. Every name in the report comes from the export: shown through safeText, as text.

import { useState } from 'react';

import { backend } from '../backend';
import type { AppError, CloudTrailCheck } from '../backend';
import { safeText } from '../format/safeText';
import { baseName } from '../imports';
import { Modal } from './Modal';

/** The accounts typed by the auditor: 12-digit numbers separated by spaces or commas. */
export function parseAccounts(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((a) => a.trim())
    .filter((a) => a !== '');
}

export function CloudTrailDialog({ path, onClose }: { path: string; onClose: () => void }) {
  const [keys, setKeys] = useState<string[]>([]);
  const [signatures, setSignatures] = useState<string | null>(null);
  const [accounts, setAccounts] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [check, setCheck] = useState<CloudTrailCheck | null>(null);

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
    setBusy(true);
    setError(null);
    setCheck(null);
    try {
      setCheck(await backend.verifyCloudtrail(path, keys, signatures, parseAccounts(accounts)));
    } catch (e) {
      setError((e as AppError).message);
    } finally {
      setBusy(false);
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
            Importing a CloudTrail export into the database is not built yet: verify it here (or with{' '}
            <span className="mono">auditlens verify --aws-keys KEYS.json</span>); to search its events, seal its log
            files on receipt (&quot;Import unsigned logs&quot;), which proves less.
          </p>
        </div>

        <h3>AWS public keys</h3>
        <div className="muted small">
          The JSON <span className="mono">aws cloudtrail list-public-keys</span> prints, for the period of the export.
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
                    <td className="mono">{safeText(c.trail)}</td>
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
            <details>
              <summary>The report as text</summary>
              <pre className="mono small" id="cloudtrail-text">
                {check.text.map((l) => safeText(l)).join('\n')}
              </pre>
            </details>
          </div>
        )}
      </div>
      <div className="actions">
        <button onClick={onClose} disabled={busy}>
          Close
        </button>
        <button className="primary" onClick={run} disabled={busy || keys.length === 0} id="cloudtrail-verify">
          {busy ? 'Verifying…' : 'Verify offline'}
        </button>
      </div>
    </Modal>
  );
}
