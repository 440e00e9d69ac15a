//! A per-connection kill switch, so that a handler can make the server drop the TCP connection
//! without sending any HTTP response (the `drop-before` / `drop-after` faults).
//!
//! Hyper gives a handler no way to abort its connection, so the server inserts a
//! [`ConnectionKill`] into every request's extensions; the connection task listens to it and, when
//! it fires, resets the socket and drops the connection future (see `server.rs`).

use std::sync::Arc;

use tokio::sync::Notify;

/// Fires the reset of the connection a request arrived on.
#[derive(Clone, Debug, Default)]
pub struct ConnectionKill(Arc<Notify>);

impl ConnectionKill {
    pub fn new() -> Self {
        ConnectionKill::default()
    }

    /// Asks the connection task to reset the connection. The caller should then never answer.
    pub fn fire(&self) {
        self.0.notify_one();
    }

    /// Resolves once [`fire`](Self::fire) was called.
    pub async fn fired(&self) {
        self.0.notified().await;
    }
}
