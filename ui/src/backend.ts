// The one module that talks to the Rust side. Every command, channel, dialog and window event the UI uses goes
// through here; the commands' arguments and results are the `Commands` type generated from the command list of
// src-tauri/src/api.rs (with the other types, by ts-rs into ./bindings). Components import `backend` and never call
// `invoke` themselves.

import { Channel, invoke } from '@tauri-apps/api/core';
import { getCurrentWebview } from '@tauri-apps/api/webview';
import { open, save } from '@tauri-apps/plugin-dialog';

import type { Sort } from './bindings/Sort';
import type { Change } from './bindings/Change';
import type { Access } from './bindings/Access';
import type { AppError } from './bindings/AppError';
import type { ArchiveDetail } from './bindings/ArchiveDetail';
import type { ArchivesView } from './bindings/ArchivesView';
import type { AuditCoverage } from './bindings/AuditCoverage';
import type { AuditorKey } from './bindings/AuditorKey';
import type { AuditPeriod } from './bindings/AuditPeriod';
import type { CloudTrailStep } from './bindings/CloudTrailStep';
import type { ExportPreview } from './bindings/ExportPreview';
import type { ExportResult } from './bindings/ExportResult';
import type { ExportSelection } from './bindings/ExportSelection';
import type { OpenedBundle } from './bindings/OpenedBundle';
import type { FileKind } from './bindings/FileKind';
import type { CheckEvent } from './bindings/CheckEvent';
import type { Commands } from './bindings/Commands';
import type { DashboardOptions } from './bindings/DashboardOptions';
import type { WorkingHours } from './bindings/WorkingHours';
import type { DbStatus } from './bindings/DbStatus';
import type { Deployments } from './bindings/Deployments';
import type { EventDetail } from './bindings/EventDetail';
import type { Histogram } from './bindings/Histogram';
import type { ImportEvent } from './bindings/ImportEvent';
import type { Overview } from './bindings/Overview';
import type { Scope } from './bindings/Scope';
import type { SearchPage } from './bindings/SearchPage';
import type { Settings } from './bindings/Settings';
import type { Startup } from './bindings/Startup';
import type { TrustedKey } from './bindings/TrustedKey';
import type { TrustOutcome } from './bindings/TrustOutcome';
import type { UntrustOutcome } from './bindings/UntrustOutcome';
import type { Demotion } from './bindings/Demotion';

export type {
  Access,
  AppError,
  ArchiveDetail,
  ArchivesView,
  AuditCoverage,
  AuditorKey,
  AuditPeriod,
  CheckEvent,
  DashboardOptions,
  DbStatus,
  Deployments,
  EventDetail,
  ExportPreview,
  ExportResult,
  ExportSelection,
  FileKind,
  Histogram,
  ImportEvent,
  OpenedBundle,
  Overview,
  Scope,
  SearchPage,
  Settings,
  Startup,
  TrustedKey,
  TrustOutcome,
  UntrustOutcome,
  Demotion,
};
export type { AnalyticsExport } from './bindings/AnalyticsExport';
export type { ArchiveRow } from './bindings/ArchiveRow';
export type { BundleEvent } from './bindings/BundleEvent';
export type { BundleKey } from './bindings/BundleKey';
export type { BundleVerdict } from './bindings/BundleVerdict';
export type { CheckReport } from './bindings/CheckReport';
export type { CloudTrailCheck } from './bindings/CloudTrailCheck';
export type { CloudTrailImport } from './bindings/CloudTrailImport';
export type { CloudTrailStep } from './bindings/CloudTrailStep';
export type { CloudTrailTrailImport } from './bindings/CloudTrailTrailImport';
export type { CloudTrailHours } from './bindings/CloudTrailHours';
export type { HourGap } from './bindings/HourGap';
export type { EventRow } from './bindings/EventRow';
export type { ImportResult } from './bindings/ImportResult';
export type { Progress } from './bindings/Progress';
export type { CheckProgress } from './bindings/CheckProgress';
export type { Theme } from './bindings/Theme';
export type { TimeZoneChoice } from './bindings/TimeZoneChoice';
export type { Burst } from './bindings/Burst';
export type { Action } from './bindings/Action';
export type { ActionLog } from './bindings/ActionLog';
export type { Annotations } from './bindings/Annotations';
export type { Change } from './bindings/Change';
export type { LogCheck } from './bindings/LogCheck';
export type { PapersView } from './bindings/PapersView';
export type { Engagement } from './bindings/Engagement';
export type { EngagementsView } from './bindings/EngagementsView';
export type { IdentitiesView } from './bindings/IdentitiesView';
export type { DayCount } from './bindings/DayCount';
export type { DeniedPair } from './bindings/DeniedPair';
export type { Figure } from './bindings/Figure';
export type { FirstSeen } from './bindings/FirstSeen';
export type { Lane } from './bindings/Lane';
export type { TimeSeries } from './bindings/TimeSeries';
export type { VerificationSummary } from './bindings/VerificationSummary';
export type { LookalikeGroup } from './bindings/LookalikeGroup';
export type { ArchiveNote } from './bindings/ArchiveNote';
export type { Normalization } from './bindings/Normalization';
export type { Renormalized } from './bindings/Renormalized';
export type { Incident } from './bindings/Incident';
export type { ResultsExport } from './bindings/ResultsExport';
export type { Hint } from './bindings/Hint';
export type { Sort } from './bindings/Sort';
export type { SortColumn } from './bindings/SortColumn';
export type { Promotion } from './bindings/Promotion';
export type { WorkingHours } from './bindings/WorkingHours';
export type { ScopeInfo } from './bindings/ScopeInfo';
export type { Coverage } from './bindings/Coverage';
export type { OriginCoverage } from './bindings/OriginCoverage';
export type { Gap } from './bindings/Gap';

export type JobId = number;

/** Turns whatever a rejected call carries into an AppError (`{code, message}`). */
export function toAppError(e: unknown): AppError {
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    return e as AppError;
  }
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}

async function call<C extends keyof Commands>(cmd: C, args: Commands[C][0]): Promise<Commands[C][1]> {
  try {
    return await invoke<Commands[C][1]>(cmd, args);
  } catch (e) {
    throw toAppError(e);
  }
}

function channel<T>(onEvent: (event: T) => void): Channel<T> {
  const ch = new Channel<T>();
  ch.onmessage = onEvent;
  return ch;
}

const none = {} as Record<string, never>;

export const backend = {
  startup: () => call('startup', none),
  dbStatus: () => call('db_status', none),
  /** Opens (or creates) the database at `path`; `null` for the default one in the app-data folder. */
  chooseDatabase: (path: string | null) => call('choose_database', { path }),
  saveSettings: (settings: Settings) => call('save_settings', { settings }),

  keys: () => call('keys', none),
  /** Trusts `key` as a bare key: any origin, pinned to the first signer of each origin. */
  trustKey: (key: string) => call('trust_key', { key }),
  /** Grants `key` for an origin pattern (`*`, an origin, or `prefix*`) and an optional window of sealing times. */
  grantKey: (key: string, origins: string, validAfter: string | null, validBefore: string | null) =>
    call('trust_key', { key, origins, validAfter, validBefore }),
  trustKeyFile: (path: string) => call('trust_key_file', { path }),
  untrustKey: (fingerprint: string) => call('untrust_key', { fingerprint }),
  /** Removes one grant (the same key, origins and window); the key's other grants stay. */
  untrustGrant: (grant: TrustedKey) => call('untrust_grant', { grant }),
  /** Marks the verified archives of the open database that the keyring (and this session's keys) do not trust as
   * untrusted, as removing a grant does. */
  demoteUntrustedArchives: () => call('demote_untrusted_archives', none),

  /** Starts verifying and importing `paths`; progress and results arrive through `onEvent`. */
  importArchives: (paths: string[], onEvent: (e: ImportEvent) => void) =>
    call('import_archives', { paths, onEvent: channel(onEvent) }),
  /** "Import unsigned logs": seals `paths` on receipt with the auditor's key as one archive of `origin`, trusts that
   * key for exactly this origin, and imports the archive; progress and the result arrive through `onEvent`. */
  receiveFiles: (paths: string[], origin: string, onEvent: (e: ImportEvent) => void) =>
    call('receive_files', { paths, origin, onEvent: channel(onEvent) }),
  /** Starts re-checking the whole database; progress and the report arrive through `onEvent`. */
  checkDatabase: (onEvent: (e: CheckEvent) => void) => call('check_database', { onEvent: channel(onEvent) }),
  cancelJob: (job: JobId) => call('cancel_job', { job }),

  archives: () => call('archives', none),
  archiveDetail: (id: number) => call('archive_detail', { id }),
  /** Re-normalizes archive `id` with the built-in mapper `kind` (the auditor's choice; `import --as KIND`). */
  renormalizeArchive: (id: number, kind: string) => call('renormalize_archive', { id, kind }),
  incidents: (includeReviewed: boolean) => call('incidents', { includeReviewed }),
  exportResults: (query: string, out: string) => call('export_results', { query, out }),
  hints: (query: string) => call('hints', { query }),
  reviewIncident: (id: number, note: string) => call('review_incident', { id, note }),

  /** The auditor's working papers (kept next to the database, never in it) and the action log. */
  annotations: (id: string) => call('annotations', { id }),
  annotate: (id: string, change: Change) => call('annotate', { id, change }),
  workingPapers: () => call('working_papers', none),
  saveSearch: (name: string, query: string) => call('save_search', { name, query }),
  deleteSavedSearch: (name: string) => call('delete_saved_search', { name }),
  rememberQuery: (query: string) => call('remember_query', { query }),
  actionLog: () => call('action_log', none),
  engagements: () => call('engagements', none),
  openEngagement: (folder: string) => call('open_engagement', { folder }),
  createEngagement: (folder: string, name: string, client: string, period: AuditPeriod | null) =>
    call('create_engagement', { folder, name, client, period }),
  sessionKeys: () => call('session_keys', none),
  identities: () => call('identities', none),
  setAlias: (actor: string, person: string) => call('set_alias', { actor, person }),
  removeAlias: (actor: string) => call('remove_alias', { actor }),
  saveSessionKey: (fingerprint: string) => call('save_session_key', { fingerprint }),
  exportActionLog: (out: string) => call('export_action_log', { out }),

  /** A page of matches in the order `sort` (newest first when null); `fromEnd`: that order read from its last
   * match backward (End: the true last rows at once, then page by page toward the first). */
  /** A page of matches: after a cursor, read from the end (`fromEnd`), or (`offset`) starting at a match's
   * position, for a scrollbar dragged far into the results. */
  search: (
    query: string,
    limit: number,
    after: string | null,
    sort: Sort | null = null,
    fromEnd = false,
    offset: number | null = null,
  ) => call('search', { query, limit, after, sort, fromEnd, offset }),
  count: (query: string) => call('count', { query }),
  histogram: (query: string, buckets: number) => call('histogram', { query, buckets }),
  event: (id: string) => call('event', { id }),

  /** The dashboards over `scope` (time range and query); every figure carries the search that reproduces it. */
  /** The other dashboard options (top lists, buckets, bursts) are the library's defaults. */
  overview: (scope: Scope, workingHours: WorkingHours) => call('overview', { scope, workingHours }),
  deployments: (scope: Scope, workingHours: WorkingHours) => call('deployments', { scope, workingHours }),
  access: (scope: Scope, workingHours: WorkingHours) => call('access', { scope, workingHours }),

  /** The auditor's signing key (signs exported bundles), or null when none was created or chosen yet. */
  auditorKey: () => call('auditor_key', none),
  createAuditorKey: (name: string) => call('create_auditor_key', { name }),
  chooseAuditorKey: (path: string) => call('choose_auditor_key', { path }),
  /** What exporting `selection` would disclose; nothing is written. */
  exportPreview: (selection: ExportSelection) => call('export_preview', { selection }),
  /** Writes the evidence bundle (off the main thread: the window stays responsive). */
  exportBundle: (selection: ExportSelection, purpose: string, out: string) =>
    call('export_bundle', { selection, purpose, out }),
  /**
   * Writes every verified event `query` matches to the folder `out` as OCSF Parquet (docs/ocsf-export.md), with a
   * manifest signed by the auditor's key; off the main thread.
   */
  exportParquet: (query: string, out: string) => call('export_parquet', { query, out }),
  /** Verifies a received bundle on its own (never imported) and returns what it holds, as text. */
  openBundle: (path: string) => call('open_bundle', { path }),
  /** Which of `paths` are evidence bundles (to open) and which archives (to import); reads only the ZIP listing. */
  fileKinds: (paths: string[]) => call('file_kinds', { paths }),
  /** Verifies an AWS CloudTrail export offline (docs/cloudtrail.md); nothing is imported. */
  verifyCloudtrail: (path: string, keys: string[], signatures: string | null, accounts: string[]) =>
    call('verify_cloudtrail', { path, keys, signatures, accounts }),
  /**
   * Verifies an AWS CloudTrail export offline with the same inputs and, only when it verifies in full, imports its
   * events (one archive per trail and region, origin `aws-cloudtrail:ACCOUNT/REGION/TRAIL`); the keys are then kept
   * next to the keyring for "Re-check database". A failed verification is an outcome `failed`, nothing stored.
   * `onProgress` is told how many log files were checked, then stored.
   */
  importCloudtrail: (
    path: string,
    keys: string[],
    signatures: string | null,
    accounts: string[],
    onProgress: (step: CloudTrailStep) => void = () => undefined,
  ) => call('import_cloudtrail', { path, keys, signatures, accounts, onProgress: channel(onProgress) }),

  /** The audit period kept in the open database and, when set, how its verified archives cover it per origin. */
  auditCoverage: () => call('audit_coverage', none),
  /** Sets (checked by the backend) or, with null, clears the database's audit period; returns its coverage. */
  setAuditPeriod: (period: AuditPeriod | null) => call('set_audit_period', { period }),

  /** Native file dialog for archives; resolves to the chosen paths (none when cancelled). */
  async pickArchives(): Promise<string[]> {
    const chosen = await open({
      multiple: true,
      directory: false,
      title: 'Import signed audit archives',
      filters: [
        { name: 'AuditLens archives', extensions: ['zip'] },
        { name: 'All files', extensions: ['*'] },
      ],
    });
    return chosen === null ? [] : Array.isArray(chosen) ? chosen : [chosen];
  },
  /** Native file dialog for AWS CloudTrail public keys (the JSON `aws cloudtrail list-public-keys` prints), or a
   * digest-signatures mapping file. */
  async pickJson(title: string, multiple: boolean): Promise<string[]> {
    const chosen = await open({
      multiple,
      directory: false,
      title,
      filters: [
        { name: 'JSON', extensions: ['json'] },
        { name: 'All files', extensions: ['*'] },
      ],
    });
    return chosen === null ? [] : Array.isArray(chosen) ? chosen : [chosen];
  },
  /** Native file dialog for log files nobody signed, to seal on receipt. */
  async pickLogs(): Promise<string[]> {
    const chosen = await open({
      multiple: true,
      directory: false,
      title: 'Import unsigned logs (sealed on receipt)',
      filters: [
        { name: 'Log files', extensions: ['log', 'json', 'jsonl', 'ndjson', 'gz'] },
        { name: 'All files', extensions: ['*'] },
      ],
    });
    return chosen === null ? [] : Array.isArray(chosen) ? chosen : [chosen];
  },
  /** Native file dialog for a verifier key file (.pub). */
  async pickKeyFile(): Promise<string | null> {
    const chosen = await open({
      multiple: false,
      directory: false,
      title: 'Trust a verifier key',
      filters: [
        { name: 'Verifier keys', extensions: ['pub'] },
        { name: 'All files', extensions: ['*'] },
      ],
    });
    return typeof chosen === 'string' ? chosen : null;
  },
  /** Native file dialog for the auditor's private signing key (.key, made by `auditlens keygen`). */
  async pickAuditorKeyFile(): Promise<string | null> {
    const chosen = await open({
      multiple: false,
      directory: false,
      title: 'Choose your auditor signing key',
      filters: [
        { name: 'Signing keys', extensions: ['key'] },
        { name: 'All files', extensions: ['*'] },
      ],
    });
    return typeof chosen === 'string' ? chosen : null;
  },
  /** Native save dialog for a new evidence bundle. */
  async pickBundleOut(defaultPath: string): Promise<string | null> {
    const chosen = await save({
      title: 'Save the evidence bundle',
      filters: [{ name: 'Evidence bundles', extensions: ['zip'] }],
      defaultPath,
    });
    return typeof chosen === 'string' ? chosen : null;
  },
  /** Native save dialog for a result table: CSV, or JSON Lines by the name's extension. */
  async pickResultsOut(): Promise<string | null> {
    const chosen = await save({
      title: 'Save the results (CSV, or JSON Lines as .jsonl)',
      filters: [
        { name: 'CSV', extensions: ['csv'] },
        { name: 'JSON Lines', extensions: ['jsonl'] },
      ],
      defaultPath: 'auditlens-results.csv',
    });
    return typeof chosen === 'string' ? chosen : null;
  },
  /** Native save dialog for the action log (JSON Lines). */
  async pickActionLogOut(): Promise<string | null> {
    const chosen = await save({
      title: 'Save the action log (JSON Lines)',
      filters: [{ name: 'JSON Lines', extensions: ['jsonl'] }],
      defaultPath: 'auditlens-action-log.jsonl',
    });
    return typeof chosen === 'string' ? chosen : null;
  },
  /** Native file dialog for a received evidence bundle. */
  async pickBundle(): Promise<string | null> {
    const chosen = await open({
      multiple: false,
      directory: false,
      title: 'Open a received evidence bundle',
      filters: [
        { name: 'Evidence bundles', extensions: ['zip'] },
        { name: 'All files', extensions: ['*'] },
      ],
    });
    return typeof chosen === 'string' ? chosen : null;
  },
  /** Native folder dialog for an AWS CloudTrail export (the folder holding `AWSLogs/`, as `aws s3 sync` wrote it). */
  async pickCloudtrailFolder(): Promise<string | null> {
    const chosen = await open({
      multiple: false,
      directory: true,
      title: 'Choose an AWS CloudTrail export (the folder holding AWSLogs/)',
    });
    return typeof chosen === 'string' ? chosen : null;
  },
  /** Native dialog to choose (or create) the folder of an analytics export. */
  async pickExportFolder(): Promise<string | null> {
    const chosen = await open({ multiple: false, directory: true, title: 'Choose an empty folder for the OCSF Parquet export' });
    return typeof chosen === 'string' ? chosen : null;
  },
  /** Native dialog for an engagement's folder (an existing one, or a new or empty one to create it in). */
  async pickEngagementFolder(): Promise<string | null> {
    const chosen = await open({ multiple: false, directory: true, title: 'Choose the engagement folder' });
    return typeof chosen === 'string' ? chosen : null;
  },
  /** Native dialogs to pick an existing database file or name a new one. */
  async pickDatabase(mode: 'open' | 'new'): Promise<string | null> {
    const filters = [{ name: 'AuditLens database', extensions: ['db', 'sqlite'] }];
    const chosen =
      mode === 'open'
        ? await open({ multiple: false, directory: false, title: 'Open a database', filters })
        : await save({ title: 'New database', filters, defaultPath: 'auditlens.db' });
    return typeof chosen === 'string' ? chosen : null;
  },

  /**
   * Files dropped on the window (Tauri's drag-and-drop events carry real paths). `onHover` is told when files are
   * dragged over the window and when they leave. Returns the function that stops listening.
   */
  async onFileDrop(onDrop: (paths: string[]) => void, onHover: (over: boolean) => void): Promise<() => void> {
    return getCurrentWebview().onDragDropEvent((event) => {
      const p = event.payload;
      if (p.type === 'enter' || p.type === 'over') onHover(true);
      else if (p.type === 'leave') onHover(false);
      else if (p.type === 'drop') {
        onHover(false);
        if (p.paths.length > 0) onDrop(p.paths);
      }
    });
  },
};

export type Backend = typeof backend;
