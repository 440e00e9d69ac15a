//! The shell against the real browser (headless Chromium, Firefox and WebKitGTK via
//! wasm-bindgen-test; `make test-wasm` runs each engine of `ENGINES`): ids, storage and its
//! fallbacks, the saved user, a real fetch to the project's collector, the keepalive budget
//! and Web Locks, and the README example through the exported API.
//!
//! Needs `LUNARY_COLLECTOR_URL` at build time (a running collector); `make test-wasm`
//! starts one and sets it.
#![cfg(target_arch = "wasm32")]

use std::collections::HashSet;

use lunary_wasm::browser::storage::{Backend, Store};
use lunary_wasm::browser::transport::{self, Endpoint};
use lunary_wasm::browser::{identity_store, random};
use lunary_wasm::core::identity::User;
use lunary_wasm::core::json::RawJson;
use lunary_wasm::core::outbox::{Reply, KEEPALIVE_BUDGET};
use lunary_wasm::core::uuid::is_uuid_v4;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
const proto = Storage.prototype;
const saved = { getItem: proto.getItem, setItem: proto.setItem, local: Object.getOwnPropertyDescriptor(window, "localStorage") };
export function breakStorageWrites() {
  proto.setItem = function () { throw new DOMException("full", "QuotaExceededError"); };
  proto.getItem = function () { throw new DOMException("full", "QuotaExceededError"); };
}
export function blockLocalStorage() {
  Object.defineProperty(window, "localStorage", { configurable: true, get() { throw new DOMException("blocked", "SecurityError"); } });
}
export function restoreStorage() {
  proto.getItem = saved.getItem;
  proto.setItem = saved.setItem;
  if (saved.local) Object.defineProperty(window, "localStorage", saved.local);
}
export function rawLocal(key) { return window.localStorage.getItem(key); }
export function rawSession(key) { return window.sessionStorage.getItem(key); }
export function writeLocal(key, value) { window.localStorage.setItem(key, value); }
export async function getJson(url) { const r = await fetch(url); return r.json(); }
export function lockWhileHeld(name) {
  return navigator.locks.request(name, () =>
    navigator.locks.request(name, { ifAvailable: true }, (lock) => (lock === null ? "refused while held" : "granted")));
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = breakStorageWrites)]
    fn break_storage_writes();
    #[wasm_bindgen(js_name = blockLocalStorage)]
    fn block_local_storage();
    #[wasm_bindgen(js_name = restoreStorage)]
    fn restore_storage();
    #[wasm_bindgen(js_name = rawLocal)]
    fn raw_local(key: &str) -> Option<String>;
    #[wasm_bindgen(js_name = rawSession)]
    fn raw_session(key: &str) -> Option<String>;
    #[wasm_bindgen(js_name = writeLocal)]
    fn write_local(key: &str, value: &str);
    #[wasm_bindgen(js_name = getJson)]
    fn get_json(url: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = lockWhileHeld)]
    fn lock_while_held(name: &str) -> js_sys::Promise;
}

const PROJECT: &str = "07ff1c3a-5a4b-4c4d-9e8f-0a1b2c3d4e5f";

fn collector_url() -> &'static str {
    option_env!("LUNARY_COLLECTOR_URL")
        .unwrap_or("http://127.0.0.1:9/LUNARY_COLLECTOR_URL-was-not-set-at-build")
}

fn get(value: &JsValue, path: &[&str]) -> JsValue {
    path.iter().fold(value.clone(), |value, key| {
        js_sys::Reflect::get(&value, &(*key).into()).unwrap_or(JsValue::UNDEFINED)
    })
}

#[wasm_bindgen_test]
fn ids_are_unique_v4_uuids() {
    let ids: Vec<String> = (0..2000).map(|_| random::new_id()).collect();
    assert!(
        ids.iter().all(|id| is_uuid_v4(id)),
        "not v4: {:?}",
        ids.iter().find(|id| !is_uuid_v4(id))
    );
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
}

#[wasm_bindgen_test]
fn storage_round_trips_through_local_storage() {
    let store = Store::default();
    store.set("lunary-test:round-trip", "value ✓");
    assert_eq!(store.backend(), Backend::Local);
    assert_eq!(
        raw_local("lunary-test:round-trip").as_deref(),
        Some("value ✓")
    );
    assert_eq!(
        store.get("lunary-test:round-trip").as_deref(),
        Some("value ✓")
    );
    store.remove("lunary-test:round-trip");
    assert_eq!(store.get("lunary-test:round-trip"), None);
    assert_eq!(store.fallbacks(), 0);
}

#[wasm_bindgen_test]
fn storage_falls_back_to_memory_when_every_storage_throws() {
    break_storage_writes();
    let store = Store::default();
    store.set("lunary-test:quota", "kept");
    let read = store.get("lunary-test:quota");
    restore_storage();
    assert_eq!(read.as_deref(), Some("kept"));
    assert_eq!(store.backend(), Backend::Memory);
    assert_eq!(store.fallbacks(), 2, "localStorage, then sessionStorage");
    assert_eq!(raw_local("lunary-test:quota"), None);
}

#[wasm_bindgen_test]
fn storage_falls_back_to_session_storage_when_local_storage_is_blocked() {
    block_local_storage();
    let store = Store::default();
    store.set("lunary-test:blocked", "in session");
    let read = store.get("lunary-test:blocked");
    restore_storage();
    assert_eq!(read.as_deref(), Some("in session"));
    assert_eq!(store.backend(), Backend::Session);
    assert_eq!(
        raw_session("lunary-test:blocked").as_deref(),
        Some("in session")
    );
    store.remove("lunary-test:blocked");
}

#[wasm_bindgen_test]
fn saved_user_round_trips_and_projects_do_not_mix() {
    let store = Store::default();
    let user = User {
        id: "user123".into(),
        props: Some(RawJson::trusted(
            r#"{"name":"John","email":"john@example.org"}"#.into(),
        )),
    };
    identity_store::save(&store, "project-a", &user);
    assert_eq!(identity_store::load(&store, "project-a"), Some(user));
    assert_eq!(identity_store::load(&store, "project-b"), None);
    identity_store::forget(&store, "project-a");
    assert_eq!(identity_store::load(&store, "project-a"), None);
}

#[wasm_bindgen_test]
fn a_corrupt_saved_user_is_discarded() {
    let store = Store::default();
    for corrupt in [
        "{not json",
        "42",
        r#"{"userId":7}"#,
        r#"{"userId":"u","userProps":"x"}"#,
    ] {
        write_local(&identity_store::user_key("corrupt"), corrupt);
        assert_eq!(
            identity_store::load(&store, "corrupt"),
            None,
            "accepted {corrupt}"
        );
        assert_eq!(
            raw_local(&identity_store::user_key("corrupt")),
            None,
            "kept {corrupt}"
        );
    }
}

#[wasm_bindgen_test]
async fn fetch_delivers_a_batch_to_the_collector() {
    let endpoint = Endpoint::new(collector_url(), PROJECT);
    let event = r#"{"event":"chat","type":"thread","userId":"wasm-test","timestamp":1764325200000,"runtime":"lunary-wasm/test","runId":"0b8e7f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b","parentRunId":"6f1c2b1e-8a52-4c3e-9a57-3c1d2e4f5a6b","message":{"role":"user","content":"hi"}}"#;
    let body =
        format!(r#"{{"events":[{event},{{"event":"nonsense","runId":"x","timestamp":1}}]}}"#);
    match transport::post(&endpoint, &body, false).await {
        Reply::Status {
            status: 200,
            results,
            ..
        } => {
            assert_eq!(results.len(), 2);
            assert!(
                results[1].success,
                "sorted by timestamp: the bad event comes first"
            );
            assert!(!results[0].success);
            assert!(results[0].error.is_some());
        }
        other => panic!("expected a 200 from the collector, got {other:?}"),
    }
    let not_a_uuid = Endpoint::new(collector_url(), "not-a-uuid");
    assert_eq!(
        transport::post(&not_a_uuid, &body, false).await,
        Reply::Status {
            status: 401,
            results: vec![],
            retry_after_ms: None
        }
    );
    let nowhere = Endpoint::new("http://127.0.0.1:9", PROJECT);
    assert_eq!(
        transport::post(&nowhere, &body, false).await,
        Reply::NetworkError
    );
}

/// What the shell relies on in every engine: a keepalive body up to 64 KiB goes, a larger
/// one is refused by the browser (`KEEPALIVE_BUDGET`), and Web Locks' `ifAvailable` is
/// refused while the lock is held (how a tab tells another is alive).
#[wasm_bindgen_test]
async fn the_engine_has_the_keepalive_budget_and_web_locks_the_shell_relies_on() {
    let endpoint = Endpoint::new(collector_url(), PROJECT);
    let body = |pad: usize| format!(r#"{{"events":[],"pad":"{}"}}"#, "x".repeat(pad));
    assert!(body(60_000).len() < KEEPALIVE_BUDGET && body(66_000).len() > KEEPALIVE_BUDGET);
    assert!(matches!(
        transport::post(&endpoint, &body(60_000), true).await,
        Reply::Status { status: 200, .. }
    ));
    assert_eq!(
        transport::post(&endpoint, &body(66_000), true).await,
        Reply::NetworkError,
        "a keepalive body over 64 KiB is refused by the browser"
    );
    assert!(matches!(
        transport::post(&endpoint, &body(66_000), false).await,
        Reply::Status { status: 200, .. }
    ));
    let lock: JsValue = JsFuture::from(lock_while_held("lunary-test:lock"))
        .await
        .unwrap();
    assert_eq!(lock.as_string().as_deref(), Some("refused while held"));
}

#[wasm_bindgen_test]
async fn the_readme_example_arrives_at_the_collector() {
    let project = random::new_id();
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"appId".into(), &project.as_str().into()).unwrap();
    js_sys::Reflect::set(&options, &"apiUrl".into(), &collector_url().into()).unwrap();
    lunary_wasm::api::init(options.into()).unwrap();

    let props = js_sys::JSON::parse(r#"{"name":"John","email":"john@example.org"}"#).unwrap();
    lunary_wasm::api::identify("user123".into(), Some(props)).unwrap();
    assert_eq!(lunary_wasm::api::get_user_id().as_deref(), Some("user123"));
    let thread_options = js_sys::JSON::parse(
        r#"{"userId":"user123","userProps":{"name":"John"},"tags":["support"]}"#,
    )
    .unwrap();
    let thread = lunary_wasm::api::open_thread(Some(thread_options)).unwrap();
    let question = thread
        .track_message(js_sys::JSON::parse(r#"{"role":"user","content":"Hello"}"#).unwrap())
        .unwrap();
    let answer = thread
        .track_message(
            js_sys::JSON::parse(r#"{"role":"assistant","content":"Hi John, how can I help?"}"#)
                .unwrap(),
        )
        .unwrap();
    let feedback = js_sys::JSON::parse(r#"{"thumb":"up","comment":"great"}"#).unwrap();
    lunary_wasm::api::track_feedback(answer.as_str().into(), feedback, None).unwrap();
    assert!(is_uuid_v4(&question) && is_uuid_v4(&answer) && is_uuid_v4(&thread.id()));
    let _: JsValue = JsFuture::from(lunary_wasm::api::flush()).await.unwrap();

    let url = format!("{}/api/events?project={project}", collector_url());
    let stored: JsValue = JsFuture::from(get_json(&url)).await.unwrap();
    let events: js_sys::Array = get(&stored, &["events"]).into();
    assert_eq!(events.length(), 3);
    let event = |i: u32| get(&events.get(i), &["event"]);
    assert_eq!(get(&event(0), &["runId"]).as_string(), Some(question));
    assert_eq!(
        get(&event(0), &["parentRunId"]).as_string(),
        Some(thread.id())
    );
    assert_eq!(
        get(&event(0), &["userProps", "name"])
            .as_string()
            .as_deref(),
        Some("John")
    );
    assert_eq!(
        json_text(&get(&event(0), &["threadTags"])),
        r#"["support"]"#
    );
    assert_eq!(
        get(&event(1), &["message", "role"]).as_string().as_deref(),
        Some("assistant")
    );
    assert_eq!(
        get(&event(2), &["event"]).as_string().as_deref(),
        Some("feedback")
    );
    assert!(get(&event(2), &["type"]).is_null());
    assert_eq!(get(&event(2), &["runId"]).as_string(), Some(answer));
    assert_eq!(
        get(&event(2), &["userProps", "email"])
            .as_string()
            .as_deref(),
        Some("john@example.org")
    );
    assert_eq!(
        get(&event(2), &["runtime"]).as_string().as_deref(),
        Some(lunary_wasm::core::event::RUNTIME)
    );

    // The identified user was saved under this project's key.
    let saved = raw_local(&identity_store::user_key(&project)).unwrap_or_default();
    assert!(saved.contains("\"userId\":\"user123\""), "saved: {saved}");
    lunary_wasm::api::reset();
    assert_eq!(lunary_wasm::api::get_user_id(), None);
    assert_eq!(raw_local(&identity_store::user_key(&project)), None);
}

/// A value as JSON text, for comparing small arrays.
fn json_text(value: &JsValue) -> String {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
fn init_refuses_plain_http_to_another_host() {
    let options = js_sys::JSON::parse(
        r#"{"appId":"07ff1c3a-5a4b-4c4d-9e8f-0a1b2c3d4e5f","apiUrl":"http://api.lunary.ai"}"#,
    )
    .unwrap();
    let error =
        lunary_wasm::api::init(options).expect_err("plain http to a remote host is refused");
    assert!(error.is_instance_of::<js_sys::TypeError>());
    let message = js_sys::Reflect::get(&error, &"message".into())
        .unwrap()
        .as_string()
        .unwrap_or_default();
    assert!(
        message.starts_with("lunary.init: options.apiUrl must be an https: URL"),
        "{message}"
    );
}
