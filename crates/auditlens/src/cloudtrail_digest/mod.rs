//! Offline verification of an AWS CloudTrail export: the trail's S3 folder copied to disk (`aws s3 sync`),
//! checked with AWS's own log-file-integrity digests (docs/cloudtrail.md).
//!
//! - [`verify_export`] walks `AWSLogs/` under a root (optionally below a bucket prefix), groups the digest
//!   files into chains (account, region, trail, home region), checks each digest's SHA256withRSA signature with
//!   the [`AwsKeys`] the auditor supplies, the `previousDigest*` links, the digests' locations, gaps in the
//!   chain, every listed log file (SHA-256 of its decompressed content, streamed) and log files no digest lists.
//! - The newest digest's signature is S3 object metadata: [`ExternalSignatures`] (a mapping file) or
//!   `<digest>.json.gz.head.json` files next to the digests (found automatically).
//! - [`ExportReport`] serializes for `--json`; [`render_text`] gives plain text lines.

mod chain;
mod digest;
mod gzip;
mod keys;
pub mod signing;
mod stored;
mod unpack;
mod walk;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use digest::string_to_sign;
pub(crate) use digest::{Digest, parse_digest_name};
pub(crate) use keys::hex_decode;
pub use keys::{AwsKeys, AwsPublicKey, key_fingerprint, verify_sha256_with_rsa};
pub(crate) use stored::{inflate, inflate_checked, read_log, read_log_checked};
pub use unpack::{ExportInput, Packed, export_input, packed_export, unpack};
pub(crate) use walk::MAX_DIGEST_BYTES;
pub use walk::{verify_export, verify_export_with_progress};

/// Checks the audited AWS accounts an auditor gives (`--aws-account`, the app's field): 12 digits each.
pub fn check_accounts(accounts: &[String]) -> Result<(), String> {
    match accounts
        .iter()
        .find(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()))
    {
        Some(bad) => Err(format!("AWS account {bad:?}: an AWS account is 12 digits")),
        None => Ok(()),
    }
}

/// Verifies the export at `path`, as [`export_input`] told it (a folder, or a ZIP or tar of one, verified in a
/// private temporary copy removed when done), and pins the audited `accounts` when any are given
/// ([`ExportReport::require_accounts`]). What `auditlens verify` and the app both run.
pub fn verify_export_input(
    path: &Path,
    kind: ExportInput,
    keys: &AwsKeys,
    signatures: &ExternalSignatures,
    accounts: &[String],
) -> Result<ExportReport, CloudTrailError> {
    let unpacked = match kind {
        ExportInput::Packed(packed) => Some(unpack(path, packed)?),
        ExportInput::Folder => None,
    };
    let root = unpacked.as_ref().map_or(path, |d| d.path());
    let mut report = verify_export(root, keys, signatures)?;
    if !accounts.is_empty() {
        report.require_accounts(accounts);
    }
    Ok(report)
}

/// A fatal error: the export or an input file could not be read at all. Problems of single files of the export
/// are [`Failure`]s in the report instead.
#[derive(Debug, thiserror::Error)]
pub enum CloudTrailError {
    /// The public keys file is unusable.
    #[error("CloudTrail public keys: {reason}")]
    Keys {
        /// What is wrong.
        reason: String,
    },
    /// The signatures mapping file or a head-object JSON is unusable.
    #[error("CloudTrail digest signatures {source_name}: {reason}")]
    Signatures {
        /// The file (or "mapping").
        source_name: String,
        /// What is wrong.
        reason: String,
    },
    /// Reading the export failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The root is not a folder.
    #[error("{0} is not a folder")]
    NotAFolder(PathBuf),
    /// A ZIP or tar of an export could not be unpacked safely.
    #[error("{path}: {reason}")]
    Unpack {
        /// The packed export.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A private key for [`signing`] is unusable.
    #[error("signing key: {0}")]
    SigningKey(String),
}

/// Signatures of digests that come from outside the export (S3 object metadata `signature`), by digest S3 key.
/// Every digest's signature except the newest of a chain is inside its successor; the newest one must come
/// from here or from a `<digest file>.head.json` next to it.
#[derive(Debug, Clone, Default)]
pub struct ExternalSignatures {
    by_key: BTreeMap<String, String>,
}

impl ExternalSignatures {
    /// None.
    pub fn new() -> Self {
        Self::default()
    }

    /// A mapping file: a JSON object `{"<digestS3Object>": "<hex signature>", ...}`.
    pub fn from_mapping_json(json: &[u8]) -> Result<Self, CloudTrailError> {
        let err = |reason: String| CloudTrailError::Signatures {
            source_name: "mapping".into(),
            reason,
        };
        let v: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| err(format!("not JSON: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| err("not a JSON object".into()))?;
        let mut s = Self::new();
        for (k, v) in obj {
            let hex = v
                .as_str()
                .ok_or_else(|| err(format!("the value for {k:?} is not a string")))?;
            s.insert(k, hex);
        }
        Ok(s)
    }

    /// The signature in the JSON `aws s3api head-object` prints (`Metadata.signature`); `file` names the source
    /// in errors. A `signature-algorithm` other than SHA256withRSA is refused.
    pub fn signature_from_head_object_json(
        file: &str,
        json: &[u8],
    ) -> Result<String, CloudTrailError> {
        let err = |reason: String| CloudTrailError::Signatures {
            source_name: file.into(),
            reason,
        };
        let v: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| err(format!("not JSON: {e}")))?;
        let meta = v
            .get("Metadata")
            .ok_or_else(|| err("no \"Metadata\"".into()))?;
        if let Some(alg) = meta.get("signature-algorithm")
            && alg.as_str() != Some("SHA256withRSA")
        {
            return Err(err(format!(
                "signature-algorithm is {alg}, not \"SHA256withRSA\""
            )));
        }
        meta.get("signature")
            .and_then(|s| s.as_str())
            .map(str::to_string)
            .ok_or_else(|| err("no string \"Metadata.signature\"".into()))
    }

    /// Adds the signature (hex) of the digest with this S3 key.
    pub fn insert(&mut self, digest_s3_key: &str, signature_hex: &str) {
        self.by_key.insert(
            normalize_key(digest_s3_key),
            signature_hex.trim().to_string(),
        );
    }

    /// The signature for this digest S3 key, if given.
    pub fn get(&self, digest_s3_key: &str) -> Option<&str> {
        self.by_key
            .get(&normalize_key(digest_s3_key))
            .map(String::as_str)
    }

    /// Number of signatures.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// Keys compare from `AWSLogs/` on, so a mapping works whether or not the export kept the bucket prefix.
fn normalize_key(key: &str) -> String {
    digest::split_key(key)
        .map(|(_, rest)| rest)
        .unwrap_or_else(|_| key.to_string())
}

/// Whether `root` looks like a CloudTrail export: it has `AWSLogs/<account>/CloudTrail-Digest` (or
/// `AWSLogs/<org>/<account>/CloudTrail-Digest`), directly or below a bucket prefix of up to 4 folders.
pub fn looks_like_export(root: &Path) -> bool {
    walk::find_awslogs(root).iter().any(|awslogs| {
        let kids = |p: &Path| -> Vec<PathBuf> {
            std::fs::read_dir(p)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.path())
                        .filter(|p| p.is_dir())
                        .collect()
                })
                .unwrap_or_default()
        };
        kids(awslogs).iter().any(|a| {
            a.join("CloudTrail-Digest").is_dir()
                || kids(a).iter().any(|b| b.join("CloudTrail-Digest").is_dir())
        })
    })
}

/// What a [`Failure`] is. Serialized in snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "CloudTrailFailureKind"))]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// A digest file is not gzip, or its gzip is corrupt or has trailing bytes.
    DigestNotGzip,
    /// A digest's content is not JSON.
    DigestNotJson,
    /// A digest's JSON lacks a field, has a wrong type, bad hex, a hash of the wrong length, or is too large.
    DigestMalformed,
    /// A digest file sits at another path than the S3 key its `digestS3Object` names.
    DigestMoved,
    /// A digest's signature does not verify.
    DigestSignatureInvalid,
    /// No signature is available for a digest (newest of a chain without head.json/mapping, or its successor
    /// is missing), or the external signature is not hex.
    SignatureUnavailable,
    /// `digestPublicKeyFingerprint` names no key the auditor supplied.
    UnknownPublicKey,
    /// The signing key's validity window does not cover the digest's `digestEndTime`.
    PublicKeyNotValidAtTime,
    /// The signature verifies, but the trust policy does not grant the key for this account and region at the
    /// digest's `digestEndTime` (docs/trust-policy.md section 2.1).
    KeyNotTrustedForTrail,
    /// A signature or hash algorithm other than SHA256withRSA / SHA-256.
    UnsupportedAlgorithm,
    /// `previousDigestHashValue` differs from the SHA-256 of the previous digest's uncompressed bytes.
    PreviousHashMismatch,
    /// `previousDigestSignature` does not verify the previous digest, whose content is intact.
    PreviousSignatureMismatch,
    /// `previousDigestS3Bucket` differs from the previous digest's bucket.
    PreviousDigestMismatch,
    /// A digest named by its successor's `previousDigestS3Object` is not in the export.
    MissingDigest,
    /// More digests are missing in a broken chain than the one named (their keys are unknown).
    DigestGap,
    /// Two digests name the same previous digest.
    ChainFork,
    /// A log file listed in a digest is not in the export.
    MissingLog,
    /// A log file's decompressed SHA-256 differs from its `hashValue`.
    LogHashMismatch,
    /// A log file is not gzip or its gzip is corrupt.
    LogNotGzip,
    /// Bytes after the gzip member(s) of a log file that are not a valid gzip member.
    LogTrailingBytes,
    /// A log file could not be read.
    LogUnreadable,
    /// A log file in an hour covered by digests (or in a gap of the chain) that no digest lists.
    LogNotListed,
    /// Log files of an account/region for which the export has no digest at all.
    NoDigestsForLogs,
    /// A file under `CloudTrail-Digest/` that is neither a digest nor a head-object JSON.
    UnrecognizedFile,
    /// The chain's account is not one the auditor expects (`--aws-account`): AWS's signature proves what an
    /// account logged, not that it is the audited one.
    AccountNotExpected,
}

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "CloudTrailFailure"))]
pub struct Failure {
    /// What failed.
    pub kind: FailureKind,
    /// The file concerned, relative to the root, with `/` separators (for a missing file: where it should be).
    pub file: String,
    /// The expected value (a hash, a key, a fingerprint), when there is one.
    pub expected: Option<String>,
    /// The value found, when there is one.
    pub found: Option<String>,
    /// A sentence for people.
    pub detail: String,
}

/// The verification of one digest chain: one trail in one region.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "CloudTrailChain"))]
pub struct ChainReport {
    /// A chain of backfill digests (`..._backfill.json.gz`): log files the hourly digests missed, delivered later
    /// and linked in a chain of their own.
    pub backfill: bool,
    /// The AWS account (from the digest file names).
    pub account: String,
    /// The region the digests are about.
    pub region: String,
    /// The trail name.
    pub trail: String,
    /// The trail's home region.
    pub home_region: String,
    /// The folder holding `AWSLogs/`, relative to the root ("" for the root itself).
    pub base: String,
    /// `digestStartTime` of the oldest digest read (RFC 3339).
    pub first_digest_start: Option<String>,
    /// `digestEndTime` of the newest digest read (RFC 3339).
    pub last_digest_end: Option<String>,
    /// Whole hours between those two times.
    pub hours_spanned: i64,
    /// Digest files found.
    pub digests_found: usize,
    /// Digests whose signature verified.
    pub digests_verified: usize,
    /// Of those found, digests with an empty `logFiles` (hours without events).
    pub digests_empty: usize,
    /// Log files listed by the digests read.
    pub log_files_listed: usize,
    /// Listed log files present whose hash matched, in a digest whose signature verified.
    pub log_files_verified: usize,
    /// Log files newer than the newest digest: not verified, not a failure.
    pub log_files_not_yet_covered: usize,
    /// Log files older than the oldest digest: not verified, not a failure (the export may start mid-trail).
    pub log_files_before_first_digest: usize,
    /// Whether the oldest digest is the first of its trail (`previousDigest*` null).
    pub starts_at_first_digest: bool,
    /// The previous digest of the oldest digest, when it is not in the export (the export starts later).
    pub earlier_digest_not_in_export: Option<String>,
    /// `digestStartTime` of digests that start a new chain segment (null previous fields after the first:
    /// logging was stopped and started again).
    pub restarts: Vec<String>,
    /// The failed checks.
    pub failures: Vec<Failure>,
    /// What verified, file by file, for an importer (not serialized).
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub evidence: ChainEvidence,
}

/// The files of a chain whose verification succeeded: the digests whose signature verified, oldest first, and the
/// log files they list whose decompressed SHA-256 matched, in the digests' order. What an importer stores.
#[derive(Debug, Clone, Default)]
pub struct ChainEvidence {
    pub digests: Vec<VerifiedDigest>,
    pub logs: Vec<VerifiedLog>,
}

/// One digest whose signature verified.
#[derive(Debug, Clone)]
pub struct VerifiedDigest {
    /// Relative to the export's root, `/` separators.
    pub rel: String,
    /// `digestStartTime` and `digestEndTime`.
    pub start: chrono::DateTime<chrono::Utc>,
    pub end: chrono::DateTime<chrono::Utc>,
    /// SHA-256 of the decompressed digest, lowercase hex.
    pub sha256_hex: String,
    /// The signature that verified, hex as AWS writes it.
    pub signature_hex: String,
    /// The fingerprint of the key it verified with.
    pub fingerprint: String,
}

/// One log file whose decompressed SHA-256 matched the `hashValue` of a digest whose signature verified.
#[derive(Debug, Clone)]
pub struct VerifiedLog {
    /// Relative to the export's root, `/` separators.
    pub rel: String,
    /// The digest's `hashValue` (lowercase hex).
    pub sha256_hex: String,
    /// The digest listing it (relative to the root).
    pub digest_rel: String,
}

/// The verification of a whole export.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "CloudTrailReport"))]
pub struct ExportReport {
    /// True only if there is no failure anywhere and at least one digest verified.
    pub verified: bool,
    /// Whether the accounts were pinned ([`ExportReport::require_accounts`]); if not, an export of any AWS
    /// account verifies.
    pub accounts_pinned: bool,
    /// One per trail and region.
    pub chains: Vec<ChainReport>,
    /// Failures that belong to no chain (unrecognized files, logs without digests).
    pub failures: Vec<Failure>,
}

impl ExportReport {
    /// Requires every chain to be of one of `accounts` (the audited AWS accounts): a chain of another account
    /// fails with [`FailureKind::AccountNotExpected`] and the report is no longer verified. A valid AWS signature
    /// proves what some account logged; an export of another account (the auditee's sandbox, say) verifies just as
    /// well, so the accounts are the auditor's to pin. Without a call, any account is accepted and
    /// `accounts_pinned` stays false.
    pub fn require_accounts(&mut self, accounts: &[String]) {
        self.accounts_pinned = true;
        for c in &mut self.chains {
            if !accounts.contains(&c.account) {
                c.failures.push(Failure {
                    kind: FailureKind::AccountNotExpected,
                    file: if c.base.is_empty() {
                        format!("AWSLogs/{}", c.account)
                    } else {
                        format!("{}/AWSLogs/{}", c.base, c.account)
                    },
                    expected: Some(accounts.join(", ")),
                    found: Some(c.account.clone()),
                    detail: format!(
                        "the digests of trail {} in {} are of account {}, not of an account given with --aws-account",
                        c.trail, c.region, c.account
                    ),
                });
                self.verified = false;
            }
        }
    }

    /// All failures, chain ones first.
    pub fn all_failures(&self) -> impl Iterator<Item = &Failure> {
        self.chains
            .iter()
            .flat_map(|c| c.failures.iter())
            .chain(self.failures.iter())
    }
}

/// The report as plain text lines (no colour, no trailing newlines).
pub fn render_text(report: &ExportReport) -> Vec<String> {
    let mut out = Vec::new();
    for c in &report.chains {
        out.push(format!(
            "{}trail {} account {} region {} (home {}){}",
            if c.backfill {
                "backfill digests of "
            } else {
                ""
            },
            c.trail,
            c.account,
            c.region,
            c.home_region,
            if c.base.is_empty() {
                String::new()
            } else {
                format!(" under {}", c.base)
            }
        ));
        out.push(format!(
            "  digests: {} found, {} verified ({} empty hours); {} .. {} ({} hours)",
            c.digests_found,
            c.digests_verified,
            c.digests_empty,
            c.first_digest_start.as_deref().unwrap_or("?"),
            c.last_digest_end.as_deref().unwrap_or("?"),
            c.hours_spanned
        ));
        out.push(format!(
            "  log files: {} listed, {} verified, {} not yet covered by any digest, {} before the first digest",
            c.log_files_listed, c.log_files_verified, c.log_files_not_yet_covered, c.log_files_before_first_digest
        ));
        if !report.accounts_pinned {
            out.push(format!(
                "  note: account {} is not pinned: an export of any AWS account verifies; give --aws-account with the audited accounts",
                c.account
            ));
        }
        if let Some(k) = &c.earlier_digest_not_in_export {
            out.push(format!(
                "  note: the chain continues before the export (previous digest {k} not in it)"
            ));
        }
        for r in &c.restarts {
            out.push(format!(
                "  note: a new digest chain starts at {r} (logging stopped and started)"
            ));
        }
        for f in &c.failures {
            out.push(render_failure(f));
        }
    }
    for f in &report.failures {
        out.push(render_failure(f));
    }
    // Log files outside every digest's hours were not checked: the verdict says so rather than "every".
    let outside: usize = report
        .chains
        .iter()
        .map(|c| c.log_files_not_yet_covered + c.log_files_before_first_digest)
        .sum();
    out.push(if report.verified && outside == 0 {
        "VERIFIED: every digest and log file checked".to_string()
    } else if report.verified {
        format!(
            "VERIFIED: every digest and every log file they list; {outside} log file(s) outside every digest's hours NOT verified"
        )
    } else {
        format!("NOT VERIFIED: {} failure(s)", report.all_failures().count())
    });
    out
}

fn render_failure(f: &Failure) -> String {
    let kind = serde_json::to_value(f.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut s = format!("  FAIL {kind} {}: {}", f.file, f.detail);
    if let Some(e) = &f.expected {
        s.push_str(&format!(" (expected {e}"));
        if let Some(x) = &f.found {
            s.push_str(&format!(", found {x}"));
        }
        s.push(')');
    }
    s
}
