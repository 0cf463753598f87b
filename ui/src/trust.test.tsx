// Trust bound to origins, with the IPC mocked: an untrusted import shows the verifier's reason and offers to trust
// the key for the archive's origin (editable into a prefix, with an optional window); a key already in the keyring
// is granted for another origin in one click; the keyring lists every grant with its origins and window and
// removes one grant.

import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { ArchiveRow, ImportEvent, ImportResult, TrustedKey } from './backend';
import { basics, mockBackend, startup } from './test/mock-backend';
import { renderApp } from './test/render-app';

const partnerKey = 'e2e-partner+234a6216+Af0XJDhaoMdbZPt4zWAvodmR/ev3axPFjtcC6sg16fYY';
const partnerFingerprint = 'SHA256:K8A6drfuQpteSAbu2hJLjFmLztaqMJYoWyHaWLVPg0M';

function grant(change: Partial<TrustedKey> = {}): TrustedKey {
  return {
    key: partnerKey,
    name: 'e2e-partner',
    fingerprint: partnerFingerprint,
    added: '2026-05-01T00:00:00Z',
    origins: 'corp.example/prod/k8s',
    pinned: false,
    valid_after: null,
    valid_before: null,
    ...change,
  };
}

function untrusted(path: string, origin: string, reason: string): ImportResult {
  return {
    path,
    outcome: 'untrusted',
    message: `valid signature, but not trusted: ${reason}`,
    stored: false,
    archive_id: null,
    gap_before: null,
    lookalikes: [],
    report: {
      parse_errors: null,
      path,
      status: 'untrusted',
      origin,
      sequence: 1,
      events: 3,
      bytes: 300,
      time_range: null,
      source_kind: 'k8s',
      signer: {
        key: partnerKey,
        name: 'e2e-partner',
        fingerprint: partnerFingerprint,
        trusted: false,
        trust_basis: 'none',
        trust_reason: reason,
      },
      root: null,
      chain_start: null,
      chain_end: null,
      manifest_sha256: null,
      failure: null,
    },
  };
}

function verified(path: string, origin: string): ImportResult {
  const u = untrusted(path, origin, '');
  return {
    ...u,
    outcome: 'imported',
    message: 'verified and imported 3 events',
    stored: true,
    archive_id: 1,
    report: { ...u.report, status: 'verified', signer: { ...u.report.signer!, trusted: true, trust_basis: 'grant' } },
  };
}

/** `import_archives` answering with `answer(path)` for each path. */
function importing(answer: (path: string) => ImportResult) {
  let job = 0;
  return (a: Record<string, unknown>) => {
    job += 1;
    const ch = a.onEvent as { onmessage: (e: ImportEvent) => void };
    const paths = a.paths as string[];
    const j = job;
    setTimeout(() => {
      ch.onmessage({ kind: 'queued', job: j, paths });
      paths.forEach((p, index) => {
        ch.onmessage({ kind: 'started', job: j, index, path: p });
        ch.onmessage({ kind: 'finished', job: j, index, elapsed_ms: 5, result: answer(p) });
      });
      ch.onmessage({ kind: 'done', job: j, cancelled: false });
    }, 0);
    return j;
  };
}

describe('trusting a key for an origin', () => {
  it('shows the reason and grants the key for the origin typed in the dialog, with a window', async () => {
    const grants: Record<string, unknown>[] = [];
    const origin = 'corp.example/prod/k8s';
    mockBackend({
      ...basics(startup({ imports: ['/data/p1.zip'] })),
      import_archives: importing((p) =>
        grants.length ? verified(p, origin) : untrusted(p, origin, `the key e2e-partner (${partnerFingerprint}) is not trusted`),
      ),
      trust_key: (a) => {
        grants.push(a);
        return {
          added: true,
          key: grant({ origins: a.origins as string, valid_after: '2026-01-01T00:00:00Z' }),
          promoted: [],
        };
      },
    });
    const { container } = await renderApp();
    const card = await waitFor(() => {
      const c = container.querySelector('.import-card[data-outcome="untrusted"]');
      if (!c) throw new Error('no untrusted card yet');
      return c as HTMLElement;
    });
    expect(within(card).getByText(`the key e2e-partner (${partnerFingerprint}) is not trusted`)).toBeTruthy();
    fireEvent.click(within(card).getByText(`Trust this key for ${origin}…`));
    const dialog = screen.getByRole('dialog', { name: 'Trust this signing key?' });
    expect(within(dialog).getByText(partnerFingerprint)).toBeTruthy();
    const originsField = within(dialog).getByLabelText('For origins') as HTMLInputElement;
    expect(originsField.value).toBe(origin);
    // A * in the middle is refused before anything is sent.
    fireEvent.change(originsField, { target: { value: 'corp.*/prod' } });
    expect(within(dialog).getByRole('alert').textContent).toContain('only allowed once, at the end');
    expect((within(dialog).getByText(/^Trust for/) as HTMLButtonElement).disabled).toBe(true);
    // Turned into a prefix, with a window.
    fireEvent.change(originsField, { target: { value: 'corp.example/prod/*' } });
    fireEvent.change(within(dialog).getByLabelText('Sealed from (optional)'), { target: { value: '2026-01-01' } });
    fireEvent.click(within(dialog).getByText('Trust for corp.example/prod/* and re-import'));
    await waitFor(() =>
      expect(grants).toEqual([
        { key: partnerKey, origins: 'corp.example/prod/*', validAfter: '2026-01-01', validBefore: null },
      ]),
    );
    await waitFor(() => expect(container.querySelector('.import-card[data-outcome="imported"]')).toBeTruthy());
  });

  it('grants a key already in the keyring for another origin in one click', async () => {
    const grants: Record<string, unknown>[] = [];
    const other = 'corp.example/staging/k8s';
    const reason = 'the key e2e-partner is not trusted for this origin (it is granted only for corp.example/prod/k8s)';
    mockBackend({
      ...basics(startup({ imports: ['/data/s1.zip'], keys: [grant()] })),
      import_archives: importing((p) => (grants.length ? verified(p, other) : untrusted(p, other, reason))),
      trust_key: (a) => {
        grants.push(a);
        return {
          added: true,
          key: grant({ origins: other }),
          promoted: [
            {
              archive_id: 7,
              origin: other,
              sequence: 2,
              promoted: true,
              message: 'the kept archive #7 was re-verified from its stored bytes and is now verified',
            },
          ],
        };
      },
    });
    const { container } = await renderApp();
    const card = await waitFor(() => {
      const c = container.querySelector('.import-card[data-outcome="untrusted"]');
      if (!c) throw new Error('no untrusted card yet');
      return c as HTMLElement;
    });
    expect(card.textContent).toContain('(not trusted for this origin)');
    expect(card.textContent).toContain(reason);
    fireEvent.click(within(card).getByText(`Trust this key for ${other}`));
    // No dialog: the key's fingerprint was checked when it entered the keyring.
    expect(screen.queryByRole('dialog')).toBeNull();
    await waitFor(() =>
      expect(grants).toEqual([{ key: partnerKey, origins: other, validAfter: null, validBefore: null }]),
    );
    await waitFor(() => expect(container.querySelector('.import-card[data-outcome="imported"]')).toBeTruthy());
    expect(screen.getByText(/archive #7 was re-verified/)).toBeTruthy();
  });
});

describe('the keyring', () => {
  it('lists every grant with its origins and window and removes one grant', async () => {
    const removed: unknown[] = [];
    const bare = grant({ key: 'ops+1+x', name: 'ops', fingerprint: 'SHA256:ops', origins: '*', pinned: true });
    const prod = grant();
    const windowed = grant({
      origins: 'corp.example/staging/*',
      valid_after: '2026-01-01T00:00:00Z',
      valid_before: '2026-07-01T00:00:00Z',
    });
    mockBackend({
      ...basics(startup({ keys: [bare, prod, windowed] })),
      untrust_grant: (a) => {
        removed.push(a.grant);
        return {
          keys: [bare, windowed],
          demoted: [
            {
              archive_id: 3,
              origin: 'corp.example/prod/k8s\u202e',
              sequence: 2,
              message: 'archive #3 is no longer counted as verified: signed by e2e-partner (SHA256:p), no longer trusted',
            },
          ],
        };
      },
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Keyring' }));
    const rows = [...container.querySelectorAll('#keys-table tbody tr')].map((r) => [
      r.querySelector('td')!.textContent,
      r.querySelector('.grant-origins')!.textContent,
      r.querySelector('.grant-window')!.textContent,
    ]);
    expect(rows).toEqual([
      ['ops', 'any origin, pinned to the first signer of each', 'at any time'],
      ['e2e-partner', 'corp.example/prod/k8s', 'at any time'],
      ['e2e-partner', 'corp.example/staging/*', 'sealed from 2026-01-01T00:00:00Z until 2026-07-01T00:00:00Z'],
    ]);
    const prodRow = container.querySelector('#keys-table tr[data-origins="corp.example/prod/k8s"]') as HTMLElement;
    fireEvent.click(within(prodRow).getByText('Remove…'));
    expect(removed).toEqual([]);
    fireEvent.click(within(prodRow).getByText('Remove e2e-partner'));
    await waitFor(() => expect(removed).toEqual([prod]));
    await waitFor(() => expect(container.querySelectorAll('#keys-table tbody tr')).toHaveLength(2));
    expect(container.querySelector('#keys-table tr[data-origins="corp.example/staging/*"]')).toBeTruthy();
    // The stored archive the grant alone trusted is named, its origin's hidden character shown.
    expect(await screen.findByText(/1 stored archive it vouched for is no longer counted as verified/)).toBeTruthy();
    expect(document.body.textContent).toContain('(corp.example/prod/k8s\\u{202e} #2)');
    expect(document.body.textContent).not.toContain('\u202e');
  });

  it('adds a key for an origin pattern and window from the form', async () => {
    const calls: Record<string, unknown>[] = [];
    mockBackend({
      ...basics(),
      trust_key: (a) => {
        calls.push(a);
        return { added: true, key: grant({ origins: a.origins as string }), promoted: [] };
      },
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Keyring' }));
    fireEvent.change(screen.getByLabelText('Verifier key'), { target: { value: partnerKey } });
    fireEvent.change(screen.getByLabelText('For origins (optional)'), { target: { value: 'corp.example/*' } });
    fireEvent.change(screen.getByLabelText('Sealed before (optional)'), { target: { value: '2027-01-01' } });
    fireEvent.click(screen.getByText('Trust this key'));
    await waitFor(() =>
      expect(calls).toEqual([{ key: partnerKey, origins: 'corp.example/*', validAfter: null, validBefore: '2027-01-01' }]),
    );
    expect((await screen.findByRole('status')).textContent).toContain('Now trusting e2e-partner');
  });
});

describe('the archives screen', () => {
  it('shows a signer change inside an origin, as text', async () => {
    const row = (id: number, sequence: number, signer: string, from: string | null): ArchiveRow => ({
      id,
      path: `/data/${id}.zip`,
      status: 'verified',
      failure: null,
      origin: 'corp.example/prod/k8s',
      sequence,
      source_kind: 'k8s',
      events: 3,
      bytes: 300,
      time_first: null,
      time_last: null,
      signer_key: `${signer}+1+x`,
      signer_name: signer,
      signer_fingerprint: `SHA256:${signer}`,
      imported_at: '2026-05-01T00:00:00Z',
      gap_before: null,
      signer_change_from: from ?? undefined,
      untimed: 0,
      received_at: null,
      received_label: null,
      evidence: null,
      evidence_label: null,
      cloudtrail_hours: null,
    });
    mockBackend({
      ...basics(startup({ db: { ...startup().db, archives: 2, events: 6 } })),
      archives: () => ({
        archives: [row(1, 1, 'ops', null), row(2, 2, '<b>partner</b>', 'ops (SHA256:ops)')],
      }),
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Archives' }));
    const changes = await waitFor(() => {
      const c = container.querySelector('#signer-changes');
      if (!c) throw new Error('no signer changes yet');
      return c as HTMLElement;
    });
    expect(changes.textContent).toContain(
      'corp.example/prod/k8s: signer changes at sequence 2: ops (SHA256:ops) → <b>partner</b>',
    );
    expect(changes.querySelector('b')).toBeNull();
    expect(container.querySelectorAll('.signer-changed')).toHaveLength(1);
  });
});
