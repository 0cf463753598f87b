//! Search over the store with the query language of docs/search.md: newest first, keyset pagination (an opaque
//! cursor, never OFFSET), counts, and single-event lookup with provenance.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::types::Value as SqlValue;
use rusqlite::{OptionalExtension, params_from_iter};
use serde::Serialize;

use super::{Store, StoreError, event_id, parse_event_id};
use crate::query::{self, Query, QueryError, SqlParam};

/// An index list this short is read event by event (each filtered by the whole query) rather than intersected
/// with the others (which reads every other list whole).
const SHORT_ID_LIST: i64 = 2_000;
/// An excluded index list up to this many times the shortest list's length is subtracted from the intersection
/// (an entry of a list costs about a tenth of reading an event).
const EXCEPT_LIST_FACTOR: i64 = 8;
/// Index lists are measured up to this length.
const LIST_LENGTH_CAP: i64 = 50_000;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("query: {0}")]
    Query(#[from] QueryError),
    #[error("invalid cursor (use the value printed as \"next\")")]
    Cursor,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for SearchError {
    fn from(e: rusqlite::Error) -> Self {
        SearchError::Store(StoreError::Sql(e))
    }
}

/// One event in a result list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventRow {
    /// Stable id: `origin@sequence#index`.
    pub id: String,
    /// RFC 3339 UTC, or null when the event has no readable time.
    pub time: Option<String>,
    pub source: Option<String>,
    pub origin: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub resource: Option<String>,
    pub outcome: Option<String>,
    pub category: Option<String>,
    pub ip: Option<String>,
    pub agent: Option<String>,
    pub env: Option<String>,
    pub stage: Option<String>,
    /// Kind of privileged access (`exec`, `secret`, `role`, `login`), for access events that are one.
    pub privilege: Option<String>,
    /// The archive as `origin@sequence`.
    pub archive: String,
    pub sequence: u64,
    pub index: u64,
    /// True only when the event's archive verified under a trusted key.
    pub verified: bool,
    /// True when the event's archive was sealed on receipt (docs/archive-format.md section 4.1): its signature
    /// proves no change since the auditor received it, not authenticity at the source; shown as "sealed on
    /// receipt", never just "verified".
    pub received: bool,
    /// `aws-cloudtrail` when the event comes from an AWS CloudTrail export verified with AWS's own signatures
    /// (docs/cloudtrail.md section 5); absent for an AuditLens archive.
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// Set when the event is "not parsed": its verified bytes are not a JSON object the parser reads (the
    /// parser's reason). It then has no normalized fields but source and origin; its raw text is the event.
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
    #[serde(skip)]
    pub(crate) rowid: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SearchPage {
    pub events: Vec<EventRow>,
    /// Cursor for the next page, when more results exist.
    pub next: Option<String>,
}

/// One event with its exact bytes and provenance.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventDetail {
    #[serde(flatten)]
    pub row: EventRow,
    /// The event exactly as stored (and as signed).
    pub raw: String,
    /// Leaf hash, lowercase hex.
    pub leaf: String,
    pub archive_id: i64,
    pub archive_path: String,
    pub archive_status: String,
    pub signer_key: Option<String>,
    pub signer_fingerprint: Option<String>,
    /// The archive's signed checkpoint (signed note text).
    pub checkpoint: Option<String>,
    /// Merkle root, base64 as in the checkpoint.
    pub root: Option<String>,
    /// Whose rules made this event's fields (docs/sources.md, "Whose rules").
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub normalization: Option<crate::sources::Normalization>,
    /// Set when the event's archive was sealed on receipt: the label shown instead of "verified"
    /// ([`crate::archive::receipt_label`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub received_label: Option<String>,
    /// Set for CloudTrail evidence: what was verified, by whom
    /// ([`crate::store::import::cloudtrail_label`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub evidence_label: Option<String>,
    /// For CloudTrail evidence: the log file that holds the event and the signed digest that lists it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub cloudtrail: Option<CloudTrailSource>,
    /// Set by a caller holding keys (the app) when the archive is stored as verified but those keys do not trust
    /// it now ([`Store::untrusted_now`](crate::store::Store::untrusted_now)): why; `row.verified` is then false.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub not_trusted_now: Option<String>,
    /// Set by [`Store::confirm_event`](crate::store::Store::confirm_event) when the archive is stored as
    /// verified but this event's stored row is not the event signed at its index: why; `row.verified` is then
    /// false.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub not_confirmed: Option<String>,
}

/// Where a CloudTrail event is in the export that proves it (docs/cloudtrail.md section 5).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CloudTrailSource {
    /// The log file (its path in the export) and the SHA-256 of its decompressed content, lowercase hex.
    pub log_file: String,
    pub log_sha256: String,
    /// The event's position in the log file's `Records` (from 0).
    pub record: u64,
    /// The digest that lists the log file, its SHA-256 (decompressed), the AWS key that signed it and its hour.
    pub digest_file: String,
    pub digest_sha256: String,
    pub fingerprint: String,
    pub digest_start: String,
    pub digest_end: String,
}

pub const MAX_LIMIT: usize = 10_000;

pub(super) const COLUMNS: &str =
    "e.id, e.ts, e.source, e.origin, e.actor, e.action, e.resource, e.outcome, e.category,
    e.ip, e.agent, e.env, e.stage, a.origin, a.sequence, e.idx, a.status, e.privilege, e.parse_error,
    a.received_at IS NOT NULL, a.evidence";

pub(super) fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
    let ts: Option<i64> = r.get(1)?;
    let archive_origin: Option<String> = r.get(13)?;
    let sequence: Option<u64> = r.get(14)?;
    let index: i64 = r.get(15)?;
    let origin = archive_origin.unwrap_or_default();
    let sequence = sequence.unwrap_or(0);
    Ok(EventRow {
        id: event_id(&origin, sequence, index as u64),
        time: ts.map(crate::time::format_utc),
        source: r.get(2)?,
        origin: r.get(3)?,
        actor: r.get(4)?,
        action: r.get(5)?,
        resource: r.get(6)?,
        outcome: r.get(7)?,
        category: r.get(8)?,
        ip: r.get(9)?,
        agent: r.get(10)?,
        env: r.get(11)?,
        stage: r.get(12)?,
        privilege: r.get(17)?,
        archive: format!("{origin}@{sequence}"),
        sequence,
        index: index as u64,
        verified: r.get::<_, String>(16)? == "verified",
        parse_error: r.get(18)?,
        received: r.get(19)?,
        evidence: r.get(20)?,
        rowid: r.get(0)?,
    })
}

pub(super) fn bind(params: Vec<SqlParam>) -> Vec<SqlValue> {
    params
        .into_iter()
        .map(|p| match p {
            SqlParam::Int(i) => SqlValue::Integer(i),
            SqlParam::Text(t) => SqlValue::Text(t),
        })
        .collect()
}

pub fn encode_cursor(rowid: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("e{rowid}"))
}

pub fn decode_cursor(cursor: &str) -> Result<i64, SearchError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| SearchError::Cursor)?;
    let text = String::from_utf8(bytes).map_err(|_| SearchError::Cursor)?;
    text.strip_prefix('e')
        .and_then(|n| n.parse().ok())
        .ok_or(SearchError::Cursor)
}

/// The FROM/WHERE part of a query and its parameters: driven by the full-text index when the query requires a
/// text match (see `query::compile_fts_driven`), by the events' primary key otherwise. Either way rows come
/// out in descending id order, which is newest first (store/rowid.rs).
struct Plan {
    from_where: String,
    /// For a plan over the events table: the same rows with SQLite told to walk the events newest first
    /// (`NOT INDEXED`: no index, the primary key still bounds the walk).
    from_where_newest_first: Option<String>,
    /// For a query that is text terms only: its matches counted from the full-text index alone (every indexed
    /// rowid is a stored event: both are written in the same transaction, and `check` compares them).
    count_text_only: bool,
    params: Vec<SqlValue>,
    id_column: &'static str,
    /// The query matches every stored event (no condition at all).
    every_event: bool,
    /// For a plan driven by the text index whose query also requires `field:value`: how to walk a bounded number
    /// of text matches, then intersect instead (see [`TextWalk`]).
    text_walk: Option<TextWalk>,
}

/// A page of a text query that also requires `field:value`, found in two steps. Driven by the text index, the page
/// walks the matches of the text newest first and tests each: fast when the field's events are among them, but a
/// field whose events seldom hold the words makes it walk every match (`actor:...jorge platform`: the 700,000
/// matches of `platform` in a million events, 1 s, to find none). So at most [`TEXT_WALK_BUDGET`] matches are
/// walked; when they give no page, the ids the field's index lists are intersected with the text's matches
/// (reading both lists, not an event per match), and the page is taken from those.
#[derive(Clone)]
struct TextWalk {
    /// The FTS5 query string.
    matching: String,
    /// The rest of the query, over `e` and `events_text.rowid` (the text's match).
    rest: String,
    rest_params: Vec<SqlValue>,
    /// The intersection: FROM/WHERE over `e` (a `WHERE (`, as the events' plans), and its parameters.
    intersect: String,
    intersect_params: Vec<SqlValue>,
}

/// The matches of the text a page walks before it intersects instead ([`TextWalk`]): about 25 ms of walking here.
const TEXT_WALK_BUDGET: i64 = 20_000;

/// How [`Store::search_with`] finds a page of a query without text terms, and of a text query beside a field.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanChoice {
    /// The newest-first walk when SQLite would sort many matches from an index, else SQLite's own plan; a text
    /// query beside a field walks at most [`TEXT_WALK_BUDGET`] text matches, then intersects.
    Auto,
    /// As `Auto`, with another budget of text matches (tests reach the intersection with it).
    AutoWithTextBudget(i64),
    /// SQLite's own plan (through an index when one applies), to the end.
    Indexed,
    /// The newest-first walk, to the end.
    NewestFirst,
}

/// How many matches make walking the events newest first cheaper than reading and sorting every match from an
/// index: a walk tests about `limit × total / matches` rows at roughly ten times the cost of reading one index
/// entry, so it wins once `matches² > 10 × limit × total`.
fn walk_threshold(limit: usize, total: u64) -> i64 {
    let limit = limit as f64 + 1.0;
    ((10.0 * limit * total as f64).sqrt() as i64).max(1_000)
}

/// The FROM/WHERE part of a query, its parameters and the column of the event's id (ids grow with time: ordered by
/// it, rows come out oldest first), for a caller that reads every match (the OCSF Parquet export).
pub(crate) fn selection(
    conn: &rusqlite::Connection,
    query_text: &str,
    now_micros: i64,
) -> Result<(String, Vec<SqlValue>, &'static str), SearchError> {
    let indexed = super::text_index::refresh(conn).map_err(StoreError::from)?;
    let p = plan(conn, query_text, now_micros, indexed)?;
    Ok((p.from_where, p.params, p.id_column))
}

/// The events of a text match, the full-text index read first (`CROSS JOIN` keeps it the outer loop): its
/// matches come in id order and a page stops after its rows. Left to choose, SQLite may walk the events of a time
/// range or a field instead and ask the index about each one, and FTS5 answers each such question by reading the
/// whole match again (every word of a prefix): a first page of `after:... outcome:denied adm*` took 8 s over
/// 10,000 events and 254 s over 45,000.
#[doc(hidden)]
pub const TEXT_DRIVEN_FROM: &str =
    "FROM txt.events_text CROSS JOIN events e ON e.id = events_text.rowid";

/// `indexed`: every stored event's text is in the index ([`super::text_index::refresh`]); only then can the index
/// alone drive the search.
fn plan(
    conn: &rusqlite::Connection,
    query_text: &str,
    now_micros: i64,
    indexed: bool,
) -> Result<Plan, SearchError> {
    // Patterns over an indexed field become the exact values they match (store/resolve.rs).
    let q = super::resolve::resolve(conn, query::parse(query_text)?, now_micros)
        .map_err(StoreError::from)?;
    let join = "";
    if let Some(p) = short_list_plan(conn, &q, now_micros)? {
        return Ok(p);
    }
    let driven = query::compile_fts_driven(&q, now_micros).filter(|_| indexed);
    Ok(match driven {
        Some((matching, rest)) => {
            let text_only = rest.sql == "1" && rest.params.is_empty();
            let text_walk = text_walk(&q, &matching, &rest);
            let mut params = vec![SqlValue::Text(matching)];
            params.extend(bind(rest.params));
            Plan {
                text_walk,
                from_where: format!(
                    "{TEXT_DRIVEN_FROM}{join}
                     WHERE events_text MATCH ? AND ({})",
                    rest.sql
                ),
                count_text_only: text_only,
                params,
                from_where_newest_first: None,
                id_column: "events_text.rowid",
                every_event: false,
            }
        }
        None => {
            let filter = query::compile(&q, now_micros);
            Plan {
                from_where: format!("FROM events e{join} WHERE ({})", filter.sql),
                from_where_newest_first: Some(format!(
                    "FROM events e NOT INDEXED{join} WHERE ({})",
                    filter.sql
                )),
                count_text_only: false,
                every_event: filter.sql == "1" && filter.params.is_empty(),
                params: bind(filter.params),
                id_column: "e.id",
                text_walk: None,
            }
        }
    })
}

/// How many ids an index list holds, counted from the index alone up to `cap`.
fn list_length(
    conn: &rusqlite::Connection,
    set: &query::IdSet,
    cap: i64,
) -> Result<i64, rusqlite::Error> {
    conn.query_row(
        &format!("SELECT count(*) FROM ({} LIMIT {cap})", set.sql),
        params_from_iter(bind(set.params.clone())),
        |r| r.get(0),
    )
}

/// A plan for a query with text terms that also requires a `field:value` of at most [`SHORT_ID_LIST`] events:
/// those events, each tested against the whole query with its text decided from the event's bytes
/// ([`query::per_row_text`]). Asking the index instead reads every match of the words: driven by the index,
/// `actor:nobody@nowhere platform` read the 700,000 matches of `platform` in a million events to find none (0.9
/// s), and `-platform` beside a field made SQLite list them all.
fn short_list_plan(
    conn: &rusqlite::Connection,
    q: &query::Query,
    now_micros: i64,
) -> Result<Option<Plan>, SearchError> {
    let Some(filter) = query::per_row_text(query::compile(q, now_micros)) else {
        return Ok(None);
    };
    let mut shortest: Option<(i64, query::IdSet)> = None;
    for set in query::id_sets(q, false).lists {
        let n = list_length(conn, &set, SHORT_ID_LIST + 1).map_err(StoreError::from)?;
        if shortest.as_ref().is_none_or(|(m, _)| n < *m) {
            shortest = Some((n, set));
        }
    }
    let Some((_, set)) = shortest.filter(|(n, _)| *n <= SHORT_ID_LIST) else {
        return Ok(None);
    };
    let mut params = bind(set.params);
    params.extend(bind(filter.params));
    Ok(Some(Plan {
        from_where: format!(
            "FROM events e WHERE (e.id IN ({}) AND ({}))",
            set.sql, filter.sql
        ),
        from_where_newest_first: None,
        count_text_only: false,
        params,
        id_column: "e.id",
        every_event: false,
        text_walk: None,
    }))
}

/// Id lists intersected in one statement at most (SQLite takes 500 terms in a compound SELECT; a query may hold
/// 1,000): a count of more distinct lists counts the matching events instead, and a page's intersection takes the
/// first of them (the rest of the query is a condition on its rows anyway).
const MAX_INTERSECTED: usize = 64;

/// The [`TextWalk`] of a query driven by the text index (`matching`, and the `rest` of the query), when its top
/// level requires `field:value` of an indexed field: the intersection of every such field's ids with the text's.
fn text_walk(q: &query::Query, matching: &str, rest: &query::SqlFilter) -> Option<TextWalk> {
    let lists = query::id_sets(q, false).lists;
    if lists.is_empty() {
        return None;
    }
    let mut ids = String::new();
    let mut intersect_params = Vec::new();
    // `rest` holds every field condition: the lists only narrow the rows it is asked about, so a few of them do.
    for set in lists.into_iter().take(MAX_INTERSECTED) {
        ids.push_str(&set.sql);
        ids.push_str(" INTERSECT ");
        intersect_params.extend(bind(set.params));
    }
    ids.push_str("SELECT rowid FROM txt.events_text WHERE events_text MATCH ?");
    intersect_params.push(SqlValue::Text(matching.to_string()));
    // Over the events alone, the text's match is the event.
    let rest_over_e = rest.sql.replace("events_text.rowid", "e.id");
    intersect_params.extend(bind(rest.params.clone()));
    Some(TextWalk {
        matching: matching.to_string(),
        rest: rest.sql.clone(),
        rest_params: bind(rest.params.clone()),
        intersect: format!("FROM events e WHERE (e.id IN ({ids}) AND ({rest_over_e}))"),
        intersect_params,
    })
}

impl Store {
    /// Events stored, as the archives' signed checkpoints count them (an estimate for planning).
    fn stored_events(&self) -> Result<u64, rusqlite::Error> {
        self.conn
            .query_row(
                "SELECT coalesce(sum(events), 0) FROM archives WHERE status != 'failed'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
    }

    /// The id at `position` of every stored event in the id range `range` (SQL over `id`) walked in the direction
    /// `dir`, read from the text index's table of ids ([`super::text_index::ids_table`]). `None` when that table
    /// cannot answer (the index lags), or answers an id that is no stored event; else the id, if there is one.
    pub(super) fn every_event_id_at(
        &self,
        range: &str,
        dir: &str,
        position: u64,
    ) -> Result<Option<Option<i64>>, SearchError> {
        let Some(table) = super::text_index::ids_table(&self.conn).map_err(StoreError::from)?
        else {
            return Ok(None);
        };
        let id: Option<i64> = self
            .conn
            .query_row(
                &format!("SELECT id FROM {table} WHERE {range} ORDER BY id {dir} LIMIT 1 OFFSET ?"),
                [i64::try_from(position).unwrap_or(i64::MAX)],
                |r| r.get(0),
            )
            .optional()
            .map_err(StoreError::from)?;
        if let Some(id) = id {
            let stored: bool = self
                .conn
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM events WHERE id = ?)",
                    [id],
                    |r| r.get(0),
                )
                .map_err(StoreError::from)?;
            if !stored {
                return Ok(None);
            }
        }
        Ok(Some(id))
    }

    /// The id of the match at `position` (0: the newest) of `query_text` newest first; `None` past the last.
    /// It walks the matches' ids only, in the order of [`Store::search`]'s pages; `from_end`: the same match's
    /// position counted from the oldest, walked oldest first.
    pub(super) fn newest_first_id_at(
        &self,
        query_text: &str,
        position: u64,
        from_end: Option<u64>,
        now_micros: i64,
    ) -> Result<Option<i64>, SearchError> {
        let indexed = super::text_index::refresh(&self.conn).map_err(StoreError::from)?;
        let mut p = plan(&self.conn, query_text, now_micros, indexed)?;
        let dir = if from_end.is_some() { "ASC" } else { "DESC" };
        if p.every_event {
            let at = from_end.unwrap_or(position);
            if let Some(id) = self.every_event_id_at("1", dir, at)? {
                return Ok(id);
            }
        }
        let sql = format!(
            "SELECT {} {} ORDER BY {} {dir} LIMIT 1 OFFSET ?",
            p.id_column, p.from_where, p.id_column
        );
        let position = from_end.unwrap_or(position);
        p.params.push(SqlValue::Integer(
            i64::try_from(position).unwrap_or(i64::MAX),
        ));
        Ok(self
            .conn
            .query_row(&sql, params_from_iter(p.params), |r| r.get(0))
            .optional()
            .map_err(StoreError::from)?)
    }

    /// One page of matches, newest first (events without a time come last). `after` is the previous page's
    /// `next` cursor.
    pub fn search(
        &self,
        query_text: &str,
        limit: usize,
        after: Option<&str>,
        now_micros: i64,
    ) -> Result<SearchPage, SearchError> {
        self.search_with(query_text, limit, after, now_micros, PlanChoice::Auto)
    }

    /// [`Store::search`] with the way a field filter's page is found chosen (tests compare the plans).
    #[doc(hidden)]
    pub fn search_with(
        &self,
        query_text: &str,
        limit: usize,
        after: Option<&str>,
        now_micros: i64,
        choice: PlanChoice,
    ) -> Result<SearchPage, SearchError> {
        let limit = limit.clamp(1, MAX_LIMIT);
        let cursor = after.map(decode_cursor).transpose()?;
        let indexed = super::text_index::refresh(&self.conn).map_err(StoreError::from)?;
        let mut p = plan(&self.conn, query_text, now_micros, indexed)?;
        let budget = match choice {
            PlanChoice::Auto => Some(TEXT_WALK_BUDGET),
            PlanChoice::AutoWithTextBudget(b) => Some(b.max(1)),
            _ => None,
        };
        let mut walked: Option<Vec<i64>> = None;
        if let (Some(w), Some(budget)) = (p.text_walk.take(), budget) {
            // A short walk first: the matches it reads are all read before the walk starts.
            let short = (budget / 20).max(limit as i64 * 4).min(budget);
            let page = match self.text_walk_page(&w, cursor, limit, short)? {
                None if short < budget => self.text_walk_page(&w, cursor, limit, budget)?,
                decided => decided,
            };
            match page {
                Some(page) => walked = Some(page),
                None => {
                    p.from_where = w.intersect;
                    p.params = w.intersect_params;
                    p.id_column = "e.id";
                }
            }
        }
        // Find the page's ids first (index-only where the filter allows), then read those rows: a broad filter
        // (a prefix matching a fifth of the store) then costs an index walk, not a table lookup per match.
        let ids_of = |from_where: &str| {
            let mut params = p.params.clone();
            let mut ids = format!("SELECT {} {from_where}", p.id_column);
            if let Some(c) = cursor {
                match from_where.split_once("WHERE (") {
                    // Over the events table, the cursor's bound goes first: of two upper bounds on the id (a
                    // time range's and the cursor's), SQLite bounds its walk by the first one only, and would
                    // walk from the range's end down to the cursor on every page.
                    Some((from, filter)) if p.id_column == "e.id" => {
                        ids = format!("SELECT e.id {from}WHERE e.id < ? AND ({filter}");
                        params.insert(0, SqlValue::Integer(c));
                    }
                    _ => {
                        ids.push_str(&format!(" AND {} < ?", p.id_column));
                        params.push(SqlValue::Integer(c));
                    }
                }
            }
            (ids, params)
        };
        // SQLite plans a field filter through its index, which for a broad one (a prefix matching a fifth of
        // the store) means reading and sorting every match to find the newest few; walking the events newest
        // first and testing each finds them after a few hundred rows instead, but is the slow way for a rare
        // value. When SQLite's plan would sort, the first matches it finds are counted, up to the number at which
        // walking becomes cheaper.
        let from_where = match (&p.from_where_newest_first, choice) {
            _ if walked.is_some() => &p.from_where,
            (Some(walk), PlanChoice::NewestFirst) => walk,
            (Some(walk), PlanChoice::Auto | PlanChoice::AutoWithTextBudget(_)) => {
                let (sql, params) = ids_of(&p.from_where);
                let plan_sql = format!("EXPLAIN QUERY PLAN {sql} ORDER BY {} DESC", p.id_column);
                let sorts = {
                    let mut stmt = self.conn.prepare(&plan_sql)?;
                    let details = stmt
                        .query_map(params_from_iter(params.iter()), |r| r.get::<_, String>(3))?
                        .collect::<Result<Vec<_>, _>>()?;
                    details
                        .iter()
                        .any(|d| d.contains("TEMP B-TREE FOR ORDER BY"))
                };
                let enough = walk_threshold(limit, self.stored_events()?);
                let broad = sorts && {
                    let probe = format!("SELECT count(*) FROM ({sql} LIMIT {enough})");
                    let n: i64 =
                        self.conn
                            .query_row(&probe, params_from_iter(params.iter()), |r| r.get(0))?;
                    n >= enough
                };
                if broad { walk } else { &p.from_where }
            }
            _ => &p.from_where,
        };
        let (ids, params) = match walked {
            // Ids, not text: written into the statement.
            Some(page) => (
                page.iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                Vec::new(),
            ),
            None => {
                let (mut ids, mut params) = ids_of(from_where);
                ids.push_str(&format!(" ORDER BY {} DESC LIMIT ?", p.id_column));
                params.push(SqlValue::Integer(limit as i64 + 1));
                (ids, params)
            }
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM events e JOIN archives a ON a.id = e.archive_id
             WHERE e.id IN ({ids}) ORDER BY e.id DESC"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(StoreError::from)?;
        let mut events: Vec<EventRow> = stmt
            .query_map(params_from_iter(params), event_row)?
            .collect::<Result<_, _>>()
            .map_err(StoreError::from)?;
        let next = if events.len() > limit {
            events.truncate(limit);
            events.last().map(|e| encode_cursor(e.rowid))
        } else {
            None
        };
        Ok(SearchPage { events, next })
    }

    /// The page's ids (`limit` + 1 at most, newest first) when walking at most `budget` of the text's matches
    /// below `cursor` decides it ([`TextWalk`]): they give a whole page and one more, or they are all the matches
    /// there are. `None`: the page is to be found by intersecting.
    fn text_walk_page(
        &self,
        w: &TextWalk,
        cursor: Option<i64>,
        limit: usize,
        budget: i64,
    ) -> Result<Option<Vec<i64>>, SearchError> {
        let mut params = vec![SqlValue::Text(w.matching.clone())];
        let below = match cursor {
            Some(c) => {
                params.push(SqlValue::Integer(c));
                " AND rowid < ?"
            }
            None => "",
        };
        params.push(SqlValue::Integer(budget));
        let walked = format!(
            "SELECT rowid FROM txt.events_text WHERE events_text MATCH ?{below} ORDER BY rowid DESC LIMIT ?"
        );
        let mut page_params = params.clone();
        page_params.extend(w.rest_params.iter().cloned());
        page_params.push(SqlValue::Integer(limit as i64 + 1));
        let page: Vec<i64> = self
            .conn
            .prepare(&format!(
                "SELECT events_text.rowid FROM ({walked}) AS events_text
                 CROSS JOIN events e ON e.id = events_text.rowid WHERE ({})
                 ORDER BY events_text.rowid DESC LIMIT ?",
                w.rest
            ))?
            .query_map(params_from_iter(page_params), |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        if page.len() > limit {
            return Ok(Some(page));
        }
        let matches: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM ({walked})"),
            params_from_iter(params),
            |r| r.get(0),
        )?;
        Ok((matches < budget).then_some(page))
    }

    /// The `limit` newest events a query matches (no cursor, no look-ahead row: the scan stops at the
    /// `limit`-th match).
    pub fn newest(
        &self,
        query_text: &str,
        limit: usize,
        now_micros: i64,
    ) -> Result<Vec<EventRow>, SearchError> {
        let limit = limit.clamp(1, MAX_LIMIT);
        let indexed = super::text_index::refresh(&self.conn).map_err(StoreError::from)?;
        let mut p = plan(&self.conn, query_text, now_micros, indexed)?;
        let ids = format!(
            "SELECT {} {} ORDER BY {} DESC LIMIT ?",
            p.id_column, p.from_where, p.id_column
        );
        p.params.push(SqlValue::Integer(limit as i64));
        let sql = format!(
            "SELECT {COLUMNS} FROM events e JOIN archives a ON a.id = e.archive_id
             WHERE e.id IN ({ids}) ORDER BY e.id DESC"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(StoreError::from)?;
        let events = stmt
            .query_map(params_from_iter(p.params), event_row)?
            .collect::<Result<_, _>>()
            .map_err(StoreError::from)?;
        Ok(events)
    }

    /// Number of events the query matches: from the summary tables where they hold it, from the intersection of
    /// index lists where the query has two or more indexed conditions, else from the matching events.
    pub fn count(&self, query_text: &str, now_micros: i64) -> Result<u64, SearchError> {
        // A dashboard's drill-down (and any query of the same shape) is counted as its figure was: from the
        // summary tables.
        if let Some(n) = super::stats::drill::count(self, &query::parse(query_text)?, now_micros)
            .map_err(StoreError::from)?
        {
            return Ok(n);
        }
        let q = super::resolve::resolve(&self.conn, query::parse(query_text)?, now_micros)
            .map_err(StoreError::from)?;
        let indexed = super::text_index::refresh(&self.conn).map_err(StoreError::from)?;
        let sets = query::id_sets(&q, indexed);
        if !(2..=MAX_INTERSECTED).contains(&sets.lists.len()) {
            return self.count_events(query_text, now_micros);
        }
        // Two or more conditions an index lists the ids of: the length of each list (read from its index alone),
        // then either the shortest list's events filtered by the whole query (when it is short) or the
        // intersection of the lists, shortest first, less the excluded lists, and the rest of the query over
        // its ids only.
        // Lengths are counted up to a cap: past it, only the order of the long lists is lost, which matters little
        // (the shortest list decides the plan), and reading a list of a million ids whole would cost more than the
        // rest of the count.
        let length = |set: &query::IdSet, cap: i64| list_length(&self.conn, set, cap);
        let mut lists = Vec::with_capacity(sets.lists.len());
        for set in sets.lists {
            let n = length(&set, LIST_LENGTH_CAP)?;
            if n == 0 {
                return Ok(0);
            }
            lists.push((n, set));
        }
        lists.sort_by_key(|(n, _)| *n);
        let shortest = lists[0].0;
        let (sql, params) = if shortest <= SHORT_ID_LIST {
            // The text decided from each of those few events' bytes, not from every match in the index.
            let all = query::compile(&q, now_micros);
            let all = query::per_row_text(all.clone()).unwrap_or(all);
            let first = &lists[0].1;
            let mut params = bind(first.params.clone());
            params.extend(bind(all.params));
            (
                format!(
                    "SELECT count(*) FROM events e WHERE e.id IN ({}) AND ({})",
                    first.sql, all.sql
                ),
                params,
            )
        } else {
            // An excluded list is subtracted (read from its index alone) when that spares reading every
            // candidate event and it is not much longer than the shortest list; else it is a condition on them.
            let mut rest = sets.rest;
            let mut except = Vec::new();
            if rest.is_empty() {
                for (set, _) in &sets.excluded {
                    let cap = EXCEPT_LIST_FACTOR * shortest + 1;
                    if length(set, cap)? >= cap {
                        except.clear();
                        break;
                    }
                    except.push(set.clone());
                }
            }
            if except.len() != sets.excluded.len() {
                except.clear();
                rest.extend(sets.excluded.into_iter().map(|(_, cond)| cond));
            }
            let mut params = Vec::new();
            let mut ids = String::new();
            for (i, (_, set)) in lists.into_iter().enumerate() {
                ids.push_str(if i == 0 { "" } else { " INTERSECT " });
                ids.push_str(&set.sql);
                params.extend(bind(set.params));
            }
            for set in except {
                ids.push_str(" EXCEPT ");
                ids.push_str(&set.sql);
                params.extend(bind(set.params));
            }
            if rest.is_empty() {
                (format!("SELECT count(*) FROM ({ids})"), params)
            } else {
                let rest = query::compile(&Query::And(rest), now_micros);
                params.extend(bind(rest.params));
                (
                    format!(
                        "SELECT count(*) FROM events e WHERE e.id IN ({ids}) AND ({})",
                        rest.sql
                    ),
                    params,
                )
            }
        };
        let n: i64 = self
            .conn
            .query_row(&sql, params_from_iter(params), |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    /// The number of events `query_text` matches, counted from the matching events themselves (never from the
    /// summary tables, as [`Store::count`] does where they hold the answer).
    pub fn count_events(&self, query_text: &str, now_micros: i64) -> Result<u64, SearchError> {
        let indexed = super::text_index::refresh(&self.conn).map_err(StoreError::from)?;
        let p = plan(&self.conn, query_text, now_micros, indexed)?;
        let sql = if p.count_text_only {
            "SELECT count(*) FROM txt.events_text WHERE events_text MATCH ?".to_owned()
        } else {
            format!("SELECT count(*) {}", p.from_where)
        };
        let n: i64 = self
            .conn
            .query_row(&sql, params_from_iter(p.params), |r| r.get(0))?;
        Ok(n as u64)
    }

    /// One event by its stable id, with its bytes and provenance.
    pub fn event(&self, id: &str) -> Result<Option<EventDetail>, StoreError> {
        let Some((origin, sequence, index)) = parse_event_id(id) else {
            return Ok(None);
        };
        let sql = "SELECT e.id, e.ts, e.source, e.origin, e.actor, e.action, e.resource, e.outcome, e.category,
                e.ip, e.agent, e.env, e.stage, a.origin, a.sequence, e.idx, a.status, e.privilege, e.parse_error,
                a.received_at IS NOT NULL, a.evidence,
                e.raw, e.leaf, a.id, a.path, a.signer_key, a.signer_fingerprint, a.checkpoint, a.root,
                a.normalization, a.source_kind, a.mapping, a.signer_name, a.received_at
             FROM events e JOIN archives a ON a.id = e.archive_id
             WHERE a.origin = ?1 AND a.sequence = ?2 AND e.idx = ?3
             ORDER BY (a.status = 'verified') DESC, a.id LIMIT 1";
        let detail = self
            .conn
            .query_row(
                sql,
                rusqlite::params![origin, sequence, index as i64],
                |r| {
                    let leaf: Vec<u8> = r.get(22)?;
                    // Whatever type an edited file gives them: shown as they are, never believed.
                    let bytes = |i: usize| -> rusqlite::Result<Option<Vec<u8>>> {
                        Ok(match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Text(t)
                            | rusqlite::types::ValueRef::Blob(t) => Some(t.to_vec()),
                            _ => None,
                        })
                    };
                    let checkpoint = bytes(27)?;
                    let root = bytes(28)?;
                    Ok(EventDetail {
                        row: event_row(r)?,
                        raw: r.get(21)?,
                        leaf: leaf.iter().map(|b| format!("{b:02x}")).collect(),
                        archive_id: r.get(23)?,
                        archive_path: r.get(24)?,
                        archive_status: r.get(16)?,
                        signer_key: r.get(25)?,
                        signer_fingerprint: r.get(26)?,
                        checkpoint: checkpoint.map(|c| String::from_utf8_lossy(&c).into_owned()),
                        root: root.and_then(|r| {
                            let h: [u8; 32] = r.as_slice().try_into().ok()?;
                            Some(crate::archive::encode_hash(&h))
                        }),
                        normalization: super::renormalize::normalization_of(
                            r.get::<_, Option<String>>(29)?.as_deref(),
                            r.get::<_, Option<String>>(30)?.as_deref(),
                            r.get::<_, Option<Vec<u8>>>(31)?.as_deref(),
                        ),
                        // The label is a claim of verification: only for an archive stored as verified.
                        evidence_label: (r.get::<_, Option<String>>(20)?.as_deref()
                            == Some(super::import::CLOUDTRAIL_EVIDENCE)
                            && r.get::<_, String>(16)? == "verified")
                            .then(|| {
                                super::import::cloudtrail_label(
                                    &r.get::<_, Option<String>>(26)
                                        .ok()
                                        .flatten()
                                        .unwrap_or_default(),
                                )
                            }),
                        cloudtrail: None,
                        not_trusted_now: None,
                        not_confirmed: None,
                        received_label: super::received_label(
                            &r.get(32)?,
                            &r.get(26)?,
                            &r.get(33)?,
                        ),
                    })
                },
            )
            .optional()?;
        let Some(mut detail) = detail else {
            return Ok(None);
        };
        if detail.evidence_label.is_some() {
            detail.cloudtrail = self.cloudtrail_source(detail.archive_id, detail.row.index)?;
        }
        Ok(Some(detail))
    }

    /// The log file holding event `index` of CloudTrail archive `archive_id`, and the digest listing it.
    fn cloudtrail_source(
        &self,
        archive_id: i64,
        index: u64,
    ) -> Result<Option<CloudTrailSource>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT l.path, l.sha256, ?2 - l.first_index, d.path, d.sha256, d.fingerprint, d.hour_start, d.hour_end
                 FROM cloudtrail_files l JOIN cloudtrail_files d
                   ON d.archive_id = l.archive_id AND d.kind = 'digest' AND d.path = l.digest
                 WHERE l.archive_id = ?1 AND l.kind = 'log' AND l.first_index <= ?2
                   AND ?2 < l.first_index + l.records",
                rusqlite::params![archive_id, index as i64],
                |r| {
                    let time = |i: usize| -> rusqlite::Result<String> {
                        Ok(r.get::<_, Option<i64>>(i)?
                            .map(crate::time::format_utc)
                            .unwrap_or_default())
                    };
                    Ok(CloudTrailSource {
                        log_file: r.get(0)?,
                        log_sha256: r.get(1)?,
                        record: r.get::<_, i64>(2)?.max(0) as u64,
                        digest_file: r.get(3)?,
                        digest_sha256: r.get(4)?,
                        fingerprint: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                        digest_start: time(6)?,
                        digest_end: time(7)?,
                    })
                },
            )
            .optional()?)
    }
}
