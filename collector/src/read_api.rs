//! The read API: what the collector stored, as JSON, for tests and for looking around.
//! Every list is an object with one key (so it can grow), and takes an optional `?project=<id>`; without it, all projects are listed.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::responses::message;
use crate::state::SharedState;

#[derive(Debug, Default, Deserialize)]
pub struct ProjectFilter {
    project: Option<String>,
}

/// `GET /api/events`: `{"events":[{"receivedAt","project","event"}]}` in arrival order.
pub async fn events(
    State(state): State<SharedState>,
    Query(filter): Query<ProjectFilter>,
) -> Response {
    match state
        .with_storage(move |storage| storage.events(filter.project.as_deref()))
        .await
    {
        Ok(events) => Json(BTreeMap::from([("events", events)])).into_response(),
        Err(response) => response,
    }
}

/// `GET /api/users`: `{"users":[{"project","userId","userProps","firstSeen","lastSeen","threadCount"}]}`.
pub async fn users(
    State(state): State<SharedState>,
    Query(filter): Query<ProjectFilter>,
) -> Response {
    match state
        .with_storage(move |storage| storage.users(filter.project.as_deref()))
        .await
    {
        Ok(users) => Json(BTreeMap::from([("users", users)])).into_response(),
        Err(response) => response,
    }
}

/// `GET /api/threads`: `{"threads":[{"id","project","userId","tags","messageCount"}]}`.
pub async fn threads(
    State(state): State<SharedState>,
    Query(filter): Query<ProjectFilter>,
) -> Response {
    match state
        .with_storage(move |storage| storage.threads(filter.project.as_deref()))
        .await
    {
        Ok(threads) => Json(BTreeMap::from([("threads", threads)])).into_response(),
        Err(response) => response,
    }
}

/// `GET /api/threads/{id}`: the thread with its messages in order, or 404.
pub async fn thread(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    Query(filter): Query<ProjectFilter>,
) -> Response {
    match state
        .with_storage(move |storage| storage.thread(&id, filter.project.as_deref()))
        .await
    {
        Ok(Some(thread)) => Json(thread).into_response(),
        Ok(None) => message(StatusCode::NOT_FOUND, "Thread not found"),
        Err(response) => response,
    }
}

/// `GET /api/stats`: the ingest counters, in total or for one project.
pub async fn stats(
    State(state): State<SharedState>,
    Query(filter): Query<ProjectFilter>,
) -> Response {
    Json(state.stats.snapshot(filter.project.as_deref())).into_response()
}
