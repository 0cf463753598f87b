//! `report.json`'s document (docs/evidence-bundle.md section 7), derived from the bundle alone: `bundle.json`
//! (the selection, purpose, export time, software, auditor key and, per archive, the import time), each archive's
//! signed `manifest.json` (source kind, sealing time, producer key) and mapping file, and the events with their
//! proofs. Nothing comes from the exporter's store that the bundle does not carry, so `auditlens export` and
//! `auditlens verify-bundle` both build the report with [`ReportBuilder`] and must obtain the same bytes; a
//! report that says anything else (a figure, a row, the purpose) is a verification failure, whoever signed it.
//!
//! The normalized fields of an event are those of its archive's signed rules: [`Normalizer::for_archive`] over
//! the archive's `source_kind` and mapping file, applied to the exact event bytes ([`event_fields`]).

use super::{
    BundleIndex, ExportChecks, ExportReport, IndexArchive, KeyInfo, ReportArchive, ReportEvent,
    ReportReceipt,
};
use crate::archive::{Manifest, TimeRange, encode_hash};
use crate::merkle::Hash;
use crate::note::VerifierKey;
use crate::sources::normalization::Normalization;
use crate::sources::{Normalized, Normalizer, SourceKind};

/// The normalized fields of one event under its archive's rules. Bytes that are not one JSON object have no
/// fields at all (every member null), whatever the kind.
pub fn event_fields(normalizer: &Normalizer, raw: &[u8]) -> Normalized {
    match crate::sources::read_event(raw) {
        Ok(event) => normalizer.normalize(&event),
        Err(_) => Normalized::default(),
    }
}

/// Whose rules the report applies to an archive's events, in words: those of its signed manifest, the
/// built-in mapper of its `source_kind` or its mapping file (by the `mapping_sha256` the manifest signs).
pub fn rules_of(manifest: &Manifest) -> String {
    let kind = manifest.source_kind.parse::<SourceKind>().ok();
    let rules = match (kind, &manifest.mapping_sha256) {
        (Some(SourceKind::Mapping), Some(sha)) => {
            Some(Normalization::producer_mapping(sha.clone()))
        }
        (Some(kind), _) => kind.mapper().map(|m| Normalization::builtin_named(kind, m)),
        (None, _) => None,
    };
    rules.map_or_else(
        || format!("source kind {}", manifest.source_kind),
        |r| r.text,
    )
}

/// The rules a bundle exported by an earlier AuditLens may name for an archive of a built-in kind: the same
/// mapper at an older version this AuditLens still has (docs/sources.md section 2), as its version and words.
/// `None` when `named` is not such a text.
pub fn older_rules(manifest: &Manifest, named: &str) -> Option<(u32, String)> {
    let kind = manifest.source_kind.parse::<SourceKind>().ok()?;
    kind.mapper()?;
    (1..crate::sources::times::CURRENT).find_map(|v| {
        let text = Normalization::builtin_named(kind, &format!("{kind}/{v}")).text;
        (text == named).then_some((v, text))
    })
}

/// Builds the report of one bundle: archives first, in bundle order, then events, in bundle order.
pub struct ReportBuilder {
    index: BundleIndex,
    auditor: KeyInfo,
    archives: Vec<ReportArchive>,
    normalizers: Vec<Normalizer>,
    /// Per archive, the newest time among its events in the bundle.
    newest: Vec<Option<i64>>,
    events: Vec<ReportEvent>,
    first: Option<i64>,
    last: Option<i64>,
}

impl ReportBuilder {
    pub fn new(index: &BundleIndex, auditor: &VerifierKey) -> ReportBuilder {
        ReportBuilder {
            index: index.clone(),
            // Key strings as bundle.json and the archive manifests write them (equal to the parsed keys').
            auditor: KeyInfo {
                key: index.auditor.clone(),
                ..KeyInfo::of(auditor)
            },
            archives: Vec::with_capacity(index.archives.len()),
            normalizers: Vec::with_capacity(index.archives.len()),
            newest: Vec::with_capacity(index.archives.len()),
            events: Vec::new(),
            first: None,
            last: None,
        }
    }

    /// The next archive (number `k` = archives so far + 1): its `bundle.json` element, its signed manifest and
    /// producer key, and the normalizer of its signed rules. Ignored past the archives `bundle.json` lists.
    /// `rules` is [`rules_of`] the manifest, or [`older_rules`] with `normalizer` at that version.
    pub fn archive(
        &mut self,
        manifest: &Manifest,
        signer: &VerifierKey,
        normalizer: Normalizer,
        rules: String,
    ) {
        let k = self.archives.len();
        let Some(a): Option<&IndexArchive> = self.index.archives.get(k) else {
            return;
        };
        let signer_info = KeyInfo::of(signer);
        // An archive sealed on receipt is labelled as such from its signed manifest: never just "verified".
        let received = manifest.received.as_ref().map(|r| ReportReceipt {
            label: r.label(&signer_info.name, &signer_info.fingerprint),
            at: r.at.clone(),
            files: r.files.clone(),
        });
        self.archives.push(ReportArchive {
            number: k as u64 + 1,
            origin: a.origin.clone(),
            sequence: a.sequence,
            size: a.size,
            root: a.root.clone(),
            source_kind: manifest.source_kind.clone(),
            normalization: rules,
            signer: KeyInfo {
                key: manifest.signer.clone(),
                ..signer_info
            },
            events: a.events,
            sealed: manifest.created.clone(),
            imported: a.imported.clone(),
            received,
            cloudtrail: None,
        });
        self.normalizers.push(normalizer);
        self.newest.push(None);
    }

    /// The next archive, an AWS CloudTrail archive (docs/evidence-bundle.md section 11): its checked proof names
    /// its signer, sealing time, digests and log files; its events follow the built-in CloudTrail mapper.
    pub fn archive_cloudtrail(&mut self, proof: &super::cloudtrail::CheckedProof) {
        let k = self.archives.len();
        let Some(a): Option<&IndexArchive> = self.index.archives.get(k) else {
            return;
        };
        let kind = SourceKind::Cloudtrail;
        let rules = kind.mapper().map_or_else(
            || format!("source kind {kind}"),
            |m| Normalization::builtin_named(kind, m).text,
        );
        self.archives.push(ReportArchive {
            number: k as u64 + 1,
            origin: a.origin.clone(),
            sequence: a.sequence,
            size: a.size,
            root: a.root.clone(),
            source_kind: kind.as_str().to_string(),
            normalization: rules,
            signer: KeyInfo {
                key: proof.signer.clone(),
                name: super::cloudtrail::SIGNER_NAME.to_string(),
                fingerprint: proof.fingerprints.join(", "),
            },
            events: a.events,
            sealed: proof.sealed.clone(),
            imported: a.imported.clone(),
            received: None,
            cloudtrail: Some(proof.report.clone()),
        });
        self.normalizers.push(Normalizer::builtin(kind));
        self.newest.push(None);
    }

    /// The newest time among archive `archive`'s events so far (numbered from 1), under the rules the report
    /// derives them by.
    pub fn newest_event(&self, archive: usize) -> Option<i64> {
        self.newest.get(archive.wrapping_sub(1)).copied().flatten()
    }

    /// The next event: from archive number `archive` (1-based, an archive already given), at `index`, with its
    /// leaf hash, the length of its inclusion proof and its exact bytes. Ignored for an unknown archive.
    pub fn event(
        &mut self,
        archive: usize,
        index: u64,
        leaf: &Hash,
        proof_length: u64,
        raw: &[u8],
    ) {
        let (Some(a), Some(normalizer)) = (
            self.archives.get(archive.wrapping_sub(1)),
            self.normalizers.get(archive.wrapping_sub(1)),
        ) else {
            return;
        };
        let n = event_fields(normalizer, raw);
        if let Some(ts) = n.ts {
            self.first = Some(self.first.map_or(ts, |f| f.min(ts)));
            self.last = Some(self.last.map_or(ts, |l| l.max(ts)));
            if let Some(newest) = self.newest.get_mut(archive - 1) {
                *newest = (*newest).max(Some(ts));
            }
        }
        self.events.push(ReportEvent {
            position: self.events.len() as u64 + 1,
            id: crate::store::event_id(&a.origin, a.sequence, index),
            origin: a.origin.clone(),
            sequence: a.sequence,
            index,
            leaf: encode_hash(leaf),
            proof_length,
            time: n.ts.map(crate::time::format_utc),
            source: Some(normalizer.source_name()),
            actor: n.actor,
            action: n.action,
            resource: n.resource,
            outcome: n.outcome,
            category: n.category,
            ip: n.ip,
            agent: n.agent,
            env: n.env,
            stage: n.stage,
            received: a.received.as_ref().map(|r| r.label.clone()),
            cloudtrail: a.cloudtrail.as_ref().and_then(|c| {
                let j = c
                    .logs
                    .partition_point(|l| l.first_index <= index)
                    .checked_sub(1)?;
                let record = index - c.logs[j].first_index;
                (record < c.logs[j].records).then(|| super::cloudtrail::ReportCloudTrailEvent {
                    label: c.label.clone(),
                    log: j as u64 + 1,
                    record,
                })
            }),
        });
    }

    /// The report. Its texts are fixed by the format (docs/evidence-bundle.md section 7).
    pub fn finish(self) -> ExportReport {
        let time_range = match (self.first, self.last) {
            (Some(a), Some(b)) => Some(TimeRange {
                first: crate::time::format_utc(a),
                last: crate::time::format_utc(b),
            }),
            _ => None,
        };
        let mut producer_fps: Vec<String> = self
            .archives
            .iter()
            .map(|a| format!("{} ({})", a.signer.name, a.signer.fingerprint))
            .collect();
        producer_fps.dedup();
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let aws_events = self
            .events
            .iter()
            .filter(|e| e.cloudtrail.is_some())
            .count();
        let aws_archives = (self.archives.iter())
            .filter(|a| a.cloudtrail.is_some())
            .count();
        let summary = if aws_archives == 0 {
            format!(
                "{} from {}. Every event's bytes hash to its leaf, every inclusion proof leads to its \
                 archive's signed Merkle root, and every checkpoint signature verifies with its producer key. \
                 Every archive was verified under a trusted producer key when it was imported into the evidence \
                 store.",
                plural(self.events.len(), "event", "events"),
                plural(self.archives.len(), "archive", "archives")
            )
        } else {
            // AWS CloudTrail evidence is said apart: its proof is AWS's signed digests, not a checkpoint
            // (docs/evidence-bundle.md section 11.4).
            let mut text = format!(
                "{} from {}. Every event's bytes hash to its leaf.",
                plural(self.events.len(), "event", "events"),
                plural(self.archives.len(), "archive", "archives")
            );
            let sealed_archives = self.archives.len() - aws_archives;
            if sealed_archives > 0 {
                text.push_str(&format!(
                    " {} from {} sealed by AuditLens: every inclusion proof leads to its archive's signed Merkle \
                     root, and every checkpoint signature verifies with its producer key.",
                    plural(self.events.len() - aws_events, "event", "events"),
                    plural(sealed_archives, "archive", "archives")
                ));
            }
            text.push_str(&format!(
                " {} from {}: each is a record of a whole log file the bundle carries, whose SHA-256 is listed \
                 in a digest file whose SHA256withRSA signature verifies with an AWS CloudTrail public key. Every \
                 archive was verified when it was imported into the evidence store.",
                plural(aws_events, "event", "events"),
                plural(aws_archives, "AWS CloudTrail archive", "AWS CloudTrail archives")
            ));
            text
        };
        // Events of archives sealed on receipt are said apart: their signature proves no change since receipt,
        // not authenticity at the source (docs/evidence-bundle.md section 7.1).
        let received_events = self.events.iter().filter(|e| e.received.is_some()).count();
        let received_archives = self
            .archives
            .iter()
            .filter(|a| a.received.is_some())
            .count();
        let summary = if received_events == 0 {
            summary
        } else {
            format!(
                "{summary} {}",
                receipt_sentence(received_events, received_archives)
            )
        };
        let mut how_to_verify = vec![
            format!(
                "With AuditLens: auditlens verify-bundle --trust PRODUCER.pub --trust-auditor AUDITOR.pub BUNDLE.zip \
                 (exit status 0 means verified). Obtain the producer key from its owner, not from this bundle, and \
                 compare fingerprints: producer {}; auditor {} ({}).",
                producer_fps.join(", "),
                self.auditor.name,
                self.auditor.fingerprint
            ),
            HOW_TO_VERIFY[0].to_string(),
            HOW_TO_VERIFY[1].to_string(),
            HOW_TO_VERIFY[2].to_string(),
            HOW_TO_VERIFY[3].to_string(),
        ];
        let mut checks: Vec<String> = CHECKS.iter().map(|c| c.to_string()).collect();
        if aws_archives > 0 {
            checks.push(CLOUDTRAIL_CHECK.to_string());
            how_to_verify.push(CLOUDTRAIL_HOW_TO_VERIFY.to_string());
        }
        ExportReport {
            format: super::REPORT_FORMAT_NAME.into(),
            version: super::FORMAT_VERSION,
            exported: self.index.exported.clone(),
            tool: self.index.tool.clone(),
            purpose: self.index.purpose.clone(),
            selection: self.index.selection.clone(),
            auditor: self.auditor,
            time_range,
            verification: ExportChecks {
                checked_at: self.index.exported,
                summary,
                checks,
            },
            archives: self.archives,
            events: self.events,
            how_to_verify,
        }
    }
}

/// The sentence `verification.summary` ends with when some events come from archives sealed on receipt
/// (docs/evidence-bundle.md section 7.1): `Of these, <m> event(s) from <j> archive(s) were only sealed on receipt,
/// by the key of whoever received the files, not by their producer: proves no change since receipt, not
/// authenticity at the source.`
pub fn receipt_sentence(events: usize, archives: usize) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "Of these, {} from {} {} only sealed on receipt, by the key of whoever received the files, not by their \
         producer: {}.",
        plural(events, "event", "events"),
        plural(archives, "archive", "archives"),
        if events == 1 { "was" } else { "were" },
        crate::archive::RECEIPT_MEANING
    )
}

/// `report.json`'s bytes: the document as pretty-printed JSON (two-space indent) and a final newline.
pub fn report_json(report: &ExportReport) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(report).unwrap_or_default();
    out.push(b'\n');
    out
}

/// `verification.checks`, fixed by the format.
pub const CHECKS: [&str; 5] = [
    "Each event's leaf hash SHA-256(0x00 || event bytes) was recomputed from the exported bytes.",
    "Each event's RFC 6962 inclusion proof was computed from the archive's stored leaves and verified against \
     the Merkle root of the archive's signed checkpoint.",
    "The stored leaves of each archive reproduce the signed root and size of its checkpoint.",
    "Each checkpoint's Ed25519 signature verifies with the producer key named by the archive's manifest.json, \
     whose SHA-256 the checkpoint signs.",
    "Each archive is stored with status 'verified': it verified under a producer key the importer trusted.",
];

/// `verification.checks`' sixth sentence, when the bundle holds AWS CloudTrail events (section 11.4).
pub const CLOUDTRAIL_CHECK: &str = "Each AWS CloudTrail event is exactly a record of a log file the bundle \
    carries, whose decompressed SHA-256 is the hashValue listed by a digest file whose SHA256withRSA signature \
    verifies with the AWS public key it names, valid at its digestEndTime.";

/// `how_to_verify`'s sixth step, when the bundle holds AWS CloudTrail events (section 11.4).
pub const CLOUDTRAIL_HOW_TO_VERIFY: &str = "AWS CloudTrail archives (origin aws-cloudtrail:ACCOUNT/REGION/TRAIL) \
    carry no checkpoint: add --aws-keys KEYS.json with AWS's public keys, obtained from AWS (aws cloudtrail \
    list-public-keys), not from this bundle. By hand: gunzip each archives/NNNNNN/logs/MMMMMM.json.gz, compare \
    its SHA-256 with the hashValue its digest lists, and check each digest's signature as docs/cloudtrail.md \
    section 4 describes.";

/// `how_to_verify[1..]`, fixed by the format (the first step names the keys).
pub const HOW_TO_VERIFY: [&str; 4] = [
    "Without AuditLens: unzip the bundle. Every entry's size and SHA-256 must equal its line in the entry \
     named manifest, a C2SP signed note that must carry a valid Ed25519 signature by the auditor key.",
    "For line i of events.jsonl, SHA-256(0x00 || line bytes) must equal the leaf of line i of proofs.jsonl; \
     hashing that leaf with the hashes of its path (RFC 9162 section 2.1.3.2, the leaf at its index in a tree \
     of the archive's size) must give the root on line 3 of archives/NNNNNN/checkpoint, NNNNNN being its \
     archive number.",
    "Each archives/NNNNNN/checkpoint must carry a valid Ed25519 signature (signed note) by the producer key, \
     and the SHA-256 of archives/NNNNNN/manifest.json must equal its auditlens-manifest-sha256 line.",
    "The format is specified in docs/evidence-bundle.md of AuditLens; tests/independent/verify_bundle.py is \
     an independent checker written from that document alone.",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::SourceKind;

    #[test]
    fn bytes_that_are_not_one_json_object_have_no_fields() {
        let k8s = Normalizer::builtin(SourceKind::K8s);
        // Nesting: 127 levels (the object included) is an object, 128 is not JSON the reports read.
        let nested = |levels: usize| {
            format!(
                "{{\"a\":{}1{}}}",
                "[".repeat(levels - 1),
                "]".repeat(levels - 1)
            )
        };
        assert_ne!(
            event_fields(&k8s, nested(127).as_bytes()),
            Normalized::default()
        );
        let deep = nested(128);
        for raw in [
            &b"[1,2]"[..],
            b"{\"a\":1} x",
            b"\"text\"",
            b"{\"a\":\"\\ud800\"}",
            deep.as_bytes(),
        ] {
            let n = event_fields(&k8s, raw);
            assert_eq!(n, Normalized::default(), "{}", String::from_utf8_lossy(raw));
        }
        let event = br#"{"verb":"get","user":{"username":"alice"}}"#;
        assert_eq!(
            event_fields(&k8s, event),
            k8s.normalize(&serde_json::from_slice::<serde_json::Value>(event).unwrap())
        );
    }
}
