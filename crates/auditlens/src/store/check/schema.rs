//! The database's schema against the one AuditLens creates: every table, index, view and trigger (`sqlite_master`:
//! type, name, table and SQL text, exactly) and `PRAGMA user_version`; and, when the full-text index file is this
//! store's current one (store/text_index.rs), its objects and settings (`events_text_config`) likewise. The expected schema is made the way every store's is: the store's own migrations applied
//! to a fresh (in-memory) database, so text that SQLite rewrites itself (`ALTER TABLE ... ADD COLUMN`) is compared
//! with what the same statements produce, never with a copy written by hand.
//!
//! Anything else in the file is a finding: a trigger can delete or alter what a later import stores, a view or a
//! full-text table rebuilt over one can hide rows from search, another tokenizer can make words unfindable, a
//! missing unique index lets two archives claim one sequence.

use std::collections::BTreeMap;

use rusqlite::Connection;
use rusqlite::types::Value;

use super::{CheckProblem, global, shown};
use crate::store::schema::{CURRENT_VERSION, migrate_to};
use crate::store::{StoreError, text_index};

/// One row of `sqlite_master`, without `rootpage` (where it lives in the file).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Object {
    kind: String,
    table: String,
    sql: Option<String>,
}

/// `(name -> object)` for a schema (`main` or the attached index) of `conn`.
fn objects(conn: &Connection, schema: &str) -> Result<BTreeMap<String, Object>, rusqlite::Error> {
    let mut stmt = conn.prepare(&format!(
        "SELECT type, name, tbl_name, sql FROM {schema}.sqlite_master"
    ))?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(1)?,
            Object {
                kind: r.get(0)?,
                table: r.get(2)?,
                sql: r.get(3)?,
            },
        ))
    })?;
    rows.collect()
}

/// The full-text index's settings rows (`automerge`, `version`, ...), `None` when they cannot be read.
fn fts_config(conn: &Connection, schema: &str) -> Option<BTreeMap<String, String>> {
    let mut stmt = conn
        .prepare(&format!("SELECT k, v FROM {schema}.events_text_config"))
        .ok()?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                format!("{:?}", r.get::<_, Value>(0)?),
                format!("{:?}", r.get::<_, Value>(1)?),
            ))
        })
        .ok()?;
    rows.collect::<Result<_, _>>().ok()
}

/// What differs between the schema of `conn` and the one the migrations create, one finding per object.
pub(super) fn findings(conn: &Connection) -> Result<Vec<CheckProblem>, StoreError> {
    let mut fresh = Connection::open_in_memory()?;
    migrate_to(&mut fresh, CURRENT_VERSION)?;
    let mut problems = compare(&objects(&fresh, "main")?, &objects(conn, "main")?);
    let version: i64 = conn.query_row("PRAGMA main.user_version", [], |r| r.get(0))?;
    if version != CURRENT_VERSION {
        problems.push(global(format!(
            "schema version (PRAGMA user_version) is {version}; this AuditLens creates {CURRENT_VERSION}"
        )));
    }
    if !text_index::is_current(conn)? {
        // Not this store's current index: searches read every event instead, and it is rebuilt.
        return Ok(problems);
    }
    let fresh = Connection::open_in_memory()?;
    text_index::create_fresh(&fresh)?;
    let in_index = |p: CheckProblem| CheckProblem {
        message: format!("full-text index ({}): {}", text_index::SCHEMA, p.message),
        ..p
    };
    problems.extend(
        compare(
            &objects(&fresh, "main")?,
            &objects(conn, text_index::SCHEMA)?,
        )
        .into_iter()
        .map(in_index),
    );
    let expected_config = fts_config(&fresh, "main").unwrap_or_default();
    match fts_config(conn, text_index::SCHEMA) {
        None => problems.push(global(
            "the full-text index's settings (events_text_config) cannot be read".into(),
        )),
        Some(found_config) if found_config != expected_config => {
            let show = |m: &BTreeMap<String, String>| {
                m.iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            problems.push(global(format!(
                "the full-text index's settings (events_text_config) differ from the ones AuditLens sets: \
                 expected {}, found {}",
                show(&expected_config),
                shown(&show(&found_config))
            )));
        }
        Some(_) => {}
    }
    Ok(problems)
}

/// One finding per object that differs between the `expected` schema and the one `found`.
fn compare(
    expected: &BTreeMap<String, Object>,
    found: &BTreeMap<String, Object>,
) -> Vec<CheckProblem> {
    let mut problems = Vec::new();
    let sql_of = |o: &Object| {
        o.sql
            .as_deref()
            .map(shown)
            .unwrap_or_else(|| "(none)".into())
    };
    for (name, f) in found {
        let shown_name = shown(name);
        match expected.get(name) {
            None => {
                let on = if f.table != *name {
                    format!(" (on {})", shown(&f.table))
                } else {
                    String::new()
                };
                problems.push(global(format!(
                    "{} {shown_name}{on} is not part of the schema AuditLens creates: {}",
                    shown(&f.kind),
                    sql_of(f)
                )));
            }
            Some(e) if e != f => {
                let (expected_sql, found_sql) = if e.kind == f.kind {
                    (sql_of(e), sql_of(f))
                } else {
                    (
                        format!("a {}: {}", e.kind, sql_of(e)),
                        format!("a {}: {}", shown(&f.kind), sql_of(f)),
                    )
                };
                problems.push(global(format!(
                    "{} {shown_name} differs from the schema AuditLens creates: expected {expected_sql}, \
                     found {found_sql}",
                    e.kind
                )));
            }
            Some(_) => {}
        }
    }
    for (name, e) in expected {
        if !found.contains_key(name) {
            problems.push(global(format!(
                "{} {name} is missing (the schema AuditLens creates has {})",
                e.kind,
                sql_of(e)
            )));
        }
    }
    problems
}
