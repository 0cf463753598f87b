//! Coverage of an audit period over the store (docs/coverage.md), and the audit period kept as a setting of the
//! store (the app's Overview).
//!
//! Times come from verified archives only (`archives.status = 'verified'`): first and last event from
//! `archives.time_first` / `time_last` (over the stored events), seal times from each stored manifest's signed
//! `created`. Silences are found over the UTC hours that hold counted events of the origin (the dashboards'
//! `rollup_hourly`, a few rows per hour however many events: fast on 10M events), then the two ends of every
//! silence that may exceed the threshold are looked up exactly in `events` (one hour of time-ordered ids each).
//! A silence under two hours that spans an hour boundary with events on both sides can be missed.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, rowid};
use crate::coverage::{self, ArchiveTimes, Coverage, CoverageBasis, CoverageError, Period};

const HOUR: i64 = 3600 * 1_000_000;

/// The audit period kept in the store, as the user wrote it: `from` and `to` (a date or an RFC 3339 time each,
/// `to` exclusive) and the silence threshold (`24h`, `90m`, `2d`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditPeriod {
    pub from: String,
    pub to: String,
    pub silence: String,
}

impl AuditPeriod {
    /// The period and the silence in microseconds, or why they cannot be read.
    pub fn parse(&self) -> Result<(Period, i64), CoverageError> {
        let period = Period::parse(&format!("{}..{}", self.from.trim(), self.to.trim()))?;
        let silence = coverage::parse_silence(self.silence.trim())?;
        Ok((period, silence))
    }
}

/// The settings key of the audit period (a JSON object, [`AuditPeriod`]).
const AUDIT_PERIOD_KEY: &str = "audit_period";

impl Store {
    /// The audit period kept in this store, if one was set. A value that does not read is an error (the file
    /// was edited), never silently dropped.
    pub fn audit_period(&self) -> Result<Option<AuditPeriod>, StoreError> {
        let value: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                [AUDIT_PERIOD_KEY],
                |r| r.get(0),
            )
            .optional()?;
        let Some(value) = value else { return Ok(None) };
        let setting: AuditPeriod = serde_json::from_str(&value).map_err(|e| {
            StoreError::Invalid(format!("the stored audit period does not read: {e}"))
        })?;
        setting.parse().map_err(|e| {
            StoreError::Invalid(format!("the stored audit period does not read: {e}"))
        })?;
        Ok(Some(setting))
    }

    /// Sets (after checking it reads) or, with `None`, clears the audit period of this store.
    pub fn set_audit_period(&self, setting: Option<&AuditPeriod>) -> Result<(), StoreError> {
        match setting {
            Some(s) => {
                s.parse().map_err(|e| StoreError::Invalid(e.to_string()))?;
                let value =
                    serde_json::to_string(s).map_err(|e| StoreError::Invalid(e.to_string()))?;
                self.conn.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    params![AUDIT_PERIOD_KEY, value],
                )?;
            }
            None => {
                self.conn
                    .execute("DELETE FROM settings WHERE key = ?1", [AUDIT_PERIOD_KEY])?;
            }
        }
        Ok(())
    }

    /// Per origin, how the verified archives in the store cover `period`, with silences longer than `silence`
    /// (microseconds). Every origin of a stored archive is listed; only verified archives count.
    pub fn coverage(&self, period: Period, silence: i64) -> Result<Coverage, StoreError> {
        let origins: Vec<String> = self
            .conn
            .prepare(
                "SELECT DISTINCT origin FROM archives WHERE origin IS NOT NULL ORDER BY origin",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut result = Vec::with_capacity(origins.len());
        let mut archives_stmt = self.conn.prepare(
            "SELECT sequence, time_first, time_last, manifest FROM archives
             WHERE status = 'verified' AND origin = ?1 ORDER BY sequence",
        )?;
        // One pass over the summary table for every origin (it has no index by archive).
        let mut hours_by_origin: std::collections::HashMap<String, Vec<i64>> = Default::default();
        {
            let mut stmt = self.conn.prepare(
                "SELECT a.origin, r.hour FROM rollup_hourly r JOIN archives a ON a.id = r.archive_id
                 WHERE a.status = 'verified' AND a.origin IS NOT NULL AND r.hour IS NOT NULL
                 GROUP BY a.origin, r.hour ORDER BY a.origin, r.hour",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let origin: String = r.get(0)?;
                hours_by_origin.entry(origin).or_default().push(r.get(1)?);
            }
        }
        for origin in origins {
            let archives: Vec<ArchiveTimes> = archives_stmt
                .query_map([&origin], |r| {
                    let first: Option<i64> = r.get(1)?;
                    let last: Option<i64> = r.get(2)?;
                    let manifest: Option<Vec<u8>> = r.get(3)?;
                    Ok(ArchiveTimes {
                        sequence: r.get::<_, Option<u64>>(0)?.unwrap_or(0),
                        events: first.zip(last),
                        sealed: manifest.as_deref().and_then(coverage::sealed_at),
                    })
                })?
                .collect::<Result<_, _>>()?;
            let hours = hours_by_origin.remove(&origin).unwrap_or_default();
            let mut spans = self.hour_spans(&origin, &hours, period, silence)?;
            // The exact first and last event of each archive (also when its hours hold only uncounted records).
            for a in &archives {
                if let Some((f, l)) = a.events {
                    spans.push((f, f));
                    spans.push((l, l));
                }
            }
            result.push(coverage::assess(
                &origin, period, silence, &archives, &spans,
            ));
        }
        Ok(Coverage::new(
            period,
            silence,
            CoverageBasis::EventHours,
            result,
        ))
    }

    /// Runs of consecutive hours as time spans; the ends next to a silence that may exceed `silence` (and may
    /// touch the period) are the exact event times, the others the hour bounds (which can only shorten a silence
    /// by less than two hours, never report one that is not there).
    fn hour_spans(
        &self,
        origin: &str,
        hours: &[i64],
        period: Period,
        silence: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut runs: Vec<(i64, i64)> = Vec::new();
        for &h in hours {
            match runs.last_mut() {
                Some(run) if run.1 + 1 == h => run.1 = h,
                _ => runs.push((h, h)),
            }
        }
        let mut spans: Vec<(i64, i64)> = runs
            .iter()
            .map(|&(a, b)| {
                (
                    a.saturating_mul(HOUR),
                    b.saturating_add(1).saturating_mul(HOUR) - 1,
                )
            })
            .collect();
        for i in 1..runs.len() {
            let (prev_end, next_start) = (runs[i - 1].1, runs[i].0);
            let least = (next_start - prev_end - 1).saturating_mul(HOUR);
            let may_touch = prev_end.saturating_mul(HOUR) < period.to
                && next_start.saturating_add(1).saturating_mul(HOUR) > period.from;
            if least.saturating_add(2 * HOUR) > silence && may_touch {
                if let Some(t) = self.edge_event(origin, prev_end, true)? {
                    spans[i - 1].1 = t;
                }
                if let Some(t) = self.edge_event(origin, next_start, false)? {
                    spans[i].0 = t;
                }
            }
        }
        Ok(spans)
    }

    /// The latest (`last`) or earliest event time of the origin's verified archives within one UTC hour.
    fn edge_event(&self, origin: &str, hour: i64, last: bool) -> Result<Option<i64>, StoreError> {
        let start = hour.saturating_mul(HOUR);
        let end = start.saturating_add(HOUR);
        let sql = format!(
            "SELECT {}(e.ts) FROM events e JOIN archives a ON a.id = e.archive_id
             WHERE e.id >= ?1 AND e.id < ?2 AND e.ts >= ?3 AND e.ts < ?4
               AND a.status = 'verified' AND a.origin = ?5",
            if last { "max" } else { "min" }
        );
        Ok(self.conn.query_row(
            &sql,
            params![
                rowid::lower_bound(start),
                rowid::upper_bound(end),
                start,
                end,
                origin
            ],
            |r| r.get(0),
        )?)
    }
}
