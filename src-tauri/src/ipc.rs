//! The commands as the window sees them: each hands its work to [`crate::commands`] off the main thread
//! (blocking pool for queries, a thread of its own for a job) and maps nothing itself. Jobs report through a
//! [`Channel`], progress throttled to about ten messages a second, and stop when `cancel_job` is called.

use std::sync::Arc;

use auditlens::keyring::TrustedKey;
use auditlens::papers::{Annotations, Change, LogCheck, PapersView};
use auditlens::store::coverage::AuditPeriod;
use auditlens::store::histogram::Histogram;
use auditlens::store::incidents::Incident;
use auditlens::store::renormalize::Renormalized;
use auditlens::store::search::{EventDetail, SearchPage};
use auditlens::store::stats::{
    Access, DashboardOptions, Deployments, Overview, Scope, WorkingHours,
};
use tauri::State;
use tauri::ipc::Channel;

use crate::commands;
use crate::contract::{
    ActionLog, AnalyticsExport, ArchiveDetail, ArchivesView, AuditCoverage, AuditorKey, CheckEvent,
    CloudTrailCheck, DbStatus, EngagementsView, ExportPreview, ExportResult, ExportSelection,
    FileKind, IdentitiesView, ImportEvent, JobId, OpenedBundle, ResultsExport, Settings, Startup,
    TrustOutcome, UntrustOutcome,
};
use crate::error::{AppError, ErrorCode};
use crate::progress::Throttle;
use crate::state::AppState;

/// The app state as commands receive it.
type Shared<'a> = State<'a, Arc<AppState>>;

/// Runs `f` on the blocking thread pool, so the window's event loop never waits for the database.
async fn blocking<T, F>(state: &Arc<AppState>, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&AppState) -> Result<T, AppError> + Send + 'static,
{
    let state = state.clone();
    tauri::async_runtime::spawn_blocking(move || f(&state))
        .await
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("worker thread failed: {e}")))?
}

#[tauri::command]
pub async fn startup(state: Shared<'_>) -> Result<Startup, AppError> {
    blocking(&state, commands::startup).await
}

#[tauri::command]
pub async fn db_status(state: Shared<'_>) -> Result<DbStatus, AppError> {
    blocking(&state, commands::db_status).await
}

#[tauri::command]
pub async fn choose_database(
    state: Shared<'_>,
    path: Option<String>,
) -> Result<DbStatus, AppError> {
    blocking(&state, move |s| {
        commands::choose_database(s, path.as_deref())
    })
    .await
}

#[tauri::command]
pub async fn save_settings(state: Shared<'_>, settings: Settings) -> Result<Settings, AppError> {
    blocking(&state, move |s| commands::save_settings(s, settings)).await
}

#[tauri::command]
pub fn keys(state: Shared<'_>) -> Vec<TrustedKey> {
    commands::keys(&state)
}

/// Trusts a key: as a bare key (any origin, pinned on first use) without `origins`, else granted for that origin
/// pattern and the optional window.
#[tauri::command]
pub async fn trust_key(
    state: Shared<'_>,
    key: String,
    origins: Option<String>,
    valid_after: Option<String>,
    valid_before: Option<String>,
) -> Result<TrustOutcome, AppError> {
    blocking(&state, move |s| match origins {
        None => commands::trust_key(s, &key),
        Some(origins) => commands::grant_key(
            s,
            &key,
            &origins,
            valid_after.as_deref(),
            valid_before.as_deref(),
        ),
    })
    .await
}

#[tauri::command]
pub async fn trust_key_file(state: Shared<'_>, path: String) -> Result<TrustOutcome, AppError> {
    blocking(&state, move |s| commands::trust_key_file(s, &path)).await
}

#[tauri::command]
pub async fn untrust_key(
    state: Shared<'_>,
    fingerprint: String,
) -> Result<UntrustOutcome, AppError> {
    blocking(&state, move |s| commands::untrust_key(s, &fingerprint)).await
}

#[tauri::command]
pub async fn demote_untrusted_archives(
    state: Shared<'_>,
) -> Result<Vec<auditlens::store::import::Demotion>, AppError> {
    blocking(&state, commands::demote_untrusted_archives).await
}

#[tauri::command]
pub async fn untrust_grant(
    state: Shared<'_>,
    grant: TrustedKey,
) -> Result<UntrustOutcome, AppError> {
    blocking(&state, move |s| commands::untrust_grant(s, &grant)).await
}

/// Starts importing `paths` on a thread of its own; returns the job id at once.
#[tauri::command]
pub fn import_archives(
    state: Shared<'_>,
    paths: Vec<String>,
    on_event: Channel<ImportEvent>,
) -> JobId {
    let state = state.inner().clone();
    let (job, cancel) = state.new_job();
    std::thread::spawn(move || {
        let mut throttle = Throttle::ten_per_second();
        commands::import_archives(&state, &paths, job, &cancel, &mut |event| {
            if matches!(event, ImportEvent::Progress { .. }) && !throttle.ready() {
                return;
            }
            // A closed window drops the channel: the import still finishes (or is cancelled) cleanly.
            let _ = on_event.send(event);
        });
        state.end_job(job);
    });
    job
}

/// Starts sealing files on receipt and importing the archive ("Import unsigned logs") on a thread of its own;
/// returns the job id at once.
#[tauri::command]
pub fn receive_files(
    state: Shared<'_>,
    paths: Vec<String>,
    origin: String,
    on_event: Channel<ImportEvent>,
) -> JobId {
    let state = state.inner().clone();
    let (job, cancel) = state.new_job();
    std::thread::spawn(move || {
        let mut throttle = Throttle::ten_per_second();
        commands::receive_files(&state, &paths, &origin, job, &cancel, &mut |event| {
            if matches!(event, ImportEvent::Progress { .. }) && !throttle.ready() {
                return;
            }
            let _ = on_event.send(event);
        });
        state.end_job(job);
    });
    job
}

/// Starts re-checking the database on a thread of its own; returns the job id at once.
#[tauri::command]
pub fn check_database(state: Shared<'_>, on_event: Channel<CheckEvent>) -> JobId {
    let state = state.inner().clone();
    let (job, cancel) = state.new_job();
    std::thread::spawn(move || {
        let mut throttle = Throttle::ten_per_second();
        commands::check_database(&state, job, &cancel, &mut |event| {
            if matches!(event, CheckEvent::Progress { .. }) && !throttle.ready() {
                return;
            }
            let _ = on_event.send(event);
        });
        state.end_job(job);
    });
    job
}

#[tauri::command]
pub fn cancel_job(state: Shared<'_>, job: JobId) -> bool {
    state.cancel_job(job)
}

#[tauri::command]
pub async fn archives(state: Shared<'_>) -> Result<ArchivesView, AppError> {
    blocking(&state, commands::archives).await
}

#[tauri::command]
pub async fn archive_detail(state: Shared<'_>, id: i64) -> Result<ArchiveDetail, AppError> {
    blocking(&state, move |s| commands::archive_detail(s, id)).await
}

#[tauri::command]
pub async fn renormalize_archive(
    state: Shared<'_>,
    id: i64,
    kind: String,
) -> Result<Renormalized, AppError> {
    blocking(&state, move |s| commands::renormalize_archive(s, id, &kind)).await
}

#[tauri::command]
pub async fn incidents(
    state: Shared<'_>,
    include_reviewed: bool,
) -> Result<Vec<Incident>, AppError> {
    blocking(&state, move |s| commands::incidents(s, include_reviewed)).await
}

#[tauri::command]
pub async fn review_incident(
    state: Shared<'_>,
    id: i64,
    note: String,
) -> Result<Incident, AppError> {
    blocking(&state, move |s| commands::review_incident(s, id, &note)).await
}

#[tauri::command]
pub async fn search(
    state: Shared<'_>,
    query: String,
    limit: u32,
    after: Option<String>,
    sort: Option<auditlens::store::sorted::Sort>,
    from_end: Option<bool>,
    offset: Option<u32>,
) -> Result<SearchPage, AppError> {
    blocking(&state, move |s| {
        commands::search_sorted(
            s,
            &query,
            limit,
            after.as_deref(),
            sort,
            from_end.unwrap_or(false),
            offset,
        )
    })
    .await
}

#[tauri::command]
pub async fn count(state: Shared<'_>, query: String) -> Result<u64, AppError> {
    blocking(&state, move |s| commands::count(s, &query)).await
}

#[tauri::command]
pub async fn hints(
    state: Shared<'_>,
    query: String,
) -> Result<Vec<auditlens::store::hints::Hint>, AppError> {
    blocking(&state, move |s| commands::hints(s, &query)).await
}

#[tauri::command]
pub async fn histogram(
    state: Shared<'_>,
    query: String,
    buckets: u32,
) -> Result<Histogram, AppError> {
    blocking(&state, move |s| commands::histogram(s, &query, buckets)).await
}

#[tauri::command]
pub async fn event(state: Shared<'_>, id: String) -> Result<EventDetail, AppError> {
    blocking(&state, move |s| commands::event(s, &id)).await
}

/// The dashboards' options: the working hours chosen in the window, the library's defaults for the rest (so the
/// window never restates them).
fn dashboard_options(working_hours: WorkingHours) -> DashboardOptions {
    DashboardOptions {
        working_hours,
        ..DashboardOptions::default()
    }
}

#[tauri::command]
pub async fn overview(
    state: Shared<'_>,
    scope: Scope,
    working_hours: WorkingHours,
) -> Result<Overview, AppError> {
    let options = dashboard_options(working_hours);
    blocking(&state, move |s| commands::overview(s, &scope, &options)).await
}

#[tauri::command]
pub async fn deployments(
    state: Shared<'_>,
    scope: Scope,
    working_hours: WorkingHours,
) -> Result<Deployments, AppError> {
    let options = dashboard_options(working_hours);
    blocking(&state, move |s| commands::deployments(s, &scope, &options)).await
}

#[tauri::command]
pub async fn access(
    state: Shared<'_>,
    scope: Scope,
    working_hours: WorkingHours,
) -> Result<Access, AppError> {
    let options = dashboard_options(working_hours);
    blocking(&state, move |s| commands::access(s, &scope, &options)).await
}

#[tauri::command]
pub async fn auditor_key(state: Shared<'_>) -> Result<Option<AuditorKey>, AppError> {
    blocking(&state, commands::auditor_key).await
}

#[tauri::command]
pub async fn create_auditor_key(state: Shared<'_>, name: String) -> Result<AuditorKey, AppError> {
    blocking(&state, move |s| commands::create_auditor_key(s, &name)).await
}

#[tauri::command]
pub async fn choose_auditor_key(state: Shared<'_>, path: String) -> Result<AuditorKey, AppError> {
    blocking(&state, move |s| commands::choose_auditor_key(s, &path)).await
}

#[tauri::command]
pub async fn export_preview(
    state: Shared<'_>,
    selection: ExportSelection,
) -> Result<ExportPreview, AppError> {
    blocking(&state, move |s| commands::export_preview(s, &selection)).await
}

/// Writes an evidence bundle on the blocking pool: the window stays responsive however long it takes.
#[tauri::command]
pub async fn export_bundle(
    state: Shared<'_>,
    selection: ExportSelection,
    purpose: String,
    out: String,
) -> Result<ExportResult, AppError> {
    blocking(&state, move |s| {
        commands::export_bundle(s, &selection, &purpose, &out)
    })
    .await
}

/// Writes the OCSF Parquet export (docs/ocsf-export.md) on the blocking pool.
#[tauri::command]
pub async fn export_results(
    state: Shared<'_>,
    query: String,
    out: String,
) -> Result<ResultsExport, AppError> {
    blocking(&state, move |s| commands::export_results(s, &query, &out)).await
}

#[tauri::command]
pub async fn export_parquet(
    state: Shared<'_>,
    query: String,
    out: String,
) -> Result<AnalyticsExport, AppError> {
    blocking(&state, move |s| commands::export_parquet(s, &query, &out)).await
}

#[tauri::command]
pub async fn open_bundle(state: Shared<'_>, path: String) -> Result<OpenedBundle, AppError> {
    blocking(&state, move |s| commands::open_bundle(s, &path)).await
}

/// Verifies an AWS CloudTrail export offline on the blocking pool (docs/cloudtrail.md); nothing is imported.
#[tauri::command]
pub async fn verify_cloudtrail(
    state: Shared<'_>,
    path: String,
    keys: Vec<String>,
    signatures: Option<String>,
    accounts: Vec<String>,
) -> Result<CloudTrailCheck, AppError> {
    blocking(&state, move |s| {
        commands::verify_cloudtrail(s, &path, &keys, signatures.as_deref(), &accounts)
    })
    .await
}

/// Verifies an AWS CloudTrail export with AWS's signatures and imports it when it verifies in full, on the
/// blocking pool (docs/cloudtrail.md section 5), telling `on_progress` how far it got (ten times a second at most).
#[tauri::command]
pub async fn import_cloudtrail(
    state: Shared<'_>,
    path: String,
    keys: Vec<String>,
    signatures: Option<String>,
    accounts: Vec<String>,
    on_progress: Channel<auditlens::store::import::CloudTrailStep>,
) -> Result<auditlens::store::import::CloudTrailImport, AppError> {
    blocking(&state, move |s| {
        let mut throttle = Throttle::ten_per_second();
        commands::import_cloudtrail(
            s,
            &path,
            &keys,
            signatures.as_deref(),
            &accounts,
            &mut |step| {
                if throttle.ready() {
                    let _ = on_progress.send(*step);
                }
            },
        )
    })
    .await
}

/// Which of `paths` are evidence bundles (to open) and which are archives (to import).
#[tauri::command]
pub async fn file_kinds(state: Shared<'_>, paths: Vec<String>) -> Result<Vec<FileKind>, AppError> {
    blocking(&state, move |_| Ok(commands::file_kinds(&paths))).await
}

/// The audit period of the open database and its coverage per origin (docs/coverage.md).
#[tauri::command]
pub async fn audit_coverage(state: Shared<'_>) -> Result<AuditCoverage, AppError> {
    blocking(&state, commands::audit_coverage).await
}

/// Sets (or, with null, clears) the audit period of the open database; returns its coverage.
#[tauri::command]
pub async fn set_audit_period(
    state: Shared<'_>,
    period: Option<AuditPeriod>,
) -> Result<AuditCoverage, AppError> {
    blocking(&state, move |s| commands::set_audit_period(s, period)).await
}

#[tauri::command]
pub async fn annotations(state: Shared<'_>, id: String) -> Result<Annotations, AppError> {
    blocking(&state, move |s| commands::annotations(s, &id)).await
}

#[tauri::command]
pub async fn annotate(
    state: Shared<'_>,
    id: String,
    change: Change,
) -> Result<Annotations, AppError> {
    blocking(&state, move |s| commands::annotate(s, &id, &change)).await
}

#[tauri::command]
pub async fn working_papers(state: Shared<'_>) -> Result<PapersView, AppError> {
    blocking(&state, commands::working_papers).await
}

#[tauri::command]
pub async fn save_search(
    state: Shared<'_>,
    name: String,
    query: String,
) -> Result<PapersView, AppError> {
    blocking(&state, move |s| commands::save_search(s, &name, &query)).await
}

#[tauri::command]
pub async fn delete_saved_search(state: Shared<'_>, name: String) -> Result<PapersView, AppError> {
    blocking(&state, move |s| commands::delete_saved_search(s, &name)).await
}

#[tauri::command]
pub async fn remember_query(state: Shared<'_>, query: String) -> Result<PapersView, AppError> {
    blocking(&state, move |s| commands::remember_query(s, &query)).await
}

#[tauri::command]
pub async fn action_log(state: Shared<'_>) -> Result<ActionLog, AppError> {
    blocking(&state, commands::action_log).await
}

#[tauri::command]
pub async fn export_action_log(state: Shared<'_>, out: String) -> Result<LogCheck, AppError> {
    blocking(&state, move |s| commands::export_action_log(s, &out)).await
}

#[tauri::command]
pub async fn engagements(state: Shared<'_>) -> Result<EngagementsView, AppError> {
    blocking(&state, |s| Ok(commands::engagements(s))).await
}

#[tauri::command]
pub async fn open_engagement(
    state: Shared<'_>,
    folder: String,
) -> Result<EngagementsView, AppError> {
    blocking(&state, move |s| commands::open_engagement(s, &folder)).await
}

#[tauri::command]
pub async fn create_engagement(
    state: Shared<'_>,
    folder: String,
    name: String,
    client: String,
    period: Option<AuditPeriod>,
) -> Result<EngagementsView, AppError> {
    blocking(&state, move |s| {
        commands::create_engagement(s, &folder, &name, &client, period.as_ref())
    })
    .await
}

#[tauri::command]
pub async fn session_keys(state: Shared<'_>) -> Result<Vec<TrustedKey>, AppError> {
    blocking(&state, |s| Ok(commands::session_keys(s))).await
}

#[tauri::command]
pub async fn save_session_key(
    state: Shared<'_>,
    fingerprint: String,
) -> Result<TrustOutcome, AppError> {
    blocking(&state, move |s| commands::save_session_key(s, &fingerprint)).await
}

#[tauri::command]
pub async fn identities(state: Shared<'_>) -> Result<IdentitiesView, AppError> {
    blocking(&state, commands::identities).await
}

#[tauri::command]
pub async fn set_alias(
    state: Shared<'_>,
    actor: String,
    person: String,
) -> Result<IdentitiesView, AppError> {
    blocking(&state, move |s| commands::set_alias(s, &actor, &person)).await
}

#[tauri::command]
pub async fn remove_alias(state: Shared<'_>, actor: String) -> Result<IdentitiesView, AppError> {
    blocking(&state, move |s| commands::remove_alias(s, &actor)).await
}
