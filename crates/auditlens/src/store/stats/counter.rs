//! The cube cache of one dashboard call: a [`Counter`] reads counts through the planner, and answers the
//! figures a dashboard asks for from the [`Cube`]s it fetched once, instead of a pass over the store each.

use rusqlite::params_from_iter;
use rusqlite::types::Value as SqlValue;

use super::people::People;
use super::plan::{Dim, Filter, Group, Plan, Table, key_int, key_text, plan};
use super::{HOUR, Scope, StatsError};
use crate::store::Store;

/// The counts of one scope grouped by several columns, fetched once (one pass over the summary tables or the
/// matching events) so that a dashboard's figures that need only those columns are summed from it in memory,
/// grouping ASCII case-insensitively as SQL's `COLLATE NOCASE` does, instead of a pass each.
#[derive(Debug, Clone)]
pub(super) struct Cube {
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
                        Filter::Untimed => self.column(Dim::Hour).is_some(),
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
                Filter::Untimed => self
                    .column(Dim::Hour)
                    .is_some_and(|i| key_int(&row[i]).is_none()),
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

/// Counts for one dashboard call: the store they are read from and the cubes fetched for the call, which the
/// figures that need only their columns are summed from. Owned by the call and dropped with it, so no cube
/// outlives the call that fetched it.
pub(super) struct Counter<'s> {
    store: &'s Store,
    cubes: Vec<Cube>,
    /// The working papers' identities, read when a list of actors first needs them.
    people: std::cell::OnceCell<People>,
}

impl<'s> Counter<'s> {
    /// A counter with no cubes: every count is read from the store.
    fn new(store: &'s Store) -> Counter<'s> {
        Counter {
            store,
            cubes: Vec::new(),
            people: std::cell::OnceCell::new(),
        }
    }

    /// The working papers' identities (read once per call).
    pub(super) fn people(&self) -> Result<&People, StatsError> {
        if let Some(p) = self.people.get() {
            return Ok(p);
        }
        let loaded = People::load(self.store)?;
        Ok(self.people.get_or_init(|| loaded))
    }

    /// A counter for one dashboard call, with the cubes it reads its figures from (fetched through a counter
    /// with none); they live as long as the counter.
    pub(super) fn load(
        store: &'s Store,
        scope: &Scope,
        now: i64,
        specs: &[(Table, &[Dim], Vec<Filter>)],
    ) -> Result<Counter<'s>, StatsError> {
        let mut counter = Counter::new(store);
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
            let rows = counter.aggregate(scope, specs[0].0, &dims, &base, None, now)?;
            counter.cubes = vec![Cube {
                scope: scope.clone(),
                now,
                table: None,
                dims,
                base,
                rows,
            }];
            return Ok(counter);
        }
        for (table, dims, base) in specs {
            let rows = counter.aggregate(scope, *table, dims, base, None, now)?;
            cubes.push(Cube {
                scope: scope.clone(),
                now,
                table: Some(*table),
                dims: dims.to_vec(),
                base: base.clone(),
                rows,
            });
        }
        counter.cubes = cubes;
        Ok(counter)
    }

    /// Counts of the counted events in scope that pass `filters`, grouped by `dims`; the `top` largest groups
    /// only, when given.
    pub(super) fn aggregate(
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
            .iter()
            .find(|c| c.answers(scope, now, table, dims, filters))
        {
            return Ok(cube.answer(dims, filters, top));
        }
        let Plan { sql, params } = plan(
            Some(&self.store.conn),
            scope,
            table,
            dims,
            filters,
            top,
            now,
        )?;
        let mut stmt = self.store.conn.prepare(&sql)?;
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
}
