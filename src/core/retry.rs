//! The retry policy, in one place: which answers are worth another attempt, how long to
//! wait before it (exponential backoff with full jitter, or the server's `Retry-After`),
//! and which answers mean the events will never be accepted.

/// Tuning for the backoff (`init({retryBaseMs, retryMaxMs})`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The ceiling of the first wait.
    pub base_ms: u64,
    /// No wait is longer than this.
    pub cap_ms: u64,
    /// The least wait after a 429 whose `Retry-After` the page cannot read (the real
    /// server limits each IP per minute and does not expose the header cross-origin).
    pub rate_limit_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base_ms: 1000,
            cap_ms: 60_000,
            rate_limit_ms: 60_000,
        }
    }
}

/// What an HTTP answer (or its absence) means for the batch that got it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx: read the per-event results.
    Accepted,
    /// Network error, 408, 429, 5xx: try again later.
    Retry,
    /// 413: the batch is too large; send it in halves.
    Split,
    /// Any other status: sending it again would get the same answer.
    Refused,
}

/// Classifies a status; `None` is a network error (no answer at all).
pub fn verdict(status: Option<u16>) -> Verdict {
    match status {
        None | Some(408 | 429 | 500..=599) => Verdict::Retry,
        Some(200..=299) => Verdict::Accepted,
        Some(413) => Verdict::Split,
        Some(_) => Verdict::Refused,
    }
}

impl RetryPolicy {
    /// The ceiling of the wait before attempt `failures + 1`: `base · 2^(failures-1)`,
    /// capped.
    pub fn ceiling_ms(&self, failures: u32) -> u64 {
        let doublings = failures.saturating_sub(1).min(40);
        self.base_ms
            .saturating_mul(1u64 << doublings)
            .min(self.cap_ms)
    }

    /// The wait after the `failures`-th failure in a row. `random` is uniform in [0, 1)
    /// (full jitter: tabs that failed together do not retry together). A readable
    /// `Retry-After` wins, capped; a 429 without one waits at least `rate_limit_ms`.
    pub fn wait_ms(
        &self,
        failures: u32,
        random: f64,
        status: Option<u16>,
        retry_after: Option<u64>,
    ) -> u64 {
        if let Some(server_wait) = retry_after {
            return server_wait.min(self.cap_ms.max(self.rate_limit_ms));
        }
        let jittered = (self.ceiling_ms(failures) as f64 * random.clamp(0.0, 1.0)) as u64;
        if status == Some(429) {
            jittered.max(self.rate_limit_ms)
        } else {
            jittered
        }
    }
}

/// Milliseconds to wait from a `Retry-After` value: delta-seconds (`120`) or an HTTP
/// date (`Wed, 21 Oct 2015 07:28:00 GMT`) compared with `now_ms`. `None` if unreadable.
pub fn parse_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value
            .parse::<u64>()
            .ok()
            .map(|seconds| seconds.saturating_mul(1000));
    }
    http_date_ms(value).map(|at| at.saturating_sub(now_ms))
}

/// Epoch milliseconds of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form
/// servers must send.
fn http_date_ms(value: &str) -> Option<u64> {
    let mut parts = value.split_ascii_whitespace();
    let _weekday = parts.next()?.strip_suffix(',')?;
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: u64 = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':').map(|n| n.parse::<u64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    if parts.next()? != "GMT"
        || !(1..=31).contains(&day)
        || year < 1970
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some((((days * 24 + hour) * 60 + minute) * 60 + second) * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (year ≥ 1970).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * 146_097 + day_of_era).saturating_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn statuses_are_classified_as_the_protocol_says() {
        assert_eq!(verdict(None), Verdict::Retry);
        for status in [408, 429, 500, 502, 503, 599] {
            assert_eq!(verdict(Some(status)), Verdict::Retry, "{status}");
        }
        for status in [200, 201, 204] {
            assert_eq!(verdict(Some(status)), Verdict::Accepted, "{status}");
        }
        assert_eq!(verdict(Some(413)), Verdict::Split);
        for status in [400, 401, 402, 403, 404, 422, 302, 0, 600] {
            assert_eq!(verdict(Some(status)), Verdict::Refused, "{status}");
        }
    }

    #[test]
    fn the_ceiling_doubles_from_the_base_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let ceilings: Vec<u64> = (1..=8).map(|n| policy.ceiling_ms(n)).collect();
        assert_eq!(
            ceilings,
            [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]
        );
        assert_eq!(policy.ceiling_ms(u32::MAX), 60_000);
        assert_eq!(policy.ceiling_ms(0), 1000);
    }

    #[test]
    fn full_jitter_spreads_the_wait_below_the_ceiling() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.wait_ms(3, 0.0, Some(503), None), 0);
        assert_eq!(policy.wait_ms(3, 0.5, Some(503), None), 2000);
        assert_eq!(policy.wait_ms(3, 0.999_999, None, None), 3999);
        assert_eq!(
            policy.wait_ms(3, 7.0, None, None),
            4000,
            "random is clamped"
        );
    }

    #[test]
    fn retry_after_wins_and_429_without_it_waits_for_the_rate_window() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.wait_ms(1, 0.1, Some(429), Some(2000)), 2000);
        assert_eq!(policy.wait_ms(1, 0.1, Some(503), Some(5000)), 5000);
        assert_eq!(
            policy.wait_ms(1, 0.1, Some(429), Some(3_600_000)),
            60_000,
            "capped"
        );
        assert_eq!(policy.wait_ms(1, 0.1, Some(429), None), 60_000);
        let short = RetryPolicy {
            base_ms: 10,
            cap_ms: 100,
            rate_limit_ms: 50,
        };
        assert_eq!(short.wait_ms(1, 0.5, Some(429), None), 50);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = 1_445_412_480_000; // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(parse_retry_after("120", now), Some(120_000));
        assert_eq!(parse_retry_after(" 0 ", now), Some(0));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(30_000)
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(0),
            "past dates mean now"
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 0),
            Some(784_111_777_000)
        );
        assert_eq!(
            parse_retry_after("Thu, 29 Feb 2024 00:00:00 GMT", 0),
            Some(1_709_164_800_000)
        );
        for bad in [
            "",
            "-5",
            "1.5",
            "soon",
            "Wed, 21 Oct 2015 07:28:00 UTC",
            "Wed, 32 Oct 2015 07:28:00 GMT",
            "Wed, 21 Foo 2015 07:28:00 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }
}
