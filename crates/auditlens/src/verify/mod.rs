//! Verification of archives (docs/archive-format.md sections 2-6), streaming, and of the continuity of a set.
//!
//! A verification failure is a result, not an error of the program: `verify_archive` returns `Err` only when the
//! file cannot be read at all (exit code 2); everything about the content ends in an [`ArchiveReport`] whose
//! [`Failure`] names the entry, line, event index and the expected and found hashes. Events are pushed to a
//! [`Sink`] as they are hashed, so the importer stores them in the same single pass.
//!
//! The pass over the events runs on two threads: one inflates the entries, splits the lines and checks the byte
//! rules into recycled batches; the caller's thread hashes, compares with `leaves`, advances the chain and the root
//! and calls the sink, in order. Failures keep their order: the reading side stops at its first failure and hands
//! it over after the lines before it, so the one reported is the first in event order, as in a single loop.
//!
//! Layout: this module holds the entry points and the [`Sink`]; `report` the report types, `header` the checks
//! up to the events (container, checkpoint, signer trust, manifest), `events` the events pass, `continuity` the
//! continuity across a set and `first_use` first-use trust across a set.

// A `Failure` is large (it names entry, line, index and both hashes) but travels only once, on the cold path.
#![allow(clippy::result_large_err)]

mod continuity;
mod events;
mod first_use;
mod header;
mod report;

pub use continuity::{
    ContinuityKind, ContinuityProblem, OriginContinuity, SignerChange, continuity,
};
pub use first_use::apply_first_use;
pub use report::{ArchiveReport, ArchiveStatus, Failure, FailureKind, SignerInfo};

use std::io;
use std::path::Path;

use serde::Serialize;

use crate::archive::Manifest;
use crate::merkle::Hash;
use crate::note::VerifierKey;
use crate::trust::{Sealed, TrustDecision, TrustPolicy};

use events::{Limits, verify_events};
use header::verify_with;

/// One event as it is verified.
pub struct EventRef<'a> {
    pub index: u64,
    pub entry: &'a str,
    pub line: u64,
    pub bytes: &'a [u8],
    pub leaf: &'a Hash,
}

/// Progress of one archive's verification.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Progress {
    pub events_done: u64,
    pub events_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// Receives events and progress while an archive is verified. Returning `false` cancels.
pub trait Sink {
    /// Called once the manifest and signature checked out, before the first event.
    fn begin(&mut self, _manifest: &Manifest, _report: &ArchiveReport) -> bool {
        true
    }
    fn event(&mut self, _event: &EventRef<'_>) -> bool {
        true
    }
    /// Called about every 64k events and at the end.
    fn progress(&mut self, _progress: &Progress) -> bool {
        true
    }
    /// Asked after `begin`: whether this sink parses every event itself (with `sources::parse_event`) and counts
    /// the ones that do not parse, so the verifier need not parse them a second time. The report's
    /// `parse_errors` is then left for the sink to fill.
    fn parses_events(&self) -> bool {
        false
    }
    /// Called once every event, the count, the root and the chain checked out, before the trust decision is
    /// made again with the events' times ([`TrustFn`]): a sink that parses the events finishes its last ones.
    fn end(&mut self) {}
    /// Asked after `end` when the sink parses the events: the newest event time it derived.
    fn newest_event(&self) -> Option<i64> {
        None
    }
}

/// A sink that wants nothing.
pub struct NoSink;
impl Sink for NoSink {}

/// Decides whether an archive's signer is trusted for its origin, given the origin, the signer and when the
/// archive was sealed ([`Sealed`]). Called once the signature and manifest hash checked out, before any event,
/// with the signed time alone; and again once every event was read, with their newest time, when that is later
/// (an archive trusted only before then is not trusted after all).
pub type TrustFn<'a> = dyn Fn(&str, &VerifierKey, Sealed) -> TrustDecision + 'a;

/// Verifies one archive against the `trusted` keys (bare keys: each for any origin; first-use pinning across a
/// set is [`apply_first_use`]'s job). `Err` only when the file cannot be opened or read as a file.
pub fn verify_archive(
    path: &Path,
    trusted: &[VerifierKey],
    sink: &mut dyn Sink,
) -> io::Result<ArchiveReport> {
    let policy = TrustPolicy::from_keys(trusted);
    verify_archive_with(path, &|o, k, c| policy.decide(o, k, c, &[]), sink)
}

/// Verifies one archive, asking `trust` whether its signer may speak for its origin.
pub fn verify_archive_with(
    path: &Path,
    trust: &TrustFn<'_>,
    sink: &mut dyn Sink,
) -> io::Result<ArchiveReport> {
    verify_with(path, trust, sink, verify_events, Limits::DEFAULT)
}
