// Keyring: the trusted signing keys (name, fingerprint, date added), add one by pasting its key string or from a
// .pub file, remove one. Also the auditor's own signing key (for exported bundles) and where the database file is chosen.

import { useState } from 'react';

import { backend } from '../backend';
import type { TrustedKey } from '../backend';
import { useApp } from '../app-context';
import { AuditorKeyPanel, useAuditorKey } from '../components/AuditorKeyPanel';
import { EmptyState } from '../components/EmptyState';
import { formatCount } from '../format/numbers';
import { safeText } from '../format/safeText';
import { formatTime } from '../format/time';

export function KeyringScreen() {
  const { keys, setKeys, showError, settings, db, refreshDb } = useApp();
  const [text, setText] = useState('');
  const [message, setMessage] = useState<{ tone: 'good' | 'error'; text: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const auditor = useAuditorKey();

  const added = (key: TrustedKey, isNew: boolean) => {
    if (isNew) setKeys([...keys, key]);
    setMessage({
      tone: 'good',
      text: isNew
        ? `Now trusting ${safeText(key.name)} (${key.fingerprint}).`
        : `${safeText(key.name)} was already trusted.`,
    });
  };
  const addPasted = async () => {
    setMessage(null);
    try {
      const r = await backend.trustKey(text);
      added(r.key, r.added);
      setText('');
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
      added(r.key, r.added);
    } catch (e) {
      setMessage({ tone: 'error', text: (e as { message: string }).message });
    }
  };
  const remove = async (fingerprint: string) => {
    try {
      setKeys(await backend.untrustKey(fingerprint));
      setConfirming(null);
      setMessage({ tone: 'good', text: 'Key removed. Archives it signs will no longer import as verified.' });
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
        An archive counts as verified only when its signature is by one of these keys. Archives signed by any other key
        are reported as “untrusted key” and not imported.
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
              <th>Added ({settings.time_zone === 'utc' ? 'UTC' : 'local'})</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.fingerprint} data-fingerprint={k.fingerprint}>
                <td className="mono">{safeText(k.name)}</td>
                <td>
                  <div className="mono">{k.fingerprint}</div>
                  <div className="mono small muted wrap key">{safeText(k.key)}</div>
                </td>
                <td className="small">{formatTime(k.added, settings.time_zone, 0)}</td>
                <td className="actions-cell">
                  {confirming === k.fingerprint ? (
                    <>
                      <button className="danger" onClick={() => remove(k.fingerprint)}>
                        Remove {safeText(k.name)}
                      </button>
                      <button onClick={() => setConfirming(null)}>Keep</button>
                    </>
                  ) : (
                    <button onClick={() => setConfirming(k.fingerprint)}>Remove…</button>
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
          {formatCount(Number(db.archives))} archives, {formatCount(Number(db.events))} events
        </dd>
      </dl>
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
