//! The log of the auditor's actions: append-only and hash chained, so that the working papers have a chain of
//! custody of their own (docs/working-papers.md section 3).
//!
//! Entry `n` (from 1) holds its time, what was done (`action`), to what (`subject`), the details, the hash of
//! entry `n - 1` (`prev`; 64 zeros for the first) and its own `hash`: lowercase hex of
//! SHA-256(`"auditlens action log v1\n"` ‖ the JSON array `[seq, at, action, subject, detail, prev]` as
//! serde_json writes it, without spaces). Changing, removing or reordering any entry breaks every later link;
//! [`check_entries`] names the first entry that does not match, with the expected and found hash. Removing entries from
//! the end is caught against a head the auditor exported or signed (a bundle's `annotations.json` records it).

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::PapersError;

/// `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const DOMAIN: &[u8] = b"auditlens action log v1\n";

/// One entry of the action log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Action {
    pub seq: u64,
    /// RFC 3339 UTC.
    pub at: String,
    /// What was done: `import`, `tag added`, `bundle exported`...
    pub action: String,
    /// To what: an archive's path, an event id, a key fingerprint, a file written.
    pub subject: String,
    pub detail: String,
    /// Hash of the previous entry ([`GENESIS`] for the first).
    pub prev: String,
    /// This entry's hash.
    pub hash: String,
}

/// The hash an entry must have.
pub fn entry_hash(
    seq: u64,
    at: &str,
    action: &str,
    subject: &str,
    detail: &str,
    prev: &str,
) -> String {
    let body = serde_json::to_string(&(seq, at, action, subject, detail, prev))
        .expect("strings and numbers serialize");
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(body.as_bytes());
    crate::merkle::to_hex(&h.finalize().into())
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LogProblem {
    /// The entry (its position from 1, as the chain expects it).
    pub seq: u64,
    pub problem: String,
    pub expected: String,
    pub found: String,
}

/// What re-computing the chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LogCheck {
    pub entries: u64,
    /// The last entry's hash (the head), when the log is not empty.
    pub head: Option<String>,
    /// Every link that does not hold, first first; empty when the chain is whole.
    pub problems: Vec<LogProblem>,
}

impl LogCheck {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Appends an entry (inside the caller's transaction).
pub(super) fn append(
    conn: &Connection,
    action: &str,
    subject: &str,
    detail: &str,
) -> Result<Action, PapersError> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM papers.actions ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq.max(0) as u64 + 1, hash),
        None => (1, GENESIS.to_owned()),
    };
    let at = crate::time::format_utc(chrono::Utc::now().timestamp_micros());
    let hash = entry_hash(seq, &at, action, subject, detail, &prev);
    conn.execute(
        "INSERT INTO papers.actions (seq, at, action, subject, detail, prev, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![seq as i64, at, action, subject, detail, prev, hash],
    )?;
    Ok(Action {
        seq,
        at,
        action: action.to_owned(),
        subject: subject.to_owned(),
        detail: detail.to_owned(),
        prev,
        hash,
    })
}

/// The number of entries and the last one's hash, read on `conn` (the papers' own connection or a store
/// connection they are attached to); `None` when the log is empty.
pub fn head(conn: &Connection) -> Result<Option<(u64, String)>, PapersError> {
    Ok(conn
        .query_row(
            "SELECT seq, hash FROM papers.actions ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)?.max(0) as u64, r.get(1)?)),
        )
        .optional()?)
}

/// Every entry, oldest first.
pub(super) fn entries(conn: &Connection) -> Result<Vec<Action>, PapersError> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, action, subject, detail, prev, hash FROM papers.actions ORDER BY seq",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Action {
                seq: r.get::<_, i64>(0)?.max(0) as u64,
                at: r.get(1)?,
                action: r.get(2)?,
                subject: r.get(3)?,
                detail: r.get(4)?,
                prev: r.get(5)?,
                hash: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Re-computes the chain of `entries` (oldest first), as stored or as exported.
pub fn check_entries(entries: &[Action]) -> LogCheck {
    let mut problems = Vec::new();
    let mut prev = GENESIS.to_owned();
    for (i, e) in entries.iter().enumerate() {
        let want_seq = i as u64 + 1;
        if e.seq != want_seq {
            problems.push(LogProblem {
                seq: want_seq,
                problem: "an entry is missing or out of order".into(),
                expected: format!("entry {want_seq}"),
                found: format!("entry {}", e.seq),
            });
        }
        if e.prev != prev {
            problems.push(LogProblem {
                seq: want_seq,
                problem: "does not link to the previous entry".into(),
                expected: prev.clone(),
                found: e.prev.clone(),
            });
        }
        let hash = entry_hash(e.seq, &e.at, &e.action, &e.subject, &e.detail, &e.prev);
        if hash != e.hash {
            problems.push(LogProblem {
                seq: want_seq,
                problem: "was changed after it was written (its hash does not match its content)"
                    .into(),
                expected: hash,
                found: e.hash.clone(),
            });
        }
        prev = e.hash.clone();
    }
    LogCheck {
        entries: entries.len() as u64,
        head: entries.last().map(|e| e.hash.clone()),
        problems,
    }
}

/// Re-computes the stored chain.
pub(super) fn check(conn: &Connection) -> Result<LogCheck, PapersError> {
    Ok(check_entries(&entries(conn)?))
}

/// The log as JSON Lines, one entry per line, oldest first.
pub fn to_json_lines(entries: &[Action]) -> String {
    let mut out = String::new();
    for e in entries {
        out.push_str(&serde_json::to_string(e).expect("entries serialize"));
        out.push('\n');
    }
    out
}

/// Reads an exported log back (JSON Lines): each line must be one entry.
pub fn from_json_lines(text: &str) -> Result<Vec<Action>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::Papers;
    use super::*;

    #[test]
    fn chain_links_and_an_edit_is_named() {
        let mut p = Papers::open_in_memory().unwrap();
        p.log_action("import", "a.alar", "verified, 10 events")
            .unwrap();
        p.log_action("check", "store", "0 findings").unwrap();
        p.log_action("export", "b.zip", "2 events").unwrap();
        let check = p.check_log().unwrap();
        assert!(check.ok(), "{check:?}");
        assert_eq!(check.entries, 3);
        let all = p.actions().unwrap();
        assert_eq!(all[0].prev, GENESIS);
        assert_eq!(all[1].prev, all[0].hash);
        assert_eq!(check.head.as_deref(), Some(all[2].hash.as_str()));

        // Append-only: the triggers refuse an update or a delete.
        let err = p
            .connection()
            .execute("UPDATE papers.actions SET detail = 'x' WHERE seq = 2", [])
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        assert!(
            p.connection()
                .execute("DELETE FROM papers.actions", [])
                .is_err()
        );

        // Someone with the file drops the triggers and edits entry 2: named, with both hashes.
        p.connection()
            .execute_batch("DROP TRIGGER papers.actions_no_update; UPDATE papers.actions SET detail = '5 findings' WHERE seq = 2")
            .unwrap();
        let check = p.check_log().unwrap();
        assert!(!check.ok());
        assert_eq!(check.problems[0].seq, 2);
        assert_eq!(check.problems[0].found, all[1].hash);
        assert_ne!(check.problems[0].expected, all[1].hash);

        // Re-hashing the edited entry moves the break to the next link.
        let mut edited = p.actions().unwrap();
        let e = &mut edited[1];
        e.hash = entry_hash(e.seq, &e.at, &e.action, &e.subject, &e.detail, &e.prev);
        let check = check_entries(&edited);
        assert_eq!(check.problems.len(), 1);
        assert_eq!(check.problems[0].seq, 3);
        assert!(check.problems[0].problem.contains("link"));

        // A removed middle entry is caught too.
        let mut gap = all.clone();
        gap.remove(1);
        assert!(!check_entries(&gap).ok());

        // Exported and read back, the chain checks the same.
        let text = to_json_lines(&all);
        assert_eq!(from_json_lines(&text).unwrap(), all);
        assert!(from_json_lines("{").is_err());
    }
}
