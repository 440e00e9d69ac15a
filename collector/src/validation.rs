//! Per-event checks. An event that fails is answered `success:false` with the reason, and the
//! rest of its batch is still stored, as on the real server.
//!
//! Optional fields that are `null` count as absent: the SDKs leave out what they do not know.

use std::borrow::Cow;

use serde_json::value::RawValue;
use serde_json::Number;

use crate::json_text::{self, Kind, Object};

/// Event names accepted for every run type except logs.
const RUN_EVENTS: &[&str] = &[
    "start",
    "end",
    "error",
    "chat",
    "feedback",
    "custom-event",
    "update",
];

/// For `type: "log"`, the `event` is the level.
const LOG_LEVELS: &[&str] = &["info", "warn", "error"];

/// The fields of an accepted event that storage needs, read from its text. Nested values
/// (`userProps`, `feedback`) stay text, so they may nest to any depth.
#[derive(Debug, Clone)]
pub struct ValidEvent<'a> {
    /// `type`; `None` only for feedback.
    pub kind: Option<Cow<'a, str>>,
    /// `event`.
    pub event: Cow<'a, str>,
    /// `runId`; `None` only for logs.
    pub run_id: Option<Cow<'a, str>>,
    pub parent_run_id: Option<Cow<'a, str>>,
    pub timestamp: Number,
    pub user_id: Option<Cow<'a, str>>,
    /// `userProps`, an object, as sent.
    pub user_props: Option<&'a RawValue>,
    pub thread_tags: Option<Vec<Cow<'a, str>>>,
    /// The top-level `feedback` object as sent (required for feedback events, optional on
    /// messages).
    pub feedback: Option<&'a RawValue>,
}

impl ValidEvent<'_> {
    pub fn is_thread_message(&self) -> bool {
        self.kind.as_deref() == Some("thread") && self.event == "chat"
    }
}

/// Checks one event; `Err` carries the human-readable reason.
#[cfg(test)]
pub fn validate(raw: &RawValue) -> Result<ValidEvent<'_>, String> {
    validate_fields(Object::parse(raw).as_ref())
}

/// Checks one event from its top level, read once by the caller (`None`: not an object).
pub fn validate_fields<'a>(object: Option<&Object<'a>>) -> Result<ValidEvent<'a>, String> {
    let Some(object) = object else {
        return Err("event is not an object".to_string());
    };

    let Some(event) = object.get("event").and_then(json_text::string) else {
        return Err("missing or invalid 'event' (expected a string)".to_string());
    };

    let kind = match object.present("type") {
        None if event == "feedback" => None,
        None => return Err("'type' may be null only for feedback events".to_string()),
        Some(kind) => match json_text::string(kind) {
            Some(kind) => Some(kind),
            None => return Err("'type' must be a string or null".to_string()),
        },
    };
    let is_log = kind.as_deref() == Some("log");

    let known = if is_log { LOG_LEVELS } else { RUN_EVENTS };
    if !known.contains(&event.as_ref()) {
        return Err(if is_log {
            format!("unknown log level '{event}' (expected info, warn or error)")
        } else {
            format!("unknown event '{event}'")
        });
    }

    let parent_run_id = optional_string(object, "parentRunId")?;

    let run_id = match object.present("runId").map(json_text::string) {
        Some(Some(id)) => Some(id),
        None if is_log => None,
        _ => return Err("missing or invalid 'runId' (expected a string)".to_string()),
    };
    if is_log && parent_run_id.is_none() {
        return Err("log events need a string 'parentRunId'".to_string());
    }

    let timestamp = match object.get("timestamp") {
        Some(timestamp) if json_text::kind(timestamp) == Kind::Number => {
            // Past f64's range `JSON.parse` gives Infinity, which is no date. serde_json's own
            // reading is kept when it has one (it tells integers from floats, for the dedupe key).
            serde_json::from_str::<Number>(timestamp.get())
                .ok()
                .or_else(|| json_text::number(timestamp).and_then(Number::from_f64))
                .ok_or_else(|| "'timestamp' is out of range".to_string())?
        }
        _ => return Err("missing or invalid 'timestamp' (expected a number)".to_string()),
    };

    let user_id = optional_string(object, "userId")?;

    let user_props = match object.present("userProps") {
        None => None,
        Some(props) if json_text::kind(props) == Kind::Object => Some(props),
        Some(_) => return Err("'userProps' must be an object".to_string()),
    };

    if object
        .present("tags")
        .is_some_and(|tags| string_array(tags).is_none())
    {
        return Err("'tags' must be an array of strings".to_string());
    }
    let thread_tags = match object.present("threadTags") {
        None => None,
        Some(tags) => match string_array(tags) {
            Some(tags) => Some(tags),
            None => return Err("'threadTags' must be an array of strings".to_string()),
        },
    };

    if event == "chat" && !is_message(object.get("message")) {
        return Err("chat events need a 'message' object with a string 'role'".to_string());
    }

    let feedback = match object.present("feedback") {
        Some(feedback) if json_text::kind(feedback) == Kind::Object => Some(feedback),
        _ if event == "feedback" => {
            return Err("feedback events need a 'feedback' object".to_string())
        }
        // Elsewhere a malformed `feedback` is ignored rather than rejected.
        _ => None,
    };

    Ok(ValidEvent {
        kind,
        event,
        run_id,
        parent_run_id,
        timestamp,
        user_id,
        user_props,
        thread_tags,
        feedback,
    })
}

/// An optional string field: absent or `null` is `None`, anything else but a string an error.
fn optional_string<'a>(object: &Object<'a>, key: &str) -> Result<Option<Cow<'a, str>>, String> {
    match object.present(key) {
        None => Ok(None),
        Some(value) => json_text::string(value)
            .map(Some)
            .ok_or_else(|| format!("'{key}' must be a string")),
    }
}

fn string_array(value: &RawValue) -> Option<Vec<Cow<'_, str>>> {
    json_text::array(value)?
        .into_iter()
        .map(json_text::string)
        .collect()
}

fn is_message(value: Option<&RawValue>) -> bool {
    value
        .and_then(Object::parse)
        .and_then(|message| message.get("role"))
        .is_some_and(|role| json_text::kind(role) == Kind::String)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn message() -> Value {
        json!({"type":"thread","event":"chat","runId":"m1","parentRunId":"t1",
               "timestamp":1,"userId":"u","userProps":{"name":"A"},"threadTags":["x"],
               "message":{"role":"user","content":"Hi"}})
    }

    fn with(mut base: Value, key: &str, value: Value) -> Value {
        base[key] = value;
        base
    }

    fn without(mut base: Value, key: &str) -> Value {
        if let Some(object) = base.as_object_mut() {
            object.remove(key);
        }
        base
    }

    fn text(value: &Value) -> Box<RawValue> {
        serde_json::value::to_raw_value(value).unwrap()
    }

    fn is_valid(value: &Value) -> bool {
        validate(&text(value)).is_ok()
    }

    #[test]
    fn accepts_a_thread_message() {
        let raw = text(&message());
        let event = validate(&raw).unwrap();
        assert!(event.is_thread_message());
        assert_eq!(event.run_id.as_deref(), Some("m1"));
        assert_eq!(event.user_id.as_deref(), Some("u"));
        assert_eq!(event.user_props.unwrap().get(), r#"{"name":"A"}"#);
        assert_eq!(event.thread_tags, Some(vec![Cow::Borrowed("x")]));
    }

    #[test]
    fn accepts_feedback_with_null_type() {
        let raw = json!({"type":null,"event":"feedback","runId":"m1","timestamp":2,
                         "feedback":{"thumb":"up"}});
        assert!(validate(&text(&raw)).unwrap().feedback.is_some());
        assert!(!is_valid(&without(raw.clone(), "feedback")));
        assert!(!is_valid(&with(raw, "feedback", json!("up"))));
    }

    #[test]
    fn logs_need_a_parent_but_no_run_id() {
        let log =
            json!({"type":"log","event":"warn","message":"m","parentRunId":"r","timestamp":3});
        assert!(is_valid(&log));
        assert!(!is_valid(&without(log.clone(), "parentRunId")));
        assert!(!is_valid(&with(log, "event", json!("start"))));
    }

    #[test]
    fn rejects_each_malformed_field() {
        let bad = [
            json!("text"),
            without(message(), "event"),
            with(message(), "event", json!("bogus")),
            with(message(), "type", json!(null)),
            with(message(), "type", json!(5)),
            without(message(), "runId"),
            with(message(), "timestamp", json!("1")),
            with(message(), "userId", json!(7)),
            with(message(), "userProps", json!("x")),
            with(message(), "tags", json!([1])),
            with(message(), "threadTags", json!("x")),
            with(message(), "message", json!({"content":"no role"})),
            with(message(), "parentRunId", json!(1)),
        ];
        for raw in bad {
            assert!(!is_valid(&raw), "accepted {raw}");
        }
    }

    #[test]
    fn reads_the_text_as_json_parse_would() {
        // The last of repeated keys wins; escapes are decoded; a lone surrogate is replaced.
        let raw: &RawValue = serde_json::from_str(
            r#"{"type":"llm","event":"bogus","event":"st\u0061rt","runId":"r\ud800",
                "timestamp":1,"userProps":{"deep":[[[{"__proto__":1e400}]]]}}"#,
        )
        .unwrap();
        let event = validate(raw).unwrap();
        assert_eq!(event.event, "start");
        assert_eq!(event.run_id.as_deref(), Some("r\u{fffd}"));
        let too_big: &RawValue =
            serde_json::from_str(r#"{"type":"llm","event":"start","runId":"r","timestamp":1e400}"#)
                .unwrap();
        assert_eq!(
            validate(too_big).unwrap_err(),
            "'timestamp' is out of range"
        );
    }
}
