//! `auditlens bench`: the benchmarks of the `auditlens-bench` crate.

use std::path::Path;
use std::process::ExitCode;

use auditlens_bench::{bench, bench_store};

use super::Fatal;
use crate::render;

pub fn run(
    events: u64,
    dir: &Path,
    only: Option<&str>,
    runs: usize,
    repeat: usize,
    step: u64,
) -> Result<ExitCode, Fatal> {
    if step == 0 {
        return Err(Fatal("--step takes a number of events above 0".into()));
    }
    if !matches!(
        only,
        None | Some("archive")
            | Some("store")
            | Some("export")
            | Some("dashboards")
            | Some("pages")
            | Some("cloudtrail")
    ) {
        return Err(Fatal(
            "--only takes `archive`, `store`, `dashboards`, `export`, `pages` or `cloudtrail`"
                .into(),
        ));
    }
    render::bench_heading(events, dir, num_cores());
    if only.is_none() || only == Some("archive") {
        let figures = bench::archive_section(dir, events, repeat)?;
        bench::print_table(
            "archive: seal and verify 100% Kubernetes audit events vs SHA-256 over the same bytes",
            &figures,
        );
    }
    if only.is_none() || only == Some("store") {
        let figures = bench_store::store_section(dir, events, step, runs.max(1), repeat)?;
        let import = &figures.import;
        bench::print_table(
            "store: import of 70% Kubernetes + 30% CloudTrail events, beside what SQLite alone takes for the same bytes",
            import,
        );
        let raw: u64 = figures.steps.iter().map(|s| s.ready.bytes).sum();
        let db = dir.join(format!("store-{events}.db"));
        let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let (store_bytes, text_bytes) =
            (size(&db), size(&auditlens::store::text_index::path_of(&db)));
        let per = |b: u64| b as f64 / events.max(1) as f64;
        println!(
            "  sizes per event: store {:.0} bytes + text index {:.0} bytes = {:.0} bytes; raw JSON {:.0} bytes \
             ({:.2}x the raw JSON)",
            per(store_bytes),
            per(text_bytes),
            per(store_bytes + text_bytes),
            per(raw),
            (store_bytes + text_bytes) as f64 / raw.max(1) as f64
        );
        if figures.steps.len() > 1 {
            println!(
                "\ngrowth: {events} events imported as {} steps of up to {step} (an archive of Kubernetes audit \
                 events and one of CloudTrail records each), one after the other into one store",
                figures.steps.len()
            );
            bench_store::print_growth(&figures.steps);
        }
        let queries = figures.queries;
        bench_store::print_queries(&queries);
        bench_store::print_dashboards(&bench_store::dashboard_section(dir, events, runs.max(1))?);
        bench::print_table(
            "check: the whole store re-verified (auditlens check: integrity, signatures, events, roots, chains, summary \
             tables, text index), beside its import",
            &figures.check,
        );
    }
    if only == Some("dashboards") {
        bench_store::print_dashboards(&bench_store::dashboard_section(dir, events, runs.max(1))?);
    }
    if only.is_none() || only == Some("store") || only == Some("pages") {
        let pages = bench_store::pages_section(dir, events, runs.max(1))?;
        bench_store::print_pages(&pages);
    }
    if only.is_none() || only == Some("export") {
        let (figures, parquet_bytes) = bench_store::export_section(dir, events, repeat)?;
        bench::print_table(
            "export: OCSF Parquet of every stored event (docs/ocsf-export.md), beside reading the same events",
            &figures,
        );
        let raw = figures.first().map_or(0, |f| f.bytes);
        println!(
            "  Parquet: {} bytes for {events} events ({:.0} bytes per event; {:.2}x the raw JSON's {} bytes)",
            parquet_bytes,
            parquet_bytes as f64 / events.max(1) as f64,
            parquet_bytes as f64 / raw.max(1) as f64,
            raw
        );
    }
    if only.is_none() || only == Some("cloudtrail") {
        let figures = auditlens_bench::bench_cloudtrail::cloudtrail_section(dir, events, repeat)?;
        bench::print_table(
            "cloudtrail: an AWS CloudTrail export (hourly digests, a log file every 5 minutes) verified and imported, \
             beside gunzip + SHA-256 of its log files",
            &figures,
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn num_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
