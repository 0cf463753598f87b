//! `auditlens verify-bundle`: checks an evidence bundle (docs/evidence-bundle.md section 9) read as hostile input.
//!
//! Like the archive verifier, a failed check is a result, not an error: [`verify_bundle`] returns `Err` only when
//! the file cannot be opened; everything about the content ends in a [`BundleVerification`] whose
//! [`BundleFailure`] names the entry, line, event id and the expected and found values. The ZIP is read by
//! name with every structural rule checked first; no entry is read past the size the auditor's manifest declares
//! (or past its limit), events are streamed line by line, and nothing in a bundle can make the verifier panic.
//!
//! One file (about 1,250 lines): the verifier is the checks of docs/evidence-bundle.md section 9 in the order the
//! section gives them, over one opened ZIP; read top to bottom it is the section. Its human text is the CLI's
//! (src/render.rs).

// A failure is built at most once per verification and carries what a person needs to see (entry, line, event,
// expected and found values); boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::recheck::{Difference, HtmlCompare, json_difference};
use super::report::{ReportBuilder, report_json};
use super::{
    ArchivePart, BundleIndex, BundleManifest, ExportReport, INDEX, ManifestLine, ProofLine,
    Selection, archive_entry, archive_manifest_entry, archive_mapping_entry, checkpoint_entry,
    entry_limit,
};
use crate::archive::{ChainLines, Manifest, decode_hash, encode_hash};
use crate::checkpoint::Checkpoint;
use crate::merkle::{self, Hash};
use crate::note::{Note, VerifierKey};
use crate::sources::{Normalizer, SourceKind};
use crate::store::event_id;

/// Whom the reader trusts.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyOptions<'a> {
    /// Producer keys (`--trust`): every archive's signer must be one of them.
    pub trusted_producers: &'a [VerifierKey],
    /// Auditor keys (`--trust-auditor`): when not empty, the bundle's auditor must be one of them.
    pub trusted_auditors: &'a [VerifierKey],
    /// Producer grants (`--trust-policy`, docs/trust-policy.md), beside the bare `trusted_producers` keys, which
    /// are pinned per origin on first use in the bundle's archive order (origin, then sequence).
    pub producer_policy: Option<&'a crate::trust::TrustPolicy>,
    /// AWS CloudTrail public keys (`--aws-keys`): every digest of a CloudTrail archive must be signed by one of
    /// them, valid at its time (docs/evidence-bundle.md section 11.5).
    pub aws_keys: Option<&'a crate::cloudtrail_digest::AwsKeys>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BundleStatus {
    /// Intact, and every key is trusted.
    Verified,
    /// Intact, but a producer key (or a required auditor key) is not trusted.
    Untrusted,
    /// Something does not verify; see `failure`.
    Failed,
}

/// Which check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    Container,
    Manifest,
    AuditorSignature,
    Entries,
    Index,
    Checkpoint,
    ProducerSignature,
    Event,
    Leaf,
    Proof,
    Count,
    Report,
    /// `annotations.json` (the auditor's annotations) is malformed or names what the bundle does not hold.
    Annotations,
    UntrustedProducer,
    UntrustedAuditor,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleFailure {
    pub kind: FailureKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
}

impl BundleFailure {
    fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        BundleFailure {
            kind,
            message: message.into(),
            entry: None,
            line: None,
            event: None,
            expected: None,
            found: None,
        }
    }
    fn entry(mut self, name: &str) -> Self {
        self.entry = Some(name.to_string());
        self
    }
    fn line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }
    fn event(mut self, id: &str) -> Self {
        self.event = Some(id.to_string());
        self
    }
    fn values(mut self, expected: String, found: String) -> Self {
        self.expected = Some(expected);
        self.found = Some(found);
        self
    }
}

/// A key named by the bundle, and whether the reader trusts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyStatus {
    pub key: String,
    pub name: String,
    pub fingerprint: String,
    pub trusted: bool,
    /// For a producer key: why it is trusted for the archive's origin, or why not (docs/trust-policy.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_reason: Option<String>,
}

impl KeyStatus {
    fn of(key: &VerifierKey, trusted: &[VerifierKey]) -> KeyStatus {
        KeyStatus {
            key: key.to_string(),
            name: key.name().to_string(),
            fingerprint: key.fingerprint(),
            trusted: trusted.contains(key),
            trust_reason: None,
        }
    }

    fn decided(key: &VerifierKey, d: crate::trust::TrustDecision) -> KeyStatus {
        KeyStatus {
            key: key.to_string(),
            name: key.name().to_string(),
            fingerprint: key.fingerprint(),
            trusted: d.trusted,
            trust_reason: Some(d.reason),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedArchive {
    pub origin: String,
    pub sequence: u64,
    pub size: u64,
    pub root: String,
    pub events: u64,
    pub signer: KeyStatus,
    /// Set when the archive was sealed on receipt (its signed manifest's `received`, docs/archive-format.md
    /// section 4.1): signed by whoever received the files, not by their producer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<crate::archive::Receipt>,
    /// With `received`: the label shown instead of "verified", `sealed on receipt by NAME (FINGERPRINT) at AT:
    /// proves no change since receipt, not authenticity at the source`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_label: Option<String>,
    /// Set for an AWS CloudTrail archive (docs/evidence-bundle.md section 11): `signed by AWS CloudTrail (key
    /// FP): log files verified against AWS's signed digests`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloudtrail_label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedEvent {
    pub id: String,
    pub origin: String,
    pub sequence: u64,
    pub index: u64,
    /// Leaf hash, base64.
    pub leaf: String,
    /// Set when the event's archive was sealed on receipt: its label ([`VerifiedArchive::received_label`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_label: Option<String>,
    /// Set when the event's archive is an AWS CloudTrail archive: its label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloudtrail_label: Option<String>,
}

/// The result of verifying one bundle (the `--json` document).
#[derive(Debug, Clone, Serialize)]
pub struct BundleVerification {
    pub bundle: String,
    pub ok: bool,
    pub status: BundleStatus,
    pub failure: Option<BundleFailure>,
    /// Set once the manifest's signature by this key verified.
    pub auditor: Option<KeyStatus>,
    pub exported: Option<String>,
    pub tool: Option<String>,
    pub purpose: Option<String>,
    pub selection: Option<Selection>,
    pub archives: Vec<VerifiedArchive>,
    /// Every event, when the bundle is intact; empty when it failed.
    pub events: Vec<VerifiedEvent>,
    /// The auditor's annotations on the bundle's events (`annotations.json`), when it carries them: signed by the
    /// auditor, not evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<super::AnnotationsDoc>,
}

/// Verifies the bundle at `path`. `Err` only when the file cannot be opened.
pub fn verify_bundle(path: &Path, opts: &VerifyOptions<'_>) -> io::Result<BundleVerification> {
    let file = File::open(path)?;
    let mut v = BundleVerification {
        bundle: path.display().to_string(),
        ok: false,
        status: BundleStatus::Failed,
        failure: None,
        auditor: None,
        exported: None,
        tool: None,
        purpose: None,
        selection: None,
        archives: Vec::new(),
        events: Vec::new(),
        annotations: None,
    };
    match run(file, opts, &mut v) {
        Ok(()) => {}
        Err(f) => {
            v.status = BundleStatus::Failed;
            v.failure = Some(f);
            v.events.clear();
            v.annotations = None;
        }
    }
    v.ok = v.status == BundleStatus::Verified;
    Ok(v)
}

fn run(
    file: File,
    opts: &VerifyOptions<'_>,
    v: &mut BundleVerification,
) -> Result<(), BundleFailure> {
    // 1. Container.
    let mut zip = BundleZip::open(file)?;

    // 2. The auditor's manifest and its signature.
    let manifest_bytes = zip.read_declared(super::MANIFEST, None, super::MAX_MANIFEST_BYTES)?;
    let note = Note::parse(&manifest_bytes).map_err(|e| {
        BundleFailure::new(
            FailureKind::Manifest,
            format!("manifest is not a valid signed note: {e}"),
        )
        .entry(super::MANIFEST)
    })?;
    let manifest = BundleManifest::parse(&note.text).map_err(|e| {
        BundleFailure::new(FailureKind::Manifest, format!("manifest text: {e}"))
            .entry(super::MANIFEST)
    })?;
    let auditor = VerifierKey::parse(&manifest.auditor).map_err(|e| {
        BundleFailure::new(FailureKind::Manifest, format!("manifest auditor key: {e}"))
            .entry(super::MANIFEST)
    })?;
    note.verify(&auditor).map_err(|e| {
        BundleFailure::new(
            FailureKind::AuditorSignature,
            format!(
                "manifest signature by the auditor key {}: {e}",
                auditor.name()
            ),
        )
        .entry(super::MANIFEST)
    })?;
    v.auditor = Some(KeyStatus::of(&auditor, opts.trusted_auditors));

    // 3. Exactly the listed entries, each with its size and SHA-256.
    let listed: BTreeSet<&str> = manifest.entries.iter().map(|e| e.name.as_str()).collect();
    if let Some(missing) = listed.iter().find(|n| !zip.names.contains(**n)) {
        return Err(BundleFailure::new(
            FailureKind::Entries,
            format!("the manifest lists {missing:?}, which the bundle does not hold"),
        )
        .entry(missing));
    }
    if let Some(extra) = zip
        .names
        .iter()
        .find(|n| n.as_str() != super::MANIFEST && !listed.contains(n.as_str()))
    {
        return Err(BundleFailure::new(
            FailureKind::Entries,
            format!("entry {extra:?} is not listed in the manifest"),
        )
        .entry(extra));
    }
    for line in &manifest.entries {
        zip.check_hash(line)?;
    }
    let size_of = |name: &str| {
        manifest
            .entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.size)
            .unwrap_or(0)
    };

    // 4. bundle.json.
    let index_bytes = zip.read_declared(INDEX, Some(size_of(INDEX)), super::MAX_INDEX_BYTES)?;
    if crate::json::max_values(&index_bytes) > super::MAX_INDEX_VALUES {
        return Err(index_failure(format!(
            "bundle.json holds more than {} values (a bundle holds at most {} archives and {} events)",
            super::MAX_INDEX_VALUES,
            super::MAX_ARCHIVES,
            super::MAX_EVENTS
        )));
    }
    let index: BundleIndex = serde_json::from_slice(&index_bytes)
        .map_err(|e| index_failure(format!("bundle.json: {e}")))?;
    check_index(&index, &manifest, zip.archives)?;
    let mut report = ReportBuilder::new(&index, &auditor);
    // The report is read first for the rules it names: a bundle exported by an earlier AuditLens may name an
    // older version of a built-in mapper, whose fields are then derived under that version.
    let report_bytes = zip.read_declared(
        super::REPORT_JSON,
        Some(size_of(super::REPORT_JSON)),
        super::MAX_REPORT_JSON_BYTES,
    )?;
    let named_rules = named_rules(&report_bytes);
    v.exported = Some(index.exported.clone());
    v.tool = Some(index.tool.clone());
    v.purpose = Some(index.purpose.clone());
    v.selection = Some(index.selection.clone());

    // The events' proofs are read now, for the CloudTrail archives' sake: of their log files' records, only those
    // of the bundle's events are kept (section 11.2). A proofs.jsonl that cannot be read fails in step 6, as it
    // would without CloudTrail archives.
    let proofs_read = zip.read_declared(
        super::PROOFS,
        Some(size_of(super::PROOFS)),
        super::MAX_PROOFS_BYTES,
    );
    let proof_places = proofs_read
        .as_deref()
        .map(|b| listed_events(b, index.events))
        .unwrap_or_default();

    // 5. Archives: the producers' checkpoints, unchanged, and their manifests.
    let mut archives: Vec<ArchiveCheck> = Vec::with_capacity(zip.archives);
    let mut producers = crate::trust::TrustPolicy::from_keys(opts.trusted_producers);
    if let Some(p) = opts.producer_policy {
        producers.extend(p.clone());
    }
    let mut first_use = crate::trust::FirstUse::new();
    let mut log_files = 0usize;
    for k in 1..=zip.archives {
        let a = if super::cloudtrail::is_cloudtrail_origin(&index.archives[k - 1].origin) {
            let keep = |i: u64| proof_places.contains(&(k as u64, i));
            check_cloudtrail_archive(&mut zip, k, &index, &size_of, &keep)?
        } else {
            check_archive(&mut zip, k, &index, &size_of)?
        };
        if let Some(prev) = archives.last()
            && (prev.origin.as_bytes(), prev.sequence) >= (a.origin.as_bytes(), a.sequence)
        {
            return Err(index_failure(format!(
                "archive {k} ({} sequence {}) is not after archive {} ({} sequence {}): archives are sorted by origin then sequence, each once",
                a.origin,
                a.sequence,
                k - 1,
                prev.origin,
                prev.sequence
            )));
        }
        let signer = match &a.proof {
            ArchiveProof::Signed(signed) => {
                let (manifest, signer) = signed.as_ref();
                let (normalizer, rules) = match named_rules
                    .get(k - 1)
                    .and_then(|named| super::report::older_rules(manifest, named))
                {
                    Some((version, text)) => (a.normalizer.clone().at_version(version), text),
                    None => (a.normalizer.clone(), super::report::rules_of(manifest)),
                };
                report.archive(manifest, signer, normalizer, rules);
                // Decided in step 6b, once the times of its events in the bundle are known.
                KeyStatus {
                    trusted: false,
                    trust_reason: Some(
                        "not decided: the bundle failed before its events were read".into(),
                    ),
                    ..KeyStatus::of(signer, &[])
                }
            }
            ArchiveProof::Aws(proof) => {
                log_files += proof.report.logs.len();
                if log_files > super::cloudtrail::MAX_LOG_FILES {
                    return Err(BundleFailure::new(
                        FailureKind::Container,
                        format!(
                            "the bundle carries more than {} CloudTrail log files",
                            super::cloudtrail::MAX_LOG_FILES
                        ),
                    ));
                }
                report.archive_cloudtrail(proof);
                let why = match opts.aws_keys {
                    Some(keys) => proof.untrusted(keys),
                    None => Some("no AWS keys were given (--aws-keys KEYS.json)".to_string()),
                };
                KeyStatus {
                    key: proof.signer.clone(),
                    name: super::cloudtrail::SIGNER_NAME.to_string(),
                    fingerprint: proof.fingerprints.join(", "),
                    trusted: why.is_none(),
                    trust_reason: Some(why.unwrap_or_else(|| {
                        "every digest is signed by an AWS key given with --aws-keys, valid at its time".into()
                    })),
                }
            }
        };
        let (received, cloudtrail_label) = match &a.proof {
            ArchiveProof::Signed(signed) => (signed.0.received.clone(), None),
            ArchiveProof::Aws(p) => (None, Some(p.report.label.clone())),
        };
        v.archives.push(VerifiedArchive {
            origin: a.origin.clone(),
            sequence: a.sequence,
            size: a.size,
            root: encode_hash(&a.root),
            events: index.archives[k - 1].events,
            signer,
            received,
            received_label: a.received_label.clone(),
            cloudtrail_label,
        });
        archives.push(a);
    }

    // 6. Events and proofs, line by line.
    drop(proof_places);
    let proofs_bytes = proofs_read?;
    let events = check_events(
        &mut zip,
        size_of(super::EVENTS),
        &proofs_bytes,
        &index,
        &mut archives,
        &mut report,
    )?;
    drop(proofs_bytes);

    // 6b. The producers' keys, in bundle order (first-use pinning as in step 5's order), each at its archive's
    // signed time and at the newest time among its events in the bundle: sealed after them (docs/trust-policy.md).
    for (k, a) in archives.iter().enumerate() {
        if let ArchiveProof::Signed(signed) = &a.proof {
            let (manifest, signer) = signed.as_ref();
            let sealed = crate::trust::Sealed::signed(manifest.trust_time())
                .with_newest_event(report.newest_event(k + 1));
            let decision = first_use.decide(&producers, &a.origin, signer, sealed);
            if let Some(v) = v.archives.get_mut(k) {
                v.signer = KeyStatus::decided(signer, decision);
            }
        }
    }

    // 7. Counts, and an `ids` selection against the events.
    for (k, a) in archives.iter().enumerate() {
        if a.seen != index.archives[k].events {
            return Err(BundleFailure::new(
                FailureKind::Count,
                format!(
                    "the bundle holds {} event(s) of archive {} ({} sequence {}), bundle.json says {}",
                    a.seen,
                    k + 1,
                    a.origin,
                    a.sequence,
                    index.archives[k].events
                ),
            ));
        }
    }
    if let Some(ids) = &index.selection.ids {
        let mut listed = HashSet::new();
        for id in ids {
            if !listed.insert(id.as_str()) {
                return Err(index_failure(format!("the selection lists {id:?} twice")));
            }
        }
        let held: HashSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
        if let Some(id) = ids.iter().find(|id| !held.contains(id.as_str())) {
            return Err(BundleFailure::new(
                FailureKind::Count,
                format!("the selection lists {id:?}, which the bundle does not hold"),
            )
            .event(id));
        }
        if let Some(e) = events.iter().find(|e| !listed.contains(e.id.as_str())) {
            return Err(BundleFailure::new(
                FailureKind::Count,
                format!(
                    "the bundle holds {:?}, which the selection does not list",
                    e.id
                ),
            )
            .event(&e.id));
        }
    }

    // 7b. The auditor's annotations, when the manifest lists them: only on events the bundle holds, with their
    // leaves.
    let annotations = if listed.contains(super::ANNOTATIONS) {
        let bytes = zip.read_declared(
            super::ANNOTATIONS,
            Some(size_of(super::ANNOTATIONS)),
            super::MAX_ANNOTATIONS_BYTES,
        )?;
        if crate::json::max_values(&bytes) > super::MAX_ANNOTATIONS_VALUES {
            return Err(annotations_failure(format!(
                "annotations.json holds more than {} values",
                super::MAX_ANNOTATIONS_VALUES
            )));
        }
        let doc: super::AnnotationsDoc = serde_json::from_slice(&bytes)
            .map_err(|e| annotations_failure(format!("annotations.json: {e}")))?;
        check_annotations(&doc, &events)?;
        Some(doc)
    } else {
        None
    };

    // 8. The reports are exactly those derived from the bundle's events, selection and signed metadata.
    let derived = report.finish();
    if let Some(d) = json_difference(&report_json(&derived), &report_bytes) {
        return Err(report_failure(super::REPORT_JSON, d, &derived));
    }
    drop(report_bytes);
    check_html(
        &mut zip,
        size_of(super::REPORT_HTML),
        size_of(super::EVENTS),
        &derived,
        annotations
            .as_ref()
            .map(|a| a.events.as_slice())
            .unwrap_or_default(),
    )?;
    v.events = events;
    v.annotations = annotations;

    // 9. Trust.
    v.status = BundleStatus::Verified;
    if let Some((k, a)) = v
        .archives
        .iter()
        .enumerate()
        .find(|(_, a)| !a.signer.trusted)
    {
        v.status = BundleStatus::Untrusted;
        v.failure = Some(
            BundleFailure::new(
                FailureKind::UntrustedProducer,
                format!(
                    "archive {} ({} sequence {}) is signed by the producer key {} ({}), which is not trusted for it: {} \
                     ({})",
                    k + 1,
                    a.origin,
                    a.sequence,
                    a.signer.key,
                    a.signer.fingerprint,
                    a.signer.trust_reason.as_deref().unwrap_or("not among the trusted keys"),
                    if a.cloudtrail_label.is_some() {
                        "pass --aws-keys KEYS.json with AWS's public keys"
                    } else {
                        "pass --trust KEY.pub or --trust-policy FILE"
                    }
                ),
            )
            .entry(&if a.cloudtrail_label.is_some() {
                super::cloudtrail::proof_entry(k + 1)
            } else {
                checkpoint_entry(k + 1)
            }),
        );
    } else if !opts.trusted_auditors.is_empty() && !opts.trusted_auditors.contains(&auditor) {
        v.status = BundleStatus::Untrusted;
        v.failure = Some(
            BundleFailure::new(
                FailureKind::UntrustedAuditor,
                format!(
                    "the bundle was exported by the auditor key {} ({}), which is not among the --trust-auditor keys",
                    auditor,
                    auditor.fingerprint()
                ),
            )
            .entry(super::MANIFEST),
        );
    }
    Ok(())
}

/// A report that is not the derived one: which file, what differs (the JSON path, or the page's line, section and
/// row), and the expected and found values.
fn report_failure(entry: &str, d: Difference, derived: &ExportReport) -> BundleFailure {
    let mut f = BundleFailure::new(
        FailureKind::Report,
        format!(
            "{entry} is not the report derived from the bundle's events, selection and signed metadata: {}",
            d.what
        ),
    )
    .entry(entry)
    .values(d.expected, d.found);
    // A figure of one event: name the event.
    let event = d
        .what
        .strip_prefix("events[")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(i, _)| i.parse::<usize>().ok())
        .or_else(|| {
            let rest = d.what.split_once("(event ")?.1;
            rest.split_once(')')?
                .0
                .parse::<usize>()
                .ok()?
                .checked_sub(1)
        })
        .or_else(|| {
            let rest = d.what.split_once(", event ")?.1;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<usize>().ok()?.checked_sub(1)
        })
        .and_then(|i| derived.events.get(i));
    if let Some(e) = event {
        f = f.event(&e.id);
    }
    f
}

/// Renders the page of the derived report into a comparison with the bundle's `report.html`, reading the
/// events' exact text once more from `events.jsonl` (streamed: memory stays bounded by one event and one line of
/// the page).
fn check_html(
    zip: &mut BundleZip,
    html_size: u64,
    events_size: u64,
    derived: &ExportReport,
    annotations: &[crate::papers::EventAnnotations],
) -> Result<(), BundleFailure> {
    let read_failure = |name: &str, e: &dyn std::fmt::Display| {
        BundleFailure::new(FailureKind::Container, format!("reading {name:?}: {e}")).entry(name)
    };
    let mut events_zip = zip.zip.clone();
    let events = events_zip
        .by_name(super::EVENTS)
        .map_err(|e| read_failure(super::EVENTS, &e))?;
    let mut events = BufReader::with_capacity(1 << 16, events.take(events_size));
    let page = zip
        .zip
        .by_name(super::REPORT_HTML)
        .map_err(|e| read_failure(super::REPORT_HTML, &e))?;
    let mut compare = HtmlCompare::new(BufReader::with_capacity(
        1 << 16,
        page.take(html_size.saturating_add(1)),
    ));
    let mut next = 0usize;
    let mut raw = |i: usize| -> io::Result<String> {
        if i != next {
            return Err(io::Error::other("events are rendered in order"));
        }
        next += 1;
        let mut line = Vec::new();
        (&mut events)
            .take(super::MAX_EVENT_LINE_BYTES + 2)
            .read_until(b'\n', &mut line)?;
        if line.pop() != Some(b'\n') {
            return Err(io::Error::other("events.jsonl ended early"));
        }
        String::from_utf8(line).map_err(io::Error::other)
    };
    let rendered = super::html::render(derived, annotations, &mut compare, &mut raw);
    match compare.finish() {
        Ok(Some(d)) => Err(report_failure(super::REPORT_HTML, d, derived)),
        Ok(None) => rendered.map_err(|e| read_failure(super::EVENTS, &e)),
        Err(e) => Err(read_failure(super::REPORT_HTML, &e)),
    }
}

fn annotations_failure(message: String) -> BundleFailure {
    BundleFailure::new(FailureKind::Annotations, message).entry(super::ANNOTATIONS)
}

/// `annotations.json` as the format says (docs/evidence-bundle.md section 9): its fixed format, version and
/// statement; each annotated event once, in the order of `events.jsonl`, one the bundle holds with that leaf; tags
/// and notes as the working papers keep them; something on each event.
fn check_annotations(
    doc: &super::AnnotationsDoc,
    events: &[VerifiedEvent],
) -> Result<(), BundleFailure> {
    if doc.format != super::ANNOTATIONS_FORMAT || doc.version != 1 {
        return Err(annotations_failure(format!(
            "annotations.json is {:?} version {}; expected {:?} version 1",
            doc.format,
            doc.version,
            super::ANNOTATIONS_FORMAT
        )));
    }
    if doc.statement != super::ANNOTATIONS_STATEMENT {
        return Err(annotations_failure(
            "annotations.json does not carry the statement that marks them as the auditor's, not evidence".into(),
        ));
    }
    if let Some(h) = &doc.action_log
        && (h.entries == 0
            || h.head.len() != 64
            || !h
                .head
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    {
        return Err(annotations_failure(
            "annotations.json: the action log head is not an entry count and a SHA-256 in lowercase hex".into(),
        ));
    }
    if doc.events.is_empty() {
        return Err(annotations_failure(
            "annotations.json annotates no event".into(),
        ));
    }
    let position: HashMap<&str, (usize, &VerifiedEvent)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.as_str(), (i, e)))
        .collect();
    let mut last = None;
    for a in &doc.events {
        let fail = |why: String| annotations_failure(why).event(&a.event);
        let Some(&(i, e)) = position.get(a.event.as_str()) else {
            return Err(fail(format!(
                "annotations.json annotates {:?}, which the bundle does not hold",
                a.event
            )));
        };
        if last.is_some_and(|l| l >= i) {
            return Err(fail(
                "annotations.json lists its events twice or out of the order of events.jsonl"
                    .into(),
            ));
        }
        last = Some(i);
        let leaf = decode_hash(&e.leaf)
            .map(|h| merkle::to_hex(&h))
            .unwrap_or_default();
        if a.leaf != leaf {
            return Err(fail(format!(
                "annotations.json annotates {:?} with another leaf than the event the bundle holds",
                a.event
            ))
            .values(leaf, a.leaf.clone()));
        }
        let mut seen = HashSet::new();
        for t in &a.tags {
            if crate::papers::checked_tag(t).ok().as_deref() != Some(t.as_str())
                || !seen.insert(t.to_ascii_lowercase())
            {
                return Err(fail(format!(
                    "annotations.json: {:?} is not a tag as working papers keep them (or is repeated)",
                    t
                )));
            }
        }
        if let Some(note) = &a.note {
            let n = note.chars().count();
            if note.trim() != note
                || n == 0
                || n > crate::papers::MAX_NOTE_CHARS
                || note
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\t')
            {
                return Err(fail("annotations.json: a note is empty, too long, not trimmed or holds control characters".into()));
            }
        }
        if a.tags.is_empty() && a.note.is_none() && !a.bookmarked {
            return Err(fail(
                "annotations.json lists an event without any annotation".into(),
            ));
        }
    }
    Ok(())
}

fn index_failure(message: String) -> BundleFailure {
    BundleFailure::new(FailureKind::Index, message).entry(INDEX)
}

fn check_index(
    index: &BundleIndex,
    manifest: &BundleManifest,
    zip_archives: usize,
) -> Result<(), BundleFailure> {
    let bad = |m: String| Err(index_failure(m));
    if index.format != super::FORMAT_NAME {
        return bad(format!(
            "format is {:?}, expected {:?}",
            index.format,
            super::FORMAT_NAME
        ));
    }
    if index.version != super::FORMAT_VERSION {
        return bad(format!("unknown format version {}", index.version));
    }
    if index.auditor != manifest.auditor {
        return bad(format!(
            "auditor {:?} differs from the manifest's {:?}",
            index.auditor, manifest.auditor
        ));
    }
    if index.purpose.trim().is_empty() {
        return bad("the purpose is empty".into());
    }
    match (&index.selection.query, &index.selection.ids) {
        (Some(_), None) | (None, Some(_)) => {}
        _ => return bad("the selection must have exactly one of query and ids".into()),
    }
    if index.events == 0 || index.events > super::MAX_EVENTS {
        return bad(format!(
            "events is {}; a bundle holds 1 to {} events",
            index.events,
            super::MAX_EVENTS
        ));
    }
    if index.archives.len() != zip_archives {
        return bad(format!(
            "bundle.json describes {} archive(s), the bundle holds {}",
            index.archives.len(),
            zip_archives
        ));
    }
    if index.archives.iter().any(|a| a.events == 0) {
        return bad("an archive contributes no event".into());
    }
    let sum = index
        .archives
        .iter()
        .try_fold(0u64, |acc, a| acc.checked_add(a.events));
    if sum != Some(index.events) {
        return bad(format!(
            "the archives' events add up to {sum:?}, bundle.json says {}",
            index.events
        ));
    }
    Ok(())
}

/// What the events pass needs of one archive.
struct ArchiveCheck {
    origin: String,
    sequence: u64,
    size: u64,
    /// The signed root (for a CloudTrail archive, `bundle.json`'s: the auditor's statement).
    root: Hash,
    proof: ArchiveProof,
    /// The archive's signed rules (kind and mapping file), for the reports' normalized fields.
    normalizer: Normalizer,
    /// Events of this archive seen so far.
    seen: u64,
    /// The label of an archive sealed on receipt, for its events.
    received_label: Option<String>,
}

/// What vouches for an archive's events.
enum ArchiveProof {
    /// A checkpoint signed by the producer key the signed manifest names.
    Signed(Box<(Manifest, VerifierKey)>),
    /// AWS's signed digests and the whole log files (docs/evidence-bundle.md section 11).
    Aws(Box<super::cloudtrail::CheckedProof>),
}

fn check_archive(
    zip: &mut BundleZip,
    k: usize,
    index: &BundleIndex,
    size_of: &dyn Fn(&str) -> u64,
) -> Result<ArchiveCheck, BundleFailure> {
    let cp_name = checkpoint_entry(k);
    let m_name = archive_manifest_entry(k);
    let cp_fail =
        |name: &str, m: String| BundleFailure::new(FailureKind::Checkpoint, m).entry(name);
    let note_bytes = zip.read_declared(
        &cp_name,
        Some(size_of(&cp_name)),
        super::MAX_CHECKPOINT_BYTES,
    )?;
    let note = Note::parse(&note_bytes)
        .map_err(|e| cp_fail(&cp_name, format!("not a valid signed note: {e}")))?;
    let cp = Checkpoint::parse(&note.text)
        .map_err(|e| cp_fail(&cp_name, format!("checkpoint body: {e}")))?;
    let chain = ChainLines::from_checkpoint(&cp).map_err(|e| cp_fail(&cp_name, e.to_string()))?;
    let manifest_bytes = zip.read_declared(
        &m_name,
        Some(size_of(&m_name)),
        super::MAX_ARCHIVE_MANIFEST_BYTES,
    )?;
    let m: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| cp_fail(&m_name, format!("archive manifest: {e}")))?;
    let hash: Hash = Sha256::digest(&manifest_bytes).into();
    if hash != chain.manifest_sha256 {
        return Err(cp_fail(
            &m_name,
            format!("this manifest.json is not the one {cp_name} signs"),
        )
        .values(encode_hash(&chain.manifest_sha256), encode_hash(&hash)));
    }
    let bad = |why: String| Err(cp_fail(&m_name, why));
    if m.format != crate::archive::FORMAT_NAME {
        return bad(format!("archive manifest format is {:?}", m.format));
    }
    if m.version != crate::archive::FORMAT_VERSION {
        return bad(format!("unknown archive format version {}", m.version));
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
    let sum = m
        .entries
        .iter()
        .try_fold(0u64, |acc, e| acc.checked_add(e.events));
    if m.events == 0 || m.events != cp.size || sum != Some(m.events) {
        return bad(format!(
            "event counts disagree: entries sum to {sum:?}, manifest says {}, checkpoint says {}",
            m.events, cp.size
        ));
    }
    if let Some(r) = &m.received {
        r.check(&m.entries)
            .map_err(|why| cp_fail(&m_name, format!("archive manifest received: {why}")))?;
    }
    if chain.sequence == 1 && chain.chain_start != [0u8; 32] {
        return Err(cp_fail(
            &cp_name,
            "sequence 1 must start from the zero chain value".into(),
        ));
    }
    let signer = VerifierKey::parse(&m.signer)
        .map_err(|e| cp_fail(&m_name, format!("archive manifest signer key: {e}")))?;
    note.verify(&signer).map_err(|e| {
        BundleFailure::new(
            FailureKind::ProducerSignature,
            format!(
                "checkpoint signature by the producer key {}: {e}",
                signer.name()
            ),
        )
        .entry(&cp_name)
    })?;
    // The mapping file of a `mapping` archive travels with it: the one the signed manifest names.
    let map_name = archive_mapping_entry(k);
    let carried = zip.names.contains(&map_name);
    let mapping = match (&m.mapping_sha256, kind == SourceKind::Mapping) {
        (Some(expected), true) => {
            if !carried {
                return Err(BundleFailure::new(
                    FailureKind::Container,
                    format!("missing entry {map_name:?} (archive {k} is of source kind mapping)"),
                )
                .entry(&map_name));
            }
            let expected = decode_hash(expected)
                .map_err(|e| cp_fail(&m_name, format!("mapping_sha256: {e}")))?;
            let bytes = zip.read_declared(
                &map_name,
                Some(size_of(&map_name)),
                crate::archive::MAX_MAPPING_BYTES,
            )?;
            let hash: Hash = Sha256::digest(&bytes).into();
            if hash != expected {
                return Err(cp_fail(
                    &map_name,
                    format!("this mapping file is not the one {m_name} names"),
                )
                .values(encode_hash(&expected), encode_hash(&hash)));
            }
            Some(bytes)
        }
        (None, false) if carried => {
            return Err(BundleFailure::new(
                FailureKind::Container,
                format!(
                    "entry {map_name:?} is only allowed for an archive of source kind mapping, not {:?}",
                    m.source_kind
                ),
            )
            .entry(&map_name));
        }
        (None, false) => None,
        _ => {
            return bad(
                "mapping_sha256 must be present exactly when source_kind is \"mapping\"".into(),
            );
        }
    };
    let normalizer = Normalizer::new(kind, mapping.as_deref())
        .map_err(|e| cp_fail(&map_name, format!("mapping file: {e}")))?;
    let described = &index.archives[k - 1];
    let root = encode_hash(&cp.root);
    let disagree = [
        ("origin", described.origin != cp.origin),
        ("sequence", described.sequence != chain.sequence),
        ("size", described.size != cp.size),
        ("root", described.root != root),
        ("signer", described.signer != m.signer),
    ];
    if let Some((what, _)) = disagree.iter().find(|(_, differs)| *differs) {
        return Err(index_failure(format!(
            "archives[{}].{what} disagrees with {cp_name} and {m_name}",
            k - 1
        )));
    }
    let received_label = m
        .received
        .as_ref()
        .map(|r| r.label(signer.name(), &signer.fingerprint()));
    no_parts_of(zip, k, "a checkpoint archive", |p| {
        matches!(
            p,
            ArchivePart::CloudTrailProof
                | ArchivePart::AwsKeys
                | ArchivePart::Digest(_)
                | ArchivePart::Log(_)
        )
    })?;
    Ok(ArchiveCheck {
        received_label,
        origin: cp.origin,
        sequence: chain.sequence,
        size: cp.size,
        root: cp.root,
        proof: ArchiveProof::Signed(Box::new((m, signer))),
        normalizer,
        seen: 0,
    })
}

/// Fails when archive `k` has an entry of a part `unwanted` accepts (a part of the other kind of archive).
fn no_parts_of(
    zip: &BundleZip,
    k: usize,
    what: &str,
    unwanted: impl Fn(ArchivePart) -> bool,
) -> Result<(), BundleFailure> {
    match zip
        .names
        .iter()
        .find(|n| archive_entry(n).is_some_and(|(j, p)| j == k && unwanted(p)))
    {
        Some(name) => Err(BundleFailure::new(
            FailureKind::Container,
            format!("entry {name:?} is not allowed in archive {k}, {what}"),
        )
        .entry(name)),
        None => Ok(()),
    }
}

/// Archive `k`, an AWS CloudTrail archive (docs/evidence-bundle.md section 11): its proof, checked as the
/// exporter checked it, and `bundle.json`'s element against it.
fn check_cloudtrail_archive(
    zip: &mut BundleZip,
    k: usize,
    index: &BundleIndex,
    size_of: &dyn Fn(&str) -> u64,
    keep: &dyn Fn(u64) -> bool,
) -> Result<ArchiveCheck, BundleFailure> {
    use super::cloudtrail::{self as ct, CheckError, FaultKind};
    no_parts_of(zip, k, "an AWS CloudTrail archive", |p| {
        matches!(
            p,
            ArchivePart::Checkpoint | ArchivePart::Manifest | ArchivePart::Mapping
        )
    })?;
    let described = &index.archives[k - 1];
    let proof = match ct::check_proof(
        k,
        &described.origin,
        described.size,
        keep,
        &mut |name, limit| {
            if !zip.names.contains(name) {
                return Err(BundleFailure::new(
                    FailureKind::Container,
                    format!("missing entry {name:?}"),
                )
                .entry(name));
            }
            zip.read_declared(name, Some(size_of(name)), limit)
        },
    ) {
        Ok(p) => p,
        Err(CheckError::Read(f)) => return Err(f),
        Err(CheckError::Fault(f)) => {
            let kind = match f.kind {
                FaultKind::Container => FailureKind::Container,
                FaultKind::Proof => FailureKind::Checkpoint,
                FaultKind::Signature => FailureKind::ProducerSignature,
            };
            let mut failure = BundleFailure::new(kind, f.message).entry(&f.entry);
            if let Some((expected, found)) = f.values {
                failure = failure.values(expected, found);
            }
            return Err(failure);
        }
    };
    // Exactly the numbered files cloudtrail.json lists.
    let (digests, logs) = zip
        .names
        .iter()
        .fold((0, 0), |(d, l), n| match archive_entry(n) {
            Some((j, ArchivePart::Digest(_))) if j == k => (d + 1, l),
            Some((j, ArchivePart::Log(_))) if j == k => (d, l + 1),
            _ => (d, l),
        });
    if (digests, logs) != (proof.report.digests.len(), proof.report.logs.len()) {
        return Err(BundleFailure::new(
            FailureKind::Container,
            format!(
                "archive {k} holds {digests} digest and {logs} log file entries; its cloudtrail.json lists {} and {}",
                proof.report.digests.len(),
                proof.report.logs.len()
            ),
        )
        .entry(&ct::proof_entry(k)));
    }
    let root = decode_hash(&described.root)
        .map_err(|e| index_failure(format!("archives[{}].root: {e}", k - 1)))?;
    if described.sequence == 0 {
        return Err(index_failure(format!(
            "archives[{}].sequence must be at least 1",
            k - 1
        )));
    }
    if described.signer != proof.signer {
        return Err(index_failure(format!(
            "archives[{}].signer disagrees with the fingerprints of its digests",
            k - 1
        ))
        .values(proof.signer.clone(), described.signer.clone()));
    }
    Ok(ArchiveCheck {
        origin: described.origin.clone(),
        sequence: described.sequence,
        size: described.size,
        root,
        proof: ArchiveProof::Aws(Box::new(proof)),
        normalizer: Normalizer::builtin(SourceKind::Cloudtrail),
        seen: 0,
        received_label: None,
    })
}

/// The (archive, index) of each line of proofs.jsonl that reads as a proof line, at most `events` + 1 of them
/// (more is a failure of step 6, which reads every line again and says what is wrong with any).
fn listed_events(proofs: &[u8], events: u64) -> HashSet<(u64, u64)> {
    #[derive(serde::Deserialize)]
    struct Place {
        archive: u64,
        index: u64,
    }
    proofs
        .split(|b| *b == b'\n')
        .take(
            usize::try_from(events)
                .unwrap_or(usize::MAX)
                .saturating_add(1),
        )
        .filter(|l| l.len() as u64 <= super::MAX_PROOF_LINE_BYTES)
        .filter_map(|l| serde_json::from_slice::<Place>(l).ok())
        .map(|p| (p.archive, p.index))
        .collect()
}

fn check_events(
    zip: &mut BundleZip,
    events_size: u64,
    proofs: &[u8],
    index: &BundleIndex,
    archives: &mut [ArchiveCheck],
    report: &mut ReportBuilder,
) -> Result<Vec<VerifiedEvent>, BundleFailure> {
    let entry = zip.zip.by_name(super::EVENTS).map_err(|e| {
        BundleFailure::new(FailureKind::Container, e.to_string()).entry(super::EVENTS)
    })?;
    let mut reader = BufReader::with_capacity(1 << 16, entry.take(events_size.saturating_add(1)));
    let mut proof_lines = proofs.split_inclusive(|b| *b == b'\n');
    let mut out: Vec<VerifiedEvent> = Vec::new();
    let mut prev: Option<(u64, u64)> = None;
    let mut line = Vec::new();
    for n in 1u64.. {
        line.clear();
        let got = (&mut reader)
            .take(super::MAX_EVENT_LINE_BYTES + 2)
            .read_until(b'\n', &mut line)
            .map_err(|e| {
                BundleFailure::new(FailureKind::Container, format!("reading events.jsonl: {e}"))
                    .entry(super::EVENTS)
            })?;
        let proof = proof_lines.next();
        match (got, proof) {
            (0, None) => break,
            (0, Some(_)) => {
                return Err(BundleFailure::new(
                    FailureKind::Count,
                    format!("proofs.jsonl has more lines than events.jsonl ({})", n - 1),
                )
                .entry(super::PROOFS)
                .line(n));
            }
            (_, None) => {
                return Err(BundleFailure::new(
                    FailureKind::Count,
                    format!("events.jsonl has more lines than proofs.jsonl ({})", n - 1),
                )
                .entry(super::EVENTS)
                .line(n));
            }
            _ => {}
        }
        if n > index.events {
            return Err(BundleFailure::new(
                FailureKind::Count,
                format!(
                    "the bundle holds more than the {} events bundle.json declares",
                    index.events
                ),
            )
            .entry(super::EVENTS)
            .line(n));
        }
        let event = event_bytes(&line).map_err(|why| {
            BundleFailure::new(FailureKind::Event, why)
                .entry(super::EVENTS)
                .line(n)
        })?;
        let proof = proof.unwrap_or_default();
        let proof_fail = |m: String| {
            BundleFailure::new(FailureKind::Proof, m)
                .entry(super::PROOFS)
                .line(n)
        };
        let proof_text = proof
            .strip_suffix(b"\n")
            .ok_or_else(|| proof_fail("the last line does not end with a newline".into()))?;
        if proof_text.len() as u64 > super::MAX_PROOF_LINE_BYTES {
            return Err(proof_fail(format!(
                "longer than {} bytes",
                super::MAX_PROOF_LINE_BYTES
            )));
        }
        let p: ProofLine = serde_json::from_slice(proof_text)
            .map_err(|e| proof_fail(format!("not a proof line: {e}")))?;
        let claimed =
            decode_hash(&p.leaf).map_err(|e| proof_fail(format!("leaf: {e}")).event(&p.id))?;
        let leaf = merkle::leaf_hash(event);
        if leaf != claimed {
            return Err(BundleFailure::new(
                FailureKind::Leaf,
                format!(
                    "event {n} of events.jsonl does not hash to the leaf of its proof: its bytes are not the ones the proof covers"
                ),
            )
            .entry(super::EVENTS)
            .line(n)
            .event(&p.id)
            .values(p.leaf.clone(), encode_hash(&leaf)));
        }
        let k = usize::try_from(p.archive)
            .ok()
            .filter(|k| (1..=archives.len()).contains(k))
            .ok_or_else(|| {
                proof_fail(format!(
                    "archive {} is not an archive of the bundle",
                    p.archive
                ))
                .event(&p.id)
            })?;
        let a = &mut archives[k - 1];
        if p.index >= a.size {
            return Err(proof_fail(format!(
                "index {} is outside archive {k}, which holds {} events",
                p.index, a.size
            ))
            .event(&p.id));
        }
        let id = event_id(&a.origin, a.sequence, p.index);
        if p.id != id {
            return Err(proof_fail(format!("the id must be {id:?}"))
                .event(&p.id)
                .values(id.clone(), p.id.clone()));
        }
        if prev.is_some_and(|prev| prev >= (p.archive, p.index)) {
            return Err(proof_fail(
                "this event is not after the previous one: events are sorted by archive then index, each once"
                    .into(),
            )
            .event(&p.id));
        }
        prev = Some((p.archive, p.index));
        if let ArchiveProof::Aws(proof) = &a.proof {
            // AWS's proof: the event is exactly a record of a log file whose SHA-256 a signed digest lists.
            if !p.path.is_empty() {
                return Err(proof_fail(
                    "an event of an AWS CloudTrail archive has an empty path: its proof is its log file".into(),
                )
                .event(&p.id));
            }
            let Some((j, record, record_leaf)) = proof.leaf_at(p.index) else {
                return Err(proof_fail(format!(
                    "index {} is in none of archive {k}'s log files",
                    p.index
                ))
                .event(&p.id));
            };
            if record_leaf != leaf {
                return Err(BundleFailure::new(
                    FailureKind::Event,
                    format!(
                        "event {n} of events.jsonl is not record {record} of log file {} ({}), which holds index {}",
                        j + 1,
                        proof.report.logs[j].object,
                        p.index
                    ),
                )
                .entry(super::EVENTS)
                .line(n)
                .event(&p.id)
                .values(encode_hash(&record_leaf), encode_hash(&leaf)));
            }
            a.seen += 1;
            report.event(k, p.index, &leaf, 0, event);
            out.push(VerifiedEvent {
                id,
                origin: a.origin.clone(),
                sequence: a.sequence,
                index: p.index,
                leaf: encode_hash(&leaf),
                received_label: None,
                cloudtrail_label: Some(proof.report.label.clone()),
            });
            continue;
        }
        let path = p
            .path
            .iter()
            .map(|h| decode_hash(h))
            .collect::<Result<Vec<Hash>, _>>()
            .map_err(|e| proof_fail(format!("path: {e}")).event(&p.id))?;
        match merkle::root_from_inclusion_proof(&leaf, p.index, a.size, &path) {
            Ok(root) if root == a.root => {}
            Ok(root) => {
                return Err(proof_fail(format!(
                    "the inclusion proof does not lead to the signed root of archive {k}"
                ))
                .event(&p.id)
                .values(encode_hash(&a.root), encode_hash(&root)));
            }
            Err(e) => {
                return Err(
                    proof_fail(format!("the inclusion proof is malformed: {e}")).event(&p.id)
                );
            }
        }
        a.seen += 1;
        report.event(k, p.index, &leaf, path.len() as u64, event);
        out.push(VerifiedEvent {
            id,
            origin: a.origin.clone(),
            sequence: a.sequence,
            index: p.index,
            leaf: encode_hash(&leaf),
            received_label: a.received_label.clone(),
            cloudtrail_label: None,
        });
    }
    if out.len() as u64 != index.events {
        return Err(BundleFailure::new(
            FailureKind::Count,
            format!(
                "the bundle holds {} event(s), bundle.json says {}",
                out.len(),
                index.events
            ),
        )
        .entry(super::EVENTS));
    }
    Ok(out)
}

/// The byte rules of an event line (section 5); `line` includes its `\n`.
fn event_bytes(line: &[u8]) -> Result<&[u8], String> {
    let Some(event) = line.strip_suffix(b"\n") else {
        return Err(if line.len() as u64 > super::MAX_EVENT_LINE_BYTES {
            format!("line longer than {} bytes", super::MAX_EVENT_LINE_BYTES)
        } else {
            "the last line does not end with a newline".into()
        });
    };
    if event.len() as u64 > super::MAX_EVENT_LINE_BYTES {
        return Err(format!(
            "line longer than {} bytes",
            super::MAX_EVENT_LINE_BYTES
        ));
    }
    if event.is_empty() {
        return Err("empty line".into());
    }
    if event.ends_with(b"\r") {
        return Err("line ends with a carriage return".into());
    }
    if std::str::from_utf8(event).is_err() {
        return Err("line is not valid UTF-8".into());
    }
    if event.first() != Some(&b'{') || event.last() != Some(&b'}') {
        return Err("line is not one JSON object (must begin with { and end with })".into());
    }
    Ok(event)
}

/// The bundle's file, shared by several readers that each keep their own position (one ZIP entry can then be read
/// while another is: the events' text while the page is compared).
#[derive(Clone)]
struct SharedFile {
    file: Arc<Mutex<File>>,
    pos: u64,
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut file = self
            .file
            .lock()
            .map_err(|_| io::Error::other("the bundle file is unusable"))?;
        file.seek(SeekFrom::Start(self.pos))?;
        let n = file.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let invalid = || io::Error::new(io::ErrorKind::InvalidInput, "seek before the start");
        self.pos = match to {
            SeekFrom::Start(n) => n,
            SeekFrom::Current(d) => self.pos.checked_add_signed(d).ok_or_else(invalid)?,
            SeekFrom::End(d) => self
                .file
                .lock()
                .map_err(|_| io::Error::other("the bundle file is unusable"))?
                .seek(SeekFrom::End(d))?,
        };
        Ok(self.pos)
    }
}

/// The bundle's ZIP, its structure checked.
struct BundleZip {
    zip: zip::ZipArchive<SharedFile>,
    names: BTreeSet<String>,
    /// Number of archives (`archives/000001/` .. `archives/NNNNNN/`).
    archives: usize,
}

impl BundleZip {
    fn open(file: File) -> Result<BundleZip, BundleFailure> {
        let container = |m: String| BundleFailure::new(FailureKind::Container, m);
        let shared = Arc::new(Mutex::new(file));
        let file = SharedFile {
            file: shared.clone(),
            pos: 0,
        };
        let mut zip = zip::ZipArchive::new(file)
            .map_err(|e| container(format!("not a readable ZIP archive: {e}")))?;
        if zip.has_duplicate_names() {
            // The zip crate keeps one record per name: the name is read from the central directory's records.
            let start = zip.central_directory_start();
            let dup = {
                let mut file = shared.lock().unwrap_or_else(|e| e.into_inner());
                crate::archive::duplicate_name(&mut file, start)
                    .map(|raw| String::from_utf8_lossy(&raw).into_owned())
                    .unwrap_or_default()
            };
            // When it cannot be read, say so without a name.
            return Err(if dup.is_empty() {
                container("an entry name appears more than once".into())
            } else {
                container(format!("entry {dup:?} appears more than once")).entry(&dup)
            });
        }
        let mut names = BTreeSet::new();
        let mut numbers: BTreeSet<(usize, ArchivePart)> = BTreeSet::new();
        for i in 0..zip.len() {
            let entry = zip
                .by_index_raw(i)
                .map_err(|e| container(format!("not a readable ZIP archive: {e}")))?;
            let name = std::str::from_utf8(entry.name_raw())
                .map_err(|_| {
                    container(format!(
                        "entry name {:?} is not UTF-8",
                        String::from_utf8_lossy(entry.name_raw())
                    ))
                })?
                .to_string();
            if let Some(why) = bad_name(&name) {
                return Err(
                    container(format!("entry {name:?} is not allowed ({why})")).entry(&name)
                );
            }
            if entry_limit(&name).is_none() {
                return Err(
                    container(format!("entry {name:?} is not an entry of the format")).entry(&name),
                );
            }
            if entry.encrypted() {
                return Err(container(format!("entry {name:?} is encrypted")).entry(&name));
            }
            match entry.compression() {
                zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated => {}
                other => {
                    return Err(container(format!(
                        "entry {name:?} uses compression method {other}, only stored and deflate are allowed"
                    ))
                    .entry(&name));
                }
            }
            if let Some((k, part)) = archive_entry(&name) {
                numbers.insert((k, part));
            }
            names.insert(name);
        }
        for required in [
            super::MANIFEST,
            INDEX,
            super::EVENTS,
            super::PROOFS,
            super::REPORT_JSON,
            super::REPORT_HTML,
        ] {
            if !names.contains(required) {
                return Err(container(format!("missing entry {required:?}")).entry(required));
            }
        }
        let archives = numbers.last().map(|(k, _)| *k).unwrap_or(0);
        if archives == 0 {
            return Err(container("the bundle holds no archive".into()));
        }
        if archives > super::MAX_ARCHIVES {
            return Err(container(format!(
                "the bundle holds {archives} archives; at most {} are allowed",
                super::MAX_ARCHIVES
            )));
        }
        for k in 1..=archives {
            // A checkpoint archive, or an AWS CloudTrail archive (section 11): which one is checked with
            // bundle.json.
            let aws = numbers.contains(&(k, ArchivePart::CloudTrailProof));
            let required = if aws {
                [
                    super::cloudtrail::proof_entry(k),
                    super::cloudtrail::keys_entry(k),
                ]
            } else {
                [checkpoint_entry(k), archive_manifest_entry(k)]
            };
            for name in required {
                if !names.contains(&name) {
                    return Err(container(format!("missing entry {name:?}")).entry(&name));
                }
            }
        }
        if zip
            .has_overlapping_entries()
            .map_err(|e| container(format!("not a readable ZIP archive: {e}")))?
        {
            return Err(container("entries overlap each other".into()));
        }
        // Nothing in the file but its entries, directory and end records (section 3): no second archive appended
        // for another reader, no entry outside the directory for a reader that walks the local headers.
        let headers = shared.lock().unwrap_or_else(|e| e.into_inner()).try_clone();
        let mut headers =
            headers.map_err(|e| container(format!("not a readable ZIP archive: {e}")))?;
        if let Some((why, fault)) = crate::archive::zip_layout_problem(&mut headers, &mut zip) {
            let name = fault.entry.and_then(|i| {
                zip.name_for_index(i)
                    .and_then(|n| n.ok())
                    .map(|n| n.into_owned())
            });
            return Err(match name {
                Some(name) => container(format!("entry {name:?}: {why}")).entry(&name),
                None => container(why),
            });
        }
        Ok(BundleZip {
            zip,
            names,
            archives,
        })
    }

    /// Reads a whole entry: exactly `declared` bytes when the manifest declares a size, else at most `limit`.
    fn read_declared(
        &mut self,
        name: &str,
        declared: Option<u64>,
        limit: u64,
    ) -> Result<Vec<u8>, BundleFailure> {
        let entry = self.zip.by_name(name).map_err(|e| {
            BundleFailure::new(FailureKind::Container, format!("reading {name:?}: {e}")).entry(name)
        })?;
        let cap = declared.unwrap_or(limit).min(limit);
        if declared.is_none() && entry.size() > limit {
            return Err(BundleFailure::new(
                FailureKind::Container,
                format!("entry {name:?} is larger than {limit} bytes"),
            )
            .entry(name));
        }
        let mut out = Vec::with_capacity(cap.min(1 << 20) as usize);
        entry
            .take(cap.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| {
                BundleFailure::new(FailureKind::Container, format!("reading {name:?}: {e}"))
                    .entry(name)
            })?;
        let too_big = out.len() as u64 > cap;
        let wrong = declared.is_some_and(|d| out.len() as u64 != d);
        if too_big || wrong {
            return Err(BundleFailure::new(
                FailureKind::Entries,
                format!("entry {name:?} does not hold the size the manifest declares (or exceeds {limit} bytes)"),
            )
            .entry(name));
        }
        Ok(out)
    }

    /// Streams one listed entry through SHA-256, reading at most one byte past its declared size.
    fn check_hash(&mut self, line: &ManifestLine) -> Result<(), BundleFailure> {
        let name = line.name.as_str();
        let limit = entry_limit(name).unwrap_or(0);
        if line.size > limit {
            return Err(BundleFailure::new(
                FailureKind::Entries,
                format!(
                    "the manifest declares {} bytes for {name:?}, above its limit of {limit}",
                    line.size
                ),
            )
            .entry(name));
        }
        let entry = self.zip.by_name(name).map_err(|e| {
            BundleFailure::new(FailureKind::Container, format!("reading {name:?}: {e}")).entry(name)
        })?;
        let mut hasher = HashWriter(Sha256::new());
        let read =
            io::copy(&mut entry.take(line.size.saturating_add(1)), &mut hasher).map_err(|e| {
                BundleFailure::new(FailureKind::Container, format!("reading {name:?}: {e}"))
                    .entry(name)
            })?;
        if read != line.size {
            return Err(BundleFailure::new(
                FailureKind::Entries,
                format!(
                    "entry {name:?} holds {}{} bytes, the manifest says {}",
                    if read > line.size { "more than " } else { "" },
                    read.min(line.size),
                    line.size
                ),
            )
            .entry(name));
        }
        let hash: Hash = hasher.0.finalize().into();
        if hash != line.sha256 {
            return Err(BundleFailure::new(
                FailureKind::Entries,
                format!(
                    "entry {name:?} differs from the one the auditor signed (SHA-256 mismatch)"
                ),
            )
            .entry(name)
            .values(encode_hash(&line.sha256), encode_hash(&hash)));
        }
        Ok(())
    }
}

struct HashWriter(Sha256);

impl io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The name rules of section 3, before the allow-list, so the message says what is wrong.
fn bad_name(name: &str) -> Option<&'static str> {
    if name.contains('\0') {
        Some("contains NUL")
    } else if name.contains('\\') {
        Some("contains a backslash")
    } else if name.starts_with('/') {
        Some("absolute path")
    } else if name.split('/').any(|part| part == "..") {
        Some("contains '..'")
    } else if name.len() >= 2 && name.as_bytes()[1] == b':' {
        Some("drive letter")
    } else if name.ends_with('/') {
        Some("directory entry")
    } else {
        None
    }
}

/// The `normalization` of each archive a report names, in order; empty when the bytes are not such a report (it
/// is then compared with the derived one, and that names the difference).
fn named_rules(report: &[u8]) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Named {
        normalization: String,
    }
    #[derive(serde::Deserialize)]
    struct Report {
        archives: Vec<Named>,
    }
    serde_json::from_slice::<Report>(report)
        .map(|r| r.archives.into_iter().map(|a| a.normalization).collect())
        .unwrap_or_default()
}
