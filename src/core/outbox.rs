//! When to send what: batching by size and quiet time, one request in flight, what a
//! reply means for the events it carried, and flush marks.

use super::queue::{batch_body, Entry, Queue};

/// The largest request body the outbox builds (the server accepts 20 MB).
pub const MAX_REQUEST_BYTES: usize = 2 << 20;
/// The longest wait between attempts after failures.
const MAX_BACKOFF_MS: u64 = 60_000;

/// Batching options (`init({maxBatchSize, flushIntervalMs, maxQueueSize})`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Send at once when this many events are queued.
    pub max_batch: usize,
    /// Otherwise send after this long without a new event.
    pub interval_ms: u64,
    /// Keep at most this many unsent events; past it the oldest are dropped.
    pub max_queue: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_batch: 20,
            interval_ms: 500,
            max_queue: 1000,
        }
    }
}

/// What the shell should do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// POST this body now.
    Send(String),
    /// Call `next` again at this time.
    WakeAt(u64),
    /// Nothing to do until an event is tracked or the outbox is enabled.
    Idle,
}

/// How the server (or the network) answered a batch.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    /// No answer: offline, refused, reset, CORS failure.
    NetworkError,
    /// An HTTP status; for a 2xx, the `results` array read from the body (may be empty
    /// when the body could not be read: then every event counts as accepted).
    Status(u16, Vec<EventResult>),
}

/// One entry of a 200 answer's `results`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventResult {
    pub success: bool,
    pub error: Option<String>,
}

/// Why events left the outbox without being stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The queue was full and these were the oldest.
    QueueFull,
    /// The server answered this status, which re-sending would not change.
    Status(u16),
    /// The server answered 200 but refused this event, with this reason.
    Refused(String),
}

/// A count of dropped events and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped {
    pub reason: DropReason,
    pub count: usize,
}

/// What handling a reply did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Handled {
    pub dropped: Vec<Dropped>,
    /// The batch failed and stays queued for a later attempt.
    pub retrying: bool,
    /// Events the server stored.
    pub delivered: usize,
}

/// The unsent events and the sending state around them.
#[derive(Debug)]
pub struct Outbox {
    policy: Policy,
    queue: Queue,
    /// Sending starts once the shell knows the project key.
    enabled: bool,
    in_flight: Option<Vec<Entry>>,
    last_push: u64,
    /// Events up to this sequence number go now, ignoring the quiet time (a flush).
    urgent_through: u64,
    failures: u32,
    retry_at: u64,
}

impl Outbox {
    pub fn new(policy: Policy) -> Self {
        Outbox {
            policy,
            queue: Queue::new(policy.max_queue),
            enabled: false,
            in_flight: None,
            last_push: 0,
            urgent_through: 0,
            failures: 0,
            retry_at: 0,
        }
    }

    /// Changes the batching options; queued events stay.
    pub fn set_policy(&mut self, policy: Policy) {
        self.policy = policy;
        let mut queue = Queue::new(policy.max_queue);
        queue.put_back(self.queue.take_batch(usize::MAX));
        self.queue = queue;
    }

    /// Starts (or stops) sending; events are queued either way.
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }

    /// Queues a serialized event tracked at `now`.
    pub fn push(&mut self, now: u64, json: String) -> Option<Dropped> {
        self.last_push = now;
        let dropped = self.queue.push(json);
        (dropped > 0).then_some(Dropped {
            reason: DropReason::QueueFull,
            count: dropped,
        })
    }

    /// When the next send is due (`now` or earlier means at once), if one is.
    pub fn due_at(&self, now: u64) -> Option<u64> {
        if !self.enabled || self.in_flight.is_some() {
            return None;
        }
        let oldest = self.queue.oldest_seq()?;
        if oldest <= self.urgent_through {
            return Some(now);
        }
        if self.retry_at > now {
            return Some(self.retry_at);
        }
        if self.queue.len() >= self.policy.max_batch {
            return Some(now);
        }
        Some(self.last_push.saturating_add(self.policy.interval_ms))
    }

    /// Takes the next batch if it is due, or says when to look again.
    pub fn next(&mut self, now: u64) -> Next {
        match self.due_at(now) {
            None => Next::Idle,
            Some(at) if at > now => Next::WakeAt(at),
            Some(_) => {
                let batch = self.queue.take_batch(MAX_REQUEST_BYTES);
                let body = batch_body(&batch);
                self.in_flight = Some(batch);
                Next::Send(body)
            }
        }
    }

    /// Applies the answer to the batch in flight.
    pub fn on_reply(&mut self, now: u64, reply: Reply) -> Handled {
        let mut handled = Handled::default();
        let Some(batch) = self.in_flight.take() else {
            return handled;
        };
        match reply {
            Reply::Status(status @ 200..=299, results) => {
                self.failures = 0;
                self.retry_at = 0;
                handled.delivered = batch.len();
                for result in results.into_iter().take(batch.len()) {
                    if !result.success {
                        handled.delivered -= 1;
                        let reason = result.error.unwrap_or_else(|| status_text(status));
                        push_dropped(&mut handled.dropped, DropReason::Refused(reason), 1);
                    }
                }
            }
            Reply::NetworkError | Reply::Status(408 | 429 | 500..=599, _) => {
                self.failures = self.failures.saturating_add(1);
                self.retry_at = now.saturating_add(backoff_ms(self.failures));
                // A flush waits for one answer, not for the server to recover.
                self.urgent_through = 0;
                handled.retrying = true;
                let overflow = self.queue.put_back(batch);
                if overflow > 0 {
                    push_dropped(&mut handled.dropped, DropReason::QueueFull, overflow);
                }
            }
            Reply::Status(status, _) => {
                push_dropped(
                    &mut handled.dropped,
                    DropReason::Status(status),
                    batch.len(),
                );
            }
        }
        handled
    }

    /// Marks everything queued so far to be sent now; returns the mark to wait for.
    pub fn flush_mark(&mut self) -> u64 {
        let mark = self.queue.last_seq();
        self.urgent_through = mark;
        mark
    }

    /// Whether every event up to `mark` has left the outbox (delivered or dropped).
    pub fn settled(&self, mark: u64) -> bool {
        let oldest_in_flight = self
            .in_flight
            .as_ref()
            .and_then(|batch| batch.first())
            .map(|e| e.seq);
        match oldest_in_flight.or_else(|| self.queue.oldest_seq()) {
            Some(oldest) => oldest > mark,
            None => true,
        }
    }

    /// Whether sending has been enabled.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Events waiting, including the batch in flight.
    pub fn pending(&self) -> usize {
        self.queue.len() + self.in_flight.as_ref().map_or(0, Vec::len)
    }

    /// The newest queued event's JSON (for the verbose log).
    pub fn newest(&self) -> Option<&str> {
        self.queue.newest()
    }
}

/// Wait before attempt `failures + 1`: 1 s doubling up to a minute.
fn backoff_ms(failures: u32) -> u64 {
    let doublings = failures.saturating_sub(1).min(16);
    (1000u64 << doublings).min(MAX_BACKOFF_MS)
}

fn status_text(status: u16) -> String {
    let mut text = String::from("refused with status ");
    super::json::push_u64(&mut text, u64::from(status));
    text
}

/// Adds to the count of an existing reason, or records a new one.
fn push_dropped(list: &mut Vec<Dropped>, reason: DropReason, count: usize) {
    match list.iter_mut().find(|dropped| dropped.reason == reason) {
        Some(existing) => existing.count += count,
        None => list.push(Dropped { reason, count }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbox(max_batch: usize) -> Outbox {
        let mut outbox = Outbox::new(Policy {
            max_batch,
            interval_ms: 500,
            max_queue: 100,
        });
        outbox.set_enabled(true);
        outbox
    }

    fn ok(n: usize) -> Reply {
        Reply::Status(
            200,
            vec![
                EventResult {
                    success: true,
                    error: None
                };
                n
            ],
        )
    }

    fn sent_events(next: Next) -> usize {
        match next {
            Next::Send(body) => {
                let parsed: serde_json::Value = serde_json::from_str(&body).expect("body is JSON");
                parsed["events"].as_array().expect("events array").len()
            }
            other => panic!("expected a send, got {other:?}"),
        }
    }

    #[test]
    fn waits_for_quiet_time_then_sends_everything_queued() {
        let mut outbox = outbox(20);
        outbox.push(1000, "{}".into());
        outbox.push(1200, "{}".into());
        assert_eq!(outbox.next(1300), Next::WakeAt(1700));
        assert_eq!(outbox.next(1699), Next::WakeAt(1700));
        assert_eq!(sent_events(outbox.next(1700)), 2);
    }

    #[test]
    fn sends_at_once_when_the_batch_size_is_reached() {
        let mut outbox = outbox(3);
        outbox.push(0, "{}".into());
        outbox.push(0, "{}".into());
        assert_eq!(outbox.due_at(0), Some(500));
        outbox.push(0, "{}".into());
        assert_eq!(outbox.due_at(0), Some(0));
        assert_eq!(sent_events(outbox.next(0)), 3);
    }

    #[test]
    fn one_request_in_flight_at_a_time() {
        let mut outbox = outbox(1);
        outbox.push(0, "{}".into());
        assert_eq!(sent_events(outbox.next(0)), 1);
        outbox.push(0, "{}".into());
        assert_eq!(outbox.next(10_000), Next::Idle);
        assert_eq!(outbox.on_reply(10, ok(1)).delivered, 1);
        assert_eq!(sent_events(outbox.next(10)), 1);
    }

    #[test]
    fn nothing_is_sent_before_enabled() {
        let mut outbox = Outbox::new(Policy::default());
        for _ in 0..50 {
            outbox.push(0, "{}".into());
        }
        assert_eq!(outbox.next(100_000), Next::Idle);
        outbox.set_enabled(true);
        assert_eq!(sent_events(outbox.next(100_000)), 50);
    }

    #[test]
    fn failed_batches_stay_queued_and_back_off() {
        let mut outbox = outbox(1);
        outbox.push(0, "{\"a\":1}".into());
        assert!(matches!(outbox.next(0), Next::Send(_)));
        let handled = outbox.on_reply(5, Reply::NetworkError);
        assert!(handled.retrying);
        assert_eq!(outbox.pending(), 1);
        assert_eq!(outbox.next(6), Next::WakeAt(1005));
        assert!(matches!(outbox.next(1005), Next::Send(_)));
        assert!(outbox.on_reply(1010, Reply::Status(503, vec![])).retrying);
        assert_eq!(outbox.next(1011), Next::WakeAt(3010));
        assert!(matches!(outbox.next(3010), Next::Send(_)));
        assert!(outbox.on_reply(3010, Reply::Status(429, vec![])).retrying);
        assert_eq!(outbox.next(3010), Next::WakeAt(7010));
    }

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        let waits: Vec<u64> = (1..=9).map(backoff_ms).collect();
        assert_eq!(
            waits,
            [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]
        );
        assert_eq!(backoff_ms(u32::MAX), 60_000);
    }

    #[test]
    fn client_errors_drop_the_batch_with_the_status() {
        let mut outbox = outbox(2);
        outbox.push(0, "{}".into());
        outbox.push(0, "{}".into());
        assert!(matches!(outbox.next(0), Next::Send(_)));
        let handled = outbox.on_reply(1, Reply::Status(401, vec![]));
        assert!(!handled.retrying);
        assert_eq!(
            handled.dropped,
            [Dropped {
                reason: DropReason::Status(401),
                count: 2
            }]
        );
        assert_eq!(outbox.pending(), 0);
    }

    #[test]
    fn refused_events_are_dropped_with_the_servers_reason_and_not_resent() {
        let mut outbox = outbox(3);
        for _ in 0..3 {
            outbox.push(0, "{}".into());
        }
        assert!(matches!(outbox.next(0), Next::Send(_)));
        let results = vec![
            EventResult {
                success: true,
                error: None,
            },
            EventResult {
                success: false,
                error: Some("bad role".into()),
            },
            EventResult {
                success: false,
                error: None,
            },
        ];
        let handled = outbox.on_reply(1, Reply::Status(200, results));
        assert_eq!(handled.delivered, 1);
        assert_eq!(
            handled.dropped,
            [
                Dropped {
                    reason: DropReason::Refused("bad role".into()),
                    count: 1
                },
                Dropped {
                    reason: DropReason::Refused("refused with status 200".into()),
                    count: 1
                },
            ]
        );
        assert_eq!(outbox.pending(), 0);
        assert_eq!(outbox.next(10_000), Next::Idle);
    }

    #[test]
    fn flush_sends_at_once_and_settles_when_answered() {
        let mut outbox = outbox(20);
        outbox.push(0, "{}".into());
        let mark = outbox.flush_mark();
        assert!(!outbox.settled(mark));
        assert_eq!(outbox.due_at(0), Some(0));
        assert!(matches!(outbox.next(0), Next::Send(_)));
        outbox.push(1, "{}".into());
        assert!(!outbox.settled(mark), "in flight is not settled");
        outbox.on_reply(2, ok(1));
        assert!(
            outbox.settled(mark),
            "later events do not hold back an earlier flush"
        );
        let next_mark = outbox.flush_mark();
        assert!(!outbox.settled(next_mark));
    }

    #[test]
    fn flush_bypasses_backoff_once_but_a_failure_ends_the_urgency() {
        let mut outbox = outbox(20);
        outbox.push(0, "{}".into());
        outbox.flush_mark();
        assert!(matches!(outbox.next(0), Next::Send(_)));
        outbox.on_reply(1, Reply::NetworkError);
        assert_eq!(outbox.next(2), Next::WakeAt(1001), "no tight retry loop");
        outbox.flush_mark();
        assert!(
            matches!(outbox.next(2), Next::Send(_)),
            "a new flush tries again at once"
        );
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_says_so() {
        let mut outbox = Outbox::new(Policy {
            max_batch: 20,
            interval_ms: 500,
            max_queue: 2,
        });
        assert_eq!(outbox.push(0, "1".into()), None);
        assert_eq!(outbox.push(0, "2".into()), None);
        assert_eq!(
            outbox.push(0, "3".into()),
            Some(Dropped {
                reason: DropReason::QueueFull,
                count: 1
            })
        );
        assert_eq!(outbox.pending(), 2);
    }

    #[test]
    fn stale_replies_change_nothing() {
        let mut outbox = outbox(20);
        outbox.push(0, "{}".into());
        assert_eq!(outbox.on_reply(0, Reply::NetworkError), Handled::default());
        assert_eq!(outbox.pending(), 1);
    }
}
