//! `auditlens verify`: archives and their continuity, under the trust given.

use std::path::PathBuf;
use std::process::ExitCode;

use auditlens::note::VerifierKey;
use auditlens::report::VerifySetReport;
use auditlens::trust::TrustPolicy;

use super::{CoveragePeriod, Fatal};
use crate::render;

pub fn run(
    policy: &TrustPolicy,
    json: bool,
    period: CoveragePeriod,
    archives: &[PathBuf],
) -> Result<ExitCode, Fatal> {
    let mut reports = Vec::new();
    let decide = |o: &str, k: &VerifierKey, c: Option<i64>| policy.decide(o, k, c, &[]);
    for path in archives {
        let r =
            auditlens::verify::verify_archive_with(path, &decide, &mut auditlens::verify::NoSink)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        reports.push(r);
    }
    // Bare keys are pinned per origin on first use, in sequence order across the set.
    auditlens::verify::apply_first_use(&mut reports, policy);
    let mut set = VerifySetReport::new(reports);
    set.coverage = period
        .map(|(period, silence)| auditlens::coverage::from_reports(&set.archives, period, silence));
    if json {
        println!("{}", serde_json::to_string_pretty(&set)?);
    } else {
        render::verify_set(&set);
        if let Some(c) = &set.coverage {
            render::coverage(c);
        }
    }
    Ok(if set.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
