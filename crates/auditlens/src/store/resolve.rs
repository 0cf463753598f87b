//! Patterns resolved to values (issue 16: "any page of results, first or last, in ≤ 50 ms"). A pattern or regular
//! expression over a field (`actor:*admin*`, `resource:/secrets/`) cannot use the field's index: SQLite tests it on
//! every event, and a rare one reads the whole store to fill a page (347 ms on 1M events). A field holds far fewer
//! different values than events, though, and its index lists them in order: when there are at most
//! [`MAX_VALUES`], they are read one index seek each; when there are more, in one pass over the index (an entry is
//! a value and an event id: a small part of the bytes of the events' rows). The pattern is tested on each value by
//! the very SQL the query compiles to, and the condition becomes `field:v1 OR field:v2 ...` over the values that
//! match — exact matches the index answers, for the pages, the counts and the export alike. More than
//! [`MAX_MATCHING`] values match: the condition stays as it is (it is not wrong, only slower, and it matches often
//! enough that a page fills quickly).

use std::collections::{BTreeSet, HashSet};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use super::text_index::Vocabulary;

use crate::query::{self, Field, Query};

/// The most distinct values of a field read one index seek each (a few microseconds) to resolve one pattern; a
/// field with more is read in one pass over its index.
pub const MAX_VALUES: usize = 2048;
/// The most values a resolved pattern turns into (each an exact condition the index answers).
pub const MAX_MATCHING: usize = 256;

/// The fields whose column has an index of its own (events_<column>), in the column's NOCASE collation. Those of
/// `stage` and `privilege` leave out the events without one (`WHERE col IS NOT NULL`): every query below asks for
/// non-NULL values only, so SQLite reads them too.
fn indexed(field: Field) -> bool {
    matches!(
        field,
        Field::Actor
            | Field::Action
            | Field::Resource
            | Field::Category
            | Field::Outcome
            | Field::Ip
            | Field::Env
            | Field::Source
            | Field::Agent
            | Field::Stage
            | Field::Privilege
    )
}

/// `q` with every pattern and regular expression over an indexed field replaced by the exact values it matches,
/// where the field has few enough different values (see the module comment). The result matches exactly the same
/// events.
pub fn resolve(conn: &Connection, q: Query, now_micros: i64) -> rusqlite::Result<Query> {
    Ok(match q {
        // Flat, so that a term a rewrite adds (a member's implied words) drives the plan like one written there.
        Query::And(items) => {
            let mut flat = Vec::with_capacity(items.len());
            for item in items {
                match resolve(conn, item, now_micros)? {
                    Query::And(inner) => flat.extend(inner),
                    other => flat.push(other),
                }
            }
            Query::And(flat)
        }
        Query::Json { ref path, .. } if member_absent(conn, path) => Query::Or(Vec::new()),
        node @ Query::Json { pattern: true, .. } => member_words(conn, node),
        node @ Query::Json { .. } => with_implied_words(node),
        Query::Or(items) => Query::Or(
            items
                .into_iter()
                .map(|i| resolve(conn, i, now_micros))
                .collect::<Result<_, _>>()?,
        ),
        Query::Not(inner) => Query::Not(Box::new(resolve(conn, *inner, now_micros)?)),
        node @ (Query::Field {
            field: Field::Origin,
            ..
        }
        | Query::Pattern {
            field: Field::Origin,
            ..
        }
        | Query::Regex {
            field: Field::Origin,
            ..
        }
        | Query::Archive { .. }) => archive_rows(conn, node, now_micros)?,
        node @ (Query::Pattern { field, .. } | Query::Regex { field, .. }) if indexed(field) => {
            match matching_values(conn, &node, field, now_micros)? {
                Some(values) => Query::Or(
                    values
                        .into_iter()
                        .map(|value| Query::Field {
                            field,
                            value,
                            prefix: false,
                        })
                        .collect(),
                ),
                None => node,
            }
        }
        other => other,
    })
}

/// The most archive rows an `origin:` or `archive:` term is resolved to.
const MAX_ARCHIVE_ROWS: usize = 256;

/// An `origin:` or `archive:` term as the archive rows it holds for (an event's origin is its archive's: the
/// importer writes the archive's, and `check` re-derives it). None: it matches nothing, at once. Archives that
/// hold at most an eighth of the stored events (their signed counts): [`Query::ArchiveRows`], their events read
/// along the index by archive (a small archive among large ones is not found by testing every row). More: the
/// term as it is, tested on each row as the pages walk (SQLite would otherwise read and sort every event of a
/// large archive for one page in time order). `origin:*` (every event) stays as it is.
fn archive_rows(conn: &Connection, node: Query, now_micros: i64) -> rusqlite::Result<Query> {
    if let Query::Field {
        value,
        prefix: true,
        ..
    } = &node
        && value.is_empty()
    {
        return Ok(node);
    }
    // The condition exactly as the query compiles it, over each archive row in place of the event's. The counts
    // only choose the plan; read as reals (`total`), one the file holds in any type or size cannot fail it.
    let filter = query::compile(&node, now_micros);
    const EVENTS: &str = "max(coalesce(CAST(events AS REAL), 0), 0)";
    let sql = format!(
        "SELECT e.archive_id, e.events FROM (SELECT id AS archive_id, {EVENTS} AS events FROM archives) e \
         WHERE ({})",
        filter.sql
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows: Vec<(i64, f64)> = stmt
        .query_map(params_from_iter(super::search::bind(filter.params)), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    if rows.is_empty() {
        return Ok(Query::Or(Vec::new()));
    }
    let stored: f64 =
        conn.query_row(&format!("SELECT total({EVENTS}) FROM archives"), [], |r| {
            r.get(0)
        })?;
    let held: f64 = rows.iter().map(|(_, n)| n).sum();
    Ok(if rows.len() <= MAX_ARCHIVE_ROWS && held * 8.0 <= stored {
        Query::ArchiveRows(rows.into_iter().map(|(id, _)| id).collect())
    } else {
        node
    })
}

/// `json.PATH:VALUE` with VALUE's words as a free-text term beside it (`And[text, member]`), when every event the
/// member condition matches must hold those words inside one of its values, so that the full-text index lists the
/// candidates and only they are read as JSON (a rare member no longer reads every event: 1.5 s on 200k events).
/// That holds when the condition is an exact value (no pattern), not `true`, `false` or `null`, and no object or
/// array, that either
/// - only a string member can equal: it has a letter no number's text has (a number reads as digits, `e`, `Inf` or
///   `NaN`). The member's string then equals VALUE but for ASCII case, so its words (text.rs: decoded, lower-cased)
///   are VALUE's, in one value of the event: exactly what the text term requires; or
/// - is an integer written in digits, with an optional `-` (`json.responseStatus.code:403`). A string member
///   equal to it has its digits as its one word, as above. A number member reads as that text only when it is
///   written so in the bytes: SQLite reads any other spelling of a number (`403.0`, `4.03e2`, a number too large
///   for 64 bits) as a real, whose text has a `.` or an `e`, and an event that parsed is strict JSON (no `0x193`
///   or `+403`). The number's text in the bytes is one value of the index, whose word is those digits.
///
/// It holds too for a prefix (`json.userAgent:curl*`) that only a string can start with: it has such a letter,
/// does not open an object or array, and does not start `true` or `false`. The member's string then starts with
/// VALUE but for ASCII case, so its words begin with VALUE's, the last of them perhaps longer: the text term with
/// its last word a prefix.
///
/// Any other condition is left as it is.
fn with_implied_words(node: Query) -> Query {
    let Query::Json {
        value,
        prefix,
        pattern: false,
        ..
    } = &node
    else {
        return node;
    };
    if value.is_empty() {
        // `json.M:*`: present, whatever its value.
        return node;
    }
    let numberish = |c: char| c.is_ascii_digit() || "eEiInNfFaA".contains(c);
    let stringly = value
        .chars()
        .any(|c| crate::text::is_word_char(c) && !numberish(c));
    let opens = value.trim_start().starts_with(['{', '[']);
    let word = matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "true" | "false" | "null"
    );
    let digits = value.strip_prefix('-').unwrap_or(value);
    let integer = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let lower = value.to_ascii_lowercase();
    let starts_literal = ["true", "false"].iter().any(|w| w.starts_with(&lower));
    let implied = if *prefix {
        stringly && !opens && !starts_literal
    } else {
        (stringly || integer) && !opens && !word
    };
    if !implied {
        return node;
    }
    let words = Query::Text {
        text: value.clone(),
        prefix: *prefix,
        phrase: true,
    };
    Query::And(vec![words, node])
}

/// The most words of the full-text index a `json.M:*run*` pattern is asked of (more: it stays as it is).
pub const MAX_WORDS: usize = 256;

/// `json.PATH:PATTERN` (a `*` pattern) with the full-text index's candidates beside it (`And[Words, member]`),
/// read from the index's vocabulary (store/text_index.rs: per batch, its words, the members whose value is an
/// object, an array, `true` or `false`, the key names and whether an escape has a letter or digit), when the
/// pattern has a run of three or more ASCII letters and digits with a letter that no number's text has and few
/// enough words of the index hold that run.
///
/// Why the candidates hold every match. The member's text matches the pattern, so it holds the run, ASCII case
/// aside. Where the member is a string, that text is the string decoded, whose words (text.rs: longest runs of
/// letters and digits, lower-cased) are words of one of the event's values; the run's letters and digits lie in
/// one of those words, which therefore holds the run lower-cased, and is one of the index's words for the event,
/// in the vocabulary of its batch. A number's text (digits, `.`, `e`, `+`, `-`, `Inf`) cannot hold the run. An
/// object's or array's text is its tokens as written (keys, escaped strings, numbers, `true`, `false`, `null`): in
/// a batch where no key holds the run, no escape has a letter or digit (so a string's letters and digits are the
/// same as written and decoded) and the run is not in `true`, `false` or `null`, the run lies in a string, and so
/// in one of the index's words again; `true` and `false` likewise. An archive with any other batch where PATH is
/// such a value ([`crate::text::for_each_member`]), or a batch too large to keep a vocabulary, is not `covered`,
/// nor one the index does not hold with its vocabulary: its events are all candidates, read as before.
///
/// No word holds the run and every archive is covered: the term matches nothing, at once.
fn member_words(conn: &Connection, node: Query) -> Query {
    // The vocabulary is derived data in a file of its own: one that cannot be read (another layout, damaged)
    // leaves the pattern as it is, tested on every event.
    match vocabulary_words(conn, &node) {
        Ok(Some(words)) => words,
        Ok(None) | Err(_) => node,
    }
}

/// Whether no stored event can have the member at `path`: the index holds every archive with events, with a
/// whole vocabulary, and no batch has a key named as the member's last name (an event whose member SQLite reads
/// has that key, decoded; the vocabulary keeps every key's name, decoded and lower-cased). A member of another
/// source, or a name no event has (`json.zzz:*`), then matches nothing at once instead of reading every event.
/// Any doubt (the index lagging, a vocabulary missing or unreadable, a name with a line break) is `false`.
fn member_absent(conn: &Connection, path: &[String]) -> bool {
    let Some(last) = path.last() else {
        return false;
    };
    if last.contains('\n') {
        return false;
    }
    let line = crate::text::joined_key(&last.to_ascii_lowercase());
    let absent = || -> rusqlite::Result<bool> {
        if !super::text_index::refresh(conn)? {
            return Ok(false);
        }
        let mut stmt = conn.prepare(&format!(
            "SELECT archive_id, whole, names FROM {}.vocabulary WHERE archive_id IN temp.text_done",
            super::text_index::SCHEMA
        ))?;
        let mut rows = stmt.query([])?;
        let mut archives = HashSet::new();
        while let Some(row) = rows.next()? {
            let whole: bool = row.get(1)?;
            let names = match row.get_ref(2)? {
                ValueRef::Blob(b) | ValueRef::Text(b) => b,
                _ => &[],
            };
            if !whole || Vocabulary::lines(names).any(|l| l == line.as_bytes()) {
                return Ok(false);
            }
            archives.insert(row.get::<_, i64>(0)?);
        }
        Ok(archives_with_events(conn)?
            .iter()
            .all(|id| archives.contains(id)))
    };
    absent().unwrap_or(false)
}

/// The archives that hold events (one index seek each).
fn archives_with_events(conn: &Connection) -> rusqlite::Result<Vec<i64>> {
    conn.prepare_cached(
        "SELECT id FROM archives a WHERE EXISTS (SELECT 1 FROM events e WHERE e.archive_id = a.id)",
    )?
    .query_map([], |r| r.get(0))?
    .collect()
}

/// [`member_words`] from the vocabulary: `None` to leave the pattern as it is.
fn vocabulary_words(conn: &Connection, node: &Query) -> rusqlite::Result<Option<Query>> {
    let Query::Json {
        path,
        value,
        pattern: true,
        ..
    } = node
    else {
        return Ok(None);
    };
    let numberish = |c: char| c.is_ascii_digit() || "eEiInNfFaA".contains(c);
    let runs: Vec<String> = value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|run| run.len() >= 3 && run.chars().any(|c| !numberish(c)))
        .map(str::to_ascii_lowercase)
        .collect();
    if runs.is_empty() {
        return Ok(None);
    }
    // An index attached without a vocabulary (made by an earlier version and opened read-only): as before.
    let has_vocabulary = conn
        .query_row(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM {}.sqlite_schema WHERE name = 'vocabulary')",
                super::text_index::SCHEMA
            ),
            [],
            |r| r.get::<_, bool>(0),
        )
        .unwrap_or(false);
    if !has_vocabulary {
        return Ok(None);
    }
    // The archives the index holds now (`temp.text_done`), whether that is every archive with events.
    let every_archive = super::text_index::refresh(conn)?;
    let key = crate::text::member_key(path);
    let finders: Vec<memchr::memmem::Finder> = runs
        .iter()
        .map(|r| memchr::memmem::Finder::new(r.as_bytes()))
        .collect();
    // Per run, the words that hold it (None: more than MAX_WORDS), and the archives it leaves uncovered.
    let mut found: Vec<Option<HashSet<Vec<u8>>>> =
        runs.iter().map(|_| Some(HashSet::new())).collect();
    let mut uncovered: Vec<HashSet<i64>> = runs.iter().map(|_| HashSet::new()).collect();
    let mut archives: BTreeSet<i64> = BTreeSet::new();
    let mut stmt = conn.prepare(&format!(
        "SELECT archive_id, whole, words, shaped, names, escapes FROM {}.vocabulary \
         WHERE archive_id IN temp.text_done",
        super::text_index::SCHEMA
    ))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let archive: i64 = row.get(0)?;
        archives.insert(archive);
        let bytes = |i| -> rusqlite::Result<&[u8]> {
            Ok(match row.get_ref(i)? {
                ValueRef::Blob(b) | ValueRef::Text(b) => b,
                _ => &[],
            })
        };
        let whole: bool = row.get(1)?;
        let shaped = Vocabulary::lines(bytes(3)?).any(|line| line == key.as_bytes());
        let (names, escapes): (&[u8], bool) = (bytes(4)?, row.get(5)?);
        for ((run, finder), uncovered) in runs.iter().zip(&finders).zip(uncovered.iter_mut()) {
            // Where the member is an object, an array or a boolean, its text holds the run only in a string
            // value (then in one of the index's words, as for a string member), unless a key holds it, an escape
            // (`\n`, `\u0041`) gives its text letters the decoded string has not, or the run is in `true`,
            // `false` or `null`. A batch too large to keep a vocabulary is read.
            let literal = ["true", "false", "null"]
                .iter()
                .any(|l| l.contains(run.as_str()));
            if !whole || (shaped && (escapes || literal || finder.find(names).is_some())) {
                uncovered.insert(archive);
            }
        }
        let words = bytes(2)?;
        for (finder, found) in finders.iter().zip(found.iter_mut()) {
            let Some(set) = found else { continue };
            for at in finder.find_iter(words) {
                let start = memchr::memrchr(b'\n', &words[..at]).map_or(0, |n| n + 1);
                let end = memchr::memchr(b'\n', &words[at..]).map_or(words.len(), |n| at + n);
                set.insert(words[start..end].to_vec());
                if set.len() > MAX_WORDS {
                    *found = None;
                    break;
                }
            }
        }
        if found.iter().all(Option::is_none) {
            return Ok(None);
        }
    }
    drop(rows);
    drop(stmt);
    // The run held by the fewest words, and the archives it covers.
    let Some((words, uncovered)) = found
        .into_iter()
        .zip(uncovered)
        .filter_map(|(words, uncovered)| Some((words?, uncovered)))
        .min_by_key(|(words, _)| words.len())
    else {
        return Ok(None);
    };
    let covered: BTreeSet<i64> = archives
        .into_iter()
        .filter(|a| !uncovered.contains(a))
        .collect();
    if covered.is_empty() {
        return Ok(None);
    }
    let Ok(mut words) = words
        .into_iter()
        .map(String::from_utf8)
        .collect::<Result<Vec<String>, _>>()
    else {
        return Ok(None);
    };
    words.sort_unstable();
    let complete = every_archive
        && archives_with_events(conn)?
            .iter()
            .all(|id| covered.contains(id));
    if complete && words.is_empty() {
        return Ok(Some(Query::Or(Vec::new())));
    }
    Ok(Some(Query::And(vec![
        Query::Words {
            words,
            covered: covered.into_iter().collect(),
            complete,
        },
        node.clone(),
    ])))
}

/// The values of `field` that `node` matches, or `None` when more than [`MAX_MATCHING`] match. Values are read
/// from the field's index one seek at a time (up to [`MAX_VALUES`], then [`scan_index`]); in its NOCASE order,
/// each run of values equal but for ASCII case is read once, which is how `field:value` compares.
fn matching_values(
    conn: &Connection,
    node: &Query,
    field: Field,
    now_micros: i64,
) -> rusqlite::Result<Option<Vec<String>>> {
    let column = field.column();
    let mut first = conn.prepare_cached(&format!(
        "SELECT min({column}) FROM events WHERE {column} IS NOT NULL"
    ))?;
    let mut next = conn.prepare_cached(&format!(
        "SELECT min({column}) FROM events WHERE {column} > ?1"
    ))?;
    let mut values = Vec::new();
    let mut at: Option<String> = first.query_row([], |r| r.get(0))?;
    // The condition exactly as the query compiles it, over each value in place of the event's column.
    let filter = query::compile(node, now_micros);
    while let Some(v) = at {
        if values.len() == MAX_VALUES {
            return scan_index(conn, column, &filter);
        }
        at = next.query_row([&v], |r| r.get(0)).optional()?.flatten();
        values.push(v);
    }
    let json = serde_json::to_string(&values).unwrap_or_else(|_| "[]".into());
    let sql = format!(
        "SELECT e.{column} FROM (SELECT value AS {column} FROM json_each(?)) e WHERE ({})",
        filter.sql
    );
    let mut params = vec![rusqlite::types::Value::Text(json)];
    params.extend(super::search::bind(filter.params));
    let mut stmt = conn.prepare(&sql)?;
    let matching: Vec<String> = stmt
        .query_map(params_from_iter(params), |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok((matching.len() <= MAX_MATCHING).then_some(matching))
}

/// The values of `column` that `filter` matches, read by one pass over the column's own index (its entries hold
/// the value and the event id only: about a twentieth of the bytes of the events' rows), for a field with more than
/// [`MAX_VALUES`] different values; `None` when more than [`MAX_MATCHING`] match. `DISTINCT` along the index is
/// its NOCASE order, so each run of values equal but for ASCII case is one value, as `field:value` compares.
fn scan_index(
    conn: &Connection,
    column: &str,
    filter: &query::SqlFilter,
) -> rusqlite::Result<Option<Vec<String>>> {
    let sql = format!(
        "SELECT DISTINCT e.{column} FROM events e INDEXED BY events_{column} \
         WHERE e.{column} IS NOT NULL AND ({}) LIMIT {}",
        filter.sql,
        MAX_MATCHING + 1
    );
    let mut stmt = conn.prepare(&sql)?;
    let matching: Vec<String> = stmt
        .query_map(
            params_from_iter(super::search::bind(filter.params.clone())),
            |r| r.get(0),
        )?
        .collect::<Result<_, _>>()?;
    Ok((matching.len() <= MAX_MATCHING).then_some(matching))
}
