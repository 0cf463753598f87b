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
//!
//! Layout: this module holds the constants, the [`Scope`], [`WorkingHours`] and [`DashboardOptions`]; `model`
//! the result types; `plan` the pure planner (which tables or events answer a count, and its SQL); `counter` the
//! cube cache of one dashboard call; `figures` the figure builders the dashboards share; `summary`, `overview`,
//! `deployments` and `access` one dashboard each.

mod access;
mod counter;
mod deployments;
pub(crate) mod drill;
mod figures;
mod model;
mod overview;
mod people;
mod plan;
mod summary;

pub use model::{
    Access, ActorCount, ArchiveNote, Burst, DayCount, DeniedPair, Deployments, Figure, FirstSeen,
    Lane, Overview, Series, Stats, StatsDrills, TimeSeries, TimeSpan, VerificationSummary,
};
pub use plan::quote_value;

use serde::{Deserialize, Serialize};

use super::StoreError;
use super::search::SearchError;
use crate::query::{self, QueryError};
use crate::time::format_utc;

/// Kubernetes stages that are records of a request still in progress: stored, searchable, never counted.
pub const UNCOUNTED_STAGES: [&str; 2] = ["RequestReceived", "ResponseStarted"];
/// One hour and one day, in microseconds.
pub const HOUR: i64 = 3_600_000_000;
pub const DAY: i64 = 24 * HOUR;
/// The key of a figure for events that lack the value (in `stats --json` objects).
pub const MISSING: &str = "(none)";
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
    /// Set by a caller holding keys (the app): the archives these figures count as verified whose signer those
    /// keys do not trust now ([`Store::untrusted_now`](crate::store::Store::untrusted_now)), with the reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub not_trusted_now: Option<Vec<ArchiveNote>>,
}

impl From<&Scope> for ScopeInfo {
    fn from(s: &Scope) -> Self {
        ScopeInfo {
            from: s.from.map(format_utc),
            to: s.to.map(format_utc),
            query: s.query.trim().to_owned(),
            verified_only: !s.include_unverified,
            base: s.base(true),
            not_trusted_now: None,
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
