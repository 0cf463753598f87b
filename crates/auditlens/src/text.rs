//! What free-text search sees of an event (docs/search.md section 3): the words of its values, never its keys or
//! its JSON syntax. One definition serves the full-text index (store/text_index.rs), the query compiler (what a
//! search term's words are) and the matcher that checks events the index has not reached yet, so an event is
//! found the same way before and after it is indexed.
//!
//! - **Values.** An event whose first non-blank byte is `{` or `[` is read as JSON: each string value (its escapes
//!   decoded) and each number is a value, in document order; object keys and `true`, `false`, `null` are not. Any
//!   other event is one value, its whole text.
//! - **Words.** A word is a longest run of letters and digits (Unicode alphanumerics, and private-use characters),
//!   lower-cased, with the combining accents of U+0300 to U+036F removed (`Müller` is `muller`) and the final
//!   sigma `ς` written `σ` (`ΟΔΟΣ` and `οδος` are one word).
//! - **Matching.** A term matches an event when its words occur one after the other inside one value; with a
//!   final `*`, the last word is a prefix. A phrase never spans two values.
//!
//! The index stores each event as its [`indexed_text`]: its words separated by spaces, and [`VALUE_BREAK`]
//! between values. FTS5's `ascii` tokenizer reads that text back as exactly these words (every character of a word
//! is an ASCII letter or digit, or not ASCII) and the break as a word of its own that no query can contain, so
//! FTS5's phrase positions never run from one value into the next.

use std::borrow::Cow;

use unicode_normalization::char::decompose_canonical;

/// The word between two values in [`indexed_text`]: a broken bar is not a letter or digit, so no search term has
/// it as a word.
pub const VALUE_BREAK: &str = "\u{a6}";

/// Whether `c` is part of a word.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
        || ('\u{E000}'..='\u{F8FF}').contains(&c)
        || ('\u{F0000}'..='\u{FFFFD}').contains(&c)
        || ('\u{100000}'..='\u{10FFFD}').contains(&c)
}

/// Appends the folded form of a non-ASCII word character: lower case, combining accents removed, and the final
/// sigma `ς` as `σ` (lower-cased one character at a time, `ΟΔΟΣ` is `οδοσ`, while `οδος` ends in `ς`: Unicode's
/// case folding makes both `σ`).
fn push_folded(c: char, out: &mut String) {
    for lower in c.to_lowercase() {
        decompose_canonical(lower, |d| {
            if d == 'ς' {
                out.push('σ');
            } else if !('\u{300}'..='\u{36F}').contains(&d) {
                out.push(d);
            }
        });
    }
}

/// Calls `word` with each word of `text`, folded.
pub fn for_each_word(text: &str, mut word: impl FnMut(&str)) {
    let mut current = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            current.push(c.to_ascii_lowercase());
        } else if !c.is_ascii() && is_word_char(c) {
            push_folded(c, &mut current);
        } else if !current.is_empty() {
            word(&current);
            current.clear();
        }
    }
    if !current.is_empty() {
        word(&current);
    }
}

/// The folded words of a text (a search term).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_word(text, |w| out.push(w.to_owned()));
    out
}

/// Calls `value` with each value of an event, in order (see the module documentation).
pub fn for_each_value(event: &str, mut value: impl FnMut(&str)) {
    let bytes = event.as_bytes();
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    if !matches!(bytes.get(start), Some(b'{' | b'[')) {
        value(event);
        return;
    }
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'}' | b'[' | b']' | b',' | b':' | b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'"' => {
                let (text, end) = json_string(event, i + 1);
                i = end;
                if !followed_by_colon(bytes, i) {
                    value(&text);
                }
            }
            _ => {
                let end = bare_end(bytes, i);
                let bare = &event[i..end];
                if !matches!(bare, "true" | "false" | "null") {
                    value(bare);
                }
                i = end;
            }
        }
    }
}

/// Where a bare token (a number, `true`, `false`, `null`, or anything malformed) that starts at `i` ends: at the
/// next JSON punctuation or whitespace, or the end of the text.
fn bare_end(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|b| {
            matches!(
                b,
                b'{' | b'}' | b'[' | b']' | b',' | b':' | b'"' | b' ' | b'\t' | b'\n' | b'\r'
            )
        })
        .map_or(bytes.len(), |n| i + n)
}

/// Whether the string that ended before `i` is a key: the next byte that is not whitespace is a `:`.
fn followed_by_colon(bytes: &[u8], i: usize) -> bool {
    bytes[i..].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b':')
}

/// The decoded text of the JSON string starting after its opening quote at `start`, and the index after its
/// closing quote (or the end of the text when it has none). An escape JSON does not define stands for itself; a
/// lone surrogate is U+FFFD.
fn json_string(event: &str, start: usize) -> (Cow<'_, str>, usize) {
    let bytes = event.as_bytes();
    let Some(stop) = memchr::memchr2(b'"', b'\\', &bytes[start..]).map(|n| start + n) else {
        return (Cow::Borrowed(&event[start..]), bytes.len());
    };
    if bytes[stop] == b'"' {
        return (Cow::Borrowed(&event[start..stop]), stop + 1);
    }
    let mut out = String::from(&event[start..stop]);
    let mut i = stop;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return (Cow::Owned(out), i + 1),
            b'\\' => {
                let Some(&e) = bytes.get(i + 1) else {
                    out.push('\\');
                    i += 1;
                    continue;
                };
                i += 2;
                match e {
                    b'n' => out.push('\n'),
                    b't' => out.push('\t'),
                    b'r' => out.push('\r'),
                    b'b' => out.push('\u{8}'),
                    b'f' => out.push('\u{c}'),
                    b'u' => {
                        let (c, used) = unicode_escape(&bytes[i..]);
                        out.push(c);
                        i += used;
                    }
                    b'"' | b'\\' | b'/' => out.push(e as char),
                    _ => {
                        // Not an escape JSON defines: the backslash, then the character as it is.
                        out.push('\\');
                        i -= 1;
                    }
                }
            }
            _ => {
                let n = memchr::memchr2(b'"', b'\\', &bytes[i..]).map_or(bytes.len(), |n| i + n);
                out.push_str(&event[i..n]);
                i = n;
            }
        }
    }
    (Cow::Owned(out), bytes.len())
}

/// The character of a `\u` escape whose four hex digits start `rest` (with its low surrogate, when it is a high
/// one followed by `\uDC00`-`\uDFFF`), and the bytes it used after the `u`.
fn unicode_escape(rest: &[u8]) -> (char, usize) {
    let hex = |b: &[u8]| -> Option<u32> {
        let s = std::str::from_utf8(b.get(..4)?).ok()?;
        u32::from_str_radix(s, 16).ok()
    };
    let Some(first) = hex(rest) else {
        return ('\u{FFFD}', 0);
    };
    if (0xD800..0xDC00).contains(&first)
        && rest.get(4..6) == Some(b"\\u")
        && let Some(second) = hex(&rest[6..])
        && (0xDC00..0xE000).contains(&second)
    {
        let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
        return (char::from_u32(c).unwrap_or('\u{FFFD}'), 10);
    }
    (char::from_u32(first).unwrap_or('\u{FFFD}'), 4)
}

/// What the full-text index holds for an event: its words, space-separated, with [`VALUE_BREAK`] between
/// values. Written into `out` (cleared first).
pub fn indexed_text(event: &str, out: &mut String) {
    out.clear();
    append_indexed_text(event, out);
}

/// [`indexed_text`] written at the end of `out` (a batch's text: no copy of each event's own).
pub fn append_indexed_text(event: &str, out: &mut String) {
    let start = out.len();
    let mut value_open = false;
    for_each_value(event, |value| {
        let mut first = true;
        for_each_word(value, |w| {
            if first && value_open {
                out.push(' ');
                out.push_str(VALUE_BREAK);
            }
            if out.len() > start {
                out.push(' ');
            }
            out.push_str(w);
            first = false;
        });
        value_open |= !first;
    });
}

/// The key of a member path (`json.a.b` is `["a", "b"]`) in [`for_each_shaped_member`]: its names joined by NUL
/// (a path whose names hold a NUL may share its key with another: it is then taken for that one too, which only
/// ever reads more events), as a JSON string, so one line of text whatever the names hold.
pub fn member_key<S: AsRef<str>>(names: &[S]) -> String {
    let names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
    joined_key(&names.join("\0"))
}

/// [`member_key`] of names already joined by NUL.
pub fn joined_key(joined: &str) -> String {
    serde_json::to_string(joined).unwrap_or_default()
}

/// Calls `shaped` with the names, joined by NUL, of each member of an event whose value is an object, an array,
/// `true` or `false`: the members a `json.M1.M2…:` term (SQLite's `json_extract(raw, '$."M1"."M2"…')`) can read
/// as text other than a string's or a number's. Only members reachable through objects from a top-level object
/// count (a path names no array element); names are decoded (SQLite compares a name with the decoded key); a name
/// given twice counts each time. The reading is lenient and never fails, as [`for_each_value`]'s; of an event
/// that is strict JSON it names every such member, unless it returns `false`: the event nests deeper than
/// [`MAX_MEMBER_DEPTH`] brackets, or its members' paths add up to more than [`MEMBER_PATH_BYTES_PER_BYTE`] times
/// its size, and members there were not named (so the work stays linear in the event's size whatever its shape).
pub fn for_each_shaped_member(event: &str, shaped: impl FnMut(&str)) -> bool {
    for_each_member(event, shaped, |_| {})
}

/// Brackets open at once beyond which [`for_each_member`] names no member (as deep as SQLite's JSON functions
/// read: `JSON_MAX_DEPTH`).
pub const MAX_MEMBER_DEPTH: usize = 1000;
/// The bytes of the member paths [`for_each_member`] names, per byte of the event (and 64 KiB more): a path is
/// copied to be named, and a deep one named for each of many members would otherwise cost the square of the
/// event's size.
pub const MEMBER_PATH_BYTES_PER_BYTE: usize = 4;

/// [`for_each_shaped_member`], and `name` called with every object key of the event, decoded, wherever it is
/// (at any depth). Returns whether every shaped member was named (see [`for_each_shaped_member`]).
pub fn for_each_member(
    event: &str,
    mut shaped: impl FnMut(&str),
    mut name: impl FnMut(&str),
) -> bool {
    /// An open object (`named`: it is the value of a member reachable from the top, whose name is on the path;
    /// `reachable`: its own members are) or array.
    enum Open<'a> {
        Object {
            reachable: bool,
            named: Option<usize>,
            name: Option<Cow<'a, str>>,
        },
        Array,
    }
    let bytes = event.as_bytes();
    let mut open: Vec<Open<'_>> = Vec::new();
    // The names of the reachable objects open, joined by NUL; a member's key is this, NUL and its name.
    let mut path = String::new();
    let mut depth = 0usize;
    let mut key = String::new();
    // The name of a value starting now, when it is a member reachable from the top.
    fn member<'a>(open: &mut [Open<'a>]) -> Option<Cow<'a, str>> {
        match open.last_mut() {
            Some(Open::Object {
                reachable: true,
                name,
                ..
            }) => name.take(),
            Some(Open::Object { name, .. }) => {
                name.take();
                None
            }
            _ => None,
        }
    }
    let key_of = |path: &str, depth: usize, name: &str, key: &mut String| {
        key.clear();
        key.push_str(path);
        if depth > 0 {
            key.push('\0');
        }
        key.push_str(name);
    };
    // Brackets open beyond MAX_MEMBER_DEPTH: counted, not kept; nothing is named inside them.
    let mut beyond = 0usize;
    let mut whole = true;
    let mut budget = MEMBER_PATH_BYTES_PER_BYTE
        .saturating_mul(event.len())
        .saturating_add(64 << 10);
    // Names `path` + `name` when the budget allows.
    let mut named = |path: &str, depth: usize, name: &str, key: &mut String, whole: &mut bool| {
        let len = path.len() + 1 + name.len();
        if len > budget {
            *whole = false;
            return false;
        }
        budget -= len;
        key_of(path, depth, name, key);
        shaped(key);
        true
    };
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' if beyond > 0 || open.len() == MAX_MEMBER_DEPTH => {
                beyond += 1;
                whole = false;
                i += 1;
            }
            b'}' | b']' if beyond > 0 => {
                beyond -= 1;
                i += 1;
            }
            b'{' | b'[' => {
                let mut name = member(&mut open);
                if let Some(n) = &name
                    && !named(&path, depth, n, &mut key, &mut whole)
                {
                    // Past the budget: this value and what it holds are left unnamed.
                    name = None;
                }
                if bytes[i] == b'[' {
                    open.push(Open::Array);
                } else {
                    // The top-level object's members are reachable; so are those of a reachable member's object.
                    let reachable = open.is_empty() || name.is_some();
                    let named = name.map(|name| {
                        let before = path.len();
                        if depth > 0 {
                            path.push('\0');
                        }
                        path.push_str(&name);
                        depth += 1;
                        before
                    });
                    open.push(Open::Object {
                        reachable,
                        named,
                        name: None,
                    });
                }
                i += 1;
            }
            b'}' | b']' => {
                if let Some(Open::Object {
                    named: Some(before),
                    ..
                }) = open.pop()
                {
                    path.truncate(before);
                    depth -= 1;
                }
                i += 1;
            }
            b'"' => {
                let (text, end) = json_string(event, i + 1);
                i = end;
                if followed_by_colon(bytes, i) {
                    name(&text);
                    if beyond == 0
                        && let Some(Open::Object { name, .. }) = open.last_mut()
                    {
                        *name = Some(text);
                    }
                } else if beyond == 0 {
                    member(&mut open);
                }
            }
            b',' | b':' | b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            _ => {
                let end = bare_end(bytes, i);
                if beyond == 0
                    && let Some(name) = member(&mut open)
                    && matches!(&event[i..end], "true" | "false")
                {
                    named(&path, depth, &name, &mut key, &mut whole);
                }
                i = end;
            }
        }
    }
    whole
}

/// A search term as its words; the last one is a prefix when `prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub words: Vec<String>,
    pub prefix: bool,
}

impl Term {
    pub fn new(text: &str, prefix: bool) -> Term {
        Term {
            words: words(text),
            prefix,
        }
    }

    /// The term as an FTS5 string over [`indexed_text`]: its words in one quoted phrase (they hold no `"`), with
    /// `*` for a prefix.
    pub fn fts5(&self) -> String {
        let mut out = format!("\"{}\"", self.words.join(" "));
        if self.prefix {
            out.push('*');
        }
        out
    }

    /// Whether the term occurs in the words of an indexed text (split on spaces).
    fn occurs_in(&self, indexed: &[&str]) -> bool {
        let n = self.words.len();
        if n == 0 || indexed.len() < n {
            return false;
        }
        indexed.windows(n).any(|window| {
            window
                .iter()
                .zip(&self.words)
                .enumerate()
                .all(|(k, (have, want))| {
                    if self.prefix && k + 1 == n {
                        have.starts_with(want.as_str()) && *have != VALUE_BREAK
                    } else {
                        have == want
                    }
                })
        })
    }
}

/// A full-text condition as the compiler hands it to the index: every term (`all`) or any of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextQuery {
    pub terms: Vec<Term>,
    pub all: bool,
}

impl TextQuery {
    /// The FTS5 query string: the terms' strings joined by a space (AND) or ` OR `.
    pub fn fts5(&self) -> String {
        let strings: Vec<String> = self.terms.iter().map(Term::fts5).collect();
        strings.join(if self.all { " " } else { " OR " })
    }

    /// Reads back a string made by [`TextQuery::fts5`]; `None` for anything else.
    pub fn parse_fts5(s: &str) -> Option<TextQuery> {
        let mut terms = Vec::new();
        let mut all = None;
        let mut rest = s;
        loop {
            let inner = rest.strip_prefix('"')?;
            let close = inner.find('"')?;
            let words: Vec<String> = inner[..close].split(' ').map(str::to_owned).collect();
            if words.iter().any(String::is_empty) {
                return None;
            }
            rest = &inner[close + 1..];
            let prefix = rest.starts_with('*');
            if prefix {
                rest = &rest[1..];
            }
            terms.push(Term { words, prefix });
            if rest.is_empty() {
                break;
            }
            let (joined_by_and, after) = if let Some(after) = rest.strip_prefix(" OR ") {
                (false, after)
            } else {
                (true, rest.strip_prefix(' ')?)
            };
            if *all.get_or_insert(joined_by_and) != joined_by_and {
                return None;
            }
            rest = after;
        }
        Some(TextQuery {
            terms,
            all: all.unwrap_or(true),
        })
    }

    /// Whether an event matches, decided from its bytes as the index would.
    pub fn matches(&self, event: &str) -> bool {
        let mut text = String::new();
        indexed_text(event, &mut text);
        let indexed: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
        if self.all {
            self.terms.iter().all(|t| t.occurs_in(&indexed))
        } else {
            self.terms.iter().any(|t| t.occurs_in(&indexed))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(event: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_value(event, |v| out.push(v.to_owned()));
        out
    }

    fn indexed(event: &str) -> String {
        let mut out = String::new();
        indexed_text(event, &mut out);
        out
    }

    fn shaped(event: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_shaped_member(event, |k| {
            out.push(member_key(&k.split('\0').collect::<Vec<_>>()))
        });
        out
    }

    #[test]
    fn shaped_members_are_the_objects_arrays_and_booleans_a_path_reaches() {
        assert_eq!(
            shaped(
                r#"{"a":{"b":[1,{"c":true}],"d":"s","e":false,"f":{"g":{}}},"n":null,"x":1.5,"t":true,"l":[{"m":true}]}"#
            ),
            [
                r#""a""#,
                r#""a\u0000b""#,
                r#""a\u0000e""#,
                r#""a\u0000f""#,
                r#""a\u0000f\u0000g""#,
                r#""t""#,
                r#""l""#,
            ]
        );
        // Names decoded; a name given twice counts each time; odd names stay one line.
        assert_eq!(
            shaped(r#"{"k\u0065y":[],"key":{},"a.b\n\"":true}"#),
            [r#""key""#, r#""key""#, r#""a.b\n\"""#]
        );
        // No top-level object, nothing reachable.
        assert!(shaped(r#"[{"a":{}}]"#).is_empty());
        assert!(shaped(r#""{\"a\":{}}""#).is_empty());
        // Whitespace anywhere.
        assert_eq!(
            shaped("{ \"a\" :\n { \"b\" : true } }"),
            [r#""a""#, r#""a\u0000b""#]
        );
    }

    /// Of strict JSON, compact or pretty, the scanner names exactly the members a walk of the parsed document
    /// finds: every path of names through objects from the top to an object, an array or a boolean.
    #[test]
    fn shaped_members_of_strict_json_are_those_of_the_parsed_document() {
        use proptest::prelude::*;
        use serde_json::Value;
        fn expected(
            v: &Value,
            path: &mut Vec<String>,
            out: &mut std::collections::BTreeSet<String>,
        ) {
            if let Value::Object(map) = v {
                for (k, v) in map {
                    path.push(k.clone());
                    if matches!(v, Value::Object(_) | Value::Array(_) | Value::Bool(_)) {
                        out.insert(member_key(path));
                    }
                    expected(v, path, out);
                    path.pop();
                }
            }
        }
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-c\"\\\\/\\n\u{e9}\u{0}:{}\\[\\], ]{0,6}".prop_map(Value::String),
        ];
        let value = leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-c\"\\\\\\n\u{e9}\u{0}:{} ]{0,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        });
        proptest!(ProptestConfig::with_cases(400), |(v in value)| {
            let mut want = std::collections::BTreeSet::new();
            expected(&v, &mut Vec::new(), &mut want);
            for text in [serde_json::to_string(&v).unwrap(), serde_json::to_string_pretty(&v).unwrap()] {
                let mut got = std::collections::BTreeSet::new();
                let whole = for_each_shaped_member(&text, |k| {
                    got.insert(member_key(&k.split('\0').collect::<Vec<_>>()));
                });
                prop_assert!(whole, "{}", text);
                prop_assert_eq!(&got, &want, "{}", text);
            }
        });
    }

    #[test]
    fn members_past_the_depth_limit_are_left_unnamed_and_the_walk_says_so() {
        let walk = |event: &str| {
            let (mut shaped, mut names) = (Vec::new(), Vec::new());
            let whole = for_each_member(
                event,
                |k| shaped.push(k.replace('\0', ".")),
                |n| names.push(n.to_owned()),
            );
            (whole, shaped, names)
        };
        let at_limit = MAX_MEMBER_DEPTH - 2;
        let fits = format!(
            r#"{{"a":{{"b":true,"c":{}{}}},"d":true}}"#,
            "[".repeat(at_limit),
            "]".repeat(at_limit)
        );
        assert_eq!(
            walk(&fits),
            (
                true,
                strings(&["a", "a.b", "a.c", "d"]),
                strings(&["a", "b", "c", "d"])
            )
        );
        // One bracket deeper than the limit (and a member inside): what is outside is named as before, the key
        // inside is still a name, and the walk says some members went unnamed.
        let deeper = format!(
            r#"{{"a":{{"b":true,"c":{}{{"k":{{"x":true}}}}{}}},"d":true}}"#,
            "[".repeat(at_limit),
            "]".repeat(at_limit)
        );
        assert_eq!(
            walk(&deeper),
            (
                false,
                strings(&["a", "a.b", "a.c", "d"]),
                strings(&["a", "b", "c", "k", "x", "d"])
            )
        );
        // Millions of brackets: no more kept open than the limit, and the member after them is named.
        let bomb = format!(
            r#"{{"a":{}{},"d":true}}"#,
            "[".repeat(4 << 20),
            "]".repeat(4 << 20)
        );
        assert_eq!(
            walk(&bomb),
            (false, strings(&["a", "d"]), strings(&["a", "d"]))
        );
        // Unclosed.
        let open = format!(r#"{{"a":{}"#, "{\"a\":".repeat(1 << 20));
        assert!(!walk(&open).0);
    }

    #[test]
    fn member_paths_are_named_within_a_budget_linear_in_the_event() {
        // A path of 10 KiB named for each of 2,000 members would copy 20 MB for an event of 40 KB.
        let long = "n".repeat(10 << 10);
        let members: Vec<String> = (0..2000).map(|i| format!(r#""m{i}":true"#)).collect();
        let event = format!(r#"{{"{long}":{{{}}}}}"#, members.join(","));
        let mut named = 0usize;
        let mut bytes = 0usize;
        let whole = for_each_shaped_member(&event, |k| {
            named += 1;
            bytes += k.len();
        });
        assert!(!whole);
        assert!(named > 1 && named < 2001, "{named}");
        assert!(
            bytes <= MEMBER_PATH_BYTES_PER_BYTE * event.len() + (64 << 10),
            "{bytes} bytes named for an event of {}",
            event.len()
        );
        // The same members under a short name: all named.
        let event = format!(r#"{{"s":{{{}}}}}"#, members.join(","));
        let mut named = 0usize;
        assert!(for_each_shaped_member(&event, |_| named += 1));
        assert_eq!(named, 2001);
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn shaped_members_of_malformed_json_never_panic() {
        for event in [
            "{",
            "}",
            "]]]{",
            "{\"a\":",
            "{\"a\":{\"b\":[",
            "{\"a\"",
            "{:{:[:true",
            "\"",
            "{\"a\":tru",
            "{]}\"a\":{}",
            "[}{\"a\":true",
        ] {
            shaped(event);
        }
    }

    #[test]
    fn values_are_strings_and_numbers_never_keys_or_literals() {
        assert_eq!(
            values(r#"{"verb":"get","n":42,"ok":true,"x":null,"list":["a b",-1.5e3,{"k":"v"}]}"#),
            ["get", "42", "a b", "-1.5e3", "v"]
        );
        assert_eq!(values(r#" [ "a" , "b" ] "#), ["a", "b"]);
    }

    #[test]
    fn escapes_are_decoded() {
        assert_eq!(
            values(
                r#"{"p":"arn:aws:iam::1\/role","q":"say \"hi\"","u":"caf\u00e9 \ud83d\ude00 \ud800x"}"#
            ),
            [
                "arn:aws:iam::1/role",
                "say \"hi\"",
                "café \u{1F600} \u{FFFD}x"
            ]
        );
        // An escape JSON does not define stands for itself.
        assert_eq!(values(r#"["a\qb"]"#), ["a\\qb"]);
    }

    #[test]
    fn text_that_is_not_json_is_one_value() {
        assert_eq!(values("plain \"text\": here"), ["plain \"text\": here"]);
        assert_eq!(values(""), [""]);
    }

    #[test]
    fn malformed_json_still_gives_values_and_never_panics() {
        for event in [
            "{\"a",
            "{\"a\":",
            "{\"a\":\"b",
            "[\"\\",
            "[\"\\u12",
            "[\"\\ud800\\u",
            "{{{",
            "[1,,]",
            "{\"é\":\"ü\\",
        ] {
            let _ = values(event);
            let _ = indexed(event);
        }
        assert_eq!(values("{\"a\":\"open"), ["open"]);
    }

    #[test]
    fn words_are_folded_runs_of_letters_and_digits() {
        assert_eq!(
            words("Kube-System:ServiceAccount"),
            ["kube", "system", "serviceaccount"]
        );
        assert_eq!(words("Müller ÉCOLE naïve"), ["muller", "ecole", "naive"]);
        assert_eq!(words("10.0.0.1"), ["10", "0", "0", "1"]);
        assert_eq!(words("日本語 тест"), ["日本語", "тест"]);
        assert!(words("--- !!! \u{a6}").is_empty());
        // The final sigma: every case of a Greek word is one word.
        for greek in ["ΟΔΟΣ", "Οδος", "οδος", "ΟΔΟς"] {
            assert_eq!(words(greek), ["οδοσ"], "{greek}");
        }
        assert_eq!(words("Σίσυφος ΣΊΣΥΦΟΣ"), ["σισυφοσ", "σισυφοσ"]);
    }

    #[test]
    fn a_batch_text_is_its_events_texts_one_after_the_other() {
        let events = [
            r#"{"user":"Alice Smith","code":403}"#,
            r#"{"empty":"","punct":"--"}"#,
            r#"{"verb":"get"}"#,
        ];
        let mut batch = String::new();
        let mut ends = Vec::new();
        for e in events {
            append_indexed_text(e, &mut batch);
            ends.push(batch.len());
        }
        assert_eq!(batch, "alice smith \u{a6} 403get");
        let mut start = 0;
        for (e, end) in events.iter().zip(ends) {
            assert_eq!(batch[start..end], indexed(e));
            start = end;
        }
    }

    #[test]
    fn indexed_text_breaks_between_values() {
        assert_eq!(
            indexed(r#"{"user":"Alice Smith","verb":"get","empty":"","punct":"--","code":403}"#),
            "alice smith \u{a6} get \u{a6} 403"
        );
    }

    #[test]
    fn phrases_match_inside_one_value_only() {
        let event = r#"{"user":"alice","verb":"get pods","tags":["x","y"]}"#;
        let q = |s: &str, prefix| TextQuery {
            terms: vec![Term::new(s, prefix)],
            all: true,
        };
        assert!(q("get pods", false).matches(event));
        assert!(q("GET po", true).matches(event));
        assert!(!q("alice get", false).matches(event));
        assert!(!q("x y", false).matches(event));
        assert!(!q("verb", false).matches(event), "keys are not text");
        assert!(!q("user", false).matches(event));
    }

    #[test]
    fn fts5_strings_read_back() {
        let q = TextQuery {
            terms: vec![Term::new("kube-system", false), Term::new("Pod", true)],
            all: false,
        };
        assert_eq!(q.fts5(), r#""kube system" OR "pod"*"#);
        assert_eq!(TextQuery::parse_fts5(&q.fts5()), Some(q));
        assert_eq!(
            TextQuery::parse_fts5(r#""a" "b c"*"#).map(|q| q.all),
            Some(true)
        );
        for bad in ["", "a", "\"a", "\"a\" OR \"b\" \"c\"", "\"\"", "\"a  b\""] {
            assert_eq!(TextQuery::parse_fts5(bad), None, "{bad}");
        }
    }
}
