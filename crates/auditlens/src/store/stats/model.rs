//! The result types of the dashboards and of `auditlens stats`: figures, series and the dashboards themselves,
//! serialized for the CLI and the app.

use std::collections::BTreeMap;

use serde::Serialize;

use super::ScopeInfo;
use crate::store::search::EventRow;

/// One number and the query whose count it is. `key` is the value counted (`None`: events lacking it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Figure {
    pub key: Option<String>,
    pub count: u64,
    pub drill: String,
    /// For a figure of a person (an identity of the working papers, docs/working-papers.md): `key` is the
    /// person and these are the actor values counted together, in byte order; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub identities: Option<Vec<String>>,
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
    /// The actor value, or the person when `identities` is given.
    pub actor: String,
    pub count: u64,
    pub drill: String,
    /// For a person: the actor values counted together (see [`Figure::identities`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub identities: Option<Vec<String>>,
}

/// The `auditlens stats --json` document.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Stats {
    pub total: u64,
    /// Requests of the scope, its time range aside, that have no time: in no figure of a time range, and in no
    /// day of `deployments_per_day` (docs/sources.md section 2.3).
    pub untimed: u64,
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
    pub untimed: String,
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
    /// Verified archives that were sealed on receipt (docs/archive-format.md section 4.1), counted in `verified`:
    /// their signature proves no change since the auditor received them, not authenticity at the source (the
    /// label is each note's `reason`).
    pub received: Vec<ArchiveNote>,
    pub untrusted: Vec<ArchiveNote>,
    pub failed: Vec<ArchiveNote>,
    /// Archives before which sequences of their origin are missing.
    pub gaps: Vec<ArchiveNote>,
    /// Archives marked verified in the store that the caller's trust (the app's keyring and session keys) does not
    /// trust now, or whose stored signed documents no longer re-read ([`Store::note_trust`](crate::store::Store::note_trust));
    /// part of `all_verified`. [`Store::overview`](crate::store::Store::overview) leaves it empty: the store holds
    /// no keys. Each is still counted by the dashboards until it is demoted (removing a grant, or "Mark as not
    /// trusted") or its key trusted.
    pub not_trusted_now: Vec<ArchiveNote>,
    /// Groups of different stored origins that look alike ([`Store::lookalike_origins`](crate::store::Store::lookalike_origins)): a warning for
    /// the banner, not part of `all_verified` (each origin is verified as exactly what it says).
    pub lookalikes: Vec<crate::safe_text::LookalikeGroup>,
    /// Integrity incidents the auditor has not reviewed yet, newest first ([`Store::incidents`](crate::store::Store::incidents)):
    /// imports that failed, were refused or met an untrusted key, kept or not. Not part of `all_verified`, which
    /// is about the stored archives.
    pub incidents: Vec<crate::store::incidents::Incident>,
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
    /// Events of the scope, its time range aside, that have no time (docs/sources.md section 2.3): no time
    /// filter, chart or time-bounded figure counts them. Its drill-down lists them.
    pub untimed: Figure,
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
    /// Events of the scope, its time range aside, that have no time (docs/sources.md section 2.3): no time
    /// filter, chart or time-bounded figure counts them. Its drill-down lists them.
    pub untimed: Figure,
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
    /// Events of the scope, its time range aside, that have no time (docs/sources.md section 2.3): no time
    /// filter, chart or time-bounded figure counts them. Its drill-down lists them.
    pub untimed: Figure,
}
