//! Import: verify an archive (streaming) and store it in the same pass, atomically.
//!
//! Everything happens in one IMMEDIATE transaction per archive. Events are inserted while the verifier streams
//! them; the transaction commits only when the archive verified under a trusted key (or, with `keep_failed`,
//! with the archive flagged). A crash at any point leaves the database as it was before the archive.
//!
//! Threads: the verifier inflates and hashes on its own thread; each event is parsed and normalized on another,
//! in batches of `PREP_BATCH` events or `PREP_BYTES` bytes, one batch ahead of this thread, which only
//! writes to SQLite (a single writer).
//!
//! Memory is bounded by bytes, not events (an event may be 16 MiB): the verifier's batches, the batches of the
//! parsing thread, the text waiting for the full-text index and the summary rows each hold at most a few MiB
//! plus one event. An archive whose key is not trusted is refused once its checkpoint is read, before any event
//! is read, unless it is to be kept flagged.
//!
//! Every event that verifies is stored: one that is not a JSON object the parser can read
//! (`sources::parse_event`) is stored with its exact bytes, marked "not parsed" (`parse_error`), without
//! normalized fields but its source and origin, and is found by text search.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::Path;
use std::sync::{Arc, mpsc};

use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
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

struct ImportSink<'t, 'p> {
    tx: &'t Transaction<'t>,
    keep_failed: bool,
    /// Kept copies (untrusted or refused) of the same origin and sequence with other content: forks reported
    /// against them when a verified archive takes the sequence.
    kept_forks: Vec<i64>,
    path: &'t str,
    plan: Plan,
    normalizer: Normalizer,
    /// The auditor's choice of a built-in mapper instead of the archive's own rules (`import --as`).
    as_kind: Option<SourceKind>,
    /// Whose rules `normalizer` applies (the `normalization` column of the archive row).
    normalization: Option<Normalization>,
    /// The `source` column of this archive's events.
    source: String,
    origin: String,
    rollups: Rollups,
    ids: IdAllocator,
    /// Parsing and normalizing run on another thread, a batch ahead of the inserts.
    prep: Preparer,
    fts_pending: Vec<(i64, String)>,
    /// Bytes of the text in `fts_pending`.
    fts_bytes: usize,
    /// Events stored without normalized fields (not one JSON object the parser reads).
    parse_errors: u64,
    ts_min: Option<i64>,
    ts_max: Option<i64>,
    error: Option<Failure>,
    progress: &'p mut dyn FnMut(&Progress) -> bool,
    sql_error: Option<rusqlite::Error>,
}

pub(super) const INSERT_EVENT: &str =
    "INSERT INTO events (id, archive_id, idx, ts, source, origin, actor, action,
    resource, outcome, ip, agent, env, stage, category, leaf, raw, privilege, parse_error)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";
pub(super) const INSERT_FTS: &str = "INSERT INTO events_fts (rowid, raw) VALUES (?1, ?2)";
/// Events buffered (about 1 KB each) before they are added to the full-text index in rowid order...
const FTS_BATCH: usize = 16_384;
/// ... or fewer, once their text adds up to this many bytes.
const FTS_BYTES: usize = 16 << 20;

impl ImportSink<'_, '_> {
    fn decide(
        &mut self,
        manifest: &Manifest,
        report: &ArchiveReport,
    ) -> Result<Plan, rusqlite::Error> {
        let (Some(origin), Some(sequence)) = (&report.origin, report.sequence) else {
            return Ok(Plan::Refuse("archive has no origin or sequence".into()));
        };
        let note = report.checkpoint_note.clone().unwrap_or_default();
        // Only verified archives hold a sequence: a kept copy (untrusted or refused) never blocks a genuine one.
        let existing: Option<(i64, Vec<u8>)> = self
            .tx
            .query_row(
                "SELECT id, checkpoint FROM archives WHERE origin = ?1 AND sequence = ?2 AND status = 'verified'",
                params![origin, sequence],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((id, stored_note)) = existing {
            return Ok(if stored_note == note {
                Plan::AlreadyThere { archive_id: id }
            } else {
                Plan::Refuse(format!(
                    "fork: the store already holds a different verified archive for {origin} sequence {sequence} (archive #{id})"
                ))
            });
        }
        let kept: Vec<(i64, Vec<u8>, bool)> = self
            .tx
            .prepare(
                "SELECT id, checkpoint, events = (SELECT count(*) FROM events WHERE archive_id = archives.id)
                 FROM archives WHERE origin = ?1 AND sequence = ?2 AND status != 'verified' ORDER BY id",
            )?
            .query_map(params![origin, sequence], |r| {
                Ok((r.get(0)?, r.get::<_, Option<Vec<u8>>>(1)?.unwrap_or_default(), r.get(2)?))
            })?
            .collect::<Result<_, _>>()?;
        self.kept_forks = kept
            .iter()
            .filter(|(_, n, _)| *n != note)
            .map(|(id, _, _)| *id)
            .collect();
        let same_kept = kept
            .iter()
            .find(|(_, n, complete)| *n == note && *complete)
            .map(|(id, _, _)| *id);
        let neighbour = |seq: u64| -> Result<Option<ChainEnds>, rusqlite::Error> {
            self.tx
                .query_row(
                    "SELECT chain_start, chain_end FROM archives WHERE origin = ?1 AND sequence = ?2 AND status = 'verified'",
                    params![origin, seq],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
        };
        let start = decode(report.chain_start.as_deref());
        let end = decode(report.chain_end.as_deref());
        if sequence == 1 && start != Some([0u8; 32]) {
            return Ok(Plan::Refuse(
                "sequence 1 must start from the zero chain value".into(),
            ));
        }
        if sequence > 1
            && let Some((_, prev_end)) = neighbour(sequence - 1)?
            && start.map(|s| s.to_vec()) != Some(prev_end)
        {
            return Ok(Plan::Refuse(format!(
                "fork: sequence {sequence} does not continue the stored chain of sequence {}",
                sequence - 1
            )));
        }
        if let Some((next_start, _)) = neighbour(sequence + 1)?
            && end.map(|e| e.to_vec()) != Some(next_start)
        {
            return Ok(Plan::Refuse(format!(
                "fork: the stored sequence {} does not continue this archive's chain",
                sequence + 1
            )));
        }
        if let Some(archive_id) = same_kept
            && report.signer.as_ref().is_some_and(|s| s.trusted)
        {
            return Ok(Plan::Promote { archive_id });
        }
        if let Some(archive_id) = same_kept
            && !report.signer.as_ref().is_some_and(|s| s.trusted)
        {
            return Ok(Plan::AlreadyKept { archive_id });
        }
        let archive_id =
            insert_archive_row(self.tx, self.path, "verified", None, report, Some(manifest))?;
        self.tx.execute(
            "UPDATE archives SET normalization = ?1 WHERE id = ?2",
            params![
                self.normalization.as_ref().map(Normalization::column),
                archive_id
            ],
        )?;
        Ok(Plan::Insert { archive_id })
    }

    /// Inserts the events of a prepared batch in order; stops at the first that is not text (the verifier lets
    /// none through: the archive would then fail at that event).
    fn insert_batch(
        &mut self,
        archive_id: i64,
        batch: Vec<Prepared>,
    ) -> Result<bool, rusqlite::Error> {
        for p in batch {
            let (text, fields) = match p.outcome {
                Ok(ok) => ok,
                Err(why) => {
                    self.fail(&p.event, why);
                    return Ok(false);
                }
            };
            if !self.insert(archive_id, &p.event, text, fields)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Stores one event: with its normalized fields, or, when it did not parse, with none (but its source and
    /// origin) and the parser's reason.
    fn insert(
        &mut self,
        archive_id: i64,
        ev: &PendingEvent,
        text: String,
        fields: Result<Normalized, ParseError>,
    ) -> Result<bool, rusqlite::Error> {
        let (n, parse_error) = match fields {
            Ok(n) => (n, None),
            Err(e) => {
                self.parse_errors += 1;
                (Normalized::default(), Some(e))
            }
        };
        if let Some(ts) = n.ts {
            self.ts_min = Some(self.ts_min.map_or(ts, |m| m.min(ts)));
            self.ts_max = Some(self.ts_max.map_or(ts, |m| m.max(ts)));
        }
        let Some(id) = self.ids.allocate(self.tx, n.ts)? else {
            self.fail(
                ev,
                "more than a billion events of the store share about one second of event time",
            );
            return Ok(false);
        };
        let mut stmt = self.tx.prepare_cached(INSERT_EVENT)?;
        stmt.execute(params![
            id,
            archive_id,
            ev.index as i64,
            n.ts,
            self.source,
            self.origin,
            n.actor,
            n.action,
            n.resource,
            n.outcome,
            n.ip,
            n.agent,
            n.env,
            n.stage,
            n.category,
            &ev.leaf[..],
            &text,
            n.privilege,
            parse_error.as_ref().map(ParseError::reason),
        ])?;
        self.rollups.add(&n);
        if self.rollups.len() >= ROLLUP_BATCH || self.rollups.bytes >= ROLLUP_BYTES {
            self.rollups.flush(self.tx, archive_id, &self.source)?;
        }
        self.fts_bytes += text.len();
        self.fts_pending.push((id, text));
        if self.fts_pending.len() >= FTS_BATCH || self.fts_bytes >= FTS_BYTES {
            self.flush_fts()?;
        }
        Ok(true)
    }

    /// Adds the pending events to the full-text index in ascending rowid order. FTS5 flushes its in-memory
    /// index whenever a rowid is not above the previous one, and event ids follow time, not file order; sorting
    /// a batch turns thousands of tiny segments (and their merges) into one.
    fn flush_fts(&mut self) -> Result<(), rusqlite::Error> {
        self.fts_pending.sort_unstable_by_key(|(id, _)| *id);
        let mut fts = self.tx.prepare_cached(INSERT_FTS)?;
        for (id, text) in self.fts_pending.drain(..) {
            fts.execute(params![id, text])?;
        }
        self.fts_bytes = 0;
        Ok(())
    }

    fn fail(&mut self, ev: &PendingEvent, why: &str) {
        let mut f = Failure {
            kind: FailureKind::EventSyntax,
            message: why.into(),
            entry: Some(ev.entry.to_string()),
            line: Some(ev.line),
            event_index: Some(ev.index),
            expected: None,
            found: None,
        };
        f.message = format!("{why}: an importer refuses the archive");
        self.error = Some(f);
    }
}

impl Sink for ImportSink<'_, '_> {
    fn begin(&mut self, manifest: &Manifest, report: &ArchiveReport) -> bool {
        // Trust is known from the signed checkpoint: an archive that would not be stored is not read further.
        if !signer_trusted(report) && !self.keep_failed {
            self.plan = Plan::Untrusted;
            return false;
        }
        // The archive's own signed kind and mapping file, never anything supplied at import time.
        match Normalizer::for_archive(&manifest.source_kind, report.mapping_bytes.as_deref()) {
            Ok(n) => self.normalizer = n,
            Err(e) => {
                let mut f = Failure {
                    kind: FailureKind::Mapping,
                    message: format!("{e}: an importer refuses the archive"),
                    entry: None,
                    line: None,
                    event_index: None,
                    expected: None,
                    found: None,
                };
                if report.mapping_bytes.is_some() {
                    f.entry = Some(crate::archive::MAPPING.into());
                }
                self.error = Some(f);
                return false;
            }
        }
        // Whose rules: the archive's own, or the built-in mapper the auditor chose instead (the verified bytes,
        // leaves and root are the same either way).
        self.normalization = report.normalization.clone();
        if let Some(kind) = self.as_kind {
            self.normalizer = Normalizer::builtin(kind);
            self.normalization = report
                .normalization
                .as_ref()
                .and_then(|producer| Normalization::auditor(kind, producer));
        }
        self.source = self.normalizer.source_name();
        self.origin = manifest.origin.clone();
        match self.decide(manifest, report) {
            Ok(plan) => {
                self.plan = plan;
                true
            }
            Err(e) => {
                self.sql_error = Some(e);
                false
            }
        }
    }

    fn event(&mut self, ev: &EventRef<'_>) -> bool {
        let Plan::Insert { archive_id } = self.plan else {
            return true;
        };
        let Some(done) = self.prep.push(ev, &self.normalizer) else {
            return true;
        };
        match self.insert_batch(archive_id, done) {
            Ok(go_on) => go_on,
            Err(e) => {
                self.sql_error = Some(e);
                false
            }
        }
    }

    fn progress(&mut self, p: &Progress) -> bool {
        (self.progress)(p)
    }

    fn parses_events(&self) -> bool {
        matches!(self.plan, Plan::Insert { .. })
    }
}

/// Summary rows buffered before they are written (each about 100 bytes)...
pub(super) const ROLLUP_BATCH: usize = 100_000;
/// ... or fewer, once the text of their keys (actors can be long) adds up to this many bytes.
pub(super) const ROLLUP_BYTES: usize = 16 << 20;

/// The summary tables' rows of the events imported so far (counted events only: docs/search.md section 9),
/// per UTC hour and per UTC minute, written in batches; several rows with the same key add up.
#[derive(Default)]
pub(super) struct Rollups {
    /// (unit, time in that unit, category, outcome, privilege) -> count; unit 0 is hours, 1 minutes.
    counts: HashMap<CountKey, i64>,
    /// (unit, time, category, outcome, env, actor) -> count.
    actors: HashMap<ActorKey, i64>,
    /// Bytes of the text in the keys of both maps.
    bytes: usize,
}

type CountKey = (
    u8,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);
type ActorKey = (
    u8,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Rollups {
    pub(super) fn add(&mut self, n: &Normalized) {
        if !super::stats::is_counted(n.stage.as_deref()) {
            return;
        }
        let times = [
            n.ts.map(super::stats::hour_of),
            n.ts.map(|t| t.div_euclid(60_000_000)),
        ];
        let len = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        let count_key = len(&n.category) + len(&n.outcome) + len(&n.privilege);
        let actor_key = len(&n.category) + len(&n.outcome) + len(&n.env) + len(&n.actor);
        for (unit, time) in times.into_iter().enumerate() {
            let unit = unit as u8;
            let key = (
                unit,
                time,
                n.category.clone(),
                n.outcome.clone(),
                n.privilege.clone(),
            );
            match self.counts.entry(key) {
                Entry::Occupied(mut e) => *e.get_mut() += 1,
                Entry::Vacant(e) => {
                    e.insert(1);
                    self.bytes += count_key;
                }
            }
            let key = (
                unit,
                time,
                n.category.clone(),
                n.outcome.clone(),
                n.env.clone(),
                n.actor.clone(),
            );
            match self.actors.entry(key) {
                Entry::Occupied(mut e) => *e.get_mut() += 1,
                Entry::Vacant(e) => {
                    e.insert(1);
                    self.bytes += actor_key;
                }
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.counts.len() + self.actors.len()
    }

    pub(super) fn flush(
        &mut self,
        tx: &Transaction<'_>,
        archive_id: i64,
        source: &str,
    ) -> Result<(), rusqlite::Error> {
        let tables = [
            ("rollup_hourly", "rollup_actors", "hour"),
            ("rollup_minutely", "rollup_minute_actors", "minute"),
        ];
        for ((unit, time, category, outcome, privilege), n) in self.counts.drain() {
            let (table, _, column) = tables[usize::from(unit)];
            tx.prepare_cached(&format!(
                "INSERT INTO {table} (archive_id, {column}, source, category, outcome, privilege, n)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))?
            .execute(params![
                archive_id, time, source, category, outcome, privilege, n
            ])?;
        }
        for ((unit, time, category, outcome, env, actor), n) in self.actors.drain() {
            let (_, table, column) = tables[usize::from(unit)];
            tx.prepare_cached(&format!(
                "INSERT INTO {table} (archive_id, {column}, category, outcome, env, actor, n)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))?
            .execute(params![archive_id, time, category, outcome, env, actor, n])?;
        }
        self.bytes = 0;
        Ok(())
    }
}

/// Events handed to the parsing thread at a time...
const PREP_BATCH: usize = 1024;
/// ... or fewer, once their bytes add up to this many (so at most three batches of about this size, each plus
/// one event, exist: the one filling, the one being parsed, the one being inserted).
const PREP_BYTES: usize = 8 << 20;

/// An event waiting to be parsed: its own copy of the bytes, and where it is in the archive.
pub(super) struct PendingEvent {
    pub(super) index: u64,
    pub(super) line: u64,
    pub(super) entry: Arc<str>,
    pub(super) leaf: Hash,
    pub(super) bytes: Vec<u8>,
}

/// An event as text with its normalized fields (or why it did not parse), or why it cannot be stored (it is not
/// UTF-8, which the verifier never lets through).
pub(super) struct Prepared {
    pub(super) event: PendingEvent,
    pub(super) outcome: Result<(String, Result<Normalized, ParseError>), &'static str>,
}

pub(super) fn prepare(normalizer: &Normalizer, mut event: PendingEvent) -> Prepared {
    let outcome = String::from_utf8(std::mem::take(&mut event.bytes))
        .map_err(|_| "event is not valid UTF-8")
        .map(|text| {
            let fields = normalizer.normalize_event(text.as_bytes());
            (text, fields)
        });
    Prepared { event, outcome }
}

/// The parsing thread: prepares each batch it is given, in order.
fn prepare_batches(
    batches: mpsc::Receiver<(Normalizer, Vec<PendingEvent>)>,
    prepared: mpsc::SyncSender<Vec<Prepared>>,
) {
    for (normalizer, batch) in batches {
        let done = batch.into_iter().map(|e| prepare(&normalizer, e)).collect();
        if prepared.send(done).is_err() {
            return;
        }
    }
}

/// The import's side of the parsing thread: fills a batch, hands it over when full and takes back the batch
/// handed over before it (so at most two batches, about 2 MB, are in flight).
struct Preparer {
    to_worker: mpsc::SyncSender<(Normalizer, Vec<PendingEvent>)>,
    from_worker: mpsc::Receiver<Vec<Prepared>>,
    filling: Vec<PendingEvent>,
    /// Bytes of the events in `filling`.
    filling_bytes: usize,
    in_flight: bool,
    /// The name of the entry of the last event (shared by the events of one entry).
    entry: Option<Arc<str>>,
}

impl Preparer {
    fn new(
        to_worker: mpsc::SyncSender<(Normalizer, Vec<PendingEvent>)>,
        from_worker: mpsc::Receiver<Vec<Prepared>>,
    ) -> Self {
        Preparer {
            to_worker,
            from_worker,
            filling: Vec::with_capacity(PREP_BATCH),
            filling_bytes: 0,
            in_flight: false,
            entry: None,
        }
    }

    /// Adds an event. When the batch is full it goes to the thread, and the batch before it comes back.
    fn push(&mut self, ev: &EventRef<'_>, normalizer: &Normalizer) -> Option<Vec<Prepared>> {
        let entry = match &self.entry {
            Some(e) if **e == *ev.entry => e.clone(),
            _ => self.entry.insert(Arc::from(ev.entry)).clone(),
        };
        self.filling.push(PendingEvent {
            index: ev.index,
            line: ev.line,
            entry,
            leaf: *ev.leaf,
            bytes: ev.bytes.to_vec(),
        });
        self.filling_bytes += ev.bytes.len();
        if self.filling.len() < PREP_BATCH && self.filling_bytes < PREP_BYTES {
            return None;
        }
        let done = self.take_in_flight();
        let batch = std::mem::replace(&mut self.filling, Vec::with_capacity(PREP_BATCH));
        self.filling_bytes = 0;
        match self.to_worker.send((normalizer.clone(), batch)) {
            Ok(()) => self.in_flight = true,
            Err(mpsc::SendError((_, batch))) => {
                // The thread is gone: prepare here rather than lose the batch.
                let mut done = done.unwrap_or_default();
                done.extend(batch.into_iter().map(|e| prepare(normalizer, e)));
                return Some(done);
            }
        }
        done
    }

    /// The batch in flight, once the thread gives it back. `None` also when the thread died with it: the import
    /// then fails when the thread is joined, before anything commits.
    fn take_in_flight(&mut self) -> Option<Vec<Prepared>> {
        if !std::mem::take(&mut self.in_flight) {
            return None;
        }
        self.from_worker.recv().ok()
    }

    /// Every event not yet given back, in order: the batch in flight, then the rest prepared here.
    fn finish(&mut self, normalizer: &Normalizer) -> Vec<Prepared> {
        let mut done = self.take_in_flight().unwrap_or_default();
        done.extend(self.filling.drain(..).map(|e| prepare(normalizer, e)));
        self.filling_bytes = 0;
        done
    }
}

/// Hands out time-ordered ids (store/rowid.rs): the next free id in the event's millisecond bucket. The store is
/// the source of truth (this transaction's own inserts included); a small cache saves the lookup for runs of
/// events in the same millisecond.
#[derive(Default)]
pub(super) struct IdAllocator {
    next: HashMap<i64, i64>,
}

impl IdAllocator {
    /// The next free id for an event at `ts`: in its millisecond's bucket, or, when that bucket is full (an
    /// archive of a million copies of one event can fill it), in the next buckets up to
    /// [`rowid::MAX_SPILL_MS`] milliseconds later, which time ranges allow for. `None` only when all of those
    /// are full: more than a billion events in about one second of event time.
    pub(super) fn allocate(
        &mut self,
        tx: &Transaction<'_>,
        ts: Option<i64>,
    ) -> Result<Option<i64>, rusqlite::Error> {
        let (first, span, spill) = match ts {
            Some(t) => (rowid::bucket_start(t), rowid::BUCKET, rowid::MAX_SPILL_MS),
            None => (rowid::UNTIMED_BASE, rowid::UNTIMED_SPAN, 0),
        };
        for k in 0..=spill {
            let Some(base) = first.checked_add(k * span) else {
                break;
            };
            let next = match self.next.get(&base) {
                Some(n) => *n,
                None => {
                    if self.next.len() > 4096 {
                        self.next.clear();
                    }
                    let max: Option<i64> = tx
                        .prepare_cached("SELECT max(id) FROM events WHERE id >= ?1 AND id <= ?2")?
                        .query_row(params![base, base + (span - 1)], |r| r.get(0))?;
                    max.map_or(base, |m| m + 1)
                }
            };
            if next - base >= span {
                self.next.insert(base, next);
                continue;
            }
            self.next.insert(base, next + 1);
            return Ok(Some(next));
        }
        Ok(None)
    }
}

/// A stored archive's chain start and chain end.
type ChainEnds = (Vec<u8>, Vec<u8>);

/// What [`verify_and_insert`] found: the report, the plan, the events' time range and the kept forks.
type Verified = (ArchiveReport, Plan, Option<i64>, Option<i64>, Vec<i64>);

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
        fts_pending: Vec::new(),
        fts_bytes: 0,
        parse_errors: 0,
        ts_min: None,
        ts_max: None,
        error: None,
        progress,
        sql_error: None,
    };
    // Trust of the archive's signer for its origin: the policy, with the origin's established signers (the
    // signers of its verified archives in the store) for first-use pinning of bare keys.
    let trust = |origin: &str, signer: &VerifierKey, created: Option<i64>| -> TrustDecision {
        match established_signers(tx, origin) {
            Ok(established) => opts.trust.decide(origin, signer, created, &established),
            Err(e) => TrustDecision {
                trusted: false,
                basis: crate::trust::TrustBasis::None,
                reason: format!("the store's signers of this origin cannot be read: {e}"),
            },
        }
    };
    let mut report = verify::verify_archive_with(path, &trust, &mut sink)?;
    let cancelled = report
        .failure
        .as_ref()
        .is_some_and(|f| f.kind == FailureKind::Cancelled);
    if let Plan::Insert { archive_id } = sink.plan
        && sink.sql_error.is_none()
        && sink.error.is_none()
        && !cancelled
    {
        let rest = sink.prep.finish(&sink.normalizer);
        if let Err(e) = sink.insert_batch(archive_id, rest) {
            sink.sql_error = Some(e);
        }
    }
    if sink.sql_error.is_none()
        && let Err(e) = sink.flush_fts()
    {
        sink.sql_error = Some(e);
    }
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
        sink.ts_min,
        sink.ts_max,
        std::mem::take(&mut sink.kept_forks),
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

/// Re-verifies a stored archive from its stored bytes: every event's leaf from its raw bytes, the count, the
/// Merkle root and the chain end against the stored signed checkpoint. `Err` names the first difference.
pub(super) fn reverify_stored(tx: &Transaction<'_>, archive_id: i64) -> Result<(), String> {
    use crate::checkpoint::Checkpoint;
    use crate::merkle::RootBuilder;
    use crate::note::Note;
    let sql = |e: rusqlite::Error| e.to_string();
    let note: Vec<u8> = tx
        .query_row(
            "SELECT checkpoint FROM archives WHERE id = ?1",
            [archive_id],
            |r| r.get(0),
        )
        .map_err(sql)?;
    let note = Note::parse(&note).map_err(|e| format!("stored checkpoint: {e}"))?;
    let cp = Checkpoint::parse(&note.text).map_err(|e| format!("stored checkpoint: {e}"))?;
    let chain = crate::archive::ChainLines::from_checkpoint(&cp).map_err(|e| e.to_string())?;
    let mut stmt = tx
        .prepare("SELECT idx, leaf, raw FROM events WHERE archive_id = ?1 ORDER BY idx")
        .map_err(sql)?;
    let mut rows = stmt.query([archive_id]).map_err(sql)?;
    let mut root = RootBuilder::new();
    let mut c = chain.chain_start;
    let mut n = 0u64;
    while let Some(r) = rows.next().map_err(sql)? {
        let idx: i64 = r.get(0).map_err(sql)?;
        let stored_leaf: Vec<u8> = r.get(1).map_err(sql)?;
        let raw: String = r.get(2).map_err(sql)?;
        if idx != n as i64 {
            return Err(format!("event index {n} is missing (found {idx})"));
        }
        let leaf = crate::merkle::leaf_hash(raw.as_bytes());
        if stored_leaf != leaf {
            return Err(format!(
                "event index {n}: stored bytes do not match their leaf"
            ));
        }
        root.push(leaf);
        c = crate::seal::chain_step(&c, &leaf);
        n += 1;
    }
    if n != cp.size {
        return Err(format!(
            "{n} events stored, the checkpoint signs {}",
            cp.size
        ));
    }
    if root.root() != cp.root {
        return Err("the stored events do not give the signed Merkle root".into());
    }
    if c != chain.chain_end {
        return Err("the stored events do not give the signed chain end".into());
    }
    Ok(())
}

/// The signers of an origin's verified archives in the store (its established signers, docs/trust-policy.md).
fn established_signers(
    tx: &Transaction<'_>,
    origin: &str,
) -> Result<Vec<VerifierKey>, rusqlite::Error> {
    let keys: Vec<String> = tx
        .prepare_cached(
            "SELECT DISTINCT signer_key FROM archives WHERE origin = ?1 AND status = 'verified' AND signer_key IS NOT NULL",
        )?
        .query_map([origin], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(keys
        .iter()
        .filter_map(|k| VerifierKey::parse(k).ok())
        .collect())
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
            imported_at, mapping)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
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
    pub fn import_archive_as(
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
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Parsing and normalizing run on a second thread, one batch ahead of the inserts on this one.
        let (to_worker, batches) = mpsc::sync_channel(1);
        let (prepared, from_worker) = mpsc::sync_channel(1);
        let (report, plan, ts_min, ts_max, kept_forks) = std::thread::scope(|scope| {
            let worker = scope.spawn(move || prepare_batches(batches, prepared));
            let prep = Preparer::new(to_worker, from_worker);
            // The sink, and with it the thread's channel, is gone when this returns: the thread then ends.
            let outcome = verify_and_insert(&tx, path, &path_text, opts, as_kind, progress, prep);
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
                    "UPDATE archives SET time_first = ?1, time_last = ?2, parse_errors = ?3 WHERE id = ?4",
                    params![ts_min, ts_max, parse_errors, archive_id],
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
                        if let Some(kind) = as_kind
                            && let Err(why) =
                                super::renormalize::renormalize_in(&tx, *archive_id, kind)?
                        {
                            return Err(StoreError::Invalid(format!(
                                "archive #{archive_id} re-verified, but cannot be re-normalized: {why}"
                            )));
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
                if let Some(kind) = as_kind {
                    match super::renormalize::renormalize_in(&tx, *archive_id, kind)? {
                        Ok(done) if done.changed => {
                            commit = true;
                            result.message = format!(
                                "verified; already imported (archive #{archive_id}); its {} re-normalized: {}",
                                crate::report::count(done.events, "event"),
                                done.normalization.text
                            );
                        }
                        Ok(_) => {}
                        Err(why) => {
                            result.outcome = ImportOutcome::Refused;
                            result.message = format!(
                                "verified; already imported (archive #{archive_id}), but not re-normalized: {why}"
                            );
                        }
                    }
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
                                 parse_errors = ?5 WHERE id = ?6",
                                params![db_status, stored_failure, ts_min, ts_max, parse_errors, archive_id],
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
        if let Some(id) = result.archive_id
            && result.is_ok()
        {
            result.normalization = super::renormalize::stored_normalization(&tx, id)?;
        }
        if commit {
            tx.commit()?;
            self.checkpoint_soon();
        } else {
            drop(tx);
        }
        if let (Some(origin), Some(seq)) = (&result.report.origin, result.report.sequence)
            && result.is_ok()
        {
            result.gap_before = self.gap_before(origin, seq)?;
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

/// What [`Store::promote_trusted`] did with one kept (untrusted) archive whose signer the policy now trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Promotion {
    pub archive_id: i64,
    pub origin: String,
    pub sequence: u64,
    /// Whether the kept copy is now verified (re-verified from its stored bytes, linked to its neighbours).
    pub promoted: bool,
    /// What happened, in words: the grant that applies, or why the copy stays kept.
    pub message: String,
}

/// The signed facts of a stored archive, read again from its stored checkpoint and manifest: origin, sequence,
/// chain values, the signer (whose signature on the checkpoint verified) and the signed sealing time.
struct StoredSigned {
    origin: String,
    sequence: u64,
    chain: crate::archive::ChainLines,
    signer: VerifierKey,
    created: Option<i64>,
    note: Vec<u8>,
}

/// A kept archive's origin, sequence, stored checkpoint and stored manifest.
type KeptRow = (
    Option<String>,
    Option<i64>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);
/// A stored archive's chain start and end.
type ChainLink = (Vec<u8>, Vec<u8>);

fn stored_signed(checkpoint: &[u8], manifest: &[u8]) -> Result<StoredSigned, String> {
    use crate::checkpoint::Checkpoint;
    use crate::note::Note;
    use sha2::Digest as _;
    let note = Note::parse(checkpoint).map_err(|e| format!("stored checkpoint: {e}"))?;
    let cp = Checkpoint::parse(&note.text).map_err(|e| format!("stored checkpoint: {e}"))?;
    let chain = crate::archive::ChainLines::from_checkpoint(&cp).map_err(|e| e.to_string())?;
    let m: Manifest =
        serde_json::from_slice(manifest).map_err(|e| format!("stored manifest: {e}"))?;
    let signer =
        VerifierKey::parse(&m.signer).map_err(|e| format!("stored manifest signer: {e}"))?;
    note.verify(&signer)
        .map_err(|e| format!("stored checkpoint signature by {}: {e}", signer.name()))?;
    let hash: Hash = sha2::Sha256::digest(manifest).into();
    if hash != chain.manifest_sha256 {
        return Err("the stored manifest differs from the one the checkpoint signs".into());
    }
    Ok(StoredSigned {
        origin: cp.origin,
        sequence: chain.sequence,
        chain,
        signer,
        created: crate::time::parse_rfc3339(&m.created),
        note: checkpoint.to_vec(),
    })
}

/// Decides one kept archive under `policy` and, when its signer is trusted and it fits the stored chain, marks it
/// verified (in `tx`, not committed). `None` when the signer is still not trusted (nothing to say).
fn promote_one(
    tx: &Transaction<'_>,
    archive_id: i64,
    policy: &TrustPolicy,
) -> Result<Option<Promotion>, rusqlite::Error> {
    let (origin_col, sequence_col, checkpoint, manifest): KeptRow = tx.query_row(
        "SELECT origin, sequence, checkpoint, manifest FROM archives WHERE id = ?1",
        [archive_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let mut p = Promotion {
        archive_id,
        origin: origin_col.clone().unwrap_or_default(),
        sequence: sequence_col.unwrap_or(0).max(0) as u64,
        promoted: false,
        message: String::new(),
    };
    let signed = match (checkpoint, manifest) {
        (Some(c), Some(m)) => stored_signed(&c, &m),
        _ => Err("its signed checkpoint or manifest is not stored".into()),
    };
    let s = match signed {
        Ok(s) => s,
        Err(why) => {
            p.message = format!(
                "the kept archive #{archive_id} cannot be re-read as signed ({why}); it stays kept; run `auditlens check`"
            );
            return Ok(Some(p));
        }
    };
    if origin_col.as_deref() != Some(s.origin.as_str()) || sequence_col != Some(s.sequence as i64) {
        p.message = format!(
            "the kept archive #{archive_id}'s stored origin or sequence differs from its signed checkpoint; it stays kept; run `auditlens check`"
        );
        return Ok(Some(p));
    }
    let established = established_signers(tx, &s.origin)?;
    let decision = policy.decide(&s.origin, &s.signer, s.created, &established);
    if !decision.trusted {
        return Ok(None);
    }
    let (origin, sequence) = (s.origin.as_str(), s.sequence);
    let existing: Option<(i64, Vec<u8>)> = tx
        .query_row(
            "SELECT id, checkpoint FROM archives WHERE origin = ?1 AND sequence = ?2 AND status = 'verified'",
            params![origin, sequence],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let neighbour = |seq: u64| -> Result<Option<ChainLink>, rusqlite::Error> {
        tx.query_row(
            "SELECT chain_start, chain_end FROM archives WHERE origin = ?1 AND sequence = ?2 AND status = 'verified'",
            params![origin, seq],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
    };
    let refusal = if let Some((id, note)) = existing {
        Some(if note == s.note {
            format!("the same archive is already verified (archive #{id})")
        } else {
            format!(
                "fork: the store already holds a different verified archive for {origin} sequence {sequence} (archive #{id})"
            )
        })
    } else if sequence == 1 && s.chain.chain_start != [0u8; 32] {
        Some("sequence 1 must start from the zero chain value".into())
    } else if sequence > 1
        && let Some((_, prev_end)) = neighbour(sequence - 1)?
        && prev_end != s.chain.chain_start.to_vec()
    {
        Some(format!(
            "fork: sequence {sequence} does not continue the stored chain of sequence {}",
            sequence - 1
        ))
    } else if let Some((next_start, _)) = neighbour(sequence + 1)?
        && next_start != s.chain.chain_end.to_vec()
    {
        Some(format!(
            "fork: the stored sequence {} does not continue this archive's chain",
            sequence + 1
        ))
    } else {
        None
    };
    if let Some(why) = refusal {
        p.message = format!("trusted now, but the kept archive #{archive_id} stays kept: {why}");
        return Ok(Some(p));
    }
    if let Err(why) = reverify_stored(tx, archive_id) {
        p.message = format!(
            "trusted now, but the kept archive #{archive_id} does not re-verify from its stored bytes: {why}; \
             run `auditlens check`"
        );
        return Ok(Some(p));
    }
    tx.execute(
        "UPDATE archives SET status = 'verified', failure = NULL, signer_key = ?1, signer_name = ?2,
            signer_fingerprint = ?3 WHERE id = ?4",
        params![
            s.signer.to_string(),
            s.signer.name(),
            s.signer.fingerprint(),
            archive_id
        ],
    )?;
    p.promoted = true;
    p.message = format!(
        "the kept archive #{archive_id} was re-verified from its stored bytes and is now verified ({})",
        decision.reason
    );
    Ok(Some(p))
}

impl Store {
    /// Decides every kept untrusted archive again under `policy` (with its origin's established signers, as an
    /// import does) and promotes those now trusted: each re-verified from its stored bytes and checked against the
    /// stored chain (no verified archive at its origin and sequence, links to its verified neighbours), then
    /// marked verified, one transaction each, in origin and sequence order. Archives still not trusted are left
    /// as they are and not listed.
    pub fn promote_trusted(&mut self, policy: &TrustPolicy) -> Result<Vec<Promotion>, StoreError> {
        let ids: Vec<i64> = self
            .conn
            .prepare(
                "SELECT id FROM archives WHERE status = 'untrusted' ORDER BY origin, sequence, id",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for id in ids {
            self.hand_over_checkpoints();
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some(p) = promote_one(&tx, id, policy)? else {
                continue;
            };
            if p.promoted {
                tx.commit()?;
                self.checkpoint_soon();
            }
            out.push(p);
        }
        Ok(out)
    }
}
