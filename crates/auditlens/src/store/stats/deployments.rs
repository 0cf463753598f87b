//! The deployments dashboard: deployments and their failures, by outcome, actor and namespace, off working
//! hours, and the newest of each.

use super::counter::Counter;
use super::model::{Deployments, Figure, Lane};
use super::plan::{Dim, Filter, Table};
use super::{DashboardOptions, Scope, ScopeInfo, StatsError};
use crate::store::Store;

impl Store {
    /// The deployments dashboard.
    pub fn deployments(
        &self,
        scope: &Scope,
        opts: &DashboardOptions,
        now_micros: i64,
    ) -> Result<Deployments, StatsError> {
        crate::store::text_index::refresh(&self.conn)?;
        scope.check()?;
        opts.check()?;
        let now = now_micros;
        let deployment = Filter::Is(Dim::Category, "deployment".into());
        let failed = Filter::AnyOf(Dim::Outcome, vec!["failure".into(), "denied".into()]);
        let off = Filter::OffHours(opts.working_hours);
        let c = Counter::load(
            self,
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
        let total = c.figure(scope, Table::Hourly, std::slice::from_ref(&deployment), now)?;
        let failed_fig = c.figure(
            scope,
            Table::Hourly,
            &[deployment.clone(), failed.clone()],
            now,
        )?;
        let envs = c.breakdown(
            scope,
            Table::Actors,
            Dim::Env,
            std::slice::from_ref(&deployment),
            Some(opts.top),
            now,
        )?;
        let failed_by_env = c.breakdown(
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
                    identities: None,
                });
            let recent = self.recent(&env, opts.recent, now)?;
            lanes.push(Lane {
                deployments: env,
                failed: failed_lane,
                recent,
            });
        }
        let rare_all = c.breakdown(
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
            per_day: c.per_day(scope, std::slice::from_ref(&deployment), now)?,
            lanes,
            failed_recent: self.recent(&failed_fig, opts.recent, now)?,
            failed: failed_fig,
            off_hours: c.figure(
                scope,
                Table::Hourly,
                &[deployment.clone(), off.clone()],
                now,
            )?,
            off_hours_by_actor: c.breakdown(
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
            untimed: c.untimed(scope, std::slice::from_ref(&deployment), now)?,
        })
    }
}
