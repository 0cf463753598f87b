//! Hints for a query that matches nothing (issue 16: "a query that is almost certainly wrong gets a hint, never a
//! silent zero"; docs/search.md section 11). Each hint says what near the query does match, counted the way the
//! search counts, and, where one term can be changed, the query with it changed.

use rusqlite::params_from_iter;
use serde::Serialize;

use super::search::SearchError;
use super::{Store, StoreError};
use crate::query::{self, Field, Query};

/// One hint: what was found instead, and the query that finds it, when one term can be changed to get there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Hint {
    pub message: String,
    pub query: Option<String>,
}

/// The values a field can take, for the fields whose values AuditLens decides.
fn vocabulary(field: Field) -> Option<&'static [&'static str]> {
    match field {
        Field::Outcome => Some(&crate::sources::OUTCOMES),
        Field::Category => Some(&crate::sources::CATEGORIES),
        Field::Privilege => Some(&crate::sources::PRIVILEGES),
        Field::Status => Some(&["verified", "received", "untrusted", "failed"]),
        _ => None,
    }
}

/// A value written bare in a pattern (`*v*`) reads back the same only without these.
fn bare(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"' | '\\' | '*'))
}

/// `query` with the word `from` (a whole whitespace-separated token, found once) replaced by `to`.
fn replaced(query: &str, from: &str, to: &str) -> Option<String> {
    let tokens: Vec<&str> = query.split_whitespace().collect();
    if tokens.iter().filter(|t| **t == from).count() != 1 {
        return None;
    }
    let out: Vec<&str> = tokens
        .into_iter()
        .map(|t| if t == from { to } else { t })
        .collect();
    Some(out.join(" "))
}

impl Store {
    /// The number of events a parsed query matches, counted from its compiled condition (its patterns resolved
    /// to the values they match first, store/resolve.rs).
    fn count_parsed(&self, q: &Query, now_micros: i64) -> Result<u64, SearchError> {
        let n: i64 = self.query_parsed("SELECT count(*) FROM events e WHERE {}", q, now_micros)?;
        Ok(n.max(0) as u64)
    }

    /// Whether a parsed query matches any event (as [`Store::count_parsed`] counts them): the first match ends
    /// the read.
    fn any_parsed(&self, q: &Query, now_micros: i64) -> Result<bool, SearchError> {
        self.query_parsed(
            "SELECT EXISTS (SELECT 1 FROM events e WHERE {})",
            q,
            now_micros,
        )
    }

    /// The one value `sql` gives with `{}` replaced by the query's condition.
    fn query_parsed<T: rusqlite::types::FromSql>(
        &self,
        sql: &str,
        q: &Query,
        now_micros: i64,
    ) -> Result<T, SearchError> {
        super::text_index::refresh(&self.conn).map_err(StoreError::from)?;
        let q =
            super::resolve::resolve(&self.conn, q.clone(), now_micros).map_err(StoreError::from)?;
        let f = query::compile(&q, now_micros);
        let params = super::search::bind(f.params);
        Ok(self.conn.query_row(
            &sql.replacen("{}", &f.sql, 1),
            params_from_iter(params),
            |r| r.get(0),
        )?)
    }

    /// Hints for `query_text` when it matches no event (none when it matches some, or does not parse: the
    /// parser's error says what is wrong then).
    pub fn hints(&self, query_text: &str, now_micros: i64) -> Result<Vec<Hint>, SearchError> {
        let Ok(q) = query::parse(query_text) else {
            return Ok(Vec::new());
        };
        // Each different query is counted once (a one-term query is its own first term; a count that must read
        // every event, such as a JSON member's, costs that read each time).
        let counted = std::cell::RefCell::new(Vec::<(Query, u64)>::new());
        let count = |q: &Query| -> Result<u64, SearchError> {
            if let Some((_, n)) = counted.borrow().iter().find(|(k, _)| k == q) {
                return Ok(*n);
            }
            let n = self.count_parsed(q, now_micros)?;
            counted.borrow_mut().push((q.clone(), n));
            Ok(n)
        };
        // Whether any event matches: the first match ends the read (a member most events have, at once).
        let any = |q: &Query| -> Result<bool, SearchError> {
            if let Some((_, n)) = counted.borrow().iter().find(|(k, _)| k == q) {
                return Ok(*n > 0);
            }
            self.any_parsed(q, now_micros)
        };
        if count(&q)? > 0 {
            return Ok(Vec::new());
        }
        let items: Vec<Query> = match &q {
            Query::And(items) => items.clone(),
            Query::All => return Ok(Vec::new()),
            other => vec![other.clone()],
        };
        let mut hints = Vec::new();
        for item in &items {
            match item {
                Query::Field {
                    field,
                    value,
                    prefix: false,
                } if vocabulary(*field)
                    .is_some_and(|v| !v.iter().any(|w| w.eq_ignore_ascii_case(value))) =>
                {
                    let values = vocabulary(*field).unwrap_or_default().join(", ");
                    hints.push(Hint {
                        message: format!(
                            "`{}:` is one of {values}; no event has `{value}`",
                            field.name()
                        ),
                        query: None,
                    });
                }
                Query::Field {
                    field,
                    value,
                    prefix: false,
                } if !matches!(field, Field::Time | Field::Status)
                    && bare(value)
                    && !any(item)? =>
                {
                    let pattern = format!("*{value}*");
                    let contains = Query::Pattern {
                        field: *field,
                        pattern: pattern.clone(),
                    };
                    let n = count(&contains)?;
                    if n > 0 {
                        let term = format!("{}:{pattern}", field.name());
                        hints.push(Hint {
                            message: format!(
                                "no {} is exactly `{value}`; {} {} one containing it: {term}",
                                field.name(),
                                crate::report::count(n, "event"),
                                if n == 1 { "has" } else { "have" }
                            ),
                            query: replaced(
                                query_text,
                                &format!("{}:{value}", field.name()),
                                &term,
                            ),
                        });
                    }
                }
                Query::Json { path, .. } => {
                    let present = Query::Json {
                        path: path.clone(),
                        value: String::new(),
                        prefix: true,
                        pattern: false,
                    };
                    if !any(&present)? {
                        hints.push(Hint {
                            message: format!(
                                "no event has the member json.{} (member names are compared exactly, case included)",
                                path.join(".")
                            ),
                            query: None,
                        });
                    }
                }
                Query::Text {
                    text,
                    prefix: false,
                    phrase: false,
                } if bare(text) && !any(item)? => {
                    let starts = Query::Text {
                        text: text.clone(),
                        prefix: true,
                        phrase: false,
                    };
                    let n = count(&starts)?;
                    if n > 0 {
                        hints.push(Hint {
                            message: format!(
                                "no event has the word `{text}`; {} {} a word starting with it: {text}*",
                                crate::report::count(n, "event"),
                                if n == 1 { "has" } else { "have" }
                            ),
                            query: replaced(query_text, text, &format!("{text}*")),
                        });
                    }
                }
                _ => {}
            }
        }
        // Time terms: what the rest of the query finds at other times, or without a time.
        let timed = |q: &Query| {
            matches!(
                q,
                Query::TimeRange { .. }
                    | Query::Since(_)
                    | Query::WorkHours { .. }
                    | Query::Field {
                        field: Field::Time,
                        ..
                    }
            )
        };
        if items.iter().any(timed) {
            let rest: Vec<Query> = items.iter().filter(|q| !timed(q)).cloned().collect();
            let n = count(&Query::And(rest))?;
            if n > 0 {
                hints.push(Hint {
                    message: format!(
                        "without its time terms the query matches {}: none in this time range{}",
                        crate::report::count(n, "event"),
                        " (an event without a time is in no time range)"
                    ),
                    query: None,
                });
            }
        }
        Ok(hints)
    }
}
