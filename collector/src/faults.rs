//! Fault injection: a queue of rules, set through `/__faults`, each applied to the next ingest
//! requests (never to preflights or the read API). Only routed when the server runs with
//! `--faults`.
//!
//! `POST /__faults` with `{"mode":"500"|"429"|"hang"|"drop-before"|"drop-after", "count":N,
//! "retryAfter":S, "hangMs":T}` appends a rule (count defaults to 1, retryAfter to 1 s, hangMs to
//! 1000 ms); `GET` lists the queue; `DELETE` empties it.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::responses::message;
use crate::state::SharedState;

/// What an ingest request is made to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer 500 `{"message":"injected fault"}`.
    ServerError,
    /// Answer 429 with `Retry-After: seconds`.
    TooManyRequests { retry_after_secs: u64 },
    /// Wait, then process the request normally.
    Hang { millis: u64 },
    /// Reset the connection without reading, storing or answering.
    DropBefore,
    /// Store the batch, then reset the connection without answering.
    DropAfter,
}

/// A rule as posted to, and listed by, `/__faults`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    pub mode: String,
    #[serde(default = "one")]
    pub count: u64,
    #[serde(default = "one")]
    pub retry_after: u64,
    #[serde(default = "default_hang_ms")]
    pub hang_ms: u64,
}

fn one() -> u64 {
    1
}

fn default_hang_ms() -> u64 {
    1000
}

impl FaultRule {
    fn fault(&self) -> Result<Fault, String> {
        Ok(match self.mode.as_str() {
            "500" => Fault::ServerError,
            "429" => Fault::TooManyRequests {
                retry_after_secs: self.retry_after,
            },
            "hang" => Fault::Hang {
                millis: self.hang_ms,
            },
            "drop-before" => Fault::DropBefore,
            "drop-after" => Fault::DropAfter,
            other => {
                return Err(format!(
                    "unknown mode '{other}' (expected 500, 429, hang, drop-before or drop-after)"
                ))
            }
        })
    }
}

/// The rules still to apply, first in first out; `count` is what is left of each.
#[derive(Default)]
pub struct FaultQueue {
    rules: Mutex<VecDeque<FaultRule>>,
}

impl FaultQueue {
    fn lock(&self) -> MutexGuard<'_, VecDeque<FaultRule>> {
        self.rules.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes one use of the first rule, if any.
    pub fn next(&self) -> Option<Fault> {
        let mut rules = self.lock();
        let rule = rules.front_mut()?;
        let fault = rule.fault().ok();
        rule.count = rule.count.saturating_sub(1);
        if rule.count == 0 {
            rules.pop_front();
        }
        fault
    }

    fn push(&self, rule: FaultRule) {
        self.lock().push_back(rule);
    }

    fn clear(&self) {
        self.lock().clear();
    }

    fn list(&self) -> Vec<FaultRule> {
        self.lock().iter().cloned().collect()
    }
}

#[derive(Serialize)]
struct RulesBody {
    rules: Vec<FaultRule>,
}

fn rules_response(queue: &FaultQueue) -> Response {
    Json(RulesBody {
        rules: queue.list(),
    })
    .into_response()
}

/// `POST /__faults`: appends a rule and answers the whole queue.
pub async fn add_rule(State(state): State<SharedState>, body: Bytes) -> Response {
    let rule: FaultRule = match serde_json::from_slice(&body) {
        Ok(rule) => rule,
        Err(error) => return message(StatusCode::BAD_REQUEST, format!("invalid rule: {error}")),
    };
    if let Err(reason) = rule.fault() {
        return message(StatusCode::BAD_REQUEST, reason);
    }
    if rule.count == 0 {
        return message(StatusCode::BAD_REQUEST, "count must be at least 1");
    }
    state.faults.push(rule);
    rules_response(&state.faults)
}

/// `GET /__faults`: the rules still queued.
pub async fn list_rules(State(state): State<SharedState>) -> Response {
    rules_response(&state.faults)
}

/// `DELETE /__faults`: forgets every rule.
pub async fn clear_rules(State(state): State<SharedState>) -> Response {
    state.faults.clear();
    rules_response(&state.faults)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(mode: &str, count: u64) -> FaultRule {
        FaultRule {
            mode: mode.to_string(),
            count,
            retry_after: 7,
            hang_ms: 5,
        }
    }

    #[test]
    fn rules_apply_in_order_and_run_out() {
        let queue = FaultQueue::default();
        queue.push(rule("500", 2));
        queue.push(rule("429", 1));
        assert_eq!(queue.next(), Some(Fault::ServerError));
        assert_eq!(queue.next(), Some(Fault::ServerError));
        assert_eq!(
            queue.next(),
            Some(Fault::TooManyRequests {
                retry_after_secs: 7
            })
        );
        assert_eq!(queue.next(), None);
    }
}
