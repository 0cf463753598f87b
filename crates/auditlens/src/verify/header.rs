//! One archive up to its events: opening the container, the signed checkpoint and its signer's trust, and the
//! manifest (sections 2, 4 and 5), then the events pass and the checks of its results.

use std::io;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::archive::{self, ArchiveError, ArchiveFile, ChainLines, Manifest};
use crate::checkpoint::Checkpoint;
use crate::merkle::Hash;
use crate::note::{Note, VerifierKey};
use crate::sources::{Normalizer, SourceKind};
use crate::trust::Sealed;

use super::events::{EventsRead, Limits, Signed};
use super::report::{ArchiveReport, ArchiveStatus, Failure, FailureKind, SignerInfo};
use super::{Sink, TrustFn};

/// The pass over the events (section 3 and the root, count and chain checks), once the header checked out.
pub(super) type EventsPass =
    fn(&Path, &mut ArchiveFile, Signed<'_>, &mut dyn Sink, Limits) -> Result<EventsRead, Failure>;

pub(super) fn verify_with(
    path: &Path,
    trusted: &TrustFn<'_>,
    sink: &mut dyn Sink,
    events: EventsPass,
    limits: Limits,
) -> io::Result<ArchiveReport> {
    let mut report = ArchiveReport::new(path);
    // Open once to read the file early: a missing or unreadable file is an I/O error, not a failure.
    std::fs::File::open(path)?;
    if let Err(failure) = verify_into(path, trusted, sink, &mut report, events, limits) {
        report.status = ArchiveStatus::Failed;
        report.failure = Some(failure);
    }
    Ok(report)
}

pub(super) fn container(e: ArchiveError) -> Failure {
    let kind = match e {
        ArchiveError::Manifest(_) => FailureKind::Manifest,
        ArchiveError::Checkpoint(_) => FailureKind::Checkpoint,
        _ => FailureKind::Container,
    };
    Failure::new(kind, e.to_string())
}

pub(super) fn open(path: &Path) -> Result<ArchiveFile, Failure> {
    match ArchiveFile::open(path) {
        Ok(Ok(a)) => Ok(a),
        Ok(Err(e)) => Err(container(e)),
        Err(e) => Err(Failure::new(
            FailureKind::Container,
            format!("cannot read archive: {e}"),
        )),
    }
}

fn verify_into(
    path: &Path,
    trusted: &TrustFn<'_>,
    sink: &mut dyn Sink,
    report: &mut ArchiveReport,
    events: EventsPass,
    limits: Limits,
) -> Result<(), Failure> {
    let mut zip = open(path)?;

    // Checkpoint: signed note, then the tlog-checkpoint body and our extension lines.
    let note_bytes = zip
        .read_small(archive::CHECKPOINT, archive::MAX_CHECKPOINT_BYTES)
        .map_err(container)?;
    let note = Note::parse(&note_bytes).map_err(|e| {
        Failure::new(
            FailureKind::Checkpoint,
            format!("checkpoint is not a valid signed note: {e}"),
        )
    })?;
    let checkpoint = Checkpoint::parse(&note.text)
        .map_err(|e| Failure::new(FailureKind::Checkpoint, format!("checkpoint body: {e}")))?;
    let chain = ChainLines::from_checkpoint(&checkpoint).map_err(container)?;
    report.checkpoint_note = Some(note_bytes);

    // Manifest.
    let manifest_bytes = zip
        .read_small(archive::MANIFEST, archive::MAX_MANIFEST_BYTES)
        .map_err(container)?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| Failure::new(FailureKind::Manifest, format!("manifest.json: {e}")))?;

    // Signature by the key the manifest names; trust is a separate question.
    let signer = VerifierKey::parse(&manifest.signer)
        .map_err(|e| Failure::new(FailureKind::Manifest, format!("manifest signer key: {e}")))?;
    report.signer = Some(SignerInfo {
        key: signer.to_string(),
        name: signer.name().to_string(),
        fingerprint: signer.fingerprint(),
        trusted: false,
        trust_basis: None,
        trust_reason: None,
    });
    note.verify(&signer).map_err(|e| {
        Failure::new(
            FailureKind::Signature,
            format!("checkpoint signature by {}: {e}", signer.name()),
        )
    })?;
    let manifest_hash: Hash = Sha256::digest(&manifest_bytes).into();
    if manifest_hash != chain.manifest_sha256 {
        let mut f = Failure::new(
            FailureKind::ManifestHash,
            "manifest.json differs from the one the checkpoint signs",
        );
        f.entry = Some(archive::MANIFEST.into());
        f.expected = Some(archive::encode_hash(&chain.manifest_sha256));
        f.found = Some(archive::encode_hash(&manifest_hash));
        return Err(f);
    }
    check_manifest(
        &manifest,
        &checkpoint,
        &chain,
        &zip.event_entries,
        zip.has_mapping,
    )?;

    // The mapping file, when the archive has one: its SHA-256 is the manifest's (signed) `mapping_sha256`.
    if let Some(expected) = &manifest.mapping_sha256 {
        let bytes = zip
            .read_small(archive::MAPPING, archive::MAX_MAPPING_BYTES)
            .map_err(container)?;
        let found: Hash = Sha256::digest(&bytes).into();
        if archive::encode_hash(&found) != *expected {
            let mut f = Failure::new(
                FailureKind::Mapping,
                "mapping.toml differs from the one the manifest names (mapping_sha256)",
            );
            f.entry = Some(archive::MAPPING.into());
            f.expected = Some(expected.clone());
            f.found = Some(archive::encode_hash(&found));
            return Err(f);
        }
        report.mapping_bytes = Some(bytes);
    }

    // From here on, what the manifest and checkpoint say is signed: the trust decision can use them.
    let sealed = Sealed::signed(manifest.trust_time());
    let decision = trusted(&checkpoint.origin, &signer, sealed);
    let mut is_trusted = decision.trusted;
    if let Some(s) = report.signer.as_mut() {
        s.trusted = decision.trusted;
        s.trust_basis = Some(decision.basis);
        s.trust_reason = Some(decision.reason);
    }
    report.origin = Some(checkpoint.origin.clone());
    report.sequence = Some(chain.sequence);
    report.events = Some(checkpoint.size);
    report.bytes = Some(manifest.entries.iter().map(|e| e.bytes).sum());
    report.time_range = manifest.time_range.clone();
    report.created = Some(manifest.created.clone());
    report.received = manifest.received.clone();
    report.source_kind = Some(manifest.source_kind.clone());
    report.normalization = manifest
        .source_kind
        .parse::<SourceKind>()
        .ok()
        .and_then(|k| crate::sources::Normalization::producer(k, report.mapping_bytes.as_deref()));
    report.root = Some(archive::encode_hash(&checkpoint.root));
    report.chain_start = Some(archive::encode_hash(&chain.chain_start));
    report.chain_end = Some(archive::encode_hash(&chain.chain_end));
    report.manifest_sha256 = Some(archive::encode_hash(&chain.manifest_sha256));
    report.manifest_bytes = Some(manifest_bytes);
    if !sink.begin(&manifest, report) {
        return Err(Failure::new(FailureKind::Cancelled, "cancelled"));
    }

    let count_parse_errors = !sink.parses_events();
    let limits = Limits {
        count_parse_errors,
        ..limits
    };
    // The events' times can change the decision only where a grant of the key for the origin ends
    // (`valid-before`), whatever trusts it now: a bare key's first use can be refused later, across a set
    // (`apply_first_use`), leaving that grant. Only then does the pass read them, under the signed rules (none
    // when a mapping file does not compile; importers refuse it). A sink that parses the events has them anyway.
    let times_matter = is_trusted && decision.windowed;
    let normalizer = times_matter
        .then(|| {
            Normalizer::for_archive(&manifest.source_kind, report.mapping_bytes.as_deref()).ok()
        })
        .flatten();
    let signed = Signed {
        manifest: &manifest,
        cp: &checkpoint,
        chain_lines: &chain,
        normalizer: normalizer.as_ref(),
    };
    let read = events(path, &mut zip, signed, sink, limits)?;
    report.parse_errors = count_parse_errors.then_some(read.parse_errors);
    sink.end();
    let newest = if count_parse_errors {
        read.newest
    } else {
        sink.newest_event()
    };
    report.newest_event = newest.map(crate::time::format_utc);
    // Sealed after its events: trusted only if still trusted at the newest event's time.
    let sealed = sealed.with_newest_event(newest);
    if is_trusted && sealed.events_later() {
        let again = trusted(&checkpoint.origin, &signer, sealed);
        if !again.trusted {
            is_trusted = false;
            if let Some(s) = report.signer.as_mut() {
                s.trusted = false;
                s.trust_basis = Some(again.basis);
                s.trust_reason = Some(again.reason);
            }
        }
    }
    report.status = if is_trusted {
        ArchiveStatus::Verified
    } else {
        ArchiveStatus::Untrusted
    };
    Ok(())
}

fn check_manifest(
    m: &Manifest,
    cp: &Checkpoint,
    chain: &ChainLines,
    entries: &[String],
    has_mapping: bool,
) -> Result<(), Failure> {
    let bad = |msg: String| Err(Failure::new(FailureKind::Manifest, msg));
    if m.format != archive::FORMAT_NAME {
        return bad(format!(
            "format is {:?}, expected {:?}",
            m.format,
            archive::FORMAT_NAME
        ));
    }
    if m.version != archive::FORMAT_VERSION {
        return bad(format!("unknown format version {}", m.version));
    }
    if crate::seal::is_reserved_origin(&m.origin) {
        return bad(format!(
            "origin {:?} is reserved for AWS CloudTrail exports, verified with AWS's own signatures \
             (docs/cloudtrail.md section 5): no AuditLens archive may claim it",
            m.origin
        ));
    }
    if m.origin != cp.origin {
        return bad(format!(
            "origin {:?} differs from the checkpoint's {:?}",
            m.origin, cp.origin
        ));
    }
    if m.sequence != chain.sequence || m.sequence == 0 {
        return bad(format!(
            "sequence {} differs from the checkpoint's {} (or is 0)",
            m.sequence, chain.sequence
        ));
    }
    let Ok(kind) = m.source_kind.parse::<SourceKind>() else {
        return bad(format!("unknown source_kind {:?}", m.source_kind));
    };
    let is_mapping = kind == SourceKind::Mapping;
    match &m.mapping_sha256 {
        Some(h) if !is_mapping => {
            return bad(format!(
                "mapping_sha256 {h:?} is only allowed with source_kind \"mapping\""
            ));
        }
        Some(h) => {
            if let Err(e) = archive::decode_hash(h) {
                return bad(format!("mapping_sha256: {e}"));
            }
        }
        None if is_mapping => {
            return bad("source_kind \"mapping\" needs a mapping_sha256".into());
        }
        None => {}
    }
    if has_mapping != is_mapping {
        return bad(if is_mapping {
            "source_kind \"mapping\" but the archive has no mapping.toml entry".into()
        } else {
            format!(
                "the archive holds a mapping.toml entry, but source_kind is {:?}",
                m.source_kind
            )
        });
    }
    let names: Vec<&str> = m.entries.iter().map(|e| e.name.as_str()).collect();
    if names != entries.iter().map(String::as_str).collect::<Vec<_>>() {
        return bad(format!(
            "entries {names:?} differ from the archive's events entries {entries:?}"
        ));
    }
    let sum = m
        .entries
        .iter()
        .try_fold(0u64, |acc, e| acc.checked_add(e.events));
    if sum != Some(m.events) || m.events != cp.size {
        return bad(format!(
            "event counts disagree: entries sum to {sum:?}, manifest says {}, checkpoint says {}",
            m.events, cp.size
        ));
    }
    if m.events == 0 {
        return bad("an archive holds at least one event".into());
    }
    if m.entries.iter().any(|e| e.events == 0) {
        return bad("an events entry holds no event".into());
    }
    if let Some(r) = &m.received {
        r.check(&m.entries)
            .or_else(|why| bad(format!("received: {why}")))?;
    }
    Ok(())
}
