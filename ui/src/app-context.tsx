// State shared by the screens: settings, the open database, the keyring, the import list and navigation. Every
// change goes through `backend`; screens read this context and never talk to the Rust side on their own for it.

import { createContext, useCallback, useContext, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import type { ReactNode } from 'react';

import { backend, toAppError } from './backend';
import type { AppError, DbStatus, FileKind, ImportEvent, Settings, Sort, Startup, TrustedKey } from './backend';
import { DEFAULT_FILTER } from './dashboards/filter';
import type { DashboardFilter } from './dashboards/filter';
import { applyImportEvent } from './imports';
import type { ImportItem } from './imports';

export type Screen =
  | { name: 'overview' }
  | { name: 'deployments' }
  | { name: 'access' }
  | { name: 'import' }
  | { name: 'archives' }
  | { name: 'search' }
  | { name: 'keyring' }
  | { name: 'bundle' }
  | { name: 'log' }
  | { name: 'event'; id: string; from: EventOrigin; list?: EventList };

/** The results an event was opened from, for previous/next in its detail: their ids in order, and where it is. */
export interface EventList {
  ids: string[];
  index: number;
  /** When the results are counted: the search they come from and where `ids` start among all its matches, so that
   * previous/next go on past the loaded rows (the neighbouring block is read by its offset). */
  from?: { query: string; sort: Sort | null; start: number; total: number };
}

/** The screens that open an event (and where "back" returns to). */
export type EventOrigin = 'search' | 'archives' | 'overview' | 'deployments' | 'access';

/** A search asked for by another screen (a dashboard's drill-down): `seq` tells two equal queries apart. */
export interface SearchRequest {
  query: string;
  seq: number;
}

/** A bundle to open on the Received bundle screen (dropped, picked to import, given on the command line). */
export interface BundleRequest {
  path: string;
  seq: number;
}

/** Unsigned log files (dropped, picked to import, given on the command line) to seal on receipt: the Import screen
 * opens its "Import unsigned logs" dialog with them. */
export interface ReceiveRequest {
  paths: string[];
  seq: number;
}

/** An AWS CloudTrail export (dropped, picked, on the command line): the Import screen opens its dialog (verify, or
 * verify and import) with it. */
export interface CloudTrailRequest {
  path: string;
  seq: number;
}

/** A dialog's taker of dropped files: returns the paths it did not take. */
export type DropTarget = (paths: string[]) => string[];

export interface AppContextValue {
  startup: Startup;
  settings: Settings;
  updateSettings: (change: Partial<Settings>) => void;
  db: DbStatus;
  refreshDb: () => void;
  /** Bumped whenever the stored data changed (an import stored something, another database was opened). */
  dataVersion: number;
  keys: TrustedKey[];
  setKeys: (keys: TrustedKey[]) => void;
  imports: ImportItem[];
  /** Imports the archives among `paths`; an evidence bundle among them opens on the Received bundle screen instead,
   * and unsigned log files open the "Import unsigned logs" dialog on the Import screen. */
  startImport: (paths: string[]) => void;
  /** Files dropped on the window: offered to the drop target first, if a dialog set one; the rest is imported as by
   * `startImport`. */
  dropFiles: (paths: string[]) => void;
  /** Set by an open dialog that takes some dropped files itself (the CloudTrail dialog takes AWS key files): it
   * returns the paths it did not take. `null` when the dialog closes. */
  setDropTarget: (target: DropTarget | null) => void;
  /** Where every import job's events go (the import list); also given to `backend.receiveFiles`. */
  onImportEvent: (ev: ImportEvent) => void;
  bundleRequest: BundleRequest | null;
  receiveRequest: ReceiveRequest | null;
  cloudtrailRequest: CloudTrailRequest | null;
  cancelImport: (job: number) => void;
  screen: Screen;
  navigate: (screen: Screen) => void;
  /** Opens the Search screen running `query` (a dashboard figure's drill-down). */
  openSearch: (query: string) => void;
  searchRequest: SearchRequest | null;
  /** The query of the last search the Search screen ran (an event's pivots add their terms to it). */
  searchQuery: string;
  setSearchQuery: (query: string) => void;
  /** The time range, query and working hours the dashboards share. */
  dashboardFilter: DashboardFilter;
  setDashboardFilter: (f: DashboardFilter) => void;
  error: AppError | null;
  showError: (e: unknown) => void;
  clearError: () => void;
}

const Ctx = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('useApp outside AppProvider');
  return v;
}

export function AppProvider({ startup, children }: { startup: Startup; children: ReactNode }) {
  const [settings, setSettings] = useState<Settings>(startup.settings);
  const [db, setDb] = useState<DbStatus>(startup.db);
  const [dataVersion, setDataVersion] = useState(0);
  const [keys, setKeys] = useState<TrustedKey[]>(startup.keys);
  const [imports, dispatch] = useReducer(applyImportEvent, [] as ImportItem[]);
  // A database with events opens on its overview; an empty one on the import screen.
  const [screen, navigate] = useState<Screen>(Number(startup.db.events) > 0 ? { name: 'overview' } : { name: 'import' });
  const [searchRequest, setSearchRequest] = useState<SearchRequest | null>(null);
  const [searchQuery, setSearchQuery] = useState('');
  const [dashboardFilter, setDashboardFilter] = useState<DashboardFilter>(DEFAULT_FILTER);
  const openSearch = useCallback((query: string) => {
    setSearchRequest((r) => ({ query, seq: (r?.seq ?? 0) + 1 }));
    navigate({ name: 'search' });
  }, []);
  const [error, setError] = useState<AppError | null>(
    startup.notices.length > 0 ? { code: 'invalid', message: startup.notices.join('\n') } : null,
  );
  const showError = useCallback((e: unknown) => setError(toAppError(e)), []);
  const clearError = useCallback(() => setError(null), []);

  const refreshDb = useCallback(() => {
    backend
      .dbStatus()
      .then((s) => {
        setDb(s);
        setDataVersion((v) => v + 1);
      })
      .catch(showError);
  }, [showError]);

  // While the full-text index lags (after an import, or catching up at start), its progress is read again every
  // second for the status bar; the screens are not reloaded for it (their searches already read what is not
  // indexed).
  const textPending = Number(db.text_index.pending_events) > 0;
  useEffect(() => {
    if (!textPending) return undefined;
    const timer = window.setInterval(() => {
      backend
        .dbStatus()
        .then(setDb)
        .catch(() => undefined);
    }, 1000);
    return () => window.clearInterval(timer);
  }, [textPending]);

  const settingsRef = useRef(settings);
  const updateSettings = useCallback(
    (change: Partial<Settings>) => {
      const next = { ...settingsRef.current, ...change };
      settingsRef.current = next;
      setSettings(next);
      backend.saveSettings(next).catch(showError);
    },
    [showError],
  );

  const onImportEvent = useCallback(
    (ev: ImportEvent) => {
      dispatch(ev);
      if (ev.kind === 'finished' && ev.result.stored) refreshDb();
    },
    [refreshDb],
  );

  const [bundleRequest, setBundleRequest] = useState<BundleRequest | null>(null);
  const [receiveRequest, setReceiveRequest] = useState<ReceiveRequest | null>(null);
  const [cloudtrailRequest, setCloudtrailRequest] = useState<CloudTrailRequest | null>(null);
  const startImport = useCallback(
    (paths: string[]) => {
      if (paths.length === 0) return;
      // An evidence bundle is not an archive: it is opened and verified on its own screen, never imported. Which
      // is which comes from the ZIP's list of entries; if that cannot be told, everything is tried as an archive
      // and the import says what is wrong. A file that is not a ZIP at all (a plain or gzip log) is not imported
      // either: nobody signed it, and only sealing it on receipt (the auditor's choice, in a dialog that says what
      // that proves) can bring it in.
      backend
        .fileKinds(paths)
        .catch((): FileKind[] => paths.map(() => 'archive'))
        .then((kinds) => {
          const bundles = paths.filter((_, i) => kinds[i] === 'bundle');
          const unsigned = paths.filter((_, i) => kinds[i] === 'unsigned');
          const exports = paths.filter((_, i) => kinds[i] === 'cloudtrail');
          const archives = paths.filter((_, i) => kinds[i] === 'archive');
          if (archives.length > 0) {
            navigate({ name: 'import' });
            backend.importArchives(archives, onImportEvent).catch(showError);
          }
          if (unsigned.length > 0) {
            // (A bundle given with them still takes the window below; these wait in the dialog on the Import screen.)
            setReceiveRequest((r) => ({ paths: unsigned, seq: (r?.seq ?? 0) + 1 }));
            navigate({ name: 'import' });
          }
          if (exports.length > 0) {
            // An AWS CloudTrail export is verified offline against AWS's own signatures, in a dialog that asks for
            // the keys; it is imported from there, and only if it verifies in full.
            setCloudtrailRequest((r) => ({ path: exports[0], seq: (r?.seq ?? 0) + 1 }));
            navigate({ name: 'import' });
          }
          if (bundles.length > 0) {
            setBundleRequest((r) => ({ path: bundles[0], seq: (r?.seq ?? 0) + 1 }));
            navigate({ name: 'bundle' });
            if (bundles.length > 1) {
              showError({
                code: 'invalid',
                message: `${bundles.length} evidence bundles were given; one opens at a time. Opened ${bundles[0]}; open the others from the Received bundle screen.`,
              });
            }
          }
        })
        .catch(showError);
    },
    [onImportEvent, showError],
  );

  // The open dialog's taker of dropped files, if any (a ref: setting it re-renders nothing).
  const dropTarget = useRef<DropTarget | null>(null);
  const setDropTarget = useCallback((target: DropTarget | null) => {
    dropTarget.current = target;
  }, []);
  const dropFiles = useCallback(
    (paths: string[]) => {
      const rest = dropTarget.current ? dropTarget.current(paths) : paths;
      startImport(rest);
    },
    [startImport],
  );

  const cancelImport = useCallback(
    (job: number) => {
      backend.cancelJob(job).catch(showError);
    },
    [showError],
  );

  // Archives given on the command line are imported once, as if dropped.
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    if (startup.imports.length > 0) startImport(startup.imports);
  }, [startup.imports, startImport]);

  const value = useMemo<AppContextValue>(
    () => ({
      startup,
      settings,
      updateSettings,
      db,
      refreshDb,
      dataVersion,
      keys,
      setKeys,
      imports,
      startImport,
      dropFiles,
      setDropTarget,
      onImportEvent,
      bundleRequest,
      receiveRequest,
      cloudtrailRequest,
      cancelImport,
      screen,
      navigate,
      openSearch,
      searchRequest,
      searchQuery,
      setSearchQuery,
      dashboardFilter,
      setDashboardFilter,
      error,
      showError,
      clearError,
    }),
    [
      startup,
      settings,
      updateSettings,
      db,
      refreshDb,
      dataVersion,
      keys,
      imports,
      startImport,
      dropFiles,
      setDropTarget,
      onImportEvent,
      bundleRequest,
      receiveRequest,
      cloudtrailRequest,
      cancelImport,
      screen,
      openSearch,
      searchRequest,
      searchQuery,
      setSearchQuery,
      dashboardFilter,
      error,
      showError,
      clearError,
    ],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
