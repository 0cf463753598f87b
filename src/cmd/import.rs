//! `auditlens import`: verify archives and store them in the evidence database, atomically per archive.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use auditlens::sources::SourceKind;
use auditlens::store::import::ImportOptions;
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
    }
    let mut store = auditlens::store::Store::open(db)?;
    let opts = ImportOptions {
        trust: policy,
        keep_failed,
    };
    let show_progress = std::io::stderr().is_terminal() && !json;
    let mut all_ok = true;
    // Origins of the archives given so far, stored or not: a look-alike among them is flagged as well.
    let mut run_origins: Vec<String> = Vec::new();
    for path in archives {
        let started = std::time::Instant::now();
        let mut on_progress = |p: &auditlens::verify::Progress| {
            if show_progress {
                eprint!(
                    "\r{}",
                    render::progress_line(&path.display().to_string(), p, started.elapsed())
                );
            }
            true
        };
        let mut result = store.import_archive_as(path, &opts, as_kind, &mut on_progress)?;
        if show_progress {
            eprint!("\r\x1b[K");
        }
        all_ok &= result.is_ok();
        if let Some(origin) = &result.report.origin {
            let in_run =
                auditlens::safe_text::lookalikes_of(origin, run_origins.iter().map(String::as_str));
            result.lookalikes.extend(in_run);
            result.lookalikes.sort();
            result.lookalikes.dedup();
            run_origins.push(origin.clone());
        }
        if json {
            println!("{}", serde_json::to_string(&result)?);
            continue;
        }
        render::imported(path, &result);
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
