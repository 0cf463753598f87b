// Component tests of the dashboards with the IPC mocked: the window opens on the Overview once the database has
// events, every number opens the search that counts it, the shared filter reaches the commands, and the states that
// are hard to reach in the real app (loading, empty, errors, hostile text) say what is going on.

import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { Access, ArchiveNote, Deployments, EventRow, Figure, Overview, ScopeInfo, TimeSeries } from './backend';
import { basics, mockBackend, startup } from './test/mock-backend';
import { renderApp } from './test/render-app';

const BASE = '-stage:RequestReceived -stage:ResponseStarted status:verified';
const HOSTILE = '<img src=x onerror=window.__pwned=1>';
const scope = { from: null, to: null, query: '', verified_only: true, base: BASE };

function fig(key: string | null, count: number, terms = key ? `k:${key}` : ''): Figure {
  return { key, count, drill: `${terms} ${BASE}`.trim() };
}

function series(keys: string[], counts: number[][]): TimeSeries {
  return {
    start: Date.UTC(2024, 4, 1) * 1000,
    bucket_micros: 3_600_000_000,
    buckets: counts[0].length,
    series: keys.map((key, i) => ({
      key,
      counts: counts[i],
      drills: counts[i].map((_, b) => `category:${key} bucket:${b} ${BASE}`),
    })),
    untimed: fig(null, 0, '-time:*'),
  };
}

const overview: Overview = {
  scope,
  verification: {
    all_verified: false,
    archives: 3,
    verified: 2,
    received: [],
    untrusted: [],
    failed: [
      {
        archive_id: 3,
        origin: 'example.com/k8s',
        sequence: 7,
        path: '/data/k8s-7.zip',
        status: 'failed',
        reason: 'leaf hash mismatch at event 3',
      },
    ],
    gaps: [
      { archive_id: 2, origin: 'example.com/k8s', sequence: 4, path: '/data/k8s-4.zip', status: 'verified', reason: 'sequence 3 is missing' },
    ],
    not_trusted_now: [],
    lookalikes: [],
    incidents: [],
  },
  total: fig(null, 42, ''),
  by_category: [fig('change', 30, 'category:change'), fig('access', 12, 'category:access')],
  by_outcome: [fig('success', 38, 'outcome:success'), fig('denied', 4, 'outcome:denied')],
  by_source: [fig('k8s', 42, 'source:k8s')],
  over_time: series(['change', 'access'], [
    [10, 20, 0],
    [2, 0, 10],
  ]),
  top_actors: [fig(HOSTILE, 5, 'actor:"<img"'), fig('alice', 3, 'actor:alice')],
  time_range: { first: Date.UTC(2024, 4, 1) * 1000, last: Date.UTC(2024, 4, 1, 2) * 1000, first_text: '2024-05-01T00:00:00Z', last_text: '2024-05-01T02:00:00Z' },
  producer_rules: [],
  untimed: fig(null, 7, '-time:*'),
};

function row(id: string, actor: string, outcome: string): EventRow {
  return {
    id,
    time: '2024-05-01T10:00:00Z',
    source: 'k8s',
    origin: 'example.com/k8s',
    actor,
    action: 'patch',
    resource: 'deployments/web',
    outcome,
    category: 'deployment',
    ip: null,
    agent: null,
    env: 'prod',
    stage: null,
    privilege: null,
    archive: 'example.com/k8s@1',
    sequence: 1,
    index: 0,
    verified: true,
    received: false,
  };
}

const deployments: Deployments = {
  scope,
  working_hours: '09:00-18:00Z',
  total: fig(null, 3, 'category:deployment'),
  per_day: [{ day: '2024-05-01', count: 3, drill: `category:deployment after:2024-05-01 ${BASE}` }],
  lanes: [
    {
      deployments: fig('prod', 2, 'category:deployment env:prod'),
      failed: fig('prod', 1, 'category:deployment env:prod outcome:failure'),
      recent: [row('a@1#0', HOSTILE, 'failure'), row('a@1#1', 'bob', 'success')],
    },
  ],
  failed: fig(null, 1, 'category:deployment outcome:failure'),
  failed_recent: [row('a@1#0', HOSTILE, 'failure')],
  off_hours: fig(null, 1, 'category:deployment -workhours:09:00-18:00Z'),
  off_hours_by_actor: [fig('bob', 1, 'actor:bob -workhours:09:00-18:00Z')],
  rare_actors: [fig('carol', 1, 'actor:carol category:deployment')],
  recent: [],
  producer_rules: [],
  untimed: fig(null, 0, 'category:deployment -time:*'),
};

const access: Access = {
  scope,
  working_hours: '09:00-18:00Z',
  total: fig(null, 12, 'category:access'),
  over_time: series(['success', 'denied'], [
    [5, 3],
    [0, 4],
  ]),
  denied: fig(null, 4, 'outcome:denied'),
  denied_by_actor: [fig('mallory', 4, 'outcome:denied actor:mallory')],
  denied_by_actor_resource: [{ actor: 'mallory', resource: 'secrets/db', count: 4, drill: `outcome:denied actor:mallory ${BASE}` }],
  privileged: ['exec', 'secret', 'role', 'login'].map((k, i) => fig(k, i, `privilege:${k}`)),
  privileged_recent: [],
  first_seen: [{ actor: 'mallory', first_seen: 0, first_seen_text: '2024-05-01T01:00:00Z', events: fig('mallory', 6, 'actor:mallory') }],
  off_hours: fig(null, 2, 'category:access -workhours:09:00-18:00Z'),
  off_hours_by_actor: [],
  bursts: [{ actor: 'mallory', start: '2024-05-01T01:00:00Z', end: '2024-05-01T01:05:00Z', count: 4, drill: `burst ${BASE}` }],
  producer_rules: [],
  untimed: fig(null, 0, '-time:*'),
};

// Two archives whose fields come from the producer's mapping file (docs/sources.md, "Whose rules").
const PRODUCER_SHA = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
const producerRules: ArchiveNote[] = [
  {
    archive_id: 5,
    origin: 'example.com/k8s',
    sequence: 2,
    path: '/data/k8s-2.zip',
    status: 'verified',
    reason: `producer's mapping file sha256 ${PRODUCER_SHA} (producer rules)`,
  },
  {
    archive_id: 6,
    origin: HOSTILE,
    sequence: 9,
    path: '/data/x-9.zip',
    status: 'verified',
    reason: `producer's mapping file sha256 ${PRODUCER_SHA} (producer rules)`,
  },
];

const withEvents = startup({ db: { ...startup().db, archives: 3, events: 42 } });

// Tests render the window with renderApp: each dashboard's filter bar copies the shared filter into its fields in a
// mount effect, and a field changed before that effect ran would be set back (the working hours, the query).
function dashboards(change: Record<string, (a: Record<string, unknown>) => unknown> = {}) {
  return mockBackend({
    ...basics(withEvents),
    overview: () => overview,
    deployments: () => deployments,
    access: () => access,
    ...change,
  });
}

describe('dashboards', () => {
  it('opens on the overview once the database has events, saying what is not verified', async () => {
    const calls = dashboards();
    await renderApp();
    const banner = await screen.findByText('Not everything is verified.');
    expect(screen.getByRole('tab', { name: 'Overview' }).getAttribute('aria-selected')).toBe('true');
    const box = banner.closest('#verification') as HTMLElement;
    expect(within(box).getByText('example.com/k8s #7')).toBeTruthy();
    expect(within(box).getByText(/leaf hash mismatch at event 3/)).toBeTruthy();
    expect(within(box).getByText(/sequence 3 is missing/)).toBeTruthy();
    expect(document.getElementById('overview-total')?.textContent).toContain('42');
    // It says why it is not the status bar's count of stored events.
    const stored = document.getElementById('db-counts')!;
    expect(stored.getAttribute('title')).toMatch(/Dashboards count requests of verified archives only/);
    if (!/ 42 events$/.test(stored.textContent ?? '')) {
      expect(document.getElementById('overview-total')?.textContent).toMatch(/counted of [\d,]+ stored events?: records of requests in progress/);
    }
    const call = calls.find((c) => c.cmd === 'overview')!;
    expect(call.args.scope).toEqual({ from: null, to: null, query: '', include_unverified: false });
    expect(call.args.workingHours).toEqual({
      start_minute: 540,
      end_minute: 1080,
      utc_offset_minutes: 0,
    });
  });

  it('says how many events have no time and what that leaves out, and lists them', async () => {
    dashboards({
      overview: () => ({ ...overview, scope: { ...scope, from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z' } }),
    });
    await renderApp();
    const note = await waitFor(() => {
      const el = document.getElementById('overview-untimed');
      if (!el) throw new Error('no #overview-untimed');
      return el;
    });
    expect(note.textContent).toBe('7 events of this scope have no time: no figure of this time range counts them. Show them');
    fireEvent.click(within(note).getByText('Show them'));
    await waitFor(() => expect((document.getElementById('query') as HTMLInputElement).value).toBe(`-time:* ${BASE}`));
  });

  it('says nothing about time when every event has one', async () => {
    dashboards({ overview: () => ({ ...overview, untimed: fig(null, 0, '-time:*') }) });
    await renderApp();
    await screen.findByText('Not everything is verified.');
    expect(document.getElementById('overview-untimed')).toBeNull();
  });

  it('lists the integrity incidents not reviewed, and takes one off once reviewed with a note', async () => {
    const incident = {
      id: 4,
      kind: 'failed',
      path: '/share/k8s-7.zip\u202e',
      origin: 'example.com/k8s',
      sequence: 7,
      reason: 'failed: event 3 differs from what was signed (leaf hash mismatch)',
      first_seen: '2026-01-01T10:00:00Z',
      last_seen: '2026-01-02T10:00:00Z',
      times: 2,
      archive_id: null,
      reviewed_at: null,
      review_note: null,
    };
    let open = [incident];
    const reviewed: unknown[] = [];
    dashboards({
      overview: () => ({ ...overview, verification: { ...overview.verification, incidents: open } }),
      review_incident: (a) => {
        reviewed.push(a);
        open = [];
        return { ...incident, reviewed_at: '2026-01-03T00:00:00Z', review_note: (a as { note: string }).note };
      },
    });
    await renderApp();
    const box = await waitFor(() => {
      const el = document.getElementById('overview-incidents');
      if (!el) throw new Error('no #overview-incidents');
      return el;
    });
    expect(box.textContent).toContain('1 integrity incident not reviewed.');
    expect(box.textContent).toContain('Failed verification');
    expect(box.textContent).toContain('/share/k8s-7.zip\\u{202e}');
    expect(box.textContent).toContain('event 3 differs from what was signed');
    expect(box.textContent).toContain('2 times, first 2026-01-01 10:00:00 UTC, last 2026-01-02 10:00:00 UTC');
    expect(box.textContent).not.toMatch(/\u202e/);
    fireEvent.click(within(box).getByText('Mark reviewed…'));
    const submit = within(box).getByRole('button', { name: 'Mark reviewed' }) as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    fireEvent.change(within(box).getByLabelText(/Review note/), { target: { value: 'Re-sent by ops; the bad copy is from the share.' } });
    expect(submit.disabled).toBe(false);
    fireEvent.click(submit);
    await waitFor(() => expect(document.getElementById('overview-incidents')).toBeNull());
    expect(reviewed).toEqual([{ id: 4, note: 'Re-sent by ops; the bad copy is from the share.' }]);
  });

  it('says so when everything is verified', async () => {
    dashboards({
      overview: () => ({ ...overview, verification: { ...overview.verification, all_verified: true, verified: 3, failed: [], gaps: [] } }),
    });
    await renderApp();
    expect(await screen.findByText('All verified.')).toBeTruthy();
  });

  it('names archives marked verified that the keyring does not trust now, and marks them not trusted on request', async () => {
    let demoted = 0;
    const notTrusted = {
      archive_id: 5,
      origin: 'corp.example/prod/k8s\u202e',
      sequence: 2,
      path: '/p.zip',
      status: 'verified',
      reason: 'signed by beta (SHA256:b), not trusted: the key beta (SHA256:b) is not trusted',
    };
    const calls = dashboards({
      overview: () => ({
        ...overview,
        verification: {
          ...overview.verification,
          all_verified: false,
          verified: 3,
          failed: [],
          gaps: [],
          not_trusted_now: demoted === 0 ? [notTrusted] : [],
          untrusted: demoted === 0 ? [] : [{ ...notTrusted, status: 'untrusted' }],
        },
      }),
      demote_untrusted_archives: () => {
        demoted += 1;
        return [{ archive_id: 5, origin: notTrusted.origin, sequence: 2, message: 'archive #5 is no longer counted as verified' }];
      },
    });
    await renderApp();
    expect(await screen.findByText('Not everything is verified.')).toBeTruthy();
    const box = document.getElementById('verification-not-trusted-now') as HTMLElement;
    expect(box.textContent).toContain(
      '1 archive is marked verified in this database, but its signer is not trusted by your keyring now',
    );
    expect(box.textContent).toContain('corp.example/prod/k8s\\u{202e} #2');
    expect(box.textContent).not.toContain('\u202e');
    expect(box.textContent).toContain('not trusted: the key beta');
    const overviews = () => calls.filter((c) => c.cmd === 'overview').length;
    const before = overviews();
    fireEvent.click(within(box).getByText('Mark as not trusted'));
    await waitFor(() => expect(demoted).toBe(1));
    // The dashboards are read again: the archive is now listed as untrusted, and no longer as not trusted now.
    await waitFor(() => expect(overviews()).toBeGreaterThan(before));
    await waitFor(() => expect(document.getElementById('verification-not-trusted-now')).toBeNull());
    expect(document.querySelector('#verification [data-kind="untrusted"]')?.textContent).toContain('1 archive signed by a key that is not trusted');
  });

  it('says which verified archives were only sealed on receipt, with their label as text', async () => {
    const label = `sealed on receipt by jane (SHA256:x) at 2026-12-04T21:34:42Z: proves no change since receipt, not authenticity at the source ${HOSTILE}`;
    dashboards({
      overview: () => ({
        ...overview,
        verification: {
          ...overview.verification,
          all_verified: true,
          verified: 3,
          failed: [],
          gaps: [],
          received: [{ archive_id: 9, origin: 'received/k8s', sequence: 1, path: '/r.zip', status: 'verified', reason: label }],
        },
      }),
    });
    await renderApp();
    expect(await screen.findByText('All verified.')).toBeTruthy();
    const box = document.getElementById('verification-received') as HTMLElement;
    expect(box.textContent).toContain('1 of them was sealed on receipt by the auditor, not signed by their producer');
    expect(box.textContent).toContain(label);
    expect(box.querySelector('img')).toBeNull();
  });

  it('names look-alike origins and shows bidi, zero-width and control characters of names visibly', async () => {
    dashboards({
      overview: () => ({
        ...overview,
        verification: {
          ...overview.verification,
          lookalikes: [{ skeleton: 'example.com/k8s', origins: ['Example.com/k8s', 'example.com/k8s', 'example.com/k\u200b8s'] }],
        },
        top_actors: [fig('admin\u202e\u2066nimda\u001b[2J', 7, 'actor:x'), fig('alice', 3, 'actor:alice')],
      }),
    });
    await renderApp();
    const box = (await screen.findByText('Look-alike origins.')).closest('#overview-lookalikes') as HTMLElement;
    const shown = [...box.querySelectorAll('.lookalike-origin')].map((e) => e.textContent);
    expect(shown).toEqual(['Example.com/k8s', 'example.com/k8s', 'example.com/k\\u{200b}8s']);
    const actors = document.getElementById('overview-top-actors')!;
    expect(within(actors).getByText('admin\\u{202e}\\u{2066}nimda\\u{1b}[2J')).toBeTruthy();
    // A raw ESC on the screen is exactly what this test looks for.
    // eslint-disable-next-line no-control-regex
    expect(actors.textContent).not.toMatch(/[\u202e\u2066\u200b\u001b]/);
  });

  it('opens the search with the drill-down query of a bar, a number and a chart segment', async () => {
    const calls = dashboards({ count: () => 12 });
    await renderApp();
    fireEvent.click(await screen.findByRole('button', { name: /^Category access: 12\./ }));
    await waitFor(() => expect(screen.getByRole('tab', { name: 'Search' }).getAttribute('aria-selected')).toBe('true'));
    expect((document.getElementById('query') as HTMLInputElement).value).toBe(`category:access ${BASE}`);
    await waitFor(() => expect(calls.some((c) => c.cmd === 'count' && c.args.query === `category:access ${BASE}`)).toBe(true));
    expect(await screen.findByText('12 matches')).toBeTruthy();

    fireEvent.click(screen.getByRole('tab', { name: 'Overview' }));
    fireEvent.click(document.getElementById('overview-total')!);
    await waitFor(() => expect((document.getElementById('query') as HTMLInputElement).value).toBe(BASE));

    fireEvent.click(screen.getByRole('tab', { name: 'Overview' }));
    const segments = document.querySelectorAll<HTMLButtonElement>('#overview-over-time button.segment');
    expect(segments.length).toBe(4);
    fireEvent.click(segments[segments.length - 1]);
    await waitFor(() =>
      expect((document.getElementById('query') as HTMLInputElement).value).toBe(`category:access bucket:2 ${BASE}`),
    );
  });

  it("counts a person's identities as one actor, names them, and drills down to person:", async () => {
    const anaya: Figure = {
      ...fig('anaya', 9, 'person:anaya'),
      identities: ['anaya', 'arn:aws:iam::111122223333:user/anaya', HOSTILE],
    };
    dashboards({ overview: () => ({ ...overview, top_actors: [anaya, fig('bob', 4, 'actor:bob')] }) });
    await renderApp();
    const bar = await screen.findByRole('button', { name: /^Actor anaya \(person: 3 identities\): 9\./ });
    const key = bar.querySelector('.bar-key') as HTMLElement;
    expect(key.title).toBe(`anaya, counted with:\nanaya\narn:aws:iam::111122223333:user/anaya\n${HOSTILE}`);
    expect(bar.querySelector('.person-badge')?.textContent).toBe('person · 3');
    expect(bar.querySelector('img')).toBeNull();
    // bob is an actor value, no person.
    expect(screen.getByRole('button', { name: /^Actor bob: 4\./ }).querySelector('.person-badge')).toBeNull();
    fireEvent.click(bar);
    await waitFor(() => expect((document.getElementById('query') as HTMLInputElement).value).toBe(`person:anaya ${BASE}`));
  });

  it('shows deployments per environment and attacker text as text only', async () => {
    dashboards();
    await renderApp();
    await screen.findByText('Not everything is verified.');
    fireEvent.click(screen.getByRole('tab', { name: 'Deployments' }));
    const lane = await waitFor(() => {
      const el = document.querySelector('[data-env="prod"]');
      if (!el) throw new Error('no lane yet');
      return el as HTMLElement;
    });
    expect(within(lane).getAllByText(HOSTILE).length).toBeGreaterThan(0);
    expect(document.querySelector('img')).toBeNull();
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
    expect(document.getElementById('deployments-failed')?.getAttribute('data-drill')).toBe(deployments.failed.drill);
    expect(screen.getByText('carol')).toBeTruthy();
  });

  it('says when producer rules are in effect, on every dashboard, naming the archives', async () => {
    dashboards({
      overview: () => ({ ...overview, producer_rules: producerRules }),
      deployments: () => ({ ...deployments, producer_rules: producerRules.slice(0, 1) }),
      access: () => ({ ...access, producer_rules: producerRules }),
    });
    await renderApp();
    const banner = await waitFor(() => { const el = document.getElementById('overview-producer-rules'); if (!el) throw new Error('no #overview-producer-rules'); return el; });
    expect(banner.textContent).toContain("Fields of 2 archives come from the producer's mapping file");
    expect(within(banner).getByText('example.com/k8s@2')).toBeTruthy();
    expect(within(banner).getByText(`${HOSTILE}@9`)).toBeTruthy();
    expect(banner.textContent).toContain(`producer's mapping file sha256 ${PRODUCER_SHA} (producer rules)`);
    expect(banner.querySelector('img')).toBeNull();
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
    fireEvent.click(screen.getByRole('tab', { name: 'Deployments' }));
    const dep = await waitFor(() => { const el = document.getElementById('deployments-producer-rules'); if (!el) throw new Error('no #deployments-producer-rules'); return el; });
    expect(dep.textContent).toContain("Fields of 1 archive come from the producer's mapping file");
    fireEvent.click(screen.getByRole('tab', { name: 'Access' }));
    const acc = await waitFor(() => { const el = document.getElementById('access-producer-rules'); if (!el) throw new Error('no #access-producer-rules'); return el; });
    expect(acc.getAttribute('data-archives')).toBe('2');
  });

  it('says on Deployments and Access when their figures count archives the keyring does not trust now', async () => {
    const notNow: ArchiveNote[] = [
      {
        archive_id: 7,
        origin: 'example.com/handed\u202e',
        sequence: 1,
        path: '/data/handed-1.zip',
        status: 'verified',
        reason: 'signed by gamma (SHA256:g), not trusted: the key gamma (SHA256:g) is not trusted',
      },
    ];
    dashboards({
      deployments: () => ({ ...deployments, scope: { ...scope, not_trusted_now: notNow } }),
      access: () => ({ ...access, scope: { ...scope, not_trusted_now: notNow } }),
    });
    await renderApp();
    await screen.findByText('Not everything is verified.');
    expect(document.getElementById('overview-not-trusted-now')).toBeNull();
    fireEvent.click(screen.getByRole('tab', { name: 'Deployments' }));
    const dep = await waitFor(() => { const el = document.getElementById('deployments-not-trusted-now'); if (!el) throw new Error('no #deployments-not-trusted-now'); return el; });
    expect(dep.textContent).toContain(
      'These figures count 1 archive marked verified in this database whose signer your keyring does not trust now',
    );
    expect(dep.textContent).toContain('example.com/handed\\u{202e}@1');
    expect(dep.textContent).not.toContain('\u202e');
    expect(dep.textContent).toContain('not trusted: the key gamma (SHA256:g) is not trusted');
    fireEvent.click(screen.getByRole('tab', { name: 'Access' }));
    const acc = await waitFor(() => { const el = document.getElementById('access-not-trusted-now'); if (!el) throw new Error('no #access-not-trusted-now'); return el; });
    expect(acc.getAttribute('data-archives')).toBe('1');
    fireEvent.click(within(acc).getByRole('button', { name: 'Open Overview' }));
    await waitFor(() => expect(document.getElementById('overview-dashboard')).toBeTruthy());
  });

  it('shows no producer-rules banner when every archive is read with built-in rules', async () => {
    dashboards();
    await renderApp();
    await screen.findByText('Not everything is verified.');
    expect(document.getElementById('overview-scope')).toBeTruthy();
    expect(document.getElementById('overview-producer-rules')).toBeNull();
  });

  it('shows denials, privileged access, first-seen actors and bursts', async () => {
    dashboards();
    await renderApp();
    await screen.findByText('Not everything is verified.');
    fireEvent.click(screen.getByRole('tab', { name: 'Access' }));
    expect(await screen.findByRole('button', { name: /^Burst of denials by mallory: 4\./ })).toBeTruthy();
    expect(screen.getByRole('button', { name: /^Privileged access exec: exec into workloads: 0\./ })).toBeTruthy();
    expect(screen.getByRole('button', { name: /^Denied attempts by mallory on secrets\/db: 4\./ })).toBeTruthy();
    expect(screen.getByRole('button', { name: /^Events of mallory: 6\./ })).toBeTruthy();
    expect(document.getElementById('access-bursts-count')?.textContent).toContain('1');
    // The number of bursts is clickable too: it leads to the bursts, each of which drills down.
    fireEvent.click(document.getElementById('access-bursts-count')!);
    expect(document.getElementById('access-bursts')!.contains(document.activeElement)).toBe(true);
    expect(document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent).toMatch(/mallory|4/);
  });

  it('sends the shared time range, query and working hours to every dashboard', async () => {
    const calls = dashboards();
    await renderApp();
    await screen.findByText('Not everything is verified.');
    fireEvent.change(document.getElementById('overview-query')!, { target: { value: 'source:k8s' } });
    fireEvent.change(document.getElementById('overview-range')!, { target: { value: '7d' } });
    fireEvent.change(document.getElementById('overview-work-start')!, { target: { value: '08:30' } });
    fireEvent.change(document.getElementById('overview-work-zone')!, { target: { value: '120' } });
    fireEvent.click(document.getElementById('overview-apply')!);
    await waitFor(() => expect(calls.filter((c) => c.cmd === 'overview').length).toBe(2));
    const last = calls.filter((c) => c.cmd === 'overview')[1].args;
    const sc = last.scope as { from: number; to: null; query: string };
    expect(sc.query).toBe('source:k8s');
    expect(sc.to).toBeNull();
    // Seven days back, rounded down to a whole UTC hour.
    expect(sc.from % 3_600_000_000).toBe(0);
    expect(Date.now() * 1000 - 7 * 86_400_000_000 - sc.from).toBeGreaterThanOrEqual(0);
    expect(Date.now() * 1000 - 7 * 86_400_000_000 - sc.from).toBeLessThan(3_600_000_000 + 60_000_000);
    expect(last.workingHours).toEqual({
      start_minute: 510,
      end_minute: 1080,
      utc_offset_minutes: 120,
    });
    fireEvent.click(screen.getByRole('tab', { name: 'Access' }));
    await waitFor(() => expect(calls.some((c) => c.cmd === 'access')).toBe(true));
    const a = calls.find((c) => c.cmd === 'access')!.args;
    expect((a.scope as { query: string }).query).toBe('source:k8s');
    expect((document.getElementById('access-query') as HTMLInputElement).value).toBe('source:k8s');
  });

  it('counts unverified archives on every dashboard once the switch is on, and says so', async () => {
    const echo = <T extends { scope: ScopeInfo }>(data: T) => (a: Record<string, unknown>) => {
      const on = (a.scope as { include_unverified: boolean }).include_unverified;
      const base = on ? '-stage:RequestReceived -stage:ResponseStarted' : BASE;
      return { ...data, scope: { ...scope, verified_only: !on, base } };
    };
    const calls = dashboards({ overview: echo(overview), deployments: echo(deployments), access: echo(access) });
    await renderApp();
    await screen.findByText('Not everything is verified.');
    expect(document.getElementById('overview-scope')?.textContent).toContain('verified archives only');
    const box = document.getElementById('overview-include-unverified') as HTMLInputElement;
    expect(box.checked).toBe(false);
    fireEvent.click(box);
    // Nothing changes before Apply.
    expect(calls.filter((c) => c.cmd === 'overview').length).toBe(1);
    fireEvent.click(document.getElementById('overview-apply')!);
    await waitFor(() => expect(calls.filter((c) => c.cmd === 'overview').length).toBe(2));
    expect(calls.filter((c) => c.cmd === 'overview')[1].args.scope).toEqual({
      from: null,
      to: null,
      query: '',
      include_unverified: true,
    });
    await waitFor(() =>
      expect(document.getElementById('overview-scope')?.textContent).toContain('unverified ones included'),
    );
    // The verification banner stays.
    expect(screen.getByText('Not everything is verified.')).toBeTruthy();
    for (const tab of ['Deployments', 'Access']) {
      fireEvent.click(screen.getByRole('tab', { name: tab }));
      const cmd = tab.toLowerCase();
      await waitFor(() => expect(calls.some((c) => c.cmd === cmd)).toBe(true));
      expect((calls.find((c) => c.cmd === cmd)!.args.scope as { include_unverified: boolean }).include_unverified).toBe(
        true,
      );
      expect((document.getElementById(`${cmd}-include-unverified`) as HTMLInputElement).checked).toBe(true);
      await waitFor(() =>
        expect(document.getElementById(`${cmd}-scope`)?.textContent).toContain('unverified ones included'),
      );
    }
    // Off again from another dashboard's bar: verified archives only, everywhere.
    fireEvent.click(document.getElementById('access-include-unverified')!);
    fireEvent.click(document.getElementById('access-apply')!);
    await waitFor(() => expect(calls.filter((c) => c.cmd === 'access').length).toBe(2));
    expect((calls.filter((c) => c.cmd === 'access')[1].args.scope as { include_unverified: boolean }).include_unverified).toBe(
      false,
    );
    await waitFor(() => expect(document.getElementById('access-scope')?.textContent).toContain('verified archives only'));
  });

  it('refuses working hours that end before they start', async () => {
    const calls = dashboards();
    await renderApp();
    await screen.findByText('Not everything is verified.');
    fireEvent.change(document.getElementById('overview-work-start')!, { target: { value: '19:00' } });
    fireEvent.click(document.getElementById('overview-apply')!);
    expect(await screen.findByText(/the start before the end/)).toBeTruthy();
    expect(calls.filter((c) => c.cmd === 'overview').length).toBe(1);
  });

  it('says it is counting while the numbers are on their way', async () => {
    dashboards({ overview: () => new Promise(() => undefined) });
    await renderApp();
    await waitFor(() => expect(document.getElementById('overview-status')?.textContent).toBe('Counting…'));
  });

  it('shows a query error at its column and a database error with what to do', async () => {
    dashboards({
      overview: () => Promise.reject({ code: 'query', message: 'expected a value after actor:', column: 7 }),
      deployments: () => Promise.reject({ code: 'database', message: 'disk I/O error. Check that the database file is readable' }),
    });
    await renderApp();
    const err = await waitFor(() => {
      const el = document.getElementById('overview-query-error');
      if (!el) throw new Error('no error yet');
      return el;
    });
    expect(err.textContent).toContain('column 7');
    expect(err.textContent).toContain('expected a value after actor:');
    fireEvent.click(screen.getByRole('tab', { name: 'Deployments' }));
    expect(await screen.findByText(/disk I\/O error/)).toBeTruthy();
  });

  it('opens an event of a list and comes back to the dashboard', async () => {
    const calls = dashboards({ event: () => Promise.reject({ code: 'not-found', message: 'no event a@1#1 in this database' }) });
    await renderApp();
    await screen.findByText('Not everything is verified.');
    fireEvent.click(screen.getByRole('tab', { name: 'Deployments' }));
    const row = await waitFor(() => {
      const el = document.querySelector<HTMLElement>('#deployments-lanes tr[data-id="a@1#1"]');
      if (!el) throw new Error('no row yet');
      return el;
    });
    fireEvent.click(row);
    await waitFor(() => expect(calls.some((c) => c.cmd === 'event' && c.args.id === 'a@1#1')).toBe(true));
    expect(screen.getByRole('tab', { name: 'Deployments' }).getAttribute('aria-selected')).toBe('true');
    fireEvent.click(await screen.findByText('← Back'));
    await waitFor(() => expect(document.querySelector('#deployments-lanes')).toBeTruthy());
    expect(calls.filter((c) => c.cmd === 'deployments').length).toBe(1);
  });

  it('explains an empty database on every dashboard', async () => {
    mockBackend({ ...basics(), overview: () => overview, deployments: () => deployments, access: () => access });
    await renderApp();
    await screen.findByText('Drop a signed audit archive here');
    for (const [tab, id] of [
      ['Overview', 'overview-empty'],
      ['Deployments', 'deployments-empty'],
      ['Access', 'access-empty'],
    ]) {
      fireEvent.click(screen.getByRole('tab', { name: tab }));
      await waitFor(() => expect(document.getElementById(id)?.textContent).toContain('Nothing to count yet'));
    }
  });
});
