//! Time-ordered event ids. An event's rowid encodes its time, so that "newest first" is simply `ORDER BY id DESC`:
//! every index (which carries the rowid) and the full-text index (whose rowid is the event id) already yield
//! matches newest first, and a time range is a rowid range. Layout of a timed id:
//! `(milliseconds since the epoch + 2^42) << 20 | n`, where n counts events within that millisecond (at most
//! 2^20). Times are clamped to about 1831..2109. Events without a readable time get negative ids from `-2^62`
//! upward, so they come after every timed event in newest-first order. When a millisecond holds more events
//! than its bucket, the rest spill into the following buckets (at most [`MAX_SPILL_MS`] later).

/// Bits for the per-millisecond counter.
pub const COUNTER_BITS: u32 = 20;
/// Events one millisecond can hold.
pub const BUCKET: i64 = 1 << COUNTER_BITS;
const MS_OFFSET: i64 = 1 << 42;
/// How many milliseconds later an event's id may lie when its own millisecond's bucket is full (the importer
/// spills into the next buckets, so that no archive can block another by filling a millisecond). Time ranges
/// allow for it: [`upper_bound`] reaches this much further, and the exact condition on `ts` does the rest.
pub const MAX_SPILL_MS: i64 = 1000;
/// First id of the untimed range.
pub const UNTIMED_BASE: i64 = -(1 << 62);
/// Size of the untimed range.
pub const UNTIMED_SPAN: i64 = 1 << 62;

/// The first id of the bucket an event with this time (microseconds) goes into.
pub fn bucket_start(ts_micros: i64) -> i64 {
    let ms = ts_micros.div_euclid(1000).clamp(-MS_OFFSET, MS_OFFSET - 2);
    (ms + MS_OFFSET) << COUNTER_BITS
}

/// The smallest id an event with time >= `start` can have.
pub fn lower_bound(start_micros: i64) -> i64 {
    bucket_start(start_micros)
}

/// An id bound such that every event with time < `end` has an id below it.
pub fn upper_bound(end_micros: i64) -> i64 {
    bucket_start(end_micros.saturating_sub(1)).saturating_add(BUCKET * (1 + MAX_SPILL_MS))
}

/// Whether `id` lies in the bucket of `ts` (or the untimed range when `ts` is `None`).
pub fn id_matches_time(id: i64, ts: Option<i64>) -> bool {
    match ts {
        Some(t) => (bucket_start(t)..bucket_start(t).saturating_add(BUCKET * (1 + MAX_SPILL_MS)))
            .contains(&id),
        None => (UNTIMED_BASE..UNTIMED_BASE + UNTIMED_SPAN).contains(&id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_order_like_times_and_bounds_hold() {
        let times = [
            i64::MIN,
            -62_135_596_800_000_000,
            -1,
            0,
            1,
            999,
            1000,
            1_717_200_000_123_456,
            i64::MAX,
        ];
        for w in times.windows(2) {
            assert!(bucket_start(w[0]) <= bucket_start(w[1]));
        }
        for &t in &times {
            let id = bucket_start(t);
            assert!(id >= 0 && id.checked_add(BUCKET).is_some());
            assert!(id >= lower_bound(t));
            if t > i64::MIN {
                assert!(id < upper_bound(t.saturating_add(1)));
            }
            assert!(id_matches_time(id, Some(t)));
        }
        // Same millisecond, same bucket; the next millisecond is above.
        assert_eq!(bucket_start(1_000_000), bucket_start(1_000_999));
        assert!(bucket_start(1_001_000) > bucket_start(1_000_999));
        // An event at exactly `end` is not below the upper bound's bucket start... but every earlier one is.
        assert!(bucket_start(1_000_999) + BUCKET - 1 < upper_bound(1_001_000));
        assert!(id_matches_time(UNTIMED_BASE, None));
        assert!(!id_matches_time(0, None));
    }
}
