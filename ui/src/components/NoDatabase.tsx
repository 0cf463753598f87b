// Shown instead of the app when the database chosen at start-up cannot be opened (a store from a newer AuditLens,
// an unreadable file): says which and why, and offers another database. Nothing here touches the refused file.

import { useState } from 'react';

import { backend, toAppError } from '../backend';
import type { AppError } from '../backend';

export function NoDatabase({ error, onOpened }: { error: AppError; onOpened: () => void }) {
  const [problem, setProblem] = useState<string | null>(null);
  const choose = async (mode: 'open' | 'new' | 'default') => {
    setProblem(null);
    try {
      const path = mode === 'default' ? null : await backend.pickDatabase(mode);
      if (mode !== 'default' && !path) return;
      await backend.chooseDatabase(path);
      onOpened();
    } catch (e) {
      setProblem(toAppError(e).message);
    }
  };
  return (
    <main className="fatal" role="alert" id="no-database">
      <h1>AuditLens cannot open this database</h1>
      <p id="no-database-reason">{error.message}</p>
      <p>The file was left as it is. Choose the database to open instead:</p>
      <div className="toolbar">
        <button type="button" id="no-database-default" onClick={() => void choose('default')}>
          Open the default database
        </button>
        <button type="button" id="no-database-open" onClick={() => void choose('open')}>
          Open another database…
        </button>
        <button type="button" id="no-database-new" onClick={() => void choose('new')}>
          New database…
        </button>
      </div>
      {problem && (
        <p className="banner error" role="alert" id="no-database-problem">
          {problem}
        </p>
      )}
    </main>
  );
}
