//! Time histogram of a query's matches: how many matching events fall in each time bucket, for the chart above
//! the app's result table. Aggregated in SQL from the event ids alone: ids are time-ordered (store/rowid.rs), so
//! the oldest and newest matches are the ends of the id order and an event's millisecond is in its id; a million
//! matches are counted from an index, without reading an event's row.
//!
//! Buckets have a "nice" width (1 s, 5 s, 1 min, 1 h, 1 day, ...) chosen so that the matches' time span fits in at
//! most the requested number of buckets; bucket `i` covers `[start + i·width, start + (i+1)·width)` in
//! microseconds UTC. Matches without a readable time are counted apart (`untimed`): they have no place on a time
//! axis.

use rusqlite::params_from_iter;
use rusqlite::types::Value as SqlValue;
use serde::Serialize;

use super::Store;
use super::rowid;
use super::search::SearchError;
use crate::query::{self, SqlParam};

/// Most buckets a histogram may have.
pub const MAX_BUCKETS: usize = 2000;

/// Bucket widths to choose from, in seconds.
const NICE_SECONDS: &[i64] = &[
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    2 * 60,
    5 * 60,
    10 * 60,
    15 * 60,
    30 * 60,
    3600,
    2 * 3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    2 * 86_400,
    7 * 86_400,
    14 * 86_400,
    30 * 86_400,
    91 * 86_400,
    365 * 86_400,
];

/// Counts of a query's matches per time bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Histogram {
    /// Start of the first bucket, microseconds since the epoch (UTC); null when no match has a time.
    pub start: Option<i64>,
    /// Width of every bucket, microseconds.
    pub bucket_micros: i64,
    /// Matches per bucket, oldest first.
    pub counts: Vec<u64>,
    /// Time of the oldest and of the newest match, microseconds UTC.
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// Matches with a time (the sum of `counts`).
    pub timed: u64,
    /// Matches without a readable time (in no bucket).
    pub untimed: u64,
}

/// The bucket width (microseconds) for a span of `span_micros` in at most `buckets` buckets: the smallest nice
/// width that fits, or whole multiples of a year beyond those.
pub fn bucket_width(span_micros: i64, buckets: usize) -> i64 {
    let buckets = buckets.clamp(1, MAX_BUCKETS) as i64;
    let span = span_micros.max(0);
    for s in NICE_SECONDS {
        let w = s * 1_000_000;
        if span / w < buckets {
            return w;
        }
    }
    let year = 365 * 86_400 * 1_000_000i64;
    let years = span / year / buckets + 1;
    year.saturating_mul(years)
}

fn bind(params: Vec<SqlParam>) -> impl Iterator<Item = SqlValue> {
    params.into_iter().map(|p| match p {
        SqlParam::Int(i) => SqlValue::Integer(i),
        SqlParam::Text(t) => SqlValue::Text(t),
    })
}

/// The matches of a query as `FROM ... WHERE ...` and the id column to order and bucket by: driven by the
/// full-text index when the query needs a text match, by the events' primary key otherwise (as search does).
fn matches(
    conn: &rusqlite::Connection,
    query_text: &str,
    now_micros: i64,
    indexed: bool,
) -> Result<(String, Vec<SqlValue>, &'static str), SearchError> {
    // Patterns over an indexed field become the exact values they match (store/resolve.rs).
    let q = super::resolve::resolve(conn, query::parse(query_text)?, now_micros)
        .map_err(super::StoreError::from)?;
    Ok(
        match query::compile_fts_driven(&q, now_micros).filter(|_| indexed) {
            Some((text, rest)) => (
                format!(
                    "{} WHERE events_text MATCH ? AND ({})",
                    super::search::TEXT_DRIVEN_FROM,
                    rest.sql
                ),
                std::iter::once(SqlValue::Text(text))
                    .chain(bind(rest.params))
                    .collect(),
                "events_text.rowid",
            ),
            None => {
                let filter = query::compile(&q, now_micros);
                (
                    format!("FROM events e WHERE ({})", filter.sql),
                    bind(filter.params).collect(),
                    "e.id",
                )
            }
        },
    )
}

impl Store {
    /// The time histogram of the events matching `query_text` (docs/search.md; `now_micros` is the time for
    /// `since:`), in at most `buckets` buckets (1 to [`MAX_BUCKETS`]).
    pub fn histogram(
        &self,
        query_text: &str,
        now_micros: i64,
        buckets: usize,
    ) -> Result<Histogram, SearchError> {
        let indexed = super::text_index::refresh(&self.conn).map_err(super::StoreError::from)?;
        let (from_where, params, id) = matches(&self.conn, query_text, now_micros, indexed)?;
        // Timed events have ids from here up; untimed ones below.
        let timed_from = rowid::bucket_start(i64::MIN);
        let with = |extra: i64| params.iter().cloned().chain([SqlValue::Integer(extra)]);
        let end = |order: &str| -> Result<Option<i64>, SearchError> {
            let sql =
                format!("SELECT e.ts {from_where} AND {id} >= ? ORDER BY {id} {order} LIMIT 1");
            let mut stmt = self.conn.prepare(&sql)?;
            let mut rows = stmt.query(params_from_iter(with(timed_from)))?;
            Ok(match rows.next()? {
                Some(r) => r.get(0)?,
                None => None,
            })
        };
        let untimed: i64 = self.conn.query_row(
            &format!("SELECT count(*) {from_where} AND {id} < ?"),
            params_from_iter(with(timed_from)),
            |r| r.get(0),
        )?;
        let (Some(first), Some(last)) = (end("ASC")?, end("DESC")?) else {
            return Ok(Histogram {
                start: None,
                bucket_micros: bucket_width(0, buckets),
                counts: Vec::new(),
                first: None,
                last: None,
                timed: 0,
                untimed: untimed as u64,
            });
        };
        let width = bucket_width(last.saturating_sub(first), buckets);
        let start = first.div_euclid(width) * width;
        let n = (last.div_euclid(width) - first.div_euclid(width) + 1) as usize;
        let mut counts = vec![0u64; n];
        // The millisecond of an event is in its id; bucket widths are whole seconds, so it decides the bucket.
        let ms_offset = rowid::bucket_start(0) >> rowid::COUNTER_BITS;
        let micros = format!("((({id} >> {}) - {ms_offset}) * 1000)", rowid::COUNTER_BITS);
        // `+id`: not a rowid range, so that SQLite counts from the narrowest covering index instead of walking
        // the table (five times faster on a million events).
        let sql = format!(
            "SELECT CASE WHEN {micros} < ?1 THEN -1 ELSE ({micros} - ?1) / ?2 END AS b, count(*)
             {from_where} AND +{id} >= ? GROUP BY b"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query(params_from_iter(
            [SqlValue::Integer(start), SqlValue::Integer(width)]
                .into_iter()
                .chain(with(timed_from)),
        ))?;
        let mut timed = 0u64;
        while let Some(r) = rows.next()? {
            let bucket: i64 = r.get(0)?;
            let count: i64 = r.get(1)?;
            if let Some(c) = usize::try_from(bucket).ok().and_then(|b| counts.get_mut(b)) {
                *c += count as u64;
                timed += count as u64;
            }
        }
        Ok(Histogram {
            start: Some(start),
            bucket_micros: width,
            counts,
            first: Some(first),
            last: Some(last),
            timed,
            untimed: untimed as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_width_is_the_smallest_nice_width_that_fits() {
        let s = 1_000_000;
        assert_eq!(bucket_width(0, 100), s);
        assert_eq!(bucket_width(99 * s, 100), s);
        assert_eq!(bucket_width(100 * s, 100), 2 * s);
        assert_eq!(bucket_width(3600 * s, 60), 60 * s + 60 * s);
        assert_eq!(bucket_width(86_400 * s, 24), 2 * 3600 * s);
        let century = 100 * 365 * 86_400 * s;
        assert!(century / bucket_width(century, 10) < 10);
    }
}
