//! Per-event checks. An event that fails is answered `success:false` with the reason, and the
//! rest of its batch is still stored, as on the real server.
//!
//! Optional fields that are `null` count as absent: the SDKs leave out what they do not know.

use serde_json::{Map, Number, Value};

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

/// The fields of an accepted event that storage needs, borrowed from its parsed JSON.
#[derive(Debug, Clone, Copy)]
pub struct ValidEvent<'a> {
    /// `type`; `None` only for feedback.
    pub kind: Option<&'a str>,
    /// `event`.
    pub event: &'a str,
    /// `runId`; `None` only for logs.
    pub run_id: Option<&'a str>,
    pub parent_run_id: Option<&'a str>,
    pub timestamp: &'a Number,
    pub user_id: Option<&'a str>,
    pub user_props: Option<&'a Map<String, Value>>,
    pub thread_tags: Option<&'a Vec<Value>>,
    /// The top-level `feedback` object (required for feedback events, optional on messages).
    pub feedback: Option<&'a Map<String, Value>>,
}

impl ValidEvent<'_> {
    pub fn is_thread_message(&self) -> bool {
        self.kind == Some("thread") && self.event == "chat"
    }
}

/// Checks one event; `Err` carries the human-readable reason.
pub fn validate(raw: &Value) -> Result<ValidEvent<'_>, String> {
    let Some(object) = raw.as_object() else {
        return Err("event is not an object".to_string());
    };

    let event = match object.get("event") {
        Some(Value::String(event)) => event.as_str(),
        _ => return Err("missing or invalid 'event' (expected a string)".to_string()),
    };

    let kind = match present(object, "type") {
        None if event == "feedback" => None,
        None => return Err("'type' may be null only for feedback events".to_string()),
        Some(Value::String(kind)) => Some(kind.as_str()),
        Some(_) => return Err("'type' must be a string or null".to_string()),
    };
    let is_log = kind == Some("log");

    let known = if is_log { LOG_LEVELS } else { RUN_EVENTS };
    if !known.contains(&event) {
        return Err(if is_log {
            format!("unknown log level '{event}' (expected info, warn or error)")
        } else {
            format!("unknown event '{event}'")
        });
    }

    let parent_run_id = match present(object, "parentRunId") {
        None => None,
        Some(Value::String(id)) => Some(id.as_str()),
        Some(_) => return Err("'parentRunId' must be a string".to_string()),
    };

    let run_id = match object.get("runId") {
        Some(Value::String(id)) => Some(id.as_str()),
        None | Some(Value::Null) if is_log => None,
        _ => return Err("missing or invalid 'runId' (expected a string)".to_string()),
    };
    if is_log && parent_run_id.is_none() {
        return Err("log events need a string 'parentRunId'".to_string());
    }

    let timestamp = match object.get("timestamp") {
        Some(Value::Number(timestamp)) => timestamp,
        _ => return Err("missing or invalid 'timestamp' (expected a number)".to_string()),
    };

    let user_id = match present(object, "userId") {
        None => None,
        Some(Value::String(id)) => Some(id.as_str()),
        Some(_) => return Err("'userId' must be a string".to_string()),
    };

    let user_props = match present(object, "userProps") {
        None => None,
        Some(Value::Object(props)) => Some(props),
        Some(_) => return Err("'userProps' must be an object".to_string()),
    };

    if present(object, "tags").is_some_and(|tags| !is_string_array(tags)) {
        return Err("'tags' must be an array of strings".to_string());
    }
    let thread_tags = match present(object, "threadTags") {
        None => None,
        Some(Value::Array(tags)) if tags.iter().all(Value::is_string) => Some(tags),
        Some(_) => return Err("'threadTags' must be an array of strings".to_string()),
    };

    if event == "chat" && !is_message(object.get("message")) {
        return Err("chat events need a 'message' object with a string 'role'".to_string());
    }

    let feedback = match present(object, "feedback") {
        Some(Value::Object(feedback)) => Some(feedback),
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

/// The field, unless it is absent or `null`.
fn present<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|value| !value.is_null())
}

fn is_string_array(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|items| items.iter().all(Value::is_string))
}

fn is_message(value: Option<&Value>) -> bool {
    value
        .and_then(Value::as_object)
        .and_then(|message| message.get("role"))
        .is_some_and(Value::is_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    #[test]
    fn accepts_a_thread_message() {
        let raw = message();
        let event = validate(&raw).unwrap();
        assert!(event.is_thread_message());
        assert_eq!(event.run_id, Some("m1"));
        assert_eq!(event.user_id, Some("u"));
    }

    #[test]
    fn accepts_feedback_with_null_type() {
        let raw = json!({"type":null,"event":"feedback","runId":"m1","timestamp":2,
                         "feedback":{"thumb":"up"}});
        assert!(validate(&raw).unwrap().feedback.is_some());
        assert!(validate(&without(raw.clone(), "feedback")).is_err());
        assert!(validate(&with(raw, "feedback", json!("up"))).is_err());
    }

    #[test]
    fn logs_need_a_parent_but_no_run_id() {
        let log =
            json!({"type":"log","event":"warn","message":"m","parentRunId":"r","timestamp":3});
        assert!(validate(&log).is_ok());
        assert!(validate(&without(log.clone(), "parentRunId")).is_err());
        assert!(validate(&with(log, "event", json!("start"))).is_err());
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
            assert!(validate(&raw).is_err(), "accepted {raw}");
        }
    }
}
