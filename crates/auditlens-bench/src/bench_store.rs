//! `auditlens bench --store`: import rate and peak memory of a generated store of N realistic events (70%
//! Kubernetes audit, 30% CloudTrail), and first-page / count latency (p50, p95) of a fixed set of ten queries,
//! each printed beside the time ripgrep (or grep) takes to scan the same events as raw JSON Lines, measured in the
//! same run; then the latency of each dashboard function (`stats`, `overview`, `deployments`, `access`).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::bench::{BenchError, Figure, Sample, Stopwatch};
use auditlens::note::SignerKey;
use auditlens::seal::{SealOptions, seal};
use auditlens::store::Store;
use auditlens::store::import::{ImportOptions, ImportOutcome};

/// A benchmark query: the AuditLens query and the literal a raw scan looks for to answer the same question.
pub struct BenchQuery {
    pub label: &'static str,
    pub query: String,
    pub scan: String,
}

/// Query latency figures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueryFigure {
    pub label: String,
    pub query: String,
    pub matches: u64,
    pub first_page_p50_ms: f64,
    pub first_page_p95_ms: f64,
    pub count_p50_ms: f64,
    pub count_p95_ms: f64,
    /// The whole raw scan counting matching lines (median of 3), ms.
    pub scan_ms: f64,
    /// The raw scan until its first 50 matching lines (median of 3), ms.
    pub scan_first_50_ms: f64,
    pub scan_tool: String,
    /// Lines the scan counted: equal to `matches` only where its literal stands for the query exactly.
    pub scan_count: u64,
}

const K8S_SHARE: f64 = 0.7;
const BASE_SECS: i64 = 1_717_200_000;

/// A store of more events than this is built the way stores really grow: by importing one step of this many
/// events after another (issue 13: ten archives of 1M), each step an archive of Kubernetes audit events and one of
/// CloudTrail records, each chained to the same origin's archive of the step before.
pub const STEP_EVENTS: u64 = 1_000_000;

/// One step of the store's growth: its generated JSON Lines and the archives sealed from them.
struct Step {
    events: u64,
    jsonl: [PathBuf; 2],
    archives: [PathBuf; 2],
}

/// The number of events of each step: `step` each, the last one what is left.
fn step_sizes(n: u64, step: u64) -> Vec<u64> {
    let step = step.max(1);
    (0..n.div_ceil(step))
        .map(|s| step.min(n - s * step))
        .collect()
}

/// Generates and seals the steps of a store of `n` events. Step 0's files are named as a one-step store's were
/// (a store of at most `step` events is built exactly as before); each later step's events start where the
/// step before's time span ends, with their own random seeds, so the steps hold different events.
fn generate(dir: &Path, n: u64, step: u64) -> Result<Vec<Step>, BenchError> {
    std::fs::create_dir_all(dir)?;
    let key =
        SignerKey::from_seed("bench", &[7u8; 32]).map_err(|e| BenchError::Failed(e.to_string()))?;
    let sizes = step_sizes(n, step);
    // Kubernetes events are 20 a second, CloudTrail records 10 a second (generate.rs): a step's span.
    let first = sizes.first().copied().unwrap_or(0);
    let span = ((first as f64 * K8S_SHARE) as i64 / 20)
        .max((first as i64 - (first as f64 * K8S_SHARE) as i64) / 10)
        + 60;
    let mut steps: Vec<Step> = Vec::new();
    for (s, &m) in sizes.iter().enumerate() {
        let k8s_n = (m as f64 * K8S_SHARE) as u64;
        let ct_n = m - k8s_n;
        let suffix = if s == 0 {
            String::new()
        } else {
            format!("-step{s}")
        };
        let base = BASE_SECS + s as i64 * span;
        let seed = 100 * s as u64;
        let k8s = dir.join(format!("store-k8s-{k8s_n}{suffix}.jsonl"));
        let ct = dir.join(format!("store-ct-{ct_n}{suffix}.jsonl"));
        for (path, write) in [(&k8s, true), (&ct, false)] {
            if path.exists() {
                continue;
            }
            let tmp = path.with_extension("jsonl.tmp");
            let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
            if write {
                crate::generate::write_k8s(&mut out, k8s_n, 11 + seed, base)?;
            } else {
                crate::generate::write_cloudtrail(&mut out, ct_n, 12 + seed, base)?;
            }
            std::io::Write::flush(&mut out)?;
            drop(out);
            std::fs::rename(&tmp, path)?;
        }
        let mut archives = Vec::new();
        for (i, (input, origin)) in [
            (&k8s, "bench.auditlens.dev/k8s"),
            (&ct, "bench.auditlens.dev/cloudtrail"),
        ]
        .into_iter()
        .enumerate()
        {
            let out = input.with_extension("zip");
            if !out.exists() {
                let inputs = [input.clone()];
                let prev = steps.last().map(|p| p.archives[i].clone());
                seal(&SealOptions {
                    key: &key,
                    origin,
                    prev: prev.as_deref(),
                    format: None,
                    mapping: None,
                    out: &out,
                    inputs: &inputs,
                    receive: false,
                })
                .map_err(|e| BenchError::Failed(e.to_string()))?;
            }
            archives.push(out);
        }
        let [a, b]: [PathBuf; 2] = archives.try_into().expect("two archives a step");
        steps.push(Step {
            events: m,
            jsonl: [k8s, ct],
            archives: [a, b],
        });
    }
    Ok(steps)
}

/// The ten queries, with the raw-scan literal for each.
pub fn queries(sample_audit_id: &str) -> Vec<BenchQuery> {
    let q = |label, query: &str, scan: &str| BenchQuery {
        label,
        query: query.into(),
        scan: scan.into(),
    };
    vec![
        q(
            "selective field",
            "actor:carol@example.com action:delete",
            "\"username\":\"carol@example.com\"",
        ),
        q("rare word", sample_audit_id, sample_audit_id),
        q("common word", "platform", "platform"),
        q("phrase", "\"cannot list resource\"", "cannot list resource"),
        q(
            "time range (1 h)",
            "after:2024-06-01T04:00:00Z before:2024-06-01T05:00:00Z",
            "2024-06-01T04:",
        ),
        q(
            "field prefix",
            "actor:system:serviceaccount:*",
            "system:serviceaccount:",
        ),
        q("outcome", "outcome:denied", "\"code\":403"),
        q(
            "combination",
            "category:access outcome:denied -actor:system:anonymous",
            "Forbidden",
        ),
        q(
            "cloudtrail action",
            "source:cloudtrail action:sts:AssumeRole",
            "\"eventName\":\"AssumeRole\"",
        ),
        q(
            "field + word",
            "env:payments deployments",
            "\"namespace\":\"payments\"",
        ),
        q(
            "dashboard drill",
            "category:deployment -stage:RequestReceived -stage:ResponseStarted status:verified",
            "\"verb\":\"patch\"",
        ),
    ]
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples
        .get(i)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// What a raw scan of the JSON Lines files takes for one literal, with `rg` (or grep when there is none): the
/// median of 3 runs each.
struct Scan {
    tool: String,
    /// `TOOL -c -F LITERAL FILES`: the whole scan, ms.
    count_ms: f64,
    /// The lines it counted (summed over the files).
    count: u64,
    /// `TOOL -F LITERAL FILES` (`rg -j1`) until it has printed its first 50 matching lines (or all of them, when
    /// fewer), ms: what a first page of results costs a raw scan.
    first_50_ms: f64,
}

fn median_ms(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn scan(files: &[PathBuf], literal: &str) -> Scan {
    use std::io::BufRead;
    let tool = if Command::new("rg").arg("--version").output().is_ok() {
        "rg"
    } else {
        "grep"
    };
    let (mut counts, mut firsts) = (Vec::new(), Vec::new());
    let mut count = 0;
    for _ in 0..3 {
        let start = Instant::now();
        let out = Command::new(tool)
            .args(["-c", "-F", literal])
            .args(files)
            .output();
        let t = start.elapsed().as_secs_f64() * 1000.0;
        if let Ok(out) = out {
            counts.push(t);
            count = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| l.rsplit(':').next()?.trim().parse::<u64>().ok())
                .sum();
        }
        // One thread: searching files in parallel, rg holds each file's matches until that file is done (0.9 s
        // instead of 7 ms for the first 50 matches of a common word here).
        let one_thread: &[&str] = if tool == "rg" { &["-j1"] } else { &[] };
        let start = Instant::now();
        let child = Command::new(tool)
            .args(one_thread)
            .args(["-F", literal])
            .args(files)
            .stdout(std::process::Stdio::piped())
            .spawn();
        if let Ok(mut child) = child {
            if let Some(out) = child.stdout.take() {
                let mut lines = std::io::BufReader::with_capacity(1 << 20, out).split(b'\n');
                let mut seen = 0;
                while seen < 50 && matches!(lines.next(), Some(Ok(_))) {
                    seen += 1;
                }
                firsts.push(start.elapsed().as_secs_f64() * 1000.0);
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    Scan {
        tool: tool.into(),
        count_ms: median_ms(counts),
        count,
        first_50_ms: median_ms(firsts),
    }
}

/// Runs the store section: import figure, then query figures.
/// One step of the store's growth, over the runs: when its rows were ready and its text indexed (medians), the
/// store's size after it and the highest peak memory.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StepFigure {
    /// Events in the store after this step.
    pub total: u64,
    /// Events this step imported.
    pub events: u64,
    pub ready: Figure,
    pub indexed: Figure,
    /// The store, its text index and their WAL files after this step, bytes.
    pub store_bytes: u64,
}

/// What the store section measured.
pub struct StoreFigures {
    /// The SQLite floors, then the import (all steps together).
    pub import: Vec<Figure>,
    /// Each step of the import, in order (one when the store holds at most [`STEP_EVENTS`]).
    pub steps: Vec<StepFigure>,
    pub queries: Vec<QueryFigure>,
    /// The whole store re-verified (`auditlens check`), beside its import.
    pub check: Vec<Figure>,
}

/// The bytes of a store and its text index, with their WAL files.
fn store_size(db: &Path) -> u64 {
    let text = auditlens::store::text_index::path_of(db);
    ["", "-wal"]
        .iter()
        .flat_map(|suffix| {
            [
                format!("{}{suffix}", db.display()),
                format!("{}{suffix}", text.display()),
            ]
        })
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum()
}

pub fn store_section(
    dir: &Path,
    n: u64,
    step: u64,
    runs: usize,
    repeat: usize,
) -> Result<StoreFigures, BenchError> {
    let steps = generate(dir, n, step)?;
    let key =
        SignerKey::from_seed("bench", &[7u8; 32]).map_err(|e| BenchError::Failed(e.to_string()))?;
    let files: Vec<PathBuf> = steps.iter().flat_map(|s| s.jsonl.clone()).collect();
    let size_of = |paths: &[PathBuf]| -> Result<u64, BenchError> {
        paths.iter().map(|p| Ok(std::fs::metadata(p)?.len())).sum()
    };
    let bytes = size_of(&files)?;
    let db = dir.join(format!("store-{n}.db"));
    // Warm the page cache for the archives.
    for a in steps.iter().flat_map(|s| &s.archives) {
        auditlens::archive::sha256_file(a)?;
    }
    let trusted = [key.verifier()];
    let policy = auditlens::trust::TrustPolicy::from_keys(&trusted);
    // Per step, one sample per run: rows ready, text indexed.
    let mut step_samples: Vec<(Vec<Sample>, Vec<Sample>)> = vec![Default::default(); steps.len()];
    let mut sizes = vec![0u64; steps.len()];
    let (mut stored, mut indexed) = (Vec::new(), Vec::new());
    for _ in 0..repeat.max(1) {
        for suffix in [
            "",
            "-wal",
            "-shm",
            "-journal",
            ".text",
            ".text-wal",
            ".text-shm",
        ] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        let (mut ready_total, mut indexed_total) = (Sample::ZERO, Sample::ZERO);
        for (i, s) in steps.iter().enumerate() {
            // Each step as `auditlens import` of its two archives: the store opened, both archives imported
            // (rows ready), the text index caught up, the store closed (text indexed).
            let watch = Stopwatch::start();
            let mut store = Store::open(&db).map_err(|e| BenchError::Failed(e.to_string()))?;
            for a in &s.archives {
                let r = store
                    .import_archive(
                        a,
                        &ImportOptions {
                            trust: &policy,
                            keep_failed: false,
                        },
                        &mut |_| true,
                    )
                    .map_err(|e| BenchError::Failed(e.to_string()))?;
                if r.outcome != ImportOutcome::Imported {
                    return Err(BenchError::Failed(format!(
                        "{}: {}",
                        a.display(),
                        r.message
                    )));
                }
            }
            let ready = watch.lap();
            store
                .finish_text_index(&mut |_| {})
                .map_err(|e| BenchError::Failed(e.to_string()))?;
            drop(store);
            let done = watch.lap();
            ready_total = ready_total.then(ready);
            indexed_total = indexed_total.then(done);
            step_samples[i].0.push(ready);
            step_samples[i].1.push(done);
            sizes[i] = store_size(&db);
        }
        stored.push(ready_total);
        indexed.push(indexed_total);
    }
    let mut total = 0;
    let step_figures = steps
        .iter()
        .zip(&step_samples)
        .zip(&sizes)
        .map(|((s, (ready, done)), &store_bytes)| {
            total += s.events;
            let bytes = size_of(&s.jsonl)?;
            Ok(StepFigure {
                total,
                events: s.events,
                ready: Figure::of("rows ready", s.events, bytes, ready),
                indexed: Figure::of("text indexed", s.events, bytes, done),
                store_bytes,
            })
        })
        .collect::<Result<Vec<_>, BenchError>>()?;
    // The floors and the import side by side for the same events: the first step's (all of them when the store
    // is one step); the steps after it are in the growth table.
    let first = step_figures
        .first()
        .ok_or_else(|| BenchError::Failed("no events".into()))?;
    let mut import_figures = sqlite_floors(dir, &db, first.events, first.ready.bytes, repeat)?;
    let (ready, done) = if steps.len() == 1 {
        (stored, indexed.clone())
    } else {
        (step_samples[0].0.clone(), step_samples[0].1.clone())
    };
    let of_first = if steps.len() == 1 {
        ""
    } else {
        " (first step)"
    };
    import_figures.push(Figure::of(
        &format!("import: verified, stored, dashboards ready{of_first}"),
        first.events,
        first.ready.bytes,
        &ready,
    ));
    import_figures.push(Figure::of(
        &format!("import: fully text-indexed{of_first}"),
        first.events,
        first.ready.bytes,
        &done,
    ));

    let store = Store::open_read_only(&db).map_err(|e| BenchError::Failed(e.to_string()))?;
    // A benchmark of a wrong result is worthless: every event must be in the store.
    let stored = store
        .event_count()
        .map_err(|e| BenchError::Failed(e.to_string()))?;
    if stored != n {
        return Err(BenchError::Failed(format!(
            "the store holds {stored} events after importing {n}"
        )));
    }
    let audit_id: String = store
        .connection()
        .query_row(
            "SELECT json_extract(raw, '$.auditID') FROM events WHERE idx = ?1 AND source = 'k8s'",
            [first.events / 3],
            |r| r.get(0),
        )
        .map_err(|e| BenchError::Failed(e.to_string()))?;
    let now = (BASE_SECS + 365 * 86400) * 1_000_000;
    let mut figures = Vec::new();
    for q in queries(&audit_id) {
        let fail = |e: auditlens::store::search::SearchError| {
            BenchError::Failed(format!("{}: {e}", q.query))
        };
        let (mut page, mut count) = (Vec::new(), Vec::new());
        let mut matches = 0;
        for _ in 0..runs {
            let t = Instant::now();
            store.search(&q.query, 50, None, now).map_err(fail)?;
            page.push(t.elapsed());
            let t = Instant::now();
            matches = store.count(&q.query, now).map_err(fail)?;
            count.push(t.elapsed());
        }
        let raw = scan(&files, &q.scan);
        figures.push(QueryFigure {
            label: q.label.into(),
            query: q.query.clone(),
            matches,
            first_page_p50_ms: percentile(&mut page, 0.5),
            first_page_p95_ms: percentile(&mut page, 0.95),
            count_p50_ms: percentile(&mut count, 0.5),
            count_p95_ms: percentile(&mut count, 0.95),
            scan_ms: raw.count_ms,
            scan_first_50_ms: raw.first_50_ms,
            scan_tool: raw.tool,
            scan_count: raw.count,
        });
    }

    // `auditlens check` of the whole store (its schema and integrity, every archive's signature, events, root and
    // chain, the summary tables and the text index), beside the import that built it.
    drop(store);
    let mut checked = Vec::new();
    for _ in 0..repeat.max(1) {
        let watch = Stopwatch::start();
        // Opened for writing as `auditlens check` opens it (FTS5's integrity-check is an INSERT).
        let store = Store::open(&db).map_err(|e| BenchError::Failed(e.to_string()))?;
        let report = store
            .check_policy(Some(&policy), &mut |_| true)
            .map_err(|e| BenchError::Failed(format!("check: {e}")))?;
        checked.push(watch.lap());
        if !report.problems.is_empty() {
            return Err(BenchError::Failed(format!(
                "check found {} problems in the benchmark's store, the first: {:?}",
                report.problems.len(),
                report.problems[0]
            )));
        }
    }
    let check = vec![
        Figure::of(
            "import: fully text-indexed (every step)",
            n,
            bytes,
            &indexed,
        ),
        Figure::of("check: the whole store re-verified", n, bytes, &checked),
    ];
    Ok(StoreFigures {
        import: import_figures,
        steps: step_figures,
        queries: figures,
        check,
    })
}

/// What SQLite alone takes for the same event bytes, in the store's own settings (WAL, one transaction): storing
/// them as rows `(id, raw)` in id order, and building the FTS5 index of them (same tokenizer and merge setting as
/// the store's). The full-text index is the floor an import that indexes each whole event cannot go below.
fn sqlite_floors(
    dir: &Path,
    store: &Path,
    n: u64,
    bytes: u64,
    repeat: usize,
) -> Result<Vec<Figure>, BenchError> {
    let scratch = dir.join(format!("floor-{n}.db"));
    let remove = || {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", scratch.display()));
        }
    };
    let sql = |e: rusqlite::Error| BenchError::Failed(format!("SQLite floor: {e}"));
    let mut figures = Vec::new();
    for (name, batch) in [
        (
            "SQLite FTS5 index alone",
            "CREATE TABLE src (id INTEGER PRIMARY KEY, raw TEXT NOT NULL);
             INSERT INTO src SELECT id, raw FROM store.events ORDER BY id LIMIT {n};
             COMMIT; BEGIN;
             CREATE VIRTUAL TABLE fts USING fts5(raw, content='', tokenize='unicode61');
             INSERT INTO fts(fts, rank) VALUES ('automerge', 16);",
        ),
        (
            "SQLite rows alone",
            "CREATE TABLE plain (id INTEGER PRIMARY KEY, raw TEXT NOT NULL);",
        ),
        (
            "naive: rows + FTS5 of whole events, nothing verified",
            "CREATE TABLE naive (id INTEGER PRIMARY KEY, raw TEXT NOT NULL);
             CREATE VIRTUAL TABLE naive_fts USING fts5(raw, content='naive', content_rowid='id', tokenize='unicode61');
             INSERT INTO naive_fts(naive_fts, rank) VALUES ('automerge', 16);",
        ),
    ] {
        let timed = if name.starts_with("naive") {
            // What the sqlite3 shell's `.import` and an FTS5 'rebuild' do.
            format!(
                "INSERT INTO naive SELECT id, raw FROM store.events ORDER BY id LIMIT {n};
                 INSERT INTO naive_fts(naive_fts) VALUES ('rebuild');"
            )
        } else if name.contains("FTS5") {
            "INSERT INTO fts (rowid, raw) SELECT id, raw FROM src ORDER BY id".to_owned()
        } else {
            format!("INSERT INTO plain SELECT id, raw FROM store.events ORDER BY id LIMIT {n}")
        };
        let mut samples = Vec::new();
        for _ in 0..repeat.max(1) {
            remove();
            let conn = rusqlite::Connection::open(&scratch).map_err(sql)?;
            auditlens::store::configure(&conn).map_err(sql)?;
            conn.execute("ATTACH DATABASE ?1 AS store", [store.display().to_string()])
                .map_err(sql)?;
            // Untimed set-up (the FTS5 case copies the events first, so that only indexing is timed).
            conn.execute_batch(&format!("BEGIN; {}", batch.replace("{n}", &n.to_string())))
                .map_err(sql)?;
            let watch = Stopwatch::start();
            conn.execute_batch(&timed).map_err(sql)?;
            conn.execute_batch("COMMIT").map_err(sql)?;
            samples.push(watch.lap());
        }
        figures.push(Figure::of(name, n, bytes, &samples));
    }
    remove();
    Ok(figures)
}

/// The growth table: each step's import beside the first step's (issue 13: the last no more than 20% slower).
pub fn print_growth(steps: &[StepFigure]) {
    let Some(first) = steps.first() else {
        return;
    };
    println!(
        "\n{:>5} {:>10} {:>10} {:>9} {:>11} {:>10} {:>11} {:>9} {:>9} {:>10} {:>9}",
        "step",
        "events",
        "in store",
        "ready s",
        "ready ev/s",
        "indexed s",
        "indexed ev/s",
        "vs step 1",
        "peak MiB",
        "store GB",
        "bytes/ev"
    );
    for (i, s) in steps.iter().enumerate() {
        println!(
            "{:>5} {:>10} {:>10} {:>9.3} {:>11.0} {:>10.3} {:>11.0} {:>8.2}x {:>9} {:>10.2} {:>9.0}",
            i + 1,
            s.events,
            s.total,
            s.ready.seconds,
            s.ready.events_per_sec(),
            s.indexed.seconds,
            s.indexed.events_per_sec(),
            s.indexed.seconds / s.indexed.events as f64 * first.indexed.events as f64
                / first.indexed.seconds.max(1e-9),
            s.indexed
                .peak_rss_mib
                .or(s.ready.peak_rss_mib)
                .map(|m| format!("{m:.0}"))
                .unwrap_or_else(|| "-".into()),
            s.store_bytes as f64 / 1e9,
            s.store_bytes as f64 / s.total.max(1) as f64
        );
    }
    println!(
        "  each step: the store opened, its two archives imported (ready: rows committed), the text index caught up \
         and the store closed (indexed), as `auditlens import` does; seconds: median of the runs; vs step 1: seconds \
         per event against the first step's; store GB: the store and its text index after the step"
    );
}

pub fn print_queries(figures: &[QueryFigure]) {
    println!(
        "\n{:<18} {:>9} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8}  query",
        "query",
        "matches",
        "rg count",
        "page p50",
        "page p95",
        "rg 50",
        "count p50",
        "count p95",
        "rg -c",
        "page x",
        "count x"
    );
    for f in figures {
        println!(
            "{:<18} {:>9} {:>9} {:>8.2}ms {:>8.2}ms {:>8.1}ms {:>8.2}ms {:>8.2}ms {:>8.1}ms {:>7.1}x {:>7.1}x  {}",
            f.label,
            f.matches,
            if f.scan_count == f.matches {
                format!("{}", f.scan_count)
            } else {
                format!("≠{}", f.scan_count)
            },
            f.first_page_p50_ms,
            f.first_page_p95_ms,
            f.scan_first_50_ms,
            f.count_p50_ms,
            f.count_p95_ms,
            f.scan_ms,
            f.scan_first_50_ms / f.first_page_p95_ms.max(1e-6),
            f.scan_ms / f.count_p95_ms.max(1e-6),
            f.query
        );
    }
    if let Some(tool) = figures.first().map(|f| &f.scan_tool) {
        println!(
            "raw scan over the same events as JSON Lines, median of 3: `{tool}{} -F LITERAL` until its first 50 \
             matching lines (rg 50; all of them when fewer) and `{tool} -c -F LITERAL` (rg -c); page x = rg 50 / \
             page p95, count x = rg -c / count p95; ≠: the literal does not stand for the query exactly (its count \
             differs), so that row's x compares unlike things",
            if tool == "rg" { " -j1" } else { "" }
        );
    }
}

/// Latency of one dashboard function on one scope.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DashboardFigure {
    pub function: String,
    pub scope: String,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    /// The figure that tells the runs apart: the total the function counted.
    pub total: u64,
}

/// Times `stats`, `overview`, `deployments` and `access` (crates/auditlens/src/store/stats/) on the store the store section
/// built (`DIR/store-N.db`), opened read-only as the app would, on four scopes: everything; a range of whole
/// hours (summary tables only); a range with minute bounds (the partial hours at both ends counted from the
/// events); and a query (aggregated from the matching events).
pub fn dashboard_section(
    dir: &Path,
    n: u64,
    runs: usize,
) -> Result<Vec<DashboardFigure>, BenchError> {
    use auditlens::store::stats::{DashboardOptions, Scope};
    let db = dir.join(format!("store-{n}.db"));
    let store = Store::open_read_only(&db).map_err(|e| BenchError::Failed(e.to_string()))?;
    let fail = |e: auditlens::store::stats::StatsError| BenchError::Failed(e.to_string());
    let now = (BASE_SECS + 365 * 86400) * 1_000_000;
    let base = BASE_SECS * 1_000_000;
    let hour = 3_600_000_000i64;
    let scopes = [
        ("everything", Scope::default()),
        (
            "2 h to 8 h (whole hours)",
            Scope {
                from: Some(base + 2 * hour),
                to: Some(base + 8 * hour),
                ..Scope::default()
            },
        ),
        (
            "1:17 to 6:43 (minutes)",
            Scope {
                from: Some(base + hour + 17 * 60_000_000),
                to: Some(base + 6 * hour + 43 * 60_000_000),
                ..Scope::default()
            },
        ),
        (
            "query env:payments",
            Scope {
                query: "env:payments".into(),
                ..Scope::default()
            },
        ),
    ];
    let opts = DashboardOptions::default();
    let mut figures = Vec::new();
    for (label, scope) in &scopes {
        for function in ["stats", "overview", "deployments", "access"] {
            let mut samples = Vec::with_capacity(runs);
            let mut total = 0;
            for _ in 0..runs {
                let t = Instant::now();
                total = match function {
                    "stats" => store.stats(scope, 10, now).map_err(fail)?.total,
                    "overview" => store.overview(scope, &opts, now).map_err(fail)?.total.count,
                    "deployments" => {
                        store
                            .deployments(scope, &opts, now)
                            .map_err(fail)?
                            .total
                            .count
                    }
                    _ => store.access(scope, &opts, now).map_err(fail)?.total.count,
                };
                samples.push(t.elapsed());
            }
            let max = samples
                .iter()
                .max()
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
            figures.push(DashboardFigure {
                function: function.into(),
                scope: (*label).into(),
                p50_ms: percentile(&mut samples, 0.5),
                p95_ms: percentile(&mut samples, 0.95),
                max_ms: max,
                total,
            });
        }
    }
    Ok(figures)
}

pub fn print_dashboards(figures: &[DashboardFigure]) {
    println!(
        "\ndashboards: crates/auditlens/src/store/stats/ on the same store opened read-only (p50/p95/max over the runs; target: \
         under 300 ms on 1,000,000 events)"
    );
    println!(
        "{:<12} {:<26} {:>9} {:>9} {:>9} {:>9}",
        "function", "scope", "total", "p50", "p95", "max"
    );
    for f in figures {
        println!(
            "{:<12} {:<26} {:>9} {:>7.1}ms {:>7.1}ms {:>7.1}ms",
            f.function, f.scope, f.total, f.p50_ms, f.p95_ms, f.max_ms
        );
    }
}

/// The OCSF Parquet export of the whole store built by [`store_section`] (`store-N.db`), beside what reading the
/// same events takes in the same run: a scan of every stored event's bytes in id order, and the same scan with
/// each event parsed as JSON (the export parses each event to map it). Also returns the export's size.
pub fn export_section(dir: &Path, n: u64, repeat: usize) -> Result<(Vec<Figure>, u64), BenchError> {
    let db = dir.join(format!("store-{n}.db"));
    if !db.exists() {
        return Err(BenchError::Failed(format!(
            "{} is missing: run the store section first (auditlens bench --only store)",
            db.display()
        )));
    }
    let fail = |e: &dyn std::fmt::Display| BenchError::Failed(format!("export: {e}"));
    let store = Store::open_read_only(&db).map_err(|e| fail(&e))?;
    let mut figures = Vec::new();
    let mut raw_bytes = 0u64;
    for parse in [false, true] {
        let mut samples = Vec::new();
        let mut count = 0u64;
        for _ in 0..repeat.max(1) {
            let watch = Stopwatch::start();
            let mut stmt = store
                .connection()
                .prepare("SELECT raw FROM events ORDER BY id")
                .map_err(|e| fail(&e))?;
            let mut rows = stmt.query([]).map_err(|e| fail(&e))?;
            let mut bytes = 0u64;
            count = 0;
            while let Some(r) = rows.next().map_err(|e| fail(&e))? {
                let raw = r
                    .get_ref(0)
                    .map_err(|e| fail(&e))?
                    .as_str()
                    .map_err(|e| fail(&e))?;
                bytes += raw.len() as u64;
                if parse {
                    let v: serde_json::Value = serde_json::from_str(raw).map_err(|e| fail(&e))?;
                    std::hint::black_box(&v);
                }
                count += 1;
            }
            raw_bytes = bytes;
            samples.push(watch.lap());
        }
        let name = if parse {
            "scan the store's events + parse each as JSON"
        } else {
            "scan the store's events (SELECT raw)"
        };
        figures.push(Figure::of(name, count, raw_bytes, &samples));
    }
    let out = dir.join(format!("export-{n}"));
    let key = SignerKey::from_seed("bench-auditor", &[9u8; 32]).map_err(|e| fail(&e))?;
    let mut samples = Vec::new();
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let _ = std::fs::remove_dir_all(&out);
        let watch = Stopwatch::start();
        let summary = auditlens::ocsf::export_parquet(
            &store,
            &auditlens::ocsf::ParquetExportOptions {
                query: "",
                from: None,
                to: None,
                all_stages: true,
                auditor: &key,
                out: &out,
                now_micros: (BASE_SECS + 365 * 86400) * 1_000_000,
                aws_keys: None,
            },
            &mut |_| {},
        )
        .map_err(|e| fail(&e))?;
        samples.push(watch.lap());
        last = Some(summary);
    }
    let summary = last.ok_or_else(|| fail(&"no run"))?;
    figures.push(Figure::of(
        "export-parquet (checks, OCSF, zstd Parquet)",
        summary.rows,
        raw_bytes,
        &samples,
    ));
    if summary.rows != n {
        return Err(BenchError::Failed(format!(
            "the export holds {} rows of {n} events",
            summary.rows
        )));
    }
    let parquet_bytes = summary.bytes;
    let _ = std::fs::remove_dir_all(&out);
    Ok((figures, parquet_bytes))
}

/// One page of results, timed.
pub struct PageFigure {
    pub case: String,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    /// Rows the page held.
    pub rows: usize,
}

/// Rows per page, as the app asks for them (ui/src/screens/SearchScreen.tsx, `PAGE_SIZE`).
pub const PAGE_ROWS: usize = 500;

/// Times pages of results (issue 16: "any page of results, first or last, in ≤ 50 ms") on the store the store section
/// built (`DIR/store-N.db`, upgraded first if an older AuditLens made it), opened read-only as the app reads it:
/// the first page newest first, a deep page, the last page (the first oldest first), and the first and a deep page
/// of every sortable column, with and without a filter; beside the floor of SQLite returning 500 rows by id.
pub fn pages_section(dir: &Path, n: u64, runs: usize) -> Result<Vec<PageFigure>, BenchError> {
    use auditlens::store::sorted::{Sort, SortColumn};
    let db = dir.join(format!("store-{n}.db"));
    if !db.exists() {
        return Err(BenchError::Failed(format!(
            "{} is missing: run `auditlens bench --only store --events {n}` first",
            db.display()
        )));
    }
    let fail = |e: &dyn std::fmt::Display| BenchError::Failed(e.to_string());
    drop(Store::open(&db).map_err(|e| fail(&e))?);
    let store = Store::open_read_only(&db).map_err(|e| fail(&e))?;
    let now = (BASE_SECS + 365 * 86400) * 1_000_000;
    let sort = |column, ascending| Sort { column, ascending };
    let cases: Vec<(&str, &str, Sort, usize)> = vec![
        ("newest first, page 1", "", Sort::NEWEST_FIRST, 0),
        ("newest first, page 41", "", Sort::NEWEST_FIRST, 40),
        (
            "oldest first, page 41",
            "",
            sort(SortColumn::Time, true),
            40,
        ),
        (
            "2 h to 8 h, oldest first, page 1",
            "after:2024-06-01T02:00:00Z before:2024-06-01T08:00:00Z",
            sort(SortColumn::Time, true),
            0,
        ),
        (
            "2 h to 8 h, newest first, page 41",
            "after:2024-06-01T02:00:00Z before:2024-06-01T08:00:00Z",
            Sort::NEWEST_FIRST,
            40,
        ),
        (
            "2 h to 8 h, oldest first, page 41",
            "after:2024-06-01T02:00:00Z before:2024-06-01T08:00:00Z",
            sort(SortColumn::Time, true),
            40,
        ),
        (
            "last page (oldest first, page 1)",
            "",
            sort(SortColumn::Time, true),
            0,
        ),
        (
            "outcome:denied, page 1",
            "outcome:denied",
            Sort::NEWEST_FIRST,
            0,
        ),
        (
            "outcome:denied, oldest first",
            "outcome:denied",
            sort(SortColumn::Time, true),
            0,
        ),
        ("actor A to Z, page 1", "", sort(SortColumn::Actor, true), 0),
        (
            "actor Z to A, page 1",
            "",
            sort(SortColumn::Actor, false),
            0,
        ),
        (
            "actor A to Z, page 41",
            "",
            sort(SortColumn::Actor, true),
            40,
        ),
        (
            "resource A to Z, page 1",
            "",
            sort(SortColumn::Resource, true),
            0,
        ),
        (
            "action Z to A, page 1",
            "",
            sort(SortColumn::Action, false),
            0,
        ),
        (
            "outcome A to Z, page 1",
            "",
            sort(SortColumn::Outcome, true),
            0,
        ),
        (
            "source Z to A, page 1",
            "",
            sort(SortColumn::Source, false),
            0,
        ),
        (
            "env:payments by actor, page 1",
            "env:payments",
            sort(SortColumn::Actor, true),
            0,
        ),
        (
            "actor:*admin*, page 1",
            "actor:*admin*",
            Sort::NEWEST_FIRST,
            0,
        ),
        // A field with far more than 2,048 values (every resource names its object), and a pattern none matches:
        // the pattern is tested on the field's index, not on every event's row.
        (
            "resource:*zz-none* (many values), page 1",
            "resource:*zz-none*",
            Sort::NEWEST_FIRST,
            0,
        ),
        // A field with a few values (six user agents), read one index seek each (schema 16).
        (
            "agent:*curl* (none), page 1",
            "agent:*curl*",
            Sort::NEWEST_FIRST,
            0,
        ),
        // Stages: Kubernetes events only, an index over those (schema 17).
        (
            "stage:*zz-none* (none), page 1",
            "stage:*zz-none*",
            Sort::NEWEST_FIRST,
            0,
        ),
        // Origins: asked of the archive rows, the events read by archive (query/compile.rs).
        (
            "origin:*zz-none* (none), page 1",
            "origin:*zz-none*",
            Sort::NEWEST_FIRST,
            0,
        ),
        (
            "origin:*cloudtrail*, page 1",
            "origin:*cloudtrail*",
            Sort::NEWEST_FIRST,
            0,
        ),
        (
            "origin:*cloudtrail* by actor, page 1",
            "origin:*cloudtrail*",
            sort(SortColumn::Actor, true),
            0,
        ),
        // A JSON member (no column of its own): its value's words are asked of the full-text index first.
        (
            "json.eventName:ConsoleLogin, page 1",
            "json.eventName:ConsoleLogin",
            Sort::NEWEST_FIRST,
            0,
        ),
        // A member holding a number (a Kubernetes response code), about 2% of the events.
        (
            "json.responseStatus.code:403, page 1",
            "json.responseStatus.code:403",
            Sort::NEWEST_FIRST,
            0,
        ),
        // A pattern over a member: the words of the index that hold `curl` (none), from its vocabulary.
        (
            "json.userAgent:*curl* (none), page 1",
            "json.userAgent:*curl*",
            Sort::NEWEST_FIRST,
            0,
        ),
        // A pattern over a string member of the Kubernetes events, about 5% of them.
        (
            "json.requestURI:*postgres*, page 1",
            "json.requestURI:*postgres*",
            Sort::NEWEST_FIRST,
            0,
        ),
        // A pattern over a member that is an object in the Kubernetes archive: its text holds keys the index has
        // not, so that archive's events are each read (the CloudTrail one, where it is absent, is not).
        (
            "json.objectRef:*zz-none* (object), page 1",
            "json.objectRef:*zz-none*",
            Sort::NEWEST_FIRST,
            0,
        ),
        // What no index answers: a member's presence, where few events have it (the CloudTrail errors, about 0.6%)
        // or none; each event's bytes are searched for the member's name first.
        (
            "json.errorCode:* (0.6%), page 1",
            "json.errorCode:*",
            Sort::NEWEST_FIRST,
            0,
        ),
        (
            "json.zzz:* (none), page 1",
            "json.zzz:*",
            Sort::NEWEST_FIRST,
            0,
        ),
        // A prefix of a member that only a string can start with: its words are asked of the full-text index.
        (
            "json.userAgent:curl* (none), page 1",
            "json.userAgent:curl*",
            Sort::NEWEST_FIRST,
            0,
        ),
        (
            "json.userIdentity.type:Root (none), page 1",
            "json.userIdentity.type:Root",
            Sort::NEWEST_FIRST,
            0,
        ),
    ];
    // End in the app: the last page of an order, read from the end (Store::search_from_end).
    let cases: Vec<(&str, &str, Sort, usize, bool)> = cases
        .into_iter()
        .map(|(label, query, order, skip)| (label, query, order, skip, false))
        .chain([
            (
                "End, newest first (from the end)",
                "",
                Sort::NEWEST_FIRST,
                0,
                true,
            ),
            (
                "End, actor A to Z (from the end)",
                "",
                sort(SortColumn::Actor, true),
                0,
                true,
            ),
            (
                "End, actor A to Z, page 41 back",
                "",
                sort(SortColumn::Actor, true),
                40,
                true,
            ),
            (
                "End, outcome:denied by source",
                "outcome:denied",
                sort(SortColumn::Source, true),
                0,
                true,
            ),
            (
                "End, json.eventName:ConsoleLogin",
                "json.eventName:ConsoleLogin",
                Sort::NEWEST_FIRST,
                0,
                true,
            ),
            (
                "End, json.responseStatus.code:403",
                "json.responseStatus.code:403",
                Sort::NEWEST_FIRST,
                0,
                true,
            ),
            (
                "End, json.requestURI:*postgres*",
                "json.requestURI:*postgres*",
                Sort::NEWEST_FIRST,
                0,
                true,
            ),
            (
                "End, origin:*cloudtrail*",
                "origin:*cloudtrail*",
                Sort::NEWEST_FIRST,
                0,
                true,
            ),
        ])
        .collect();
    let mut figures = Vec::new();
    // The floor: SQLite alone returning 500 rows of the events table by id.
    {
        let mut samples = Vec::with_capacity(runs);
        let mut rows = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let mut stmt = store
                .connection()
                .prepare_cached("SELECT id, ts, actor, action, resource, outcome FROM events ORDER BY id DESC LIMIT 500")
                .map_err(|e| fail(&e))?;
            rows = stmt
                .query_map([], |r| r.get::<_, i64>(0))
                .map_err(|e| fail(&e))?
                .count();
            samples.push(t.elapsed());
        }
        figures.push(page_figure(
            "baseline: SQLite, 500 rows by id",
            &mut samples,
            rows,
        ));
    }
    for (label, query, order, skip, from_end) in cases {
        let read = |after: Option<&str>| {
            if from_end {
                store.search_from_end(query, order, PAGE_ROWS, after, now)
            } else {
                store.search_sorted(query, order, PAGE_ROWS, after, now)
            }
        };
        // The cursor of page `skip + 1`, reached by paging (not timed).
        let mut after: Option<String> = None;
        for _ in 0..skip {
            let page = read(after.as_deref()).map_err(|e| fail(&e))?;
            after = page.next;
            if after.is_none() {
                break;
            }
        }
        let mut samples = Vec::with_capacity(runs);
        let mut rows = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let page = read(after.as_deref()).map_err(|e| fail(&e))?;
            samples.push(t.elapsed());
            rows = page.events.len();
        }
        figures.push(page_figure(label, &mut samples, rows));
    }
    // A scrollbar dragged into the results: the page at an offset (Store::search_at), the middle and the
    // last tenth of every match, read without the pages before it.
    let offsets: Vec<(&str, &str, Sort, u64)> = vec![
        ("newest first, at the middle", "", Sort::NEWEST_FIRST, 2),
        ("newest first, at 90%", "", Sort::NEWEST_FIRST, 10),
        (
            "oldest first, at the middle",
            "",
            sort(SortColumn::Time, true),
            2,
        ),
        (
            "actor A to Z, at the middle",
            "",
            sort(SortColumn::Actor, true),
            2,
        ),
        (
            "resource Z to A, at 90%",
            "",
            sort(SortColumn::Resource, false),
            10,
        ),
        (
            "outcome:denied, at the middle",
            "outcome:denied",
            Sort::NEWEST_FIRST,
            2,
        ),
        (
            "outcome:denied by source, middle",
            "outcome:denied",
            sort(SortColumn::Source, true),
            2,
        ),
        (
            "env:payments by actor, at 90%",
            "env:payments",
            sort(SortColumn::Actor, true),
            10,
        ),
    ];
    for (label, query, order, at) in offsets {
        let count = store.count(query, now).map_err(|e| fail(&e))?;
        // The middle (`at` 2) or nine tenths of the way (`at` 10).
        let offset = if at == 2 {
            count / 2
        } else {
            count - count / 10
        };
        let mut samples = Vec::with_capacity(runs);
        let mut rows = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let page = store
                .search_at(query, order, offset, PAGE_ROWS, now)
                .map_err(|e| fail(&e))?;
            samples.push(t.elapsed());
            rows = page.events.len();
        }
        figures.push(page_figure(label, &mut samples, rows));
    }
    // The app shows a row as verified once it is confirmed against the signed event (Store::confirm_page,
    // docs/trust-policy.md section 4b): the first page of a database opened afresh reads the stored leaves of the
    // archives it shows against their signed roots (the block hashes an import keeps, and the 1,024 leaves of each
    // block a row of the page is in; every leaf of an archive stored without them); once they are read, a page
    // only reads its own rows again.
    use auditlens::store::confirm::Confirmations;
    #[derive(PartialEq)]
    enum Known {
        /// Nothing read before the page.
        Afresh,
        /// Nothing read before, and every leaf of each archive read (the baseline).
        AfreshEveryLeaf,
        /// The archives' leaves read by a page before.
        LeavesRead,
    }
    let confirmed: [(&str, Sort, Known); 5] = [
        (
            "newest first, confirmed afresh",
            Sort::NEWEST_FIRST,
            Known::Afresh,
        ),
        (
            "newest first, afresh, every leaf read",
            Sort::NEWEST_FIRST,
            Known::AfreshEveryLeaf,
        ),
        (
            "oldest first, confirmed afresh",
            sort(SortColumn::Time, true),
            Known::Afresh,
        ),
        // Rows of many archives in one page.
        (
            "actor A to Z, confirmed afresh",
            sort(SortColumn::Actor, true),
            Known::Afresh,
        ),
        (
            "newest first, confirmed (leaves read)",
            Sort::NEWEST_FIRST,
            Known::LeavesRead,
        ),
    ];
    for (label, order, reading) in confirmed {
        let read_before = Confirmations::new();
        let mut samples = Vec::with_capacity(runs);
        let mut rows = 0;
        let afresh = reading != Known::LeavesRead;
        // One more run for "leaves read": its first run reads them, and is not counted.
        for run in 0..runs + usize::from(!afresh) {
            let fresh = match reading {
                Known::AfreshEveryLeaf => Confirmations::reading_every_leaf(),
                _ => Confirmations::new(),
            };
            let known = if afresh { &fresh } else { &read_before };
            let t = Instant::now();
            let mut page = store
                .search_sorted("", order, PAGE_ROWS, None, now)
                .map_err(|e| fail(&e))?;
            store.confirm_page(&mut page, known).map_err(|e| fail(&e))?;
            if afresh || run > 0 {
                samples.push(t.elapsed());
            }
            // Every row of the benchmark's store is the signed event: the rows shown as verified.
            rows = page.events.iter().filter(|e| e.verified).count();
        }
        figures.push(page_figure(label, &mut samples, rows));
    }
    Ok(figures)
}

fn page_figure(case: &str, samples: &mut [Duration], rows: usize) -> PageFigure {
    let max = samples
        .iter()
        .max()
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    PageFigure {
        case: case.into(),
        p50_ms: percentile(samples, 0.5),
        p95_ms: percentile(samples, 0.95),
        max_ms: max,
        rows,
    }
}

pub fn print_pages(figures: &[PageFigure]) {
    println!(
        "\npages: one page of {PAGE_ROWS} results (Store::search_sorted) on the same store opened read-only \
         (p50/p95/max over the runs; target: any page under 50 ms)"
    );
    println!(
        "{:<36} {:>6} {:>9} {:>9} {:>9}",
        "page", "rows", "p50", "p95", "max"
    );
    for f in figures {
        println!(
            "{:<36} {:>6} {:>7.1}ms {:>7.1}ms {:>7.1}ms",
            f.case, f.rows, f.p50_ms, f.p95_ms, f.max_ms
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_cover_every_event_once() {
        assert_eq!(step_sizes(30, 10), [10, 10, 10]);
        assert_eq!(step_sizes(25, 10), [10, 10, 5]);
        assert_eq!(step_sizes(5, 10), [5]);
        assert!(step_sizes(0, 10).is_empty());
    }

    /// The steps of a growing store hold different, later events, in archives chained per origin (sequence 1, 2,
    /// 3), so that importing them one after the other is a store growing, not the same archive again.
    #[test]
    fn later_steps_hold_later_events_in_chained_archives() {
        let dir =
            std::env::temp_dir().join(format!("auditlens-bench-steps-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let steps = generate(&dir, 250, 100).unwrap();
        assert_eq!(
            steps.iter().map(|s| s.events).collect::<Vec<_>>(),
            [100, 100, 50]
        );
        let key = SignerKey::from_seed("bench", &[7u8; 32]).unwrap();
        let mut last_time = String::new();
        for (i, s) in steps.iter().enumerate() {
            for (kind, (jsonl, archive)) in s.jsonl.iter().zip(&s.archives).enumerate() {
                let text = std::fs::read_to_string(jsonl).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                assert_eq!(
                    lines.len() as u64,
                    if kind == 0 {
                        s.events * 7 / 10
                    } else {
                        s.events * 3 / 10
                    }
                );
                let report = auditlens::verify::verify_archive(
                    archive,
                    &[key.verifier()],
                    &mut auditlens::verify::NoSink,
                )
                .unwrap();
                assert_eq!(report.status, auditlens::verify::ArchiveStatus::Verified);
                assert_eq!(report.sequence, Some(i as u64 + 1), "{}", archive.display());
                if kind == 0 {
                    // Kubernetes events: each step's first event is later than the step before's last.
                    let time = |line: &str| {
                        serde_json::from_str::<serde_json::Value>(line).unwrap()["requestReceivedTimestamp"]
                            .as_str()
                            .unwrap()
                            .to_owned()
                    };
                    assert!(time(lines[0]) > last_time, "step {i}");
                    last_time = time(lines[lines.len() - 1]);
                }
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
