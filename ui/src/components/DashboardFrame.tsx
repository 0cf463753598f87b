// What every dashboard screen has around its panels: its title, the shared filter, and the states before the
// numbers arrive (an empty database, counting, an error, a query that does not parse).

import type { ReactNode } from 'react';

import type { AppError, ArchiveNote, ScopeInfo } from '../backend';
import { useApp } from '../app-context';
import type { DashboardState } from '../dashboards/useDashboard';
import { DashboardBar } from './DashboardBar';
import { EmptyState } from './EmptyState';
import { ProducerRulesBanner } from './ProducerRulesBanner';

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

export function DashboardFrame<T extends { scope: ScopeInfo; producer_rules: ArchiveNote[] }>({
  name,
  title,
  state,
  children,
}: {
  name: string;
  title: string;
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
            <ProducerRulesBanner archives={state.data.producer_rules} id={`${name}-producer-rules`} />
            <div className={state.loading ? 'dash-grid stale' : 'dash-grid'}>{children(state.data)}</div>
          </>
        )
      )}
    </div>
  );
}
