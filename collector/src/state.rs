//! What every handler shares.

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;

use crate::faults::FaultQueue;
use crate::responses::message;
use crate::stats::Stats;
use crate::storage::Storage;

pub struct AppState {
    /// Behind an `Arc` of its own so that blocking tasks can hold it.
    pub storage: Arc<Storage>,
    pub stats: Stats,
    /// Consulted only when faults are enabled; empty otherwise.
    pub faults: FaultQueue,
    pub faults_enabled: bool,
    /// The demo app's directory (canonical), served at `/demo/`, if one was given.
    pub demo_dir: Option<PathBuf>,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    /// Runs blocking storage work on tokio's blocking pool; a failure becomes a 500 answer.
    pub async fn with_storage<T, F>(&self, work: F) -> Result<T, Response>
    where
        T: Send + 'static,
        F: FnOnce(&Storage) -> rusqlite::Result<T> + Send + 'static,
    {
        let storage = Arc::clone(&self.storage);
        match tokio::task::spawn_blocking(move || work(&storage)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(message(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("storage error: {error}"),
            )),
            Err(_) => Err(message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "storage task failed",
            )),
        }
    }
}
