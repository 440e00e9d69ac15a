//! The API key check of the ingest endpoint. The key is the project id, a UUID, read only from
//! the `Authorization: Bearer` header (or `x-api-key`), never from the query string or the body,
//! like the real server.

use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::responses::message;

/// Why a request is not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// No key at all: the real server answers 402.
    MissingKey,
    /// A key that is not a project id: 401.
    InvalidKey,
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        match self {
            AuthError::MissingKey => {
                message(StatusCode::PAYMENT_REQUIRED, "Incorrect project id format")
            }
            AuthError::InvalidKey => message(StatusCode::UNAUTHORIZED, "Invalid API key"),
        }
    }
}

/// The project id a request is authenticated as.
pub fn project_id(headers: &HeaderMap) -> Result<String, AuthError> {
    let key = presented_key(headers).ok_or(AuthError::MissingKey)?;
    if is_uuid(&key) {
        Ok(key)
    } else {
        Err(AuthError::InvalidKey)
    }
}

/// The project id if the request carries a valid key; for attributing statistics.
pub fn project_id_if_valid(headers: &HeaderMap) -> Option<String> {
    presented_key(headers).filter(|key| is_uuid(key))
}

/// The key from `Authorization: Bearer <key>`, else from `x-api-key`; `None` if neither has one.
fn presented_key(headers: &HeaderMap) -> Option<String> {
    let from_bearer = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    let from_api_key = || {
        headers
            .get("x-api-key")
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    };
    from_bearer
        .filter(|key| !key.is_empty())
        .or_else(|| from_api_key().filter(|key| !key.is_empty()))
        .map(str::to_string)
}

/// `8-4-4-4-12` hexadecimal digits, either case.
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    groups.len() == lengths.len()
        && groups
            .iter()
            .zip(lengths)
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn uuid_shape() {
        assert!(is_uuid("0b3a4e7c-1f2d-4c5b-9a8e-7d6c5b4a3f21"));
        assert!(is_uuid("0B3A4E7C-1F2D-4C5B-9A8E-7D6C5B4A3F21"));
        assert!(!is_uuid("0b3a4e7c1f2d4c5b9a8e7d6c5b4a3f21"));
        assert!(!is_uuid("0b3a4e7c-1f2d-4c5b-9a8e-7d6c5b4a3f2g"));
        assert!(!is_uuid("not-a-key"));
        assert!(!is_uuid(""));
    }

    #[test]
    fn key_sources() {
        let key = "0b3a4e7c-1f2d-4c5b-9a8e-7d6c5b4a3f21";
        let mut headers = HeaderMap::new();
        assert_eq!(project_id(&headers), Err(AuthError::MissingKey));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(project_id(&headers), Err(AuthError::MissingKey));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer nope"));
        assert_eq!(project_id(&headers), Err(AuthError::InvalidKey));
        assert_eq!(
            AuthError::InvalidKey.into_response().status(),
            StatusCode::UNAUTHORIZED
        );
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {key}")).unwrap(),
        );
        assert_eq!(project_id(&headers).unwrap(), key);
        headers.remove(AUTHORIZATION);
        headers.insert("x-api-key", HeaderValue::from_static(key));
        assert_eq!(project_id(&headers).unwrap(), key);
    }
}
