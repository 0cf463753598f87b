// Engagements: one folder per audit engagement (client, audit period), with its own database, working papers
// and keyring. The dialog shows the open one, opens a recent one or another folder, and creates a new one; a
// switch reloads the window onto the other engagement's data and keys.

import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';

import { backend, toAppError } from '../backend';
import type { EngagementsView } from '../backend';
import { Modal } from './Modal';

export function EngagementDialog({ onClose, onSwitched }: { onClose: () => void; onSwitched: () => void }) {
  const [view, setView] = useState<EngagementsView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [openPath, setOpenPath] = useState('');
  const [folder, setFolder] = useState('');
  const [name, setName] = useState('');
  const [client, setClient] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');

  useEffect(() => {
    backend.engagements().then(setView, (e) => setError(toAppError(e).message));
  }, []);

  const run = async (action: () => Promise<EngagementsView>) => {
    setError(null);
    setBusy(true);
    try {
      await action();
      onSwitched();
    } catch (e) {
      setError(toAppError(e).message);
      setBusy(false);
    }
  };
  const create = (e: FormEvent) => {
    e.preventDefault();
    const period = from.trim() || to.trim() ? { from: from.trim(), to: to.trim(), silence: '24h' } : null;
    void run(() => backend.createEngagement(folder, name, client, period));
  };
  const browse = async (set: (p: string) => void) => {
    const p = await backend.pickEngagementFolder().catch(() => null);
    if (p) set(p);
  };
  const current = view?.current ?? null;

  return (
    <Modal title="Engagements" onClose={onClose} id="engagement-dialog">
      <p className="muted small">
        An engagement keeps one client&apos;s evidence, your working papers and the keys you trust for it in a
        folder of its own: keys trusted in one engagement are never trusted in another.
      </p>
      <h3>Open now</h3>
      {current ? (
        <dl className="fields compact" id="engagement-current">
          <dt>Name</dt>
          <dd>{current.name}</dd>
          <dt>Client</dt>
          <dd>{current.client || '—'}</dd>
          <dt>Audit period</dt>
          <dd>{current.period ? `${current.period.from} to ${current.period.to}` : 'not set'}</dd>
          <dt>Folder</dt>
          <dd className="mono small wrap">{current.folder}</dd>
        </dl>
      ) : (
        <p id="engagement-current">No engagement: a plain database with the app&apos;s own keyring.</p>
      )}
      {view && view.recent.length > 0 && (
        <>
          <h3>Recent</h3>
          <ul className="plain-list" id="engagement-recent">
            {view.recent.map((r) => (
              <li key={r.folder} data-folder={r.folder}>
                {r.engagement ? (
                  <>
                    <strong>{r.engagement.name}</strong> {r.engagement.client && <span>({r.engagement.client})</span>}{' '}
                    <span className="muted small mono">{r.folder}</span>{' '}
                    {current?.folder === r.folder ? (
                      <span className="badge neutral small">open</span>
                    ) : (
                      <button className="link" disabled={busy} onClick={() => void run(() => backend.openEngagement(r.folder))}>
                        Open
                      </button>
                    )}
                  </>
                ) : (
                  <>
                    <span className="mono small">{r.folder}</span> <span className="small warn-text">{r.problem}</span>
                  </>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
      <h3>Open an engagement folder</h3>
      <form
        className="papers-row"
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => backend.openEngagement(openPath));
        }}
      >
        <label htmlFor="engagement-open-path" className="visually-hidden">
          Engagement folder
        </label>
        <input
          id="engagement-open-path"
          value={openPath}
          onChange={(e) => setOpenPath(e.target.value)}
          placeholder="folder holding engagement.json"
          spellCheck={false}
        />
        <button type="button" onClick={() => void browse(setOpenPath)}>
          Browse…
        </button>
        <button type="submit" id="engagement-open" disabled={busy || !openPath.trim()}>
          Open
        </button>
      </form>
      <h3>New engagement</h3>
      <form onSubmit={create} className="engagement-form" id="engagement-new">
        <label>
          Name <input id="engagement-name" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
        </label>
        <label>
          Client <input id="engagement-client" value={client} onChange={(e) => setClient(e.target.value)} maxLength={200} />
        </label>
        <label>
          Audit period from <input id="engagement-from" value={from} onChange={(e) => setFrom(e.target.value)} placeholder="2026-01-01" />
        </label>
        <label>
          to <input id="engagement-to" value={to} onChange={(e) => setTo(e.target.value)} placeholder="2026-07-01" />
        </label>
        <label>
          Folder{' '}
          <input
            id="engagement-folder"
            value={folder}
            onChange={(e) => setFolder(e.target.value)}
            placeholder="a new or empty folder"
            spellCheck={false}
          />
        </label>
        <div className="papers-row">
          <button type="button" onClick={() => void browse(setFolder)}>
            Browse…
          </button>
          <button className="primary" type="submit" id="engagement-create" disabled={busy || !name.trim() || !folder.trim()}>
            Create and open
          </button>
        </div>
      </form>
      {error && (
        <div className="banner error" role="alert" id="engagement-error">
          {error}
        </div>
      )}
      <div className="actions">
        <button onClick={onClose}>Close</button>
      </div>
    </Modal>
  );
}
