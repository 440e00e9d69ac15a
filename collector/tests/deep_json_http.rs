//! JSON nested far deeper than serde_json's `Value` allows (128 levels), over real HTTP. The real
//! server takes any depth (`JSON.parse`) and the SDK can send user data nested 10,000 levels, so
//! the collector must store such events and serve them back as sent, at any depth a 20 MB body
//! can hold, without overflowing a stack (its threads have the usual 2 MiB).
//!
//! The answers are read here with borrowed `RawValue`s, never parsed into a tree.

mod common;

use common::{agent, TestServer, PROJECT};
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;

/// The ingest body limit.
const LIMIT: usize = 20 * 1024 * 1024;

/// `{"a":{"a":…leaf…}}`, `levels` deep.
fn nested_object(levels: usize, leaf: &str) -> String {
    format!("{}{leaf}{}", r#"{"a":"#.repeat(levels), "}".repeat(levels))
}

/// `[[…leaf…]]`, `levels` deep.
fn nested_array(levels: usize, leaf: &str) -> String {
    format!("{}{leaf}{}", "[".repeat(levels), "]".repeat(levels))
}

#[derive(Deserialize)]
struct Events<'a> {
    #[serde(borrow)]
    events: Vec<StoredEvent<'a>>,
}

#[derive(Deserialize)]
struct StoredEvent<'a> {
    #[serde(borrow)]
    event: &'a RawValue,
}

#[derive(Deserialize)]
struct Users<'a> {
    #[serde(borrow)]
    users: Vec<User<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct User<'a> {
    user_id: String,
    #[serde(borrow)]
    user_props: &'a RawValue,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Thread<'a> {
    #[serde(borrow)]
    user_props: &'a RawValue,
    #[serde(borrow)]
    messages: Vec<Message<'a>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    content: &'a RawValue,
    #[serde(borrow)]
    message: &'a RawValue,
    #[serde(borrow)]
    feedback: &'a RawValue,
}

/// GET, read whole however large (ureq's own read stops at 10 MB).
fn get_text(server: &TestServer, path: &str) -> String {
    let mut response = agent().get(server.url(path)).call().expect("GET answered");
    assert_eq!(response.status(), 200, "GET {path}");
    response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_string()
        .expect("body read")
}

#[test]
fn an_event_with_10000_levels_of_user_props_is_stored_and_read_back_as_sent() {
    let server = TestServer::start(false);
    let props = format!(
        r#"{{"name":"Deep","nested":{}}}"#,
        nested_object(10_000, r#""bottom \ud800""#)
    );
    let content = nested_array(10_000, r#"{"text":"deepest","n":1e400}"#);
    let message = format!(r#"{{"role":"user","content":{content}}}"#);
    let chat = format!(
        r#"{{"type":"thread","event":"chat","runId":"m-deep","parentRunId":"t-deep",
             "timestamp":1,"userId":"deep-user","userProps":{props},"message":{message}}}"#
    );
    let deep_feedback = nested_array(10_000, "true");
    let feedback = format!(
        r#"{{"type":null,"event":"feedback","runId":"m-deep","timestamp":2,
             "feedback":{{"thumb":"up","deep":{deep_feedback}}}}}"#
    );
    let body = format!(r#"{{"events":[{chat},{feedback}]}}"#);

    let reply = server.ingest_raw(Some(PROJECT), "application/json", &body);
    let results = reply.results();
    assert_eq!(
        results,
        [
            json!({"id":"m-deep","success":true}),
            json!({"id":"m-deep","success":true})
        ]
    );

    let events_text = get_text(&server, "/api/events");
    let events: Events<'_> = serde_json::from_str(&events_text).expect("events");
    let stored: Vec<&str> = events.events.iter().map(|e| e.event.get()).collect();
    assert_eq!(stored, [chat.as_str(), feedback.as_str()], "stored as sent");

    let users_text = get_text(&server, "/api/users");
    let users: Users<'_> = serde_json::from_str(&users_text).expect("users");
    assert_eq!(users.users.len(), 1);
    assert_eq!(users.users[0].user_id, "deep-user");
    assert_eq!(users.users[0].user_props.get(), props);

    let thread_text = get_text(&server, "/api/threads/t-deep");
    let thread: Thread<'_> = serde_json::from_str(&thread_text).expect("thread");
    assert_eq!(thread.user_props.get(), props);
    assert_eq!(thread.messages.len(), 1);
    assert_eq!(thread.messages[0].message.get(), message);
    assert_eq!(thread.messages[0].content.get(), content);
    assert_eq!(
        thread.messages[0].feedback.get(),
        format!(r#"{{"thumb":"up","deep":{deep_feedback}}}"#)
    );

    // Sent again: recognised as duplicates, by the same deep reading.
    let again = server.ingest_raw(Some(PROJECT), "application/json", &body);
    assert!(again.results().iter().all(|r| r["success"] == true));
    assert_eq!(server.stats()["duplicates"], 2);
}

#[test]
fn twenty_mb_of_nesting_gets_an_answer_and_the_server_keeps_serving() {
    let server = TestServer::start(false);
    let room = LIMIT - 1024;

    // Never closed: malformed, a 400 naming the problem.
    let reply = server.ingest_raw(Some(PROJECT), "application/json", &"[".repeat(room));
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.json()["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("invalid JSON: ")));

    // Closed: a JSON array, which has no `events`.
    let reply = server.ingest_raw(
        Some(PROJECT),
        "application/json",
        &nested_array(room / 2, ""),
    );
    assert_eq!(reply.status, 500, "{}", reply.body);
    assert_eq!(reply.json(), json!({"message": "Missing events payload."}));

    // Still serving.
    let reply = server.ingest(&json!({"events": [common::run_event("after", 4)]}));
    assert_eq!(reply.results(), [json!({"id":"after","success":true})]);
    assert_eq!(server.stats()["stored"], 1);
}

/// Far deeper than 10,000 levels, inside an event: no depth limit at all. (2 MB here rather than
/// 20: each pass over 20 MB of nesting takes a second in a debug build.)
#[test]
fn a_million_levels_in_an_event_are_answered_stored_and_served_back() {
    let server = TestServer::start(false);
    let room = 2 * 1024 * 1024;

    // As `events`: one item, an array, which is not an event.
    let body = format!(r#"{{"events":{}}}"#, nested_array(room / 2, ""));
    let results = server
        .ingest_raw(Some(PROJECT), "application/json", &body)
        .results();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["success"], false);
    assert_eq!(results[0]["error"], "event is not an object");

    // As user props: stored, and served back as sent.
    let levels = (room - 200) / r#"{"a":}"#.len();
    let props = format!(r#"{{"deep":{}}}"#, nested_object(levels, "0"));
    let event = format!(
        r#"{{"type":"llm","event":"start","runId":"r-deep","timestamp":3,"userId":"u-deep","userProps":{props}}}"#
    );
    let results = server
        .ingest_raw(
            Some(PROJECT),
            "application/json",
            &format!(r#"{{"events":[{event}]}}"#),
        )
        .results();
    assert_eq!(results, [json!({"id":"r-deep","success":true})]);
    let users_text = get_text(&server, "/api/users");
    let users: Users<'_> = serde_json::from_str(&users_text).expect("users");
    assert_eq!(users.users[0].user_props.get(), props);
    let events_text = get_text(&server, "/api/events");
    let events: Events<'_> = serde_json::from_str(&events_text).expect("events");
    assert_eq!(events.events[0].event.get(), event);
}
