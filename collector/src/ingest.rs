//! `POST /v1/runs/ingest`, answering like the real Lunary server: the body is read (413 past
//! 20 MB) and parsed when it is JSON (400 if malformed), then the key is checked (402 / 401),
//! then `events` is taken (500 if missing), sorted by `timestamp` and applied one by one, each
//! event getting its own result in a 200.
//!
//! A fault rule, when one is queued, is applied before any of that.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::auth;
use crate::connection::ConnectionKill;
use crate::faults::Fault;
use crate::json_text::{self, Object};
use crate::payload::{self, IncomingEvent, Payload};
use crate::request_body::{read_limited, BodyError, INGEST_BODY_LIMIT};
use crate::responses::message;
use crate::state::SharedState;
use crate::stats::Tally;
use crate::storage::{Accepted, Storage, StoreOutcome};
use crate::validation::{validate_fields, ValidEvent};

/// The handler.
pub async fn ingest(State(state): State<SharedState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let stats_project = auth::project_id_if_valid(&parts.headers);
    state.stats.record_request(stats_project.as_deref());

    let fault = if state.faults_enabled {
        state.faults.next()
    } else {
        None
    };
    if fault.is_some() {
        state.stats.record_fault(stats_project.as_deref());
    }
    let kill = parts.extensions.get::<ConnectionKill>().cloned();
    match fault {
        Some(Fault::ServerError) => {
            return message(StatusCode::INTERNAL_SERVER_ERROR, "injected fault")
        }
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(RETRY_AFTER, retry_after_secs.to_string())],
                "Too Many Requests",
            )
                .into_response()
        }
        Some(Fault::Hang { millis }) => tokio::time::sleep(Duration::from_millis(millis)).await,
        Some(Fault::DropBefore) => return drop_connection(kill).await,
        Some(Fault::DropAfter) | None => {}
    }

    let response = process(&state, &parts.headers, body).await;
    if fault == Some(Fault::DropAfter) {
        return drop_connection(kill).await;
    }
    response
}

/// Has the connection reset and never answers. Without a kill switch (a router used outside
/// [`crate::serve`]) it answers 500 instead of hanging.
async fn drop_connection(kill: Option<ConnectionKill>) -> Response {
    match kill {
        Some(kill) => {
            kill.fire();
            std::future::pending::<Response>().await
        }
        None => message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "this connection cannot be dropped",
        ),
    }
}

async fn process(state: &SharedState, headers: &HeaderMap, body: Body) -> Response {
    let bytes = match read_limited(body, INGEST_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            return message(StatusCode::PAYLOAD_TOO_LARGE, "request entity too large")
        }
        Err(BodyError::Read(error)) => {
            return message(
                StatusCode::BAD_REQUEST,
                format!("cannot read the body: {error}"),
            )
        }
    };
    let payload = match payload::parse(headers, &bytes) {
        Ok(payload) => payload,
        Err(invalid) => return invalid.into_response(),
    };
    let project = match auth::project_id(headers) {
        Ok(project) => project,
        Err(unauthenticated) => return unauthenticated.into_response(),
    };
    let Payload::Events(events) = payload else {
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Missing events payload.");
    };

    let received_at = now_millis();
    // Counting happens in the same blocking task as storing, so that a client going away
    // mid-request (which drops this future) cannot leave the stats behind the database.
    let shared = SharedState::clone(state);
    let results = state
        .with_storage(move |storage| {
            let results = apply_batch(storage, &project, received_at, &events)?;
            shared.stats.record_events(
                &project,
                results.iter().map(|result| match &result.outcome {
                    Outcome::Stored => Tally::Stored,
                    Outcome::Duplicate => Tally::Duplicate,
                    Outcome::Rejected(reason) => Tally::Rejected(reason),
                }),
            );
            Ok(results)
        })
        .await;
    let results = match results {
        Ok(results) => results,
        Err(response) => return response,
    };

    Json(ResultsBody {
        results: results.iter().map(EventResultBody::from).collect(),
    })
    .into_response()
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// What became of one event of the batch.
enum Outcome {
    Stored,
    Duplicate,
    Rejected(String),
}

struct EventResult {
    id: Option<String>,
    outcome: Outcome,
}

/// One event of the batch with its top level, read once for its place, its result's id and its
/// checks.
struct ReadEvent<'a> {
    text: &'a str,
    fields: Option<Object<'a>>,
    /// `timestamp` if it is a number, else minus infinity.
    sort_key: f64,
}

impl<'a> ReadEvent<'a> {
    fn new(incoming: &'a IncomingEvent) -> Self {
        let fields = Object::parse(&incoming.raw);
        let timestamp = fields
            .as_ref()
            .and_then(|fields| fields.get("timestamp"))
            .and_then(json_text::number)
            .filter(|_| !incoming.unwrapped);
        ReadEvent {
            text: incoming.raw.get(),
            fields,
            sort_key: timestamp.unwrap_or(f64::NEG_INFINITY),
        }
    }
}

/// Sorts the batch by `timestamp` (stably, as the real server does before applying it; events
/// without a numeric timestamp, which will be rejected, go first), then validates every event
/// and stores the valid ones in that order.
fn apply_batch(
    storage: &Storage,
    project: &str,
    received_at: i64,
    events: &[IncomingEvent],
) -> rusqlite::Result<Vec<EventResult>> {
    let mut batch: Vec<ReadEvent<'_>> = events.iter().map(ReadEvent::new).collect();
    batch.sort_by(|a, b| a.sort_key.total_cmp(&b.sort_key));
    let checked: Vec<Result<ValidEvent<'_>, String>> = batch
        .iter()
        .map(|event| validate_fields(event.fields.as_ref()))
        .collect();
    let accepted: Vec<Accepted<'_>> = batch
        .iter()
        .zip(&checked)
        .filter_map(|(event, check)| {
            Some(Accepted {
                text: event.text,
                event: check.as_ref().ok()?,
            })
        })
        .collect();
    let mut stored = storage.store(project, received_at, &accepted)?.into_iter();
    Ok(batch
        .iter()
        .zip(checked)
        .map(|(event, check)| EventResult {
            id: event
                .fields
                .as_ref()
                .and_then(|fields| fields.get("runId"))
                .and_then(json_text::string)
                .map(String::from),
            outcome: match check {
                Err(reason) => Outcome::Rejected(reason),
                Ok(_) => match stored.next() {
                    Some(StoreOutcome::Duplicate) => Outcome::Duplicate,
                    _ => Outcome::Stored,
                },
            },
        })
        .collect())
}

#[derive(Serialize)]
struct ResultsBody<'a> {
    results: Vec<EventResultBody<'a>>,
}

/// `{"id":…,"success":true}` or `{"id":…,"success":false,"error":…}`; no `id` without a runId.
#[derive(Serialize)]
struct EventResultBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

impl<'a> From<&'a EventResult> for EventResultBody<'a> {
    fn from(result: &'a EventResult) -> Self {
        let error = match &result.outcome {
            Outcome::Rejected(reason) => Some(reason.as_str()),
            Outcome::Stored | Outcome::Duplicate => None,
        };
        EventResultBody {
            id: result.id.as_deref(),
            success: error.is_none(),
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::CONTENT_TYPE;

    fn results(body: &str) -> Vec<(Option<String>, bool)> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, "application/json".parse().unwrap());
        let Ok(Payload::Events(events)) = payload::parse(&headers, body.as_bytes()) else {
            panic!("no events in {body}");
        };
        let storage = Storage::open(":memory:").unwrap();
        apply_batch(&storage, "p", 0, &events)
            .unwrap()
            .into_iter()
            .map(|result| (result.id, matches!(result.outcome, Outcome::Stored)))
            .collect()
    }

    #[test]
    fn the_batch_is_applied_sorted_stably_with_bad_timestamps_first() {
        let run = |id: &str, timestamp: &str| {
            format!(r#"{{"type":"llm","event":"start","runId":"{id}","timestamp":{timestamp}}}"#)
        };
        let body = format!(
            r#"{{"events":[{},{},{},{},{},[{}]]}}"#,
            run("a", "3"),
            run("b", "1"),
            run("c", "3"),
            run("d", r#""soon""#),
            run("e", "2.5"),
            run("f", "0"),
        );
        let order: Vec<_> = results(&body)
            .into_iter()
            .map(|(id, stored)| (id.unwrap_or_default(), stored))
            .collect();
        let expected = [
            ("d", false),
            ("f", true),
            ("b", true),
            ("e", true),
            ("a", true),
            ("c", true),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|(id, ok)| (id.to_string(), *ok))
            .collect();
        assert_eq!(order, expected);
    }
}
