//! The format of a tab's unsent events in storage: a header line with the format
//! version and when the tab last wrote it (for browsers without Web Locks, a queue
//! nobody has written for a while belongs to a tab that is gone), then one event per
//! line (JSON text never holds a raw newline).

use crate::prelude::*;

const MAGIC: &str = "lunary-queue/1 ";

/// How much of a queue is written to storage: the oldest events up to this many bytes.
/// Storage holds about 5 MiB per origin, shared with the app; a longer queue (a burst
/// of thousands of events) is kept in memory whole, and what is past this budget is
/// written once the events before it have been sent.
pub const STORED_BYTES: usize = 2 << 20;

/// The stored text for the oldest of `events` that fit in `budget` bytes, written at
/// `now`, and how many of them it holds.
pub fn encode_within(now: u64, events: &[&str], budget: usize) -> (String, usize) {
    let mut used = 0usize;
    let fitting = events
        .iter()
        .take_while(|event| {
            used = used.saturating_add(event.len() + 1);
            used <= budget
        })
        .count();
    (
        encode(now, events.get(..fitting).unwrap_or_default()),
        fitting,
    )
}

/// The stored text for `events`, written at `now`.
pub fn encode(now: u64, events: &[&str]) -> String {
    let size = events.iter().map(|event| event.len() + 1).sum::<usize>();
    let mut text = String::with_capacity(MAGIC.len() + 16 + size);
    text.push_str(MAGIC);
    super::json::push_u64(&mut text, now);
    for event in events {
        text.push('\n');
        text.push_str(event);
    }
    text
}

/// When the text was written and its event lines; `None` if it is not this format.
pub fn decode(text: &str) -> Option<(u64, Vec<&str>)> {
    let mut lines = text.split('\n');
    let written = lines.next()?.strip_prefix(MAGIC)?.parse().ok()?;
    Some((written, lines.filter(|line| !line.is_empty()).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_oldest_events_within_the_budget_are_written() {
        let events = ["{\"n\":1}", "{\"n\":2}", "{\"n\":3}"];
        // Each line costs its length plus the newline before it: 8 bytes here.
        assert_eq!(encode_within(7, &events, 24), (encode(7, &events), 3));
        assert_eq!(encode_within(7, &events, 23), (encode(7, &events[..2]), 2));
        assert_eq!(encode_within(7, &events, 8), (encode(7, &events[..1]), 1));
        assert_eq!(encode_within(7, &events, 7), (encode(7, &[]), 0));
        // One event over the budget does not let a smaller later one jump the queue.
        let uneven = ["{\"long\":\"xxxxxxxxxxxx\"}", "{}"];
        assert_eq!(encode_within(7, &uneven, 10).1, 0);
    }

    #[test]
    fn round_trips() {
        let events = [r#"{"a":"x\ny"}"#, r#"{"b":2}"#];
        let text = encode(1234, &events);
        assert_eq!(text, "lunary-queue/1 1234\n{\"a\":\"x\\ny\"}\n{\"b\":2}");
        assert_eq!(decode(&text), Some((1234, events.to_vec())));
        assert_eq!(decode(&encode(5, &[])), Some((5, vec![])));
    }

    #[test]
    fn other_text_is_not_a_queue() {
        for text in [
            "",
            "[1,2]",
            "lunary-queue/1 x\n{}",
            "lunary-queue/2 1\n{}",
            "lunary-queue/1",
        ] {
            assert_eq!(decode(text), None, "{text:?}");
        }
    }
}
