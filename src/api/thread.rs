//! `openThread` and the `Thread` it returns: a conversation whose messages share a
//! parent run, tags, and (optionally) a user of their own.

use crate::prelude::*;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::args::{self, absent, field, is_object};
use super::fields::Fields;
use super::to_json::to_json;
use crate::browser::{clock, random, runtime};
use crate::core::identity::ThreadUser;
use crate::core::json::RawJson;
use crate::core::tracker;
use crate::error::{Arg, ArgError};

const OPEN_OPTIONS: Arg = Arg::new("openThread", "idOrOptions");
const OPEN_ID: Arg = Arg::new("openThread", "options.id");
const OPEN_USER_ID: Arg = Arg::new("openThread", "options.userId");
const OPEN_USER_PROPS: Arg = Arg::new("openThread", "options.userProps");
const OPEN_TAGS: Arg = Arg::new("openThread", "options.tags");
const MESSAGE: Arg = Arg::new("trackMessage", "message");
const MESSAGE_ROLE: Arg = Arg::new("trackMessage", "message.role");
const MESSAGE_ID: Arg = Arg::new("trackMessage", "message.id");
const MESSAGE_FEEDBACK: Arg = Arg::new("trackMessage", "message.feedback");
const EVENT_NAME: Arg = Arg::new("thread.trackEvent", "name");
const EVENT_METADATA: Arg = Arg::new("thread.trackEvent", "metadata");

/// A conversation. Its methods keep working when destructured
/// (`const { trackMessage } = thread`): the package entry binds them.
#[wasm_bindgen]
pub struct Thread {
    inner: tracker::Thread,
}

/// `openThread(idOrOptions?)`: a thread with the given id (or a new one), and optionally
/// its own user and tags.
#[wasm_bindgen(js_name = openThread)]
pub fn open_thread(
    #[wasm_bindgen(unchecked_param_type = "string | ThreadOptions")] id_or_options: Option<JsValue>,
) -> Result<Thread, JsValue> {
    let inner = thread_from(&id_or_options.unwrap_or(JsValue::UNDEFINED))?;
    runtime::with_tracker(|t| t.open_thread(&inner));
    Ok(Thread { inner })
}

fn thread_from(value: &JsValue) -> Result<tracker::Thread, ArgError> {
    let mut thread = tracker::Thread {
        id: String::new(),
        user: ThreadUser::default(),
        tags: None,
    };
    if let Some(id) = value.as_string() {
        thread.id = id;
    } else if is_object(value) {
        let options: &Fields = value.unchecked_ref();
        thread.id =
            args::optional_string(&field(options.id(), OPEN_ID)?, OPEN_ID)?.unwrap_or_default();
        thread.user.id =
            args::optional_string(&field(options.user_id(), OPEN_USER_ID)?, OPEN_USER_ID)?;
        let props = field(options.user_props(), OPEN_USER_PROPS)?;
        if args::optional_object(&props, OPEN_USER_PROPS)? {
            thread.user.props = to_json(&props, "openThread: options.userProps");
        }
        thread.tags = tags(&field(options.tags(), OPEN_TAGS)?)?;
    } else if !absent(value) {
        return Err(ArgError::new(
            OPEN_OPTIONS,
            "a string id or an options object",
        ));
    }
    if thread.id.is_empty() {
        thread.id = random::new_id();
    }
    Ok(thread)
}

/// `threadTags`: an array of strings, or not given. Checked on its JSON copy, a plain
/// array: the caller's may be a Proxy or have getters that throw.
fn tags(value: &JsValue) -> Result<Option<RawJson>, ArgError> {
    if absent(value) {
        return Ok(None);
    }
    let not_strings = ArgError::new(OPEN_TAGS, "an array of strings");
    if !args::is_array(value) {
        return Err(not_strings);
    }
    let text = js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| JsValue::from(text).as_string())
        .ok_or(not_strings)?;
    let copy = js_sys::JSON::parse(&text).map_err(|_| not_strings)?;
    let all_strings = copy
        .dyn_ref::<js_sys::Array>()
        .is_some_and(|array| array.iter().all(|tag| tag.is_string()));
    if !all_strings {
        return Err(not_strings);
    }
    Ok(Some(RawJson::trusted(text)))
}

#[wasm_bindgen]
impl Thread {
    /// The thread id (the `parentRunId` of its messages).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.id.clone()
    }

    /// Tracks a message; returns its id (the message's own `id`, or a new one), which is
    /// what `trackFeedback` must name.
    #[wasm_bindgen(js_name = trackMessage)]
    pub fn track_message(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Message")] message: JsValue,
    ) -> Result<String, JsValue> {
        if !is_object(&message) {
            return Err(ArgError::new(MESSAGE, "an object with a string role").into());
        }
        let fields: &Fields = message.unchecked_ref();
        let role = args::string(&field(fields.role(), MESSAGE_ROLE)?, MESSAGE_ROLE)?;
        let run_id = args::optional_string(&field(fields.id(), MESSAGE_ID)?, MESSAGE_ID)?
            .unwrap_or_else(random::new_id);
        let feedback_value = field(fields.feedback(), MESSAGE_FEEDBACK)?;
        let feedback = if args::optional_object(&feedback_value, MESSAGE_FEEDBACK)? {
            to_json(&feedback_value, "trackMessage: message.feedback")
        } else {
            None
        };
        let json = to_json(&message, "trackMessage: message")
            .unwrap_or_else(|| bare_message(&role, fields));
        let now = clock::now();
        let dropped = runtime::with_tracker(|t| {
            t.message(now, &self.inner, &run_id, &json, feedback.as_ref())
        });
        runtime::after_track(now, dropped.flatten());
        Ok(run_id)
    }

    /// Tracks a named event in this thread, with optional metadata.
    #[wasm_bindgen(js_name = trackEvent)]
    pub fn track_event(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] metadata: Option<JsValue>,
    ) -> Result<(), JsValue> {
        let name = args::string(&name, EVENT_NAME)?;
        let metadata = metadata.unwrap_or(JsValue::UNDEFINED);
        let metadata = if args::optional_object(&metadata, EVENT_METADATA)? {
            to_json(&metadata, "thread.trackEvent: metadata")
        } else {
            None
        };
        let run_id = random::new_id();
        let now = clock::now();
        let dropped = runtime::with_tracker(|t| {
            t.thread_event(now, &self.inner, &name, &run_id, metadata.as_ref())
        });
        runtime::after_track(now, dropped.flatten());
        Ok(())
    }
}

/// The message reduced to its role and content, for a message object that JSON cannot
/// carry as a whole (a cycle in `extra`, say).
fn bare_message(role: &str, fields: &Fields) -> RawJson {
    let content = fields
        .content()
        .ok()
        .and_then(|content| to_json(&content, "trackMessage: message.content"));
    let mut object = crate::core::json::ObjectWriter::with_capacity(64);
    object.string("role", role);
    match &content {
        Some(content) => object.raw("content", content),
        None => object.null("content"),
    }
    RawJson::trusted(object.finish())
}
