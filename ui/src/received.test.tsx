// Component tests of evidence sealed on receipt (docs/archive-format.md section 4.1) with the IPC mocked: it is
// labelled "sealed on receipt" with its full label on Search, the event screen, Archives and the import card, and
// never just "verified"; its labels and file names stay text whatever they hold; a dropped file that is not a ZIP
// opens the "Import unsigned logs" dialog instead of being imported, and the dialog seals on receipt through
// `receive_files` (with the files and the origin) or says why it cannot (no auditor key).

import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { ArchiveRow, AuditorKey, EventDetail, EventRow, ImportEvent, ImportResult } from './backend';
import { basics, isListening, mockBackend, startup } from './test/mock-backend';
import { renderApp } from './test/render-app';

const MEANING = 'proves no change since receipt, not authenticity at the source';
const hostileName = 'jane\u202eevil<img src=x onerror=window.__pwned=1>';
const label = `sealed on receipt by ${hostileName} (SHA256:jane) at 2026-05-01T10:00:00Z: ${MEANING}`;
/** The label as the screen shows it: the right-to-left override made visible, the markup as text. */
const shownLabel = label.replace('\u202e', '\\u{202e}');

const auditor: AuditorKey = {
  name: 'jane-audit',
  fingerprint: 'SHA256:jane',
  key: 'jane-audit+1234abcd+KEY',
  path: '/home/u/.local/share/dev.auditlens.app/auditor-keys/jane-audit.key',
  pub_path: null,
  created_in_app: true,
};

const withEvents = startup({ db: { ...startup().db, events: 3, archives: 2 } });

function row(change: Partial<EventRow>): EventRow {
  return {
    id: 'received/demo@1#0',
    time: '2024-05-01T10:00:00Z',
    source: 'k8s',
    origin: 'received/demo',
    actor: 'alice',
    action: 'get',
    resource: 'pods',
    outcome: 'success',
    category: 'read',
    ip: null,
    agent: null,
    env: null,
    stage: null,
    privilege: null,
    archive: 'received/demo@1',
    sequence: 1,
    index: 0,
    verified: true,
    received: true,
    ...change,
  };
}

const detail: EventDetail = {
  ...row({}),
  raw: '{"user":{"username":"alice"}}',
  leaf: 'ab'.repeat(32),
  archive_id: 1,
  archive_path: '/home/u/received/received_demo.zip',
  archive_status: 'verified',
  signer_key: auditor.key,
  signer_fingerprint: 'SHA256:jane',
  checkpoint: 'received/demo\n1\nroot\n',
  root: 'root',
  received_label: label,
};

function archive(change: Partial<ArchiveRow>): ArchiveRow {
  return {
    id: 1,
    path: '/home/u/received/received_demo.zip',
    status: 'verified',
    failure: null,
    origin: 'received/demo',
    sequence: 1,
    source_kind: 'k8s',
    events: 3,
    bytes: 1000,
    time_first: '2024-05-01T10:00:00Z',
    time_last: '2024-05-01T10:05:00Z',
    signer_key: auditor.key,
    signer_name: hostileName,
    signer_fingerprint: 'SHA256:jane',
    imported_at: '2026-05-01T10:00:01Z',
    gap_before: null,
    untimed: 0,
    received_at: '2026-05-01T10:00:00Z',
    received_label: label,
    evidence: null,
    evidence_label: null,
    cloudtrail_hours: null,
    ...change,
  };
}

/** The import result of the archive `receive_files` sealed and imported. */
function receivedResult(path: string): ImportResult {
  return {
    path,
    outcome: 'imported',
    message: `signature checked and imported 3 events; ${label}`,
    stored: true,
    archive_id: 1,
    gap_before: null,
    lookalikes: [],
    report: {
      path,
      status: 'verified',
      origin: 'received/demo',
      sequence: 1,
      events: 3,
      bytes: 300,
      time_range: null,
      received: {
        at: '2026-05-01T10:00:00Z',
        files: [{ name: 'demo\u202e.log', sha256: 'cd'.repeat(32), bytes: 2048, entry: 'events/000001.jsonl' }],
      },
      source_kind: 'k8s',
      signer: { key: auditor.key, name: 'jane-audit', fingerprint: 'SHA256:jane', trusted: true },
      root: null,
      chain_start: null,
      chain_end: null,
      manifest_sha256: null,
      parse_errors: 0,
      failure: null,
    },
  };
}

/** Mocks `receive_files`: each call gets the events `script(job)` returns, delivered on its channel. */
function receiveScript(script: (job: number) => ImportEvent[]) {
  let job = 0;
  return (a: Record<string, unknown>) => {
    job += 1;
    const ch = a.onEvent as { onmessage: (e: ImportEvent) => void };
    const events = script(job);
    setTimeout(() => events.forEach((e) => ch.onmessage(e)), 0);
    return job;
  };
}

async function drop(paths: string[]) {
  await waitFor(() => expect(isListening('tauri://drag-drop')).toBe(true));
  const { emit } = await import('@tauri-apps/api/event');
  await act(async () => {
    await emit('tauri://drag-drop', { paths, position: { x: 1, y: 2 } });
  });
}

const dialog = () =>
  waitFor(() => {
    const el = document.getElementById('receive-dialog');
    if (!el) throw new Error('no #receive-dialog');
    return el;
  });

describe('evidence sealed on receipt', () => {
  // The virtual result list draws the rows that fit its height; jsdom lays nothing out, so it is given one.
  const own = Object.getOwnPropertyDescriptors(HTMLElement.prototype);
  beforeEach(() => {
    Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => 600 });
    Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => 1200 });
  });
  afterEach(() => {
    for (const k of ['clientHeight', 'clientWidth'] as const) {
      if (own[k]) Object.defineProperty(HTMLElement.prototype, k, own[k]);
      else delete (HTMLElement.prototype as unknown as Record<string, unknown>)[k];
    }
  });

  it('is a "sealed on receipt" badge in the results, with what it proves in its title, never "verified"', async () => {
    mockBackend({
      ...basics(withEvents),
      search: () => ({
        events: [
          row({}),
          row({ id: 'prod@1#0', origin: 'prod', archive: 'prod@1', received: false }),
          row({ id: 'received/x@1#0', archive: 'received/x@1', verified: false }),
        ],
        next: null,
      }),
      count: () => 3,
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(container.querySelectorAll('#results-body [role=row]').length).toBe(3));
    const cell = (id: string) => container.querySelector(`[data-event-id="${id}"] .col-verified`)!;
    const badge = cell('received/demo@1#0').querySelector('.badge')!;
    expect(badge.textContent).toBe('sealed on receipt');
    expect(badge.className).toContain('receipt');
    expect(badge.getAttribute('title')).toContain(MEANING);
    expect(cell('received/demo@1#0').getAttribute('title')).toContain(MEANING);
    expect(cell('received/demo@1#0').textContent).not.toMatch(/^verified/);
    expect(cell('prod@1#0').textContent).toBe('verified');
    // Sealed on receipt but not verified (a kept archive that failed): not verified, whatever else it is.
    expect(cell('received/x@1#0').textContent).toBe('NOT VERIFIED');
  });

  it('says its label in the event provenance instead of "verified in full under a trusted key", as text', async () => {
    mockBackend({
      ...basics(withEvents),
      search: () => ({ events: [row({})], next: null }),
      count: () => 1,
      event: () => detail,
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(screen.getByText('1 match')).toBeTruthy());
    fireEvent.keyDown(container.querySelector('#results-body')!, { key: 'Enter' });
    const status = await waitFor(() => {
      const el = document.getElementById('event-status');
      if (!el) throw new Error('no #event-status');
      return el;
    });
    expect(status.getAttribute('data-status')).toBe('received');
    expect(within(status).getByText('Sealed on receipt').className).toContain('receipt');
    expect(document.getElementById('event-receipt-label')!.textContent).toBe(shownLabel);
    expect(status.textContent).not.toContain('verified in full');
    expect(status.textContent).not.toContain('Verified');
    expect(status.textContent).not.toContain('\u202e');
    expect(container.querySelector('img, script, iframe, [onerror]')).toBeNull();
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it('is a "sealed on receipt" status with its label on Archives, in the row and the detail, as text', async () => {
    Element.prototype.scrollIntoView = () => {};
    const sealed = archive({});
    const plain = archive({
      id: 2,
      origin: 'prod',
      signer_name: 'ops',
      signer_fingerprint: 'SHA256:ops',
      received_at: null,
      received_label: null,
    });
    mockBackend({
      ...basics(withEvents),
      archives: () => ({ archives: [sealed, plain], lookalikes: [], continuity: [] }),
      archive_detail: (a) => ({
        archive: a.id === 1 ? sealed : plain,
        checkpoint: 'cp',
        manifest: '{}',
        declared_time_range: null,
        failure: null,
      }),
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Archives' }));
    const tr = await waitFor(() => {
      const el = container.querySelector('tr[data-archive-id="1"]');
      if (!el) throw new Error('no row');
      return el as HTMLElement;
    });
    const status = tr.querySelector('.status-cell')!;
    expect(status.querySelector('.badge')!.textContent).toBe('Sealed on receipt');
    expect(status.querySelector('.badge')!.className).toContain('receipt');
    expect(container.querySelector('tr[data-receipt-for="1"] .archive-receipt-label')!.textContent).toBe(shownLabel);
    expect(container.querySelector('tr[data-receipt-for="2"]')).toBeNull();
    expect(status.textContent).not.toContain('Verified');
    expect(container.querySelector('tr[data-archive-id="2"] .status-cell')!.textContent).toBe('Verified');

    fireEvent.click(tr);
    const detailLabel = await waitFor(() => {
      const el = document.getElementById('archive-receipt-label');
      if (!el) throw new Error('no #archive-receipt-label');
      return el;
    });
    expect(detailLabel.textContent).toBe(shownLabel);
    const detailStatus = document.getElementById('archive-status')!;
    expect(detailStatus.textContent).toContain('Sealed on receipt');
    expect(detailStatus.textContent).not.toContain('verified under a trusted key');
    expect(container.textContent).not.toContain('\u202e');
    expect(container.querySelector('img, script, iframe, [onerror]')).toBeNull();
  });

  it('opens the dialog for a dropped file that is not a ZIP, prefilled, instead of importing it', async () => {
    const dropped = ['/home/u/logs/demo.log', '/home/u/logs/more.log.gz'];
    const calls = mockBackend({
      ...basics(withEvents),
      auditor_key: () => auditor,
      file_kinds: (a) => (a.paths as string[]).map((p) => (p.endsWith('.zip') ? 'archive' : 'unsigned')),
      import_archives: () => 1,
    });
    await renderApp();
    // The window opens on the Overview (the database has events); the drop brings the Import screen.
    await drop([...dropped, '/home/u/a.zip']);
    const d = await dialog();
    expect(screen.getByRole('tab', { name: 'Import' }).getAttribute('aria-selected')).toBe('true');
    expect(Array.from(d.querySelectorAll('#receive-files li')).map((li) => li.getAttribute('data-path'))).toEqual(dropped);
    expect((document.getElementById('receive-origin') as HTMLInputElement).value).toBe('received/demo');
    expect(d.textContent).toContain(MEANING);
    await waitFor(() => expect(d.textContent).toContain(auditor.fingerprint));
    // The archive dropped with them is imported as an archive; the logs are not.
    await waitFor(() => expect(calls.find((c) => c.cmd === 'import_archives')?.args.paths).toEqual(['/home/u/a.zip']));
    expect(calls.some((c) => c.cmd === 'receive_files')).toBe(false);
  });

  it('seals the files through receive_files with the paths and the origin; the import list shows the label', async () => {
    const calls = mockBackend({
      ...basics(),
      auditor_key: () => auditor,
      keys: () => [],
      file_kinds: () => ['unsigned'],
      receive_files: receiveScript((job) => {
        const out = '/home/u/.local/share/dev.auditlens.app/received/received_audit-prod-20260501T100000Z.zip';
        return [
          { kind: 'queued', job, paths: [out] },
          { kind: 'started', job, index: 0, path: out },
          {
            kind: 'progress',
            job,
            index: 0,
            elapsed_ms: 5,
            progress: { events_done: 1, events_total: 3, bytes_done: 100, bytes_total: 300 },
          },
          { kind: 'finished', job, index: 0, elapsed_ms: 9, result: receivedResult(out) },
          { kind: 'done', job, cancelled: false },
        ];
      }),
    });
    await renderApp();
    await drop(['/home/u/logs/demo.log']);
    const d = await dialog();
    const confirm = () => document.getElementById('receive-confirm') as HTMLButtonElement;
    await waitFor(() => expect(confirm().disabled).toBe(false));
    expect(confirm().textContent).toBe('Seal on receipt and import 1 file');
    // The origin is the auditor's to name; one with a * is refused before anything is sent.
    const origin = document.getElementById('receive-origin') as HTMLInputElement;
    fireEvent.change(origin, { target: { value: 'received/*' } });
    expect(document.getElementById('receive-origin-problem')!.textContent).toContain('*');
    expect(confirm().disabled).toBe(true);
    fireEvent.change(origin, { target: { value: 'audit/prod' } });
    expect(confirm().disabled).toBe(false);
    fireEvent.click(confirm());

    await waitFor(() => expect(document.getElementById('receive-dialog')).toBeNull());
    const call = calls.find((c) => c.cmd === 'receive_files')!;
    expect(call.args.paths).toEqual(['/home/u/logs/demo.log']);
    expect(call.args.origin).toBe('audit/prod');
    expect(d.isConnected).toBe(false);
    const card = await waitFor(() => {
      const el = document.querySelector('li.import-card[data-outcome="imported"]');
      if (!el) throw new Error('no imported card');
      return el as HTMLElement;
    });
    expect(card.querySelector('.badge')!.textContent).toBe('Sealed on receipt');
    expect(card.className).toContain('tone-receipt');
    expect(card.querySelector('.result-message')!.textContent).toContain(shownLabel);
    expect(card.querySelector('.received-files')!.textContent).toContain('demo\\u{202e}.log');
    expect(card.textContent).not.toMatch(/\bVerified\b/);
    expect(card.textContent).not.toContain('\u202e');
    expect(document.querySelector('img, script, iframe, [onerror]')).toBeNull();
    // The auditor's key is now trusted for the origin: the keyring is read again.
    await waitFor(() => expect(calls.some((c) => c.cmd === 'keys')).toBe(true));
  });

  it('says there is no auditor key yet, and offers to create or choose one, before anything is sealed', async () => {
    const calls = mockBackend({
      ...basics(),
      auditor_key: () => null,
      file_kinds: () => ['unsigned'],
    });
    await renderApp();
    await drop(['/home/u/logs/demo.log']);
    await dialog();
    const noKey = await waitFor(() => {
      const el = document.getElementById('receive-no-key');
      if (!el) throw new Error('no #receive-no-key');
      return el;
    });
    expect(noKey.textContent).toContain('No auditor key yet');
    expect((document.getElementById('receive-confirm') as HTMLButtonElement).disabled).toBe(true);
    expect(document.getElementById('auditor-create')).not.toBeNull();
    expect(document.getElementById('auditor-choose')).not.toBeNull();
    expect(calls.some((c) => c.cmd === 'receive_files')).toBe(false);

  });

  it('shows the error receive_files reports (no auditor key) in the dialog, which stays open, and in the list', async () => {
    mockBackend({
      ...basics(),
      auditor_key: () => auditor,
      file_kinds: (a) => (a.paths as string[]).map((p) => (p.endsWith('.zip') ? 'archive' : 'unsigned')),
      'plugin:dialog|open': () => ['/home/u/logs/audit\u202e.log', '/home/u/x.zip'],
      receive_files: receiveScript((job) => [
        { kind: 'queued', job, paths: ['/home/u/logs/audit\u202e.log'] },
        {
          kind: 'failed',
          job,
          index: 0,
          path: '/home/u/logs/audit\u202e.log',
          error: {
            code: 'not-found',
            message: 'no auditor key yet: create one (or choose your .key file); received files are sealed with it',
          },
        },
        { kind: 'done', job, cancelled: false },
      ]),
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('button', { name: 'Import unsigned logs…' }));
    const d = await dialog();
    expect(d.textContent).toContain('No file yet');
    fireEvent.click(document.getElementById('receive-choose')!);
    // Picked with the native dialog: the log is added (its name as text), the ZIP is not a log to seal.
    await waitFor(() => expect(d.querySelectorAll('#receive-files li').length).toBe(1));
    expect(d.querySelector('#receive-files')!.textContent).toContain('/home/u/logs/audit\\u{202e}.log');
    expect(document.getElementById('receive-skipped')!.textContent).toContain('x.zip');
    expect((document.getElementById('receive-origin') as HTMLInputElement).value).toBe('received/audit');
    await waitFor(() => expect((document.getElementById('receive-confirm') as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(document.getElementById('receive-confirm')!);
    const err = await waitFor(() => {
      const el = document.getElementById('receive-error');
      if (!el) throw new Error('no #receive-error');
      return el;
    });
    expect(err.textContent).toContain('no auditor key yet');
    expect(document.getElementById('receive-dialog')).not.toBeNull();
    expect((document.getElementById('receive-confirm') as HTMLButtonElement).textContent).toContain('Seal on receipt');
    const card = document.querySelector('li.import-card')!;
    expect(card.getAttribute('data-outcome')).toBe('failed');
    expect(card.textContent).toContain('no auditor key yet');
    expect(document.body.textContent).not.toContain('\u202e');
  });
});
