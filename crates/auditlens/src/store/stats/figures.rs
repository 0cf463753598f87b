//! The figure builders shared by the dashboards: one number, a breakdown, a time series, counts per day,
//! the newest events of a figure, and the archives whose fields come from a producer's mapping file.

use std::collections::BTreeMap;

use super::counter::Counter;
use super::model::{ArchiveNote, DayCount, Figure, Series, TimeSeries};
use super::plan::{Dim, Filter, Table, filters_text, key_int, key_text, quote_value};
use super::{DAY, HOUR, Scope, StatsError, hour_of};
use crate::store::Store;
use crate::store::search::EventRow;
use crate::time::format_utc;

/// Bucket widths of time series, in hours.
const NICE_HOURS: [i64; 12] = [1, 2, 3, 6, 12, 24, 48, 168, 336, 720, 2184, 8760];

impl Counter<'_> {
    /// One number: the counted events in scope that pass `filters`.
    pub(super) fn figure(
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
            identities: None,
        })
    }

    /// The events of the scope matching `filters` that have no time, counted over the scope without its time
    /// range (which no untimed event is in).
    pub(super) fn untimed(
        &self,
        scope: &Scope,
        filters: &[Filter],
        now: i64,
    ) -> Result<Figure, StatsError> {
        let all_time = Scope {
            from: None,
            to: None,
            ..scope.clone()
        };
        let mut filters = filters.to_vec();
        filters.push(Filter::Untimed);
        self.figure(&all_time, Table::Hourly, &filters, now)
    }

    /// One figure per value of `dim`.
    pub(super) fn breakdown(
        &self,
        scope: &Scope,
        table: Table,
        dim: Dim,
        filters: &[Filter],
        top: Option<usize>,
        now: i64,
    ) -> Result<Vec<Figure>, StatsError> {
        // Actors the working papers say are one person are counted as that person: every actor is read, and
        // the top taken after folding them.
        let people = if dim == Dim::Actor {
            Some(self.people()?).filter(|p| !p.is_empty())
        } else {
            None
        };
        let rows = self.aggregate(
            scope,
            table,
            &[dim],
            filters,
            top.filter(|_| people.is_none()),
            now,
        )?;
        // `actor:alice` implies `actor:*`: the grouped field's presence filter is left out of the drill-down.
        let kept: Vec<&Filter> = filters
            .iter()
            .filter(|f| !matches!(f, Filter::Present(d) if *d == dim))
            .collect();
        let figures = rows
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
                    identities: None,
                }
            })
            .collect();
        Ok(match people {
            None => figures,
            Some(people) => people.fold(figures, top, |person| {
                let mut terms: Vec<String> = kept.iter().map(|f| f.text()).collect();
                terms.push(format!("person:{}", quote_value(person)));
                scope.drill(&terms)
            }),
        })
    }

    /// Counts per time bucket, one series per value of `dim`.
    pub(super) fn time_series(
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
            identities: None,
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
    pub(super) fn per_day(
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

    /// A breakdown that lists every word of a vocabulary (with zero counts), then any other value, then the
    /// events lacking one.
    pub(super) fn by_vocabulary(
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
                    identities: None,
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
}

impl Store {
    /// The newest events of a figure: at most `limit`, and no search at all when the figure is zero (the scan
    /// stops at the last match it needs, so a rare figure does not cost a walk over the whole store).
    pub(super) fn recent(
        &self,
        figure: &Figure,
        limit: usize,
        now: i64,
    ) -> Result<Vec<EventRow>, StatsError> {
        let n = limit.min(usize::try_from(figure.count).unwrap_or(usize::MAX));
        if n == 0 {
            return Ok(Vec::new());
        }
        Ok(self.newest(&figure.drill, n, now)?)
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
                    let normalization = crate::store::renormalize::normalization_of(
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
}
