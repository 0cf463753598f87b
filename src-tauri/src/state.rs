//! The app's state, shared by every command: where its files live (settings, keyring and the default database in
//! the OS app-data directory), the open database, the keyring, and the running jobs. It knows nothing of windows,
//! so the command tests build one on a temporary directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use auditlens::keyring::Keyring;
use auditlens::store::Store;
use auditlens::store::import::Demotion;
use auditlens::store::schema::Upgrade;

use crate::contract::{JobId, Settings};
use crate::error::{AppError, ErrorCode};

/// File names inside the app-data directory.
pub const SETTINGS_FILE: &str = "settings.json";
pub const KEYRING_FILE: &str = "keyring.json";
pub const DEFAULT_DB_FILE: &str = "auditlens.db";

/// Idle read connections kept open.
const READERS_KEPT: usize = 2;
/// Leaves read ahead after a database is opened, newest archives first (an archive whose block hashes give its
/// signed root reads none ahead: its blocks are read with the pages that show them).
const CONFIRM_AHEAD_EVENTS: u64 = 2_000_000;
/// How long after opening a database that reading starts.
const CONFIRM_AHEAD_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

/// Page cache of a read connection, KiB (SQLite's negative `cache_size`): searches page through indexes, the OS
/// caches the file, and an idle app should not hold a large cache per connection.
const READER_CACHE_KIB: i64 = 16 * 1024;

/// The open database: its path, a few read connections (WAL: reads never wait for an import), and the lock that
/// lets one writer (import or check) at a time.
pub struct Database {
    pub path: PathBuf,
    pub from_command_line: bool,
    /// What opening it did to a database from an older AuditLens (upgraded, and where its backup copy is).
    pub upgrade: Option<String>,
    readers: Mutex<Vec<Store>>,
    /// Each archive's stored leaves read against its signed root once, for the rows shown as verified
    /// (`Store::confirm_page`).
    pub confirmed: Arc<auditlens::store::confirm::Confirmations>,
}

impl Database {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path, from_command_line: bool) -> Result<Database, AppError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                AppError::new(
                    ErrorCode::Database,
                    format!(
                        "cannot create the folder {} for the database: {e}",
                        dir.display()
                    ),
                )
            })?;
        }
        let (first, upgrade) = open_reader(path)?;
        let db = Database {
            path: path.to_owned(),
            from_command_line,
            upgrade: upgrade.map(|u| u.to_string()),
            readers: Mutex::new(vec![first]),
            confirmed: Arc::new(auditlens::store::confirm::Confirmations::new()),
        };
        // Whatever the full-text index lacks (a crash while indexing, a store from an older AuditLens, an index
        // removed) is indexed now; searches read those events meanwhile.
        db.index_text_in_background();
        db.confirm_in_background();
        Ok(db)
    }

    /// Checks the newest verified archives against their signed roots (reading up to [`CONFIRM_AHEAD_EVENTS`]
    /// leaves of archives stored without block hashes) on a thread and read connection of its own, so that the
    /// first pages of results need not (`Store::confirm_page` checks an archive itself when it comes first). It starts once the window has
    /// had [`CONFIRM_AHEAD_AFTER`] to draw its first screen, reads through SQLite's page cache only (a memory map
    /// would count the file's pages in the app's memory), and stops once this database is closed.
    fn confirm_in_background(&self) {
        let path = self.path.clone();
        let known = Arc::downgrade(&self.confirmed);
        std::thread::spawn(move || {
            std::thread::sleep(CONFIRM_AHEAD_AFTER);
            let Ok(store) = Store::open_read_only(&path) else {
                return;
            };
            if store
                .connection()
                .execute_batch("PRAGMA mmap_size = 0; PRAGMA cache_size = -2048;")
                .is_err()
            {
                return;
            }
            let mut events = 0u64;
            while events < CONFIRM_AHEAD_EVENTS
                && let Some(known) = known.upgrade()
            {
                match store.confirm_next_archive(&known) {
                    Ok(Some(n)) => events += n,
                    _ => break,
                }
            }
        });
    }

    /// Indexes the text of every stored archive the full-text index lacks, on a thread and connection of its own
    /// (the status bar shows how far it has got). Two at once take turns on the index file; neither redoes the
    /// other's archives.
    pub fn index_text_in_background(&self) {
        let path = self.path.clone();
        std::thread::spawn(move || {
            if let Ok(mut store) = Store::open(&path) {
                let _ = store.finish_text_index(&mut |_| {});
            }
        });
    }

    /// Runs `f` on a read connection (an idle one, or a new one).
    pub fn read<T>(&self, f: impl FnOnce(&Store) -> Result<T, AppError>) -> Result<T, AppError> {
        let store = lock(&self.readers).pop();
        let store = match store {
            Some(s) => s,
            None => open_reader(&self.path)?.0,
        };
        let out = f(&store);
        let mut idle = lock(&self.readers);
        if idle.len() < READERS_KEPT {
            idle.push(store);
        }
        out
    }

    /// A connection of its own, for a job that writes.
    pub fn writer(&self) -> Result<Store, AppError> {
        Ok(Store::open(&self.path)?)
    }
}

/// A read connection; the first one of a database from an older AuditLens also upgrades it (after a backup copy).
fn open_reader(path: &Path) -> Result<(Store, Option<Upgrade>), AppError> {
    let (store, upgrade) = Store::open_upgrading(path)?;
    store
        .connection()
        .pragma_update(None, "cache_size", -READER_CACHE_KIB)
        .map_err(auditlens::store::StoreError::from)?;
    store
        .map_for_reading()
        .map_err(auditlens::store::StoreError::from)?;
    Ok((store, upgrade))
}

/// Everything the commands share.
pub struct AppState {
    pub data_dir: PathBuf,
    settings: Mutex<Settings>,
    /// The keyring of the open engagement, or the app's own (app-data `keyring.json`) for a database that is not
    /// an engagement's.
    keyring: Mutex<Keyring>,
    /// Keys given with `--trust` on the command line: trusted for this session, saved to the keyring only when the
    /// auditor says so in the window. Never written.
    session_keys: Mutex<Keyring>,
    /// The open engagement, when the database is an engagement's.
    engagement: Mutex<Option<auditlens::engagement::Engagement>>,
    /// The open database, or why the one chosen at start-up could not be opened (a store from a newer AuditLens,
    /// an unreadable file): the window then says so and offers to choose another, and nothing touches that file.
    db: Mutex<Result<Arc<Database>, AppError>>,
    /// Held by the job that writes to the database (imports and checks run one at a time).
    pub write_lock: Mutex<()>,
    jobs: Mutex<HashMap<JobId, Arc<AtomicBool>>>,
    next_job: AtomicU32,
    /// Archives from the command line, until the window asks for them.
    pub pending_imports: Mutex<Vec<String>>,
    /// Problems with the command line, to show in the window.
    pub notices: Mutex<Vec<String>>,
    /// The last answer of [`AppState::untrusted_now`], with what it was decided for.
    trust_now: Mutex<Option<TrustNow>>,
}

/// The verified archives of a database that a trust policy does not trust, for one state of both.
struct TrustNow {
    db: PathBuf,
    policy: auditlens::trust::TrustPolicy,
    /// The ids of the archives marked verified, in order: any import, promotion or demotion changes it.
    verified: String,
    untrusted: Arc<Vec<Demotion>>,
}

impl AppState {
    /// Loads the settings and the keyring from `data_dir` (creating it) and opens the database: `db_override`
    /// (from `--db`, not saved), else the one in the settings, else `data_dir/auditlens.db`. A database that cannot
    /// be opened does not stop the app: [`AppState::db`] returns why (code [`ErrorCode::NoDatabase`]) until another
    /// one is chosen.
    pub fn new(data_dir: &Path, db_override: Option<&Path>) -> Result<AppState, AppError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            AppError::new(
                ErrorCode::Settings,
                format!(
                    "cannot create the app-data folder {}: {e}",
                    data_dir.display()
                ),
            )
        })?;
        let settings = load_settings(&data_dir.join(SETTINGS_FILE))?;
        let (path, from_command_line) = match (db_override, &settings.db_path, &settings.engagement)
        {
            (Some(p), _, _) => (p.to_owned(), true),
            (None, _, Some(folder)) => (auditlens::engagement::db_path(Path::new(folder)), false),
            (None, Some(p), None) => (PathBuf::from(p), false),
            (None, None, None) => (data_dir.join(DEFAULT_DB_FILE), false),
        };
        // The database of an engagement brings the engagement's keyring (also when `--db` names it); any other
        // database, the app's own.
        let engagement = engagement_of(&path);
        let keyring = match &engagement {
            Some(e) => Keyring::load(&auditlens::engagement::keyring_path(Path::new(&e.folder)))?,
            None => Keyring::load(&data_dir.join(KEYRING_FILE))?,
        };
        let db = Database::open(&path, from_command_line)
            .map(Arc::new)
            .map_err(|e| {
                AppError::new(
                    ErrorCode::NoDatabase,
                    format!(
                        "AuditLens cannot open the database {}: {}",
                        path.display(),
                        e.message
                    ),
                )
            });
        Ok(AppState {
            data_dir: data_dir.to_owned(),
            settings: Mutex::new(settings),
            keyring: Mutex::new(keyring),
            session_keys: Mutex::new(Keyring::load(&data_dir.join(".session-keys-never-saved"))?),
            engagement: Mutex::new(engagement),
            db: Mutex::new(db),
            write_lock: Mutex::new(()),
            jobs: Mutex::new(HashMap::new()),
            next_job: AtomicU32::new(1),
            pending_imports: Mutex::new(Vec::new()),
            trust_now: Mutex::new(None),
            notices: Mutex::new(Vec::new()),
        })
    }

    pub fn default_db_path(&self) -> PathBuf {
        self.data_dir.join(DEFAULT_DB_FILE)
    }

    /// The open database (a job keeps the one it started with, even if the user switches meanwhile), or why none
    /// is open.
    pub fn db(&self) -> Result<Arc<Database>, AppError> {
        lock(&self.db).clone()
    }

    pub fn set_db(&self, db: Database) {
        *lock(&self.db) = Ok(Arc::new(db));
    }

    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// Saves new settings (atomically) and keeps them.
    pub fn save_settings(&self, settings: Settings) -> Result<(), AppError> {
        let path = self.data_dir.join(SETTINGS_FILE);
        let mut text = serde_json::to_vec_pretty(&settings).expect("settings serialize");
        text.push(b'\n');
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, &text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| {
                AppError::new(
                    ErrorCode::Settings,
                    format!("cannot save the settings to {}: {e}", path.display()),
                )
            })?;
        *lock(&self.settings) = settings;
        Ok(())
    }

    pub fn keyring(&self) -> MutexGuard<'_, Keyring> {
        lock(&self.keyring)
    }

    /// The keys trusted for this session only (`--trust`).
    pub fn session_keys(&self) -> MutexGuard<'_, Keyring> {
        lock(&self.session_keys)
    }

    /// What imports, checks and received bundles trust: the keyring's grants and this session's keys.
    pub fn policy(&self) -> auditlens::trust::TrustPolicy {
        let mut policy = self.keyring().policy();
        policy.extend(self.session_keys().policy());
        policy
    }

    /// The archives of the open database (read through `store`) marked verified that [`AppState::policy`] does
    /// not trust now ([`Store::untrusted_now`]): a database imported with other keys, or handed over. Decided
    /// again only when the policy, the database or its verified archives change (the answer is asked for every
    /// page of results).
    pub fn untrusted_now(&self, store: &Store) -> Result<Arc<Vec<Demotion>>, AppError> {
        let policy = self.policy();
        let db = self.db()?.path.clone();
        let verified: String = store
            .connection()
            .query_row(
                "SELECT coalesce(group_concat(id, ','), '') FROM
                   (SELECT id FROM archives WHERE status = 'verified' AND evidence IS NULL ORDER BY id)",
                [],
                |r| r.get(0),
            )
            .map_err(auditlens::store::StoreError::from)?;
        let mut cache = lock(&self.trust_now);
        if let Some(c) = cache.as_ref()
            && c.db == db
            && c.policy == policy
            && c.verified == verified
        {
            return Ok(c.untrusted.clone());
        }
        let untrusted = Arc::new(store.untrusted_now(&policy)?);
        *cache = Some(TrustNow {
            db,
            policy,
            verified,
            untrusted: untrusted.clone(),
        });
        Ok(untrusted)
    }

    /// The producer keys a received bundle may name as trusted: the keyring's and this session's.
    pub fn verifier_keys(&self) -> Vec<auditlens::note::VerifierKey> {
        let mut keys = self.keyring().verifier_keys();
        keys.extend(self.session_keys().verifier_keys());
        keys
    }

    /// The open engagement, if the database is an engagement's.
    pub fn engagement(&self) -> Option<auditlens::engagement::Engagement> {
        lock(&self.engagement).clone()
    }

    /// Switches to `db` with the keyring that goes with it: its engagement's, or the app's own.
    pub fn switch(&self, db: Database) -> Result<(), AppError> {
        let engagement = engagement_of(&db.path);
        let keyring = match &engagement {
            Some(e) => Keyring::load(&auditlens::engagement::keyring_path(Path::new(&e.folder)))?,
            None => Keyring::load(&self.data_dir.join(KEYRING_FILE))?,
        };
        *lock(&self.keyring) = keyring;
        *lock(&self.engagement) = engagement;
        self.set_db(db);
        Ok(())
    }

    /// Registers a new job and returns its id and its cancel flag.
    pub fn new_job(&self) -> (JobId, Arc<AtomicBool>) {
        let id = self.next_job.fetch_add(1, Ordering::Relaxed);
        let flag = Arc::new(AtomicBool::new(false));
        lock(&self.jobs).insert(id, flag.clone());
        (id, flag)
    }

    pub fn end_job(&self, job: JobId) {
        lock(&self.jobs).remove(&job);
    }

    /// Asks a running job to stop; false when no such job runs.
    pub fn cancel_job(&self, job: JobId) -> bool {
        match lock(&self.jobs).get(&job) {
            Some(flag) => {
                flag.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}

/// The engagement whose store `db` is (`FOLDER/evidence.db` next to `FOLDER/engagement.json`), if it is one.
pub fn engagement_of(db: &Path) -> Option<auditlens::engagement::Engagement> {
    if db.file_name()? != auditlens::engagement::DB_FILE {
        return None;
    }
    let folder = db.parent()?;
    folder
        .join(auditlens::engagement::ENGAGEMENT_FILE)
        .is_file()
        .then(|| auditlens::engagement::open(folder).ok())
        .flatten()
}

fn load_settings(path: &Path) -> Result<Settings, AppError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            AppError::new(
                ErrorCode::Settings,
                format!(
                    "the settings file {} is not valid ({e}); fix or delete it",
                    path.display()
                ),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
        Err(e) => Err(AppError::new(
            ErrorCode::Settings,
            format!("cannot read the settings file {}: {e}", path.display()),
        )),
    }
}

/// Locks a mutex, also after a panic in another thread (the data is still consistent: every change is one
/// assignment).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
