//! Integrity incidents (issue 16): every import that failed verification, was refused (a fork, a broken link to
//! the stored chain) or met a key not trusted for its origin is recorded with its reason, whether or not the
//! archive itself is kept, and stays on the Overview and the Archives screen until the auditor marks it reviewed,
//! with a note. What happened to the evidence handed over, not evidence: kept in a table of its own, never among
//! the verified archives and events, and never changing a verdict.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::import::{ImportOutcome, ImportResult};
use super::{Store, StoreError};

/// Longest review note, in characters.
pub const MAX_NOTE_CHARS: usize = 4000;

/// One incident: what happened, when (first and last time), and the auditor's review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Incident {
    pub id: i64,
    /// `failed` (did not verify), `refused` (verified, but contradicts the store: a fork or a broken link) or
    /// `untrusted` (a valid signature by a key not trusted for its origin).
    pub kind: String,
    /// The file as it was given.
    pub path: String,
    pub origin: Option<String>,
    pub sequence: Option<u64>,
    /// The importer's words, the verifier's exact reason included.
    pub reason: String,
    /// RFC 3339 UTC.
    pub first_seen: String,
    pub last_seen: String,
    /// How many imports met it (the same file, kind and reason while not reviewed).
    pub times: u64,
    /// The archive row kept for it (`--keep-failed`, or an untrusted copy kept for later), if any.
    pub archive_id: Option<i64>,
    pub reviewed_at: Option<String>,
    pub review_note: Option<String>,
}

/// The incident kind of an import's outcome; `None` for outcomes that are not incidents.
fn kind_of(outcome: ImportOutcome) -> Option<&'static str> {
    match outcome {
        ImportOutcome::Failed => Some("failed"),
        ImportOutcome::Refused => Some("refused"),
        ImportOutcome::Untrusted => Some("untrusted"),
        ImportOutcome::Imported | ImportOutcome::AlreadyImported | ImportOutcome::Cancelled => None,
    }
}

const COLUMNS: &str =
    "id, kind, path, origin, sequence, reason, first_seen, last_seen, times, archive_id,
    reviewed_at, review_note";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Incident> {
    Ok(Incident {
        id: r.get(0)?,
        kind: r.get(1)?,
        path: r.get(2)?,
        origin: r.get(3)?,
        sequence: r.get::<_, Option<i64>>(4)?.map(|s| s.max(0) as u64),
        reason: r.get(5)?,
        first_seen: r.get(6)?,
        last_seen: r.get(7)?,
        times: r.get::<_, i64>(8)?.max(0) as u64,
        archive_id: r.get(9)?,
        reviewed_at: r.get(10)?,
        review_note: r.get(11)?,
    })
}

impl Store {
    /// Records the incident an import's result is, if it is one (after the import's own transaction ended, so
    /// that a refused archive leaves its incident even though nothing else was written). An incident not yet
    /// reviewed with the same file, kind and reason is counted again instead of repeated.
    pub(super) fn record_incident(&mut self, result: &ImportResult) -> Result<(), StoreError> {
        let Some(kind) = kind_of(result.outcome) else {
            return Ok(());
        };
        self.record_incident_of(
            kind,
            &result.path,
            result.report.origin.as_deref(),
            result.report.sequence,
            &result.message,
            result.archive_id,
        )
    }

    /// Records an incident of `kind` (failed, refused or untrusted) for the file at `path`.
    pub(super) fn record_incident_of(
        &mut self,
        kind: &str,
        path: &str,
        origin: Option<&str>,
        sequence: Option<u64>,
        reason: &str,
        archive_id: Option<i64>,
    ) -> Result<(), StoreError> {
        let now = crate::time::format_utc(chrono::Utc::now().timestamp_micros());
        let tx = self.conn.transaction()?;
        let open: Option<i64> = tx
            .query_row(
                "SELECT id FROM incidents WHERE reviewed_at IS NULL AND kind = ?1 AND path = ?2 AND reason = ?3
                 AND origin IS ?4 AND sequence IS ?5 ORDER BY id DESC LIMIT 1",
                params![kind, path, reason, origin, sequence],
                |r| r.get(0),
            )
            .optional()?;
        match open {
            Some(id) => {
                tx.execute(
                    "UPDATE incidents SET last_seen = ?1, times = times + 1,
                        archive_id = coalesce(?2, archive_id) WHERE id = ?3",
                    params![now, archive_id, id],
                )?;
            }
            None => {
                tx.execute(
                    "INSERT INTO incidents (kind, path, origin, sequence, reason, first_seen, last_seen, times,
                        archive_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 1, ?7)",
                    params![kind, path, origin, sequence, reason, now, archive_id],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The incidents, newest first: those not reviewed, or every one with `include_reviewed`.
    pub fn incidents(&self, include_reviewed: bool) -> Result<Vec<Incident>, StoreError> {
        let filter = if include_reviewed {
            ""
        } else {
            "WHERE reviewed_at IS NULL"
        };
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM incidents {filter} ORDER BY last_seen DESC, id DESC"
        ))?;
        let rows = stmt.query_map([], row)?.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Marks an incident reviewed with the auditor's note (required: what was found, or done). An incident is
    /// reviewed once; its review is never changed.
    pub fn review_incident(&mut self, id: i64, note: &str) -> Result<Incident, StoreError> {
        let note = note.trim();
        if note.is_empty() {
            return Err(StoreError::Invalid(
                "a review needs a note: what was found or done about the incident".into(),
            ));
        }
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(StoreError::Invalid(format!(
                "a review note has at most {MAX_NOTE_CHARS} characters"
            )));
        }
        let now = crate::time::format_utc(chrono::Utc::now().timestamp_micros());
        let changed = self.conn.execute(
            "UPDATE incidents SET reviewed_at = ?1, review_note = ?2 WHERE id = ?3 AND reviewed_at IS NULL",
            params![now, note, id],
        )?;
        let incident = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM incidents WHERE id = ?1"),
                [id],
                row,
            )
            .optional()?
            .ok_or_else(|| StoreError::Invalid(format!("no incident #{id}")))?;
        if changed == 0 {
            return Err(StoreError::Invalid(format!(
                "incident #{id} was already reviewed at {}",
                incident.reviewed_at.as_deref().unwrap_or("?")
            )));
        }
        Ok(incident)
    }
}
