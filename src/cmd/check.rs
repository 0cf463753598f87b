//! `auditlens check`: re-verify the whole database, trusting nothing in the file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{CoveragePeriod, Fatal, open_existing, read_policy};
use crate::render;

pub fn run(
    db: &Path,
    trust: &[PathBuf],
    trust_policy: &[PathBuf],
    aws_keys: &[PathBuf],
    json: bool,
    period: CoveragePeriod,
) -> Result<ExitCode, Fatal> {
    let policy = read_policy(trust, trust_policy)?;
    let aws = super::read_aws_keys(aws_keys)?;
    let store = open_existing(db)?;
    let result = store.check_policy_aws(Some(&policy), &aws, &mut |_| true)?;
    auditlens::papers::log_to(
        db,
        "re-check",
        &db.display().to_string(),
        &if result.ok {
            format!(
                "OK: {}, {} re-verified",
                auditlens::report::count(result.archives_checked, "archive"),
                auditlens::report::count(result.events_checked, "event")
            )
        } else {
            format!("NOT OK: {} problem(s)", result.problems.len())
        },
    )?;
    let coverage = period
        .map(|(period, silence)| store.coverage(period, silence))
        .transpose()?;
    if json {
        let mut doc = serde_json::to_value(&result)?;
        if let (Some(c), Some(map)) = (&coverage, doc.as_object_mut()) {
            map.insert("coverage".into(), serde_json::to_value(c)?);
        }
        println!("{}", auditlens::safe_text::to_json_pretty(&doc)?);
    } else {
        render::check(db, &result);
    }
    if let (Some(c), false) = (&coverage, json) {
        render::coverage(c);
    }
    Ok(if result.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
