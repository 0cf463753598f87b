//! Re-normalizing a stored archive with a built-in mapper the auditor chooses (docs/sources.md, "Whose rules";
//! `import --as KIND`, the app's "Re-normalize with built-in mapper…"): the producer decides which rules its
//! signed archive names (a kind, or its own mapping file that may call a 403 a success); the auditor can read the
//! same verified bytes with our rules instead. Only the normalized columns, the event ids (which follow event
//! time, store/rowid.rs), the full-text rows that point at them and the summary tables change, in one
//! transaction; the stored bytes, leaves, root and chain are never touched, and are re-verified first.

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use super::import::{INSERT_EVENT, IdAllocator, PendingEvent, Rollups, prepare, reverify_stored};
use super::{Store, StoreError};
use crate::sources::{Normalization, Normalizer, SourceKind};

/// What a re-normalization did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Renormalized {
    pub archive_id: i64,
    /// Whose rules now make the archive's fields.
    pub normalization: Normalization,
    /// `false` when the archive was already normalized this way (nothing written).
    pub changed: bool,
    /// Events re-normalized.
    pub events: u64,
}

/// An archive's stored `normalization`, `source_kind` and `mapping`.
type RulesColumns = (Option<String>, Option<String>, Option<Vec<u8>>);
/// An archive's `status`, then its [`RulesColumns`] in the order `source_kind`, `mapping`, `normalization`.
type ArchiveRules = (String, Option<String>, Option<Vec<u8>>, Option<String>);

/// Events read, deleted and re-inserted at a time.
const CHUNK: i64 = 4096;

impl Store {
    /// After a commit that replaced events (re-normalization): the index forgets their old ids
    /// ([`super::text_index::forget_archive`]) and indexes them again in the background.
    pub(super) fn forget_replaced(
        &mut self,
        replaced: Vec<super::text_index::Replaced>,
    ) -> Result<(), StoreError> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        for r in &replaced {
            super::text_index::forget_archive(&path, r)?;
        }
        if !replaced.is_empty() {
            self.index_text();
        }
        Ok(())
    }

    /// Re-normalizes a stored archive's events with the built-in mapper of `kind`, in one transaction, after its
    /// stored bytes re-verify against its stored signed checkpoint. `Err(Invalid)` names why it cannot be done.
    pub fn renormalize(
        &mut self,
        archive_id: i64,
        kind: SourceKind,
    ) -> Result<Renormalized, StoreError> {
        let tx = super::text_index::begin_store_write(&mut self.conn)?;
        let mut replaced = Vec::new();
        match renormalize_in(&tx, archive_id, Rules::Auditor(kind), &mut replaced)? {
            Ok(done) => {
                tx.commit()?;
                self.forget_replaced(replaced)?;
                Ok(done)
            }
            Err(why) => Err(StoreError::Invalid(format!(
                "archive #{archive_id} cannot be re-normalized: {why}"
            ))),
        }
    }
}

/// The normalization the store records for an archive (`None` when it records none: a refused kept copy, or
/// a text this AuditLens does not know; `check` names the latter).
pub(super) fn stored_normalization(
    tx: &rusqlite::Connection,
    archive_id: i64,
) -> Result<Option<Normalization>, rusqlite::Error> {
    let row: Option<RulesColumns> = tx
        .query_row(
            "SELECT normalization, source_kind, mapping FROM archives WHERE id = ?1",
            [archive_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(row.and_then(|(column, kind, mapping)| {
        normalization_of(column.as_deref(), kind.as_deref(), mapping.as_deref())
    }))
}

/// An archive's normalization from its stored `normalization`, `source_kind` and `mapping` columns.
pub fn normalization_of(
    column: Option<&str>,
    source_kind: Option<&str>,
    mapping: Option<&[u8]>,
) -> Option<Normalization> {
    let kind: SourceKind = source_kind?.parse().ok()?;
    Normalization::from_column(column?, kind, mapping).ok()
}

/// Which rules a re-normalization applies.
#[derive(Debug, Clone, Copy)]
pub(super) enum Rules {
    /// The auditor's choice of a built-in mapper (`import --as KIND`).
    Auditor(SourceKind),
    /// The rules the archive is normalized by now, at this AuditLens's version of the built-in mappers (an
    /// archive normalized by `k8s/1` is re-read by `k8s/2`; importing an archive again does this).
    Current,
}

/// Re-normalizes within `tx`. The outer `Err` is a database error; the inner one why the archive cannot be
/// re-normalized (nothing is then changed, and the caller must not commit what this wrote).
pub(super) fn renormalize_in(
    tx: &Transaction<'_>,
    archive_id: i64,
    rules: Rules,
    replaced: &mut Vec<super::text_index::Replaced>,
) -> Result<Result<Renormalized, String>, rusqlite::Error> {
    let row: Option<ArchiveRules> = tx
        .query_row(
            "SELECT status, source_kind, mapping, normalization FROM archives WHERE id = ?1",
            [archive_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((status, source_kind, mapping, column)) = row else {
        return Ok(Err("no such archive".into()));
    };
    if status == "failed" {
        return Ok(Err("it is flagged failed; its events are not stored".into()));
    }
    let Some(signed) = source_kind
        .as_deref()
        .and_then(|k| k.parse::<SourceKind>().ok())
    else {
        return Ok(Err(format!("unknown signed source kind {source_kind:?}")));
    };
    let Some(producer) = Normalization::producer(signed, mapping.as_deref()) else {
        return Ok(Err(
            "its signed rules are incomplete (no mapping file stored)".into(),
        ));
    };
    let chosen = match rules {
        Rules::Auditor(kind) => match Normalization::auditor(kind, &producer) {
            Some(chosen) => chosen,
            None => {
                return Ok(Err(format!(
                    "{kind} is not a built-in mapper (jsonl, k8s, cloudtrail, github, gcp, teleport, okta)"
                )));
            }
        },
        Rules::Current => {
            let now = column
                .as_deref()
                .and_then(|c| Normalization::from_column(c, signed, mapping.as_deref()).ok());
            match now {
                Some(n) if n.by == crate::sources::NormalizedBy::Auditor => n
                    .builtin_kind()
                    .and_then(|k| Normalization::auditor(k, &producer))
                    .unwrap_or(n),
                _ => producer.clone(),
            }
        }
    };
    let normalizer = match chosen.builtin_kind() {
        Some(kind) => Normalizer::builtin(kind),
        None => match Normalizer::new(signed, mapping.as_deref()) {
            Ok(n) => n,
            Err(e) => return Ok(Err(format!("its mapping file: {e}"))),
        },
    };
    let events: u64 = tx.query_row(
        "SELECT count(*) FROM events WHERE archive_id = ?1",
        [archive_id],
        |r| r.get(0),
    )?;
    if column.as_deref() == Some(chosen.column().as_str()) {
        return Ok(Ok(Renormalized {
            archive_id,
            normalization: chosen,
            changed: false,
            events,
        }));
    }
    // The bytes the new fields are read from must be the verified ones.
    if let Err(why) = reverify_stored(tx, archive_id) {
        return Ok(Err(format!(
            "its stored events do not re-verify ({why}); run `auditlens check`"
        )));
    }
    let source = normalizer.source_name();
    let origin: Option<String> = tx.query_row(
        "SELECT origin FROM archives WHERE id = ?1",
        [archive_id],
        |r| r.get(0),
    )?;
    for (table, ..) in super::schema::SUMMARIES {
        tx.execute(
            &format!("DELETE FROM {table} WHERE archive_id = ?1"),
            [archive_id],
        )?;
    }
    let mut rollups = Rollups::default();
    let mut ids = IdAllocator::default();
    let mut times = super::import::Times::default();
    let entry: std::sync::Arc<str> = std::sync::Arc::from("(stored)");
    let mut next_idx = 0i64;
    let mut old_ids = Vec::new();
    loop {
        // Each chunk's old rows (and their full-text entries) go first, then come back under new ids.
        let chunk: Vec<(i64, i64, Vec<u8>, String)> = tx
            .prepare_cached(
                "SELECT id, idx, leaf, raw FROM events WHERE archive_id = ?1 AND idx >= ?2 ORDER BY idx LIMIT ?3",
            )?
            .query_map(params![archive_id, next_idx, CHUNK], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        let Some(last) = chunk.last() else {
            break;
        };
        next_idx = last.1 + 1;
        for (id, ..) in &chunk {
            tx.prepare_cached("DELETE FROM events WHERE id = ?1")?
                .execute([id])?;
            old_ids.push(*id);
        }
        for (_, idx, leaf, raw) in chunk {
            let Ok(leaf) = <[u8; 32]>::try_from(leaf.as_slice()) else {
                return Ok(Err(format!(
                    "event index {idx}: stored leaf is not 32 bytes"
                )));
            };
            let prepared = prepare(
                &normalizer,
                PendingEvent {
                    index: idx as u64,
                    line: 0,
                    entry: entry.clone(),
                    leaf,
                    bytes: raw.into_bytes(),
                },
            );
            let (text, fields) = match prepared.outcome {
                Ok(ok) => ok,
                Err(why) => return Ok(Err(format!("event index {idx}: {why}"))),
            };
            // An event that does not parse keeps no fields, whichever mapper (as the importer stores it).
            let (n, parse_error) = match fields {
                Ok(n) => (n, None),
                Err(e) => (crate::sources::Normalized::default(), Some(e)),
            };
            times.add(idx as u64, n.ts, parse_error.is_none());
            let Some(id) = ids.allocate(tx, n.ts)? else {
                return Ok(Err(format!(
                    "event index {idx}: more than a billion events of the store share about one second of event time"
                )));
            };
            tx.prepare_cached(INSERT_EVENT)?.execute(params![
                id,
                archive_id,
                idx,
                n.ts,
                source,
                origin,
                n.actor,
                n.action,
                n.resource,
                n.outcome,
                n.ip,
                n.agent,
                n.env,
                n.stage,
                n.category,
                &leaf[..],
                &text,
                n.privilege,
                parse_error.as_ref().map(crate::sources::ParseError::reason),
            ])?;
            rollups.add(n);
            if rollups.full() {
                rollups.flush(tx, archive_id, &source)?;
            }
        }
    }
    rollups.flush(tx, archive_id, &source)?;
    tx.execute(
        "UPDATE archives SET normalization = ?1, time_first = ?2, time_last = ?3, untimed = ?4 WHERE id = ?5",
        params![chosen.column(), times.min, times.max, times.untimed, archive_id],
    )?;
    replaced.push(super::text_index::Replaced::record(
        tx, archive_id, old_ids,
    )?);
    Ok(Ok(Renormalized {
        archive_id,
        normalization: chosen,
        changed: true,
        events,
    }))
}
