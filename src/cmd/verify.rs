//! `auditlens verify`: archives and their continuity, under the trust given; and CloudTrail export folders,
//! offline, against AWS's own signed digests and the AWS keys given (docs/cloudtrail.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use auditlens::cloudtrail_digest::{self, AwsKeys, ExportReport, ExternalSignatures};

use auditlens::note::VerifierKey;
use auditlens::report::VerifySetReport;
use auditlens::trust::TrustPolicy;

use super::{CoveragePeriod, Fatal};
use crate::render;

/// What verifies CloudTrail exports: `--aws-keys` files and an `--aws-signatures` mapping.
pub struct AwsOptions<'a> {
    pub keys: &'a [PathBuf],
    pub signatures: Option<&'a Path>,
    /// `--aws-account`: the audited accounts (none: any account, said in the report).
    pub accounts: &'a [String],
}

impl AwsOptions<'_> {
    /// Whether any of the options was given.
    pub fn given(&self) -> bool {
        !self.keys.is_empty() || self.signatures.is_some() || !self.accounts.is_empty()
    }
}

pub fn run(
    policy: &TrustPolicy,
    json: bool,
    period: CoveragePeriod,
    aws: &AwsOptions,
    inputs: &[PathBuf],
) -> Result<ExitCode, Fatal> {
    // Folders holding AWSLogs/.../CloudTrail-Digest, and ZIPs or tars of such a folder, are CloudTrail
    // exports; everything else is an archive.
    // Each input is looked at once (a tar.gz is read through to tell).
    let mut exports = Vec::new();
    let mut archives = Vec::new();
    for path in inputs {
        match cloudtrail_digest::export_input(path) {
            Some(kind) => exports.push((path, kind)),
            None => archives.push(path),
        }
    }
    let mut cloudtrail = Vec::new();
    if !exports.is_empty() {
        let (mut keys, signatures) = aws_trust(aws)?;
        // The trust policy's `aws-cloudtrail:ACCOUNT/REGION` grants, when it has any, say where each key counts.
        keys.apply_policy(policy);
        for (path, kind) in exports {
            let report = cloudtrail_digest::verify_export_input(
                path,
                kind,
                &keys,
                &signatures,
                aws.accounts,
            )
            .map_err(|e| format!("{}: {e}", path.display()))?;
            cloudtrail.push(CloudTrailExport {
                path: path.display().to_string(),
                report,
            });
        }
    } else if aws.given() {
        return Err(Fatal(
            "--aws-keys, --aws-signatures and --aws-account are for CloudTrail exports (AWSLogs/<account>/CloudTrail-Digest/...), and none was given".into(),
        ));
    }
    let set = if archives.is_empty() {
        None
    } else {
        let mut reports = Vec::new();
        let decide =
            |o: &str, k: &VerifierKey, c: auditlens::trust::Sealed| policy.decide(o, k, c, &[]);
        for path in archives {
            let r = auditlens::verify::verify_archive_with(
                path,
                &decide,
                &mut auditlens::verify::NoSink,
            )
            .map_err(|e| format!("{}: {e}", path.display()))?;
            reports.push(r);
        }
        // Bare keys are pinned per origin on first use, in sequence order across the set.
        auditlens::verify::apply_first_use(&mut reports, policy);
        let mut set = VerifySetReport::new(reports);
        set.coverage = period.map(|(period, silence)| {
            auditlens::coverage::from_reports(&set.archives, period, silence)
        });
        Some(set)
    };
    let ok = set.as_ref().is_none_or(|s| s.ok) && cloudtrail.iter().all(|c| c.report.verified);
    if json {
        match (&set, cloudtrail.is_empty()) {
            // Archives only: the document as it always was.
            (Some(set), true) => println!("{}", auditlens::safe_text::to_json_pretty(set)?),
            _ => println!(
                "{}",
                auditlens::safe_text::to_json_pretty(&serde_json::json!({
                    "ok": ok,
                    "archives": set,
                    "cloudtrail": cloudtrail
                        .iter()
                        .map(CloudTrailExport::json)
                        .collect::<Result<Vec<_>, _>>()?,
                }))?
            ),
        }
    } else {
        if let Some(set) = &set {
            render::verify_set(set);
            if let Some(c) = &set.coverage {
                render::coverage(c);
            }
        }
        for c in &cloudtrail {
            render::cloudtrail_export(&c.path, &c.report);
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One CloudTrail export folder and its verification.
struct CloudTrailExport {
    path: String,
    report: ExportReport,
}

impl CloudTrailExport {
    /// The report as JSON, with the folder's path first.
    fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        let mut v = serde_json::json!({ "path": self.path });
        if let (Some(obj), serde_json::Value::Object(report)) =
            (v.as_object_mut(), serde_json::to_value(&self.report)?)
        {
            obj.extend(report);
        }
        Ok(v)
    }
}

/// The AWS keys and external digest signatures given on the command line.
pub(crate) fn aws_trust(aws: &AwsOptions) -> Result<(AwsKeys, ExternalSignatures), Fatal> {
    // Printed escaped, as every fatal message (render::fatal).
    cloudtrail_digest::check_accounts(aws.accounts)
        .map_err(|why| Fatal(format!("--aws-account: {why}")))?;
    if aws.keys.is_empty() {
        return Err(Fatal(
            "a CloudTrail export needs --aws-keys KEYS.json: the AWS public keys, as `aws cloudtrail list-public-keys` prints them (docs/cloudtrail.md)".into(),
        ));
    }
    let mut keys = AwsKeys::new();
    for path in aws.keys {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        keys.add_json(&bytes)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let signatures = match aws.signatures {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            ExternalSignatures::from_mapping_json(&bytes)
                .map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => ExternalSignatures::new(),
    };
    Ok((keys, signatures))
}
