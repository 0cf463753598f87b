//! `check`: re-verify the whole database from the stored bytes against the stored signed checkpoints, so an edit
//! made to the SQLite file behind the app's back is found: event bytes, leaf hashes, Merkle roots, hash chains,
//! signatures, manifest hashes, missing or extra rows, and the normalized columns (re-derived from the verified
//! bytes and compared).

use rusqlite::params;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Store, StoreError};
use crate::archive::{ChainLines, Manifest};
use crate::checkpoint::Checkpoint;
use crate::merkle::{self, Hash, RootBuilder};
use crate::note::{Note, VerifierKey};
use crate::seal::chain_step;
use crate::sources::{Normalizer, SourceKind};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckProblem {
    pub archive_id: Option<i64>,
    pub origin: Option<String>,
    pub sequence: Option<u64>,
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_index: Option<u64>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckReport {
    pub ok: bool,
    pub archives_checked: u64,
    pub events_checked: u64,
    pub problems: Vec<CheckProblem>,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckProgress {
    pub archives_done: u64,
    pub archives_total: u64,
    pub events_done: u64,
    pub events_total: u64,
}

/// At most this many problems are listed per archive (the count of the rest is reported).
const MAX_PROBLEMS_PER_ARCHIVE: usize = 50;

struct ArchiveMeta {
    id: i64,
    status: String,
    origin: Option<String>,
    sequence: Option<u64>,
    source_kind: Option<String>,
    events: u64,
    signer_key: Option<String>,
    root: Option<Vec<u8>>,
    chain_start: Option<Vec<u8>>,
    chain_end: Option<Vec<u8>>,
    checkpoint: Option<Vec<u8>>,
    manifest: Option<Vec<u8>>,
    time_first: Option<i64>,
    time_last: Option<i64>,
    mapping: Option<Vec<u8>>,
    normalization: Option<String>,
}

impl Store {
    /// Re-verifies every stored archive that is not flagged failed. With `trusted` non-empty, archives marked
    /// verified must also be signed by one of those keys (the trust decision itself is re-checked).
    pub fn check(
        &self,
        trusted: &[VerifierKey],
        progress: &mut dyn FnMut(&CheckProgress) -> bool,
    ) -> Result<CheckReport, StoreError> {
        let mut problems = Vec::new();
        let integrity: String = self
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if integrity != "ok" {
            problems.push(global(format!("SQLite quick_check: {integrity}")));
        }
        let archives = self.archive_metas()?;
        let events_total: u64 = self
            .conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
        let mut p = CheckProgress {
            archives_done: 0,
            archives_total: archives.len() as u64,
            events_done: 0,
            events_total,
        };
        let mut events_checked = 0;
        for a in &archives {
            if a.status == "failed" {
                p.archives_done += 1;
                continue;
            }
            let before = problems.len();
            events_checked += self.check_archive(a, trusted, &mut problems, &mut p, progress)?;
            if problems.len() - before > MAX_PROBLEMS_PER_ARCHIVE {
                let extra = problems.len() - before - MAX_PROBLEMS_PER_ARCHIVE;
                problems.truncate(before + MAX_PROBLEMS_PER_ARCHIVE);
                problems.push(at(
                    a,
                    None,
                    format!("... and {extra} more problems in this archive"),
                ));
            }
            p.archives_done += 1;
            if !progress(&p) {
                return Err(StoreError::Invalid("check cancelled".into()));
            }
        }
        let orphans: i64 = self.conn.query_row(
            "SELECT count(*) FROM events WHERE archive_id NOT IN (SELECT id FROM archives)",
            [],
            |r| r.get(0),
        )?;
        if orphans > 0 {
            problems.push(global(format!("{orphans} events belong to no archive")));
        }
        problems.extend(self.check_summaries()?);
        if let Err(e) = self.conn.execute(
            "INSERT INTO events_fts(events_fts, rank) VALUES ('integrity-check', 1)",
            [],
        ) {
            problems.push(global(format!(
                "full-text index does not match the stored events: {e}"
            )));
        }
        Ok(CheckReport {
            ok: problems.is_empty(),
            archives_checked: archives.len() as u64,
            events_checked,
            problems,
        })
    }

    fn archive_metas(&self) -> Result<Vec<ArchiveMeta>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, status, origin, sequence, source_kind, events, signer_key, root, chain_start, chain_end,
                    checkpoint, manifest, time_first, time_last, mapping, normalization
             FROM archives ORDER BY id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ArchiveMeta {
                    id: r.get(0)?,
                    status: r.get(1)?,
                    origin: r.get(2)?,
                    sequence: r.get(3)?,
                    source_kind: r.get(4)?,
                    events: r.get(5)?,
                    signer_key: r.get(6)?,
                    root: r.get(7)?,
                    chain_start: r.get(8)?,
                    chain_end: r.get(9)?,
                    checkpoint: r.get(10)?,
                    manifest: r.get(11)?,
                    time_first: r.get(12)?,
                    time_last: r.get(13)?,
                    mapping: r.get(14)?,
                    normalization: r.get(15)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    fn check_archive(
        &self,
        a: &ArchiveMeta,
        trusted: &[VerifierKey],
        problems: &mut Vec<CheckProblem>,
        p: &mut CheckProgress,
        progress: &mut dyn FnMut(&CheckProgress) -> bool,
    ) -> Result<u64, StoreError> {
        let mut problem = |index: Option<u64>, msg: String| problems.push(at(a, index, msg));
        // The signed documents first: without them nothing below can be trusted.
        let Some(signed) = signed_documents(a, trusted)
            .map_err(|m| problem(None, m))
            .ok()
        else {
            return Ok(0);
        };
        let (cp, chain) = (signed.checkpoint, signed.chain);
        if a.origin.as_deref() != Some(cp.origin.as_str()) {
            problem(
                None,
                format!(
                    "stored origin {:?} differs from the signed {:?}",
                    a.origin, cp.origin
                ),
            );
        }
        if a.sequence != Some(chain.sequence) {
            problem(
                None,
                format!(
                    "stored sequence {:?} differs from the signed {}",
                    a.sequence, chain.sequence
                ),
            );
        }
        if a.events != cp.size {
            problem(
                None,
                format!(
                    "stored event count {} differs from the signed {}",
                    a.events, cp.size
                ),
            );
        }
        if a.root.as_deref() != Some(&cp.root[..]) {
            problem(
                None,
                "stored Merkle root differs from the signed root".into(),
            );
        }
        if a.chain_start.as_deref() != Some(&chain.chain_start[..])
            || a.chain_end.as_deref() != Some(&chain.chain_end[..])
        {
            problem(
                None,
                "stored chain values differ from the signed ones".into(),
            );
        }
        let kind: SourceKind = match signed.manifest.source_kind.parse() {
            Ok(k) => k,
            Err(_) => {
                problem(
                    None,
                    format!("unknown source kind {:?}", signed.manifest.source_kind),
                );
                return Ok(0);
            }
        };
        if a.source_kind.as_deref() != Some(kind.as_str()) {
            problem(
                None,
                format!(
                    "stored source kind {:?} differs from the signed {kind}",
                    a.source_kind
                ),
            );
        }
        // The mapping file: the stored bytes must be the ones the signed manifest names.
        match (&signed.manifest.mapping_sha256, &a.mapping) {
            (Some(signed_hash), Some(bytes)) => {
                let found: Hash = Sha256::digest(bytes).into();
                if crate::archive::encode_hash(&found) != *signed_hash {
                    problem(
                        None,
                        "stored mapping.toml differs from the one the signed manifest names".into(),
                    );
                    return Ok(0);
                }
            }
            (Some(_), None) => {
                problem(
                    None,
                    "the signed manifest names a mapping file; none is stored".into(),
                );
                return Ok(0);
            }
            (None, Some(_)) => {
                problem(
                    None,
                    "a mapping file is stored, but the signed manifest names none".into(),
                );
                return Ok(0);
            }
            (None, None) => {}
        }
        let normalizer = match Normalizer::new(kind, a.mapping.as_deref()) {
            Ok(n) => n,
            Err(e) => {
                problem(None, format!("cannot re-derive the normalized fields: {e}"));
                return Ok(0);
            }
        };
        // Whose rules: the stored choice must be the signed rules or the auditor's choice of a built-in mapper
        // of this AuditLens (docs/sources.md, "Whose rules"); the fields are re-derived under it.
        let normalizer = match crate::sources::Normalization::from_column(
            a.normalization.as_deref().unwrap_or(""),
            kind,
            a.mapping.as_deref(),
        ) {
            Ok(n) if n.by == crate::sources::NormalizedBy::Auditor => {
                Normalizer::builtin(n.builtin_kind().unwrap_or(kind))
            }
            Ok(_) => normalizer,
            Err(why) => {
                problem(None, format!("stored normalization: {why}"));
                normalizer
            }
        };
        let source_name = normalizer.source_name();

        let mut stmt = self.conn.prepare_cached(
            "SELECT idx, leaf, raw, ts, source, origin, actor, action, resource, outcome, ip, agent, env, stage,
                    category, id, privilege
             FROM events WHERE archive_id = ?1 ORDER BY idx",
        )?;
        let mut rows = stmt.query(params![a.id])?;
        let mut root = RootBuilder::new();
        let mut chain_value = chain.chain_start;
        let mut expected_index = 0u64;
        let (mut ts_min, mut ts_max): (Option<i64>, Option<i64>) = (None, None);
        while let Some(r) = rows.next()? {
            let idx: i64 = r.get(0)?;
            let idx = idx as u64;
            if idx != expected_index {
                if idx > expected_index {
                    problem(
                        Some(expected_index),
                        format!("events {expected_index}..{} are missing", idx - 1),
                    );
                } else {
                    problem(Some(idx), "event index out of order or duplicated".into());
                }
            }
            expected_index = idx + 1;
            let stored_leaf: Vec<u8> = r.get(1)?;
            let raw: Vec<u8> = match r.get_ref(2)? {
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    t.to_vec()
                }
                _ => Vec::new(),
            };
            let leaf = merkle::leaf_hash(&raw);
            if stored_leaf != leaf {
                problem(
                    Some(idx),
                    format!(
                        "event bytes do not match the stored leaf hash: expected {}, found {}",
                        hex(&stored_leaf),
                        merkle::to_hex(&leaf)
                    ),
                );
            }
            root.push(leaf);
            chain_value = chain_step(&chain_value, &leaf);
            let n = normalizer.normalize_bytes(&raw);
            let stored: [Option<String>; 12] = [
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
                r.get(12)?,
                r.get(13)?,
                r.get(14)?,
                r.get(16)?,
            ];
            let derived: [Option<&str>; 12] = [
                Some(source_name.as_str()),
                Some(cp.origin.as_str()),
                n.actor.as_deref(),
                n.action.as_deref(),
                n.resource.as_deref(),
                n.outcome.as_deref(),
                n.ip.as_deref(),
                n.agent.as_deref(),
                n.env.as_deref(),
                n.stage.as_deref(),
                n.category.as_deref(),
                n.privilege.as_deref(),
            ];
            const NAMES: [&str; 12] = [
                "source",
                "origin",
                "actor",
                "action",
                "resource",
                "outcome",
                "ip",
                "agent",
                "env",
                "stage",
                "category",
                "privilege",
            ];
            for ((name, s), d) in NAMES.iter().zip(&stored).zip(derived) {
                if s.as_deref() != d {
                    problem(
                        Some(idx),
                        format!("stored {name} {s:?} differs from the event's {d:?}"),
                    );
                }
            }
            let ts: Option<i64> = r.get(3)?;
            let id: i64 = r.get(15)?;
            if ts != n.ts {
                problem(
                    Some(idx),
                    format!("stored time {ts:?} differs from the event's {:?}", n.ts),
                );
            } else if !super::rowid::id_matches_time(id, ts) {
                problem(
                    Some(idx),
                    "event id is outside its time's range (moved in time order)".into(),
                );
            }
            if let Some(t) = n.ts {
                ts_min = Some(ts_min.map_or(t, |m| m.min(t)));
                ts_max = Some(ts_max.map_or(t, |m| m.max(t)));
            }
            p.events_done += 1;
            if p.events_done % 65536 == 0 && !progress(p) {
                return Err(StoreError::Invalid("check cancelled".into()));
            }
        }
        if expected_index < cp.size {
            problem(
                Some(expected_index),
                format!("events {expected_index}..{} are missing", cp.size - 1),
            );
        } else if expected_index > cp.size {
            problem(
                Some(cp.size),
                format!(
                    "{} events more than the signed {}",
                    expected_index - cp.size,
                    cp.size
                ),
            );
        }
        if root.root() != cp.root {
            problem(
                None,
                "Merkle root of the stored events differs from the signed root".into(),
            );
        }
        if chain_value != chain.chain_end {
            problem(
                None,
                "hash chain over the stored events differs from the signed chain end".into(),
            );
        }
        if (ts_min, ts_max) != (a.time_first, a.time_last) {
            problem(
                None,
                "stored time range differs from the events' times".into(),
            );
        }
        Ok(expected_index)
    }
}

impl Store {
    /// The summary tables the dashboards read must add up to the stored events (by archive, hour and every
    /// column they keep), or a figure could disagree with its drill-down search.
    fn check_summaries(&self) -> Result<Vec<CheckProblem>, StoreError> {
        use super::schema::{COUNTED_STAGE, SUMMARIES};
        let mut problems = Vec::new();
        for (table, time, of_ts, columns) in SUMMARIES {
            let binary: Vec<String> = columns
                .split(", ")
                .map(|c| format!("{c} COLLATE BINARY"))
                .collect();
            let binary = binary.join(", ");
            let sql = format!(
                "WITH ev AS (SELECT archive_id, {of_ts} AS t, {binary}, count(*) AS n FROM events
                             WHERE {COUNTED_STAGE} GROUP BY archive_id, t, {binary}),
                      ru AS (SELECT archive_id, {time} AS t, {binary}, sum(n) AS n FROM {table}
                             GROUP BY archive_id, t, {binary}),
                      diff AS (SELECT * FROM (SELECT * FROM ev EXCEPT SELECT * FROM ru)
                               UNION ALL SELECT * FROM (SELECT * FROM ru EXCEPT SELECT * FROM ev))
                 SELECT archive_id, count(*) FROM diff GROUP BY archive_id ORDER BY archive_id"
            );
            let mut stmt = self.conn.prepare(&sql)?;
            let rows: Vec<(i64, i64)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            for (archive_id, n) in rows {
                problems.push(CheckProblem {
                    archive_id: Some(archive_id),
                    origin: None,
                    sequence: None,
                    event_index: None,
                    message: format!(
                        "summary table {table} disagrees with the stored events ({n} differing rows): \
                         dashboard figures would not match their searches"
                    ),
                });
            }
        }
        Ok(problems)
    }
}

struct Signed {
    checkpoint: Checkpoint,
    chain: ChainLines,
    manifest: Manifest,
}

/// Checks the stored checkpoint's signature by the stored signer key (which must be the manifest's signer) and
/// the stored manifest's hash; returns the parsed documents.
fn signed_documents(a: &ArchiveMeta, trusted: &[VerifierKey]) -> Result<Signed, String> {
    let note_bytes = a.checkpoint.as_deref().ok_or("no stored checkpoint")?;
    let manifest_bytes = a.manifest.as_deref().ok_or("no stored manifest")?;
    let note = Note::parse(note_bytes)
        .map_err(|e| format!("stored checkpoint is not a signed note: {e}"))?;
    let checkpoint =
        Checkpoint::parse(&note.text).map_err(|e| format!("stored checkpoint body: {e}"))?;
    let chain = ChainLines::from_checkpoint(&checkpoint).map_err(|e| e.to_string())?;
    let manifest: Manifest = serde_json::from_slice(manifest_bytes)
        .map_err(|e| format!("stored manifest is not valid: {e}"))?;
    let key_text = a.signer_key.as_deref().ok_or("no stored signer key")?;
    if key_text != manifest.signer {
        return Err("stored signer key differs from the manifest's signer".into());
    }
    let key = VerifierKey::parse(key_text).map_err(|e| format!("stored signer key: {e}"))?;
    note.verify(&key)
        .map_err(|e| format!("stored checkpoint signature: {e}"))?;
    let manifest_hash: Hash = Sha256::digest(manifest_bytes).into();
    if manifest_hash != chain.manifest_sha256 {
        return Err("stored manifest differs from the one the checkpoint signs".into());
    }
    if manifest.origin != checkpoint.origin
        || manifest.sequence != chain.sequence
        || manifest.events != checkpoint.size
    {
        return Err("stored manifest disagrees with the signed checkpoint".into());
    }
    if a.status == "verified" && !trusted.is_empty() && !trusted.contains(&key) {
        return Err(format!(
            "marked verified, but its signer {key} is not among the trusted keys"
        ));
    }
    Ok(Signed {
        checkpoint,
        chain,
        manifest,
    })
}

fn at(a: &ArchiveMeta, event_index: Option<u64>, message: String) -> CheckProblem {
    CheckProblem {
        archive_id: Some(a.id),
        origin: a.origin.clone(),
        sequence: a.sequence,
        event_index,
        message,
    }
}

fn global(message: String) -> CheckProblem {
    CheckProblem {
        archive_id: None,
        origin: None,
        sequence: None,
        event_index: None,
        message,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
