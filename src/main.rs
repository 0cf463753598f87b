//! The `auditlens` command line: a thin door onto the library. This file is the clap definitions and the
//! dispatch; each subcommand is a file in src/cmd/, and all human output is src/render.rs. Exit codes: 0
//! success, 1 verification failure, 2 usage or I/O error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use auditlens::sources::SourceKind;
use auditlens_cli::cmd::{self, Fatal, coverage_options, read_policy};
use auditlens_cli::render;

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

/// What verifies CloudTrail exports (`verify`, `import`) and re-verifies stored ones (`check`).
#[derive(clap::Args)]
struct AwsArgs {
    /// AWS CloudTrail public keys, the JSON `aws cloudtrail list-public-keys` prints; repeatable. Needed for a
    /// CloudTrail export folder (AWSLogs/..., docs/cloudtrail.md) given among the archives, and by `check` for
    /// the CloudTrail evidence in the database.
    #[arg(long = "aws-keys", value_name = "KEYS.json")]
    aws_keys: Vec<PathBuf>,
    /// Signatures of CloudTrail digests from outside the export, a JSON object {"<digest S3 key>": "<hex>"}
    /// (besides `<digest>.head.json` files next to the digests, read by themselves).
    #[arg(long = "aws-signatures", value_name = "FILE")]
    aws_signatures: Option<PathBuf>,
    /// An audited AWS account (12 digits); repeatable. A CloudTrail export of any other account then fails
    /// (AWS's signature proves what an account logged, not which account is audited).
    #[arg(long = "aws-account", value_name = "ACCOUNT")]
    aws_account: Vec<String>,
}

impl AwsArgs {
    fn options(&self) -> cmd::verify::AwsOptions<'_> {
        cmd::verify::AwsOptions {
            keys: &self.aws_keys,
            signatures: self.aws_signatures.as_deref(),
            accounts: &self.aws_account,
        }
    }
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
    /// Seal files nobody signed on receipt, with the auditor's own key: the archive records each file's name,
    /// SHA-256 and size as received and the time, and is labelled everywhere "sealed on receipt by KEY at TIME:
    /// proves no change since receipt, not authenticity at the source" (JSON Lines, Kubernetes audit, CloudTrail
    /// files without digests, GitHub and Okta exports, ...; gzip or plain).
    Receive {
        /// The auditor's signing key (made by `auditlens keygen`).
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
        #[command(flatten)]
        aws: AwsArgs,
        /// Signed archives, and CloudTrail exports: folders, or ZIPs or tars of them (with --aws-keys).
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
        #[command(flatten)]
        aws: AwsArgs,
        /// Signed archives, and CloudTrail exports: folders, or ZIPs or tars of them (with --aws-keys), verified
        /// with AWS's signatures and stored only when they verify in full.
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
        /// AWS CloudTrail public keys (the JSON `aws cloudtrail list-public-keys` prints), repeatable: the CloudTrail
        /// evidence in the database is re-verified with these (none are read from the file).
        #[arg(long = "aws-keys", value_name = "KEYS.json")]
        aws_keys: Vec<PathBuf>,
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
        /// CSV output: a header, then one record per event with its provenance (docs/search.md section 10).
        #[arg(long, conflicts_with = "json")]
        csv: bool,
        /// Every match, newest first, page after page (with --json or --csv), instead of one page.
        #[arg(long)]
        all: bool,
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
        /// AWS CloudTrail public keys (the JSON `aws cloudtrail list-public-keys` prints), repeatable: selected
        /// CloudTrail events are exported with their whole log files, digests and these keys, after the stored
        /// export re-verifies with them (without, they are refused).
        #[arg(long = "aws-keys", value_name = "KEYS.json")]
        aws_keys: Vec<PathBuf>,
    },
    /// Export verified events as OCSF 1.1.0 Parquet (docs/ocsf-export.md), laid out for Amazon Security Lake and
    /// ready for ClickHouse, Athena/Trino and DuckDB (docs/scale-out.md), with a manifest signed by the auditor.
    /// Exit 1 (nothing written) when a selected archive no longer matches its signed checkpoint.
    ExportParquet {
        #[arg(long)]
        db: PathBuf,
        /// Export only events this query matches (docs/search.md); every verified event without it.
        #[arg(long, default_value = "")]
        query: String,
        /// Start of the time range (inclusive): a date or an RFC 3339 time, as in `after:`.
        #[arg(long)]
        from: Option<String>,
        /// End of the time range (exclusive): a date or an RFC 3339 time, as in `before:`.
        #[arg(long)]
        to: Option<String>,
        /// Also export Kubernetes RequestReceived and ResponseStarted events (the dashboards leave them out).
        #[arg(long)]
        all_stages: bool,
        /// The auditor's signing key (`auditlens keygen`); it signs the manifest.
        #[arg(long)]
        key: PathBuf,
        /// The output directory (must not exist, or be empty).
        #[arg(long)]
        out: PathBuf,
        /// AWS CloudTrail public keys (the JSON `aws cloudtrail list-public-keys` prints), repeatable: the stored
        /// CloudTrail exports whose events are selected are re-verified with them first (without, they are refused).
        #[arg(long = "aws-keys", value_name = "KEYS.json")]
        aws_keys: Vec<PathBuf>,
        /// Print the summary as one JSON document.
        #[arg(long)]
        json: bool,
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
        /// Trusted AWS CloudTrail public keys (the JSON `aws cloudtrail list-public-keys` prints, obtained from
        /// AWS), repeatable: every digest of a CloudTrail archive must be signed by one of them.
        #[arg(long = "aws-keys", value_name = "KEYS.json")]
        aws_keys: Vec<PathBuf>,
        /// Print one JSON document instead of the human report.
        #[arg(long)]
        json: bool,
        bundle: PathBuf,
    },
    /// The auditor's action log (the working papers next to the database): every import, re-check, export and
    /// change to tags, notes, bookmarks and saved searches, hash chained. Exit 0 when the chain holds (and ends at
    /// --head), 1 when an entry was changed, removed or reordered.
    Log {
        /// The database whose log to show and check.
        #[arg(long, conflicts_with = "file")]
        db: Option<PathBuf>,
        /// Check an exported log (JSON Lines) instead of a database's.
        #[arg(long)]
        file: Option<PathBuf>,
        /// The hash the log must end with (as an earlier export or a bundle's annotations recorded it): catches
        /// entries removed from the end.
        #[arg(long)]
        head: Option<String>,
        /// Print the entries as JSON Lines (the export format).
        #[arg(long)]
        jsonl: bool,
        /// Also write the entries as JSON Lines to this file (logged as an export).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Benchmarks: seal and verify N generated events beside plain SHA-256 over the same bytes.
    Bench {
        /// Number of generated events.
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        /// Working directory for generated inputs and archives (kept for reruns).
        #[arg(long, default_value = "target/bench-data")]
        dir: PathBuf,
        /// Run one section only: `archive` (seal/verify vs SHA-256), `store` (import, queries vs raw scan),
        /// `dashboards` (the dashboard functions on the store the `store` section built), `export` (OCSF Parquet
        /// of that store, vs reading the same events), `pages`
        /// (pages of results, first, deep and last, in every order, on that store) or `cloudtrail` (an AWS
        /// CloudTrail export verified and imported, vs gunzip + SHA-256 of its log files).
        #[arg(long)]
        only: Option<String>,
        /// Repetitions per query for the latency percentiles.
        #[arg(long, default_value_t = 20)]
        runs: usize,
        /// Runs of every timed phase (seal, verify, import, the SQLite floors, export, their baselines): the
        /// tables print the median, the CPU time beside it and every run's range.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Events per step of the store section: a store of more events is built by importing steps of this many
        /// (an archive of Kubernetes audit events and one of CloudTrail records each) one after the other, and the
        /// rate of each step is printed.
        #[arg(long, default_value_t = auditlens_bench::bench_store::STEP_EVENTS)]
        step: u64,
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

/// A reader that stops reading (`auditlens search ... | head`) closes the pipe: Rust's `println!` then panics on the
/// write error. Like every Unix tool killed by SIGPIPE, end at once, quietly, with the shell's status for it
/// (128 + 13); any other panic is reported as usual.
fn quiet_on_closed_stdout() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        report(info);
    }));
}

fn main() -> ExitCode {
    auditlens::alloc::give_large_blocks_back();
    quiet_on_closed_stdout();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen { name, out } => cmd::keygen::run(&name, &out),
        Command::Seal {
            key,
            origin,
            prev,
            format,
            mapping,
            out,
            inputs,
        } => cmd::seal::run(
            &key,
            &origin,
            prev.as_deref(),
            format,
            mapping.as_deref(),
            &out,
            &inputs,
        ),
        Command::Receive {
            key,
            origin,
            prev,
            format,
            out,
            inputs,
        } => cmd::seal::receive(&key, &origin, prev.as_deref(), format, &out, &inputs),
        Command::Verify {
            trust,
            trust_policy,
            json,
            period,
            silence,
            aws,
            archives,
        } => read_policy(&trust, &trust_policy).and_then(|p| {
            coverage_options(period.as_deref(), silence.as_deref())
                .and_then(|period| cmd::verify::run(&p, json, period, &aws.options(), &archives))
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
            aws,
            archives,
        } => read_policy(&trust, &trust_policy).and_then(|p| {
            coverage_options(period.as_deref(), silence.as_deref()).and_then(|period| {
                cmd::import::run(
                    &db,
                    &p,
                    keep_failed,
                    json,
                    period,
                    as_kind,
                    &aws.options(),
                    &archives,
                )
            })
        }),
        Command::Check {
            db,
            trust,
            trust_policy,
            aws_keys,
            json,
            period,
            silence,
        } => coverage_options(period.as_deref(), silence.as_deref()).and_then(|period| {
            cmd::check::run(&db, &trust, &trust_policy, &aws_keys, json, period)
        }),
        Command::Search {
            db,
            json,
            limit,
            after,
            count,
            csv,
            all,
            query,
        } => cmd::search::run(
            &db,
            cmd::search::Options {
                json,
                csv,
                all,
                limit,
                after: after.as_deref(),
                count,
            },
            &query,
        ),
        Command::Stats {
            db,
            json,
            all,
            from,
            to,
            top,
            query,
        } => cmd::stats::run(&db, json, all, from.as_deref(), to.as_deref(), top, &query),
        Command::Export {
            db,
            query,
            ids,
            key,
            purpose,
            out,
            aws_keys,
        } => cmd::export::run(
            &db,
            query.as_deref(),
            ids.as_deref(),
            &key,
            &purpose,
            &out,
            &aws_keys,
        ),
        Command::ExportParquet {
            db,
            query,
            from,
            to,
            all_stages,
            key,
            out,
            aws_keys,
            json,
        } => cmd::export_parquet::run(&cmd::export_parquet::Args {
            db: &db,
            query: &query,
            from: from.as_deref(),
            to: to.as_deref(),
            all_stages,
            key: &key,
            out: &out,
            aws_keys: &aws_keys,
            json,
        }),
        Command::VerifyBundle {
            trust,
            trust_policy,
            trust_auditor,
            aws_keys,
            json,
            bundle,
        } => cmd::verify_bundle::run(
            &trust,
            &trust_policy,
            &trust_auditor,
            &aws_keys,
            json,
            &bundle,
        ),
        Command::Log {
            db,
            file,
            head,
            jsonl,
            out,
        } => cmd::log::run(&cmd::log::Args {
            db: db.as_deref(),
            file: file.as_deref(),
            head: head.as_deref(),
            jsonl,
            out: out.as_deref(),
        }),
        Command::Bench {
            events,
            dir,
            only,
            runs,
            repeat,
            step,
        } => cmd::bench::run(events, &dir, only.as_deref(), runs, repeat, step),
    };
    match result {
        Ok(code) => code,
        Err(Fatal(msg)) => {
            render::fatal(&msg);
            ExitCode::from(2)
        }
    }
}
