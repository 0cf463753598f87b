// Asks before trusting a signer's key: shows its name and fingerprint, to compare with the key's owner.

import { Modal } from './Modal';
import { safeText } from '../format/safeText';

export interface KeyToTrust {
  key: string;
  name: string;
  fingerprint: string;
}

export function TrustDialog({
  signer,
  onConfirm,
  onCancel,
  busy,
}: {
  signer: KeyToTrust;
  onConfirm: () => void;
  onCancel: () => void;
  busy: boolean;
}) {
  return (
    <Modal title="Trust this signing key?" onClose={onCancel} id="trust-dialog">
      <p>
        Archives signed by this key will count as verified. Trust it only if you have checked its fingerprint with the
        key's owner, over a channel you trust.
      </p>
      <dl className="fields">
        <dt>Name</dt>
        <dd className="mono" id="trust-name">{safeText(signer.name)}</dd>
        <dt>Fingerprint</dt>
        <dd className="mono fingerprint" id="trust-fingerprint">{signer.fingerprint}</dd>
        <dt>Key</dt>
        <dd className="mono small wrap key">{safeText(signer.key)}</dd>
      </dl>
      <div className="actions">
        <button onClick={onCancel} disabled={busy} data-autofocus>
          Cancel
        </button>
        <button className="primary" id="trust-confirm" onClick={onConfirm} disabled={busy}>
          {busy ? 'Trusting…' : 'Trust and re-import'}
        </button>
      </div>
    </Modal>
  );
}
