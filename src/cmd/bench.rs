//! `auditlens bench`: the benchmarks of the `auditlens-bench` crate.

use std::path::Path;
use std::process::ExitCode;

use auditlens_bench::{bench, bench_store};

use super::Fatal;
use crate::render;

pub fn run(events: u64, dir: &Path, only: Option<&str>, runs: usize) -> Result<ExitCode, Fatal> {
    if !matches!(only, None | Some("archive") | Some("store")) {
        return Err(Fatal("--only takes `archive` or `store`".into()));
    }
    render::bench_heading(events, dir, num_cores());
    if only != Some("store") {
        let figures = bench::archive_section(dir, events)?;
        bench::print_table(
            "archive: seal and verify 100% Kubernetes audit events vs SHA-256 over the same bytes",
            &figures,
        );
    }
    if only != Some("archive") {
        let (import, queries) = bench_store::store_section(dir, events, runs.max(1))?;
        bench::print_table(
            "store: import of 70% Kubernetes + 30% CloudTrail events, beside what SQLite alone takes for the same bytes",
            &import,
        );
        bench_store::print_queries(&queries);
        let dashboards = bench_store::dashboard_section(dir, events, runs.max(1))?;
        bench_store::print_dashboards(&dashboards);
    }
    Ok(ExitCode::SUCCESS)
}

fn num_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
