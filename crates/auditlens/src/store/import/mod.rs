//! Import: verify an archive (streaming) and store it in the same pass, atomically.
//!
//! Everything happens in one write transaction of the store file per archive (`text_index::begin_store_write`).
//! Events are inserted while the verifier streams them; the transaction commits only when the archive verified
//! under a trusted key (or, with `keep_failed`, with the archive flagged). A crash at any point leaves the
//! database as it was before the archive. Its text is indexed after the commit (store/text_index.rs).
//!
//! Threads: the verifier inflates and hashes on its own thread; each event is parsed and normalized on another,
//! in batches bounded by count and by bytes, one batch ahead of this thread, which only writes to SQLite (a
//! single writer).
//!
//! Memory is bounded by bytes, not events (an event may be 16 MiB): the verifier's batches, the batches of the
//! parsing thread and the summary rows each hold at most a few MiB plus one event. An archive whose key is not
//! trusted is refused once its checkpoint is read, before any event is read, unless it is to be kept flagged.
//!
//! Every event that verifies is stored: one that is not a JSON object the parser can read
//! (`sources::parse_event`) is stored with its exact bytes, marked "not parsed" (`parse_error`), without
//! normalized fields but its source and origin, and is found by text search.
//!
//! Layout: this file holds the API ([`ImportOptions`], [`ImportResult`], `Store::import_archive`) and the
//! transaction around one archive; `batch` imports several in order, as both doors do; `sink` decides and stores
//! as the verifier streams, `pipeline` is the parsing thread, `rollups` the summary rows, `ids` the event ids,
//! `promote` kept archives made verified, `cloudtrail` AWS CloudTrail exports (verified by AWS's signatures, not by
//! this module's verifier).

mod batch;
mod cloudtrail;
mod demote;
mod ids;
mod pipeline;
mod promote;
mod rollups;
mod sink;

pub use batch::BatchStep;
pub use cloudtrail::{
    CLOUDTRAIL_EVIDENCE, CLOUDTRAIL_SIGNER, CloudTrailImport, CloudTrailStep,
    CloudTrailTrailImport, MAX_CLOUDTRAIL_FILE_BYTES, cloudtrail_label, cloudtrail_origin,
};
pub use demote::Demotion;
pub(super) use ids::IdAllocator;
use pipeline::*;
pub(super) use pipeline::{PendingEvent, prepare};
pub use promote::Promotion;
pub(super) use promote::reverify_stored;
pub(super) use rollups::Rollups;
use sink::*;
pub(super) use sink::{INSERT_EVENT, Times};

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::Path;
use std::sync::{Arc, mpsc};

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use super::{Store, StoreError, rowid};
use crate::archive::Manifest;
use crate::merkle::Hash;
use crate::note::VerifierKey;
use crate::sources::{Normalization, Normalized, Normalizer, ParseError, SourceKind};
use crate::trust::{TrustDecision, TrustPolicy};
use crate::verify::{
    self, ArchiveReport, ArchiveStatus, EventRef, Failure, FailureKind, Progress, Sink,
};

pub struct ImportOptions<'a> {
    /// Which keys may sign which origins (docs/trust-policy.md). Bare keys are pinned per origin on first use:
    /// the store's verified archives of an origin establish its signers.
    pub trust: &'a TrustPolicy,
    /// Store archives that fail verification (or have an untrusted key), flagged, instead of refusing them.
    pub keep_failed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum ImportOutcome {
    /// Verified under a trusted key and stored.
    Imported,
    /// Verified and identical to an archive already in the store: nothing written.
    AlreadyImported,
    /// Verified, but contradicts the store (a fork: another archive holds this origin and sequence, or the hash
    /// chain does not link to its stored neighbours). Not stored (stored flagged with `keep_failed`).
    Refused,
    /// Valid signature by a key that is not trusted. Not stored (stored flagged with `keep_failed`).
    Untrusted,
    /// Did not verify. Not stored (stored flagged with `keep_failed`).
    Failed,
    /// Stopped by the caller. Nothing written.
    Cancelled,
}

/// The result of importing one archive.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportResult {
    pub path: String,
    pub outcome: ImportOutcome,
    /// What happened, in words (the verifier's exact reason on failure).
    pub message: String,
    /// Whether this import wrote the archive to the store (also when flagged with `keep_failed`).
    pub stored: bool,
    pub archive_id: Option<i64>,
    /// Set when the origin's stored sequences skip numbers before this archive.
    pub gap_before: Option<u64>,
    /// Set when this archive's signer differs from the signer of a neighbouring verified sequence of its origin
    /// (always reported, even when a policy grant allows the new key).
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer_change: Option<crate::verify::SignerChange>,
    /// Stored origins that look like this archive's origin without being it (they differ only in case, Unicode
    /// normalization or invisible characters: `safe_text::origin_skeleton`), in byte order. A warning: origins
    /// are compared exactly, so this archive joins none of them.
    pub lookalikes: Vec<String>,
    pub report: ArchiveReport,
    /// Whose rules made the stored events' fields, when the archive's events are in the store: the archive's own
    /// (as `report.normalization`) or the auditor's choice (`import --as`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub normalization: Option<Normalization>,
    /// The archive's stored events that have no time, when its events are in the store and some have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub untimed: Option<UntimedEvents>,
}

/// The stored events of an archive that parse but have no time under the rules that normalized them
/// (docs/sources.md section 2): they are in no time-filtered figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UntimedEvents {
    pub count: u64,
    /// The events of the archive that parse (the share `count` is of).
    pub of: u64,
    /// The first of them: its index in the archive.
    pub first_index: Option<u64>,
    /// Why it has no time: the first time member it has and its value, or the members looked at. `None` for a
    /// producer's mapping file (its `time` field says where).
    pub why: Option<crate::sources::Untimed>,
}

impl std::fmt::Display for UntimedEvents {
    /// `279 of 1,136 events have no time (event 3: published: "redacted" is not a time)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} {} no time",
            self.count,
            crate::report::count(self.of, "event"),
            if self.count == 1 { "has" } else { "have" }
        )?;
        match (&self.first_index, &self.why) {
            (Some(i), Some(why)) => write!(f, " (event {i}: {why})"),
            (Some(i), None) => write!(f, " (event {i}: the mapping file's time field gives none)"),
            _ => Ok(()),
        }
    }
}

impl ImportResult {
    pub fn is_ok(&self) -> bool {
        matches!(
            self.outcome,
            ImportOutcome::Imported | ImportOutcome::AlreadyImported
        )
    }
}

/// What the sink does with the events, decided once the signed checkpoint and manifest are known.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plan {
    Undecided,
    Insert {
        archive_id: i64,
    },
    AlreadyThere {
        archive_id: i64,
    },
    /// The same signed archive is stored as a kept copy (untrusted or refused): once this file verified under a
    /// trusted key, the stored copy is re-verified from its stored bytes and becomes verified.
    Promote {
        archive_id: i64,
    },
    Refuse(String),
    /// Signed by a key that is not trusted, and not to be kept: stopped before the first event.
    Untrusted,
    /// Not trusted, and the same signed archive is already kept: store nothing again.
    AlreadyKept {
        archive_id: i64,
    },
}

/// Whether the verifier found the archive's signer trusted (for its origin, under the trust policy), read from
/// the one place the verifier puts it (the report it hands to `Sink::begin`, before the first event).
fn signer_trusted(report: &ArchiveReport) -> bool {
    report.signer.as_ref().is_some_and(|s| s.trusted)
}

/// A stored archive's chain start and chain end.
type ChainEnds = (Vec<u8>, Vec<u8>);

/// What [`verify_and_insert`] found: the report, the plan, the events' time range, the kept forks and the block
/// hashes of the stored leaves.
type Verified = (ArchiveReport, Plan, Times, Vec<i64>, Vec<u8>);

/// Verifies the archive, inserting its events as they stream (the import's transaction stays open): the report
/// (with the sink's own failure, if any, in place of the verifier's), what was decided, and the time range.
fn verify_and_insert(
    tx: &Transaction<'_>,
    path: &Path,
    path_text: &str,
    opts: &ImportOptions<'_>,
    as_kind: Option<SourceKind>,
    progress: &mut dyn FnMut(&Progress) -> bool,
    prep: Preparer,
) -> Result<Verified, StoreError> {
    let mut sink = ImportSink {
        tx,
        keep_failed: opts.keep_failed,
        kept_forks: Vec::new(),
        path: path_text,
        plan: Plan::Undecided,
        normalizer: Normalizer::builtin(SourceKind::Jsonl),
        as_kind,
        normalization: None,
        source: String::new(),
        origin: String::new(),
        rollups: Rollups::default(),
        ids: IdAllocator::default(),
        prep,
        small_cache: false,
        parse_errors: 0,
        times: Times::default(),
        blocks: Some(crate::merkle::BlockHashes::new(crate::merkle::BLOCK_LEAVES)),
        error: None,
        progress,
        sql_error: None,
    };
    // Trust of the archive's signer for its origin: the policy, with the origin's established signers (the
    // signers of its verified archives in the store) for first-use pinning of bare keys. Read once, at the first
    // decision: when trust is decided again after the events, the archive's own row (stored as verified at
    // `Sink::begin`) must not pin the origin to its own signer.
    let established = std::cell::OnceCell::new();
    let trust = |origin: &str, signer: &VerifierKey, at: crate::trust::Sealed| -> TrustDecision {
        match established
            .get_or_init(|| established_signers(tx, origin, None).map_err(|e| e.to_string()))
        {
            Ok(established) => opts.trust.decide(origin, signer, at, established),
            Err(e) => TrustDecision {
                trusted: false,
                basis: crate::trust::TrustBasis::None,
                reason: format!("the store's signers of this origin cannot be read: {e}"),
                windowed: false,
            },
        }
    };
    let mut report = verify::verify_archive_with(path, &trust, &mut sink)?;
    let cancelled = report
        .failure
        .as_ref()
        .is_some_and(|f| f.kind == FailureKind::Cancelled);
    // After a failure, the events before it (kept with `--keep-failed`); else done at `Sink::end` already.
    sink.finish_events(cancelled);
    if sink.sql_error.is_none()
        && let Plan::Insert { archive_id } = sink.plan
        && let Err(e) = sink.rollups.flush(sink.tx, archive_id, &sink.source)
    {
        sink.sql_error = Some(e);
    }
    if let Some(e) = sink.sql_error.take() {
        return Err(e.into());
    }
    if let Some(f) = sink.error.take() {
        report.status = ArchiveStatus::Failed;
        report.failure = Some(f);
    }
    if matches!(sink.plan, Plan::Insert { .. }) && report.status != ArchiveStatus::Failed {
        // The sink parsed every event (`Sink::parses_events`), with the verifier's own rule.
        report.parse_errors = Some(sink.parse_errors);
    }
    Ok((
        report,
        sink.plan.clone(),
        sink.times,
        std::mem::take(&mut sink.kept_forks),
        sink.blocks.take().map(|b| b.finish()).unwrap_or_default(),
    ))
}

/// The words added to an import's message when kept copies of the same sequence hold other content.
fn kept_fork_note(kept: &[i64]) -> String {
    if kept.is_empty() {
        return String::new();
    }
    let ids: Vec<String> = kept.iter().map(|i| format!("#{i}")).collect();
    format!(
        "; fork: the kept (not verified) archive {} claims the same sequence with other content",
        ids.join(", ")
    )
}

/// An archive imported again, its events' times as the store holds them now (re-normalized or not): why its
/// signer is not trusted for its origin with them (docs/trust-policy.md section 2), or `None` while it is.
fn untrusted_by_stored_times(
    tx: &Transaction<'_>,
    archive_id: i64,
    report: &verify::ArchiveReport,
    trust: &crate::trust::TrustPolicy,
) -> Result<Option<String>, rusqlite::Error> {
    let signer = (report.signer.as_ref()).and_then(|s| VerifierKey::parse(&s.key).ok());
    let (Some(origin), Some(signer)) = (report.origin.as_deref(), signer) else {
        return Ok(None);
    };
    // Times can change a decision only under a grant that ends; then the origin's other archives pin it (its own
    // stored row must not pin the origin to its own signer).
    let signed = report.sealed().signed;
    if !trust.decide(origin, &signer, signed, &[]).windowed {
        return Ok(None);
    }
    let established = established_signers(tx, origin, Some(archive_id))?;
    let d = promote::decide_stored(tx, archive_id, origin, &signer, signed, trust, &established)?;
    Ok((!d.trusted).then_some(d.reason))
}

/// The signers of an origin's verified archives in the store but archive `except` (its established signers,
/// docs/trust-policy.md), each the key that signed its archive's stored checkpoint: the `signer_key` column is only believed when it
/// verifies that signed note (the store file may come from whoever hands it over: an edited column would pin an
/// origin to another key, which then admits its own archives and refuses the genuine ones). A stored signer that
/// does not verify its checkpoint is an error naming the archive; `auditlens check` says more.
fn established_signers(
    tx: &Transaction<'_>,
    origin: &str,
    except: Option<i64>,
) -> Result<Vec<VerifierKey>, rusqlite::Error> {
    if crate::seal::is_reserved_origin(origin) {
        // AWS CloudTrail evidence: its signers are AWS's keys, with no AuditLens checkpoint, and no AuditLens
        // archive may claim such an origin.
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, Option<String>, Option<Vec<u8>>)> = tx
        .prepare_cached(
            "SELECT id, signer_key, CAST(checkpoint AS BLOB) FROM archives
             WHERE origin = ?1 AND status = 'verified' AND id IS NOT ?2",
        )?
        .query_map(params![origin, except], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut keys: Vec<VerifierKey> = Vec::new();
    for (id, key, checkpoint) in rows {
        let signed = key
            .as_deref()
            .ok_or_else(|| "no stored signer key".to_string())
            .and_then(|k| VerifierKey::parse(k).map_err(|e| e.to_string()))
            .and_then(|k| {
                let note = crate::note::Note::parse(checkpoint.as_deref().unwrap_or_default())
                    .map_err(|e| e.to_string())?;
                note.verify(&k).map_err(|e| e.to_string())?;
                Ok(k)
            });
        match signed {
            Ok(k) => {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            Err(why) => {
                return Err(rusqlite::Error::UserFunctionError(
                    format!(
                        "archive #{id}'s stored signer does not verify its stored checkpoint ({why}): run \
                         auditlens check"
                    )
                    .into(),
                ));
            }
        }
    }
    Ok(keys)
}

/// The largest sequence a store holds: SQLite's integers are signed, and the archive after it must have a number
/// too. The format allows up to 2^64-1 (docs/archive-format.md): an archive numbered past this is refused by name,
/// and the others of the same import go on (review finding, 2026-12-08: it aborted the whole import).
pub(crate) const MAX_STORED_SEQUENCE: u64 = i64::MAX as u64 - 1;

/// Why an archive numbered past [`MAX_STORED_SEQUENCE`] is not imported.
pub(crate) fn sequence_too_large(sequence: u64) -> String {
    format!(
        "sequence {sequence} is larger than a store holds ({MAX_STORED_SEQUENCE}): not imported (`verify` checks \
         it)"
    )
}

/// What the import message adds about events stored unparsed.
fn not_parsed_note(parse_errors: u64) -> String {
    if parse_errors == 0 {
        String::new()
    } else {
        format!(
            " ({} not parsed: stored as raw text, found by text search)",
            crate::report::count(parse_errors, "event")
        )
    }
}

fn decode(b64: Option<&str>) -> Option<Hash> {
    crate::archive::decode_hash(b64?).ok()
}

fn insert_archive_row(
    tx: &Transaction<'_>,
    path: &str,
    status: &str,
    failure: Option<&str>,
    report: &ArchiveReport,
    manifest: Option<&Manifest>,
) -> Result<i64, rusqlite::Error> {
    let hash = |s: &Option<String>| decode(s.as_deref()).map(|h| h.to_vec());
    let signer = report.signer.as_ref();
    tx.execute(
        "INSERT INTO archives (path, status, failure, origin, sequence, source_kind, events, bytes, signer_key,
            signer_name, signer_fingerprint, root, chain_start, chain_end, manifest_sha256, checkpoint, manifest,
            imported_at, mapping, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
        params![
            path,
            status,
            failure,
            report.origin,
            report.sequence,
            manifest.map(|m| m.source_kind.clone()).or_else(|| report.source_kind.clone()),
            report.events.unwrap_or(0),
            report.bytes.unwrap_or(0),
            signer.map(|s| s.key.clone()),
            signer.map(|s| s.name.clone()),
            signer.map(|s| s.fingerprint.clone()),
            hash(&report.root),
            hash(&report.chain_start),
            hash(&report.chain_end),
            hash(&report.manifest_sha256),
            report.checkpoint_note,
            report.manifest_bytes,
            crate::time::format_utc(chrono::Utc::now().timestamp_micros()),
            report.mapping_bytes,
            report.received.as_ref().map(|r| r.at.clone()),
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

impl Store {
    /// Verifies `path` and stores it atomically. `progress` is called about every 64k events and may return
    /// `false` to cancel. `Err` only for I/O errors reading the file and database errors.
    pub fn import_archive(
        &mut self,
        path: &Path,
        opts: &ImportOptions<'_>,
        progress: &mut dyn FnMut(&Progress) -> bool,
    ) -> Result<ImportResult, StoreError> {
        self.import_archive_as(path, opts, None, progress)
    }

    /// [`Store::import_archive`], with the auditor's choice of a built-in mapper (`as_kind`, `import --as KIND`)
    /// instead of the archive's own signed kind or mapping file (docs/sources.md, "Whose rules"). The verified
    /// bytes, leaves and root are the same; only the normalized columns and the summary tables differ. An archive
    /// already in the store is re-normalized in the same transaction (after its stored bytes re-verify).
    ///
    /// An import that fails, is refused or meets an untrusted key is recorded as an integrity incident
    /// ([`Store::incidents`]).
    pub fn import_archive_as(
        &mut self,
        path: &Path,
        opts: &ImportOptions<'_>,
        as_kind: Option<SourceKind>,
        progress: &mut dyn FnMut(&Progress) -> bool,
    ) -> Result<ImportResult, StoreError> {
        let result = self.import_once(path, opts, as_kind, progress)?;
        self.record_incident(&result)?;
        if result.outcome != ImportOutcome::Cancelled {
            let outcome = serde_json::to_value(result.outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let detail = match (&result.report.origin, result.report.sequence) {
                (Some(origin), Some(seq)) => {
                    format!("{outcome}: {origin}#{seq}: {}", result.message)
                }
                _ => format!("{outcome}: {}", result.message),
            };
            self.log_action("import", &result.path, &detail)?;
        }
        Ok(result)
    }

    fn import_once(
        &mut self,
        path: &Path,
        opts: &ImportOptions<'_>,
        as_kind: Option<SourceKind>,
        progress: &mut dyn FnMut(&Progress) -> bool,
    ) -> Result<ImportResult, StoreError> {
        if let Some(kind) = as_kind
            && kind.mapper().is_none()
        {
            return Err(StoreError::Invalid(format!(
                "--as {kind}: only a built-in mapper can be chosen (jsonl, k8s, cloudtrail, github, gcp, teleport, okta)"
            )));
        }
        let path_text = path.display().to_string();
        self.hand_over_checkpoints();
        let tx = crate::store::text_index::begin_store_write(&mut self.conn)?;
        // Archives re-normalized in this transaction (`--as` on an archive already stored).
        let mut replaced = Vec::new();
        // Parsing and normalizing run on a second thread, one batch ahead of the inserts on this one.
        let (to_worker, batches) = mpsc::sync_channel(1);
        let (prepared, from_worker) = mpsc::sync_channel(1);
        let (report, plan, times, kept_forks, blocks) = std::thread::scope(|scope| {
            let worker = scope.spawn(move || prepare_batches(batches, prepared));
            let prep = Preparer::new(to_worker, from_worker);
            // The sink, and with it the thread's channel, is gone when this returns: the thread then ends.
            let outcome = verify_and_insert(&tx, path, &path_text, opts, as_kind, progress, prep);
            // The import may have made the page cache small for big events: the next one starts as usual.
            tx.pragma_update(None, "cache_size", crate::store::CACHE_SIZE)?;
            match worker.join() {
                Ok(()) => outcome,
                // Not reachable (normalizing never panics), and never an archive stored without its events.
                Err(_) => Err(StoreError::Invalid(
                    "internal error: the thread that parses events failed; nothing was stored"
                        .into(),
                )),
            }
        })?;

        let cancelled = report
            .failure
            .as_ref()
            .is_some_and(|f| f.kind == FailureKind::Cancelled);
        let failure_text = report.failure.as_ref().map(|f| f.message.clone());
        let failure_json = report
            .failure
            .as_ref()
            .and_then(|f| serde_json::to_string(f).ok());
        let mut result = ImportResult {
            path: path_text.clone(),
            outcome: ImportOutcome::Failed,
            message: String::new(),
            stored: false,
            archive_id: None,
            gap_before: None,
            signer_change: None,
            lookalikes: Vec::new(),
            report,
            normalization: None,
            untimed: None,
        };
        if plan == Plan::Untrusted {
            // Stopped by the sink once the checkpoint's signature was checked: the events were not read.
            let signer = result.report.signer.as_ref();
            let key = signer.map(|s| s.key.as_str()).unwrap_or_default();
            let fingerprint = signer.map(|s| s.fingerprint.as_str()).unwrap_or_default();
            let reason = signer
                .and_then(|s| s.trust_reason.clone())
                .unwrap_or_else(|| "the key is not trusted".into());
            result.outcome = ImportOutcome::Untrusted;
            result.report.status = ArchiveStatus::Untrusted;
            result.report.failure = None;
            result.message = format!(
                "not trusted: valid signature by {key} (fingerprint {fingerprint}), but {reason} \
                 (pass --trust KEY.pub or --trust-policy FILE); refused before reading its events, nothing was stored"
            );
            return Ok(result);
        }
        if cancelled {
            result.outcome = ImportOutcome::Cancelled;
            result.message = "cancelled; nothing was stored".into();
            return Ok(result);
        }
        let status = result.report.status;
        let parse_errors = result.report.parse_errors.unwrap_or(0);
        let mut commit = false;
        match (&plan, status) {
            (Plan::Insert { archive_id }, ArchiveStatus::Verified) => {
                tx.execute(
                    "UPDATE archives SET time_first = ?1, time_last = ?2, parse_errors = ?3, untimed = ?4,
                        leaf_blocks = ?5
                     WHERE id = ?6",
                    params![
                        times.min,
                        times.max,
                        parse_errors,
                        times.untimed,
                        blocks,
                        archive_id
                    ],
                )?;
                commit = true;
                result.outcome = ImportOutcome::Imported;
                result.stored = true;
                result.archive_id = Some(*archive_id);
                result.message = format!(
                    "verified and imported {}{}",
                    crate::report::count(result.report.events.unwrap_or(0), "event"),
                    not_parsed_note(parse_errors)
                );
                result.message.push_str(&kept_fork_note(&kept_forks));
            }
            (Plan::Promote { archive_id }, ArchiveStatus::Verified) => {
                match reverify_stored(&tx, *archive_id) {
                    Ok(()) => {
                        if let Err(why) = super::renormalize::renormalize_in(
                            &tx,
                            *archive_id,
                            rules_of(as_kind),
                            &mut replaced,
                        )? && as_kind.is_some()
                        {
                            return Err(StoreError::Invalid(format!(
                                "archive #{archive_id} re-verified, but cannot be re-normalized: {why}"
                            )));
                        }
                        if let Some(why) =
                            untrusted_by_stored_times(&tx, *archive_id, &result.report, opts.trust)?
                        {
                            result.outcome = ImportOutcome::Untrusted;
                            result.message = format!(
                                "verified, but not trusted with its events' times as the store now derives \
                                 them: {why}; the kept copy (archive #{archive_id}) stays kept"
                            );
                            return Ok(result);
                        }
                        let signer = result.report.signer.as_ref();
                        tx.execute(
                            "UPDATE archives SET status = 'verified', failure = NULL, signer_key = ?1,
                                signer_name = ?2, signer_fingerprint = ?3 WHERE id = ?4",
                            params![
                                signer.map(|s| s.key.clone()),
                                signer.map(|s| s.name.clone()),
                                signer.map(|s| s.fingerprint.clone()),
                                archive_id
                            ],
                        )?;
                        commit = true;
                        result.outcome = ImportOutcome::Imported;
                        result.stored = true;
                        result.archive_id = Some(*archive_id);
                        result.message = format!(
                            "verified; the kept copy (archive #{archive_id}) was re-verified from its stored bytes \
                             and is now verified ({})",
                            crate::report::count(result.report.events.unwrap_or(0), "event")
                        );
                        result.message.push_str(&kept_fork_note(&kept_forks));
                    }
                    Err(why) => {
                        result.outcome = ImportOutcome::Refused;
                        result.message = format!(
                            "verified, but the kept copy of this archive in the store (archive #{archive_id}) \
                             does not re-verify from its stored bytes: {why}; run `auditlens check`"
                        );
                    }
                }
            }
            (Plan::AlreadyThere { archive_id }, ArchiveStatus::Verified) => {
                result.outcome = ImportOutcome::AlreadyImported;
                result.archive_id = Some(*archive_id);
                result.message =
                    format!("verified; already imported (archive #{archive_id}), nothing changed");
                // Imported again: under the auditor's choice (`--as`), or else under this AuditLens's
                // version of the rules it is normalized by (docs/sources.md section 2).
                match super::renormalize::renormalize_in(
                    &tx,
                    *archive_id,
                    rules_of(as_kind),
                    &mut replaced,
                )? {
                    Ok(done) if done.changed => {
                        commit = true;
                        result.message = format!(
                            "verified; already imported (archive #{archive_id}); its {} re-normalized: {}",
                            crate::report::count(done.events, "event"),
                            done.normalization.text
                        );
                    }
                    Ok(_) => {}
                    Err(why) if as_kind.is_some() => {
                        result.outcome = ImportOutcome::Refused;
                        result.message = format!(
                            "verified; already imported (archive #{archive_id}), but not re-normalized: {why}"
                        );
                    }
                    // Its fields stay those of the rules recorded with it.
                    Err(_) => {}
                }
                // Trusted with the times its events have in the store (re-normalized or not), as a fresh import
                // of it would be (review findings, 2026-12-08: a re-import under a grant that ends said "nothing
                // changed" of events stored after its end).
                if result.outcome == ImportOutcome::AlreadyImported
                    && let Some(why) =
                        untrusted_by_stored_times(&tx, *archive_id, &result.report, opts.trust)?
                {
                    commit = false;
                    result.outcome = ImportOutcome::Untrusted;
                    result.message = format!(
                        "verified; already imported (archive #{archive_id}), but not trusted with the times \
                         its events have in the store{}: {why}; nothing changed",
                        if as_kind.is_some() {
                            " under the rules asked for"
                        } else {
                            ""
                        }
                    );
                }
            }
            (Plan::Refuse(why), ArchiveStatus::Verified) => {
                result.outcome = ImportOutcome::Refused;
                result.message = format!("verified, but refused: {why}");
                if opts.keep_failed {
                    let id = insert_archive_row(
                        &tx,
                        &path_text,
                        "failed",
                        Some(why),
                        &result.report,
                        None,
                    )?;
                    commit = true;
                    result.stored = true;
                    result.archive_id = Some(id);
                }
            }
            (plan, status) => {
                let (outcome, db_status, why) = if status == ArchiveStatus::Untrusted {
                    let signer = result.report.signer.as_ref();
                    let key = signer.map(|s| s.key.clone()).unwrap_or_default();
                    let reason = signer
                        .and_then(|s| s.trust_reason.clone())
                        .unwrap_or_else(|| "the key is not trusted".into());
                    (
                        ImportOutcome::Untrusted,
                        "untrusted",
                        format!(
                            "valid signature by {key}, but not trusted: {reason} (pass --trust KEY.pub or --trust-policy FILE)"
                        ),
                    )
                } else {
                    (
                        ImportOutcome::Failed,
                        "failed",
                        failure_text.unwrap_or_else(|| "did not verify".into()),
                    )
                };
                result.outcome = outcome;
                result.message = why.clone();
                if let Plan::AlreadyKept { archive_id } = plan {
                    result.archive_id = Some(*archive_id);
                    result.message =
                        format!("{why} (already kept as archive #{archive_id}; nothing changed)");
                } else if opts.keep_failed {
                    let stored_failure = failure_json
                        .unwrap_or_else(|| serde_json::json!({ "message": why }).to_string());
                    let id = match plan {
                        Plan::Insert { archive_id } => {
                            tx.execute(
                                "UPDATE archives SET status = ?1, failure = ?2, time_first = ?3, time_last = ?4,
                                 parse_errors = ?5, untimed = ?6 WHERE id = ?7",
                                params![
                                    db_status,
                                    stored_failure,
                                    times.min,
                                    times.max,
                                    parse_errors,
                                    times.untimed,
                                    archive_id
                                ],
                            )?;
                            *archive_id
                        }
                        _ => insert_archive_row(
                            &tx,
                            &path_text,
                            "failed",
                            Some(&stored_failure),
                            &result.report,
                            None,
                        )?,
                    };
                    commit = true;
                    result.stored = true;
                    result.archive_id = Some(id);
                    result.message = format!(
                        "{why} (kept, flagged {db_status}; its events are never shown as verified)"
                    );
                }
            }
        }
        // Evidence sealed on receipt is never called just "verified" (docs/archive-format.md section 4.1).
        if let (Some(receipt), Some(signer)) = (&result.report.received, &result.report.signer)
            && let Some(rest) = result.message.strip_prefix("verified")
        {
            result.message = format!(
                "signature checked{rest}; {}",
                receipt.label(&signer.name, &signer.fingerprint)
            );
        }
        if let Some(id) = result.archive_id
            && result.is_ok()
        {
            result.normalization = super::renormalize::stored_normalization(&tx, id)?;
        }
        if commit {
            tx.commit()?;
            self.checkpoint_soon();
            self.forget_replaced(std::mem::take(&mut replaced))?;
            // The archive is stored, in the dashboards and findable by every field; its text is indexed on the
            // indexing thread while the next archive imports.
            self.index_text();
        } else {
            drop(tx);
        }
        if let (Some(origin), Some(seq)) = (&result.report.origin, result.report.sequence)
            && result.is_ok()
        {
            result.gap_before = self.gap_before(origin, seq)?;
            if let Some(id) = result.archive_id {
                result.untimed = self.untimed_events(id)?;
            }
            result.signer_change = self.signer_change_near(origin, seq)?;
        }
        if let Some(origin) = &result.report.origin {
            result.lookalikes = self.lookalikes_of(origin)?;
        }
        Ok(result)
    }

    /// A change of signer between the verified archive at `seq` and its verified neighbour `seq - 1` (or, failing
    /// that, `seq + 1`) of the same origin.
    pub fn signer_change_near(
        &self,
        origin: &str,
        seq: u64,
    ) -> Result<Option<crate::verify::SignerChange>, StoreError> {
        let signer = |s: u64| -> Result<Option<(String, String)>, StoreError> {
            Ok(self
                .conn
                .query_row(
                    "SELECT signer_key, coalesce(signer_name, '?') || ' (' || coalesce(signer_fingerprint, '?') || ')'
                     FROM archives WHERE origin = ?1 AND sequence = ?2 AND status = 'verified'",
                    params![origin, s],
                    |r| Ok((r.get::<_, Option<String>>(0)?.unwrap_or_default(), r.get(1)?)),
                )
                .optional()?)
        };
        let Some(this) = signer(seq)? else {
            return Ok(None);
        };
        if seq > 1
            && let Some(prev) = signer(seq - 1)?
            && prev.0 != this.0
        {
            return Ok(Some(crate::verify::SignerChange {
                sequence: seq,
                from: prev.1,
                to: this.1,
            }));
        }
        if let Some(next) = signer(seq + 1)?
            && next.0 != this.0
        {
            return Ok(Some(crate::verify::SignerChange {
                sequence: seq + 1,
                from: this.1,
                to: next.1,
            }));
        }
        Ok(None)
    }

    /// `Some(seq)` when the origin has stored archives before `seq` but not `seq - 1`.
    pub fn gap_before(&self, origin: &str, seq: u64) -> Result<Option<u64>, StoreError> {
        let (lower, prev): (i64, i64) = self.conn.query_row(
            "SELECT count(*) FILTER (WHERE sequence < ?2), count(*) FILTER (WHERE sequence = ?2 - 1)
             FROM archives WHERE origin = ?1 AND status != 'failed'",
            params![origin, seq],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((lower > 0 && prev == 0).then_some(seq))
    }
}

/// The rules an archive imported again is re-normalized by.
fn rules_of(as_kind: Option<SourceKind>) -> super::renormalize::Rules {
    as_kind.map_or(
        super::renormalize::Rules::Current,
        super::renormalize::Rules::Auditor,
    )
}
