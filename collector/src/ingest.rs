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
use serde_json::Value;

use crate::auth;
use crate::connection::ConnectionKill;
use crate::faults::Fault;
use crate::payload::{self, IncomingEvent, Payload};
use crate::request_body::{read_limited, BodyError, INGEST_BODY_LIMIT};
use crate::responses::message;
use crate::state::SharedState;
use crate::stats::Tally;
use crate::storage::{Accepted, Storage, StoreOutcome};
use crate::validation::{validate, ValidEvent};

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
    let Payload::Events(mut events) = payload else {
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Missing events payload.");
    };
    payload::sort_by_timestamp(&mut events);

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

/// Validates every event and stores the valid ones, keeping the batch order.
fn apply_batch(
    storage: &Storage,
    project: &str,
    received_at: i64,
    events: &[IncomingEvent],
) -> rusqlite::Result<Vec<EventResult>> {
    let checked: Vec<Result<ValidEvent<'_>, String>> =
        events.iter().map(|event| validate(&event.value)).collect();
    let accepted: Vec<Accepted<'_>> = events
        .iter()
        .zip(&checked)
        .filter_map(|(incoming, check)| {
            Some(Accepted {
                text: &incoming.text,
                event: *check.as_ref().ok()?,
            })
        })
        .collect();
    let mut stored = storage.store(project, received_at, &accepted)?.into_iter();
    Ok(events
        .iter()
        .zip(checked)
        .map(|(incoming, check)| EventResult {
            id: incoming
                .value
                .get("runId")
                .and_then(Value::as_str)
                .map(str::to_string),
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
