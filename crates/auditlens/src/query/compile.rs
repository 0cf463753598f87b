//! The compiler: turns a [`Query`](super::Query) tree into SQL over the `events` table with bound parameters,
//! merging full-text terms per junction and keeping SQLite's expression depth logarithmic.

use super::lex::is_searchable;
use super::time::time_field_range;
use super::{Field, MICROS_PER_SECOND, PaperKind, Query, SqlFilter, SqlParam, compile};

/// The full-text condition on an event: asked of the index (store/text_index.rs) while it holds any archive
/// (`temp.text_done`, which the store fills only with archives of its current index), and decided from the bytes
/// of the events of every other archive. Both `?` are the same FTS5 query string. Both halves are id lists, so
/// SQLite looks matches up by id; with the index complete, the second half reads no event: its archives are read
/// first (`CROSS JOIN`), then only their events (left to choose, SQLite decided the text of every event before
/// asking whether its archive was indexed: 5.3 s over a million events to find none).
pub(crate) const FTS_IN: &str = "(e.id IN (SELECT rowid FROM txt.events_text WHERE events_text MATCH ? AND EXISTS (SELECT 1 FROM temp.text_done)) OR e.id IN (SELECT t.id FROM archives a CROSS JOIN events t ON t.archive_id = a.id WHERE a.id NOT IN temp.text_done AND text_match(t.raw, ?)))";
/// The negated full-text condition.
pub(crate) const FTS_NOT_IN: &str = "NOT (e.id IN (SELECT rowid FROM txt.events_text WHERE events_text MATCH ? AND EXISTS (SELECT 1 FROM temp.text_done)) OR e.id IN (SELECT t.id FROM archives a CROSS JOIN events t ON t.archive_id = a.id WHERE a.id NOT IN temp.text_done AND text_match(t.raw, ?)))";

/// [`FTS_IN`] decided from each event's bytes alone (`text_match`, as for the events of an archive the index
/// lacks): for a plan that reads few events, where asking the index would read every match of a common word.
/// The same two parameters; the second is only checked to be given.
const PER_ROW_IN: &str = "(text_match(e.raw, ?) AND ? IS NOT NULL)";

/// `filter` with every full-text condition (`FTS_IN`, and `FTS_NOT_IN`, which is `NOT` before it) decided
/// event by event from the events' bytes instead of asked of the index; `None` when it has none. The events
/// matched are the same: the index holds exactly what `text_match` finds in each event (store/text_index.rs).
pub fn per_row_text(filter: SqlFilter) -> Option<SqlFilter> {
    filter.sql.contains(FTS_IN).then(|| SqlFilter {
        sql: filter.sql.replace(FTS_IN, PER_ROW_IN),
        params: filter.params,
    })
}

/// A compiled condition: a constant, or SQL with its parameters.
pub(super) enum Cond {
    Const(bool),
    Sql(Part),
}

pub(super) struct Part {
    pub(super) sql: String,
    pub(super) params: Vec<SqlParam>,
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

/// The FTS5 query string for one text term: its words (text.rs) as one quoted phrase, so nothing in it is FTS5
/// syntax.
fn fts_string(text: &str, prefix: bool) -> String {
    crate::text::Term::new(text, prefix).fts5()
}

/// Ids as an SQL list.
fn id_list(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The FTS5 string of "any of these words" ([`Query::Words`]): each word quoted (a `"` doubled: the index's words
/// hold none, but the string stays one FTS5 query whatever they hold), joined by `OR`, in parentheses.
fn any_word(words: &[String]) -> String {
    let quoted: Vec<String> = words
        .iter()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    format!("({})", quoted.join(" OR "))
}

/// The FTS5 string of the index's candidates for a [`Query::Words`] that lists them all (`complete`, some words).
/// Only for the index itself, never for `text_match`: the events of an archive the index lacks are not in it.
fn complete_words(q: &Query) -> Option<String> {
    match q {
        Query::Words {
            words,
            complete: true,
            ..
        } if !words.is_empty() => Some(any_word(words)),
        _ => None,
    }
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
    let fts = strings.join(separator);
    Part::new(
        sql,
        vec![SqlParam::Text(fts.clone()), SqlParam::Text(fts)],
        false,
    )
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

/// A pattern's LIKE form: `*` is `%`; `%`, `_` and `\` stand for themselves.
fn like_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 2);
    for c in pattern.chars() {
        match c {
            '*' => out.push('%'),
            '\\' | '%' | '_' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The words the bytes of an event must hold, ASCII case-insensitively, when a JSON member's text matches the
/// pattern, prefix or value `value` (`*` any run), space-separated for `raw_has` (query/mod.rs); `None` when there
/// are none worth asking. A needle is a run of three or more ASCII letters and digits of `value` with a letter that
/// no number's text has (digits, `e`, `Inf`: SQLite's text of a number need not be in the bytes, `1.5e3` reads
/// `1500.0`). The member's text holds that run; it is a decoded string, an object's or array's JSON text (SQLite
/// copies its tokens as they are), or `true`/`false`; each of its letters and digits is the same character in the
/// bytes, or came from a `\uXXXX` escape. So the bytes hold the run, or hold `\u`: `raw_has` passes either.
pub fn raw_needles(value: &str) -> Option<String> {
    let numberish = |c: char| c.is_ascii_digit() || "eEiInNfF".contains(c);
    let needles: Vec<&str> = runs(value)
        .filter(|run| run.chars().any(|c| !numberish(c)))
        .collect();
    (!needles.is_empty()).then(|| needles.join(" "))
}

/// The runs of three or more ASCII letters and digits of `s`.
fn runs(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|run| run.len() >= 3)
}

/// The needles of a `json.PATH:VALUE` condition (`value`: `None` for `json.PATH:*`): [`raw_needles`] of the value,
/// and the runs of the member names, each of which is a key in the bytes (a string, as written or with `\u`
/// escapes) of every event that has the member.
fn member_needles(members: &[String], value: Option<&str>) -> Option<String> {
    // The value's words first: the rarer, as a rule (every event of a source has the same members).
    let mut needles: Vec<String> = value.and_then(raw_needles).into_iter().collect();
    needles.extend(members.iter().flat_map(|m| runs(m).map(String::from)));
    (!needles.is_empty()).then(|| needles.join(" "))
}

/// A pattern's GLOB form (case-sensitive): `*` stays; `?` and `[` stand for themselves.
fn glob_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 2);
    for c in pattern.chars() {
        match c {
            '?' => out.push_str("[?]"),
            '[' => out.push_str("[[]"),
            c => out.push(c),
        }
    }
    out
}

/// A condition on the event's origin, `test` over the column `origin` of table `archives`: the events of the
/// archives it holds for, tested on each event's row (`+`: not along the index by archive, where SQLite would
/// read and sort every event of a large archive for a page; store/resolve.rs turns the condition of archives that
/// hold few events into [`Query::ArchiveRows`], which is). Never NULL (every event has an archive, and every
/// stored archive an origin).
fn origin_part(test: &str, param: SqlParam) -> Part {
    Part::new(
        format!("+e.archive_id IN (SELECT id FROM archives WHERE {test})"),
        vec![param],
        false,
    )
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
/// the filter for the rest of the query (over alias `e`, and the index's `events_text.rowid` for the time terms'
/// id ranges). `Some` when the top level of the query requires a
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
                match searchable_text(item).or_else(|| complete_words(item)) {
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
    // The time terms' id ranges, also as bounds on the index's rowids (the events' ids): FTS5 then reads only the
    // matches of the range instead of every match newer than it (`after:... before:... platform` read 700,000
    // matches of a million events to find an hour's).
    let (mut low, mut high): (Option<i64>, Option<i64>) = (None, None);
    for item in &rest {
        if let Some((start, end)) = time_bounds(item, now_micros) {
            if let Some(start) = start {
                let b = crate::store::rowid::lower_bound(start);
                low = Some(low.map_or(b, |l| l.max(b)));
            }
            if let Some(end) = end {
                let b = crate::store::rowid::upper_bound(end);
                high = Some(high.map_or(b, |h| h.min(b)));
            }
        }
    }
    let rest = match rest.len() {
        0 => Query::All,
        1 => rest.into_iter().next().unwrap_or(Query::All),
        _ => Query::And(rest),
    };
    let mut filter = compile(&rest, now_micros);
    for (bound, op) in [(low, ">="), (high, "<")] {
        if let Some(b) = bound {
            filter.sql = format!("events_text.rowid {op} ? AND ({})", filter.sql);
            filter.params.insert(0, SqlParam::Int(b));
        }
    }
    // `AND`, not a space: FTS5 reads a space as AND between phrases only, and a bracketed group of words
    // ([`any_word`]) after a phrase is a syntax error.
    Some((texts.join(" AND "), filter))
}

/// The time range of a time term (`after:`, `before:`, `since:`, `time:`), each end when it has one; `None` for
/// any other term.
fn time_bounds(q: &Query, now_micros: i64) -> Option<(Option<i64>, Option<i64>)> {
    match q {
        Query::TimeRange { start, end } => Some((*start, *end)),
        Query::Since(micros) => Some((Some(now_micros.saturating_sub(*micros)), None)),
        Query::Field {
            field: Field::Time,
            value,
            prefix,
        } if !(value.is_empty() && *prefix) => time_field_range(value, *prefix)
            .ok()
            .map(|(start, end)| (Some(start), Some(end))),
        _ => None,
    }
}

/// The events of one index entry or full-text match, as a `SELECT` of their ids: what an intersection of id
/// lists counts from (`Store::count`).
#[derive(Debug, Clone, PartialEq)]
pub struct IdSet {
    pub sql: String,
    pub params: Vec<SqlParam>,
}

/// The id set of `field:value` when the field's column has an index of its own (events_<column>, in the
/// column's NOCASE collation, as `e.column = ?` compares; that of `stage` holds the events that have one, all
/// that `stage = ?` can match).
fn field_ids(q: &Query) -> Option<IdSet> {
    match q {
        Query::Field {
            field:
                field @ (Field::Actor
                | Field::Action
                | Field::Resource
                | Field::Category
                | Field::Outcome
                | Field::Ip
                | Field::Env
                | Field::Source
                | Field::Agent
                | Field::Stage),
            value,
            prefix: false,
        } => Some(IdSet {
            sql: format!("SELECT id FROM events WHERE {} = ?", field.column()),
            params: vec![SqlParam::Text(value.clone())],
        }),
        _ => None,
    }
}

/// The top-level AND of a query split by what an index lists: see [`id_sets`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IdSets {
    /// Conditions whose matching events' ids an index lists in order: `field:value` over a column with an index
    /// of its own; a text term when the full-text index holds every stored event.
    pub lists: Vec<IdSet>,
    /// Negated `field:value` conditions over such a column (`-actor:x`: every event but those the list holds,
    /// events without the field included), each with its condition.
    pub excluded: Vec<(IdSet, Query)>,
    /// Every other condition.
    pub rest: Vec<Query>,
}

/// Splits the top-level AND of `q` by what an index lists. The events matching `q` are exactly those in every
/// list, in no excluded list, that match the rest.
pub fn id_sets(q: &Query, text_indexed: bool) -> IdSets {
    let items: Vec<&Query> = match q {
        Query::And(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut sets = IdSets::default();
    // A list given twice (`actor:x actor:x`) is listed once: the lists are intersected, and SQLite takes at most
    // 500 terms in one compound SELECT.
    let list = |sets: &mut IdSets, ids: IdSet| {
        if !sets.lists.contains(&ids) {
            sets.lists.push(ids);
        }
    };
    for item in items {
        if let Some(ids) = field_ids(item) {
            list(&mut sets, ids);
        } else if let Some(fts) = searchable_text(item)
            .or_else(|| complete_words(item))
            .filter(|_| text_indexed)
        {
            list(
                &mut sets,
                IdSet {
                    sql: "SELECT rowid FROM txt.events_text WHERE events_text MATCH ?".into(),
                    params: vec![SqlParam::Text(fts)],
                },
            );
        } else if let Some(ids) = match item {
            Query::Not(inner) => field_ids(inner),
            _ => None,
        } {
            sets.excluded.push((ids, item.clone()));
        } else {
            sets.rest.push(item.clone());
        }
    }
    sets
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

pub(super) fn compile_node(q: &Query, now: i64) -> Cond {
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
        } else if value.eq_ignore_ascii_case("received") {
            // The verified archives sealed on receipt (docs/archive-format.md section 4.1): a part of `verified`.
            Part::new(
                "+e.archive_id IN (SELECT id FROM archives WHERE status = 'verified' AND received_at IS NOT NULL)",
                Vec::new(),
                false,
            )
        } else if value.eq_ignore_ascii_case("aws-cloudtrail") {
            // The verified AWS CloudTrail exports (docs/cloudtrail.md section 5): a part of `verified`.
            Part::new(
                "+e.archive_id IN (SELECT id FROM archives WHERE status = 'verified' AND evidence = 'aws-cloudtrail')",
                Vec::new(),
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
        // in case or by an invisible character is another log, never mixed in. An event's origin is its
        // archive's (the importer writes the archive's), so the condition is asked of the archive rows.
        Query::Field {
            field: Field::Origin,
            value,
            prefix: true,
        } if !value.is_empty() => Cond::Sql(origin_part(
            "origin GLOB ?",
            SqlParam::Text(escape_glob(value)),
        )),
        Query::Field {
            field: Field::Origin,
            value,
            prefix: false,
        } => Cond::Sql(origin_part(
            "origin = ? COLLATE BINARY",
            SqlParam::Text(value.clone()),
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
        Query::Pattern {
            field: Field::Time, ..
        } => Cond::Const(false),
        Query::Pattern {
            field: Field::Status,
            pattern,
        } => Cond::Sql(Part::new(
            "+e.archive_id IN (SELECT id FROM archives WHERE status LIKE ? ESCAPE '\\')",
            vec![SqlParam::Text(like_pattern(pattern))],
            false,
        )),
        Query::Pattern {
            field: Field::Origin,
            pattern,
        } => Cond::Sql(origin_part(
            "origin GLOB ?",
            SqlParam::Text(glob_pattern(pattern)),
        )),
        Query::Pattern { field, pattern } => Cond::Sql(Part::new(
            format!("e.{} LIKE ? ESCAPE '\\'", field.column()),
            vec![SqlParam::Text(like_pattern(pattern))],
            true,
        )),
        Query::Regex {
            field: Field::Time, ..
        } => Cond::Const(false),
        Query::Regex {
            field: Field::Status,
            pattern,
        } => Cond::Sql(Part::new(
            "+e.archive_id IN (SELECT id FROM archives WHERE regexp_match(?, status))",
            vec![SqlParam::Text(pattern.clone())],
            false,
        )),
        Query::Regex {
            field: Field::Origin,
            pattern,
        } => Cond::Sql(origin_part(
            "regexp_match(?, origin)",
            SqlParam::Text(pattern.clone()),
        )),
        Query::Regex { field, pattern } => Cond::Sql(Part::new(
            format!("regexp_match(?, e.{})", field.column()),
            vec![SqlParam::Text(pattern.clone())],
            true,
        )),
        Query::Json {
            path,
            value,
            prefix,
            pattern,
        } => {
            // The member as text, only from an event that parsed: found by `json_member` (the last member of a
            // repeated name, as the normalizers read it; query/mod.rs), its value's JSON text read by SQLite.
            // `true`/`false` are words; an object or array is its JSON text; `null` and a missing member are
            // absent.
            // The member's names, and the words of its value, are first asked of the event's bytes (see
            // `raw_needles`): a cheap search of the text before the JSON is parsed.
            let needles = member_needles(path, (!value.is_empty()).then_some(value.as_str()));
            let names = serde_json::to_string(path).unwrap_or_default();
            let text = "(CASE WHEN e.parse_error IS NULL THEN (SELECT CASE json_type(m) \
                WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN NULL \
                ELSE CAST(json_extract(m, '$') AS TEXT) END FROM (SELECT json_member(e.raw, ?) AS m)) END)";
            let mut params = vec![SqlParam::Text(names)];
            let part = if *pattern {
                params.push(SqlParam::Text(like_pattern(value)));
                Part::new(format!("{text} LIKE ? ESCAPE '\\'"), params, true)
            } else if *prefix && value.is_empty() {
                Part::new(format!("{text} IS NOT NULL"), params, false)
            } else if *prefix {
                params.push(SqlParam::Text(escape_like(value)));
                Part::new(format!("{text} LIKE ? ESCAPE '\\'"), params, true)
            } else {
                params.push(SqlParam::Text(value.clone()));
                Part::new(format!("{text} = ? COLLATE NOCASE"), params, true)
            };
            Cond::Sql(match needles {
                // False only where the member is absent or does not match: the same under NOT (`IS NOT 1`).
                Some(needles) => Part {
                    sql: format!("(raw_has(e.raw, ?) AND {})", part.sql),
                    params: [vec![SqlParam::Text(needles)], part.params].concat(),
                    nullable: part.nullable,
                },
                None => part,
            })
        }
        Query::Words { words, covered, .. } => {
            let outside = format!("e.archive_id NOT IN ({})", id_list(covered));
            Cond::Sql(if words.is_empty() {
                Part::new(outside, Vec::new(), false)
            } else {
                Part::new(
                    format!(
                        "(e.id IN (SELECT rowid FROM txt.events_text WHERE events_text MATCH ?) OR {outside})"
                    ),
                    vec![SqlParam::Text(any_word(words))],
                    false,
                )
            })
        }
        Query::ArchiveRows(ids) if ids.is_empty() => Cond::Const(false),
        Query::ArchiveRows(ids) => Cond::Sql(Part::new(
            format!("e.archive_id IN ({})", id_list(ids)),
            Vec::new(),
            false,
        )),
        Query::Archive { origin, sequence } => Cond::Sql(Part::new(
            "+e.archive_id IN (SELECT id FROM archives WHERE origin = ? COLLATE BINARY AND sequence = ?)",
            vec![
                SqlParam::Text(origin.clone()),
                SqlParam::Int(i64::try_from(*sequence).unwrap_or(i64::MAX)),
            ],
            false,
        )),
        Query::Papers {
            kind,
            value,
            prefix,
            pattern,
        } => {
            // The auditor's working papers, attached to the store's connection (papers/mod.rs); an annotation is
            // on the event of that archive, index and leaf.
            let (column, like) = match kind {
                PaperKind::Tag if *pattern => ("p.tag", Some(like_pattern(value))),
                PaperKind::Tag if *prefix => {
                    ("p.tag", (!value.is_empty()).then(|| escape_like(value)))
                }
                PaperKind::Tag => ("p.tag", None),
                PaperKind::Note => (
                    "p.note",
                    (!value.is_empty())
                        .then(|| format!("%{}", escape_like(&value.replace('*', "")))),
                ),
                PaperKind::Bookmark => ("", None),
            };
            let (cond, params) = match (kind, like) {
                (_, Some(like)) => (
                    format!(" WHERE {column} LIKE ? ESCAPE '\\'"),
                    vec![SqlParam::Text(like)],
                ),
                (PaperKind::Tag, None) if !*prefix && !*pattern => (
                    format!(" WHERE {column} = ?"),
                    vec![SqlParam::Text(value.clone())],
                ),
                _ => (String::new(), Vec::new()),
            };
            Cond::Sql(Part::new(
                format!(
                    "e.id IN (SELECT e2.id FROM papers.{} p JOIN archives a ON a.origin = p.origin AND a.sequence = p.sequence \
                     JOIN events e2 ON e2.archive_id = a.id AND e2.idx = p.idx AND e2.leaf = p.leaf{cond})",
                    kind.table()
                ),
                params,
                false,
            ))
        }
        Query::Person(name) => Cond::Sql(Part::new(
            "(e.actor IN (SELECT actor FROM papers.aliases WHERE person = ?) \
             OR (e.actor = ? AND e.actor NOT IN (SELECT actor FROM papers.aliases)))",
            vec![SqlParam::Text(name.clone()), SqlParam::Text(name.clone())],
            true,
        )),
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
    // The full-text condition first: a set of ids read once, it is the cheapest test of an event, and SQLite tests
    // an AND's terms in order (a JSON member after it is read only from the events whose words match).
    if !positive.is_empty() {
        parts.insert(0, fts_part(&positive, positive_separator, false));
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
    use crate::query::parse;
    use crate::query::test_support::*;

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
        assert_eq!(
            f.sql,
            "+e.archive_id IN (SELECT id FROM archives WHERE origin = ? COLLATE BINARY)"
        );
        assert_eq!(f.params, vec![SqlParam::Text("example.com/Prod".into())]);
        let f = compile(&ok(r##"origin:"a*b?c[d]%_"*"##), 0);
        assert_eq!(
            f.sql,
            "+e.archive_id IN (SELECT id FROM archives WHERE origin GLOB ?)"
        );
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

    /// The two parameters of one full-text condition (both the same FTS5 string).
    fn fts(s: &str) -> Vec<SqlParam> {
        vec![SqlParam::Text(s.into()), SqlParam::Text(s.into())]
    }

    #[test]
    fn text_terms_become_quoted_fts5_strings_merged_per_junction() {
        let f = compile(&ok("a b \"c d\"*"), 0);
        assert_eq!(f.sql, FTS_IN);
        assert_eq!(f.params, fts("\"a\" \"b\" \"c d\"*"));
        let f = compile(&ok("a OR b*"), 0);
        assert_eq!(f.sql, FTS_IN);
        assert_eq!(f.params, fts("\"a\" OR \"b\"*"));
        let f = compile(&ok("-a"), 0);
        assert_eq!(f.sql, FTS_NOT_IN);
        assert_eq!(f.params, fts("\"a\""));
        let f = compile(&ok("x -a -b"), 0);
        assert_eq!(f.sql, format!("({FTS_IN}) AND ({FTS_NOT_IN})"));
        assert_eq!(f.params, [fts("\"x\""), fts("\"a\" OR \"b\"")].concat());
        let f = compile(&ok("-a OR -b"), 0);
        assert_eq!(f.sql, FTS_NOT_IN);
        assert_eq!(f.params, fts("\"a\" \"b\""));
        let f = compile(&ok("actor:bob alice"), 0);
        assert_eq!(f.sql, format!("({FTS_IN}) AND (e.actor = ?)"));
        assert_eq!(
            f.params,
            [fts("\"alice\""), vec![SqlParam::Text("bob".into())]].concat()
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
        // So is a combining mark, a word character that folding removes: no word for the index.
        let mark = Query::Text {
            text: "\u{345}-\u{363}".into(),
            prefix: false,
            phrase: false,
        };
        let f = compile(&mark, 0);
        assert_eq!(f.sql, "instr(e.raw, ?) > 0");
        assert_eq!(f.params, vec![SqlParam::Text("\u{345}-\u{363}".into())]);
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
        // Text terms reach FTS5 as their words only (text.rs), quoted: no FTS5 syntax survives.
        let cases: &[(&str, &str, &str)] = &[
            (
                r#""x'); DROP TABLE events; --""#,
                FTS_IN,
                r#""x drop table events""#,
            ),
            (r#""a\" OR 1=1""#, FTS_IN, r#""a or 1 1""#),
            ("robert';", FTS_IN, "\"robert\""),
            ("^a +b NEAR", FTS_IN, "\"a\" \"b\" \"near\""),
            (
                "\"NEAR(a b) AND c:d ^e -f\"",
                FTS_IN,
                "\"near a b and c d e f\"",
            ),
            ("\"say \\\"hi\\\"\"", FTS_IN, "\"say hi\""),
            ("50%_off", FTS_IN, "\"50 off\""),
            ("actor:\"a' OR '1'='1\"", "e.actor = ?", "a' OR '1'='1"),
            ("actor:x';DROP*", "e.actor LIKE ? ESCAPE '\\'", "x';DROP%"),
            ("action:\"%\"", "e.action = ?", "%"),
            (
                "SELECT id FROM events WHERE 1=1 UNION",
                FTS_IN,
                "\"select\" \"id\" \"from\" \"events\" \"where\" \"1 1\" \"union\"",
            ),
        ];
        for (input, sql, param) in cases {
            let q = match parse(input) {
                Ok(q) => q,
                Err(e) => panic!("{input:?}: {e}"),
            };
            let f = compile(&q, 0);
            assert_eq!(&f.sql, sql, "sql for {input:?}");
            let want = if *sql == FTS_IN {
                fts(param)
            } else {
                vec![SqlParam::Text((*param).to_owned())]
            };
            assert_eq!(f.params, want, "params for {input:?}");
        }
    }

    #[test]
    fn a_nul_in_text_is_a_word_break() {
        let f = compile(&ok("\"a\u{0}b\""), 0);
        assert_eq!(f.params, fts("\"a b\""));
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
