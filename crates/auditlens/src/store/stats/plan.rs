//! The query planner: which summary tables (hourly, minutely) or events answer a count, and the SQL that
//! reads it. Pure: it builds query text and SQL from a scope, columns and filters, and touches no database.

use rusqlite::types::Value as SqlValue;

use super::{HOUR, Scope, StatsError, WorkingHours};
use crate::query::{self, SqlParam};
use crate::time::format_utc;

// ---------------------------------------------------------------------------------------------------------
// Query text

/// A value as the query language writes it: bare when that reads back the same, else quoted with `\` and `"`
/// escaped (a bare `*` anywhere makes a prefix or a pattern; a bare `/` first may start a regular expression).
pub fn quote_value(v: &str) -> String {
    let bare = !v.is_empty()
        && !v.contains('*')
        && !v.starts_with('/')
        && v.chars()
            .all(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"' | '\\'));
    if bare {
        v.to_owned()
    } else {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The query term `field:value`, or `-field:*` for events lacking the field.
pub(super) fn field_term(field: &str, key: Option<&str>) -> String {
    match key {
        Some(v) => format!("{field}:{}", quote_value(v)),
        None => format!("-{field}:*"),
    }
}

/// A grouping column of the aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dim {
    Hour,
    Source,
    Category,
    Outcome,
    Privilege,
    Env,
    Actor,
}

impl Dim {
    /// The column's name: in the summary tables, in `events`, and as a query field.
    fn name(self) -> &'static str {
        match self {
            Dim::Hour => "hour",
            Dim::Source => "source",
            Dim::Category => "category",
            Dim::Outcome => "outcome",
            Dim::Privilege => "privilege",
            Dim::Env => "env",
            Dim::Actor => "actor",
        }
    }

    fn event_expr(self) -> String {
        match self {
            Dim::Hour => format!("((e.ts - (((e.ts % {HOUR}) + {HOUR}) % {HOUR})) / {HOUR})"),
            other => format!("e.{}", other.name()),
        }
    }

    pub(super) fn in_table(self, table: Table) -> bool {
        match table {
            Table::Hourly => !matches!(self, Dim::Env | Dim::Actor),
            Table::Actors => !matches!(self, Dim::Source | Dim::Privilege),
        }
    }

    /// The query term selecting one group: `category:read`, or `-category:*` for events lacking the value.
    pub(super) fn term(self, key: Option<&str>) -> String {
        field_term(self.name(), key)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Table {
    Hourly,
    Actors,
}

impl Table {
    /// The summary table of this shape at a granularity.
    fn name(self, unit: Unit) -> &'static str {
        match (self, unit) {
            (Table::Hourly, Unit::Hour) => "rollup_hourly",
            (Table::Actors, Unit::Hour) => "rollup_actors",
            (Table::Hourly, Unit::Minute) => "rollup_minutely",
            (Table::Actors, Unit::Minute) => "rollup_minute_actors",
        }
    }
}

/// The time granularity of a summary table: its rows count the events of one UTC hour, or one minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    Hour,
    Minute,
}

impl Unit {
    fn micros(self) -> i64 {
        match self {
            Unit::Hour => HOUR,
            Unit::Minute => 60_000_000,
        }
    }

    /// The table's time column.
    fn column(self) -> &'static str {
        match self {
            Unit::Hour => "r.hour",
            Unit::Minute => "r.minute",
        }
    }

    /// The hour of a row, as SQL.
    fn hour_expr(self) -> &'static str {
        match self {
            Unit::Hour => "r.hour",
            Unit::Minute => "((r.minute - (((r.minute % 60) + 60) % 60)) / 60)",
        }
    }
}

/// A condition of a figure, written both as query terms (its drill-down, and the events it counts) and as SQL
/// over a summary table.
#[derive(Debug, Clone)]
pub(super) enum Filter {
    Is(Dim, String),
    AnyOf(Dim, Vec<String>),
    Present(Dim),
    OffHours(WorkingHours),
    /// Events without a time (`-time:*`): the summary rows of no hour.
    Untimed,
}

impl Filter {
    pub(super) fn text(&self) -> String {
        match self {
            Filter::Is(d, v) => d.term(Some(v)),
            Filter::AnyOf(d, vs) => {
                let terms: Vec<String> = vs.iter().map(|v| d.term(Some(v))).collect();
                format!("({})", terms.join(" OR "))
            }
            Filter::Present(d) => format!("{}:*", d.name()),
            Filter::OffHours(w) => format!("time:* -workhours:{}", w.query_value()),
            Filter::Untimed => "-time:*".to_owned(),
        }
    }

    /// The SQL over summary table rows `r`, or `None` when the summaries cannot answer it (off hours whose
    /// bounds are not whole UTC hours, from the hourly tables).
    fn rollup_sql(&self, table: Table, unit: Unit) -> Option<(String, Vec<SqlValue>)> {
        let col = |d: Dim| {
            d.in_table(table).then(|| match d {
                Dim::Hour => unit.hour_expr().to_owned(),
                _ => format!("r.{}", d.name()),
            })
        };
        Some(match self {
            Filter::Is(d, v) => (format!("{} = ?", col(*d)?), vec![SqlValue::Text(v.clone())]),
            Filter::AnyOf(d, vs) => (
                format!("{} IN ({})", col(*d)?, vec!["?"; vs.len()].join(", ")),
                vs.iter().map(|v| SqlValue::Text(v.clone())).collect(),
            ),
            Filter::Present(d) => (format!("{} IS NOT NULL", col(*d)?), Vec::new()),
            Filter::Untimed => (format!("{} IS NULL", col(Dim::Hour)?), Vec::new()),
            Filter::OffHours(w) => {
                // Every minute is wholly in or out of working hours (their bounds and offset are whole
                // minutes); an hour only when they are whole hours.
                if unit == Unit::Hour && !w.aligned() {
                    return None;
                }
                let (sql, params) = query::work_hours_sql(
                    &format!("({} * {})", unit.column(), unit.micros()),
                    i64::from(w.start_minute),
                    i64::from(w.end_minute),
                    i64::from(w.utc_offset_minutes),
                );
                (
                    format!("{} IS NOT NULL AND NOT ({sql})", unit.column()),
                    params.into_iter().map(bind_one).collect(),
                )
            }
        })
    }
}

impl Filter {
    /// The same condition (what a cube's own filters are compared with).
    pub(super) fn same(&self, other: &Filter) -> bool {
        self.text() == other.text()
    }
}

fn bind_one(p: SqlParam) -> SqlValue {
    match p {
        SqlParam::Int(i) => SqlValue::Integer(i),
        SqlParam::Text(t) => SqlValue::Text(t),
    }
}

pub(super) fn filters_text(filters: &[Filter]) -> Vec<String> {
    filters.iter().map(Filter::text).collect()
}

pub(super) fn key_text(v: &SqlValue) -> Option<String> {
    match v {
        SqlValue::Text(t) => Some(t.clone()),
        SqlValue::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

pub(super) fn key_int(v: &SqlValue) -> Option<i64> {
    match v {
        SqlValue::Integer(i) => Some(*i),
        _ => None,
    }
}

/// One group of an aggregate: its key values (in `dims` order) and its count.
pub(super) type Group = (Vec<SqlValue>, u64);

/// Cuts `[from, to)` into runs of whole units of the coarsest granularity first: `(unit, first, end)` in that
/// unit's numbers (`None`: unbounded), and what no unit covers, `[a, b)` in microseconds, for the events.
#[allow(clippy::type_complexity)]
fn decompose(
    from: Option<i64>,
    to: Option<i64>,
    units: &[Unit],
) -> (Vec<(Unit, Option<i64>, Option<i64>)>, Vec<(i64, i64)>) {
    let Some((&unit, finer)) = units.split_first() else {
        return match (from, to) {
            (Some(a), Some(b)) if a < b => (Vec::new(), vec![(a, b)]),
            _ => (Vec::new(), Vec::new()),
        };
    };
    let u = unit.micros();
    let lo = from.map(|f| -(-f).div_euclid(u));
    let hi = to.map(|t| t.div_euclid(u));
    let mut pieces = Vec::new();
    let mut rest: Vec<(Option<i64>, Option<i64>)> = Vec::new();
    if matches!((lo, hi), (Some(l), Some(h)) if l >= h) {
        rest.push((from, to));
    } else {
        pieces.push((unit, lo, hi));
        if let (Some(f), Some(l)) = (from, lo)
            && f < l * u
        {
            rest.push((Some(f), Some(l * u)));
        }
        if let (Some(t), Some(h)) = (to, hi)
            && h * u < t
        {
            rest.push((Some(h * u), Some(t)));
        }
    }
    let mut edges = Vec::new();
    for (a, b) in rest {
        let (p, e) = decompose(a, b, finer);
        pieces.extend(p);
        edges.extend(e);
    }
    (pieces, edges)
}

/// Compiles query text for the events table (the text is built here from checked parts, or is the caller's
/// query, checked by `Scope::check`). With `conn`, its patterns over indexed fields are first resolved to the
/// values they match (store/resolve.rs), as search does.
pub(super) fn compiled(
    conn: Option<&rusqlite::Connection>,
    text: &str,
    now: i64,
) -> Result<(String, Vec<SqlValue>), StatsError> {
    let mut q = query::parse(text)?;
    if let Some(conn) = conn {
        q = crate::store::resolve::resolve(conn, q, now)?;
    }
    let f = query::compile(&q, now);
    Ok((f.sql, f.params.into_iter().map(bind_one).collect()))
}

/// The SQL of one count: the statement and the values of its `?` placeholders. Its result rows are the
/// group keys (one column per dimension) followed by the count.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Plan {
    pub(super) sql: String,
    pub(super) params: Vec<SqlValue>,
}

/// Plans the count of the counted events in scope that pass `filters`, grouped by `dims` (the `top` largest
/// groups only, when given): from the summary tables when the scope has no query and every filter and column
/// fits them, the partial hours and minutes at the range's edges read from the events; else from the matching
/// events.
pub(super) fn plan(
    conn: Option<&rusqlite::Connection>,
    scope: &Scope,
    table: Table,
    dims: &[Dim],
    filters: &[Filter],
    top: Option<usize>,
    now: i64,
) -> Result<Plan, StatsError> {
    // The summary tables answer without a query; the hourly ones only when every filter fits whole hours.
    let answerable = |unit: Unit| filters.iter().all(|f| f.rollup_sql(table, unit).is_some());
    let units: Vec<Unit> = if scope.has_query() || !dims.iter().all(|d| d.in_table(table)) {
        Vec::new()
    } else if answerable(Unit::Hour) {
        vec![Unit::Hour, Unit::Minute]
    } else if answerable(Unit::Minute) {
        vec![Unit::Minute]
    } else {
        Vec::new()
    };
    let aliases: Vec<String> = (0..dims.len()).map(|i| format!("d{i}")).collect();
    let group_by = if dims.is_empty() {
        String::new()
    } else {
        format!(" GROUP BY {}", aliases.join(", "))
    };
    let order = match top {
        Some(n) => format!(
            " ORDER BY n DESC{} LIMIT {n}",
            if dims.is_empty() { "" } else { ", 1" }
        ),
        None => String::new(),
    };
    let select_events = |where_sql: &str, count: &str| -> String {
        let cols: Vec<String> = dims
            .iter()
            .zip(&aliases)
            .map(|(d, a)| format!("{} AS {a}", d.event_expr()))
            .collect();
        let mut cols = cols;
        cols.push(format!("{count} AS n"));
        format!(
            "SELECT {} FROM events e WHERE ({where_sql})",
            cols.join(", ")
        )
    };
    let text_filters = filters_text(filters);

    let (sql, params) = if units.is_empty() {
        let mut terms = text_filters.clone();
        terms.push(scope.base(true));
        let (where_sql, params) = compiled(conn, &terms.join(" "), now)?;
        let inner = select_events(&where_sql, "count(*)");
        // One pass over the matching events, grouped in SQL.
        let sql = if dims.is_empty() {
            format!("SELECT n FROM ({inner}){order}")
        } else {
            format!(
                "SELECT {}, n FROM ({inner}{}){order}",
                aliases.join(", "),
                group_by
            )
        };
        (sql, params)
    } else {
        // The range cut into whole hours (hourly tables), the whole minutes of the partial hours at its ends
        // (minutely tables), and the partial minutes at its very ends (the events themselves).
        let (pieces, edges) = decompose(scope.from, scope.to, &units);
        let join = if scope.include_unverified {
            ""
        } else {
            " JOIN archives a ON a.id = r.archive_id AND a.status = 'verified'"
        };
        let mut parts = Vec::new();
        let mut params = Vec::new();
        for (unit, lo, hi) in pieces {
            let mut wheres = Vec::new();
            for f in filters {
                let (sql, p) = f.rollup_sql(table, unit).ok_or_else(|| {
                    StatsError::Scope("a filter the summary table cannot answer".into())
                })?;
                wheres.push(sql);
                params.extend(p);
            }
            if let Some(lo) = lo {
                wheres.push(format!("{} >= ?", unit.column()));
                params.push(SqlValue::Integer(lo));
            }
            if let Some(hi) = hi {
                wheres.push(format!("{} < ?", unit.column()));
                params.push(SqlValue::Integer(hi));
            }
            let mut cols: Vec<String> = dims
                .iter()
                .zip(&aliases)
                .map(|(d, a)| match d {
                    Dim::Hour => format!("{} AS {a}", unit.hour_expr()),
                    _ => format!("r.{} AS {a}", d.name()),
                })
                .collect();
            cols.push("r.n AS n".into());
            let cond = if wheres.is_empty() {
                "1".to_owned()
            } else {
                wheres.join(" AND ")
            };
            parts.push(format!(
                "SELECT {} FROM {} r{join} WHERE {cond}",
                cols.join(", "),
                table.name(unit)
            ));
        }
        // One part per edge, its time range at the top level of the AND so that SQLite walks the
        // time-ordered ids of that range only.
        for (a, b) in &edges {
            let mut terms = text_filters.clone();
            terms.push(scope.base(false));
            terms.push(format!(
                "after:{} before:{}",
                format_utc(*a),
                format_utc(*b)
            ));
            let (where_sql, p) = compiled(conn, &terms.join(" "), now)?;
            parts.push(select_events(&where_sql, "1"));
            params.extend(p);
        }
        if parts.is_empty() {
            parts.push(format!(
                "SELECT {}0 AS n WHERE 0",
                aliases
                    .iter()
                    .map(|a| format!("NULL AS {a}, "))
                    .collect::<String>()
            ));
        }
        let union = parts.join(" UNION ALL ");
        let cols = if dims.is_empty() {
            "sum(n) AS n".to_owned()
        } else {
            format!("{}, sum(n) AS n", aliases.join(", "))
        };
        (
            format!("SELECT {cols} FROM ({union}){group_by}{order}"),
            params,
        )
    };
    Ok(Plan { sql, params })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-01-01T00:00:00Z, in hours since the epoch.
    const H0: i64 = 473_352;
    const MINUTE: i64 = 60_000_000;

    fn texts(params: &[SqlValue]) -> Vec<String> {
        params
            .iter()
            .map(|p| match p {
                SqlValue::Integer(i) => i.to_string(),
                SqlValue::Text(t) => format!("{t:?}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn whole_hours() -> Scope {
        Scope {
            from: Some(H0 * HOUR),
            to: Some((H0 + 2) * HOUR),
            ..Scope::default()
        }
    }

    #[test]
    fn a_quoted_value_reads_back_as_exactly_itself() {
        for v in [
            "alice",
            "a*b",
            "*",
            "a*",
            "*x*",
            "a b",
            "(x)",
            "say \"hi\"",
            "C:\\t",
            "s3:Get*Object",
        ] {
            let q = crate::query::parse(&format!("actor:{}", quote_value(v))).unwrap();
            assert_eq!(
                q,
                crate::query::Query::Field {
                    field: crate::query::Field::Actor,
                    value: v.into(),
                    prefix: false
                },
                "{v}"
            );
        }
    }

    #[test]
    fn whole_hours_without_a_query_read_the_hourly_table_only() {
        let p = plan(
            None,
            &whole_hours(),
            Table::Hourly,
            &[Dim::Source],
            &[],
            None,
            0,
        )
        .unwrap();
        assert_eq!(
            p.sql,
            "SELECT d0, sum(n) AS n FROM (SELECT r.source AS d0, r.n AS n FROM rollup_hourly r JOIN \
            archives a ON a.id = r.archive_id AND a.status = 'verified' WHERE r.hour >= ? AND r.hour < \
            ?) GROUP BY d0"
        );
        assert_eq!(texts(&p.params), vec!["473352", "473354"]);
    }

    #[test]
    fn partial_hours_add_whole_minutes_and_the_events_of_the_partial_minutes() {
        let scope = Scope {
            from: Some(H0 * HOUR + 90_000_000),
            to: Some((H0 + 2) * HOUR + 30 * MINUTE),
            ..Scope::default()
        };
        let p = plan(None, &scope, Table::Hourly, &[], &[], None, 0).unwrap();
        assert_eq!(
            p.sql,
            "SELECT sum(n) AS n FROM (SELECT r.n AS n FROM rollup_hourly r JOIN archives a ON a.id = \
            r.archive_id AND a.status = 'verified' WHERE r.hour >= ? AND r.hour < ? UNION ALL SELECT r.n \
            AS n FROM rollup_minutely r JOIN archives a ON a.id = r.archive_id AND a.status = 'verified' \
            WHERE r.minute >= ? AND r.minute < ? UNION ALL SELECT r.n AS n FROM rollup_minutely r JOIN \
            archives a ON a.id = r.archive_id AND a.status = 'verified' WHERE r.minute >= ? AND r.minute \
            < ? UNION ALL SELECT 1 AS n FROM events e WHERE ((((e.stage = ?) IS NOT 1) AND ((e.stage = \
            ?) IS NOT 1)) AND ((+e.archive_id IN (SELECT id FROM archives WHERE status = ? COLLATE \
            NOCASE)) AND ((e.id >= ? AND e.ts >= ?) AND (e.id < ? AND e.ts < ?)))))"
        );
        assert_eq!(
            texts(&p.params),
            vec![
                "473353",
                "473354",
                "28401122",
                "28401180",
                "28401240",
                "28401270",
                "\"RequestReceived\"",
                "\"ResponseStarted\"",
                "\"verified\"",
                "6398530081106427904",
                "1704067290000000",
                "6398530113612283904",
                "1704067320000000"
            ]
        );
    }

    #[test]
    fn a_query_counts_the_matching_events_grouped_in_sql() {
        let scope = Scope {
            query: "actor:alice".into(),
            ..Scope::default()
        };
        let present = [Filter::Present(Dim::Category)];
        let p = plan(
            None,
            &scope,
            Table::Hourly,
            &[Dim::Category],
            &present,
            Some(3),
            0,
        )
        .unwrap();
        assert_eq!(
            p.sql,
            "SELECT d0, n FROM (SELECT e.category AS d0, count(*) AS n FROM events e WHERE (((e.category \
            IS NOT NULL) AND ((e.stage = ?) IS NOT 1)) AND (((e.stage = ?) IS NOT 1) AND ((+e.archive_id \
            IN (SELECT id FROM archives WHERE status = ? COLLATE NOCASE)) AND (e.actor = ?)))) GROUP BY \
            d0) ORDER BY n DESC, 1 LIMIT 3"
        );
        assert_eq!(
            texts(&p.params),
            vec![
                "\"RequestReceived\"",
                "\"ResponseStarted\"",
                "\"verified\"",
                "\"alice\""
            ]
        );
    }

    #[test]
    fn a_column_the_summary_table_lacks_is_counted_from_the_events() {
        let p = plan(
            None,
            &Scope::default(),
            Table::Hourly,
            &[Dim::Actor],
            &[],
            None,
            0,
        )
        .unwrap();
        assert_eq!(
            p.sql,
            "SELECT d0, n FROM (SELECT e.actor AS d0, count(*) AS n FROM events e WHERE (((e.stage = ?) \
            IS NOT 1) AND (((e.stage = ?) IS NOT 1) AND (+e.archive_id IN (SELECT id FROM archives WHERE \
            status = ? COLLATE NOCASE)))) GROUP BY d0)"
        );
        assert_eq!(
            texts(&p.params),
            vec!["\"RequestReceived\"", "\"ResponseStarted\"", "\"verified\""]
        );
    }

    #[test]
    fn off_hours_not_on_whole_hours_read_the_minute_tables() {
        let off = Filter::OffHours(WorkingHours {
            start_minute: 9 * 60 + 30,
            end_minute: 18 * 60,
            utc_offset_minutes: 0,
        });
        let filters = [off];
        let p = plan(
            None,
            &whole_hours(),
            Table::Actors,
            &[Dim::Actor],
            &filters,
            Some(5),
            0,
        )
        .unwrap();
        assert_eq!(
            p.sql,
            "SELECT d0, sum(n) AS n FROM (SELECT r.actor AS d0, r.n AS n FROM rollup_minute_actors r JOIN \
            archives a ON a.id = r.archive_id AND a.status = 'verified' WHERE r.minute IS NOT NULL AND \
            NOT (((((((r.minute * 60000000) + 0) - (((((r.minute * 60000000) + 0) % 86400000000) + \
            86400000000) % 86400000000)) / 86400000000) % 7 + 10) % 7) < 5 AND (((((r.minute * 60000000) \
            + 0) % 86400000000) + 86400000000) % 86400000000) >= ? AND (((((r.minute * 60000000) + 0) % \
            86400000000) + 86400000000) % 86400000000) < ?) AND r.minute >= ? AND r.minute < ?) GROUP BY \
            d0 ORDER BY n DESC, 1 LIMIT 5"
        );
        assert_eq!(
            texts(&p.params),
            vec!["34200000000", "64800000000", "28401120", "28401240"]
        );
    }

    #[test]
    fn unverified_archives_count_without_the_join_and_an_unbounded_range_has_no_bounds() {
        let scope = Scope {
            include_unverified: true,
            ..Scope::default()
        };
        let failed = [Filter::AnyOf(
            Dim::Outcome,
            vec!["failure".into(), "denied".into()],
        )];
        let p = plan(None, &scope, Table::Hourly, &[], &failed, None, 0).unwrap();
        assert_eq!(
            p.sql,
            "SELECT sum(n) AS n FROM (SELECT r.n AS n FROM rollup_hourly r WHERE r.outcome IN (?, ?))"
        );
        assert_eq!(texts(&p.params), vec!["\"failure\"", "\"denied\""]);
    }

    #[test]
    fn a_range_within_one_minute_reads_only_the_events() {
        let scope = Scope {
            from: Some(H0 * HOUR + 10_000_000),
            to: Some(H0 * HOUR + 20_000_000),
            ..Scope::default()
        };
        let dims = [Dim::Hour, Dim::Outcome];
        let p = plan(None, &scope, Table::Hourly, &dims, &[], None, 0).unwrap();
        assert_eq!(
            p.sql,
            "SELECT d0, d1, sum(n) AS n FROM (SELECT ((e.ts - (((e.ts % 3600000000) + 3600000000) % \
            3600000000)) / 3600000000) AS d0, e.outcome AS d1, 1 AS n FROM events e WHERE ((((e.stage = \
            ?) IS NOT 1) AND ((e.stage = ?) IS NOT 1)) AND ((+e.archive_id IN (SELECT id FROM archives \
            WHERE status = ? COLLATE NOCASE)) AND ((e.id >= ? AND e.ts >= ?) AND (e.id < ? AND e.ts < \
            ?))))) GROUP BY d0, d1"
        );
        assert_eq!(
            texts(&p.params),
            vec![
                "\"RequestReceived\"",
                "\"ResponseStarted\"",
                "\"verified\"",
                "6398529997220347904",
                "1704067210000000",
                "6398530008754683904",
                "1704067220000000"
            ]
        );
    }

    #[test]
    fn decompose_cuts_whole_hours_then_whole_minutes_then_the_rest() {
        let from = H0 * HOUR + 90_000_000;
        let to = (H0 + 2) * HOUR + 30 * MINUTE;
        let (pieces, edges) = decompose(Some(from), Some(to), &[Unit::Hour, Unit::Minute]);
        assert_eq!(
            pieces,
            vec![
                (Unit::Hour, Some(H0 + 1), Some(H0 + 2)),
                (Unit::Minute, Some(H0 * 60 + 2), Some((H0 + 1) * 60)),
                (Unit::Minute, Some((H0 + 2) * 60), Some((H0 + 2) * 60 + 30)),
            ]
        );
        assert_eq!(edges, vec![(from, H0 * HOUR + 2 * MINUTE)]);
        // Unbounded: one open run of hours and nothing left for the events.
        assert_eq!(
            decompose(None, None, &[Unit::Hour, Unit::Minute]),
            (vec![(Unit::Hour, None, None)], Vec::new())
        );
        // No unit: the whole range is read from the events.
        assert_eq!(decompose(Some(1), Some(2), &[]), (Vec::new(), vec![(1, 2)]));
    }
}
