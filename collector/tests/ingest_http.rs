//! The ingest endpoint over real HTTP: status codes, CORS, per-event results, ordering, dedupe.

mod common;

use common::{agent, message, run_event, TestServer, PROJECT};
use serde_json::json;

#[test]
fn missing_key_is_402() {
    let server = TestServer::start(false);
    let reply = server.ingest_raw(None, "application/json", r#"{"events":[]}"#);
    assert_eq!(reply.status, 402);
    assert_eq!(
        reply.json(),
        json!({"message": "Incorrect project id format"})
    );
}

#[test]
fn key_that_is_not_a_uuid_is_401() {
    let server = TestServer::start(false);
    let reply = server.ingest_raw(Some("not-a-uuid"), "application/json", r#"{"events":[]}"#);
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json(), json!({"message": "Invalid API key"}));
}

#[test]
fn malformed_json_is_400_with_a_message() {
    let server = TestServer::start(false);
    let reply = server.ingest_raw(Some(PROJECT), "application/json", r#"{"events":[{"#);
    assert_eq!(reply.status, 400);
    assert!(reply.json()["message"].is_string(), "{}", reply.body);
}

#[test]
fn body_without_events_is_500() {
    let server = TestServer::start(false);
    let reply = server.ingest(&json!({"batch": []}));
    assert_eq!(reply.status, 500);
    assert_eq!(reply.json(), json!({"message": "Missing events payload."}));
}

#[test]
fn text_plain_body_is_not_parsed() {
    let server = TestServer::start(false);
    let body = json!({"events": [run_event("r1", 1)]}).to_string();
    let reply = server.ingest_raw(Some(PROJECT), "text/plain;charset=UTF-8", &body);
    assert_eq!(reply.status, 500);
    assert_eq!(reply.json(), json!({"message": "Missing events payload."}));
    assert!(server.stored_events().is_empty());
}

#[test]
fn body_over_20_mb_is_413_with_cors() {
    let server = TestServer::start(false);
    let padding = "x".repeat(20 * 1024 * 1024);
    let body = format!(r#"{{"events":[],"padding":"{padding}"}}"#);
    let reply = server.ingest_raw(Some(PROJECT), "application/json", &body);
    assert_eq!(reply.status, 413);
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("http://app.test")
    );

    // Just under the limit is accepted.
    let padding = "x".repeat(19 * 1024 * 1024);
    let body = format!(r#"{{"events":[],"padding":"{padding}"}}"#);
    let reply = server.ingest_raw(Some(PROJECT), "application/json", &body);
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn cors_on_answers_and_errors_and_204_preflight() {
    let server = TestServer::start(false);
    let preflight = agent()
        .options(server.url("/v1/runs/ingest"))
        .header("Origin", "http://app.test")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        )
        .call()
        .expect("preflight answered");
    let preflight = common::Reply::from(preflight);
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://app.test")
    );
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("Content-Type, Authorization, Accept")
    );
    let methods = preflight
        .header("access-control-allow-methods")
        .unwrap_or_default();
    for method in ["GET", "POST", "OPTIONS"] {
        assert!(methods.contains(method), "{methods}");
    }

    let ok = server.ingest(&json!({"events": [run_event("r1", 1)]}));
    let unauthorized = server.ingest_raw(None, "application/json", "{}");
    for reply in [&preflight, &ok, &unauthorized] {
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("http://app.test")
        );
        assert_eq!(reply.header("vary"), Some("Origin"));
        assert_eq!(
            reply.header("access-control-expose-headers"),
            Some("Retry-After")
        );
        assert_eq!(reply.header("access-control-allow-credentials"), None);
    }
    assert_eq!(ok.status, 200);
    assert_eq!(unauthorized.status, 402);
}

#[test]
fn one_bad_event_does_not_stop_the_others() {
    let server = TestServer::start(false);
    let mut no_role = message("m2", "t1", 2, "user", "x");
    no_role["message"] = json!({"content": "no role"});
    let reply = server.ingest(&json!({"events": [
        message("m1", "t1", 1, "user", "Hello"),
        no_role,
        run_event("r3", 3),
        json!({"type": "llm", "event": "start", "runId": "r4", "timestamp": "soon"}),
    ]}));
    let results = reply.results();
    assert_eq!(results.len(), 4);
    // "soon" is not a number: sorted first, rejected.
    assert_eq!(results[0]["id"], "r4");
    assert_eq!(results[0]["success"], false);
    assert!(results[0]["error"].as_str().unwrap().contains("timestamp"));
    assert_eq!(results[1], json!({"id": "m1", "success": true}));
    assert_eq!(results[2]["id"], "m2");
    assert_eq!(results[2]["success"], false);
    assert!(results[2]["error"].as_str().unwrap().contains("role"));
    assert_eq!(results[3], json!({"id": "r3", "success": true}));

    let stored: Vec<_> = server
        .stored_events()
        .iter()
        .map(|e| e["event"]["runId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(stored, ["m1", "r3"]);
    let stats = server.stats();
    assert_eq!(stats["received"], 4);
    assert_eq!(stats["stored"], 2);
    assert_eq!(stats["rejected"], 2);
    assert_eq!(stats["rejectedReasons"].as_object().unwrap().len(), 2);
}

#[test]
fn event_without_run_id_has_no_id_in_its_result() {
    let server = TestServer::start(false);
    let results = server
        .ingest(
            &json!({"events": ["not an event", {"event": "start", "type": "llm", "timestamp": 1}]}),
        )
        .results();
    assert_eq!(
        results[0],
        json!({"success": false, "error": "event is not an object"})
    );
    assert!(results[1].get("id").is_none());
    assert_eq!(results[1]["success"], false);
}

#[test]
fn results_come_in_timestamp_order() {
    let server = TestServer::start(false);
    let results = server
        .ingest(&json!({"events": [
            run_event("c", 30), run_event("a", 10), run_event("b2", 20), run_event("b1", 20),
        ]}))
        .results();
    let ids: Vec<_> = results.iter().map(|r| r["id"].as_str().unwrap()).collect();
    // Stable: b2 and b1 share a timestamp and keep their order.
    assert_eq!(ids, ["a", "b2", "b1", "c"]);
    let stored: Vec<_> = server
        .stored_events()
        .iter()
        .map(|e| e["event"]["runId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(stored, ["a", "b2", "b1", "c"]);
}

#[test]
fn one_bare_event_is_accepted_and_stored_as_sent() {
    let server = TestServer::start(false);
    let body = r#"{"events": {"type":"llm", "runId":"solo", "event":"start", "timestamp":5}}"#;
    let results = server
        .ingest_raw(Some(PROJECT), "application/json", body)
        .results();
    assert_eq!(results, [json!({"id": "solo", "success": true})]);
    let reply = server.get("/api/events");
    // The event's own text is kept, key order included.
    assert!(
        reply
            .body
            .contains(r#"{"type":"llm", "runId":"solo", "event":"start", "timestamp":5}"#),
        "{}",
        reply.body
    );
}

#[test]
fn duplicates_are_answered_success_and_stored_once() {
    let server = TestServer::start(false);
    let batch = json!({"events": [message("m1", "t1", 1, "user", "Hi"), run_event("r1", 2)]});
    server.ingest(&batch).results();
    let again = server.ingest(&batch).results();
    assert!(again.iter().all(|r| r["success"] == true));
    // Same runId, other timestamp: a different event.
    server
        .ingest(&json!({"events": [run_event("r1", 3)]}))
        .results();

    assert_eq!(server.stored_events().len(), 3);
    let stats = server.stats();
    assert_eq!(stats["requests"], 3);
    assert_eq!(stats["received"], 5);
    assert_eq!(stats["stored"], 3);
    assert_eq!(stats["duplicates"], 2);
    let thread = server.get_json("/api/threads/t1");
    assert_eq!(thread["messages"].as_array().unwrap().len(), 1);
}

#[test]
fn faults_endpoint_is_404_without_the_flag() {
    let server = TestServer::start(false);
    let reply = server.add_fault(&json!({"mode": "500"}));
    assert_eq!(reply.status, 404);
    let reply = server.ingest(&json!({"events": [run_event("r1", 1)]}));
    assert_eq!(reply.status, 200);
}

#[test]
fn the_binary_prints_its_address_and_serves() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    /// Kills the child we started, whatever the test's outcome.
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_lunary-collector"))
            .args(["--port", "0", "--db", ":memory:"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("binary starts"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("a line");
    let base = line
        .trim()
        .strip_prefix("lunary-collector listening on ")
        .expect("the announced prefix")
        .to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");
    let reply = agent()
        .get(format!("{base}/api/stats"))
        .call()
        .expect("stats answered");
    assert_eq!(reply.status().as_u16(), 200);
}
