// What every dashboard screen has around its panels: its title, the shared filter, and the states before the
// numbers arrive (an empty database, counting, an error, a query that does not parse).

import type { ReactNode } from 'react';

import type { AppError, ArchiveNote, Figure, ScopeInfo } from '../backend';
import { useApp } from '../app-context';
import type { DashboardState } from '../dashboards/useDashboard';
import { DashboardBar } from './DashboardBar';
import { EmptyState } from './EmptyState';
import { NotTrustedNowBanner } from './NotTrustedNowBanner';
import { ProducerRulesBanner } from './ProducerRulesBanner';
import { countOf } from '../format/numbers';

function QueryProblem({ query, error, id }: { query: string; error: AppError; id: string }) {
  const column = error.column ?? 1;
  const chars = Array.from(query);
  return (
    <div className="query-error" role="alert" id={id}>
      <div className="mono query-echo" aria-hidden="true">
        {chars.slice(0, column - 1).join('')}
        <mark>{chars[column - 1] ?? ' '}</mark>
        {chars.slice(column).join('')}
      </div>
      <div>
        <strong>The dashboard query, column {column}:</strong> {error.message}
      </div>
    </div>
  );
}

/** "Counting requests in verified archives only, all time" / "..., 2024-05-01T00:00:00Z → ..., matching (q)". */
function ScopeLine({ scope, id }: { scope: ScopeInfo; id: string }) {
  const range =
    scope.from || scope.to ? `${scope.from ?? 'the beginning'} → ${scope.to ?? 'now'} (UTC, end excluded)` : 'all time';
  return (
    <p className="small muted scope-line" id={id}>
      Counting requests in{' '}
      {scope.verified_only ? (
        'verified archives only'
      ) : (
        <strong className="warn-text scope-unverified">
          every stored archive, unverified ones included (failed verification or untrusted key)
        </strong>
      )}
      , {range}
      {scope.query && (
        <>
          , matching <span className="mono">{scope.query}</span>
        </>
      )}
      . Every number opens the search that counts it.
    </p>
  );
}

/**
 * How many events of the scope have no time (docs/sources.md section 2.3), and so what the figures leave out: with
 * a time range, every figure; without one, the charts over time. Opens the search that lists them.
 */
function UntimedNote({ untimed, scope, noun, id }: { untimed: Figure; scope: ScopeInfo; noun: string; id: string }) {
  const { openSearch } = useApp();
  const n = Number(untimed.count);
  if (n === 0) return null;
  const ranged = scope.from != null || scope.to != null;
  return (
    <p className="small warn-text untimed-note" id={id}>
      {countOf(n, noun)} of this scope {n === 1 ? 'has' : 'have'} no time:{' '}
      {ranged ? 'no figure of this time range counts ' : 'counted in the totals, but in no chart over time; '}
      {ranged ? (n === 1 ? 'it' : 'them') : ''}
      {ranged ? '. ' : ''}
      <button className="link" onClick={() => openSearch(untimed.drill)}>
        Show {n === 1 ? 'it' : 'them'}
      </button>
    </p>
  );
}

export function DashboardFrame<T extends { scope: ScopeInfo; producer_rules: ArchiveNote[]; untimed: Figure }>({
  name,
  title,
  state,
  children,
  untimedNoun = 'event',
}: {
  name: string;
  title: string;
  /** What the dashboard counts, for its note on events without a time. */
  untimedNoun?: string;
  state: DashboardState<T>;
  children: (data: T) => ReactNode;
}) {
  const { db, dashboardFilter } = useApp();
  return (
    <div className="dashboard" id={`${name}-dashboard`} aria-busy={state.loading}>
      <div className="toolbar">
        <h2>{title}</h2>
        <span className="small muted" aria-live="polite" id={`${name}-status`}>
          {state.loading ? 'Counting…' : ''}
        </span>
      </div>
      <DashboardBar idPrefix={name} />
      {state.invalid && (
        <div className="banner error" role="alert">
          {state.invalid}
        </div>
      )}
      {state.error &&
        (state.error.code === 'query' ? (
          <QueryProblem query={dashboardFilter.query.trim()} error={state.error} id={`${name}-query-error`} />
        ) : (
          <div className="banner error" role="alert" id={`${name}-error`}>
            {state.error.message}
          </div>
        ))}
      {Number(db.events) === 0 ? (
        <EmptyState title="Nothing to count yet" id={`${name}-empty`}>
          This database holds no event. Import a signed archive first: drop it anywhere on the window, or use the
          Import screen.
        </EmptyState>
      ) : (
        state.data && (
          <>
            <ScopeLine scope={state.data.scope} id={`${name}-scope`} />
            <UntimedNote untimed={state.data.untimed} scope={state.data.scope} noun={untimedNoun} id={`${name}-untimed`} />
            <NotTrustedNowBanner archives={state.data.scope.not_trusted_now} id={`${name}-not-trusted-now`} />
            <ProducerRulesBanner archives={state.data.producer_rules} id={`${name}-producer-rules`} />
            <div className={state.loading ? 'dash-grid stale' : 'dash-grid'}>{children(state.data)}</div>
          </>
        )
      )}
    </div>
  );
}
