// Component tests of evidence bundles with the IPC mocked: ticking rows and exporting them (the preview of what
// will be disclosed, the required purpose, the auditor key, the result), what blocks an export, and received
// bundles (verified, failed with the verifier's reason, hostile text kept as text, never imported).

import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { AuditorKey, EventRow, ExportPreview, OpenedBundle } from './backend';
import { ExportDialog } from './components/ExportDialog';
import { basics, isListening, mockBackend, startup } from './test/mock-backend';
import { renderApp } from './test/render-app';

const hostile = '<img src=x onerror=window.__pwned=1>';

function row(i: number, change: Partial<EventRow> = {}): EventRow {
  return {
    id: `example.com/k8s@1#${i}`,
    time: `2024-05-01T10:0${i}:00Z`,
    source: 'k8s',
    origin: 'example.com/k8s',
    actor: `user-${i}`,
    action: 'get',
    resource: `pods/p${i}`,
    outcome: 'allowed',
    category: 'read',
    ip: null,
    agent: null,
    env: null,
    stage: null,
    privilege: null,
    archive: 'example.com/k8s@1',
    sequence: 1,
    index: i,
    verified: true,
    received: false,
    ...change,
  };
}

const key: AuditorKey = {
  name: 'jane',
  fingerprint: 'SHA256:janeFingerprint',
  key: 'jane+1234abcd+AAAA',
  path: '/data/auditor-keys/jane.key',
  pub_path: '/data/auditor-keys/jane.pub',
  created_in_app: true,
};

function preview(change: Partial<ExportPreview> = {}): ExportPreview {
  return {
    selection: { kind: 'query', query: '' },
    events: 3,
    max_events: 10000,
    too_many: false,
    archives: [{ archive: 'example.com/k8s@1', origin: 'example.com/k8s', sequence: 1, events: 3, verified: true }],
    first: '2024-05-01T10:00:00Z',
    last: '2024-05-01T10:02:00Z',
    untimed: 0,
    unverified: 0,
    missing: [],
    sample: [row(0), row(1), row(2)],
    ...change,
  };
}

const withEvents = startup({ db: { ...startup().db, archives: 1, events: 3 } });

describe('exporting evidence from a search', () => {
  it('exports the ticked rows with a purpose after showing what will be disclosed', async () => {
    const rows = [row(0), row(1), row(2)];
    let auditor: AuditorKey | null = null;
    const calls = mockBackend({
      ...basics(withEvents),
      search: () => ({ events: rows, next: null }),
      count: () => 3,
      auditor_key: () => auditor,
      create_auditor_key: (a) => {
        auditor = { ...key, name: a.name as string };
        return auditor;
      },
      export_preview: (a) =>
        preview({
          selection: a.selection as ExportPreview['selection'],
          events: 2,
          sample: [row(0), row(1)],
          archives: [{ archive: 'example.com/k8s@1', origin: 'example.com/k8s', sequence: 1, events: 2, verified: true }],
        }),
      export_bundle: (a) => ({
        out: a.out,
        events: 2,
        archives: 1,
        bytes: 4096,
        sha256: 'ab'.repeat(32),
        exported: '2026-11-28T12:00:00Z',
        purpose: (a.purpose as string).trim(),
        auditor,
      }),
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(screen.getByText('3 matches')).toBeTruthy());
    // The virtual table has no size in jsdom: tick rows from the keyboard (Space), as a user can.
    const body = container.querySelector('#results-body')!;
    fireEvent.keyDown(body, { key: ' ' });
    fireEvent.keyDown(body, { key: 'ArrowDown' });
    fireEvent.keyDown(body, { key: ' ' });
    expect(screen.getByText(/2 selected/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Export evidence…' }));

    const dialog = await screen.findByRole('dialog', { name: 'Export evidence' });
    expect((within(dialog).getByLabelText(/Only the 2 selected rows/) as HTMLInputElement).checked).toBe(true);
    await waitFor(() => expect(dialog.querySelector('#preview-events')!.textContent).toBe('2'));
    expect(calls.find((c) => c.cmd === 'export_preview')!.args.selection).toEqual({
      kind: 'ids',
      ids: ['example.com/k8s@1#0', 'example.com/k8s@1#1'],
    });
    expect(dialog.querySelector('#preview-archives')!.textContent).toContain('example.com/k8s@1 — 2 events');
    expect(dialog.querySelector('#preview-range')!.textContent).toContain('2024-05-01');
    expect(dialog.querySelectorAll('#preview-sample tbody tr').length).toBe(2);

    const confirm = within(dialog).getByRole('button', { name: 'Export and sign' }) as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    // No auditor key yet: create one in the dialog.
    fireEvent.change(within(dialog).getByLabelText('Key name'), { target: { value: 'jane' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create key' }));
    await waitFor(() => expect(dialog.querySelector('#auditor-fingerprint')!.textContent).toBe(key.fingerprint));
    fireEvent.change(within(dialog).getByLabelText('Save as'), { target: { value: '/tmp/out.zip' } });
    expect(confirm.disabled).toBe(true); // still no purpose
    fireEvent.change(within(dialog).getByLabelText(/Purpose/), { target: { value: '  access review AUD-1 ' } });
    expect(confirm.disabled).toBe(false);
    fireEvent.click(confirm);

    const done = await screen.findByRole('dialog', { name: 'Evidence bundle exported' });
    const exp = calls.find((c) => c.cmd === 'export_bundle')!.args;
    expect(exp).toEqual({
      selection: { kind: 'ids', ids: ['example.com/k8s@1#0', 'example.com/k8s@1#1'] },
      purpose: '  access review AUD-1 ',
      out: '/tmp/out.zip',
    });
    expect(done.querySelector('#export-result')!.textContent).toContain('Exported 2 events from 1 archive');
    expect(done.querySelector('#export-result-file')!.textContent).toBe('/tmp/out.zip');
    expect(done.querySelector('#export-result-fingerprint')!.textContent).toBe(key.fingerprint);
    expect(done.querySelector('#export-result-sha256')!.textContent).toBe('ab'.repeat(32));
    expect(calls.find((c) => c.cmd === 'create_auditor_key')!.args).toEqual({ name: 'jane' });
  });

  it('offers every match of the query when no row is ticked', async () => {
    const calls = mockBackend({
      ...basics(withEvents),
      auditor_key: () => key,
      export_preview: (a) => preview({ selection: a.selection as ExportPreview['selection'] }),
    });
    render(<ExportDialog query="actor:alice" matches={3} selectedIds={[]} zone="utc" onClose={() => undefined} />);
    const dialog = screen.getByRole('dialog');
    expect((within(dialog).getByLabelText(/All 3 matches of/) as HTMLInputElement).checked).toBe(true);
    expect((within(dialog).getByLabelText(/Only the 0 selected rows/) as HTMLInputElement).disabled).toBe(true);
    await waitFor(() => expect(calls.some((c) => c.cmd === 'export_preview')).toBe(true));
    expect(calls.find((c) => c.cmd === 'export_preview')!.args.selection).toEqual({ kind: 'query', query: 'actor:alice' });
    await waitFor(() => expect(dialog.querySelector('#auditor-name')!.textContent).toBe('jane'));
  });

  it('blocks an export that would be refused and says why', async () => {
    mockBackend({
      ...basics(withEvents),
      auditor_key: () => key,
      export_preview: () => preview({ events: 12000, too_many: true, unverified: 1 }),
    });
    render(<ExportDialog query="" matches={12000} selectedIds={[]} zone="utc" onClose={() => undefined} />);
    const dialog = screen.getByRole('dialog');
    await waitFor(() => expect(dialog.querySelector('#preview-events')!.textContent).toContain('12,000'));
    expect(dialog.querySelector('#preview-events')!.textContent).toContain('more than one bundle holds (10,000)');
    expect(within(dialog).getByText(/1 selected event is not verified/)).toBeTruthy();
    fireEvent.change(within(dialog).getByLabelText(/Purpose/), { target: { value: 'why' } });
    fireEvent.change(within(dialog).getByLabelText('Save as'), { target: { value: '/tmp/x.zip' } });
    expect((within(dialog).getByRole('button', { name: 'Export and sign' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('says the whole CloudTrail log files go out with the events, as text, and lets them be exported', async () => {
    const note = 'AWS CloudTrail evidence: the bundle discloses 2 log files whole: <b>5 records</b> in all';
    mockBackend({
      ...basics(withEvents),
      auditor_key: () => key,
      export_preview: () =>
        preview({
          archives: [
            {
              archive: 'aws-cloudtrail:111122223333/eu-west-1/audit@1',
              origin: 'aws-cloudtrail:111122223333/eu-west-1/audit',
              sequence: 1,
              events: 3,
              verified: true,
              cloudtrail_note: note,
            },
          ],
        }),
    });
    render(<ExportDialog query="" matches={3} selectedIds={[]} zone="utc" onClose={() => undefined} />);
    const dialog = screen.getByRole('dialog');
    await waitFor(() => expect(dialog.querySelector('#preview-cloudtrail')!.textContent).toContain(note));
    expect(dialog.querySelector('#preview-cloudtrail')!.textContent).toContain('aws-cloudtrail:111122223333/eu-west-1/audit@1');
    expect(dialog.querySelector('#preview-cloudtrail b')).toBeNull();
    expect(dialog.querySelector('#preview-archives')!.textContent).toContain('AWS CloudTrail');
    expect(dialog.querySelector('#preview-carries')!.textContent).toContain('except for AWS CloudTrail archives');
    fireEvent.change(within(dialog).getByLabelText(/Purpose/), { target: { value: 'why' } });
    fireEvent.change(within(dialog).getByLabelText('Save as'), { target: { value: '/tmp/x.zip' } });
    expect((within(dialog).getByRole('button', { name: 'Export and sign' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('shows the refusal of the exporter as text', async () => {
    mockBackend({
      ...basics(withEvents),
      auditor_key: () => key,
      export_preview: () => preview(),
      export_bundle: () =>
        Promise.reject({ code: 'invalid', message: '/tmp/x.zip already exists; not overwriting it' }),
    });
    render(<ExportDialog query="" matches={3} selectedIds={[]} zone="utc" onClose={() => undefined} />);
    const dialog = screen.getByRole('dialog');
    await waitFor(() => expect(dialog.querySelector('#preview-events')!.textContent).toBe('3'));
    fireEvent.change(within(dialog).getByLabelText(/Purpose/), { target: { value: 'why' } });
    fireEvent.change(within(dialog).getByLabelText('Save as'), { target: { value: '/tmp/x.zip' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Export and sign' }));
    expect((await within(dialog).findByRole('alert')).textContent).toContain('already exists; not overwriting it');
    // Not at the end of the scrolling body (out of sight under a long preview): just above the buttons.
    const shown = dialog.querySelector('#export-error')!;
    expect(shown.closest('.modal-body')).toBeNull();
    expect(shown.nextElementSibling?.classList.contains('actions')).toBe(true);
  });
});

function opened(change: Partial<OpenedBundle> = {}): OpenedBundle {
  return {
    path: '/in/bundle.zip',
    sha256: 'cd'.repeat(32),
    verdict: 'verified',
    failure: null,
    auditor: { key: 'kim+1+x', name: 'kim', fingerprint: 'SHA256:kim', trusted: false, yours: false },
    exported: '2026-11-28T12:00:00Z',
    tool: 'auditlens 0.1.0',
    purpose: 'incident INC-7',
    query: 'actor:alice',
    ids: null,
    first: '2024-05-01T10:00:00Z',
    last: '2024-05-01T10:02:00Z',
    archives: [
      {
        origin: 'example.com/k8s',
        sequence: 1,
        size: 40,
        root: 'r',
        events: 1,
        signer: { key: 'ops+1+y', name: 'ops', fingerprint: 'SHA256:ops', trusted: true, yours: false },
      },
    ],
    events: [
      {
        position: 1,
        id: 'example.com/k8s@1#0',
        leaf: 'leaf',
        time: '2024-05-01T10:00:00Z',
        source: 'jsonl',
        actor: hostile,
        action: '<script>window.__pwned=1</script>',
        resource: null,
        outcome: null,
        text: JSON.stringify({ actor: hostile }),
      },
    ],
    events_total: 1,
    annotations: null,
    ...change,
  } as OpenedBundle;
}

/** A bundle whose events entry differs from the one the auditor signed. */
function tampered(): OpenedBundle {
  return opened({
    verdict: 'failed',
    failure: {
      kind: 'entries',
      message: 'entry "events.jsonl" differs from the one the auditor signed (SHA-256 mismatch)',
      entry: 'events.jsonl',
      line: null,
      event: null,
      expected: 'AAA=',
      found: 'BBB=',
    },
    events: [],
    events_total: 0,
  });
}

describe('a received bundle', () => {
  it('is verified on its own and shown read-only, hostile text as text', async () => {
    const calls = mockBackend({ ...basics(), open_bundle: () => opened() });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Received bundle' }));
    fireEvent.change(screen.getByLabelText('Bundle'), { target: { value: '/in/bundle.zip' } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify' }));
    const verdict = await screen.findByRole('status');
    expect(verdict.textContent).toContain('Verified');
    expect(calls.find((c) => c.cmd === 'open_bundle')!.args).toEqual({ path: '/in/bundle.zip' });
    expect(calls.some((c) => c.cmd === 'import_archives')).toBe(false);
    expect(container.querySelector('#bundle-purpose')!.textContent).toBe('incident INC-7');
    expect(container.querySelector('#bundle-sha256')!.textContent).toBe('cd'.repeat(32));
    expect(container.querySelector('#bundle-selection')!.textContent).toContain('actor:alice');
    expect(container.querySelector('#bundle-auditor')!.textContent).toContain('not in your keyring');
    // The verdict itself says whose selection this is when the auditor key is not trusted.
    expect(verdict.querySelector('#bundle-auditor-untrusted')!.textContent).toContain('kim, SHA256:kim');
    expect(container.querySelector('#bundle-archives')!.textContent).toContain('in your keyring');
    expect(screen.getByText(hostile)).toBeTruthy();
    fireEvent.click(container.querySelector('.bundle-event-head')!);
    expect(container.querySelector('.bundle-event pre')!.textContent).toContain(`"actor": "${hostile}"`);
    expect(container.querySelector('img, script, iframe, [onerror]')).toBeNull();
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it("shows the auditor's annotations apart, marked as not evidence, as text", async () => {
    const annotations = {
      format: 'auditlens-auditor-annotations',
      version: 1,
      statement: 'Annotations written by the auditor who exported this bundle: not evidence.',
      action_log: { entries: 7, head: 'ab'.repeat(32) },
      events: [
        { event: 'example.com/k8s@1#0', leaf: 'cd'.repeat(32), tags: ['finding-3'], note: hostile, bookmarked: true },
      ],
    };
    mockBackend({ ...basics(), open_bundle: () => opened({ annotations }) });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Received bundle' }));
    fireEvent.change(screen.getByLabelText('Bundle'), { target: { value: '/in/bundle.zip' } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify' }));
    const section = await waitFor(() => {
      const s = container.querySelector('#bundle-annotations');
      if (!s) throw new Error('no annotations shown');
      return s;
    });
    expect(section.textContent).toContain('not evidence');
    expect(section.textContent).toContain('finding-3');
    expect(section.textContent).toContain(hostile);
    expect(section.textContent).toContain('7 entries at export');
    expect(container.querySelector('img, script, iframe, [onerror]')).toBeNull();
  });

  it('labels an archive sealed on receipt and its events, never as just verified', async () => {
    const label =
      'sealed on receipt by jane-receipt (SHA256:rx) at 2026-12-04T21:34:42Z: proves no change since receipt, not authenticity at the source';
    const base = opened();
    const normal = base.archives[0];
    const bundle = opened({
      archives: [
        normal,
        {
          origin: 'example.com/received/okta',
          sequence: 1,
          size: 9,
          root: 'r2',
          events: 1,
          signer: { key: 'jane-receipt+1+z', name: 'jane-receipt', fingerprint: 'SHA256:rx', trusted: true, yours: false },
          received: {
            at: '2026-12-04T21:34:42Z',
            files: [{ name: 'okta.json', sha256: 'ab'.repeat(32), bytes: 120, entry: 'events/000001.jsonl' }],
          },
          // A hidden character in what the bundle says is shown, not obeyed.
          received_label: `${label}\u202e`,
        },
      ],
      events: [
        base.events[0],
        {
          ...base.events[0],
          position: 2,
          id: 'example.com/received/okta@1#0',
          actor: 'okta-user',
          received_label: `${label}\u202e`,
        },
      ],
      events_total: 2,
    });
    mockBackend({ ...basics(), open_bundle: () => bundle });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Received bundle' }));
    fireEvent.change(screen.getByLabelText('Bundle'), { target: { value: '/in/received.zip' } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify' }));
    const verdict = await screen.findByRole('status');
    // The verdict counts the events only sealed on receipt and gives no green "Verified" badge.
    expect(verdict.querySelector('#bundle-receipt')!.textContent).toContain(
      '1 of 2 events are exactly what their producer signed; 1 is only sealed on receipt',
    );
    expect(verdict.textContent).toContain('proves no change since receipt, not authenticity at the source');
    expect(verdict.querySelector('.badge.good')).toBeNull();
    expect(verdict.classList.contains('good')).toBe(false);
    // The archive sealed on receipt carries the label; the one sealed by its producer does not.
    const rows = container.querySelectorAll('#bundle-archives tbody tr');
    expect(rows.length).toBe(2);
    expect(rows[0].textContent).not.toContain('sealed on receipt');
    expect(rows[1].querySelector('.received-label')!.textContent).toContain(label);
    expect(rows[1].querySelector('.received-label')!.textContent).toContain('\\u{202e}');
    expect(container.textContent).not.toContain('\u202e');
    // Its events are marked too, and their provenance gives the label.
    const items = container.querySelectorAll('.bundle-event');
    expect(items[0].textContent).not.toContain('sealed on receipt');
    expect(items[1].querySelector('.bundle-event-head')!.textContent).toContain('sealed on receipt');
    fireEvent.click(items[1].querySelector('.bundle-event-head')!);
    expect(items[1].querySelector('.received-label')!.textContent).toContain(label);
  });

  it('labels AWS CloudTrail archives and their events with what AWS signed, as text', async () => {
    const label =
      "signed by AWS CloudTrail (key 521fe0827242de2255416bd160825666): log files verified against AWS's signed digests";
    const base = opened();
    const bundle = opened({
      archives: [
        {
          ...base.archives[0],
          origin: 'aws-cloudtrail:111122223333/eu-west-1/org-audit',
          signer: {
            key: 'aws-cloudtrail:521fe0827242de2255416bd160825666',
            name: 'AWS CloudTrail',
            fingerprint: '521fe0827242de2255416bd160825666',
            trusted: true,
            yours: false,
          },
          cloudtrail_label: `${label}\u202e`,
        },
      ],
      events: [{ ...base.events[0], cloudtrail_label: `${label}\u202e` }],
    });
    mockBackend({ ...basics(), open_bundle: () => bundle });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Received bundle' }));
    fireEvent.change(screen.getByLabelText('Bundle'), { target: { value: '/in/ct.zip' } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify' }));
    const verdict = await screen.findByRole('status');
    expect(verdict.querySelector('#bundle-cloudtrail')!.textContent).toContain('AWS CloudTrail log files carried whole');
    const row = container.querySelector('#bundle-archives tbody tr')!;
    expect(row.querySelector('.cloudtrail-label')!.textContent).toContain(label);
    expect(row.textContent).toContain('AWS key you kept');
    expect(row.textContent).not.toContain('in your keyring');
    expect(verdict.textContent).toContain('the AWS keys you kept at import');
    expect(row.querySelector('.cloudtrail-label')!.textContent).toContain('\\u{202e}');
    expect(container.textContent).not.toContain('\u202e');
    const item = container.querySelector('.bundle-event')!;
    expect(item.querySelector('.bundle-event-head')!.textContent).toContain('AWS CloudTrail');
    fireEvent.click(item.querySelector('.bundle-event-head')!);
    expect(item.querySelector('.cloudtrail-label')!.textContent).toContain(label);
  });

  it('says when every event of a bundle is only sealed on receipt', async () => {
    const base = opened();
    const bundle = opened({
      archives: [
        {
          ...base.archives[0],
          received_label:
            'sealed on receipt by x (SHA256:x) at 2026-01-01T00:00:00Z: proves no change since receipt, not authenticity at the source',
        },
      ],
    });
    mockBackend({ ...basics(), open_bundle: () => bundle });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Received bundle' }));
    fireEvent.change(screen.getByLabelText('Bundle'), { target: { value: '/in/received.zip' } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify' }));
    const verdict = await screen.findByRole('status');
    expect(verdict.textContent).toContain('All 1 event is only sealed on receipt');
    expect(verdict.textContent).not.toMatch(/\bVerified\b/);
  });

  it('says exactly why a tampered bundle failed and shows none of its events', async () => {
    mockBackend({ ...basics(), open_bundle: () => tampered() });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Received bundle' }));
    fireEvent.change(screen.getByLabelText('Bundle'), { target: { value: '/in/bad.zip' } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('NOT VERIFIED');
    expect(alert.textContent).toContain('SHA-256 mismatch');
    expect(container.querySelector('#bundle-failure')!.textContent).toMatch(/Whereentry events\.jsonl.*ExpectedAAA=.*FoundBBB=/);
    expect(container.querySelector('#bundle-events')).toBeNull();
  });

  it('gives no green badge to the keys a tampered bundle names, its own auditor key included', async () => {
    const bad = tampered();
    bad.auditor = { ...bad.auditor!, trusted: true, yours: true };
    mockBackend({ ...basics(), open_bundle: () => bad });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Received bundle' }));
    fireEvent.change(screen.getByLabelText('Bundle'), { target: { value: '/in/bad.zip' } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify' }));
    await screen.findByRole('alert');
    const auditor = container.querySelector('#bundle-auditor')!;
    expect(auditor.textContent).toContain('names your auditor key, but the bundle did not verify');
    expect(auditor.querySelector('.badge.good')).toBeNull();
    expect(container.querySelector('#bundle-archives')?.querySelector('.badge.good') ?? null).toBeNull();
    expect(container.querySelector('.bundle-view .badge.good')).toBeNull();
  });

  it('says which figure of a report differs from what the events say', async () => {
    mockBackend({
      ...basics(),
      open_bundle: () =>
        opened({
          verdict: 'failed',
          failure: {
            kind: 'report',
            message:
              "report.html is not the report derived from the bundle's events, selection and signed metadata: line 103, in section \"2. Events at a glance\", row 2 (event 2)",
            entry: 'report.html',
            line: null,
            event: 'example.com/prod/k8s@1#1',
            expected: '<td class="v">system:admin as bob</td>',
            found: '<td class="v">someone-else</td>',
          },
          events: [],
          events_total: 0,
        }),
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Received bundle' }));
    fireEvent.change(screen.getByLabelText('Bundle'), { target: { value: '/in/lying.zip' } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('NOT VERIFIED');
    expect(alert.textContent).toContain('row 2 (event 2)');
    expect(container.querySelector('#bundle-failure')!.textContent).toMatch(
      /Checkreport.*Whereentry report\.html, event example\.com\/prod\/k8s@1#1.*Expected.*system:admin as bob.*Found.*someone-else/,
    );
    expect(container.querySelector('#bundle-auditor-untrusted')).toBeNull();
    expect(container.querySelector('#bundle-events')).toBeNull();
  });

  it('opens a dropped bundle on its screen, verified, instead of importing it', async () => {
    const calls = mockBackend({
      ...basics(),
      file_kinds: (a) => (a.paths as string[]).map((p) => (p.includes('evidence') ? 'bundle' : 'archive')),
      open_bundle: (a) => opened({ path: a.path as string }),
      import_archives: () => 1,
    });
    const { container } = await renderApp();
    await screen.findByText('Drop a signed audit archive here');
    await waitFor(() => expect(isListening('tauri://drag-drop')).toBe(true));
    const { emit } = await import('@tauri-apps/api/event');
    await act(async () => {
      await emit('tauri://drag-drop', { paths: ['/home/u/evidence.zip'], position: { x: 1, y: 2 } });
    });
    expect((await screen.findByRole('status', {}, { timeout: 3000 })).textContent).toContain('Verified');
    expect(screen.getByRole('tab', { name: 'Received bundle' }).getAttribute('aria-selected')).toBe('true');
    expect(calls.find((c) => c.cmd === 'file_kinds')!.args).toEqual({ paths: ['/home/u/evidence.zip'] });
    expect(calls.find((c) => c.cmd === 'open_bundle')!.args).toEqual({ path: '/home/u/evidence.zip' });
    expect((container.querySelector('#bundle-path') as HTMLInputElement).value).toBe('/home/u/evidence.zip');
    expect(calls.some((c) => c.cmd === 'import_archives')).toBe(false);

    // Archives dropped with a bundle are imported; only the bundle is opened.
    await act(async () => {
      await emit('tauri://drag-drop', { paths: ['/home/u/a.zip', '/home/u/evidence-2.zip'], position: { x: 1, y: 2 } });
    });
    await waitFor(() => expect(calls.filter((c) => c.cmd === 'open_bundle').length).toBe(2));
    expect(calls.filter((c) => c.cmd === 'open_bundle')[1].args).toEqual({ path: '/home/u/evidence-2.zip' });
    expect(calls.find((c) => c.cmd === 'import_archives')!.args.paths).toEqual(['/home/u/a.zip']);
  });

  it('tries every file as an archive when the kinds cannot be told', async () => {
    const calls = mockBackend({
      ...basics(),
      file_kinds: () => Promise.reject({ code: 'internal', message: 'no' }),
      import_archives: () => 1,
    });
    await renderApp();
    await screen.findByText('Drop a signed audit archive here');
    await waitFor(() => expect(isListening('tauri://drag-drop')).toBe(true));
    const { emit } = await import('@tauri-apps/api/event');
    await act(async () => {
      await emit('tauri://drag-drop', { paths: ['/home/u/evidence.zip'], position: { x: 1, y: 2 } });
    });
    await waitFor(() =>
      expect(calls.find((c) => c.cmd === 'import_archives')?.args.paths).toEqual(['/home/u/evidence.zip']),
    );
    expect(calls.some((c) => c.cmd === 'open_bundle')).toBe(false);
  });
});

describe('exporting for analytics from a search', () => {
  it('writes the matches as OCSF Parquet into the chosen folder and says what was written', async () => {
    const calls = mockBackend({
      ...basics(withEvents),
      search: () => ({ events: [row(0), row(1), row(2)], next: null }),
      count: () => 3,
      'plugin:dialog|open': () => '/cases/acme/parquet',
      export_parquet: () => ({
        out: '/cases/acme/parquet',
        rows: 3,
        files: 2,
        bytes: 50000,
        classes: [
          { class: 'api_activity', rows: 2 },
          { class: 'authentication', rows: 1 },
        ],
        left_out_unverified: 4,
        left_out_stages: 0,
        auditor: key,
      }),
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(screen.getByText('3 matches')).toBeTruthy());
    fireEvent.click(screen.getByRole('button', { name: 'Export for analytics…' }));
    const status = await screen.findByText(/Exported 3 verified events as OCSF Parquet/);
    expect(status.textContent).toContain('/cases/acme/parquet');
    expect(status.textContent).toContain('api_activity 2, authentication 1');
    expect(status.textContent).toContain('manifest signed by jane');
    expect(status.textContent).toContain('Left out: 4 matching events of archives that are not verified');
    expect(calls.find((c) => c.cmd === 'export_parquet')!.args).toEqual({ query: '', out: '/cases/acme/parquet' });
  });

  it('says why nothing was written, as text', async () => {
    mockBackend({
      ...basics(withEvents),
      search: () => ({ events: [row(0)], next: null }),
      count: () => 1,
      'plugin:dialog|open': () => '/cases/x',
      export_parquet: () => Promise.reject({ code: 'invalid', message: `NOT EXPORTED: ${hostile}; nothing was written.` }),
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(screen.getByText('1 match')).toBeTruthy());
    fireEvent.click(screen.getByRole('button', { name: 'Export for analytics…' }));
    const alert = await screen.findByText(/NOT EXPORTED/);
    expect(alert.textContent).toContain(hostile);
    expect(document.querySelector('img')).toBeNull();
  });
});

describe('exporting the result table from a search', () => {
  it('writes every match to the chosen file and says how many, in which form, where', async () => {
    const calls = mockBackend({
      ...basics(withEvents),
      search: () => ({ events: [row(0), row(1), row(2)], next: null }),
      count: () => 3,
      'plugin:dialog|save': () => '/cases/acme/denied.jsonl',
      export_results: () => ({ out: '/cases/acme/denied.jsonl', format: 'jsonl', events: 3, bytes: 2048 }),
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(screen.getByText('3 matches')).toBeTruthy());
    fireEvent.click(screen.getByRole('button', { name: 'Export results…' }));
    const status = await screen.findByText(/Wrote 3 events as JSON Lines/);
    expect(status.textContent).toContain('/cases/acme/denied.jsonl (2.0 KiB)');
    expect(calls.find((c) => c.cmd === 'export_results')!.args).toEqual({ query: '', out: '/cases/acme/denied.jsonl' });
  });

  it('writes nothing when no file is chosen, and says why an export failed, as text', async () => {
    let chosen: string | null = null;
    const calls = mockBackend({
      ...basics(withEvents),
      search: () => ({ events: [row(0)], next: null }),
      count: () => 1,
      'plugin:dialog|save': () => chosen,
      export_results: () => Promise.reject({ code: 'io', message: `writing /x/${hostile}.csv: No space left on device` }),
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(screen.getByText('1 match')).toBeTruthy());
    fireEvent.click(screen.getByRole('button', { name: 'Export results…' }));
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.some((c) => c.cmd === 'export_results')).toBe(false);
    chosen = `/x/${hostile}.csv`;
    fireEvent.click(screen.getByRole('button', { name: 'Export results…' }));
    const alert = await screen.findByText(/No space left on device/);
    expect(alert.textContent).toContain(hostile);
    expect(document.querySelector('img')).toBeNull();
  });
});
