//! Sending a batch: `POST {apiUrl}/v1/runs/ingest` with the project key in the
//! `Authorization` header (the only place the server reads it), no cookies, and reading
//! the answer into what the core understands.

use crate::prelude::*;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::core::outbox::{EventResult, Reply};
use crate::core::retry::parse_retry_after;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = fetch)]
    fn fetch_with_init(url: &str, init: &web_sys::RequestInit) -> Result<js_sys::Promise, JsValue>;
}

/// Where and as whom to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The full ingest URL.
    pub url: String,
    /// The project's public key (a UUID).
    pub key: String,
}

impl Endpoint {
    /// The ingest endpoint under `api_url` (a trailing `/` is ignored).
    pub fn new(api_url: &str, key: &str) -> Self {
        let mut url = String::from(api_url.trim_end_matches('/'));
        url.push_str("/v1/runs/ingest");
        Endpoint {
            url,
            key: key.to_string(),
        }
    }
}

/// Starts a POST of a JSON body now (while the page goes away there may be no later
/// turn to start it in); `answer` reads what comes back.
pub fn start(endpoint: &Endpoint, body: &str, keepalive: bool) -> Result<js_sys::Promise, JsValue> {
    let headers = js_sys::Object::new();
    js_sys::Reflect::set(&headers, &"Content-Type".into(), &"application/json".into())?;
    let mut authorization = String::from("Bearer ");
    authorization.push_str(&endpoint.key);
    js_sys::Reflect::set(&headers, &"Authorization".into(), &authorization.into())?;

    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(body));
    init.set_credentials(web_sys::RequestCredentials::Omit);
    if keepalive {
        // Not in web-sys's stable API; a plain dictionary member.
        js_sys::Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE)?;
    }
    fetch_with_init(&endpoint.url, &init)
}

/// The answer to a started request (`Retry-After` too, where CORS lets the page see
/// it). Never fails: a network error is a `Reply` too.
pub async fn answer(started: Result<js_sys::Promise, JsValue>) -> Reply {
    match read(started).await {
        Ok(reply) => reply,
        Err(_) => Reply::NetworkError,
    }
}

async fn read(started: Result<js_sys::Promise, JsValue>) -> Result<Reply, JsValue> {
    let response: JsValue = JsFuture::from(started?).await?;
    let response: web_sys::Response = response.dyn_into()?;
    let status = response.status();
    let retry_after_ms = response
        .headers()
        .get("Retry-After")
        .ok()
        .flatten()
        .and_then(|value| parse_retry_after(&value, super::clock::now()));
    let results = if response.ok() {
        let text: JsValue = JsFuture::from(response.text()?)
            .await
            .unwrap_or(JsValue::UNDEFINED);
        text.as_string()
            .map(|text| read_results(&text))
            .unwrap_or_default()
    } else {
        // Read anyway: Chromium keeps counting a keepalive request against the page's
        // budget while its answer's body is unread.
        if let Ok(text) = response.text() {
            let _ = JsFuture::from(text).await;
        }
        Vec::new()
    };
    Ok(Reply::Status {
        status,
        results,
        retry_after_ms,
    })
}

/// `start` and `answer` in one.
pub async fn post(endpoint: &Endpoint, body: &str, keepalive: bool) -> Reply {
    answer(start(endpoint, body, keepalive)).await
}

/// The `results` of a 200 answer; an unreadable body yields none (all accepted).
pub fn read_results(text: &str) -> Vec<EventResult> {
    let Ok(parsed) = js_sys::JSON::parse(text) else {
        return Vec::new();
    };
    let Ok(results) = js_sys::Reflect::get(&parsed, &"results".into()) else {
        return Vec::new();
    };
    let Some(results) = results.dyn_ref::<js_sys::Array>() else {
        return Vec::new();
    };
    results
        .iter()
        .map(|result| {
            let field = |name: &str| {
                js_sys::Reflect::get(&result, &name.into()).unwrap_or(JsValue::UNDEFINED)
            };
            let error = field("error");
            EventResult {
                success: field("success").as_bool().unwrap_or(true),
                error: error.as_string().or_else(|| {
                    (!error.is_undefined() && !error.is_null())
                        .then(|| {
                            js_sys::JSON::stringify(&error)
                                .ok()
                                .and_then(|s| s.as_string())
                        })
                        .flatten()
                }),
            }
        })
        .collect()
}
