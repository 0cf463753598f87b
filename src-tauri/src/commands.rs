//! What each command does, as plain functions of the [`AppState`]: a few lines each that call the `auditlens`
//! library and map its errors to [`AppError`]. `ipc.rs` exposes them to the window (threads, channels); the tests
//! call them directly against a temporary database.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use auditlens::archive::Manifest;
use auditlens::keyfile::KeyPairError;
use auditlens::keyring::{Keyring, KeyringError, TrustedKey};
use auditlens::note::SignerKey;
use auditlens::store::StoreError;
use auditlens::store::coverage::AuditPeriod;
use auditlens::store::histogram::Histogram;
use auditlens::store::import::{ImportOptions, Promotion};
use auditlens::store::renormalize::Renormalized;
use auditlens::store::search::{EventDetail, EventRow, MAX_LIMIT, SearchPage};
use auditlens::store::stats::{Access, DashboardOptions, Deployments, Overview, Scope};
use auditlens::trust::TrustPolicy;

use crate::contract::{
    ArchiveDetail, ArchivesView, AuditCoverage, AuditorKey, BundleArchive, BundleEvent, BundleKey,
    BundleProblem, BundleVerdict, CheckEvent, DbStatus, ExportPreview, ExportResult,
    ExportSelection, FileKind, ImportEvent, JobId, OpenedBundle, PreviewArchive, Settings, Startup,
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
    let db = state.db();
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

/// Stops trusting the key with this fingerprint: removes every grant of it.
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

/// Removes one grant (the same key, origin pattern and window); the key's other grants stay.
pub fn untrust_grant(state: &AppState, grant: &TrustedKey) -> Result<Vec<TrustedKey>, AppError> {
    let mut ring = state.keyring();
    let mut next = ring.clone();
    if !next.remove_grant(grant) {
        return Err(AppError::new(
            ErrorCode::NotFound,
            format!(
                "no grant of the key {} for {} with this window",
                grant.fingerprint, grant.origins
            ),
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
    let policy = state.keyring().policy();
    let opts = ImportOptions {
        trust: &policy,
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
    // The keyring's grants, as import applies them (bare keys pinned per origin in import order).
    let policy = state.keyring().policy();
    let t0 = Instant::now();
    let result = db.writer().and_then(|store| {
        Ok(store.check_policy(Some(&policy), &mut |p| {
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
            lookalikes: store.lookalike_origins()?,
        })
    })
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
    let db = state.db();
    let _writer = lock(&state.write_lock);
    let mut store = db.writer()?;
    store.renormalize(id, kind).map_err(|e| match e {
        StoreError::Invalid(message) => AppError::new(ErrorCode::Invalid, message),
        other => other.into(),
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

/// The audit period of the open database and, when one is set, how its verified archives cover it.
pub fn audit_coverage(state: &AppState) -> Result<AuditCoverage, AppError> {
    state.db().read(|store| {
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
    state
        .db()
        .read(|store| Ok(store.set_audit_period(period.as_ref())?))?;
    audit_coverage(state)
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

// ---------------------------------------------------------------------------------------------------------------
// Evidence bundles (docs/evidence-bundle.md): the auditor's signing key, export from a search, and received
// bundles verified on their own (never imported into the database).

/// The file in the app-data directory that names the auditor's signing key file.
pub const AUDITOR_FILE: &str = "auditor.json";
/// The folder of the app-data directory where keys created in the app are kept (owner-only).
pub const AUDITOR_KEYS_DIR: &str = "auditor-keys";
/// Events of a search shown in an export preview.
pub const PREVIEW_SAMPLE: usize = 10;
/// Events of a received bundle sent to the window (a bundle holds at most 10,000).
pub const MAX_SHOWN_EVENTS: usize = 10_000;

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
    let file_safe = !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if name.is_empty() || !file_safe || !auditlens::note::is_valid_key_name(name) {
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
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(&dir).map_err(|e| io(&dir, e))?;
    let key = SignerKey::generate(name)?;
    let files = auditlens::keyfile::write_key_pair(&dir, &key).map_err(|e| match e {
        KeyPairError::Exists(p) => AppError::new(
            ErrorCode::Invalid,
            format!(
                "a key named {name} already exists ({}); choose another name, or choose that key file",
                p.display()
            ),
        ),
        KeyPairError::Io { path, source } => io(&path, source),
    })?;
    let key_path = files.key;
    save_auditor_choice(state, &key_path)?;
    Ok(auditor_info(state, &key, &key_path))
}

/// Makes the signing key in `path` (a `.key` file made by `auditlens keygen`) the one exports are signed with.
pub fn choose_auditor_key(state: &AppState, path: &str) -> Result<AuditorKey, AppError> {
    let path = std::path::absolute(path).unwrap_or_else(|_| PathBuf::from(path));
    let key = read_signer_key(&path)?;
    save_auditor_choice(state, &path)?;
    Ok(auditor_info(state, &key, &path))
}

fn parse_time(t: &str) -> Option<i64> {
    auditlens::time::parse_rfc3339(t)
}

/// What exporting `selection` would disclose: the number of events, the archives they come from, their time
/// range and the first of them. Nothing is written.
pub fn export_preview(
    state: &AppState,
    selection: &ExportSelection,
) -> Result<ExportPreview, AppError> {
    let max = auditlens::bundle::MAX_EVENTS as usize;
    state.db().read(|store| {
        let now = now_micros();
        let mut rows: Vec<EventRow> = Vec::new();
        let mut missing = Vec::new();
        let total = match selection {
            ExportSelection::Query { query } => {
                let total = store.count(query, now)?;
                let mut after: Option<String> = None;
                loop {
                    let page = store.search(query, MAX_LIMIT, after.as_deref(), now)?;
                    rows.extend(page.events);
                    match page.next {
                        Some(next) if rows.len() < max => after = Some(next),
                        _ => break,
                    }
                }
                rows.truncate(max);
                total.max(rows.len() as u64)
            }
            ExportSelection::Ids { ids } => {
                let ids = canonical_ids(ids)?;
                for id in ids.iter().take(max) {
                    match store.event(id)? {
                        Some(detail) => rows.push(detail.row),
                        None => missing.push(id.clone()),
                    }
                }
                ids.len() as u64
            }
        };
        let mut archives: Vec<PreviewArchive> = Vec::new();
        let mut first: Option<(i64, String)> = None;
        let mut last: Option<(i64, String)> = None;
        let mut untimed = 0;
        for r in &rows {
            match archives.iter_mut().find(|a| a.archive == r.archive) {
                Some(a) => a.events += 1,
                None => archives.push(PreviewArchive {
                    archive: r.archive.clone(),
                    origin: r.origin.clone().unwrap_or_default(),
                    sequence: r.sequence,
                    events: 1,
                    verified: r.verified,
                }),
            }
            match r
                .time
                .as_deref()
                .and_then(|t| parse_time(t).map(|m| (m, t)))
            {
                Some((m, t)) => {
                    if first.as_ref().is_none_or(|f| m < f.0) {
                        first = Some((m, t.to_string()));
                    }
                    if last.as_ref().is_none_or(|l| m > l.0) {
                        last = Some((m, t.to_string()));
                    }
                }
                None => untimed += 1,
            }
        }
        archives.sort_by(|a, b| {
            (a.origin.as_bytes(), a.sequence).cmp(&(b.origin.as_bytes(), b.sequence))
        });
        let unverified = rows.iter().filter(|r| !r.verified).count() as u64;
        rows.truncate(PREVIEW_SAMPLE);
        Ok(ExportPreview {
            selection: selection.clone(),
            events: total,
            max_events: max as u64,
            too_many: total > max as u64,
            archives,
            first: first.map(|f| f.1),
            last: last.map(|l| l.1),
            untimed,
            unverified,
            missing,
            sample: rows,
        })
    })
}

/// Event ids checked and spelled as the store spells them, each once.
fn canonical_ids(ids: &[String]) -> Result<Vec<String>, AppError> {
    if ids.is_empty() {
        return Err(AppError::new(
            ErrorCode::Invalid,
            "no event is selected: tick the rows to export, or export every match of the query",
        ));
    }
    auditlens::bundle::export::parse_ids(&ids.join("\n"))
        .map_err(|e| AppError::new(ErrorCode::Invalid, e))
}

/// Writes the evidence bundle of `selection` to `out`, signed with the auditor's key. Refuses (nothing written)
/// when any selected event is not verified, when `out` exists, or without a purpose.
pub fn export_bundle(
    state: &AppState,
    selection: &ExportSelection,
    purpose: &str,
    out: &str,
) -> Result<ExportResult, AppError> {
    use auditlens::bundle::{ExportError, ExportOptions, SelectionInput, terminal_safe};
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
    let selection_input = match selection {
        ExportSelection::Query { query } => SelectionInput::Query(query.clone()),
        ExportSelection::Ids { ids } => SelectionInput::Ids(canonical_ids(ids)?),
    };
    let out_path = PathBuf::from(out);
    let summary = state.db().read(|store| {
        let opts = ExportOptions {
            selection: selection_input,
            purpose,
            auditor: &key,
            out: &out_path,
            now_micros: now_micros(),
        };
        auditlens::bundle::export(store, &opts).map_err(|e| match e {
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
        })
    })?;
    let sha256 = file_sha256(&out_path)?;
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
            _ => FileKind::Archive,
        })
        .collect()
}

/// Verifies a received bundle on its own, against the keyring (producer keys), and reads its events for showing
/// as text. The bundle is first copied into the app-data directory, so what is shown is exactly what was verified
/// even if the file changes meanwhile. Nothing is imported.
pub fn open_bundle(state: &AppState, path: &str) -> Result<OpenedBundle, AppError> {
    use auditlens::bundle::{BundleStatus, VerifyOptions, terminal_safe, verify_bundle};
    let src = PathBuf::from(path);
    let tmp_dir = state.data_dir.join("tmp");
    std::fs::create_dir_all(&tmp_dir).map_err(|e| {
        AppError::new(
            ErrorCode::Io,
            format!("cannot create {}: {e}", tmp_dir.display()),
        )
    })?;
    let copy = tempfile::Builder::new()
        .prefix("received-bundle-")
        .suffix(".zip")
        .tempfile_in(&tmp_dir)
        .map_err(|e| AppError::new(ErrorCode::Io, format!("cannot make a working copy: {e}")))?;
    {
        let mut input = std::fs::File::open(&src).map_err(|e| {
            AppError::new(
                ErrorCode::Io,
                format!("cannot open {path}: {e}. Check that the file exists and is readable."),
            )
        })?;
        let mut output = copy.as_file();
        std::io::copy(&mut input, &mut output)
            .map_err(|e| AppError::new(ErrorCode::Io, format!("cannot read {path}: {e}")))?;
    }
    let sha256 = file_sha256(copy.path())?;
    let producers = state.keyring().verifier_keys();
    let producer_policy = state.keyring().policy();
    let own = load_auditor(state)
        .ok()
        .flatten()
        .map(|(k, _)| k.verifier());
    let v = verify_bundle(
        copy.path(),
        &VerifyOptions {
            trusted_producers: &[],
            trusted_auditors: &[],
            producer_policy: Some(&producer_policy),
        },
    )
    .map_err(|e| AppError::new(ErrorCode::Io, format!("cannot read {path}: {e}")))?;
    let key_of = |key: &str, name: &str, fingerprint: &str, trusted: bool| {
        let yours = own.as_ref().is_some_and(|o| o.to_string() == key);
        BundleKey {
            key: key.to_string(),
            name: terminal_safe(name),
            fingerprint: fingerprint.to_string(),
            trusted: trusted || yours,
            yours,
        }
    };
    let auditor = v.auditor.as_ref().map(|a| {
        let in_keyring = producers.iter().any(|p| p.to_string() == a.key);
        key_of(&a.key, &a.name, &a.fingerprint, in_keyring)
    });
    let archives = v
        .archives
        .iter()
        .map(|a| BundleArchive {
            origin: terminal_safe(&a.origin),
            sequence: a.sequence,
            size: a.size,
            root: a.root.clone(),
            events: a.events,
            signer: key_of(
                &a.signer.key,
                &a.signer.name,
                &a.signer.fingerprint,
                a.signer.trusted,
            ),
        })
        .collect();
    let mut failure = v.failure.as_ref().map(|f| BundleProblem {
        kind: serde_json::to_value(f.kind)
            .ok()
            .and_then(|k| k.as_str().map(String::from))
            .unwrap_or_default(),
        message: terminal_safe(&f.message),
        entry: f.entry.as_deref().map(terminal_safe),
        line: f.line,
        event: f.event.as_deref().map(terminal_safe),
        expected: f.expected.as_deref().map(terminal_safe),
        found: f.found.as_deref().map(terminal_safe),
    });
    let mut verdict = match v.status {
        BundleStatus::Verified => BundleVerdict::Verified,
        BundleStatus::Untrusted => BundleVerdict::Untrusted,
        BundleStatus::Failed => BundleVerdict::Failed,
    };
    let (mut events, mut first, mut last) = (Vec::new(), None, None);
    if verdict != BundleVerdict::Failed {
        match read_bundle_events(copy.path(), &v.events) {
            Ok((e, f, l)) => (events, first, last) = (e, f, l),
            Err(message) => {
                verdict = BundleVerdict::Failed;
                failure = Some(BundleProblem {
                    kind: "container".into(),
                    message,
                    entry: None,
                    line: None,
                    event: None,
                    expected: None,
                    found: None,
                });
            }
        }
    }
    let events_total = if verdict == BundleVerdict::Failed {
        0
    } else {
        v.events.len() as u64
    };
    let (query, ids) = match &v.selection {
        Some(s) => (
            s.query.as_deref().map(terminal_safe),
            s.ids
                .as_ref()
                .map(|ids| ids.iter().map(|i| terminal_safe(i)).collect()),
        ),
        None => (None, None),
    };
    Ok(OpenedBundle {
        path: path.to_string(),
        sha256,
        verdict,
        failure,
        auditor,
        exported: v.exported.as_deref().map(terminal_safe),
        tool: v.tool.as_deref().map(terminal_safe),
        purpose: v.purpose.as_deref().map(terminal_safe),
        query,
        ids,
        first,
        last,
        archives,
        events,
        events_total,
    })
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

type BundleEvents = (Vec<BundleEvent>, Option<String>, Option<String>);

/// Reads the events of a bundle that verified (the same copy), checking that each line is the verified leaf.
fn read_bundle_events(
    path: &Path,
    verified: &[auditlens::bundle::verify::VerifiedEvent],
) -> Result<BundleEvents, String> {
    use auditlens::bundle::{EVENTS, ExportReport, REPORT_JSON, terminal_safe};
    use std::io::{BufRead, Read};
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| e.to_string())?;
    let report: ExportReport = {
        let entry = zip.by_name(REPORT_JSON).map_err(|e| e.to_string())?;
        let mut bytes = Vec::new();
        entry
            .take(auditlens::bundle::MAX_REPORT_JSON_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{REPORT_JSON}: {e}"))?
    };
    let entry = zip.by_name(EVENTS).map_err(|e| e.to_string())?;
    let mut reader = std::io::BufReader::new(entry.take(auditlens::bundle::MAX_EVENTS_BYTES));
    let mut events = Vec::new();
    let mut line = Vec::new();
    for (i, want) in verified.iter().enumerate() {
        line.clear();
        reader
            .read_until(b'\n', &mut line)
            .map_err(|e| e.to_string())?;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let leaf = auditlens::archive::encode_hash(&auditlens::merkle::leaf_hash(text));
        if leaf != want.leaf {
            return Err(format!(
                "{EVENTS} line {} changed after it was verified",
                i + 1
            ));
        }
        if i >= MAX_SHOWN_EVENTS {
            continue;
        }
        let r = report.events.get(i).filter(|r| r.id == want.id);
        let field = |f: fn(&auditlens::bundle::ReportEvent) -> &Option<String>| {
            r.and_then(|r| f(r).as_deref()).map(terminal_safe)
        };
        events.push(BundleEvent {
            position: i as u64 + 1,
            id: terminal_safe(&want.id),
            leaf: want.leaf.clone(),
            time: field(|r| &r.time),
            source: field(|r| &r.source),
            actor: field(|r| &r.actor),
            action: field(|r| &r.action),
            resource: field(|r| &r.resource),
            outcome: field(|r| &r.outcome),
            text: terminal_safe(&String::from_utf8_lossy(text)),
        });
    }
    let range = report.time_range;
    Ok((
        events,
        range.as_ref().map(|r| terminal_safe(&r.first)),
        range.as_ref().map(|r| terminal_safe(&r.last)),
    ))
}
