//! The format of a tab's unsent events in storage: a header line with the format
//! version and when the tab last wrote it (for browsers without Web Locks, a queue
//! nobody has written for a while belongs to a tab that is gone), then one event per
//! line (JSON text never holds a raw newline).

use crate::prelude::*;

const MAGIC: &str = "lunary-queue/1 ";

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
