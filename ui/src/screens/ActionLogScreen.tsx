// The auditor's action log: every import, trust decision, re-check, export and change to the working papers,
// oldest first, hash chained (docs/working-papers.md section 3). The chain is re-computed each time the screen
// is shown; a broken link names the entry with the expected and found hash. "Export…" writes it as JSON Lines
// (`auditlens log --file` checks such a copy). Subjects and details can hold text from archives (paths, reasons):
// rendered as text.

import { useCallback, useEffect, useState } from 'react';

import { backend, toAppError } from '../backend';
import type { ActionLog, AppError, LogCheck } from '../backend';
import { useApp } from '../app-context';
import { formatCount } from '../format/numbers';
import { safeText } from '../format/safeText';
import { formatTime } from '../format/time';

export function ActionLogScreen({ visible }: { visible: boolean }) {
  const { settings, dataVersion } = useApp();
  const [log, setLog] = useState<ActionLog | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [exported, setExported] = useState<{ out: string; check: LogCheck } | { failed: string } | null>(null);
  const load = useCallback(() => {
    setError(null);
    backend.actionLog().then(setLog, setError);
  }, []);
  useEffect(() => {
    if (visible) load();
  }, [visible, load, dataVersion]);

  const exportLog = async () => {
    try {
      const out = await backend.pickActionLogOut();
      if (!out) return;
      const check = await backend.exportActionLog(out);
      setExported({ out, check });
      load();
    } catch (e) {
      setExported({ failed: toAppError(e).message });
    }
  };

  const check = log?.check;
  return (
    <div className="log-screen" id="action-log">
      <div className="toolbar">
        <h1>Action log</h1>
        <span className="spacer" />
        <button id="action-log-refresh" onClick={load}>
          Check again
        </button>
        <button id="action-log-export" onClick={() => void exportLog()} disabled={!log || log.entries.length === 0}>
          Export…
        </button>
      </div>
      <p className="muted small">
        What you did with this database: imports, trust decisions, re-checks, exports and every change to your
        working papers. Each entry carries the hash of the one before it, so an entry changed, removed or reordered
        later breaks the chain. Entries removed from the end are caught against a head you exported or signed.
      </p>
      {error && (
        <div className="banner error" role="alert">
          {error.message}
        </div>
      )}
      {exported && (
        <div className={'failed' in exported ? 'banner error' : 'banner good'} role="status" id="action-log-exported">
          <span className="banner-text">
            {'failed' in exported ? (
              exported.failed
            ) : (
              <>
                Wrote {formatCount(exported.check.entries)} entries to <span className="mono">{exported.out}</span>;
                head <span className="mono small">{exported.check.head}</span>
              </>
            )}
          </span>
          <button className="link" onClick={() => setExported(null)}>
            Dismiss
          </button>
        </div>
      )}
      {check && (
        <div
          className={check.problems.length === 0 ? 'banner good' : 'banner error'}
          id="action-log-status"
          data-ok={check.problems.length === 0}
          role={check.problems.length === 0 ? 'status' : 'alert'}
        >
          {check.problems.length === 0 ? (
            <span className="banner-text">
              <span className="badge good">Chain whole</span> {formatCount(check.entries)}{' '}
              {Number(check.entries) === 1 ? 'entry' : 'entries'}
              {check.head && (
                <>
                  ; head <span className="mono small">{check.head}</span>
                </>
              )}
            </span>
          ) : (
            <div className="banner-text">
              <span className="badge bad">CHAIN BROKEN</span> {formatCount(check.problems.length)}{' '}
              {check.problems.length === 1 ? 'problem' : 'problems'}: the log was changed after it was written.
              <ul id="action-log-problems">
                {check.problems.map((p, i) => (
                  <li key={i}>
                    Entry {String(p.seq)}: {p.problem}; expected <span className="mono small">{p.expected}</span>, found{' '}
                    <span className="mono small">{safeText(p.found)}</span>
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>
      )}
      {log && log.entries.length === 0 && <p className="muted">Nothing yet: import an archive to begin.</p>}
      {log && log.entries.length > 0 && (
        <table className="table" id="action-log-table">
          <thead>
            <tr>
              <th>#</th>
              <th>When</th>
              <th>Action</th>
              <th>Subject</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {[...log.entries].reverse().map((e) => (
              <tr key={String(e.seq)} data-seq={String(e.seq)}>
                <td>{String(e.seq)}</td>
                <td className="nowrap">{formatTime(e.at, settings.time_zone)}</td>
                <td className="nowrap">{safeText(e.action)}</td>
                <td className="mono small wrap">{safeText(e.subject)}</td>
                <td className="small wrap pre-line">{safeText(e.detail)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
