//! The import's sink: decides what to do with an archive once its signed checkpoint and manifest are read
//! (insert, promote a kept copy, refuse, stop untrusted), then stores its events as the verifier streams them.

use super::*;

pub(in crate::store) struct ImportSink<'t, 'p> {
    pub(super) tx: &'t Transaction<'t>,
    pub(super) keep_failed: bool,
    /// Kept copies (untrusted or refused) of the same origin and sequence with other content: forks reported
    /// against them when a verified archive takes the sequence.
    pub(super) kept_forks: Vec<i64>,
    pub(super) path: &'t str,
    pub(super) plan: Plan,
    pub(super) normalizer: Normalizer,
    /// The auditor's choice of a built-in mapper instead of the archive's own rules (`import --as`).
    pub(super) as_kind: Option<SourceKind>,
    /// Whose rules `normalizer` applies (the `normalization` column of the archive row).
    pub(super) normalization: Option<Normalization>,
    /// The `source` column of this archive's events.
    pub(super) source: String,
    pub(super) origin: String,
    pub(super) rollups: Rollups,
    pub(super) ids: IdAllocator,
    /// Parsing and normalizing run on another thread, a batch ahead of the inserts.
    pub(super) prep: Preparer,
    /// Whether the page cache was made small for big events ([`crate::store::BIG_EVENT_CACHE_SIZE`]).
    pub(super) small_cache: bool,
    /// Events stored without normalized fields (not one JSON object the parser reads).
    pub(super) parse_errors: u64,
    pub(super) times: Times,
    /// The hashes of every 1,024 stored leaves (`archives.leaf_blocks`); `None` where none are kept.
    pub(super) blocks: Option<crate::merkle::BlockHashes>,
    pub(super) error: Option<Failure>,
    pub(super) progress: &'p mut dyn FnMut(&Progress) -> bool,
    pub(super) sql_error: Option<rusqlite::Error>,
}

pub(in crate::store) const INSERT_EVENT: &str =
    "INSERT INTO events (id, archive_id, idx, ts, source, origin, actor, action,
    resource, outcome, ip, agent, env, stage, category, leaf, raw, privilege, parse_error)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";

impl ImportSink<'_, '_> {
    pub(super) fn decide(
        &mut self,
        manifest: &Manifest,
        report: &ArchiveReport,
    ) -> Result<Plan, rusqlite::Error> {
        let (Some(origin), Some(sequence)) = (&report.origin, report.sequence) else {
            return Ok(Plan::Refuse("archive has no origin or sequence".into()));
        };
        if crate::seal::is_reserved_origin(origin) {
            return Ok(Plan::Refuse(format!(
                "its origin is in {}..., reserved for AWS CloudTrail exports verified with AWS's own signatures \
                 (docs/cloudtrail.md section 5): an AuditLens archive cannot claim it",
                crate::seal::RESERVED_ORIGIN_PREFIX
            )));
        }
        if sequence > super::MAX_STORED_SEQUENCE {
            return Ok(Plan::Refuse(super::sequence_too_large(sequence)));
        }
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

    /// Stores the events still being prepared, unless storing already stopped (a failed insert, an event refused,
    /// a cancel). Called when the events end, at the verifier's [`Sink::end`] or after a failure; a second call
    /// finds nothing left.
    pub(super) fn finish_events(&mut self, cancelled: bool) {
        if let Plan::Insert { archive_id } = self.plan
            && self.sql_error.is_none()
            && self.error.is_none()
            && !cancelled
        {
            let rest = self.prep.finish(&self.normalizer);
            if let Err(e) = self.insert_batch(archive_id, rest) {
                self.sql_error = Some(e);
            }
        }
    }

    /// Inserts the events of a prepared batch in order; stops at the first that is not text (the verifier lets
    /// none through: the archive would then fail at that event).
    pub(super) fn insert_batch(
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
    pub(super) fn insert(
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
        self.times.add(ev.index, n.ts, parse_error.is_none());
        if let Some(blocks) = &mut self.blocks {
            blocks.push(ev.leaf);
        }
        if text.len() >= PREP_INLINE_BYTES && !self.small_cache {
            self.tx
                .pragma_update(None, "cache_size", crate::store::BIG_EVENT_CACHE_SIZE)?;
            self.small_cache = true;
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
        // Back to the cache now: that clears SQLite's own copies of the bound text (the event and its fields),
        // which would otherwise be held while the summary rows are written.
        drop(stmt);
        self.rollups.add(n);
        if self.rollups.full() {
            self.rollups.flush(self.tx, archive_id, &self.source)?;
        }
        Ok(true)
    }

    pub(super) fn fail(&mut self, ev: &PendingEvent, why: &str) {
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

    fn end(&mut self) {
        self.finish_events(false);
    }

    fn newest_event(&self) -> Option<i64> {
        self.times.max
    }
}

/// The times of an archive's stored events: the first and last, and how many of those that parse have none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(in crate::store) struct Times {
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// Events that parse but have no time under the archive's rules (`archives.untimed`).
    pub untimed: u64,
    /// The index of the first of them.
    pub first_untimed: Option<u64>,
}

impl Times {
    pub fn add(&mut self, index: u64, ts: Option<i64>, parsed: bool) {
        match ts {
            Some(t) => {
                self.min = Some(self.min.map_or(t, |m| m.min(t)));
                self.max = Some(self.max.map_or(t, |m| m.max(t)));
            }
            None if parsed => {
                self.untimed += 1;
                self.first_untimed.get_or_insert(index);
            }
            None => {}
        }
    }
}
