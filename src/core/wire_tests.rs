//! The events of each tracking call, compared field by field with the examples in
//! docs/lunary-protocol.md, and byte for byte with the key order lunary-js writes.

use super::event::RUNTIME;
use super::identity::{ThreadUser, User};
use super::json::{RawJson, RawMembers};
use super::outbox::{Next, Policy};
use super::tracker::{Thread, Tracker};
use crate::prelude::*;
use serde_json::{json, Value};

const T0: u64 = 1_764_325_200_000;
const THREAD: &str = "6f1c2b1e-8a52-4c3e-9a57-3c1d2e4f5a6b";
const MSG: &str = "0b8e7f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";

fn raw(text: &str) -> RawJson {
    RawJson::trusted(text.into())
}

fn john() -> User {
    User {
        id: "user123".into(),
        props: Some(raw(r#"{"name":"John","email":"john@example.org"}"#)),
    }
}

fn thread(user: ThreadUser) -> Thread {
    Thread {
        id: THREAD.into(),
        user,
        tags: Some(raw(r#"["support"]"#)),
    }
}

fn tracker() -> Tracker {
    let mut tracker = Tracker::new(Policy::default());
    tracker.outbox.set_enabled(true);
    tracker
}

/// Every event queued so far, parsed, by sending one batch.
fn sent(tracker: &mut Tracker) -> Vec<Value> {
    tracker.outbox.flush_mark();
    match tracker.outbox.next(T0) {
        Next::Send(request) => {
            let parsed: Value = serde_json::from_str(&request.body).expect("the body is JSON");
            parsed["events"]
                .as_array()
                .cloned()
                .expect("an events array")
        }
        other => panic!("nothing sent: {other:?}"),
    }
}

#[test]
fn runtime_names_this_sdk_and_its_version() {
    assert_eq!(
        RUNTIME,
        format!("lunary-wasm/{}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn thread_message_matches_the_protocol_example() {
    let mut tracker = tracker();
    let user = ThreadUser {
        id: Some("user123".into()),
        props: Some(raw(r#"{"name":"John"}"#)),
    };
    let message = raw(r#"{"role":"user","content":"Hello"}"#);
    tracker.message(T0, &thread(user), MSG, &message, None);
    let events = sent(&mut tracker);
    assert_eq!(
        events,
        [
            json!({"type":"thread","event":"chat","runId":MSG,"parentRunId":THREAD,
            "timestamp":T0,"userId":"user123","userProps":{"name":"John"},
            "runtime":RUNTIME,"threadTags":["support"],
            "message":{"role":"user","content":"Hello"}})
        ]
    );
}

#[test]
fn thread_message_bytes_follow_lunary_js_key_order() {
    let mut tracker = tracker();
    tracker.set_user(Some(john()));
    let message = raw(r#"{"role":"user","content":"Hello"}"#);
    tracker.message(T0, &thread(ThreadUser::default()), MSG, &message, None);
    let expected = format!(
        concat!(
            r#"{{"event":"chat","type":"thread","userId":"user123","#,
            r#""userProps":{{"name":"John","email":"john@example.org"}},"parentRunId":"{}","#,
            r#""timestamp":{},"runtime":"{}","runId":"{}","threadTags":["support"],"#,
            r#""message":{{"role":"user","content":"Hello"}}}}"#
        ),
        THREAD, T0, RUNTIME, MSG
    );
    assert_eq!(tracker.outbox.newest(), Some(expected.as_str()));
}

#[test]
fn message_feedback_is_copied_to_the_top_level() {
    let mut tracker = tracker();
    let message = raw(r#"{"role":"assistant","content":"Hi","feedback":{"thumb":"up"}}"#);
    let feedback = raw(r#"{"thumb":"up"}"#);
    tracker.message(
        T0,
        &thread(ThreadUser::default()),
        MSG,
        &message,
        Some(&feedback),
    );
    let event = &sent(&mut tracker)[0];
    assert_eq!(event["feedback"], json!({"thumb":"up"}));
    assert_eq!(event["message"]["feedback"], json!({"thumb":"up"}));
    assert!(event.get("userId").is_none(), "no user known, none sent");
    assert!(event.get("userProps").is_none());
}

#[test]
fn feedback_matches_the_protocol_example() {
    let mut tracker = tracker();
    tracker.set_user(Some(john()));
    tracker.feedback(T0, MSG, false, &raw(r#"{"thumb":"up","comment":"great"}"#));
    let events = sent(&mut tracker);
    assert_eq!(
        events,
        [
            json!({"type":null,"event":"feedback","runId":MSG,"timestamp":T0,
            "userId":"user123","userProps":{"name":"John","email":"john@example.org"},
            "runtime":RUNTIME,"overwrite":false,
            "feedback":{"thumb":"up","comment":"great"}})
        ]
    );
    assert!(
        events[0].get("parentRunId").is_none(),
        "lunary-js sends no parent on feedback"
    );
}

#[test]
fn thread_event_carries_user_and_tags() {
    let mut tracker = tracker();
    tracker.set_user(Some(john()));
    let metadata = raw(r#"{"plan":"pro"}"#);
    tracker.thread_event(
        T0,
        &thread(ThreadUser::default()),
        "clicked_upgrade",
        MSG,
        Some(&metadata),
    );
    let events = sent(&mut tracker);
    assert_eq!(
        events,
        [
            json!({"type":"thread","event":"custom-event","runId":MSG,"parentRunId":THREAD,
            "name":"clicked_upgrade","metadata":{"plan":"pro"},"timestamp":T0,
            "userId":"user123","userProps":{"name":"John","email":"john@example.org"},
            "runtime":RUNTIME,"threadTags":["support"]})
        ]
    );
}

#[test]
fn logs_attach_to_the_latest_thread() {
    let mut tracker = tracker();
    tracker.log(T0, "info", Some("before any thread"), None);
    tracker.open_thread(&thread(ThreadUser::default()));
    tracker.log(T0, "warn", Some("slow answer"), Some(&raw(r#"{"ms":900}"#)));
    let events = sent(&mut tracker);
    assert_eq!(events[0]["type"], "log");
    assert_eq!(events[0]["event"], "info");
    assert!(events[0].get("parentRunId").is_none());
    assert_eq!(
        events[1],
        json!({"type":"log","event":"warn","parentRunId":THREAD,"timestamp":T0 + 1,
            "runtime":RUNTIME,"message":"slow answer","extra":{"ms":900}})
    );
}

#[test]
fn custom_events_keep_the_callers_fields_in_order() {
    let mut tracker = tracker();
    let mut fields = RawMembers::default();
    fields.push("name", &raw(r#""gpt-4""#));
    fields.push_text(r#""input""#, r#""Hi""#);
    let user = ThreadUser {
        id: Some("svc".into()),
        props: None,
    };
    tracker.custom(T0, Some("llm"), "start", MSG, &user, Some(THREAD), &fields);
    let expected = format!(
        concat!(
            r#"{{"event":"start","type":"llm","userId":"svc","parentRunId":"{}","#,
            r#""timestamp":{},"runtime":"{}","runId":"{}","name":"gpt-4","input":"Hi"}}"#
        ),
        THREAD, T0, RUNTIME, MSG
    );
    assert_eq!(tracker.outbox.newest(), Some(expected.as_str()));
}

#[test]
fn every_event_names_the_full_current_props_of_its_user() {
    let mut tracker = tracker();
    tracker.set_user(Some(john()));
    let own = thread(ThreadUser {
        id: Some("user123".into()),
        props: None,
    });
    tracker.message(
        T0,
        &own,
        MSG,
        &raw(r#"{"role":"user","content":"a"}"#),
        None,
    );
    tracker.feedback(T0, MSG, false, &raw(r#"{"thumb":"down"}"#));
    tracker.log(T0, "info", Some("x"), None);
    for event in sent(&mut tracker) {
        assert_eq!(event["userId"], "user123");
        assert_eq!(
            event["userProps"],
            json!({"name":"John","email":"john@example.org"})
        );
    }
}

#[test]
fn a_thread_user_beats_the_identified_user() {
    let mut tracker = tracker();
    tracker.set_user(Some(john()));
    let ann = thread(ThreadUser {
        id: Some("ann".into()),
        props: Some(raw(r#"{"name":"Ann"}"#)),
    });
    tracker.message(
        T0,
        &ann,
        MSG,
        &raw(r#"{"role":"user","content":"a"}"#),
        None,
    );
    let event = &sent(&mut tracker)[0];
    assert_eq!(event["userId"], "ann");
    assert_eq!(event["userProps"], json!({"name":"Ann"}));
}

#[test]
fn timestamps_strictly_increase_across_calls() {
    let mut tracker = tracker();
    let open = thread(ThreadUser::default());
    for _ in 0..5 {
        tracker.message(
            T0,
            &open,
            MSG,
            &raw(r#"{"role":"user","content":null}"#),
            None,
        );
    }
    tracker.feedback(T0 - 10, MSG, true, &raw("{}"));
    let stamps: Vec<u64> = sent(&mut tracker)
        .iter()
        .map(|e| e["timestamp"].as_u64().expect("a number"))
        .collect();
    assert_eq!(stamps, [T0, T0 + 1, T0 + 2, T0 + 3, T0 + 4, T0 + 5]);
}

#[test]
fn the_readme_example_keeps_the_identified_email_on_thread_messages() {
    let mut tracker = tracker();
    tracker.set_user(Some(john()));
    let own = thread(ThreadUser {
        id: Some("user123".into()),
        props: Some(raw(r#"{"name":"John"}"#)),
    });
    tracker.message(
        T0,
        &own,
        MSG,
        &raw(r#"{"role":"user","content":"Hello"}"#),
        None,
    );
    let event = &sent(&mut tracker)[0];
    assert_eq!(
        event["userProps"],
        json!({"name":"John","email":"john@example.org"})
    );
}
