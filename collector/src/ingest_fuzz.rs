//! A bounded fuzz of ingest request handling, natively (the router called directly, no
//! sockets): structurally generated JSON bodies (deep, wide, escapes, lone surrogates, huge
//! numbers, repeated keys, `__proto__`), the same bodies under arbitrary content types,
//! arbitrary bytes, and valid bodies cut short, with bytes changed or junk put in.
//!
//! Each answer must be what the model of the real server in `tests/common/json_gen.rs` says:
//! nothing panics; malformed JSON is a 400 with a message; a 500 is only `Missing events
//! payload.`; a valid body gets the status and per-event results the real server gives.
//! Fixed seed and case count: a failure reproduces on every run.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Request};
use axum::Router;
use hyper::service::Service;
use hyper_util::service::TowerToHyperService;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestCaseError, TestRunner};
use serde_json::Value;

use crate::app;
use crate::faults::FaultQueue;
use crate::state::AppState;
use crate::stats::Stats;
use crate::storage::Storage;

#[path = "../tests/common/json_gen.rs"]
mod json_gen;

use json_gen::{expected_answer, verdict, Answer, Json, Verdict};

const CASES: u32 = 4_000;
const SEED: u64 = 0x1a7e_5eed;
const PROJECT: &str = "0b3a4e7c-1f2d-4c5b-9a8e-7d6c5b4a3f21";

/// One request body to try.
#[derive(Clone)]
enum Case {
    /// A generated body, sent as `application/json`.
    Structured(Json),
    /// A generated body under any content type.
    ContentType(Vec<u8>, Json),
    /// Any bytes, sent as `application/json`.
    Bytes(Vec<u8>),
    /// A generated body, changed, sent as `application/json`.
    Mutated(Vec<u8>),
}

/// Bodies shown as text (bytes outside printable ASCII escaped), so that a failure reads.
impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Case::Structured(body) => write!(f, "Structured({})", body.render()),
            Case::ContentType(content_type, body) => write!(
                f,
                "ContentType(\"{}\", {})",
                content_type.escape_ascii(),
                body.render()
            ),
            Case::Bytes(bytes) => write!(f, "Bytes(\"{}\")", bytes.escape_ascii()),
            Case::Mutated(bytes) => write!(f, "Mutated(\"{}\")", bytes.escape_ascii()),
        }
    }
}

impl Case {
    fn label(&self) -> &'static str {
        match self {
            Case::Structured(_) => "structured",
            Case::ContentType(..) => "content types",
            Case::Bytes(_) => "bytes",
            Case::Mutated(_) => "mutated",
        }
    }
}

fn case() -> BoxedStrategy<Case> {
    prop_oneof![
        5 => json_gen::json_body().prop_map(Case::Structured),
        1 => (json_gen::content_type(), json_gen::json_body())
            .prop_map(|(content_type, body)| Case::ContentType(content_type, body)),
        1 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Case::Bytes),
        3 => json_gen::mutated_body().prop_map(Case::Mutated),
    ]
    .boxed()
}

fn router() -> Router {
    app::router(Arc::new(AppState {
        storage: Arc::new(Storage::open(":memory:").unwrap()),
        stats: Stats::default(),
        faults: FaultQueue::default(),
        faults_enabled: false,
        demo_dir: None,
    }))
}

/// Posts a body to the ingest endpoint with a valid key; the status and the body, parsed.
async fn post(router: Router, content_type: Vec<u8>, body: Vec<u8>) -> (u16, Value) {
    let mut request = Request::post("/v1/runs/ingest")
        .header(AUTHORIZATION, format!("Bearer {PROJECT}"))
        .body(Body::from(body))
        .unwrap();
    if let Ok(value) = HeaderValue::from_bytes(&content_type) {
        request.headers_mut().insert(CONTENT_TYPE, value);
    }
    let response = TowerToHyperService::new(router)
        .call(request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|error| {
        panic!("answer {status} is not JSON ({error}): {bytes:?}");
    });
    (status, body)
}

/// The answer must be the model's.
fn check_answer(expected: &Answer, status: u16, body: &Value) -> Result<(), TestCaseError> {
    match expected {
        Answer::Malformed => check_malformed(status, body),
        Answer::MissingEvents => check_missing(status, body),
        Answer::Results(expected) => {
            prop_assert_eq!(status, 200, "{}", body);
            let results = body["results"].as_array().cloned().unwrap_or_default();
            let got: Vec<(Option<String>, bool)> = results
                .iter()
                .map(|result| {
                    (
                        result.get("id").and_then(Value::as_str).map(String::from),
                        result["success"] == true,
                    )
                })
                .collect();
            prop_assert_eq!(&got, expected, "{}", body);
            for result in &results {
                let failed = result["success"] == false;
                prop_assert_eq!(
                    failed,
                    result["error"].as_str().is_some_and(|e| !e.is_empty())
                );
            }
            Ok(())
        }
    }
}

fn check_malformed(status: u16, body: &Value) -> Result<(), TestCaseError> {
    prop_assert_eq!(status, 400, "{}", body);
    let message = body["message"].as_str().unwrap_or_default();
    prop_assert!(
        message.starts_with("invalid JSON: ") && message.len() > 14,
        "{}",
        body
    );
    Ok(())
}

fn check_missing(status: u16, body: &Value) -> Result<(), TestCaseError> {
    prop_assert_eq!(status, 500, "{}", body);
    prop_assert_eq!(
        body,
        &serde_json::json!({"message": "Missing events payload."})
    );
    Ok(())
}

/// Arbitrary bytes sent as JSON: judged by serde_json's `Value` parser where it can judge.
fn check_bytes(bytes: &[u8], status: u16, body: &Value) -> Result<(), TestCaseError> {
    match verdict(bytes) {
        Verdict::Empty => check_missing(status, body),
        Verdict::Malformed => check_malformed(status, body),
        Verdict::Valid => {
            prop_assert!(status == 200 || status == 500, "{} {}", status, body);
            if status == 500 {
                check_missing(status, body)?;
            }
            Ok(())
        }
        // `JSON.parse` may take it, or something else in it may be malformed.
        Verdict::BeyondValue => match status {
            400 => check_malformed(status, body),
            500 => check_missing(status, body),
            _ => {
                prop_assert_eq!(status, 200, "{}", body);
                Ok(())
            }
        },
    }
}

#[test]
fn ingest_fuzz() {
    // The handler runs on a runtime worker, with the usual 2 MiB stack of one, as when serving.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let router = router();
    let by_status: RefCell<BTreeMap<u16, u32>> = RefCell::default();
    let by_kind: RefCell<BTreeMap<&'static str, u32>> = RefCell::default();
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        rng_seed: RngSeed::Fixed(SEED),
        // XorShift: ChaCha costs a third of the time in a debug build.
        rng_algorithm: RngAlgorithm::XorShift,
        failure_persistence: None,
        ..Config::default()
    });
    let started = std::time::Instant::now();
    let outcome = runner.run(&case(), |case| {
        let (content_type, bytes) = match &case {
            Case::Structured(body) => (b"application/json".to_vec(), body.render().into_bytes()),
            Case::ContentType(content_type, body) => {
                (content_type.clone(), body.render().into_bytes())
            }
            Case::Bytes(bytes) | Case::Mutated(bytes) => {
                (b"application/json".to_vec(), bytes.clone())
            }
        };
        let request = post(router.clone(), content_type, bytes);
        let (status, body) = runtime.block_on(runtime.spawn(request)).unwrap();
        *by_status.borrow_mut().entry(status).or_default() += 1;
        *by_kind.borrow_mut().entry(case.label()).or_default() += 1;
        match &case {
            Case::Structured(json) => check_answer(&expected_answer(json), status, &body),
            Case::ContentType(content_type, json) => {
                let sent_as_json = HeaderValue::from_bytes(content_type).is_ok()
                    && json_gen::is_json_content_type(content_type);
                if sent_as_json {
                    check_answer(&expected_answer(json), status, &body)
                } else {
                    check_missing(status, &body)
                }
            }
            Case::Bytes(bytes) | Case::Mutated(bytes) => check_bytes(bytes, status, &body),
        }
    });
    // A failure is reported after the shrinking, with the smallest case found.
    if let Err(error) = outcome {
        panic!("{error}");
    }
    let cases: u32 = by_kind.borrow().values().sum();
    eprintln!(
        "collector fuzz: parser {cases} cases {:?} (seed {SEED:#x}), 0 panics, \
         answers by status {:?}, {:.1} s",
        by_kind.borrow(),
        by_status.borrow(),
        started.elapsed().as_secs_f64()
    );
}
