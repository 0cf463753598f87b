//! `auditlens export-parquet`: verified events as OCSF Parquet in Security Lake's layout, with a signed manifest
//! (docs/ocsf-export.md).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use auditlens::ocsf::{ExportProgress, ParquetExportError, ParquetExportOptions, export_parquet};
use auditlens::store::search::SearchError;

use super::stats::time_option;
use super::{Fatal, open_existing, read_signer};
use crate::render;

pub struct Args<'a> {
    pub db: &'a Path,
    pub query: &'a str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub all_stages: bool,
    pub key: &'a Path,
    pub out: &'a Path,
    pub aws_keys: &'a [std::path::PathBuf],
    pub json: bool,
}

pub fn run(a: &Args<'_>) -> Result<ExitCode, Fatal> {
    let auditor = read_signer(a.key)?;
    let from = a.from.map(|v| time_option("--from", v)).transpose()?;
    let to = a.to.map(|v| time_option("--to", v)).transpose()?;
    let aws = super::read_aws_keys(a.aws_keys)?;
    let store = open_existing(a.db)?;
    let opts = ParquetExportOptions {
        query: a.query,
        from,
        to,
        all_stages: a.all_stages,
        auditor: &auditor,
        out: a.out,
        now_micros: chrono::Utc::now().timestamp_micros(),
        aws_keys: Some(&aws),
    };
    let show = std::io::stderr().is_terminal() && !a.json;
    let t0 = Instant::now();
    let mut last = Instant::now();
    let mut progress = |p: ExportProgress| {
        if show && (last.elapsed().as_millis() >= 200 || p.rows == p.total) {
            last = Instant::now();
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r{}",
                render::export_progress_line(p.rows, p.total, t0.elapsed())
            );
            let _ = err.flush();
        }
    };
    let result = export_parquet(&store, &opts, &mut progress);
    if show {
        eprintln!();
    }
    match result {
        Ok(s) => {
            auditlens::papers::log_to(
                a.db,
                "OCSF Parquet exported",
                &s.out,
                &format!(
                    "{} in {}, {} bytes; query: {}",
                    auditlens::report::count(s.rows, "event"),
                    auditlens::report::count(s.files, "file"),
                    s.bytes,
                    a.query
                ),
            )?;
            if a.json {
                println!("{}", auditlens::safe_text::to_json_pretty(&s)?);
            } else {
                render::parquet_exported(&s, t0.elapsed(), &auditor.verifier());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ParquetExportError::Refused(why)) => {
            render::parquet_refused(&why);
            Ok(ExitCode::from(1))
        }
        Err(ParquetExportError::Search(SearchError::Query(q))) => {
            Err(Fatal(render::query_error(a.query, &q)))
        }
        Err(e) => Err(Fatal(e.to_string())),
    }
}
