// Asks before trusting a signer's key: shows its name and fingerprint, to compare with the key's owner, and what
// the trust covers: the archive's origin (editable: end it with * to cover every origin starting with it) and an
// optional window of sealing times. A key is always trusted for origins, never for everything at once.

import { useState } from 'react';

import { Modal } from './Modal';
import { safeText } from '../format/safeText';

export interface KeyToTrust {
  key: string;
  name: string;
  fingerprint: string;
}

/** What the user grants: an origin pattern and an optional window (dates or RFC 3339 times, empty for none). */
export interface GrantChoice {
  origins: string;
  validAfter: string | null;
  validBefore: string | null;
}

/** The grant's origin pattern as typed, or why it cannot be one (the backend checks it again). */
export function checkOrigins(text: string): string | null {
  const t = text.trim();
  if (t === '') return 'Give the origin (or a prefix ending with *) this key may sign.';
  if (t.slice(0, -1).includes('*')) return 'A * is only allowed once, at the end (a prefix).';
  return null;
}

export function TrustDialog({
  signer,
  origin,
  reason,
  onConfirm,
  onCancel,
  busy,
}: {
  signer: KeyToTrust;
  /** The archive's origin, offered as the grant's origins. */
  origin: string;
  /** Why the archive is not trusted now (the verifier's words). */
  reason?: string | null;
  onConfirm: (grant: GrantChoice) => void;
  onCancel: () => void;
  busy: boolean;
}) {
  const [origins, setOrigins] = useState(origin);
  const [validAfter, setValidAfter] = useState('');
  const [validBefore, setValidBefore] = useState('');
  const problem = checkOrigins(origins);
  const confirm = () =>
    onConfirm({
      origins: origins.trim(),
      validAfter: validAfter.trim() === '' ? null : validAfter.trim(),
      validBefore: validBefore.trim() === '' ? null : validBefore.trim(),
    });
  return (
    <Modal title="Trust this signing key?" onClose={onCancel} id="trust-dialog">
      <p>
        Archives signed by this key for the origins below will count as verified. Trust it only if you have checked its
        fingerprint with the key's owner, over a channel you trust.
      </p>
      {reason && (
        <p className="muted small" id="trust-reason">
          Now: {reason}
        </p>
      )}
      <dl className="fields">
        <dt>Name</dt>
        <dd className="mono" id="trust-name">{safeText(signer.name)}</dd>
        <dt>Fingerprint</dt>
        <dd className="mono fingerprint" id="trust-fingerprint">{signer.fingerprint}</dd>
        <dt>Key</dt>
        <dd className="mono small wrap key">{safeText(signer.key)}</dd>
      </dl>
      <div className="grant-fields">
        <label htmlFor="trust-origins">For origins</label>
        <input
          id="trust-origins"
          className="mono"
          value={origins}
          onChange={(e) => setOrigins(e.target.value)}
          spellCheck={false}
          aria-describedby="trust-origins-help"
        />
        <div className="muted small" id="trust-origins-help">
          This archive's origin. To cover every origin that starts with it, end it with <span className="mono">*</span>{' '}
          (for example <span className="mono">corp.example/prod/*</span>).
        </div>
        <label htmlFor="trust-valid-after">Sealed from (optional)</label>
        <input
          id="trust-valid-after"
          className="mono"
          value={validAfter}
          placeholder="YYYY-MM-DD"
          onChange={(e) => setValidAfter(e.target.value)}
        />
        <label htmlFor="trust-valid-before">Sealed before (optional)</label>
        <input
          id="trust-valid-before"
          className="mono"
          value={validBefore}
          placeholder="YYYY-MM-DD"
          onChange={(e) => setValidBefore(e.target.value)}
        />
      </div>
      {problem && (
        <div className="banner error small" role="alert" id="trust-origins-problem">
          {problem}
        </div>
      )}
      <div className="actions">
        <button onClick={onCancel} disabled={busy} data-autofocus>
          Cancel
        </button>
        <button className="primary" id="trust-confirm" onClick={confirm} disabled={busy || problem !== null}>
          {busy ? 'Trusting…' : `Trust for ${origins.trim()} and re-import`}
        </button>
      </div>
    </Modal>
  );
}
