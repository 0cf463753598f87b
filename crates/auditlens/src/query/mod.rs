//! The AuditLens search query language: [`parse`] turns the text of the search box into a [`Query`] tree, with
//! an error that names the column where the text went wrong, and [`compile`] turns a tree into a boolean SQL
//! expression over the store's `events` table (alias `e`) with bound parameters.
//!
//! The language is specified in `docs/search.md`: free words and "quoted phrases" (full text, FTS5),
//! `field:value` terms with `*` prefixes, `time:` / `after:` / `before:` / `since:` time terms, `-term` and
//! `NOT term`, implicit or explicit `AND`, `OR`, and parentheses, with the precedence NOT > AND > OR.
//!
//! Nothing the user types ever becomes SQL text: values travel as [`SqlParam`]s, and full-text terms become
//! quoted FTS5 strings (`"..."` with inner `"` doubled) so FTS5 syntax in them is only text.
//!
//! Layout: `ast` holds the tree ([`Query`], [`Field`], [`QueryError`]), `lex` the lexer and the term readers,
//! `time` the grammar of times and durations, `parse` the parser and `compile` the SQL compiler; this module keeps
//! the public entry points.

mod ast;
mod compile;
mod lex;
mod parse;
mod time;

pub use ast::{Field, PaperKind, Query, QueryError};
pub use compile::{
    IdSet, IdSets, compile_fts_driven, id_sets, per_row_text, raw_needles, work_hours_sql,
};
pub use lex::known_names;
pub(crate) use time::{duration_micros, time_point};

use compile::{Cond, compile_node};
use lex::Lexer;
use parse::Parser;

/// Most free-text or field terms one query may hold (keeps the SQL within SQLite's limits on parameters).
pub const MAX_TERMS: usize = 1000;

/// Deepest nesting of parentheses and `NOT` / `-` a query may have.
pub const MAX_DEPTH: usize = 64;

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// A compiled query: a boolean SQL expression over table `events` aliased `e` and the values of its `?`
/// placeholders, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlFilter {
    /// The expression; `1` for a query matching everything, `0` for one matching nothing.
    pub sql: String,
    pub params: Vec<SqlParam>,
}

/// A value bound to one `?` of a [`SqlFilter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlParam {
    Int(i64),
    Text(String),
}

/// Most bytes a compiled `field:/regex/` may take (the `regex` crate's size limit): a hostile pattern is refused,
/// never slow.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Compiles the pattern of a `field:/regex/` term as every such term matches: case-insensitive, size-limited.
pub fn build_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// Registers `regexp_match(pattern, value)` on a connection: whether `value` (text) matches `pattern` as
/// [`build_regex`] compiles it; NULL for a NULL value. The compiled pattern is kept per statement. And
/// `raw_has(raw, needles)`, the cheap first test of a JSON member's pattern (`raw_has` below).
pub fn register_functions(conn: &rusqlite::Connection) -> Result<(), rusqlite::Error> {
    use rusqlite::functions::FunctionFlags;
    use std::sync::Arc;
    conn.create_scalar_function(
        "regexp_match",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let re: Arc<regex::Regex> =
                ctx.get_or_create_aux(0, |v| -> Result<_, rusqlite::Error> {
                    build_regex(v.as_str()?)
                        .map_err(|e| rusqlite::Error::UserFunctionError(e.into()))
                })?;
            Ok(match ctx.get_raw(1) {
                rusqlite::types::ValueRef::Text(t) => Some(
                    std::str::from_utf8(t)
                        .map(|t| re.is_match(t))
                        .unwrap_or(false),
                ),
                rusqlite::types::ValueRef::Null => None,
                _ => Some(false),
            })
        },
    )?;
    conn.create_scalar_function(
        "raw_has",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let needles: Arc<Vec<regex::bytes::Regex>> =
                ctx.get_or_create_aux(1, |v| -> Result<_, rusqlite::Error> {
                    build_needles(v.as_str()?)
                        .map_err(|e| rusqlite::Error::UserFunctionError(e.into()))
                })?;
            Ok(match ctx.get_raw(0) {
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    raw_has(t, &needles)
                }
                _ => true,
            })
        },
    )
}

/// Whether an event's bytes `raw` hold every space-separated word of `needles` ASCII case-insensitively, or a
/// `\u` escape (see `compile::raw_needles`). The compiled words are kept per statement.
fn raw_has(raw: &[u8], needles: &[regex::bytes::Regex]) -> bool {
    memchr::memmem::find(raw, b"\\u").is_some() || needles.iter().all(|n| n.is_match(raw))
}

fn build_needles(needles: &str) -> Result<Vec<regex::bytes::Regex>, regex::Error> {
    needles
        .split(' ')
        .filter(|n| !n.is_empty())
        .map(|n| {
            regex::bytes::RegexBuilder::new(&regex::escape(n))
                .case_insensitive(true)
                .unicode(false)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
        })
        .collect()
}

/// Parses a query (`docs/search.md`). The empty or all-whitespace query is [`Query::All`].
pub fn parse(input: &str) -> Result<Query, QueryError> {
    let chars: Vec<char> = input.chars().collect();
    let tokens = Lexer::new(&chars).run()?;
    let mut parser = Parser {
        tokens: tokens.into_iter().peekable(),
    };
    if parser.tokens.peek().is_none() {
        return Ok(Query::All);
    }
    let query = parser.parse_or(0)?;
    match parser.tokens.next() {
        None => Ok(query),
        Some(token) => Err(QueryError::new(
            token.column,
            "this `)` has no matching `(`",
        )),
    }
}

/// Compiles a query into an SQL expression; `now_micros` is the current time, for `since:`.
pub fn compile(q: &Query, now_micros: i64) -> SqlFilter {
    match compile_node(q, now_micros) {
        Cond::Const(true) => SqlFilter {
            sql: "1".to_owned(),
            params: Vec::new(),
        },
        Cond::Const(false) => SqlFilter {
            sql: "0".to_owned(),
            params: Vec::new(),
        },
        Cond::Sql(part) => SqlFilter {
            sql: part.sql,
            params: part.params,
        },
    }
}

#[cfg(test)]
mod test_support {
    //! Helpers shared by the unit tests of the query modules.

    use super::{Field, Query, parse};
    use chrono::NaiveDate;

    pub(super) fn text(word: &str) -> Query {
        Query::Text {
            text: word.to_owned(),
            prefix: false,
            phrase: false,
        }
    }

    pub(super) fn phrase(words: &str) -> Query {
        Query::Text {
            text: words.to_owned(),
            prefix: false,
            phrase: true,
        }
    }

    pub(super) fn field(field: Field, value: &str, prefix: bool) -> Query {
        Query::Field {
            field,
            value: value.to_owned(),
            prefix,
        }
    }

    pub(super) fn not(q: Query) -> Query {
        Query::Not(Box::new(q))
    }

    pub(super) fn ok(input: &str) -> Query {
        match parse(input) {
            Ok(q) => q,
            Err(e) => panic!("{input:?} should parse, got {e}"),
        }
    }

    pub(super) fn micros(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|date| date.and_hms_opt(h, mi, s))
            .map(|dt| dt.and_utc().timestamp_micros())
            .expect("valid test date")
    }

    pub(super) fn range(start: i64, end: i64) -> Query {
        Query::TimeRange {
            start: Some(start),
            end: Some(end),
        }
    }
}
