//! Shared by the HTTP tests: a collector started in-process on 127.0.0.1 with a free port and an
//! in-memory database, and a small blocking client around `ureq`.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use lunary_collector::{serve, Config};
use serde_json::Value;

pub const PROJECT: &str = "0b3a4e7c-1f2d-4c5b-9a8e-7d6c5b4a3f21";
pub const OTHER_PROJECT: &str = "9f8e7d6c-5b4a-4321-8fed-cba987654321";

/// A collector running on its own tokio runtime thread; stopped when dropped.
pub struct TestServer {
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start(faults: bool) -> TestServer {
        let (addr_sender, addr_receiver) = mpsc::channel();
        let (stop, stop_signal) = tokio::sync::oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let server = serve(Config::for_tests(faults))
                    .await
                    .expect("server starts");
                addr_sender.send(server.addr()).expect("address sent");
                let _ = stop_signal.await;
                server.shutdown().await;
            });
        });
        let addr = addr_receiver
            .recv_timeout(Duration::from_secs(10))
            .expect("server started in time");
        TestServer {
            base: format!("http://{addr}"),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// POSTs a JSON body to the ingest endpoint with the project's key.
    pub fn ingest(&self, body: &Value) -> Reply {
        self.ingest_raw(Some(PROJECT), "application/json", &body.to_string())
    }

    /// POSTs to the ingest endpoint with full control over key, content type and body.
    pub fn ingest_raw(&self, key: Option<&str>, content_type: &str, body: &str) -> Reply {
        self.try_ingest_raw(&agent(), key, content_type, body)
            .expect("the server answered")
    }

    /// Like [`ingest_raw`](Self::ingest_raw), but a transport error is returned, not a panic.
    pub fn try_ingest_raw(
        &self,
        agent: &ureq::Agent,
        key: Option<&str>,
        content_type: &str,
        body: &str,
    ) -> Result<Reply, ureq::Error> {
        let mut request = agent
            .post(self.url("/v1/runs/ingest"))
            .header("Content-Type", content_type)
            .header("Origin", "http://app.test");
        if let Some(key) = key {
            request = request.header("Authorization", &format!("Bearer {key}"));
        }
        request.send(body).map(Reply::from)
    }

    pub fn get(&self, path: &str) -> Reply {
        Reply::from(agent().get(self.url(path)).call().expect("GET answered"))
    }

    pub fn get_json(&self, path: &str) -> Value {
        let reply = self.get(path);
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.body);
        reply.json()
    }

    pub fn stats(&self) -> Value {
        self.get_json("/api/stats")
    }

    pub fn stored_events(&self) -> Vec<Value> {
        self.get_json("/api/events")["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// POSTs one fault rule.
    pub fn add_fault(&self, rule: &Value) -> Reply {
        Reply::from(
            agent()
                .post(self.url("/__faults"))
                .header("Content-Type", "application/json")
                .send(&rule.to_string())
                .expect("fault endpoint answered"),
        )
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A fresh client (no pooled connection) that does not turn 4xx/5xx into errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }

    /// `results` of an ingest answer.
    pub fn results(&self) -> Vec<Value> {
        assert_eq!(self.status, 200, "ingest failed: {}", self.body);
        self.json()["results"].as_array().cloned().expect("results")
    }
}

impl From<ureq::http::Response<ureq::Body>> for Reply {
    fn from(mut response: ureq::http::Response<ureq::Body>) -> Reply {
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.to_string(),
                    value.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        Reply {
            status: response.status().as_u16(),
            headers,
            body: response.body_mut().read_to_string().unwrap_or_default(),
        }
    }
}

/// A thread message event.
pub fn message(run_id: &str, thread: &str, timestamp: u64, role: &str, content: &str) -> Value {
    serde_json::json!({
        "type": "thread", "event": "chat", "runId": run_id, "parentRunId": thread,
        "timestamp": timestamp, "runtime": "lunary-wasm/test",
        "message": {"role": role, "content": content}
    })
}

/// A generic run event, unique per `run_id`.
pub fn run_event(run_id: &str, timestamp: u64) -> Value {
    serde_json::json!({"type": "llm", "event": "start", "runId": run_id, "timestamp": timestamp})
}
