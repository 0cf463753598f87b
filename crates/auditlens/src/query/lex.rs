//! The lexer: turns the characters of a query into tokens (operators, parentheses and finished terms),
//! reading `field:value`, `workhours:` and free-text terms along the way.

use super::time::{duration_micros, time_field_range, time_point};
use super::{Field, MAX_TERMS, PaperKind, Query, QueryError};

/// An operator token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    And,
    Or,
    Not,
    Minus,
}

impl Op {
    pub(super) fn spelling(self) -> &'static str {
        match self {
            Op::And => "AND",
            Op::Or => "OR",
            Op::Not => "NOT",
            Op::Minus => "-",
        }
    }
}

#[derive(Debug)]
pub(super) enum TokenKind {
    Open,
    Close,
    Op(Op),
    Term(Query),
}

#[derive(Debug)]
pub(super) struct Token {
    pub(super) kind: TokenKind,
    /// 1-based column of the token's first character.
    pub(super) column: usize,
}

/// What a `name:` prefix names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Field(Field),
    After,
    Before,
    Since,
    WorkHours,
    /// `json.MEMBER[.MEMBER...]`: a member of the event's own JSON.
    Json,
    /// `archive:ORIGIN#SEQ`.
    Archive,
    /// `tag:NAME`, `note:WORDS`, `has:note|tag|bookmark`: the auditor's working papers.
    Tag,
    Note,
    Has,
    /// `person:NAME`: the actors aliased to a person.
    Person,
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
        } else if name.eq_ignore_ascii_case("archive") {
            Some(Key::Archive)
        } else if name.eq_ignore_ascii_case("tag") {
            Some(Key::Tag)
        } else if name.eq_ignore_ascii_case("note") {
            Some(Key::Note)
        } else if name.eq_ignore_ascii_case("has") {
            Some(Key::Has)
        } else if name.eq_ignore_ascii_case("person") {
            Some(Key::Person)
        } else if name
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case("json."))
        {
            Some(Key::Json)
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
            Key::Json => "json",
            Key::Archive => "archive",
            Key::Tag => "tag",
            Key::Note => "note",
            Key::Has => "has",
            Key::Person => "person",
        }
    }
}

/// The value of a field term as read by the lexer.
struct FieldValue {
    text: String,
    prefix: bool,
    /// A bare value with a `*` before its end (`*john*`): every `*` stands for any characters.
    pattern: bool,
    /// Column of the value's first character (the opening quote of a quoted value).
    column: usize,
    /// Column of the prefix `*`, when there is one.
    star_column: Option<usize>,
}

/// Every name a `name:value` term may use: the fields, then the time keywords.
pub fn known_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = Field::ALL.iter().map(|field| field.name()).collect();
    names.extend([
        "archive",
        "json.MEMBER",
        "tag",
        "note",
        "has",
        "person",
        "after",
        "before",
        "since",
        "workhours",
    ]);
    names
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

pub(super) struct Lexer<'a> {
    chars: &'a [char],
    pos: usize,
    tokens: Vec<Token>,
    terms: usize,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(chars: &'a [char]) -> Lexer<'a> {
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
        // A phrase counts one term per word: the index and the events are read for each of its words (a quoted
        // phrase of 60,000 words took 31 s and 531 MB to count over 2,000 events).
        self.terms += match &query {
            Query::Text { text, .. } => crate::text::words(text).len().max(1),
            _ => 1,
        };
        if self.terms > MAX_TERMS {
            return Err(QueryError::new(
                index + 1,
                format!("too many terms (at most {MAX_TERMS})"),
            ));
        }
        self.push(TokenKind::Term(query), index);
        Ok(())
    }

    pub(super) fn run(mut self) -> Result<Vec<Token>, QueryError> {
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

    /// Reads `/PATTERN/` at `slash` (the opening `/`) for a `field:/regex/` term: up to the next `/` not escaped by
    /// `\\` (spaces and brackets included), which must end the term. Returns the term and the index after it, or
    /// `None` when there is no such closing `/`: the value is then an ordinary one starting with `/`
    /// (`resource:/api/v1`).
    fn regex_term(&self, field: Field, slash: usize) -> Result<Option<(Query, usize)>, QueryError> {
        let Some((pattern, next)) = self.regex_pattern(slash) else {
            return Ok(None);
        };
        if field == Field::Time {
            return Err(QueryError::new(
                slash + 1,
                "`time:` takes times (section 5), not a regular expression",
            ));
        }
        if pattern.is_empty() {
            return Err(QueryError::new(
                slash + 1,
                format!(
                    "`{}://` is an empty regular expression; write `{}:*` for \"present\"",
                    field.name(),
                    field.name()
                ),
            ));
        }
        if let Err(e) = super::build_regex(&pattern) {
            let why = match e {
                regex::Error::CompiledTooBig(_) => {
                    "it is too large to run in bounded time and memory".to_owned()
                }
                other => other
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
            };
            return Err(QueryError::new(
                slash + 1,
                format!(
                    "`{}:/{pattern}/` is not a regular expression AuditLens runs: {why}",
                    field.name()
                ),
            ));
        }
        Ok(Some((Query::Regex { field, pattern }, next)))
    }

    /// The pattern of `/PATTERN/` at `slash` and the index after it (see [`Lexer::regex_term`]), or `None`.
    fn regex_pattern(&self, slash: usize) -> Option<(String, usize)> {
        let mut i = slash + 1;
        let mut pattern = String::new();
        loop {
            match self.at(i)? {
                '/' if ends_word(self.at(i + 1)) => break,
                '\\' => {
                    pattern.push('\\');
                    if let Some(c) = self.at(i + 1) {
                        pattern.push(c);
                        i += 1;
                    }
                }
                c => pattern.push(c),
            }
            i += 1;
        }
        Some((pattern, i + 1))
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
                    known_names().join(", ")
                ),
            ));
        };
        let value_index = start + name.chars().count() + 1;
        if let (Key::Field(field), Some('/')) = (key, self.at(value_index))
            && let Some((query, next)) = self.regex_term(field, value_index)?
        {
            self.push_term(query, start)?;
            self.pos = next;
            return Ok(());
        }
        if key == Key::Json
            && self.at(value_index) == Some('/')
            && self.regex_pattern(value_index).is_some()
        {
            return Err(QueryError::new(
                value_index + 1,
                format!(
                    "`{name}:/…/`: a JSON member takes no regular expression; write a `*` pattern \
                     ({name}:*text*), or quote the value to search for it as written ({name}:\"/…/\")"
                ),
            ));
        }
        let (value, next) = if quote_follows {
            let (text, after) = self.quoted(end)?;
            let (prefix, star_column, next) = self.after_quote(after)?;
            let value = FieldValue {
                text,
                prefix,
                pattern: false,
                column: value_index + 1,
                star_column,
            };
            (value, next)
        } else {
            let inner_star = bare
                .char_indices()
                .position(|(i, c)| c == '*' && i + 1 < bare.len());
            let value = match (inner_star, bare.strip_suffix('*')) {
                (Some(first), _) => FieldValue {
                    text: bare.to_owned(),
                    prefix: false,
                    pattern: true,
                    column: value_index + 1,
                    star_column: Some(value_index + 1 + first),
                },
                (None, Some(text)) => FieldValue {
                    text: text.to_owned(),
                    prefix: true,
                    pattern: false,
                    column: value_index + 1,
                    star_column: Some(end),
                },
                (None, None) => FieldValue {
                    text: bare.to_owned(),
                    prefix: false,
                    pattern: false,
                    column: value_index + 1,
                    star_column: None,
                },
            };
            (value, end)
        };
        let query = match key {
            Key::Json => json_term(name, start + 1, value)?,
            Key::Archive => archive_term(value)?,
            Key::Tag | Key::Note | Key::Has => papers_term(key, value)?,
            Key::Person if !value.prefix && !value.pattern && !value.text.is_empty() => {
                Query::Person(value.text)
            }
            Key::Person => {
                return Err(QueryError::new(
                    value.column,
                    "`person:` takes one name, exactly (no `*`): a person the Identities list names",
                ));
            }
            _ => field_term(key, value)?,
        };
        self.push_term(query, start)?;
        self.pos = next;
        Ok(())
    }
}

/// Whether the text index finds at least one word in `text` once folded (`crate::text::words`): a letter, digit or
/// private-use character that folding keeps. A combining mark alone (U+0345, U+0363) is a word character that
/// folding removes: a term of such marks and punctuation is looked for literally, as punctuation is, never as an
/// empty phrase (which the index answers with nothing and `text_match` refuses).
pub(super) fn is_searchable(text: &str) -> bool {
    let mut any = false;
    crate::text::for_each_word(text, |_| any = true);
    any
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

/// Builds a `json.PATH:value` term; `name` is `json.PATH` as written, at column `column`.
fn json_term(name: &str, column: usize, value: FieldValue) -> Result<Query, QueryError> {
    let members: Vec<&str> = name.get(5..).unwrap_or_default().split('.').collect();
    // SQLite reads a JSON path as a C string, so a NUL would cut it short: a member name with a control
    // character is refused, like one with a quote.
    if let Some(bad) = members
        .iter()
        .find(|m| m.is_empty() || m.contains(['"', '\\']) || m.contains(char::is_control))
    {
        let why = if bad.is_empty() {
            "an empty member name"
        } else if bad.contains(char::is_control) {
            "a member name with a control character"
        } else {
            "a member name with `\"` or `\\`"
        };
        return Err(QueryError::new(
            column,
            format!(
                "`{name}:` has {why}; write json. then member names separated by dots (json.requestParameters.roleArn)"
            ),
        ));
    }
    if value.text.is_empty() && !value.prefix {
        return Err(QueryError::new(
            value.column,
            format!(
                "`{name}:` needs a value right after the `:` (no space), or `*` for \"present\""
            ),
        ));
    }
    Ok(Query::Json {
        path: members.into_iter().map(str::to_owned).collect(),
        value: value.text,
        prefix: value.prefix,
        pattern: value.pattern,
    })
}

/// Builds a `tag:`, `note:` or `has:` term (the auditor's working papers).
fn papers_term(key: Key, value: FieldValue) -> Result<Query, QueryError> {
    let present = |kind| Query::Papers {
        kind,
        value: String::new(),
        prefix: true,
        pattern: false,
    };
    match key {
        Key::Has => {
            let kind = match value.text.to_ascii_lowercase().as_str() {
                _ if value.prefix || value.pattern => None,
                "note" | "notes" => Some(PaperKind::Note),
                "tag" | "tags" => Some(PaperKind::Tag),
                "bookmark" | "bookmarks" | "bookmarked" => Some(PaperKind::Bookmark),
                _ => None,
            };
            kind.map(present).ok_or_else(|| {
                QueryError::new(
                    value.column,
                    format!(
                        "`has:` takes note, tag or bookmark (the auditor's working papers); got `{}`",
                        value.text
                    ),
                )
            })
        }
        _ => {
            let kind = if key == Key::Tag {
                PaperKind::Tag
            } else {
                PaperKind::Note
            };
            if value.text.is_empty() && !value.prefix {
                return Err(QueryError::new(
                    value.column,
                    format!(
                        "`{}:` needs a value right after the `:` (no space), or `*` for \"any\"",
                        key.name()
                    ),
                ));
            }
            Ok(Query::Papers {
                kind,
                value: value.text,
                prefix: value.prefix,
                pattern: value.pattern,
            })
        }
    }
}

/// Builds an `archive:ORIGIN#SEQ` term (`ORIGIN@SEQ` as event ids write it is read too).
fn archive_term(value: FieldValue) -> Result<Query, QueryError> {
    let split = |sep: char| {
        let (origin, seq) = value.text.rsplit_once(sep)?;
        let digits = !seq.is_empty() && seq.len() <= 19 && seq.bytes().all(|b| b.is_ascii_digit());
        let sequence = seq.parse::<u64>().ok().filter(|_| digits)?;
        (!origin.is_empty()).then(|| (origin.to_owned(), sequence))
    };
    match (
        value.prefix || value.pattern,
        split('#').or_else(|| split('@')),
    ) {
        (false, Some((origin, sequence))) => Ok(Query::Archive { origin, sequence }),
        _ => Err(QueryError::new(
            value.column,
            format!(
                "`archive:` takes ORIGIN#SEQUENCE (e.g. archive:example.com/prod/k8s#12), exactly, without `*`; got `{}`",
                value.text
            ),
        )),
    }
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
    if value.pattern {
        return match key {
            Key::Field(Field::Time) => Err(QueryError::new(
                value.star_column.unwrap_or(value.column),
                "`time:` takes `*` only at the end (time:2024-05*)".to_owned(),
            )),
            Key::Field(field) => Ok(Query::Pattern {
                field,
                pattern: value.text,
            }),
            // The time keywords refused any `*` above.
            _ => Err(QueryError::new(
                value.column,
                format!("`{name}:` takes no `*` wildcard"),
            )),
        };
    }
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
        // Built by `json_term` and `archive_term`, which the lexer calls instead.
        Key::Json | Key::Archive | Key::Tag | Key::Note | Key::Has | Key::Person => Err(
            QueryError::new(value.column, format!("`{name}:` is read elsewhere")),
        ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;
    use crate::query::test_support::*;

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
        // A `*` before the end makes a pattern (every `*` any characters); in quotes it is itself.
        let pattern = |f, p: &str| Query::Pattern {
            field: f,
            pattern: p.into(),
        };
        assert_eq!(ok("actor:a**"), pattern(Field::Actor, "a**"));
        assert_eq!(ok("actor:*john*"), pattern(Field::Actor, "*john*"));
        assert_eq!(ok("origin:*/prod/*"), pattern(Field::Origin, "*/prod/*"));
        assert_eq!(
            ok("action:s3:GetObject"),
            field(Field::Action, "s3:GetObject", false)
        );
        assert_eq!(ok("ip:::1"), field(Field::Ip, "::1", false));
        assert_eq!(ok("actor:a*b"), pattern(Field::Actor, "a*b"));
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
    fn json_members_and_archives_are_read() {
        let json = |path: &[&str], value: &str, prefix: bool, pattern: bool| Query::Json {
            path: path.iter().map(|p| (*p).to_owned()).collect(),
            value: value.to_owned(),
            prefix,
            pattern,
        };
        assert_eq!(
            parse("json.eventName:ConsoleLogin").unwrap(),
            json(&["eventName"], "ConsoleLogin", false, false)
        );
        assert_eq!(
            parse("JSON.a.b:x*").unwrap(),
            json(&["a", "b"], "x", true, false)
        );
        assert_eq!(
            parse("json.a:*x*").unwrap(),
            json(&["a"], "*x*", false, true)
        );
        assert_eq!(parse("json.a:*").unwrap(), json(&["a"], "", true, false));
        assert_eq!(
            parse(r#"json.a:"x y""#).unwrap(),
            json(&["a"], "x y", false, false)
        );
        let archive = |origin: &str, sequence: u64| Query::Archive {
            origin: origin.to_owned(),
            sequence,
        };
        assert_eq!(
            parse("archive:example.com/k8s#12").unwrap(),
            archive("example.com/k8s", 12)
        );
        assert_eq!(parse("archive:a#b#3").unwrap(), archive("a#b", 3));
        assert_eq!(parse("archive:o@x@7").unwrap(), archive("o@x", 7));
        assert_eq!(parse(r#"archive:"a b#1""#).unwrap(), archive("a b", 1));
        for (bad, column) in [
            ("json.:x", 1),
            ("json.a..b:x", 1),
            ("json.a:", 8),
            ("json.re\u{6}\0atus.code:403", 1),
            ("json.a\u{1b}[31mb:x", 1),
            ("archive:x", 9),
            ("archive:#1", 9),
            ("archive:x#", 9),
            ("archive:x#-1", 9),
            ("archive:x#99999999999999999999", 9),
            ("archive:x#1*", 9),
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.column, column, "{bad}: {e}");
        }
    }

    #[test]
    fn unknown_field_message_lists_the_known_fields_and_how_to_quote() {
        let e = parse("foo:bar").unwrap_err();
        assert!(e.message.contains(
            "known fields: time, source, origin, actor, action, resource, outcome, category, ip, agent, env, \
             stage, privilege, status, archive, json.MEMBER, tag, note, has, person, after, before, since, workhours"
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
    fn a_phrase_counts_one_term_per_word() {
        let phrase = |n: usize| format!("\"{}\"", vec!["a"; n].join(" "));
        assert!(parse(&phrase(MAX_TERMS)).is_ok());
        let e = parse(&phrase(MAX_TERMS + 1)).unwrap_err();
        assert!(e.message.contains("too many terms"), "{e}");
        let e = parse(&format!("b {}", phrase(MAX_TERMS))).unwrap_err();
        assert_eq!(e.column, 3);
        // Punctuation is no word: a phrase without words still counts one.
        assert!(parse(&format!("{} \"--\"", "a ".repeat(MAX_TERMS - 1))).is_ok());
    }
}
