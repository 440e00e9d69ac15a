//! Counting what happened to events, so nothing leaves the SDK unaccounted for: every
//! event is delivered, still queued, or dropped with one of these reasons.

use crate::prelude::*;

/// Why events left the outbox without being stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The queue was full (by count or bytes) and these were the oldest.
    QueueFull,
    /// The server answered this status, which re-sending would not change.
    Status(u16),
    /// The server answered 200 but refused this event, with this reason.
    Refused(String),
    /// Larger than `maxEventBytes`, or the server answered 413 for this event alone.
    TooLarge,
    /// The user opted out of tracking: the queue was cleared.
    OptedOut,
}

impl DropReason {
    /// The name of its counter in `stats().dropped`.
    pub fn key(&self) -> &'static str {
        match self {
            DropReason::QueueFull => "queueFull",
            DropReason::Status(_) => "status",
            DropReason::Refused(_) => "refused",
            DropReason::TooLarge => "tooLarge",
            DropReason::OptedOut => "optedOut",
        }
    }

    /// A sentence for the console and `onError`.
    pub fn describe(&self) -> String {
        let mut text = String::new();
        match self {
            DropReason::QueueFull => text.push_str("the queue is full; these were the oldest"),
            DropReason::Status(status) => {
                text.push_str("the server answered ");
                super::json::push_u64(&mut text, u64::from(*status));
            }
            DropReason::Refused(error) => {
                text.push_str("the server refused it: ");
                text.push_str(error);
            }
            DropReason::TooLarge => {
                text.push_str("too large to send (over maxEventBytes, or refused with 413)")
            }
            DropReason::OptedOut => text.push_str("the user opted out of tracking"),
        }
        text
    }
}

/// A count of dropped events and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped {
    pub reason: DropReason,
    pub count: usize,
}

/// The counters behind `stats()`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events tracked on this page.
    pub tracked: u64,
    /// Events taken over from an earlier page or a closed tab.
    pub restored: u64,
    /// Events the server stored.
    pub delivered: u64,
    /// Events put back for another attempt after a failed request (counted per attempt).
    pub retried: u64,
    /// Requests made.
    pub requests: u64,
    pub dropped_queue_full: u64,
    pub dropped_status: u64,
    pub dropped_refused: u64,
    pub dropped_too_large: u64,
    pub dropped_opted_out: u64,
}

impl Stats {
    /// Counts a drop and returns it for reporting.
    pub fn drop(&mut self, reason: DropReason, count: usize) -> Dropped {
        let counter = match reason {
            DropReason::QueueFull => &mut self.dropped_queue_full,
            DropReason::Status(_) => &mut self.dropped_status,
            DropReason::Refused(_) => &mut self.dropped_refused,
            DropReason::TooLarge => &mut self.dropped_too_large,
            DropReason::OptedOut => &mut self.dropped_opted_out,
        };
        *counter += count as u64;
        Dropped { reason, count }
    }

    /// Every dropped event, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_queue_full
            + self.dropped_status
            + self.dropped_refused
            + self.dropped_too_large
            + self.dropped_opted_out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_are_counted_under_their_reason() {
        let mut stats = Stats::default();
        stats.drop(DropReason::QueueFull, 3);
        stats.drop(DropReason::Status(401), 2);
        stats.drop(DropReason::Refused("bad".into()), 1);
        let dropped = stats.drop(DropReason::TooLarge, 1);
        assert_eq!(
            dropped,
            Dropped {
                reason: DropReason::TooLarge,
                count: 1
            }
        );
        assert_eq!(
            (
                stats.dropped_queue_full,
                stats.dropped_status,
                stats.dropped_refused,
                stats.dropped_too_large
            ),
            (3, 2, 1, 1)
        );
        assert_eq!(stats.dropped(), 7);
    }

    #[test]
    fn reasons_describe_themselves() {
        assert_eq!(
            DropReason::Status(402).describe(),
            "the server answered 402"
        );
        assert_eq!(
            DropReason::Refused("no run".into()).describe(),
            "the server refused it: no run"
        );
        assert_eq!(DropReason::Status(402).key(), "status");
    }
}
