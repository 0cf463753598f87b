//! Importing an AWS CloudTrail export (docs/cloudtrail.md section 5): the export is verified with AWS's own
//! signatures first (`cloudtrail_digest::verify_export`, the same as `auditlens verify`); only an export that
//! verifies in full is stored, in one transaction. Each trail and region becomes one archive row of origin
//! `aws-cloudtrail:ACCOUNT/REGION/TRAIL` (`evidence = 'aws-cloudtrail'`), the next sequence of that origin. Its
//! proof is stored with it, byte for byte as found: the digests with the signatures that verified, and every log
//! file they list, so that `check` re-verifies the row from the file alone. The events are read from the very
//! bytes stored for each log file, whose SHA-256 is compared again with its digest's `hashValue` before the
//! transaction commits.
//!
//! A log file already stored with an earlier archive of the same origin (an export that overlaps one imported
//! before) is stored again as proof, but its events are not: they stay with the archive that first held them.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Condvar, Mutex};

use serde::Serialize;

use super::*;
use crate::cloudtrail_digest::{
    self, AwsKeys, ChainReport, CloudTrailError, ExportInput, ExportReport, ExternalSignatures,
};

/// What the `evidence` column says of a CloudTrail row.
pub const CLOUDTRAIL_EVIDENCE: &str = "aws-cloudtrail";
/// The signer name of a CloudTrail row.
pub const CLOUDTRAIL_SIGNER: &str = "AWS CloudTrail";

/// The origin of a trail's events in one region.
pub fn cloudtrail_origin(account: &str, region: &str, trail: &str) -> String {
    format!("aws-cloudtrail:{account}/{region}/{trail}")
}

/// How every door labels CloudTrail evidence: what was proven, by whom.
pub fn cloudtrail_label(fingerprints: &str) -> String {
    format!(
        "signed by AWS CloudTrail (key {fingerprints}): log files verified against AWS's signed digests"
    )
}

/// The import of one trail and region of an export.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CloudTrailTrailImport {
    pub origin: String,
    pub outcome: ImportOutcome,
    pub archive_id: Option<i64>,
    pub sequence: Option<u64>,
    /// Events stored by this import.
    pub events: u64,
    pub digests: u64,
    pub log_files: u64,
    /// Log files whose events were already stored with an earlier archive of this origin.
    pub log_files_already_stored: u64,
    /// Events stored that do not parse as JSON objects the CloudTrail mapper reads (kept as text).
    pub parse_errors: u64,
    pub label: String,
    pub message: String,
}

/// The import of a whole export.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CloudTrailImport {
    pub path: String,
    /// `imported` when any trail was stored, `already-imported` when every one already was, `failed` when the
    /// export does not verify in full (nothing stored).
    pub outcome: ImportOutcome,
    pub message: String,
    pub report: ExportReport,
    pub trails: Vec<CloudTrailTrailImport>,
}

impl CloudTrailImport {
    pub fn is_ok(&self) -> bool {
        matches!(
            self.outcome,
            ImportOutcome::Imported | ImportOutcome::AlreadyImported
        )
    }
}

/// How far an import of a CloudTrail export has got.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CloudTrailStep {
    /// Checking the log files the digests list against their hashes (`done` of `total` log files).
    Verifying { done: u64, total: u64 },
    /// Storing the verified log files' events (`done` of `total` log files, `events` stored so far).
    Storing { done: u64, total: u64, events: u64 },
}

/// Largest log or digest file read into memory, compressed or decompressed: AWS delivers a trail's log files every
/// few minutes, a few MiB each; a larger one is refused (it is read whole, and the import stays within a few times
/// this much memory).
pub const MAX_CLOUDTRAIL_FILE_BYTES: u64 = 256 << 20;
const MAX_FILE_BYTES: u64 = MAX_CLOUDTRAIL_FILE_BYTES;

impl Store {
    /// Verifies the CloudTrail export at `path` (a folder, or a ZIP or tar of one) with the AWS public keys and
    /// signatures given, pins `accounts` when any are given, and stores it when it verifies in full. `progress`
    /// is told how far it got; while storing, it may return `false` to cancel (nothing is stored). `Err` for a path
    /// that is not an export, I/O errors and database errors; a failed verification is an `Ok` with outcome
    /// `failed`, recorded as an integrity incident.
    pub fn import_cloudtrail(
        &mut self,
        path: &Path,
        keys: &AwsKeys,
        signatures: &ExternalSignatures,
        accounts: &[String],
        progress: &mut dyn FnMut(&CloudTrailStep) -> bool,
    ) -> Result<CloudTrailImport, StoreError> {
        let path_text = path.display().to_string();
        let kind = cloudtrail_digest::export_input(path).ok_or_else(|| {
            StoreError::Invalid(format!(
                "{path_text}: not a CloudTrail export (a folder holding AWSLogs/, or a ZIP or tar of one)"
            ))
        })?;
        let ct_err = |e: CloudTrailError| StoreError::Invalid(e.to_string());
        let unpacked = match kind {
            ExportInput::Packed(p) => Some(cloudtrail_digest::unpack(path, p).map_err(ct_err)?),
            ExportInput::Folder => None,
        };
        let root = unpacked.as_ref().map_or(path, |d| d.path());
        let mut report = cloudtrail_digest::verify_export_with_progress(
            root,
            keys,
            signatures,
            &mut |done, total| {
                progress(&CloudTrailStep::Verifying { done, total });
            },
        )
        .map_err(ct_err)?;
        if !accounts.is_empty() {
            report.require_accounts(accounts);
        }
        let mut result = CloudTrailImport {
            path: path_text.clone(),
            outcome: ImportOutcome::Failed,
            message: String::new(),
            report,
            trails: Vec::new(),
        };
        if !result.report.verified {
            let failures: Vec<_> = result.report.all_failures().collect();
            result.message = match failures.first() {
                Some(f) => format!(
                    "the export does not verify ({}); nothing was stored: {}",
                    crate::report::count(failures.len() as u64, "failure"),
                    f.detail
                ),
                None => {
                    "the export does not verify: no digest's signature verified; nothing was stored"
                        .into()
                }
            };
            self.record_incident_of("failed", &path_text, None, None, &result.message, None)?;
            self.log_action("import", &path_text, &format!("failed: {}", result.message))?;
            return Ok(result);
        }
        self.hand_over_checkpoints();
        let tx = crate::store::text_index::begin_store_write(&mut self.conn)?;
        let mut stored = Stored {
            events: 0,
            logs_done: 0,
            logs_total: result
                .report
                .chains
                .iter()
                .map(|c| c.evidence.logs.len() as u64)
                .sum(),
        };
        let mut cancelled = false;
        for chain in &result.report.chains {
            if chain.evidence.digests.is_empty() {
                continue;
            }
            match import_chain(&tx, root, &path_text, chain, &mut stored, progress)? {
                Some(t) => result.trails.push(t),
                None => {
                    cancelled = true;
                    break;
                }
            }
        }
        if cancelled {
            drop(tx);
            result.outcome = ImportOutcome::Cancelled;
            result.trails.clear();
            result.message = "cancelled; nothing was stored".into();
            return Ok(result);
        }
        let imported = result
            .trails
            .iter()
            .any(|t| t.outcome == ImportOutcome::Imported);
        result.outcome = if imported {
            ImportOutcome::Imported
        } else {
            ImportOutcome::AlreadyImported
        };
        let events: u64 = result.trails.iter().map(|t| t.events).sum();
        result.message = if imported {
            let stored: Vec<&str> = (result.trails.iter())
                .filter(|t| t.outcome == ImportOutcome::Imported)
                .map(|t| t.origin.as_str())
                .collect();
            let already = result.trails.len() - stored.len();
            format!(
                "verified with AWS's signatures and imported {} from {} ({}){}",
                crate::report::count(events, "event"),
                crate::report::count(stored.len() as u64, "trail"),
                stored.join(", "),
                if already > 0 {
                    format!(
                        "; {} already imported",
                        crate::report::count(already as u64, "trail")
                    )
                } else {
                    String::new()
                }
            )
        } else {
            "verified with AWS's signatures; already imported, nothing changed".into()
        };
        // AWS's signature proves what an account logged, not that it is the audited one.
        if !result.report.accounts_pinned {
            let mut accounts: Vec<&str> = (result.report.chains.iter())
                .map(|c| c.account.as_str())
                .collect();
            accounts.sort_unstable();
            accounts.dedup();
            result.message.push_str(&format!(
                "; accounts not pinned (--aws-account): {} taken on AWS's signature alone",
                accounts.join(", ")
            ));
        }
        // Log files no digest vouches for are not evidence yet: said, never imported.
        let (newer, older) = result.report.chains.iter().fold((0, 0), |(n, o), c| {
            (
                n + c.log_files_not_yet_covered,
                o + c.log_files_before_first_digest,
            )
        });
        if newer + older > 0 {
            result.message.push_str(&format!(
                "; not imported: {} newer than the newest digest (not yet covered by any) and {} older than the \
                 oldest digest",
                crate::report::count(newer as u64, "log file"),
                older
            ));
        }
        if imported {
            tx.commit()?;
            self.checkpoint_soon();
            self.index_text();
        } else {
            drop(tx);
        }
        let detail = format!("{}: {}", outcome_word(result.outcome), result.message);
        self.log_action("import", &path_text, &detail)?;
        Ok(result)
    }
}

fn outcome_word(o: ImportOutcome) -> String {
    serde_json::to_value(o)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Reads a file of the export (at most `MAX_FILE_BYTES` compressed).
fn read_file(root: &Path, rel: &str) -> Result<Vec<u8>, StoreError> {
    let p = root.join(rel);
    let len = std::fs::metadata(&p)
        .map_err(|e| StoreError::Invalid(format!("{rel}: {e}")))?
        .len();
    if len > MAX_FILE_BYTES {
        return Err(StoreError::Invalid(format!(
            "{rel}: larger than {MAX_FILE_BYTES} bytes"
        )));
    }
    std::fs::read(&p).map_err(|e| StoreError::Invalid(format!("{rel}: {e}")))
}

/// What an import has stored so far.
struct Stored {
    events: u64,
    logs_done: u64,
    logs_total: u64,
}

/// Stores one verified chain, or finds it already stored. `None` when cancelled.
fn import_chain(
    tx: &Transaction<'_>,
    root: &Path,
    path_text: &str,
    chain: &ChainReport,
    stored: &mut Stored,
    progress: &mut dyn FnMut(&CloudTrailStep) -> bool,
) -> Result<Option<CloudTrailTrailImport>, StoreError> {
    let origin = cloudtrail_origin(&chain.account, &chain.region, &chain.trail);
    let ev = &chain.evidence;
    let mut fingerprints: Vec<&str> = ev.digests.iter().map(|d| d.fingerprint.as_str()).collect();
    fingerprints.sort_unstable();
    fingerprints.dedup();
    let fingerprints = fingerprints.join(", ");
    let mut trail = CloudTrailTrailImport {
        origin: origin.clone(),
        outcome: ImportOutcome::AlreadyImported,
        archive_id: None,
        sequence: None,
        events: 0,
        digests: ev.digests.len() as u64,
        log_files: ev.logs.len() as u64,
        log_files_already_stored: 0,
        parse_errors: 0,
        label: cloudtrail_label(&fingerprints),
        message: String::new(),
    };
    // What the origin's verified archives already hold: (kind, path, sha256).
    let mut held: HashSet<(String, String, String)> = HashSet::new();
    let mut latest: Option<i64> = None;
    {
        let mut stmt = tx.prepare(
            "SELECT f.kind, f.path, f.sha256, a.id FROM cloudtrail_files f JOIN archives a ON a.id = f.archive_id
             WHERE a.origin = ?1 AND a.status = 'verified' AND a.evidence = ?2",
        )?;
        let mut rows = stmt.query(params![origin, CLOUDTRAIL_EVIDENCE])?;
        while let Some(r) = rows.next()? {
            held.insert((r.get(0)?, r.get(1)?, r.get(2)?));
            let id: i64 = r.get(3)?;
            latest = Some(latest.map_or(id, |l| l.max(id)));
        }
    }
    let is_held = |kind: &str, rel: &str, sha: &str| {
        held.contains(&(kind.to_string(), rel.to_string(), sha.to_string()))
    };
    let new_digests = ev
        .digests
        .iter()
        .filter(|d| !is_held("digest", &d.rel, &d.sha256_hex))
        .count();
    let new_logs = ev
        .logs
        .iter()
        .filter(|l| !is_held("log", &l.rel, &l.sha256_hex))
        .count();
    if new_digests == 0 && new_logs == 0 {
        trail.archive_id = latest;
        trail.log_files_already_stored = ev.logs.len() as u64;
        trail.message = format!(
            "already imported{}; nothing changed",
            latest
                .map(|l| format!(" (archive #{l})"))
                .unwrap_or_default()
        );
        return Ok(Some(trail));
    }
    let sequence: u64 = tx.query_row(
        "SELECT coalesce(max(sequence), 0) + 1 FROM archives WHERE origin = ?1 AND status = 'verified'",
        [&origin],
        |r| r.get(0),
    )?;
    let kind = SourceKind::Cloudtrail;
    let normalization = Normalization::producer(kind, None);
    tx.execute(
        "INSERT INTO archives (path, status, origin, sequence, source_kind, signer_name, signer_fingerprint,
            imported_at, normalization, evidence)
         VALUES (?1, 'verified', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            path_text,
            origin,
            sequence,
            kind.as_str(),
            CLOUDTRAIL_SIGNER,
            fingerprints,
            crate::time::format_utc(chrono::Utc::now().timestamp_micros()),
            normalization.as_ref().map(Normalization::column),
            CLOUDTRAIL_EVIDENCE,
        ],
    )?;
    let archive_id = tx.last_insert_rowid();
    for d in &ev.digests {
        let gz = read_file(root, &d.rel)?;
        // The bytes stored must be the bytes that verified.
        cloudtrail_digest::inflate_checked(&gz, &d.sha256_hex, MAX_FILE_BYTES)
            .map_err(|why| StoreError::Invalid(format!("digest file {}: {why}", d.rel)))?;
        tx.execute(
            "INSERT INTO cloudtrail_files (archive_id, path, kind, sha256, signature, fingerprint, hour_start,
                hour_end, content)
             VALUES (?1, ?2, 'digest', ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                archive_id,
                d.rel,
                d.sha256_hex,
                d.signature_hex,
                d.fingerprint,
                d.start.timestamp_micros(),
                d.end.timestamp_micros(),
                gz
            ],
        )?;
    }
    // The events, through the import's own writer (ids, summary rows, times), parsed and normalized on a second
    // thread a batch ahead of the inserts, as an archive's are.
    let normalizer = Normalizer::builtin(kind);
    let (to_worker, batches) = mpsc::sync_channel(1);
    let (prepared, from_worker) = mpsc::sync_channel(1);
    let written = std::thread::scope(|scope| -> Result<Option<Written>, StoreError> {
        let worker = scope.spawn(move || prepare_batches(batches, prepared));
        let mut no_progress = |_: &Progress| true;
        let mut sink = ImportSink {
            tx,
            keep_failed: false,
            kept_forks: Vec::new(),
            path: path_text,
            plan: Plan::Insert { archive_id },
            normalizer: normalizer.clone(),
            as_kind: None,
            normalization: normalization.clone(),
            source: normalizer.source_name(),
            origin: origin.clone(),
            rollups: Rollups::default(),
            ids: IdAllocator::default(),
            prep: Preparer::new(to_worker, from_worker),
            small_cache: false,
            parse_errors: 0,
            times: Times::default(),
            // CloudTrail evidence has no Merkle tree of its own: no blocks are kept.
            blocks: None,
            error: None,
            progress: &mut no_progress,
            sql_error: None,
        };
        let stored_events = store_logs(
            &mut sink, root, chain, &is_held, &mut trail, stored, progress,
        );
        // The sink, and with it the thread's channel, goes: the thread then ends.
        let rest = match stored_events {
            Ok(Some(w)) => {
                let rest = sink.prep.finish(&normalizer);
                match sink.insert_batch(archive_id, rest) {
                    Ok(true) => sink
                        .rollups
                        .flush(tx, archive_id, &sink.source)
                        .map(|()| {
                            Some(Written {
                                times: sink.times,
                                parse_errors: sink.parse_errors,
                                ..w
                            })
                        })
                        .map_err(StoreError::from),
                    Ok(false) => Err(StoreError::Invalid(
                        sink.error.take().map(|f| f.message).unwrap_or_default(),
                    )),
                    Err(e) => Err(e.into()),
                }
            }
            other => other,
        };
        drop(sink);
        match worker.join() {
            Ok(()) => rest,
            Err(_) => Err(StoreError::Invalid(
                "internal error: the thread that parses events failed; nothing was stored".into(),
            )),
        }
    })?;
    let Some(Written {
        index,
        bytes,
        root: merkle_root,
        times,
        parse_errors,
    }) = written
    else {
        return Ok(None);
    };
    trail.parse_errors = parse_errors;
    tx.execute(
        "UPDATE archives SET events = ?1, bytes = ?2, time_first = ?3, time_last = ?4, parse_errors = ?5,
            untimed = ?6, root = ?7
         WHERE id = ?8",
        params![
            index,
            bytes,
            times.min,
            times.max,
            parse_errors,
            times.untimed,
            &merkle_root[..],
            archive_id
        ],
    )?;
    trail.outcome = ImportOutcome::Imported;
    trail.archive_id = Some(archive_id);
    trail.sequence = Some(sequence);
    trail.events = index;
    trail.message = format!(
        "imported {} from {} listed in {}{}",
        crate::report::count(index, "event"),
        crate::report::count(trail.log_files - trail.log_files_already_stored, "log file"),
        crate::report::count(trail.digests, "signed digest"),
        if trail.log_files_already_stored > 0 {
            format!(
                " ({} already stored with an earlier archive of this trail)",
                crate::report::count(trail.log_files_already_stored, "log file")
            )
        } else {
            String::new()
        }
    );
    Ok(Some(trail))
}

/// What storing a chain's log files wrote.
struct Written {
    /// The number of events (the next index).
    index: u64,
    bytes: u64,
    root: crate::merkle::Hash,
    times: Times,
    parse_errors: u64,
}

/// What the reading thread of [`store_logs`] hands the writer for each log file in turn: its records, a piece at
/// a time as the file inflates, then the file itself once it has read in full and its hash is the one its
/// digest lists. A file that fails is an error in its place (the writer stops, and the import stores nothing).
enum Piece {
    Records(Records),
    End {
        /// The file as found (gzip), stored as proof.
        gz: Vec<u8>,
        records: u64,
    },
}

impl Piece {
    /// What it holds in memory, counted against [`READ_AHEAD_BYTES`].
    fn bytes(&self) -> usize {
        match self {
            Piece::Records(r) => r.bytes(),
            Piece::End { gz, .. } => gz.len(),
        }
    }
}

/// Consecutive records of a log file, minified, with their leaf hashes.
#[derive(Default)]
struct Records {
    data: Vec<u8>,
    ends: Vec<usize>,
    leaves: Vec<Hash>,
}

impl Records {
    fn push(&mut self, record: &[u8]) {
        self.data.extend_from_slice(record);
        self.ends.push(self.data.len());
        self.leaves.push(crate::merkle::leaf_hash(record));
    }

    fn bytes(&self) -> usize {
        self.data.len()
            + self.ends.len() * (std::mem::size_of::<usize>() + std::mem::size_of::<Hash>())
    }

    fn iter(&self) -> impl Iterator<Item = (&[u8], &Hash)> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.data[start..end])
            .zip(&self.leaves)
    }
}

/// The size of a piece of records: the reading thread hands them on once they hold this much.
const PIECE_BYTES: usize = 1 << 20;

/// Reads, inflates and checks a log file and hands its records to the writer through `hand` as it goes (see
/// [`Piece`]). `Ok(false)` when the writer stopped.
fn read_log(
    root: &Path,
    l: &cloudtrail_digest::VerifiedLog,
    hand: &mut dyn FnMut(Piece) -> bool,
) -> Result<bool, StoreError> {
    let gz = read_file(root, &l.rel)?;
    let mut piece = Records::default();
    let mut stopped = false;
    let read =
        cloudtrail_digest::read_log(&gz, MAX_FILE_BYTES, crate::archive::MAX_EVENT_BYTES, |r| {
            piece.push(r);
            if piece.bytes() >= PIECE_BYTES && !hand(Piece::Records(std::mem::take(&mut piece))) {
                stopped = true;
            }
            !stopped
        });
    if stopped {
        return Ok(false);
    }
    let read = read.map_err(|why| StoreError::Invalid(format!("log file {}: {why}", l.rel)))?;
    // The bytes stored must be the bytes that verified.
    if read.sha256_hex != l.sha256_hex {
        return Err(StoreError::Invalid(format!(
            "log file {}: SHA-256 of the decompressed content is {}, its digest lists {}",
            l.rel, read.sha256_hex, l.sha256_hex
        )));
    }
    let records = read.records.map_err(|why| {
        StoreError::Invalid(format!(
            "log file {} verified against its digest, but its events cannot be read: {why}",
            l.rel
        ))
    })?;
    if !piece.ends.is_empty() && !hand(Piece::Records(piece)) {
        return Ok(false);
    }
    Ok(hand(Piece::End { gz, records }))
}

/// The most bytes of log files the reading thread holds ahead of the writer: it hands on the next piece only
/// while less than this is waiting or being stored, so that memory stays within this plus a piece, a record of
/// at most [`crate::archive::MAX_EVENT_BYTES`] and the compressed file being read, however large the files.
const READ_AHEAD_BYTES: usize = 32 << 20;

/// Bytes read and not yet stored, and whether the writer stopped.
#[derive(Default)]
struct ReadAhead {
    state: Mutex<(usize, bool)>,
    room: Condvar,
}

impl ReadAhead {
    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, bool)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until there is room to read another file; `false` when the writer stopped.
    fn wait_for_room(&self) -> bool {
        let mut s = self.lock();
        while s.0 >= READ_AHEAD_BYTES && !s.1 {
            s = self.room.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        !s.1
    }

    fn add(&self, bytes: usize) {
        self.lock().0 += bytes;
    }

    fn stored(&self, bytes: usize) {
        let mut s = self.lock();
        s.0 = s.0.saturating_sub(bytes);
        self.room.notify_all();
    }
}

/// Set when the writer stops, for whatever reason: the reading thread then stops too.
struct StopReading<'a>(&'a ReadAhead);

impl Drop for StopReading<'_> {
    fn drop(&mut self) {
        self.0.lock().1 = true;
        self.0.room.notify_all();
    }
}

/// Stores the events and the files of a chain's log files through `sink` (its own events only: a log file held by
/// an earlier archive of the origin is stored as proof alone). `None` when cancelled. The times and parse errors of
/// the result are the sink's, filled in by the caller once the last batch is in.
///
/// The files are read, inflated, split into records and hashed on a thread of their own, in order and at most
/// [`READ_AHEAD_BYTES`] ahead of the writer (the writer's thread is the import's bottleneck), each as it inflates:
/// no file's content is held whole. A file's records reach the writer before its hash is known to match its
/// digest's; one that does not fails the import, and the transaction stores none of them.
fn store_logs(
    sink: &mut ImportSink<'_, '_>,
    root: &Path,
    chain: &ChainReport,
    is_held: &dyn Fn(&str, &str, &str) -> bool,
    trail: &mut CloudTrailTrailImport,
    stored: &mut Stored,
    progress: &mut dyn FnMut(&CloudTrailStep) -> bool,
) -> Result<Option<Written>, StoreError> {
    let Plan::Insert { archive_id } = sink.plan else {
        return Err(StoreError::Invalid("internal error: no archive row".into()));
    };
    // A log file listed twice (by two digests) is stored once.
    let mut seen_logs: HashSet<&str> = HashSet::new();
    let logs: Vec<&cloudtrail_digest::VerifiedLog> = chain
        .evidence
        .logs
        .iter()
        .filter(|l| seen_logs.insert(l.rel.as_str()))
        .collect();
    let ahead = ReadAhead::default();
    let (send, read) = mpsc::channel::<Result<Piece, StoreError>>();
    std::thread::scope(|scope| {
        let (logs, ahead_r) = (&logs, &ahead);
        scope.spawn(move || {
            let mut hand = |piece: Piece| {
                if !ahead_r.wait_for_room() {
                    return false;
                }
                ahead_r.add(piece.bytes());
                send.send(Ok(piece)).is_ok()
            };
            for l in logs {
                match read_log(root, l, &mut hand) {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => {
                        let _ = send.send(Err(e));
                        return;
                    }
                }
            }
        });
        let _stop = StopReading(&ahead);
        let mut next = || {
            read.recv().unwrap_or_else(|_| {
                Err(StoreError::Invalid(
                    "internal error: the thread that reads log files failed".into(),
                ))
            })
        };
        store_read_logs(
            sink, archive_id, logs, &mut next, &ahead, is_held, trail, stored, progress,
        )
    })
}

/// The writer's side of [`store_logs`]: each log file from `next`, in the order of `logs`.
#[allow(clippy::too_many_arguments)]
fn store_read_logs(
    sink: &mut ImportSink<'_, '_>,
    archive_id: i64,
    logs: &[&cloudtrail_digest::VerifiedLog],
    next: &mut dyn FnMut() -> Result<Piece, StoreError>,
    ahead: &ReadAhead,
    is_held: &dyn Fn(&str, &str, &str) -> bool,
    trail: &mut CloudTrailTrailImport,
    stored: &mut Stored,
    progress: &mut dyn FnMut(&CloudTrailStep) -> bool,
) -> Result<Option<Written>, StoreError> {
    let tx = sink.tx;
    let mut root_builder = crate::merkle::RootBuilder::new();
    let mut index = 0u64;
    let mut bytes = 0u64;
    for l in logs {
        let owned = !is_held("log", &l.rel, &l.sha256_hex);
        let first_index = owned.then_some(index);
        let mut line = 0u64;
        let (gz, n) = loop {
            let piece = next()?;
            let size = piece.bytes();
            let records = match piece {
                Piece::Records(r) => r,
                Piece::End { gz, records } => break (gz, records),
            };
            for (record, leaf) in records.iter() {
                line += 1;
                if !owned {
                    continue;
                }
                root_builder.push(*leaf);
                bytes += record.len() as u64;
                let ev = EventRef {
                    index,
                    entry: &l.rel,
                    line,
                    bytes: record,
                    leaf,
                };
                if !sink.event(&ev) {
                    if let Some(e) = sink.sql_error.take() {
                        return Err(e.into());
                    }
                    let why = sink.error.take().map(|f| f.message).unwrap_or_default();
                    return Err(StoreError::Invalid(format!("log file {}: {why}", l.rel)));
                }
                index += 1;
                stored.events += 1;
            }
            ahead.stored(size);
            // A large file is stored piece by piece: the auditor sees it move, and may cancel.
            if !progress(&CloudTrailStep::Storing {
                done: stored.logs_done,
                total: stored.logs_total,
                events: stored.events,
            }) {
                return Ok(None);
            }
        };
        if n != line {
            return Err(StoreError::Invalid(format!(
                "internal error: log file {} holds {n} records, {line} were read",
                l.rel
            )));
        }
        if !owned {
            trail.log_files_already_stored += 1;
        }
        stored.logs_done += 1;
        if !progress(&CloudTrailStep::Storing {
            done: stored.logs_done,
            total: stored.logs_total,
            events: stored.events,
        }) {
            return Ok(None);
        }
        tx.execute(
            "INSERT INTO cloudtrail_files (archive_id, path, kind, sha256, first_index, records, digest,
                content)
             VALUES (?1, ?2, 'log', ?3, ?4, ?5, ?6, ?7)",
            params![archive_id, l.rel, l.sha256_hex, first_index, n, l.digest_rel, gz],
        )?;
        ahead.stored(gz.len());
    }
    Ok(Some(Written {
        index,
        bytes,
        root: root_builder.root(),
        times: Times::default(),
        parse_errors: 0,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn the_reader_waits_for_room_and_stops_with_the_writer() {
        let ahead = ReadAhead::default();
        // Below the budget: room at once.
        ahead.add(READ_AHEAD_BYTES - 1);
        assert!(ahead.wait_for_room());
        // At it: the reader waits until the writer has stored enough.
        ahead.add(1);
        let woke = AtomicUsize::new(0);
        std::thread::scope(|s| {
            let reader = s.spawn(|| {
                let room = ahead.wait_for_room();
                woke.store(1, Ordering::SeqCst);
                room
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert_eq!(woke.load(Ordering::SeqCst), 0, "read ahead past the budget");
            ahead.stored(2);
            assert!(reader.join().unwrap());
        });
        // A writer that stops (error or cancel) releases a waiting reader, with no room.
        ahead.add(READ_AHEAD_BYTES);
        std::thread::scope(|s| {
            let reader = s.spawn(|| ahead.wait_for_room());
            std::thread::sleep(std::time::Duration::from_millis(50));
            drop(StopReading(&ahead));
            assert!(!reader.join().unwrap());
        });
        assert!(!ahead.wait_for_room());
    }
}
