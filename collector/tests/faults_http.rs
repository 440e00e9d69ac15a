//! Fault injection over real HTTP: every mode, the rule queue, and what is left untouched.

mod common;

use std::time::{Duration, Instant};

use common::{agent, run_event, TestServer, PROJECT};
use serde_json::json;

fn batch(run_id: &str) -> String {
    json!({"events": [run_event(run_id, 1)]}).to_string()
}

#[test]
fn injected_500() {
    let server = TestServer::start(true);
    server.add_fault(&json!({"mode": "500"}));
    let reply = server.ingest_raw(Some(PROJECT), "application/json", &batch("r1"));
    assert_eq!(reply.status, 500);
    assert_eq!(reply.json(), json!({"message": "injected fault"}));
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("http://app.test")
    );
    assert!(server.stored_events().is_empty());

    // The rule is used up: the retry goes through.
    let reply = server.ingest_raw(Some(PROJECT), "application/json", &batch("r1"));
    assert_eq!(reply.status, 200);
    let stats = server.stats();
    assert_eq!(stats["faultsInjected"], 1);
    assert_eq!(stats["requests"], 2);
    assert_eq!(stats["stored"], 1);
}

#[test]
fn injected_429_with_readable_retry_after() {
    let server = TestServer::start(true);
    server.add_fault(&json!({"mode": "429", "retryAfter": 7, "count": 2}));
    for _ in 0..2 {
        let reply = server.ingest_raw(Some(PROJECT), "application/json", &batch("r1"));
        assert_eq!(reply.status, 429);
        assert_eq!(reply.header("retry-after"), Some("7"));
        assert!(reply
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/plain"));
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("http://app.test")
        );
        assert_eq!(
            reply.header("access-control-expose-headers"),
            Some("Retry-After")
        );
    }
    let reply = server.ingest_raw(Some(PROJECT), "application/json", &batch("r1"));
    assert_eq!(reply.status, 200);
}

#[test]
fn hang_delays_then_processes() {
    let server = TestServer::start(true);
    server.add_fault(&json!({"mode": "hang", "hangMs": 300}));
    let started = Instant::now();
    let reply = server.ingest_raw(Some(PROJECT), "application/json", &batch("r1"));
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(reply.results(), [json!({"id": "r1", "success": true})]);
    assert_eq!(server.stats()["stored"], 1);
}

#[test]
fn drop_before_stores_nothing_and_the_client_sees_a_connection_error() {
    let server = TestServer::start(true);
    server.add_fault(&json!({"mode": "drop-before"}));
    let outcome = server.try_ingest_raw(&agent(), Some(PROJECT), "application/json", &batch("r1"));
    match outcome {
        Err(error) => eprintln!("client saw: {error}"),
        Ok(reply) => panic!("expected a connection error, got {reply:?}"),
    }
    assert!(server.stored_events().is_empty());
    let stats = server.stats();
    assert_eq!(stats["stored"], 0);
    assert_eq!(stats["faultsInjected"], 1);

    // The server itself is fine.
    let reply = server.ingest_raw(Some(PROJECT), "application/json", &batch("r1"));
    assert_eq!(reply.status, 200);
}

#[test]
fn drop_after_stores_and_the_client_sees_a_connection_error() {
    let server = TestServer::start(true);
    server.add_fault(&json!({"mode": "drop-after"}));
    let outcome = server.try_ingest_raw(&agent(), Some(PROJECT), "application/json", &batch("r1"));
    match outcome {
        Err(error) => eprintln!("client saw: {error}"),
        Ok(reply) => panic!("expected a connection error, got {reply:?}"),
    }
    assert_eq!(server.stored_events().len(), 1);

    // The client re-sends what was not acknowledged: answered success, stored once.
    let results = server
        .ingest_raw(Some(PROJECT), "application/json", &batch("r1"))
        .results();
    assert_eq!(results, [json!({"id": "r1", "success": true})]);
    let stats = server.stats();
    assert_eq!(stats["stored"], 1);
    assert_eq!(stats["duplicates"], 1);
}

#[test]
fn drop_is_a_connection_error_on_a_raw_socket_too() {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    let server = TestServer::start(true);
    server.add_fault(&json!({"mode": "drop-after"}));
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut socket = TcpStream::connect(addr).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let body = batch("r1");
    let request = format!(
        "POST /v1/runs/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {PROJECT}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).expect("request sent");
    let mut received = Vec::new();
    let read = socket.read_to_end(&mut received);
    assert!(received.is_empty(), "got an HTTP answer: {received:?}");
    let error = read.expect_err("the connection is reset, not closed cleanly");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
}

#[test]
fn rules_queue_in_order_and_delete_clears_them() {
    let server = TestServer::start(true);
    server.add_fault(&json!({"mode": "500"}));
    let listed = server.add_fault(&json!({"mode": "429", "retryAfter": 2}));
    assert_eq!(listed.json()["rules"].as_array().unwrap().len(), 2);

    let first = server.ingest_raw(Some(PROJECT), "application/json", &batch("r1"));
    let second = server.ingest_raw(Some(PROJECT), "application/json", &batch("r1"));
    assert_eq!((first.status, second.status), (500, 429));

    server.add_fault(&json!({"mode": "500", "count": 5}));
    let cleared = agent()
        .delete(server.url("/__faults"))
        .call()
        .expect("delete");
    assert_eq!(cleared.status().as_u16(), 200);
    let reply = server.ingest_raw(Some(PROJECT), "application/json", &batch("r1"));
    assert_eq!(reply.status, 200);
    assert_eq!(server.get_json("/__faults"), json!({"rules": []}));
}

#[test]
fn bad_rules_are_refused() {
    let server = TestServer::start(true);
    assert_eq!(server.add_fault(&json!({"mode": "teapot"})).status, 400);
    assert_eq!(
        server.add_fault(&json!({"mode": "500", "count": 0})).status,
        400
    );
    assert_eq!(
        server.add_fault(&json!({"mode": "500", "bogus": 1})).status,
        400
    );
}

#[test]
fn preflights_and_read_api_do_not_use_up_rules() {
    let server = TestServer::start(true);
    server.add_fault(&json!({"mode": "500"}));
    let preflight = agent()
        .options(server.url("/v1/runs/ingest"))
        .header("Origin", "http://app.test")
        .call()
        .expect("preflight");
    assert_eq!(preflight.status().as_u16(), 204);
    server.stats();
    server.stored_events();
    let reply = server.ingest_raw(Some(PROJECT), "application/json", &batch("r1"));
    assert_eq!(reply.status, 500);
}
