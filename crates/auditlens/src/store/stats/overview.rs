//! The overview dashboard: totals, breakdowns, counts over time, top actors, the time range in scope and
//! a summary of the archives' verification.

use rusqlite::params_from_iter;
use rusqlite::types::Value as SqlValue;

use super::counter::Counter;
use super::model::{ArchiveNote, Overview, TimeSpan, VerificationSummary};
use super::plan::{Dim, Filter, Table, compiled};
use super::{DashboardOptions, Scope, ScopeInfo, StatsError};
use crate::sources::{CATEGORIES, OUTCOMES};
use crate::store::Store;
use crate::time::format_utc;

/// What `stats` and the overview count: per hour, source, category and outcome, and per actor.
pub(super) fn overview_cubes() -> [(Table, &'static [Dim], Vec<Filter>); 2] {
    [
        (
            Table::Hourly,
            &[Dim::Hour, Dim::Source, Dim::Category, Dim::Outcome],
            Vec::new(),
        ),
        (Table::Actors, &[Dim::Actor], Vec::new()),
    ]
}

impl Store {
    /// The overview dashboard.
    pub fn overview(
        &self,
        scope: &Scope,
        opts: &DashboardOptions,
        now_micros: i64,
    ) -> Result<Overview, StatsError> {
        crate::store::text_index::refresh(&self.conn)?;
        scope.check()?;
        opts.check()?;
        let now = now_micros;
        let c = Counter::load(self, scope, now, &overview_cubes())?;
        Ok(Overview {
            scope: ScopeInfo::from(scope),
            verification: self.verification_summary()?,
            total: c.figure(scope, Table::Hourly, &[], now)?,
            by_category: c.by_vocabulary(scope, Dim::Category, &CATEGORIES, now)?,
            by_outcome: c.by_vocabulary(scope, Dim::Outcome, &OUTCOMES, now)?,
            by_source: c.breakdown(scope, Table::Hourly, Dim::Source, &[], None, now)?,
            over_time: c.time_series(scope, Dim::Category, &CATEGORIES, &[], opts.buckets, now)?,
            top_actors: c.breakdown(
                scope,
                Table::Actors,
                Dim::Actor,
                &[Filter::Present(Dim::Actor)],
                Some(opts.top),
                now,
            )?,
            time_range: self.span(scope, now)?,
            producer_rules: self.producer_rules(scope)?,
            untimed: c.untimed(scope, &[], now)?,
        })
    }

    /// Time of the first and last counted event in scope: the first (last) matching id, then the exact time
    /// within that id's millisecond (read without the range's id bounds, which SQLite would otherwise prefer
    /// to the bucket's, and with the range on `ts` itself).
    fn span(&self, scope: &Scope, now: i64) -> Result<Option<TimeSpan>, StatsError> {
        let (sql, params) = compiled(Some(&self.conn), &scope.base(true), now)?;
        let (base_sql, base_params) = compiled(Some(&self.conn), &scope.base(false), now)?;
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
            let bucket = id & !(crate::store::rowid::BUCKET - 1);
            let agg = if desc { "max" } else { "min" };
            let mut p = vec![
                SqlValue::Integer(bucket),
                SqlValue::Integer(bucket + crate::store::rowid::BUCKET),
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

    fn verification_summary(&self) -> Result<VerificationSummary, StatsError> {
        let archives = self.archives()?;
        let note = |a: &crate::store::ArchiveRow, reason: Option<String>| ArchiveNote {
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
            received: Vec::new(),
            untrusted: Vec::new(),
            failed: Vec::new(),
            gaps: Vec::new(),
            not_trusted_now: Vec::new(),
            lookalikes: crate::safe_text::lookalike_groups(
                archives.iter().filter_map(|a| a.origin.as_deref()),
            ),
            incidents: self.incidents(false)?,
        };
        for a in &archives {
            match a.status.as_str() {
                "verified" => {
                    s.verified += 1;
                    if a.received_label.is_some() {
                        s.received.push(note(a, a.received_label.clone()));
                    }
                }
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
}
