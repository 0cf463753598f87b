//! The result table as data for working papers: one CSV record per event (RFC 4180), with the columns the
//! search shows and the event's provenance, or JSON Lines (`auditlens search --csv/--json --all`, the app's
//! "Export results…"; docs/search.md section 10).
//!
//! Event text is attacker-controlled. A cell a spreadsheet would read as a formula (starting with `=`, `+`, `-`,
//! `@`, a tab or a carriage return) is written with a `'` in front, as OWASP advises against CSV injection; the
//! JSON Lines form (`--json`) keeps every value exactly.

use std::io::Write;

use crate::store::Store;
use crate::store::search::{EventRow, SearchError, SearchPage};

/// The CSV header: the table's columns, then the provenance that makes each row checkable against its archive.
pub const CSV_HEADER: [&str; 18] = [
    "id",
    "time",
    "source",
    "origin",
    "actor",
    "action",
    "resource",
    "outcome",
    "category",
    "ip",
    "agent",
    "env",
    "stage",
    "privilege",
    "archive",
    "sequence",
    "index",
    "verified",
];

/// One CSV cell: quoted when it holds a comma, a quote, a line break or leading/trailing space, its quotes
/// doubled; a formula's first character neutralised with `'`.
pub fn csv_cell(value: &str) -> String {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let text = if formula {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    let quote =
        text.contains([',', '"', '\n', '\r']) || text.starts_with(' ') || text.ends_with(' ');
    if quote {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// One CSV record from cells, without the line ending.
pub fn csv_record<'a>(cells: impl IntoIterator<Item = &'a str>) -> String {
    cells
        .into_iter()
        .map(csv_cell)
        .collect::<Vec<_>>()
        .join(",")
}

/// An event's CSV record, in the order of [`CSV_HEADER`]; a missing value is an empty cell.
pub fn event_csv(e: &EventRow) -> String {
    fn o(v: &Option<String>) -> &str {
        v.as_deref().unwrap_or("")
    }
    let (sequence, index) = (e.sequence.to_string(), e.index.to_string());
    csv_record([
        e.id.as_str(),
        o(&e.time),
        o(&e.source),
        o(&e.origin),
        o(&e.actor),
        o(&e.action),
        o(&e.resource),
        o(&e.outcome),
        o(&e.category),
        o(&e.ip),
        o(&e.agent),
        o(&e.env),
        o(&e.stage),
        o(&e.privilege),
        e.archive.as_str(),
        &sequence,
        &index,
        if e.verified { "true" } else { "false" },
    ])
}

/// The forms a result table is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// RFC 4180, [`CSV_HEADER`] first, one [`event_csv`] record per event, CRLF-free (`\n` line ends).
    Csv,
    /// One JSON object per event, as `auditlens search --json` writes them (every value exact).
    JsonLines,
}

impl TableFormat {
    /// The form a file name asks for: `.jsonl`, `.ndjson` and `.json` are JSON Lines, anything else CSV.
    pub fn of_path(path: &std::path::Path) -> TableFormat {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("jsonl" | "ndjson" | "json") => TableFormat::JsonLines,
            _ => TableFormat::Csv,
        }
    }
}

/// Why a result table could not be written.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error("writing the results: {0}")]
    Io(#[from] std::io::Error),
    /// The caller's `shown` step refused a page.
    #[error("{0}")]
    Shown(String),
}

/// Writes every event `query` matches, newest first (from the cursor `after`, when given), page after page
/// (bounded memory), in `format`; each line goes through `line` (the command line makes CSV cells safe to print
/// on a terminal with it), each page through `shown` first (the app clears `verified` there as on its screens:
/// [`crate::store::confirm`]). Returns how many events were written.
#[allow(clippy::too_many_arguments)]
pub fn write_results(
    store: &Store,
    query: &str,
    after: Option<&str>,
    format: TableFormat,
    now_micros: i64,
    out: &mut dyn Write,
    line: &dyn Fn(String) -> String,
    shown: &mut dyn FnMut(&mut SearchPage) -> Result<(), String>,
) -> Result<u64, TableError> {
    const PAGE: usize = 1000;
    if format == TableFormat::Csv {
        writeln!(out, "{}", line(csv_record(CSV_HEADER)))?;
    }
    let mut after: Option<String> = after.map(str::to_owned);
    let mut written = 0u64;
    loop {
        let mut page = store.search(query, PAGE, after.as_deref(), now_micros)?;
        shown(&mut page).map_err(TableError::Shown)?;
        for e in &page.events {
            let text = match format {
                TableFormat::Csv => event_csv(e),
                TableFormat::JsonLines => {
                    serde_json::to_string(e).map_err(std::io::Error::other)?
                }
            };
            writeln!(out, "{}", line(text))?;
            written += 1;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(written),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_as_rfc_4180_says_and_formulas_neutralised() {
        assert_eq!(csv_cell("alice"), "alice");
        assert_eq!(csv_cell(""), "");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell(" padded"), "\" padded\"");
        assert_eq!(
            csv_cell("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-cmd|' /C calc'!A0"), "'-cmd|' /C calc'!A0");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_record(["a", "b,c", ""]), "a,\"b,c\",");
    }
}
