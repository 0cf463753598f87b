//! Counts of searches the summary tables hold: a dashboard's drill-down query (the counted events, of verified
//! archives or of all, in a time range, with conditions on the summarised columns only) is counted from
//! `rollup_hourly` or `rollup_actors` the way the dashboard counted its figure, instead of one pass over the
//! matching events (issue 13: "counting as fast as finding").

use rusqlite::params_from_iter;

use super::plan::{Dim, Filter, Table, plan};
use super::{Scope, TIME_END, TIME_MIN, UNCOUNTED_STAGES};
use crate::query::{Field, Query};
use crate::store::Store;

/// The summary column a field names, if any.
fn dim(field: Field) -> Option<Dim> {
    Some(match field {
        Field::Source => Dim::Source,
        Field::Category => Dim::Category,
        Field::Outcome => Dim::Outcome,
        Field::Privilege => Dim::Privilege,
        Field::Env => Dim::Env,
        Field::Actor => Dim::Actor,
        _ => return None,
    })
}

/// `field:value` (or `field:*`) over a summary column, as a dashboard filter.
fn filter(q: &Query) -> Option<Filter> {
    let Query::Field {
        field,
        value,
        prefix,
    } = q
    else {
        return None;
    };
    let d = dim(*field)?;
    match (prefix, value.is_empty()) {
        (false, _) => Some(Filter::Is(d, value.clone())),
        (true, true) => Some(Filter::Present(d)),
        (true, false) => None,
    }
}

/// `a:x OR a:y OR …` over one summary column.
fn any_of(alternatives: &[Query]) -> Option<Filter> {
    let mut column = None;
    let mut values = Vec::new();
    for alt in alternatives {
        let Filter::Is(d, v) = filter(alt)? else {
            return None;
        };
        if column.is_some_and(|c| c != d) {
            return None;
        }
        column = Some(d);
        values.push(v);
    }
    Some(Filter::AnyOf(column?, values))
}

/// The scope and filters of a query the summary tables answer exactly, or `None`. The query must exclude both
/// uncounted stages (the summary tables hold counted events only) and may add: `status:verified`, time bounds,
/// and `field:value`, `field:*` or an OR of values of one field, for the summarised fields (source, category,
/// outcome, privilege, env, actor).
fn summarised(q: &Query, now: i64) -> Option<(Scope, Vec<Filter>)> {
    let mut parts: Vec<&Query> = Vec::new();
    let mut stack = vec![q];
    while let Some(p) = stack.pop() {
        match p {
            Query::And(v) => stack.extend(v.iter()),
            other => parts.push(other),
        }
    }
    let mut uncounted = [false; UNCOUNTED_STAGES.len()];
    let mut scope = Scope {
        include_unverified: true,
        ..Scope::default()
    };
    let mut filters = Vec::new();
    let lower = |s: i64, scope: &mut Scope| scope.from = Some(scope.from.map_or(s, |f| f.max(s)));
    for p in parts {
        match p {
            Query::All => {}
            Query::Not(inner) => match inner.as_ref() {
                Query::Field {
                    field: Field::Stage,
                    value,
                    prefix: false,
                } => {
                    let i = UNCOUNTED_STAGES
                        .iter()
                        .position(|s| s.eq_ignore_ascii_case(value))?;
                    uncounted[i] = true;
                }
                _ => return None,
            },
            Query::Field {
                field: Field::Status,
                value,
                prefix: false,
            } if value.eq_ignore_ascii_case("verified") => scope.include_unverified = false,
            Query::Field { .. } => filters.push(filter(p)?),
            Query::Or(alternatives) => filters.push(any_of(alternatives)?),
            Query::TimeRange { start, end } if start.is_some() || end.is_some() => {
                if let Some(s) = start {
                    lower(*s, &mut scope);
                }
                if let Some(e) = end {
                    scope.to = Some(scope.to.map_or(*e, |t| t.min(*e)));
                }
            }
            Query::Since(micros) => lower(now.saturating_sub(*micros), &mut scope),
            _ => return None,
        }
    }
    if !uncounted.iter().all(|u| *u) {
        return None;
    }
    // An empty or out-of-range time range is left to the events (which find nothing).
    let bounds_ok = [scope.from, scope.to]
        .into_iter()
        .flatten()
        .all(|t| (TIME_MIN..TIME_END).contains(&t));
    if !bounds_ok || matches!((scope.from, scope.to), (Some(f), Some(t)) if f >= t) {
        return None;
    }
    Some((scope, filters))
}

/// The count of `q` from the summary tables when they hold it exactly (see [`summarised`]), else `None` (the
/// caller counts the matching events).
pub(crate) fn count(store: &Store, q: &Query, now: i64) -> Result<Option<u64>, rusqlite::Error> {
    let Some((scope, filters)) = summarised(q, now) else {
        return Ok(None);
    };
    let dims: Vec<Dim> = filters
        .iter()
        .filter_map(|f| match f {
            Filter::Is(d, _) | Filter::AnyOf(d, _) | Filter::Present(d) => Some(*d),
            Filter::OffHours(_) | Filter::Untimed => None,
        })
        .collect();
    let Some(table) = [Table::Hourly, Table::Actors]
        .into_iter()
        .find(|t| dims.iter().all(|d| d.in_table(*t)))
    else {
        return Ok(None);
    };
    let Ok(p) = plan(Some(&store.conn), &scope, table, &[], &filters, None, now) else {
        return Ok(None);
    };
    let n: Option<i64> = store
        .conn
        .query_row(&p.sql, params_from_iter(p.params), |r| r.get(0))?;
    Ok(Some(n.unwrap_or(0).max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;

    fn answered(text: &str) -> bool {
        summarised(&parse(text).unwrap(), 0).is_some()
    }

    #[test]
    fn only_counted_events_with_summarised_conditions_are_answered() {
        let base = "-stage:RequestReceived -stage:ResponseStarted";
        for yes in [
            base.to_string(),
            format!("{base} status:verified"),
            format!("category:deployment {base} status:VERIFIED"),
            format!("(category:access outcome:denied) {base} after:2024-01-01T00:00:00Z"),
            format!("{base} (source:k8s OR source:cloudtrail) env:prod actor:alice"),
            "-stage:responsestarted -stage:REQUESTRECEIVED privilege:*".to_string(),
            format!("{base} after:2024-01-01T00:17:00Z before:2024-01-02T00:00:00Z"),
        ] {
            assert!(answered(&yes), "{yes}");
        }
        for no in [
            // Not the counted events.
            "-stage:RequestReceived category:access".to_owned(),
            "category:access".to_owned(),
            format!("{base} stage:ResponseComplete"),
            // Conditions the summary tables do not hold.
            format!("{base} action:delete"),
            format!("{base} actor:system:*"),
            format!("{base} -actor:alice"),
            format!("{base} deployments"),
            format!("{base} (source:k8s OR env:prod)"),
            format!("{base} status:untrusted"),
            format!("{base} origin:a"),
            format!("{base} workhours:09-18"),
            // Empty time range: left to the events.
            format!("{base} after:2024-01-02T00:00:00Z before:2024-01-01T00:00:00Z"),
        ] {
            assert!(!answered(&no), "{no}");
        }
    }
}
