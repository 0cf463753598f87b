//! `auditlens search`: a page of events matching a query (docs/search.md), newest first, or every page, as a
//! table, JSON Lines or CSV; or their number.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use auditlens::safe_text::terminal_safe;
use auditlens::store::confirm::Confirmations;
use auditlens::store::search::{SearchError, SearchPage};
use auditlens::table::{TableError, TableFormat, write_results};

use super::{Fatal, open_existing};
use crate::render;

/// How `search` prints.
pub struct Options<'a> {
    pub json: bool,
    pub csv: bool,
    /// Every match, page after page, instead of one page.
    pub all: bool,
    pub limit: usize,
    pub after: Option<&'a str>,
    pub count: bool,
}

pub fn run(db: &Path, opts: Options<'_>, query: &str) -> Result<ExitCode, Fatal> {
    let store = open_existing(db)?;
    let now = chrono::Utc::now().timestamp_micros();
    let query_error = |e: SearchError| match e {
        SearchError::Query(q) => Fatal(render::query_error(query, &q)),
        other => Fatal(other.to_string()),
    };
    if opts.count {
        println!("{}", store.count(query, now).map_err(query_error)?);
        return Ok(ExitCode::SUCCESS);
    }
    if opts.limit == 0 {
        return Err(Fatal("--limit must be at least 1".into()));
    }
    if opts.all && !(opts.json || opts.csv) {
        return Err(Fatal("--all prints with --json or --csv".into()));
    }
    // A row is printed as verified only once it is read again against the signed event, as the app shows it
    // (docs/trust-policy.md section 4b); why one is not goes to stderr.
    let known = Confirmations::new();
    let mut reasons = Reasons::default();
    let mut confirm = |page: &mut SearchPage| -> Result<(), String> {
        let why = store
            .confirm_page(page, &known)
            .map_err(|e| e.to_string())?;
        reasons.note(page, &why);
        Ok(())
    };
    // Event text is the auditee's: on a terminal, CSV cells are made safe to print (in a file, exact).
    let terminal = std::io::stdout().is_terminal();
    let mut out = std::io::stdout().lock();
    if opts.all {
        // Every match, page after page: the library's writer, as the app's "Export results…" uses it.
        let format = if opts.csv {
            TableFormat::Csv
        } else {
            TableFormat::JsonLines
        };
        // JSON Lines get their hidden characters as JSON escapes (the same values once read), as `--json` does.
        let line = |text: String| {
            if !opts.csv {
                auditlens::safe_text::json_safe(text)
            } else if terminal {
                terminal_safe(&text)
            } else {
                text
            }
        };
        return match write_results(
            &store,
            query,
            opts.after,
            format,
            now,
            &mut out,
            &line,
            &mut confirm,
        ) {
            Ok(_) => {
                reasons.print();
                Ok(ExitCode::SUCCESS)
            }
            Err(TableError::Search(e)) => Err(query_error(e)),
            Err(TableError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                std::process::exit(141)
            }
            Err(e) => Err(Fatal(e.to_string())),
        };
    }
    if opts.csv {
        writeln_ok(
            &mut out,
            &auditlens::table::csv_record(auditlens::table::CSV_HEADER),
        );
    }
    let mut page = store
        .search(query, opts.limit, opts.after, now)
        .map_err(query_error)?;
    confirm(&mut page).map_err(Fatal)?;
    if opts.csv {
        for e in &page.events {
            let record = auditlens::table::event_csv(e);
            writeln_ok(
                &mut out,
                &if terminal {
                    terminal_safe(&record)
                } else {
                    record
                },
            );
        }
    } else if opts.json {
        for e in &page.events {
            writeln_ok(&mut out, &auditlens::safe_text::to_json(e)?);
        }
    } else {
        render::search_page(&page.events, page.next.as_deref());
        // Nothing matched: what near the query does (docs/search.md section 11), on stderr.
        if page.events.is_empty() && opts.after.is_none() {
            for h in store.hints(query, now).map_err(query_error)? {
                eprintln!("hint: {}", terminal_safe(&h.message));
                if let Some(q) = &h.query {
                    eprintln!("  try: {}", terminal_safe(q));
                }
            }
        }
    }
    match page.next {
        Some(next) if opts.json => {
            writeln_ok(&mut out, &serde_json::json!({ "next": next }).to_string());
        }
        // A CSV page says where the next one starts on stderr, out of the data.
        Some(next) if opts.csv => {
            eprintln!("more results: --after {}", terminal_safe(&next));
        }
        _ => {}
    }
    reasons.print();
    Ok(ExitCode::SUCCESS)
}

/// The rows a store marks verified that were not confirmed, and why: the first few printed on stderr, the rest
/// counted.
#[derive(Default)]
struct Reasons {
    shown: Vec<String>,
    more: u64,
}

impl Reasons {
    const SHOWN: usize = 20;

    fn note(&mut self, page: &SearchPage, why: &std::collections::HashMap<String, String>) {
        // In the page's order, so that the lines follow the rows.
        for e in page.events.iter().filter(|e| why.contains_key(&e.id)) {
            if self.shown.len() < Self::SHOWN {
                self.shown.push(format!(
                    "not verified: {}: {}",
                    terminal_safe(&e.id),
                    terminal_safe(&why[&e.id])
                ));
            } else {
                self.more += 1;
            }
        }
    }

    fn print(&self) {
        for line in &self.shown {
            eprintln!("{line}");
        }
        if self.more > 0 {
            eprintln!(
                "not verified: {} more row(s) the database marks verified (run auditlens check)",
                self.more
            );
        }
    }
}

/// Writes one line. A reader that stopped reading (`| head`) ends the command at once, as a Unix tool killed by
/// SIGPIPE ends (status 141), instead of reading every remaining page into a closed pipe; any other write error
/// (a full disk) is a fatal error (exit code 2).
fn writeln_ok(out: &mut impl Write, line: &str) {
    match writeln!(out, "{line}") {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(141),
        Err(e) => {
            // An I/O problem: exit code 2, as every `Fatal`.
            eprintln!("auditlens: writing the results: {e}");
            std::process::exit(2);
        }
    }
}
