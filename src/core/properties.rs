//! Property tests of the core: for any input the rules must hold, not only for the
//! examples in the unit tests.

use crate::prelude::*;
use proptest::prelude::*;
use serde_json::{Map, Value};

use super::identity::{ThreadUser, User};
use super::json::{push_string, RawJson};
use super::merge::merge_objects;
use super::outbox::{Next, Policy};
use super::persisted;
use super::queue::Queue;
use super::retry::RetryPolicy;
use super::tracker::{Thread, Tracker};

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Any JSON object.
fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(any::<String>(), json_value(), 0..8)
        .prop_map(|map| map.into_iter().collect())
}

fn raw(value: &Value) -> RawJson {
    RawJson::trusted(value.to_string())
}

fn raw_object(object: &Map<String, Value>) -> RawJson {
    raw(&Value::Object(object.clone()))
}

proptest! {
    #[test]
    fn any_string_escapes_to_json_that_parses_back_to_it(text in any::<String>()) {
        let mut out = String::new();
        push_string(&mut out, &text);
        let parsed: String = serde_json::from_str(&out).expect("valid JSON");
        prop_assert_eq!(parsed, text);
    }

    #[test]
    fn any_accepted_message_serializes_to_json_with_the_same_content(
        user_id in any::<String>(),
        props in json_object(),
        thread_id in any::<String>(),
        run_id in any::<String>(),
        role in any::<String>(),
        content in json_value(),
        tags in prop::collection::vec(any::<String>(), 0..4),
        now in any::<u64>(),
    ) {
        let mut tracker = Tracker::new(Policy::default());
        tracker.outbox.set_enabled(true);
        tracker.set_user(Some(User { id: user_id.clone(), props: Some(raw_object(&props)) }));
        let message = serde_json::json!({"role": role, "content": content});
        let thread = Thread { id: thread_id.clone(), user: ThreadUser::default(), tags: Some(raw(&serde_json::json!(tags))) };
        tracker.message(now, &thread, &run_id, &raw(&message), None);
        let Next::Send(request) = tracker.outbox.next(u64::MAX) else {
            return Err(TestCaseError::fail("nothing sent"));
        };
        let body: Value = serde_json::from_str(&request.body).expect("the body is JSON");
        let event = &body["events"][0];
        prop_assert_eq!(&event["userId"], &Value::String(user_id));
        prop_assert_eq!(&event["userProps"], &Value::Object(props));
        prop_assert_eq!(&event["parentRunId"], &Value::String(thread_id));
        prop_assert_eq!(&event["runId"], &Value::String(run_id));
        prop_assert_eq!(&event["threadTags"], &serde_json::json!(tags));
        prop_assert_eq!(&event["message"], &message);
        prop_assert_eq!(event["timestamp"].as_u64(), Some(now));
    }

    #[test]
    fn merging_is_object_assign(base in json_object(), overlay in json_object()) {
        let merged: Value = serde_json::from_str(merge_objects(&raw_object(&base), &raw_object(&overlay)).as_str()).expect("valid JSON");
        let mut expected = base.clone();
        for (key, value) in overlay {
            expected.insert(key, value);
        }
        prop_assert_eq!(merged, Value::Object(expected));
    }

    #[test]
    fn queue_operations_never_exceed_the_bounds(
        max_events in 1usize..20,
        max_bytes in 1usize..400,
        ops in prop::collection::vec((0u8..3, 0usize..60), 1..80),
    ) {
        let mut queue = Queue::new(max_events, max_bytes);
        let mut held = Vec::new();
        for (op, size) in ops {
            match op {
                0 => { queue.push("x".repeat(size)); }
                1 => held.push(queue.take_batch(size * 4, size / 3 + 1)),
                _ => { if let Some(batch) = held.pop() { queue.put_back(batch); } }
            }
            prop_assert!(queue.len() <= max_events || queue.len() == 1);
            prop_assert!(queue.bytes() <= max_bytes || queue.len() == 1);
            let seqs: Vec<u64> = queue.iter().map(|entry| entry.seq).collect();
            prop_assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "in order: {:?}", seqs);
        }
    }

    #[test]
    fn the_retry_schedule_is_monotone_and_capped(
        base in 1u64..10_000,
        cap in 1u64..200_000,
        random in 0.0f64..1.0,
    ) {
        let policy = RetryPolicy { base_ms: base, cap_ms: cap, rate_limit_ms: 60_000 };
        let mut previous = 0;
        for failures in 1..70 {
            let ceiling = policy.ceiling_ms(failures);
            prop_assert!(ceiling >= previous, "monotone");
            prop_assert!(ceiling <= cap, "capped");
            prop_assert!(policy.wait_ms(failures, random, Some(503), None) <= ceiling);
            previous = ceiling;
        }
    }

    #[test]
    fn persisted_queues_round_trip(now in any::<u64>(), events in prop::collection::vec(json_object(), 0..10)) {
        let lines: Vec<String> = events.iter().map(|event| Value::Object(event.clone()).to_string()).collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let text = persisted::encode(now, &refs);
        let (written, decoded) = persisted::decode(&text).expect("decodes");
        prop_assert_eq!(written, now);
        prop_assert_eq!(decoded, refs);
    }
}
