//! Reading a request body with a size limit, by hand rather than through an extractor, so that
//! an oversized body gets the real server's 413 and the client still gets to read that answer.

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;

/// The real server's JSON body limit (koa-bodyparser's `20mb`).
pub const INGEST_BODY_LIMIT: usize = 20 * 1024 * 1024;

/// How much of an oversized body is still read and thrown away before answering 413: a client
/// that is still sending when the server closes would see a reset instead of the 413.
const DRAIN_LIMIT: usize = 128 * 1024 * 1024;

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// Larger than the limit.
    TooLarge,
    /// The client went away or sent a broken body.
    Read(String),
}

/// Reads the whole body if it is at most `limit` bytes.
pub async fn read_limited(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut collected: Vec<u8> = Vec::new();
    let mut total: usize = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| BodyError::Read(error.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        total = total.saturating_add(data.len());
        if total > limit {
            drain(&mut body, total).await;
            return Err(BodyError::TooLarge);
        }
        collected.extend_from_slice(&data);
    }
    Ok(Bytes::from(collected))
}

/// Reads and discards the rest of a body, up to [`DRAIN_LIMIT`] bytes in all.
async fn drain(body: &mut Body, mut total: usize) {
    while total <= DRAIN_LIMIT {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    total = total.saturating_add(data.len());
                }
            }
            Some(Err(_)) | None => return,
        }
    }
}
