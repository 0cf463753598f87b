//! The auditor's working papers: tags, notes and bookmarks on events, saved searches, query history, and the
//! hash-chained log of the auditor's actions ([`log`]). They live in a file of their own next to the evidence
//! store, `<db>.papers`, never inside it: nothing here changes a verdict, and the evidence store can be re-checked
//! without them (docs/working-papers.md).
//!
//! - **Which event.** An annotation names its event by origin, archive sequence, index *and* leaf hash
//!   ([`EventKey`]): it stays on exactly the bytes the auditor looked at, and never moves to another event that
//!   happens to take the same place (an archive imported again under the same origin and sequence but with other
//!   bytes is refused by import; the leaf makes sure of it anyway).
//! - **Searching them.** A store connection attaches the file as [`SCHEMA`] (read-only connections read it, or
//!   an empty one when there is none), so `tag:finding-3`, `note:password`, `has:note`, `has:tag` and
//!   `has:bookmark` are conditions of the query language like any other (query/compile.rs).
//! - **Every change is logged.** Each change made here appends an entry to the action log in the same
//!   transaction.

pub mod log;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;

use crate::store::search::EventDetail;

pub use log::{Action, LogCheck};

/// The name the working papers are attached under on a store's connection.
pub const SCHEMA: &str = "papers";

/// The format of the file, in its `meta` table.
pub const FORMAT: &str = "papers/1";

/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 64;
/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 20_000;
/// Longest saved-search name, in characters.
pub const MAX_NAME_CHARS: usize = 120;
/// Longest query kept in saved searches and history, in characters.
pub const MAX_QUERY_CHARS: usize = 4_000;
/// Queries kept in the history (the oldest go first).
pub const HISTORY_KEPT: i64 = 1_000;

/// The tables, with `{s}` standing for the schema name.
const CREATE: &str = "
    CREATE TABLE IF NOT EXISTS {s}meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS {s}tags (
        origin TEXT NOT NULL, sequence INTEGER NOT NULL, idx INTEGER NOT NULL, leaf BLOB NOT NULL,
        tag TEXT NOT NULL COLLATE NOCASE, added TEXT NOT NULL,
        PRIMARY KEY (origin, sequence, idx, leaf, tag));
    CREATE INDEX IF NOT EXISTS {s}tags_tag ON tags(tag);
    CREATE TABLE IF NOT EXISTS {s}notes (
        origin TEXT NOT NULL, sequence INTEGER NOT NULL, idx INTEGER NOT NULL, leaf BLOB NOT NULL,
        note TEXT NOT NULL, updated TEXT NOT NULL,
        PRIMARY KEY (origin, sequence, idx, leaf));
    CREATE TABLE IF NOT EXISTS {s}bookmarks (
        origin TEXT NOT NULL, sequence INTEGER NOT NULL, idx INTEGER NOT NULL, leaf BLOB NOT NULL,
        added TEXT NOT NULL,
        PRIMARY KEY (origin, sequence, idx, leaf));
    CREATE TABLE IF NOT EXISTS {s}saved_searches (
        name TEXT PRIMARY KEY COLLATE NOCASE, query TEXT NOT NULL, saved TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS {s}history (id INTEGER PRIMARY KEY, query TEXT NOT NULL, at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS {s}aliases (
        actor TEXT PRIMARY KEY COLLATE NOCASE, person TEXT NOT NULL COLLATE NOCASE, added TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS {s}aliases_person ON aliases(person);
    CREATE TABLE IF NOT EXISTS {s}actions (
        seq INTEGER PRIMARY KEY, at TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL,
        detail TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL);
    CREATE TRIGGER IF NOT EXISTS {s}actions_no_update BEFORE UPDATE ON actions
        BEGIN SELECT RAISE(ABORT, 'the action log is append-only'); END;
    CREATE TRIGGER IF NOT EXISTS {s}actions_no_delete BEFORE DELETE ON actions
        BEGIN SELECT RAISE(ABORT, 'the action log is append-only'); END;
";

fn create_sql(schema: Option<&str>) -> String {
    CREATE.replace("{s}", &schema.map(|s| format!("{s}.")).unwrap_or_default())
}

/// The working-papers file of the store at `db`.
pub fn path_of(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".papers");
    PathBuf::from(name)
}

/// Why working papers could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum PapersError {
    #[error("working papers {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("working papers: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A value the auditor gave that cannot be kept (an empty tag, a note too long...).
    #[error("{0}")]
    Invalid(String),
}

/// Which event an annotation is on: its archive's origin and sequence, its index, and its leaf hash (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventKey {
    pub origin: String,
    pub sequence: u64,
    pub index: u64,
    /// Leaf hash, lowercase hex.
    pub leaf: String,
}

impl EventKey {
    /// The key of a stored event.
    pub fn of(event: &EventDetail) -> Result<EventKey, PapersError> {
        let origin = event
            .row
            .archive
            .rsplit_once('@')
            .map(|(origin, _)| origin.to_owned())
            .filter(|origin| !origin.is_empty())
            .ok_or_else(|| {
            PapersError::Invalid(format!(
                "event {} belongs to an archive without an origin (it failed before its checkpoint was read): it cannot be annotated",
                event.row.id
            ))
        })?;
        Ok(EventKey {
            origin,
            sequence: event.row.sequence,
            index: event.row.index,
            leaf: event.leaf.clone(),
        })
    }

    /// The event id (`origin@sequence#index`).
    pub fn id(&self) -> String {
        crate::store::event_id(&self.origin, self.sequence, self.index)
    }

    fn leaf_bytes(&self) -> Result<Vec<u8>, PapersError> {
        let bytes = (0..self.leaf.len())
            .step_by(2)
            .map(|i| {
                self.leaf
                    .get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>();
        match bytes {
            Some(b) if b.len() == 32 => Ok(b),
            _ => Err(PapersError::Invalid(format!(
                "not a leaf hash (64 hex digits): {}",
                self.leaf
            ))),
        }
    }

    fn seq(&self) -> i64 {
        i64::try_from(self.sequence).unwrap_or(i64::MAX)
    }

    fn idx(&self) -> i64 {
        i64::try_from(self.index).unwrap_or(i64::MAX)
    }
}

/// The working papers on one event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Annotations {
    /// Its tags, in the order they were added.
    pub tags: Vec<String>,
    pub note: Option<String>,
    pub bookmarked: bool,
}

/// A tag and how many events carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TagCount {
    pub tag: String,
    pub events: u64,
}

/// A search the auditor saved under a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SavedSearch {
    pub name: String,
    pub query: String,
    /// RFC 3339 UTC.
    pub saved: String,
}

/// Every annotation on one event, as bundles and reports carry them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventAnnotations {
    /// The event id (`origin@sequence#index`).
    pub event: String,
    /// Leaf hash, lowercase hex: the exact event the annotations are on.
    pub leaf: String,
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub note: Option<String>,
    #[serde(default)]
    pub bookmarked: bool,
}

/// One change to the working papers on an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    AddTag {
        tag: String,
    },
    RemoveTag {
        tag: String,
    },
    /// An empty note removes it.
    SetNote {
        note: String,
    },
    SetBookmark {
        on: bool,
    },
}

/// The working papers not tied to one event: tags in use, saved searches, recent queries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PapersView {
    pub tags: Vec<TagCount>,
    pub saved_searches: Vec<SavedSearch>,
    /// Recent queries, newest first, each once.
    pub history: Vec<String>,
}

/// An actor value the auditor says is a person (`person:NAME` finds the events of all of that person's actors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Alias {
    pub actor: String,
    pub person: String,
}

/// Actor values that look like one person ("these look like the same person"): a short name and the ARN or
/// e-mail address a source gave for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AliasSuggestion {
    /// The name suggested for the person (the short actor value when there is one).
    pub person: String,
    /// The actor values, none of them aliased yet, in byte order.
    pub actors: Vec<String>,
    /// Why they look alike.
    pub why: String,
}

/// The short name an actor value carries, and how it was read: the user name of an IAM user ARN, the session name
/// of an assumed role, the local part of an e-mail address; `None` for any other value.
pub fn short_name(actor: &str) -> Option<(String, &'static str)> {
    let a = actor.trim();
    if let Some(rest) = a.strip_prefix("arn:aws:iam::")
        && let Some((_, tail)) = rest.split_once(":user/")
    {
        let name = tail.rsplit('/').next().unwrap_or(tail);
        return (!name.is_empty()).then(|| (name.to_owned(), "the user name of an IAM user ARN"));
    }
    if let Some(rest) = a.strip_prefix("arn:aws:sts::")
        && let Some((_, tail)) = rest.split_once(":assumed-role/")
        && let Some((_, session)) = tail.split_once('/')
    {
        return (!session.is_empty() && !session.contains('/'))
            .then(|| (session.to_owned(), "the session name of an assumed role"));
    }
    if let Some((local, domain)) = a.split_once('@')
        && !local.is_empty()
        && domain.contains('.')
        && !local.contains([':', '/', ' '])
    {
        return Some((local.to_owned(), "the local part of an e-mail address"));
    }
    None
}

/// Queries [`PapersView::history`] lists.
pub const HISTORY_SHOWN: usize = 30;

/// The working papers of one evidence store, on a connection of their own.
pub struct Papers {
    conn: Connection,
}

fn now() -> String {
    crate::time::format_utc(chrono::Utc::now().timestamp_micros())
}

/// `text` trimmed, refused when empty, longer than `max` characters, or holding control characters (`what`
/// names it in the message).
fn checked(
    text: &str,
    max: usize,
    what: &str,
    allow_newlines: bool,
) -> Result<String, PapersError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(PapersError::Invalid(format!("the {what} is empty")));
    }
    let n = t.chars().count();
    if n > max {
        return Err(PapersError::Invalid(format!(
            "the {what} has {n} characters; at most {max} are kept"
        )));
    }
    if t.chars()
        .any(|c| c.is_control() && !(allow_newlines && (c == '\n' || c == '\t')))
    {
        return Err(PapersError::Invalid(format!(
            "the {what} holds control characters"
        )));
    }
    Ok(t.to_owned())
}

/// A tag as kept: trimmed, no spaces (a tag is one word, so that `tag:NAME` finds it), at most
/// [`MAX_TAG_CHARS`].
pub fn checked_tag(tag: &str) -> Result<String, PapersError> {
    let t = checked(tag, MAX_TAG_CHARS, "tag", false)?;
    if t.chars()
        .any(|c| c.is_whitespace() || matches!(c, '"' | '(' | ')' | '*' | ':'))
    {
        return Err(PapersError::Invalid(format!(
            "a tag is one word without spaces, quotes, brackets, `*` or `:` (so that tag:NAME finds it); got {:?}",
            t
        )));
    }
    Ok(t)
}

impl Papers {
    /// Opens (creating if needed) the working papers of the store at `db`.
    pub fn open(db: &Path) -> Result<Papers, PapersError> {
        let path = path_of(db);
        let open_err = |source| PapersError::Open {
            path: path.display().to_string(),
            source,
        };
        // The file is attached to an empty connection under the same name as on a store's connection, so that
        // every statement here reads the same on both.
        let conn = Connection::open_in_memory().map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(open_err)?;
        attach(&conn, Some(db), false).map_err(open_err)?;
        Papers::init(conn)
    }

    /// Working papers in memory (tests).
    pub fn open_in_memory() -> Result<Papers, PapersError> {
        let conn = Connection::open_in_memory()?;
        attach(&conn, None, false)?;
        Papers::init(conn)
    }

    fn init(conn: Connection) -> Result<Papers, PapersError> {
        let format: Option<String> = conn
            .query_row(
                "SELECT value FROM papers.meta WHERE key = 'format'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        match format.as_deref() {
            None => {
                conn.execute(
                    "INSERT INTO papers.meta (key, value) VALUES ('format', ?1)",
                    [FORMAT],
                )?;
            }
            Some(FORMAT) => {}
            Some(other) => {
                return Err(PapersError::Invalid(format!(
                    "the working papers are in format {other:?}; this AuditLens reads {FORMAT:?}"
                )));
            }
        }
        Ok(Papers { conn })
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Runs `change` and appends its log entry in one transaction.
    fn logged<T>(
        &mut self,
        action: &str,
        subject: &str,
        detail: &str,
        change: impl FnOnce(&Connection) -> Result<T, PapersError>,
    ) -> Result<T, PapersError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = change(&tx)?;
        log::append(&tx, action, subject, detail)?;
        tx.commit()?;
        Ok(out)
    }

    /// Adds `tag` to an event (nothing changes, and nothing is logged, when it already has it).
    pub fn add_tag(&mut self, key: &EventKey, tag: &str) -> Result<(), PapersError> {
        let tag = checked_tag(tag)?;
        let leaf = key.leaf_bytes()?;
        if self
            .annotations(key)?
            .tags
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&tag))
        {
            return Ok(());
        }
        self.logged("tag added", &key.id(), &tag, |c| {
            c.execute(
                "INSERT INTO papers.tags (origin, sequence, idx, leaf, tag, added) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![key.origin, key.seq(), key.idx(), leaf, tag, now()],
            )?;
            Ok(())
        })
    }

    /// Removes `tag` from an event.
    pub fn remove_tag(&mut self, key: &EventKey, tag: &str) -> Result<(), PapersError> {
        let leaf = key.leaf_bytes()?;
        let tag = tag.trim().to_owned();
        if !self
            .annotations(key)?
            .tags
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&tag))
        {
            return Ok(());
        }
        self.logged("tag removed", &key.id(), &tag, |c| {
            c.execute(
                "DELETE FROM papers.tags WHERE origin = ?1 AND sequence = ?2 AND idx = ?3 AND leaf = ?4 AND tag = ?5",
                params![key.origin, key.seq(), key.idx(), leaf, tag],
            )?;
            Ok(())
        })
    }

    /// Sets the event's note; an empty note removes it.
    pub fn set_note(&mut self, key: &EventKey, note: &str) -> Result<(), PapersError> {
        let leaf = key.leaf_bytes()?;
        let old = self.annotations(key)?.note;
        if note.trim().is_empty() {
            if old.is_none() {
                return Ok(());
            }
            return self.logged("note removed", &key.id(), "", |c| {
                c.execute(
                    "DELETE FROM papers.notes WHERE origin = ?1 AND sequence = ?2 AND idx = ?3 AND leaf = ?4",
                    params![key.origin, key.seq(), key.idx(), leaf],
                )?;
                Ok(())
            });
        }
        let note = checked(note, MAX_NOTE_CHARS, "note", true)?;
        if old.as_deref() == Some(note.as_str()) {
            return Ok(());
        }
        self.logged("note set", &key.id(), &note, |c| {
            c.execute(
                "INSERT INTO papers.notes (origin, sequence, idx, leaf, note, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT DO UPDATE SET note = excluded.note, updated = excluded.updated",
                params![key.origin, key.seq(), key.idx(), leaf, note, now()],
            )?;
            Ok(())
        })
    }

    /// Bookmarks the event, or removes its bookmark.
    pub fn set_bookmark(&mut self, key: &EventKey, on: bool) -> Result<(), PapersError> {
        let leaf = key.leaf_bytes()?;
        if self.annotations(key)?.bookmarked == on {
            return Ok(());
        }
        let action = if on {
            "bookmark added"
        } else {
            "bookmark removed"
        };
        self.logged(action, &key.id(), "", |c| {
            if on {
                c.execute(
                    "INSERT INTO papers.bookmarks (origin, sequence, idx, leaf, added) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![key.origin, key.seq(), key.idx(), leaf, now()],
                )?;
            } else {
                c.execute(
                    "DELETE FROM papers.bookmarks WHERE origin = ?1 AND sequence = ?2 AND idx = ?3 AND leaf = ?4",
                    params![key.origin, key.seq(), key.idx(), leaf],
                )?;
            }
            Ok(())
        })
    }

    /// Applies one change to the event's working papers and returns them.
    pub fn apply(&mut self, key: &EventKey, change: &Change) -> Result<Annotations, PapersError> {
        match change {
            Change::AddTag { tag } => self.add_tag(key, tag)?,
            Change::RemoveTag { tag } => self.remove_tag(key, tag)?,
            Change::SetNote { note } => self.set_note(key, note)?,
            Change::SetBookmark { on } => self.set_bookmark(key, *on)?,
        }
        self.annotations(key)
    }

    /// Tags in use, saved searches and recent queries.
    pub fn view(&self) -> Result<PapersView, PapersError> {
        Ok(PapersView {
            tags: self.tags()?,
            saved_searches: self.saved_searches()?,
            history: self.history(HISTORY_SHOWN)?,
        })
    }

    /// The working papers on one event.
    pub fn annotations(&self, key: &EventKey) -> Result<Annotations, PapersError> {
        annotations_on(&self.conn, key)
    }

    /// Every tag in use, with how many events carry it, most used first.
    pub fn tags(&self) -> Result<Vec<TagCount>, PapersError> {
        let mut stmt = self.conn.prepare(
            "SELECT min(tag), count(*) FROM papers.tags GROUP BY tag ORDER BY count(*) DESC, min(tag)",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(TagCount {
                    tag: r.get(0)?,
                    events: r.get::<_, i64>(1)?.max(0) as u64,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Every annotated event's annotations whose id is in `ids` (all annotated events when `ids` is `None`),
    /// in event id order.
    pub fn event_annotations(
        &self,
        ids: Option<&[String]>,
    ) -> Result<Vec<EventAnnotations>, PapersError> {
        event_annotations(&self.conn, ids)
    }

    /// Saves `query` under `name` (replacing a saved search of that name).
    pub fn save_search(&mut self, name: &str, query: &str) -> Result<SavedSearch, PapersError> {
        let name = checked(name, MAX_NAME_CHARS, "name of the saved search", false)?;
        let query = query.trim().to_owned();
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(PapersError::Invalid(format!(
                "the query is longer than {MAX_QUERY_CHARS} characters"
            )));
        }
        let saved = SavedSearch {
            name: name.clone(),
            query: query.clone(),
            saved: now(),
        };
        self.logged("search saved", &name, &query, |c| {
            c.execute(
                "INSERT INTO papers.saved_searches (name, query, saved) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO UPDATE SET name = excluded.name, query = excluded.query, saved = excluded.saved",
                params![saved.name, saved.query, saved.saved],
            )?;
            Ok(())
        })?;
        Ok(saved)
    }

    /// Deletes the saved search `name`; false when there is none.
    pub fn delete_saved_search(&mut self, name: &str) -> Result<bool, PapersError> {
        let exists = self
            .conn
            .query_row(
                "SELECT query FROM papers.saved_searches WHERE name = ?1",
                [name],
                |r| r.get::<_, String>(0),
            )
            .optional()?;
        let Some(query) = exists else {
            return Ok(false);
        };
        self.logged("saved search deleted", name, &query, |c| {
            c.execute("DELETE FROM papers.saved_searches WHERE name = ?1", [name])?;
            Ok(true)
        })
    }

    /// The saved searches, by name.
    pub fn saved_searches(&self) -> Result<Vec<SavedSearch>, PapersError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, query, saved FROM papers.saved_searches ORDER BY name")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(SavedSearch {
                    name: r.get(0)?,
                    query: r.get(1)?,
                    saved: r.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Remembers a query the auditor ran (not again when it is the last one kept; the oldest beyond
    /// [`HISTORY_KEPT`] are forgotten). History is not logged: running a query changes nothing.
    pub fn remember_query(&mut self, query: &str) -> Result<(), PapersError> {
        let query = query.trim();
        if query.is_empty() || query.chars().count() > MAX_QUERY_CHARS {
            return Ok(());
        }
        let last: Option<String> = self
            .conn
            .query_row(
                "SELECT query FROM papers.history ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if last.as_deref() == Some(query) {
            return Ok(());
        }
        self.conn.execute(
            "INSERT INTO papers.history (query, at) VALUES (?1, ?2)",
            params![query, now()],
        )?;
        self.conn.execute(
            "DELETE FROM papers.history WHERE id <= (SELECT max(id) FROM papers.history) - ?1",
            [HISTORY_KEPT],
        )?;
        Ok(())
    }

    /// The most recent queries, newest first, each once.
    pub fn history(&self, limit: usize) -> Result<Vec<String>, PapersError> {
        let mut stmt = self.conn.prepare(
            "SELECT query FROM papers.history GROUP BY query ORDER BY max(id) DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map([limit.min(HISTORY_KEPT as usize) as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Says that `actor` is the person `person` (replacing what it said before); logged.
    pub fn set_alias(&mut self, actor: &str, person: &str) -> Result<(), PapersError> {
        let actor = checked(actor, 2_000, "actor", false)?;
        let person = checked(person, MAX_NAME_CHARS, "person", false)?;
        self.logged("alias set", &actor, &person, |c| {
            c.execute(
                "INSERT INTO papers.aliases (actor, person, added) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO UPDATE SET person = excluded.person, added = excluded.added",
                params![actor, person, now()],
            )?;
            Ok(())
        })
    }

    /// Forgets what `actor` was said to be; false when nothing was.
    pub fn remove_alias(&mut self, actor: &str) -> Result<bool, PapersError> {
        let person: Option<String> = self
            .conn
            .query_row(
                "SELECT person FROM papers.aliases WHERE actor = ?1",
                [actor],
                |r| r.get(0),
            )
            .optional()?;
        let Some(person) = person else {
            return Ok(false);
        };
        self.logged("alias removed", actor, &person, |c| {
            c.execute("DELETE FROM papers.aliases WHERE actor = ?1", [actor])?;
            Ok(true)
        })
    }

    /// Every alias, by person then actor.
    pub fn aliases(&self) -> Result<Vec<Alias>, PapersError> {
        let mut stmt = self
            .conn
            .prepare("SELECT actor, person FROM papers.aliases ORDER BY person, actor")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Alias {
                    actor: r.get(0)?,
                    person: r.get(1)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Appends an entry to the action log (imports, trust decisions, exports, re-checks: what the doors do).
    pub fn log_action(
        &mut self,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<Action, PapersError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let entry = log::append(&tx, action, subject, detail)?;
        tx.commit()?;
        Ok(entry)
    }

    /// The action log, oldest first.
    pub fn actions(&self) -> Result<Vec<Action>, PapersError> {
        log::entries(&self.conn)
    }

    /// Re-computes the action log's hash chain.
    pub fn check_log(&self) -> Result<LogCheck, PapersError> {
        log::check(&self.conn)
    }
}

/// Actor values of the store (read on `conn`, a store connection with the working papers attached) that look like
/// one person and are not aliased yet: those sharing a short name ([`short_name`]) with each other or with an
/// actor value that is that short name, ASCII case-insensitively. At most `limit`, the largest groups first.
pub fn suggest_aliases(
    conn: &Connection,
    limit: usize,
) -> Result<Vec<AliasSuggestion>, PapersError> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT actor FROM main.events WHERE actor IS NOT NULL
         AND actor NOT IN (SELECT actor FROM papers.aliases) ORDER BY actor",
    )?;
    let actors = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut groups: std::collections::BTreeMap<String, (Option<String>, Vec<String>, &str)> =
        std::collections::BTreeMap::new();
    for actor in &actors {
        match short_name(actor) {
            Some((short, why)) => {
                let g = groups
                    .entry(short.to_ascii_lowercase())
                    .or_insert((None, Vec::new(), why));
                if g.2.is_empty() {
                    g.2 = why;
                }
                g.1.push(actor.clone());
            }
            None if !actor.contains([':', '/', '@', ' ']) => {
                let g = groups
                    .entry(actor.to_ascii_lowercase())
                    .or_insert((None, Vec::new(), ""));
                g.0.get_or_insert_with(|| actor.clone());
                g.1.push(actor.clone());
            }
            None => {}
        }
    }
    let mut out: Vec<AliasSuggestion> = groups
        .into_iter()
        .filter(|(_, (_, members, why))| members.len() >= 2 && !why.is_empty())
        .map(|(key, (short, mut members, why))| {
            members.sort();
            members.dedup();
            AliasSuggestion {
                person: short.unwrap_or(key),
                actors: members,
                why: format!("the same name as {why}"),
            }
        })
        .filter(|s| s.actors.len() >= 2)
        .collect();
    out.sort_by(|a, b| {
        b.actors
            .len()
            .cmp(&a.actors.len())
            .then(a.person.cmp(&b.person))
    });
    out.truncate(limit);
    Ok(out)
}

/// Appends an entry to the action log of the store at `db` (what the doors call after an export or a re-check).
pub fn log_to(db: &Path, action: &str, subject: &str, detail: &str) -> Result<Action, PapersError> {
    Papers::open(db)?.log_action(action, subject, detail)
}

/// The working papers on one event, read on `conn`: the papers' own connection or a store connection they are
/// attached to.
pub fn annotations_on(conn: &Connection, key: &EventKey) -> Result<Annotations, PapersError> {
    let leaf = key.leaf_bytes()?;
    let p = params![key.origin, key.seq(), key.idx(), leaf];
    let cond = "origin = ?1 AND sequence = ?2 AND idx = ?3 AND leaf = ?4";
    let mut stmt = conn.prepare(&format!(
        "SELECT tag FROM papers.tags WHERE {cond} ORDER BY added, rowid"
    ))?;
    let tags = stmt
        .query_map(p, |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    let note = conn
        .query_row(
            &format!("SELECT note FROM papers.notes WHERE {cond}"),
            p,
            |r| r.get(0),
        )
        .optional()?;
    let bookmarked = conn
        .query_row(
            &format!("SELECT 1 FROM papers.bookmarks WHERE {cond}"),
            p,
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    Ok(Annotations {
        tags,
        note,
        bookmarked,
    })
}

/// Every annotated event's annotations whose id is in `ids` (all annotated events when `ids` is `None`),
/// in event id order.
pub fn event_annotations(
    conn: &Connection,
    ids: Option<&[String]>,
) -> Result<Vec<EventAnnotations>, PapersError> {
    let mut stmt = conn.prepare(
        "SELECT origin, sequence, idx, lower(hex(leaf)) FROM papers.tags
         UNION SELECT origin, sequence, idx, lower(hex(leaf)) FROM papers.notes
         UNION SELECT origin, sequence, idx, lower(hex(leaf)) FROM papers.bookmarks
         ORDER BY 1, 2, 3",
    )?;
    let keys = stmt
        .query_map([], |r| {
            Ok(EventKey {
                origin: r.get(0)?,
                sequence: r.get::<_, i64>(1)?.max(0) as u64,
                index: r.get::<_, i64>(2)?.max(0) as u64,
                leaf: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let wanted: Option<std::collections::HashSet<&str>> =
        ids.map(|ids| ids.iter().map(String::as_str).collect());
    let mut out = Vec::new();
    for key in keys {
        let id = key.id();
        if wanted.as_ref().is_some_and(|w| !w.contains(id.as_str())) {
            continue;
        }
        let a = annotations_on(conn, &key)?;
        out.push(EventAnnotations {
            event: id,
            leaf: key.leaf,
            tags: a.tags,
            note: a.note,
            bookmarked: a.bookmarked,
        });
    }
    Ok(out)
}

/// Attaches the working papers of the store at `db` to a store connection as [`SCHEMA`], creating them when the
/// connection may write. A read-only connection to a store without working papers gets an empty set.
pub fn attach(
    conn: &Connection,
    db: Option<&Path>,
    read_only: bool,
) -> Result<(), rusqlite::Error> {
    let attach_at = |path: &str| conn.execute(&format!("ATTACH DATABASE ?1 AS {SCHEMA}"), [path]);
    match db {
        None => {
            attach_at(":memory:")?;
            conn.execute_batch(&create_sql(Some(SCHEMA)))
        }
        Some(db) if !read_only => {
            attach_at(&path_of(db).to_string_lossy())?;
            conn.execute_batch(&format!("PRAGMA {SCHEMA}.journal_mode = WAL"))?;
            conn.execute_batch(&create_sql(Some(SCHEMA)))
        }
        Some(db) => {
            let path = path_of(db);
            let usable = path.exists()
                && attach_at(&path.to_string_lossy()).is_ok()
                && conn
                    .query_row(
                        &format!(
                            "SELECT count(*) FROM {SCHEMA}.sqlite_schema WHERE name IN ('tags', 'notes', 'bookmarks')"
                        ),
                        [],
                        |r| r.get::<_, i64>(0),
                    )
                    .is_ok_and(|n| n == 3);
            if usable {
                return Ok(());
            }
            let _ = conn.execute_batch(&format!("DETACH DATABASE {SCHEMA}"));
            let empty = empty_papers().map_err(|e| {
                rusqlite::Error::ToSqlConversionFailure(
                    format!("empty working papers cannot be made: {e}").into(),
                )
            })?;
            let uri = empty.to_string_lossy().into_owned();
            attach_at(&uri).map(|_| ())
        }
    }
}

/// Empty working papers in a temporary file of this process, attached by read-only stores that have none.
fn empty_papers() -> Result<PathBuf, String> {
    static EMPTY: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    EMPTY
        .get_or_init(|| {
            let file = tempfile::Builder::new()
                .prefix("auditlens-empty-papers-")
                .tempfile()
                .map_err(|e| e.to_string())?;
            let conn = Connection::open_with_flags(
                file.path(),
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
            )
            .map_err(|e| e.to_string())?;
            conn.execute_batch(&create_sql(None))
                .map_err(|e| e.to_string())?;
            drop(conn);
            file.into_temp_path().keep().map_err(|e| e.to_string())
        })
        .clone()
}
