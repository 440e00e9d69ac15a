//! Turning an ingest body into the list of events to apply, as the real server reads it.
//!
//! Each event keeps the exact text it was sent as (stored as received) next to its parsed value
//! (used for the checks).

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::responses::message;

/// One event of a batch.
#[derive(Debug)]
pub struct IncomingEvent {
    pub value: Value,
    /// The event's JSON text exactly as it appeared in the body.
    pub text: String,
}

/// What the body holds, once it could be read.
#[derive(Debug)]
pub enum Payload {
    Events(Vec<IncomingEvent>),
    /// No `events` (or a body that is not parsed at all): the real server's 500.
    MissingEvents,
}

/// A body declared JSON that is not: the real server's 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidJson(String);

impl IntoResponse for InvalidJson {
    fn into_response(self) -> Response {
        message(StatusCode::BAD_REQUEST, format!("invalid JSON: {}", self.0))
    }
}

/// Parses the body when it is declared JSON; anything else (`text/plain`, no content type) is
/// left unparsed and so has no `events`, like on the real server. Malformed JSON is a 400.
pub fn parse(headers: &HeaderMap, bytes: &[u8]) -> Result<Payload, InvalidJson> {
    if !is_json_content_type(headers) || bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Payload::MissingEvents);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| invalid_json("body is not UTF-8"))?;
    let top: &RawValue = serde_json::from_str(text).map_err(invalid_json)?;
    match top.get().trim_start().chars().next() {
        Some('{') => {}
        // An array is JSON, but has no `events`.
        Some('[') => return Ok(Payload::MissingEvents),
        // Like koa-bodyparser in strict mode, only objects and arrays are JSON bodies.
        _ => return Err(invalid_json("only objects and arrays are accepted")),
    }

    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        events: Option<&'a RawValue>,
    }
    let envelope: Envelope<'_> = serde_json::from_str(top.get()).map_err(invalid_json)?;
    let Some(events) = envelope.events else {
        return Ok(Payload::MissingEvents);
    };

    // `events` is a list, or one bare event (which the real server also takes).
    let items: Vec<&RawValue> = if events.get().trim_start().starts_with('[') {
        serde_json::from_str(events.get()).map_err(invalid_json)?
    } else {
        vec![events]
    };
    let events = items
        .into_iter()
        .map(|item| {
            Ok(IncomingEvent {
                value: serde_json::from_str(item.get()).map_err(invalid_json)?,
                text: item.get().to_string(),
            })
        })
        .collect::<Result<Vec<_>, InvalidJson>>()?;
    Ok(Payload::Events(events))
}

fn invalid_json(reason: impl std::fmt::Display) -> InvalidJson {
    InvalidJson(reason.to_string())
}

/// `application/json` and its relatives, the types the real server's body parser reads as JSON.
fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence == "application/csp-report"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Stable sort by `timestamp`, as the real server does before applying a batch. Events without
/// a numeric timestamp (they will be rejected) go first.
pub fn sort_by_timestamp(events: &mut [IncomingEvent]) {
    let key = |event: &IncomingEvent| {
        event
            .value
            .get("timestamp")
            .and_then(Value::as_f64)
            .unwrap_or(f64::NEG_INFINITY)
    };
    events.sort_by(|a, b| key(a).total_cmp(&key(b)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, "application/json".parse().unwrap());
        headers
    }

    fn events(body: &str) -> Vec<IncomingEvent> {
        match parse(&json_headers(), body.as_bytes()).unwrap() {
            Payload::Events(events) => events,
            Payload::MissingEvents => panic!("no events in {body}"),
        }
    }

    fn is_missing(headers: &HeaderMap, body: &str) -> bool {
        matches!(
            parse(headers, body.as_bytes()).unwrap(),
            Payload::MissingEvents
        )
    }

    #[test]
    fn events_may_be_a_list_or_one_event() {
        assert_eq!(events(r#"{"events":[{"a":1}, 2]}"#).len(), 2);
        let single = events(r#"{"events": {"z":1, "a":2}}"#);
        assert_eq!(single.len(), 1);
        assert_eq!(single[0].text, r#"{"z":1, "a":2}"#, "text kept as sent");
        assert!(is_missing(&json_headers(), r#"{"events":null}"#));
        assert!(is_missing(&json_headers(), r#"{"other":1}"#));
        assert!(is_missing(&json_headers(), "[1]"));
        assert!(is_missing(&json_headers(), "  "));
    }

    #[test]
    fn malformed_json_is_a_400() {
        for body in ["{", "5", "\"s\"", "{\"events\":[1,]}"] {
            let error = parse(&json_headers(), body.as_bytes()).unwrap_err();
            assert_eq!(
                error.into_response().status(),
                StatusCode::BAD_REQUEST,
                "{body}"
            );
        }
    }

    #[test]
    fn only_json_content_types_are_parsed() {
        let body = r#"{"events":[{"a":1}]}"#;
        let mut headers = HeaderMap::new();
        assert!(is_missing(&headers, body));
        for (value, parsed) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("application/vnd.api+json", true),
            ("text/plain", false),
            ("text/plain;charset=UTF-8", false),
        ] {
            headers.insert(CONTENT_TYPE, value.parse().unwrap());
            assert_eq!(!is_missing(&headers, body), parsed, "{value}");
        }
    }

    #[test]
    fn sorting_is_stable_and_puts_bad_timestamps_first() {
        let mut batch = events(
            r#"{"events":[{"n":1,"timestamp":3},{"n":2,"timestamp":1},{"n":3,"timestamp":3},
                         {"n":4},{"n":5,"timestamp":2.5}]}"#,
        );
        sort_by_timestamp(&mut batch);
        let order: Vec<_> = batch
            .iter()
            .map(|e| e.value["n"].as_i64().unwrap())
            .collect();
        assert_eq!(order, [4, 2, 5, 1, 3]);
    }
}
