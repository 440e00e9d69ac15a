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
    /// Taken out of a one-element array: the real server unwraps such an item after sorting the
    /// batch, so it sorts as having no timestamp.
    pub unwrapped: bool,
}

impl IncomingEvent {
    /// An item of `events`; one that is an array of one element stands for that element.
    fn new(item: &RawValue) -> IncomingEvent {
        match json_text::single_element(item) {
            Some(only) => IncomingEvent {
                raw: only.to_owned(),
                unwrapped: true,
            },
            None => IncomingEvent {
                raw: item.to_owned(),
                unwrapped: false,
            },
        }
    }
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
///
/// Like the real server's body parser (co-body: raw-body, then `JSON.parse`): an empty body is
/// `{}` (but one of only whitespace is malformed), bytes that are not UTF-8 are read as U+FFFD,
/// a leading byte order mark is skipped, and JSON nested to any depth is taken.
pub fn parse(headers: &HeaderMap, bytes: &[u8]) -> Result<Payload, InvalidJson> {
    if !is_json_content_type(headers) || bytes.is_empty() {
        return Ok(Payload::MissingEvents);
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if text.is_empty() {
        return Ok(Payload::MissingEvents);
    }
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

    // The real server checks `if (!events)`: null, false, 0 and "" are missing too.
    let Some(events) = envelope.get("events").filter(|e| !json_text::is_falsy(e)) else {
        return Ok(Payload::MissingEvents);
    };

    // `events` is a list, or one bare event (which the real server also takes).
    let items = json_text::array(events).unwrap_or_else(|| vec![events]);
    let events = items.into_iter().map(IncomingEvent::new).collect();
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
        assert!(is_missing(&json_headers(), r#"{"other":1}"#));
        assert!(is_missing(&json_headers(), "[1]"));
        assert!(is_missing(&json_headers(), ""));
        assert!(is_missing(&json_headers(), "\u{feff}"));
    }

    #[test]
    fn events_that_javascript_finds_falsy_are_missing() {
        for events in ["null", "false", "0", "-0.0", "\"\""] {
            let body = format!(r#"{{"events":{events}}}"#);
            assert!(is_missing(&json_headers(), &body), "{body}");
        }
        for events in ["true", "1", "\" \"", "[]", "{}"] {
            let body = format!(r#"{{"events":{events}}}"#);
            assert!(!is_missing(&json_headers(), &body), "{body}");
        }
    }

    #[test]
    fn read_as_json_parse_reads_it() {
        // The last `events` wins, an item of one array element is that element, and a byte
        // order mark, bytes that are not UTF-8, lone surrogates and huge numbers are taken.
        let batch =
            events(r#"{"events":[1],"events":[[{"runId":"a"}],[1,2],{"runId":"b\ud800"}]}"#);
        let texts: Vec<_> = batch.iter().map(|e| (e.raw.get(), e.unwrapped)).collect();
        assert_eq!(
            texts,
            [
                (r#"{"runId":"a"}"#, true),
                ("[1,2]", false),
                (r#"{"runId":"b\ud800"}"#, false)
            ]
        );
        let body = b"\xef\xbb\xbf{\"events\":[{\"n\":\"\xff\",\"t\":1e400}]}";
        let Payload::Events(batch) = parse(&json_headers(), body).unwrap() else {
            panic!("no events");
        };
        assert_eq!(batch[0].raw.get(), "{\"n\":\"\u{fffd}\",\"t\":1e400}");
    }

    #[test]
    fn malformed_json_is_a_400() {
        for body in [
            "{",
            "5",
            "\"s\"",
            "{\"events\":[1,]}",
            " ",
            "\n\t",
            "\u{feff} ",
        ] {
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
