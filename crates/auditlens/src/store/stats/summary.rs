//! `auditlens stats`: the total, counts by category, outcome and source, top actors and deployments per day.

use std::collections::BTreeMap;

use super::counter::Counter;
use super::model::{ActorCount, Figure, Stats, StatsDrills};
use super::overview::overview_cubes;
use super::plan::{Dim, Filter, Table};
use super::{MISSING, Scope, ScopeInfo, StatsError};
use crate::sources::{CATEGORIES, OUTCOMES};
use crate::store::Store;

impl Store {
    /// `auditlens stats`: total, counts by category, outcome and source, top actors and deployments per day,
    /// each with its drill-down query.
    pub fn stats(&self, scope: &Scope, top: usize, now_micros: i64) -> Result<Stats, StatsError> {
        crate::store::text_index::refresh(&self.conn)?;
        scope.check()?;
        let now = now_micros;
        let c = Counter::load(self, scope, now, &overview_cubes())?;
        let total = c.figure(scope, Table::Hourly, &[], now)?;
        let untimed = c.untimed(scope, &[], now)?;
        let mut stats = Stats {
            total: total.count,
            untimed: untimed.count,
            by_category: BTreeMap::new(),
            by_outcome: BTreeMap::new(),
            by_source: BTreeMap::new(),
            top_actors: Vec::new(),
            deployments_per_day: Vec::new(),
            drill: StatsDrills {
                total: total.drill,
                untimed: untimed.drill,
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
            c.by_vocabulary(scope, Dim::Category, &CATEGORIES, now)?,
            c.by_vocabulary(scope, Dim::Outcome, &OUTCOMES, now)?,
            c.breakdown(scope, Table::Hourly, Dim::Source, &[], None, now)?,
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
        // `--top 0` asks for no list (the breakdown reads `None` as every actor).
        if top > 0 {
            stats.top_actors = c
                .breakdown(
                    scope,
                    Table::Actors,
                    Dim::Actor,
                    &[Filter::Present(Dim::Actor)],
                    Some(top),
                    now,
                )?
                .into_iter()
                .filter_map(|f| {
                    Some(ActorCount {
                        actor: f.key?,
                        count: f.count,
                        drill: f.drill,
                        identities: f.identities,
                    })
                })
                .collect();
        }
        stats.deployments_per_day = c.per_day(
            scope,
            &[Filter::Is(Dim::Category, "deployment".into())],
            now,
        )?;
        Ok(stats)
    }
}
