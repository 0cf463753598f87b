//! Verification of archives (docs/archive-format.md sections 2-6), streaming, and of the continuity of a set.
//!
//! A verification failure is a result, not an error of the program: `verify_archive` returns `Err` only when the
//! file cannot be read at all (exit code 2); everything about the content ends in an [`ArchiveReport`] whose
//! [`Failure`] names the entry, line, event index and the expected and found hashes. Events are pushed to a
//! [`Sink`] as they are hashed, so the importer stores them in the same single pass.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::archive::{self, ArchiveError, ArchiveFile, ChainLines, Manifest, TimeRange};
use crate::checkpoint::Checkpoint;
use crate::lines::{LineError, LineReader};
use crate::merkle::{self, Hash, RootBuilder};
use crate::note::{Note, VerifierKey};
use crate::seal::chain_step;
use crate::sources::SourceKind;

/// Overall result for one archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArchiveStatus {
    /// Every check holds and the signer key is trusted.
    Verified,
    /// Every check holds, but the signer key is not one the user trusts.
    Untrusted,
    /// Something does not verify; see `failure`.
    Failed,
}

/// What kind of check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    Container,
    Checkpoint,
    Manifest,
    Signature,
    ManifestHash,
    EventSyntax,
    LeafMismatch,
    Leaves,
    Count,
    Root,
    Chain,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
}

impl Failure {
    fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
            entry: None,
            line: None,
            event_index: None,
            expected: None,
            found: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignerInfo {
    /// The verifier key string from the manifest.
    pub key: String,
    pub name: String,
    pub fingerprint: String,
    pub trusted: bool,
}

/// Everything known about one archive after verification. Fields are `None` when the archive failed before
/// they could be read; what is present was read from signed data only when `status` is not `Failed`.
#[derive(Debug, Clone, Serialize)]
pub struct ArchiveReport {
    pub path: String,
    pub status: ArchiveStatus,
    pub origin: Option<String>,
    pub sequence: Option<u64>,
    pub events: Option<u64>,
    pub bytes: Option<u64>,
    pub time_range: Option<TimeRange>,
    pub source_kind: Option<String>,
    pub signer: Option<SignerInfo>,
    /// Merkle root, chain values and manifest hash, base64 as in the checkpoint.
    pub root: Option<String>,
    pub chain_start: Option<String>,
    pub chain_end: Option<String>,
    pub manifest_sha256: Option<String>,
    pub failure: Option<Failure>,
    /// The signed note exactly as stored (for the store and for bundles).
    #[serde(skip)]
    pub checkpoint_note: Option<Vec<u8>>,
    #[serde(skip)]
    pub manifest_bytes: Option<Vec<u8>>,
}

impl ArchiveReport {
    fn new(path: &Path) -> Self {
        ArchiveReport {
            path: path.display().to_string(),
            status: ArchiveStatus::Failed,
            origin: None,
            sequence: None,
            events: None,
            bytes: None,
            time_range: None,
            source_kind: None,
            signer: None,
            root: None,
            chain_start: None,
            chain_end: None,
            manifest_sha256: None,
            failure: None,
            checkpoint_note: None,
            manifest_bytes: None,
        }
    }

    pub fn is_verified(&self) -> bool {
        self.status == ArchiveStatus::Verified
    }
}

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
}

/// A sink that wants nothing.
pub struct NoSink;
impl Sink for NoSink {}

const PROGRESS_EVERY: u64 = 1 << 16;

/// Verifies one archive against the `trusted` keys. `Err` only when the file cannot be opened or read as a file.
pub fn verify_archive(
    path: &Path,
    trusted: &[VerifierKey],
    sink: &mut dyn Sink,
) -> io::Result<ArchiveReport> {
    let mut report = ArchiveReport::new(path);
    // Open once to read the file early: a missing or unreadable file is an I/O error, not a failure.
    std::fs::File::open(path)?;
    if let Err(failure) = verify_into(path, trusted, sink, &mut report) {
        report.status = ArchiveStatus::Failed;
        report.failure = Some(failure);
    }
    Ok(report)
}

fn container(e: ArchiveError) -> Failure {
    let kind = match e {
        ArchiveError::Manifest(_) => FailureKind::Manifest,
        ArchiveError::Checkpoint(_) => FailureKind::Checkpoint,
        _ => FailureKind::Container,
    };
    Failure::new(kind, e.to_string())
}

fn open(path: &Path) -> Result<ArchiveFile, Failure> {
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
    trusted: &[VerifierKey],
    sink: &mut dyn Sink,
    report: &mut ArchiveReport,
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
    let is_trusted = trusted.iter().any(|k| *k == signer);
    report.signer = Some(SignerInfo {
        key: signer.to_string(),
        name: signer.name().to_string(),
        fingerprint: signer.fingerprint(),
        trusted: is_trusted,
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
    check_manifest(&manifest, &checkpoint, &chain, &zip.event_entries)?;

    // From here on, what the manifest and checkpoint say is signed.
    report.origin = Some(checkpoint.origin.clone());
    report.sequence = Some(chain.sequence);
    report.events = Some(checkpoint.size);
    report.bytes = Some(manifest.entries.iter().map(|e| e.bytes).sum());
    report.time_range = manifest.time_range.clone();
    report.source_kind = Some(manifest.source_kind.clone());
    report.root = Some(archive::encode_hash(&checkpoint.root));
    report.chain_start = Some(archive::encode_hash(&chain.chain_start));
    report.chain_end = Some(archive::encode_hash(&chain.chain_end));
    report.manifest_sha256 = Some(archive::encode_hash(&chain.manifest_sha256));
    report.manifest_bytes = Some(manifest_bytes);
    if !sink.begin(&manifest, report) {
        return Err(Failure::new(FailureKind::Cancelled, "cancelled"));
    }

    verify_events(path, &mut zip, &manifest, &checkpoint, &chain, sink)?;
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
    if m.source_kind.parse::<SourceKind>().is_err() {
        return bad(format!("unknown source_kind {:?}", m.source_kind));
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
    Ok(())
}

fn verify_events(
    path: &Path,
    zip: &mut ArchiveFile,
    manifest: &Manifest,
    cp: &Checkpoint,
    chain_lines: &ChainLines,
    sink: &mut dyn Sink,
) -> Result<(), Failure> {
    let n = cp.size;
    let leaves_len = n
        .checked_mul(32)
        .ok_or_else(|| Failure::new(FailureKind::Count, "event count overflows"))?;
    let mut leaves_zip = open(path)?;
    let (declared, leaves) = leaves_zip
        .stream(archive::LEAVES, leaves_len)
        .map_err(container)?;
    if declared != leaves_len {
        let mut f = Failure::new(
            FailureKind::Leaves,
            format!("leaves entry is {declared} bytes; {n} events need {leaves_len}"),
        );
        f.entry = Some(archive::LEAVES.into());
        return Err(f);
    }
    let mut leaves = io::BufReader::with_capacity(1 << 16, leaves);
    let bytes_total: u64 = manifest.entries.iter().map(|e| e.bytes).sum();
    let mut progress = Progress {
        events_done: 0,
        events_total: n,
        bytes_done: 0,
        bytes_total,
    };

    let mut root = RootBuilder::new();
    let mut chain = chain_lines.chain_start;
    let mut index = 0u64;
    let mut prev_expected: Option<Hash> = None;
    let mut bytes_before = 0u64;
    for entry in &manifest.entries {
        let (declared, reader) = zip.stream(&entry.name, entry.bytes).map_err(container)?;
        let at_entry = |kind, msg: String| {
            let mut f = Failure::new(kind, msg);
            f.entry = Some(entry.name.clone());
            f
        };
        // The ZIP's declared size is not trusted: the reader is cut one byte past the signed size, and the
        // counts are compared after the lines, so a changed event is reported as such first.
        let _ = declared;
        let mut lines = LineReader::new(reader, archive::MAX_EVENT_BYTES);
        let mut in_entry = 0u64;
        let mut entry_seen = 0u64;
        loop {
            let line = match lines.next_line() {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(LineError::TooLong { line, limit }) => {
                    let mut f = at_entry(
                        FailureKind::EventSyntax,
                        format!("line longer than {limit} bytes"),
                    );
                    f.line = Some(line);
                    f.event_index = Some(index);
                    return Err(f);
                }
                Err(LineError::Io(e)) => {
                    return Err(at_entry(
                        FailureKind::Container,
                        format!("cannot decompress: {e}"),
                    ));
                }
            };
            let at_line = |kind, msg: String| {
                let mut f = at_entry(kind, msg);
                f.line = Some(line.number);
                f.event_index = Some(index);
                f
            };
            if in_entry == entry.events {
                return Err(at_line(
                    FailureKind::Count,
                    format!(
                        "entry holds more than the {} events the signed manifest says",
                        entry.events
                    ),
                ));
            }
            entry_seen += line.bytes.len() as u64 + u64::from(line.terminated);
            if !line.terminated && entry_seen > entry.bytes {
                return Err(at_line(
                    FailureKind::Count,
                    format!(
                        "entry is longer than the {} bytes the signed manifest says",
                        entry.bytes
                    ),
                ));
            }
            if let Some(why) = line_syntax_problem(line.bytes, line.terminated) {
                return Err(at_line(FailureKind::EventSyntax, why.into()));
            }
            let leaf = merkle::leaf_hash(line.bytes);
            let mut expected = [0u8; 32];
            leaves
                .read_exact(&mut expected)
                .map_err(|_| at_line(FailureKind::Leaves, "leaves entry ends early".into()))?;
            if leaf != expected {
                let mut f = at_line(FailureKind::LeafMismatch, String::new());
                f.expected = Some(merkle::to_hex(&expected));
                f.found = Some(merkle::to_hex(&leaf));
                f.message = diagnose_mismatch(
                    &leaf,
                    prev_expected.as_ref(),
                    &mut leaves,
                    &mut root,
                    expected,
                    index,
                    cp,
                );
                return Err(f);
            }
            if !sink.event(&EventRef {
                index,
                entry: &entry.name,
                line: line.number,
                bytes: line.bytes,
                leaf: &leaf,
            }) {
                return Err(Failure::new(FailureKind::Cancelled, "cancelled"));
            }
            chain = chain_step(&chain, &leaf);
            root.push(leaf);
            prev_expected = Some(expected);
            index += 1;
            in_entry += 1;
            if index % PROGRESS_EVERY == 0 {
                progress.events_done = index;
                progress.bytes_done = bytes_before + entry_seen;
                if !sink.progress(&progress) {
                    return Err(Failure::new(FailureKind::Cancelled, "cancelled"));
                }
            }
        }
        if in_entry != entry.events || entry_seen != entry.bytes {
            let mut f = at_entry(
                FailureKind::Count,
                format!(
                    "entry ends after {in_entry} events ({} bytes); the signed manifest says {} events ({} bytes): \
                     the tail was truncated or removed",
                    entry_seen, entry.events, entry.bytes
                ),
            );
            f.event_index = Some(index);
            f.expected = Some(entry.events.to_string());
            f.found = Some(in_entry.to_string());
            return Err(f);
        }
        bytes_before += entry.bytes;
    }
    let mut extra = [0u8; 1];
    if leaves
        .read(&mut extra)
        .map_err(|e| Failure::new(FailureKind::Leaves, e.to_string()))?
        != 0
    {
        return Err(Failure::new(
            FailureKind::Leaves,
            "leaves entry is longer than the events",
        ));
    }
    if index != n {
        let mut f = Failure::new(
            FailureKind::Count,
            format!("archive holds {index} events; the checkpoint says {n}"),
        );
        f.expected = Some(n.to_string());
        f.found = Some(index.to_string());
        return Err(f);
    }
    let computed = root.root();
    if computed != cp.root {
        let mut f = Failure::new(
            FailureKind::Root,
            "Merkle root of the events differs from the signed root",
        );
        f.expected = Some(merkle::to_hex(&cp.root));
        f.found = Some(merkle::to_hex(&computed));
        return Err(f);
    }
    if chain != chain_lines.chain_end {
        let mut f = Failure::new(
            FailureKind::Chain,
            "hash chain end differs from the signed chain-end",
        );
        f.expected = Some(merkle::to_hex(&chain_lines.chain_end));
        f.found = Some(merkle::to_hex(&chain));
        return Err(f);
    }
    progress.events_done = n;
    progress.bytes_done = bytes_total;
    sink.progress(&progress);
    Ok(())
}

/// The byte rules of section 3 for one line; `None` when it is fine.
fn line_syntax_problem(bytes: &[u8], terminated: bool) -> Option<&'static str> {
    if !terminated {
        Some("last line has no terminating newline")
    } else if bytes.is_empty() {
        Some("empty line")
    } else if bytes.ends_with(b"\r") {
        Some("line ends in \\r")
    } else if bytes.first() != Some(&b'{') || bytes.last() != Some(&b'}') {
        Some("line is not a JSON object (must begin with '{' and end with '}')")
    } else if std::str::from_utf8(bytes).is_err() {
        Some("line is not valid UTF-8")
    } else {
        None
    }
}

/// Explains a leaf mismatch: whether the signed leaf list itself is authentic (so the event was changed) and
/// what the change looks like (modified, deleted, inserted, reordered).
fn diagnose_mismatch(
    found: &Hash,
    prev_expected: Option<&Hash>,
    leaves: &mut impl Read,
    root: &mut RootBuilder,
    expected: Hash,
    index: u64,
    cp: &Checkpoint,
) -> String {
    // Finish the root over the listed leaves: if it is the signed root, the list is authentic.
    let mut listed_root = root.clone();
    listed_root.push(expected);
    let mut next_expected = None;
    let mut buf = [0u8; 32];
    while listed_root.size() < cp.size && leaves.read_exact(&mut buf).is_ok() {
        if next_expected.is_none() {
            next_expected = Some(buf);
        }
        listed_root.push(buf);
    }
    let authentic = listed_root.size() == cp.size && listed_root.root() == cp.root;
    let what = if Some(found) == next_expected.as_ref() {
        format!(
            "event {index} is missing here (the line found is event {}): deleted or reordered",
            index + 1
        )
    } else if Some(found) == prev_expected {
        format!(
            "event {} appears again at index {index}: duplicated or inserted",
            index.wrapping_sub(1)
        )
    } else {
        format!("event {index} differs from what was signed: modified, inserted or reordered")
    };
    if authentic {
        format!(
            "{what} (the leaf list matches the signed root, so the expected hash is the signed one)"
        )
    } else {
        format!("{what}; the leaf list does not match the signed root either")
    }
}

/// A problem between archives of one origin (section 6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContinuityProblem {
    pub kind: ContinuityKind,
    pub sequence: u64,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContinuityKind {
    Gap,
    Overlap,
    Fork,
    BrokenLink,
    BadStart,
}

#[derive(Debug, Clone, Serialize)]
pub struct OriginContinuity {
    pub origin: String,
    /// Sequence where the verified chain starts (1 means from the beginning of the log).
    pub starts_at: u64,
    pub ends_at: u64,
    pub ok: bool,
    pub problems: Vec<ContinuityProblem>,
}

/// Continuity over the archives that verified (failed ones are already failures of their own).
pub fn continuity(reports: &[ArchiveReport]) -> Vec<OriginContinuity> {
    let mut by_origin: BTreeMap<&str, Vec<&ArchiveReport>> = BTreeMap::new();
    for r in reports.iter().filter(|r| r.status != ArchiveStatus::Failed) {
        if let Some(origin) = &r.origin {
            by_origin.entry(origin).or_default().push(r);
        }
    }
    by_origin
        .into_iter()
        .map(|(origin, mut list)| {
            list.sort_by_key(|r| r.sequence);
            let mut problems = Vec::new();
            let first = list.first().and_then(|r| r.sequence).unwrap_or(0);
            if let Some(r) = list.first()
                && first == 1
                && r.chain_start.as_deref() != Some(archive::encode_hash(&[0u8; 32]).as_str())
            {
                problems.push(ContinuityProblem {
                    kind: ContinuityKind::BadStart,
                    sequence: 1,
                    message: "sequence 1 must start from the zero chain value".into(),
                });
            }
            for pair in list.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let (sa, sb) = (a.sequence.unwrap_or(0), b.sequence.unwrap_or(0));
                if sa == sb {
                    let same = a.checkpoint_note == b.checkpoint_note;
                    problems.push(ContinuityProblem {
                        kind: if same { ContinuityKind::Overlap } else { ContinuityKind::Fork },
                        sequence: sa,
                        message: if same {
                            format!("sequence {sa} is given twice ({} and {})", a.path, b.path)
                        } else {
                            format!("fork: {} and {} both claim sequence {sa} with different content", a.path, b.path)
                        },
                    });
                } else if sb > sa + 1 {
                    problems.push(ContinuityProblem {
                        kind: ContinuityKind::Gap,
                        sequence: sa + 1,
                        message: if sb == sa + 2 {
                            format!("gap: sequence {} is missing between {} and {}", sa + 1, a.path, b.path)
                        } else {
                            format!("gap: sequences {} to {} are missing between {} and {}", sa + 1, sb - 1, a.path, b.path)
                        },
                    });
                } else if a.chain_end != b.chain_start {
                    problems.push(ContinuityProblem {
                        kind: ContinuityKind::BrokenLink,
                        sequence: sb,
                        message: format!(
                            "fork: sequence {sb} ({}) does not continue the chain of sequence {sa} ({}): chain-start {} \
                             but previous chain-end {}",
                            b.path,
                            a.path,
                            b.chain_start.as_deref().unwrap_or("?"),
                            a.chain_end.as_deref().unwrap_or("?")
                        ),
                    });
                }
            }
            OriginContinuity {
                origin: origin.to_string(),
                starts_at: first,
                ends_at: list.last().and_then(|r| r.sequence).unwrap_or(0),
                ok: problems.is_empty(),
                problems,
            }
        })
        .collect()
}
