//! `auditlens search`: a page of events matching a query (docs/search.md), newest first, or their number.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use auditlens::store::search::SearchError;

use super::{Fatal, open_existing};
use crate::render;

pub fn run(
    db: &Path,
    json: bool,
    limit: usize,
    after: Option<&str>,
    count: bool,
    query: &str,
) -> Result<ExitCode, Fatal> {
    let store = open_existing(db)?;
    let now = chrono::Utc::now().timestamp_micros();
    let query_error = |e: SearchError| match e {
        SearchError::Query(q) => Fatal(render::query_error(query, &q)),
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
        render::search_page(&page.events, page.next.as_deref());
    }
    Ok(ExitCode::SUCCESS)
}

fn writeln_ok(out: &mut impl Write, line: &str) {
    let _ = writeln!(out, "{line}");
}
