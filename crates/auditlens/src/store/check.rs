//! `check`: re-verify the whole database from the stored bytes against the stored signed checkpoints, trusting
//! nothing else in the file (docs/store-check.md): the schema against the one the code creates, every archive's
//! status and signer re-derived from its signed checkpoint and manifest and the trust given, event bytes, leaf
//! hashes, Merkle roots, hash chains, signatures, manifest hashes, missing or extra rows, the chain of each origin
//! (gaps, forks, broken links, signer changes), and what is derived from the events (normalized columns, time
//! ranges, the full-text index, the dashboards' summary tables).
//!
//! Why one file: the checks are one pass over the stored archives that share its per-archive state (`ArchiveMeta`,
//! `Tally`, the established signers); the parts that stand alone already live in `check/schema.rs` and `check/chain.rs`.

mod chain;
mod cloudtrail;
pub(crate) mod event;
mod schema;

use std::collections::BTreeMap;

use rusqlite::params;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Store, StoreError};
use crate::archive::chain_step;
use crate::archive::{ChainLines, Manifest};
use crate::checkpoint::Checkpoint;
use crate::cloudtrail_digest::AwsKeys;
use crate::merkle::{self, Hash, RootBuilder};
use crate::note::{Note, VerifierKey};
use crate::sources::{Normalizer, SourceKind};
use crate::store::import::CLOUDTRAIL_EVIDENCE;
use event::{STORED_EVENT_COLUMNS, StoredEvent};

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
    // What is worth knowing but is not a failure: where an origin's signer changes, where its stored chain starts.
    pub notices: Vec<CheckProblem>,
    // Whether the caller gave any trust: without it, "verified" in the file cannot be confirmed (a problem).
    pub trust_given: bool,
}

impl CheckReport {
    /// The report with SQLite's integrity problems before its own, and the summary tables' and the full-text
    /// index's after them.
    fn assembled(
        &mut self,
        integrity: Vec<CheckProblem>,
        summaries: Vec<CheckProblem>,
        full_text: Vec<CheckProblem>,
    ) -> CheckReport {
        let mut problems = integrity;
        problems.append(&mut self.problems);
        problems.extend(summaries);
        problems.extend(full_text);
        CheckReport {
            ok: problems.is_empty(),
            problems,
            notices: std::mem::take(&mut self.notices),
            ..*self
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckProgress {
    pub archives_done: u64,
    pub archives_total: u64,
    pub events_done: u64,
    pub events_total: u64,
}

/// The trust decision `check` asks for each archive whose signature verifies: is `signer` trusted for `origin`,
/// for an archive sealed at `sealed` (the signed manifest's time, and the newest time among the stored events as
/// `check` derives them)?
pub type IsTrusted<'a> = dyn Fn(&str, &VerifierKey, crate::trust::Sealed) -> bool + 'a;

/// At most this many problems are listed per archive (the count of the rest is reported).
const MAX_PROBLEMS_PER_ARCHIVE: usize = 50;

struct ArchiveMeta {
    id: i64,
    status: String,
    origin: Option<String>,
    sequence: Option<u64>,
    source_kind: Option<String>,
    events: u64,
    bytes: u64,
    signer_key: Option<String>,
    signer_name: Option<String>,
    signer_fingerprint: Option<String>,
    root: Option<Vec<u8>>,
    chain_start: Option<Vec<u8>>,
    chain_end: Option<Vec<u8>>,
    manifest_sha256: Option<Vec<u8>>,
    checkpoint: Option<Vec<u8>>,
    manifest: Option<Vec<u8>>,
    time_first: Option<i64>,
    time_last: Option<i64>,
    mapping: Option<Vec<u8>>,
    parse_errors: u64,
    normalization: Option<String>,
    untimed: Option<u64>,
    received_at: Option<String>,
    /// `aws-cloudtrail` for a CloudTrail export (store/check/cloudtrail.rs); `None` for an AuditLens archive.
    evidence: Option<String>,
    /// The length of the hashes of every 1,024 leaves (`merkle::BlockHashes`), kept by imports since schema 18:
    /// the blob itself is read when it has the length the leaves give.
    leaf_blocks: Option<i64>,
}

/// What the pass over the archives collects for findings about the store as a whole.
#[derive(Default)]
struct Tally {
    /// Signer -> (origins, count) of the archives marked verified, when no trust was given.
    unconfirmed: BTreeMap<String, (Vec<String>, u64)>,
    /// (archive id, signer, events) of rows marked failed whose stored documents and events verify in full.
    failed_but_verifying: Vec<(i64, String, u64)>,
    /// (archive id, signer, signed origin, signed sequence) of rows marked failed whose stored checkpoint is
    /// signed by the key their stored manifest names, but whose events were not all stored (a fork is kept
    /// without them).
    failed_signed: Vec<(i64, String, String, u64)>,
    /// (archive id, the rules in words) of archives whose normalized fields are derived by other rules than
    /// those their signed kind names today: the auditor's choice (`import --as`), or an older built-in version.
    other_rules: Vec<(i64, String)>,
}

/// What re-verifying one archive established.
#[derive(Default)]
struct Established {
    /// Events read.
    events: u64,
    /// The signer, when the stored checkpoint's signature verifies with the key the stored manifest names.
    signer: Option<VerifierKey>,
    /// The signed origin, sequence, and when it was sealed: the signed manifest's time
    /// (`Manifest::trust_time`) and the newest time among the events as derived here.
    origin: String,
    sequence: Option<u64>,
    sealed: crate::trust::Sealed,
    /// Nothing at all differs from the signed documents: signature, manifest, every event, root and chain.
    verifies: bool,
    /// The stored choice of rules in words, when it is not the rules the signed kind (or mapping file) names
    /// today.
    other_rules: Option<String>,
}

impl Store {
    /// Re-verifies the whole store (see [`Store::check_with`]) under a trust policy (docs/trust-policy.md):
    /// archives are decided in import order, so bare keys are pinned per origin on first use as import pinned
    /// them. `None`, or an empty policy, means no trust was given.
    pub fn check_policy(
        &self,
        policy: Option<&crate::trust::TrustPolicy>,
        progress: &mut dyn FnMut(&CheckProgress) -> bool,
    ) -> Result<CheckReport, StoreError> {
        self.check_policy_aws(policy, &AwsKeys::new(), progress)
    }

    /// [`Store::check_policy`], with the AWS public keys that re-verify the CloudTrail evidence in the store
    /// (docs/cloudtrail.md section 5); the policy's `aws-cloudtrail:` grants say where each counts.
    pub fn check_policy_aws(
        &self,
        policy: Option<&crate::trust::TrustPolicy>,
        aws: &AwsKeys,
        progress: &mut dyn FnMut(&CheckProgress) -> bool,
    ) -> Result<CheckReport, StoreError> {
        let mut aws = aws.clone();
        if let Some(policy) = policy {
            aws.apply_policy(policy);
        }
        let Some(policy) = policy.filter(|p| !p.is_empty()) else {
            return self.check_inner(None, &aws, progress);
        };
        let seen = std::cell::RefCell::new(crate::trust::FirstUse::new());
        let is_trusted = |origin: &str, signer: &VerifierKey, sealed: crate::trust::Sealed| {
            seen.borrow_mut()
                .decide(policy, origin, signer, sealed)
                .trusted
        };
        self.check_inner(Some(&is_trusted), &aws, progress)
    }

    /// Re-verifies the whole store (see [`Store::check_with`]), trusting exactly the keys in `trusted`, each for
    /// any origin. An empty list means no trust was given.
    pub fn check(
        &self,
        trusted: &[VerifierKey],
        progress: &mut dyn FnMut(&CheckProgress) -> bool,
    ) -> Result<CheckReport, StoreError> {
        if trusted.is_empty() {
            return self.check_with(None, progress);
        }
        let is_trusted =
            |_: &str, key: &VerifierKey, _: crate::trust::Sealed| trusted.contains(key);
        self.check_with(Some(&is_trusted), progress)
    }

    /// Re-verifies the whole store, trusting nothing in the file: the schema, every archive (its status and
    /// signer re-derived from its signed documents and `is_trusted`), every event, each origin's chain, and the
    /// full-text index and summary tables. `None` for `is_trusted`: no trust was given, so an archive marked
    /// verified cannot be confirmed, and that is a problem (one per signer). `progress` may return `false` to
    /// cancel.
    pub fn check_with(
        &self,
        is_trusted: Option<&IsTrusted<'_>>,
        progress: &mut dyn FnMut(&CheckProgress) -> bool,
    ) -> Result<CheckReport, StoreError> {
        self.check_inner(is_trusted, &AwsKeys::new(), progress)
    }

    /// The whole check. SQLite's integrity check and the summary tables' (about two fifths of the time, reads
    /// only) run on a second, read-only connection to the same file on a thread of their own, while this one
    /// re-verifies the archives and the full-text index; the problems are reported in the same order either
    /// way. A store with no file (or whose file a second connection cannot open) is checked on one thread.
    fn check_inner(
        &self,
        is_trusted: Option<&IsTrusted<'_>>,
        aws: &AwsKeys,
        progress: &mut dyn FnMut(&CheckProgress) -> bool,
    ) -> Result<CheckReport, StoreError> {
        // Its pages are read through the page cache, not a map of the file: a map of the whole store would count
        // in the process's resident memory (check stays within 300 MB on any store).
        let helper = self
            .path
            .as_deref()
            .and_then(|path| Store::open_read_only(path).ok())
            .filter(|h| h.conn.pragma_update(None, "mmap_size", 0).is_ok());
        let Some(helper) = helper else {
            let integrity = self.integrity_problems()?;
            let mut report = self.check_archives(is_trusted, aws, progress)?;
            let summaries = self.check_summaries()?;
            let (full_text, notices) = self.check_full_text();
            report.notices.extend(notices);
            return Ok(report.assembled(integrity, summaries, full_text));
        };
        let stop = helper.conn.get_interrupt_handle();
        std::thread::scope(|scope| {
            let side = scope.spawn(move || {
                let integrity = helper.integrity_problems()?;
                Ok::<_, StoreError>((integrity, helper.check_summaries()?))
            });
            let main = self
                .check_archives(is_trusted, aws, progress)
                .map(|report| (report, self.check_full_text()));
            if main.is_err() {
                // Cancelled or failed: the other thread's answer is not wanted.
                stop.interrupt();
            }
            let side = side.join().map_err(|_| {
                StoreError::Invalid(
                    "internal error: the thread checking SQLite's integrity failed".into(),
                )
            });
            let (mut report, (full_text, notices)) = main?;
            let (integrity, summaries) = side??;
            report.notices.extend(notices);
            Ok(report.assembled(integrity, summaries, full_text))
        })
    }

    /// SQLite's `integrity_check` of the database and the text index attached to it, a problem per line.
    fn integrity_problems(&self) -> Result<Vec<CheckProblem>, StoreError> {
        // integrity_check, not quick_check: it also finds an index that disagrees with its table (an event
        // left out of the actor index is invisible to `actor:` searches).
        let integrity: Vec<String> = self
            .conn
            .prepare("PRAGMA integrity_check(20)")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        if integrity == ["ok"] {
            return Ok(Vec::new());
        }
        Ok(integrity
            .iter()
            .map(|line| global(format!("SQLite integrity_check: {}", shown(line))))
            .collect())
    }

    /// The schema, every archive with its events, the chains, and the rows that belong to nothing: the report
    /// without SQLite's integrity check, the summary tables and the full-text index.
    fn check_archives(
        &self,
        is_trusted: Option<&IsTrusted<'_>>,
        aws: &AwsKeys,
        progress: &mut dyn FnMut(&CheckProgress) -> bool,
    ) -> Result<CheckReport, StoreError> {
        let mut problems = Vec::new();
        // The schema first: a trigger, a view or a changed definition can make every figure below lie.
        problems.extend(self.schema_problems()?);
        problems.extend(self.mistyped_rows()?);
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
        let mut tally = Tally::default();
        for a in &archives {
            let before = problems.len();
            events_checked += if a.evidence.as_deref() == Some(CLOUDTRAIL_EVIDENCE) {
                self.check_cloudtrail(a, aws, &mut problems, &mut p, progress)?
            } else {
                if let Some(other) = &a.evidence {
                    problems.push(at(
                        a,
                        None,
                        format!("unknown kind of evidence {:?}", shown(other)),
                    ));
                }
                self.check_status(a, is_trusted, &mut problems, &mut tally, &mut p, progress)?
            };
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
        for (signer, (origins, n)) in tally.unconfirmed {
            problems.push(global(format!(
                "{} marked verified, signed by {signer}, but no trusted key was given (--trust, or the app's \
                 keyring): check cannot confirm that this signer is trusted for {}",
                crate::report::count(n, "archive"),
                origins.iter().map(|o| shown(o)).collect::<Vec<_>>().join(", ")
            )));
        }
        let (chain_problems, mut notices) = chain::findings(&archives);
        problems.extend(chain_problems);
        problems.extend(cloudtrail::sequence_gaps(&archives));
        // A row marked failed that verifies in full: a kept copy refused as a fork when a verified archive
        // holds its sequence (worth knowing), else evidence hidden as failed.
        for (id, signer, events) in tally.failed_but_verifying {
            let Some(a) = archives.iter().find(|a| a.id == id) else {
                continue;
            };
            let holder = archives.iter().find(|v| {
                v.status == "verified" && v.origin == a.origin && v.sequence == a.sequence
            });
            match holder {
                Some(v) => notices.push(at(
                    a,
                    None,
                    if v.checkpoint == a.checkpoint {
                        format!(
                            "archive #{id}, marked failed, is a second copy of the verified archive #{}",
                            v.id
                        )
                    } else {
                        format!(
                            "a kept copy marked failed (archive #{id}, signed by {signer}) verifies in full and \
                             differs from the verified archive #{} at this sequence: a fork",
                            v.id
                        )
                    },
                )),
                None => problems.push(at(
                    a,
                    None,
                    format!(
                        "marked failed, but it verifies: its stored checkpoint (signed by {signer}), manifest \
                         and all {} match, and no verified archive holds this sequence (evidence hidden as failed?)",
                        crate::report::count(events, "event")
                    ),
                )),
            }
        }
        // Fields derived by other rules than the signed kind's own (the auditor's choice, `import --as`, or an
        // older built-in version): legitimate, and whoever ran the tool on this store made it, so it is said.
        for (id, rules) in std::mem::take(&mut tally.other_rules) {
            if let Some(a) = archives.iter().find(|a| a.id == id) {
                notices.push(at(
                    a,
                    None,
                    format!(
                        "its normalized fields (dashboards, field searches, exports) are derived by {rules}, \
                         not by the rules its signed source kind names in this AuditLens: a choice made with \
                         `import --as` (or by an older AuditLens) by whoever ran it on this store"
                    ),
                ));
            }
        }
        // A kept copy whose signed checkpoint differs from the verified archive's at its sequence, stored without
        // its events (an import refuses a fork before reading them): the fork is still signed, and worth knowing.
        for (id, signer, origin, sequence) in tally.failed_signed {
            let Some(a) = archives.iter().find(|a| a.id == id) else {
                continue;
            };
            // A verified row's origin and sequence are compared with its own signed checkpoint above.
            let holder = archives.iter().find(|v| {
                v.status == "verified"
                    && v.origin.as_deref() == Some(origin.as_str())
                    && v.sequence == Some(sequence)
                    && v.checkpoint != a.checkpoint
            });
            if let Some(v) = holder {
                notices.push(at(
                    a,
                    None,
                    format!(
                        "a kept copy marked failed (archive #{id}) holds a checkpoint signed by {signer} for this \
                         origin and sequence that differs from the verified archive #{}'s: a fork (its events \
                         were not stored)",
                        v.id
                    ),
                ));
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
        let stray: i64 = self.conn.query_row(
            "SELECT count(*) FROM cloudtrail_files WHERE archive_id NOT IN
                (SELECT id FROM archives WHERE evidence = 'aws-cloudtrail')",
            [],
            |r| r.get(0),
        )?;
        if stray > 0 {
            problems.push(global(format!(
                "{stray} stored CloudTrail files belong to no CloudTrail archive"
            )));
        }
        Ok(CheckReport {
            ok: problems.is_empty(),
            archives_checked: archives.len() as u64,
            events_checked,
            problems,
            notices,
            trust_given: is_trusted.is_some(),
        })
    }

    /// How the file's schema differs from the one this AuditLens creates (section 2 of docs/store-check.md):
    /// one problem per extra, missing or changed object, full-text setting or version. Empty for a store made
    /// by this code. Cheap (no event is read): an importer can refuse to write into a store whose triggers or
    /// views could alter what it stores.
    pub fn schema_problems(&self) -> Result<Vec<CheckProblem>, StoreError> {
        schema::findings(&self.conn)
    }

    /// Rows whose values have a type the store never writes (a text where a number belongs, a negative index):
    /// reported, and left out of the rest of the check, which reads only well-typed rows.
    fn mistyped_rows(&self) -> Result<Vec<CheckProblem>, StoreError> {
        let mut problems = Vec::new();
        let archives: Vec<i64> = self
            .conn
            .prepare(&format!(
                "SELECT id FROM archives WHERE NOT ({ARCHIVE_TYPES}) ORDER BY id"
            ))?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in archives {
            problems.push(CheckProblem {
                archive_id: Some(id),
                origin: None,
                sequence: None,
                event_index: None,
                message:
                    "archive row holds a value of a type the store never writes (edited by hand?); \
                          not checked further"
                        .into(),
            });
        }
        let events: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM events WHERE NOT ({EVENT_TYPES})"),
            [],
            |r| r.get(0),
        )?;
        if events > 0 {
            problems.push(global(format!(
                "{} a value of a type the store never writes (edited by hand?); not checked further",
                if events == 1 {
                    "1 event row holds".to_string()
                } else {
                    format!("{events} event rows hold")
                }
            )));
        }
        Ok(problems)
    }

    fn archive_metas(&self) -> Result<Vec<ArchiveMeta>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT id, status, origin, sequence, source_kind, events, bytes, signer_key, signer_name,
                    signer_fingerprint, root, chain_start, chain_end, manifest_sha256, checkpoint, manifest,
                    time_first, time_last, mapping, parse_errors, normalization, untimed, received_at, evidence,
                    length(leaf_blocks)
             FROM archives WHERE {ARCHIVE_TYPES} ORDER BY id"
        ))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ArchiveMeta {
                    id: r.get(0)?,
                    status: r.get(1)?,
                    origin: r.get(2)?,
                    sequence: r.get(3)?,
                    source_kind: r.get(4)?,
                    events: r.get(5)?,
                    bytes: r.get(6)?,
                    signer_key: r.get(7)?,
                    signer_name: r.get(8)?,
                    signer_fingerprint: r.get(9)?,
                    root: r.get(10)?,
                    chain_start: r.get(11)?,
                    chain_end: r.get(12)?,
                    manifest_sha256: r.get(13)?,
                    checkpoint: r.get(14)?,
                    manifest: r.get(15)?,
                    time_first: r.get(16)?,
                    time_last: r.get(17)?,
                    mapping: r.get(18)?,
                    parse_errors: r.get(19)?,
                    normalization: r.get(20)?,
                    untimed: r.get(21)?,
                    received_at: r.get(22)?,
                    evidence: r.get(23)?,
                    leaf_blocks: r.get(24)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Re-verifies one archive and compares what it establishes with the stored status and signer columns.
    /// Returns the number of events read.
    fn check_status(
        &self,
        a: &ArchiveMeta,
        is_trusted: Option<&IsTrusted<'_>>,
        problems: &mut Vec<CheckProblem>,
        tally: &mut Tally,
        p: &mut CheckProgress,
        progress: &mut dyn FnMut(&CheckProgress) -> bool,
    ) -> Result<u64, StoreError> {
        let problem =
            |msg: String, problems: &mut Vec<CheckProblem>| problems.push(at(a, None, msg));
        match a.status.as_str() {
            "verified" | "untrusted" => {}
            "failed" => {
                // A failed row claims nothing, and may hold anything the import could read (often not the
                // documents). What it shows must still be its own: the signer columns follow the stored key,
                // which is the stored manifest's. A row that verifies in full was hidden as failed.
                check_signer_columns(a, None, problems);
                if a.checkpoint.is_some() && a.manifest.is_some() {
                    let mut scratch = Vec::new();
                    let found = self.check_archive(a, &mut scratch, p, progress)?;
                    if let Some(signer) = &found.signer {
                        if found.verifies {
                            (tally.failed_but_verifying).push((
                                a.id,
                                signer_text(signer),
                                found.events,
                            ));
                        } else if let Some(sequence) = found.sequence {
                            // What the checkpoint signs, not the row's columns (which anyone may edit).
                            (tally.failed_signed).push((
                                a.id,
                                signer_text(signer),
                                found.origin.clone(),
                                sequence,
                            ));
                        }
                    }
                    return Ok(found.events);
                }
                return Ok(0);
            }
            other => {
                problem(
                    format!(
                        "unknown status {:?} (the store writes verified, untrusted or failed)",
                        shown(other)
                    ),
                    problems,
                );
                return Ok(0);
            }
        }
        let found = self.check_archive(a, problems, p, progress)?;
        if let Some(rules) = &found.other_rules {
            tally.other_rules.push((a.id, rules.clone()));
        }
        let Some(signer) = &found.signer else {
            // The signed documents did not verify: reported by check_archive, and nothing is trusted.
            if a.status == "verified" {
                problem(
                    "marked verified, but its stored checkpoint does not verify with its signer"
                        .into(),
                    problems,
                );
            }
            return Ok(found.events);
        };
        check_signer_columns(a, Some(signer), problems);
        // The signed origin (the stored one has been compared with it).
        let origin = found.origin.as_str();
        match is_trusted {
            None if a.status == "verified" => {
                let e = tally.unconfirmed.entry(signer_text(signer)).or_default();
                if !e.0.iter().any(|o| o == origin) {
                    e.0.push(origin.to_string());
                }
                e.1 += 1;
            }
            None => {}
            Some(is_trusted) => {
                let trusted = is_trusted(origin, signer, found.sealed);
                if a.status == "verified" && !trusted {
                    problem(
                        format!(
                            "marked verified, but its signer {} is not trusted for this origin (not among \
                             the trusted keys, or not for this origin and time)",
                            signer_text(signer)
                        ),
                        problems,
                    );
                } else if a.status == "untrusted" && trusted && found.verifies {
                    problem(
                        format!(
                            "marked untrusted, but its signer {} is trusted and the archive verifies: the store \
                             does not show it as verified (re-import it with the key trusted)",
                            signer_text(signer)
                        ),
                        problems,
                    );
                }
            }
        }
        Ok(found.events)
    }

    /// Re-verifies one archive from its stored documents and events; every difference is a problem.
    fn check_archive(
        &self,
        a: &ArchiveMeta,
        problems: &mut Vec<CheckProblem>,
        p: &mut CheckProgress,
        progress: &mut dyn FnMut(&CheckProgress) -> bool,
    ) -> Result<Established, StoreError> {
        let before = problems.len();
        let mut found = Established::default();
        let mut problem = |index: Option<u64>, msg: String| problems.push(at(a, index, msg));
        // The signed documents first: without them nothing below can be trusted.
        let Some(signed) = signed_documents(a).map_err(|m| problem(None, m)).ok() else {
            return Ok(found);
        };
        found.signer = Some(signed.signer);
        found.sealed = crate::trust::Sealed::signed(signed.manifest.trust_time());
        found.origin = signed.checkpoint.origin.clone();
        found.sequence = Some(signed.chain.sequence);
        let (cp, chain) = (signed.checkpoint, signed.chain);
        let bytes = (signed.manifest.entries.iter()).fold(0u64, |n, e| n.saturating_add(e.bytes));
        if a.bytes != bytes {
            problem(
                None,
                format!(
                    "stored byte count {} differs from the signed manifest's {bytes}",
                    a.bytes
                ),
            );
        }
        if a.manifest_sha256.as_deref() != Some(&chain.manifest_sha256[..]) {
            problem(
                None,
                "stored manifest hash differs from the one the checkpoint signs".into(),
            );
        }
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
                format!(
                    "stored Merkle root differs from the signed root: expected {}, found {}",
                    merkle::to_hex(&cp.root),
                    a.root.as_deref().map_or("none".into(), merkle::hex)
                ),
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
                return Ok(found);
            }
        };
        // Sealed on receipt or not is the signed manifest's word: a database edit must not drop (or add) the label.
        let received_at = signed.manifest.received.as_ref().map(|r| r.at.as_str());
        if a.received_at.as_deref() != received_at {
            problem(
                None,
                format!(
                    "stored receipt time {:?} differs from the signed manifest's {received_at:?} (sealed on receipt \
                     or not)",
                    a.received_at
                ),
            );
        }
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
                let hash: Hash = Sha256::digest(bytes).into();
                if crate::archive::encode_hash(&hash) != *signed_hash {
                    problem(
                        None,
                        "stored mapping.toml differs from the one the signed manifest names".into(),
                    );
                    return Ok(found);
                }
            }
            (Some(_), None) => {
                problem(
                    None,
                    "the signed manifest names a mapping file; none is stored".into(),
                );
                return Ok(found);
            }
            (None, Some(_)) => {
                problem(
                    None,
                    "a mapping file is stored, but the signed manifest names none".into(),
                );
                return Ok(found);
            }
            (None, None) => {}
        }
        let normalizer = match Normalizer::new(kind, a.mapping.as_deref()) {
            Ok(n) => n,
            Err(e) => {
                problem(None, format!("cannot re-derive the normalized fields: {e}"));
                return Ok(found);
            }
        };
        // Whose rules: the stored choice must be the signed rules or the auditor's choice of a built-in mapper
        // of this AuditLens (docs/sources.md, "Whose rules"); the fields are re-derived under it.
        let normalizer = match crate::sources::Normalization::from_column(
            a.normalization.as_deref().unwrap_or(""),
            kind,
            a.mapping.as_deref(),
        ) {
            Ok(n) => {
                let own = crate::sources::Normalization::producer(kind, a.mapping.as_deref());
                if own.map(|o| o.column()) != Some(n.column()) {
                    found.other_rules = Some(n.text.clone());
                }
                normalizer.under(&n)
            }
            Err(why) => {
                problem(None, format!("stored normalization: {why}"));
                normalizer
            }
        };
        let source_name = normalizer.source_name();
        let mut root = RootBuilder::new();
        let mut blocks = merkle::BlockHashes::new(merkle::BLOCK_LEAVES);
        let mut chain_value = chain.chain_start;
        let seen = self.check_events(
            a,
            &normalizer,
            &source_name,
            &cp.origin,
            &mut |_, leaf| {
                root.push(leaf);
                blocks.push(leaf);
                chain_value = chain_step(&chain_value, &leaf);
                None
            },
            problems,
            p,
            progress,
        )?;
        found.sealed = found.sealed.with_newest_event(seen.ts_max);
        let mut problem = |index: Option<u64>, msg: String| problems.push(at(a, index, msg));
        let expected_index = seen.next_index;
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
        // Which event changed cannot be told from the stored leaves alone (a row edited with its leaf recomputed
        // hashes to its own leaf): both roots are named.
        let stored_root = root.root();
        if stored_root != cp.root {
            problem(
                None,
                format!(
                    "Merkle root of the stored events differs from the signed root: expected {}, found {} (events changed together with their leaves, or moved)",
                    merkle::to_hex(&cp.root),
                    merkle::to_hex(&stored_root)
                ),
            );
        }
        if chain_value != chain.chain_end {
            problem(
                None,
                format!(
                    "hash chain over the stored events differs from the signed chain end: expected {}, found {}",
                    merkle::to_hex(&chain.chain_end),
                    merkle::to_hex(&chain_value)
                ),
            );
        }
        // Derived from the leaves, but what the app confirms rows against (store/confirm.rs): kept honest too.
        if let Some(length) = a.leaf_blocks {
            let computed = blocks.finish();
            // Compared by SQLite, and only at the length the leaves give: a blob of any other length differs.
            let same = length == computed.len() as i64
                && self.conn.query_row(
                    "SELECT leaf_blocks = ?1 FROM archives WHERE id = ?2",
                    rusqlite::params![computed, a.id],
                    |r| r.get::<_, Option<bool>>(0),
                )? == Some(true);
            if !same {
                problem(
                    None,
                    "stored block hashes (leaf_blocks) differ from the hashes of the stored leaves"
                        .into(),
                );
            }
        }
        check_event_totals(a, &seen, problems);
        found.events = seen.read;
        found.verifies = problems.len() == before;
        Ok(found)
    }

    /// Re-reads the stored events of archive `a` in index order: each one's leaf hash, and its normalized fields,
    /// time and parse error re-derived with `normalizer` (events of `origin`); `on_leaf` is given each event's
    /// index and leaf and returns a problem with it, if any. Indexes must run from 0 without gaps.
    #[allow(clippy::too_many_arguments)]
    fn check_events(
        &self,
        a: &ArchiveMeta,
        normalizer: &Normalizer,
        source_name: &str,
        origin: &str,
        on_leaf: &mut dyn FnMut(u64, Hash) -> Option<String>,
        problems: &mut Vec<CheckProblem>,
        p: &mut CheckProgress,
        progress: &mut dyn FnMut(&CheckProgress) -> bool,
    ) -> Result<EventsSeen, StoreError> {
        let mut problem = |index: Option<u64>, msg: String| problems.push(at(a, index, msg));
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT idx, {STORED_EVENT_COLUMNS}
             FROM events WHERE archive_id = ?1 AND {EVENT_TYPES} ORDER BY idx"
        ))?;
        let mut rows = stmt.query(params![a.id])?;
        let mut expected_index = 0u64;
        let mut events_read = 0u64;
        let (mut ts_min, mut ts_max): (Option<i64>, Option<i64>) = (None, None);
        let mut parse_errors = 0u64;
        let mut untimed = 0u64;
        while let Some(r) = rows.next()? {
            // Never negative nor near the top of the range: EVENT_TYPES.
            let idx: i64 = r.get(0)?;
            let idx = idx as u64;
            events_read += 1;
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
            let derived = StoredEvent::read(r, 1)?.derive(normalizer, source_name, origin);
            let on_leaf = on_leaf(idx, derived.leaf);
            for why in derived
                .leaf_finding
                .into_iter()
                .chain(on_leaf)
                .chain(derived.findings)
            {
                problem(Some(idx), why);
            }
            let parsed = derived.normalized.is_ok();
            if !parsed {
                parse_errors += 1;
            }
            let n = derived.normalized.unwrap_or_default();
            match n.ts {
                Some(t) => {
                    ts_min = Some(ts_min.map_or(t, |m| m.min(t)));
                    ts_max = Some(ts_max.map_or(t, |m| m.max(t)));
                }
                None if parsed => untimed += 1,
                None => {}
            }
            p.events_done += 1;
            if p.events_done.is_multiple_of(65536) && !progress(p) {
                return Err(StoreError::Invalid("check cancelled".into()));
            }
        }
        Ok(EventsSeen {
            read: events_read,
            next_index: expected_index,
            ts_min,
            ts_max,
            parse_errors,
            untimed,
        })
    }
}

/// What [`Store::check_events`] read.
struct EventsSeen {
    read: u64,
    /// One past the last index read.
    next_index: u64,
    ts_min: Option<i64>,
    ts_max: Option<i64>,
    parse_errors: u64,
    untimed: u64,
}

/// The archive row's counts and time range must be the events' own.
fn check_event_totals(a: &ArchiveMeta, seen: &EventsSeen, problems: &mut Vec<CheckProblem>) {
    let mut problem = |msg: String| problems.push(at(a, None, msg));
    if seen.parse_errors != a.parse_errors {
        problem(format!(
            "stored count of events not parsed {} differs from the events' {}",
            a.parse_errors, seen.parse_errors
        ));
    }
    if (seen.ts_min, seen.ts_max) != (a.time_first, a.time_last) {
        problem("stored time range differs from the events' times".into());
    }
    // NULL: a row whose events were never stored (a refused archive kept without them).
    if a.untimed.unwrap_or(0) != seen.untimed {
        problem(format!(
            "stored count of events without a time {:?} differs from the events' {}",
            a.untimed, seen.untimed
        ));
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

    /// Every event must be findable by text. The full-text index is derived data (store/text_index.rs): an
    /// archive it has not reached is searched by reading its events, so lag is no finding. But for every archive
    /// it says it holds, it must hold exactly that archive's events (its document list, `events_text_docsize`,
    /// against `events`), and FTS5's own 'integrity-check' must pass. An index that is not this store's current
    /// one is not used at all.
    ///
    /// Returns the problems and the notices.
    fn check_full_text(&self) -> (Vec<CheckProblem>, Vec<CheckProblem>) {
        let mut problems = Vec::new();
        let mut notices = Vec::new();
        match super::text_index::is_current(&self.conn) {
            Ok(true) => {}
            Ok(false) => return (problems, notices),
            Err(e) => {
                problems.push(global(format!(
                    "cannot read the full-text index: {}",
                    shown(&e.to_string())
                )));
                return (problems, notices);
            }
        }
        let counts = self.conn.query_row(
            "SELECT (SELECT count(*) FROM events e WHERE e.archive_id IN (SELECT archive_id FROM txt.indexed)
                       AND e.id NOT IN (SELECT id FROM txt.events_text_docsize)),
                    (SELECT count(*) FROM txt.events_text_docsize d WHERE NOT EXISTS
                       (SELECT 1 FROM events e WHERE e.id = d.id
                          AND e.archive_id IN (SELECT archive_id FROM txt.indexed)))",
            [],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        );
        match counts {
            Ok((missing, extra)) => {
                if missing > 0 {
                    problems.push(global(format!(
                        "{} not in the full-text index, which says it holds {} archive: a text search \
                         cannot find {}",
                        if missing == 1 {
                            "1 event is".to_string()
                        } else {
                            format!("{missing} events are")
                        },
                        if missing == 1 { "its" } else { "their" },
                        if missing == 1 { "it" } else { "them" }
                    )));
                }
                if extra > 0 {
                    problems.push(global(format!(
                        "the full-text index holds {extra} documents that are no stored event of an archive it \
                         holds"
                    )));
                }
            }
            Err(e) => problems.push(global(format!(
                "cannot compare the full-text index with the events: {}",
                shown(&e.to_string())
            ))),
        }
        let counts = self.indexed_word_counts().map(|(n, same)| {
            if !same {
                problems.push(global(
                    "the full-text index's words are not the events' own (a word taken out of an event's entry, \
                     or put in another's): a text search could miss an event or find one for words it does not \
                     hold"
                        .into(),
                ));
            }
            n
        });
        match counts {
            Ok(0) => {}
            Ok(n) => problems.push(global(format!(
                "{} indexed under other words than {} own: a text search would not find {} by {}",
                if n == 1 {
                    "1 event is".to_string()
                } else {
                    format!("{n} events are")
                },
                if n == 1 { "its" } else { "their" },
                if n == 1 { "it" } else { "them" },
                if n == 1 { "its words" } else { "their words" },
            ))),
            Err(e) => problems.push(global(format!(
                "cannot compare the full-text index with the events: {}",
                shown(&e.to_string())
            ))),
        }
        match self.vocabulary_problems() {
            Ok(found) => problems.extend(found.into_iter().map(global)),
            Err(e) => problems.push(global(format!(
                "cannot compare the full-text index's vocabulary with the events: {}",
                shown(&e.to_string())
            ))),
        }
        // FTS5's own check is an INSERT of a command: a store opened read-only cannot run it (it would fail as
        // "attempt to write a readonly database", which says nothing of the index). Said, not a finding.
        if self.conn.is_readonly("txt").unwrap_or(false) {
            notices.push(global(
                "the full-text index's own integrity check (FTS5 'integrity-check') was not run: the store is \
                 open read-only; its documents and vocabulary were compared with the events"
                    .into(),
            ));
        } else if let Err(e) = self.conn.execute(
            "INSERT INTO txt.events_text(events_text) VALUES ('integrity-check')",
            [],
        ) {
            problems.push(global(format!(
                "full-text index is damaged: {}",
                shown(&e.to_string())
            )));
        }
        (problems, notices)
    }
}

impl Store {
    /// The index's vocabulary (store/text_index.rs: per batch of an archive's events, their words and the members
    /// that are objects, arrays or booleans), which a `json.M:*run*` pattern is answered from: every row must be
    /// of an archive the index holds and hold exactly what its events give, and the rows of an archive must
    /// cover each of its events once. A row missing a word or a member would hide events from such a search.
    fn vocabulary_problems(&self) -> Result<Vec<String>, rusqlite::Error> {
        use super::text_index::{Vocabulary, VocabularyRow};
        let mut problems = Vec::new();
        let has_table: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM txt.sqlite_schema WHERE name = 'vocabulary')",
            [],
            |r| r.get(0),
        )?;
        if !has_table {
            return Ok(problems);
        }
        let mut stmt = self.conn.prepare(
            "SELECT rowid, archive_id, first_idx, last_idx, archive_id IN (SELECT archive_id FROM txt.indexed)
             FROM txt.vocabulary ORDER BY archive_id, first_idx",
        )?;
        let rows: Vec<(i64, i64, i64, i64, bool)> = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut events = self.conn.prepare(
            "SELECT id, raw FROM events WHERE archive_id = ?1 AND idx BETWEEN ?2 AND ?3",
        )?;
        let mut blobs = self.conn.prepare(
            "SELECT whole, words, shaped, names, escapes FROM txt.vocabulary WHERE rowid = ?1",
        )?;
        // Per archive: the events its rows cover, and where the last row ended.
        let mut covered: std::collections::BTreeMap<i64, (i64, Option<i64>)> = Default::default();
        for (row, archive, first, last, indexed) in rows {
            if !indexed {
                problems.push(format!(
                    "the full-text index's vocabulary has a row for archive {archive}, which the index does not \
                     hold"
                ));
                continue;
            }
            let (count, end) = covered.entry(archive).or_default();
            if end.is_some_and(|end| first <= end) || last < first {
                problems.push(format!(
                    "the full-text index's vocabulary of archive {archive} has overlapping or reversed rows \
                     (event indexes {first} to {last})"
                ));
            }
            *end = Some(last);
            let batch: Vec<(i64, String)> = events
                .query_map(params![archive, first, last], |r| {
                    let raw = match r.get_ref(1)? {
                        rusqlite::types::ValueRef::Text(t) => {
                            String::from_utf8_lossy(t).into_owned()
                        }
                        _ => String::new(),
                    };
                    Ok((r.get(0)?, raw))
                })?
                .collect::<Result<_, _>>()?;
            *count += batch.len() as i64;
            let fresh = Vocabulary::of(&batch).into_row();
            let stored = blobs.query_row([row], |r| {
                let bytes = |i| -> rusqlite::Result<Vec<u8>> {
                    Ok(match r.get_ref(i)? {
                        rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => {
                            b.to_vec()
                        }
                        _ => Vec::new(),
                    })
                };
                Ok(VocabularyRow {
                    whole: r.get(0)?,
                    words: bytes(1)?,
                    shaped: bytes(2)?,
                    names: bytes(3)?,
                    escapes: r.get(4)?,
                })
            })?;
            let same = |a: &[u8], b: &[u8]| {
                let set = |blob| Vocabulary::lines(blob).collect::<std::collections::HashSet<_>>();
                set(a) == set(b)
            };
            // A row that says it is not whole leaves its archive to be read: only a whole one must be exact.
            if stored.whole
                && (!fresh.whole
                    || !same(&fresh.words, &stored.words)
                    || !same(&fresh.shaped, &stored.shaped)
                    || !same(&fresh.names, &stored.names)
                    || fresh.escapes != stored.escapes)
            {
                problems.push(format!(
                    "the full-text index's vocabulary of archive {archive} (event indexes {first} to {last}) is not \
                     what those events hold: a pattern over a JSON member could miss them"
                ));
            }
        }
        let mut total = self
            .conn
            .prepare("SELECT count(*) FROM events WHERE archive_id = ?1")?;
        for (archive, (count, _)) in covered {
            let stored: i64 = total.query_row([archive], |r| r.get(0))?;
            if stored != count {
                problems.push(format!(
                    "the full-text index's vocabulary of archive {archive} covers {count} of its {stored} events: \
                     a pattern over a JSON member could miss the others"
                ));
            }
        }
        Ok(problems)
    }

    /// Events of indexed archives whose number of indexed words (FTS5's `events_text_docsize`) is not the number
    /// of words of their text (text.rs), and whether the index holds exactly the events' words where they are:
    /// every (event, position, word) of their texts, and nothing else, as FTS5's own `instance` vocabulary lists
    /// the index's entries (deleted rows left out). Both sides are summed as keyed hashes (SipHash, a random key
    /// per check), so the comparison takes one pass over each and no memory: an index edited to take a word out
    /// of an event's entry, or to put it in another's, differs whatever the counts say.
    fn indexed_word_counts(&self) -> Result<(u64, bool), rusqlite::Error> {
        use std::hash::BuildHasher;
        let key = std::hash::RandomState::new();
        let mut stmt = self.conn.prepare(
            "SELECT e.raw, d.sz, e.id FROM events e JOIN txt.events_text_docsize d ON d.id = e.id
             WHERE e.archive_id IN (SELECT archive_id FROM txt.indexed)",
        )?;
        let mut rows = stmt.query([])?;
        let (mut wrong, mut text) = (0u64, String::new());
        let mut events_sum = 0u64;
        while let Some(r) = rows.next()? {
            let raw = match r.get_ref(0)? {
                rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t),
                _ => std::borrow::Cow::Borrowed(""),
            };
            let id: i64 = r.get(2)?;
            crate::text::indexed_text(&raw, &mut text);
            let mut words = 0u64;
            for word in text.split(' ').filter(|w| !w.is_empty()) {
                // FTS5 keeps the first FTS5_MAX_TOKEN_SIZE bytes of a longer token.
                let kept = &word.as_bytes()[..word.len().min(FTS5_MAX_TOKEN_SIZE)];
                events_sum = events_sum.wrapping_add(key.hash_one((id, words, kept)));
                words += 1;
            }
            let stored = match r.get_ref(1)? {
                rusqlite::types::ValueRef::Blob(b) => varint(b),
                _ => None,
            };
            if stored != Some(words) {
                wrong += 1;
            }
        }
        drop(rows);
        drop(stmt);
        self.conn.execute_batch(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.check_index_words
               USING fts5vocab('txt', 'events_text', 'instance')",
        )?;
        let mut index_sum = 0u64;
        {
            let mut stmt = self
                .conn
                .prepare("SELECT doc, \"offset\", term FROM temp.check_index_words")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let (id, at): (i64, i64) = (r.get(0)?, r.get(1)?);
                let term: &[u8] = match r.get_ref(2)? {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => t,
                    _ => b"",
                };
                index_sum = index_sum.wrapping_add(key.hash_one((id, at as u64, term)));
            }
        }
        self.conn
            .execute_batch("DROP TABLE IF EXISTS temp.check_index_words")?;
        Ok((wrong, index_sum == events_sum))
    }
}

/// The longest token FTS5 keeps: a longer one is indexed as its first this many bytes (`FTS5_MAX_TOKEN_SIZE`).
const FTS5_MAX_TOKEN_SIZE: usize = 32768;

/// The first SQLite varint of `b` (FTS5's column sizes).
fn varint(b: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for (i, byte) in b.iter().enumerate().take(9) {
        if i == 8 {
            return Some((v << 8) | u64::from(*byte));
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

struct Signed {
    checkpoint: Checkpoint,
    chain: ChainLines,
    manifest: Manifest,
    signer: VerifierKey,
}

/// Checks the stored checkpoint's signature by the stored signer key (which must be the manifest's signer) and
/// the stored manifest's hash; returns the parsed documents. Whether the signer is trusted is the caller's question.
fn signed_documents(a: &ArchiveMeta) -> Result<Signed, String> {
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
    Ok(Signed {
        checkpoint,
        chain,
        manifest,
        signer: key,
    })
}

/// The signer columns the Archives screen shows must be the ones the stored key gives: its name and fingerprint,
/// and the key itself the one the stored manifest names (`signer` when the signature verified with it).
fn check_signer_columns(
    a: &ArchiveMeta,
    signer: Option<&VerifierKey>,
    problems: &mut Vec<CheckProblem>,
) {
    let parsed;
    let key = match (signer, a.signer_key.as_deref()) {
        (Some(k), _) => k,
        (None, None) => {
            if a.signer_name.is_some() || a.signer_fingerprint.is_some() {
                problems.push(at(
                    a,
                    None,
                    "stored signer name or fingerprint without a signer key".into(),
                ));
            }
            return;
        }
        (None, Some(text)) => {
            if let Some(m) = a
                .manifest
                .as_deref()
                .and_then(|m| serde_json::from_slice::<Manifest>(m).ok())
                && m.signer != text
            {
                problems.push(at(
                    a,
                    None,
                    "stored signer key differs from the manifest's signer".into(),
                ));
            }
            match VerifierKey::parse(text) {
                Ok(k) => {
                    parsed = k;
                    &parsed
                }
                Err(e) => {
                    problems.push(at(a, None, format!("stored signer key: {e}")));
                    return;
                }
            }
        }
    };
    let show = |v: &Option<String>| {
        v.as_deref()
            .map_or("(none)".to_string(), |s| format!("{:?}", shown(s)))
    };
    if a.signer_name.as_deref() != Some(key.name()) {
        problems.push(at(
            a,
            None,
            format!(
                "stored signer name {} differs from the signer the manifest names, {:?}",
                show(&a.signer_name),
                key.name()
            ),
        ));
    }
    let fingerprint = key.fingerprint();
    if a.signer_fingerprint.as_deref() != Some(fingerprint.as_str()) {
        problems.push(at(
            a,
            None,
            format!(
                "stored signer fingerprint {} differs from the signer's, {fingerprint}",
                show(&a.signer_fingerprint)
            ),
        ));
    }
}

/// `name (fingerprint)`.
fn signer_text(key: &VerifierKey) -> String {
    format!("{} ({})", shown(key.name()), key.fingerprint())
}

/// File text quoted in a finding, as it is: every door escapes it for its screen (the CLI with
/// [`crate::safe_text::safe`], the app with its `safeText`), so escaping here would show escapes twice.
pub fn shown(s: &str) -> String {
    s.to_string()
}

/// The types the store writes in each column of `archives` (SQL over one row); other rows are findings.
const ARCHIVE_TYPES: &str = "typeof(id) = 'integer' AND typeof(status) = 'text'
    AND typeof(origin) IN ('text', 'null') AND (sequence IS NULL OR (typeof(sequence) = 'integer' AND sequence >= 0))
    AND typeof(source_kind) IN ('text', 'null')
    AND typeof(events) = 'integer' AND events >= 0 AND typeof(bytes) = 'integer' AND bytes >= 0
    AND typeof(signer_key) IN ('text', 'null') AND typeof(signer_name) IN ('text', 'null')
    AND typeof(signer_fingerprint) IN ('text', 'null')
    AND typeof(root) IN ('blob', 'null') AND typeof(chain_start) IN ('blob', 'null')
    AND typeof(chain_end) IN ('blob', 'null') AND typeof(manifest_sha256) IN ('blob', 'null')
    AND typeof(checkpoint) IN ('blob', 'null') AND typeof(manifest) IN ('blob', 'null')
    AND typeof(time_first) IN ('integer', 'null') AND typeof(time_last) IN ('integer', 'null')
    AND typeof(mapping) IN ('blob', 'null')
    AND typeof(parse_errors) = 'integer' AND parse_errors >= 0
    AND (untimed IS NULL OR (typeof(untimed) = 'integer' AND untimed >= 0))
    AND typeof(received_at) IN ('text', 'null') AND typeof(evidence) IN ('text', 'null')
    AND typeof(leaf_blocks) IN ('blob', 'null')";

/// The same for `events`.
const EVENT_TYPES: &str = "typeof(id) = 'integer' AND typeof(archive_id) = 'integer'
    AND typeof(idx) = 'integer' AND idx >= 0 AND idx < 4611686018427387904
    AND typeof(ts) IN ('integer', 'null') AND typeof(leaf) = 'blob' AND typeof(raw) = 'text'
    AND typeof(source) IN ('text', 'null') AND typeof(origin) IN ('text', 'null')
    AND typeof(actor) IN ('text', 'null') AND typeof(action) IN ('text', 'null')
    AND typeof(resource) IN ('text', 'null') AND typeof(outcome) IN ('text', 'null')
    AND typeof(ip) IN ('text', 'null') AND typeof(agent) IN ('text', 'null')
    AND typeof(env) IN ('text', 'null') AND typeof(stage) IN ('text', 'null')
    AND typeof(category) IN ('text', 'null') AND typeof(privilege) IN ('text', 'null')
    AND typeof(parse_error) IN ('text', 'null')";

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
