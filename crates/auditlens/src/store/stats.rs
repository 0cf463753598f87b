//! Dashboards and `auditlens stats`: counts of requests (not log records) over the store, every figure with the
//! search query that reproduces it (docs/search.md section 9).
//!
//! Counting rule: Kubernetes events at the stages `RequestReceived` and `ResponseStarted` are stored and
//! searchable but never counted; the final stage and events without a stage are. By default only events of
//! verified archives count (`status:verified`). Every figure's `drill` query carries the same terms
//! (`-stage:RequestReceived -stage:ResponseStarted status:verified`, the time range as `after:`/`before:` and the
//! caller's query in parentheses), so `Store::count(drill)` equals the figure.
//!
//! Speed: without a query, figures are summed from the summary tables import keeps (`rollup_hourly`,
//! `rollup_actors`: counted events per archive and UTC hour), plus the events of the partial hours at the edges
//! of the time range, read by their time-ordered ids; with a query, they are aggregated from the matching events.

use std::collections::{BTreeMap, HashMap};

use rusqlite::params_from_iter;
use rusqlite::types::Value as SqlValue;
use serde::{Deserialize, Serialize};

use super::search::{EventRow, SearchError};
use super::{Store, StoreError};
use crate::query::{self, QueryError, SqlParam};
use crate::sources::{CATEGORIES, OUTCOMES, PRIVILEGES};
use crate::time::format_utc;

/// Kubernetes stages that are records of a request still in progress: stored, searchable, never counted.
pub const UNCOUNTED_STAGES: [&str; 2] = ["RequestReceived", "ResponseStarted"];
/// One hour and one day, in microseconds.
pub const HOUR: i64 = 3_600_000_000;
pub const DAY: i64 = 24 * HOUR;
/// The key of a figure for events that lack the value (in `stats --json` objects).
pub const MISSING: &str = "(none)";
/// Bucket widths of time series, in hours.
const NICE_HOURS: [i64; 12] = [1, 2, 3, 6, 12, 24, 48, 168, 336, 720, 2184, 8760];
/// The earliest and the end of the latest time a scope may name (years 0000 to 9999).
const TIME_MIN: i64 = -62_167_219_200_000_000;
const TIME_END: i64 = 253_402_300_800_000_000;

/// Whether an event at this stage is counted (ASCII case-insensitively, as `-stage:` compares).
pub fn is_counted(stage: Option<&str>) -> bool {
    stage.is_none_or(|s| !UNCOUNTED_STAGES.iter().any(|u| s.eq_ignore_ascii_case(u)))
}

/// The UTC hour of a time: `floor(ts / 1 h)`.
pub fn hour_of(ts: i64) -> i64 {
    ts.div_euclid(HOUR)
}

#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("query: {0}")]
    Query(#[from] QueryError),
    #[error("{0}")]
    Scope(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for StatsError {
    fn from(e: rusqlite::Error) -> Self {
        StatsError::Store(StoreError::Sql(e))
    }
}

impl From<SearchError> for StatsError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::Query(q) => StatsError::Query(q),
            SearchError::Store(s) => StatsError::Store(s),
            SearchError::Cursor => StatsError::Scope("invalid cursor".into()),
        }
    }
}

/// What every figure of a dashboard counts: the global time range, an optional query, and whether events of
/// archives that are not verified count too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Scope {
    /// Start of the time range, microseconds UTC, inclusive; `None`: no lower bound.
    #[serde(default)]
    pub from: Option<i64>,
    /// End of the time range, microseconds UTC, exclusive; `None`: no upper bound. With either bound, events
    /// without a time are out of range.
    #[serde(default)]
    pub to: Option<i64>,
    /// A query (docs/search.md) every counted event must also match; empty for none.
    #[serde(default)]
    pub query: String,
    /// Count events of every stored archive (untrusted and failed ones kept with `--keep-failed` too), not only
    /// verified ones.
    #[serde(default)]
    pub include_unverified: bool,
}

impl Scope {
    /// The same scope with its time range widened to whole UTC hours (`from` rounded down, `to` up). Dashboards
    /// then read only the hourly summary tables (the fast path); with other bounds the partial hours at the edges
    /// are counted from the events themselves (exact, and slower the denser the store).
    pub fn whole_hours(&self) -> Scope {
        Scope {
            from: self.from.map(|f| f.div_euclid(HOUR) * HOUR),
            to: self.to.map(|t| -(-t).div_euclid(HOUR) * HOUR),
            ..self.clone()
        }
    }

    fn check(&self) -> Result<(), StatsError> {
        for t in [self.from, self.to].into_iter().flatten() {
            if !(TIME_MIN..TIME_END).contains(&t) {
                return Err(StatsError::Scope(format!(
                    "time {t} is outside the years 0000 to 9999"
                )));
            }
        }
        if let (Some(f), Some(t)) = (self.from, self.to)
            && f >= t
        {
            return Err(StatsError::Scope(
                "the start of the time range must be before its end".into(),
            ));
        }
        query::parse(&self.query)?;
        Ok(())
    }

    fn has_query(&self) -> bool {
        !self.query.trim().is_empty()
    }

    /// The terms every drill-down carries: the counting rule, the archive status, the time range (when
    /// `with_range`) and the query.
    fn base(&self, with_range: bool) -> String {
        let mut out = String::from("-stage:RequestReceived -stage:ResponseStarted");
        if !self.include_unverified {
            out.push_str(" status:verified");
        }
        if with_range {
            if let Some(f) = self.from {
                out.push_str(&format!(" after:{}", format_utc(f)));
            }
            if let Some(t) = self.to {
                out.push_str(&format!(" before:{}", format_utc(t)));
            }
        }
        if self.has_query() {
            out.push_str(&format!(" ({})", self.query.trim()));
        }
        out
    }

    /// A drill-down query: the figure's own terms, then the scope's.
    fn drill(&self, terms: &[String]) -> String {
        let mut parts: Vec<&str> = terms
            .iter()
            .map(String::as_str)
            .filter(|t| !t.is_empty())
            .collect();
        let base = self.base(true);
        parts.push(&base);
        parts.join(" ")
    }
}

/// What the scope and the counting rule were, echoed in every result.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScopeInfo {
    pub from: Option<String>,
    pub to: Option<String>,
    pub query: String,
    pub verified_only: bool,
    /// The terms every drill-down query carries.
    pub base: String,
}

impl From<&Scope> for ScopeInfo {
    fn from(s: &Scope) -> Self {
        ScopeInfo {
            from: s.from.map(format_utc),
            to: s.to.map(format_utc),
            query: s.query.trim().to_owned(),
            verified_only: !s.include_unverified,
            base: s.base(true),
        }
    }
}

/// Working hours: Monday to Friday, `[start_minute, end_minute)` of the local day at a fixed UTC offset (no
/// time-zone database: the offset is the same all year). Events outside are "off hours".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkingHours {
    pub start_minute: u16,
    pub end_minute: u16,
    /// Minutes east of UTC (`120` for +02:00, `-300` for -05:00).
    pub utc_offset_minutes: i16,
}

impl Default for WorkingHours {
    fn default() -> Self {
        WorkingHours {
            start_minute: 9 * 60,
            end_minute: 18 * 60,
            utc_offset_minutes: 0,
        }
    }
}

impl WorkingHours {
    /// Reads the `workhours:` value form: `HH[:MM]-HH[:MM][Z|±hh:mm]` (e.g. `09-18+02:00`).
    pub fn parse(text: &str) -> Result<WorkingHours, StatsError> {
        match query::parse(&format!("workhours:{text}"))? {
            query::Query::WorkHours { start, end, offset } => Ok(WorkingHours {
                start_minute: start as u16,
                end_minute: end as u16,
                utc_offset_minutes: offset as i16,
            }),
            _ => Err(StatsError::Scope(format!("not working hours: {text}"))),
        }
    }

    fn check(&self) -> Result<(), StatsError> {
        let ok = self.start_minute < self.end_minute
            && self.end_minute <= 24 * 60
            && self.utc_offset_minutes.unsigned_abs() < 24 * 60;
        if ok {
            Ok(())
        } else {
            Err(StatsError::Scope(
                "working hours: start before end, within 00:00-24:00, offset within ±23:59".into(),
            ))
        }
    }

    /// The value of the `workhours:` term: `09:00-18:00+02:00`.
    pub fn query_value(&self) -> String {
        let clock = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        let off = self.utc_offset_minutes;
        let zone = if off == 0 {
            "Z".to_owned()
        } else {
            let a = off.unsigned_abs();
            format!(
                "{}{:02}:{:02}",
                if off < 0 { '-' } else { '+' },
                a / 60,
                a % 60
            )
        };
        format!(
            "{}-{}{zone}",
            clock(self.start_minute),
            clock(self.end_minute)
        )
    }

    /// Whether a time (microseconds) is in working hours: the arithmetic of `workhours:` (query.rs,
    /// `work_hours_sql`) with floor division.
    fn inside(&self, ts: i64) -> bool {
        let local = ts + i64::from(self.utc_offset_minutes) * 60_000_000;
        let tod = local.rem_euclid(DAY);
        let weekday = (local.div_euclid(DAY) + 3).rem_euclid(7);
        weekday < 5
            && tod >= i64::from(self.start_minute) * 60_000_000
            && tod < i64::from(self.end_minute) * 60_000_000
    }

    /// Whether every UTC hour lies wholly inside or wholly outside working hours (then the hourly summaries
    /// answer off-hours questions exactly).
    fn aligned(&self) -> bool {
        self.start_minute.is_multiple_of(60)
            && self.end_minute.is_multiple_of(60)
            && self.utc_offset_minutes.unsigned_abs().is_multiple_of(60)
    }
}

/// Settings of the dashboards (every member optional when deserialized: the defaults fill in).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct DashboardOptions {
    pub working_hours: WorkingHours,
    /// Length of "top" lists.
    pub top: usize,
    /// Most buckets of a time series.
    pub buckets: usize,
    /// Most events in a list of recent events.
    pub recent: usize,
    /// An actor "rarely deploys" with at most this many deployments in the scope.
    pub rare_max: u64,
    /// A burst of denials: at least `burst_min` denied events of one actor within `burst_window_secs`.
    pub burst_min: u64,
    pub burst_window_secs: i64,
}

impl Default for DashboardOptions {
    fn default() -> Self {
        DashboardOptions {
            working_hours: WorkingHours::default(),
            top: 10,
            buckets: 60,
            recent: 20,
            rare_max: 2,
            burst_min: 5,
            burst_window_secs: 600,
        }
    }
}

impl DashboardOptions {
    fn check(&self) -> Result<(), StatsError> {
        self.working_hours.check()?;
        if self.top == 0 || self.buckets == 0 || self.burst_min == 0 || self.burst_window_secs <= 0
        {
            return Err(StatsError::Scope(
                "top, buckets, burst_min and burst_window_secs must be positive".into(),
            ));
        }
        Ok(())
    }
}

/// One number and the query whose count it is. `key` is the value counted (`None`: events lacking it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Figure {
    pub key: Option<String>,
    pub count: u64,
    pub drill: String,
}

/// Counts per time bucket for one key (a category, an outcome).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Series {
    pub key: Option<String>,
    /// Counts per bucket, oldest first; `drills[i]` reproduces `counts[i]`.
    pub counts: Vec<u64>,
    pub drills: Vec<String>,
}

/// Counts per UTC time bucket. Bucket `i` covers `[start + i·bucket_micros, start + (i+1)·bucket_micros)`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TimeSeries {
    /// Start of the first bucket (a whole UTC hour), microseconds; `None` when nothing has a time.
    pub start: Option<i64>,
    /// A whole number of hours.
    pub bucket_micros: i64,
    pub buckets: usize,
    pub series: Vec<Series>,
    /// Events without a time (in no bucket).
    pub untimed: Figure,
}

/// One UTC day of a per-day count.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DayCount {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub count: u64,
    pub drill: String,
}

/// An actor and how many events it has (in a top list).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ActorCount {
    pub actor: String,
    pub count: u64,
    pub drill: String,
}

/// The `auditlens stats --json` document.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Stats {
    pub total: u64,
    pub by_category: BTreeMap<String, u64>,
    pub by_outcome: BTreeMap<String, u64>,
    pub by_source: BTreeMap<String, u64>,
    pub top_actors: Vec<ActorCount>,
    pub deployments_per_day: Vec<DayCount>,
    /// The drill-down query of `total` and of every entry of the `by_*` objects (same keys).
    pub drill: StatsDrills,
    pub scope: ScopeInfo,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StatsDrills {
    pub total: String,
    pub by_category: BTreeMap<String, String>,
    pub by_outcome: BTreeMap<String, String>,
    pub by_source: BTreeMap<String, String>,
}

/// An archive named by the verification summary.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ArchiveNote {
    pub archive_id: i64,
    pub origin: Option<String>,
    pub sequence: Option<u64>,
    pub path: String,
    pub status: String,
    /// Why it is not verified, or which sequences are missing before it.
    pub reason: Option<String>,
}

/// Is everything the dashboards show verified?
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VerificationSummary {
    /// Every stored archive verified under a trusted key, and no origin has a gap.
    pub all_verified: bool,
    pub archives: u64,
    pub verified: u64,
    pub untrusted: Vec<ArchiveNote>,
    pub failed: Vec<ArchiveNote>,
    /// Archives before which sequences of their origin are missing.
    pub gaps: Vec<ArchiveNote>,
    /// Groups of different stored origins that look alike ([`super::Store::lookalike_origins`]): a warning for
    /// the banner, not part of `all_verified` (each origin is verified as exactly what it says).
    pub lookalikes: Vec<crate::safe_text::LookalikeGroup>,
}

/// First and last event time covered, microseconds UTC and RFC 3339.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TimeSpan {
    pub first: i64,
    pub last: i64,
    pub first_text: String,
    pub last_text: String,
}

/// The overview dashboard.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Overview {
    pub scope: ScopeInfo,
    pub verification: VerificationSummary,
    pub total: Figure,
    pub by_category: Vec<Figure>,
    pub by_outcome: Vec<Figure>,
    pub by_source: Vec<Figure>,
    /// Events over time, one series per category.
    pub over_time: TimeSeries,
    pub top_actors: Vec<Figure>,
    /// Time of the first and last counted event in scope.
    pub time_range: Option<TimeSpan>,
    /// Archives in scope whose fields come from the producer's mapping file (docs/sources.md, "Whose rules"):
    /// their `outcome`, `category`, ... are what the producer's rules say. `reason`: the normalization in words.
    pub producer_rules: Vec<ArchiveNote>,
}

/// Deployments of one environment (a Kubernetes namespace, an AWS account/region, a GCP project, ...).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Lane {
    pub deployments: Figure,
    pub failed: Figure,
    /// The most recent deployments of this environment, newest first (who, what, outcome).
    pub recent: Vec<EventRow>,
}

/// The deployments dashboard.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Deployments {
    pub scope: ScopeInfo,
    pub working_hours: String,
    pub total: Figure,
    pub per_day: Vec<DayCount>,
    /// Timeline per environment, busiest first.
    pub lanes: Vec<Lane>,
    /// Deployments whose outcome is `failure` or `denied`.
    pub failed: Figure,
    pub failed_recent: Vec<EventRow>,
    pub off_hours: Figure,
    pub off_hours_by_actor: Vec<Figure>,
    /// Actors with at most `rare_max` deployments in scope, fewest first.
    pub rare_actors: Vec<Figure>,
    pub recent: Vec<EventRow>,
    /// Archives in scope whose fields come from the producer's mapping file (as [`Overview::producer_rules`]).
    pub producer_rules: Vec<ArchiveNote>,
}

/// Denied attempts of one actor on one resource.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeniedPair {
    pub actor: Option<String>,
    pub resource: Option<String>,
    pub count: u64,
    pub drill: String,
}

/// An actor first seen in the time range.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FirstSeen {
    pub actor: String,
    /// Its earliest counted event in the store (in scope but for the time range), microseconds and RFC 3339.
    pub first_seen: i64,
    pub first_seen_text: String,
    /// Its events in scope.
    pub events: Figure,
}

/// A burst of denials: `count` denied events of one actor within `[start, end)`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Burst {
    pub actor: String,
    pub start: String,
    pub end: String,
    pub count: u64,
    pub drill: String,
}

/// A denied event: what the denied pairs and the bursts are counted from.
struct DeniedRow {
    actor: Option<String>,
    resource: Option<String>,
    ts: Option<i64>,
}

/// The access dashboard.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Access {
    pub scope: ScopeInfo,
    pub working_hours: String,
    /// Events of category `access`.
    pub total: Figure,
    /// Access events over time, one series per outcome.
    pub over_time: TimeSeries,
    /// Denied events of every category.
    pub denied: Figure,
    pub denied_by_actor: Vec<Figure>,
    pub denied_by_actor_resource: Vec<DeniedPair>,
    /// Privileged access by kind: exec into workloads, secret reads, role assumption, logins (always 4).
    pub privileged: Vec<Figure>,
    pub privileged_recent: Vec<EventRow>,
    pub first_seen: Vec<FirstSeen>,
    pub off_hours: Figure,
    pub off_hours_by_actor: Vec<Figure>,
    pub bursts: Vec<Burst>,
    /// Archives in scope whose fields come from the producer's mapping file (as [`Overview::producer_rules`]).
    pub producer_rules: Vec<ArchiveNote>,
}

// ---------------------------------------------------------------------------------------------------------
// Query text

/// A value as the query language writes it: bare when that reads back the same, else quoted with `\` and `"`
/// escaped.
pub fn quote_value(v: &str) -> String {
    let bare = !v.is_empty()
        && !v.ends_with('*')
        && v.chars()
            .all(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"' | '\\'));
    if bare {
        v.to_owned()
    } else {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The query term `field:value`, or `-field:*` for events lacking the field.
fn field_term(field: &str, key: Option<&str>) -> String {
    match key {
        Some(v) => format!("{field}:{}", quote_value(v)),
        None => format!("-{field}:*"),
    }
}

/// A grouping column of the aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dim {
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

    fn in_table(self, table: Table) -> bool {
        match table {
            Table::Hourly => !matches!(self, Dim::Env | Dim::Actor),
            Table::Actors => !matches!(self, Dim::Source | Dim::Privilege),
        }
    }

    /// The query term selecting one group: `category:read`, or `-category:*` for events lacking the value.
    fn term(self, key: Option<&str>) -> String {
        field_term(self.name(), key)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
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
enum Unit {
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
enum Filter {
    Is(Dim, String),
    AnyOf(Dim, Vec<String>),
    Present(Dim),
    OffHours(WorkingHours),
}

impl Filter {
    fn text(&self) -> String {
        match self {
            Filter::Is(d, v) => d.term(Some(v)),
            Filter::AnyOf(d, vs) => {
                let terms: Vec<String> = vs.iter().map(|v| d.term(Some(v))).collect();
                format!("({})", terms.join(" OR "))
            }
            Filter::Present(d) => format!("{}:*", d.name()),
            Filter::OffHours(w) => format!("time:* -workhours:{}", w.query_value()),
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
    fn same(&self, other: &Filter) -> bool {
        self.text() == other.text()
    }
}

fn bind_one(p: SqlParam) -> SqlValue {
    match p {
        SqlParam::Int(i) => SqlValue::Integer(i),
        SqlParam::Text(t) => SqlValue::Text(t),
    }
}

fn filters_text(filters: &[Filter]) -> Vec<String> {
    filters.iter().map(Filter::text).collect()
}

fn key_text(v: &SqlValue) -> Option<String> {
    match v {
        SqlValue::Text(t) => Some(t.clone()),
        SqlValue::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

fn key_int(v: &SqlValue) -> Option<i64> {
    match v {
        SqlValue::Integer(i) => Some(*i),
        _ => None,
    }
}

/// One group of an aggregate: its key values (in `dims` order) and its count.
type Group = (Vec<SqlValue>, u64);

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

/// The counts of one scope grouped by several columns, fetched once (one pass over the summary tables or the
/// matching events) so that a dashboard's figures that need only those columns are summed from it in memory,
/// grouping ASCII case-insensitively as SQL's `COLLATE NOCASE` does, instead of a pass each.
#[derive(Debug, Clone)]
pub(crate) struct Cube {
    scope: Scope,
    now: i64,
    /// The summary table it stands for; `None` for a cube read from the matching events, which answers for
    /// either table.
    table: Option<Table>,
    dims: Vec<Dim>,
    /// Filters every row already passed.
    base: Vec<Filter>,
    rows: Vec<Group>,
}

impl Cube {
    fn column(&self, d: Dim) -> Option<usize> {
        self.dims.iter().position(|x| *x == d)
    }

    /// Whether this cube holds what `aggregate(scope, table, dims, filters)` asks for: the same scope, every
    /// column, and every filter either among its own or answerable from its columns.
    fn answers(
        &self,
        scope: &Scope,
        now: i64,
        table: Table,
        dims: &[Dim],
        filters: &[Filter],
    ) -> bool {
        self.table.is_none_or(|t| t == table)
            && self.now == now
            && self.scope == *scope
            && dims.iter().all(|d| self.column(*d).is_some())
            && self.base.iter().all(|b| filters.iter().any(|f| f.same(b)))
            && filters.iter().all(|f| {
                self.base.iter().any(|b| b.same(f))
                    || match f {
                        Filter::Is(d, _) | Filter::AnyOf(d, _) | Filter::Present(d) => {
                            self.column(*d).is_some()
                        }
                        Filter::OffHours(w) => w.aligned() && self.column(Dim::Hour).is_some(),
                    }
            })
    }

    fn answer(&self, dims: &[Dim], filters: &[Filter], top: Option<usize>) -> Vec<Group> {
        let rest: Vec<&Filter> = filters
            .iter()
            .filter(|f| !self.base.iter().any(|b| b.same(f)))
            .collect();
        let text = |row: &[SqlValue], d: Dim| -> Option<String> {
            self.column(d).and_then(|i| key_text(&row[i]))
        };
        let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        let keep = |row: &[SqlValue]| {
            rest.iter().all(|f| match f {
                Filter::Is(d, v) => text(row, *d).is_some_and(|x| same(&x, v)),
                Filter::AnyOf(d, vs) => {
                    text(row, *d).is_some_and(|x| vs.iter().any(|v| same(&x, v)))
                }
                Filter::Present(d) => text(row, *d).is_some(),
                Filter::OffHours(w) => self
                    .column(Dim::Hour)
                    .and_then(|i| key_int(&row[i]))
                    .is_some_and(|h| !w.inside(h * HOUR)),
            })
        };
        // Group keys compare ASCII case-insensitively; the first spelling met names the group.
        let mut groups: Vec<Group> = Vec::new();
        let mut index: std::collections::HashMap<Vec<Option<String>>, usize> = Default::default();
        for (row, n) in &self.rows {
            if !keep(row) {
                continue;
            }
            let key: Vec<SqlValue> = dims
                .iter()
                .map(|d| self.column(*d).map_or(SqlValue::Null, |i| row[i].clone()))
                .collect();
            let folded: Vec<Option<String>> = key
                .iter()
                .map(|v| key_text(v).map(|t| t.to_ascii_lowercase()))
                .collect();
            match index.get(&folded) {
                Some(&i) => groups[i].1 += n,
                None => {
                    index.insert(folded, groups.len());
                    groups.push((key, *n));
                }
            }
        }
        if dims.is_empty() && groups.is_empty() {
            groups.push((Vec::new(), 0));
        }
        if let Some(top) = top {
            groups.sort_by(|a, b| {
                b.1.cmp(&a.1).then_with(|| {
                    let k = |g: &Group| {
                        g.0.first()
                            .and_then(key_text)
                            .map(|t| t.to_ascii_lowercase())
                    };
                    k(a).cmp(&k(b))
                })
            });
            groups.truncate(top);
        }
        groups.retain(|(_, n)| *n > 0 || dims.is_empty());
        groups
    }
}

/// What `stats` and the overview count: per hour, source, category and outcome, and per actor.
fn overview_cubes() -> [(Table, &'static [Dim], Vec<Filter>); 2] {
    [
        (
            Table::Hourly,
            &[Dim::Hour, Dim::Source, Dim::Category, Dim::Outcome],
            Vec::new(),
        ),
        (Table::Actors, &[Dim::Actor], Vec::new()),
    ]
}

/// Sets a dashboard call's cubes and clears them when dropped.
struct CubeGuard<'s>(&'s Store);

impl Drop for CubeGuard<'_> {
    fn drop(&mut self) {
        self.0.cubes.borrow_mut().clear();
    }
}

// ---------------------------------------------------------------------------------------------------------
// The aggregates

impl Store {
    /// Compiles query text for the events table (the text is built here from checked parts, or is the caller's
    /// query, checked by `Scope::check`).
    fn compiled(&self, text: &str, now: i64) -> Result<(String, Vec<SqlValue>), StatsError> {
        let q = query::parse(text)?;
        let f = query::compile(&q, now);
        Ok((f.sql, f.params.into_iter().map(bind_one).collect()))
    }

    /// Counts of the counted events in scope that pass `filters`, grouped by `dims`; the `top` largest groups
    /// only, when given.
    fn aggregate(
        &self,
        scope: &Scope,
        table: Table,
        dims: &[Dim],
        filters: &[Filter],
        top: Option<usize>,
        now: i64,
    ) -> Result<Vec<Group>, StatsError> {
        if let Some(cube) = self
            .cubes
            .borrow()
            .iter()
            .find(|c| c.answers(scope, now, table, dims, filters))
        {
            return Ok(cube.answer(dims, filters, top));
        }
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
            let (where_sql, params) = self.compiled(&terms.join(" "), now)?;
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
                let (where_sql, p) = self.compiled(&terms.join(" "), now)?;
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
        let mut stmt = self.conn.prepare(&sql)?;
        let width = dims.len();
        let rows = stmt
            .query_map(params_from_iter(params), |r| {
                let keys = (0..width)
                    .map(|i| r.get::<_, SqlValue>(i))
                    .collect::<Result<Vec<_>, _>>()?;
                let n: Option<i64> = r.get(width)?;
                Ok((keys, n.unwrap_or(0).max(0) as u64))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .filter(|(_, n)| *n > 0 || width == 0)
            .collect())
    }

    /// Fetches the cubes a dashboard call reads its figures from; they live until the guard is dropped.
    fn cubes(
        &self,
        scope: &Scope,
        now: i64,
        specs: &[(Table, &[Dim], Vec<Filter>)],
    ) -> Result<CubeGuard<'_>, StatsError> {
        self.cubes.borrow_mut().clear();
        let mut cubes = Vec::with_capacity(specs.len());
        // With a query every figure is counted from the matching events: one pass with the union of the columns
        // (when the cubes share their filters) instead of one per cube.
        let shared = specs.windows(2).all(|w| {
            w[0].2.len() == w[1].2.len() && w[0].2.iter().zip(&w[1].2).all(|(a, b)| a.same(b))
        });
        if scope.has_query() && shared && !specs.is_empty() {
            let mut dims: Vec<Dim> = Vec::new();
            for (_, ds, _) in specs {
                for d in ds.iter() {
                    if !dims.contains(d) {
                        dims.push(*d);
                    }
                }
            }
            let base = specs[0].2.clone();
            let rows = self.aggregate(scope, specs[0].0, &dims, &base, None, now)?;
            *self.cubes.borrow_mut() = vec![Cube {
                scope: scope.clone(),
                now,
                table: None,
                dims,
                base,
                rows,
            }];
            return Ok(CubeGuard(self));
        }
        for (table, dims, base) in specs {
            let rows = self.aggregate(scope, *table, dims, base, None, now)?;
            cubes.push(Cube {
                scope: scope.clone(),
                now,
                table: Some(*table),
                dims: dims.to_vec(),
                base: base.clone(),
                rows,
            });
        }
        *self.cubes.borrow_mut() = cubes;
        Ok(CubeGuard(self))
    }

    /// One number: the counted events in scope that pass `filters`.
    fn figure(
        &self,
        scope: &Scope,
        table: Table,
        filters: &[Filter],
        now: i64,
    ) -> Result<Figure, StatsError> {
        let rows = self.aggregate(scope, table, &[], filters, None, now)?;
        Ok(Figure {
            key: None,
            count: rows.first().map_or(0, |(_, n)| *n),
            drill: scope.drill(&filters_text(filters)),
        })
    }

    /// One figure per value of `dim`.
    fn breakdown(
        &self,
        scope: &Scope,
        table: Table,
        dim: Dim,
        filters: &[Filter],
        top: Option<usize>,
        now: i64,
    ) -> Result<Vec<Figure>, StatsError> {
        let rows = self.aggregate(scope, table, &[dim], filters, top, now)?;
        // `actor:alice` implies `actor:*`: the grouped field's presence filter is left out of the drill-down.
        let kept: Vec<&Filter> = filters
            .iter()
            .filter(|f| !matches!(f, Filter::Present(d) if *d == dim))
            .collect();
        Ok(rows
            .into_iter()
            .map(|(keys, count)| {
                let key = keys.first().and_then(key_text);
                let mut terms: Vec<String> = if key.is_some() {
                    kept.iter().map(|f| f.text()).collect()
                } else {
                    filters_text(filters)
                };
                terms.push(dim.term(key.as_deref()));
                Figure {
                    drill: scope.drill(&terms),
                    key,
                    count,
                }
            })
            .collect())
    }

    /// Counts per time bucket, one series per value of `dim`.
    fn time_series(
        &self,
        scope: &Scope,
        dim: Dim,
        order: &[&str],
        filters: &[Filter],
        max_buckets: usize,
        now: i64,
    ) -> Result<TimeSeries, StatsError> {
        let rows = self.aggregate(scope, Table::Hourly, &[Dim::Hour, dim], filters, None, now)?;
        let mut untimed = 0;
        let mut timed: Vec<(i64, Option<String>, u64)> = Vec::new();
        for (keys, n) in rows {
            let key = keys.get(1).and_then(key_text);
            match keys.first().and_then(key_int) {
                Some(h) => timed.push((h, key, n)),
                None => untimed += n,
            }
        }
        let mut untimed_terms = filters_text(filters);
        untimed_terms.push("-time:*".into());
        let untimed = Figure {
            key: None,
            count: untimed,
            drill: scope.drill(&untimed_terms),
        };
        let first = scope
            .from
            .map(hour_of)
            .or_else(|| timed.iter().map(|t| t.0).min());
        let end = scope
            .to
            .map(|t| -(-t).div_euclid(HOUR))
            .or_else(|| timed.iter().map(|t| t.0 + 1).max());
        let (Some(first), Some(end)) = (first, end) else {
            return Ok(TimeSeries {
                start: None,
                bucket_micros: HOUR,
                buckets: 0,
                series: Vec::new(),
                untimed,
            });
        };
        let span = (end - first).max(1);
        let max = max_buckets.max(1) as i64;
        let width = NICE_HOURS
            .iter()
            .copied()
            .find(|w| (span + w - 1) / w <= max)
            .unwrap_or_else(|| 8760 * ((span / 8760) / max + 1));
        let start = first.div_euclid(width) * width;
        let buckets = ((end - start + width - 1) / width).max(1) as usize;
        // Series in vocabulary order, then any other value, then the events lacking it.
        let mut keys: Vec<Option<String>> = Vec::new();
        for (_, k, _) in &timed {
            if !keys.iter().any(|x| {
                x.as_deref().map(str::to_ascii_lowercase)
                    == k.as_deref().map(str::to_ascii_lowercase)
            }) {
                keys.push(k.clone());
            }
        }
        let rank = |k: &Option<String>| match k {
            Some(v) => order
                .iter()
                .position(|o| o.eq_ignore_ascii_case(v))
                .unwrap_or(order.len()),
            None => order.len() + 1,
        };
        keys.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
        let mut series = Vec::with_capacity(keys.len());
        for key in keys {
            let lower = key.as_deref().map(str::to_ascii_lowercase);
            let mut counts = vec![0u64; buckets];
            for (h, k, n) in &timed {
                if k.as_deref().map(str::to_ascii_lowercase) == lower {
                    let i = ((h - start) / width) as usize;
                    if let Some(c) = counts.get_mut(i) {
                        *c += n;
                    }
                }
            }
            let drills = (0..buckets)
                .map(|i| {
                    let b = (start + i as i64 * width) * HOUR;
                    let mut terms = filters_text(filters);
                    terms.push(dim.term(key.as_deref()));
                    terms.push(format!(
                        "after:{} before:{}",
                        format_utc(b),
                        format_utc(b + width * HOUR)
                    ));
                    scope.drill(&terms)
                })
                .collect();
            series.push(Series {
                key,
                counts,
                drills,
            });
        }
        Ok(TimeSeries {
            start: Some(start * HOUR),
            bucket_micros: width * HOUR,
            buckets,
            series,
            untimed,
        })
    }

    /// Counts per UTC day (days between the first and the last with a count, inclusive).
    fn per_day(
        &self,
        scope: &Scope,
        filters: &[Filter],
        now: i64,
    ) -> Result<Vec<DayCount>, StatsError> {
        let rows = self.aggregate(scope, Table::Hourly, &[Dim::Hour], filters, None, now)?;
        let mut days: BTreeMap<i64, u64> = BTreeMap::new();
        for (keys, n) in rows {
            if let Some(h) = keys.first().and_then(key_int) {
                *days.entry(h.div_euclid(24)).or_default() += n;
            }
        }
        let (Some(&first), Some(&last)) = (days.keys().next(), days.keys().next_back()) else {
            return Ok(Vec::new());
        };
        Ok((first..=last)
            .map(|d| {
                let start = d * DAY;
                let mut terms = filters_text(filters);
                terms.push(format!("time:{}", &format_utc(start)[..10]));
                DayCount {
                    day: format_utc(start)[..10].to_owned(),
                    count: days.get(&d).copied().unwrap_or(0),
                    drill: scope.drill(&terms),
                }
            })
            .collect())
    }

    /// The newest events of a figure: at most `limit`, and no search at all when the figure is zero (the scan
    /// stops at the last match it needs, so a rare figure does not cost a walk over the whole store).
    fn recent(&self, figure: &Figure, limit: usize, now: i64) -> Result<Vec<EventRow>, StatsError> {
        let n = limit.min(usize::try_from(figure.count).unwrap_or(usize::MAX));
        if n == 0 {
            return Ok(Vec::new());
        }
        Ok(self.newest(&figure.drill, n, now)?)
    }

    /// Time of the first and last counted event in scope: the first (last) matching id, then the exact time
    /// within that id's millisecond (read without the range's id bounds, which SQLite would otherwise prefer
    /// to the bucket's, and with the range on `ts` itself).
    fn span(&self, scope: &Scope, now: i64) -> Result<Option<TimeSpan>, StatsError> {
        let (sql, params) = self.compiled(&scope.base(true), now)?;
        let (base_sql, base_params) = self.compiled(&scope.base(false), now)?;
        // Timed events only (ids >= 0). With a range, the compiled bounds already say so; a second lower bound
        // on the id would let SQLite pick the wider one.
        let timed = if scope.from.is_some() {
            ""
        } else {
            "e.id >= 0 AND "
        };
        let edge = |desc: bool| -> Result<Option<i64>, StatsError> {
            let dir = if desc { "DESC" } else { "ASC" };
            let id: Option<i64> = self
                .conn
                .query_row(
                    &format!(
                        "SELECT e.id FROM events e WHERE {timed}({sql}) ORDER BY e.id {dir} LIMIT 1"
                    ),
                    params_from_iter(params.clone()),
                    |r| r.get(0),
                )
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })?;
            let Some(id) = id else { return Ok(None) };
            let bucket = id & !(super::rowid::BUCKET - 1);
            let agg = if desc { "max" } else { "min" };
            let mut p = vec![
                SqlValue::Integer(bucket),
                SqlValue::Integer(bucket + super::rowid::BUCKET),
                SqlValue::Integer(scope.from.unwrap_or(i64::MIN)),
                SqlValue::Integer(scope.to.unwrap_or(i64::MAX)),
            ];
            p.extend(base_params.iter().cloned());
            Ok(self.conn.query_row(
                &format!(
                    "SELECT {agg}(e.ts) FROM events e
                     WHERE e.id >= ? AND e.id < ? AND e.ts >= ? AND e.ts < ? AND ({base_sql})"
                ),
                params_from_iter(p),
                |r| r.get(0),
            )?)
        };
        Ok(match (edge(false)?, edge(true)?) {
            (Some(first), Some(last)) => Some(TimeSpan {
                first,
                last,
                first_text: format_utc(first),
                last_text: format_utc(last),
            }),
            _ => None,
        })
    }

    /// The archives in scope (by status and time range) whose stored fields come from the producer's mapping file,
    /// by origin and sequence. A scope's query is not applied: the list may name an archive none of whose events
    /// match it, never miss one that has.
    pub fn producer_rules(&self, scope: &Scope) -> Result<Vec<ArchiveNote>, StatsError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, origin, sequence, path, status, normalization, source_kind, mapping FROM archives
             WHERE normalization = 'mapping' AND status != 'failed' AND (?1 OR status = 'verified')
               AND (?2 IS NULL OR time_last >= ?2) AND (?3 IS NULL OR time_first < ?3)
             ORDER BY origin, sequence, id",
        )?;
        let rows = stmt
            .query_map(
                rusqlite::params![scope.include_unverified, scope.from, scope.to],
                |r| {
                    let normalization = super::renormalize::normalization_of(
                        r.get::<_, Option<String>>(5)?.as_deref(),
                        r.get::<_, Option<String>>(6)?.as_deref(),
                        r.get::<_, Option<Vec<u8>>>(7)?.as_deref(),
                    );
                    Ok(ArchiveNote {
                        archive_id: r.get(0)?,
                        origin: r.get(1)?,
                        sequence: r.get(2)?,
                        path: r.get(3)?,
                        status: r.get(4)?,
                        reason: Some(normalization.map_or_else(
                            || "producer's mapping file (producer rules)".to_owned(),
                            |n| n.text,
                        )),
                    })
                },
            )?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    fn verification_summary(&self) -> Result<VerificationSummary, StatsError> {
        let archives = self.archives()?;
        let note = |a: &super::ArchiveRow, reason: Option<String>| ArchiveNote {
            archive_id: a.id,
            origin: a.origin.clone(),
            sequence: a.sequence,
            path: a.path.clone(),
            status: a.status.clone(),
            reason,
        };
        let failure_text = |f: &Option<String>| {
            f.as_deref().map(|text| {
                serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
                    .unwrap_or_else(|| text.to_owned())
            })
        };
        let mut s = VerificationSummary {
            all_verified: true,
            archives: archives.len() as u64,
            verified: 0,
            untrusted: Vec::new(),
            failed: Vec::new(),
            gaps: Vec::new(),
            lookalikes: crate::safe_text::lookalike_groups(
                archives.iter().filter_map(|a| a.origin.as_deref()),
            ),
        };
        for a in &archives {
            match a.status.as_str() {
                "verified" => s.verified += 1,
                "untrusted" => s.untrusted.push(note(a, failure_text(&a.failure))),
                _ => s.failed.push(note(a, failure_text(&a.failure))),
            }
            if let Some(seq) = a.gap_before {
                s.gaps.push(note(
                    a,
                    Some(format!(
                        "sequences before {seq} are missing for this origin"
                    )),
                ));
            }
        }
        s.all_verified = s.untrusted.is_empty() && s.failed.is_empty() && s.gaps.is_empty();
        Ok(s)
    }

    // -----------------------------------------------------------------------------------------------------
    // Public dashboards

    /// `auditlens stats`: total, counts by category, outcome and source, top actors and deployments per day,
    /// each with its drill-down query.
    pub fn stats(&self, scope: &Scope, top: usize, now_micros: i64) -> Result<Stats, StatsError> {
        scope.check()?;
        let now = now_micros;
        let _cubes = self.cubes(scope, now, &overview_cubes())?;
        let total = self.figure(scope, Table::Hourly, &[], now)?;
        let mut stats = Stats {
            total: total.count,
            by_category: BTreeMap::new(),
            by_outcome: BTreeMap::new(),
            by_source: BTreeMap::new(),
            top_actors: Vec::new(),
            deployments_per_day: Vec::new(),
            drill: StatsDrills {
                total: total.drill,
                by_category: BTreeMap::new(),
                by_outcome: BTreeMap::new(),
                by_source: BTreeMap::new(),
            },
            scope: ScopeInfo::from(scope),
        };
        let fill = |figures: Vec<Figure>,
                    counts: &mut BTreeMap<String, u64>,
                    drills: &mut BTreeMap<String, String>| {
            for f in figures {
                let key = f.key.unwrap_or_else(|| MISSING.to_owned());
                *counts.entry(key.clone()).or_default() += f.count;
                drills.insert(key, f.drill);
            }
        };
        let (by_category, by_outcome, by_source) = (
            self.by_vocabulary(scope, Dim::Category, &CATEGORIES, now)?,
            self.by_vocabulary(scope, Dim::Outcome, &OUTCOMES, now)?,
            self.breakdown(scope, Table::Hourly, Dim::Source, &[], None, now)?,
        );
        fill(
            by_category,
            &mut stats.by_category,
            &mut stats.drill.by_category,
        );
        fill(
            by_outcome,
            &mut stats.by_outcome,
            &mut stats.drill.by_outcome,
        );
        fill(by_source, &mut stats.by_source, &mut stats.drill.by_source);
        stats.top_actors = self
            .breakdown(
                scope,
                Table::Actors,
                Dim::Actor,
                &[Filter::Present(Dim::Actor)],
                Some(top.max(1)),
                now,
            )?
            .into_iter()
            .filter_map(|f| {
                Some(ActorCount {
                    actor: f.key?,
                    count: f.count,
                    drill: f.drill,
                })
            })
            .collect();
        stats.deployments_per_day = self.per_day(
            scope,
            &[Filter::Is(Dim::Category, "deployment".into())],
            now,
        )?;
        Ok(stats)
    }

    /// A breakdown that lists every word of a vocabulary (with zero counts), then any other value, then the
    /// events lacking one.
    fn by_vocabulary(
        &self,
        scope: &Scope,
        dim: Dim,
        vocabulary: &[&str],
        now: i64,
    ) -> Result<Vec<Figure>, StatsError> {
        let found = self.breakdown(scope, Table::Hourly, dim, &[], None, now)?;
        let mut out: Vec<Figure> = vocabulary
            .iter()
            .map(|w| {
                let hit = found
                    .iter()
                    .find(|f| f.key.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(w)));
                Figure {
                    key: Some((*w).to_owned()),
                    count: hit.map_or(0, |f| f.count),
                    drill: hit
                        .map_or_else(|| scope.drill(&[dim.term(Some(w))]), |f| f.drill.clone()),
                }
            })
            .collect();
        out.extend(found.into_iter().filter(|f| {
            !f.key
                .as_deref()
                .is_some_and(|k| vocabulary.iter().any(|w| w.eq_ignore_ascii_case(k)))
        }));
        Ok(out)
    }

    /// The overview dashboard.
    pub fn overview(
        &self,
        scope: &Scope,
        opts: &DashboardOptions,
        now_micros: i64,
    ) -> Result<Overview, StatsError> {
        scope.check()?;
        opts.check()?;
        let now = now_micros;
        let _cubes = self.cubes(scope, now, &overview_cubes())?;
        Ok(Overview {
            scope: ScopeInfo::from(scope),
            verification: self.verification_summary()?,
            total: self.figure(scope, Table::Hourly, &[], now)?,
            by_category: self.by_vocabulary(scope, Dim::Category, &CATEGORIES, now)?,
            by_outcome: self.by_vocabulary(scope, Dim::Outcome, &OUTCOMES, now)?,
            by_source: self.breakdown(scope, Table::Hourly, Dim::Source, &[], None, now)?,
            over_time: self.time_series(
                scope,
                Dim::Category,
                &CATEGORIES,
                &[],
                opts.buckets,
                now,
            )?,
            top_actors: self.breakdown(
                scope,
                Table::Actors,
                Dim::Actor,
                &[Filter::Present(Dim::Actor)],
                Some(opts.top),
                now,
            )?,
            time_range: self.span(scope, now)?,
            producer_rules: self.producer_rules(scope)?,
        })
    }

    /// The deployments dashboard.
    pub fn deployments(
        &self,
        scope: &Scope,
        opts: &DashboardOptions,
        now_micros: i64,
    ) -> Result<Deployments, StatsError> {
        scope.check()?;
        opts.check()?;
        let now = now_micros;
        let deployment = Filter::Is(Dim::Category, "deployment".into());
        let failed = Filter::AnyOf(Dim::Outcome, vec!["failure".into(), "denied".into()]);
        let off = Filter::OffHours(opts.working_hours);
        let _cubes = self.cubes(
            scope,
            now,
            &[
                (
                    Table::Hourly,
                    &[Dim::Hour, Dim::Outcome],
                    vec![deployment.clone()],
                ),
                (
                    Table::Actors,
                    &[Dim::Hour, Dim::Env, Dim::Actor, Dim::Outcome],
                    vec![deployment.clone()],
                ),
            ],
        )?;
        let total = self.figure(scope, Table::Hourly, std::slice::from_ref(&deployment), now)?;
        let failed_fig = self.figure(
            scope,
            Table::Hourly,
            &[deployment.clone(), failed.clone()],
            now,
        )?;
        let envs = self.breakdown(
            scope,
            Table::Actors,
            Dim::Env,
            std::slice::from_ref(&deployment),
            Some(opts.top),
            now,
        )?;
        let failed_by_env = self.breakdown(
            scope,
            Table::Actors,
            Dim::Env,
            &[deployment.clone(), failed.clone()],
            None,
            now,
        )?;
        let mut lanes = Vec::with_capacity(envs.len());
        for env in envs {
            let same = |f: &&Figure| {
                f.key.as_deref().map(str::to_ascii_lowercase)
                    == env.key.as_deref().map(str::to_ascii_lowercase)
            };
            let failed_lane = failed_by_env
                .iter()
                .find(same)
                .cloned()
                .unwrap_or_else(|| Figure {
                    key: env.key.clone(),
                    count: 0,
                    drill: scope.drill(&[
                        deployment.text(),
                        failed.text(),
                        Dim::Env.term(env.key.as_deref()),
                    ]),
                });
            let recent = self.recent(&env, opts.recent, now)?;
            lanes.push(Lane {
                deployments: env,
                failed: failed_lane,
                recent,
            });
        }
        let rare_all = self.breakdown(
            scope,
            Table::Actors,
            Dim::Actor,
            &[deployment.clone(), Filter::Present(Dim::Actor)],
            None,
            now,
        )?;
        let mut rare_actors: Vec<Figure> = rare_all
            .into_iter()
            .filter(|f| f.count <= opts.rare_max)
            .collect();
        rare_actors.sort_by(|a, b| a.count.cmp(&b.count).then_with(|| a.key.cmp(&b.key)));
        rare_actors.truncate(opts.top);
        Ok(Deployments {
            scope: ScopeInfo::from(scope),
            working_hours: opts.working_hours.query_value(),
            per_day: self.per_day(scope, std::slice::from_ref(&deployment), now)?,
            lanes,
            failed_recent: self.recent(&failed_fig, opts.recent, now)?,
            failed: failed_fig,
            off_hours: self.figure(
                scope,
                Table::Hourly,
                &[deployment.clone(), off.clone()],
                now,
            )?,
            off_hours_by_actor: self.breakdown(
                scope,
                Table::Actors,
                Dim::Actor,
                &[deployment.clone(), off, Filter::Present(Dim::Actor)],
                Some(opts.top),
                now,
            )?,
            rare_actors,
            recent: self.recent(&total, opts.recent, now)?,
            total,
            producer_rules: self.producer_rules(scope)?,
        })
    }

    /// The access dashboard.
    pub fn access(
        &self,
        scope: &Scope,
        opts: &DashboardOptions,
        now_micros: i64,
    ) -> Result<Access, StatsError> {
        scope.check()?;
        opts.check()?;
        let now = now_micros;
        let access = Filter::Is(Dim::Category, "access".into());
        let denied = Filter::Is(Dim::Outcome, "denied".into());
        let off = Filter::OffHours(opts.working_hours);
        let _cubes = self.cubes(
            scope,
            now,
            &[
                (
                    Table::Hourly,
                    &[Dim::Hour, Dim::Category, Dim::Outcome, Dim::Privilege],
                    Vec::new(),
                ),
                (
                    Table::Actors,
                    &[Dim::Hour, Dim::Category, Dim::Outcome, Dim::Actor],
                    Vec::new(),
                ),
            ],
        )?;
        let privileged_found = self.breakdown(
            scope,
            Table::Hourly,
            Dim::Privilege,
            &[Filter::Present(Dim::Privilege)],
            None,
            now,
        )?;
        let privileged = PRIVILEGES
            .iter()
            .map(|p| {
                privileged_found
                    .iter()
                    .find(|f| f.key.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(p)))
                    .cloned()
                    .unwrap_or_else(|| Figure {
                        key: Some((*p).to_owned()),
                        count: 0,
                        drill: scope.drill(&[
                            Filter::Present(Dim::Privilege).text(),
                            Dim::Privilege.term(Some(p)),
                        ]),
                    })
            })
            .collect();
        let denied_rows = self.denied_rows(scope, now)?;
        let privileged_all = Figure {
            key: None,
            count: privileged_found.iter().map(|f| f.count).sum(),
            drill: scope.drill(&[Filter::Present(Dim::Privilege).text()]),
        };
        Ok(Access {
            scope: ScopeInfo::from(scope),
            working_hours: opts.working_hours.query_value(),
            total: self.figure(scope, Table::Hourly, std::slice::from_ref(&access), now)?,
            over_time: self.time_series(
                scope,
                Dim::Outcome,
                &OUTCOMES,
                std::slice::from_ref(&access),
                opts.buckets,
                now,
            )?,
            denied: self.figure(scope, Table::Hourly, std::slice::from_ref(&denied), now)?,
            denied_by_actor: self.breakdown(
                scope,
                Table::Actors,
                Dim::Actor,
                &[denied.clone(), Filter::Present(Dim::Actor)],
                Some(opts.top),
                now,
            )?,
            denied_by_actor_resource: self.denied_pairs(scope, &denied_rows, opts.top),
            privileged,
            privileged_recent: self.recent(&privileged_all, opts.recent, now)?,
            first_seen: self.first_seen(scope, opts.top, now)?,
            off_hours: self.figure(scope, Table::Hourly, &[access.clone(), off.clone()], now)?,
            off_hours_by_actor: self.breakdown(
                scope,
                Table::Actors,
                Dim::Actor,
                &[access, off, Filter::Present(Dim::Actor)],
                Some(opts.top),
                now,
            )?,
            bursts: self.bursts(scope, &denied_rows, opts),
            producer_rules: self.producer_rules(scope)?,
        })
    }

    /// The denied events in scope (actor, resource, time), in the order of the partial index over denied events
    /// (actor, then resource, ASCII case-insensitively): one pass that both the denied pairs and the bursts
    /// are counted from. The literal `outcome = 'denied'` lets SQLite use that index, which also holds the
    /// stage and archive columns the counting rule reads.
    fn denied_rows(&self, scope: &Scope, now: i64) -> Result<Vec<DeniedRow>, StatsError> {
        let denied = Filter::Is(Dim::Outcome, "denied".into());
        let (sql, params) = self.compiled(&scope.drill(&[denied.text()]), now)?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT e.actor, e.resource, e.ts FROM events e INDEXED BY events_denied
             WHERE e.outcome = 'denied' AND ({sql}) ORDER BY e.actor, e.resource"
        ))?;
        let rows = stmt
            .query_map(params_from_iter(params), |r| {
                Ok(DeniedRow {
                    actor: r.get(0)?,
                    resource: r.get(1)?,
                    ts: r.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Denied events grouped by actor and resource (as SQL groups NOCASE columns: ASCII case-insensitively,
    /// named by the group's first row), largest first, then by actor and resource.
    fn denied_pairs(&self, scope: &Scope, rows: &[DeniedRow], top: usize) -> Vec<DeniedPair> {
        let denied = Filter::Is(Dim::Outcome, "denied".into());
        let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            (None, None) => true,
            _ => false,
        };
        let mut groups: Vec<(&Option<String>, &Option<String>, u64)> = Vec::new();
        for r in rows {
            match groups.last_mut() {
                Some((a, res, n)) if same(a, &r.actor) && same(res, &r.resource) => *n += 1,
                _ => groups.push((&r.actor, &r.resource, 1)),
            }
        }
        let key = |v: &Option<String>| v.as_ref().map(|s| s.to_ascii_lowercase());
        groups.sort_by(|a, b| {
            b.2.cmp(&a.2)
                .then_with(|| key(a.0).cmp(&key(b.0)))
                .then_with(|| key(a.1).cmp(&key(b.1)))
        });
        groups.truncate(top);
        groups
            .into_iter()
            .map(|(actor, resource, n)| DeniedPair {
                drill: scope.drill(&[
                    denied.text(),
                    Dim::Actor.term(actor.as_deref()),
                    field_term("resource", resource.as_deref()),
                ]),
                actor: actor.clone(),
                resource: resource.clone(),
                count: n,
            })
            .collect()
    }

    /// Actors whose earliest counted event in scope (the time range set aside) lies in the time range, the most
    /// recently first seen first, with their events in the range.
    fn first_seen(
        &self,
        scope: &Scope,
        top: usize,
        now: i64,
    ) -> Result<Vec<FirstSeen>, StatsError> {
        let universe = Scope {
            from: None,
            to: None,
            ..scope.clone()
        };
        let (base_sql, base_params) = self.compiled(&universe.base(false), now)?;
        let in_range = |t: i64| scope.from.is_none_or(|f| t >= f) && scope.to.is_none_or(|e| t < e);
        let mut found: Vec<(String, i64)> = Vec::new();
        // Candidates: each actor with the UTC hour of its first counted event (scope but for the time range).
        let candidates: Vec<(String, i64)> =
            if scope.has_query() && scope.from.is_none() && scope.to.is_none() {
                // No time range: the universe is the scope, whose events the dashboard's cube has counted per actor
                // and hour already (no second pass over the matching events).
                let groups = self.aggregate(
                    scope,
                    Table::Actors,
                    &[Dim::Actor, Dim::Hour],
                    &[Filter::Present(Dim::Actor)],
                    None,
                    now,
                )?;
                // Actors ASCII case-insensitively, as the NOCASE column groups them (named as first seen).
                let mut first: HashMap<String, (String, i64)> = HashMap::new();
                for (keys, _) in groups {
                    let (SqlValue::Text(actor), SqlValue::Integer(hour)) = (&keys[0], &keys[1])
                    else {
                        continue;
                    };
                    first
                        .entry(actor.to_ascii_lowercase())
                        .and_modify(|(_, h)| *h = (*h).min(*hour))
                        .or_insert_with(|| (actor.clone(), *hour));
                }
                let mut first: Vec<(String, (String, i64))> = first.into_iter().collect();
                first.sort_by(|(ka, a), (kb, b)| b.1.cmp(&a.1).then_with(|| ka.cmp(kb)));
                let first: Vec<(String, i64)> = first.into_iter().map(|(_, v)| v).collect();
                first
            } else if scope.has_query() {
                let mut p = base_params.clone();
                let mut having = Vec::new();
                if let Some(f) = scope.from {
                    having.push("min(e.ts) >= ?");
                    p.push(SqlValue::Integer(f));
                }
                if let Some(t) = scope.to {
                    having.push("min(e.ts) < ?");
                    p.push(SqlValue::Integer(t));
                }
                let having = if having.is_empty() {
                    String::new()
                } else {
                    format!(" HAVING {}", having.join(" AND "))
                };
                let sql = format!(
                    "SELECT e.actor, min(e.ts) AS first FROM events e
                 WHERE e.actor IS NOT NULL AND e.ts IS NOT NULL AND ({base_sql})
                 GROUP BY e.actor{having} ORDER BY first DESC, 1 LIMIT {top}"
                );
                let mut stmt = self.conn.prepare(&sql)?;
                found = stmt
                    .query_map(params_from_iter(p), |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()?;
                Vec::new()
            } else {
                // From the actor summary (their first hour is not before the range's first hour).
                let join = if scope.include_unverified {
                    ""
                } else {
                    " JOIN archives a ON a.id = r.archive_id AND a.status = 'verified'"
                };
                let mut p = Vec::new();
                let mut having = Vec::new();
                if let Some(f) = scope.from {
                    having.push("min(r.hour) >= ?");
                    p.push(SqlValue::Integer(hour_of(f)));
                }
                if let Some(t) = scope.to {
                    having.push("min(r.hour) <= ?");
                    p.push(SqlValue::Integer(hour_of(t)));
                }
                let having = if having.is_empty() {
                    String::new()
                } else {
                    format!(" HAVING {}", having.join(" AND "))
                };
                let sql = format!(
                    "SELECT r.actor, min(r.hour) AS first FROM rollup_actors r{join}
                 WHERE r.actor IS NOT NULL AND r.hour IS NOT NULL
                 GROUP BY r.actor{having} ORDER BY first DESC, 1"
                );
                let mut stmt = self.conn.prepare(&sql)?;
                stmt.query_map(params_from_iter(p), |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()?
            };
        // Most recent first hour first; each candidate's exact first time from its events in id (= time) order
        // from the start of that hour, until `top` are found and the next candidate's hour is earlier.
        let first_id_sql = format!(
            "SELECT e.id FROM events e WHERE e.actor = ? AND e.id >= ? AND ({base_sql}) ORDER BY e.id LIMIT 1"
        );
        let first_ts_sql = format!(
            "SELECT min(e.ts) FROM events e WHERE e.actor = ? AND e.id >= ? AND e.id < ? AND ({base_sql})"
        );
        let mut last_hour = None;
        for (actor, hour) in candidates {
            if found.len() >= top && last_hour != Some(hour) {
                break;
            }
            last_hour = Some(hour);
            let mut p = vec![
                SqlValue::Text(actor.clone()),
                SqlValue::Integer(super::rowid::bucket_start(hour.saturating_mul(HOUR))),
            ];
            p.extend(base_params.iter().cloned());
            let id: Option<i64> =
                match self
                    .conn
                    .query_row(&first_id_sql, params_from_iter(p), |r| r.get(0))
                {
                    Ok(id) => Some(id),
                    Err(rusqlite::Error::QueryReturnedNoRows) => None,
                    Err(e) => return Err(e.into()),
                };
            let Some(id) = id else { continue };
            let bucket = id & !(super::rowid::BUCKET - 1);
            let mut p = vec![
                SqlValue::Text(actor.clone()),
                SqlValue::Integer(bucket),
                SqlValue::Integer(bucket + super::rowid::BUCKET),
            ];
            p.extend(base_params.iter().cloned());
            let first: Option<i64> =
                self.conn
                    .query_row(&first_ts_sql, params_from_iter(p), |r| r.get(0))?;
            if let Some(first) = first.filter(|t| in_range(*t)) {
                found.push((actor, first));
            }
        }
        found.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| a.0.to_ascii_lowercase().cmp(&b.0.to_ascii_lowercase()))
        });
        found.truncate(top);
        found
            .into_iter()
            .map(|(actor, first)| {
                let events = self.figure(
                    scope,
                    Table::Actors,
                    &[Filter::Is(Dim::Actor, actor.clone())],
                    now,
                )?;
                Ok(FirstSeen {
                    actor,
                    first_seen: first,
                    first_seen_text: format_utc(first),
                    events,
                })
            })
            .collect()
    }

    /// Actors with at least `burst_min` denied events within `burst_window_secs`: for each, the window (starting
    /// at one of its denied events) holding the most, largest first. `rows` are the denied events in scope,
    /// grouped by actor ASCII case-insensitively (as `actor:` matches); an actor is named by its earliest event.
    fn bursts(&self, scope: &Scope, rows: &[DeniedRow], opts: &DashboardOptions) -> Vec<Burst> {
        let terms = [
            Filter::Is(Dim::Outcome, "denied".into()).text(),
            "actor:*".to_owned(),
            "time:*".to_owned(),
        ];
        let mut timed: Vec<(&str, i64)> = rows
            .iter()
            .filter_map(|r| Some((r.actor.as_deref()?, r.ts?)))
            .collect();
        // Stable: within an actor, time order; the input is already grouped by actor.
        let mut start = 0;
        while start < timed.len() {
            let mut end = start;
            while end < timed.len() && timed[end].0.eq_ignore_ascii_case(timed[start].0) {
                end += 1;
            }
            timed[start..end].sort_by_key(|r| r.1);
            start = end;
        }
        let rows = timed;
        let window = opts.burst_window_secs.saturating_mul(1_000_000);
        let mut bursts = Vec::new();
        let mut i = 0;
        while i < rows.len() {
            // One actor's events (ASCII case-insensitively equal names, as `actor:` matches), in time order.
            let mut j = i;
            while j < rows.len() && rows[j].0.eq_ignore_ascii_case(rows[i].0) {
                j += 1;
            }
            let times: Vec<i64> = rows[i..j].iter().map(|r| r.1).collect();
            let (mut best, mut best_start, mut hi) = (0usize, 0i64, 0usize);
            for (lo, &start) in times.iter().enumerate() {
                hi = hi.max(lo);
                while hi < times.len() && times[hi] < start.saturating_add(window) {
                    hi += 1;
                }
                if hi - lo > best {
                    best = hi - lo;
                    best_start = start;
                }
            }
            if best as u64 >= opts.burst_min {
                let actor = rows[i].0.to_owned();
                let end = best_start.saturating_add(window);
                bursts.push(Burst {
                    drill: scope.drill(&[
                        terms[0].clone(),
                        Dim::Actor.term(Some(&actor)),
                        format!(
                            "after:{} before:{}",
                            format_utc(best_start),
                            format_utc(end)
                        ),
                    ]),
                    actor,
                    start: format_utc(best_start),
                    end: format_utc(end),
                    count: best as u64,
                });
            }
            i = j;
        }
        bursts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.actor.cmp(&b.actor)));
        bursts.truncate(opts.top);
        bursts
    }
}
