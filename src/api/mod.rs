//! The JavaScript surface: lunary-js's browser API, call for call. Each export checks its
//! arguments (wrong kinds throw a `TypeError` naming the function and argument), turns
//! them into core types, and hands them to the runtime. Nothing else is done here.

use crate::prelude::*;

mod args;
mod fields;
mod options;
mod stats;
mod thread;
mod to_json;
mod types;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use self::args::{field, is_object};
use self::fields::{object_entries, Fields};
use self::to_json::to_json;
use crate::browser::{clock, random, runtime, transport::Endpoint, user};
use crate::core::identity::ThreadUser;
use crate::core::json::{ObjectWriter, RawJson, RawMembers};
use crate::core::merge;
use crate::error::{Arg, ArgError};

pub use self::stats::stats;
pub use self::thread::{open_thread, Thread};

const IDENTIFY_USER_ID: Arg = Arg::new("identify", "userId");
const IDENTIFY_USER_PROPS: Arg = Arg::new("identify", "userProps");
const FEEDBACK_RUN_ID: Arg = Arg::new("trackFeedback", "runId");
const FEEDBACK: Arg = Arg::new("trackFeedback", "feedback");
const FEEDBACK_OVERWRITE: Arg = Arg::new("trackFeedback", "overwrite");
const EVENT_TYPE: Arg = Arg::new("trackEvent", "type");
const EVENT_NAME: Arg = Arg::new("trackEvent", "event");
const EVENT_DATA: Arg = Arg::new("trackEvent", "data");
const EVENT_RUN_ID: Arg = Arg::new("trackEvent", "data.runId");
const EVENT_PARENT: Arg = Arg::new("trackEvent", "data.parentRunId");
const EVENT_USER_ID: Arg = Arg::new("trackEvent", "data.userId");
const EVENT_USER_PROPS: Arg = Arg::new("trackEvent", "data.userProps");

/// `init(options)`: the project key (`appId` or `publicKey`), `apiUrl`, `verbose` and
/// batching options. Calls made before `init` are kept and sent once it is called.
#[wasm_bindgen]
pub fn init(
    #[wasm_bindgen(unchecked_param_type = "InitOptions")] options: JsValue,
) -> Result<(), JsValue> {
    let settings = options::read(&options)?;
    crate::browser::report::set_hook(settings.on_error);
    match settings.key {
        Some(key) => runtime::configure(
            Endpoint::new(&settings.api_url, &key),
            settings.policy,
            settings.verbose,
            settings.respect_do_not_track,
        ),
        None => crate::browser::console::warn(&[
            "init was given no appId or publicKey; events are kept until init is called with one",
        ]),
    }
    Ok(())
}

/// `identify(userId, userProps?)`: the user every later event names, kept in storage so a
/// reload remembers them. Identifying the same user again merges the new props into the
/// known ones (the server replaces a user's props with each event's, so each event must
/// carry them all); a different user replaces the old one.
#[wasm_bindgen]
pub fn identify(
    #[wasm_bindgen(unchecked_param_type = "string")] user_id: JsValue,
    #[wasm_bindgen(unchecked_param_type = "UserProps")] user_props: Option<JsValue>,
) -> Result<(), JsValue> {
    let user_props = user_props.unwrap_or(JsValue::UNDEFINED);
    let props_text = if args::absent(&user_props) {
        Some(JsValue::UNDEFINED)
    } else {
        // Only text counts: a function or a symbol has none, and must get its TypeError.
        to_json::stringify(&user_props, "identify: userProps").filter(JsValue::is_string)
    };
    // The same call as the last one (compared in JS, nothing copied): nothing changes.
    if let Some(text) = &props_text {
        if user::repeats_last_identify(&user_id, text) {
            return Ok(());
        }
    }
    let id = args::string(&user_id, IDENTIFY_USER_ID)?;
    let props = if args::optional_object(&user_props, IDENTIFY_USER_PROPS)? {
        props_text
            .as_ref()
            .and_then(JsValue::as_string)
            .map(RawJson::trusted)
    } else {
        None
    };
    let same_next_time = props_text.map(|text| (user_id, text));
    user::identify(id, props, same_next_time);
    Ok(())
}

/// `reset()`: forgets the identified user (log out), in memory and in storage.
#[wasm_bindgen]
pub fn reset() {
    user::reset();
}

/// `optOut()`: stop tracking this user: nothing is stored or sent (the queue is cleared
/// and the saved user forgotten) until `optIn()`. Kept across reloads.
#[wasm_bindgen(js_name = optOut)]
pub fn opt_out() {
    user::set_opted_out(true);
}

/// `optIn()`: undo `optOut()`.
#[wasm_bindgen(js_name = optIn)]
pub fn opt_in() {
    user::set_opted_out(false);
}

/// `getUserId()`: the identified user's id, if any.
#[wasm_bindgen(js_name = getUserId)]
pub fn get_user_id() -> Option<String> {
    runtime::with_tracker(|t| t.user().map(|user| user.id.clone())).flatten()
}

/// `trackFeedback(runId, feedback, overwrite?)`: feedback on a message (the id
/// `trackMessage` returned) or run.
#[wasm_bindgen(js_name = trackFeedback)]
pub fn track_feedback(
    #[wasm_bindgen(unchecked_param_type = "string")] run_id: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Feedback")] feedback: JsValue,
    #[wasm_bindgen(unchecked_param_type = "boolean")] overwrite: Option<JsValue>,
) -> Result<(), JsValue> {
    let run_id = args::string(&run_id, FEEDBACK_RUN_ID)?;
    if !is_object(&feedback) {
        return Err(ArgError::new(FEEDBACK, args::OBJECT).into());
    }
    let overwrite =
        args::optional_bool(&overwrite.unwrap_or(JsValue::UNDEFINED), FEEDBACK_OVERWRITE)?;
    let feedback = to_json(&feedback, "trackFeedback: feedback")
        .unwrap_or_else(|| RawJson::trusted("{}".into()));
    let now = clock::now();
    let dropped =
        runtime::with_tracker(|t| t.feedback(now, &run_id, overwrite.unwrap_or(false), &feedback));
    runtime::after_track(now, dropped.flatten());
    Ok(())
}

/// `trackEvent(type, event, data?)`: any other run event. `data.runId` (else a new id),
/// `data.parentRunId`, `data.userId` and `data.userProps` are used as such; `event`,
/// `type`, `timestamp` and `runtime` in `data` are ignored (the SDK sets them); every
/// other field of `data` is sent after them in its order.
#[wasm_bindgen(js_name = trackEvent)]
pub fn track_event(
    #[wasm_bindgen(unchecked_param_type = "string | null")] run_type: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] event: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] data: Option<JsValue>,
) -> Result<(), JsValue> {
    let run_type = if run_type.is_null() {
        None
    } else {
        Some(args::string(&run_type, EVENT_TYPE)?)
    };
    let event = args::string(&event, EVENT_NAME)?;
    let data = data.unwrap_or(JsValue::UNDEFINED);
    let mut custom = CustomData::default();
    if args::optional_object(&data, EVENT_DATA)? {
        let whole = (!has_to_json(&data)).then(|| data_json(&data)).flatten();
        match whole.as_deref().and_then(merge::members) {
            Some(members) => custom.read_json(&members)?,
            None => custom.read_entries(&data)?,
        }
    }
    let CustomData {
        run_id,
        parent,
        user,
        fields,
    } = custom;
    let run_id = run_id.unwrap_or_else(random::new_id);
    let now = clock::now();
    let dropped = runtime::with_tracker(|t| {
        t.custom(
            now,
            run_type.as_deref(),
            &event,
            &run_id,
            &user,
            parent.as_deref(),
            &fields,
        )
    });
    runtime::after_track(now, dropped.flatten());
    Ok(())
}

/// What `trackEvent`'s `data` holds: the fields the SDK uses, and the app's own.
#[derive(Default)]
struct CustomData {
    run_id: Option<String>,
    parent: Option<String>,
    user: ThreadUser,
    fields: RawMembers,
}

impl CustomData {
    /// From the members of `JSON.stringify(data)`: one call into the browser for the
    /// whole object, its fields copied as the text it made.
    fn read_json(&mut self, members: &[(&str, &str)]) -> Result<(), ArgError> {
        for &(key, value) in members {
            match key {
                r#""runId""# => self.run_id = json_string(value, EVENT_RUN_ID)?,
                r#""parentRunId""# => self.parent = json_string(value, EVENT_PARENT)?,
                r#""userId""# => self.user.id = json_string(value, EVENT_USER_ID)?,
                r#""userProps""# => match value.as_bytes().first() {
                    Some(b'{') => self.user.props = Some(RawJson::trusted(value.into())),
                    _ if value == "null" => {}
                    _ => return Err(ArgError::new(EVENT_USER_PROPS, args::OBJECT)),
                },
                r#""event""# | r#""type""# | r#""timestamp""# | r#""runtime""# => {}
                // As lunary-js (and the per-field path): null fields are left out.
                _ if value == "null" => {}
                _ => self.fields.push_text(key, value),
            }
        }
        Ok(())
    }

    /// Field by field (`Object.entries`), when the whole object cannot be serialized at
    /// once (a cycle or a BigInt in one field, a `toJSON`): a field that fails is left out
    /// with a warning, the others are sent.
    fn read_entries(&mut self, data: &JsValue) -> Result<(), ArgError> {
        let entries: js_sys::Array = field(object_entries(data), EVENT_DATA)?.unchecked_into();
        for entry in entries.iter() {
            let entry: js_sys::Array = entry.unchecked_into();
            let (key, value) = (entry.get(0).as_string().unwrap_or_default(), entry.get(1));
            if args::absent(&value) {
                continue;
            }
            match key.as_str() {
                "runId" => self.run_id = args::optional_string(&value, EVENT_RUN_ID)?,
                "parentRunId" => self.parent = args::optional_string(&value, EVENT_PARENT)?,
                "userId" => self.user.id = args::optional_string(&value, EVENT_USER_ID)?,
                "userProps" => {
                    args::optional_object(&value, EVENT_USER_PROPS)?;
                    self.user.props = to_json(&value, "trackEvent: data.userProps");
                }
                "event" | "type" | "timestamp" | "runtime" => {}
                _ => {
                    if let Some(json) = to_json(&value, "trackEvent: a data field") {
                        self.fields.push(&key, &json);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whether `data` has a `toJSON` (then `JSON.stringify(data)` is not its fields).
fn has_to_json(data: &JsValue) -> bool {
    data.unchecked_ref::<Fields>()
        .to_json()
        .map_or(true, |value| !args::absent(&value))
}

/// `JSON.stringify(data)`, or `None` if it throws (the fields are then read one by one).
fn data_json(data: &JsValue) -> Option<String> {
    js_sys::JSON::stringify(data)
        .ok()
        .and_then(|text| JsValue::from(text).as_string())
}

/// A string field's JSON text as the string (`null`, or `""`: not given).
fn json_string(value: &str, at: Arg) -> Result<Option<String>, ArgError> {
    if value == "null" {
        return Ok(None);
    }
    let text = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) if !inner.contains('\\') => Some(inner.to_string()),
        Some(_) => js_sys::JSON::parse(value).ok().and_then(|v| v.as_string()),
        None => None,
    };
    match text {
        Some(text) => Ok(Some(text).filter(|text| !text.is_empty())),
        None => Err(ArgError::new(at, "a string")),
    }
}

/// `info(message, extra?)`: a log line, attached to the latest opened thread.
#[wasm_bindgen]
pub fn info(
    #[wasm_bindgen(unchecked_param_type = "string")] message: JsValue,
    #[wasm_bindgen(unchecked_param_type = "unknown")] extra: Option<JsValue>,
) -> Result<(), JsValue> {
    log("info", message, extra)
}

/// `warn(message, extra?)`: a warning log line.
#[wasm_bindgen]
pub fn warn(
    #[wasm_bindgen(unchecked_param_type = "string")] message: JsValue,
    #[wasm_bindgen(unchecked_param_type = "unknown")] extra: Option<JsValue>,
) -> Result<(), JsValue> {
    log("warn", message, extra)
}

/// `error(message, error?)`: an error log line. As in lunary-js, an `Error` may be passed
/// alone; an `Error` is sent as its `message` and `stack`.
#[wasm_bindgen]
pub fn error(
    #[wasm_bindgen(unchecked_param_type = "string | Error")] message: JsValue,
    #[wasm_bindgen(unchecked_param_type = "unknown")] extra: Option<JsValue>,
) -> Result<(), JsValue> {
    if message.is_string() {
        return log("error", message, extra);
    }
    if !is_object(&message) {
        return Err(ArgError::new(Arg::new("error", "message"), "a string or an Error").into());
    }
    let text = message
        .unchecked_ref::<Fields>()
        .message()
        .ok()
        .filter(JsValue::is_string);
    log("error", text.unwrap_or(JsValue::UNDEFINED), Some(message))
}

fn log(level: &'static str, message: JsValue, extra: Option<JsValue>) -> Result<(), JsValue> {
    let at = Arg::new(level, "message");
    let message = match message.as_string() {
        Some(text) => Some(text),
        None if message.is_undefined() => None,
        None => return Err(ArgError::new(at, "a string").into()),
    };
    let extra = extra.and_then(|extra| match extra.dyn_ref::<js_sys::Error>() {
        Some(error) => Some(error_json(error)),
        None => to_json(&extra, "log: extra"),
    });
    let now = clock::now();
    let dropped = runtime::with_tracker(|t| t.log(now, level, message.as_deref(), extra.as_ref()));
    runtime::after_track(now, dropped.flatten());
    Ok(())
}

/// An `Error` as `{"message":…,"stack":…}` (`JSON.stringify` would give `{}`).
fn error_json(error: &js_sys::Error) -> RawJson {
    let fields: &Fields = error.unchecked_ref();
    let mut object = ObjectWriter::with_capacity(128);
    object.string_opt(
        "message",
        fields.message().ok().and_then(|m| m.as_string()).as_deref(),
    );
    object.string_opt(
        "stack",
        fields.stack().ok().and_then(|s| s.as_string()).as_deref(),
    );
    RawJson::trusted(object.finish())
}

/// `flush()`: resolves once everything tracked before the call has been answered by the
/// server. It never rejects.
#[wasm_bindgen(unchecked_return_type = "Promise<void>")]
pub fn flush() -> js_sys::Promise {
    runtime::flush()
}
