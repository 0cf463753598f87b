// Component tests of a dropped AWS CloudTrail export with the IPC mocked: it opens its dialog instead of being
// imported as an archive, the dialog sends the export, the keys, the signatures file and the accounts to
// `verify_cloudtrail`, and the report (verdict, chains, every failure with its expected and found hash) is shown as
// text whatever the export's names hold. "Verify and import" sends the same to `import_cloudtrail` and shows what was
// stored per trail with its label, or, for an export that fails, its failures and nothing said imported. Its events
// and archives are then "signed by AWS CloudTrail" on Search, the event screen and Archives (with the hours of its
// signed digests and their gaps), as text.

import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { ArchiveRow, CloudTrailCheck, CloudTrailImport, CloudTrailStep, EventDetail, EventRow } from './backend';
import { basics, isListening, mockBackend, startup } from './test/mock-backend';
import { renderApp } from './test/render-app';
import { originQuery } from './components/CloudTrailDialog';

const hostile = 'org<img src=x onerror=window.__pwned=1>\u202e';

function check(verified: boolean): CloudTrailCheck {
  const failure = {
    kind: 'log_hash_mismatch' as const,
    file: `AWSLogs/111122223333/CloudTrail/eu-west-1/2024/03/10/${hostile}.json.gz`,
    expected: 'aa'.repeat(32),
    found: 'bb'.repeat(32),
    detail: `log file ${hostile}: SHA-256 of its content differs`,
  };
  return {
    path: '/exports/trail',
    report: {
      verified,
      accounts_pinned: true,
      chains: [
        {
          backfill: false,
          account: '111122223333',
          region: 'eu-west-1',
          trail: hostile,
          home_region: 'us-east-1',
          base: '',
          first_digest_start: '2024-03-10T09:00:00Z',
          last_digest_end: '2024-03-10T14:00:00Z',
          hours_spanned: 5,
          digests_found: 5,
          digests_verified: 5,
          digests_empty: 1,
          log_files_listed: 8,
          log_files_verified: verified ? 8 : 7,
          log_files_not_yet_covered: 2,
          log_files_before_first_digest: 0,
          starts_at_first_digest: true,
          earlier_digest_not_in_export: null,
          restarts: [],
          failures: verified ? [] : [failure],
        },
      ],
      failures: [],
    },
    text: [`trail ${hostile} account 111122223333 region eu-west-1 (home us-east-1)`, verified ? 'VERIFIED' : 'NOT VERIFIED: 1 failure(s)'],
  };
}

const ORIGIN = 'aws-cloudtrail:111122223333/eu-west-1/audit';
const LABEL = "signed by AWS CloudTrail (key 0123abcd): log files verified against AWS's signed digests";

function imported(): CloudTrailImport {
  return {
    path: '/exports/trail',
    outcome: 'imported',
    message: `verified with AWS's signatures and imported 8 events from 2 trails (${ORIGIN}, ${hostile})`,
    report: check(true).report,
    trails: [
      {
        origin: ORIGIN,
        outcome: 'imported',
        archive_id: 7,
        sequence: 1,
        events: 5,
        digests: 5,
        log_files: 4,
        log_files_already_stored: 0,
        parse_errors: 0,
        label: LABEL,
        message: 'imported 5 events from 4 log files listed in 5 signed digests',
      },
      {
        origin: `aws-cloudtrail:111122223333/eu-west-1/${hostile}`,
        outcome: 'imported',
        archive_id: 8,
        sequence: 1,
        events: 3,
        digests: 2,
        log_files: 2,
        log_files_already_stored: 1,
        parse_errors: 0,
        label: `${LABEL} ${hostile}`,
        message: `imported 3 events; ${hostile}`,
      },
    ],
  };
}

function failed(): CloudTrailImport {
  return {
    path: '/exports/trail',
    outcome: 'failed',
    message: `the export does not verify (1 failure); nothing was stored: log file ${hostile}: SHA-256 of its content differs`,
    report: check(false).report,
    trails: [],
  };
}

async function drop(paths: string[]) {
  await waitFor(() => expect(isListening('tauri://drag-drop')).toBe(true));
  await act(async () => {
    const { emit } = await import('@tauri-apps/api/event');
    await emit('tauri://drag-drop', { paths, position: { x: 1, y: 2 } });
  });
}

describe('a CloudTrail export', () => {
  beforeEach(() => {
    (window as unknown as { __pwned?: number }).__pwned = undefined;
  });
  afterEach(() => {
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  for (const verified of [true, false]) {
    it(`opens the verification dialog when dropped, and shows the report as text (${verified ? 'verified' : 'a failure'})`, async () => {
      const calls = mockBackend({
        ...basics(startup()),
        file_kinds: (a) => (a.paths as string[]).map((p) => (p === '/exports/trail' ? 'cloudtrail' : 'archive')),
        import_archives: () => 1,
        'plugin:dialog|open': () => ['/keys/keys.json'],
        verify_cloudtrail: () => check(verified),
      });
      await renderApp();
      await drop(['/exports/trail']);
      const d = await waitFor(() => {
        const el = document.getElementById('cloudtrail-dialog');
        if (!el) throw new Error('no dialog');
        return el;
      });
      expect(screen.getByRole('tab', { name: 'Import' }).getAttribute('aria-selected')).toBe('true');
      const explain = document.getElementById('cloudtrail-explain')!.textContent;
      expect(explain).toContain('Only an export that verifies in full is imported');
      expect(explain).toContain('signed by AWS CloudTrail');
      expect(explain).toContain('Re-check database');
      expect(d.textContent).not.toContain('not built');
      expect(calls.some((c) => c.cmd === 'import_archives')).toBe(false);
      const verify = document.getElementById('cloudtrail-verify') as HTMLButtonElement;
      expect(verify.disabled).toBe(true);
      expect(verify.className).not.toContain('primary');
      const importButton = document.getElementById('cloudtrail-import') as HTMLButtonElement;
      expect(importButton.textContent).toBe('Verify and import');
      expect(importButton.className).toContain('primary');
      expect(importButton.disabled).toBe(true);
      fireEvent.click(document.getElementById('cloudtrail-choose-keys')!);
      await waitFor(() => expect(document.getElementById('cloudtrail-keys')!.textContent).toContain('keys.json'));
      fireEvent.change(document.getElementById('cloudtrail-accounts')!, { target: { value: '111122223333, 444455556666' } });
      fireEvent.click(verify);
      const verdict = await waitFor(() => {
        const el = document.getElementById('cloudtrail-verdict');
        if (!el) throw new Error('no verdict');
        return el;
      });
      expect(calls.find((c) => c.cmd === 'verify_cloudtrail')!.args).toEqual({
        path: '/exports/trail',
        keys: ['/keys/keys.json'],
        signatures: null,
        accounts: ['111122223333', '444455556666'],
      });
      expect(verdict.textContent).toContain(verified ? 'Verified.' : 'Not verified.');
      expect(document.getElementById('cloudtrail-chains')!.textContent).toContain(verified ? '8 of 8' : '7 of 8');
      const failures = document.getElementById('cloudtrail-failures');
      if (verified) {
        expect(failures).toBeNull();
      } else {
        expect(failures!.textContent).toContain('log_hash_mismatch');
        expect(failures!.textContent).toContain(`expected ${'aa'.repeat(32)}, found ${'bb'.repeat(32)}`);
        expect(failures!.textContent).toContain('org<img src=x onerror=window.__pwned=1>\\u{202e}');
      }
      expect(d.querySelector('img, script, iframe, [onerror]')).toBeNull();
      expect(d.textContent).not.toContain('\u202e');
      // Verifying alone imports nothing.
      expect(calls.some((c) => c.cmd === 'import_cloudtrail')).toBe(false);
      expect(document.getElementById('cloudtrail-import-result')).toBeNull();
    });
  }

  it('opens the same dialog for a folder picked with "Choose a CloudTrail export…" on the Import screen', async () => {
    const calls = mockBackend({
      ...basics(startup()),
      file_kinds: (a) => (a.paths as string[]).map(() => 'cloudtrail'),
      'plugin:dialog|open': () => '/exports/picked-trail',
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Import' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Choose a CloudTrail export…' }));
    await waitFor(() => expect(document.getElementById('cloudtrail-path')!.textContent).toBe('/exports/picked-trail'));
    const picker = calls.find((c) => c.cmd === 'plugin:dialog|open')!.args.options as { directory?: boolean };
    expect(picker.directory).toBe(true);
    expect(calls.find((c) => c.cmd === 'file_kinds')!.args).toEqual({ paths: ['/exports/picked-trail'] });
    expect(calls.some((c) => c.cmd === 'import_archives')).toBe(false);
  });

  /** Drops the export, chooses the keys and types the accounts; returns the dialog. */
  async function openWithKeys() {
    await renderApp();
    await drop(['/exports/trail']);
    const d = await waitFor(() => {
      const el = document.getElementById('cloudtrail-dialog');
      if (!el) throw new Error('no dialog');
      return el;
    });
    fireEvent.click(document.getElementById('cloudtrail-choose-keys')!);
    await waitFor(() => expect(document.getElementById('cloudtrail-keys')!.textContent).toContain('keys.json'));
    fireEvent.change(document.getElementById('cloudtrail-accounts')!, { target: { value: '111122223333' } });
    return d;
  }

  const importResult = () =>
    waitFor(() => {
      const el = document.getElementById('cloudtrail-import-result');
      if (!el) throw new Error('no import result');
      return el;
    });

  it('verifies and imports with "Verify and import", shows each trail with its label as text, and refreshes the database', async () => {
    let answer: (r: CloudTrailImport) => void = () => undefined;
    const calls = mockBackend({
      ...basics(startup()),
      file_kinds: () => ['cloudtrail'],
      'plugin:dialog|open': (a) =>
        (a.options as { multiple?: boolean }).multiple ? ['/keys/keys.json'] : ['/keys/signatures.json'],
      import_cloudtrail: (a) => {
        // The backend tells how far it got through the channel, then answers.
        const ch = a.onProgress as { onmessage: (s: CloudTrailStep) => void };
        setTimeout(() => ch.onmessage({ storing: { done: 3, total: 6, events: 1200 } }), 0);
        return new Promise<CloudTrailImport>((resolve) => (answer = resolve));
      },
    });
    const d = await openWithKeys();
    fireEvent.click(document.getElementById('cloudtrail-choose-signatures')!);
    await waitFor(() => expect(document.getElementById('cloudtrail-choose-signatures')!.textContent).toContain('signatures.json'));
    const button = document.getElementById('cloudtrail-import') as HTMLButtonElement;
    expect(button.disabled).toBe(false);
    fireEvent.click(button);
    await waitFor(() => expect(button.textContent).toBe('Verifying and importing…'));
    expect(button.disabled).toBe(true);
    expect((document.getElementById('cloudtrail-verify') as HTMLButtonElement).disabled).toBe(true);
    const { onProgress, ...sent } = calls.find((c) => c.cmd === 'import_cloudtrail')!.args;
    expect(onProgress).toBeDefined();
    expect(sent).toEqual({
      path: '/exports/trail',
      keys: ['/keys/keys.json'],
      signatures: '/keys/signatures.json',
      accounts: ['111122223333'],
    });
    await waitFor(() =>
      expect(document.getElementById('cloudtrail-progress')!.textContent).toContain(
        'Storing log files: 3 of 6, 1,200 events stored',
      ),
    );
    expect(calls.some((c) => c.cmd === 'verify_cloudtrail')).toBe(false);
    const statusCalls = () => calls.filter((c) => c.cmd === 'db_status').length;
    const before = statusCalls();
    await act(async () => answer(imported()));

    const result = await importResult();
    expect(result.getAttribute('data-outcome')).toBe('imported');
    expect(button.textContent).toBe('Verify and import');
    expect(document.getElementById('cloudtrail-progress')).toBeNull();
    const message = document.getElementById('cloudtrail-import-message')!;
    expect(message.className).toContain('good');
    expect(message.textContent).toContain('imported 8 events from 2 trails');
    expect(message.textContent).toContain('org<img src=x onerror=window.__pwned=1>\\u{202e}');
    const trails = Array.from(result.querySelectorAll('#cloudtrail-import-trails li'));
    expect(trails.length).toBe(2);
    expect(trails[0].getAttribute('data-origin')).toBe(ORIGIN);
    expect(trails[0].textContent).toContain(ORIGIN);
    expect(trails[0].textContent).toContain('5 events, 4 log files, 5 signed digests');
    expect(trails[0].querySelector('.evidence-label')!.textContent).toBe(LABEL);
    expect(trails[1].textContent).toContain('aws-cloudtrail:111122223333/eu-west-1/org<img src=x onerror=window.__pwned=1>\\u{202e}');
    expect(trails[1].textContent).toContain('3 events, 2 log files (1 log file already stored), 2 signed digests');
    expect(trails[1].querySelector('.evidence-label')!.textContent).toContain(LABEL);
    // A successful import shows no failure list.
    expect(document.getElementById('cloudtrail-failures')).toBeNull();
    // The stored data changed: the database status is read again (Archives and Search reload with it).
    await waitFor(() => expect(statusCalls()).toBeGreaterThan(before));
    expect(d.querySelector('img, script, iframe, [onerror]')).toBeNull();
    expect(d.textContent).not.toContain('\u202e');
    expect(document.getElementById('cloudtrail-show-archives')).not.toBeNull();
    // "Search its events": the dialog closes and Search runs the trail's exact origin, quoted.
    fireEvent.click(within(trails[1] as HTMLElement).getByRole('button', { name: 'Search its events' }));
    await waitFor(() => expect(document.getElementById('cloudtrail-dialog')).toBeNull());
    expect(screen.getByRole('tab', { name: 'Search' }).getAttribute('aria-selected')).toBe('true');
    await waitFor(() =>
      expect(calls.some((c) => c.cmd === 'search' && c.args.query === originQuery(trails[1].getAttribute('data-origin')!))).toBe(
        true,
      ),
    );
    expect(originQuery('a"b\\c')).toBe('origin:"a\\"b\\\\c"');
  });

  it('shows the failures of an export that does not verify, and never says it was imported', async () => {
    const calls = mockBackend({
      ...basics(startup()),
      file_kinds: () => ['cloudtrail'],
      'plugin:dialog|open': () => ['/keys/keys.json'],
      import_cloudtrail: () => failed(),
    });
    const d = await openWithKeys();
    const statusCalls = () => calls.filter((c) => c.cmd === 'db_status').length;
    const before = statusCalls();
    fireEvent.click(document.getElementById('cloudtrail-import')!);
    const result = await importResult();
    expect(result.getAttribute('data-outcome')).toBe('failed');
    const message = document.getElementById('cloudtrail-import-message')!;
    expect(message.className).toContain('error');
    expect(message.textContent).toContain('nothing was stored');
    expect(result.textContent).not.toMatch(/imported/i);
    expect(result.querySelectorAll('#cloudtrail-import-trails li').length).toBe(0);
    // The failures, as the verification lists them.
    expect(document.getElementById('cloudtrail-verdict')!.textContent).toContain('Not verified.');
    const failures = document.getElementById('cloudtrail-failures')!;
    expect(failures.textContent).toContain('log_hash_mismatch');
    expect(failures.textContent).toContain(`expected ${'aa'.repeat(32)}, found ${'bb'.repeat(32)}`);
    expect(document.getElementById('cloudtrail-chains')!.textContent).toContain('7 of 8');
    expect(document.getElementById('cloudtrail-verdict')!.textContent).not.toMatch(/imported/i);
    // Nothing was stored: the database is not read again.
    expect(statusCalls()).toBe(before);
    expect(d.querySelector('img, script, iframe, [onerror]')).toBeNull();
    expect(d.textContent).not.toContain('\u202e');
  });

  it('takes JSON files dropped on the open dialog as its AWS keys; anything else dropped is imported as usual', async () => {
    const calls = mockBackend({
      ...basics(startup()),
      file_kinds: (a) => (a.paths as string[]).map((p) => (p === '/exports/trail' ? 'cloudtrail' : 'archive')),
      import_archives: () => 1,
      import_cloudtrail: () => imported(),
    });
    await renderApp();
    await drop(['/exports/trail']);
    await waitFor(() => expect(document.getElementById('cloudtrail-dialog')).not.toBeNull());
    expect((document.getElementById('cloudtrail-import') as HTMLButtonElement).disabled).toBe(true);
    await drop(['/keys/dropped.json', '/data/other.zip']);
    await waitFor(() => expect(document.getElementById('cloudtrail-keys')!.textContent).toContain('dropped.json'));
    await waitFor(() => expect(calls.find((c) => c.cmd === 'import_archives')?.args.paths).toEqual(['/data/other.zip']));
    expect(calls.filter((c) => c.cmd === 'file_kinds').map((c) => c.args.paths)).toEqual([['/exports/trail'], ['/data/other.zip']]);
    fireEvent.click(document.getElementById('cloudtrail-import')!);
    await importResult();
    expect(calls.find((c) => c.cmd === 'import_cloudtrail')!.args.keys).toEqual(['/keys/dropped.json']);
    // Once the dialog is closed, a dropped JSON file is no longer a key: it goes where dropped files go.
    fireEvent.click(document.getElementById('cloudtrail-close')!);
    await waitFor(() => expect(document.getElementById('cloudtrail-dialog')).toBeNull());
    await drop(['/keys/later.json']);
    await waitFor(() => expect(calls.filter((c) => c.cmd === 'file_kinds').at(-1)?.args.paths).toEqual(['/keys/later.json']));
  });

  it('shows why it cannot import', async () => {
    mockBackend({
      ...basics(startup()),
      file_kinds: () => ['cloudtrail'],
      'plugin:dialog|open': () => ['/keys/keys.json'],
      import_cloudtrail: () => Promise.reject({ code: 'io', message: `cannot read /keys/keys.json: ${hostile}` }),
    });
    await openWithKeys();
    fireEvent.click(document.getElementById('cloudtrail-import')!);
    const err = await waitFor(() => {
      const el = document.getElementById('cloudtrail-error');
      if (!el) throw new Error('no error');
      return el;
    });
    expect(err.textContent).toContain('cannot read /keys/keys.json');
    expect(err.textContent).not.toContain('\u202e');
    expect(document.getElementById('cloudtrail-import-result')).toBeNull();
    expect(document.querySelector('img, script, iframe, [onerror]')).toBeNull();
  });

  it('shows why it cannot verify', async () => {
    mockBackend({
      ...basics(startup()),
      file_kinds: () => ['cloudtrail'],
      'plugin:dialog|open': () => ['/keys/bad.json'],
      verify_cloudtrail: () => Promise.reject({ code: 'invalid', message: '/keys/bad.json: not a list of public keys' }),
    });
    await renderApp();
    await drop(['/exports/trail']);
    await waitFor(() => expect(document.getElementById('cloudtrail-dialog')).not.toBeNull());
    fireEvent.click(document.getElementById('cloudtrail-choose-keys')!);
    await waitFor(() => expect(document.getElementById('cloudtrail-keys')).not.toBeNull());
    fireEvent.click(document.getElementById('cloudtrail-verify')!);
    const err = await waitFor(() => {
      const el = document.getElementById('cloudtrail-error');
      if (!el) throw new Error('no error');
      return el;
    });
    expect(err.textContent).toContain('not a list of public keys');
    expect(document.getElementById('cloudtrail-result')).toBeNull();
  });
});

describe('imported CloudTrail evidence', () => {
  // The virtual result list draws the rows that fit its height; jsdom lays nothing out, so it is given one.
  const own = Object.getOwnPropertyDescriptors(HTMLElement.prototype);
  beforeEach(() => {
    (window as unknown as { __pwned?: number }).__pwned = undefined;
    Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => 600 });
    Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => 1200 });
  });
  afterEach(() => {
    for (const k of ['clientHeight', 'clientWidth'] as const) {
      if (own[k]) Object.defineProperty(HTMLElement.prototype, k, own[k]);
      else delete (HTMLElement.prototype as unknown as Record<string, unknown>)[k];
    }
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  const withEvents = () => startup({ db: { ...startup().db, events: 6, archives: 2 } });

  function archive(change: Partial<ArchiveRow>): ArchiveRow {
    return {
      id: 1,
      path: '/exports/trail',
      status: 'verified',
      failure: null,
      origin: ORIGIN,
      sequence: 1,
      source_kind: 'cloudtrail',
      events: 5,
      bytes: 5000,
      time_first: '2024-03-10T09:10:00Z',
      time_last: '2024-03-10T13:50:00Z',
      signer_key: null,
      signer_name: 'AWS CloudTrail',
      signer_fingerprint: '0123abcd',
      imported_at: '2026-05-01T10:00:01Z',
      gap_before: null,
      untimed: 0,
      received_at: null,
      received_label: null,
      evidence: 'aws-cloudtrail',
      evidence_label: `${LABEL} ${hostile}`,
      cloudtrail_hours: {
        digests: 4,
        first_start: '2024-03-10T09:00:00Z',
        last_end: '2024-03-10T15:00:00Z',
        gaps: [{ from: '2024-03-10T11:00:00Z', to: '2024-03-10T13:00:00Z', hours: 2 }],
      },
      ...change,
    };
  }

  function event(change: Partial<EventRow>): EventRow {
    return {
      id: `${ORIGIN}@1#0`,
      time: '2024-03-10T09:10:00Z',
      source: 'cloudtrail',
      origin: ORIGIN,
      actor: 'arn:aws:iam::111122223333:user/alice',
      action: 'GetObject',
      resource: 'trail-bucket',
      outcome: 'success',
      category: 'read',
      ip: null,
      agent: null,
      env: null,
      stage: null,
      privilege: null,
      archive: `${ORIGIN}@1`,
      sequence: 1,
      index: 0,
      verified: true,
      received: false,
      evidence: 'aws-cloudtrail',
      ...change,
    };
  }

  it('is "Signed by AWS CloudTrail" on Archives, with its label and the hours of its digests and their gaps, as text', async () => {
    Element.prototype.scrollIntoView = () => {};
    const ct = archive({});
    const plain = archive({
      id: 2,
      origin: 'prod',
      path: '/a/prod.zip',
      signer_name: 'ops',
      signer_fingerprint: 'SHA256:ops',
      evidence: null,
      evidence_label: null,
      cloudtrail_hours: null,
    });
    mockBackend({
      ...basics(withEvents()),
      archives: () => ({ archives: [ct, plain], lookalikes: [], continuity: [] }),
      archive_detail: (a) => ({
        archive: a.id === 1 ? ct : plain,
        checkpoint: a.id === 1 ? null : 'cp',
        manifest: a.id === 1 ? null : '{}',
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
    const badge = tr.querySelector('.status-cell .badge')!;
    expect(badge.textContent).toBe('Signed by AWS CloudTrail');
    expect(badge.className).toContain('badge');
    expect(badge.className).toContain('good');
    const under = container.querySelector('tr[data-evidence-for="1"]')!;
    expect(under.querySelector('.archive-evidence-label')!.textContent).toBe(
      `${LABEL} org<img src=x onerror=window.__pwned=1>\\u{202e}`,
    );
    const hours = under.querySelector('.cloudtrail-hours')!;
    expect(hours.querySelector('.hours-span')!.textContent).toBe('Hourly digests: 4, 2024-03-10 09:00:00 UTC – 2024-03-10 15:00:00 UTC');
    const gaps = Array.from(hours.querySelectorAll('.hour-gap'));
    expect(gaps.map((g) => g.textContent)).toEqual(['no digest 2024-03-10 11:00:00 UTC – 2024-03-10 13:00:00 UTC (about 2 h)']);
    expect(gaps[0].className).toContain('warn-text');
    // An AuditLens archive beside it is "Verified", with no such line.
    expect(container.querySelector('tr[data-archive-id="2"] .status-cell')!.textContent).toBe('Verified');
    expect(container.querySelector('tr[data-evidence-for="2"]')).toBeNull();

    fireEvent.click(tr);
    const detailLabel = await waitFor(() => {
      const el = document.getElementById('archive-evidence-label');
      if (!el) throw new Error('no #archive-evidence-label');
      return el;
    });
    expect(detailLabel.textContent).toContain(LABEL);
    expect(document.getElementById('archive-status')!.textContent).toContain('Signed by AWS CloudTrail');
    expect(document.getElementById('archive-status')!.textContent).not.toContain('under a trusted key');
    expect(document.getElementById('archive-cloudtrail-hours')!.textContent).toContain('about 2 h');
    expect(document.getElementById('archive-checkpoint')!.textContent).toContain("AWS's signed digests");
    expect(container.textContent).not.toContain('\u202e');
    expect(container.querySelector('img, script, iframe, [onerror]')).toBeNull();
  });

  it('is a "signed by AWS CloudTrail" badge in the results and its label in the event provenance', async () => {
    const detail: EventDetail = {
      ...event({}),
      raw: '{"eventName":"GetObject"}',
      leaf: 'ab'.repeat(32),
      archive_id: 1,
      archive_path: '/exports/trail',
      archive_status: 'verified',
      signer_key: null,
      signer_fingerprint: '0123abcd',
      checkpoint: null,
      root: null,
      evidence_label: `${LABEL} ${hostile}`,
      cloudtrail: {
        log_file: `AWSLogs/111122223333/CloudTrail/eu-west-1/2024/03/10/log${hostile}.json.gz`,
        log_sha256: 'cd'.repeat(32),
        record: 3,
        digest_file: 'AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2024/03/10/digest.json.gz',
        digest_sha256: 'ef'.repeat(32),
        fingerprint: '0123abcd',
        digest_start: '2024-03-10T09:00:00Z',
        digest_end: '2024-03-10T10:00:00Z',
      },
    };
    mockBackend({
      ...basics(withEvents()),
      search: () => ({
        events: [event({}), event({ id: 'prod@1#0', origin: 'prod', archive: 'prod@1', evidence: undefined })],
        next: null,
      }),
      count: () => 2,
      event: () => detail,
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(container.querySelectorAll('#results-body [role=row]').length).toBe(2));
    const cell = (id: string) => container.querySelector(`[data-event-id="${id}"] .col-verified`)!;
    const badge = cell(`${ORIGIN}@1#0`).querySelector('.badge')!;
    expect(badge.textContent).toBe('signed by AWS CloudTrail');
    expect(badge.className).toContain('aws-cloudtrail');
    expect(cell('prod@1#0').textContent).toBe('verified');

    fireEvent.keyDown(container.querySelector('#results-body')!, { key: 'Enter' });
    const status = await waitFor(() => {
      const el = document.getElementById('event-status');
      if (!el) throw new Error('no #event-status');
      return el;
    });
    expect(status.getAttribute('data-status')).toBe('aws-cloudtrail');
    expect(within(status).getByText('Signed by AWS CloudTrail').className).toContain('badge');
    expect(document.getElementById('event-evidence-label')!.textContent).toBe(
      `${LABEL} org<img src=x onerror=window.__pwned=1>\\u{202e}`,
    );
    expect(status.textContent).not.toContain('verified in full under a trusted key');
    // Its proof: the log file and record, and the signed digest listing it; no AuditLens checkpoint.
    const log = document.getElementById('event-cloudtrail-log')!.textContent!;
    expect(log).toContain('logorg<img src=x onerror=window.__pwned=1>\\u{202e}.json.gz');
    expect(log).toContain(`record 3 · SHA-256 ${'cd'.repeat(32)}`);
    expect(document.getElementById('event-cloudtrail-digest')!.textContent).toContain(
      '2024-03-10T09:00:00Z – 2024-03-10T10:00:00Z',
    );
    expect(document.getElementById('event-checkpoint')).toBeNull();
    expect(container.textContent).not.toContain('\u202e');
    expect(container.querySelector('img, script, iframe, [onerror]')).toBeNull();
  });
});
