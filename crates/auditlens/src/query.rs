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
    Text {
        text: String,
        prefix: bool,
        phrase: bool,
    },
    /// A normalized column equals `value` (ASCII case-insensitively), or starts with it when `prefix`; an
    /// empty `value` with `prefix` means the column is present.
    Field {
        field: Field,
        value: String,
        prefix: bool,
    },
    /// The event time lies in `[start, end)`; an open side is unbounded; both open means "has a time".
    TimeRange {
        start: Option<i64>,
        end: Option<i64>,
    },
    /// The event time is at most this many microseconds before `now` (or later).
    Since(i64),
    /// The event time falls Monday to Friday within `[start, end)` minutes of the day, in the local time of the
    /// fixed UTC offset `offset` (minutes east of UTC): `workhours:09-18+02:00`.
    WorkHours { start: i64, end: i64, offset: i64 },
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
    /// Kind of privileged access (`exec`, `secret`, `role`, `login`).
    Privilege,
    /// The status of the event's archive (`verified`, `untrusted`, `failed`); not a column of `events`.
    Status,
}

impl Field {
    /// Every field, in the order the documentation lists them.
    pub const ALL: [Field; 14] = [
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
        Field::Privilege,
        Field::Status,
    ];

    /// The column of table `events` that holds this field (`status` is the column of table `archives`).
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
            Field::Privilege => "privilege",
            Field::Status => "status",
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
    WorkHours,
}

impl Key {
    fn from_name(name: &str) -> Option<Key> {
        if name.eq_ignore_ascii_case("after") {
            Some(Key::After)
        } else if name.eq_ignore_ascii_case("before") {
            Some(Key::Before)
        } else if name.eq_ignore_ascii_case("since") {
            Some(Key::Since)
        } else if name.eq_ignore_ascii_case("workhours") {
            Some(Key::WorkHours)
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
            Key::WorkHours => "workhours",
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
    names.extend(["after", "before", "since", "workhours"]);
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
            } else if c == '-' && self.dashes_alone(start) {
                // `--` (a comment in SQL, a separator in prose) negates nothing: it is text.
                self.word(start)?;
            } else if c == '-' {
                if self
                    .at(start + 1)
                    .is_none_or(|c| c.is_whitespace() || c == ')')
                {
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

    /// Whether two or more `-` start at `start` and end the word (white space, `)` or the end follows).
    fn dashes_alone(&self, start: usize) -> bool {
        let mut end = start;
        while self.at(end) == Some('-') {
            end += 1;
        }
        end - start >= 2 && self.at(end).is_none_or(|c| c.is_whitespace() || c == ')')
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
    if text.is_empty() {
        return Err(QueryError::new(
            start + 1,
            format!(
                "`{raw}` has nothing to search for: write a word or a phrase between the quotes"
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
    if let (Key::After | Key::Before | Key::Since | Key::WorkHours, Some(star)) =
        (key, value.star_column)
    {
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
        Key::WorkHours => {
            let (start, end, offset) = work_hours(&value.text).map_err(|detail| {
                unreadable(
                    detail,
                    "HH[:MM]-HH[:MM] and an optional UTC offset Z or ±hh:mm (e.g. workhours:09-18+02:00)",
                )
            })?;
            Ok(Query::WorkHours { start, end, offset })
        }
    }
}

/// Reads `HH[:MM]-HH[:MM][Z|±hh:mm]`: start and end in minutes of the day (`00:00` to `24:00`, start before end)
/// and the offset in minutes east of UTC.
fn work_hours(text: &str) -> Result<(i64, i64, i64), String> {
    fn two(s: &str, what: &str) -> Result<i64, String> {
        if s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse::<i64>().map_err(|e| e.to_string())
        } else {
            Err(format!("the {what} must be two digits"))
        }
    }
    fn clock(s: &str, what: &str) -> Result<i64, String> {
        let (h, m) = match s.split_once(':') {
            Some((h, m)) => (two(h, what)?, two(m, what)?),
            None => (two(s, what)?, 0),
        };
        if h > 24 || m > 59 || (h == 24 && m != 0) {
            return Err(format!(
                "the {what} {s} is not a time of day (00:00 to 24:00)"
            ));
        }
        Ok(h * 60 + m)
    }
    let (range, offset) = if let Some(r) = text.strip_suffix(['Z', 'z']) {
        (r, 0)
    } else {
        match text.rfind(['+', '-']) {
            Some(i) if i > 0 && text[..i].contains('-') => {
                let sign = if text[i..].starts_with('-') { -1 } else { 1 };
                let (h, m) = text[i + 1..]
                    .split_once(':')
                    .ok_or("the offset must be ±hh:mm")?;
                let (h, m) = (two(h, "offset hour")?, two(m, "offset minute")?);
                if h > 23 || m > 59 {
                    return Err("the offset must be between -23:59 and +23:59".into());
                }
                (&text[..i], sign * (h * 60 + m))
            }
            _ => (text, 0),
        }
    };
    let (from, to) = range
        .split_once('-')
        .ok_or("the hours need a `-` between start and end")?;
    let (start, end) = (clock(from, "start")?, clock(to, "end")?);
    if start >= end {
        return Err("the start must be before the end".into());
    }
    Ok((start, end, offset))
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
    let date =
        NaiveDate::from_ymd_opt(parts.year, parts.month.unwrap_or(1), parts.day.unwrap_or(1))
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

/// Reads the value of `after:` / `before:`: a date (its 00:00 UTC) or a full instant (also `--period`).
pub(crate) fn time_point(text: &str) -> Result<i64, String> {
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

/// Reads the value of `since:` (`15m`, `24h`, `7d`, …) into microseconds (also `--silence`).
pub(crate) fn duration_micros(text: &str) -> Result<i64, String> {
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
    if and {
        Query::And(flat)
    } else {
        Query::Or(flat)
    }
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

/// A prefix pattern for GLOB (case-sensitive): `*`, `?` and `[` stand for themselves, then any tail.
fn escape_glob(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 1);
    for c in value.chars() {
        match c {
            '*' => out.push_str("[*]"),
            '?' => out.push_str("[?]"),
            '[' => out.push_str("[[]"),
            c => out.push(c),
        }
    }
    out.push('*');
    out
}

/// A time condition. Event ids are time-ordered (store/rowid.rs), so each bound is written twice: as an id range,
/// which lets SQLite walk the primary key, and exactly on `ts`.
fn time_range(start: Option<i64>, end: Option<i64>) -> Cond {
    use crate::store::rowid::{lower_bound, upper_bound};
    Cond::Sql(match (start, end) {
        (Some(start), Some(end)) => Part::new(
            "e.id >= ? AND e.id < ? AND e.ts >= ? AND e.ts < ?",
            vec![
                SqlParam::Int(lower_bound(start)),
                SqlParam::Int(upper_bound(end)),
                SqlParam::Int(start),
                SqlParam::Int(end),
            ],
            true,
        ),
        (Some(start), None) => Part::new(
            "e.id >= ? AND e.ts >= ?",
            vec![SqlParam::Int(lower_bound(start)), SqlParam::Int(start)],
            true,
        ),
        (None, Some(end)) => Part::new(
            "e.id < ? AND e.ts < ?",
            vec![SqlParam::Int(upper_bound(end)), SqlParam::Int(end)],
            true,
        ),
        (None, None) => Part::new("e.ts IS NOT NULL", Vec::new(), false),
    })
}

/// A plan that drives the search from the full-text index: the FTS5 MATCH string every match must satisfy, and
/// the filter for the rest of the query (over alias `e`). `Some` when the top level of the query requires a
/// full-text match: one text term, or an AND with at least one positive text term. The executor then reads the
/// full-text index in descending rowid order (newest first) and stops after a page, instead of materialising
/// every match of a common word.
pub fn compile_fts_driven(q: &Query, now_micros: i64) -> Option<(String, SqlFilter)> {
    let (texts, rest): (Vec<String>, Vec<Query>) = match q {
        Query::Text { .. } => (vec![searchable_text(q)?], Vec::new()),
        Query::And(items) => {
            let mut texts = Vec::new();
            let mut rest = Vec::new();
            for item in items {
                match searchable_text(item) {
                    Some(t) => texts.push(t),
                    None => rest.push(item.clone()),
                }
            }
            (texts, rest)
        }
        _ => return None,
    };
    if texts.is_empty() {
        return None;
    }
    let rest = match rest.len() {
        0 => Query::All,
        1 => rest.into_iter().next().unwrap_or(Query::All),
        _ => Query::And(rest),
    };
    Some((texts.join(" "), compile(&rest, now_micros)))
}

/// The SQL of `workhours:` over a time expression `ts` (microseconds; NULL gives NULL): Monday to Friday, local
/// minutes of the day in `[start, end)` at the fixed offset `offset` (minutes east of UTC). The local time of
/// day is `t mod D` and the weekday `(floor(t / D) + 3) mod 7` with Monday = 0 (1970-01-01 was a Thursday), for
/// `t = ts + offset`; SQLite's `%` truncates toward zero, hence the `+ D) % D`.
pub fn work_hours_sql(ts: &str, start: i64, end: i64, offset: i64) -> (String, Vec<SqlParam>) {
    const DAY: &str = "86400000000";
    let local = format!("({ts} + {})", offset * 60 * MICROS_PER_SECOND);
    let tod = format!("((({local} % {DAY}) + {DAY}) % {DAY})");
    let weekday = format!("(((({local} - {tod}) / {DAY}) % 7 + 10) % 7)");
    (
        format!("{weekday} < 5 AND {tod} >= ? AND {tod} < ?"),
        vec![
            SqlParam::Int(start * 60 * MICROS_PER_SECOND),
            SqlParam::Int(end * 60 * MICROS_PER_SECOND),
        ],
    )
}

fn compile_node(q: &Query, now: i64) -> Cond {
    match q {
        Query::All => Cond::Const(true),
        Query::Text { text, .. } => match searchable_text(q) {
            Some(string) => Cond::Sql(fts_part(&[string], "", false)),
            // No letter or digit: nothing for the full-text index, so the text itself is looked for in the
            // event's raw JSON, byte for byte (a `*` after it changes nothing).
            None if !text.is_empty() => Cond::Sql(Part::new(
                "instr(e.raw, ?) > 0",
                vec![SqlParam::Text(text.clone())],
                false,
            )),
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
            field: Field::Status,
            value,
            prefix,
        } => Cond::Sql(if *prefix && value.is_empty() {
            Part::new(
                "+e.archive_id IN (SELECT id FROM archives)",
                Vec::new(),
                false,
            )
        } else if *prefix {
            Part::new(
                "+e.archive_id IN (SELECT id FROM archives WHERE status LIKE ? ESCAPE '\\')",
                vec![SqlParam::Text(escape_like(value))],
                false,
            )
        } else {
            Part::new(
                "+e.archive_id IN (SELECT id FROM archives WHERE status = ? COLLATE NOCASE)",
                vec![SqlParam::Text(value.clone())],
                false,
            )
        }),
        // Origins compare exactly, byte for byte (docs/search.md section 4): an origin differing from another only
        // in case or by an invisible character is another log, never mixed in.
        Query::Field {
            field: Field::Origin,
            value,
            prefix: true,
        } if !value.is_empty() => Cond::Sql(Part::new(
            "e.origin GLOB ?",
            vec![SqlParam::Text(escape_glob(value))],
            true,
        )),
        Query::Field {
            field: Field::Origin,
            value,
            prefix: false,
        } => Cond::Sql(Part::new(
            "e.origin = ? COLLATE BINARY",
            vec![SqlParam::Text(value.clone())],
            true,
        )),
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
        Query::WorkHours { start, end, offset } => {
            let (sql, params) = work_hours_sql("e.ts", *start, *end, *offset);
            Cond::Sql(Part::new(sql, params, true))
        }
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
                Cond::Sql(part) => {
                    Cond::Sql(Part::new(format!("NOT ({})", part.sql), part.params, false))
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn text(word: &str) -> Query {
        Query::Text {
            text: word.to_owned(),
            prefix: false,
            phrase: false,
        }
    }

    fn phrase(words: &str) -> Query {
        Query::Text {
            text: words.to_owned(),
            prefix: false,
            phrase: true,
        }
    }

    fn field(field: Field, value: &str, prefix: bool) -> Query {
        Query::Field {
            field,
            value: value.to_owned(),
            prefix,
        }
    }

    fn not(q: Query) -> Query {
        Query::Not(Box::new(q))
    }

    fn ok(input: &str) -> Query {
        match parse(input) {
            Ok(q) => q,
            Err(e) => panic!("{input:?} should parse, got {e}"),
        }
    }

    fn micros(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|date| date.and_hms_opt(h, mi, s))
            .map(|dt| dt.and_utc().timestamp_micros())
            .expect("valid test date")
    }

    fn range(start: i64, end: i64) -> Query {
        Query::TimeRange {
            start: Some(start),
            end: Some(end),
        }
    }

    #[test]
    fn empty_and_blank_queries_match_everything() {
        assert_eq!(ok(""), Query::All);
        assert_eq!(ok(" \t\n\u{3000}"), Query::All);
        assert_eq!(compile(&Query::All, 0).sql, "1");
        assert!(compile(&Query::All, 0).params.is_empty());
    }

    #[test]
    fn free_words_prefixes_and_phrases_are_text_terms() {
        assert_eq!(ok("alice"), text("alice"));
        assert_eq!(
            ok("kube*"),
            Query::Text {
                text: "kube".into(),
                prefix: true,
                phrase: false
            }
        );
        assert_eq!(ok("\"get pods\""), phrase("get pods"));
        assert_eq!(
            ok("\"kube sys\"*"),
            Query::Text {
                text: "kube sys".into(),
                prefix: true,
                phrase: true
            }
        );
        assert_eq!(ok("kube-system"), text("kube-system"));
        assert_eq!(ok("a*b"), text("a*b"));
        assert_eq!(
            ok(r#""say \"hi\" \\ C:\Users""#),
            phrase(r#"say "hi" \ C:\Users"#)
        );
    }

    #[test]
    fn adjacent_terms_are_anded_and_or_binds_loosest() {
        assert_eq!(
            ok("a b c"),
            Query::And(vec![text("a"), text("b"), text("c")])
        );
        assert_eq!(ok("a AND b"), ok("a b"));
        assert_eq!(
            ok("a b OR c"),
            Query::Or(vec![Query::And(vec![text("a"), text("b")]), text("c")])
        );
        assert_eq!(
            ok("a OR b c"),
            Query::Or(vec![text("a"), Query::And(vec![text("b"), text("c")])])
        );
        assert_eq!(
            ok("a OR b OR c"),
            Query::Or(vec![text("a"), text("b"), text("c")])
        );
    }

    #[test]
    fn not_binds_tighter_than_and() {
        assert_eq!(ok("NOT a b"), Query::And(vec![not(text("a")), text("b")]));
        assert_eq!(ok("-a b"), ok("NOT a b"));
        assert_eq!(
            ok("a OR NOT b c"),
            Query::Or(vec![text("a"), Query::And(vec![not(text("b")), text("c")])])
        );
        assert_eq!(ok("a -b"), Query::And(vec![text("a"), not(text("b"))]));
        assert_eq!(ok("-actor:bob"), not(field(Field::Actor, "bob", false)));
        assert_eq!(ok("-\"x y\""), not(phrase("x y")));
        assert_eq!(ok("-(a OR b)"), not(Query::Or(vec![text("a"), text("b")])));
    }

    #[test]
    fn double_negation_is_allowed() {
        assert_eq!(ok("NOT NOT a"), not(not(text("a"))));
        assert_eq!(ok("--a"), not(not(text("a"))));
        assert_eq!(ok("-NOT a"), not(not(text("a"))));
    }

    #[test]
    fn parentheses_group_and_same_kind_nodes_flatten() {
        assert_eq!(
            ok("a (b c)"),
            Query::And(vec![text("a"), text("b"), text("c")])
        );
        assert_eq!(
            ok("(a OR b) c"),
            Query::And(vec![Query::Or(vec![text("a"), text("b")]), text("c")])
        );
        assert_eq!(ok("((a))"), text("a"));
        assert_eq!(
            ok("a OR (b OR c)"),
            Query::Or(vec![text("a"), text("b"), text("c")])
        );
        assert_eq!(ok("NOT(a)b"), Query::And(vec![not(text("a")), text("b")]));
    }

    #[test]
    fn keywords_and_field_names_are_case_insensitive() {
        assert_eq!(ok("a or b"), Query::Or(vec![text("a"), text("b")]));
        assert_eq!(ok("a Or b"), ok("a OR b"));
        assert_eq!(ok("not a"), not(text("a")));
        assert_eq!(ok("a and b"), ok("a b"));
        assert_eq!(ok("Actor:alice"), field(Field::Actor, "alice", false));
        assert_eq!(ok("ACTOR:alice"), ok("actor:alice"));
        assert_eq!(ok("After:2024-01-01"), ok("after:2024-01-01"));
        assert_eq!(ok("SINCE:1h"), Query::Since(3_600_000_000));
    }

    #[test]
    fn quoted_keywords_are_text() {
        assert_eq!(ok("\"or\""), phrase("or"));
        assert_eq!(ok("\"not found\""), phrase("not found"));
        assert_eq!(
            ok("OR*"),
            Query::Text {
                text: "OR".into(),
                prefix: true,
                phrase: false
            }
        );
    }

    #[test]
    fn field_values_bare_quoted_prefixed_and_present() {
        assert_eq!(ok("actor:alice"), field(Field::Actor, "alice", false));
        assert_eq!(ok("actor:sys*"), field(Field::Actor, "sys", true));
        assert_eq!(ok("actor:*"), field(Field::Actor, "", true));
        assert_eq!(ok("actor:\"\"*"), field(Field::Actor, "", true));
        assert_eq!(
            ok("resource:\"pods/kube system/x\""),
            field(Field::Resource, "pods/kube system/x", false)
        );
        assert_eq!(
            ok("resource:\"pods/kube s\"*"),
            field(Field::Resource, "pods/kube s", true)
        );
        assert_eq!(ok("actor:\"a*\""), field(Field::Actor, "a*", false));
        assert_eq!(ok("actor:\"a*\"*"), field(Field::Actor, "a*", true));
        assert_eq!(ok("actor:a**"), field(Field::Actor, "a*", true));
        assert_eq!(
            ok("action:s3:GetObject"),
            field(Field::Action, "s3:GetObject", false)
        );
        assert_eq!(ok("ip:::1"), field(Field::Ip, "::1", false));
        assert_eq!(ok("actor:a*b"), field(Field::Actor, "a*b", false));
        assert_eq!(ok("actor:\"(x)\""), field(Field::Actor, "(x)", false));
    }

    #[test]
    fn every_field_name_is_known() {
        for f in Field::ALL.into_iter().filter(|f| *f != Field::Time) {
            assert_eq!(ok(&format!("{}:x", f.name())), field(f, "x", false));
            assert_eq!(Field::from_name(&f.name().to_uppercase()), Some(f));
            assert_eq!(f.column(), f.name());
        }
        assert_eq!(Field::Time.column(), "ts");
        assert_eq!(Field::from_name("nope"), None);
    }

    #[test]
    fn time_field_takes_days_instants_and_prefixes() {
        let day = micros(2024, 5, 1, 0, 0, 0);
        let next_day = micros(2024, 5, 2, 0, 0, 0);
        assert_eq!(ok("time:2024-05-01"), range(day, next_day));
        assert_eq!(ok("time:2024-05-01*"), range(day, next_day));
        let t = micros(2024, 5, 1, 10, 30, 15);
        assert_eq!(ok("time:2024-05-01T10:30:15Z"), range(t, t + 1));
        assert_eq!(ok("time:2024-05-01t10:30:15z"), range(t, t + 1));
        assert_eq!(ok("time:2024-05-01T10:30:15"), range(t, t + 1));
        assert_eq!(ok("time:\"2024-05-01 10:30:15\""), range(t, t + 1));
        assert_eq!(ok("time:2024-05-01T12:30:15+02:00"), range(t, t + 1));
        assert_eq!(
            ok("time:2024-05-01T10:30:15.25Z"),
            range(t + 250_000, t + 250_001)
        );
        // Digits past the microsecond are truncated.
        assert_eq!(
            ok("time:2024-05-01T10:30:15.123456789Z"),
            range(t + 123_456, t + 123_457)
        );
        assert_eq!(
            ok("time:2024*"),
            range(micros(2024, 1, 1, 0, 0, 0), micros(2025, 1, 1, 0, 0, 0))
        );
        assert_eq!(ok("time:2024-05*"), range(day, micros(2024, 6, 1, 0, 0, 0)));
        assert_eq!(
            ok("time:2024-12*"),
            range(micros(2024, 12, 1, 0, 0, 0), micros(2025, 1, 1, 0, 0, 0))
        );
        let hour = micros(2024, 5, 1, 10, 0, 0);
        assert_eq!(ok("time:2024-05-01T10*"), range(hour, hour + 3_600_000_000));
        assert_eq!(
            ok("time:2024-05-01T10:30*"),
            range(t - 15_000_000, t + 45_000_000)
        );
        assert_eq!(ok("time:2024-05-01T10:30:15*"), range(t, t + 1_000_000));
        assert_eq!(
            ok("time:2024-05-01T10:30:15.1*"),
            range(t + 100_000, t + 200_000)
        );
        assert_eq!(
            ok("time:2024-05-01T10:30:15.123456*"),
            range(t + 123_456, t + 123_457)
        );
        assert_eq!(
            ok("time:*"),
            Query::TimeRange {
                start: None,
                end: None
            }
        );
        assert_eq!(
            ok("time:2024-02-29"),
            range(micros(2024, 2, 29, 0, 0, 0), micros(2024, 3, 1, 0, 0, 0))
        );
    }

    #[test]
    fn after_and_before_take_dates_and_rfc3339_times() {
        let day = micros(2024, 5, 1, 0, 0, 0);
        assert_eq!(
            ok("after:2024-05-01"),
            Query::TimeRange {
                start: Some(day),
                end: None
            }
        );
        assert_eq!(
            ok("before:2024-05-01"),
            Query::TimeRange {
                start: None,
                end: Some(day)
            }
        );
        let t = micros(2024, 5, 1, 10, 0, 0);
        assert_eq!(
            ok("after:2024-05-01T10:00:00"),
            Query::TimeRange {
                start: Some(t),
                end: None
            }
        );
        assert_eq!(
            ok("after:2024-05-01T10:00:00Z"),
            ok("after:2024-05-01T10:00:00")
        );
        assert_eq!(
            ok("after:2024-05-01T05:30:00.5-04:30"),
            Query::TimeRange {
                start: Some(t + 500_000),
                end: None
            }
        );
        assert_eq!(
            ok("after:2024-05-01 before:2024-05-02"),
            Query::And(vec![
                Query::TimeRange {
                    start: Some(day),
                    end: None
                },
                Query::TimeRange {
                    start: None,
                    end: Some(day + MICROS_PER_DAY)
                },
            ])
        );
    }

    #[test]
    fn since_takes_every_unit() {
        let s = MICROS_PER_SECOND;
        assert_eq!(ok("since:90s"), Query::Since(90 * s));
        assert_eq!(ok("since:15m"), Query::Since(15 * 60 * s));
        assert_eq!(ok("since:24h"), Query::Since(24 * 3600 * s));
        assert_eq!(ok("since:7d"), Query::Since(7 * 86_400 * s));
        assert_eq!(ok("since:2w"), Query::Since(14 * 86_400 * s));
        assert_eq!(ok("since:0s"), Query::Since(0));
    }

    /// (query, column, a piece of the message)
    const ERRORS: &[(&str, usize, &str)] = &[
        ("actor:\"bob", 7, "unterminated quote"),
        ("\"abc", 1, "unterminated quote"),
        ("a \"b c", 3, "unterminated quote"),
        ("\"a\\\"", 1, "unterminated quote"),
        ("ab\"c\"", 3, "a quote cannot start inside a word"),
        ("\"a\"b", 4, "expected a space"),
        ("actor:\"x\"y", 10, "expected a space"),
        ("\"a\"**", 5, "expected a space"),
        ("a - b", 3, "`-` must be directly followed"),
        ("-", 1, "`-` must be directly followed"),
        ("a -", 3, "`-` must be directly followed"),
        ("(-)", 2, "`-` must be directly followed"),
        ("OR a", 1, "`OR` needs a term on its left"),
        ("AND a", 1, "`AND` needs a term on its left"),
        ("(AND a)", 2, "`AND` needs a term on its left"),
        ("a (OR b)", 4, "`OR` needs a term on its left"),
        ("a OR", 3, "`OR` needs a term on its right"),
        ("a AND", 3, "`AND` needs a term on its right"),
        ("(a OR) b", 4, "`OR` needs a term on its right"),
        ("(a AND ) b", 4, "`AND` needs a term on its right"),
        ("NOT", 1, "`NOT` needs a term after it"),
        ("a NOT", 3, "`NOT` needs a term after it"),
        ("-(NOT)", 3, "`NOT` needs a term after it"),
        ("a OR OR b", 6, "`OR` directly after `OR`"),
        ("a AND OR b", 7, "`OR` directly after `AND`"),
        ("a OR AND b", 6, "`AND` directly after `OR`"),
        ("a AND AND b", 7, "`AND` directly after `AND`"),
        ("NOT OR a", 5, "`OR` directly after `NOT`"),
        ("-OR a", 2, "`OR` directly after `-`"),
        ("a and or b", 7, "`OR` directly after `AND`"),
        ("(a OR b", 1, "this `(` is never closed"),
        ("((a)", 1, "this `(` is never closed"),
        ("(", 1, "this `(` is never closed"),
        ("a (b (c)", 3, "this `(` is never closed"),
        ("a)", 2, "this `)` has no matching `(`"),
        ("(a))", 4, "this `)` has no matching `(`"),
        (")", 1, "this `)` has no matching `(`"),
        ("()", 1, "empty parentheses"),
        ("a ( )", 3, "empty parentheses"),
        ("foo:bar", 1, "unknown field `foo`"),
        ("a https://x", 3, "unknown field `https`"),
        ("10:30", 1, "unknown field `10`"),
        (":x", 1, "a field name must come before `:`"),
        ("actor:", 7, "`actor:` needs a value"),
        ("actor: bob", 7, "`actor:` needs a value"),
        ("actor:\"\"", 7, "`actor:` needs a value"),
        ("x Actor:", 9, "`actor:` needs a value"),
        ("after:", 7, "`after:` needs a value"),
        ("time:", 6, "`time:` needs a value"),
        ("after:2024-13-01", 7, "the month must be 01-12"),
        ("before:2024-02-30", 8, "day 30 does not exist in 2024-02"),
        ("after:2023-02-29", 7, "day 29 does not exist in 2023-02"),
        ("after:2024-01-01T24:00:00Z", 7, "the hour must be 00-23"),
        ("after:2024-01-01T10:60:00Z", 7, "the minute must be 00-59"),
        ("after:2024-01-01T10:00:60Z", 7, "the second must be 00-59"),
        ("after:yesterday", 7, "expected 4 digits for the year"),
        ("after:24-01-01", 7, "expected 4 digits for the year"),
        ("after:2024-1-01", 7, "expected 2 digits for the month"),
        ("after:2024-01-01T10:00", 7, "incomplete date or time"),
        ("after:2024-01", 7, "incomplete date or time"),
        (
            "after:2024-01-01T10:00:00.Z",
            7,
            "expected digits after the `.`",
        ),
        (
            "after:2024-01-01T10:00:00+01",
            7,
            "the offset must be written ±hh:mm",
        ),
        (
            "after:2024-01-01T10:00:00+24:00",
            7,
            "the offset must be -23:59 to +23:59",
        ),
        ("after:2024-01-01Z", 7, "an offset needs a full time"),
        ("after:2024-01-01T10:00:00Zx", 7, "unexpected `x`"),
        (
            "after:\"2024-01-01 10:00:00+1\"",
            7,
            "cannot read `2024-01-01 10:00:00+1`",
        ),
        (
            "time:2024-05",
            6,
            "for the whole period write time:2024-05*",
        ),
        (
            "time:2024-05-01T10",
            6,
            "for the whole period write time:2024-05-01T10*",
        ),
        ("time:2024-05-01T10:00:00Z*", 6, "takes no offset"),
        (
            "time:2024-05-01T10:00:00.1234567*",
            6,
            "at most 6 fraction digits",
        ),
        ("after:2024-01-01*", 17, "`after:` takes no `*`"),
        ("before:\"2024-01-01\"*", 20, "`before:` takes no `*`"),
        ("since:1h*", 9, "`since:` takes no `*`"),
        ("after:*", 7, "`after:` takes no `*`"),
        ("since:15", 7, "the unit is missing"),
        ("since:1M", 7, "units are lowercase"),
        ("since:1h30m", 7, "`h30m` is not a unit"),
        ("since:h", 7, "it must start with a number"),
        ("since:99999999999999999w", 7, "the duration is too large"),
        (
            "since:99999999999999999999999s",
            7,
            "the duration is too large",
        ),
        ("\"\"", 1, "has nothing to search for"),
        ("*", 1, "a lone `*`"),
        ("-*", 2, "a lone `*`"),
        ("é\"x", 2, "a quote cannot start inside a word"),
        ("日本 \"x", 4, "unterminated quote"),
    ];

    #[test]
    fn every_error_names_its_column() {
        for (input, column, piece) in ERRORS {
            match parse(input) {
                Ok(q) => panic!("{input:?} should fail, parsed as {q:?}"),
                Err(e) => {
                    assert_eq!(e.column, *column, "column for {input:?}: {e}");
                    assert!(
                        e.message.contains(piece),
                        "message for {input:?} should contain {piece:?}: {e}"
                    );
                    assert_eq!(e.to_string(), format!("column {}: {}", e.column, e.message));
                }
            }
        }
    }

    #[test]
    fn unknown_field_message_lists_the_known_fields_and_how_to_quote() {
        let e = parse("foo:bar").unwrap_err();
        assert!(e.message.contains(
            "known fields: time, source, origin, actor, action, resource, outcome, category, ip, agent, env, \
             stage, privilege, status, after, before, since, workhours"
        ));
        assert!(e.message.contains("\"foo:bar\""), "{e}");
    }

    #[test]
    fn workhours_take_hours_minutes_and_an_offset() {
        let wh = |start, end, offset| Query::WorkHours { start, end, offset };
        assert_eq!(ok("workhours:09-18"), wh(540, 1080, 0));
        assert_eq!(ok("workhours:09:30-17:45Z"), wh(570, 1065, 0));
        assert_eq!(ok("WorkHours:08-24+05:30"), wh(480, 1440, 330));
        assert_eq!(ok("workhours:00-12-03:00"), wh(0, 720, -180));
        for bad in [
            "workhours:18-09",
            "workhours:9-18",
            "workhours:09-25",
            "workhours:09-18+24:00",
            "workhours:09",
            "workhours:09-18+0200",
            "workhours:09-18*",
            "workhours:*",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.message.contains("workhours:"), "{bad}: {e}");
        }
    }

    #[test]
    fn workhours_compile_to_weekday_and_time_of_day_of_the_local_time() {
        let f = compile(&ok("workhours:09-18+02:00"), 0);
        assert!(f.sql.contains("(e.ts + 7200000000)"), "{}", f.sql);
        assert_eq!(
            f.params,
            vec![
                SqlParam::Int(9 * 3_600_000_000),
                SqlParam::Int(18 * 3_600_000_000)
            ]
        );
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE events (id INTEGER PRIMARY KEY, ts INTEGER)")
            .unwrap();
        // Monday 2024-05-06 07:30Z = 09:30 at +02:00 (in); 16:30Z = 18:30 (out); Saturday 2024-05-04 10:00Z
        // (out); Sunday 2024-05-05 23:00Z = Monday 01:00 local (out); 1969-12-31 (a Wednesday) 12:00Z (in);
        // no time (NULL, never in).
        let times = [
            (1, Some(1_714_980_600_000_000i64)),
            (2, Some(1_715_013_000_000_000)),
            (3, Some(1_714_816_800_000_000)),
            (4, Some(1_714_950_000_000_000)),
            (5, Some(-43_200_000_000)),
            (6, None),
        ];
        for (id, ts) in times {
            conn.execute(
                "INSERT INTO events VALUES (?1, ?2)",
                rusqlite::params![id, ts],
            )
            .unwrap();
        }
        let hits = |q: &str| -> Vec<i64> {
            let f = compile(&ok(q), 0);
            let sql = format!("SELECT id FROM events e WHERE ({}) ORDER BY id", f.sql);
            let params: Vec<rusqlite::types::Value> = f
                .params
                .into_iter()
                .map(|p| match p {
                    SqlParam::Int(i) => rusqlite::types::Value::Integer(i),
                    SqlParam::Text(t) => rusqlite::types::Value::Text(t),
                })
                .collect();
            let mut stmt = conn.prepare(&sql).unwrap();
            stmt.query_map(rusqlite::params_from_iter(params), |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(hits("workhours:09-18+02:00"), vec![1, 5]);
        assert_eq!(hits("time:* -workhours:09-18+02:00"), vec![2, 3, 4]);
        assert_eq!(hits("-workhours:09-18+02:00"), vec![2, 3, 4, 6]);
    }

    #[test]
    fn status_matches_the_archive_status() {
        let f = compile(&ok("status:verified"), 0);
        assert_eq!(
            f.sql,
            "+e.archive_id IN (SELECT id FROM archives WHERE status = ? COLLATE NOCASE)"
        );
        assert_eq!(f.params, vec![SqlParam::Text("verified".into())]);
        assert_eq!(
            compile(&ok("-status:verified"), 0).sql,
            "NOT (+e.archive_id IN (SELECT id FROM archives WHERE status = ? COLLATE NOCASE))"
        );
        assert_eq!(compile(&ok("privilege:exec"), 0).sql, "e.privilege = ?");
    }

    #[test]
    fn lexical_errors_come_before_structural_ones() {
        assert_eq!(parse("OR \"abc").unwrap_err().column, 4);
    }

    #[test]
    fn too_many_terms_is_an_error_at_the_first_one_too_many() {
        let fine = "a ".repeat(MAX_TERMS);
        assert!(parse(&fine).is_ok());
        let e = parse(&format!("{fine}b")).unwrap_err();
        assert_eq!(e.column, 2 * MAX_TERMS + 1);
        assert!(e.message.contains("too many terms"));
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_an_error() {
        let deep = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
        assert_eq!(ok(&deep(MAX_DEPTH)), text("a"));
        let e = parse(&deep(MAX_DEPTH + 1)).unwrap_err();
        assert_eq!(e.column, MAX_DEPTH + 1);
        assert!(e.message.contains("nests deeper"));
        let e = parse(&format!("{}a", "-".repeat(MAX_DEPTH + 1))).unwrap_err();
        assert_eq!(e.column, MAX_DEPTH + 1);
        assert!(parse(&format!("{}a", "NOT ".repeat(MAX_DEPTH))).is_ok());
        assert!(parse(&"(".repeat(100_000)).is_err());
    }

    #[test]
    fn field_terms_compile_to_index_friendly_conditions() {
        let f = compile(&ok("actor:alice"), 0);
        assert_eq!(f.sql, "e.actor = ?");
        assert_eq!(f.params, vec![SqlParam::Text("alice".into())]);
        let f = compile(&ok("actor:sys*"), 0);
        assert_eq!(f.sql, "e.actor LIKE ? ESCAPE '\\'");
        assert_eq!(f.params, vec![SqlParam::Text("sys%".into())]);
        let f = compile(&ok(r"resource:100%_a\b*"), 0);
        assert_eq!(f.params, vec![SqlParam::Text(r"100\%\_a\\b%".into())]);
        assert_eq!(compile(&ok("env:*"), 0).sql, "e.env IS NOT NULL");
        // Origins compare exactly: binary equality, a case-sensitive GLOB prefix with its wildcards quoted.
        let f = compile(&ok("origin:example.com/Prod"), 0);
        assert_eq!(f.sql, "e.origin = ? COLLATE BINARY");
        assert_eq!(f.params, vec![SqlParam::Text("example.com/Prod".into())]);
        let f = compile(&ok(r##"origin:"a*b?c[d]%_"*"##), 0);
        assert_eq!(f.sql, "e.origin GLOB ?");
        assert_eq!(f.params, vec![SqlParam::Text("a[*]b[?]c[[]d]%_*".into())]);
        assert_eq!(compile(&ok("origin:*"), 0).sql, "e.origin IS NOT NULL");
        assert_eq!(compile(&ok("time:*"), 0).sql, "e.ts IS NOT NULL");
        use crate::store::rowid::{lower_bound, upper_bound};
        let f = compile(&ok("time:2024-05-01"), 0);
        assert_eq!(f.sql, "e.id >= ? AND e.id < ? AND e.ts >= ? AND e.ts < ?");
        let (start, end) = (micros(2024, 5, 1, 0, 0, 0), micros(2024, 5, 2, 0, 0, 0));
        assert_eq!(
            f.params,
            vec![
                SqlParam::Int(lower_bound(start)),
                SqlParam::Int(upper_bound(end)),
                SqlParam::Int(start),
                SqlParam::Int(end)
            ]
        );
        assert_eq!(
            compile(&ok("before:2024-05-01"), 0).sql,
            "e.id < ? AND e.ts < ?"
        );
        let f = compile(&ok("since:15m"), 1_000_000_000);
        assert_eq!(f.sql, "e.id >= ? AND e.ts >= ?");
        let since = 1_000_000_000 - 900_000_000;
        assert_eq!(
            f.params,
            vec![SqlParam::Int(lower_bound(since)), SqlParam::Int(since)]
        );
        assert_eq!(
            compile(&Query::Since(5), i64::MIN).params,
            vec![
                SqlParam::Int(lower_bound(i64::MIN)),
                SqlParam::Int(i64::MIN)
            ]
        );
    }

    #[test]
    fn text_terms_become_quoted_fts5_strings_merged_per_junction() {
        let f = compile(&ok("a b \"c d\"*"), 0);
        assert_eq!(f.sql, FTS_IN);
        assert_eq!(
            f.params,
            vec![SqlParam::Text("\"a\" \"b\" \"c d\"*".into())]
        );
        let f = compile(&ok("a OR b*"), 0);
        assert_eq!(f.sql, FTS_IN);
        assert_eq!(f.params, vec![SqlParam::Text("\"a\" OR \"b\"*".into())]);
        let f = compile(&ok("-a"), 0);
        assert_eq!(f.sql, FTS_NOT_IN);
        assert_eq!(f.params, vec![SqlParam::Text("\"a\"".into())]);
        let f = compile(&ok("x -a -b"), 0);
        assert_eq!(f.sql, format!("({FTS_IN}) AND ({FTS_NOT_IN})"));
        assert_eq!(
            f.params,
            vec![
                SqlParam::Text("\"x\"".into()),
                SqlParam::Text("\"a\" OR \"b\"".into())
            ]
        );
        let f = compile(&ok("-a OR -b"), 0);
        assert_eq!(f.sql, FTS_NOT_IN);
        assert_eq!(f.params, vec![SqlParam::Text("\"a\" \"b\"".into())]);
        let f = compile(&ok("actor:bob alice"), 0);
        assert_eq!(f.sql, format!("(e.actor = ?) AND ({FTS_IN})"));
        assert_eq!(
            f.params,
            vec![
                SqlParam::Text("bob".into()),
                SqlParam::Text("\"alice\"".into())
            ]
        );
    }

    #[test]
    fn negation_treats_a_missing_column_as_false() {
        let f = compile(&ok("-actor:bob"), 0);
        assert_eq!(f.sql, "(e.actor = ?) IS NOT 1");
        assert_eq!(compile(&ok("-time:*"), 0).sql, "NOT (e.ts IS NOT NULL)");
        let f = compile(&ok("NOT (actor:a OR time:*)"), 0);
        assert_eq!(f.sql, "((e.actor = ?) OR (e.ts IS NOT NULL)) IS NOT 1");
    }

    #[test]
    fn many_terms_join_as_a_balanced_tree() {
        let f = compile(&ok("actor:a OR actor:b OR actor:c OR actor:d"), 0);
        assert_eq!(
            f.sql,
            "((e.actor = ?) OR (e.actor = ?)) OR ((e.actor = ?) OR (e.actor = ?))"
        );
        assert_eq!(f.params.len(), 4);
        assert_eq!(f.params.last(), Some(&SqlParam::Text("d".into())));
    }

    #[test]
    fn hand_built_trees_with_nothing_searchable_compile_to_constants() {
        // Punctuation alone is looked for literally in the raw event.
        let semicolon = Query::Text {
            text: ";".into(),
            prefix: false,
            phrase: false,
        };
        let f = compile(&semicolon, 0);
        assert_eq!(f.sql, "instr(e.raw, ?) > 0");
        assert_eq!(f.params, vec![SqlParam::Text(";".into())]);
        let nothing = Query::Text {
            text: String::new(),
            prefix: false,
            phrase: false,
        };
        assert_eq!(compile(&nothing, 0).sql, "0");
        assert_eq!(compile(&not(nothing.clone()), 0).sql, "1");
        assert_eq!(
            compile(&Query::And(vec![text("a"), nothing.clone()]), 0).sql,
            "0"
        );
        let f = compile(&Query::Or(vec![text("a"), nothing.clone()]), 0);
        assert_eq!(f.sql, FTS_IN);
        assert_eq!(compile(&Query::And(vec![]), 0).sql, "1");
        assert_eq!(compile(&Query::Or(vec![]), 0).sql, "0");
        assert_eq!(compile(&Query::Or(vec![Query::All, text("a")]), 0).sql, "1");
        assert_eq!(compile(&field(Field::Time, "nonsense", false), 0).sql, "0");
        assert_eq!(
            compile(&field(Field::Time, "2024-05-01", false), 0),
            compile(&ok("time:2024-05-01"), 0)
        );
        assert_eq!(
            compile(&field(Field::Time, "", true), 0).sql,
            "e.ts IS NOT NULL"
        );
    }

    /// SQL injection and FTS5 syntax: the SQL text is built from fixed pieces only, and the user text reaches
    /// the parameters unchanged (quoted for FTS5).
    #[test]
    fn user_text_never_reaches_the_sql() {
        let cases: &[(&str, &str, &str)] = &[
            (
                r#""x'); DROP TABLE events; --""#,
                FTS_IN,
                r#""x'); DROP TABLE events; --""#,
            ),
            (r#""a\" OR 1=1""#, FTS_IN, r#""a"" OR 1=1""#),
            ("robert';", FTS_IN, "\"robert';\""),
            ("^a +b NEAR", FTS_IN, "\"^a\" \"+b\" \"NEAR\""),
            (
                "\"NEAR(a b) AND c:d ^e -f\"",
                FTS_IN,
                "\"NEAR(a b) AND c:d ^e -f\"",
            ),
            ("\"say \\\"hi\\\"\"", FTS_IN, "\"say \"\"hi\"\"\""),
            ("50%_off", FTS_IN, "\"50%_off\""),
            ("actor:\"a' OR '1'='1\"", "e.actor = ?", "a' OR '1'='1"),
            ("actor:x';DROP*", "e.actor LIKE ? ESCAPE '\\'", "x';DROP%"),
            ("action:\"%\"", "e.action = ?", "%"),
            (
                "SELECT id FROM events WHERE 1=1 UNION",
                FTS_IN,
                "\"SELECT\" \"id\" \"FROM\" \"events\" \"WHERE\" \"1=1\" \"UNION\"",
            ),
        ];
        for (input, sql, param) in cases {
            let q = match parse(input) {
                Ok(q) => q,
                Err(e) => panic!("{input:?}: {e}"),
            };
            let f = compile(&q, 0);
            assert_eq!(&f.sql, sql, "sql for {input:?}");
            assert_eq!(
                f.params,
                vec![SqlParam::Text((*param).to_owned())],
                "params for {input:?}"
            );
        }
    }

    #[test]
    fn a_nul_in_text_becomes_a_separator_for_fts5() {
        let f = compile(&ok("\"a\u{0}b\""), 0);
        assert_eq!(f.params, vec![SqlParam::Text("\"a b\"".into())]);
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics_and_sql_only_holds_fixed_text(
            input in "[ a-zA-Z0-9:*\"()\\\\%_;'-]{0,40}|\\PC{0,30}"
        ) {
            if let Ok(q) = parse(&input) {
                let f = compile(&q, 0);
                let without_escape = f.sql.replace("ESCAPE '\\'", "");
                proptest::prop_assert!(!without_escape.contains('\''), "{}", f.sql);
                proptest::prop_assert!(!without_escape.contains('"'), "{}", f.sql);
                proptest::prop_assert_eq!(f.sql.matches('?').count(), f.params.len());
            }
        }
    }
}
