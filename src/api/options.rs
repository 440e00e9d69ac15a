//! `init(options)`: reading and checking the options object.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::args::{self, field, is_object};
use super::fields::Fields;
use crate::core::outbox::Policy;
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

/// What `init` was given, checked, with defaults filled in.
pub struct Settings {
    /// `publicKey`, else `appId` (the old name).
    pub key: Option<String>,
    pub api_url: String,
    pub verbose: bool,
    pub policy: Policy,
}

pub fn read(options: &JsValue) -> Result<Settings, ArgError> {
    if !is_object(options) {
        return Err(ArgError::new(OPTIONS, "an object ({ appId, apiUrl?, … })"));
    }
    let fields: &Fields = options.unchecked_ref();
    let public_key = args::optional_string(&field(fields.public_key(), PUBLIC_KEY)?, PUBLIC_KEY)?;
    let app_id = args::optional_string(&field(fields.app_id(), APP_ID)?, APP_ID)?;
    let api_url = args::optional_string(&field(fields.api_url(), API_URL)?, API_URL)?;
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
    Ok(Settings {
        key: public_key.or(app_id),
        api_url: api_url.unwrap_or_else(|| DEFAULT_API_URL.to_string()),
        verbose: verbose.unwrap_or(false),
        policy: Policy {
            max_batch: max_batch.map_or(defaults.max_batch, |n| n as usize),
            interval_ms: interval.unwrap_or(defaults.interval_ms),
            max_queue: max_queue.map_or(defaults.max_queue, |n| n as usize),
        },
    })
}
