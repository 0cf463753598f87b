//! Event ids: time-ordered, never colliding across archives (store/rowid.rs).

use super::*;

/// Hands out time-ordered ids (store/rowid.rs): the next free id in the event's millisecond bucket. The store is
/// the source of truth (this transaction's own inserts included); a small cache saves the lookup for runs of
/// events in the same millisecond.
#[derive(Default)]
pub(in crate::store) struct IdAllocator {
    pub(super) next: HashMap<i64, i64>,
}

impl IdAllocator {
    /// The next free id for an event at `ts`: in its millisecond's bucket, or, when that bucket is full (an
    /// archive of a million copies of one event can fill it), in the next buckets up to
    /// [`rowid::MAX_SPILL_MS`] milliseconds later, which time ranges allow for. `None` only when all of those
    /// are full: more than a billion events in about one second of event time.
    pub(in crate::store) fn allocate(
        &mut self,
        tx: &Transaction<'_>,
        ts: Option<i64>,
    ) -> Result<Option<i64>, rusqlite::Error> {
        let (first, span, spill) = match ts {
            Some(t) => (rowid::bucket_start(t), rowid::BUCKET, rowid::MAX_SPILL_MS),
            None => (rowid::UNTIMED_BASE, rowid::UNTIMED_SPAN, 0),
        };
        for k in 0..=spill {
            let Some(base) = first.checked_add(k * span) else {
                break;
            };
            let next = match self.next.get(&base) {
                Some(n) => *n,
                None => {
                    if self.next.len() > 4096 {
                        self.next.clear();
                    }
                    let max: Option<i64> = tx
                        .prepare_cached("SELECT max(id) FROM events WHERE id >= ?1 AND id <= ?2")?
                        .query_row(params![base, base + (span - 1)], |r| r.get(0))?;
                    max.map_or(base, |m| m + 1)
                }
            };
            if next - base >= span {
                self.next.insert(base, next);
                continue;
            }
            self.next.insert(base, next + 1);
            return Ok(Some(next));
        }
        Ok(None)
    }
}
