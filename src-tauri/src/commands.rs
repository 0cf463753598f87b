//! What each command does, as plain functions of the [`AppState`]: a few lines each that call the `auditlens`
//! library and map its errors to [`AppError`]. `ipc.rs` exposes them to the window (threads, channels); the tests
//! call them directly against a temporary database.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use auditlens::archive::Manifest;
use auditlens::bundle::{ExportError, ExportOptions, terminal_safe};
use auditlens::keyfile::{self, KeyPairError};
use auditlens::keyring::{Keyring, KeyringError, TrustedKey};
use auditlens::note::SignerKey;
use auditlens::ocsf::{
    ParquetExportError, ParquetExportOptions, export_parquet as export_parquet_to,
};
use auditlens::papers::{self, Annotations, Change, EventKey, LogCheck, Papers, PapersView};
use auditlens::store::coverage::AuditPeriod;
use auditlens::store::histogram::Histogram;
use auditlens::store::import::{BatchStep, Demotion, ImportOptions, Promotion};
use auditlens::store::incidents::Incident;
use auditlens::store::renormalize::Renormalized;
use auditlens::store::search::{EventDetail, MAX_LIMIT, SearchPage};
use auditlens::store::stats::{Access, DashboardOptions, Deployments, Overview, Scope};
use auditlens::store::{Store, StoreError};
use auditlens::trust::TrustPolicy;

use crate::contract::{
    ActionLog, AnalyticsExport, ArchiveDetail, ArchivesView, AuditCoverage, AuditorKey, CheckEvent,
    ClassRows, CloudTrailCheck, DbStatus, EngagementsView, ExportPreview, ExportResult,
    ExportSelection, FileKind, IdentitiesView, ImportEvent, JobId, OpenedBundle, RecentEngagement,
    ResultsExport, Settings, Startup, StoredFailure, TrustOutcome, UntrustOutcome,
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
        session_keys: state.session_keys().keys().to_vec(),
        engagement: state.engagement(),
    })
}

pub fn db_status(state: &AppState) -> Result<DbStatus, AppError> {
    let db = state.db()?;
    let (archives, events, text_index) = db.read(|s| {
        Ok((
            s.archives()?.len() as u64,
            s.event_count()?,
            s.text_index_status()?,
        ))
    })?;
    Ok(DbStatus {
        path: db.path.display().to_string(),
        is_default: db.path == state.default_db_path(),
        from_command_line: db.from_command_line,
        archives,
        events,
        upgrade: db.upgrade.clone(),
        text_index,
    })
}

/// Opens another database (created if it does not exist) and remembers the choice; `None` for the default one.
pub fn choose_database(state: &AppState, path: Option<&str>) -> Result<DbStatus, AppError> {
    let target = path.map_or_else(|| state.default_db_path(), PathBuf::from);
    state.switch(Database::open(&target, false)?)?;
    let mut settings = state.settings();
    settings.db_path = path.map(String::from);
    settings.engagement = None;
    if let Some(e) = state.engagement() {
        remember_engagement(&mut settings, &e.folder);
        settings.engagement = Some(e.folder);
        settings.db_path = None;
    }
    state.save_settings(settings)?;
    db_status(state)
}

/// Puts `folder` first in the recent engagements (at most 10).
fn remember_engagement(settings: &mut Settings, folder: &str) {
    settings.recent_engagements.retain(|f| f != folder);
    settings.recent_engagements.insert(0, folder.to_owned());
    settings.recent_engagements.truncate(10);
}

fn engagement_error(e: auditlens::engagement::EngagementError) -> AppError {
    match e {
        auditlens::engagement::EngagementError::Invalid(m) => AppError::new(ErrorCode::Invalid, m),
        auditlens::engagement::EngagementError::Store(e) => e.into(),
        other => AppError::new(ErrorCode::Io, other.to_string()),
    }
}

/// The open engagement and the ones opened lately (each read again from its folder).
pub fn engagements(state: &AppState) -> EngagementsView {
    EngagementsView {
        current: state.engagement(),
        recent: state
            .settings()
            .recent_engagements
            .iter()
            .map(
                |folder| match auditlens::engagement::open(Path::new(folder)) {
                    Ok(e) => RecentEngagement {
                        folder: folder.clone(),
                        engagement: Some(e),
                        problem: None,
                    },
                    Err(e) => RecentEngagement {
                        folder: folder.clone(),
                        engagement: None,
                        problem: Some(e.to_string()),
                    },
                },
            )
            .collect(),
    }
}

/// Opens the engagement in `folder`: its database and its keyring replace the open ones (the last choice is
/// kept for the next start).
pub fn open_engagement(state: &AppState, folder: &str) -> Result<EngagementsView, AppError> {
    let folder = folder.trim();
    let engagement = auditlens::engagement::open(Path::new(folder)).map_err(engagement_error)?;
    state.switch(Database::open(
        &auditlens::engagement::db_path(Path::new(&engagement.folder)),
        false,
    )?)?;
    let mut settings = state.settings();
    settings.engagement = Some(engagement.folder.clone());
    settings.db_path = None;
    remember_engagement(&mut settings, &engagement.folder);
    state.save_settings(settings)?;
    log_action(
        state,
        "engagement opened",
        &engagement.folder,
        &format!("{} for {}", engagement.name, engagement.client),
    )?;
    Ok(engagements(state))
}

/// Creates an engagement in `folder` (a new or empty folder) with its name, client and audit period, and opens
/// it.
pub fn create_engagement(
    state: &AppState,
    folder: &str,
    name: &str,
    client: &str,
    period: Option<&AuditPeriod>,
) -> Result<EngagementsView, AppError> {
    let folder = folder.trim();
    if folder.is_empty() {
        return Err(AppError::new(
            ErrorCode::Invalid,
            "choose a folder for the engagement",
        ));
    }
    auditlens::engagement::create(Path::new(folder), name, client, period)
        .map_err(engagement_error)?;
    open_engagement(state, folder)
}

/// Keys given with `--trust`, trusted for this session only.
pub fn session_keys(state: &AppState) -> Vec<TrustedKey> {
    state.session_keys().keys().to_vec()
}

/// Saves a key given with `--trust` to the keyring of the open engagement (or the app's), after the auditor said
/// so; it is then no longer a session key.
pub fn save_session_key(state: &AppState, fingerprint: &str) -> Result<TrustOutcome, AppError> {
    let key = state
        .session_keys()
        .keys()
        .iter()
        .find(|k| k.fingerprint == fingerprint)
        .map(|k| k.key.clone())
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::NotFound,
                format!("no key given with --trust has the fingerprint {fingerprint}"),
            )
        })?;
    let outcome = trust_key(state, &key)?;
    state.session_keys().remove(fingerprint);
    Ok(outcome)
}

/// Trusts the key in a `.pub` file for this session only (`--trust` on the command line): imports use it at
/// once; the window asks whether to save it to the keyring.
pub fn trust_key_file_for_session(state: &AppState, path: &str) -> Result<TrustedKey, AppError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        AppError::new(
            ErrorCode::Io,
            format!("cannot read the key file {path}: {e}"),
        )
    })?;
    let (key, _) = state.session_keys().add(&text)?;
    log_action(
        state,
        "key trusted for this session",
        &key.fingerprint,
        &format!("{} from --trust {path}; not saved to the keyring", key.name),
    )?;
    Ok(key)
}

/// Saves the settings shown in the window (theme, time zone, columns); the database is chosen with
/// [`choose_database`].
pub fn save_settings(state: &AppState, mut settings: Settings) -> Result<Settings, AppError> {
    let kept = state.settings();
    settings.db_path = kept.db_path;
    settings.engagement = kept.engagement;
    settings.recent_engagements = kept.recent_engagements;
    state.save_settings(settings)?;
    Ok(state.settings())
}

pub fn keys(state: &AppState) -> Vec<TrustedKey> {
    state.keyring().keys().to_vec()
}

/// Trusts a key given as its verifier key string as a bare key (any origin, pinned per origin on first use, as
/// `--trust`). The keyring in memory changes only once the file is saved; kept archives the key now makes trusted
/// are then promoted.
pub fn trust_key(state: &AppState, key_text: &str) -> Result<TrustOutcome, AppError> {
    save_grant(state, |ring| ring.add(key_text))
}

/// Grants a key for an origin pattern (`*`, an exact origin or `prefix*`) and an optional window of sealing times
/// (dates or RFC 3339 times), then promotes the kept archives it makes trusted.
pub fn grant_key(
    state: &AppState,
    key_text: &str,
    origins: &str,
    valid_after: Option<&str>,
    valid_before: Option<&str>,
) -> Result<TrustOutcome, AppError> {
    save_grant(state, |ring| {
        ring.grant(key_text, origins, valid_after, valid_before)
    })
}

fn save_grant(
    state: &AppState,
    add: impl FnOnce(&mut Keyring) -> Result<(TrustedKey, bool), KeyringError>,
) -> Result<TrustOutcome, AppError> {
    let (policy, key) = {
        let mut ring = state.keyring();
        let mut next = ring.clone();
        let (key, added) = add(&mut next)?;
        if !added {
            return Ok(TrustOutcome {
                key,
                added,
                promoted: Vec::new(),
            });
        }
        next.save()?;
        *ring = next;
        (ring.policy(), key)
    };
    log_action(
        state,
        "key trusted",
        &key.fingerprint,
        &format!(
            "{} for origins {}{}{}",
            key.name,
            key.origins,
            key.valid_after
                .as_deref()
                .map(|t| format!(", sealed after {t}"))
                .unwrap_or_default(),
            key.valid_before
                .as_deref()
                .map(|t| format!(", sealed before {t}"))
                .unwrap_or_default()
        ),
    )?;
    // The grant is saved: a store that cannot be re-checked now is said, not an error of the grant.
    let promoted = promote_trusted(state, &policy).unwrap_or_else(|e| {
        vec![Promotion {
            archive_id: 0,
            origin: String::new(),
            sequence: 0,
            promoted: false,
            message: format!(
                "the grant is saved, but the kept archives of the database could not be re-checked: {}",
                e.message
            ),
        }]
    });
    Ok(TrustOutcome {
        key,
        added: true,
        promoted,
    })
}

/// Kept untrusted archives of the store that `policy` now trusts become verified (re-verified from their stored
/// bytes first).
fn promote_trusted(state: &AppState, policy: &TrustPolicy) -> Result<Vec<Promotion>, AppError> {
    let db = state.db()?;
    let _writer = lock(&state.write_lock);
    let mut store = db.writer()?;
    Ok(store.promote_trusted(policy)?)
}

/// Trusts the key in a `.pub` file (a bare key).
pub fn trust_key_file(state: &AppState, path: &str) -> Result<TrustOutcome, AppError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        AppError::new(
            ErrorCode::Io,
            format!("cannot read the key file {path}: {e}"),
        )
    })?;
    trust_key(state, &text)
}

/// Stops trusting the key with this fingerprint: removes every grant of it, then marks the open database's
/// verified archives the keyring (with this session's keys) no longer trusts as untrusted.
pub fn untrust_key(state: &AppState, fingerprint: &str) -> Result<UntrustOutcome, AppError> {
    remove_grants(
        state,
        |ring| ring.remove(fingerprint),
        || format!("no trusted key has the fingerprint {fingerprint}"),
        (
            "key no longer trusted",
            fingerprint,
            "every grant removed".into(),
        ),
    )
}

/// Removes one grant (the same key, origin pattern and window); the key's other grants stay. Verified archives
/// it alone trusted are then marked untrusted, as [`untrust_key`] does.
pub fn untrust_grant(state: &AppState, grant: &TrustedKey) -> Result<UntrustOutcome, AppError> {
    remove_grants(
        state,
        |ring| ring.remove_grant(grant),
        || {
            format!(
                "no grant of the key {} for {} with this window",
                grant.fingerprint, grant.origins
            )
        },
        (
            "grant removed",
            &grant.fingerprint,
            format!("for origins {}", grant.origins),
        ),
    )
}

fn remove_grants(
    state: &AppState,
    remove: impl FnOnce(&mut Keyring) -> bool,
    missing: impl FnOnce() -> String,
    (action, subject, detail): (&str, &str, String),
) -> Result<UntrustOutcome, AppError> {
    let keys = {
        let mut ring = state.keyring();
        let mut next = ring.clone();
        if !remove(&mut next) {
            return Err(AppError::new(ErrorCode::NotFound, missing()));
        }
        next.save()?;
        *ring = next;
        ring.keys().to_vec()
    };
    log_action(state, action, subject, &detail)?;
    // The keyring is saved: a database that cannot be decided again now is said, not an error of the removal.
    let demoted = demote_untrusted(state).unwrap_or_else(|e| {
        vec![Demotion {
            archive_id: 0,
            origin: String::new(),
            sequence: 0,
            reason: String::new(),
            message: format!(
                "the key is removed, but the verified archives of the database could not be decided again: {}; \
                 run Re-check database",
                e.message
            ),
        }]
    });
    Ok(UntrustOutcome { keys, demoted })
}

/// "Mark as not trusted" on the Overview: the verified archives of the open database that the keyring and this
/// session's keys do not trust become untrusted (each written to the action log), as removing a grant does.
pub fn demote_untrusted_archives(state: &AppState) -> Result<Vec<Demotion>, AppError> {
    demote_untrusted(state)
}

/// Verified archives of the store that the keyring and this session's keys no longer trust become untrusted, each
/// written to the action log.
fn demote_untrusted(state: &AppState) -> Result<Vec<Demotion>, AppError> {
    let policy = state.policy();
    let db = state.db()?;
    let demoted = {
        let _writer = lock(&state.write_lock);
        db.writer()?.demote_untrusted(&policy)?
    };
    for d in &demoted {
        log_action(
            state,
            "archive no longer trusted",
            &format!("{}#{}", d.origin, d.sequence),
            &d.message,
        )?;
    }
    Ok(demoted)
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
    run_import(state, paths, job, cancel, emit);
}

/// The import job after its `Queued` event: every path in turn, then `Done`.
fn run_import(
    state: &AppState,
    paths: &[String],
    job: JobId,
    cancel: &AtomicBool,
    emit: &mut dyn FnMut(ImportEvent),
) {
    let _writer = lock(&state.write_lock);
    let policy = state.policy();
    let opts = ImportOptions {
        trust: &policy,
        keep_failed: false,
    };
    let mut store = match state.db().and_then(|db| db.writer()) {
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
    if let Some(store) = store.as_mut() {
        let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
        let mut t0 = Instant::now();
        store.import_batch(&paths, &opts, None, &mut |step| {
            let elapsed_ms = t0.elapsed().as_millis() as u64;
            emit(match step {
                BatchStep::Started { index, path } => {
                    if cancel.load(Ordering::Relaxed) {
                        return false;
                    }
                    t0 = Instant::now();
                    ImportEvent::Started {
                        job,
                        index: index as u32,
                        path: path.display().to_string(),
                    }
                }
                BatchStep::Progress { index, progress } => ImportEvent::Progress {
                    job,
                    index: index as u32,
                    progress: *progress,
                    elapsed_ms,
                },
                BatchStep::Finished { index, result, .. } => ImportEvent::Finished {
                    job,
                    index: index as u32,
                    elapsed_ms,
                    result,
                },
                BatchStep::Failed { index, path, error } => ImportEvent::Failed {
                    job,
                    index: index as u32,
                    path: path.display().to_string(),
                    error: import_error(path, error),
                },
            });
            !cancel.load(Ordering::Relaxed)
        });
    }
    drop(_writer);
    emit(ImportEvent::Done {
        job,
        cancelled: cancel.load(Ordering::Relaxed),
    });
    // The archives are searchable now (text by reading the events the index lacks); their text is indexed
    // here, after the job, without holding the store's write lock.
    if let Some(store) = store.as_mut() {
        let _ = store.finish_text_index(&mut |_| {});
    }
}

/// "Import unsigned logs": seals `paths` on receipt with the auditor's key into one archive of `origin`
/// (docs/archive-format.md section 4.1), trusts the auditor's key for exactly that origin, and imports the archive.
/// The job's one item is the new archive, in `received/` of the open engagement's folder (else of the app-data
/// directory); it continues the origin's last verified archive in the store, when there is one.
pub fn receive_files(
    state: &AppState,
    paths: &[String],
    origin: &str,
    job: JobId,
    cancel: &AtomicBool,
    emit: &mut dyn FnMut(ImportEvent),
) {
    let out = match received_archive_path(state, origin) {
        Ok(p) => p,
        Err(error) => {
            emit(ImportEvent::Queued {
                job,
                paths: vec![paths.first().cloned().unwrap_or_default()],
            });
            emit(ImportEvent::Failed {
                job,
                index: 0,
                path: paths.first().cloned().unwrap_or_default(),
                error,
            });
            emit(ImportEvent::Done {
                job,
                cancelled: false,
            });
            return;
        }
    };
    let out_text = out.display().to_string();
    emit(ImportEvent::Queued {
        job,
        paths: vec![out_text.clone()],
    });
    emit(ImportEvent::Started {
        job,
        index: 0,
        path: out_text.clone(),
    });
    match seal_received(state, paths, origin, &out) {
        Ok(()) if !cancel.load(Ordering::Relaxed) => {
            run_import(state, &[out_text], job, cancel, emit);
        }
        Ok(()) => emit(ImportEvent::Done {
            job,
            cancelled: true,
        }),
        Err(error) => {
            emit(ImportEvent::Failed {
                job,
                index: 0,
                path: out_text,
                error,
            });
            emit(ImportEvent::Done {
                job,
                cancelled: false,
            });
        }
    }
}

/// Where the archive of files received for `origin` goes: `received/<origin>-<time>.zip`, the origin reduced to
/// letters, digits, `.`, `_` and `-`.
fn received_archive_path(state: &AppState, origin: &str) -> Result<PathBuf, AppError> {
    check_received_origin(origin)?;
    let dir = match state.engagement() {
        Some(e) => PathBuf::from(e.folder).join("received"),
        None => state.data_dir.join("received"),
    };
    std::fs::create_dir_all(&dir).map_err(|e| {
        AppError::new(
            ErrorCode::Io,
            format!("cannot create {}: {e}", dir.display()),
        )
    })?;
    let name: String = origin
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
    Ok(dir.join(format!("{name}-{stamp}.zip")))
}

/// An origin for received files: one line, no `*` (the grant for the auditor's key is for exactly this origin).
fn check_received_origin(origin: &str) -> Result<(), AppError> {
    if !auditlens::seal::is_valid_origin(origin) || origin.contains('*') {
        return Err(AppError::new(
            ErrorCode::Invalid,
            "name the origin of the received files: one line, without '*', control characters or surrounding \
             spaces (for example received/k8s-prod)",
        ));
    }
    Ok(())
}

/// Seals the files with the auditor's key, chained to the origin's last verified archive in the store, and
/// trusts that key for exactly this origin.
fn seal_received(
    state: &AppState,
    paths: &[String],
    origin: &str,
    out: &Path,
) -> Result<(), AppError> {
    let Some((key, auditor)) = load_auditor(state)? else {
        return Err(AppError::new(
            ErrorCode::NotFound,
            "no auditor key yet: create one (or choose your .key file); received files are sealed with it",
        ));
    };
    if paths.is_empty() {
        return Err(AppError::new(ErrorCode::Invalid, "no files to receive"));
    }
    let prev = state.db()?.read(|s| {
        Ok(s.archives()?
            .into_iter()
            .filter(|a| a.status == "verified" && a.origin.as_deref() == Some(origin))
            .max_by_key(|a| a.sequence))
    })?;
    let prev = match prev {
        Some(a) if Path::new(&a.path).is_file() => Some(PathBuf::from(a.path)),
        Some(a) => {
            return Err(AppError::new(
                ErrorCode::Io,
                format!(
                    "origin {origin:?} continues its archive {} (sequence {}), which is no longer at that path: \
                     received files are chained to it; put it back, or choose another origin",
                    a.path,
                    a.sequence.unwrap_or(0)
                ),
            ));
        }
        None => None,
    };
    let inputs: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    auditlens::seal::seal(&auditlens::seal::SealOptions {
        key: &key,
        origin,
        prev: prev.as_deref(),
        format: None,
        mapping: None,
        out,
        inputs: &inputs,
        receive: true,
    })
    .map_err(|e| match e {
        auditlens::seal::SealError::MixedKinds(a, b) => AppError::new(
            ErrorCode::Invalid,
            format!(
                "these files hold {a} and {b} events: receive each source on its own, under an origin of its own"
            ),
        ),
        e => AppError::new(ErrorCode::Invalid, e.to_string()),
    })?;
    let _ = log_action(
        state,
        "files received",
        origin,
        &format!(
            "{} sealed on receipt by {} into {}",
            paths.join(", "),
            auditor.name,
            out.display()
        ),
    );
    grant_key(state, &key.verifier().to_string(), origin, None, None)?;
    Ok(())
}

/// An archive the store could not import: a file it cannot read, in words the auditor can act on, or the
/// store's error.
fn import_error(path: &Path, error: StoreError) -> AppError {
    match error {
        StoreError::Io(e) => AppError::new(
            ErrorCode::Io,
            format!(
                "cannot read {}: {e}. Check that the file exists and is readable.",
                path.display()
            ),
        ),
        e => e.into(),
    }
}

/// Re-verifies the whole database from its stored bytes (against the keyring), reporting to `emit`.
pub fn check_database(
    state: &AppState,
    job: JobId,
    cancel: &AtomicBool,
    emit: &mut dyn FnMut(CheckEvent),
) {
    let _writer = lock(&state.write_lock);
    // The keyring's grants, as import applies them (bare keys pinned per origin in import order).
    let policy = state.policy();
    let t0 = Instant::now();
    let result = state.db().and_then(|db| db.writer()).and_then(|store| {
        Ok(
            store.check_policy_aws(Some(&policy), &kept_aws_keys(state), &mut |p| {
                emit(CheckEvent::Progress {
                    job,
                    progress: *p,
                    elapsed_ms: t0.elapsed().as_millis() as u64,
                });
                !cancel.load(Ordering::Relaxed)
            })?,
        )
    });
    if let Ok(report) = &result {
        let detail = if report.ok {
            format!(
                "OK: {}, {} re-verified",
                auditlens::report::count(report.archives_checked, "archive"),
                auditlens::report::count(report.events_checked, "event")
            )
        } else {
            format!("NOT OK: {} problem(s)", report.problems.len())
        };
        let subject = state
            .db()
            .map(|db| db.path.display().to_string())
            .unwrap_or_default();
        let _ = log_action(state, "re-check", &subject, &detail);
    }
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
    state.db()?.read(|store| {
        Ok(ArchivesView {
            archives: archives_trusted_now(state, store)?,
            lookalikes: store.lookalike_origins()?,
        })
    })
}

/// The stored archives, each one the file marks verified that this app's keys do not trust now saying why.
fn archives_trusted_now(
    state: &AppState,
    store: &Store,
) -> Result<Vec<auditlens::store::ArchiveRow>, AppError> {
    let untrusted = state.untrusted_now(store)?;
    let mut archives = store.archives()?;
    for a in &mut archives {
        a.not_trusted_now = untrusted
            .iter()
            .find(|d| d.archive_id == a.id)
            .map(|d| d.reason.clone());
    }
    Ok(archives)
}

/// Re-normalizes a stored archive with the built-in mapper `kind` instead of its producer's rules (the auditor's
/// choice, docs/sources.md "Whose rules"): the same library call as `auditlens import --as KIND`.
pub fn renormalize_archive(
    state: &AppState,
    id: i64,
    kind: &str,
) -> Result<Renormalized, AppError> {
    let kind = kind
        .parse::<auditlens::sources::SourceKind>()
        .ok()
        .filter(|k| k.mapper().is_some())
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::Invalid,
                format!(
                    "{kind:?} is not a built-in mapper (jsonl, k8s, cloudtrail, github, gcp, teleport, okta)"
                ),
            )
        })?;
    let db = state.db()?;
    let _writer = lock(&state.write_lock);
    let mut store = db.writer()?;
    let done = store.renormalize(id, kind).map_err(|e| match e {
        StoreError::Invalid(message) => AppError::new(ErrorCode::Invalid, message),
        other => other.into(),
    })?;
    // The archive's events have new ids: their text is indexed again in the background.
    db.index_text_in_background();
    log_action(
        state,
        "archive re-normalized",
        &format!("archive #{id}"),
        &format!(
            "fields re-derived from its verified events by the built-in {kind} mapper (the auditor's choice)"
        ),
    )?;
    Ok(done)
}

/// The integrity incidents of the database (store/incidents.rs): those not reviewed, or all of them.
pub fn incidents(state: &AppState, include_reviewed: bool) -> Result<Vec<Incident>, AppError> {
    state
        .db()?
        .read(|store| Ok(store.incidents(include_reviewed)?))
}

/// Marks an incident reviewed with the auditor's note (required).
pub fn review_incident(state: &AppState, id: i64, note: &str) -> Result<Incident, AppError> {
    let db = state.db()?;
    let _writer = lock(&state.write_lock);
    let mut store = db.writer()?;
    let incident = store.review_incident(id, note).map_err(|e| match e {
        StoreError::Invalid(message) => AppError::new(ErrorCode::Invalid, message),
        other => other.into(),
    })?;
    log_action(
        state,
        "incident reviewed",
        &incident.path,
        &format!(
            "{}: {}; note: {}",
            incident.kind,
            incident.reason,
            note.trim()
        ),
    )?;
    Ok(incident)
}

/// One archive with its signed checkpoint, its manifest and why it is flagged, if it is.
pub fn archive_detail(state: &AppState, id: i64) -> Result<ArchiveDetail, AppError> {
    state.db()?.read(|store| {
        let archive = archives_trusted_now(state, store)?
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
    let db = state.db()?;
    db.read(|s| {
        let mut page = s.search(query, limit, after, now_micros())?;
        trusted_now(state, &db, s, &mut page)?;
        Ok(page)
    })
}

/// `page` with `verified` cleared on the events of archives this app's keys do not trust now
/// ([`AppState::untrusted_now`]) and on those whose stored row is not the event signed at its index
/// (`Store::confirm_page`): what the file marks verified is not shown as verified unless the keyring agrees and
/// the bytes are the signed ones.
fn trusted_now(
    state: &AppState,
    db: &Database,
    store: &Store,
    page: &mut SearchPage,
) -> Result<(), AppError> {
    store.confirm_page(page, &db.confirmed)?;
    let untrusted = state.untrusted_now(store)?;
    if untrusted.is_empty() {
        return Ok(());
    }
    // Named as each row names its archive (`origin@sequence`, the archive's own origin).
    let archives: std::collections::HashSet<String> = untrusted
        .iter()
        .map(|d| format!("{}@{}", d.origin, d.sequence))
        .collect();
    for e in &mut page.events {
        if e.verified && e.evidence.is_none() && archives.contains(&e.archive) {
            e.verified = false;
        }
    }
    Ok(())
}

/// [`search`] in the order `sort` (newest first when `None`), by the library's keyset-paged sorted search;
/// `from_end`: that order read from its last match backward (End shows the true last rows at once); `offset`
/// (without `after`): the page starting at that match, for a scrollbar dragged far into the results.
pub fn search_sorted(
    state: &AppState,
    query: &str,
    limit: u32,
    after: Option<&str>,
    sort: Option<auditlens::store::sorted::Sort>,
    from_end: bool,
    offset: Option<u32>,
) -> Result<SearchPage, AppError> {
    let limit = (limit as usize).clamp(1, MAX_LIMIT);
    let sort = sort.unwrap_or(auditlens::store::sorted::Sort::NEWEST_FIRST);
    if offset.is_some() && (after.is_some() || from_end) {
        return Err(AppError::new(
            ErrorCode::Invalid,
            "a page is asked for by its offset or by a cursor, not both",
        ));
    }
    let db = state.db()?;
    db.read(|s| {
        let mut page = if let Some(offset) = offset {
            s.search_at(query, sort, u64::from(offset), limit, now_micros())?
        } else if from_end {
            s.search_from_end(query, sort, limit, after, now_micros())?
        } else {
            s.search_sorted(query, sort, limit, after, now_micros())?
        };
        trusted_now(state, &db, s, &mut page)?;
        Ok(page)
    })
}

pub fn count(state: &AppState, query: &str) -> Result<u64, AppError> {
    state.db()?.read(|s| Ok(s.count(query, now_micros())?))
}

/// What near a query that matches nothing does match (docs/search.md section 11).
pub fn hints(
    state: &AppState,
    query: &str,
) -> Result<Vec<auditlens::store::hints::Hint>, AppError> {
    state.db()?.read(|s| Ok(s.hints(query, now_micros())?))
}

pub fn histogram(state: &AppState, query: &str, buckets: u32) -> Result<Histogram, AppError> {
    state
        .db()?
        .read(|s| Ok(s.histogram(query, now_micros(), buckets as usize)?))
}

/// One event with its exact bytes and provenance.
pub fn event(state: &AppState, id: &str) -> Result<EventDetail, AppError> {
    let db = state.db()?;
    db.read(|s| {
        let mut e = s.event(id)?.ok_or_else(|| {
            AppError::new(
                ErrorCode::NotFound,
                format!("no event {id} in this database (was the database changed?)"),
            )
        })?;
        if e.row.verified
            && let Some(d) = state
                .untrusted_now(s)?
                .iter()
                .find(|d| d.archive_id == e.archive_id)
        {
            e.row.verified = false;
            e.not_trusted_now = Some(d.reason.clone());
        }
        s.confirm_event(&mut e, &db.confirmed)?;
        Ok(e)
    })
}

/// The overview dashboard over `scope` (the global time range and query): is everything verified, counts by
/// category, outcome and source, events over time, top actors. Every figure carries its drill-down query.
pub fn overview(
    state: &AppState,
    scope: &Scope,
    options: &DashboardOptions,
) -> Result<Overview, AppError> {
    state.db()?.read(|s| {
        let mut o = s.overview(scope, options, now_micros())?;
        // What the file marks verified is checked against the keys this app trusts now.
        s.note_trust(&mut o.verification, &state.untrusted_now(s)?)?;
        Ok(o)
    })
}

/// The audit period of the open database and, when one is set, how its verified archives cover it.
pub fn audit_coverage(state: &AppState) -> Result<AuditCoverage, AppError> {
    state.db()?.read(|store| {
        let Some(period) = store.audit_period()? else {
            return Ok(AuditCoverage {
                period: None,
                coverage: None,
            });
        };
        let (p, silence) = period
            .parse()
            .map_err(|e| AppError::new(ErrorCode::Invalid, e.to_string()))?;
        Ok(AuditCoverage {
            coverage: Some(store.coverage(p, silence)?),
            period: Some(period),
        })
    })
}

/// Sets (after checking that it reads) or, with `None`, clears the audit period of the open database.
pub fn set_audit_period(
    state: &AppState,
    period: Option<AuditPeriod>,
) -> Result<AuditCoverage, AppError> {
    if let Some(p) = &period {
        p.parse()
            .map_err(|e| AppError::new(ErrorCode::Invalid, e.to_string()))?;
    }
    let db = state.db()?;
    db.read(|store| Ok(store.set_audit_period(period.as_ref())?))?;
    log_action(
        state,
        "audit period set",
        &db.path.display().to_string(),
        &match &period {
            Some(p) => format!("{} to {} (silence {})", p.from, p.to, p.silence),
            None => "cleared".into(),
        },
    )?;
    audit_coverage(state)
}

/// The deployments dashboard: per environment, per day, failed, off hours (`options.working_hours`), rare actors.
pub fn deployments(
    state: &AppState,
    scope: &Scope,
    options: &DashboardOptions,
) -> Result<Deployments, AppError> {
    state.db()?.read(|s| {
        let mut d = s.deployments(scope, options, now_micros())?;
        note_trust_now(state, s, &mut d.scope)?;
        Ok(d)
    })
}

/// The archives the figures of `scope` count as verified that this app's keys do not trust now, named.
fn note_trust_now(
    state: &AppState,
    store: &Store,
    scope: &mut auditlens::store::stats::ScopeInfo,
) -> Result<(), AppError> {
    let notes = store.trust_notes(&state.untrusted_now(store)?)?;
    scope.not_trusted_now = (!notes.is_empty()).then_some(notes);
    Ok(())
}

/// The access dashboard: access over time, denials, privileged access, first-seen actors, off hours, bursts.
pub fn access(
    state: &AppState,
    scope: &Scope,
    options: &DashboardOptions,
) -> Result<Access, AppError> {
    state.db()?.read(|s| {
        let mut a = s.access(scope, options, now_micros())?;
        note_trust_now(state, s, &mut a.scope)?;
        Ok(a)
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Evidence bundles (docs/evidence-bundle.md): the auditor's signing key, export from a search, and received
// bundles verified on their own (never imported into the database).

/// The file in the app-data directory that names the auditor's signing key file.
pub const AUDITOR_FILE: &str = "auditor.json";
/// The folder of the app-data directory where keys created in the app are kept (owner-only).
pub const AUDITOR_KEYS_DIR: &str = "auditor-keys";
/// Events of a search shown in an export preview.
pub use auditlens::bundle::preview::PREVIEW_SAMPLE;

#[derive(serde::Serialize, serde::Deserialize)]
struct AuditorFile {
    path: String,
}

fn auditor_info(state: &AppState, key: &SignerKey, path: &Path) -> AuditorKey {
    let verifier = key.verifier();
    let pub_path = path.with_extension("pub");
    let pub_path = std::fs::read_to_string(&pub_path)
        .ok()
        .filter(|t| t.trim() == verifier.to_string())
        .map(|_| pub_path.display().to_string());
    AuditorKey {
        name: verifier.name().to_string(),
        fingerprint: verifier.fingerprint(),
        key: verifier.to_string(),
        path: path.display().to_string(),
        pub_path,
        created_in_app: path.starts_with(state.data_dir.join(AUDITOR_KEYS_DIR)),
    }
}

fn read_signer_key(path: &Path) -> Result<SignerKey, AppError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        AppError::new(
            ErrorCode::Io,
            format!("cannot read the auditor key file {}: {e}", path.display()),
        )
    })?;
    SignerKey::parse(text.trim()).map_err(|e| {
        AppError::new(
            ErrorCode::InvalidKey,
            format!(
                "{} is not a signing key ({e}). Choose the NAME.key file made by `auditlens keygen` (not the .pub file).",
                path.display()
            ),
        )
    })
}

/// The auditor's signing key, with what the window shows of it; `None` when none was created or chosen yet.
fn load_auditor(state: &AppState) -> Result<Option<(SignerKey, AuditorKey)>, AppError> {
    let file = state.data_dir.join(AUDITOR_FILE);
    let text = match std::fs::read(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(AppError::new(
                ErrorCode::Settings,
                format!("cannot read {}: {e}", file.display()),
            ));
        }
    };
    let chosen: AuditorFile = serde_json::from_slice(&text).map_err(|e| {
        AppError::new(
            ErrorCode::Settings,
            format!(
                "{} is not valid ({e}); choose the auditor key again",
                file.display()
            ),
        )
    })?;
    let path = PathBuf::from(chosen.path);
    let key = read_signer_key(&path)?;
    let info = auditor_info(state, &key, &path);
    Ok(Some((key, info)))
}

fn save_auditor_choice(state: &AppState, path: &Path) -> Result<(), AppError> {
    let file = state.data_dir.join(AUDITOR_FILE);
    let mut text = serde_json::to_vec_pretty(&AuditorFile {
        path: path.display().to_string(),
    })
    .expect("auditor choice serializes");
    text.push(b'\n');
    let tmp = file.with_extension("json.tmp");
    std::fs::write(&tmp, &text)
        .and_then(|()| std::fs::rename(&tmp, &file))
        .map_err(|e| {
            AppError::new(
                ErrorCode::Settings,
                format!("cannot save {}: {e}", file.display()),
            )
        })
}

/// The auditor's signing key, if one was created or chosen.
pub fn auditor_key(state: &AppState) -> Result<Option<AuditorKey>, AppError> {
    Ok(load_auditor(state)?.map(|(_, info)| info))
}

/// Creates a new auditor signing key named `name` in the app-data directory (`auditor-keys/NAME.key`, readable
/// by its owner only, and `NAME.pub`) and makes it the one exports are signed with.
pub fn create_auditor_key(state: &AppState, name: &str) -> Result<AuditorKey, AppError> {
    let name = name.trim();
    if !keyfile::is_file_safe_name(name) {
        return Err(AppError::new(
            ErrorCode::Invalid,
            format!(
                "{name:?} cannot name a key: use letters, digits, '.', '_', '-' or '@' (for example jane.doe-audit)"
            ),
        ));
    }
    let dir = state.data_dir.join(AUDITOR_KEYS_DIR);
    let io = |what: &Path, e: std::io::Error| {
        AppError::new(
            ErrorCode::Io,
            format!("cannot write {}: {e}", what.display()),
        )
    };
    keyfile::create_private_dir(&dir).map_err(|e| io(&dir, e))?;
    let key = SignerKey::generate(name)?;
    let files = keyfile::write_key_pair(&dir, &key).map_err(|e| match e {
        KeyPairError::Exists(p) => AppError::new(
            ErrorCode::Invalid,
            format!(
                "a key named {name} already exists ({}); choose another name, or choose that key file",
                p.display()
            ),
        ),
        KeyPairError::Io { path, source } => io(&path, source),
    })?;
    save_auditor_choice(state, &files.key)?;
    Ok(auditor_info(state, &key, &files.key))
}

/// Makes the signing key in `path` (a `.key` file made by `auditlens keygen`) the one exports are signed with.
pub fn choose_auditor_key(state: &AppState, path: &str) -> Result<AuditorKey, AppError> {
    let path = std::path::absolute(path).unwrap_or_else(|_| PathBuf::from(path));
    let key = read_signer_key(&path)?;
    save_auditor_choice(state, &path)?;
    Ok(auditor_info(state, &key, &path))
}

/// What exporting `selection` would disclose: the number of events, the archives they come from, their time
/// range and the first of them. Nothing is written.
pub fn export_preview(
    state: &AppState,
    selection: &ExportSelection,
) -> Result<ExportPreview, AppError> {
    state.db()?.read(|store| {
        let mut p =
            auditlens::bundle::preview(store, selection, now_micros()).map_err(export_error)?;
        // What this app's keys do not trust now is shown as an export would treat it: refused.
        let untrusted = untrusted_names(&state.untrusted_now(store)?);
        for a in &mut p.archives {
            if a.verified && untrusted.contains(&a.archive) {
                a.verified = false;
                p.unverified += a.events;
            }
        }
        for e in &mut p.sample {
            if untrusted.contains(&e.archive) {
                e.verified = false;
            }
        }
        Ok(p)
    })
}

/// Each archive of `untrusted` as rows and previews name it, `origin@sequence`.
fn untrusted_names(untrusted: &[Demotion]) -> std::collections::HashSet<String> {
    untrusted
        .iter()
        .map(|d| format!("{}@{}", d.origin, d.sequence))
        .collect()
}

/// Exports are signed by the auditor: archives the database marks verified that this app's keys do not trust now
/// ([`AppState::untrusted_now`]) are refused, those named in `only` (`origin@sequence`), or all of them.
fn refuse_untrusted_now(
    state: &AppState,
    store: &Store,
    only: Option<&std::collections::HashSet<String>>,
) -> Result<(), AppError> {
    let untrusted = state.untrusted_now(store)?;
    let hit: Vec<&Demotion> = untrusted
        .iter()
        .filter(|d| only.is_none_or(|o| o.contains(&format!("{}@{}", d.origin, d.sequence))))
        .collect();
    if hit.is_empty() {
        return Ok(());
    }
    let (what, its, it) = if hit.len() == 1 {
        ("1 archive is".to_string(), "its", "it")
    } else {
        (format!("{} archives are", hit.len()), "their", "them")
    };
    let mut msg = format!(
        "NOT EXPORTED: {what} marked verified in this database, but not trusted by your keyring now; trust \
         {its} key in the Keyring, or mark {it} as not trusted on the Overview, first. Nothing was written."
    );
    for d in hit.iter().take(5) {
        msg.push_str(&format!(
            "\n{}#{}: {}",
            terminal_safe(&d.origin),
            d.sequence,
            terminal_safe(&d.reason)
        ));
    }
    if hit.len() > 5 {
        msg.push_str(&format!("\n… and {} more", hit.len() - 5));
    }
    Err(AppError::new(ErrorCode::Invalid, msg))
}

/// An export's error as the window shows it: a refusal lists the first five refused events.
fn export_error(e: ExportError) -> AppError {
    match e {
        ExportError::Refused(refusals) => {
            let mut msg = format!(
                "NOT EXPORTED: {} selected event(s) cannot be exported as verified; nothing was written.",
                refusals.len()
            );
            for r in refusals.iter().take(5) {
                msg.push_str(&format!(
                    "\n{}: {}",
                    terminal_safe(&r.id),
                    terminal_safe(&r.reason)
                ));
            }
            if refusals.len() > 5 {
                msg.push_str(&format!("\n… and {} more", refusals.len() - 5));
            }
            AppError::new(ErrorCode::Invalid, msg)
        }
        ExportError::Search(e) => e.into(),
        ExportError::Store(e) => e.into(),
        ExportError::Usage(m) => AppError::new(ErrorCode::Invalid, m),
        e @ ExportError::Io { .. } => AppError::new(ErrorCode::Io, e.to_string()),
    }
}

/// Writes every verified event `query` matches to the folder `out` (which must not exist or be empty) as OCSF
/// Parquet in Security Lake's layout, with a manifest signed by the auditor's key (docs/ocsf-export.md).
/// Writes every match of `query` to `out` as CSV, or JSON Lines when the name ends in `.jsonl`, `.ndjson` or
/// `.json`: the same library call as `auditlens search --all --csv/--json`. Written to a temporary file next to
/// `out` and renamed: a failed export leaves no partial file.
pub fn export_results(state: &AppState, query: &str, out: &str) -> Result<ResultsExport, AppError> {
    use auditlens::table::{TableError, TableFormat, write_results};
    use std::io::Write;
    let out = out.trim();
    if out.is_empty() {
        return Err(AppError::new(
            ErrorCode::Invalid,
            "choose a file for the results",
        ));
    }
    let path = PathBuf::from(out);
    let format = TableFormat::of_path(&path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.partial", std::process::id()));
    let io = |e: std::io::Error| AppError::new(ErrorCode::Io, format!("writing {out}: {e}"));
    let db = state.db()?;
    let written = db.read(|store| {
        let file = std::fs::File::create(&tmp).map_err(io)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
        // `verified` as the screens show it.
        let mut shown =
            |page: &mut SearchPage| trusted_now(state, &db, store, page).map_err(|e| e.message);
        let events = write_results(
            store,
            query,
            None,
            format,
            now_micros(),
            &mut w,
            &|l| l,
            &mut shown,
        )
        .map_err(|e| match e {
            TableError::Search(e) => e.into(),
            TableError::Io(e) => io(e),
            TableError::Shown(m) => AppError::new(ErrorCode::Database, m),
        })?;
        w.flush().map_err(io)?;
        w.get_ref().sync_all().map_err(io)?;
        Ok(events)
    });
    let events = match written {
        Ok(events) => events,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })?;
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    log_action(
        state,
        "results exported",
        out,
        &format!(
            "{}, {bytes} bytes; query: {query}",
            auditlens::report::count(events, "event")
        ),
    )?;
    Ok(ResultsExport {
        out: out.to_owned(),
        format: match format {
            TableFormat::Csv => "csv".into(),
            TableFormat::JsonLines => "jsonl".into(),
        },
        events,
        bytes,
    })
}

pub fn export_parquet(
    state: &AppState,
    query: &str,
    out: &str,
) -> Result<AnalyticsExport, AppError> {
    let Some((key, auditor)) = load_auditor(state)? else {
        return Err(AppError::new(
            ErrorCode::NotFound,
            "no auditor key yet: create one (or choose your .key file) to sign the export's manifest",
        ));
    };
    let out = out.trim();
    if out.is_empty() {
        return Err(AppError::new(
            ErrorCode::Invalid,
            "choose an empty folder for the export",
        ));
    }
    let out_path = PathBuf::from(out);
    // The AWS keys kept at CloudTrail imports re-verify the stored exports whose events are selected.
    let aws = kept_aws_keys(state);
    let summary = state.db()?.read(|store| {
        // Which archives a query's matches come from is not known before the export reads them: any archive
        // this app's keys do not trust now stops it.
        refuse_untrusted_now(state, store, None)?;
        let opts = ParquetExportOptions {
            query,
            from: None,
            to: None,
            all_stages: false,
            auditor: &key,
            out: &out_path,
            now_micros: now_micros(),
            aws_keys: Some(&aws),
        };
        export_parquet_to(store, &opts, &mut |_| {}).map_err(|e| match e {
            ParquetExportError::Refused(why) => AppError::new(
                ErrorCode::Invalid,
                format!(
                    "NOT EXPORTED: {}; nothing was written.",
                    terminal_safe(&why)
                ),
            ),
            ParquetExportError::Search(e) => e.into(),
            ParquetExportError::Store(e) => e.into(),
            ParquetExportError::Usage(m) => AppError::new(ErrorCode::Invalid, m),
            e => AppError::new(ErrorCode::Io, e.to_string()),
        })
    })?;
    log_action(
        state,
        "OCSF Parquet exported",
        &summary.out,
        &format!(
            "{} in {}, {} bytes; query: {query}",
            auditlens::report::count(summary.rows, "event"),
            auditlens::report::count(summary.files, "file"),
            summary.bytes
        ),
    )?;
    Ok(AnalyticsExport {
        out: summary.out,
        rows: summary.rows,
        files: summary.files,
        bytes: summary.bytes,
        classes: summary
            .by_class
            .into_iter()
            .map(|(class, rows)| ClassRows { class, rows })
            .collect(),
        left_out_unverified: summary.left_out_unverified,
        left_out_stages: summary.left_out_stages,
        auditor,
    })
}

/// Writes the evidence bundle of `selection` to `out`, signed with the auditor's key. Refuses (nothing written)
/// when any selected event is not verified, when `out` exists, or without a purpose.
pub fn export_bundle(
    state: &AppState,
    selection: &ExportSelection,
    purpose: &str,
    out: &str,
) -> Result<ExportResult, AppError> {
    let Some((key, auditor)) = load_auditor(state)? else {
        return Err(AppError::new(
            ErrorCode::NotFound,
            "no auditor key yet: create one (or choose your .key file) to sign the bundle",
        ));
    };
    if purpose.trim().is_empty() {
        return Err(AppError::new(
            ErrorCode::Invalid,
            "say why these events are exported: the purpose is recorded in the bundle and signed",
        ));
    }
    let out = out.trim();
    if out.is_empty() {
        return Err(AppError::new(
            ErrorCode::Invalid,
            "choose where to save the bundle",
        ));
    }
    let selection_input = selection.to_input().map_err(export_error)?;
    let out_path = PathBuf::from(out);
    // CloudTrail events travel with their log files and the AWS keys kept at import, which re-verify them first.
    let aws = kept_aws_keys(state);
    let summary = state.db()?.read(|store| {
        let archives: std::collections::HashSet<String> =
            auditlens::bundle::preview(store, selection, now_micros())
                .map_err(export_error)?
                .archives
                .into_iter()
                .map(|a| a.archive)
                .collect();
        refuse_untrusted_now(state, store, Some(&archives))?;
        let opts = ExportOptions {
            selection: selection_input,
            purpose,
            auditor: &key,
            out: &out_path,
            now_micros: now_micros(),
            aws_keys: Some(&aws),
        };
        auditlens::bundle::export(store, &opts).map_err(export_error)
    })?;
    let sha256 = file_sha256(&out_path)?;
    log_action(
        state,
        "bundle exported",
        &summary.out,
        &format!(
            "{} of {}, {} bytes, SHA-256 {sha256}, signed by {}; purpose: {}",
            auditlens::report::count(summary.events, "event"),
            auditlens::report::count(summary.archives, "archive"),
            summary.bytes,
            summary.auditor.fingerprint,
            purpose.trim()
        ),
    )?;
    Ok(ExportResult {
        out: summary.out,
        events: summary.events,
        archives: summary.archives,
        bytes: summary.bytes,
        sha256,
        exported: summary.exported,
        purpose: purpose.trim().to_string(),
        auditor,
    })
}

/// What each of `paths` is, in order: an evidence bundle (a ZIP listing `bundle.json`), or anything else, an
/// archive to import. Only the ZIP's central directory is read; a file that cannot be read is an "archive", so the
/// import reports why, as before.
pub fn file_kinds(paths: &[String]) -> Vec<FileKind> {
    paths
        .iter()
        .map(|p| match auditlens::bundle::is_bundle(Path::new(p)) {
            Ok(true) => FileKind::Bundle,
            _ if auditlens::cloudtrail_digest::export_input(Path::new(p)).is_some() => {
                FileKind::Cloudtrail
            }
            _ if is_unsigned_log(Path::new(p)) => FileKind::Unsigned,
            _ => FileKind::Archive,
        })
        .collect()
}

/// Verifies an AWS CloudTrail export offline (docs/cloudtrail.md): `keys` are files of `aws cloudtrail
/// list-public-keys` JSON, `signatures` an optional mapping of digest S3 keys to signatures (besides
/// `<digest>.head.json` files in the export), `accounts` the audited AWS accounts (none: any account, and the
/// report says so). The keyring's and session's `aws-cloudtrail:` grants, if any, apply. Nothing is imported.
pub fn verify_cloudtrail(
    state: &AppState,
    path: &str,
    keys: &[String],
    signatures: Option<&str>,
    accounts: &[String],
) -> Result<CloudTrailCheck, AppError> {
    use auditlens::cloudtrail_digest as ct;
    let given = cloudtrail_inputs(state, path, keys, signatures, accounts)?;
    let report = ct::verify_export_input(
        Path::new(path),
        given.kind,
        &given.keys,
        &given.signatures,
        &given.accounts,
    )
    .map_err(|e| AppError::new(ErrorCode::Io, format!("{path}: {e}")))?;
    let _ = log_action(
        state,
        "CloudTrail export verified",
        path,
        if report.verified {
            "verified: every digest and log file checked"
        } else {
            "NOT verified"
        },
    );
    Ok(CloudTrailCheck {
        path: path.to_string(),
        text: ct::render_text(&report),
        report,
    })
}

/// What verifies a CloudTrail export, as the auditor gave it in the app.
struct CloudTrailInputs {
    kind: auditlens::cloudtrail_digest::ExportInput,
    keys: auditlens::cloudtrail_digest::AwsKeys,
    /// The keys files as read (kept for `check` once an import succeeds).
    key_files: Vec<Vec<u8>>,
    signatures: auditlens::cloudtrail_digest::ExternalSignatures,
    accounts: Vec<String>,
}

/// Reads what [`verify_cloudtrail`] and [`import_cloudtrail`] are given: the export's kind, the `list-public-keys`
/// files (with the keyring's and session's `aws-cloudtrail:` grants applied), the optional signatures mapping and
/// the audited accounts.
fn cloudtrail_inputs(
    state: &AppState,
    path: &str,
    keys: &[String],
    signatures: Option<&str>,
    accounts: &[String],
) -> Result<CloudTrailInputs, AppError> {
    use auditlens::cloudtrail_digest::{self as ct, AwsKeys, ExternalSignatures};
    let invalid = |m: String| AppError::new(ErrorCode::Invalid, m);
    let Some(kind) = ct::export_input(Path::new(path)) else {
        return Err(invalid(format!(
            "{path} is not a CloudTrail export: a folder holding AWSLogs/<account>/CloudTrail-Digest/, or a ZIP or tar of one"
        )));
    };
    if keys.is_empty() {
        return Err(invalid(
            "choose the AWS public keys: the JSON `aws cloudtrail list-public-keys` prints (docs/cloudtrail.md)".into(),
        ));
    }
    let accounts: Vec<String> = accounts
        .iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    ct::check_accounts(&accounts).map_err(invalid)?;
    let read = |p: &str| {
        std::fs::read(p).map_err(|e| AppError::new(ErrorCode::Io, format!("cannot read {p}: {e}")))
    };
    let mut aws_keys = AwsKeys::new();
    let mut key_files = Vec::new();
    for k in keys {
        let bytes = read(k)?;
        aws_keys
            .add_json(&bytes)
            .map_err(|e| invalid(format!("{k}: {e}")))?;
        key_files.push(bytes);
    }
    aws_keys.apply_policy(&state.policy());
    let signatures = match signatures {
        Some(s) => ExternalSignatures::from_mapping_json(&read(s)?)
            .map_err(|e| invalid(format!("{s}: {e}")))?,
        None => ExternalSignatures::new(),
    };
    Ok(CloudTrailInputs {
        kind,
        keys: aws_keys,
        key_files,
        signatures,
        accounts,
    })
}

/// Where the AWS public keys of imported CloudTrail exports are kept, for `check` (docs/cloudtrail.md section 5):
/// `aws-keys/` next to the keyring (the engagement's folder, else the app-data directory).
fn aws_keys_dir(state: &AppState) -> PathBuf {
    match state.engagement() {
        Some(e) => PathBuf::from(e.folder).join("aws-keys"),
        None => state.data_dir.join("aws-keys"),
    }
}

/// The AWS public keys kept for `check`.
fn kept_aws_keys(state: &AppState) -> auditlens::cloudtrail_digest::AwsKeys {
    let mut keys = auditlens::cloudtrail_digest::AwsKeys::new();
    if let Ok(rd) = std::fs::read_dir(aws_keys_dir(state)) {
        let mut files: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            if let Ok(bytes) = std::fs::read(&f) {
                let _ = keys.add_json(&bytes);
            }
        }
    }
    keys
}

/// Verifies an AWS CloudTrail export with AWS's signatures and imports it when it verifies in full
/// (`Store::import_cloudtrail`, the same as `auditlens import --aws-keys`); the keys files are then kept next to the
/// keyring, so that a re-check of the database re-verifies the stored digests with them.
pub fn import_cloudtrail(
    state: &AppState,
    path: &str,
    keys: &[String],
    signatures: Option<&str>,
    accounts: &[String],
    progress: &mut dyn FnMut(&auditlens::store::import::CloudTrailStep),
) -> Result<auditlens::store::import::CloudTrailImport, AppError> {
    let given = cloudtrail_inputs(state, path, keys, signatures, accounts)?;
    let _writer = lock(&state.write_lock);
    let mut store = state.db().and_then(|db| db.writer())?;
    let result = store.import_cloudtrail(
        Path::new(path),
        &given.keys,
        &given.signatures,
        &given.accounts,
        &mut |step| {
            progress(step);
            true
        },
    )?;
    if result.is_ok() {
        let dir = aws_keys_dir(state);
        let kept = std::fs::create_dir_all(&dir).and_then(|()| {
            for bytes in &given.key_files {
                let hash = auditlens::merkle::to_hex(&auditlens::merkle::leaf_hash(bytes));
                let name = &hash[..32];
                std::fs::write(dir.join(format!("{name}.json")), bytes)?;
            }
            Ok(())
        });
        kept.map_err(|e| {
            AppError::new(
                ErrorCode::Io,
                format!(
                    "imported, but the AWS keys could not be kept in {} for re-checks: {e}",
                    dir.display()
                ),
            )
        })?;
    }
    Ok(result)
}

/// A regular file that does not start as a ZIP does (`PK`) and is not named `.zip`: a plain or gzip log file, which
/// only sealing on receipt can bring in. (A broken `.zip` is tried as an archive, and the import says what is
/// wrong with it.)
fn is_unsigned_log(path: &Path) -> bool {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        return false;
    }
    let mut head = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut f| {
            if !f.metadata()?.is_file() {
                return Ok(false);
            }
            let n = std::io::Read::read(&mut f, &mut head)?;
            Ok(n > 0 && head[..n] != b"PK"[..n])
        })
        .unwrap_or(false)
}

/// Verifies a received bundle on its own, against the keyring (producer keys), and reads its events for showing
/// as text, from a working copy in the app-data directory (`auditlens::bundle::open_verified`). Nothing is imported.
pub fn open_bundle(state: &AppState, path: &str) -> Result<OpenedBundle, AppError> {
    let (policy, producers) = (state.policy(), state.verifier_keys());
    let own = load_auditor(state)
        .ok()
        .flatten()
        .map(|(k, _)| k.verifier());
    // AWS CloudTrail archives are trusted under the AWS keys this auditor kept at import, where the trust policy's
    // grants allow them.
    let mut aws = kept_aws_keys(state);
    aws.apply_policy(&state.policy());
    let opts = auditlens::bundle::OpenOptions {
        work_dir: &state.data_dir.join("tmp"),
        producer_policy: &policy,
        producers: &producers,
        own_auditor: own.as_ref(),
        aws_keys: Some(&aws),
    };
    auditlens::bundle::open_verified(Path::new(path), &opts)
        .map_err(|e| AppError::new(ErrorCode::Io, e.0))
}

/// SHA-256 of a file's bytes, lowercase hex.
fn file_sha256(path: &Path) -> Result<String, AppError> {
    auditlens::archive::sha256_file(path)
        .map(|h| auditlens::merkle::to_hex(&h))
        .map_err(|e| {
            AppError::new(
                ErrorCode::Io,
                format!("cannot read {}: {e}", path.display()),
            )
        })
}

/// The working papers of the open database (`<db>.papers`, next to it).
fn open_papers(state: &AppState) -> Result<Papers, AppError> {
    Ok(Papers::open(&state.db()?.path)?)
}

/// Appends an entry to the action log of the open database, after the action it records succeeded: when the log
/// cannot be written, the error says that the action itself was done.
fn log_action(state: &AppState, action: &str, subject: &str, detail: &str) -> Result<(), AppError> {
    open_papers(state)
        .and_then(|mut p| Ok(p.log_action(action, subject, detail)?))
        .map(|_| ())
        .map_err(|e| {
            AppError::new(
                e.code,
                format!(
                    "{action} was done, but the action log could not be written: {}",
                    e.message
                ),
            )
        })
}

/// The key of a stored event, for annotating it.
fn event_key(state: &AppState, id: &str) -> Result<EventKey, AppError> {
    Ok(EventKey::of(&event(state, id)?)?)
}

/// The auditor's working papers on one event.
pub fn annotations(state: &AppState, id: &str) -> Result<Annotations, AppError> {
    let key = event_key(state, id)?;
    Ok(open_papers(state)?.annotations(&key)?)
}

/// One change to an event's working papers (logged), and the event's papers after it.
pub fn annotate(state: &AppState, id: &str, change: &Change) -> Result<Annotations, AppError> {
    let key = event_key(state, id)?;
    Ok(open_papers(state)?.apply(&key, change)?)
}

/// Tags in use, saved searches and recent queries.
pub fn working_papers(state: &AppState) -> Result<PapersView, AppError> {
    Ok(open_papers(state)?.view()?)
}

/// Saves `query` under `name` (logged).
pub fn save_search(state: &AppState, name: &str, query: &str) -> Result<PapersView, AppError> {
    let mut p = open_papers(state)?;
    p.save_search(name, query)?;
    Ok(p.view()?)
}

/// Deletes a saved search (logged).
pub fn delete_saved_search(state: &AppState, name: &str) -> Result<PapersView, AppError> {
    let mut p = open_papers(state)?;
    if !p.delete_saved_search(name)? {
        return Err(AppError::new(
            ErrorCode::NotFound,
            format!("no saved search is named {name:?}"),
        ));
    }
    Ok(p.view()?)
}

/// Remembers a query the auditor ran, for the history (not logged: running a query changes nothing).
pub fn remember_query(state: &AppState, query: &str) -> Result<PapersView, AppError> {
    let mut p = open_papers(state)?;
    p.remember_query(query)?;
    Ok(p.view()?)
}

/// The action log and whether its chain holds.
pub fn action_log(state: &AppState) -> Result<ActionLog, AppError> {
    let p = open_papers(state)?;
    let entries = p.actions()?;
    let check = papers::log::check_entries(&entries);
    Ok(ActionLog { entries, check })
}

/// Writes the action log to `out` as JSON Lines (logged, after the entries written).
pub fn export_action_log(state: &AppState, out: &str) -> Result<LogCheck, AppError> {
    let out = out.trim();
    if out.is_empty() {
        return Err(AppError::new(
            ErrorCode::Invalid,
            "choose a file for the action log",
        ));
    }
    let log = action_log(state)?;
    let path = PathBuf::from(out);
    let tmp = path.with_extension("jsonl.partial");
    std::fs::write(&tmp, papers::log::to_json_lines(&log.entries))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            AppError::new(ErrorCode::Io, format!("writing {out}: {e}"))
        })?;
    log_action(
        state,
        "action log exported",
        out,
        &format!(
            "{} entries, head {}",
            log.check.entries,
            log.check.head.as_deref().unwrap_or("-")
        ),
    )?;
    Ok(log.check)
}

/// Suggestions shown at most.
const ALIAS_SUGGESTIONS: usize = 50;

/// The aliases the auditor said, and actor values that look like one person.
pub fn identities(state: &AppState) -> Result<IdentitiesView, AppError> {
    let aliases = open_papers(state)?.aliases()?;
    let suggestions = state.db()?.read(|store| {
        Ok(papers::suggest_aliases(
            store.connection(),
            ALIAS_SUGGESTIONS,
        )?)
    })?;
    Ok(IdentitiesView {
        aliases,
        suggestions,
    })
}

/// Says that `actor` is the person `person` (logged).
pub fn set_alias(state: &AppState, actor: &str, person: &str) -> Result<IdentitiesView, AppError> {
    open_papers(state)?.set_alias(actor, person)?;
    identities(state)
}

/// Forgets what `actor` was said to be (logged).
pub fn remove_alias(state: &AppState, actor: &str) -> Result<IdentitiesView, AppError> {
    if !open_papers(state)?.remove_alias(actor)? {
        return Err(AppError::new(
            ErrorCode::NotFound,
            format!("{actor:?} is not aliased to anyone"),
        ));
    }
    identities(state)
}
