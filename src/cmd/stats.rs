//! `auditlens stats`: request counts over verified archives, each with the search that reproduces it.

use std::path::Path;
use std::process::ExitCode;

use auditlens::query::{self, Query};
use auditlens::store::stats::{Scope, StatsError, quote_value};

use super::{Fatal, open_existing};
use crate::render;

/// A `--from` / `--to` value read as `after:` / `before:` read theirs.
pub(crate) fn time_option(flag: &str, value: &str) -> Result<i64, Fatal> {
    let key = if flag == "--from" { "after" } else { "before" };
    match query::parse(&format!("{key}:{}", quote_value(value))) {
        Ok(Query::TimeRange { start: Some(t), .. }) | Ok(Query::TimeRange { end: Some(t), .. }) => {
            Ok(t)
        }
        _ => Err(Fatal(format!(
            "{flag} {value:?}: expected a date YYYY-MM-DD or a time YYYY-MM-DDThh:mm:ss[.ffffff][Z|±hh:mm]"
        ))),
    }
}

pub fn run(
    db: &Path,
    json: bool,
    all: bool,
    from: Option<&str>,
    to: Option<&str>,
    top: usize,
    query: &str,
) -> Result<ExitCode, Fatal> {
    let scope = Scope {
        from: from.map(|v| time_option("--from", v)).transpose()?,
        to: to.map(|v| time_option("--to", v)).transpose()?,
        query: query.to_owned(),
        include_unverified: all,
    };
    let store = open_existing(db)?;
    let now = chrono::Utc::now().timestamp_micros();
    let s = store.stats(&scope, top, now).map_err(|e| match e {
        StatsError::Query(q) => Fatal(render::query_error(query, &q)),
        other => Fatal(other.to_string()),
    })?;
    if json {
        println!("{}", auditlens::safe_text::to_json_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    let producer = store
        .producer_rules(&scope)
        .map_err(|e| Fatal(e.to_string()))?;
    render::stats(db, &s, all, &producer);
    Ok(ExitCode::SUCCESS)
}
