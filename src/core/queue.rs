//! The events waiting to be sent, oldest first, bounded by count and bytes so a page
//! that cannot reach the server never grows without limit.

use crate::prelude::*;

use alloc::collections::VecDeque;

/// One serialized event and its place in the order events were tracked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub json: String,
}

impl Entry {
    /// Its share of a request body: the JSON and a comma.
    pub fn size(&self) -> usize {
        self.json.len() + 1
    }
}

/// Sequence numbers of newly tracked events start here; events restored from an earlier
/// page are older and are numbered downwards from just below it.
const FIRST_SEQ: u64 = 1 << 40;

/// A FIFO of serialized events, ordered by sequence number, that drops its oldest
/// entries past `max_events` or `max_bytes` (the newest event always stays).
#[derive(Debug)]
pub struct Queue {
    entries: VecDeque<Entry>,
    bytes: usize,
    next_seq: u64,
    next_restored_seq: u64,
    max_events: usize,
    max_bytes: usize,
}

impl Queue {
    /// An empty queue holding at most `max_events` (at least one) and `max_bytes`.
    pub fn new(max_events: usize, max_bytes: usize) -> Self {
        Queue {
            entries: VecDeque::new(),
            bytes: 0,
            next_seq: FIRST_SEQ,
            next_restored_seq: FIRST_SEQ - 1,
            max_events: max_events.max(1),
            max_bytes,
        }
    }

    /// The same events under new bounds; returns how many had to be dropped.
    pub fn rebound(&mut self, max_events: usize, max_bytes: usize) -> usize {
        self.max_events = max_events.max(1);
        self.max_bytes = max_bytes;
        self.trim()
    }

    /// Appends a newly tracked event; returns how many of the oldest were dropped.
    pub fn push(&mut self, json: String) -> usize {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.bytes += json.len() + 1;
        self.entries.push_back(Entry { seq, json });
        self.trim()
    }

    /// Puts events kept from an earlier page in front, in the order given: they are older
    /// than anything tracked here. Returns how many of the oldest were dropped.
    pub fn restore(&mut self, events: Vec<String>) -> usize {
        for json in events.into_iter().rev() {
            let seq = self.next_restored_seq;
            self.next_restored_seq = self.next_restored_seq.saturating_sub(1);
            self.bytes += json.len() + 1;
            self.entries.push_front(Entry { seq, json });
        }
        self.trim()
    }

    /// Puts undelivered events back in sequence order; returns how many of the oldest were
    /// dropped if that overfills the queue.
    pub fn put_back(&mut self, batch: Vec<Entry>) -> usize {
        for entry in batch {
            self.bytes += entry.size();
            let at = self
                .entries
                .partition_point(|queued| queued.seq < entry.seq);
            self.entries.insert(at, entry);
        }
        self.trim()
    }

    /// Drops the oldest entries past the bounds, keeping at least the newest.
    fn trim(&mut self) -> usize {
        let mut dropped = 0;
        while self.entries.len() > 1
            && (self.entries.len() > self.max_events || self.bytes > self.max_bytes)
        {
            if let Some(entry) = self.entries.pop_front() {
                self.bytes -= entry.size();
                dropped += 1;
            }
        }
        dropped
    }

    /// Takes the oldest events, at most `max_count`, whose JSON adds up to at most
    /// `max_bytes` (always at least one event, so one over the limit still goes alone).
    pub fn take_batch(&mut self, max_bytes: usize, max_count: usize) -> Vec<Entry> {
        let mut bytes = 0;
        let mut count = 0;
        for entry in self.entries.iter().take(max_count.max(1)) {
            bytes += entry.size();
            if count > 0 && bytes > max_bytes {
                break;
            }
            count += 1;
        }
        let batch: Vec<Entry> = self.entries.drain(..count).collect();
        self.bytes -= batch.iter().map(Entry::size).sum::<usize>();
        batch
    }

    /// Takes, oldest first, the events that fit together in `budget` bytes, passing over
    /// any that cannot (they stay for a normal request).
    pub fn take_within(&mut self, budget: usize) -> Vec<Entry> {
        let mut left = budget;
        let mut taken = Vec::new();
        let mut kept = VecDeque::with_capacity(self.entries.len());
        for entry in self.entries.drain(..) {
            if entry.size() <= left {
                left -= entry.size();
                taken.push(entry);
            } else {
                kept.push_back(entry);
            }
        }
        self.entries = kept;
        self.bytes -= taken.iter().map(Entry::size).sum::<usize>();
        taken
    }

    /// Empties the queue; returns how many events it held.
    pub fn clear(&mut self) -> usize {
        let count = self.entries.len();
        self.entries.clear();
        self.bytes = 0;
        count
    }

    /// The queued events, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// The sequence number of the oldest queued event.
    pub fn oldest_seq(&self) -> Option<u64> {
        self.entries.front().map(|entry| entry.seq)
    }

    /// The sequence number the last tracked event got (below `FIRST_SEQ` before any).
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// The newest queued event's JSON (for the verbose log).
    pub fn newest(&self) -> Option<&str> {
        self.entries.back().map(|entry| entry.json.as_str())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The bytes the queued events take in a request body.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// The request body for a batch: `{"events":[…]}`.
pub fn batch_body(batch: &[Entry]) -> String {
    let size = batch.iter().map(Entry::size).sum::<usize>();
    let mut body = String::with_capacity(size + BODY_OVERHEAD);
    body.push_str("{\"events\":[");
    for (index, entry) in batch.iter().enumerate() {
        if index > 0 {
            body.push(',');
        }
        body.push_str(&entry.json);
    }
    body.push_str("]}");
    body
}

/// The bytes `{"events":[` and `]}` add to a body.
pub const BODY_OVERHEAD: usize = 13;

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: u32) -> String {
        format!("{{\"n\":{n}}}")
    }

    fn seqs(batch: &[Entry]) -> Vec<u64> {
        batch.iter().map(|e| e.seq - FIRST_SEQ).collect()
    }

    #[test]
    fn drops_the_oldest_past_the_count_bound() {
        let mut queue = Queue::new(3, usize::MAX);
        let dropped: Vec<usize> = (1..=5).map(|n| queue.push(event(n))).collect();
        assert_eq!(dropped, [0, 0, 0, 1, 1]);
        assert_eq!(queue.len(), 3);
        assert_eq!(queue.oldest_seq(), Some(FIRST_SEQ + 2));
        assert_eq!(queue.last_seq(), FIRST_SEQ + 4);
    }

    #[test]
    fn drops_the_oldest_past_the_byte_bound_but_keeps_the_newest() {
        let mut queue = Queue::new(100, 20); // each event is 8 bytes with its comma
        assert_eq!(queue.push(event(1)), 0);
        assert_eq!(queue.push(event(2)), 0);
        assert_eq!(queue.push(event(3)), 1);
        assert_eq!(queue.bytes(), 16);
        assert_eq!(
            queue.push("x".repeat(50)),
            2,
            "a huge event evicts all older ones"
        );
        assert_eq!(queue.len(), 1, "but stays itself");
    }

    #[test]
    fn batches_are_bounded_by_bytes_and_count_but_never_empty() {
        let mut queue = Queue::new(100, usize::MAX);
        for n in 0..10 {
            queue.push(event(n));
        }
        assert_eq!(seqs(&queue.take_batch(24, 100)), [0, 1, 2]);
        assert_eq!(
            queue.take_batch(1, 100).len(),
            1,
            "an event over the limit still goes alone"
        );
        assert_eq!(seqs(&queue.take_batch(usize::MAX, 2)), [4, 5]);
        assert_eq!(queue.take_batch(usize::MAX, 100).len(), 4);
        assert!(queue.take_batch(usize::MAX, 100).is_empty());
        assert_eq!(queue.bytes(), 0);
    }

    #[test]
    fn put_back_merges_in_sequence_order() {
        let mut queue = Queue::new(10, usize::MAX);
        for n in 0..6 {
            queue.push(event(n));
        }
        let first = queue.take_batch(16, 100);
        let second = queue.take_batch(16, 100);
        queue.push(event(9));
        assert_eq!(queue.put_back(second), 0);
        assert_eq!(queue.put_back(first), 0);
        assert_eq!(
            seqs(&queue.take_batch(usize::MAX, 100)),
            [0, 1, 2, 3, 4, 5, 6]
        );
    }

    #[test]
    fn restored_events_go_first_in_their_order() {
        let mut queue = Queue::new(10, usize::MAX);
        queue.push(event(7));
        queue.restore(vec![event(1), event(2)]);
        queue.restore(vec![event(0)]);
        let order: Vec<String> = queue
            .take_batch(usize::MAX, 100)
            .into_iter()
            .map(|e| e.json)
            .collect();
        assert_eq!(order, [event(0), event(1), event(2), event(7)]);
    }

    #[test]
    fn take_within_passes_over_what_does_not_fit() {
        let mut queue = Queue::new(10, usize::MAX);
        queue.push(event(1));
        queue.push("y".repeat(40));
        queue.push(event(2));
        let taken = queue.take_within(20);
        assert_eq!(
            taken.iter().map(|e| e.json.clone()).collect::<Vec<_>>(),
            [event(1), event(2)]
        );
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.bytes(), 41);
    }

    #[test]
    fn body_is_the_events_envelope() {
        let mut queue = Queue::new(10, usize::MAX);
        queue.push(event(1));
        queue.push(event(2));
        let batch = queue.take_batch(usize::MAX, 100);
        let body = batch_body(&batch);
        assert_eq!(body, r#"{"events":[{"n":1},{"n":2}]}"#);
        assert_eq!(
            body.len(),
            batch.iter().map(Entry::size).sum::<usize>() - 1 + BODY_OVERHEAD
        );
        assert_eq!(batch_body(&[]), r#"{"events":[]}"#);
    }
}
