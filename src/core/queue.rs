//! The events waiting to be sent, oldest first, bounded so a page that cannot reach the
//! server never grows without limit.

use std::collections::VecDeque;

/// One serialized event and its place in the order events were tracked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub json: String,
}

/// A FIFO of serialized events that drops its oldest entries past `max_events`.
#[derive(Debug)]
pub struct Queue {
    entries: VecDeque<Entry>,
    next_seq: u64,
    max_events: usize,
}

impl Queue {
    /// An empty queue holding at most `max_events` (at least one).
    pub fn new(max_events: usize) -> Self {
        Queue {
            entries: VecDeque::new(),
            next_seq: 1,
            max_events: max_events.max(1),
        }
    }

    /// Appends an event; returns how many of the oldest were dropped to make room.
    pub fn push(&mut self, json: String) -> usize {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries.push_back(Entry { seq, json });
        self.trim()
    }

    /// Puts a batch that was not delivered back at the front, in its original order;
    /// returns how many of the oldest were dropped if that overfills the queue.
    pub fn put_back(&mut self, batch: Vec<Entry>) -> usize {
        for entry in batch.into_iter().rev() {
            self.entries.push_front(entry);
        }
        self.trim()
    }

    /// Drops the oldest entries past the bound.
    fn trim(&mut self) -> usize {
        let excess = self.entries.len().saturating_sub(self.max_events);
        self.entries.drain(..excess);
        excess
    }

    /// Takes the oldest events whose JSON adds up to at most `max_bytes` (always at least
    /// one event, so an event larger than the limit still goes, alone).
    pub fn take_batch(&mut self, max_bytes: usize) -> Vec<Entry> {
        let mut bytes = 0;
        let mut count = 0;
        for entry in &self.entries {
            bytes += entry.json.len() + 1;
            if count > 0 && bytes > max_bytes {
                break;
            }
            count += 1;
        }
        self.entries.drain(..count).collect()
    }

    /// The sequence number of the oldest queued event.
    pub fn oldest_seq(&self) -> Option<u64> {
        self.entries.front().map(|entry| entry.seq)
    }

    /// The sequence number the last tracked event got (0 before any).
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
}

/// The request body for a batch: `{"events":[…]}`.
pub fn batch_body(batch: &[Entry]) -> String {
    let size = batch
        .iter()
        .map(|entry| entry.json.len() + 1)
        .sum::<usize>();
    let mut body = String::with_capacity(size + 13);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: u32) -> String {
        format!("{{\"n\":{n}}}")
    }

    #[test]
    fn drops_the_oldest_past_the_bound() {
        let mut queue = Queue::new(3);
        let dropped: Vec<usize> = (1..=5).map(|n| queue.push(event(n))).collect();
        assert_eq!(dropped, [0, 0, 0, 1, 1]);
        assert_eq!(queue.len(), 3);
        assert_eq!(queue.oldest_seq(), Some(3));
        assert_eq!(queue.last_seq(), 5);
    }

    #[test]
    fn batches_are_bounded_by_bytes_but_never_empty() {
        let mut queue = Queue::new(100);
        for n in 0..10 {
            queue.push(event(n)); // 7 bytes each, 8 with the comma
        }
        let first = queue.take_batch(24);
        assert_eq!(first.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
        let big = queue.take_batch(1);
        assert_eq!(big.len(), 1, "an event over the limit still goes alone");
        assert_eq!(queue.take_batch(usize::MAX).len(), 6);
        assert!(queue.take_batch(usize::MAX).is_empty());
    }

    #[test]
    fn put_back_restores_order_at_the_front() {
        let mut queue = Queue::new(10);
        for n in 0..4 {
            queue.push(event(n));
        }
        let batch = queue.take_batch(16);
        queue.push(event(9));
        assert_eq!(queue.put_back(batch), 0);
        let order: Vec<u64> = queue.take_batch(usize::MAX).iter().map(|e| e.seq).collect();
        assert_eq!(order, [1, 2, 3, 4, 5]);
    }

    #[test]
    fn body_is_the_events_envelope() {
        let mut queue = Queue::new(10);
        queue.push(event(1));
        queue.push(event(2));
        let body = batch_body(&queue.take_batch(usize::MAX));
        assert_eq!(body, r#"{"events":[{"n":1},{"n":2}]}"#);
        assert_eq!(batch_body(&[]), r#"{"events":[]}"#);
    }
}
