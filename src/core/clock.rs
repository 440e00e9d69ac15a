//! Event timestamps. The server sorts each batch by `timestamp` before applying it, so
//! two events of one instance must never share one: ties are bumped by a millisecond.

/// Hands out strictly increasing epoch-millisecond timestamps.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    last: u64,
}

impl Clock {
    /// The timestamp for an event happening at `now` (epoch ms from the shell's clock).
    pub fn stamp(&mut self, now: u64) -> u64 {
        let stamp = if now > self.last {
            now
        } else {
            self.last.saturating_add(1)
        };
        self.last = stamp;
        stamp
    }
}

/// Epoch milliseconds from a JavaScript time value; NaN and negatives become 0.
pub fn millis(time: f64) -> u64 {
    if time.is_finite() && time > 0.0 {
        time as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn stamps_strictly_increase_even_when_the_clock_stalls_or_goes_back() {
        let mut clock = Clock::default();
        let inputs = [1000, 1000, 1000, 999, 500, 1005, 1005, 2000];
        let stamps: Vec<u64> = inputs.iter().map(|&now| clock.stamp(now)).collect();
        assert_eq!(stamps, [1000, 1001, 1002, 1003, 1004, 1005, 1006, 2000]);
        assert!(stamps.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn javascript_times_become_whole_milliseconds() {
        assert_eq!(millis(1_764_325_200_000.7), 1_764_325_200_000);
        assert_eq!(millis(f64::NAN), 0);
        assert_eq!(millis(-5.0), 0);
        assert_eq!(millis(f64::INFINITY), 0);
    }
}
