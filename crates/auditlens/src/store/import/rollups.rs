//! The summary tables' rows of an import (docs/search.md section 9), buffered by count and by bytes.

use super::*;

/// Summary rows buffered before they are written (each about 100 bytes)...
pub(in crate::store) const ROLLUP_BATCH: usize = 100_000;
/// ... or fewer, once the text of their keys (actors can be long) adds up to this many bytes.
pub(in crate::store) const ROLLUP_BYTES: usize = 16 << 20;

/// The summary tables' rows of the events imported so far (counted events only: docs/search.md section 9),
/// per UTC hour and per UTC minute, written in batches; several rows with the same key add up.
#[derive(Default)]
pub(in crate::store) struct Rollups {
    /// (unit, time in that unit, category, outcome, privilege) -> count; unit 0 is hours, 1 minutes.
    pub(super) counts: HashMap<CountKey, i64>,
    /// (unit, time, category, outcome, env, actor) -> count.
    pub(super) actors: HashMap<ActorKey, i64>,
    /// Bytes of the text in the keys of both maps.
    pub(super) bytes: usize,
}

pub(in crate::store) type CountKey = (
    u8,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);
pub(in crate::store) type ActorKey = (
    u8,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Rollups {
    /// Adds an event's fields; takes them, so the last key of each map moves the strings instead of copying
    /// them (an actor can be megabytes long).
    pub(in crate::store) fn add(&mut self, n: Normalized) {
        if !crate::store::stats::is_counted(n.stage.as_deref()) {
            return;
        }
        let len = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        let count_bytes = len(&n.category) + len(&n.outcome) + len(&n.privilege);
        let actor_bytes = len(&n.category) + len(&n.outcome) + len(&n.env) + len(&n.actor);
        let (hour, minute) = (
            n.ts.map(crate::store::stats::hour_of),
            n.ts.map(|t| t.div_euclid(60_000_000)),
        );
        let count = (
            0,
            hour,
            n.category.clone(),
            n.outcome.clone(),
            n.privilege.clone(),
        );
        self.count(count, count_bytes);
        let actor = (
            0,
            hour,
            n.category.clone(),
            n.outcome.clone(),
            n.env.clone(),
            n.actor.clone(),
        );
        self.actor(actor, actor_bytes);
        let count = (
            1,
            minute,
            n.category.clone(),
            n.outcome.clone(),
            n.privilege,
        );
        self.count(count, count_bytes);
        self.actor(
            (1, minute, n.category, n.outcome, n.env, n.actor),
            actor_bytes,
        );
    }

    pub(super) fn count(&mut self, key: CountKey, bytes: usize) {
        match self.counts.entry(key) {
            Entry::Occupied(mut e) => *e.get_mut() += 1,
            Entry::Vacant(e) => {
                e.insert(1);
                self.bytes += bytes;
            }
        }
    }

    pub(super) fn actor(&mut self, key: ActorKey, bytes: usize) {
        match self.actors.entry(key) {
            Entry::Occupied(mut e) => *e.get_mut() += 1,
            Entry::Vacant(e) => {
                e.insert(1);
                self.bytes += bytes;
            }
        }
    }

    /// Whether the buffered rows should be written now: by their number, or by the bytes of their keys.
    pub(in crate::store) fn full(&self) -> bool {
        self.counts.len() + self.actors.len() >= ROLLUP_BATCH || self.bytes >= ROLLUP_BYTES
    }

    pub(in crate::store) fn flush(
        &mut self,
        tx: &Transaction<'_>,
        archive_id: i64,
        source: &str,
    ) -> Result<(), rusqlite::Error> {
        let tables = [
            ("rollup_hourly", "rollup_actors", "hour"),
            ("rollup_minutely", "rollup_minute_actors", "minute"),
        ];
        for ((unit, time, category, outcome, privilege), n) in self.counts.drain() {
            let (table, _, column) = tables[usize::from(unit)];
            tx.prepare_cached(&format!(
                "INSERT INTO {table} (archive_id, {column}, source, category, outcome, privilege, n)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))?
            .execute(params![
                archive_id, time, source, category, outcome, privilege, n
            ])?;
        }
        for ((unit, time, category, outcome, env, actor), n) in self.actors.drain() {
            let (_, table, column) = tables[usize::from(unit)];
            tx.prepare_cached(&format!(
                "INSERT INTO {table} (archive_id, {column}, category, outcome, env, actor, n)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))?
            .execute(params![archive_id, time, category, outcome, env, actor, n])?;
        }
        self.bytes = 0;
        Ok(())
    }
}
