// "Import unsigned logs": log files nobody signed (a plain or gzip audit log copied from a control plane, an audit
// log download) are sealed on receipt with the auditor's own key into one archive of an origin the auditor names,
// that key is trusted for exactly that origin, and the archive is imported (docs/archive-format.md section 4.1).
// The dialog says plainly what that proves and what it does not: such evidence is labelled "sealed on receipt by
// NAME (FINGERPRINT) at TIME: proves no change since receipt, not authenticity at the source" everywhere, never
// just "verified". File names come from the auditee's side: they are shown through safeText, as text.

import { useState } from 'react';

import { backend } from '../backend';
import type { AppError, ImportEvent } from '../backend';
import { useApp } from '../app-context';
import { isHiddenCodePoint, safeText } from '../format/safeText';
import { baseName } from '../imports';
import { AuditorKeyPanel, useAuditorKey } from './AuditorKeyPanel';
import { Modal } from './Modal';

/** What sealing on receipt proves, in the words every door shows (the library's `RECEIPT_MEANING`). */
export const RECEIPT_MEANING = 'proves no change since receipt, not authenticity at the source';

/** The origin offered for `paths`: `received/` and the first file's base name without its extension (and without
 * `.gz` before that), e.g. `received/audit` for `/tmp/audit.log.gz`. */
export function defaultOrigin(paths: string[]): string {
  if (paths.length === 0) return '';
  let name = baseName(paths[0]).replace(/\.gz$/i, '');
  const dot = name.lastIndexOf('.');
  if (dot > 0) name = name.slice(0, dot);
  // Characters an origin may not hold (controls, invisible or reordering characters, `*`) are left out.
  name = Array.from(name)
    .filter((c) => c !== '*' && !isHiddenCodePoint(c.codePointAt(0) as number))
    .join('')
    .trim();
  return `received/${name || 'logs'}`;
}

/** Why `origin` cannot name received files, or null (the backend checks it again): one line, no `*`, no control
 * characters, no surrounding spaces; and here, no invisible or reordering character either (origins are compared
 * exactly: one would make a look-alike of another). */
export function checkReceiveOrigin(origin: string): string | null {
  if (origin === '') return 'Name the origin of these files (for example received/k8s-prod).';
  if (origin.trim() !== origin) return 'The origin may not start or end with a space.';
  if (origin.includes('*')) return 'The origin may not hold a * (the key is trusted for exactly this origin).';
  if (Array.from(origin).some((c) => isHiddenCodePoint(c.codePointAt(0) as number))) {
    return `The origin must be one line without control or invisible characters: ${safeText(origin)}`;
  }
  if (new TextEncoder().encode(origin).length > 1024) return 'The origin is longer than 1,024 bytes.';
  return null;
}

export function ReceiveDialog({ initialPaths, onClose }: { initialPaths: string[]; onClose: () => void }) {
  const { onImportEvent, setKeys } = useApp();
  const [paths, setPaths] = useState<string[]>(initialPaths);
  const [origin, setOrigin] = useState(defaultOrigin(initialPaths));
  const [originEdited, setOriginEdited] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [skipped, setSkipped] = useState<string[]>([]);
  const auditor = useAuditorKey();

  const setFiles = (next: string[]) => {
    setPaths(next);
    if (!originEdited) setOrigin(defaultOrigin(next));
  };

  const choose = async () => {
    setError(null);
    try {
      const chosen = await backend.pickLogs();
      if (chosen.length === 0) return;
      // A ZIP (a signed archive or an evidence bundle) is not a log to seal: it is imported or opened as it is.
      const kinds = await backend.fileKinds(chosen).catch(() => chosen.map(() => 'unsigned' as const));
      const logs = chosen.filter((_, i) => kinds[i] === 'unsigned');
      setSkipped(chosen.filter((_, i) => kinds[i] !== 'unsigned'));
      setFiles([...paths, ...logs.filter((p) => !paths.includes(p))]);
    } catch (e) {
      setError((e as AppError).message);
    }
  };

  const problem = checkReceiveOrigin(origin);
  const ready = paths.length > 0 && problem === null && !!auditor.key && !busy;

  const run = async () => {
    setBusy(true);
    setError(null);
    // Every event goes to the import list; the dialog stays open while the files are sealed, closes once the
    // archive is being imported (its card shows the progress and the result), and shows why when the files could
    // not be sealed (no auditor key, a file that cannot be read, a bad origin).
    let open = true;
    const onEvent = (ev: ImportEvent) => {
      onImportEvent(ev);
      if (ev.kind === 'failed') {
        if (open) {
          setError(ev.error.message);
          setBusy(false);
        }
      } else if (ev.kind === 'progress' || ev.kind === 'finished' || (ev.kind === 'done' && ev.cancelled)) {
        if (ev.kind === 'finished') {
          // The auditor's key is now trusted for this origin: the keyring changed.
          backend.keys().then(setKeys, () => undefined);
        }
        if (open) {
          open = false;
          onClose();
        }
      }
    };
    try {
      await backend.receiveFiles(paths, origin, onEvent);
    } catch (e) {
      setError((e as AppError).message);
      setBusy(false);
    }
  };

  const key = auditor.key;
  return (
    // While the files are being sealed the dialog stays open (the work runs off the main thread).
    <Modal title="Import unsigned logs" onClose={busy ? () => undefined : onClose} id="receive-dialog">
      <div className="modal-body">
        <div className="banner warn receipt-explain" id="receive-explain" role="note">
          <p>
            These files are not signed by whoever produced them. AuditLens can <strong>seal them on receipt</strong>:
            sign them as they are now, with your own auditor key, into one archive of the origin below, and import it.
          </p>
          <p>
            <strong>What it proves:</strong> that the events have not changed since you received them.{' '}
            <strong>What it does not prove:</strong> who wrote them, or that they were complete and genuine when they
            reached you.
          </p>
          <p className="small">
            Everywhere in AuditLens they are labelled{' '}
            <span className="mono">
              sealed on receipt by {key ? `${safeText(key.name)} (${key.fingerprint})` : 'KEY (FINGERPRINT)'} at TIME:{' '}
              {RECEIPT_MEANING}
            </span>
            , never just “verified”. Your key is trusted for exactly this origin, nothing else.
          </p>
        </div>

        <h3>Files</h3>
        {paths.length === 0 ? (
          <p className="muted" id="receive-no-files">
            No file yet: choose the log files (plain or gzip) to seal.
          </p>
        ) : (
          <ul className="plain receive-files" id="receive-files">
            {paths.map((p) => (
              <li key={p} data-path={p}>
                <span className="mono wrap">{safeText(p)}</span>{' '}
                <button
                  className="link"
                  onClick={() => setFiles(paths.filter((q) => q !== p))}
                  disabled={busy}
                  aria-label={`Remove ${safeText(baseName(p))}`}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
        <div className="inline-form">
          <button onClick={choose} disabled={busy} id="receive-choose">
            Choose files…
          </button>
          {skipped.length > 0 && (
            <span className="warn-text small" id="receive-skipped">
              Not added (a ZIP: import it with Choose files… on the Import screen):{' '}
              {skipped.map((p) => safeText(baseName(p))).join(', ')}
            </span>
          )}
        </div>

        <label htmlFor="receive-origin" className="field-label">
          Origin <span className="muted small">(the log these files are; your key is trusted for exactly it)</span>
        </label>
        <input
          id="receive-origin"
          className="mono receive-origin"
          value={origin}
          onChange={(e) => {
            setOrigin(e.target.value);
            setOriginEdited(true);
          }}
          spellCheck={false}
          autoComplete="off"
          disabled={busy}
        />
        {problem && paths.length > 0 && (
          <div className="warn-text small" id="receive-origin-problem">
            {problem}
          </div>
        )}
        <div className="muted small">
          Files received later for the same origin continue its chain (the next sequence).
        </div>

        <h3>Sealed with your auditor key</h3>
        {key === null && (
          <div className="banner error small" role="alert" id="receive-no-key">
            <div>
              No auditor key yet: received files are sealed with it. Create one below, or choose your{' '}
              <span className="mono">.key</span> file.
            </div>
          </div>
        )}
        <AuditorKeyPanel auditor={auditor} compact />
      </div>
      {error && (
        <div className="banner error pre-text" role="alert" id="receive-error">
          {safeText(error)}
        </div>
      )}
      <div className="actions">
        <button onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button className="primary" onClick={run} disabled={!ready} id="receive-confirm">
          {busy ? 'Sealing…' : `Seal on receipt and import ${paths.length === 1 ? '1 file' : `${paths.length} files`}`}
        </button>
      </div>
    </Modal>
  );
}
