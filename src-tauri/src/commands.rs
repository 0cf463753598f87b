//! What each command does, as plain functions of the [`AppState`]: a few lines each that call the `auditlens`
//! library and map its errors to [`AppError`]. `ipc.rs` exposes them to the window (threads, channels); the tests
//! call them directly against a temporary database.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use auditlens::archive::Manifest;
use auditlens::keyring::TrustedKey;
use auditlens::store::StoreError;
use auditlens::store::histogram::Histogram;
use auditlens::store::import::ImportOptions;
use auditlens::store::search::{EventDetail, MAX_LIMIT, SearchPage};
use auditlens::store::stats::{Access, DashboardOptions, Deployments, Overview, Scope};

use crate::contract::{
    ArchiveDetail, ArchivesView, CheckEvent, DbStatus, ImportEvent, JobId, Settings, Startup,
    StoredFailure, TrustOutcome,
};
use crate::error::{AppError, ErrorCode};
use crate::state::{AppState, Database, lock};

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Everything the window shows first; hands over the archives given on the command line (once).
pub fn startup(state: &AppState) -> Result<Startup, AppError> {
    Ok(Startup {
        version: env!("CARGO_PKG_VERSION").into(),
        data_dir: state.data_dir.display().to_string(),
        settings: state.settings(),
        db: db_status(state)?,
        keys: keys(state),
        imports: std::mem::take(&mut *lock(&state.pending_imports)),
        notices: std::mem::take(&mut *lock(&state.notices)),
    })
}

pub fn db_status(state: &AppState) -> Result<DbStatus, AppError> {
    let db = state.db();
    let (archives, events) = db.read(|s| Ok((s.archives()?.len() as u64, s.event_count()?)))?;
    Ok(DbStatus {
        path: db.path.display().to_string(),
        is_default: db.path == state.default_db_path(),
        from_command_line: db.from_command_line,
        archives,
        events,
    })
}

/// Opens another database (created if it does not exist) and remembers the choice; `None` for the default one.
pub fn choose_database(state: &AppState, path: Option<&str>) -> Result<DbStatus, AppError> {
    let target = path.map_or_else(|| state.default_db_path(), PathBuf::from);
    state.set_db(Database::open(&target, false)?);
    let mut settings = state.settings();
    settings.db_path = path.map(String::from);
    state.save_settings(settings)?;
    db_status(state)
}

/// Saves the settings shown in the window (theme, time zone, columns); the database is chosen with
/// [`choose_database`].
pub fn save_settings(state: &AppState, mut settings: Settings) -> Result<Settings, AppError> {
    settings.db_path = state.settings().db_path;
    state.save_settings(settings)?;
    Ok(state.settings())
}

pub fn keys(state: &AppState) -> Vec<TrustedKey> {
    state.keyring().keys().to_vec()
}

/// Trusts a key given as its verifier key string. The keyring in memory changes only once the file is saved.
pub fn trust_key(state: &AppState, key_text: &str) -> Result<TrustOutcome, AppError> {
    let mut ring = state.keyring();
    let mut next = ring.clone();
    let (key, added) = next.add(key_text)?;
    if added {
        next.save()?;
        *ring = next;
    }
    Ok(TrustOutcome { key, added })
}

/// Trusts the key in a `.pub` file.
pub fn trust_key_file(state: &AppState, path: &str) -> Result<TrustOutcome, AppError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        AppError::new(
            ErrorCode::Io,
            format!("cannot read the key file {path}: {e}"),
        )
    })?;
    trust_key(state, &text)
}

/// Stops trusting the key with this fingerprint.
pub fn untrust_key(state: &AppState, fingerprint: &str) -> Result<Vec<TrustedKey>, AppError> {
    let mut ring = state.keyring();
    let mut next = ring.clone();
    if !next.remove(fingerprint) {
        return Err(AppError::new(
            ErrorCode::NotFound,
            format!("no trusted key has the fingerprint {fingerprint}"),
        ));
    }
    next.save()?;
    *ring = next;
    Ok(ring.keys().to_vec())
}

/// Verifies and imports `paths` one after the other, reporting to `emit`; stops early when `cancel` is set.
pub fn import_archives(
    state: &AppState,
    paths: &[String],
    job: JobId,
    cancel: &AtomicBool,
    emit: &mut dyn FnMut(ImportEvent),
) {
    emit(ImportEvent::Queued {
        job,
        paths: paths.to_vec(),
    });
    let db = state.db();
    let _writer = lock(&state.write_lock);
    let trusted = state.keyring().verifier_keys();
    let opts = ImportOptions {
        trusted: &trusted,
        keep_failed: false,
    };
    let mut store = match db.writer() {
        Ok(s) => Some(s),
        Err(e) => {
            for (index, path) in paths.iter().enumerate() {
                emit(ImportEvent::Failed {
                    job,
                    index: index as u32,
                    path: path.clone(),
                    error: e.clone(),
                });
            }
            None
        }
    };
    for (index, path) in paths.iter().enumerate() {
        let Some(store) = store.as_mut() else { break };
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let index = index as u32;
        emit(ImportEvent::Started {
            job,
            index,
            path: path.clone(),
        });
        let t0 = Instant::now();
        let result = store.import_archive(Path::new(path), &opts, &mut |p| {
            emit(ImportEvent::Progress {
                job,
                index,
                progress: *p,
                elapsed_ms: t0.elapsed().as_millis() as u64,
            });
            !cancel.load(Ordering::Relaxed)
        });
        let elapsed_ms = t0.elapsed().as_millis() as u64;
        emit(match result {
            Ok(result) => ImportEvent::Finished {
                job,
                index,
                elapsed_ms,
                result: Box::new(result),
            },
            Err(StoreError::Io(e)) => ImportEvent::Failed {
                job,
                index,
                path: path.clone(),
                error: AppError::new(
                    ErrorCode::Io,
                    format!("cannot read {path}: {e}. Check that the file exists and is readable."),
                ),
            },
            Err(e) => ImportEvent::Failed {
                job,
                index,
                path: path.clone(),
                error: e.into(),
            },
        });
    }
    emit(ImportEvent::Done {
        job,
        cancelled: cancel.load(Ordering::Relaxed),
    });
}

/// Re-verifies the whole database from its stored bytes (against the keyring), reporting to `emit`.
pub fn check_database(
    state: &AppState,
    job: JobId,
    cancel: &AtomicBool,
    emit: &mut dyn FnMut(CheckEvent),
) {
    let db = state.db();
    let _writer = lock(&state.write_lock);
    let trusted = state.keyring().verifier_keys();
    let t0 = Instant::now();
    let result = db.writer().and_then(|store| {
        Ok(store.check(&trusted, &mut |p| {
            emit(CheckEvent::Progress {
                job,
                progress: *p,
                elapsed_ms: t0.elapsed().as_millis() as u64,
            });
            !cancel.load(Ordering::Relaxed)
        })?)
    });
    emit(match result {
        Ok(report) => CheckEvent::Finished {
            job,
            elapsed_ms: t0.elapsed().as_millis() as u64,
            report,
        },
        Err(_) if cancel.load(Ordering::Relaxed) => CheckEvent::Cancelled { job },
        Err(error) => CheckEvent::Failed { job, error },
    });
}

/// Every stored archive, by origin and sequence, with its gap flag.
pub fn archives(state: &AppState) -> Result<ArchivesView, AppError> {
    state.db().read(|store| {
        Ok(ArchivesView {
            archives: store.archives()?,
        })
    })
}

/// One archive with its signed checkpoint, its manifest and why it is flagged, if it is.
pub fn archive_detail(state: &AppState, id: i64) -> Result<ArchiveDetail, AppError> {
    state.db().read(|store| {
        let archive = store
            .archives()?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::NotFound,
                    format!("no archive #{id} in this database"),
                )
            })?;
        let (checkpoint, manifest) = store.archive_documents(id)?.unzip();
        let declared_time_range = manifest
            .as_deref()
            .and_then(|m| serde_json::from_slice::<Manifest>(m).ok())
            .and_then(|m| m.time_range);
        let failure = archive.failure.as_deref().map(|f| {
            serde_json::from_str::<StoredFailure>(f).unwrap_or_else(|_| StoredFailure {
                message: f.to_owned(),
                ..StoredFailure::default()
            })
        });
        Ok(ArchiveDetail {
            checkpoint: checkpoint.map(|c| String::from_utf8_lossy(&c).into_owned()),
            manifest: manifest.map(|m| String::from_utf8_lossy(&m).into_owned()),
            declared_time_range,
            failure,
            archive,
        })
    })
}

/// One page of matches, newest first; `after` is the previous page's `next`.
pub fn search(
    state: &AppState,
    query: &str,
    limit: u32,
    after: Option<&str>,
) -> Result<SearchPage, AppError> {
    let limit = (limit as usize).clamp(1, MAX_LIMIT);
    state
        .db()
        .read(|s| Ok(s.search(query, limit, after, now_micros())?))
}

pub fn count(state: &AppState, query: &str) -> Result<u64, AppError> {
    state.db().read(|s| Ok(s.count(query, now_micros())?))
}

pub fn histogram(state: &AppState, query: &str, buckets: u32) -> Result<Histogram, AppError> {
    state
        .db()
        .read(|s| Ok(s.histogram(query, now_micros(), buckets as usize)?))
}

/// One event with its exact bytes and provenance.
pub fn event(state: &AppState, id: &str) -> Result<EventDetail, AppError> {
    state.db().read(|s| {
        s.event(id)?.ok_or_else(|| {
            AppError::new(
                ErrorCode::NotFound,
                format!("no event {id} in this database (was the database changed?)"),
            )
        })
    })
}

/// The overview dashboard over `scope` (the global time range and query): is everything verified, counts by
/// category, outcome and source, events over time, top actors. Every figure carries its drill-down query.
pub fn overview(
    state: &AppState,
    scope: &Scope,
    options: &DashboardOptions,
) -> Result<Overview, AppError> {
    state
        .db()
        .read(|s| Ok(s.overview(scope, options, now_micros())?))
}

/// The deployments dashboard: per environment, per day, failed, off hours (`options.working_hours`), rare actors.
pub fn deployments(
    state: &AppState,
    scope: &Scope,
    options: &DashboardOptions,
) -> Result<Deployments, AppError> {
    state
        .db()
        .read(|s| Ok(s.deployments(scope, options, now_micros())?))
}

/// The access dashboard: access over time, denials, privileged access, first-seen actors, off hours, bursts.
pub fn access(
    state: &AppState,
    scope: &Scope,
    options: &DashboardOptions,
) -> Result<Access, AppError> {
    state
        .db()
        .read(|s| Ok(s.access(scope, options, now_micros())?))
}
