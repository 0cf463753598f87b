// Keyring: every grant (key name, fingerprint, the origins it may sign, its window of sealing times, date added);
// add a key by pasting its key string or from a .pub file, for every origin (pinned to the first signer of each) or
// for an origin pattern; remove one grant. Also the auditor's own signing key (for exported bundles) and where the database file is chosen.

import { useState } from 'react';

import { backend } from '../backend';
import type { Demotion, TrustedKey, TrustOutcome } from '../backend';
import { useApp } from '../app-context';
import { AuditorKeyPanel, useAuditorKey } from '../components/AuditorKeyPanel';
import { EmptyState } from '../components/EmptyState';
import { countOf, formatCount } from '../format/numbers';
import { safeText } from '../format/safeText';
import { formatTime } from '../format/time';

/** One grant's identity (a key may hold several grants: one per origin pattern and window). */
export function grantId(k: TrustedKey): string {
  return [k.fingerprint, k.pinned ? 'pinned' : 'grant', k.origins, k.valid_after ?? '', k.valid_before ?? ''].join('\n');
}

/** A grant's origins in words. */
export function grantOrigins(k: TrustedKey): string {
  return k.pinned ? 'any origin, pinned to the first signer of each' : k.origins;
}

/** A grant's window of sealing times in words (UTC, as stored). */
export function grantWindow(k: TrustedKey): string {
  if (k.valid_after && k.valid_before) return `sealed from ${k.valid_after} until ${k.valid_before}`;
  if (k.valid_after) return `sealed from ${k.valid_after}`;
  if (k.valid_before) return `sealed before ${k.valid_before}`;
  return 'at any time';
}

/** Words for what removing `grant` did to the stored archives: the verified ones it alone trusted are demoted. */
export function demotedText(grant: TrustedKey, demoted: Demotion[]): string {
  const future = `Archives of ${grantOrigins(grant)} signed by ${safeText(grant.name)} will no longer import as verified through it.`;
  const archives = demoted.filter((d) => d.archive_id !== 0);
  const problems = demoted.filter((d) => d.archive_id === 0).map((d) => safeText(d.message));
  if (archives.length === 0) return [future, ...problems].join(' ');
  const listed = archives
    .slice(0, 5)
    .map((d) => `${safeText(d.origin)} #${d.sequence}`)
    .join(', ');
  const more = archives.length > 5 ? ` and ${formatCount(archives.length - 5)} more` : '';
  return [
    future,
    `${countOf(archives.length, 'stored archive')} it vouched for ${archives.length === 1 ? 'is' : 'are'} no longer counted as verified (${listed}${more}): they are kept as untrusted, and trusting the key again re-verifies them.`,
    ...problems,
  ].join(' ');
}

export function KeyringScreen() {
  const { keys, setKeys, showError, settings, db, refreshDb } = useApp();
  const [text, setText] = useState('');
  const [origins, setOrigins] = useState('');
  const [validAfter, setValidAfter] = useState('');
  const [validBefore, setValidBefore] = useState('');
  const [message, setMessage] = useState<{ tone: 'good' | 'error'; text: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const auditor = useAuditorKey();

  const added = (r: TrustOutcome) => {
    const key = r.key;
    if (r.added) setKeys([...keys, key]);
    if (r.promoted.some((p) => p.promoted)) refreshDb();
    const promoted = r.promoted.map((p) => p.message).join(' ');
    setMessage({
      tone: 'good',
      text:
        (r.added
          ? `Now trusting ${safeText(key.name)} (${key.fingerprint}) for ${grantOrigins(key)}, ${grantWindow(key)}.`
          : `${safeText(key.name)} was already trusted for ${grantOrigins(key)}.`) + (promoted ? ` ${promoted}` : ''),
    });
  };
  const addPasted = async () => {
    setMessage(null);
    try {
      const o = origins.trim();
      const r =
        o === '' && validAfter.trim() === '' && validBefore.trim() === ''
          ? await backend.trustKey(text)
          : await backend.grantKey(text, o === '' ? '*' : o, validAfter.trim() || null, validBefore.trim() || null);
      added(r);
      setText('');
      setOrigins('');
      setValidAfter('');
      setValidBefore('');
    } catch (e) {
      setMessage({ tone: 'error', text: (e as { message: string }).message });
    }
  };
  const addFile = async () => {
    setMessage(null);
    try {
      const path = await backend.pickKeyFile();
      if (!path) return;
      const r = await backend.trustKeyFile(path);
      added(r);
    } catch (e) {
      setMessage({ tone: 'error', text: (e as { message: string }).message });
    }
  };
  const remove = async (grant: TrustedKey) => {
    try {
      const r = await backend.untrustGrant(grant);
      setKeys(r.keys);
      setConfirming(null);
      setMessage({ tone: 'good', text: `Grant removed. ${demotedText(grant, r.demoted)}` });
      if (r.demoted.length > 0) refreshDb();
    } catch (e) {
      showError(e);
    }
  };
  const chooseDb = async (mode: 'open' | 'new' | 'default') => {
    try {
      const path = mode === 'default' ? null : await backend.pickDatabase(mode);
      if (mode !== 'default' && !path) return;
      await backend.chooseDatabase(path);
      refreshDb();
    } catch (e) {
      showError(e);
    }
  };

  return (
    <div className="keyring-screen">
      <h1>Trusted keys</h1>
      <p className="muted">
        An archive counts as verified only when its signature is by a key granted for its origin, for the time it was
        sealed. A key added for any origin is pinned to the first signer of each origin: a second signer of an origin
        needs a grant for that origin. Archives signed otherwise are reported as not trusted and not imported. Removing
        a grant takes the stored archives it alone trusted out of the verified counts.
      </p>
      {keys.length === 0 ? (
        <EmptyState title="No trusted key yet" id="keyring-empty">
          Paste a signer's verifier key below (the one line of its <span className="mono">.pub</span> file, made by{' '}
          <span className="mono">auditlens keygen</span>), add it from the file, or trust a key from an import result.
        </EmptyState>
      ) : (
        <table className="table" id="keys-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Fingerprint</th>
              <th>Origins</th>
              <th>Window</th>
              <th>Added ({settings.time_zone === 'utc' ? 'UTC' : 'local'})</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={grantId(k)} data-fingerprint={k.fingerprint} data-origins={k.origins} className="grant-row">
                <td className="mono">{safeText(k.name)}</td>
                <td>
                  <div className="mono">{k.fingerprint}</div>
                  <div className="mono small muted wrap key">{safeText(k.key)}</div>
                </td>
                <td className={k.pinned ? 'small grant-origins' : 'mono grant-origins'}>{grantOrigins(k)}</td>
                <td className="small grant-window">{grantWindow(k)}</td>
                <td className="small">{formatTime(k.added, settings.time_zone, 0)}</td>
                <td className="actions-cell">
                  {confirming === grantId(k) ? (
                    <>
                      <button className="danger remove-confirm" onClick={() => remove(k)}>
                        Remove {safeText(k.name)}
                      </button>
                      <button onClick={() => setConfirming(null)}>Keep</button>
                    </>
                  ) : (
                    <button className="remove-grant" onClick={() => setConfirming(grantId(k))}>
                      Remove…
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Add a key</h2>
      <div className="add-key">
        <label htmlFor="key-text" className="visually-hidden">
          Verifier key
        </label>
        <textarea
          id="key-text"
          className="mono"
          rows={2}
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="name+1a2b3c4d+AbCdEf…  (the content of NAME.pub)"
          spellCheck={false}
        />
        <div className="grant-fields">
          <label htmlFor="key-origins">For origins (optional)</label>
          <input
            id="key-origins"
            className="mono"
            value={origins}
            onChange={(e) => setOrigins(e.target.value)}
            placeholder="every origin, pinned to its first signer — or corp.example/prod/*"
            spellCheck={false}
          />
          <label htmlFor="key-valid-after">Sealed from (optional)</label>
          <input
            id="key-valid-after"
            className="mono"
            value={validAfter}
            onChange={(e) => setValidAfter(e.target.value)}
            placeholder="YYYY-MM-DD"
          />
          <label htmlFor="key-valid-before">Sealed before (optional)</label>
          <input
            id="key-valid-before"
            className="mono"
            value={validBefore}
            onChange={(e) => setValidBefore(e.target.value)}
            placeholder="YYYY-MM-DD"
          />
        </div>
        <div className="actions left">
          <button className="primary" onClick={addPasted} disabled={text.trim() === ''} id="add-key">
            Trust this key
          </button>
          <button onClick={addFile} id="add-key-file">
            From a .pub file…
          </button>
        </div>
        {message && (
          <div className={`banner ${message.tone}`} role={message.tone === 'error' ? 'alert' : 'status'} id="key-message">
            {message.text}
          </div>
        )}
      </div>
      <h2>Your auditor key</h2>
      <p className="muted">
        Signs the evidence bundles you export (who exported them, when and why). Give its fingerprint or public key to
        the people who will check your bundles; it does not make anything count as verified here.
      </p>
      <AuditorKeyPanel auditor={auditor} />
      <h2>Database</h2>
      <dl className="fields">
        <dt>File</dt>
        <dd className="mono wrap">{db.path}</dd>
        <dt>Holds</dt>
        <dd>
          {countOf(db.archives, 'archive')}, {countOf(db.events, 'event')}
        </dd>
      </dl>
      {db.upgrade && (
        <div className="banner" role="status" id="db-upgrade-detail">
          {db.upgrade}
        </div>
      )}
      <div className="actions left">
        <button onClick={() => chooseDb('open')}>Open a database…</button>
        <button onClick={() => chooseDb('new')}>New database…</button>
        <button onClick={() => chooseDb('default')} disabled={db.is_default}>
          Use the default database
        </button>
      </div>
      {db.from_command_line && (
        <p className="muted small">This database was given with --db for this run; the saved choice is not changed.</p>
      )}
    </div>
  );
}
