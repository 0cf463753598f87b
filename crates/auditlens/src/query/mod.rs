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
    )?;
    conn.create_scalar_function(
        "json_member",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let path: Arc<Vec<String>> =
                ctx.get_or_create_aux(1, |v| -> Result<_, rusqlite::Error> {
                    serde_json::from_str(v.as_str()?)
                        .map_err(|e| rusqlite::Error::UserFunctionError(e.into()))
                })?;
            Ok(match ctx.get_raw(0) {
                rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t)
                    .ok()
                    .and_then(|raw| member_text(raw, &path))
                    .map(str::to_owned),
                _ => None,
            })
        },
    )
}

/// The JSON text of the member at `path` (member names, outermost first) of the JSON object `raw`, as
/// `json_member(raw, path)` gives it to SQL (`json.M:` terms, docs/search.md): at each level the *last* member
/// of that name, as the normalizers, the exports and most JSON parsers read an object whose names repeat (SQLite's
/// own `json_extract` takes the first). `None` when a level is missing or not an object, or `raw` is not JSON.
pub fn member_text<'a>(raw: &'a str, path: &[String]) -> Option<&'a str> {
    path.iter()
        .try_fold(raw, |object, name| last_member(object, name))
}

/// The text of the last member named `name` of the JSON object `object`.
fn last_member<'a>(object: &'a str, name: &str) -> Option<&'a str> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
    use serde_json::value::RawValue;

    struct Last<'n>(&'n str);
    impl<'de> Visitor<'de> for Last<'_> {
        type Value = Option<&'de RawValue>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == self.0 {
                    found = Some(map.next_value::<&'de RawValue>()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }
    let mut de = serde_json::Deserializer::from_str(object);
    de.deserialize_map(Last(name))
        .ok()
        .flatten()
        .map(RawValue::get)
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

#[cfg(test)]
mod member_tests {
    use super::member_text;

    fn at<'a>(raw: &'a str, path: &[&str]) -> Option<&'a str> {
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        member_text(raw, &path)
    }

    #[test]
    fn the_last_member_of_a_name_at_every_level() {
        assert_eq!(at(r#"{"a":1,"a":[2]}"#, &["a"]), Some("[2]"));
        assert_eq!(
            at(r#"{"a":{"b":1},"a":{"b":2,"b":"x"}}"#, &["a", "b"]),
            Some(r#""x""#)
        );
        // The member's text exactly as written, escapes and all; SQLite reads it.
        assert_eq!(at(r#"{"a": "A\u0042" }"#, &["a"]), Some(r#""A\u0042""#));
        assert_eq!(at(r#"{"\u0061":1}"#, &["a"]), Some("1"));
        assert_eq!(at(r#"{"a":1}"#, &[]), Some(r#"{"a":1}"#));
    }

    #[test]
    fn a_missing_level_or_anything_but_an_object_is_absent() {
        assert_eq!(at(r#"{"a":1}"#, &["b"]), None);
        assert_eq!(at(r#"{"a":"x"}"#, &["a", "b"]), None);
        assert_eq!(at(r#"[{"a":1}]"#, &["a"]), None);
        assert_eq!(at(r#"{"a":1"#, &["a"]), None);
        assert_eq!(at("not json", &["a"]), None);
        // Deep nesting is skipped over without recursion (only events that parse, 128 levels at most, reach
        // SQL): no stack overflow, and the member is the text below.
        let deep = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
        assert!(at(&deep, &["a"]).map(str::len) == Some(deep.len() - 6));
        assert!(at(&deep, &["a"; 200]).map(str::len) == Some(deep.len() - 6 * 200));
    }
}
