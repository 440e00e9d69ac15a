//! `init(options)`: reading and checking the options object.

use crate::prelude::*;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::args::{self, field, is_object};
use super::fields::Fields;
use crate::core::api_url;
use crate::core::outbox::Policy;
use crate::core::retry::RetryPolicy;
use crate::error::{Arg, ArgError};

/// Lunary cloud's API, used when `apiUrl` is not given.
pub const DEFAULT_API_URL: &str = "https://api.lunary.ai";

const OPTIONS: Arg = Arg::new("init", "options");
const APP_ID: Arg = Arg::new("init", "options.appId");
const PUBLIC_KEY: Arg = Arg::new("init", "options.publicKey");
const API_URL: Arg = Arg::new("init", "options.apiUrl");
const VERBOSE: Arg = Arg::new("init", "options.verbose");
const MAX_BATCH_SIZE: Arg = Arg::new("init", "options.maxBatchSize");
const FLUSH_INTERVAL: Arg = Arg::new("init", "options.flushIntervalMs");
const MAX_QUEUE_SIZE: Arg = Arg::new("init", "options.maxQueueSize");
const MAX_QUEUE_BYTES: Arg = Arg::new("init", "options.maxQueueBytes");
const MAX_EVENT_BYTES: Arg = Arg::new("init", "options.maxEventBytes");
const RETRY_BASE: Arg = Arg::new("init", "options.retryBaseMs");
const RETRY_MAX: Arg = Arg::new("init", "options.retryMaxMs");
const ON_ERROR: Arg = Arg::new("init", "options.onError");
const RESPECT_DNT: Arg = Arg::new("init", "options.respectDoNotTrack");

/// What `init` was given, checked, with defaults filled in.
pub struct Settings {
    /// `publicKey`, else `appId` (the old name).
    pub key: Option<String>,
    pub api_url: String,
    pub verbose: bool,
    pub policy: Policy,
    /// Called with a report for every dropped event and failed request.
    pub on_error: Option<js_sys::Function>,
    /// Track nothing when the browser sends Do Not Track or Global Privacy Control.
    pub respect_do_not_track: bool,
}

pub fn read(options: &JsValue) -> Result<Settings, ArgError> {
    if !is_object(options) {
        return Err(ArgError::new(OPTIONS, "an object ({ appId, apiUrl?, … })"));
    }
    let fields: &Fields = options.unchecked_ref();
    let public_key = args::optional_string(&field(fields.public_key(), PUBLIC_KEY)?, PUBLIC_KEY)?;
    let app_id = args::optional_string(&field(fields.app_id(), APP_ID)?, APP_ID)?;
    let api_url = args::optional_string(&field(fields.api_url(), API_URL)?, API_URL)?;
    if api_url
        .as_deref()
        .is_some_and(|url| !api_url::is_allowed(url))
    {
        return Err(ArgError::new(
            API_URL,
            "an https: URL (plain http: only to localhost, 127.0.0.1 or [::1])",
        ));
    }
    let verbose = args::optional_bool(&field(fields.verbose(), VERBOSE)?, VERBOSE)?;
    let defaults = Policy::default();
    let whole = "a whole number of at least 1";
    let max_batch = args::optional_count(
        &field(fields.max_batch_size(), MAX_BATCH_SIZE)?,
        MAX_BATCH_SIZE,
        1.0,
        whole,
    )?;
    let interval = args::optional_count(
        &field(fields.flush_interval_ms(), FLUSH_INTERVAL)?,
        FLUSH_INTERVAL,
        0.0,
        "a whole number of milliseconds",
    )?;
    let max_queue = args::optional_count(
        &field(fields.max_queue_size(), MAX_QUEUE_SIZE)?,
        MAX_QUEUE_SIZE,
        1.0,
        whole,
    )?;
    let max_queue_bytes = args::optional_count(
        &field(fields.max_queue_bytes(), MAX_QUEUE_BYTES)?,
        MAX_QUEUE_BYTES,
        1.0,
        whole,
    )?;
    let max_event_bytes = args::optional_count(
        &field(fields.max_event_bytes(), MAX_EVENT_BYTES)?,
        MAX_EVENT_BYTES,
        1.0,
        whole,
    )?;
    let ms = "a whole number of milliseconds";
    let retry_base = args::optional_count(
        &field(fields.retry_base_ms(), RETRY_BASE)?,
        RETRY_BASE,
        0.0,
        ms,
    )?;
    let retry_max = args::optional_count(
        &field(fields.retry_max_ms(), RETRY_MAX)?,
        RETRY_MAX,
        0.0,
        ms,
    )?;
    let respect_do_not_track = args::optional_bool(
        &field(fields.respect_do_not_track(), RESPECT_DNT)?,
        RESPECT_DNT,
    )?;
    let on_error = field(fields.on_error(), ON_ERROR)?;
    let on_error = if args::absent(&on_error) {
        None
    } else {
        Some(
            on_error
                .dyn_into::<js_sys::Function>()
                .map_err(|_| ArgError::new(ON_ERROR, "a function"))?,
        )
    };
    let retry = RetryPolicy {
        base_ms: retry_base.unwrap_or(defaults.retry.base_ms),
        cap_ms: retry_max.unwrap_or(defaults.retry.cap_ms),
        rate_limit_ms: retry_max.map_or(defaults.retry.rate_limit_ms, |max| {
            max.min(defaults.retry.rate_limit_ms)
        }),
    };
    Ok(Settings {
        key: public_key.or(app_id),
        api_url: api_url.unwrap_or_else(|| DEFAULT_API_URL.to_string()),
        verbose: verbose.unwrap_or(false),
        policy: Policy {
            max_batch: max_batch.map_or(defaults.max_batch, size),
            interval_ms: interval.unwrap_or(defaults.interval_ms),
            max_queue: max_queue.map_or(defaults.max_queue, size),
            max_queue_bytes: max_queue_bytes.map_or(defaults.max_queue_bytes, size),
            max_event_bytes: max_event_bytes.map_or(defaults.max_event_bytes, size),
            retry,
        },
        on_error,
        respect_do_not_track: respect_do_not_track.unwrap_or(false),
    })
}

/// A count as a size; past what this platform can count (2^32 on wasm32), the largest.
fn size(count: u64) -> usize {
    usize::try_from(count).unwrap_or(usize::MAX)
}
