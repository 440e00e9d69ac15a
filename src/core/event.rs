//! The wire events, serialized field by field in the order lunary-js writes them
//! (`event`, `type`, `userId`, `userProps`, `parentRunId`, `timestamp`, `runtime`, then
//! the call's own fields), so the same calls put the same bytes on the wire.

use crate::prelude::*;

use super::identity::UserRef;
use super::json::{ObjectWriter, RawJson, RawMembers};

/// The `runtime` field: this SDK's name and version.
pub const RUNTIME: &str = concat!("lunary-wasm/", env!("CARGO_PKG_VERSION"));

/// The fields every event starts with.
#[derive(Clone, Debug)]
pub struct Head<'a> {
    /// `event`: `chat`, `feedback`, `custom-event`, a log level, …
    pub event: &'a str,
    /// `type`: the run type, or `null` (feedback).
    pub run_type: Option<&'a str>,
    pub user: Option<UserRef<'a>>,
    pub parent_run_id: Option<&'a str>,
    /// Epoch milliseconds, strictly increasing within one SDK instance.
    pub timestamp: u64,
}

impl Head<'_> {
    /// Writes the head fields and leaves the object open for the call's own fields.
    fn open(&self, capacity: usize) -> ObjectWriter {
        let props_len = self
            .user
            .as_ref()
            .and_then(|user| user.props.as_deref())
            .map_or(0, |props| props.as_str().len());
        let mut object = ObjectWriter::with_capacity(160 + props_len + capacity);
        object.string("event", self.event);
        match self.run_type {
            Some(run_type) => object.string("type", run_type),
            None => object.null("type"),
        }
        if let Some(user) = &self.user {
            object.string("userId", user.id);
            object.raw_opt("userProps", user.props.as_deref());
        }
        object.string_opt("parentRunId", self.parent_run_id);
        object.number("timestamp", self.timestamp);
        object.string("runtime", RUNTIME);
        object
    }
}

/// A message in a thread (`thread.trackMessage`); a message's own feedback is copied to
/// the top level, where the server reads it.
pub fn chat_message(
    head: &Head,
    run_id: &str,
    thread_tags: Option<&RawJson>,
    feedback: Option<&RawJson>,
    message: &RawJson,
) -> String {
    let mut object = head.open(message.as_str().len());
    object.string("runId", run_id);
    object.raw_opt("threadTags", thread_tags);
    object.raw_opt("feedback", feedback);
    object.raw("message", message);
    object.finish()
}

/// Feedback on a message or run (`trackFeedback`).
pub fn feedback(head: &Head, run_id: &str, overwrite: bool, feedback: &RawJson) -> String {
    let mut object = head.open(feedback.as_str().len());
    object.string("runId", run_id);
    object.boolean("overwrite", overwrite);
    object.raw("feedback", feedback);
    object.finish()
}

/// A named event in a thread (`thread.trackEvent`). It carries the thread's tags too:
/// the server re-saves the thread row from it, and without them the thread loses its tags.
pub fn thread_event(
    head: &Head,
    name: &str,
    run_id: &str,
    thread_tags: Option<&RawJson>,
    metadata: Option<&RawJson>,
) -> String {
    let mut object = head.open(metadata.map_or(0, |m| m.as_str().len()));
    object.string("name", name);
    object.string("runId", run_id);
    object.raw_opt("threadTags", thread_tags);
    object.raw_opt("metadata", metadata);
    object.finish()
}

/// A log line (`info`, `warn`, `error`).
pub fn log(head: &Head, message: Option<&str>, extra: Option<&RawJson>) -> String {
    let mut object = head.open(message.map_or(0, str::len) + extra.map_or(0, |e| e.as_str().len()));
    object.string_opt("message", message);
    object.raw_opt("extra", extra);
    object.finish()
}

/// Any other event (`trackEvent(type, event, data)`): the caller's fields follow the
/// head in the order given.
pub fn custom(head: &Head, run_id: &str, fields: &RawMembers) -> String {
    let mut object = head.open(fields.as_str().len() + 1);
    object.string("runId", run_id);
    object.members(fields);
    object.finish()
}
