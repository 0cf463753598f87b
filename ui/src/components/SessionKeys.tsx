// Keys given with --trust on the command line are trusted for this session only: this banner asks whether to
// save each to the keyring of the open engagement (or the app's), or to keep it for this session.

import { useState } from 'react';

import { backend, toAppError } from '../backend';
import type { TrustedKey } from '../backend';
import { useApp } from '../app-context';

export function SessionKeys() {
  const { startup, setKeys } = useApp();
  const [keys, setSessionKeys] = useState<TrustedKey[]>(startup.session_keys);
  const [dismissed, setDismissed] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (dismissed || keys.length === 0) return null;
  const where = startup.engagement ? `the keyring of ${startup.engagement.name}` : "the app's keyring";
  const save = async (k: TrustedKey) => {
    setError(null);
    try {
      await backend.saveSessionKey(k.fingerprint);
      setSessionKeys(await backend.sessionKeys());
      setKeys(await backend.keys());
    } catch (e) {
      setError(toAppError(e).message);
    }
  };
  return (
    <div className="banner warn session-keys" role="status" id="session-keys">
      <div className="banner-text">
        Trusted for this session only (given with <span className="mono">--trust</span>); save to {where}?{' '}
        <ul className="plain-list inline-list">
          {keys.map((k) => (
            <li key={k.fingerprint} data-fingerprint={k.fingerprint}>
              <strong>{k.name}</strong> <span className="mono small">{k.fingerprint}</span>{' '}
              <button className="session-key-save" onClick={() => void save(k)}>
                Save to keyring
              </button>
            </li>
          ))}
        </ul>
        {error && <div className="small">{error}</div>}
      </div>
      <button className="link" id="session-keys-dismiss" onClick={() => setDismissed(true)}>
        Keep for this session only
      </button>
    </div>
  );
}
