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
        super::text_index::refresh(&self.conn).map_err(StoreError::from)?;
        let f = query::compile(&q, now_micros);
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
            ("e.id >= 0".to_owned(), "e.id < 0".to_owned())
        } else {
            (
                format!("{present} IS NOT NULL"),
                format!("{present} IS NULL"),
            )
        };
        let select = |extra: &str| {
            format!(
                "SELECT {} FROM events e JOIN archives a ON a.id = e.archive_id WHERE ({}) AND {extra}",
                super::search::COLUMNS,
                f.sql
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
        let base = super::search::bind(f.params);
        let want = limit + 1;
        let mut events: Vec<EventRow> = Vec::with_capacity(want);
        // The events with the column, in the chosen order (after the cursor when it is among them).
        let with = |cursor: Option<&Cursor>, want: usize| -> Result<Vec<EventRow>, SearchError> {
            let mut params = base.clone();
            let mut sql = select(&with_column);
            match cursor {
                Some(Cursor { value: Some(v), id }) if sort.column != SortColumn::Time => {
                    sql.push_str(&format!(" AND ({key}, e.id) {op} (?, ?)"));
                    params.extend([SqlValue::Text(v.clone()), SqlValue::Integer(*id)]);
                }
                Some(Cursor { id, .. }) => {
                    sql.push_str(&format!(" AND e.id {op} ?"));
                    params.push(SqlValue::Integer(*id));
                }
                None => {}
            }
            let order = if sort.column == SortColumn::Time {
                format!(" ORDER BY e.id {dir} LIMIT ?")
            } else {
                format!(" ORDER BY {key} {dir}, e.id {dir} LIMIT ?")
            };
            // With a filter, SQLite may read every match and sort them (a filter matching a tenth of a
            // million events: 110 ms a page). First walk the order's index a window at a time, testing the
            // filter on each event: the matches among the window's events, in order, are the first matches
            // of the whole order when there are enough of them or the window reached the index's end.
            if sort.column != SortColumn::Time && !query_text.trim().is_empty() {
                let (cursor_sql, cursor_params): (String, Vec<SqlValue>) = match cursor {
                    Some(Cursor { value: Some(v), id }) => (
                        format!(" AND ({key}, e.id) {op} (?, ?)"),
                        vec![SqlValue::Text(v.clone()), SqlValue::Integer(*id)],
                    ),
                    _ => (String::new(), Vec::new()),
                };
                let size = want as i64 * WINDOW_PER_ROW;
                let window = format!(
                    "SELECT e.id FROM events e WHERE {with_column}{cursor_sql} \
                     ORDER BY {key} {dir}, e.id {dir} LIMIT {size}"
                );
                let mut wparams = cursor_params.clone();
                wparams.extend(base.iter().cloned());
                let found = run(
                    format!(
                        "SELECT {} FROM ({window}) w CROSS JOIN events e ON e.id = w.id \
                         JOIN archives a ON a.id = e.archive_id WHERE ({}){order}",
                        super::search::COLUMNS,
                        f.sql
                    ),
                    wparams,
                    want,
                )?;
                let walked: i64 = if found.len() < want {
                    self.conn
                        .query_row(
                            &format!("SELECT count(*) FROM ({window})"),
                            params_from_iter(cursor_params),
                            |r| r.get(0),
                        )
                        .map_err(StoreError::from)?
                } else {
                    0
                };
                if found.len() == want || walked < size {
                    return Ok(found);
                }
            }
            sql.push_str(&order);
            run(sql, params, want)
        };
        // The events without the column, by id in the same direction (after the cursor when among them).
        let without =
            |cursor: Option<&Cursor>, want: usize| -> Result<Vec<EventRow>, SearchError> {
                let mut params = base.clone();
                let mut sql = select(&without_column);
                if let Some(Cursor { value: None, id }) = cursor {
                    sql.push_str(&format!(" AND e.id {op} ?"));
                    params.push(SqlValue::Integer(*id));
                }
                sql.push_str(&format!(" ORDER BY e.id {dir} LIMIT ?"));
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
        Ok(SearchPage { events, next })
    }
}
