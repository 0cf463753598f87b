//! `check` for CloudTrail evidence (rows with `evidence = 'aws-cloudtrail'`, docs/cloudtrail.md section 5): the
//! stored digests and log files are written out as an export again and verified with AWS's signatures and the
//! AWS keys the auditor gives now (none are read from the file), exactly as at import; the stored events must be
//! the records of the stored log files, in order, with their leaf hashes, Merkle root and re-derived fields.

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path};

use super::*;
use crate::cloudtrail_digest::{self, AwsKeys, ExternalSignatures};
use crate::store::import::{CLOUDTRAIL_SIGNER, cloudtrail_origin};

/// A digest's `digestStartTime` and `digestEndTime` (microseconds UTC) as stored.
type Hours = (Option<i64>, Option<i64>);

/// One stored file of a CloudTrail row.
struct StoredFile {
    path: String,
    kind: String,
    sha256: String,
    signature: Option<String>,
    fingerprint: Option<String>,
    hours: Hours,
    first_index: Option<i64>,
    records: Option<i64>,
    digest: Option<String>,
}

/// Whether a stored path is one this check may write below its temporary root: relative, plain names only.
fn safe_relative(path: &str) -> bool {
    !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

impl Store {
    /// Whether the events of the stored CloudTrail archive `archive_id` may leave the store (an evidence bundle, OCSF
    /// Parquet): only once its stored digests, log files and events re-verify with the AWS keys given. The inner
    /// `Err` says why not, in words for every door.
    pub fn cloudtrail_exportable(
        &self,
        archive_id: i64,
        aws: Option<&AwsKeys>,
    ) -> Result<Result<(), String>, StoreError> {
        let Some(keys) = aws.filter(|k| !k.is_empty()) else {
            return Ok(Err(
                "AWS CloudTrail evidence: give the AWS public keys (--aws-keys KEYS.json) to re-verify its stored \
                 digests before export, or leave it out with -status:aws-cloudtrail"
                    .into(),
            ));
        };
        let problems = self.recheck_cloudtrail(archive_id, keys)?;
        Ok(match problems.first() {
            Some(p) => Err(format!(
                "its stored CloudTrail evidence does not re-verify ({} problem(s); run auditlens check --aws-keys): {}",
                problems.len(),
                p.message
            )),
            None => Ok(()),
        })
    }

    /// Re-verifies the stored CloudTrail archive `archive_id` from the file alone with the AWS keys given, as
    /// `check` does (exporters run it before an archive's first row goes out): its problems, none when it holds.
    pub fn recheck_cloudtrail(
        &self,
        archive_id: i64,
        aws: &AwsKeys,
    ) -> Result<Vec<CheckProblem>, StoreError> {
        let Some(a) = self
            .archive_metas()?
            .into_iter()
            .find(|a| a.id == archive_id)
        else {
            return Ok(vec![CheckProblem {
                archive_id: Some(archive_id),
                origin: None,
                sequence: None,
                event_index: None,
                message: "no such archive (or a row of types the store never writes)".into(),
            }]);
        };
        let mut problems = Vec::new();
        let mut p = CheckProgress {
            archives_done: 0,
            archives_total: 1,
            events_done: 0,
            events_total: a.events,
        };
        self.check_cloudtrail(&a, aws, &mut problems, &mut p, &mut |_| true)?;
        Ok(problems)
    }

    /// Re-verifies one CloudTrail row; every difference is a problem. Returns the events read.
    pub(super) fn check_cloudtrail(
        &self,
        a: &ArchiveMeta,
        aws: &AwsKeys,
        problems: &mut Vec<CheckProblem>,
        p: &mut CheckProgress,
        progress: &mut dyn FnMut(&CheckProgress) -> bool,
    ) -> Result<u64, StoreError> {
        let problem =
            |msg: String, problems: &mut Vec<CheckProblem>| problems.push(at(a, None, msg));
        if a.status != "verified" {
            problem(
                format!(
                    "CloudTrail evidence marked {:?}: the store keeps CloudTrail exports only when they verify",
                    shown(&a.status)
                ),
                problems,
            );
            return Ok(0);
        }
        if a.checkpoint.is_some() || a.manifest.is_some() || a.signer_key.is_some() {
            problem(
                "CloudTrail evidence with an AuditLens checkpoint, manifest or signer key stored"
                    .into(),
                problems,
            );
        }
        if a.signer_name.as_deref() != Some(CLOUDTRAIL_SIGNER) {
            problem(
                format!(
                    "stored signer name {:?} of CloudTrail evidence is not {CLOUDTRAIL_SIGNER:?}",
                    a.signer_name.as_deref().map(shown)
                ),
                problems,
            );
        }
        if a.source_kind.as_deref() != Some("cloudtrail") {
            problem(
                format!(
                    "stored source kind {:?} of CloudTrail evidence is not \"cloudtrail\"",
                    a.source_kind.as_deref().map(shown)
                ),
                problems,
            );
            return Ok(0);
        }
        if aws.is_empty() {
            problem(
                "CloudTrail evidence marked verified, but no AWS keys were given (--aws-keys, or the app's AWS \
                 keys): check cannot confirm its digests' signatures"
                    .into(),
                problems,
            );
            return Ok(0);
        }
        let files: Vec<StoredFile> = self
            .conn
            .prepare(
                "SELECT path, kind, sha256, signature, fingerprint, first_index, records, hour_start, hour_end,
                    digest
                 FROM cloudtrail_files WHERE archive_id = ?1 ORDER BY kind, path",
            )?
            .query_map([a.id], |r| {
                Ok(StoredFile {
                    path: r.get(0)?,
                    kind: r.get(1)?,
                    sha256: r.get(2)?,
                    signature: r.get(3)?,
                    fingerprint: r.get(4)?,
                    first_index: r.get(5)?,
                    records: r.get(6)?,
                    hours: (r.get(7)?, r.get(8)?),
                    digest: r.get(9)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        // A file's bytes, read when needed: one file in memory at a time, whatever the archive holds.
        let mut content_stmt = self
            .conn
            .prepare("SELECT content FROM cloudtrail_files WHERE archive_id = ?1 AND path = ?2")?;
        let mut content = |f: &StoredFile| -> Result<Vec<u8>, rusqlite::Error> {
            content_stmt.query_row(params![a.id, f.path], |r| r.get(0))
        };
        // The export again, in a private temporary folder.
        let dir = tempfile::tempdir()?;
        let mut signatures = ExternalSignatures::new();
        for f in &files {
            if !safe_relative(&f.path) {
                problem(
                    format!(
                        "stored CloudTrail file path {:?} is not a relative path",
                        shown(&f.path)
                    ),
                    problems,
                );
                return Ok(0);
            }
            let target = dir.path().join(&f.path);
            let bytes = content(f)?;
            // Paths that collide (one stored file where another needs a folder) cannot be an export as found.
            let written = match target.parent() {
                Some(parent) => std::fs::create_dir_all(parent),
                None => Ok(()),
            }
            .and_then(|()| std::fs::write(&target, &bytes));
            if let Err(e) = written {
                problem(
                    format!(
                        "stored CloudTrail file {} cannot be laid out as an export ({e})",
                        shown(&f.path)
                    ),
                    problems,
                );
                return Ok(0);
            }
            if f.kind == "digest" {
                let key = f
                    .path
                    .find("AWSLogs/")
                    .map_or(f.path.as_str(), |i| &f.path[i..]);
                signatures.insert(key, f.signature.as_deref().unwrap_or(""));
            }
        }
        let report = cloudtrail_digest::verify_export(dir.path(), aws, &signatures)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        for f in report.all_failures().take(20) {
            problem(
                format!(
                    "stored CloudTrail evidence does not verify: {}",
                    shown(&f.detail)
                ),
                problems,
            );
        }
        let [chain] = &report.chains[..] else {
            problem(
                format!(
                    "stored CloudTrail evidence holds {} trails; one archive holds one trail in one region",
                    report.chains.len()
                ),
                problems,
            );
            return Ok(0);
        };
        let origin = cloudtrail_origin(&chain.account, &chain.region, &chain.trail);
        if a.origin.as_deref() != Some(origin.as_str()) {
            problem(
                format!(
                    "stored origin {:?} differs from the verified digests' {:?}",
                    a.origin.as_deref().map(shown),
                    origin
                ),
                problems,
            );
        }
        // Every stored file is one that verified, with the stored hash and key.
        let verified_digests: HashMap<&str, (&str, &str, Hours)> = chain
            .evidence
            .digests
            .iter()
            .map(|d| {
                (
                    d.rel.as_str(),
                    (
                        d.sha256_hex.as_str(),
                        d.fingerprint.as_str(),
                        (
                            Some(d.start.timestamp_micros()),
                            Some(d.end.timestamp_micros()),
                        ),
                    ),
                )
            })
            .collect();
        // A log file listed by two digests is stored once, with the first.
        let mut verified_logs: HashMap<&str, (&str, &str)> = HashMap::new();
        for l in &chain.evidence.logs {
            verified_logs
                .entry(l.rel.as_str())
                .or_insert((l.sha256_hex.as_str(), l.digest_rel.as_str()));
        }
        let mut fingerprints: Vec<&str> = Vec::new();
        for f in &files {
            let ok = match f.kind.as_str() {
                "digest" => {
                    verified_digests
                        .get(f.path.as_str())
                        .is_some_and(|(sha, fp, hours)| {
                            fingerprints.push(fp);
                            *sha == f.sha256
                                && f.fingerprint.as_deref() == Some(*fp)
                                && *hours == f.hours
                        })
                }
                _ => verified_logs
                    .get(f.path.as_str())
                    .is_some_and(|(sha, digest)| {
                        *sha == f.sha256 && f.digest.as_deref() == Some(*digest)
                    }),
            };
            if !ok {
                problem(
                    format!(
                        "stored CloudTrail {} {} is not one that verifies with its stored hash, key, hour and digest",
                        shown(&f.kind),
                        shown(&f.path)
                    ),
                    problems,
                );
            }
        }
        fingerprints.sort_unstable();
        fingerprints.dedup();
        if a.signer_fingerprint.as_deref() != Some(fingerprints.join(", ").as_str()) {
            problem(
                format!(
                    "stored signer fingerprint {:?} differs from the AWS keys that signed the digests, {:?}",
                    a.signer_fingerprint.as_deref().map(shown),
                    fingerprints.join(", ")
                ),
                problems,
            );
        }
        // The events: the records of the log files that hold them, in index order. Every such file is read in
        // turn, each from where the one before it ends: files that hold no record share their first index with
        // the next file (the import gives each file the index it reached), so they come first among files of one
        // index; two files that claim the same index and both hold records cannot both be read from it (a store
        // edited to hide one file's records behind another's).
        let mut owned: Vec<(i64, &StoredFile)> = Vec::new();
        for f in files.iter().filter(|f| f.kind == "log") {
            match f.first_index {
                Some(i) => owned.push((i, f)),
                None => {
                    let elsewhere: bool = self.conn.query_row(
                        "SELECT EXISTS (SELECT 1 FROM cloudtrail_files f JOIN archives o ON o.id = f.archive_id
                         WHERE o.origin = ?1 AND o.status = 'verified' AND o.id < ?2 AND f.kind = 'log'
                           AND f.path = ?3 AND f.sha256 = ?4 AND f.first_index IS NOT NULL)",
                        params![a.origin, a.id, f.path, f.sha256],
                        |r| r.get(0),
                    )?;
                    if !elsewhere {
                        problem(
                            format!(
                                "log file {} is marked as stored with an earlier archive of this trail, and no \
                                 earlier archive holds its events",
                                shown(&f.path)
                            ),
                            problems,
                        );
                    }
                }
            }
        }
        // The records' leaves, read a log file at a time as the stored events ask for them; only files that
        // verified against AWS's signed digests just now are read (their authors are AWS: no file of millions of
        // records made to fill memory).
        owned.sort_by(|(i, f), (j, g)| {
            (i, f.records.unwrap_or(i64::MAX), &f.path).cmp(&(
                j,
                g.records.unwrap_or(i64::MAX),
                &g.path,
            ))
        });
        let mut leaves = StoredLeaves {
            files: owned,
            verified: &|f: &StoredFile| {
                verified_logs
                    .get(f.path.as_str())
                    .is_some_and(|(sha, digest)| {
                        *sha == f.sha256 && f.digest.as_deref() == Some(*digest)
                    })
            },
            content: &mut content,
            next: 0,
            first: 0,
            current: Vec::new(),
            read: 0,
            stopped: false,
            problems: Vec::new(),
            error: None,
        };
        // Whose rules: the built-in CloudTrail mapper, at the version the stored column names (as for archives).
        let normalizer = Normalizer::builtin(SourceKind::Cloudtrail);
        let normalizer = match crate::sources::Normalization::from_column(
            a.normalization.as_deref().unwrap_or(""),
            SourceKind::Cloudtrail,
            None,
        ) {
            Ok(n) if n.builtin_kind() == Some(SourceKind::Cloudtrail) => normalizer.under(&n),
            Ok(_) | Err(_) => {
                problem(
                    format!(
                        "stored normalization {:?} of CloudTrail evidence is not the built-in CloudTrail mapper",
                        a.normalization.as_deref().map(shown)
                    ),
                    problems,
                );
                normalizer
            }
        };
        let source_name = normalizer.source_name();
        let mut root = RootBuilder::new();
        let seen = self.check_events(
            a,
            &normalizer,
            &source_name,
            &origin,
            &mut |idx, leaf| {
                root.push(leaf);
                match leaves.get(idx) {
                    Lookup::Leaf(e) if e == leaf => None,
                    Lookup::Leaf(e) => Some(format!(
                        "event is not the record its stored log file holds at this index: expected leaf {}, found {}",
                        merkle::to_hex(&e),
                        merkle::to_hex(&leaf)
                    )),
                    Lookup::Beyond => Some("event beyond the records of the stored log files".into()),
                    Lookup::Unknown => None,
                }
            },
            problems,
            p,
            progress,
        )?;
        let records = leaves.finish();
        if let Some(e) = leaves.error.take() {
            return Err(e.into());
        }
        for why in std::mem::take(&mut leaves.problems) {
            problem(why, problems);
        }
        // The counts, unless a log file could not be read (its records, and those after, are unknown).
        if let Some(records) = records {
            if seen.next_index < records {
                problem(
                    format!(
                        "events {}..{} of the stored log files are missing",
                        seen.next_index,
                        records - 1
                    ),
                    problems,
                );
            }
            if a.events != records {
                problem(
                    format!(
                        "stored event count {} differs from the {records} records of the stored log files",
                        a.events,
                    ),
                    problems,
                );
            }
        }
        if a.root.as_deref() != Some(&root.root()[..]) {
            problem(
                "stored Merkle root differs from the root of the stored events".into(),
                problems,
            );
        }
        check_event_totals(a, &seen, problems);
        Ok(seen.read)
    }
}

/// Each CloudTrail origin's archives must hold sequences 1, 2, ... without a gap (a deleted archive).
pub(super) fn sequence_gaps(archives: &[ArchiveMeta]) -> Vec<CheckProblem> {
    let mut by_origin: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for a in archives
        .iter()
        .filter(|a| a.status == "verified" && a.evidence.is_some())
    {
        if let (Some(o), Some(s)) = (a.origin.as_deref(), a.sequence) {
            by_origin.entry(o).or_default().push(s);
        }
    }
    let mut problems = Vec::new();
    for (origin, mut seqs) in by_origin {
        seqs.sort_unstable();
        let mut want = 1;
        for s in seqs {
            if s != want {
                problems.push(CheckProblem {
                    archive_id: None,
                    origin: Some(origin.to_string()),
                    sequence: Some(want),
                    event_index: None,
                    message: format!(
                        "CloudTrail imports {want}..{} of this trail are missing (or repeated)",
                        s.saturating_sub(1).max(want)
                    ),
                });
            }
            want = s + 1;
        }
    }
    problems
}

/// What [`StoredLeaves::get`] found for an archive index.
enum Lookup {
    Leaf(Hash),
    /// Past the last record of the stored log files.
    Beyond,
    /// Not known: a log file before it could not be read (the problem says why), or an index asked for again.
    Unknown,
}

/// The leaves of the records of an archive's stored log files, in index order, read a file at a time as the
/// stored events ask for them (in index order): memory holds one file's leaves, whatever the archive's size.
struct StoredLeaves<'a, 'f> {
    /// By first index.
    files: Vec<(i64, &'f StoredFile)>,
    /// Whether a file is one that verified (only those are read).
    verified: &'a dyn Fn(&StoredFile) -> bool,
    content: &'a mut dyn FnMut(&StoredFile) -> Result<Vec<u8>, rusqlite::Error>,
    /// The next file to read.
    next: usize,
    /// The archive index of `current[0]`.
    first: u64,
    current: Vec<Hash>,
    /// The records of the files read so far.
    read: u64,
    /// A file could not be read, or does not start where the previous one ends: nothing is read past it.
    stopped: bool,
    problems: Vec<String>,
    error: Option<rusqlite::Error>,
}

impl StoredLeaves<'_, '_> {
    fn get(&mut self, idx: u64) -> Lookup {
        while idx >= self.read && !self.stopped && self.next < self.files.len() {
            self.read_next(true);
        }
        if (self.first..self.read).contains(&idx) {
            return (self.current.get((idx - self.first) as usize).copied())
                .map_or(Lookup::Unknown, Lookup::Leaf);
        }
        if idx < self.first || self.stopped {
            return Lookup::Unknown;
        }
        Lookup::Beyond
    }

    /// Reads the files no event asked for, counting their records: the records of all the stored log files, or
    /// `None` when one could not be read.
    fn finish(&mut self) -> Option<u64> {
        while !self.stopped && self.next < self.files.len() {
            self.read_next(false);
        }
        (!self.stopped).then_some(self.read)
    }

    fn read_next(&mut self, keep: bool) {
        let (first, f) = self.files[self.next];
        self.next += 1;
        // The previous file's leaves go, whatever happens to this one.
        self.current.clear();
        self.first = self.read;
        let stop = |s: &mut Self, why: String| {
            s.problems.push(why);
            s.stopped = true;
        };
        if first != self.read as i64 {
            return stop(
                self,
                format!(
                    "log file {} claims first event index {first}; the log files before it hold {}",
                    shown(&f.path),
                    self.read
                ),
            );
        }
        if !(self.verified)(f) {
            return stop(
                self,
                format!(
                    "log file {} did not verify against its digest; its records are not compared with the stored events",
                    shown(&f.path)
                ),
            );
        }
        let bytes = match (self.content)(f) {
            Ok(b) => b,
            Err(e) => {
                self.error = Some(e);
                self.stopped = true;
                return;
            }
        };
        let current = &mut self.current;
        let records = cloudtrail_digest::read_log_checked(
            &bytes,
            &f.sha256,
            crate::store::import::MAX_CLOUDTRAIL_FILE_BYTES,
            crate::archive::MAX_EVENT_BYTES,
            |r| {
                if keep {
                    current.push(crate::merkle::leaf_hash(r));
                }
                true
            },
        );
        match records {
            Ok(n) => {
                if f.records != Some(n as i64) {
                    self.problems.push(format!(
                        "log file {}: stored record count {:?} differs from its {n}",
                        shown(&f.path),
                        f.records,
                    ));
                }
                self.read += n;
            }
            Err(why) => stop(self, format!("log file {}: {why}", shown(&f.path))),
        }
    }
}
