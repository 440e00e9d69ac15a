//! Turning an ingest body into the list of events to apply, as the real server reads it.
//!
//! Each event is kept as the exact text it was sent as (stored as received, and read for the
//! checks by [`crate::json_text`], so that it may nest to any depth).

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::value::RawValue;

use crate::json_text::{self, Object};
use crate::responses::message;

/// One event of a batch, its top level read later, once (see `ingest.rs`).
#[derive(Debug)]
pub struct IncomingEvent {
    /// The event's JSON text exactly as it appeared in the body.
    pub raw: Box<RawValue>,
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
/// left unparsed and so has no `events`, like on the real server. Malformed JSON is a 400; JSON
/// nested to any depth is taken, as `JSON.parse` takes it.
pub fn parse(headers: &HeaderMap, bytes: &[u8]) -> Result<Payload, InvalidJson> {
    if !is_json_content_type(headers) || bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Payload::MissingEvents);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| invalid_json("body is not UTF-8"))?;
    let envelope = match text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .chars()
        .next()
    {
        // Read and checked in one pass: the body may be 20 MB.
        Some('{') => Object::parse_text(text).map_err(invalid_json)?,
        first => {
            serde_json::from_str::<&RawValue>(text).map_err(invalid_json)?;
            return match first {
                // An array is JSON, but has no `events`.
                Some('[') => Ok(Payload::MissingEvents),
                // Like koa-bodyparser in strict mode, only objects and arrays are JSON bodies.
                _ => Err(invalid_json("only objects and arrays are accepted")),
            };
        }
    };

    let Some(events) = envelope.present("events") else {
        return Ok(Payload::MissingEvents);
    };

    // `events` is a list, or one bare event (which the real server also takes).
    let items = json_text::array(events).unwrap_or_else(|| vec![events]);
    let events = items
        .into_iter()
        .map(|item| IncomingEvent {
            raw: item.to_owned(),
        })
        .collect();
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
        assert_eq!(
            single[0].raw.get(),
            r#"{"z":1, "a":2}"#,
            "text kept as sent"
        );
        assert!(is_missing(&json_headers(), r#"{"events":null}"#));
        assert!(is_missing(&json_headers(), r#"{"other":1}"#));
        assert!(is_missing(&json_headers(), "[1]"));
        assert!(is_missing(&json_headers(), "  "));
    }

    #[test]
    fn read_as_json_parse_reads_it() {
        // The last `events` wins; lone surrogates, huge numbers and any depth are taken.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let body =
            format!(r#"{{"events":[1],"events":[{{"runId":"b\ud800","n":1e400,"d":{deep}}}]}}"#);
        let batch = events(&body);
        assert_eq!(batch.len(), 1);
        assert!(batch[0]
            .raw
            .get()
            .starts_with(r#"{"runId":"b\ud800","n":1e400,"d":[[["#));
    }

    #[test]
    fn malformed_json_is_a_400() {
        for body in ["{", "5", "\"s\"", "{\"events\":[1,]}", "\u{feff}{}"] {
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
}
