//! Throttling of progress reports sent to the window: at most one every [`Throttle::every`] (100 ms, so about 10
//! updates per second), while the first and every non-progress message always go through.

use std::time::{Duration, Instant};

/// Lets a report through when at least `every` has passed since the last one that went through.
pub struct Throttle {
    pub every: Duration,
    last: Option<Instant>,
}

impl Throttle {
    pub fn new(every: Duration) -> Throttle {
        Throttle { every, last: None }
    }

    /// About ten reports a second.
    pub fn ten_per_second() -> Throttle {
        Throttle::new(Duration::from_millis(100))
    }

    /// Whether a report made at `now` goes through (and if so, counts it).
    pub fn ready_at(&mut self, now: Instant) -> bool {
        match self.last {
            Some(last) if now.duration_since(last) < self.every => false,
            _ => {
                self.last = Some(now);
                true
            }
        }
    }

    pub fn ready(&mut self) -> bool {
        self.ready_at(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_one_report_per_interval_gets_through() {
        let mut t = Throttle::ten_per_second();
        let t0 = Instant::now();
        assert!(t.ready_at(t0));
        assert!(!t.ready_at(t0 + Duration::from_millis(50)));
        assert!(!t.ready_at(t0 + Duration::from_millis(99)));
        assert!(t.ready_at(t0 + Duration::from_millis(100)));
        assert!(!t.ready_at(t0 + Duration::from_millis(150)));
        assert!(t.ready_at(t0 + Duration::from_millis(250)));
    }

    #[test]
    fn a_thousand_reports_in_one_second_become_about_ten() {
        let mut t = Throttle::ten_per_second();
        let t0 = Instant::now();
        let passed = (0..1000)
            .filter(|i| t.ready_at(t0 + Duration::from_millis(*i)))
            .count();
        assert_eq!(passed, 10);
    }
}
