//! Small helpers for the JSON answers every endpoint shares.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// `{"message": ...}` with the given status: the shape of every error the real server sends.
pub fn message(status: StatusCode, text: impl Into<String>) -> Response {
    (status, Json(json!({ "message": text.into() }))).into_response()
}

/// The fallback for unknown paths.
pub async fn not_found() -> Response {
    message(StatusCode::NOT_FOUND, "Not found")
}
