//! The full-text index: derived data in a file of its own next to the store, `<db>.text`, written on threads and
//! connections of its own, so it never holds up the commit of the evidence and can always be rebuilt from it
//! (docs/search.md section 6.1).
//!
//! - **Catch-up.** [`catch_up`] (and the `Indexer` thread that runs it, woken after each import's commit):
//!   every archive the index lacks, read back from the store, one transaction per archive, while the next archive
//!   imports. (Indexing an archive while its own rows are written, on a third thread, was measured slower on two
//!   cores: docs/benchmarks.md.)
//!
//! - **What it holds.** A contentless FTS5 table, `events_text`, of each event's [`crate::text::indexed_text`]
//!   under the event's id; `indexed`, the archives whose events are all in it (one transaction per archive, so an
//!   archive is in it wholly or not at all); `meta`, which store and which epoch of its events it was built for,
//!   and the word format.
//! - **Lag.** An archive is searchable by every field once its rows commit. Until its text is indexed it is in the
//!   *tail*: a text term matches its events by reading them ([`crate::text::TextQuery::matches`], registered as
//!   the SQL function `text_match`), so a search never misses an event because the index is behind.
//! - **Trust.** The index is believed only when its `meta` names this store (`settings.text_index_store`), the
//!   store's current epoch (`settings.text_index_epoch`, changed whenever events are replaced) and this word
//!   format; otherwise every archive is in the tail and the index is rebuilt. A crash leaves at most an archive's
//!   uncommitted rows, which SQLite rolls back: the archive is indexed again.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use crate::text::{TextQuery, append_indexed_text};

/// The word format of [`crate::text`] and the layout of the index's tables: an index of another format is
/// rebuilt. `values/2`: the vocabulary beside the words (an index of `values/1` has none, and is rebuilt to get it).
/// `values/3`: the final sigma folded as `σ` (an index of `values/2` holds `ς`, and is rebuilt).
pub const WORD_FORMAT: &str = "values/3";

/// The name the index is attached under on a store's connection.
pub const SCHEMA: &str = "txt";

/// Events read from the store and sorted by id before they are added to the index (FTS5 flushes its in-memory
/// segment whenever a rowid is not above the previous one)...
const BATCH_EVENTS: usize = 16_384;
/// ... or fewer, once their text adds up to this many bytes.
const BATCH_BYTES: usize = 16 << 20;

const CREATE: &str = "
    CREATE VIRTUAL TABLE IF NOT EXISTS events_text USING fts5(words, content='', contentless_delete=1, tokenize='ascii');
    CREATE TABLE IF NOT EXISTS indexed (archive_id INTEGER PRIMARY KEY, events INTEGER NOT NULL, fingerprint TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS vocabulary (archive_id INTEGER NOT NULL, first_idx INTEGER NOT NULL, last_idx INTEGER NOT NULL, whole INTEGER NOT NULL, words BLOB NOT NULL, shaped BLOB NOT NULL, names BLOB NOT NULL, escapes INTEGER NOT NULL);
";

/// The index file of the store at `db`.
pub fn path_of(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".text");
    PathBuf::from(name)
}

/// How far the index has got, for `auditlens` and the app ("indexing text: N%").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TextIndexStatus {
    /// Stored events whose text is indexed.
    pub indexed_events: u64,
    /// Stored events whose text is not indexed yet (matched by reading them meanwhile).
    pub pending_events: u64,
    /// Archives not indexed yet.
    pub pending_archives: u64,
}

impl TextIndexStatus {
    /// Percent indexed, rounded down (100 when nothing is pending).
    pub fn percent(&self) -> u64 {
        let total = self.indexed_events + self.pending_events;
        if self.pending_events == 0 || total == 0 {
            100
        } else {
            self.indexed_events * 100 / total
        }
    }
}

/// Registers `text_match(event_text, fts5_string)` on a connection: whether the event matches the full-text
/// condition the compiler wrote, decided from its bytes ([`TextQuery::matches`]). The parsed condition is kept
/// per statement.
pub fn register_functions(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.create_scalar_function(
        "text_match",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let query: Arc<Option<TextQuery>> = ctx
                .get_or_create_aux(1, |v| -> Result<_, rusqlite::Error> {
                    Ok(TextQuery::parse_fts5(v.as_str()?))
                })?;
            let Some(query) = query.as_ref() else {
                return Err(rusqlite::Error::UserFunctionError(
                    "text_match: not a full-text condition of AuditLens".into(),
                ));
            };
            let event = ctx.get_raw(0);
            Ok(match event {
                rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t)
                    .map(|t| query.matches(t))
                    .unwrap_or(false),
                _ => false,
            })
        },
    )
}

/// Attaches the index of the store at `db` to a store connection as [`SCHEMA`], creating it when the connection
/// may write. A read-only connection to a store with no usable index gets an empty one (`empty_index`): every
/// event is then read to match text.
pub fn attach(conn: &Connection, db: &Path, read_only: bool) -> Result<(), rusqlite::Error> {
    let path = path_of(db);
    if !read_only {
        conn.execute(
            &format!("ATTACH DATABASE ?1 AS {SCHEMA}"),
            [path.to_string_lossy()],
        )?;
        conn.execute_batch(&format!("PRAGMA {SCHEMA}.journal_mode = WAL"))?;
        conn.execute_batch(&CREATE.replace("EXISTS ", &format!("EXISTS {SCHEMA}.")))?;
        return create_done_table(conn);
    }
    let usable = path.exists()
        && conn
            .execute(&format!("ATTACH DATABASE ?1 AS {SCHEMA}"), [path.to_string_lossy()])
            .is_ok()
        && conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM {SCHEMA}.sqlite_schema WHERE name IN ('events_text', 'indexed', 'meta')"
                ),
                [],
                |r| r.get::<_, i64>(0),
            )
            .is_ok_and(|n| n == 3);
    if !usable {
        let _ = conn.execute_batch(&format!("DETACH DATABASE {SCHEMA}"));
        let empty = empty_index().map_err(|e| {
            rusqlite::Error::ToSqlConversionFailure(
                format!("an empty full-text index cannot be made: {e}").into(),
            )
        })?;
        conn.execute(
            &format!("ATTACH DATABASE ?1 AS {SCHEMA}"),
            [empty.to_string_lossy()],
        )?;
    }
    create_done_table(conn)
}

/// An empty index in a temporary file of this process (a read-only connection cannot create one, not even in
/// memory), made once and attached read-only by every read-only store without an index.
fn empty_index() -> Result<PathBuf, String> {
    static EMPTY: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    EMPTY
        .get_or_init(|| {
            let file = tempfile::Builder::new()
                .prefix("auditlens-empty-text-index-")
                .tempfile()
                .map_err(|e| e.to_string())?;
            let conn = Connection::open(file.path()).map_err(|e| e.to_string())?;
            conn.execute_batch(CREATE).map_err(|e| e.to_string())?;
            drop(conn);
            // Kept for the life of the process (and left in the temporary directory after it).
            file.into_temp_path().keep().map_err(|e| e.to_string())
        })
        .clone()
}

/// Starts a write transaction on the store file only. `BEGIN IMMEDIATE` would also take the write lock of the
/// attached index and hold off its indexing thread for the whole import; a first statement that writes to the
/// store (and changes nothing) takes the store's lock alone, before anything was read, so the transaction never
/// has to upgrade a read snapshot.
pub(crate) fn begin_store_write(
    conn: &mut Connection,
) -> Result<rusqlite::Transaction<'_>, rusqlite::Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
    tx.execute("DELETE FROM main.settings WHERE 0", [])?;
    Ok(tx)
}

/// The store's own record of which index is valid for it: (`text_index_store`, `text_index_epoch`).
fn store_identity(conn: &Connection, schema: &str) -> Result<(String, String), rusqlite::Error> {
    let get = |key| setting(conn, &format!("{schema}.settings"), key);
    Ok((get("text_index_store")?, get("text_index_epoch")?))
}

/// The index's `meta` as (store, epoch, word format).
fn index_identity(
    conn: &Connection,
    schema: &str,
) -> Result<(String, String, String), rusqlite::Error> {
    let get = |key| setting(conn, &format!("{schema}.meta"), key);
    Ok((get("store")?, get("epoch")?, get("format")?))
}

/// The `value` of `key` in a key-value table (empty when there is none).
fn setting(conn: &Connection, table: &str, key: &str) -> Result<String, rusqlite::Error> {
    conn.query_row(
        &format!("SELECT value FROM {table} WHERE key = ?1"),
        [key],
        |r| r.get(0),
    )
    .optional()
    .map(Option::unwrap_or_default)
}

/// Makes an empty index as the catch-up does, with its settings (for `check` to compare a store's index with).
pub fn create_fresh(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.execute_batch(CREATE)?;
    conn.execute(AUTOMERGE, [])?;
    Ok(())
}

/// FTS5 merges 16 segments of a level at a time instead of 4: each word is rewritten about half as often while
/// indexing, and a word is looked up in at most 15 segments per level.
const AUTOMERGE: &str = "INSERT INTO events_text (events_text, rank) VALUES ('automerge', 16)";

/// Whether the index attached to a store connection is the store's current one.
pub fn is_current(conn: &Connection) -> Result<bool, rusqlite::Error> {
    valid(conn)
}

/// What the index records of each archive it holds, as SQL over the store's `archives` aliased `a`: its root, when
/// and from where it was imported, and whose rules made its fields. A store put back from an older copy (whose
/// archive ids a later import reuses) or an archive re-normalized since no longer matches.
const FINGERPRINT: &str = "coalesce(hex(a.root), '') || '|' || a.imported_at || '|' || a.path || '|' || coalesce(a.normalization, '')";

/// Whether the attached index is this store's current one: its store, epoch and word format, and every archive it
/// holds still in the store as it was indexed. Otherwise nothing in it is believed (and the catch-up rebuilds it).
fn valid(conn: &Connection) -> Result<bool, rusqlite::Error> {
    let (store, epoch) = store_identity(conn, "main")?;
    // An index file of another layout (another version, or edited) is simply not this store's current one.
    let Ok((i_store, i_epoch, format)) = index_identity(conn, SCHEMA) else {
        return Ok(false);
    };
    if store.is_empty() || store != i_store || epoch != i_epoch || format != WORD_FORMAT {
        return Ok(false);
    }
    Ok(conn
        .query_row(
            &format!(
                "SELECT NOT EXISTS (SELECT 1 FROM {SCHEMA}.indexed i WHERE NOT EXISTS
                   (SELECT 1 FROM archives a WHERE a.id = i.archive_id AND {FINGERPRINT} = i.fingerprint))"
            ),
            [],
            |r| r.get(0),
        )
        .unwrap_or(false))
}

/// Creates the connection's `temp.text_done`: the archives whose text the attached index holds, as of the last
/// [`refresh`]. The compiled SQL (query/compile.rs) asks the index only about events of those archives and reads
/// every other event, so a list that is out of date is slower, never wrong.
pub fn create_done_table(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.execute_batch("CREATE TEMP TABLE IF NOT EXISTS text_done (archive_id INTEGER PRIMARY KEY)")
}

/// Brings `temp.text_done` up to date and says whether every stored event's archive is in it (the search can
/// then be driven by the index alone).
pub fn refresh(conn: &Connection) -> Result<bool, rusqlite::Error> {
    conn.execute("DELETE FROM temp.text_done", [])?;
    if !valid(conn)? {
        return Ok(!conn.query_row("SELECT EXISTS (SELECT 1 FROM events)", [], |r| r.get(0))?);
    }
    conn.execute(
        &format!("INSERT INTO temp.text_done SELECT archive_id FROM {SCHEMA}.indexed"),
        [],
    )?;
    let behind: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM archives a WHERE a.id NOT IN temp.text_done
                        AND EXISTS (SELECT 1 FROM events e WHERE e.archive_id = a.id))",
        [],
        |r| r.get(0),
    )?;
    Ok(!behind)
}

/// The index's own table of its rows' ids (`events_text_docsize`: an id and a few bytes per event, in id order),
/// when the index is current and holds every stored event: a walk to the event at a position of all of them
/// (a scrollbar dragged into the results of an empty query) reads it instead of the events' rows with their bytes
/// (500,000 ids: about 5 ms instead of 240 ms). `None`: the index lags or is not this store's.
pub fn ids_table(conn: &Connection) -> Result<Option<String>, rusqlite::Error> {
    Ok((valid(conn)? && refresh(conn)?).then(|| format!("{SCHEMA}.events_text_docsize")))
}

/// How far the index has got, on a store connection (refreshes `temp.text_done`).
pub fn status(conn: &Connection) -> Result<TextIndexStatus, rusqlite::Error> {
    refresh(conn)?;
    // Read once a second by the app while the index lags: the indexed events are the index's own counts, and only
    // the archives not indexed are counted in the store (each through its index on `archive_id`), never a scan of
    // every event.
    let indexed: i64 = conn.query_row(
        &format!(
            "SELECT coalesce(sum(events), 0) FROM {SCHEMA}.indexed WHERE archive_id IN temp.text_done"
        ),
        [],
        |r| r.get(0),
    )?;
    let pending: Vec<i64> = conn
        .prepare_cached(
            "SELECT count(*) FROM archives a CROSS JOIN events e ON e.archive_id = a.id
             WHERE a.id NOT IN temp.text_done GROUP BY a.id",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(TextIndexStatus {
        indexed_events: indexed as u64,
        pending_events: pending.iter().sum::<i64>() as u64,
        pending_archives: pending.len() as u64,
    })
}

/// Opens the index of the store at `db` for writing (creating it).
fn open_index(db: &Path) -> Result<Connection, rusqlite::Error> {
    let mut conn = Connection::open(path_of(db))?;
    conn.busy_timeout(std::time::Duration::from_secs(60))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -32768)?;
    // An index of another word format or layout (another version, or edited) is emptied: it is rebuilt. In one
    // transaction: the store's connections read `indexed` and `meta` meanwhile and must never find them missing.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let format: Option<String> = tx
        .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
            r.get(0)
        })
        .optional()
        .unwrap_or(None);
    if format.as_deref() != Some(WORD_FORMAT) {
        tx.execute_batch(
            "DROP TABLE IF EXISTS events_text; DROP TABLE IF EXISTS indexed; DROP TABLE IF EXISTS meta;
             DROP TABLE IF EXISTS vocabulary;",
        )?;
    }
    // The index file makes no trigger or view: one there was put by whoever edited the file (a trigger that
    // deletes an event's words when the next archive is indexed, left in an index `check` does not read while it
    // is stale). Each goes before anything is written.
    let foreign: Vec<(String, String)> = tx
        .prepare("SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'view')")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (kind, name) in foreign {
        let kind = if kind == "view" { "VIEW" } else { "TRIGGER" };
        tx.execute_batch(&format!(
            "DROP {kind} IF EXISTS \"{}\"",
            name.replace('"', "\"\"")
        ))?;
    }
    tx.execute_batch(CREATE)?;
    tx.commit()?;
    // Waits for the write lock a second at a time (lock_index), checking whether to stop in between.
    conn.busy_timeout(std::time::Duration::from_secs(1))?;
    Ok(conn)
}

/// A write transaction on the index file, rolled back when dropped uncommitted.
struct IndexTx<'c> {
    conn: &'c Connection,
    open: bool,
}

impl IndexTx<'_> {
    fn commit(mut self) -> Result<(), rusqlite::Error> {
        self.conn.execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }
}

impl std::ops::Deref for IndexTx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for IndexTx<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Takes the index file's write lock, waiting as long as another writer holds it (another catch-up indexing an
/// archive), unless `stop` is set meanwhile.
fn lock_index<'c>(
    index: &'c Connection,
    stop: &AtomicBool,
) -> Result<IndexTx<'c>, rusqlite::Error> {
    loop {
        match index.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => {
                return Ok(IndexTx {
                    conn: index,
                    open: true,
                });
            }
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && !stop.load(Ordering::Relaxed) => {
            }
            Err(e) => return Err(e),
        }
    }
}

/// The most bytes of words and members a batch's [`Vocabulary`] keeps: past them it is not `whole` (the archive's
/// events are then read for a `json.M:*run*` pattern, as without a vocabulary). A batch of real events holds a few
/// hundred kilobytes of distinct words (about 1 MB for 16,384 benchmark events); an event of one 16 MiB word is
/// not copied again.
const MAX_VOCABULARY_BYTES: usize = 4 << 20;

/// What a batch of an archive's events holds, kept beside their text in the index's `vocabulary` (one row per
/// batch, with the archive indexes of its first and last event: a batch is a run of the archive's events in
/// order): the distinct words of their indexed text, as FTS5's `ascii` tokenizer reads it, each on a line; and
/// the distinct member paths whose value is an object, an array, `true` or `false`
/// ([`crate::text::for_each_shaped_member`]), each on a line. A `json.M:*run*` pattern is answered from them
/// (store/resolve.rs): the words that hold the run are looked up in the index, for the archives where `M` is never
/// such a value.
pub(crate) struct Vocabulary {
    words: HashSet<String, foldhash::fast::RandomState>,
    shaped: HashSet<String, foldhash::fast::RandomState>,
    /// Every object key, ASCII lower-cased (split at line breaks).
    names: HashSet<String, foldhash::fast::RandomState>,
    /// Whether an event holds a `\` before an ASCII letter or digit (`\n`, `\u0041`: an escape whose text has
    /// letters or digits the decoded string has not).
    escapes: bool,
    bytes: usize,
    whole: bool,
    /// An event's key names, a line each, lower-cased: kept between events for its buffer.
    event_names: String,
}

/// A batch's vocabulary as stored: whether it is whole, its words, its shaped members, its key names (each a line
/// of a blob; all empty when not whole), and whether its events hold an escape with a letter or digit.
pub(crate) struct VocabularyRow {
    pub(crate) whole: bool,
    pub(crate) words: Vec<u8>,
    pub(crate) shaped: Vec<u8>,
    pub(crate) names: Vec<u8>,
    pub(crate) escapes: bool,
}

impl Default for Vocabulary {
    fn default() -> Vocabulary {
        Vocabulary {
            words: HashSet::default(),
            shaped: HashSet::default(),
            names: HashSet::default(),
            escapes: false,
            bytes: 0,
            whole: true,
            event_names: String::new(),
        }
    }
}

impl Vocabulary {
    /// The vocabulary of a batch of events (their ids and bytes).
    pub(crate) fn of(batch: &[(i64, String)]) -> Vocabulary {
        let mut vocabulary = Vocabulary::default();
        for (_, raw) in batch {
            vocabulary.add(raw);
        }
        vocabulary
    }

    /// Adds an event's words (those of its [`crate::text::indexed_text`], read as FTS5 reads that text) and members.
    pub(crate) fn add(&mut self, raw: &str) {
        let Vocabulary {
            words,
            shaped,
            names,
            escapes,
            bytes,
            whole,
            event_names,
        } = self;
        let raw_bytes = raw.as_bytes();
        *escapes |= memchr::memchr_iter(b'\\', raw_bytes)
            .any(|at| raw_bytes.get(at + 1).is_some_and(u8::is_ascii_alphanumeric));
        let mut keep = |set: &mut HashSet<String, _>, item: &str| {
            if *whole && !item.is_empty() && !set.contains(item) {
                *bytes += item.len() + 1;
                if *bytes > MAX_VOCABULARY_BYTES {
                    *whole = false;
                } else {
                    set.insert(item.to_owned());
                }
            }
        };
        crate::text::for_each_value(raw, |value| {
            crate::text::for_each_word(value, |word| {
                for part in word.split(is_separator) {
                    keep(words, part);
                }
            })
        });
        // The event's key names, lower-cased, a line each (a name holding a line break counts as its lines: a run
        // of letters and digits it holds is in one of them).
        event_names.clear();
        let named_all = crate::text::for_each_member(
            raw,
            |key| keep(shaped, key),
            |name| {
                event_names.push_str(name);
                event_names.push('\n');
            },
        );
        event_names.make_ascii_lowercase();
        for name in event_names.split('\n') {
            keep(names, name);
        }
        // Members too deep to name (or their paths too long): the batch's events are read for a pattern.
        *whole &= named_all;
        if !*whole {
            *words = HashSet::default();
            *shaped = HashSet::default();
            *names = HashSet::default();
        }
    }

    /// The row to store: the member paths as [`crate::text::joined_key`]s and the names as JSON strings (one line
    /// whatever they hold).
    pub(crate) fn into_row(self) -> VocabularyRow {
        let lines = |set: HashSet<String, _>, as_json: bool| {
            let mut blob = Vec::new();
            for item in set {
                if as_json {
                    blob.extend_from_slice(crate::text::joined_key(&item).as_bytes());
                } else {
                    blob.extend_from_slice(item.as_bytes());
                }
                blob.push(b'\n');
            }
            blob
        };
        VocabularyRow {
            whole: self.whole,
            words: lines(self.words, false),
            shaped: lines(self.shaped, true),
            names: lines(self.names, true),
            escapes: self.escapes,
        }
    }

    /// The lines of a blob [`Vocabulary::into_row`] wrote.
    pub(crate) fn lines(blob: &[u8]) -> impl Iterator<Item = &[u8]> {
        blob.split(|b| *b == b'\n').filter(|l| !l.is_empty())
    }
}

/// Where FTS5's `ascii` tokenizer ends a word: at an ASCII character that is not a letter or digit (every other
/// character, and every byte of one that is not ASCII, is part of a word).
pub(crate) fn is_separator(c: char) -> bool {
    c.is_ascii() && !c.is_ascii_alphanumeric()
}

/// A batch of an archive's events ready for the index: their ids (ascending) with their indexed words, one
/// buffer for all, and the batch's vocabulary row with the archive indexes of its first and last event (`None`
/// for an empty batch: no row).
struct PreparedBatch {
    ids: Vec<i64>,
    words: String,
    /// Where each event's words end in `words`.
    ends: Vec<usize>,
    vocabulary: Option<(i64, i64, VocabularyRow)>,
}

impl PreparedBatch {
    /// The words and vocabulary of a batch read from the store (sorted by id), with its first and last index.
    fn of(events: Vec<(i64, String)>, indexes: Option<(i64, i64)>) -> PreparedBatch {
        let vocabulary =
            indexes.map(|(first, last)| (first, last, Vocabulary::of(&events).into_row()));
        let mut words = String::new();
        let mut ids = Vec::with_capacity(events.len());
        let mut ends = Vec::with_capacity(events.len());
        for (id, raw) in &events {
            append_indexed_text(raw, &mut words);
            ids.push(*id);
            ends.push(words.len());
        }
        PreparedBatch {
            ids,
            words,
            ends,
            vocabulary,
        }
    }

    /// Adds the batch to the index and its vocabulary row; the number of events added.
    fn add(
        self,
        insert: &mut rusqlite::CachedStatement<'_>,
        add_vocabulary: &mut rusqlite::CachedStatement<'_>,
        archive_id: i64,
    ) -> Result<u64, rusqlite::Error> {
        let mut start = 0;
        for (id, end) in self.ids.iter().zip(&self.ends) {
            insert.execute(params![id, &self.words[start..*end]])?;
            start = *end;
        }
        if let Some((first, last, v)) = self.vocabulary {
            add_vocabulary.execute(params![
                archive_id, first, last, v.whole, v.words, v.shaped, v.names, v.escapes
            ])?;
        }
        Ok(self.ids.len() as u64)
    }
}

/// Indexes every stored archive the index lacks, one transaction per archive, oldest archive first; rebuilds the
/// index first when it is not this store's current one. Returns early (what was committed stays) when `stop` is
/// set. `progress` is told how far it has got after each batch.
pub fn catch_up(
    db: &Path,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(&TextIndexStatus),
) -> Result<(), rusqlite::Error> {
    let store = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    store.busy_timeout(std::time::Duration::from_secs(60))?;
    let index = open_index(db)?;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        // The store's identity and the archives to index, from one snapshot of it.
        store.execute_batch("BEGIN")?;
        let (store_id, epoch) = store_identity(&store, "main")?;
        let archives: Vec<(i64, i64)> = store
            .prepare_cached(
                "SELECT archive_id, count(*) FROM events GROUP BY archive_id ORDER BY archive_id",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let fingerprints: std::collections::HashMap<i64, String> = store
            .prepare_cached(&format!("SELECT a.id, {FINGERPRINT} FROM archives a"))?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let tx = lock_index(&index, stop)?;
        let (i_store, i_epoch, format) = index_identity(&tx, "main")?;
        let stale = tx
            .prepare("SELECT archive_id, fingerprint FROM indexed")?
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?
            .iter()
            .any(|(id, fp)| fingerprints.get(id) != Some(fp));
        if stale || i_store != store_id || i_epoch != epoch || format != WORD_FORMAT {
            tx.execute_batch(
                "DROP TABLE IF EXISTS events_text; DELETE FROM indexed; DELETE FROM meta; DELETE FROM vocabulary;",
            )?;
            create_fresh(&tx)?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('store', ?1), ('epoch', ?2), ('format', ?3)",
                params![store_id, epoch, WORD_FORMAT],
            )?;
        }
        let done: std::collections::HashSet<i64> = tx
            .prepare("SELECT archive_id FROM indexed")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let Some(&(archive_id, _)) = archives.iter().find(|(id, _)| !done.contains(id)) else {
            tx.commit()?;
            store.execute_batch("COMMIT")?;
            let indexed = archives.iter().map(|(_, n)| *n as u64).sum();
            progress(&TextIndexStatus {
                indexed_events: indexed,
                pending_events: 0,
                pending_archives: 0,
            });
            return Ok(());
        };
        let mut status = TextIndexStatus::default();
        for (id, n) in &archives {
            if done.contains(id) {
                status.indexed_events += *n as u64;
            } else {
                status.pending_events += *n as u64;
                status.pending_archives += 1;
            }
        }
        // In the archive's order (its index on (archive_id, idx)): each batch is a run of indexes, which `check`
        // reads again to compare the batch's vocabulary.
        let mut stmt = store
            .prepare_cached("SELECT id, raw, idx FROM events WHERE archive_id = ?1 ORDER BY idx")?;
        let mut rows = stmt.query([archive_id])?;
        let mut insert =
            tx.prepare_cached("INSERT INTO events_text (rowid, words) VALUES (?1, ?2)")?;
        let mut add_vocabulary = tx.prepare_cached(
            "INSERT INTO vocabulary (archive_id, first_idx, last_idx, whole, words, shaped, names, escapes) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        let mut batch: Vec<(i64, String)> = Vec::with_capacity(BATCH_EVENTS);
        let (mut bytes, mut events) = (0usize, 0i64);
        // The archive indexes of the batch's first and last event.
        let mut indexes: Option<(i64, i64)> = None;
        // The batch read before, prepared, waiting to go into the index.
        let mut ready: Option<PreparedBatch> = None;
        loop {
            let row = rows.next()?;
            if let Some(r) = row {
                let raw = match r.get_ref(1)? {
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    _ => String::new(),
                };
                let idx: i64 = r.get(2)?;
                indexes = Some((indexes.map_or(idx, |(first, _)| first), idx));
                bytes += raw.len();
                batch.push((r.get(0)?, raw));
                events += 1;
                if batch.len() < BATCH_EVENTS && bytes < BATCH_BYTES {
                    continue;
                }
            }
            batch.sort_unstable_by_key(|(id, _)| *id);
            let read = (
                std::mem::replace(&mut batch, Vec::with_capacity(BATCH_EVENTS)),
                indexes.take(),
            );
            bytes = 0;
            // This batch's words and vocabulary on a thread of their own while the batch before goes into the
            // index (FTS5's inserts are the indexing thread's bottleneck).
            let (prepared, added) = std::thread::scope(|scope| {
                let helper = scope.spawn(|| PreparedBatch::of(read.0, read.1));
                let added = ready
                    .take()
                    .map(|p| p.add(&mut insert, &mut add_vocabulary, archive_id))
                    .transpose();
                let prepared = helper
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e));
                (prepared, added)
            });
            ready = Some(prepared);
            if let Some(n) = added? {
                status.indexed_events += n;
                status.pending_events = status.pending_events.saturating_sub(n);
                progress(&status);
            }
            if stop.load(Ordering::Relaxed) {
                // Rolled back: the archive is indexed again next time.
                return Ok(());
            }
            if row.is_none() {
                break;
            }
        }
        if let Some(p) = ready.take() {
            let n = p.add(&mut insert, &mut add_vocabulary, archive_id)?;
            status.indexed_events += n;
            status.pending_events = status.pending_events.saturating_sub(n);
            progress(&status);
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
        }
        drop(insert);
        drop(add_vocabulary);
        drop(rows);
        drop(stmt);
        store.execute_batch("COMMIT")?;
        tx.execute(
            "INSERT INTO indexed (archive_id, events, fingerprint) VALUES (?1, ?2, ?3)",
            params![archive_id, events, fingerprints.get(&archive_id)],
        )?;
        tx.commit()?;
    }
}

/// An archive whose events were replaced under new ids in a store transaction (renormalize.rs): the ids they had,
/// and the store's epoch before and after (moved in that transaction by `Replaced::record`).
pub struct Replaced {
    archive_id: i64,
    old_ids: Vec<i64>,
    from_epoch: String,
    to_epoch: String,
}

impl Replaced {
    /// Moves the store's epoch in the transaction that replaced the events: from its commit on, the index of the
    /// old events is not believed.
    pub(crate) fn record(
        tx: &rusqlite::Transaction<'_>,
        archive_id: i64,
        old_ids: Vec<i64>,
    ) -> Result<Replaced, rusqlite::Error> {
        let epoch = || -> Result<String, rusqlite::Error> {
            tx.query_row(
                "SELECT value FROM settings WHERE key = 'text_index_epoch'",
                [],
                |r| r.get(0),
            )
        };
        let from_epoch = epoch()?;
        tx.execute(
            "UPDATE settings SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'text_index_epoch'",
            [],
        )?;
        Ok(Replaced {
            archive_id,
            old_ids,
            from_epoch,
            to_epoch: epoch()?,
        })
    }
}

/// After the transaction of a [`Replaced`] committed: the old ids' rows leave the index, the archive is no longer
/// counted as indexed, and the index takes the new epoch, in one transaction. If this never runs (a crash in
/// between), the epochs differ and the index is rebuilt: it is never believed for the replaced events.
pub fn forget_archive(db: &Path, r: &Replaced) -> Result<(), rusqlite::Error> {
    let index = open_index(db)?;
    let tx = lock_index(&index, &AtomicBool::new(false))?;
    let (_, i_epoch, _) = index_identity(&tx, "main")?;
    if i_epoch != r.from_epoch {
        // Not the index of the events just replaced: the catch-up rebuilds it.
        return Ok(());
    }
    {
        let mut delete = tx.prepare("DELETE FROM events_text WHERE rowid = ?1")?;
        for id in &r.old_ids {
            delete.execute([id])?;
        }
    }
    tx.execute("DELETE FROM indexed WHERE archive_id = ?1", [r.archive_id])?;
    tx.execute(
        "DELETE FROM vocabulary WHERE archive_id = ?1",
        [r.archive_id],
    )?;
    tx.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'epoch'",
        [&r.to_epoch],
    )?;
    tx.commit()
}

/// A thread of its own that keeps the index of one store caught up: woken after each import commits, it
/// indexes what the store holds that the index lacks, concurrently with the next import.
pub(crate) struct Indexer {
    shared: Arc<(Mutex<IndexerState>, Condvar)>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct IndexerState {
    asked: u64,
    done: u64,
    status: TextIndexStatus,
    error: Option<String>,
    quit: bool,
}

impl Indexer {
    pub(crate) fn start(db: &Path) -> Indexer {
        let shared = Arc::new((Mutex::new(IndexerState::default()), Condvar::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (shared2, stop2, db) = (shared.clone(), stop.clone(), db.to_path_buf());
        let thread = std::thread::spawn(move || {
            let (lock, cv) = &*shared2;
            loop {
                let asked = {
                    let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
                    while s.asked == s.done && !s.quit {
                        s = cv.wait(s).unwrap_or_else(|e| e.into_inner());
                    }
                    if s.quit {
                        return;
                    }
                    s.asked
                };
                let result = catch_up(&db, &stop2, &mut |st| {
                    lock.lock().unwrap_or_else(|e| e.into_inner()).status = st.clone();
                    cv.notify_all();
                });
                let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
                s.error = result.err().map(|e| e.to_string());
                s.done = asked;
                cv.notify_all();
            }
        });
        Indexer {
            shared,
            stop,
            thread: Some(thread),
        }
    }

    /// Asks the thread to catch up with what the store holds now.
    pub(crate) fn wake(&self) -> u64 {
        let (lock, cv) = &*self.shared;
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        s.asked += 1;
        cv.notify_all();
        s.asked
    }

    /// Waits until the thread has caught up with what the store held when this was called; `progress` is told
    /// how far it has got meanwhile.
    pub(crate) fn wait(&self, progress: &mut dyn FnMut(&TextIndexStatus)) -> Result<(), String> {
        let ticket = self.wake();
        let (lock, cv) = &*self.shared;
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        while s.done < ticket {
            s = cv.wait(s).unwrap_or_else(|e| e.into_inner());
            progress(&s.status);
        }
        match s.error.clone() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        {
            let (lock, cv) = &*self.shared;
            lock.lock().unwrap_or_else(|e| e.into_inner()).quit = true;
            cv.notify_all();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// Opening the index for writing resets an index of another format while store connections read it: they must
    /// never find its tables missing (stop 21's CI failed on that window, between a DROP and a CREATE).
    #[test]
    fn a_reset_of_the_index_is_never_seen_half_done() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("store.db");
        let store = Store::open(&db).unwrap();
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for _ in 0..300 {
                    // Without a `format` row, every opening resets the index.
                    drop(open_index(&db).unwrap());
                }
                stop.store(true, Ordering::Relaxed);
            });
            let mut reads = 0;
            while !stop.load(Ordering::Relaxed) {
                status(store.connection()).expect("the index's tables are always there");
                reads += 1;
            }
            assert!(reads > 0);
        });
    }
}
