// Component tests of a dropped AWS CloudTrail export with the IPC mocked: it opens the verification dialog instead
// of being imported, the dialog sends the export, the keys, the signatures file and the accounts to
// `verify_cloudtrail`, and the report (verdict, chains, every failure with its expected and found hash) is shown as
// text whatever the export's names hold.

import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { CloudTrailCheck } from './backend';
import { basics, isListening, mockBackend, startup } from './test/mock-backend';
import { renderApp } from './test/render-app';

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
      expect(d.textContent).toContain('Importing a CloudTrail export into the database is not built yet');
      expect(calls.some((c) => c.cmd === 'import_archives')).toBe(false);
      const verify = document.getElementById('cloudtrail-verify') as HTMLButtonElement;
      expect(verify.disabled).toBe(true);
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
    });
  }

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
