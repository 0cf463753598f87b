//! AWS CloudTrail archives in an evidence bundle (docs/evidence-bundle.md section 11): no checkpoint, but AWS's
//! own proof, carried whole: the log files that hold the selected events (a CloudTrail log file cannot be
//! disclosed partially), the digest files that list their SHA-256, each digest's SHA256withRSA signature and the
//! AWS public keys.
//!
//! [`check_proof`] is the one check of that proof: the exporter runs it on what it is about to write, the
//! verifier on what it read, so both derive the same [`CheckedProof`] (and the same reports) from the same bytes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use std::collections::{BTreeMap, HashSet};

use crate::cloudtrail_digest::{self, AwsKeys, Digest};
use crate::merkle::{self, Hash};

/// The origins of CloudTrail archives (docs/cloudtrail.md section 5): a namespace no AuditLens archive may claim.
pub const ORIGIN_PREFIX: &str = "aws-cloudtrail:";
/// `format` of `cloudtrail.json`.
pub const PROOF_FORMAT: &str = "auditlens-cloudtrail-proof";
pub const MAX_PROOF_BYTES: u64 = 16 << 20;
pub const MAX_KEYS_BYTES: u64 = 1 << 20;
/// Largest digest or log file, compressed or decompressed.
pub const MAX_FILE_BYTES: u64 = 256 << 20;
/// Most log files one bundle carries (each holds at least one of its events).
pub const MAX_LOG_FILES: usize = super::MAX_EVENTS as usize;
/// The `name` of an AWS CloudTrail signer in the reports.
pub const SIGNER_NAME: &str = "AWS CloudTrail";

/// Whether the archive of this origin is a CloudTrail archive (section 11).
pub fn is_cloudtrail_origin(origin: &str) -> bool {
    origin.starts_with(ORIGIN_PREFIX)
}

pub fn proof_entry(k: usize) -> String {
    format!("archives/{k:06}/cloudtrail.json")
}

pub fn keys_entry(k: usize) -> String {
    format!("archives/{k:06}/aws-keys.json")
}

pub fn digest_entry(k: usize, m: usize) -> String {
    format!("archives/{k:06}/digests/{m:06}.json.gz")
}

pub fn log_entry(k: usize, j: usize) -> String {
    format!("archives/{k:06}/logs/{j:06}.json.gz")
}

/// `cloudtrail.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofDoc {
    pub format: String,
    pub version: u64,
    pub digests: Vec<DigestRef>,
    pub logs: Vec<LogRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestRef {
    /// The digest's SHA256withRSA signature, hex.
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogRef {
    /// The log file's S3 key as its digest lists it.
    pub object: String,
    /// The number (1-based) of the digest that lists it.
    pub digest: u64,
    /// The archive index of its first record.
    pub first_index: u64,
    pub records: u64,
}

/// What the reports say of a CloudTrail archive (section 11.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportCloudTrail {
    pub label: String,
    pub digests: Vec<ReportDigest>,
    pub logs: Vec<ReportLog>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDigest {
    pub entry: String,
    pub object: String,
    pub start: String,
    pub end: String,
    pub sha256: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportLog {
    pub entry: String,
    pub object: String,
    pub digest: u64,
    pub sha256: String,
    pub first_index: u64,
    pub records: u64,
}

/// What the reports say of an event of a CloudTrail archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportCloudTrailEvent {
    pub label: String,
    /// The log file's number in the archive (1-based).
    pub log: u64,
    /// The record's number in the log file's `Records` (from 0).
    pub record: u64,
}

/// A CloudTrail archive's proof, checked.
#[derive(Debug, Clone)]
pub struct CheckedProof {
    pub report: ReportCloudTrail,
    /// `aws-cloudtrail:<fingerprints>` (`bundle.json`'s `signer`).
    pub signer: String,
    /// The distinct key fingerprints of the digests, lowercase, in byte order.
    pub fingerprints: Vec<String>,
    /// The last digest's `digestEndTime` as written.
    pub sealed: String,
    /// The leaf hashes of the records at the archive indices the caller asked for (the events it checks), by
    /// index: never every record's, whose number the files' authors choose (a 256 MiB file of `{}` records holds
    /// 89 million).
    pub leaves: BTreeMap<u64, Hash>,
    /// Per digest: the fingerprint and DER of the key whose signature verified, and `digestEndTime`.
    pub signed_by: Vec<(String, Vec<u8>, DateTime<Utc>)>,
    /// The account and region of the digests' signed S3 keys (the archive's origin).
    pub account: String,
    pub region: String,
}

impl CheckedProof {
    /// The log file (0-based) and record that hold archive index `index`.
    pub fn locate(&self, index: u64) -> Option<(usize, u64)> {
        let j = self
            .report
            .logs
            .partition_point(|l| l.first_index <= index)
            .checked_sub(1)?;
        let l = &self.report.logs[j];
        (index - l.first_index < l.records).then_some((j, index - l.first_index))
    }

    /// The leaf of the record that holds archive index `index`.
    pub fn leaf_at(&self, index: u64) -> Option<(usize, u64, Hash)> {
        let (j, r) = self.locate(index)?;
        Some((j, r, *self.leaves.get(&index)?))
    }

    /// `None` when every digest's key is among `trusted` (same DER) with a window holding its `digestEndTime`, and
    /// the trust policy applied to `trusted` (its `aws-cloudtrail:` grants, docs/trust-policy.md section 2.1) lets
    /// that key sign for the archive's account and region then; else why not, naming the first digest that is not.
    pub fn untrusted(&self, trusted: &AwsKeys) -> Option<String> {
        self.signed_by.iter().enumerate().find_map(|(m, (fp, der, end))| {
            let digest = &self.report.digests[m];
            let ok = trusted
                .keys()
                .iter()
                .any(|k| &k.fingerprint == fp && &k.der == der && k.is_valid_at(*end));
            if !ok {
                return Some(format!(
                    "digest {} ({}) is signed by the AWS key {fp}, which is not among the --aws-keys keys valid at {}",
                    m + 1,
                    digest.object,
                    digest.end
                ));
            }
            trusted
                .trusted_for(fp, &self.account, &self.region, *end)
                .err()
                .map(|why| format!("digest {} ({}): {why}", m + 1, digest.object))
        })
    }
}

/// The label of every door for CloudTrail evidence, with the fingerprints joined by `, `.
pub fn label(fingerprints: &[String]) -> String {
    crate::store::import::cloudtrail_label(&fingerprints.join(", "))
}

/// Which check of section 11 failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// An entry is missing, malformed or too large.
    Container,
    /// The proof does not hold: a hash, a name, a range.
    Proof,
    /// A digest's signature or key.
    Signature,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofFault {
    pub kind: FaultKind,
    pub entry: String,
    pub message: String,
    pub values: Option<(String, String)>,
}

fn fault(kind: FaultKind, entry: &str, message: String) -> ProofFault {
    ProofFault {
        kind,
        entry: entry.to_string(),
        message,
        values: None,
    }
}

/// How [`check_proof`] reads an entry: its name and size limit, to its bytes or the caller's error.
pub type ReadEntry<'a, E> = dyn FnMut(&str, u64) -> Result<Vec<u8>, E> + 'a;

/// Either a read error of the caller's, or a fault of the proof.
pub enum CheckError<E> {
    Read(E),
    Fault(ProofFault),
}

impl<E> From<ProofFault> for CheckError<E> {
    fn from(f: ProofFault) -> Self {
        CheckError::Fault(f)
    }
}

/// `aws-keys.json` as a bundle writes it (section 11.1): exactly `PublicKeyList`, each key with exactly `Value`,
/// `ValidityStartTime`, `ValidityEndTime` (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`) and `Fingerprint`, all strings.
fn check_keys_doc(bytes: &[u8]) -> Result<(), String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        #[serde(rename = "PublicKeyList")]
        list: Vec<Key>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Key {
        #[serde(rename = "Value")]
        value: String,
        #[serde(rename = "ValidityStartTime")]
        from: String,
        #[serde(rename = "ValidityEndTime")]
        until: String,
        #[serde(rename = "Fingerprint")]
        fingerprint: String,
    }
    let doc: Doc = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let utc = |t: &str| {
        let b = t.as_bytes();
        let digits =
            |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        let fixed = b.len() >= 20
            && digits(0..4)
            && b[4] == b'-'
            && digits(5..7)
            && b[7] == b'-'
            && digits(8..10)
            && b[10] == b'T'
            && digits(11..13)
            && b[13] == b':'
            && digits(14..16)
            && b[16] == b':'
            && digits(17..19);
        let rest = &t[19.min(t.len())..];
        let fraction = match rest.strip_prefix('.') {
            Some(f) => f
                .strip_suffix('Z')
                .filter(|f| (1..=9).contains(&f.len()) && f.bytes().all(|c| c.is_ascii_digit()))
                .is_some(),
            None => rest == "Z",
        };
        fixed && fraction && chrono::DateTime::parse_from_rfc3339(t).is_ok()
    };
    for (i, k) in doc.list.iter().enumerate() {
        if k.value.trim() != k.value {
            return Err(format!(
                "PublicKeyList[{i}].Value has white space around it"
            ));
        }
        for t in [&k.from, &k.until] {
            if !utc(t) {
                return Err(format!(
                    "PublicKeyList[{i}]: {t:?} is not a time written YYYY-MM-DDTHH:MM:SS[.fraction]Z"
                ));
            }
        }
    }
    Ok(())
}

/// Checks archive `k`'s CloudTrail proof (section 11.2): `read(name, limit)` returns an entry's bytes (at most
/// `limit`). `origin` and `size` are `bundle.json`'s. The leaves of the records at the archive indices for which
/// `keep` is true are kept ([`CheckedProof::leaves`]).
pub fn check_proof<E>(
    k: usize,
    origin: &str,
    size: u64,
    keep: &dyn Fn(u64) -> bool,
    read: &mut ReadEntry<'_, E>,
) -> Result<CheckedProof, CheckError<E>> {
    let proof_name = proof_entry(k);
    let keys_name = keys_entry(k);
    let doc_bytes = read(&proof_name, MAX_PROOF_BYTES).map_err(CheckError::Read)?;
    let doc: ProofDoc = serde_json::from_slice(&doc_bytes).map_err(|e| {
        fault(
            FaultKind::Container,
            &proof_name,
            format!("cloudtrail.json: {e}"),
        )
    })?;
    drop(doc_bytes);
    if doc.format != PROOF_FORMAT || doc.version != 1 {
        return Err(fault(
            FaultKind::Container,
            &proof_name,
            format!(
                "cloudtrail.json is {:?} version {}, not {PROOF_FORMAT:?} version 1",
                doc.format, doc.version
            ),
        )
        .into());
    }
    // Each digest must list one of the log files (checked below): more digests than log files cannot hold, and is
    // refused before any is read.
    if doc.digests.is_empty()
        || doc.logs.is_empty()
        || doc.logs.len() > MAX_LOG_FILES
        || doc.digests.len() > doc.logs.len()
    {
        return Err(fault(
            FaultKind::Container,
            &proof_name,
            format!(
                "cloudtrail.json lists {} digest(s) and {} log file(s): at least one of each, no more digests than log \
                 files, at most {MAX_LOG_FILES} log files",
                doc.digests.len(),
                doc.logs.len()
            ),
        )
        .into());
    }
    let keys_bytes = read(&keys_name, MAX_KEYS_BYTES).map_err(CheckError::Read)?;
    check_keys_doc(&keys_bytes).map_err(|e| {
        fault(
            FaultKind::Container,
            &keys_name,
            format!("aws-keys.json: {e}"),
        )
    })?;
    let keys = AwsKeys::from_json(&keys_bytes).map_err(|e| {
        fault(
            FaultKind::Container,
            &keys_name,
            format!("aws-keys.json: {e}"),
        )
    })?;

    let (mut account, mut region) = (String::new(), String::new());
    let mut digests: Vec<Digest> = Vec::with_capacity(doc.digests.len());
    let mut report_digests = Vec::with_capacity(doc.digests.len());
    let mut signed_by = Vec::with_capacity(doc.digests.len());
    for (i, d) in doc.digests.iter().enumerate() {
        let name = digest_entry(k, i + 1);
        let gz = read(&name, MAX_FILE_BYTES).map_err(CheckError::Read)?;
        // As the import reads digests: no larger one is ever stored, so none is in a genuine bundle.
        let inflated = cloudtrail_digest::inflate(&gz, cloudtrail_digest::MAX_DIGEST_BYTES)
            .map_err(|e| fault(FaultKind::Proof, &name, format!("digest file: {e}")))?;
        drop(gz);
        let sha_hex = merkle::hex(&Sha256::digest(&inflated));
        let dg = Digest::parse(&inflated)
            .map_err(|e| fault(FaultKind::Proof, &name, format!("digest file: {e:?}")))?;
        drop(inflated);
        if let Some(p) = dg.entry_problems.first() {
            return Err(fault(FaultKind::Proof, &name, format!("digest file: {p}")).into());
        }
        if dg.signature_algorithm != "SHA256withRSA" {
            return Err(fault(
                FaultKind::Signature,
                &name,
                format!(
                    "digestSignatureAlgorithm is {:?}, not SHA256withRSA",
                    dg.signature_algorithm
                ),
            )
            .into());
        }
        // The origin is AWS's signed statement: the account, region and trail of the digest's own S3 key.
        let base = dg.object.rsplit('/').next().unwrap_or_default();
        let parsed = cloudtrail_digest::parse_digest_name(base);
        if let Some(n) = &parsed {
            (account, region) = (n.account.clone(), n.region.clone());
        }
        let named = parsed
            .map(|n| crate::store::import::cloudtrail_origin(&n.account, &n.region, &n.trail));
        if named.as_deref() != Some(origin) {
            return Err(ProofFault {
                values: Some((
                    origin.to_string(),
                    named.unwrap_or_else(|| base.to_string()),
                )),
                ..fault(
                    FaultKind::Proof,
                    &name,
                    format!(
                        "digestS3Object {:?} is not a digest of the archive's trail {origin}",
                        dg.object
                    ),
                )
            }
            .into());
        }
        if let Some(prev) = digests.last()
            && dg.end <= prev.end
        {
            return Err(fault(
                FaultKind::Proof,
                &name,
                format!(
                    "digestEndTime {} is not after the previous digest's {}: digests are in time order",
                    dg.end_raw, prev.end_raw
                ),
            )
            .into());
        }
        let candidates: Vec<_> = keys.by_fingerprint(&dg.fingerprint).collect();
        let Some(key) = candidates.iter().find(|k| k.is_valid_at(dg.end)) else {
            return Err(fault(
                FaultKind::Signature,
                &name,
                format!(
                    "aws-keys.json holds no key {} valid at digestEndTime {}",
                    dg.fingerprint, dg.end_raw
                ),
            )
            .into());
        };
        let sig = cloudtrail_digest::hex_decode(&d.signature).ok_or_else(|| {
            fault(
                FaultKind::Signature,
                &proof_name,
                format!("digests[{i}].signature is not hex"),
            )
        })?;
        let prev_sig = dg.previous.as_ref().map(|p| p.signature_hex.as_str());
        let message = cloudtrail_digest::string_to_sign(
            &dg.end_raw,
            &dg.bucket,
            &dg.object,
            &sha_hex,
            prev_sig,
        );
        if !key.verify(message.as_bytes(), &sig) {
            return Err(fault(
                FaultKind::Signature,
                &name,
                format!(
                    "the digest's signature does not verify with the AWS key {}",
                    key.fingerprint
                ),
            )
            .into());
        }
        signed_by.push((key.fingerprint.clone(), key.der.clone(), dg.end));
        report_digests.push(ReportDigest {
            entry: name,
            object: dg.object.clone(),
            start: dg.start_raw.clone(),
            end: dg.end_raw.clone(),
            sha256: sha_hex,
            fingerprint: dg.fingerprint.clone(),
        });
        digests.push(dg);
    }

    let mut named = vec![false; digests.len()];
    let mut report_logs = Vec::with_capacity(doc.logs.len());
    let mut leaves = BTreeMap::new();
    let mut objects = std::collections::HashSet::new();
    let mut next_free = 0u64;
    for (j, l) in doc.logs.iter().enumerate() {
        let name = log_entry(k, j + 1);
        let bad = |m: String| fault(FaultKind::Proof, &name, m);
        let m = usize::try_from(l.digest)
            .ok()
            .filter(|m| (1..=digests.len()).contains(m))
            .ok_or_else(|| bad(format!("logs[{j}].digest {} names no digest", l.digest)))?;
        named[m - 1] = true;
        let listed = digests[m - 1]
            .log_files
            .iter()
            .find(|f| f.object == l.object)
            .ok_or_else(|| {
                bad(format!(
                    "digest {m} does not list the log file {:?}",
                    l.object
                ))
            })?;
        if listed.hash_algorithm != "SHA-256" {
            return Err(bad(format!(
                "digest {m} lists {:?} with hashAlgorithm {:?}, not SHA-256",
                l.object, listed.hash_algorithm
            ))
            .into());
        }
        if !objects.insert(l.object.as_str()) {
            return Err(bad(format!("log file {:?} is listed twice", l.object)).into());
        }
        if l.records == 0 || l.first_index < next_free {
            return Err(bad(format!(
                "logs[{j}]: records {} from index {}: each log file holds at least one record, after the previous one's (from {next_free})",
                l.records, l.first_index
            ))
            .into());
        }
        next_free = l.first_index.saturating_add(l.records);
        if next_free > size {
            return Err(bad(format!(
                "logs[{j}] reaches index {next_free}, past the archive's {size} events"
            ))
            .into());
        }
        let gz = read(&name, MAX_FILE_BYTES).map_err(CheckError::Read)?;
        // Read as the file inflates (it may be 256 MiB of an attacker's), and only the leaves asked for are kept:
        // none counts unless the file's hash is the one its digest lists.
        let mut records = 0u64;
        let read = cloudtrail_digest::read_log(
            &gz,
            MAX_FILE_BYTES,
            super::MAX_EVENT_LINE_BYTES as usize,
            |r| {
                if records < l.records && keep(l.first_index + records) {
                    leaves.insert(l.first_index + records, merkle::leaf_hash(r));
                }
                records += 1;
                true
            },
        )
        .map_err(|e| bad(format!("log file: {e}")))?;
        drop(gz);
        let sha_hex = read.sha256_hex;
        if sha_hex != listed.hash_hex {
            return Err(ProofFault {
                values: Some((listed.hash_hex.clone(), sha_hex)),
                ..bad(format!(
                    "the log file's SHA-256 (decompressed) is not the hashValue digest {m} lists for {:?}",
                    l.object
                ))
            }
            .into());
        }
        let found = read.records.map_err(|e| bad(format!("log file: {e}")))?;
        if found != l.records {
            return Err(ProofFault {
                values: Some((l.records.to_string(), found.to_string())),
                ..bad(format!(
                    "the log file holds {found} record(s), cloudtrail.json says {}",
                    l.records
                ))
            }
            .into());
        }
        report_logs.push(ReportLog {
            entry: name,
            object: l.object.clone(),
            digest: l.digest,
            sha256: sha_hex,
            first_index: l.first_index,
            records: l.records,
        });
    }
    if let Some(m) = named.iter().position(|n| !n) {
        return Err(fault(
            FaultKind::Container,
            &digest_entry(k, m + 1),
            format!("digest {} holds none of the bundle's log files", m + 1),
        )
        .into());
    }
    let mut fingerprints: Vec<String> = digests.iter().map(|d| d.fingerprint.clone()).collect();
    fingerprints.sort();
    fingerprints.dedup();
    Ok(CheckedProof {
        signer: format!("{ORIGIN_PREFIX}{}", fingerprints.join(",")),
        sealed: digests
            .last()
            .map(|d| d.end_raw.clone())
            .unwrap_or_default(),
        report: ReportCloudTrail {
            label: label(&fingerprints),
            digests: report_digests,
            logs: report_logs,
        },
        fingerprints,
        leaves,
        signed_by,
        account,
        region,
    })
}

/// A stored CloudTrail archive's proof for some of its events, as `auditlens export` writes it: the log files
/// holding them, their digests and signatures, and the AWS keys, checked with [`check_proof`] as a reader will.
pub(crate) struct StoredProof {
    pub proof: CheckedProof,
    /// Events in the whole archive, and their Merkle root (the store's).
    pub size: u64,
    pub root: Hash,
    pub imported: String,
    doc: Vec<u8>,
    keys: Vec<u8>,
    digests: Vec<Vec<u8>>,
    logs: Vec<Vec<u8>>,
}

impl StoredProof {
    /// Archive `k`'s entries, in the order writers write them, with their bytes.
    pub fn entries(&self, k: usize) -> Vec<(String, &[u8])> {
        let mut out = vec![
            (proof_entry(k), self.doc.as_slice()),
            (keys_entry(k), self.keys.as_slice()),
        ];
        out.extend(
            (self.digests.iter().enumerate()).map(|(m, d)| (digest_entry(k, m + 1), d.as_slice())),
        );
        out.extend(
            (self.logs.iter().enumerate()).map(|(j, l)| (log_entry(k, j + 1), l.as_slice())),
        );
        out
    }
}

/// The part of an S3 key or stored path from its `AWSLogs/` folder on (the whole text when it has none).
fn from_awslogs(key: &str) -> &str {
    if key.starts_with("AWSLogs/") {
        key
    } else {
        key.find("/AWSLogs/").map_or(key, |i| &key[i + 1..])
    }
}

/// Reads the proof of the events at `indices` of the stored CloudTrail archive `archive_id`, after its stored
/// digests, log files and events re-verify with `keys` (the same check as `auditlens check --aws-keys`). `k` is
/// the archive's number in the bundle.
pub(crate) fn load_stored(
    k: usize,
    store: &crate::store::Store,
    archive_id: i64,
    origin: &str,
    sequence: u64,
    indices: &[u64],
    keys: Option<&AwsKeys>,
) -> Result<StoredProof, super::ExportError> {
    use super::{ExportError, Refusal};
    let refuse = |why: String| {
        ExportError::Refused(vec![Refusal {
            id: format!("{origin}@{sequence}"),
            reason: why,
        }])
    };
    store
        .cloudtrail_exportable(archive_id, keys)?
        .map_err(refuse)?;
    let Some(keys) = keys else {
        return Err(refuse("no AWS keys".into()));
    };
    let conn = &store.conn;
    let (root, size, imported): (Option<Vec<u8>>, i64, String) = conn.query_row(
        "SELECT root, events, imported_at FROM archives WHERE id = ?1",
        [archive_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let root = root
        .as_deref()
        .and_then(|r| merkle::hash_from_slice(r).ok())
        .ok_or_else(|| {
            refuse("the store holds no Merkle root for this archive (run auditlens check)".into())
        })?;
    // The log files that hold this archive's events, in index order, and those the selection needs (a file of
    // no records holds none: it shares its first index with the next file).
    let mut stmt = conn.prepare(
        "SELECT path, first_index, records, digest FROM cloudtrail_files
         WHERE archive_id = ?1 AND kind = 'log' AND first_index IS NOT NULL AND records > 0
         ORDER BY first_index, path",
    )?;
    let all: Vec<(String, i64, i64, Option<String>)> = stmt
        .query_map([archive_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut needed: Vec<usize> = Vec::new();
    for &i in indices {
        let j = all
            .partition_point(|l| l.1 as u64 <= i)
            .checked_sub(1)
            .filter(|&j| i < (all[j].1 + all[j].2) as u64)
            .ok_or_else(|| {
                refuse(format!(
                    "no stored log file holds event index {i} (run auditlens check)"
                ))
            })?;
        if needed.last() != Some(&j) {
            needed.push(j);
        }
    }
    needed.dedup();
    // Their digests, in time order.
    let mut digest_paths: Vec<&str> = Vec::new();
    for &j in &needed {
        let d = all[j].3.as_deref().ok_or_else(|| {
            refuse(format!(
                "the stored log file {} names no digest (run auditlens check)",
                all[j].0
            ))
        })?;
        if !digest_paths.contains(&d) {
            digest_paths.push(d);
        }
    }
    let mut digest_rows: Vec<(String, Vec<u8>, String, i64)> = Vec::new();
    let mut dstmt = conn.prepare(
        "SELECT content, signature, hour_end FROM cloudtrail_files WHERE archive_id = ?1 AND kind = 'digest' AND path = ?2",
    )?;
    for p in &digest_paths {
        let (content, signature, end): (Vec<u8>, Option<String>, Option<i64>) = dstmt
            .query_row(rusqlite::params![archive_id, p], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        let signature = signature.ok_or_else(|| {
            refuse(format!(
                "the stored digest {p} has no signature (run auditlens check)"
            ))
        })?;
        digest_rows.push((p.to_string(), content, signature, end.unwrap_or(i64::MIN)));
    }
    digest_rows.sort_by_key(|d| d.3);
    // Each log file's S3 key as its digest lists it.
    let mut digests_parsed = Vec::with_capacity(digest_rows.len());
    for (p, content, _, _) in &digest_rows {
        let inflated = cloudtrail_digest::inflate(content, cloudtrail_digest::MAX_DIGEST_BYTES)
            .map_err(|e| refuse(format!("the stored digest {p}: {e} (run auditlens check)")))?;
        let dg = Digest::parse(&inflated).map_err(|e| {
            refuse(format!(
                "the stored digest {p}: {e:?} (run auditlens check)"
            ))
        })?;
        digests_parsed.push(dg);
    }
    let mut lstmt = conn.prepare(
        "SELECT content FROM cloudtrail_files WHERE archive_id = ?1 AND kind = 'log' AND path = ?2",
    )?;
    let mut logs = Vec::with_capacity(needed.len());
    let mut refs = Vec::with_capacity(needed.len());
    for &j in &needed {
        let (path, first_index, records, digest) = &all[j];
        let m = digest_rows
            .iter()
            .position(|d| Some(d.0.as_str()) == digest.as_deref())
            .unwrap_or(0);
        let object = digests_parsed[m]
            .log_files
            .iter()
            .find(|f| from_awslogs(&f.object) == from_awslogs(path))
            .map(|f| f.object.clone())
            .ok_or_else(|| {
                refuse(format!(
                    "its digest does not list the stored log file {path} (run auditlens check)"
                ))
            })?;
        let content: Vec<u8> =
            lstmt.query_row(rusqlite::params![archive_id, path], |r| r.get(0))?;
        logs.push(content);
        refs.push(LogRef {
            object,
            digest: m as u64 + 1,
            first_index: *first_index as u64,
            records: *records as u64,
        });
    }
    let doc = ProofDoc {
        format: PROOF_FORMAT.into(),
        version: 1,
        digests: digest_rows
            .iter()
            .map(|d| DigestRef {
                signature: d.2.clone(),
            })
            .collect(),
        logs: refs,
    };
    let mut fps: Vec<&str> = digests_parsed
        .iter()
        .map(|d| d.fingerprint.as_str())
        .collect();
    fps.sort_unstable();
    fps.dedup();
    let key_list: Vec<serde_json::Value> = fps
        .iter()
        .flat_map(|fp| keys.by_fingerprint(fp))
        .map(|k| {
            use base64::Engine as _;
            serde_json::json!({
                "Value": base64::engine::general_purpose::STANDARD.encode(&k.der),
                "ValidityStartTime": k.valid_from.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                "ValidityEndTime": k.valid_until.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                "Fingerprint": k.fingerprint,
            })
        })
        .collect();
    let mut doc_bytes = serde_json::to_vec_pretty(&doc).map_err(|e| refuse(e.to_string()))?;
    doc_bytes.push(b'\n');
    let mut keys_bytes =
        serde_json::to_vec_pretty(&serde_json::json!({ "PublicKeyList": key_list }))
            .map_err(|e| refuse(e.to_string()))?;
    keys_bytes.push(b'\n');
    let digests: Vec<Vec<u8>> = digest_rows.into_iter().map(|d| d.1).collect();
    // What a reader will check, checked now from the very bytes the bundle will carry.
    let mut stored = StoredProof {
        proof: CheckedProof {
            report: ReportCloudTrail {
                label: String::new(),
                digests: Vec::new(),
                logs: Vec::new(),
            },
            signer: String::new(),
            fingerprints: Vec::new(),
            sealed: String::new(),
            leaves: BTreeMap::new(),
            signed_by: Vec::new(),
            account: String::new(),
            region: String::new(),
        },
        size: size.max(0) as u64,
        root,
        imported,
        doc: doc_bytes,
        keys: keys_bytes,
        digests,
        logs,
    };
    let entries: std::collections::HashMap<String, Vec<u8>> = stored
        .entries(k)
        .into_iter()
        .map(|(n, b)| (n, b.to_vec()))
        .collect();
    let wanted: HashSet<u64> = indices.iter().copied().collect();
    let checked = check_proof::<()>(
        k,
        origin,
        stored.size,
        &|i| wanted.contains(&i),
        &mut |name, _| entries.get(name).cloned().ok_or(()),
    );
    stored.proof = match checked {
        Ok(p) => p,
        Err(CheckError::Read(())) => return Err(refuse("an entry of its proof is missing".into())),
        Err(CheckError::Fault(f)) => {
            return Err(refuse(format!(
                "its stored proof does not verify as a bundle reader checks it: {}: {} (run auditlens check --aws-keys)",
                f.entry, f.message
            )));
        }
    };
    Ok(stored)
}
