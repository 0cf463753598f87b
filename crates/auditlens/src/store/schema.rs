//! The store's SQLite schema as numbered migrations. `PRAGMA user_version` records how many have been applied,
//! so a database made by an older AuditLens opens in a newer one (it is migrated forward in place, each step in
//! its own transaction), and a database from a newer AuditLens is refused rather than misread.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// Each entry moves the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: archives and events, with the normalized columns. Event ids are time-ordered (store/rowid.rs), so the
    // primary key itself pages newest first.
    r#"
    CREATE TABLE archives (
        id                INTEGER PRIMARY KEY,
        path              TEXT NOT NULL,
        status            TEXT NOT NULL CHECK (status IN ('verified', 'untrusted', 'failed')),
        failure           TEXT,             -- JSON of the verifier's Failure, when not verified
        origin            TEXT,
        sequence          INTEGER,
        source_kind       TEXT,
        events            INTEGER NOT NULL DEFAULT 0,  -- as the signed checkpoint says
        bytes             INTEGER NOT NULL DEFAULT 0,
        time_first        INTEGER,          -- microseconds UTC, over the stored events
        time_last         INTEGER,
        signer_key        TEXT,
        signer_name       TEXT,
        signer_fingerprint TEXT,
        root              BLOB,
        chain_start       BLOB,
        chain_end         BLOB,
        manifest_sha256   BLOB,
        checkpoint        BLOB,             -- the signed note, byte for byte
        manifest          BLOB,             -- manifest.json, byte for byte
        imported_at       TEXT NOT NULL
    );
    CREATE UNIQUE INDEX archives_origin_sequence ON archives(origin, sequence) WHERE status != 'failed';
    CREATE TABLE events (
        id        INTEGER PRIMARY KEY,
        archive_id INTEGER NOT NULL REFERENCES archives(id),
        idx       INTEGER NOT NULL,
        ts        INTEGER,
        source    TEXT COLLATE NOCASE,
        origin    TEXT COLLATE NOCASE,
        actor     TEXT COLLATE NOCASE,
        action    TEXT COLLATE NOCASE,
        resource  TEXT COLLATE NOCASE,
        outcome   TEXT COLLATE NOCASE,
        ip        TEXT COLLATE NOCASE,
        agent     TEXT COLLATE NOCASE,
        env       TEXT COLLATE NOCASE,
        stage     TEXT COLLATE NOCASE,
        category  TEXT COLLATE NOCASE,
        leaf      BLOB NOT NULL,
        raw       TEXT NOT NULL
    );
    CREATE UNIQUE INDEX events_archive_idx ON events(archive_id, idx);
    "#,
    // 2: full-text index and the field indexes used by search.
    r#"
    CREATE VIRTUAL TABLE events_fts USING fts5(raw, content='events', content_rowid='id', tokenize='unicode61');
    INSERT INTO events_fts(events_fts) VALUES ('rebuild');
    CREATE INDEX events_actor ON events(actor);
    CREATE INDEX events_action ON events(action);
    CREATE INDEX events_resource ON events(resource);
    CREATE INDEX events_category ON events(category);
    CREATE INDEX events_outcome ON events(outcome);
    CREATE INDEX events_ip ON events(ip);
    CREATE INDEX events_env ON events(env);
    "#,
    // 3: mapping files, the privilege column, and what the dashboards read (docs/search.md section 9): summary
    // tables of counted events (every stage but RequestReceived and ResponseStarted) kept by import, per
    // archive and UTC hour, and a partial index over denied events. Existing events get their privilege and
    // the summaries in `backfill_v3`, in the same transaction.
    r#"
    ALTER TABLE archives ADD COLUMN mapping BLOB;   -- mapping.toml, byte for byte (source kind mapping)
    ALTER TABLE events ADD COLUMN privilege TEXT COLLATE NOCASE;
    CREATE INDEX events_privilege ON events(privilege) WHERE privilege IS NOT NULL;
    CREATE INDEX events_denied ON events(actor, resource, ts, stage, archive_id) WHERE outcome = 'denied';
    CREATE TABLE rollup_hourly (
        archive_id INTEGER NOT NULL,
        hour       INTEGER,                 -- floor(ts / 1 h); NULL for events without a time
        source     TEXT COLLATE NOCASE,
        category   TEXT COLLATE NOCASE,
        outcome    TEXT COLLATE NOCASE,
        privilege  TEXT COLLATE NOCASE,
        n          INTEGER NOT NULL
    );
    CREATE INDEX rollup_hourly_hour ON rollup_hourly(hour);
    CREATE TABLE rollup_actors (
        archive_id INTEGER NOT NULL,
        hour       INTEGER,
        category   TEXT COLLATE NOCASE,
        outcome    TEXT COLLATE NOCASE,
        env        TEXT COLLATE NOCASE,
        actor      TEXT COLLATE NOCASE,
        n          INTEGER NOT NULL
    );
    CREATE INDEX rollup_actors_hour ON rollup_actors(hour);
    -- The same per UTC minute: the partial hours at the ends of a time range.
    CREATE TABLE rollup_minutely (
        archive_id INTEGER NOT NULL,
        minute     INTEGER,                 -- floor(ts / 1 min); NULL for events without a time
        source     TEXT COLLATE NOCASE,
        category   TEXT COLLATE NOCASE,
        outcome    TEXT COLLATE NOCASE,
        privilege  TEXT COLLATE NOCASE,
        n          INTEGER NOT NULL
    );
    CREATE INDEX rollup_minutely_minute ON rollup_minutely(minute);
    CREATE TABLE rollup_minute_actors (
        archive_id INTEGER NOT NULL,
        minute     INTEGER,
        category   TEXT COLLATE NOCASE,
        outcome    TEXT COLLATE NOCASE,
        env        TEXT COLLATE NOCASE,
        actor      TEXT COLLATE NOCASE,
        n          INTEGER NOT NULL
    );
    CREATE INDEX rollup_minute_actors_minute ON rollup_minute_actors(minute);
    "#,
    // 4: the full-text index merges 16 segments of a level at a time instead of 4: each indexed token is
    // rewritten about half as often while importing (FTS5 alone over 1M generated events: 25 s -> 17 s), and a
    // term is looked up in at most 15 segments per level.
    r#"
    INSERT INTO events_fts(events_fts, rank) VALUES ('automerge', 16);
    "#,
    // 5: events whose bytes verified but are not one JSON object the parser can read (a lone surrogate escape,
    // nesting deeper than 128, not JSON: docs/archive-format.md section 3) are stored too, with their exact
    // bytes, no normalized fields but source and origin, and the parser's reason; each archive keeps their
    // count. Archives stored before held none (such an archive was refused), hence the default 0.
    r#"
    ALTER TABLE events ADD COLUMN parse_error TEXT;   -- NULL when the event parsed
    ALTER TABLE archives ADD COLUMN parse_errors INTEGER NOT NULL DEFAULT 0;
    "#,
    // 6: only verified archives hold an origin's sequence (docs/trust-policy.md, "No squatting"): a kept copy
    // that is untrusted or refused never blocks the genuine archive of the same sequence.
    r#"
    DROP INDEX archives_origin_sequence;
    CREATE UNIQUE INDEX archives_origin_sequence ON archives(origin, sequence) WHERE status = 'verified';
    "#,
    // 7: settings of the store itself, one value per key (the audit period of docs/coverage.md, as JSON): they
    // travel with the evidence, whichever app opens the file.
    r#"
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // 8: whose rules made an archive's normalized fields (docs/sources.md, "Whose rules"; sources/normalization.rs):
    // `k8s/1` (the built-in mapper of the signed kind), `mapping` (the producer's mapping file, stored in
    // `mapping`) or `auditor:k8s/1` (the auditor's choice, `import --as`). Every archive stored before this was
    // normalized by its signed kind's rules, and every built-in mapper was then at version 1.
    r#"
    ALTER TABLE archives ADD COLUMN normalization TEXT;
    UPDATE archives SET normalization = CASE
        WHEN source_kind = 'mapping' AND mapping IS NOT NULL THEN 'mapping'
        WHEN source_kind IN ('jsonl', 'k8s', 'cloudtrail', 'github', 'gcp', 'teleport', 'okta')
            THEN source_kind || '/1'
        END;
    "#,
    // 9: which AuditLens wrote the store (`PRAGMA user_version` stays the schema): every version that opened it
    // for writing, when it first did, and the schema version it found (0: it created the store). Filled by
    // `Store::open`.
    r#"
    CREATE TABLE software (
        version      TEXT PRIMARY KEY,     -- the AuditLens version (the workspace version of Cargo.toml)
        first_opened TEXT NOT NULL,        -- RFC 3339 UTC
        schema_found INTEGER NOT NULL
    );
    "#,
    // 10: the full-text index leaves the store for a file of its own, `<db>.text` (store/text_index.rs): derived
    // data, built from the stored events on its own thread and connection, over the words of the events' values
    // (text.rs). `text_index_store` names this store to its index; `text_index_epoch` changes whenever stored
    // events are replaced (renormalize.rs), so an index of the old events is never taken for the new ones.
    r#"
    DROP TABLE events_fts;
    INSERT INTO settings (key, value) VALUES ('text_index_store', lower(hex(randomblob(16))));
    INSERT INTO settings (key, value) VALUES ('text_index_epoch', '0');
    "#,
    // 11: how many of an archive's stored events that parse have no time under the rules that normalized them
    // (docs/sources.md section 2): the import report, the Archives screen and `check` name it. NULL for an
    // archive whose events are not stored.
    r#"
    ALTER TABLE archives ADD COLUMN untimed INTEGER;
    UPDATE archives SET untimed = (
        SELECT count(*) FROM events
        WHERE events.archive_id = archives.id AND events.ts IS NULL AND events.parse_error IS NULL
    ) WHERE status != 'failed';
    "#,
    // 12: integrity incidents (store/incidents.rs): imports that failed, were refused or met an untrusted key,
    // with their reason, kept until the auditor reviews them with a note. Not evidence: never read as such.
    r#"
    CREATE TABLE incidents (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL,         -- failed | refused | untrusted
        path        TEXT NOT NULL,
        origin      TEXT,
        sequence    INTEGER,
        reason      TEXT NOT NULL,
        first_seen  TEXT NOT NULL,         -- RFC 3339 UTC
        last_seen   TEXT NOT NULL,
        times       INTEGER NOT NULL DEFAULT 1,
        archive_id  INTEGER,               -- the kept archive row, if any
        reviewed_at TEXT,
        review_note TEXT
    );
    CREATE INDEX incidents_open ON incidents(reviewed_at, last_seen);
    "#,
    // 13: an index on `source`, so that results sorted by source are read along it page by page (store/sorted.rs)
    // like those sorted by actor, action, resource or outcome, instead of sorting every match for each page.
    r#"
    CREATE INDEX events_source ON events(source);
    "#,
    // 14: archives sealed on receipt (`auditlens receive`, docs/archive-format.md section 4.1): the receipt time the
    // signed manifest records, so that every door labels their events "sealed on receipt", never just "verified".
    // No earlier AuditLens accepted such an archive, so existing rows have none.
    r#"
    ALTER TABLE archives ADD COLUMN received_at TEXT;
    "#,
    // 15: AWS CloudTrail exports (docs/cloudtrail.md section 5): one archive row per trail and region and import,
    // `evidence = 'aws-cloudtrail'`, with no checkpoint or manifest: its proof is AWS's own, the digests with the
    // signatures that verified and the log files they list, stored byte for byte as found, so `check` re-verifies
    // them. Every earlier row is an AuditLens archive (NULL).
    r#"
    ALTER TABLE archives ADD COLUMN evidence TEXT;
    CREATE TABLE cloudtrail_files (
        archive_id   INTEGER NOT NULL,
        path         TEXT NOT NULL,         -- relative to the export's root, `/` separators
        kind         TEXT NOT NULL CHECK (kind IN ('digest', 'log')),
        sha256       TEXT NOT NULL,         -- of the decompressed bytes: the digest's own, or the log's hashValue
        signature    TEXT,                  -- digest: the signature that verified (hex)
        fingerprint  TEXT,                  -- digest: the AWS public key's fingerprint
        hour_start   INTEGER,               -- digest: digestStartTime, microseconds UTC
        hour_end     INTEGER,               -- digest: digestEndTime, microseconds UTC
        first_index  INTEGER,               -- log: the archive's index of its first event; NULL when its events
                                            -- are stored with an earlier archive of the same origin
        records      INTEGER,               -- log: how many events it holds
        digest       TEXT,                  -- log: the path of the digest that lists it
        content      BLOB NOT NULL,         -- the file as found (gzip)
        PRIMARY KEY (archive_id, path)
    );
    "#,
    // 16: an index on `agent`, so that a `*` pattern or regular expression over user agents is tested on their few
    // different values (store/resolve.rs) instead of on every event's row.
    r#"
    CREATE INDEX events_agent ON events(agent);
    "#,
    // 17: an index on `stage` (Kubernetes audit only: the other sources have none, and the index leaves them out),
    // so that `stage:Panic` reads its few events and a pattern over stages is tested on their few values
    // (store/resolve.rs) instead of on every event's row.
    r#"
    CREATE INDEX events_stage ON events(stage) WHERE stage IS NOT NULL;
    "#,
    // 18: the hash of every 1,024 leaves of an archive, in index order (merkle::BlockHashes), written by the import:
    // the blocks give the signed root by themselves, so a row is confirmed before it is shown as verified by
    // reading its own block's leaves instead of every leaf of its archive (docs/trust-policy.md section 4b).
    // Derived data: NULL for archives stored before (their leaves are then read whole, as before), and never
    // believed unless they reproduce the signed root.
    r#"
    ALTER TABLE archives ADD COLUMN leaf_blocks BLOB;
    "#,
];

/// The hour of an event time (microseconds), as SQL over a column `ts`: `floor(ts / 3600e6)`, NULL for NULL.
pub const HOUR_OF_TS: &str =
    "((ts - (((ts % 3600000000) + 3600000000) % 3600000000)) / 3600000000)";
/// The minute of an event time, likewise: `floor(ts / 60e6)`.
pub const MINUTE_OF_TS: &str = "((ts - (((ts % 60000000) + 60000000) % 60000000)) / 60000000)";
/// The summary tables: name, time column, the SQL of that column over `events.ts`, and the other columns.
pub const SUMMARIES: [(&str, &str, &str, &str); 4] = [
    (
        "rollup_hourly",
        "hour",
        HOUR_OF_TS,
        "source, category, outcome, privilege",
    ),
    (
        "rollup_actors",
        "hour",
        HOUR_OF_TS,
        "category, outcome, env, actor",
    ),
    (
        "rollup_minutely",
        "minute",
        MINUTE_OF_TS,
        "source, category, outcome, privilege",
    ),
    (
        "rollup_minute_actors",
        "minute",
        MINUTE_OF_TS,
        "category, outcome, env, actor",
    ),
];
/// The counting rule of the dashboards as SQL over a column `stage` (NOCASE, as the query language compares).
pub const COUNTED_STAGE: &str =
    "(stage IS NULL OR (stage <> 'RequestReceived' AND stage <> 'ResponseStarted'))";

/// Fills what migration 3 added for the events already stored: each event's privilege (re-derived from its
/// bytes and its archive's signed kind; older stores hold no mapping archives) and the summary tables.
fn backfill_v3(tx: &rusqlite::Transaction<'_>) -> Result<(), rusqlite::Error> {
    use crate::sources::{Normalizer, SourceKind};
    let archives: Vec<(i64, Option<String>)> = tx
        .prepare("SELECT id, source_kind FROM archives")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = tx.prepare("UPDATE events SET privilege = ?1 WHERE id = ?2")?;
    for (archive, kind) in archives {
        let kind = kind.and_then(|k| k.parse::<SourceKind>().ok());
        let Some(kind) = kind.filter(|k| *k != SourceKind::Mapping) else {
            continue;
        };
        let normalizer = Normalizer::builtin(kind);
        let mut rows = tx.prepare("SELECT id, raw FROM events WHERE archive_id = ?1")?;
        let mut rows = rows.query([archive])?;
        while let Some(r) = rows.next()? {
            let raw: String = r.get(1)?;
            if let Some(p) = normalizer.normalize_bytes(raw.as_bytes()).privilege {
                update.execute(rusqlite::params![p, r.get::<_, i64>(0)?])?;
            }
        }
    }
    for (table, time, of_ts, columns) in SUMMARIES {
        let binary: Vec<String> = columns
            .split(", ")
            .map(|c| format!("{c} COLLATE BINARY"))
            .collect();
        tx.execute_batch(&format!(
            "INSERT INTO {table} (archive_id, {time}, {columns}, n)
             SELECT archive_id, {of_ts}, {columns}, count(*) FROM events WHERE {COUNTED_STAGE}
             GROUP BY archive_id, 2, {}",
            binary.join(", ")
        ))?;
    }
    Ok(())
}

pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "the database was made by a newer AuditLens (schema version {found}; this version knows {known}): it was \
         not changed; open it with that AuditLens or a newer one"
    )]
    TooNew { found: i64, known: i64 },
    #[error(
        "the database was made by an older AuditLens (schema version {found}) and must be upgraded, but no backup \
         copy could be taken first, so it was not changed: {detail}"
    )]
    Backup { found: i64, detail: String },
    #[error("migrating the database to schema version {version}: {source}")]
    Migration {
        version: i64,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

/// What opening a store from an older AuditLens did: the copy of the file taken before migrating it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    pub from: i64,
    pub to: i64,
    pub backup: PathBuf,
}

impl std::fmt::Display for Upgrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the database was made by an older AuditLens (schema version {}) and has been upgraded to schema \
             version {}; a copy of it as it was is kept in {}",
            self.from,
            self.to,
            self.backup.display()
        )
    }
}

/// The AuditLens version that writes stores, as recorded in the `software` table.
pub const SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Before a store of an older schema is migrated: its committed pages are copied from the WAL into the database
/// file, and the file is copied, byte for byte, to `<db>.backup-v<N>` next to it (`.backup-v<N>.2`, ... when that
/// name is taken: an earlier copy is never overwritten). Refused when another connection keeps the WAL from being
/// emptied, rather than copy a file that lacks committed archives.
pub fn back_up(conn: &Connection, path: &Path, found: i64) -> Result<PathBuf, SchemaError> {
    let (busy, log, copied): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let backup_err = |detail: String| SchemaError::Backup { found, detail };
    if busy != 0 || log != copied {
        return Err(backup_err(
            "another program is using the database; close it and open the database again".into(),
        ));
    }
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".backup-v{found}"));
    for n in 1..100 {
        let mut candidate = name.clone();
        if n > 1 {
            candidate.push(format!(".{n}"));
        }
        let candidate = PathBuf::from(candidate);
        let mut out = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(backup_err(format!("{}: {e}", candidate.display()))),
        };
        let copied = std::fs::File::open(path)
            .and_then(|mut db| std::io::copy(&mut db, &mut out))
            .and_then(|_| out.sync_all());
        if let Err(e) = copied {
            drop(out);
            let _ = std::fs::remove_file(&candidate);
            return Err(backup_err(format!("{}: {e}", candidate.display())));
        }
        return Ok(candidate);
    }
    Err(backup_err(format!(
        "{} and 98 other backup names are taken",
        PathBuf::from(name).display()
    )))
}

/// Records that this AuditLens opened the store for writing (once per version: later opens only read).
pub fn record_software(conn: &Connection, schema_found: i64) -> Result<(), rusqlite::Error> {
    let known: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM software WHERE version = ?1)",
        [SOFTWARE_VERSION],
        |r| r.get(0),
    )?;
    if !known {
        conn.execute(
            "INSERT OR IGNORE INTO software (version, first_opened, schema_found) VALUES (?1, ?2, ?3)",
            rusqlite::params![
                SOFTWARE_VERSION,
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                schema_found
            ],
        )?;
    }
    Ok(())
}

pub fn version(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Applies the migrations up to `target` (tests use a lower target to build an old database).
pub fn migrate_to(conn: &mut Connection, target: i64) -> Result<(), SchemaError> {
    let found = version(conn)?;
    if found > CURRENT_VERSION {
        return Err(SchemaError::TooNew {
            found,
            known: CURRENT_VERSION,
        });
    }
    for v in found..target.min(CURRENT_VERSION) {
        let tx = conn.transaction()?;
        let sql = MIGRATIONS[v as usize];
        tx.execute_batch(sql)
            .and_then(|()| if v + 1 == 3 { backfill_v3(&tx) } else { Ok(()) })
            .map_err(|source| SchemaError::Migration {
                version: v + 1,
                source,
            })?;
        tx.pragma_update(None, "user_version", v + 1)?;
        tx.commit()?;
    }
    Ok(())
}
