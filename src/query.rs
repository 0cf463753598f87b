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

use chrono::NaiveDate;

/// Most free-text or field terms one query may hold (keeps the SQL within SQLite's limits on parameters).
pub const MAX_TERMS: usize = 1000;

/// Deepest nesting of parentheses and `NOT` / `-` a query may have.
pub const MAX_DEPTH: usize = 64;

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// The FTS5 condition on the event id; `?` is the FTS5 query string.
const FTS_IN: &str = "e.id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)";
/// The negated FTS5 condition on the event id.
const FTS_NOT_IN: &str = "e.id NOT IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)";

/// A parsed query. Times are microseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Matches every event (the empty query).
    All,
    /// Every part matches.
    And(Vec<Query>),
    /// At least one part matches.
    Or(Vec<Query>),
    /// The inner query does not match.
    Not(Box<Query>),
    /// Full text over the raw event: `text` as written (without quotes or the final `*`), `prefix` when the
    /// last token is a prefix, `phrase` when it was written in quotes.
    Text { text: String, prefix: bool, phrase: bool },
    /// A normalized column equals `value` (ASCII case-insensitively), or starts with it when `prefix`; an
    /// empty `value` with `prefix` means the column is present.
    Field { field: Field, value: String, prefix: bool },
    /// The event time lies in `[start, end)`; an open side is unbounded; both open means "has a time".
    TimeRange { start: Option<i64>, end: Option<i64> },
    /// The event time is at most this many microseconds before `now` (or later).
    Since(i64),
}

/// A normalized event field that `field:value` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Time,
    Source,
    Origin,
    Actor,
    Action,
    Resource,
    Outcome,
    Category,
    Ip,
    Agent,
    Env,
    Stage,
}

impl Field {
    /// Every field, in the order the documentation lists them.
    pub const ALL: [Field; 12] = [
        Field::Time,
        Field::Source,
        Field::Origin,
        Field::Actor,
        Field::Action,
        Field::Resource,
        Field::Outcome,
        Field::Category,
        Field::Ip,
        Field::Agent,
        Field::Env,
        Field::Stage,
    ];

    /// The column of table `events` that holds this field.
    pub fn column(self) -> &'static str {
        match self {
            Field::Time => "ts",
            other => other.name(),
        }
    }

    /// The name used in queries (`actor` in `actor:alice`), lowercase.
    pub fn name(self) -> &'static str {
        match self {
            Field::Time => "time",
            Field::Source => "source",
            Field::Origin => "origin",
            Field::Actor => "actor",
            Field::Action => "action",
            Field::Resource => "resource",
            Field::Outcome => "outcome",
            Field::Category => "category",
            Field::Ip => "ip",
            Field::Agent => "agent",
            Field::Env => "env",
            Field::Stage => "stage",
        }
    }

    /// The field a query name denotes, ASCII case-insensitively (`Actor` is [`Field::Actor`]).
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL
            .into_iter()
            .find(|field| field.name().eq_ignore_ascii_case(name))
    }
}

/// Why a query could not be read: the 1-based column (in characters) where it went wrong, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct QueryError {
    pub column: usize,
    pub message: String,
}

impl QueryError {
    fn new(column: usize, message: impl Into<String>) -> QueryError {
        QueryError {
            column,
            message: message.into(),
        }
    }
}

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

// ---------------------------------------------------------------------------------------------------------
// Lexer

/// An operator token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    And,
    Or,
    Not,
    Minus,
}

impl Op {
    fn spelling(self) -> &'static str {
        match self {
            Op::And => "AND",
            Op::Or => "OR",
            Op::Not => "NOT",
            Op::Minus => "-",
        }
    }
}

#[derive(Debug)]
enum TokenKind {
    Open,
    Close,
    Op(Op),
    Term(Query),
}

#[derive(Debug)]
struct Token {
    kind: TokenKind,
    /// 1-based column of the token's first character.
    column: usize,
}

/// What a `name:` prefix names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Field(Field),
    After,
    Before,
    Since,
}

impl Key {
    fn from_name(name: &str) -> Option<Key> {
        if name.eq_ignore_ascii_case("after") {
            Some(Key::After)
        } else if name.eq_ignore_ascii_case("before") {
            Some(Key::Before)
        } else if name.eq_ignore_ascii_case("since") {
            Some(Key::Since)
        } else {
            Field::from_name(name).map(Key::Field)
        }
    }

    fn name(self) -> &'static str {
        match self {
            Key::Field(field) => field.name(),
            Key::After => "after",
            Key::Before => "before",
            Key::Since => "since",
        }
    }
}

/// The value of a field term as read by the lexer.
struct FieldValue {
    text: String,
    prefix: bool,
    /// Column of the value's first character (the opening quote of a quoted value).
    column: usize,
    /// Column of the prefix `*`, when there is one.
    star_column: Option<usize>,
}

fn known_names() -> String {
    let mut names: Vec<&str> = Field::ALL.iter().map(|field| field.name()).collect();
    names.extend(["after", "before", "since"]);
    names.join(", ")
}

fn ends_word(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => c.is_whitespace() || c == '(' || c == ')',
    }
}

fn is_word_char(c: char) -> bool {
    !(c.is_whitespace() || c == '(' || c == ')' || c == '"')
}

struct Lexer<'a> {
    chars: &'a [char],
    pos: usize,
    tokens: Vec<Token>,
    terms: usize,
}

impl<'a> Lexer<'a> {
    fn new(chars: &'a [char]) -> Lexer<'a> {
        Lexer {
            chars,
            pos: 0,
            tokens: Vec::new(),
            terms: 0,
        }
    }

    fn at(&self, index: usize) -> Option<char> {
        self.chars.get(index).copied()
    }

    fn text(&self, start: usize, end: usize) -> String {
        self.chars
            .get(start..end)
            .map(|slice| slice.iter().collect())
            .unwrap_or_default()
    }

    fn push(&mut self, kind: TokenKind, index: usize) {
        self.tokens.push(Token {
            kind,
            column: index + 1,
        });
    }

    fn push_term(&mut self, query: Query, index: usize) -> Result<(), QueryError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(QueryError::new(
                index + 1,
                format!("too many terms (at most {MAX_TERMS})"),
            ));
        }
        self.push(TokenKind::Term(query), index);
        Ok(())
    }

    fn run(mut self) -> Result<Vec<Token>, QueryError> {
        while let Some(c) = self.at(self.pos) {
            let start = self.pos;
            if c.is_whitespace() {
                self.pos += 1;
            } else if c == '(' {
                self.push(TokenKind::Open, start);
                self.pos += 1;
            } else if c == ')' {
                self.push(TokenKind::Close, start);
                self.pos += 1;
            } else if c == '-' {
                if ends_word(self.at(start + 1)) {
                    return Err(QueryError::new(
                        start + 1,
                        "`-` must be directly followed by the term it negates (no space)",
                    ));
                }
                self.push(TokenKind::Op(Op::Minus), start);
                self.pos += 1;
            } else if c == '"' {
                let (text, after) = self.quoted(start)?;
                let (prefix, _, next) = self.after_quote(after)?;
                let raw = self.text(start, next);
                let query = text_term(text, prefix, true, &raw, start, None)?;
                self.push_term(query, start)?;
                self.pos = next;
            } else {
                self.word(start)?;
            }
        }
        Ok(self.tokens)
    }

    /// Reads the quoted string whose `"` is at `start`; returns its text and the index after the closing quote.
    fn quoted(&self, start: usize) -> Result<(String, usize), QueryError> {
        let mut text = String::new();
        let mut index = start + 1;
        loop {
            match self.at(index) {
                None => {
                    return Err(QueryError::new(
                        start + 1,
                        "unterminated quote: this `\"` is never closed",
                    ));
                }
                Some('"') => return Ok((text, index + 1)),
                Some('\\') => match self.at(index + 1) {
                    Some(escaped @ ('"' | '\\')) => {
                        text.push(escaped);
                        index += 2;
                    }
                    _ => {
                        text.push('\\');
                        index += 1;
                    }
                },
                Some(c) => {
                    text.push(c);
                    index += 1;
                }
            }
        }
    }

    /// Reads the optional `*` after a closing quote at `index` and checks that the term ends there; returns
    /// (prefix, column of the `*`, index after the term).
    fn after_quote(&self, index: usize) -> Result<(bool, Option<usize>, usize), QueryError> {
        let prefix = self.at(index) == Some('*');
        let next = if prefix { index + 1 } else { index };
        if !ends_word(self.at(next)) {
            return Err(QueryError::new(
                next + 1,
                "expected a space, `(` or `)` after the closing quote",
            ));
        }
        Ok((prefix, prefix.then_some(index + 1), next))
    }

    /// Reads the word (operator, field term or text term) starting at `start`.
    fn word(&mut self, start: usize) -> Result<(), QueryError> {
        let mut end = start;
        while self.at(end).is_some_and(is_word_char) {
            end += 1;
        }
        let word = self.text(start, end);
        let colon = word.find(':');
        let quote_follows = self.at(end) == Some('"');
        if quote_follows && colon.is_none_or(|colon| colon + 1 != word.len()) {
            return Err(QueryError::new(
                end + 1,
                "a quote cannot start inside a word: put a space before it, or quote the whole word",
            ));
        }

        for op in [Op::And, Op::Or, Op::Not] {
            if word.eq_ignore_ascii_case(op.spelling()) {
                self.push(TokenKind::Op(op), start);
                self.pos = end;
                return Ok(());
            }
        }

        let Some(colon) = colon else {
            let (text, prefix, star) = match word.strip_suffix('*') {
                Some(text) => (text.to_owned(), true, Some(end)),
                None => (word.clone(), false, None),
            };
            let query = text_term(text, prefix, false, &word, start, star)?;
            self.push_term(query, start)?;
            self.pos = end;
            return Ok(());
        };

        let name = word.get(..colon).unwrap_or_default();
        let bare = word.get(colon + 1..).unwrap_or_default();
        let Some(key) = Key::from_name(name) else {
            let what = if name.is_empty() {
                "a field name must come before `:`".to_owned()
            } else {
                format!("unknown field `{name}`")
            };
            return Err(QueryError::new(
                start + 1,
                format!(
                    "{what}; known fields: {} (to search for the text itself, quote it: \"{word}\")",
                    known_names()
                ),
            ));
        };
        let value_index = start + name.chars().count() + 1;
        let (value, next) = if quote_follows {
            let (text, after) = self.quoted(end)?;
            let (prefix, star_column, next) = self.after_quote(after)?;
            let value = FieldValue {
                text,
                prefix,
                column: value_index + 1,
                star_column,
            };
            (value, next)
        } else {
            let value = match bare.strip_suffix('*') {
                Some(text) => FieldValue {
                    text: text.to_owned(),
                    prefix: true,
                    column: value_index + 1,
                    star_column: Some(end),
                },
                None => FieldValue {
                    text: bare.to_owned(),
                    prefix: false,
                    column: value_index + 1,
                    star_column: None,
                },
            };
            (value, end)
        };
        let query = field_term(key, value)?;
        self.push_term(query, start)?;
        self.pos = next;
        Ok(())
    }
}

/// Whether the `unicode61` tokenizer finds at least one token in `text` (a letter, digit or private-use
/// character; Rust's Unicode tables stand in for SQLite's).
fn is_searchable(text: &str) -> bool {
    text.chars().any(|c| {
        c.is_alphanumeric()
            || ('\u{E000}'..='\u{F8FF}').contains(&c)
            || ('\u{F0000}'..='\u{FFFFD}').contains(&c)
            || ('\u{100000}'..='\u{10FFFD}').contains(&c)
    })
}

/// Builds a free-text term; `raw` is the term as written, for messages.
fn text_term(
    text: String,
    prefix: bool,
    phrase: bool,
    raw: &str,
    start: usize,
    star_column: Option<usize>,
) -> Result<Query, QueryError> {
    if !phrase && text.is_empty() {
        return Err(QueryError::new(
            star_column.unwrap_or(start + 1),
            "a lone `*` is not a search term: `*` marks a prefix at the end of a word (e.g. kube*)",
        ));
    }
    if !is_searchable(&text) {
        return Err(QueryError::new(
            start + 1,
            format!(
                "`{raw}` has no letter or digit to search for (full-text search ignores punctuation); \
                 remove it, or search a field, e.g. action:\"{text}\""
            ),
        ));
    }
    Ok(Query::Text {
        text,
        prefix,
        phrase,
    })
}

/// Builds the term of a `name:value` pair.
fn field_term(key: Key, value: FieldValue) -> Result<Query, QueryError> {
    let name = key.name();
    if let (Key::After | Key::Before | Key::Since, Some(star)) = (key, value.star_column) {
        return Err(QueryError::new(
            star,
            format!("`{name}:` takes no `*` wildcard"),
        ));
    }
    if value.text.is_empty() && !value.prefix {
        return Err(QueryError::new(
            value.column,
            format!("`{name}:` needs a value right after the `:` (no space)"),
        ));
    }
    let unreadable = |detail: String, expected: &str| {
        QueryError::new(
            value.column,
            format!(
                "`{name}:` cannot read `{}`: {detail}; expected {expected}",
                value.text
            ),
        )
    };
    const POINT: &str = "a date YYYY-MM-DD or a time YYYY-MM-DDThh:mm:ss[.ffffff][Z|±hh:mm]";
    match key {
        Key::Field(Field::Time) => {
            if value.text.is_empty() {
                return Ok(Query::TimeRange {
                    start: None,
                    end: None,
                });
            }
            let (start, end) = time_field_range(&value.text, value.prefix).map_err(|detail| {
                unreadable(
                    detail,
                    "a date YYYY-MM-DD, a time YYYY-MM-DDThh:mm:ss[.ffffff][Z|±hh:mm], \
                     or a prefix such as 2024-05* or 2024-05-01T10*",
                )
            })?;
            Ok(Query::TimeRange {
                start: Some(start),
                end: Some(end),
            })
        }
        Key::Field(field) => Ok(Query::Field {
            field,
            value: value.text,
            prefix: value.prefix,
        }),
        Key::After => {
            let start = time_point(&value.text).map_err(|detail| unreadable(detail, POINT))?;
            Ok(Query::TimeRange {
                start: Some(start),
                end: None,
            })
        }
        Key::Before => {
            let end = time_point(&value.text).map_err(|detail| unreadable(detail, POINT))?;
            Ok(Query::TimeRange {
                start: None,
                end: Some(end),
            })
        }
        Key::Since => {
            let micros = duration_micros(&value.text).map_err(|detail| {
                unreadable(
                    detail,
                    "a number and a unit s, m, h, d or w (e.g. since:15m, since:7d)",
                )
            })?;
            Ok(Query::Since(micros))
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Times and durations

/// The parts of a written time, as far as they were written.
#[derive(Debug, Default)]
struct TimeParts {
    year: i32,
    month: Option<u32>,
    day: Option<u32>,
    hour: Option<u32>,
    minute: Option<u32>,
    second: Option<u32>,
    /// Microseconds of the fraction (truncated) and the number of digits written.
    fraction: Option<(i64, usize)>,
    /// Offset from UTC in seconds, when written.
    offset: Option<i64>,
}

/// A cursor over the characters of a time value.
struct TimeCursor {
    chars: Vec<char>,
    pos: usize,
}

impl TimeCursor {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, accepted: &[char]) -> bool {
        match self.peek() {
            Some(c) if accepted.contains(&c) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn digits(&mut self, count: usize, what: &str) -> Result<u32, String> {
        let mut value = 0u32;
        for _ in 0..count {
            // `to_digit(10)` accepts the ASCII digits only.
            match self.peek().and_then(|c| c.to_digit(10)) {
                Some(digit) => {
                    value = value * 10 + digit;
                    self.pos += 1;
                }
                _ => return Err(format!("expected {count} digits for the {what}")),
            }
        }
        Ok(value)
    }
}

fn parse_time_parts(text: &str) -> Result<TimeParts, String> {
    let mut cursor = TimeCursor {
        chars: text.chars().collect(),
        pos: 0,
    };
    let mut parts = TimeParts {
        year: cursor.digits(4, "year")? as i32,
        ..TimeParts::default()
    };
    if cursor.eat(&['-']) {
        let month = cursor.digits(2, "month")?;
        if !(1..=12).contains(&month) {
            return Err("the month must be 01-12".to_owned());
        }
        parts.month = Some(month);
        if cursor.eat(&['-']) {
            let day = cursor.digits(2, "day")?;
            if NaiveDate::from_ymd_opt(parts.year, month, day).is_none() {
                return Err(format!(
                    "day {day:02} does not exist in {:04}-{month:02}",
                    parts.year
                ));
            }
            parts.day = Some(day);
            if cursor.eat(&['T', 't', ' ']) {
                let hour = cursor.digits(2, "hour")?;
                if hour > 23 {
                    return Err("the hour must be 00-23".to_owned());
                }
                parts.hour = Some(hour);
                if cursor.eat(&[':']) {
                    let minute = cursor.digits(2, "minute")?;
                    if minute > 59 {
                        return Err("the minute must be 00-59".to_owned());
                    }
                    parts.minute = Some(minute);
                    if cursor.eat(&[':']) {
                        let second = cursor.digits(2, "second")?;
                        if second > 59 {
                            return Err("the second must be 00-59".to_owned());
                        }
                        parts.second = Some(second);
                        if cursor.eat(&['.']) {
                            let mut micros = 0i64;
                            let mut count = 0usize;
                            while let Some(digit) = cursor.peek().and_then(|c| c.to_digit(10)) {
                                if count < 6 {
                                    micros = micros * 10 + i64::from(digit);
                                }
                                count += 1;
                                cursor.pos += 1;
                            }
                            if count == 0 {
                                return Err("expected digits after the `.`".to_owned());
                            }
                            for _ in count..6 {
                                micros *= 10;
                            }
                            parts.fraction = Some((micros, count));
                        }
                    }
                }
            }
        }
    }
    if cursor.eat(&['Z', 'z']) {
        parts.offset = Some(0);
    } else if let Some(sign @ ('+' | '-')) = cursor.peek() {
        cursor.pos += 1;
        let hours = cursor.digits(2, "offset hours")?;
        if !cursor.eat(&[':']) {
            return Err("the offset must be written ±hh:mm".to_owned());
        }
        let minutes = cursor.digits(2, "offset minutes")?;
        if hours > 23 || minutes > 59 {
            return Err("the offset must be -23:59 to +23:59".to_owned());
        }
        let seconds = i64::from(hours * 3600 + minutes * 60);
        parts.offset = Some(if sign == '-' { -seconds } else { seconds });
    }
    if let Some(c) = cursor.peek() {
        return Err(format!("unexpected `{c}`"));
    }
    if parts.offset.is_some() && parts.second.is_none() {
        return Err("an offset needs a full time hh:mm:ss before it".to_owned());
    }
    Ok(parts)
}

/// Microseconds since the epoch of the start of what `parts` names, before applying the offset.
fn start_micros(parts: &TimeParts) -> Result<i64, String> {
    let date = NaiveDate::from_ymd_opt(
        parts.year,
        parts.month.unwrap_or(1),
        parts.day.unwrap_or(1),
    )
    .ok_or_else(|| "no such date".to_owned())?;
    let datetime = date
        .and_hms_opt(
            parts.hour.unwrap_or(0),
            parts.minute.unwrap_or(0),
            parts.second.unwrap_or(0),
        )
        .ok_or_else(|| "no such time".to_owned())?;
    let fraction = parts.fraction.map_or(0, |(micros, _)| micros);
    Ok(datetime.and_utc().timestamp_micros() + fraction)
}

/// Reads the value of `after:` / `before:`: a date (its 00:00 UTC) or a full instant.
fn time_point(text: &str) -> Result<i64, String> {
    let parts = parse_time_parts(text)?;
    if parts.day.is_none() || (parts.hour.is_some() && parts.second.is_none()) {
        return Err("incomplete date or time".to_owned());
    }
    let micros = start_micros(&parts)?;
    Ok(micros - parts.offset.unwrap_or(0) * MICROS_PER_SECOND)
}

/// Reads the value of `time:` into the `[start, end)` range it names (`prefix` when written with `*`).
fn time_field_range(text: &str, prefix: bool) -> Result<(i64, i64), String> {
    let parts = parse_time_parts(text)?;
    if !prefix {
        return match (parts.day, parts.hour, parts.second) {
            (Some(_), None, _) => {
                let start = start_micros(&parts)?;
                Ok((start, start + MICROS_PER_DAY))
            }
            (Some(_), Some(_), Some(_)) => {
                let start = start_micros(&parts)? - parts.offset.unwrap_or(0) * MICROS_PER_SECOND;
                Ok((start, start + 1))
            }
            _ => Err(format!(
                "not a full date or time (for the whole period write time:{text}*)"
            )),
        };
    }
    if parts.offset.is_some() {
        return Err("a prefix form is always UTC and takes no offset".to_owned());
    }
    let start = start_micros(&parts)?;
    let end = if let Some((_, digits)) = parts.fraction {
        if digits > 6 {
            return Err("a prefix has at most 6 fraction digits".to_owned());
        }
        start + 10i64.pow(6 - digits as u32)
    } else if parts.second.is_some() {
        start + MICROS_PER_SECOND
    } else if parts.minute.is_some() {
        start + 60 * MICROS_PER_SECOND
    } else if parts.hour.is_some() {
        start + 3600 * MICROS_PER_SECOND
    } else if parts.day.is_some() {
        start + MICROS_PER_DAY
    } else {
        let (year, month) = match parts.month {
            Some(12) => (parts.year + 1, 1),
            Some(month) => (parts.year, month + 1),
            None => (parts.year + 1, 1),
        };
        start_micros(&TimeParts {
            year,
            month: Some(month),
            ..TimeParts::default()
        })?
    };
    Ok((start, end))
}

/// Reads the value of `since:` (`15m`, `24h`, `7d`, …) into microseconds.
fn duration_micros(text: &str) -> Result<i64, String> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    let unit: String = text.chars().skip(digits.len()).collect();
    if digits.is_empty() {
        return Err("it must start with a number".to_owned());
    }
    let unit_seconds: i64 = match unit.as_str() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "" => return Err("the unit is missing".to_owned()),
        "S" | "M" | "H" | "D" | "W" => return Err("units are lowercase".to_owned()),
        _ => return Err(format!("`{unit}` is not a unit")),
    };
    digits
        .parse::<i64>()
        .ok()
        .and_then(|count| count.checked_mul(unit_seconds))
        .and_then(|seconds| seconds.checked_mul(MICROS_PER_SECOND))
        .ok_or_else(|| "the duration is too large".to_owned())
}

// ---------------------------------------------------------------------------------------------------------
// Parser

struct Parser {
    tokens: std::iter::Peekable<std::vec::IntoIter<Token>>,
}

impl Parser {
    /// Checks that the token after operator `op` (at `column`) can start an operand.
    fn expect_operand(&mut self, op: Op, column: usize) -> Result<(), QueryError> {
        let spelling = op.spelling();
        match self.tokens.peek() {
            None
            | Some(Token {
                kind: TokenKind::Close,
                ..
            }) => {
                let message = match op {
                    Op::Not | Op::Minus => format!("`{spelling}` needs a term after it"),
                    Op::And | Op::Or => format!("`{spelling}` needs a term on its right"),
                };
                Err(QueryError::new(column, message))
            }
            Some(Token {
                kind: TokenKind::Op(next @ (Op::And | Op::Or)),
                column: next_column,
            }) => Err(QueryError::new(
                *next_column,
                format!(
                    "`{}` directly after `{spelling}`: remove one of them",
                    next.spelling()
                ),
            )),
            Some(_) => Ok(()),
        }
    }

    fn parse_or(&mut self, depth: usize) -> Result<Query, QueryError> {
        let mut items = vec![self.parse_and(depth)?];
        while let Some(Token {
            kind: TokenKind::Op(Op::Or),
            column,
        }) = self.tokens.peek()
        {
            let column = *column;
            self.tokens.next();
            self.expect_operand(Op::Or, column)?;
            items.push(self.parse_and(depth)?);
        }
        Ok(combine(items, false))
    }

    fn parse_and(&mut self, depth: usize) -> Result<Query, QueryError> {
        let mut items = vec![self.parse_unary(depth)?];
        loop {
            match self.tokens.peek() {
                Some(Token {
                    kind: TokenKind::Op(Op::And),
                    column,
                }) => {
                    let column = *column;
                    self.tokens.next();
                    self.expect_operand(Op::And, column)?;
                    items.push(self.parse_unary(depth)?);
                }
                Some(Token {
                    kind: TokenKind::Op(Op::Not | Op::Minus) | TokenKind::Open | TokenKind::Term(_),
                    ..
                }) => items.push(self.parse_unary(depth)?),
                _ => break,
            }
        }
        Ok(combine(items, true))
    }

    fn parse_unary(&mut self, depth: usize) -> Result<Query, QueryError> {
        let Some(token) = self.tokens.next() else {
            return Err(QueryError::new(1, "expected a term"));
        };
        let column = token.column;
        match token.kind {
            TokenKind::Term(query) => Ok(query),
            TokenKind::Op(op @ (Op::Not | Op::Minus)) => {
                check_depth(depth, column)?;
                self.expect_operand(op, column)?;
                let inner = self.parse_unary(depth + 1)?;
                Ok(Query::Not(Box::new(inner)))
            }
            TokenKind::Op(op) => Err(QueryError::new(
                column,
                format!("`{}` needs a term on its left", op.spelling()),
            )),
            TokenKind::Close => Err(QueryError::new(column, "this `)` has no matching `(`")),
            TokenKind::Open => {
                check_depth(depth, column)?;
                match self.tokens.peek() {
                    None => {
                        return Err(QueryError::new(column, "this `(` is never closed"));
                    }
                    Some(Token {
                        kind: TokenKind::Close,
                        ..
                    }) => return Err(QueryError::new(column, "empty parentheses")),
                    Some(_) => {}
                }
                let inner = self.parse_or(depth + 1)?;
                match self.tokens.next() {
                    Some(Token {
                        kind: TokenKind::Close,
                        ..
                    }) => Ok(inner),
                    _ => Err(QueryError::new(column, "this `(` is never closed")),
                }
            }
        }
    }
}

fn check_depth(depth: usize, column: usize) -> Result<(), QueryError> {
    if depth >= MAX_DEPTH {
        return Err(QueryError::new(
            column,
            format!("the query nests deeper than {MAX_DEPTH} levels of parentheses and NOT"),
        ));
    }
    Ok(())
}

/// Joins parsed operands into one AND (`and`) or OR node, flattening nested nodes of the same kind.
fn combine(items: Vec<Query>, and: bool) -> Query {
    if items.len() == 1 {
        return items.into_iter().next().unwrap_or(Query::All);
    }
    let mut flat = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Query::And(inner) if and => flat.extend(inner),
            Query::Or(inner) if !and => flat.extend(inner),
            other => flat.push(other),
        }
    }
    if and { Query::And(flat) } else { Query::Or(flat) }
}

// ---------------------------------------------------------------------------------------------------------
// Compiler

/// A compiled condition: a constant, or SQL with its parameters.
enum Cond {
    Const(bool),
    Sql(Part),
}

struct Part {
    sql: String,
    params: Vec<SqlParam>,
    /// Whether the expression can be NULL (a missing column), which must count as false under NOT.
    nullable: bool,
}

impl Part {
    fn new(sql: impl Into<String>, params: Vec<SqlParam>, nullable: bool) -> Part {
        Part {
            sql: sql.into(),
            params,
            nullable,
        }
    }
}

/// The FTS5 query string for one text term: a single quoted FTS5 string, so nothing in it is FTS5 syntax.
/// A NUL (a separator for the tokenizer anyway) becomes a space, since FTS5 would end the string there.
fn fts_string(text: &str, prefix: bool) -> String {
    let mut out = String::with_capacity(text.len() + 3);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\"\""),
            '\0' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    if prefix {
        out.push('*');
    }
    out
}

/// The FTS5 string of a searchable text term, or `None` for anything else.
fn searchable_text(q: &Query) -> Option<String> {
    match q {
        Query::Text { text, prefix, .. } if is_searchable(text) => Some(fts_string(text, *prefix)),
        _ => None,
    }
}

/// The FTS5 string of `Not(searchable text)`, or `None` for anything else.
fn negated_text(q: &Query) -> Option<String> {
    match q {
        Query::Not(inner) => searchable_text(inner),
        _ => None,
    }
}

fn fts_part(strings: &[String], separator: &str, negated: bool) -> Part {
    let sql = if negated { FTS_NOT_IN } else { FTS_IN };
    Part::new(sql, vec![SqlParam::Text(strings.join(separator))], false)
}

fn escape_like(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 1);
    for c in value.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn time_range(start: Option<i64>, end: Option<i64>) -> Cond {
    Cond::Sql(match (start, end) {
        (Some(start), Some(end)) => Part::new(
            "e.ts >= ? AND e.ts < ?",
            vec![SqlParam::Int(start), SqlParam::Int(end)],
            true,
        ),
        (Some(start), None) => Part::new("e.ts >= ?", vec![SqlParam::Int(start)], true),
        (None, Some(end)) => Part::new("e.ts < ?", vec![SqlParam::Int(end)], true),
        (None, None) => Part::new("e.ts IS NOT NULL", Vec::new(), false),
    })
}

fn compile_node(q: &Query, now: i64) -> Cond {
    match q {
        Query::All => Cond::Const(true),
        Query::Text { .. } => match searchable_text(q) {
            Some(string) => Cond::Sql(fts_part(&[string], "", false)),
            None => Cond::Const(false),
        },
        Query::Field {
            field: Field::Time,
            value,
            prefix,
        } => {
            if value.is_empty() && *prefix {
                return time_range(None, None);
            }
            match time_field_range(value, *prefix) {
                Ok((start, end)) => time_range(Some(start), Some(end)),
                Err(_) => Cond::Const(false),
            }
        }
        Query::Field {
            field,
            value,
            prefix,
        } => {
            let column = field.column();
            Cond::Sql(if *prefix && value.is_empty() {
                Part::new(format!("e.{column} IS NOT NULL"), Vec::new(), false)
            } else if *prefix {
                Part::new(
                    format!("e.{column} LIKE ? ESCAPE '\\'"),
                    vec![SqlParam::Text(escape_like(value))],
                    true,
                )
            } else {
                Part::new(
                    format!("e.{column} = ?"),
                    vec![SqlParam::Text(value.clone())],
                    true,
                )
            })
        }
        Query::TimeRange { start, end } => time_range(*start, *end),
        Query::Since(micros) => time_range(Some(now.saturating_sub(*micros)), None),
        Query::Not(inner) => {
            if let Some(string) = searchable_text(inner) {
                return Cond::Sql(fts_part(&[string], "", true));
            }
            match compile_node(inner, now) {
                Cond::Const(value) => Cond::Const(!value),
                Cond::Sql(part) if part.nullable => Cond::Sql(Part::new(
                    format!("({}) IS NOT 1", part.sql),
                    part.params,
                    false,
                )),
                Cond::Sql(part) => Cond::Sql(Part::new(
                    format!("NOT ({})", part.sql),
                    part.params,
                    false,
                )),
            }
        }
        Query::And(items) => compile_junction(items, now, true),
        Query::Or(items) => compile_junction(items, now, false),
    }
}

/// Compiles an AND (`and`) or OR of `items`, merging their text terms into one FTS5 MATCH each for the
/// positive and the negated ones.
fn compile_junction(items: &[Query], now: i64, and: bool) -> Cond {
    let mut positive = Vec::new();
    let mut negative = Vec::new();
    let mut parts = Vec::new();
    for item in items {
        if let Some(string) = searchable_text(item) {
            positive.push(string);
        } else if let Some(string) = negated_text(item) {
            negative.push(string);
        } else {
            match compile_node(item, now) {
                // The neutral element (true for AND, false for OR) drops out; the other decides.
                Cond::Const(value) if value == and => {}
                Cond::Const(value) => return Cond::Const(value),
                Cond::Sql(part) => parts.push(part),
            }
        }
    }
    // AND: "a" "b" (all of them), NOT ("x" OR "y"); OR: "a" OR "b", NOT ("x" "y").
    let (positive_separator, negative_separator) = if and { (" ", " OR ") } else { (" OR ", " ") };
    if !positive.is_empty() {
        parts.push(fts_part(&positive, positive_separator, false));
    }
    if !negative.is_empty() {
        parts.push(fts_part(&negative, negative_separator, true));
    }
    if parts.is_empty() {
        return Cond::Const(and);
    }
    let nullable = parts.iter().any(|part| part.nullable);
    let sqls: Vec<String> = parts.iter().map(|part| part.sql.clone()).collect();
    let params = parts.into_iter().flat_map(|part| part.params).collect();
    let sql = balanced(&sqls, if and { "AND" } else { "OR" });
    Cond::Sql(Part::new(sql, params, nullable))
}

/// Joins expressions with `op` as a balanced binary tree of parentheses, so SQLite's expression depth grows
/// with the logarithm of their number.
fn balanced(sqls: &[String], op: &str) -> String {
    match sqls {
        [] => "1".to_owned(),
        [one] => one.clone(),
        _ => {
            let (left, right) = sqls.split_at(sqls.len() / 2);
            format!("({}) {op} ({})", balanced(left, op), balanced(right, op))
        }
    }
}
