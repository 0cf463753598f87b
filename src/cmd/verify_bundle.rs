//! `auditlens verify-bundle`: an evidence bundle, read as hostile input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{Fatal, read_policy, read_trusted};
use crate::render;

pub fn run(
    trust: &[PathBuf],
    trust_policy: &[PathBuf],
    trust_auditor: &[PathBuf],
    aws_keys: &[PathBuf],
    json: bool,
    bundle: &Path,
) -> Result<ExitCode, Fatal> {
    let producers = read_trusted(trust)?;
    let policy = read_policy(&[], trust_policy)?;
    let auditors = read_trusted(trust_auditor)?;
    let mut aws = super::read_aws_keys(aws_keys)?;
    // The policy's `aws-cloudtrail:` grants say for which accounts and regions each AWS key is trusted.
    aws.apply_policy(&policy);
    let opts = auditlens::bundle::VerifyOptions {
        trusted_producers: &producers,
        trusted_auditors: &auditors,
        producer_policy: Some(&policy),
        aws_keys: Some(&aws),
    };
    let v = auditlens::bundle::verify_bundle(bundle, &opts)
        .map_err(|e| format!("{}: {e}", bundle.display()))?;
    if json {
        println!("{}", auditlens::safe_text::to_json_pretty(&v)?);
    } else {
        render::verify_bundle(&v);
    }
    Ok(if v.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
