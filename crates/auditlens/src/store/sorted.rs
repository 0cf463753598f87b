//! Search results in another order than newest first (issue 16: "click a column header to sort by it"): by time
//! (oldest first), actor, action, resource, outcome or source, ascending or descending, page after page by a
//! keyset cursor. Events missing the column come last in both directions; ties are broken by event id (time
//! order), so every event is on exactly one page. The newest-first order stays [`Store::search`]'s own.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::params_from_iter;
use rusqlite::types::Value as SqlValue;
use serde::{Deserialize, Serialize};

use super::search::{EventRow, MAX_LIMIT, SearchError, SearchPage};
use super::{Store, StoreError};
use crate::query;

/// A column the results can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SortColumn {
    Time,
    Actor,
    Action,
    Resource,
    Outcome,
    Source,
}

/// An order of the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Sort {
    pub column: SortColumn,
    pub ascending: bool,
}

impl Sort {
    /// Newest first: [`Store::search`]'s order.
    pub const NEWEST_FIRST: Sort = Sort {
        column: SortColumn::Time,
        ascending: false,
    };
}

impl SortColumn {
    /// The column whose absence puts an event last, and the ordering expression.
    fn sql(self) -> (&'static str, &'static str) {
        match self {
            SortColumn::Time => ("e.ts", "e.id"),
            SortColumn::Actor => ("e.actor", "e.actor"),
            SortColumn::Action => ("e.action", "e.action"),
            SortColumn::Resource => ("e.resource", "e.resource"),
            SortColumn::Outcome => ("e.outcome", "e.outcome"),
            SortColumn::Source => ("e.source", "e.source"),
        }
    }
}

/// Events of the order's index walked per row of a filtered page (500 rows: 20,000 events) before it falls back
/// to SQLite's own plan: a filter matching at least one event in 40 is answered by the walk.
const WINDOW_PER_ROW: i64 = 40;

/// The offset from which [`Store::search_at`] counts the matches first, to walk from the last one when the
/// offset lies past their middle (below it the walk is short anyway).
const FROM_END_AFTER: u64 = 20_000;

/// Where the next page starts: the last event's sort value (none when it lacks the column) and id.
#[derive(Serialize, Deserialize)]
struct Cursor {
    value: Option<String>,
    id: i64,
}

fn encode(c: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("s{}", serde_json::to_string(c).unwrap_or_default()))
}

fn decode(text: &str) -> Result<Cursor, SearchError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|_| SearchError::Cursor)?;
    let text = String::from_utf8(bytes).map_err(|_| SearchError::Cursor)?;
    let json = text.strip_prefix('s').ok_or(SearchError::Cursor)?;
    serde_json::from_str(json).map_err(|_| SearchError::Cursor)
}

fn sort_value(e: &EventRow, column: SortColumn) -> Option<String> {
    match column {
        SortColumn::Time => e.time.as_ref().map(|_| String::new()),
        SortColumn::Actor => e.actor.clone(),
        SortColumn::Action => e.action.clone(),
        SortColumn::Resource => e.resource.clone(),
        SortColumn::Outcome => e.outcome.clone(),
        SortColumn::Source => e.source.clone(),
    }
}

impl Store {
    /// One page of the matches of `query_text` in the order `sort` (newest first is [`Store::search`]).
    pub fn search_sorted(
        &self,
        query_text: &str,
        sort: Sort,
        limit: usize,
        after: Option<&str>,
        now_micros: i64,
    ) -> Result<SearchPage, SearchError> {
        if sort == Sort::NEWEST_FIRST {
            return self.search(query_text, limit, after, now_micros);
        }
        self.pages(query_text, sort, false, limit, after, now_micros)
    }

    /// The page of `limit` matches of `query_text` in the order `sort` that starts at the match at `offset` (0:
    /// the first): the rows a scrollbar dragged far into the results shows, without reading the matches before
    /// them (their ids are walked, not read). Its `next` continues as [`Store::search_sorted`]'s does, so the
    /// page and those after it are exactly the pages reached by paging from the first.
    pub fn search_at(
        &self,
        query_text: &str,
        sort: Sort,
        offset: u64,
        limit: usize,
        now_micros: i64,
    ) -> Result<SearchPage, SearchError> {
        self.search_at_with(query_text, sort, offset, limit, now_micros, FROM_END_AFTER)
    }

    /// [`Store::search_at`] with the offset from which the matches are counted to walk from the last one past
    /// their middle (tests walk both ways on a small store).
    #[doc(hidden)]
    pub fn search_at_with(
        &self,
        query_text: &str,
        sort: Sort,
        offset: u64,
        limit: usize,
        now_micros: i64,
        from_end_after: u64,
    ) -> Result<SearchPage, SearchError> {
        if offset == 0 {
            return self.search_sorted(query_text, sort, limit, None, now_micros);
        }
        let before = offset - 1;
        // Past the middle of the matches, their ids are walked from the last one backward: the walk is never
        // longer than half of them.
        let from_end = if before >= from_end_after {
            let total = self.count(query_text, now_micros)?;
            if before >= total {
                return Ok(SearchPage {
                    events: Vec::new(),
                    next: None,
                });
            }
            (before > total / 2).then(|| total - 1 - before)
        } else {
            None
        };
        let cursor = if sort == Sort::NEWEST_FIRST {
            self.newest_first_id_at(query_text, before, from_end, now_micros)?
                .map(super::search::encode_cursor)
        } else {
            // Sorted by a column, the walk to the cursor also reads the page's rows after it (SQLite has read and
            // sorted the matches around it already): when the page lies in the same of the two walks, it is read
            // by id, not found again along the column's index (`env:payments` by actor at 90% of 200k events:
            // 47 ms before).
            let limit = limit.clamp(1, MAX_LIMIT);
            let want = limit + 1;
            let follow = if sort.column == SortColumn::Time {
                0
            } else {
                want
            };
            let found = self.cursor_at(query_text, sort, before, from_end, now_micros, follow)?;
            if follow > 0
                && found.len() == 1 + want
                && let Some(page) = self.page_of_ids(&found[1..], sort, limit)?
            {
                return Ok(page);
            }
            found.first().map(encode)
        };
        match cursor {
            Some(c) => self.search_sorted(query_text, sort, limit, Some(&c), now_micros),
            None => Ok(SearchPage {
                events: Vec::new(),
                next: None,
            }),
        }
    }

    /// The rows `cursors` name (ids, in the order `sort`, the page's `limit` and one more), read as
    /// [`Store::search_sorted`] returns them: `None` when one of them is no longer stored.
    fn page_of_ids(
        &self,
        cursors: &[Cursor],
        sort: Sort,
        limit: usize,
    ) -> Result<Option<SearchPage>, SearchError> {
        let ids: Vec<i64> = cursors.iter().map(|c| c.id).collect();
        let sql = format!(
            "SELECT {} FROM events e JOIN archives a ON a.id = e.archive_id \
             WHERE e.id IN (SELECT value FROM json_each(?))",
            super::search::COLUMNS
        );
        let mut stmt = self.conn.prepare(&sql).map_err(StoreError::from)?;
        let mut by_id: std::collections::HashMap<i64, EventRow> = stmt
            .query_map(
                [serde_json::to_string(&ids).unwrap_or_default()],
                super::search::event_row,
            )?
            .map(|row| row.map(|e| (e.rowid, e)))
            .collect::<Result<_, _>>()
            .map_err(StoreError::from)?;
        let events: Vec<EventRow> = ids.iter().filter_map(|id| by_id.remove(id)).collect();
        Ok((events.len() == ids.len()).then(|| finish_page(events, sort, limit)))
    }

    /// The cursor of the match at `position` in the order `sort` (not newest first): the events with the
    /// column, then those without it, as [`Store::search_sorted`] pages them; then up to `follow` matches after
    /// it, in the order, as far as the walk it is in (those with the column or those without) reaches. Empty
    /// past the last match. `from_end`: the same match's position counted from the last (so the walk goes
    /// backward).
    fn cursor_at(
        &self,
        query_text: &str,
        sort: Sort,
        position: u64,
        from_end: Option<u64>,
        now_micros: i64,
        follow: usize,
    ) -> Result<Vec<Cursor>, SearchError> {
        let q = super::resolve::resolve(&self.conn, query::parse(query_text)?, now_micros)
            .map_err(StoreError::from)?;
        super::text_index::refresh(&self.conn).map_err(StoreError::from)?;
        let f = query::compile(&q, now_micros);
        let base = super::search::bind(f.params);
        let (_, key) = sort.column.sql();
        let time = sort.column == SortColumn::Time;
        let (with_column, without_column, value) = if time {
            ("e.id >= 0".to_owned(), "e.id < 0".to_owned(), "''")
        } else {
            (format!("{key} IS NOT NULL"), format!("{key} IS NULL"), key)
        };
        let at = |position: u64| SqlValue::Integer(i64::try_from(position).unwrap_or(i64::MAX));
        // One of the two walks: the match at `position` among those with the column (`with`) or without it, in
        // the order's direction or (`backward`) the reverse, and up to `follow` matches after it in the order
        // (walked backward, those before it in the walk), in the order.
        let nth = |with: bool, position: u64, backward: bool| -> Result<Vec<Cursor>, SearchError> {
            let dir = if sort.ascending != backward {
                "ASC"
            } else {
                "DESC"
            };
            // Every event by time: the text index's table of ids, when it holds them all.
            if time && f.sql == "1" {
                let range = if with { "id >= 0" } else { "id < 0" };
                if let Some(id) = self.every_event_id_at(range, dir, position)? {
                    return Ok(id
                        .map(|id| Cursor {
                            value: with.then(String::new),
                            id,
                        })
                        .into_iter()
                        .collect());
                }
            }
            let (skip, take) = if backward {
                let skip = position.saturating_sub(follow as u64);
                (skip, position - skip + 1)
            } else {
                (position, follow as u64 + 1)
            };
            let mut params = base.clone();
            params.push(at(take));
            params.push(at(skip));
            let (part, select, order) = if !with {
                (&without_column, "NULL", format!("e.id {dir}"))
            } else if time {
                (&with_column, value, format!("e.id {dir}"))
            } else {
                (&with_column, value, format!("{key} {dir}, e.id {dir}"))
            };
            let mut stmt = self
                .conn
                .prepare(&format!(
                    "SELECT {select}, e.id FROM events e WHERE ({}) AND {part} \
                         ORDER BY {order} LIMIT ? OFFSET ?",
                    f.sql
                ))
                .map_err(StoreError::from)?;
            let mut found: Vec<Cursor> = stmt
                .query_map(params_from_iter(params), |r| {
                    Ok(Cursor {
                        value: r.get(0)?,
                        id: r.get(1)?,
                    })
                })?
                .collect::<Result<_, _>>()
                .map_err(StoreError::from)?;
            if backward {
                // Read backward, the match at `position` is the last one read (when there is one at all).
                if found.len() as u64 != take {
                    found.clear();
                }
                found.reverse();
            }
            Ok(found)
        };
        let count = |part: &str| -> Result<u64, SearchError> {
            // Every timed event: all of them (counted along the narrowest index) less the untimed ones (an id
            // range), not a walk of the table's rows.
            let sql = if f.sql == "1" && part == "e.id >= 0" {
                "SELECT (SELECT count(*) FROM events) - (SELECT count(*) FROM events WHERE id < 0)"
                    .to_owned()
            } else {
                format!("SELECT count(*) FROM events e WHERE ({}) AND {part}", f.sql)
            };
            let n: i64 = self
                .conn
                .query_row(&sql, params_from_iter(base.iter().cloned()), |r| r.get(0))
                .map_err(StoreError::from)?;
            Ok(n.max(0) as u64)
        };
        // Forward: those with the column, then those without; backward, the reverse.
        let (first, then) = if from_end.is_some() {
            (false, true)
        } else {
            (true, false)
        };
        let position = from_end.unwrap_or(position);
        let backward = from_end.is_some();
        let found = nth(first, position, backward)?;
        if !found.is_empty() {
            return Ok(found);
        }
        let skipped = count(if first { &with_column } else { &without_column })?;
        nth(then, position.saturating_sub(skipped), backward)
    }

    /// The matches of `query_text` in the order `sort` read from the last one backward, a page at a time: the
    /// first page holds the last `limit` matches, last first; its `next` continues toward the first match. So
    /// End shows the true last rows at once, whatever their number, and the order read forward and this one
    /// read backward meet: every match is on exactly one page of each, in exactly reverse positions.
    pub fn search_from_end(
        &self,
        query_text: &str,
        sort: Sort,
        limit: usize,
        after: Option<&str>,
        now_micros: i64,
    ) -> Result<SearchPage, SearchError> {
        self.pages(query_text, sort, true, limit, after, now_micros)
    }

    /// A page of `sort`, or (`backward`) of its exact reverse: each of the two walks (the events with the
    /// column, those without it) in the other direction, and the walk of those without it first.
    fn pages(
        &self,
        query_text: &str,
        sort: Sort,
        backward: bool,
        limit: usize,
        after: Option<&str>,
        now_micros: i64,
    ) -> Result<SearchPage, SearchError> {
        let limit = limit.clamp(1, MAX_LIMIT);
        let cursor = after.map(decode).transpose()?;
        let q = super::resolve::resolve(&self.conn, query::parse(query_text)?, now_micros)
            .map_err(StoreError::from)?;
        let indexed = super::text_index::refresh(&self.conn).map_err(StoreError::from)?;
        let f = query::compile(&q, now_micros);
        // In time order with a text term the full-text index lists the candidates by id, in either direction:
        // read them from it (End of a rare word no longer tests every event), as `Store::search` does newest
        // first.
        let driven = (sort.column == SortColumn::Time && indexed)
            .then(|| query::compile_fts_driven(&q, now_micros))
            .flatten();
        let (from, filter_sql, base, id) = match driven {
            Some((matching, rest)) => {
                let mut params = vec![SqlValue::Text(matching)];
                params.extend(super::search::bind(rest.params));
                (
                    format!(
                        "{} JOIN archives a ON a.id = e.archive_id",
                        super::search::TEXT_DRIVEN_FROM
                    ),
                    format!("events_text MATCH ? AND ({})", rest.sql),
                    params,
                    "events_text.rowid",
                )
            }
            None => (
                "FROM events e JOIN archives a ON a.id = e.archive_id".to_owned(),
                f.sql.clone(),
                super::search::bind(f.params.clone()),
                "e.id",
            ),
        };
        let (present, key) = sort.column.sql();
        let (dir, op) = if sort.ascending != backward {
            ("ASC", ">")
        } else {
            ("DESC", "<")
        };
        // Two walks, each along an index: the events with the column in the chosen order (by the column's index,
        // whose entries end with the id: ties by id), then those without it by id. A time's "present" is a
        // timed id (ids of events with a time are >= 0, those without negative: store/rowid.rs).
        let (with_column, without_column) = if sort.column == SortColumn::Time {
            (format!("{id} >= 0"), format!("{id} < 0"))
        } else {
            (
                format!("{present} IS NOT NULL"),
                format!("{present} IS NULL"),
            )
        };
        // A page's rows: after the cursor (`after`, with its parameters), matching the filter, in one of the two
        // walks (`part`). The cursor's bound comes first: of two bounds on the id in one direction (a time
        // range's and the cursor's), SQLite bounds its walk by the first one only, and the cursor's is the
        // tighter (its event matched the filter). Without a cursor the filter's bounds come before the walk's.
        let select = |after: Option<&str>, after_params: Vec<SqlValue>, part: &str| {
            let mut params = after_params;
            params.extend(base.iter().cloned());
            let after = after.map(|a| format!("{a} AND ")).unwrap_or_default();
            (
                format!(
                    "SELECT {} {from} WHERE {after}({filter_sql}) AND {part}",
                    super::search::COLUMNS,
                ),
                params,
            )
        };
        let run = |sql: String,
                   mut params: Vec<SqlValue>,
                   want: usize|
         -> Result<Vec<EventRow>, SearchError> {
            params.push(SqlValue::Integer(want as i64));
            let mut stmt = self.conn.prepare(&sql).map_err(StoreError::from)?;
            let rows = stmt
                .query_map(params_from_iter(params), super::search::event_row)?
                .collect::<Result<_, _>>()
                .map_err(StoreError::from)?;
            Ok(rows)
        };
        let want = limit + 1;
        let mut events: Vec<EventRow> = Vec::with_capacity(want);
        // The first `want` matches among a window of the order's index (`window_where` in `window_order`,
        // `want` × WINDOW_PER_ROW events), testing the filter on each: they are the first matches of the whole
        // walk when there are `want` of them or the window reached the index's end. `None`: the window ran
        // out first, so SQLite's own plan has to answer.
        let windowed = |window_where: &str,
                        window_order: &str,
                        window_params: Vec<SqlValue>,
                        order: &str,
                        want: usize|
         -> Result<Option<Vec<EventRow>>, SearchError> {
            let size = want as i64 * WINDOW_PER_ROW;
            let window = format!(
                "SELECT e.id FROM events e WHERE {window_where} ORDER BY {window_order} LIMIT {size}"
            );
            let mut params = window_params.clone();
            params.extend(base.iter().cloned());
            let found = run(
                format!(
                    "SELECT {} FROM ({window}) w CROSS JOIN events e ON e.id = w.id \
                     JOIN archives a ON a.id = e.archive_id WHERE ({}){order}",
                    super::search::COLUMNS,
                    f.sql
                ),
                params,
                want,
            )?;
            if found.len() == want {
                return Ok(Some(found));
            }
            let walked: i64 = self
                .conn
                .query_row(
                    &format!("SELECT count(*) FROM ({window})"),
                    params_from_iter(window_params),
                    |r| r.get(0),
                )
                .map_err(StoreError::from)?;
            Ok((walked < size).then_some(found))
        };
        // The events with the column, in the chosen order (after the cursor when it is among them).
        let with = |cursor: Option<&Cursor>, want: usize| -> Result<Vec<EventRow>, SearchError> {
            let (mut sql, params) = match cursor {
                Some(Cursor { value: Some(v), id }) if sort.column != SortColumn::Time => select(
                    Some(&format!("({key}, e.id) {op} (?, ?)")),
                    vec![SqlValue::Text(v.clone()), SqlValue::Integer(*id)],
                    &with_column,
                ),
                // Oldest first after a cursor: the cursor's bound, never below the timed ids.
                Some(Cursor { id: after, .. }) if sort.column == SortColumn::Time && op == ">" => {
                    select(
                        Some(&format!("{id} > max(?, -1)")),
                        vec![SqlValue::Integer(*after)],
                        &with_column,
                    )
                }
                Some(Cursor { id: after, .. }) => select(
                    Some(&format!("{id} {op} ?")),
                    vec![SqlValue::Integer(*after)],
                    &with_column,
                ),
                None => select(None, Vec::new(), &with_column),
            };
            let order = if sort.column == SortColumn::Time {
                format!(" ORDER BY {id} {dir} LIMIT ?")
            } else {
                format!(" ORDER BY {key} {dir}, e.id {dir} LIMIT ?")
            };
            // With a filter, SQLite may read every match and sort them (a filter matching a tenth of a
            // million events: 110 ms a page): walk the order's index a window at a time instead.
            if sort.column != SortColumn::Time && !query_text.trim().is_empty() {
                let cursor_part = match cursor {
                    Some(Cursor { value: Some(v), id }) => Some((
                        format!(" AND ({key}, e.id) {op} (?, ?)"),
                        vec![SqlValue::Text(v.clone()), SqlValue::Integer(*id)],
                    )),
                    _ => None,
                };
                let window = format!("{with_column}{}", cursor_part.as_ref().map_or("", |c| &c.0));
                let params = cursor_part.map(|c| c.1).unwrap_or_default();
                if let Some(found) = windowed(
                    &window,
                    &format!("{key} {dir}, e.id {dir}"),
                    params,
                    &order,
                    want,
                )? {
                    return Ok(found);
                }
            }
            sql.push_str(&order);
            run(sql, params, want)
        };
        // The events without the column, by id in the same direction (after the cursor when among them).
        let without =
            |cursor: Option<&Cursor>, want: usize| -> Result<Vec<EventRow>, SearchError> {
                let mut after = None;
                let (mut sql, params) = match cursor {
                    Some(Cursor {
                        value: None,
                        id: cursor_id,
                    }) => {
                        after = Some(*cursor_id);
                        // Newest first after a cursor among the untimed: never above them.
                        let bound = if sort.column == SortColumn::Time && op == "<" {
                            format!("{id} < min(?, 0)")
                        } else {
                            format!("{id} {op} ?")
                        };
                        select(
                            Some(&bound),
                            vec![SqlValue::Integer(*cursor_id)],
                            &without_column,
                        )
                    }
                    _ => select(None, Vec::new(), &without_column),
                };
                let order = format!(" ORDER BY {id} {dir} LIMIT ?");
                // SQLite would test the filter's own matches for the missing column (every denied event for
                // `outcome:denied` by source: 60 ms), where the column's index holds the few without it, by id.
                if sort.column != SortColumn::Time && !query_text.trim().is_empty() {
                    let window = match after {
                        Some(_) => format!("{without_column} AND e.id {op} ?"),
                        None => without_column.clone(),
                    };
                    let params = after.map(SqlValue::Integer).into_iter().collect();
                    if let Some(found) =
                        windowed(&window, &format!("e.id {dir}"), params, &order, want)?
                    {
                        return Ok(found);
                    }
                }
                sql.push_str(&order);
                run(sql, params, want)
            };
        let among_without = matches!(cursor, Some(Cursor { value: None, .. }));
        if !backward {
            // Those with the column (unless the cursor is already past them), then those without.
            if !among_without {
                events = with(cursor.as_ref(), want)?;
            }
            if events.len() < want {
                let more = without(
                    cursor.as_ref().filter(|_| among_without),
                    want - events.len(),
                )?;
                events.extend(more);
            }
        } else {
            // Backward: those without the column first (while the cursor is among them), then those with it.
            if cursor.is_none() || among_without {
                events = without(cursor.as_ref(), want)?;
            }
            if events.len() < want {
                let more = with(
                    cursor.as_ref().filter(|_| !among_without),
                    want - events.len(),
                )?;
                events.extend(more);
            }
        }
        Ok(finish_page(events, sort, limit))
    }
}

/// A page of `limit` rows from `events`, the rows after the cursor in the order `sort` (at most `limit` and one
/// more): when there is one more, the page's `next` is its last row's cursor.
fn finish_page(mut events: Vec<EventRow>, sort: Sort, limit: usize) -> SearchPage {
    let next = if events.len() > limit {
        events.truncate(limit);
        events.last().map(|e| {
            encode(&Cursor {
                value: sort_value(e, sort.column),
                id: e.rowid,
            })
        })
    } else {
        None
    };
    SearchPage { events, next }
}
