//! `auditlens import`: verify archives and store them in the evidence database, atomically per archive.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use auditlens::sources::SourceKind;
use std::time::Instant;

use auditlens::store::import::{BatchStep, ImportOptions};
use auditlens::trust::TrustPolicy;

use super::{CoveragePeriod, Fatal};
use crate::render;

pub fn run(
    db: &Path,
    policy: &TrustPolicy,
    keep_failed: bool,
    json: bool,
    period: CoveragePeriod,
    as_kind: Option<SourceKind>,
    archives: &[PathBuf],
) -> Result<ExitCode, Fatal> {
    for a in archives {
        std::fs::metadata(a).map_err(|e| format!("{}: {e}", a.display()))?;
        if auditlens::cloudtrail_digest::export_input(a).is_some() {
            return Err(Fatal(format!(
                "{}: an AWS CloudTrail export; importing CloudTrail exports into the database is not built yet: verify it offline with `auditlens verify --aws-keys KEYS.json {}` (docs/cloudtrail.md)",
                a.display(),
                a.display()
            )));
        }
    }
    let mut store = super::open_store(db)?;
    let opts = ImportOptions {
        trust: policy,
        keep_failed,
    };
    let show_progress = std::io::stderr().is_terminal() && !json;
    let mut all_ok = true;
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
                    match serde_json::to_string(&result) {
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
