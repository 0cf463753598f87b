//! What verifying an archive reports: its status, the first failure with its place, and the signer.

use std::path::Path;

use serde::Serialize;

use crate::archive::TimeRange;

/// Overall result for one archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    Container,
    Checkpoint,
    Manifest,
    Signature,
    ManifestHash,
    /// `mapping.toml` differs from the one the manifest names (or, at import, does not compile).
    Mapping,
    EventSyntax,
    LeafMismatch,
    Leaves,
    Count,
    Root,
    Chain,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_index: Option<u64>,
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
}

impl Failure {
    pub(super) fn new(kind: FailureKind, message: impl Into<String>) -> Self {
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignerInfo {
    /// The verifier key string from the manifest.
    pub key: String,
    pub name: String,
    pub fingerprint: String,
    pub trusted: bool,
    /// Why the key is trusted for this archive's origin, or why not (docs/trust-policy.md).
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_basis: Option<crate::trust::TrustBasis>,
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_reason: Option<String>,
}

/// Everything known about one archive after verification. Fields are `None` when the archive failed before
/// they could be read; what is present was read from signed data only when `status` is not `Failed`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ArchiveReport {
    pub path: String,
    pub status: ArchiveStatus,
    pub origin: Option<String>,
    pub sequence: Option<u64>,
    pub events: Option<u64>,
    pub bytes: Option<u64>,
    pub time_range: Option<TimeRange>,
    /// The manifest's signed sealing time (`created`), as written there.
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The newest time among the events (RFC 3339 UTC), under the rules their fields are derived by, once every
    /// event was read, when it was needed: when trust rests on a grant that ends (`valid-before`), which must hold
    /// it too (docs/trust-policy.md), or when the importer read it. Absent otherwise, or when no event has a time.
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_event: Option<String>,
    /// Set when the archive was sealed on receipt (`auditlens receive`): the signer is the auditor who received
    /// the files, and the signature proves no change since receipt, not authenticity at the source.
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<crate::archive::Receipt>,
    pub source_kind: Option<String>,
    pub signer: Option<SignerInfo>,
    /// Merkle root, chain values and manifest hash, base64 as in the checkpoint.
    pub root: Option<String>,
    pub chain_start: Option<String>,
    pub chain_end: Option<String>,
    pub manifest_sha256: Option<String>,
    /// Events whose bytes are not one JSON object the parser can read (`sources::parse_event`): they verify and
    /// are stored as raw text marked "not parsed", with no normalized fields. Counted once every event was read.
    pub parse_errors: Option<u64>,
    pub failure: Option<Failure>,
    /// The signed note exactly as stored (for the store and for bundles).
    #[serde(skip)]
    pub checkpoint_note: Option<Vec<u8>>,
    #[serde(skip)]
    pub manifest_bytes: Option<Vec<u8>>,
    /// The `mapping.toml` entry, for archives of kind `mapping` (its SHA-256 checked against the manifest).
    #[serde(skip)]
    pub mapping_bytes: Option<Vec<u8>>,
    /// Whose rules normalize the archive's events: the built-in mapper its signed kind names, or the producer's
    /// mapping file (docs/sources.md, "Whose rules"). Set once the manifest (and mapping file) verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub normalization: Option<crate::sources::Normalization>,
}

impl ArchiveReport {
    pub(super) fn new(path: &Path) -> Self {
        ArchiveReport {
            path: path.display().to_string(),
            status: ArchiveStatus::Failed,
            origin: None,
            sequence: None,
            events: None,
            bytes: None,
            time_range: None,
            created: None,
            newest_event: None,
            received: None,
            source_kind: None,
            signer: None,
            root: None,
            chain_start: None,
            chain_end: None,
            manifest_sha256: None,
            parse_errors: None,
            failure: None,
            checkpoint_note: None,
            manifest_bytes: None,
            mapping_bytes: None,
            normalization: None,
        }
    }

    /// When the archive was sealed, as the verifier decided trust ([`crate::trust::Sealed`]): the signed
    /// manifest's time (`created`, or `time_range.last` when later) and the newest event's.
    pub fn sealed(&self) -> crate::trust::Sealed {
        let signed = (self.created.as_deref())
            .and_then(|c| crate::archive::trust_time(c, self.time_range.as_ref()));
        crate::trust::Sealed::signed(signed)
            .with_newest_event((self.newest_event.as_deref()).and_then(crate::time::parse_rfc3339))
    }

    pub fn is_verified(&self) -> bool {
        self.status == ArchiveStatus::Verified
    }
}
