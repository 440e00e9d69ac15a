//! Many clients at once: nothing is lost or stored twice.

mod common;

use std::thread;

use common::{agent, run_event, TestServer, PROJECT};
use serde_json::{json, Value};

const CLIENTS: usize = 8;
const EVENTS_PER_CLIENT: usize = 500;
const BATCH: usize = 25;

#[test]
fn eight_clients_of_500_events_lose_nothing() {
    let server = TestServer::start(false);
    thread::scope(|scope| {
        for client in 0..CLIENTS {
            let server = &server;
            scope.spawn(move || {
                let agent = agent();
                let events: Vec<Value> = (0..EVENTS_PER_CLIENT)
                    .map(|n| run_event(&format!("c{client}-e{n}"), n as u64))
                    .collect();
                for chunk in events.chunks(BATCH) {
                    let body = json!({ "events": chunk }).to_string();
                    let reply = server
                        .try_ingest_raw(&agent, Some(PROJECT), "application/json", &body)
                        .expect("answered");
                    let results = reply.results();
                    assert_eq!(results.len(), chunk.len());
                    assert!(results.iter().all(|r| r["success"] == true));
                }
            });
        }
    });

    let total = CLIENTS * EVENTS_PER_CLIENT;
    let stats = server.stats();
    assert_eq!(stats["stored"], total);
    assert_eq!(stats["received"], total);
    assert_eq!(stats["duplicates"], 0);
    assert_eq!(stats["requests"], total / BATCH);
    let stored = server.stored_events();
    assert_eq!(stored.len(), total);
    let mut ids: Vec<_> = stored
        .iter()
        .map(|e| e["event"]["runId"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total);
}
