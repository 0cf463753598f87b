// Loads one dashboard for the shared filter when its screen is shown, again when the filter or the stored data
// change, and never twice for the same filter; a late answer for an older filter is dropped.

import { useEffect, useRef, useState } from 'react';

import { backend } from '../backend';
import type { Access, AppError, Deployments, Overview, Scope, WorkingHours } from '../backend';
import { useApp } from '../app-context';
import { scopeOf } from './filter';

interface Kinds {
  overview: Overview;
  deployments: Deployments;
  access: Access;
}

export interface DashboardState<T> {
  data: T | null;
  loading: boolean;
  error: AppError | null;
  /** The filter could not be turned into a scope (a bad custom day). */
  invalid: string | null;
}

const fetchers: { [K in keyof Kinds]: (s: Scope, w: WorkingHours) => Promise<Kinds[K]> } = {
  overview: backend.overview,
  deployments: backend.deployments,
  access: backend.access,
};

export function useDashboard<K extends keyof Kinds>(kind: K, visible: boolean): DashboardState<Kinds[K]> {
  const { dashboardFilter, settings, dataVersion } = useApp();
  const [state, setState] = useState<DashboardState<Kinds[K]>>({ data: null, loading: false, error: null, invalid: null });
  const loaded = useRef<unknown[] | null>(null);
  const generation = useRef(0);

  useEffect(() => {
    if (!visible) return;
    const key = [dashboardFilter, settings.time_zone, dataVersion];
    if (loaded.current && key.every((k, i) => k === loaded.current![i])) return;
    loaded.current = key;
    const scope = scopeOf(dashboardFilter, settings.time_zone, Date.now() * 1000);
    if ('error' in scope) {
      setState({ data: null, loading: false, error: null, invalid: scope.error });
      return;
    }
    const gen = ++generation.current;
    setState((s) => ({ ...s, loading: true, error: null, invalid: null }));
    fetchers[kind](scope, dashboardFilter.workingHours).then(
      (data) => gen === generation.current && setState({ data, loading: false, error: null, invalid: null }),
      (error: AppError) => gen === generation.current && setState({ data: null, loading: false, error, invalid: null }),
    );
  }, [kind, visible, dashboardFilter, settings.time_zone, dataVersion]);

  return state;
}
