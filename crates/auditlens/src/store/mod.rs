//! The local evidence store: one SQLite file holding every imported archive (its signed checkpoint, manifest,
//! signer and verification result) and every event (exact bytes, leaf hash, index, normalized columns, full-text
//! index). Import is atomic per archive ([`import`]); [`check`] re-verifies the whole file from the stored bytes;
//! [`search`] runs the query language of docs/search.md with keyset paging; [`stats`] counts requests for the
//! dashboards and `auditlens stats`, each figure with the search that reproduces it.
//!
//! Journal mode: WAL, so the app reads while an import runs (readers never wait for the writer). One
//! transaction per archive: a crash leaves the archive wholly out, never half in. A store that imports copies
//! committed archives from the WAL into the database file on a thread of its own (`Checkpointer`), while the next
//! archive imports; the rollback journal would import about 12% faster but lock readers out.

pub mod check;
pub mod confirm;
pub mod coverage;
pub mod hints;
pub mod histogram;
pub mod import;
pub mod incidents;
pub mod renormalize;
pub mod resolve;
pub mod rowid;
pub mod schema;
pub mod search;
pub mod sorted;
pub mod stats;
pub mod text_index;

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Serialize;

pub use schema::SchemaError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("opening database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Invalid(String),
}

/// An open store.
pub struct Store {
    pub(crate) conn: Connection,
    /// The database file (read-write stores), for the checkpointing thread's own connection.
    path: Option<std::path::PathBuf>,
    /// Started by the first import: copies committed archives from the WAL into the database file.
    checkpointer: Option<Checkpointer>,
    /// Started by the first import or [`Store::index_text`]: keeps the full-text index caught up.
    indexer: Option<text_index::Indexer>,
}

/// A thread with its own connection that checkpoints the WAL (`PRAGMA wal_checkpoint(PASSIVE)`) when asked, so
/// that copying one imported archive into the database file overlaps the import of the next instead of delaying
/// the commit. PASSIVE never waits for readers or writers; what it cannot copy yet it copies next time, and SQLite
/// copies the rest when the last connection closes.
struct Checkpointer {
    wake: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    fn start(path: &Path) -> Result<Checkpointer, rusqlite::Error> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let (wake, asked) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            while asked.recv().is_ok() {
                while asked.try_recv().is_ok() {}
                // A failure (busy, I/O) leaves the frames in the WAL, where readers find them; the next
                // checkpoint or the last close copies them.
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        });
        Ok(Checkpointer { wake, thread })
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // Stopped mid-archive, the indexer rolls that archive back; the next catch-up indexes it again.
        self.indexer = None;
        if let Some(c) = self.checkpointer.take() {
            drop(c.wake);
            let _ = c.thread.join();
        }
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store::open_upgrading(path)?.0)
    }

    /// [`Store::open`], saying what it did to a store from an older AuditLens: before the first migration the
    /// file is copied to `<db>.backup-v<N>` ([`schema::back_up`]). A store from a newer AuditLens is refused
    /// before anything is written to it (not even the journal mode).
    pub fn open_upgrading(path: &Path) -> Result<(Store, Option<schema::Upgrade>), StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(open_err)?;
        let found = schema::version(&conn)?;
        if found > schema::CURRENT_VERSION {
            return Err(SchemaError::TooNew {
                found,
                known: schema::CURRENT_VERSION,
            }
            .into());
        }
        let upgrade = if found > 0 && found < schema::CURRENT_VERSION {
            Some(schema::Upgrade {
                from: found,
                to: schema::CURRENT_VERSION,
                backup: schema::back_up(&conn, path, found)?,
            })
        } else {
            None
        };
        configure(&conn).map_err(open_err)?;
        schema::migrate_to(&mut conn, schema::CURRENT_VERSION)?;
        schema::record_software(&conn, found)?;
        text_index::register_functions(&conn)?;
        crate::query::register_functions(&conn)?;
        text_index::attach(&conn, path, false)?;
        crate::papers::attach(&conn, Some(path), false)?;
        Ok((
            Store {
                conn,
                path: Some(path.to_path_buf()),
                checkpointer: None,
                indexer: None,
            },
            upgrade,
        ))
    }

    /// Appends an entry to the auditor's action log (the working papers next to this store, [`crate::papers`]).
    /// A store opened read-only has no path to log to: the caller logs through [`crate::papers::Papers`].
    pub fn log_action(&self, action: &str, subject: &str, detail: &str) -> Result<(), StoreError> {
        let Some(path) = &self.path else {
            return Err(StoreError::Invalid(
                "a store opened read-only cannot log an action".into(),
            ));
        };
        crate::papers::Papers::open(path)
            .and_then(|mut p| p.log_action(action, subject, detail))
            .map(|_| ())
            .map_err(|e| StoreError::Invalid(format!("the action log: {e}")))
    }

    /// The AuditLens versions that opened this store for writing: (version, first opened, schema version found).
    pub fn software(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT version, first_opened, schema_found FROM software ORDER BY rowid")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Opens an existing database read-only (no migration; refused if its schema is not current).
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(open_err)?;
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)
            .map_err(open_err)?;
        let v = schema::version(&conn)?;
        if v != schema::CURRENT_VERSION {
            return Err(StoreError::Invalid(format!(
                "database schema version {v}; this AuditLens expects {} (open it read-write once to migrate)",
                schema::CURRENT_VERSION
            )));
        }
        text_index::register_functions(&conn)?;
        crate::query::register_functions(&conn)?;
        text_index::attach(&conn, path, true)?;
        crate::papers::attach(&conn, Some(path), true)?;
        Ok(Store {
            conn,
            path: None,
            checkpointer: None,
            indexer: None,
        })
    }

    /// Called before an import commits: from then on this connection leaves checkpoints to the checkpointing
    /// thread (started here), which [`Store::checkpoint_soon`] wakes. Without the thread, the commit checkpoints.
    pub(crate) fn hand_over_checkpoints(&mut self) {
        if self.checkpointer.is_some() {
            return;
        }
        let Some(path) = &self.path else { return };
        if let Ok(c) = Checkpointer::start(path)
            && self
                .conn
                .pragma_update(None, "wal_autocheckpoint", 0)
                .is_ok()
        {
            self.checkpointer = Some(c);
        }
    }

    /// Asks the checkpointing thread, if any, to copy what has been committed into the database file.
    pub(crate) fn checkpoint_soon(&self) {
        if let Some(c) = &self.checkpointer {
            let _ = c.wake.send(());
        }
    }

    /// Asks the indexing thread (started here) to index the text of every stored archive it lacks, in the
    /// background. Does nothing on a read-only store.
    pub fn index_text(&mut self) {
        let Some(path) = &self.path else { return };
        self.indexer
            .get_or_insert_with(|| text_index::Indexer::start(path))
            .wake();
    }

    /// Indexes the text of every stored archive the index lacks and returns when it is done (`auditlens import`
    /// returns only then); `progress` is told how far it has got.
    pub fn finish_text_index(
        &mut self,
        progress: &mut dyn FnMut(&text_index::TextIndexStatus),
    ) -> Result<(), StoreError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        self.indexer
            .get_or_insert_with(|| text_index::Indexer::start(path))
            .wait(progress)
            .map_err(|e| StoreError::Invalid(format!("indexing the text of the events: {e}")))
    }

    /// How far the full-text index has got.
    pub fn text_index_status(&self) -> Result<text_index::TextIndexStatus, StoreError> {
        Ok(text_index::status(&self.conn)?)
    }

    /// Lets this connection read the database file through a memory map (up to SQLite's compiled limit of
    /// 2 GiB) instead of copying each page into its cache: dashboards and searches that look up many rows by
    /// id are about a quarter faster on a large store. For connections that read: the importer's writes go
    /// through the page cache and the journal as before.
    pub fn map_for_reading(&self) -> Result<(), rusqlite::Error> {
        self.conn.pragma_update(None, "mmap_size", MMAP_BYTES)
    }

    /// The underlying connection, for tests and tools that inspect the file.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The stored events of an archive that parse but have no time, with the first of them and why; `None` when
    /// every one has a time, or the archive's events are not stored.
    pub fn untimed_events(
        &self,
        archive_id: i64,
    ) -> Result<Option<import::UntimedEvents>, StoreError> {
        type Row = (
            Option<i64>,
            i64,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<Vec<u8>>,
        );
        let row: Option<Row> = self
            .conn
            .query_row(
                "SELECT untimed, events, parse_errors, normalization, source_kind, mapping
                 FROM archives WHERE id = ?1",
                [archive_id],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((Some(count @ 1..), events, parse_errors, column, kind, mapping)) = row else {
            return Ok(None);
        };
        let first: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT idx, raw FROM events
                 WHERE archive_id = ?1 AND ts IS NULL AND parse_error IS NULL ORDER BY idx LIMIT 1",
                [archive_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        // The rules that normalized the archive: its signed ones, under the version or choice the store records.
        let normalizer = kind
            .as_deref()
            .and_then(|k| crate::sources::Normalizer::for_archive(k, mapping.as_deref()).ok())
            .map(|n| {
                match renormalize::normalization_of(
                    column.as_deref(),
                    kind.as_deref(),
                    mapping.as_deref(),
                ) {
                    Some(rules) => n.under(&rules),
                    None => n,
                }
            });
        let why = first
            .as_ref()
            .and_then(|(_, raw)| normalizer?.why_untimed(raw.as_bytes()));
        Ok(Some(import::UntimedEvents {
            count: count as u64,
            of: (events - parse_errors.unwrap_or(0)).max(0) as u64,
            first_index: first.map(|(i, _)| i as u64),
            why,
        }))
    }

    /// Every archive in the store, by origin and sequence, with continuity flags.
    pub fn archives(&self) -> Result<Vec<ArchiveRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, path, status, failure, origin, sequence, source_kind, events, bytes, time_first, time_last,
                    signer_key, signer_name, signer_fingerprint, imported_at, chain_start, chain_end,
                    normalization, mapping, untimed, received_at, evidence
             FROM archives ORDER BY origin, sequence, id",
        )?;
        let mut rows: Vec<ArchiveWithChain> = stmt
            .query_map([], |r| {
                Ok((
                    ArchiveRow {
                        id: r.get(0)?,
                        path: r.get(1)?,
                        status: r.get(2)?,
                        failure: r.get(3)?,
                        origin: r.get(4)?,
                        sequence: r.get(5)?,
                        source_kind: r.get(6)?,
                        events: r.get(7)?,
                        bytes: r.get(8)?,
                        time_first: r.get::<_, Option<i64>>(9)?.map(crate::time::format_utc),
                        time_last: r.get::<_, Option<i64>>(10)?.map(crate::time::format_utc),
                        signer_key: r.get(11)?,
                        signer_name: r.get(12)?,
                        signer_fingerprint: r.get(13)?,
                        imported_at: r.get(14)?,
                        gap_before: None,
                        normalization: renormalize::normalization_of(
                            r.get::<_, Option<String>>(17)?.as_deref(),
                            r.get::<_, Option<String>>(6)?.as_deref(),
                            r.get::<_, Option<Vec<u8>>>(18)?.as_deref(),
                        ),
                        signer_change_from: None,
                        untimed: r.get::<_, Option<i64>>(19)?.map(|n| n.max(0) as u64),
                        received_label: None,
                        received_at: r.get(20)?,
                        evidence: r.get(21)?,
                        evidence_label: None,
                        not_trusted_now: None,
                        cloudtrail_hours: None,
                    },
                    r.get(15)?,
                    r.get(16)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        // Gaps: a stored (non-failed) archive whose predecessor sequence is not stored, above the first one.
        let mut prev: Option<(Option<String>, u64)> = None;
        for (row, _, _) in rows.iter_mut().filter(|(r, _, _)| r.status != "failed") {
            if let (Some((Some(origin), seq)), Some(this)) = (&prev, row.sequence)
                && row.origin.as_ref() == Some(origin)
                && this > seq + 1
            {
                row.gap_before = Some(this);
            }
            prev = row.sequence.map(|s| (row.origin.clone(), s));
        }
        // Signer changes: a verified archive signed by another key than the previous verified archive of its origin
        // (docs/trust-policy.md: a change of signer inside an origin is always reported).
        let mut prev: Option<(Option<String>, Option<String>, String)> = None;
        for (row, _, _) in rows.iter_mut().filter(|(r, _, _)| r.status == "verified") {
            if let Some((origin, key, who)) = &prev
                && *origin == row.origin
                && *key != row.signer_key
            {
                row.signer_change_from = Some(who.clone());
            }
            prev = Some((
                row.origin.clone(),
                row.signer_key.clone(),
                format!(
                    "{} ({})",
                    row.signer_name.as_deref().unwrap_or("?"),
                    row.signer_fingerprint.as_deref().unwrap_or("?")
                ),
            ));
        }
        let mut hours = self.cloudtrail_hours()?;
        Ok(rows
            .into_iter()
            .map(|(mut r, _, _)| {
                r.received_label =
                    received_label(&r.signer_name, &r.signer_fingerprint, &r.received_at);
                // The label is a claim of verification: only for an archive stored as verified.
                if r.evidence.as_deref() == Some(import::CLOUDTRAIL_EVIDENCE)
                    && r.status == "verified"
                {
                    r.evidence_label = Some(import::cloudtrail_label(
                        r.signer_fingerprint.as_deref().unwrap_or("?"),
                    ));
                    r.cloudtrail_hours = hours.remove(&r.id);
                }
                r
            })
            .collect())
    }

    /// The hourly continuity of each CloudTrail archive (by archive id): its digests' hours, and where the hours
    /// of its trail's digests, across all its verified archives, leave a gap before one of its digests.
    fn cloudtrail_hours(
        &self,
    ) -> Result<std::collections::HashMap<i64, CloudTrailHours>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT a.id, a.origin, f.hour_start, f.hour_end FROM cloudtrail_files f
             JOIN archives a ON a.id = f.archive_id
             WHERE f.kind = 'digest' AND a.status = 'verified' AND a.evidence = ?1
               AND typeof(f.hour_start) = 'integer' AND typeof(f.hour_end) = 'integer'
             ORDER BY a.origin, f.hour_start, a.id",
        )?;
        let rows: Vec<(i64, Option<String>, i64, i64)> = stmt
            .query_map([import::CLOUDTRAIL_EVIDENCE], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut out: std::collections::HashMap<i64, CloudTrailHours> = Default::default();
        // The previous digest of the same origin: (origin, start, end).
        let mut prev: Option<(Option<String>, i64, i64)> = None;
        for (id, origin, start, end) in rows {
            let h = out.entry(id).or_insert_with(|| CloudTrailHours {
                digests: 0,
                first_start: crate::time::format_utc(start),
                last_end: crate::time::format_utc(end),
                gaps: Vec::new(),
            });
            match &prev {
                // The same digest stored again by an overlapping import.
                Some((o, s, e)) if *o == origin && *s == start && *e == end => {}
                Some((o, _, e)) if *o == origin && start - e > CLOUDTRAIL_GAP_SLACK_MICROS => {
                    h.gaps.push(HourGap {
                        from: crate::time::format_utc(*e),
                        to: crate::time::format_utc(start),
                        hours: ((start - e) as f64 / 3_600e6).round() as u64,
                    });
                }
                _ => {}
            }
            h.digests += 1;
            h.last_end = crate::time::format_utc(end);
            prev = Some((origin, start, end));
        }
        Ok(out)
    }

    /// Every different origin of a stored archive (verified, untrusted or failed), in byte order.
    pub fn origins(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT origin FROM archives WHERE origin IS NOT NULL ORDER BY origin",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Groups of different stored origins that look alike (same [`crate::safe_text::origin_skeleton`]: they
    /// differ only in case, Unicode normalization or invisible characters), for the Archives screen and the
    /// Overview banner. Origins are compared exactly everywhere else; this is the warning that two of them
    /// cannot be told apart by eye.
    pub fn lookalike_origins(&self) -> Result<Vec<crate::safe_text::LookalikeGroup>, StoreError> {
        let origins = self.origins()?;
        Ok(crate::safe_text::lookalike_groups(
            origins.iter().map(String::as_str),
        ))
    }

    /// The stored origins that look like `origin` without being it, in byte order.
    pub fn lookalikes_of(&self, origin: &str) -> Result<Vec<String>, StoreError> {
        let origins = self.origins()?;
        Ok(crate::safe_text::lookalikes_of(
            origin,
            origins.iter().map(String::as_str),
        ))
    }

    /// Number of events stored (all archives, flagged or not).
    pub fn event_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))?)
    }

    /// One archive's signed checkpoint and manifest, exactly as stored.
    pub fn archive_documents(&self, id: i64) -> Result<Option<SignedDocuments>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT checkpoint, manifest FROM archives WHERE id = ?",
                [id],
                |r| {
                    Ok((
                        r.get::<_, Option<Vec<u8>>>(0)?,
                        r.get::<_, Option<Vec<u8>>>(1)?,
                    ))
                },
            )
            .optional()?
            .and_then(|(c, m)| Some((c?, m?))))
    }
}

impl Store {
    /// Runs `f`, which reads much of the store once (an export), through a small page cache and no memory map of
    /// the file, so that the process's resident memory is its own buffers whatever the store's size: mapped
    /// pages count as resident once read (a bundle's export of one event of a 200 MiB archive, its leaves read
    /// through the map: 288 MB resident, 11 MB of it allocated). Both settings are put back after, whatever the
    /// outcome (the app's connection goes on serving searches).
    pub(crate) fn reading_once<T, E: From<rusqlite::Error>>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let pragma = |name: &str| -> i64 {
            self.conn
                .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
                .unwrap_or(0)
        };
        let (mapped, cache) = (pragma("mmap_size"), pragma("cache_size"));
        let result = self
            .conn
            .pragma_update(None, "mmap_size", 0)
            .and_then(|()| {
                self.conn
                    .pragma_update(None, "cache_size", READING_ONCE_CACHE_SIZE)
            })
            .map_err(E::from)
            .and_then(|()| f());
        let _ = self.conn.pragma_update(None, "mmap_size", mapped);
        let _ = self.conn.pragma_update(None, "cache_size", cache);
        result
    }
}

/// The page cache of [`Store::reading_once`] (negative: KiB).
const READING_ONCE_CACHE_SIZE: i64 = -8192;

/// Bytes of the database file a reading connection maps (SQLite caps it at its compiled limit, 2 GiB).
const MMAP_BYTES: i64 = 1 << 31;

/// A 64 MiB page cache (negative: KiB): big transactions spill less; memory stays bounded.
pub(crate) const CACHE_SIZE: i64 = -65536;
/// The page cache of an import once it meets an event of megabytes (16 MiB): such events are few, so the
/// cache buys little, and each writes pages of several times its size (the row, the actor index, the summary
/// tables) that would otherwise all stay in memory up to the full cache.
pub(crate) const BIG_EVENT_CACHE_SIZE: i64 = -16384;

/// The settings of every read-write connection to a store (also used by the benchmark's SQLite floors).
pub fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", CACHE_SIZE)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

/// An archive row with its stored chain start and end (to find gaps and signer changes).
type ArchiveWithChain = (ArchiveRow, Option<Vec<u8>>, Option<Vec<u8>>);

/// An archive's signed checkpoint and manifest, byte for byte.
pub type SignedDocuments = (Vec<u8>, Vec<u8>);

/// An archive as listed by the store.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ArchiveRow {
    pub id: i64,
    pub path: String,
    /// `verified`, `untrusted` (kept with --keep-failed) or `failed` (kept with --keep-failed).
    pub status: String,
    pub failure: Option<String>,
    pub origin: Option<String>,
    pub sequence: Option<u64>,
    pub source_kind: Option<String>,
    pub events: u64,
    pub bytes: u64,
    pub time_first: Option<String>,
    pub time_last: Option<String>,
    pub signer_key: Option<String>,
    pub signer_name: Option<String>,
    pub signer_fingerprint: Option<String>,
    pub imported_at: String,
    /// Set when sequences before this one (after the origin's first stored archive) are missing.
    pub gap_before: Option<u64>,
    /// Whose rules made the archive's stored fields (docs/sources.md, "Whose rules").
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub normalization: Option<crate::sources::Normalization>,
    /// Set on a verified archive signed by another key than the previous verified archive of its origin: that
    /// previous signer, as `name (fingerprint)` (a signer change at this sequence).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub signer_change_from: Option<String>,
    /// How many of the archive's stored events that parse have no time (docs/sources.md section 2); `None`
    /// when its events are not stored.
    pub untimed: Option<u64>,
    /// Set when the archive was sealed on receipt (docs/archive-format.md section 4.1): the receipt time its signed
    /// manifest records.
    pub received_at: Option<String>,
    /// With `received_at`: the label every door shows instead of "verified", `sealed on receipt by NAME
    /// (FINGERPRINT) at TIME: proves no change since receipt, not authenticity at the source`.
    pub received_label: Option<String>,
    /// `aws-cloudtrail` for an AWS CloudTrail export verified with AWS's signatures (docs/cloudtrail.md section
    /// 5); `None` for an AuditLens archive.
    pub evidence: Option<String>,
    /// With `evidence`: what was verified, by whom (`signed by AWS CloudTrail (key ...)`).
    pub evidence_label: Option<String>,
    /// For CloudTrail evidence: the hours its signed digests cover, and the gaps in its trail's hourly digests.
    pub cloudtrail_hours: Option<CloudTrailHours>,
    /// Set by a caller holding keys (the app) on an archive stored as verified that those keys do not trust now
    /// ([`Store::untrusted_now`]): why.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub not_trusted_now: Option<String>,
}

/// A gap between two digests of one trail larger than this (AWS delivers them about hourly; the next one starts
/// where the previous one ended) is shown as missing hours.
const CLOUDTRAIL_GAP_SLACK_MICROS: i64 = 5 * 60 * 1_000_000;

/// The hours a CloudTrail archive's digests cover.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CloudTrailHours {
    /// Signed digests, one per hour delivered (empty hours included).
    pub digests: u64,
    /// `digestStartTime` of the first, `digestEndTime` of the last (RFC 3339 UTC).
    pub first_start: String,
    pub last_end: String,
    /// Periods before one of these digests that no digest of the trail in the store covers: logging stopped, a
    /// digest never delivered, or an export not imported.
    pub gaps: Vec<HourGap>,
}

/// Hours without a digest.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HourGap {
    pub from: String,
    pub to: String,
    /// About how many hourly digests are missing.
    pub hours: u64,
}

/// The label of evidence sealed on receipt ([`crate::archive::receipt_label`]) from stored columns.
pub fn received_label(
    signer_name: &Option<String>,
    fingerprint: &Option<String>,
    received_at: &Option<String>,
) -> Option<String> {
    received_at.as_deref().map(|at| {
        crate::archive::receipt_label(
            signer_name.as_deref().unwrap_or("?"),
            fingerprint.as_deref().unwrap_or("?"),
            at,
        )
    })
}

/// The stable id of an event, the same in every database: `origin@sequence#index`.
pub fn event_id(origin: &str, sequence: u64, index: u64) -> String {
    format!("{origin}@{sequence}#{index}")
}

/// Splits an event id into origin, sequence and index (the origin may itself contain `@` or `#`).
pub fn parse_event_id(id: &str) -> Option<(&str, u64, u64)> {
    let (rest, index) = id.rsplit_once('#')?;
    let (origin, sequence) = rest.rsplit_once('@')?;
    Some((origin, sequence.parse().ok()?, index.parse().ok()?))
}
