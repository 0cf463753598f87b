//! The store's SQLite schema as numbered migrations. `PRAGMA user_version` records how many have been applied,
//! so a database made by an older AuditLens opens in a newer one (it is migrated forward in place, each step in
//! its own transaction), and a database from a newer AuditLens is refused rather than misread.

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
];

pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "the database was made by a newer AuditLens (schema version {found}; this version knows {known})"
    )]
    TooNew { found: i64, known: i64 },
    #[error("migrating the database to schema version {version}: {source}")]
    Migration {
        version: i64,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
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
            .map_err(|source| SchemaError::Migration {
                version: v + 1,
                source,
            })?;
        tx.pragma_update(None, "user_version", v + 1)?;
        tx.commit()?;
    }
    Ok(())
}
