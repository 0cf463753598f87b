// Component tests of the whole window with the IPC mocked (@tauri-apps/api/mocks): the states that are hard to
// reach in the real app (start-up failure, every error path, empty screens) and what must hold whatever the data
// (hostile text stays text, errors point at their column, untrusted keys ask before being trusted).

import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, onTestFinished } from 'vitest';

import { App } from './App';
import { ROW_HEIGHT } from './components/ResultsTable';
import type { EventDetail, ImportEvent, ImportResult } from './backend';
import { basics, isListening, mockBackend, startup } from './test/mock-backend';
import { renderApp } from './test/render-app';

const partnerKey = 'e2e-partner+234a6216+Af0XJDhaoMdbZPt4zWAvodmR/ev3axPFjtcC6sg16fYY';
const partnerFingerprint = 'SHA256:K8A6drfuQpteSAbu2hJLjFmLztaqMJYoWyHaWLVPg0M';

function result(change: Partial<ImportResult>, report: Partial<ImportResult['report']> = {}): ImportResult {
  const path = change.path ?? '/data/a.zip';
  return {
    path,
    outcome: 'imported',
    message: 'verified and imported 3 events',
    stored: true,
    archive_id: 1,
    gap_before: null,
    lookalikes: [],
    ...change,
    report: {
      path,
      status: 'verified',
      origin: 'example.com/log',
      sequence: 1,
      events: 3,
      bytes: 300,
      time_range: null,
      source_kind: 'k8s',
      signer: { key: 'ops+1+x', name: 'ops', fingerprint: 'SHA256:ops', trusted: true },
      root: null,
      chain_start: null,
      chain_end: null,
      manifest_sha256: null,
      parse_errors: 0,
      failure: null,
      ...report,
    },
  };
}

/** Mocks `import_archives`: each call gets the events `script(paths, job)` returns, delivered on its channel. */
function importScript(script: (paths: string[], job: number) => ImportEvent[]) {
  let job = 0;
  return (a: Record<string, unknown>) => {
    job += 1;
    const ch = a.onEvent as { onmessage: (e: ImportEvent) => void };
    const events = script(a.paths as string[], job);
    setTimeout(() => events.forEach((e) => ch.onmessage(e)), 0);
    return job;
  };
}

function finished(job: number, index: number, r: ImportResult): ImportEvent[] {
  return [
    { kind: 'started', job, index, path: r.path },
    { kind: 'finished', job, index, elapsed_ms: 12, result: r },
  ];
}


/** jsdom lays nothing out: the results list is given a height for this test, so that the virtualizer draws rows. */
function giveResultsAHeight() {
  const own = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientHeight');
  Object.defineProperty(HTMLElement.prototype, 'clientHeight', {
    configurable: true,
    get() {
      return (this as HTMLElement).id === 'results-body' ? 600 : 0;
    },
  });
  // Back to jsdom's own (inherited from Element) once the test ends, so that no later test depends on it.
  onTestFinished(() => {
    if (own) Object.defineProperty(HTMLElement.prototype, 'clientHeight', own);
    else delete (HTMLElement.prototype as { clientHeight?: number }).clientHeight;
  });
}

describe('the window', () => {
  it('says why it could not start instead of showing a blank window', async () => {
    mockBackend({
      startup: () => Promise.reject({ code: 'database', message: 'opening database /x.db: file is not a database' }),
    });
    render(<App />);
    expect(await screen.findByText('AuditLens could not start')).toBeTruthy();
    expect(screen.getByText(/file is not a database/)).toBeTruthy();
  });

  it('offers another database when the chosen one cannot be opened, and then starts', async () => {
    const refused = {
      code: 'no-database',
      message: 'AuditLens cannot open the database /cases/new.db: the database was made by a newer AuditLens',
    };
    let opened = false;
    const ok = basics();
    const calls = mockBackend({
      ...ok,
      startup: () => (opened ? ok.startup({}) : Promise.reject(refused)),
      choose_database: (a) => {
        opened = a.path === null;
        return startup().db;
      },
    });
    render(<App />);
    expect(await screen.findByText('AuditLens cannot open this database')).toBeTruthy();
    expect(screen.getByText(/made by a newer AuditLens/).textContent).toContain('/cases/new.db');
    expect(screen.queryByRole('tab', { name: 'Overview' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Open the default database' }));
    expect(await screen.findByRole('tab', { name: 'Overview' })).toBeTruthy();
    expect(calls.filter((c) => c.cmd === 'choose_database').map((c) => c.args)).toEqual([{ path: null }]);
  });

  it('shows how far the text index has got while it lags, and nothing once it has caught up', async () => {
    let pending = 2;
    const ok = basics();
    const db = (n: number) => ({
      ...startup().db,
      archives: 1,
      events: 4,
      text_index: { indexed_events: 4 - n, pending_events: n, pending_archives: n > 0 ? 1 : 0 },
    });
    mockBackend({
      ...ok,
      startup: () => startup({ db: db(pending) }),
      db_status: () => {
        pending = Math.max(0, pending - 1);
        return db(pending);
      },
    });
    render(<App />);
    expect((await screen.findByText(/indexing text/)).textContent).toBe('indexing text: 50%');
    await waitFor(() => expect(screen.getByText(/indexing text/).textContent).toBe('indexing text: 75%'), {
      timeout: 3000,
    });
    await waitFor(() => expect(screen.queryByText(/indexing text/)).toBeNull(), { timeout: 3000 });
  });

  it('explains every empty screen', async () => {
    mockBackend(basics());
    await renderApp();
    expect(await screen.findByText('Drop a signed audit archive here')).toBeTruthy();
    fireEvent.click(screen.getByRole('tab', { name: 'Archives' }));
    expect(await screen.findByText('No archive in this database yet')).toBeTruthy();
    fireEvent.click(screen.getByRole('tab', { name: 'Search' }));
    expect(await screen.findByText('No events to search yet')).toBeTruthy();
    fireEvent.click(screen.getByRole('tab', { name: 'Keyring' }));
    expect(await screen.findByText('No trusted key yet')).toBeTruthy();
  });

  it('switches screens from the keyboard', async () => {
    mockBackend(basics());
    // Alt+digit is a window listener added by an effect: renderApp waits for the window's effects to have run (a
    // key pressed as soon as the window shows could otherwise go nowhere).
    await renderApp();
    await screen.findByText('Drop a signed audit archive here');
    // Overview, Deployments, Access, Import, Archives, Search, Keyring.
    fireEvent.keyDown(window, { key: '7', altKey: true });
    expect(screen.getByRole('tab', { name: 'Keyring' }).getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(screen.getByRole('tab', { name: 'Keyring' }), { key: 'ArrowLeft' });
    expect(screen.getByRole('tab', { name: 'Search' }).getAttribute('aria-selected')).toBe('true');
  });

  it('shows problems with the command line', async () => {
    mockBackend(basics(startup({ notices: ['--trust /x.pub: cannot read the key file /x.pub: No such file'] })));
    await renderApp();
    expect((await screen.findByRole('alert')).textContent).toContain('cannot read the key file /x.pub');
  });

  it('shows the version the backend reports in the About box', async () => {
    mockBackend(basics(startup({ version: '9.8.7' })));
    await renderApp();
    fireEvent.click(await screen.findByRole('button', { name: 'About' }));
    const about = await screen.findByRole('dialog', { name: 'About AuditLens' });
    expect(within(about).getByText('9.8.7')).toBeTruthy();
    fireEvent.click(within(about).getByRole('button', { name: 'Close' }));
    expect(screen.queryByRole('dialog', { name: 'About AuditLens' })).toBeNull();
  });

  it('says when the database was upgraded and where its backup copy is', async () => {
    const upgrade =
      'the database was made by an older AuditLens (schema version 8) and has been upgraded to schema version 9; ' +
      'a copy of it as it was is kept in /data/old.db.backup-v8';
    const base = startup();
    mockBackend(basics(startup({ db: { ...base.db, upgrade } })));
    await renderApp();
    // In the status bar, and under Database on the Keyring screen.
    const said = await screen.findAllByText(/has been upgraded/);
    expect(said.length).toBe(2);
    for (const s of said) expect(s.textContent).toContain('/data/old.db.backup-v8');
  });
});

describe('import', () => {
  it('imports the archives of the command line and shows each result with the verifier\'s reason', async () => {
    const paths = ['/data/good.zip', '/data/bad.zip', '/gone.zip'];
    const calls = mockBackend({
      ...basics(startup({ imports: paths })),
      import_archives: importScript((p, job) => [
        { kind: 'queued', job, paths: p },
        ...finished(job, 0, result({ path: p[0] })),
        ...finished(
          job,
          1,
          result(
            { path: p[1], outcome: 'failed', stored: false, message: 'event 4 differs from what was signed' },
            {
              status: 'failed',
              failure: {
                kind: 'leaf-mismatch',
                message: 'event 4 differs from what was signed',
                entry: 'events/000001.jsonl',
                line: 5,
                event_index: 4,
                expected: 'aa',
                found: 'bb',
              },
            },
          ),
        ),
        { kind: 'started', job, index: 2, path: p[2] },
        { kind: 'failed', job, index: 2, path: p[2], error: { code: 'io', message: 'cannot read /gone.zip: No such file' } },
        { kind: 'done', job, cancelled: false },
      ]),
    });
    await renderApp();
    const list = await screen.findByRole('list', { name: 'Imports' });
    await waitFor(() => expect(within(list).getAllByText(/^Verified/).length).toBe(1));
    expect(calls.find((c) => c.cmd === 'import_archives')?.args.paths).toEqual(paths);
    const bad = list.querySelector('[data-path="/data/bad.zip"]') as HTMLElement;
    expect(within(bad).getByText('Failed verification')).toBeTruthy();
    expect(within(bad).getByText('event 4 differs from what was signed')).toBeTruthy();
    expect(within(bad).getByText('entry events/000001.jsonl, line 5, event index 4')).toBeTruthy();
    const gone = list.querySelector('[data-path="/gone.zip"]') as HTMLElement;
    expect(within(gone).getByText(/cannot read \/gone.zip/)).toBeTruthy();
  });

  it('says how many imported events have no time, with the first one\'s time member, and lists them', async () => {
    Element.prototype.scrollIntoView = () => {};
    const untimed = {
      count: 8,
      of: 56,
      first_index: 36,
      why: { field: 'published', sample: '"redacted\u202e"', looked_at: ['published', 'p_event_time'] },
    };
    const row = {
      id: 1,
      path: '/data/okta.zip',
      status: 'verified',
      failure: null,
      origin: 'example.com/okta',
      sequence: 1,
      source_kind: 'okta',
      events: 56,
      bytes: 1000,
      time_first: '2022-03-22T14:21:53.225Z',
      time_last: '2022-03-22T15:00:00Z',
      signer_key: 'producer+abcd+KEY',
      signer_name: 'producer',
      signer_fingerprint: 'SHA256:prod',
      imported_at: '2026-01-01T00:00:00Z',
      gap_before: null,
      untimed: 8,
      received_at: null,
      received_label: null,
    };
    const searched: string[] = [];
    mockBackend({
      ...basics(startup({ imports: ['/data/okta.zip'], db: { ...startup().db, archives: 1, events: 56 } })),
      import_archives: importScript((p, job) => [
        { kind: 'queued', job, paths: p },
        ...finished(job, 0, result({ path: p[0], untimed }, { events: 56, source_kind: 'okta' })),
        { kind: 'done', job, cancelled: false },
      ]),
      archives: () => ({ archives: [row] }),
      archive_detail: () => ({ archive: row, checkpoint: 'cp', manifest: '{}', declared_time_range: null, failure: null }),
      search: (a) => {
        searched.push((a as { query: string }).query);
        return Promise.reject({ code: 'database', message: 'not in this test' });
      },
    });
    await renderApp();
    const card = await waitFor(() => {
      const el = document.querySelector('.untimed-count');
      if (!el) throw new Error('no .untimed-count');
      return el;
    });
    expect(card.textContent).toContain('8 of 56 events have no time (event 36: published: "redacted\\u{202e}" is not a time)');
    expect(card.textContent).not.toMatch(/\u202e/);
    fireEvent.click(await screen.findByRole('tab', { name: 'Archives' }));
    fireEvent.click(await waitFor(() => {
      const el = document.querySelector('tr[data-archive-id="1"]');
      if (!el) throw new Error('no row');
      return el as HTMLElement;
    }));
    const detail = await waitFor(() => {
      const el = document.getElementById('archive-untimed');
      if (!el) throw new Error('no #archive-untimed');
      return el;
    });
    expect(detail.textContent).toContain('8 events of this archive have no time');
    fireEvent.click(within(detail).getByText('Show events without time'));
    await waitFor(() => expect(searched).toContain('origin:example.com/okta -time:*'));
  });

  it('shows progress with events, MB, rate and ETA, and cancels', async () => {
    let cancelled: unknown = null;
    mockBackend({
      ...basics(startup({ imports: ['/data/big.zip'] })),
      import_archives: importScript((p, job) => [
        { kind: 'queued', job, paths: p },
        { kind: 'started', job, index: 0, path: p[0] },
        {
          kind: 'progress',
          job,
          index: 0,
          elapsed_ms: 2000,
          progress: { events_done: 100000, events_total: 400000, bytes_done: 50e6, bytes_total: 200e6 },
        },
      ]),
      cancel_job: (a) => {
        cancelled = a.job;
        return true;
      },
    });
    await renderApp();
    const bar = await screen.findByRole('progressbar');
    expect(bar.getAttribute('aria-valuenow')).toBe('25');
    expect(screen.getByText(/100,000 \/ 400,000 events · 50\.0 MB \/ 200\.0 MB · 50,000 events\/s · ETA 6 s/)).toBeTruthy();
    fireEvent.click(screen.getByText('Cancel import'));
    await waitFor(() => expect(cancelled).toBe(1));
  });

  it('asks before trusting an untrusted key, showing its fingerprint, then imports again', async () => {
    const trusted: string[] = [];
    const untrusted = result(
      { path: '/data/partner.zip', outcome: 'untrusted', stored: false, message: 'valid signature, but …' },
      { status: 'untrusted', signer: { key: partnerKey, name: 'e2e-partner', fingerprint: partnerFingerprint, trusted: false } },
    );
    mockBackend({
      ...basics(startup({ imports: ['/data/partner.zip'] })),
      import_archives: importScript((p, job) => [
        { kind: 'queued', job, paths: p },
        ...finished(job, 0, trusted.length ? result({ path: p[0] }) : untrusted),
        { kind: 'done', job, cancelled: false },
      ]),
      trust_key: (a) => {
        trusted.push(a.key as string);
        return {
          added: true,
          key: {
            key: a.key,
            name: 'e2e-partner',
            fingerprint: partnerFingerprint,
            added: '2024-05-01T00:00:00Z',
            origins: a.origins,
            pinned: false,
            valid_after: null,
            valid_before: null,
          },
          promoted: [],
        };
      },
    });
    await renderApp();
    fireEvent.click(await screen.findByText('Trust this key for example.com/log…'));
    const dialog = screen.getByRole('dialog', { name: 'Trust this signing key?' });
    expect(within(dialog).getByText(partnerFingerprint)).toBeTruthy();
    expect(trusted).toEqual([]);
    // Cancel changes nothing.
    fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(trusted).toEqual([]);
    fireEvent.click(screen.getByText('Trust this key for example.com/log…'));
    fireEvent.click(screen.getByText('Trust for example.com/log and re-import'));
    await waitFor(() => expect(trusted).toEqual([partnerKey]));
    const list = screen.getByRole('list', { name: 'Imports' });
    await waitFor(() => expect(within(list).getByText(/^Verified/)).toBeTruthy());
    expect(list.querySelectorAll('li')).toHaveLength(1);
  });

  it('imports files dropped on the window', async () => {
    const calls = mockBackend({
      ...basics(),
      import_archives: importScript((p, job) => [{ kind: 'queued', job, paths: p }]),
    });
    // The drop listener is registered over the IPC after the window shows; an event emitted before that is lost.
    await renderApp();
    expect(isListening('tauri://drag-drop')).toBe(true);
    await screen.findByText('Drop a signed audit archive here');
    const { emit } = await import('@tauri-apps/api/event');
    await act(async () => {
      await emit('tauri://drag-drop', { paths: ['/home/u/dropped.zip'], position: { x: 1, y: 2 } });
    });
    await waitFor(() =>
      expect(calls.find((c) => c.cmd === 'import_archives')?.args.paths).toEqual(['/home/u/dropped.zip']),
    );
  });
});

describe('search', () => {
  const oneEvent = startup({ db: { ...startup().db, archives: 1, events: 1 } });
  const oneEventRow = {
    id: 'x@1#0',
    time: '2024-05-01T10:00:00Z',
    source: 'jsonl',
    origin: 'x',
    actor: 'a',
    action: null,
    resource: null,
    outcome: null,
    category: 'other',
    ip: null,
    agent: null,
    env: null,
    stage: null,
    privilege: null,
    archive: 'x@1',
    sequence: 1,
    index: 0,
    verified: true,
    received: false,
  };

  it('shows a query error at its column', async () => {
    mockBackend({
      ...basics(oneEvent),
      search: (a) =>
        a.query === 'actor:'
          ? Promise.reject({ code: 'query', column: 7, message: '`actor:` needs a value right after the `:`' })
          : { events: [], next: null },
      count: (a) => (a.query === 'actor:' ? Promise.reject({ code: 'query', column: 7, message: 'x' }) : 0),
      histogram: (a) => (a.query === 'actor:' ? Promise.reject({ code: 'query', column: 7, message: 'x' }) : basics().histogram({})),
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    fireEvent.change(screen.getByLabelText('Search query'), { target: { value: 'actor:' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    const err = await screen.findByRole('alert');
    expect(err.textContent).toContain('Column 7:');
    expect(err.textContent).toContain('needs a value');
    expect(screen.getByLabelText('Search query').getAttribute('aria-invalid')).toBe('true');
  });

  it('says when nothing matches', async () => {
    mockBackend(basics(oneEvent));
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    expect(await screen.findByText('No event matches this query')).toBeTruthy();
  });

  it('says what near a query that matches nothing does match, and runs the changed query on request', async () => {
    const asked: string[] = [];
    mockBackend({
      ...basics(oneEvent),
      hints: (a) => {
        const q = (a as { query: string }).query;
        asked.push(q);
        return q === 'actor:john outcome:denied'
          ? [
              { message: 'no actor is exactly `john`; 12 events have one containing it: actor:*john*', query: 'actor:*john* outcome:denied' },
              { message: 'no event has the member json.eventname <b>x</b>', query: null },
            ]
          : [];
      },
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    fireEvent.change(screen.getByLabelText('Search query'), { target: { value: 'actor:john outcome:denied' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    const list = await waitFor(() => {
      const el = document.getElementById('query-hints');
      if (!el) throw new Error('no #query-hints');
      return el;
    });
    expect(list.textContent).toContain('no actor is exactly `john`; 12 events have one containing it');
    expect(list.textContent).toContain('no event has the member json.eventname <b>x</b>');
    expect(list.querySelector('b')).toBeNull();
    fireEvent.click(within(list).getByRole('button', { name: 'Search actor:*john* outcome:denied' }));
    await waitFor(() => expect((screen.getByLabelText('Search query') as HTMLInputElement).value).toBe('actor:*john* outcome:denied'));
    await waitFor(() => expect(asked).toContain('actor:*john* outcome:denied'));
  });

  it('sorts by a column header (again to reverse), and End reads the last page from the end, the true last row', async () => {
    const asked: { after: unknown; sort: unknown; limit: unknown; fromEnd?: unknown }[] = [];
    const ev = (i: number) => ({ ...oneEventRow, id: `x@1#${i}`, index: i, actor: `user-${i}` });
    mockBackend({
      ...basics(oneEvent),
      count: () => 1200,
      search: (a) => {
        const { after, sort, limit, fromEnd } = a as { after: string | null; sort: unknown; limit: number; fromEnd: boolean };
        asked.push({ after, sort, limit, fromEnd });
        // The first 500 rows; End: the last 500, last first, from the end (no page in between is read).
        if (fromEnd) return { events: Array.from({ length: 500 }, (_, i) => ev(1199 - i)), next: 't1' };
        if (after == null) return { events: Array.from({ length: 500 }, (_, i) => ev(i)), next: 'c1' };
        return { events: Array.from({ length: 200 }, (_, i) => ev(500 + i)), next: null };
      },
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(asked.length).toBe(1));
    expect(asked[0].sort).toBeNull();
    fireEvent.click(container.querySelector('.sort-head[data-column="actor"]')!);
    await waitFor(() => expect(asked.at(-1)!.sort).toEqual({ column: 'actor', ascending: true }));
    const head = () => container.querySelector('.sort-head[data-column="actor"]')!.closest('[role="columnheader"]')!;
    await waitFor(() => expect(head().getAttribute('aria-sort')).toBe('ascending'));
    fireEvent.click(container.querySelector('.sort-head[data-column="actor"]')!);
    await waitFor(() => expect(asked.at(-1)!.sort).toEqual({ column: 'actor', ascending: false }));
    await waitFor(() => expect(head().getAttribute('aria-sort')).toBe('descending'));
    // The time header: newest first (the default order), again for oldest first, again for newest first.
    const time = () => container.querySelector('.sort-head[data-column="time"]')!;
    fireEvent.click(time());
    await waitFor(() => expect(asked.at(-1)!.sort).toBeNull());
    fireEvent.click(time());
    await waitFor(() => expect(asked.at(-1)!.sort).toEqual({ column: 'time', ascending: true }));
    fireEvent.click(time());
    await waitFor(() => expect(asked.at(-1)!.sort).toBeNull());
    const before = asked.length;
    fireEvent.keyDown(container.querySelector('#results-body')!, { key: 'End' });
    await waitFor(() => expect(asked.length).toBe(before + 1));
    expect(asked.at(-1)).toEqual({ after: null, sort: null, limit: 500, fromEnd: true });
    await waitFor(() => expect(container.querySelector('#results-body')!.getAttribute('aria-activedescendant')).toBe('row-1199'));
    expect(container.querySelector('#results')!.getAttribute('aria-rowcount')).toBe('1200');
    // Enter opens the true last event (the first one read from the end).
    fireEvent.keyDown(container.querySelector('#results-body')!, { key: 'Enter' });
    await waitFor(() => expect(document.querySelector('.event-id')?.textContent).toContain('x@1#1199'));
  });

  it('reads the rows where the scrollbar is dragged by their offset, not every page before them', async () => {
    const asked: { after: unknown; limit: unknown; fromEnd?: unknown; offset?: unknown }[] = [];
    const ev = (i: number) => ({ ...oneEventRow, id: `x@1#${i}`, index: i, actor: `user-${i}` });
    mockBackend({
      ...basics(oneEvent),
      count: () => 100000,
      search: (a) => {
        const { after, limit, fromEnd, offset } = a as { after: string | null; limit: number; fromEnd: boolean; offset: number | null };
        asked.push({ after, limit, fromEnd, offset });
        const from = offset ?? 0;
        return { events: Array.from({ length: limit }, (_, i) => ev(from + i)), next: `c${from + limit}` };
      },
    });
    giveResultsAHeight();
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(asked.length).toBe(1));
    // The list spans every match at once (the scrollbar's whole range), not only the rows read so far.
    await waitFor(() => expect(container.querySelector('#results')!.getAttribute('aria-rowcount')).toBe('100000'));
    const body = container.querySelector('#results-body') as HTMLElement;
    body.scrollTop = 50000 * ROW_HEIGHT;
    fireEvent.scroll(body);
    // The block holding row 50,000 is read by its offset (a single page of 500), and its rows are drawn.
    await waitFor(() => expect(asked.some((q) => q.offset === 50000)).toBe(true));
    expect(asked.filter((q) => q.offset == null).length).toBe(1);
    expect(asked.find((q) => q.offset === 50000)).toEqual({ after: null, limit: 500, fromEnd: false, offset: 50000 });
    await waitFor(() => expect(container.querySelector('#row-50000')?.textContent).toContain('user-50000'));
  });

  it('shows the database error of a failed search with what to do', async () => {
    mockBackend({
      ...basics(oneEvent),
      search: () => Promise.reject({ code: 'database', message: 'database error: disk I/O error. Check that the database file is readable' }),
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/disk I\/O error\. Check/);
  });
});

describe('event detail', () => {
  const hostile = '<img src=x onerror=window.__pwned=1>';
  const detail: EventDetail = {
    id: 'x@1#0',
    time: '2024-05-01T10:00:00Z',
    source: 'jsonl',
    origin: 'x',
    actor: hostile,
    action: '<script>window.__pwned=1</script>',
    resource: null,
    outcome: null,
    category: 'other',
    ip: null,
    agent: null,
    env: null,
    stage: null,
    privilege: null,
    archive: 'x@1',
    sequence: 1,
    index: 0,
    verified: true,
    received: false,
    raw: JSON.stringify({ actor: hostile, action: '<script>window.__pwned=1</script>' }),
    leaf: 'ab'.repeat(32),
    archive_id: 1,
    archive_path: '/a.zip',
    archive_status: 'verified',
    signer_key: 'ops+1+x',
    signer_fingerprint: 'SHA256:x',
    checkpoint: 'x\n1\nroot\n',
    root: 'root',
  };
  const row = { ...detail } as Record<string, unknown>;

  it('renders hostile event content as text only', async () => {
    mockBackend({
      ...basics(startup({ db: { ...startup().db, events: 1, archives: 1 } })),
      search: () => ({ events: [row], next: null }),
      count: () => 1,
      event: () => detail,
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    // The virtual table has no size in jsdom: open the event from the keyboard.
    await waitFor(() => expect(screen.getByText('1 match')).toBeTruthy());
    fireEvent.keyDown(container.querySelector('#results-body')!, { key: 'Enter' });
    expect(await screen.findByText('Raw event')).toBeTruthy();
    expect(screen.getAllByText(hostile).length).toBeGreaterThan(0);
    expect(container.querySelector('img, script, iframe, [onerror]')).toBeNull();
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
    expect(container.querySelector('#event-raw')!.textContent).toContain('"actor": "<img src=x onerror=window.__pwned=1>"');
  });

  it.each([
    [
      'an archive the keyring does not trust now',
      { not_trusted_now: 'signed by gamma\u202e (SHA256:g), not trusted: the key gamma (SHA256:g) is not trusted' },
      'its archive is marked verified in this database, but signed by gamma\\u{202e} (SHA256:g), not trusted',
    ],
    [
      'a row that is not the signed event',
      { not_confirmed: 'this event as stored is not the one signed: stored actor "alice\u202e" differs' },
      'its archive is marked verified in this database, but this event as stored is not the one signed: stored ' +
        'actor "alice\\u{202e}" differs: do not rely on this event',
    ],
  ])('says an event of %s is not verified, and why', async (_what, why, shown) => {
    const notNow = { ...detail, verified: false, ...why };
    mockBackend({
      ...basics(startup({ db: { ...startup().db, events: 1, archives: 1 } })),
      search: () => ({ events: [{ ...row, verified: false }], next: null }),
      count: () => 1,
      event: () => notNow,
    });
    giveResultsAHeight();
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(screen.getByText('1 match')).toBeTruthy());
    await waitFor(() => expect(container.querySelector('#results-body')!.textContent).toContain('NOT VERIFIED'));
    fireEvent.keyDown(container.querySelector('#results-body')!, { key: 'Enter' });
    const status = await waitFor(() => {
      const e = document.getElementById('event-status');
      expect(e).toBeTruthy();
      return e!;
    });
    expect(status.getAttribute('data-status')).toBe('unverified');
    expect(status.textContent!.replace(/\s+/g, ' ')).toContain(shown);
    expect(status.textContent).not.toContain('\u202e');
  });

  it('steps to the previous and next result from the detail, with buttons and Alt+Up / Alt+Down', async () => {
    const ids = ['x@1#0', 'x@1#1', 'x@1#2'];
    const asked: string[] = [];
    mockBackend({
      ...basics(startup({ db: { ...startup().db, events: 3, archives: 1 } })),
      search: () => ({ events: ids.map((id, i) => ({ ...row, id, index: i })), next: null }),
      count: () => 3,
      event: (a) => {
        const id = (a as { id: string }).id;
        asked.push(id);
        return { ...detail, id, index: ids.indexOf(id) };
      },
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(screen.getByText('3 matches')).toBeTruthy());
    fireEvent.keyDown(container.querySelector('#results-body')!, { key: 'Enter' });
    await waitFor(() => expect(document.getElementById('event-position')?.textContent).toBe('1 of 3 results'));
    expect((document.getElementById('event-prev') as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(document.getElementById('event-next')!);
    await waitFor(() => expect(document.querySelector('.event-id')?.textContent).toBe('x@1#1'));
    fireEvent.keyDown(window, { key: 'ArrowDown', altKey: true });
    await waitFor(() => expect(document.querySelector('.event-id')?.textContent).toBe('x@1#2'));
    expect((document.getElementById('event-next') as HTMLButtonElement).disabled).toBe(true);
    fireEvent.keyDown(window, { key: 'ArrowUp', altKey: true });
    await waitFor(() => expect(document.getElementById('event-position')?.textContent).toBe('2 of 3 results'));
    expect(asked).toEqual(['x@1#0', 'x@1#1', 'x@1#2', 'x@1#1']);
  });

  it('goes on past the loaded rows: previous/next read the neighbouring matches by their offset', async () => {
    const all = ['x@1#0', 'x@1#1', 'x@1#2', 'x@1#3', 'x@1#4'];
    const offsets: (number | null)[] = [];
    mockBackend({
      ...basics(startup({ db: { ...startup().db, events: 5, archives: 1 } })),
      // The first page holds 3 of the 5 counted matches; a page read by offset starts at that match.
      search: (a) => {
        const { offset } = a as { offset: number | null };
        offsets.push(offset);
        const ids = offset == null ? all.slice(0, 3) : all.slice(offset);
        return { events: ids.map((id) => ({ ...row, id, index: all.indexOf(id) })), next: null };
      },
      count: () => 5,
      event: (a) => {
        const id = (a as { id: string }).id;
        return { ...detail, id, index: all.indexOf(id) };
      },
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(screen.getByText('5 matches')).toBeTruthy());
    fireEvent.keyDown(container.querySelector('#results-body')!, { key: 'Enter' });
    await waitFor(() => expect(document.getElementById('event-position')?.textContent).toBe('1 of 5 results'));
    fireEvent.click(document.getElementById('event-next')!);
    await waitFor(() => expect(document.querySelector('.event-id')?.textContent).toBe('x@1#1'));
    fireEvent.click(document.getElementById('event-next')!);
    await waitFor(() => expect(document.querySelector('.event-id')?.textContent).toBe('x@1#2'));
    // The last loaded row: next reads on from match 4 (offset 3).
    expect((document.getElementById('event-next') as HTMLButtonElement).disabled).toBe(false);
    fireEvent.click(document.getElementById('event-next')!);
    await waitFor(() => expect(document.querySelector('.event-id')?.textContent).toBe('x@1#3'));
    expect(document.getElementById('event-position')?.textContent).toBe('4 of 5 results');
    expect(offsets.at(-1)).toBe(3);
    fireEvent.keyDown(window, { key: 'ArrowDown', altKey: true });
    await waitFor(() => expect(document.querySelector('.event-id')?.textContent).toBe('x@1#4'));
    expect((document.getElementById('event-next') as HTMLButtonElement).disabled).toBe(true);
    // Back across the start of that block: the block before it is read by its offset too.
    fireEvent.click(document.getElementById('event-prev')!);
    await waitFor(() => expect(document.querySelector('.event-id')?.textContent).toBe('x@1#3'));
    fireEvent.click(document.getElementById('event-prev')!);
    await waitFor(() => expect(document.querySelector('.event-id')?.textContent).toBe('x@1#2'));
    expect(document.getElementById('event-position')?.textContent).toBe('3 of 5 results');
    expect(offsets.at(-1)).toBe(0);
  });

  it('pivots from a value: filter for or against it added to the last search, copy it, events around it', async () => {
    const event: EventDetail = { ...detail, actor: 'alice "the admin"', resource: null, origin: 'example.com/k8s' };
    const calls = mockBackend({
      ...basics(startup({ db: { ...startup().db, events: 1, archives: 1 } })),
      search: () => ({ events: [{ ...event } as Record<string, unknown>], next: null }),
      count: () => 1,
      event: () => event,
    });
    const writes: string[] = [];
    Object.defineProperty(navigator, 'clipboard', {
      value: { writeText: (t: string) => (writes.push(t), Promise.resolve()) },
      configurable: true,
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    const box = screen.getByLabelText('Search query') as HTMLInputElement;
    fireEvent.change(box, { target: { value: 'source:k8s OR source:jsonl' } });
    fireEvent.submit(box.closest('form')!);
    await waitFor(() => expect(screen.getByText('1 match')).toBeTruthy());
    const open = async () => {
      fireEvent.keyDown(container.querySelector('#results-body')!, { key: 'Enter' });
      expect(await screen.findByText('Raw event')).toBeTruthy();
    };
    const searched = () => calls.filter((c) => c.cmd === 'search').map((c) => c.args.query);
    await open();
    // Filter for: the last search kept whole, the value quoted as the query language reads it back.
    fireEvent.click(screen.getByRole('button', { name: 'Filter for actor alice "the admin"' }));
    await waitFor(() => expect(searched().at(-1)).toBe('(source:k8s OR source:jsonl) actor:"alice \\"the admin\\""'));
    await open();
    fireEvent.click(screen.getByRole('button', { name: 'Filter out missing resource' }));
    await waitFor(() =>
      expect(searched().at(-1)).toBe('((source:k8s OR source:jsonl) actor:"alice \\"the admin\\"") resource:*'),
    );
    await open();
    fireEvent.click(screen.getByRole('button', { name: 'Copy actor' }));
    await waitFor(() => expect(writes).toEqual(['alice "the admin"']));
    // Events around this one: ± 5 minutes of 10:00:00 UTC, same origin.
    fireEvent.change(container.querySelector('#around-scope')!, { target: { value: 'origin' } });
    fireEvent.click(container.querySelector('#around-open')!);
    await waitFor(() =>
      expect(searched().at(-1)).toBe(
        'after:2024-05-01T09:55:00.000000Z before:2024-05-01T10:05:00.000001Z origin:example.com/k8s',
      ),
    );
  });

  it('marks an event that is not parsed and shows its exact raw text only', async () => {
    const deep = `{"a":${'['.repeat(10_000)}"deepmarker"${']'.repeat(10_000)}}`;
    const unparsed: EventDetail = {
      ...detail,
      actor: null,
      action: null,
      category: null,
      time: null,
      raw: deep,
      parse_error: 'invalid JSON: recursion limit exceeded at line 1 column 134',
    };
    mockBackend({
      ...basics(startup({ db: { ...startup().db, events: 1, archives: 1 } })),
      search: () => ({ events: [{ ...unparsed }], next: null }),
      count: () => 1,
      event: () => unparsed,
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(screen.getByText('1 match')).toBeTruthy());
    fireEvent.keyDown(container.querySelector('#results-body')!, { key: 'Enter' });
    expect(await screen.findByText('Raw event')).toBeTruthy();
    const note = container.querySelector('#event-not-parsed')!;
    expect(note.textContent).toContain('Not parsed');
    expect(note.textContent).toContain('invalid JSON: recursion limit exceeded at line 1 column 134');
    // The exact bytes, never re-indented (10,000 levels would explode), and no choice offered.
    expect(container.querySelector('#event-raw')!.textContent).toBe(deep);
    expect(container.querySelector('#raw-pretty')).toBeNull();
  });

  it('shows bidi, zero-width and control characters of names visibly in the event', async () => {
    const sneaky = { ...detail, actor: 'root\u202e\u200b', resource: 'db\u2066x\u001b[2J', origin: 'x\u200b', archive: 'x\u200b@1' };
    mockBackend({
      ...basics(startup({ db: { ...startup().db, events: 1, archives: 1 } })),
      search: () => ({ events: [{ ...sneaky }], next: null }),
      count: () => 1,
      event: () => sneaky,
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(screen.getByText('1 match')).toBeTruthy());
    fireEvent.keyDown(container.querySelector('#results-body')!, { key: 'Enter' });
    expect(await screen.findByText('Raw event')).toBeTruthy();
    const fields = container.querySelector('#event-fields')!;
    expect(within(fields as HTMLElement).getByText('root\\u{202e}\\u{200b}')).toBeTruthy();
    expect(within(fields as HTMLElement).getByText('db\\u{2066}x\\u{1b}[2J')).toBeTruthy();
    expect(container.querySelector('#event-archive')!.textContent).toContain('x\\u{200b}@1');
    // A raw ESC on the screen is exactly what this test looks for.
    // eslint-disable-next-line no-control-regex
    expect(fields.textContent).not.toMatch(/[\u202e\u200b\u2066\u001b]/);
  });

  it('says when the event is gone', async () => {
    mockBackend({
      ...basics(startup({ db: { ...startup().db, events: 1, archives: 1 } })),
      search: () => ({ events: [row], next: null }),
      count: () => 1,
      event: () => Promise.reject({ code: 'not-found', message: 'no event x@1#0 in this database (was the database changed?)' }),
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(screen.getByText('1 match')).toBeTruthy());
    fireEvent.keyDown(container.querySelector('#results-body')!, { key: 'Enter' });
    expect((await screen.findByRole('alert')).textContent).toContain('was the database changed?');
  });
});

describe('keyring', () => {
  it('says why a pasted key is refused', async () => {
    mockBackend({
      ...basics(),
      trust_key: () => Promise.reject({ code: 'invalid-key', message: 'not a verifier key: malformed verifier key' }),
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Keyring' }));
    fireEvent.change(screen.getByLabelText('Verifier key'), { target: { value: 'nonsense' } });
    fireEvent.click(screen.getByText('Trust this key'));
    expect((await screen.findByRole('alert')).textContent).toContain('not a verifier key');
  });

  it('removes a key only after confirmation', async () => {
    const removed: unknown[] = [];
    const key = {
      key: 'ops+1+x',
      name: 'ops',
      fingerprint: 'SHA256:ops',
      added: '2024-05-01T00:00:00Z',
      origins: '*',
      pinned: true,
      valid_after: null,
      valid_before: null,
    };
    mockBackend({
      ...basics(startup({ keys: [key] })),
      untrust_grant: (a) => {
        removed.push((a.grant as { fingerprint: string }).fingerprint);
        return { keys: [], demoted: [] };
      },
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Keyring' }));
    fireEvent.click(screen.getByText('Remove…'));
    expect(removed).toEqual([]);
    fireEvent.click(screen.getByText('Remove ops'));
    await waitFor(() => expect(removed).toEqual(['SHA256:ops']));
    expect(await screen.findByText('No trusted key yet')).toBeTruthy();
  });
});

describe('archives', () => {
  it('names look-alike origins and shows hidden characters of origins and signers visibly', async () => {
    const archive = {
      id: 1,
      path: '/a.zip',
      status: 'verified',
      failure: null,
      origin: 'example.com/k\u200b8s',
      sequence: 1,
      source_kind: 'k8s',
      events: 3,
      bytes: 100,
      time_first: null,
      time_last: null,
      signer_key: 'ops\u202e+1+x',
      signer_name: 'ops\u202e',
      signer_fingerprint: 'SHA256:x',
      imported_at: '2024-05-01T00:00:00Z',
      gap_before: null,
    };
    mockBackend({
      ...basics(startup({ db: { ...startup().db, events: 6, archives: 2 } })),
      archives: () => ({
        archives: [archive, { ...archive, id: 2, origin: 'example.com/k8s', signer_key: 'ops+1+x', signer_name: 'ops' }],
        lookalikes: [{ skeleton: 'example.com/k8s', origins: ['example.com/k8s', 'example.com/k\u200b8s'] }],
      }),
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Archives' }));
    const box = (await screen.findByText('Look-alike origins.')).closest('#archives-lookalikes') as HTMLElement;
    expect([...box.querySelectorAll('.lookalike-origin')].map((e) => e.textContent)).toEqual([
      'example.com/k8s',
      'example.com/k\\u{200b}8s',
    ]);
    const table = document.getElementById('archives-table')!;
    expect(within(table).getByText('example.com/k\\u{200b}8s')).toBeTruthy();
    expect(within(table).getByText('ops\\u{202e}')).toBeTruthy();
    expect(document.querySelector('.archives-screen')!.textContent).not.toMatch(/[\u202e\u200b]/);
  });

  it('says whose rules made the fields and re-normalizes with a built-in mapper', async () => {
    // jsdom lays nothing out: the detail panel's scroll into view is a no-op here.
    Element.prototype.scrollIntoView = () => {};
    const sha = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
    const producer = {
      by: 'producer_mapping' as const,
      mapper: null,
      mapping_sha256: sha,
      overrides: null,
      text: `producer's mapping file sha256 ${sha} (producer rules)`,
    };
    const auditor = {
      by: 'auditor' as const,
      mapper: 'k8s/1',
      mapping_sha256: null,
      overrides: `mapping file sha256 ${sha}`,
      text: `auditor's choice: built-in k8s mapper (k8s/1) (overrides the producer's mapping file sha256 ${sha})`,
    };
    let normalization: typeof producer | typeof auditor = producer;
    const row = () => ({
      id: 1,
      path: '/data/friendly.zip',
      status: 'verified',
      failure: null,
      origin: 'example.com/prod/k8s',
      sequence: 1,
      source_kind: 'mapping',
      events: 37,
      bytes: 1000,
      time_first: '2017-09-11T19:55:05Z',
      time_last: '2017-09-11T20:29:04Z',
      signer_key: 'producer+abcd+KEY',
      signer_name: 'producer',
      signer_fingerprint: 'SHA256:prod',
      imported_at: '2026-01-01T00:00:00Z',
      gap_before: null,
      normalization,
    });
    const asked: unknown[] = [];
    mockBackend({
      ...basics(startup({ db: { ...startup().db, archives: 1, events: 37 } })),
      archives: () => ({ archives: [row()] }),
      archive_detail: () => ({ archive: row(), checkpoint: 'cp', manifest: '{}', declared_time_range: null, failure: null }),
      renormalize_archive: (a) => {
        asked.push(a);
        normalization = auditor;
        return { archive_id: 1, normalization: auditor, changed: true, events: 37 };
      },
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Archives' }));
    expect(await screen.findByText("producer's mapping file")).toBeTruthy();
    fireEvent.click(document.querySelector('tr[data-archive-id="1"]') as HTMLElement);
    const n = await waitFor(() => { const el = document.getElementById('archive-normalization'); if (!el) throw new Error('no #archive-normalization'); return el; });
    expect(n.textContent).toContain(`producer's mapping file sha256 ${sha} (producer rules)`);
    fireEvent.click(screen.getByText('Re-normalize with built-in mapper…'));
    fireEvent.change(document.getElementById('renormalize-kind') as HTMLSelectElement, { target: { value: 'k8s' } });
    fireEvent.click(screen.getByText('Re-normalize'));
    const done = await waitFor(() => { const el = document.getElementById('renormalize-result'); if (!el) throw new Error('no #renormalize-result'); return el; });
    expect(asked).toEqual([{ id: 1, kind: 'k8s' }]);
    expect(done.textContent).toContain(`37 events re-normalized: ${auditor.text}`);
    await waitFor(() => expect(document.getElementById('archive-normalization')?.getAttribute('data-by')).toBe('auditor'));
  });

  it('shows the error when the archives cannot be listed', async () => {
    mockBackend({ ...basics(), archives: () => Promise.reject({ code: 'database', message: 'database error: database is locked' }) });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Archives' }));
    expect((await screen.findByRole('alert')).textContent).toContain('database is locked');
  });
});
