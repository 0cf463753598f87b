//! The `auditlens` command line: a thin door onto the library. Exit codes: 0 success, 1 verification failure,
//! 2 usage or I/O error. Human output shows every string that came from an archive, a bundle, a key file or the
//! database (and the paths given) through `safe` (src/safe_text.rs): nothing reaches the terminal unescaped.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use auditlens::note::{SignerKey, VerifierKey};
use auditlens::report;
use auditlens::safe_text::safe;
use auditlens::sources::SourceKind;

#[derive(Parser)]
#[command(
    name = "auditlens",
    version,
    about = "Seal, verify, import, search and export signed audit-log archives"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an Ed25519 signing key: DIR/NAME.key (private, mode 0600) and DIR/NAME.pub (verifier key string).
    Keygen {
        #[arg(long)]
        name: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Seal audit logs (JSON Lines, Kubernetes audit, CloudTrail, GitHub, GCP, Teleport, Okta; gzip or plain) into
    /// one signed archive.
    Seal {
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        origin: String,
        /// The previous archive of the same origin: links the hash chain and takes the next sequence number.
        #[arg(long)]
        prev: Option<PathBuf>,
        /// Source kind recorded in the manifest (default: detected from the content).
        #[arg(long, value_parser = parse_kind)]
        format: Option<SourceKind>,
        /// A mapping file (TOML, docs/sources.md "Mapping files"), sealed into the archive: source kind `mapping`.
        #[arg(long)]
        mapping: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
    /// Verify archives and their continuity. Exit 0 only when all verify under a trusted key and are continuous.
    Verify {
        /// A trusted signer's verifier key file (.pub), for any origin but pinned per origin on first use;
        /// repeatable.
        #[arg(long = "trust")]
        trust: Vec<PathBuf>,
        /// A trust-policy file (docs/trust-policy.md): which keys may sign which origins, when; repeatable.
        #[arg(long = "trust-policy")]
        trust_policy: Vec<PathBuf>,
        /// Print one JSON document instead of the human report (with --period, a `coverage` member).
        #[arg(long)]
        json: bool,
        /// Report, per origin, whether the verified archives cover this audit period: FROM..TO, each a date
        /// YYYY-MM-DD or an RFC 3339 time, TO exclusive (docs/coverage.md). Findings (nothing before/after T, gaps)
        /// are printed on stderr and never change the exit code: coverage cannot prove that nothing was withheld.
        #[arg(long, value_name = "FROM..TO")]
        period: Option<String>,
        /// With --period: report silences inside the period longer than this (s, m, h, d, w) [default: 24h].
        #[arg(long, value_name = "DURATION", requires = "period")]
        silence: Option<String>,
        #[arg(required = true)]
        archives: Vec<PathBuf>,
    },
    /// Verify archives and store them in the evidence database, atomically per archive.
    Import {
        #[arg(long)]
        db: PathBuf,
        /// A trusted signer's verifier key file (.pub), for any origin but pinned per origin on first use;
        /// repeatable.
        #[arg(long = "trust")]
        trust: Vec<PathBuf>,
        /// A trust-policy file (docs/trust-policy.md): which keys may sign which origins, when; repeatable.
        #[arg(long = "trust-policy")]
        trust_policy: Vec<PathBuf>,
        /// Store archives that fail verification (flagged failed, never shown as verified).
        #[arg(long)]
        keep_failed: bool,
        /// Print the results as JSON Lines (one object per archive; with --period, a last line
        /// {"coverage": ...} over the whole database after the import).
        #[arg(long)]
        json: bool,
        /// Report, per origin, whether the verified archives cover this audit period: FROM..TO, each a date
        /// YYYY-MM-DD or an RFC 3339 time, TO exclusive (docs/coverage.md). Findings (nothing before/after T, gaps)
        /// are printed on stderr and never change the exit code: coverage cannot prove that nothing was withheld.
        #[arg(long, value_name = "FROM..TO")]
        period: Option<String>,
        /// With --period: report silences inside the period longer than this (s, m, h, d, w) [default: 24h].
        #[arg(long, value_name = "DURATION", requires = "period")]
        silence: Option<String>,
        /// Normalize with this built-in mapper instead of the archive's own signed kind or mapping file (the
        /// auditor's choice; the verified bytes are the same): jsonl, k8s, cloudtrail, github, gcp, teleport or
        /// okta. An archive already imported is re-normalized.
        #[arg(long = "as", value_name = "KIND", value_parser = parse_builtin_kind)]
        as_kind: Option<SourceKind>,
        #[arg(required = true)]
        archives: Vec<PathBuf>,
    },
    /// Re-verify the whole database, trusting nothing in the file: schema, every archive's status and signer
    /// (re-derived from its signed checkpoint and the trust given), every event, each origin's chain (gaps,
    /// forks, broken links; signer changes are noted), the full-text index and the dashboard tables. Exit 1 on
    /// any finding. Without --trust, "verified" cannot be confirmed: each signer of archives marked verified is
    /// then a finding.
    Check {
        #[arg(long)]
        db: PathBuf,
        /// A trusted signer's verifier key file (.pub), for any origin; repeatable. Archives marked verified must
        /// be signed by one of these keys, archives marked untrusted must not.
        #[arg(long = "trust")]
        trust: Vec<PathBuf>,
        /// A trust-policy file (docs/trust-policy.md): which keys may sign which origins, when; repeatable.
        #[arg(long = "trust-policy")]
        trust_policy: Vec<PathBuf>,
        /// Print one JSON document (with --period, a `coverage` member).
        #[arg(long)]
        json: bool,
        /// Report, per origin, whether the verified archives cover this audit period: FROM..TO, each a date
        /// YYYY-MM-DD or an RFC 3339 time, TO exclusive (docs/coverage.md). Findings (nothing before/after T, gaps)
        /// are printed on stderr and never change the exit code: coverage cannot prove that nothing was withheld.
        #[arg(long, value_name = "FROM..TO")]
        period: Option<String>,
        /// With --period: report silences inside the period longer than this (s, m, h, d, w) [default: 24h].
        #[arg(long, value_name = "DURATION", requires = "period")]
        silence: Option<String>,
    },
    /// Search the database (query language: docs/search.md). Newest first.
    Search {
        #[arg(long)]
        db: PathBuf,
        /// JSON Lines output; a last line {"next": CURSOR} when more results exist.
        #[arg(long)]
        json: bool,
        /// Page size.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Cursor from a previous page's "next".
        #[arg(long)]
        after: Option<String>,
        /// Print only the number of matches.
        #[arg(long)]
        count: bool,
        /// The query; empty matches every event.
        #[arg(default_value = "")]
        query: String,
    },
    /// Count requests (not log records): total, by category, outcome and source, top actors and deployments per
    /// day, over verified archives, each with the search query that reproduces it (docs/search.md section 9).
    /// Kubernetes RequestReceived and ResponseStarted records are never counted.
    Stats {
        #[arg(long)]
        db: PathBuf,
        /// Print one JSON document (every figure with its "drill" query).
        #[arg(long)]
        json: bool,
        /// Count events of every stored archive (untrusted and failed ones kept with --keep-failed too).
        #[arg(long)]
        all: bool,
        /// Start of the time range (inclusive): a date or an RFC 3339 time, as in `after:`.
        #[arg(long)]
        from: Option<String>,
        /// End of the time range (exclusive): a date or an RFC 3339 time, as in `before:`.
        #[arg(long)]
        to: Option<String>,
        /// Length of the top-actors list.
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Count only events matching this query (docs/search.md); empty counts every event.
        #[arg(default_value = "")]
        query: String,
    },
    /// Export events to an evidence bundle (docs/evidence-bundle.md): exact bytes, inclusion proofs, signed
    /// checkpoints, the selection and purpose, reports, all signed by the auditor's key. Exit 1 (nothing written)
    /// when a selected event is missing or not from a verified archive.
    #[command(group = clap::ArgGroup::new("selection").required(true).args(["query", "ids"]))]
    Export {
        #[arg(long)]
        db: PathBuf,
        /// Export every event this query matches, exactly as `search` lists them (docs/search.md).
        #[arg(long)]
        query: Option<String>,
        /// A file of event ids, one per line (`origin@sequence#index`), or the output of `search --json`.
        #[arg(long)]
        ids: Option<PathBuf>,
        /// The auditor's signing key (`auditlens keygen`); it signs the bundle's manifest.
        #[arg(long)]
        key: PathBuf,
        /// Why these events are exported (recorded in the bundle and signed).
        #[arg(long)]
        purpose: String,
        /// The bundle to write (never overwritten; created readable by its owner only).
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify an evidence bundle. Exit 0 only when every proof, checkpoint signature (by a --trust key), the
    /// manifest and the auditor's signature verify, nothing is missing or extra, and report.json and report.html
    /// are exactly the reports derived from the bundle's own events, selection and signed metadata.
    VerifyBundle {
        /// A trusted producer's verifier key file (.pub); repeatable.
        #[arg(long = "trust")]
        trust: Vec<PathBuf>,
        /// A trust-policy file (docs/trust-policy.md): which keys may sign which origins, when; repeatable.
        #[arg(long = "trust-policy")]
        trust_policy: Vec<PathBuf>,
        /// Require the bundle to be exported by one of these auditor keys (.pub); repeatable.
        #[arg(long = "trust-auditor")]
        trust_auditor: Vec<PathBuf>,
        /// Print one JSON document instead of the human report.
        #[arg(long)]
        json: bool,
        bundle: PathBuf,
    },
    /// Benchmarks: seal and verify N generated events beside plain SHA-256 over the same bytes.
    Bench {
        /// Number of generated events.
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        /// Working directory for generated inputs and archives (kept for reruns).
        #[arg(long, default_value = "target/bench-data")]
        dir: PathBuf,
        /// Run one section only: `archive` (seal/verify vs SHA-256) or `store` (import, queries vs raw scan).
        #[arg(long)]
        only: Option<String>,
        /// Repetitions per query for the latency percentiles.
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
}

fn parse_kind(s: &str) -> Result<SourceKind, String> {
    s.parse::<SourceKind>()
        .map_err(|_| {
            format!(
                "unknown format {s:?} (expected jsonl, k8s, cloudtrail, github, gcp, teleport, okta or mapping)"
            )
        })
}

fn parse_builtin_kind(s: &str) -> Result<SourceKind, String> {
    s.parse::<SourceKind>()
        .ok()
        .filter(|k| k.mapper().is_some())
        .ok_or_else(|| {
            format!(
                "not a built-in mapper {s:?} (expected jsonl, k8s, cloudtrail, github, gcp, teleport or okta)"
            )
        })
}

/// A usage or I/O problem: printed to stderr, exit code 2.
struct Fatal(String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen { name, out } => keygen(&name, &out),
        Command::Seal {
            key,
            origin,
            prev,
            format,
            mapping,
            out,
            inputs,
        } => seal(
            &key,
            &origin,
            prev.as_deref(),
            format,
            mapping.as_deref(),
            &out,
            &inputs,
        ),
        Command::Verify {
            trust,
            trust_policy,
            json,
            period,
            silence,
            archives,
        } => read_policy(&trust, &trust_policy).and_then(|p| {
            coverage_options(period.as_deref(), silence.as_deref())
                .and_then(|period| verify(&p, json, period, &archives))
        }),
        Command::Import {
            db,
            trust,
            trust_policy,
            keep_failed,
            json,
            period,
            silence,
            as_kind,
            archives,
        } => read_policy(&trust, &trust_policy).and_then(|p| {
            coverage_options(period.as_deref(), silence.as_deref())
                .and_then(|period| import(&db, &p, keep_failed, json, period, as_kind, &archives))
        }),
        Command::Check {
            db,
            trust,
            trust_policy,
            json,
            period,
            silence,
        } => coverage_options(period.as_deref(), silence.as_deref())
            .and_then(|period| check(&db, &trust, &trust_policy, json, period)),
        Command::Search {
            db,
            json,
            limit,
            after,
            count,
            query,
        } => search(&db, json, limit, after.as_deref(), count, &query),
        Command::Stats {
            db,
            json,
            all,
            from,
            to,
            top,
            query,
        } => stats(&db, json, all, from.as_deref(), to.as_deref(), top, &query),
        Command::Export {
            db,
            query,
            ids,
            key,
            purpose,
            out,
        } => export_bundle(&db, query.as_deref(), ids.as_deref(), &key, &purpose, &out),
        Command::VerifyBundle {
            trust,
            trust_policy,
            trust_auditor,
            json,
            bundle,
        } => verify_bundle(&trust, &trust_policy, &trust_auditor, json, &bundle),
        Command::Bench {
            events,
            dir,
            only,
            runs,
        } => bench(events, &dir, only.as_deref(), runs),
    };
    match result {
        Ok(code) => code,
        Err(Fatal(msg)) => {
            // Line by line: a query error's caret is on a line of its own.
            let lines: Vec<String> = msg.split('\n').map(|l| safe(l).to_string()).collect();
            eprintln!("auditlens: {}", lines.join("\n"));
            ExitCode::from(2)
        }
    }
}

fn keygen(name: &str, out: &Path) -> Result<ExitCode, Fatal> {
    let key = SignerKey::generate(name)?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let files = auditlens::keyfile::write_key_pair(out, &key).map_err(|e| e.to_string())?;
    println!(
        "private key: {} (keep it secret)",
        safe(&files.key.display().to_string())
    );
    println!("public key:  {}", safe(&files.public.display().to_string()));
    println!("verifier key: {}", safe(&key.verifier().to_string()));
    println!("fingerprint:  {}", key.verifier().fingerprint());
    Ok(ExitCode::SUCCESS)
}

fn read_signer(path: &Path) -> Result<SignerKey, Fatal> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    SignerKey::parse(text.trim())
        .map_err(|e| Fatal(format!("{}: not a signing key: {e}", path.display())))
}

fn read_trusted(paths: &[PathBuf]) -> Result<Vec<VerifierKey>, Fatal> {
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            VerifierKey::parse(text.trim())
                .map_err(|e| Fatal(format!("{}: not a verifier key: {e}", p.display())))
        })
        .collect()
}

/// The trust given on the command line: bare keys (`--trust`, pinned per origin on first use) and policy files.
fn read_policy(
    trust: &[PathBuf],
    policies: &[PathBuf],
) -> Result<auditlens::trust::TrustPolicy, Fatal> {
    use auditlens::trust::{Grant, TrustPolicy};
    let mut policy = TrustPolicy::new();
    for (key, path) in read_trusted(trust)?.into_iter().zip(trust) {
        policy.add(Grant::bare(key, format!("--trust {}", path.display())));
    }
    for path in policies {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        policy.extend(
            TrustPolicy::parse(&text, &path.display().to_string())
                .map_err(|e| Fatal(format!("trust policy {e}")))?,
        );
    }
    Ok(policy)
}

fn seal(
    key: &Path,
    origin: &str,
    prev: Option<&Path>,
    format: Option<SourceKind>,
    mapping: Option<&Path>,
    out: &Path,
    inputs: &[PathBuf],
) -> Result<ExitCode, Fatal> {
    let key = read_signer(key)?;
    let summary = auditlens::seal::seal(&auditlens::seal::SealOptions {
        key: &key,
        origin,
        prev,
        format,
        mapping,
        out,
        inputs,
    })?;
    println!(
        "sealed {} ({}) from {} into {}: origin {}, sequence {}, kind {}, root {}",
        report::count(summary.events, "event"),
        report::human_bytes(summary.bytes),
        report::count(inputs.len() as u64, "input"),
        safe(&summary.out),
        safe(&summary.origin),
        summary.sequence,
        summary.source_kind.as_str(),
        summary.root
    );
    Ok(ExitCode::SUCCESS)
}

/// An audit period and its silence threshold (microseconds), from `--period` and `--silence`.
type CoveragePeriod = Option<(auditlens::coverage::Period, i64)>;

/// Reads `--period` and `--silence` before anything is done (a bad value is a usage error, exit 2).
fn coverage_options(period: Option<&str>, silence: Option<&str>) -> Result<CoveragePeriod, Fatal> {
    use auditlens::coverage;
    let Some(period) = period else {
        return Ok(None);
    };
    let period = coverage::Period::parse(period)?;
    let silence = match silence {
        Some(s) => coverage::parse_silence(s)?,
        None => coverage::DEFAULT_SILENCE_MICROS,
    };
    Ok(Some((period, silence)))
}

/// The human coverage report: covered origins on stdout, findings on stderr.
fn print_coverage(c: &auditlens::coverage::Coverage) {
    for (ok, text) in auditlens::coverage::human_blocks(c) {
        if ok {
            print!("{text}");
        } else {
            eprint!("{text}");
        }
    }
}

fn verify(
    policy: &auditlens::trust::TrustPolicy,
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
    let mut set = report::VerifySetReport::new(reports);
    set.coverage = period
        .map(|(period, silence)| auditlens::coverage::from_reports(&set.archives, period, silence));
    if json {
        println!("{}", serde_json::to_string_pretty(&set)?);
    } else {
        report::print_verify_human(&set);
        if let Some(c) = &set.coverage {
            print_coverage(c);
        }
    }
    Ok(if set.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn bench(events: u64, dir: &Path, only: Option<&str>, runs: usize) -> Result<ExitCode, Fatal> {
    if !matches!(only, None | Some("archive") | Some("store")) {
        return Err(Fatal("--only takes `archive` or `store`".into()));
    }
    println!(
        "auditlens bench: {events} generated events in {} ({} cores)",
        dir.display(),
        num_cores()
    );
    if only != Some("store") {
        let figures = auditlens::bench::archive_section(dir, events)?;
        auditlens::bench::print_table(
            "archive: seal and verify 100% Kubernetes audit events vs SHA-256 over the same bytes",
            &figures,
        );
    }
    if only != Some("archive") {
        let (import, queries) = auditlens::bench_store::store_section(dir, events, runs.max(1))?;
        auditlens::bench::print_table(
            "store: import of 70% Kubernetes + 30% CloudTrail events, beside what SQLite alone takes for the same bytes",
            &import,
        );
        auditlens::bench_store::print_queries(&queries);
        let dashboards = auditlens::bench_store::dashboard_section(dir, events, runs.max(1))?;
        auditlens::bench_store::print_dashboards(&dashboards);
    }
    Ok(ExitCode::SUCCESS)
}

fn num_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn open_existing(db: &Path) -> Result<auditlens::store::Store, Fatal> {
    if !db.is_file() {
        return Err(Fatal(format!("{}: no such database", db.display())));
    }
    open_store(db)
}

/// Opens (creating or upgrading) a store; an upgrade of a store from an older AuditLens is said on stderr, with
/// the backup copy taken first.
fn open_store(db: &Path) -> Result<auditlens::store::Store, Fatal> {
    let (store, upgrade) = auditlens::store::Store::open_upgrading(db)?;
    if let Some(u) = upgrade {
        eprintln!("{}", safe(&u.to_string()));
    }
    Ok(store)
}

fn import(
    db: &Path,
    policy: &auditlens::trust::TrustPolicy,
    keep_failed: bool,
    json: bool,
    period: CoveragePeriod,
    as_kind: Option<SourceKind>,
    archives: &[PathBuf],
) -> Result<ExitCode, Fatal> {
    use auditlens::store::import::{ImportOptions, ImportOutcome};
    use std::io::IsTerminal;
    for a in archives {
        std::fs::metadata(a).map_err(|e| format!("{}: {e}", a.display()))?;
    }
    let mut store = open_store(db)?;
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
                    report::progress_line(&path.display().to_string(), p, started.elapsed())
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
        let where_ = match (&result.report.origin, result.report.sequence) {
            (Some(o), Some(s)) => format!(" [{} sequence {s}]", safe(o)),
            _ => String::new(),
        };
        let gap = result
            .gap_before
            .map(|s| format!("; gap before sequence {s}"))
            .unwrap_or_default();
        let change = result
            .signer_change
            .as_ref()
            .map(|c| {
                format!(
                    "; signer changes at sequence {}: {} -> {}",
                    c.sequence, c.from, c.to
                )
            })
            .unwrap_or_default();
        let line = format!(
            "{}: {}{where_}{gap}{}",
            safe(&path.display().to_string()),
            safe(&result.message),
            safe(&change)
        );
        match result.outcome {
            ImportOutcome::Imported | ImportOutcome::AlreadyImported => {
                println!("{line}");
                if let Some(n) = &result.normalization {
                    println!("  normalization: {}", safe(&n.text));
                }
            }
            _ => {
                eprintln!("{line}");
                if let Some(f) = &result.report.failure {
                    eprint!("{}", report::failure_details(f));
                }
            }
        }
        if let (Some(origin), false) = (&result.report.origin, result.lookalikes.is_empty()) {
            let others: Vec<String> = result
                .lookalikes
                .iter()
                .map(|o| format!("\"{}\"", safe(o)))
                .collect();
            eprintln!(
                "{}: WARNING: origin \"{}\" looks like {} (stored or given in this run): they differ only in \
                 case, Unicode form or invisible characters; origins are compared exactly, so these are different logs",
                safe(&path.display().to_string()),
                safe(origin),
                others.join(" and ")
            );
        }
    }
    if let Some((period, silence)) = period {
        let c = store.coverage(period, silence)?;
        if json {
            println!("{}", serde_json::json!({ "coverage": c }));
        } else {
            print_coverage(&c);
        }
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn check(
    db: &Path,
    trust: &[PathBuf],
    trust_policy: &[PathBuf],
    json: bool,
    period: CoveragePeriod,
) -> Result<ExitCode, Fatal> {
    let policy = read_policy(trust, trust_policy)?;
    let store = open_existing(db)?;
    let result = store.check_policy(Some(&policy), &mut |_| true)?;
    let coverage = period
        .map(|(period, silence)| store.coverage(period, silence))
        .transpose()?;
    // Where a problem or notice is: origin and sequence, else the archive row, else the database as a whole.
    let place = |p: &auditlens::store::check::CheckProblem| {
        let mut place = String::new();
        if let (Some(o), Some(s)) = (&p.origin, p.sequence) {
            place.push_str(&format!("{} sequence {s}", safe(o)));
        } else if let Some(id) = p.archive_id {
            place.push_str(&format!("archive #{id}"));
        } else {
            place.push_str("database");
        }
        if let Some(i) = p.event_index {
            place.push_str(&format!(", event index {i}"));
        }
        place
    };
    if json {
        let mut doc = serde_json::to_value(&result)?;
        if let (Some(c), Some(map)) = (&coverage, doc.as_object_mut()) {
            map.insert("coverage".into(), serde_json::to_value(c)?);
        }
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else if result.ok {
        println!(
            "OK: {}, {} re-verified from the stored bytes; schema, signatures, signers, trust, roots, chains, \
             normalized fields, full-text index and summary tables match",
            report::count(result.archives_checked, "archive"),
            report::count(result.events_checked, "event")
        );
        for n in &result.notices {
            println!("note: {}: {}", place(n), safe(&n.message));
        }
    } else {
        for n in &result.notices {
            eprintln!("note: {}: {}", place(n), safe(&n.message));
        }
        for p in &result.problems {
            eprintln!("{}: {}", place(p), safe(&p.message));
        }
        eprintln!(
            "NOT OK: {} problem(s) found in {}",
            result.problems.len(),
            safe(&db.display().to_string())
        );
    }
    if let (Some(c), false) = (&coverage, json) {
        print_coverage(c);
    }
    Ok(if result.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn search(
    db: &Path,
    json: bool,
    limit: usize,
    after: Option<&str>,
    count: bool,
    query: &str,
) -> Result<ExitCode, Fatal> {
    use auditlens::store::search::SearchError;
    let store = open_existing(db)?;
    let now = chrono::Utc::now().timestamp_micros();
    let query_error = |e: SearchError| match e {
        SearchError::Query(q) => Fatal(report::query_error(query, &q)),
        other => Fatal(other.to_string()),
    };
    if count {
        println!("{}", store.count(query, now).map_err(query_error)?);
        return Ok(ExitCode::SUCCESS);
    }
    if limit == 0 {
        return Err(Fatal("--limit must be at least 1".into()));
    }
    let page = store
        .search(query, limit, after, now)
        .map_err(query_error)?;
    if json {
        let mut out = std::io::stdout().lock();
        for e in &page.events {
            writeln_ok(&mut out, &serde_json::to_string(e)?);
        }
        if let Some(next) = &page.next {
            writeln_ok(&mut out, &serde_json::json!({ "next": next }).to_string());
        }
    } else {
        print!("{}", report::event_table(&page.events));
        match &page.next {
            Some(next) => println!("more results: --after {}", safe(next)),
            None if page.events.is_empty() => println!("no matching events"),
            None => {}
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A `--from` / `--to` value read as `after:` / `before:` read theirs.
fn time_option(flag: &str, value: &str) -> Result<i64, Fatal> {
    let key = if flag == "--from" { "after" } else { "before" };
    match auditlens::query::parse(&format!(
        "{key}:{}",
        auditlens::store::stats::quote_value(value)
    )) {
        Ok(auditlens::query::Query::TimeRange { start: Some(t), .. })
        | Ok(auditlens::query::Query::TimeRange { end: Some(t), .. }) => Ok(t),
        _ => Err(Fatal(format!(
            "{flag} {value:?}: expected a date YYYY-MM-DD or a time YYYY-MM-DDThh:mm:ss[.ffffff][Z|±hh:mm]"
        ))),
    }
}

fn stats(
    db: &Path,
    json: bool,
    all: bool,
    from: Option<&str>,
    to: Option<&str>,
    top: usize,
    query: &str,
) -> Result<ExitCode, Fatal> {
    use auditlens::store::stats::{Scope, StatsError};
    let scope = Scope {
        from: from.map(|v| time_option("--from", v)).transpose()?,
        to: to.map(|v| time_option("--to", v)).transpose()?,
        query: query.to_owned(),
        include_unverified: all,
    };
    let store = open_existing(db)?;
    let now = chrono::Utc::now().timestamp_micros();
    let s = store.stats(&scope, top, now).map_err(|e| match e {
        StatsError::Query(q) => Fatal(report::query_error(query, &q)),
        other => Fatal(other.to_string()),
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    let which = if all {
        "all stored archives"
    } else {
        "verified archives"
    };
    println!(
        "{} requests in {which} (Kubernetes RequestReceived/ResponseStarted records are not counted)",
        s.total
    );
    let line = |name: &str, map: &std::collections::BTreeMap<String, u64>| {
        let parts: Vec<String> = map
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{} {n}", safe(k)))
            .collect();
        println!(
            "{name:<12} {}",
            if parts.is_empty() {
                "-".into()
            } else {
                parts.join(", ")
            }
        );
    };
    line("category:", &s.by_category);
    line("outcome:", &s.by_outcome);
    line("source:", &s.by_source);
    if !s.top_actors.is_empty() {
        println!("top actors:");
        for a in &s.top_actors {
            println!("  {:>8}  {}", a.count, safe(&a.actor));
        }
    }
    if !s.deployments_per_day.is_empty() {
        println!("deployments per day (UTC):");
        for d in &s.deployments_per_day {
            println!("  {}  {}", safe(&d.day), d.count);
        }
    }
    // Whose rules (docs/sources.md): the fields of these archives are what the producer's mapping file says.
    let producer = store
        .producer_rules(&scope)
        .map_err(|e| Fatal(e.to_string()))?;
    if !producer.is_empty() {
        println!(
            "fields of {} come from the producer's mapping file (re-normalize with import --as KIND):",
            report::count(producer.len() as u64, "archive")
        );
        for a in &producer {
            println!(
                "  {}@{} {}",
                auditlens::bundle::terminal_safe(a.origin.as_deref().unwrap_or("")),
                a.sequence.unwrap_or(0),
                a.reason.as_deref().unwrap_or("")
            );
        }
    }
    println!(
        "every figure is the count of a search; e.g. the total: auditlens search --db {} --count -- {:?}",
        safe(&db.display().to_string()),
        s.drill.total
    );
    Ok(ExitCode::SUCCESS)
}

fn writeln_ok(out: &mut impl std::io::Write, line: &str) {
    let _ = writeln!(out, "{line}");
}

fn export_bundle(
    db: &Path,
    query: Option<&str>,
    ids: Option<&Path>,
    key: &Path,
    purpose: &str,
    out: &Path,
) -> Result<ExitCode, Fatal> {
    use auditlens::bundle::{self, ExportError, ExportOptions, SelectionInput};
    use auditlens::store::search::SearchError;
    let auditor = read_signer(key)?;
    let selection = match (query, ids) {
        (Some(q), None) => SelectionInput::Query(q.to_string()),
        (None, Some(path)) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let ids = bundle::export::parse_ids(&text)
                .map_err(|e| Fatal(format!("{}: {e}", path.display())))?;
            SelectionInput::Ids(ids)
        }
        _ => return Err(Fatal("give exactly one of --query and --ids".into())),
    };
    if !db.is_file() {
        return Err(Fatal(format!("{}: no such database", db.display())));
    }
    let store = auditlens::store::Store::open_read_only(db)?;
    let opts = ExportOptions {
        selection,
        purpose,
        auditor: &auditor,
        out,
        now_micros: chrono::Utc::now().timestamp_micros(),
    };
    match bundle::export(&store, &opts) {
        Ok(s) => {
            println!(
                "exported {} event(s) from {} archive(s) to {} ({}); manifest signed by auditor {} {}",
                s.events,
                s.archives,
                safe(&s.out),
                report::human_bytes(s.bytes),
                safe(&s.auditor.name),
                s.auditor.fingerprint
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(ExportError::Refused(refusals)) => {
            const SHOWN: usize = 50;
            for r in refusals.iter().take(SHOWN) {
                eprintln!("{}: {}", safe(&r.id), safe(&r.reason));
            }
            if refusals.len() > SHOWN {
                eprintln!("... and {} more", refusals.len() - SHOWN);
            }
            eprintln!(
                "NOT EXPORTED: {} selected event(s) cannot be exported as verified; nothing was written",
                refusals.len()
            );
            Ok(ExitCode::from(1))
        }
        Err(ExportError::Search(SearchError::Query(q))) => {
            Err(Fatal(report::query_error(query.unwrap_or_default(), &q)))
        }
        Err(e) => Err(Fatal(e.to_string())),
    }
}

fn verify_bundle(
    trust: &[PathBuf],
    trust_policy: &[PathBuf],
    trust_auditor: &[PathBuf],
    json: bool,
    bundle: &Path,
) -> Result<ExitCode, Fatal> {
    let producers = read_trusted(trust)?;
    let policy = read_policy(&[], trust_policy)?;
    let auditors = read_trusted(trust_auditor)?;
    let opts = auditlens::bundle::VerifyOptions {
        trusted_producers: &producers,
        trusted_auditors: &auditors,
        producer_policy: Some(&policy),
    };
    let v = auditlens::bundle::verify_bundle(bundle, &opts)
        .map_err(|e| format!("{}: {e}", bundle.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let (out, err) = auditlens::bundle::verify::human_report(&v);
        print!("{out}");
        eprint!("{err}");
    }
    Ok(if v.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
