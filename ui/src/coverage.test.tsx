// Component tests of the audit period on the Overview with the IPC mocked: per origin "covered", "nothing after T"
// (and why), "nothing before T" and the gaps with the silence used; setting, refusing and clearing the period (a
// setting of the database, kept by the backend); hostile origin names kept as text.

import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { AuditCoverage, Figure, OriginCoverage, Overview } from './backend';
import { humanSeconds } from './components/CoveragePanel';
import { basics, mockBackend, startup } from './test/mock-backend';
import { renderApp } from './test/render-app';

const BASE = '-stage:RequestReceived -stage:ResponseStarted status:verified';
const HOSTILE = '<img src=x onerror=window.__pwned=1>';

function fig(key: string | null, count: number): Figure {
  return { key, count, drill: BASE };
}

const overview: Overview = {
  scope: { from: null, to: null, query: '', verified_only: true, base: BASE },
  verification: { all_verified: true, archives: 4, verified: 4, received: [], untrusted: [], failed: [], gaps: [], not_trusted_now: [], lookalikes: [], incidents: [] },
  total: fig(null, 11),
  by_category: [],
  by_outcome: [],
  by_source: [],
  over_time: { start: null, bucket_micros: 3_600_000_000, buckets: 0, series: [], untimed: fig(null, 0) },
  top_actors: [],
  time_range: null,
  producer_rules: [],
  untimed: { key: null, count: 0, drill: '-time:*' },
};

function origin(change: Partial<OriginCoverage>): OriginCoverage {
  return {
    origin: 'example.com/k8s',
    covered: true,
    archives: 2,
    first_sequence: 1,
    last_sequence: 2,
    first_event: '2024-04-30T23:10:00Z',
    last_event: '2024-07-01T00:20:00Z',
    first_seal: '2024-05-31T00:00:00Z',
    last_seal: '2024-07-01T01:00:00Z',
    nothing_before: null,
    nothing_after: null,
    sealed_before_end: false,
    gaps: [],
    gaps_total: 0,
    ...change,
  };
}

const period = { from: '2024-05-01', to: '2024-07-01', silence: '24h' };

const answer: AuditCoverage = {
  period,
  coverage: {
    from: '2024-05-01T00:00:00Z',
    to: '2024-07-01T00:00:00Z',
    silence: '24h',
    silence_seconds: 86400,
    basis: 'event-hours',
    basis_note: 'silences are found over the UTC hours that hold stored events',
    caveat: 'coverage cannot prove that nothing was withheld',
    origins: [
      origin({}),
      origin({
        origin: HOSTILE,
        covered: false,
        last_event: '2024-06-12T07:00:00Z',
        last_seal: '2024-06-12T08:00:00Z',
        nothing_after: '2024-06-12T07:00:00Z',
        sealed_before_end: true,
        gaps: [{ start: '2024-05-03T08:00:00Z', end: '2024-05-06T14:20:10Z', seconds: 282010 }],
        gaps_total: 1,
      }),
      origin({
        origin: 'example.com/cloudtrail',
        covered: false,
        first_event: '2024-05-09T06:00:00Z',
        nothing_before: '2024-05-09T06:00:00Z',
      }),
    ],
  },
};

const withEvents = startup({ db: { ...startup().db, archives: 4, events: 11 } });

function app(change: Record<string, (a: Record<string, unknown>) => unknown> = {}) {
  return mockBackend({ ...basics(withEvents), overview: () => overview, ...change });
}

function originRow(name: string): HTMLElement {
  const el = [...document.querySelectorAll<HTMLElement>('#coverage-origins > li')].find((li) => li.dataset.origin === name);
  if (!el) throw new Error(`no row for ${name}`);
  return el;
}

describe('audit period coverage on the Overview', () => {
  it('shows per origin covered, nothing after T with why, nothing before T and the gaps', async () => {
    app({ audit_coverage: () => answer });
    await renderApp();
    const summary = await waitFor(() => {
      const el = document.getElementById('coverage-summary');
      if (!el) throw new Error('no coverage yet');
      return el;
    });
    expect(summary.textContent).toBe(
      'Period 2024-05-01T00:00:00Z → 2024-07-01T00:00:00Z (UTC, end excluded), silence 24h: 2 of 3 origins are not covered.',
    );
    const ok = originRow('example.com/k8s');
    expect(ok.dataset.covered).toBe('true');
    expect(within(ok).getByText('Covered')).toBeTruthy();

    const cut = originRow(HOSTILE);
    expect(cut.dataset.covered).toBe('false');
    expect(within(cut).getByText(HOSTILE)).toBeTruthy();
    expect(document.querySelector('img')).toBeNull();
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
    expect(cut.querySelector('.coverage-nothing-after')?.textContent).toBe(
      'Nothing after 2024-06-12T07:00:00Z — the newest archive was sealed at 2024-06-12T08:00:00Z before the period ends (2024-07-01T00:00:00Z): newer archives may exist and were not given.',
    );
    expect(cut.querySelector('.coverage-gap')?.textContent).toBe(
      'Gap 2024-05-03T08:00:00Z → 2024-05-06T14:20:10Z (3d 6h without any event)',
    );
    const late = originRow('example.com/cloudtrail');
    expect(late.querySelector('.coverage-nothing-before')?.textContent).toBe('Nothing before 2024-05-09T06:00:00Z');
    expect(late.querySelector('.coverage-nothing-after')).toBeNull();
    // The form shows the stored period.
    expect((document.getElementById('coverage-from') as HTMLInputElement).value).toBe('2024-05-01');
    expect((document.getElementById('coverage-to') as HTMLInputElement).value).toBe('2024-07-01');
    expect((document.getElementById('coverage-silence') as HTMLInputElement).value).toBe('24h');
    expect(document.getElementById('coverage-caveat')?.textContent).toContain('cannot prove that nothing was withheld');
  });

  it('sets the period of the database, shows a refusal, and clears it', async () => {
    let stored: AuditCoverage = { period: null, coverage: null };
    const calls = app({
      audit_coverage: () => stored,
      set_audit_period: (a) => {
        const p = a.period as typeof period | null;
        if (p && p.from >= p.to) {
          return Promise.reject({ code: 'invalid', message: '--period "2024-08-01..2024-07-01": FROM must be before TO' });
        }
        stored = p ? { ...answer, period: p } : { period: null, coverage: null };
        return stored;
      },
    });
    await renderApp();
    expect((await screen.findByText(/No audit period is set for this database/)).id).toBe('coverage-none');
    expect(document.getElementById('coverage-clear')).toBeNull();

    fireEvent.change(document.getElementById('coverage-from')!, { target: { value: '2024-08-01' } });
    fireEvent.change(document.getElementById('coverage-to')!, { target: { value: '2024-07-01' } });
    fireEvent.click(document.getElementById('coverage-save')!);
    expect((await screen.findByRole('alert')).textContent).toContain('FROM must be before TO');
    expect(document.getElementById('coverage-summary')).toBeNull();

    fireEvent.change(document.getElementById('coverage-from')!, { target: { value: ' 2024-05-01 ' } });
    fireEvent.change(document.getElementById('coverage-silence')!, { target: { value: '36h' } });
    fireEvent.click(document.getElementById('coverage-save')!);
    await waitFor(() => expect(document.getElementById('coverage-summary')).toBeTruthy());
    expect(document.getElementById('coverage-error')).toBeNull();
    const sets = calls.filter((c) => c.cmd === 'set_audit_period');
    expect(sets.map((c) => c.args.period)).toEqual([
      { from: '2024-08-01', to: '2024-07-01', silence: '24h' },
      { from: '2024-05-01', to: '2024-07-01', silence: '36h' },
    ]);

    fireEvent.click(document.getElementById('coverage-clear')!);
    await waitFor(() => expect(document.getElementById('coverage-none')).toBeTruthy());
    expect(calls.filter((c) => c.cmd === 'set_audit_period').at(-1)!.args).toEqual({ period: null });
    expect((document.getElementById('coverage-from') as HTMLInputElement).value).toBe('');
  });

  it('shows a stored period that does not read as an error', async () => {
    app({
      audit_coverage: () =>
        Promise.reject({ code: 'database', message: 'the stored audit period does not read: --period "x..y"' }),
    });
    await renderApp();
    expect((await screen.findByRole('alert')).textContent).toContain('the stored audit period does not read');
  });

  it('writes durations as their two largest units', () => {
    expect(humanSeconds(282010)).toBe('3d 6h');
    expect(humanSeconds(3 * 86400)).toBe('3d');
    expect(humanSeconds(5400)).toBe('1h 30m');
    expect(humanSeconds(0)).toBe('0s');
  });
});
