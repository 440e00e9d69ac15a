//! When to send what: batching by size and quiet time, one normal request in flight
//! (plus keepalive ones while the page goes away), what each answer means for the events
//! it carried, retries, flush marks, and the counters `stats()` reports.

use crate::prelude::*;

use super::queue::{batch_body, Entry, Queue, BODY_OVERHEAD};
use super::retry::{verdict, RetryPolicy, Verdict};
use super::stats::{DropReason, Dropped, Stats};

/// The largest request body the outbox builds (the server accepts 20 MB).
pub const MAX_REQUEST_BYTES: usize = 2 << 20;
/// Browsers cap the bodies of all in-flight keepalive requests of a page at 64 KiB.
pub const KEEPALIVE_BUDGET: usize = 64 * 1024;

/// How long an answered keepalive request still counts against the budget. Browsers free
/// its share a moment after the answer, not at once (Chromium about 300 ms while the
/// answer's body is unread, Firefox under 50 ms): a request that does not fit then is
/// refused, and at pagehide its events would be lost.
pub const KEEPALIVE_LINGER_MS: u64 = 1000;

/// Batching and bounds (`init({maxBatchSize, flushIntervalMs, maxQueueSize, maxQueueBytes})`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Send at once when this many events are queued.
    pub max_batch: usize,
    /// Otherwise send after this long without a new event.
    pub interval_ms: u64,
    /// Keep at most this many unsent events; past it the oldest are dropped.
    pub max_queue: usize,
    /// …and at most this many bytes of them.
    pub max_queue_bytes: usize,
    /// An event larger than this is dropped when tracked, so one huge event can neither
    /// push every other out of the queue nor block it.
    pub max_event_bytes: usize,
    pub retry: RetryPolicy,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_batch: 20,
            interval_ms: 500,
            // Room for a burst of thousands of events in one task (lunary-js keeps all);
            // storage gets the oldest `persisted::STORED_BYTES` of them.
            max_queue: 10_000,
            max_queue_bytes: 8 << 20,
            max_event_bytes: 1 << 20,
            retry: RetryPolicy::default(),
        }
    }
}

/// A request for the shell to make.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    /// Names the request in `on_reply`.
    pub id: u64,
    pub body: String,
    /// Send with `fetch(…, {keepalive: true})`, so it outlives the page.
    pub keepalive: bool,
}

/// What the shell should do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Send(Request),
    /// Call `next` again at this time.
    WakeAt(u64),
    /// Nothing to do until an event is tracked or the outbox is enabled.
    Idle,
}

/// How the server (or the network) answered a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    /// No answer: offline, refused, reset, CORS failure.
    NetworkError,
    /// An HTTP status; for a 2xx, the `results` read from the body (empty when it could
    /// not be read: then every event counts as accepted); `Retry-After` in milliseconds
    /// when the page could read it.
    Status {
        status: u16,
        results: Vec<EventResult>,
        retry_after_ms: Option<u64>,
    },
}

/// One entry of a 200 answer's `results`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventResult {
    pub success: bool,
    pub error: Option<String>,
}

/// What handling a reply did, for the shell to report.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Handled {
    pub dropped: Vec<Dropped>,
    /// The request failed; its events stay queued for the attempt after `retry_in_ms`.
    pub retry_in_ms: Option<u64>,
    /// Events the server stored.
    pub delivered: usize,
}

/// A request in flight and the events it carries.
#[derive(Debug)]
struct Flight {
    id: u64,
    entries: Vec<Entry>,
    keepalive: bool,
    /// Sent by `next` (one at a time), not by `take_keepalive` while the page goes away.
    regular: bool,
    bytes: usize,
}

/// The unsent events and the sending state around them.
#[derive(Debug)]
pub struct Outbox {
    policy: Policy,
    queue: Queue,
    /// Sending starts once the shell knows the project key.
    enabled: bool,
    flights: Vec<Flight>,
    /// Answered keepalive requests still counted against the budget: (answered at, bytes).
    lingering: Vec<(u64, usize)>,
    next_id: u64,
    last_push: u64,
    /// Events up to this sequence number go now, ignoring the quiet time (a flush).
    urgent_through: u64,
    failures: u32,
    retry_at: u64,
    /// The server asked for the current wait (429, `Retry-After`): a flush keeps to it.
    server_wait: bool,
    /// After a 413, batches carry at most this many events until one is accepted.
    split_limit: Option<usize>,
    /// While the user is opted out, events are neither kept nor sent.
    opted_out: bool,
    pub stats: Stats,
}

impl Outbox {
    pub fn new(policy: Policy) -> Self {
        Outbox {
            policy,
            queue: Queue::new(policy.max_queue, policy.max_queue_bytes),
            enabled: false,
            flights: Vec::new(),
            lingering: Vec::new(),
            next_id: 1,
            last_push: 0,
            urgent_through: 0,
            failures: 0,
            retry_at: 0,
            server_wait: false,
            split_limit: None,
            opted_out: false,
            stats: Stats::default(),
        }
    }

    /// Changes the options; queued events stay (less any the new bounds cannot hold).
    pub fn set_policy(&mut self, policy: Policy) -> Option<Dropped> {
        self.policy = policy;
        let dropped = self.queue.rebound(policy.max_queue, policy.max_queue_bytes);
        self.count_dropped(DropReason::QueueFull, dropped)
    }

    /// Starts (or stops) sending; events are queued either way.
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }

    /// Opts the user out of tracking (clearing the queue: those events are dropped) or
    /// back in.
    pub fn set_opted_out(&mut self, opted_out: bool) -> Option<Dropped> {
        self.opted_out = opted_out;
        let cleared = if opted_out { self.queue.clear() } else { 0 };
        self.count_dropped(DropReason::OptedOut, cleared)
    }

    pub fn opted_out(&self) -> bool {
        self.opted_out
    }

    /// Queues a serialized event tracked at `now` (nothing while opted out).
    pub fn push(&mut self, now: u64, json: String) -> Option<Dropped> {
        if self.opted_out {
            return None;
        }
        self.stats.tracked += 1;
        if json.len() > self.policy.max_event_bytes {
            return self.count_dropped(DropReason::TooLarge, 1);
        }
        self.last_push = now;
        let dropped = self.queue.push(json);
        self.count_dropped(DropReason::QueueFull, dropped)
    }

    /// Queues events kept by an earlier page (or a closed tab), ahead of newer ones.
    pub fn restore(&mut self, events: Vec<String>) -> Option<Dropped> {
        self.stats.restored += events.len() as u64;
        if self.opted_out {
            return self.count_dropped(DropReason::OptedOut, events.len());
        }
        let dropped = self.queue.restore(events);
        self.count_dropped(DropReason::QueueFull, dropped)
    }

    fn count_dropped(&mut self, reason: DropReason, count: usize) -> Option<Dropped> {
        (count > 0).then(|| self.stats.drop(reason, count))
    }

    fn regular_in_flight(&self) -> bool {
        self.flights.iter().any(|flight| flight.regular)
    }

    /// When the next send is due (`now` or earlier means at once), if one is.
    pub fn due_at(&self, now: u64) -> Option<u64> {
        if !self.enabled || self.regular_in_flight() {
            return None;
        }
        let oldest = self.queue.oldest_seq()?;
        if self.retry_at > now {
            return Some(self.retry_at);
        }
        if self.queue.len() >= self.policy.max_batch || oldest <= self.urgent_through {
            return Some(now);
        }
        Some(self.last_push.saturating_add(self.policy.interval_ms))
    }

    /// Takes the next batch if it is due, or says when to look again. A batch small
    /// enough for what is left of the keepalive budget is sent with keepalive, so it
    /// survives the page closing while it is in flight.
    pub fn next(&mut self, now: u64) -> Next {
        match self.due_at(now) {
            None => Next::Idle,
            Some(at) if at > now => Next::WakeAt(at),
            Some(_) => {
                let limit = self.split_limit.unwrap_or(usize::MAX);
                let entries = self.queue.take_batch(MAX_REQUEST_BYTES, limit);
                let bytes = entries.iter().map(Entry::size).sum::<usize>() + BODY_OVERHEAD;
                let keepalive = bytes <= self.keepalive_left(now);
                Next::Send(self.fly(entries, keepalive, true))
            }
        }
    }

    /// While the page goes away: a keepalive request with the queued events that fit in
    /// what is left of the keepalive budget (in order, passing over any too large). None
    /// while the server is failing: a request nobody will hear the answer to would lose
    /// them; they stay in storage for the next page instead.
    pub fn take_keepalive(&mut self, now: u64) -> Option<Request> {
        if self.failing() || !self.enabled || self.opted_out {
            return None;
        }
        let budget = self.keepalive_left(now).checked_sub(BODY_OVERHEAD)?;
        let entries = self.queue.take_within(budget);
        (!entries.is_empty()).then(|| self.fly(entries, true, false))
    }

    fn keepalive_left(&mut self, now: u64) -> usize {
        self.lingering
            .retain(|&(answered, _)| now.saturating_sub(answered) < KEEPALIVE_LINGER_MS);
        let in_flight: usize = self
            .flights
            .iter()
            .filter(|f| f.keepalive)
            .map(|f| f.bytes)
            .chain(self.lingering.iter().map(|&(_, bytes)| bytes))
            .sum();
        KEEPALIVE_BUDGET.saturating_sub(in_flight)
    }

    fn fly(&mut self, entries: Vec<Entry>, keepalive: bool, regular: bool) -> Request {
        let id = self.next_id;
        self.next_id += 1;
        let body = batch_body(&entries);
        self.stats.requests += 1;
        self.flights.push(Flight {
            id,
            bytes: body.len(),
            entries,
            keepalive,
            regular,
        });
        Request {
            id,
            body,
            keepalive,
        }
    }

    /// Applies the answer to request `id`. `random` (uniform in [0, 1)) jitters the wait
    /// before a retry.
    pub fn on_reply(&mut self, now: u64, id: u64, reply: Reply, random: f64) -> Handled {
        let mut handled = Handled::default();
        let Some(index) = self.flights.iter().position(|flight| flight.id == id) else {
            return handled;
        };
        let flight = self.flights.swap_remove(index);
        if flight.keepalive {
            self.lingering.push((now, flight.bytes));
        }
        let (status, results, retry_after) = match reply {
            Reply::NetworkError => (None, Vec::new(), None),
            Reply::Status {
                status,
                results,
                retry_after_ms,
            } => (Some(status), results, retry_after_ms),
        };
        match verdict(status) {
            Verdict::Accepted => {
                self.failures = 0;
                self.retry_at = 0;
                self.split_limit = None;
                let mut delivered = flight.entries.len();
                for result in results.into_iter().take(flight.entries.len()) {
                    if !result.success {
                        delivered -= 1;
                        let reason =
                            DropReason::Refused(result.error.unwrap_or_else(|| "refused".into()));
                        merge_dropped(&mut handled.dropped, self.stats.drop(reason, 1));
                    }
                }
                self.stats.delivered += delivered as u64;
                handled.delivered = delivered;
            }
            Verdict::Retry => {
                self.failures = self.failures.saturating_add(1);
                let wait = self
                    .policy
                    .retry
                    .wait_ms(self.failures, random, status, retry_after);
                self.retry_at = now.saturating_add(wait).max(1);
                self.server_wait = retry_after.is_some() || status == Some(429);
                self.stats.retried += flight.entries.len() as u64;
                handled.retry_in_ms = Some(wait);
                self.put_back(flight.entries, &mut handled);
            }
            Verdict::Split if flight.entries.len() > 1 => {
                self.split_limit = Some((flight.entries.len() / 2).max(1));
                // The halves go at once, one after the other.
                let last = flight.entries.iter().map(|e| e.seq).max().unwrap_or(0);
                self.urgent_through = self.urgent_through.max(last);
                self.put_back(flight.entries, &mut handled);
            }
            Verdict::Split => {
                let dropped = self.stats.drop(DropReason::TooLarge, 1);
                merge_dropped(&mut handled.dropped, dropped);
            }
            Verdict::Refused => {
                let dropped = self.stats.drop(
                    DropReason::Status(status.unwrap_or(0)),
                    flight.entries.len(),
                );
                merge_dropped(&mut handled.dropped, dropped);
            }
        }
        handled
    }

    fn put_back(&mut self, entries: Vec<Entry>, handled: &mut Handled) {
        let overflow = self.queue.put_back(entries);
        if let Some(dropped) = self.count_dropped(DropReason::QueueFull, overflow) {
            merge_dropped(&mut handled.dropped, dropped);
        }
    }

    /// Marks everything tracked so far to be sent now (cutting short our own backoff,
    /// but not a wait the server asked for); returns the mark to wait for.
    pub fn flush_mark(&mut self) -> u64 {
        let mark = self.queue.last_seq();
        self.urgent_through = mark;
        if !self.server_wait {
            self.retry_at = 0;
        }
        mark
    }

    /// Whether every event up to `mark` has left the outbox (delivered or dropped).
    pub fn settled(&self, mark: u64) -> bool {
        let in_flight = self
            .flights
            .iter()
            .flat_map(|f| f.entries.first())
            .map(|e| e.seq)
            .min();
        let oldest = match (in_flight, self.queue.oldest_seq()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        oldest.is_none_or(|oldest| oldest > mark)
    }

    /// Whether the last request failed: the server (or the network) is in trouble now.
    pub fn failing(&self) -> bool {
        self.failures > 0
    }

    /// The events to keep in storage, oldest first: everything not yet delivered.
    ///
    /// Once the page is gone, no answer will come back for the keepalive requests it left
    /// in flight (the browser finishes them on its own). If the server was answering, they
    /// are taken as delivered (sending them again would store chat messages twice); if it
    /// was failing, they are kept for the next page (they most likely failed too).
    pub fn snapshot(&self, page_gone: bool) -> Vec<&str> {
        let mut entries: Vec<&Entry> = self.queue.iter().collect();
        let count_as_sent = page_gone && !self.failing();
        let flying = self
            .flights
            .iter()
            .filter(|flight| !(count_as_sent && flight.keepalive));
        // Both are in sequence order already; merging by insertion costs no sort code.
        for entry in flying.flat_map(|flight| flight.entries.iter()) {
            let at = entries.partition_point(|queued| queued.seq < entry.seq);
            entries.insert(at, entry);
        }
        entries
            .into_iter()
            .map(|entry| entry.json.as_str())
            .collect()
    }

    /// Whether sending has been enabled.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Events waiting, including those in flight.
    pub fn pending(&self) -> usize {
        self.queue.len() + self.flights.iter().map(|f| f.entries.len()).sum::<usize>()
    }

    /// The newest queued event's JSON (for the verbose log).
    pub fn newest(&self) -> Option<&str> {
        self.queue.newest()
    }
}

/// Adds a drop to a list, merging counts of the same reason.
fn merge_dropped(list: &mut Vec<Dropped>, dropped: Dropped) {
    match list.iter_mut().find(|known| known.reason == dropped.reason) {
        Some(known) => known.count += dropped.count,
        None => list.push(dropped),
    }
}

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;
