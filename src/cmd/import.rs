//! `auditlens import`: verify archives and store them in the evidence database, atomically per archive.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use auditlens::sources::SourceKind;
use std::time::Instant;

use auditlens::store::import::{BatchStep, CloudTrailStep, ImportOptions};
use auditlens::trust::TrustPolicy;

use super::verify::AwsOptions;
use super::{CoveragePeriod, Fatal};
use crate::render;

#[allow(clippy::too_many_arguments)]
pub fn run(
    db: &Path,
    policy: &TrustPolicy,
    keep_failed: bool,
    json: bool,
    period: CoveragePeriod,
    as_kind: Option<SourceKind>,
    aws: &AwsOptions<'_>,
    inputs: &[PathBuf],
) -> Result<ExitCode, Fatal> {
    // CloudTrail exports (folders holding AWSLogs/, or ZIPs or tars of one) are verified with AWS's signatures
    // and stored when they verify in full; everything else is an archive.
    let mut exports = Vec::new();
    let mut archives = Vec::new();
    for a in inputs {
        std::fs::metadata(a).map_err(|e| format!("{}: {e}", a.display()))?;
        match auditlens::cloudtrail_digest::export_input(a) {
            Some(_) => exports.push(a.clone()),
            None => archives.push(a.clone()),
        }
    }
    let aws_keys = if exports.is_empty() {
        if aws.given() {
            return Err(Fatal(
                "--aws-keys, --aws-signatures and --aws-account are for CloudTrail exports (AWSLogs/<account>/CloudTrail-Digest/...), and none was given".into(),
            ));
        }
        None
    } else {
        if keep_failed || as_kind.is_some() {
            return Err(Fatal(
                "--keep-failed and --as are for signed archives: a CloudTrail export is stored only when it verifies, under the CloudTrail mapper".into(),
            ));
        }
        let (mut keys, signatures) = super::verify::aws_trust(aws)?;
        keys.apply_policy(policy);
        Some((keys, signatures))
    };
    let mut store = super::open_store(db)?;
    let mut all_ok = true;
    if let Some((keys, signatures)) = &aws_keys {
        for path in &exports {
            let show = std::io::stderr().is_terminal() && !json;
            let name = path.display().to_string();
            let shown = auditlens::safe_text::safe(&name);
            let result =
                store.import_cloudtrail(path, keys, signatures, aws.accounts, &mut |p| {
                    if show {
                        match p {
                            CloudTrailStep::Verifying { done, total } => {
                                eprint!("\r\x1b[K{shown}: verifying log files {done}/{total}")
                            }
                            CloudTrailStep::Storing {
                                done,
                                total,
                                events,
                            } => eprint!(
                                "\r\x1b[K{shown}: storing log files {done}/{total}, {events} events"
                            ),
                        }
                    }
                    true
                })?;
            if show {
                eprint!("\r\x1b[K");
            }
            all_ok &= result.is_ok();
            if json {
                println!("{}", auditlens::safe_text::to_json(&result)?);
            } else {
                render::cloudtrail_imported(&result);
            }
        }
    }
    let archives = &archives[..];
    let opts = ImportOptions {
        trust: policy,
        keep_failed,
    };
    let show_progress = std::io::stderr().is_terminal() && !json;
    let mut fatal: Option<Fatal> = None;
    let mut started = Instant::now();
    store.import_batch(archives, &opts, as_kind, &mut |step| {
        match step {
            BatchStep::Started { .. } => started = Instant::now(),
            BatchStep::Progress { index, progress } => {
                if show_progress {
                    let path = archives[index].display().to_string();
                    eprint!(
                        "\r{}",
                        render::progress_line(&path, progress, started.elapsed())
                    );
                }
            }
            BatchStep::Finished { path, result, .. } => {
                if show_progress {
                    eprint!("\r\x1b[K");
                }
                all_ok &= result.is_ok();
                if json {
                    match auditlens::safe_text::to_json(&result) {
                        Ok(line) => println!("{line}"),
                        Err(e) => {
                            fatal = Some(e.into());
                            return false;
                        }
                    }
                } else {
                    render::imported(path, &result);
                }
            }
            BatchStep::Failed { error, .. } => {
                if show_progress {
                    eprint!("\r\x1b[K");
                }
                // The store could not do it (an unreadable file, a database error): stop, exit 2.
                fatal = Some(error.into());
                return false;
            }
        }
        true
    });
    if let Some(f) = fatal {
        return Err(f);
    }
    // The archives are stored; `import` returns once their text is indexed too (the app indexes in the
    // background).
    store.finish_text_index(&mut |status| {
        if show_progress {
            eprint!("\r\x1b[Kindexing text: {}%", status.percent());
        }
    })?;
    if show_progress {
        eprint!("\r\x1b[K");
    }
    if let Some((period, silence)) = period {
        let c = store.coverage(period, silence)?;
        if json {
            println!("{}", serde_json::json!({ "coverage": c }));
        } else {
            render::coverage(&c);
        }
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
