//! The read API over real HTTP: users, threads, messages, feedback, per-project filters.

mod common;

use common::{message, TestServer, OTHER_PROJECT, PROJECT};
use serde_json::{json, Value};

fn with_user(mut event: Value, user_id: &str, props: Option<Value>) -> Value {
    event["userId"] = json!(user_id);
    if let Some(props) = props {
        event["userProps"] = props;
    }
    event
}

fn feedback(run_id: &str, timestamp: u64, feedback: Value) -> Value {
    json!({"type": null, "event": "feedback", "runId": run_id, "timestamp": timestamp,
           "overwrite": false, "feedback": feedback})
}

#[test]
fn user_props_are_replaced_by_each_event_naming_the_user() {
    let server = TestServer::start(false);
    let first = with_user(
        message("m1", "t1", 1, "user", "Hi"),
        "u1",
        Some(json!({"name": "Ann", "email": "ann@example.com"})),
    );
    server.ingest(&json!({"events": [first]})).results();
    let users = server.get_json(&format!("/api/users?project={PROJECT}"))["users"].clone();
    assert_eq!(
        users[0]["userProps"],
        json!({"name": "Ann", "email": "ann@example.com"})
    );
    assert_eq!(users[0]["threadCount"], 1);

    // Feedback carrying only the name erases the email, as on the real server.
    let fb = with_user(
        feedback("m1", 2, json!({"thumb": "up"})),
        "u1",
        Some(json!({"name": "Ann"})),
    );
    server.ingest(&json!({"events": [fb]})).results();
    let user = server.get_json("/api/users")["users"][0].clone();
    assert_eq!(user["userProps"], json!({"name": "Ann"}));
    assert!(user["lastSeen"].as_i64() >= user["firstSeen"].as_i64());

    // A userId without userProps wipes them.
    let bare = with_user(message("m2", "t1", 3, "user", "Again"), "u1", None);
    server.ingest(&json!({"events": [bare]})).results();
    let user = server.get_json("/api/users")["users"][0].clone();
    assert_eq!(user["userId"], "u1");
    assert_eq!(user["project"], PROJECT);
    assert_eq!(user["userProps"], Value::Null);
}

#[test]
fn thread_messages_are_ordered_by_timestamp_then_arrival() {
    let server = TestServer::start(false);
    let mut tagged = with_user(message("m3", "t1", 30, "user", "third"), "u1", None);
    tagged["threadTags"] = json!(["support"]);
    server
        .ingest(&json!({"events": [
            tagged,
            with_user(message("m1", "t1", 10, "user", "first"), "u1", None),
        ]}))
        .results();
    // A later batch, earlier timestamp; and two messages sharing one timestamp.
    server
        .ingest(&json!({"events": [
            message("m2a", "t1", 20, "assistant", "second a"),
            message("m2b", "t1", 20, "assistant", "second b"),
            message("other", "t2", 15, "user", "elsewhere"),
        ]}))
        .results();

    let thread = server.get_json("/api/threads/t1");
    let order: Vec<_> = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["runId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(order, ["m1", "m2a", "m2b", "m3"]);
    assert_eq!(thread["id"], "t1");
    assert_eq!(thread["project"], PROJECT);
    assert_eq!(thread["tags"], json!(["support"]));
    // The user of the latest message event processed: m2b named none.
    assert_eq!(thread["userId"], Value::Null);
    let first = &thread["messages"][0];
    assert_eq!(first["role"], "user");
    assert_eq!(first["content"], "first");
    assert_eq!(first["timestamp"], 10);
    assert_eq!(
        first["message"],
        json!({"role": "user", "content": "first"})
    );
    assert_eq!(first["feedback"], Value::Null);

    let threads = server.get_json("/api/threads")["threads"].clone();
    assert_eq!(threads.as_array().unwrap().len(), 2);
    assert_eq!(threads[0]["id"], "t1");
    assert_eq!(threads[0]["messageCount"], 4);
    assert_eq!(threads[1]["messageCount"], 1);
}

#[test]
fn thread_takes_the_user_of_its_latest_message() {
    let server = TestServer::start(false);
    server
        .ingest(&json!({"events": [
            with_user(message("m1", "t1", 1, "user", "a"), "u1", Some(json!({"name": "One"}))),
            with_user(message("m2", "t1", 2, "assistant", "b"), "u2", Some(json!({"name": "Two"}))),
        ]}))
        .results();
    let thread = server.get_json("/api/threads/t1");
    assert_eq!(thread["userId"], "u2");
    assert_eq!(thread["userProps"], json!({"name": "Two"}));
    let users = server.get_json("/api/users")["users"].clone();
    let counts: Vec<_> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["userId"].as_str().unwrap().to_string(),
                u["threadCount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, [("u1".to_string(), 0), ("u2".to_string(), 1)]);
}

#[test]
fn feedback_is_merged_per_message() {
    let server = TestServer::start(false);
    server
        .ingest(&json!({"events": [
            message("m1", "t1", 1, "user", "q"),
            message("m2", "t1", 2, "assistant", "a"),
            feedback("m2", 3, json!({"thumb": "up", "comment": "great"})),
        ]}))
        .results();
    server
        .ingest(&json!({"events": [feedback("m2", 4, json!({"thumb": "down"}))]}))
        .results();
    let thread = server.get_json("/api/threads/t1");
    assert_eq!(thread["messages"][0]["feedback"], Value::Null);
    assert_eq!(
        thread["messages"][1]["feedback"],
        json!({"thumb": "down", "comment": "great"})
    );
}

#[test]
fn unknown_thread_is_a_json_404() {
    let server = TestServer::start(false);
    let reply = server.get("/api/threads/nope");
    assert_eq!(reply.status, 404);
    assert!(reply.json()["message"].is_string());
}

#[test]
fn lists_and_stats_filter_by_project() {
    let server = TestServer::start(false);
    server
        .ingest(&json!({"events": [message("m1", "t1", 1, "user", "a")]}))
        .results();
    let other = json!({"events": [
        with_user(message("m9", "t9", 1, "user", "b"), "u9", None),
        {"event": "nope"},
    ]});
    server
        .ingest_raw(Some(OTHER_PROJECT), "application/json", &other.to_string())
        .results();

    let events = server.get_json(&format!("/api/events?project={PROJECT}"))["events"].clone();
    assert_eq!(events.as_array().unwrap().len(), 1);
    assert_eq!(events[0]["project"], PROJECT);
    assert!(events[0]["receivedAt"].as_i64().unwrap() > 0);
    assert_eq!(events[0]["event"]["runId"], "m1");
    assert_eq!(server.stored_events().len(), 2);

    let threads =
        server.get_json(&format!("/api/threads?project={OTHER_PROJECT}"))["threads"].clone();
    assert_eq!(threads.as_array().unwrap().len(), 1);
    assert_eq!(threads[0]["id"], "t9");
    assert_eq!(
        server
            .get(&format!("/api/threads/t1?project={OTHER_PROJECT}"))
            .status,
        404
    );
    assert!(
        server.get_json(&format!("/api/users?project={PROJECT}"))["users"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let stats = server.get_json(&format!("/api/stats?project={OTHER_PROJECT}"));
    assert_eq!(stats["requests"], 1);
    assert_eq!(stats["stored"], 1);
    assert_eq!(stats["rejected"], 1);
    let total = server.stats();
    assert_eq!(total["requests"], 2);
    assert_eq!(total["stored"], 2);
}
