//! The subcommands, one file each: read the inputs, call the library, print JSON or hand the result to
//! [`crate::render`]. Each returns the exit code, or a [`Fatal`] (exit code 2).

use std::path::{Path, PathBuf};

use auditlens::note::{SignerKey, VerifierKey};
use auditlens::trust::{Grant, TrustPolicy};

pub mod bench;
pub mod check;
pub mod export;
pub mod export_parquet;
pub mod import;
pub mod keygen;
pub mod log;
pub mod seal;
pub mod search;
pub mod stats;
pub mod verify;
pub mod verify_bundle;

/// A usage or I/O problem: printed to stderr ([`crate::render::fatal`]), exit code 2.
pub struct Fatal(pub String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}

pub(crate) fn read_signer(path: &Path) -> Result<SignerKey, Fatal> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    SignerKey::parse(text.trim())
        .map_err(|e| Fatal(format!("{}: not a signing key: {e}", path.display())))
}

/// The AWS CloudTrail public keys of `--aws-keys` files (the JSON `aws cloudtrail list-public-keys` prints).
pub(crate) fn read_aws_keys(
    paths: &[PathBuf],
) -> Result<auditlens::cloudtrail_digest::AwsKeys, Fatal> {
    let mut aws = auditlens::cloudtrail_digest::AwsKeys::new();
    for path in paths {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        aws.add_json(&bytes)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(aws)
}

pub(crate) fn read_trusted(paths: &[PathBuf]) -> Result<Vec<VerifierKey>, Fatal> {
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            VerifierKey::parse(text.trim())
                .map_err(|e| Fatal(format!("{}: not a verifier key: {e}", p.display())))
        })
        .collect()
}

/// The trust given on the command line: bare keys (`--trust`, pinned per origin on first use) and policy files.
pub fn read_policy(trust: &[PathBuf], policies: &[PathBuf]) -> Result<TrustPolicy, Fatal> {
    let mut policy = TrustPolicy::new();
    for (key, path) in read_trusted(trust)?.into_iter().zip(trust) {
        policy.add(Grant::bare(key, format!("--trust {}", path.display())));
    }
    for path in policies {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        policy.extend(
            TrustPolicy::parse(&text, &path.display().to_string())
                .map_err(|e| Fatal(format!("trust policy {e}")))?,
        );
    }
    Ok(policy)
}

/// An audit period and its silence threshold (microseconds), from `--period` and `--silence`.
pub type CoveragePeriod = Option<(auditlens::coverage::Period, i64)>;

/// Reads `--period` and `--silence` before anything is done (a bad value is a usage error, exit 2).
pub fn coverage_options(
    period: Option<&str>,
    silence: Option<&str>,
) -> Result<CoveragePeriod, Fatal> {
    use auditlens::coverage;
    let Some(period) = period else {
        return Ok(None);
    };
    let period = coverage::Period::parse(period)?;
    let silence = match silence {
        Some(s) => coverage::parse_silence(s)?,
        None => coverage::DEFAULT_SILENCE_MICROS,
    };
    Ok(Some((period, silence)))
}

pub(crate) fn open_existing(db: &Path) -> Result<auditlens::store::Store, Fatal> {
    if !db.is_file() {
        return Err(Fatal(format!("{}: no such database", db.display())));
    }
    open_store(db)
}

/// Opens (creating or upgrading) a store; an upgrade of a store from an older AuditLens is said on stderr, with
/// the backup copy taken first.
pub(crate) fn open_store(db: &Path) -> Result<auditlens::store::Store, Fatal> {
    let (store, upgrade) = auditlens::store::Store::open_upgrading(db)?;
    if let Some(u) = upgrade {
        eprintln!("{}", auditlens::safe_text::safe(&u.to_string()));
    }
    Ok(store)
}
