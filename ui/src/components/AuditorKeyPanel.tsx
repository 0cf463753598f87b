// The auditor's own signing key: it signs every evidence bundle exported from this app. Shows the key in use
// (name and fingerprint, to give to whoever checks the bundles), or lets the auditor create one (kept in the
// app-data folder, readable by its owner only) or choose a .key file made by `auditlens keygen`.

import { useCallback, useEffect, useState } from 'react';

import { backend } from '../backend';
import type { AuditorKey } from '../backend';

/** Every mounted panel, told when the key changes in one of them (the Keyring screen and the export dialog). */
const listeners = new Set<(key: AuditorKey | null) => void>();

export function useAuditorKey() {
  const [key, setOwnKey] = useState<AuditorKey | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const listener = (k: AuditorKey | null) => live && setOwnKey(k);
    listeners.add(listener);
    backend.auditorKey().then(
      (k) => live && setOwnKey(k),
      (e) => {
        if (!live) return;
        setOwnKey(null);
        setError(e.message);
      },
    );
    return () => {
      live = false;
      listeners.delete(listener);
    };
  }, []);
  const setKey = useCallback((k: AuditorKey | null) => listeners.forEach((l) => l(k)), []);
  return { key, setKey, error, setError };
}

export function AuditorKeyPanel({
  auditor,
  compact = false,
}: {
  auditor: ReturnType<typeof useAuditorKey>;
  compact?: boolean;
}) {
  const { key, setKey, error, setError } = auditor;
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [changing, setChanging] = useState(false);

  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      setKey(await backend.createAuditorKey(name.trim()));
      setName('');
      setChanging(false);
    } catch (e) {
      setError((e as { message: string }).message);
    } finally {
      setBusy(false);
    }
  };
  const choose = async () => {
    setError(null);
    try {
      const path = await backend.pickAuditorKeyFile();
      if (!path) return;
      setKey(await backend.chooseAuditorKey(path));
      setChanging(false);
    } catch (e) {
      setError((e as { message: string }).message);
    }
  };

  if (key === undefined) return <p className="muted">Reading your auditor key…</p>;
  return (
    <div className="auditor-key" id="auditor-key">
      {key && (
        <dl className={compact ? 'fields compact' : 'fields'}>
          <dt>Signed by</dt>
          <dd>
            <span className="mono" id="auditor-name">{key.name}</span>{' '}
            <span className="mono fingerprint-inline" id="auditor-fingerprint">{key.fingerprint}</span>
          </dd>
          {!compact && (
            <>
              <dt>Public key</dt>
              <dd className="mono small wrap key" id="auditor-public">{key.key}</dd>
              <dt>Key file</dt>
              <dd className="mono small wrap">
                {key.path}
                {key.created_in_app ? ' (created here, readable by you only)' : ''}
              </dd>
            </>
          )}
        </dl>
      )}
      {key && !changing && (
        <button className="link" onClick={() => setChanging(true)} id="auditor-change">
          Use another key…
        </button>
      )}
      {(!key || changing) && (
        <div className="auditor-create">
          {!key && (
            <p className="muted small">
              Bundles are signed with your own key, so that recipients can tell who exported them. Create one here
              (kept in the app-data folder, readable by you only) or choose a <span className="mono">.key</span> file
              made by <span className="mono">auditlens keygen</span>.
            </p>
          )}
          <div className="inline-form">
            <label htmlFor="auditor-new-name">Key name</label>
            <input
              id="auditor-new-name"
              className="mono"
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder="e.g. jane.doe-audit"
              spellCheck={false}
              autoComplete="off"
            />
            <button className="primary" onClick={create} disabled={busy || name.trim() === ''} id="auditor-create">
              {busy ? 'Creating…' : 'Create key'}
            </button>
            <button onClick={choose} id="auditor-choose">
              Choose a .key file…
            </button>
            {changing && <button onClick={() => setChanging(false)}>Keep the current key</button>}
          </div>
        </div>
      )}
      {error && (
        <div className="banner error" role="alert" id="auditor-error">
          {error}
        </div>
      )}
    </div>
  );
}
