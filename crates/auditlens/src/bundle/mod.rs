//! Evidence bundles (docs/evidence-bundle.md): a few events carried out of the store with everything a reader
//! needs to check them alone: the exact event bytes, an RFC 6962 inclusion proof per event, each archive's signed
//! checkpoint and manifest, the auditor's selection and purpose, static reports, and a manifest of every entry's
//! SHA-256 signed by the exporting auditor.
//!
//! - [`export`](mod@export): the store to a bundle (`auditlens export`), refusing anything that is not verified.
//! - [`verify`]: a bundle to a [`verify::BundleVerification`] (`auditlens verify-bundle`), reading the ZIP as
//!   hostile input.
//! - [`open`]: a received bundle verified from a private copy and its events read as text
//!   ([`open_verified`], the desktop app's Received bundle screen).
//! - [`preview`](mod@preview): what exporting a selection would disclose, before anything is written ([`preview()`]).
//! - [`html`]: `report.html`, one static page with every piece of event text escaped.
//! - [`report`]: `report.json`'s document, derived from the bundle alone (its events, selection and signed
//!   metadata), so that the exporter writes and the verifier re-derives the same reports.
//! - [`recheck`]: the verifier's comparison of the bundle's reports with the derived ones, naming the first
//!   difference.
//!
//! This module holds the format itself: entry names, limits, the documents (`bundle.json`, proof lines,
//! `report.json`) and the text of the auditor's signed manifest.

pub mod cloudtrail;
pub mod export;
pub mod html;
pub mod open;
pub mod preview;
pub mod recheck;
pub mod report;
pub mod verify;

use serde::{Deserialize, Deserializer, Serialize};

use crate::archive::{decode_hash, encode_hash, parse_decimal};
use crate::merkle::Hash;
use crate::note::VerifierKey;

pub use export::{ExportError, ExportOptions, ExportSummary, Refusal, SelectionInput, export};
pub use open::{
    BundleArchive, BundleEvent, BundleKey, BundleProblem, BundleVerdict, OpenError, OpenOptions,
    OpenedBundle, open_verified,
};
pub use preview::{ExportPreview, ExportSelection, PreviewArchive, preview};
pub use verify::{
    BundleFailure, BundleStatus, BundleVerification, FailureKind, VerifyOptions, verify_bundle,
};

pub const FORMAT_NAME: &str = "auditlens-evidence-bundle";

/// `annotations.json`: the auditor's working papers on the bundle's events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AnnotationsDoc {
    /// [`ANNOTATIONS_FORMAT`].
    pub format: String,
    pub version: u64,
    /// [`ANNOTATIONS_STATEMENT`].
    pub statement: String,
    /// The auditor's action log when the bundle was exported: its entries and the hash of the last one (the head
    /// `auditlens log --head` checks a copy of the log against).
    pub action_log: Option<ActionLogHead>,
    /// By event id, in the order of `events.jsonl`; only events the bundle holds, each with its leaf (hex).
    pub events: Vec<crate::papers::EventAnnotations>,
}

/// How far the auditor's action log had got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ActionLogHead {
    pub entries: u64,
    pub head: String,
}
pub const REPORT_FORMAT_NAME: &str = "auditlens-evidence-report";
pub const FORMAT_VERSION: u64 = 1;

pub const MANIFEST: &str = "manifest";
pub const INDEX: &str = crate::archive::BUNDLE_INDEX;
pub const EVENTS: &str = "events.jsonl";
pub const PROOFS: &str = "proofs.jsonl";
pub const REPORT_JSON: &str = "report.json";
pub const REPORT_HTML: &str = "report.html";
/// The auditor's annotations on the bundle's events (their working papers), when there are any: signed by the
/// auditor with the manifest, not evidence (docs/evidence-bundle.md section 9).
pub const ANNOTATIONS: &str = "annotations.json";
/// `format` of [`ANNOTATIONS`].
pub const ANNOTATIONS_FORMAT: &str = "auditlens-auditor-annotations";
/// The statement every [`ANNOTATIONS`] document carries, word for word.
pub const ANNOTATIONS_STATEMENT: &str = "Annotations written by the auditor who exported this bundle, from their \
    working papers: they are not evidence and no producer signed them; the auditor's key signed them with the \
    manifest.";
/// Largest [`ANNOTATIONS`] entry.
pub const MAX_ANNOTATIONS_BYTES: u64 = 256 << 20;
/// Most values ([`crate::json::max_values`]) an [`ANNOTATIONS`] entry holds: each read costs tens of bytes, and
/// 200 MiB of one-letter tags took 3 GB to read. Ten thousand events with two hundred tags each fit.
pub const MAX_ANNOTATIONS_VALUES: usize = 2_000_000;
/// Most values `bundle.json` holds (its archives and selected ids are bounded by [`MAX_ARCHIVES`] and
/// [`MAX_EVENTS`]): 16 MiB of ids took 573 MB to read.
pub const MAX_INDEX_VALUES: usize = 200_000;
/// First line of the manifest note text.
pub const MANIFEST_HEADER: &str = "auditlens-evidence-bundle v1";
const AUDITOR_PREFIX: &str = "auditor ";

/// Most events one bundle holds.
pub const MAX_EVENTS: u64 = 10_000;
/// Most archives one bundle draws from.
pub const MAX_ARCHIVES: usize = 4_096;

pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
pub const MAX_INDEX_BYTES: u64 = 16 << 20;
pub const MAX_EVENTS_BYTES: u64 = 256 << 20;
pub const MAX_EVENT_LINE_BYTES: u64 = 16 << 20;
pub const MAX_PROOFS_BYTES: u64 = 64 << 20;
pub const MAX_PROOF_LINE_BYTES: u64 = 1 << 20;
pub const MAX_CHECKPOINT_BYTES: u64 = 64 << 10;
pub const MAX_ARCHIVE_MANIFEST_BYTES: u64 = 1 << 20;
pub const MAX_REPORT_JSON_BYTES: u64 = 64 << 20;
pub const MAX_REPORT_HTML_BYTES: u64 = 1 << 30;

/// Name of archive `k`'s (1-based) checkpoint entry.
pub fn checkpoint_entry(k: usize) -> String {
    format!("archives/{k:06}/checkpoint")
}

/// Name of archive `k`'s (1-based) manifest entry.
pub fn archive_manifest_entry(k: usize) -> String {
    format!("archives/{k:06}/manifest.json")
}

/// Name of archive `k`'s (1-based) mapping file entry (archives of source kind `mapping` only).
pub fn archive_mapping_entry(k: usize) -> String {
    format!("archives/{k:06}/mapping.toml")
}

/// The size limit of an entry, by name; `None` for a name the format does not allow.
pub fn entry_limit(name: &str) -> Option<u64> {
    match name {
        MANIFEST => Some(MAX_MANIFEST_BYTES),
        INDEX => Some(MAX_INDEX_BYTES),
        EVENTS => Some(MAX_EVENTS_BYTES),
        PROOFS => Some(MAX_PROOFS_BYTES),
        REPORT_JSON => Some(MAX_REPORT_JSON_BYTES),
        REPORT_HTML => Some(MAX_REPORT_HTML_BYTES),
        ANNOTATIONS => Some(MAX_ANNOTATIONS_BYTES),
        _ => match archive_entry(name)? {
            (_, ArchivePart::Checkpoint) => Some(MAX_CHECKPOINT_BYTES),
            (_, ArchivePart::Manifest) => Some(MAX_ARCHIVE_MANIFEST_BYTES),
            (_, ArchivePart::Mapping) => Some(crate::archive::MAX_MAPPING_BYTES),
            (_, ArchivePart::CloudTrailProof) => Some(cloudtrail::MAX_PROOF_BYTES),
            (_, ArchivePart::AwsKeys) => Some(cloudtrail::MAX_KEYS_BYTES),
            (_, ArchivePart::Digest(_) | ArchivePart::Log(_)) => Some(cloudtrail::MAX_FILE_BYTES),
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ArchivePart {
    Checkpoint,
    Manifest,
    Mapping,
    /// `cloudtrail.json` of a CloudTrail archive (section 11).
    CloudTrailProof,
    AwsKeys,
    /// `digests/MMMMMM.json.gz`, numbered from 1.
    Digest(usize),
    /// `logs/MMMMMM.json.gz`, numbered from 1.
    Log(usize),
}

/// `archives/NNNNNN/checkpoint`, `archives/NNNNNN/manifest.json` or `archives/NNNNNN/mapping.toml` with six
/// ASCII digits, number >= 1.
pub(crate) fn archive_entry(name: &str) -> Option<(usize, ArchivePart)> {
    let rest = name.strip_prefix("archives/")?;
    let (num, part) = rest.split_once('/')?;
    if num.len() != 6 || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let k: usize = num.parse().ok()?;
    let numbered = |dir: &str| -> Option<usize> {
        let m = part.strip_prefix(dir)?.strip_suffix(".json.gz")?;
        if m.len() != 6 || !m.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        m.parse().ok().filter(|m| *m >= 1)
    };
    let part = match part {
        "checkpoint" => ArchivePart::Checkpoint,
        "manifest.json" => ArchivePart::Manifest,
        "mapping.toml" => ArchivePart::Mapping,
        "cloudtrail.json" => ArchivePart::CloudTrailProof,
        "aws-keys.json" => ArchivePart::AwsKeys,
        _ => {
            if let Some(m) = numbered("digests/") {
                ArchivePart::Digest(m)
            } else {
                ArchivePart::Log(numbered("logs/")?)
            }
        }
    };
    (k >= 1).then_some((k, part))
}

/// `bundle.json` (docs/evidence-bundle.md section 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleIndex {
    pub format: String,
    pub version: u64,
    pub exported: String,
    pub tool: String,
    pub auditor: String,
    pub purpose: String,
    pub selection: Selection,
    pub events: u64,
    pub archives: Vec<IndexArchive>,
}

/// How the events were chosen: exactly one of `query` and `ids` is set. Both members are always written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    #[serde(deserialize_with = "present")]
    pub query: Option<String>,
    #[serde(deserialize_with = "present")]
    pub ids: Option<Vec<String>>,
}

/// An `Option` member that must be present (as a value or `null`): with `deserialize_with`, serde reports a
/// missing member instead of taking it as `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// One archive in `bundle.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexArchive {
    pub origin: String,
    pub sequence: u64,
    pub size: u64,
    pub root: String,
    pub signer: String,
    pub events: u64,
    /// When the exporter's store imported (and verified) the archive: the auditor's statement, shown by the
    /// reports.
    pub imported: String,
}

/// One line of `proofs.jsonl` (section 6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofLine {
    pub id: String,
    pub archive: u64,
    pub index: u64,
    pub leaf: String,
    pub path: Vec<String>,
}

/// A key as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub key: String,
    pub name: String,
    pub fingerprint: String,
}

impl KeyInfo {
    pub fn of(key: &VerifierKey) -> KeyInfo {
        KeyInfo {
            key: key.to_string(),
            name: key.name().to_string(),
            fingerprint: key.fingerprint(),
        }
    }
}

/// `report.json` (section 7): the export as the exporting software saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportReport {
    pub format: String,
    pub version: u64,
    pub exported: String,
    pub tool: String,
    pub purpose: String,
    pub selection: Selection,
    pub auditor: KeyInfo,
    pub time_range: Option<crate::archive::TimeRange>,
    pub verification: ExportChecks,
    pub archives: Vec<ReportArchive>,
    pub events: Vec<ReportEvent>,
    pub how_to_verify: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportChecks {
    pub checked_at: String,
    pub summary: String,
    pub checks: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportArchive {
    pub number: u64,
    pub origin: String,
    pub sequence: u64,
    pub size: u64,
    pub root: String,
    pub source_kind: String,
    /// Whose rules made the report's normalized fields of this archive's events: the built-in mapper of the
    /// signed source kind, or the producer's mapping file by its signed SHA-256 (docs/evidence-bundle.md
    /// section 7).
    pub normalization: String,
    pub signer: KeyInfo,
    pub events: u64,
    pub sealed: String,
    pub imported: String,
    /// Present only for an archive sealed on receipt (its signed manifest's `received`, docs/archive-format.md
    /// section 4.1): the label shown instead of "verified", and what the manifest records of the files received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<ReportReceipt>,
    /// Present only for an AWS CloudTrail archive (section 11.4): its label, digests and log files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudtrail: Option<cloudtrail::ReportCloudTrail>,
}

/// What a report says of an archive sealed on receipt (docs/evidence-bundle.md section 7.1): derived from the
/// archive's signed manifest, like everything else of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportReceipt {
    /// [`crate::archive::receipt_label`]: `sealed on receipt by NAME (FINGERPRINT) at AT: proves no change since
    /// receipt, not authenticity at the source`.
    pub label: String,
    /// The manifest's `received.at`.
    pub at: String,
    /// The manifest's `received.files`, in its order.
    pub files: Vec<crate::archive::ReceivedFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportEvent {
    pub position: u64,
    pub id: String,
    pub origin: String,
    pub sequence: u64,
    pub index: u64,
    pub leaf: String,
    pub proof_length: u64,
    pub time: Option<String>,
    pub source: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub resource: Option<String>,
    pub outcome: Option<String>,
    pub category: Option<String>,
    pub ip: Option<String>,
    pub agent: Option<String>,
    pub env: Option<String>,
    pub stage: Option<String>,
    /// Present only for an event of an archive sealed on receipt: that archive's label
    /// ([`ReportReceipt::label`]), shown instead of "verified".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
    /// Present only for an event of an AWS CloudTrail archive: its label, log file and record (section 11.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudtrail: Option<cloudtrail::ReportCloudTrailEvent>,
}

/// One entry line of the manifest: `<base64 SHA-256> <size> <name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestLine {
    pub sha256: Hash,
    pub size: u64,
    pub name: String,
}

/// The text of the auditor's signed manifest (section 8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleManifest {
    /// The auditor's verifier key string.
    pub auditor: String,
    /// Sorted by name, byte order, each name once.
    pub entries: Vec<ManifestLine>,
}

impl BundleManifest {
    /// The note text, ending in `\n` (entries are sorted here).
    pub fn to_text(&self) -> String {
        let mut entries: Vec<&ManifestLine> = self.entries.iter().collect();
        entries.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        let mut text = format!("{MANIFEST_HEADER}\n{AUDITOR_PREFIX}{}\n", self.auditor);
        for e in entries {
            text.push_str(&format!(
                "{} {} {}\n",
                encode_hash(&e.sha256),
                e.size,
                e.name
            ));
        }
        text
    }

    /// Parses the note text strictly: header, auditor line, then entry lines sorted by name without repeats.
    pub fn parse(text: &str) -> Result<BundleManifest, String> {
        let body = text
            .strip_suffix('\n')
            .ok_or("the text does not end with a newline")?;
        let mut lines = body.split('\n');
        if lines.next() != Some(MANIFEST_HEADER) {
            return Err(format!("the first line must be {MANIFEST_HEADER:?}"));
        }
        let auditor = lines
            .next()
            .and_then(|l| l.strip_prefix(AUDITOR_PREFIX))
            .ok_or("the second line must be \"auditor <verifier key>\"")?
            .to_string();
        let mut entries: Vec<ManifestLine> = Vec::new();
        for (i, line) in lines.enumerate() {
            let n = i + 3;
            let mut parts = line.splitn(3, ' ');
            let (Some(hash), Some(size), Some(name)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!("line {n} is not \"<sha256> <size> <name>\""));
            };
            let sha256 = decode_hash(hash).map_err(|e| format!("line {n}: hash: {e}"))?;
            let size = parse_decimal(size)
                .ok_or_else(|| format!("line {n}: size {size:?} is not a decimal number"))?;
            if name.is_empty() || name.contains(' ') {
                return Err(format!("line {n}: bad entry name {name:?}"));
            }
            if let Some(prev) = entries.last()
                && prev.name.as_bytes() >= name.as_bytes()
            {
                return Err(format!(
                    "line {n}: entry {name:?} is not after {:?} (entries are sorted, each once)",
                    prev.name
                ));
            }
            entries.push(ManifestLine {
                sha256,
                size,
                name: name.to_string(),
            });
        }
        Ok(BundleManifest { auditor, entries })
    }
}

/// Untrusted text for terminals and screens: the one rendering (module [`crate::safe_text`]), re-exported here
/// where bundle code and its callers have always found it.
pub use crate::safe_text::{is_hidden_char, terminal_safe};

/// Whether the file at `path` looks like an evidence bundle rather than an archive: a ZIP whose entries include
/// [`INDEX`] (`bundle.json`, which an archive may not hold). Reads only the ZIP's central directory; nothing is
/// verified. A file that cannot be opened is an error; one that is not a readable ZIP is not a bundle (`false`),
/// so whoever tries it as an archive reports why.
pub fn is_bundle(path: &std::path::Path) -> std::io::Result<bool> {
    let file = std::fs::File::open(path)?;
    Ok(match zip::ZipArchive::new(file) {
        Ok(zip) => zip.file_names_raw().any(|name| name == INDEX.as_bytes()),
        Err(_) => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_bundle_reads_the_entry_names_only() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, entries: &[&str]| {
            let path = dir.path().join(name);
            let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
            for e in entries {
                zip.start_file(*e, zip::write::SimpleFileOptions::default())
                    .unwrap();
                zip.write_all(b"{}").unwrap();
            }
            zip.finish().unwrap();
            path
        };
        let bundle = write("bundle.zip", &[MANIFEST, INDEX, EVENTS]);
        let archive = write(
            "archive.zip",
            &["checkpoint", "manifest.json", "events/000001.jsonl"],
        );
        let nested = write("nested.zip", &["x/bundle.json"]);
        assert!(is_bundle(&bundle).unwrap());
        assert!(!is_bundle(&archive).unwrap());
        assert!(!is_bundle(&nested).unwrap());
        let garbage = dir.path().join("garbage.zip");
        std::fs::write(&garbage, b"not a zip at all").unwrap();
        assert!(!is_bundle(&garbage).unwrap());
        assert!(is_bundle(&dir.path().join("missing.zip")).is_err());
    }

    #[test]
    fn manifest_text_round_trips_sorted() {
        let m = BundleManifest {
            auditor: "a+12345678+AAAA".into(),
            entries: vec![
                ManifestLine {
                    sha256: [1; 32],
                    size: 3,
                    name: "report.html".into(),
                },
                ManifestLine {
                    sha256: [2; 32],
                    size: 0,
                    name: "archives/000001/checkpoint".into(),
                },
            ],
        };
        let text = m.to_text();
        let back = BundleManifest::parse(&text).unwrap();
        assert_eq!(back.entries[0].name, "archives/000001/checkpoint");
        assert_eq!(back.to_text(), text);
    }

    #[test]
    fn manifest_text_rejects_disorder_repeats_and_bad_numbers() {
        let h = encode_hash(&[0; 32]);
        for bad in [
            format!("{MANIFEST_HEADER}\nauditor k\n{h} 1 b\n{h} 1 a\n"),
            format!("{MANIFEST_HEADER}\nauditor k\n{h} 1 a\n{h} 1 a\n"),
            format!("{MANIFEST_HEADER}\nauditor k\n{h} 01 a\n"),
            format!("{MANIFEST_HEADER}\nauditor k\n{h} 1 a b\n"),
            format!("{MANIFEST_HEADER}\nauditor k\n{h} 1\n"),
            "other\nauditor k\n".to_string(),
            format!("{MANIFEST_HEADER}\nauditor k"),
        ] {
            assert!(BundleManifest::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn archive_entry_names_are_six_digits_from_one() {
        assert_eq!(
            archive_entry("archives/000001/checkpoint"),
            Some((1, ArchivePart::Checkpoint))
        );
        assert_eq!(
            archive_entry("archives/000012/manifest.json"),
            Some((12, ArchivePart::Manifest))
        );
        assert_eq!(
            archive_entry("archives/000002/digests/000003.json.gz"),
            Some((2, ArchivePart::Digest(3)))
        );
        assert_eq!(
            archive_entry("archives/000002/logs/010000.json.gz"),
            Some((2, ArchivePart::Log(10_000)))
        );
        assert_eq!(
            archive_entry("archives/000002/cloudtrail.json"),
            Some((2, ArchivePart::CloudTrailProof))
        );
        for bad in [
            "archives/000000/checkpoint",
            "archives/1/checkpoint",
            "archives/00000a/checkpoint",
            "archives/000001/leaves",
            "archives/000001/mapping.json",
            "archives/000001/checkpoint/x",
            "archives/000001/digests/000000.json.gz",
            "archives/000001/digests/1.json.gz",
            "archives/000001/logs/000001.json",
            "archives/000001/logs/000001.json.gz/x",
            "archives/000001/logs/sub/000001.json.gz",
        ] {
            assert_eq!(archive_entry(bad), None, "{bad}");
        }
    }

    #[test]
    fn selection_members_must_both_be_present() {
        assert!(serde_json::from_str::<Selection>(r#"{"query":"a","ids":null}"#).is_ok());
        assert!(serde_json::from_str::<Selection>(r#"{"query":"a"}"#).is_err());
        assert!(serde_json::from_str::<Selection>(r#"{"query":"a","ids":null,"x":1}"#).is_err());
        assert!(
            serde_json::from_str::<Selection>(r#"{"query":"a","query":"b","ids":null}"#).is_err()
        );
    }
}
