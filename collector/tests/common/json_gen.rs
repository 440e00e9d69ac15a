//! JSON for the fuzz tests: generated as a small tree, printed as text, and read by a model of
//! the real server (`JSON.parse`, then its ingest code, with the per-event checks the collector's
//! README lists), so that a test can say what the answer to a body must be.
//!
//! Deep nesting is one [`Json::Deep`] node, printed by a loop: neither the generator, nor the
//! model, nor dropping the tree recurses through its levels. Shared by the native fuzz of the
//! ingest handler (`src/ingest_fuzz.rs`) and the fuzz over HTTP (`tests/http_fuzz.rs`).

#![allow(dead_code)] // each user takes a different part

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

/// A JSON string: its text as sent (quotes and escapes included) and the UTF-16 code units
/// `JSON.parse` makes of it (lone surrogates included).
#[derive(Debug, Clone, PartialEq)]
pub struct JStr {
    pub text: String,
    pub units: Vec<u16>,
}

impl JStr {
    pub fn plain(value: &str) -> JStr {
        JStr {
            text: serde_json::to_string(value).unwrap_or_default(),
            units: value.encode_utf16().collect(),
        }
    }

    pub fn is(&self, value: &str) -> bool {
        self.units.iter().copied().eq(value.encode_utf16())
    }

    /// The string as a database (or the collector) keeps it: lone surrogates become U+FFFD.
    pub fn lossy(&self) -> String {
        String::from_utf16_lossy(&self.units)
    }
}

/// What a value is, as `typeof` and `Array.isArray` tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// The number's text, and its value as `JSON.parse` reads it (infinite past `f64`).
    Number(String, f64),
    Str(JStr),
    Array(Vec<Json>),
    Object(Vec<(JStr, Json)>),
    /// `levels` (at least 1) arrays `[…]`, or objects `{"a":…}`, around `inner`.
    Deep {
        levels: usize,
        objects: bool,
        inner: Box<Json>,
    },
}

impl Json {
    pub fn str(value: &str) -> Json {
        Json::Str(JStr::plain(value))
    }

    pub fn number(text: &str) -> Json {
        Json::Number(text.to_string(), text.parse().unwrap_or(f64::NAN))
    }

    pub fn object(members: Vec<(&str, Json)>) -> Json {
        Json::Object(
            members
                .into_iter()
                .map(|(key, value)| (JStr::plain(key), value))
                .collect(),
        )
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Json::Number(text, _) => out.push_str(text),
            Json::Str(string) => out.push_str(&string.text),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&key.text);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
            Json::Deep {
                levels,
                objects,
                inner,
            } => {
                let (open, close) = if *objects {
                    (r#"{"a":"#, "}")
                } else {
                    ("[", "]")
                };
                out.push_str(&open.repeat(*levels));
                inner.write(out);
                out.push_str(&close.repeat(*levels));
            }
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Json::Null => Kind::Null,
            Json::Bool(_) => Kind::Bool,
            Json::Number(..) => Kind::Number,
            Json::Str(_) => Kind::String,
            Json::Array(_) | Json::Deep { objects: false, .. } => Kind::Array,
            Json::Object(_) | Json::Deep { objects: true, .. } => Kind::Object,
        }
    }

    /// A member of an object, the last one when the key repeats, as `JSON.parse` keeps it.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members
                .iter()
                .rev()
                .find(|(name, _)| name.is(key))
                .map(|(_, value)| value),
            Json::Deep {
                objects: true,
                levels,
                inner,
            } if key == "a" && *levels == 1 => Some(inner),
            // A deeper `{"a":…}` level has no node of its own; the model never asks for "a".
            _ => None,
        }
    }

    /// The elements of an array.
    pub fn elements(&self) -> Option<Vec<Json>> {
        match self {
            Json::Array(items) => Some(items.clone()),
            Json::Deep {
                objects: false,
                levels,
                inner,
            } => Some(vec![if *levels <= 1 {
                (**inner).clone()
            } else {
                Json::Deep {
                    levels: levels - 1,
                    objects: false,
                    inner: inner.clone(),
                }
            }]),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&JStr> {
        match self {
            Json::Str(string) => Some(string),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            Json::Number(_, value) => Some(*value),
            _ => None,
        }
    }

    /// `!value` in JavaScript.
    pub fn is_falsy(&self) -> bool {
        match self {
            Json::Null | Json::Bool(false) => true,
            Json::Number(_, value) => *value == 0.0,
            Json::Str(string) => string.units.is_empty(),
            _ => false,
        }
    }
}

// ---- the model of the answer ----------------------------------------------------------------

/// What the real server answers a JSON body sent with a valid key.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// 400: only objects and arrays are JSON bodies.
    Malformed,
    /// 500 `Missing events payload.`
    MissingEvents,
    /// 200, one `(id, success)` per event in the order applied.
    Results(Vec<(Option<String>, bool)>),
}

pub fn expected_answer(body: &Json) -> Answer {
    match body.kind() {
        Kind::Object => {}
        Kind::Array => return Answer::MissingEvents,
        _ => return Answer::Malformed,
    }
    let Some(events) = body.get("events").filter(|events| !events.is_falsy()) else {
        return Answer::MissingEvents;
    };
    let items = events.elements().unwrap_or_else(|| vec![events.clone()]);
    // Sorted by timestamp, stable, events without a numeric one first; an item that is an array
    // of one element is that element, taken after the sort.
    let mut keyed: Vec<(f64, Json)> = items
        .into_iter()
        .map(|item| match item.elements() {
            Some(mut only) if only.len() == 1 => (f64::NEG_INFINITY, only.remove(0)),
            _ => (
                item.get("timestamp")
                    .and_then(Json::as_number)
                    .unwrap_or(f64::NEG_INFINITY),
                item,
            ),
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    Answer::Results(
        keyed
            .iter()
            .map(|(_, event)| {
                let id = event.get("runId").and_then(Json::as_str).map(JStr::lossy);
                (id, is_valid_event(event))
            })
            .collect(),
    )
}

/// The per-event checks of the collector's README, on the model's own reading of the event.
pub fn is_valid_event(event: &Json) -> bool {
    if event.kind() != Kind::Object {
        return false;
    }
    let present = |key: &str| event.get(key).filter(|value| value.kind() != Kind::Null);
    let is_string = |value: &Json| value.kind() == Kind::String;
    let string_array = |value: &Json| {
        value
            .elements()
            .is_some_and(|items| items.iter().all(is_string))
    };
    let Some(name) = event.get("event").and_then(Json::as_str) else {
        return false;
    };
    let name = name.lossy();
    let kind = match present("type") {
        None if name == "feedback" => None,
        None => return false,
        Some(Json::Str(kind)) => Some(kind.lossy()),
        Some(_) => return false,
    };
    let is_log = kind.as_deref() == Some("log");
    let known: &[&str] = if is_log {
        &["info", "warn", "error"]
    } else {
        &[
            "start",
            "end",
            "error",
            "chat",
            "feedback",
            "custom-event",
            "update",
        ]
    };
    if !known.contains(&name.as_str()) {
        return false;
    }
    let parent = present("parentRunId");
    if parent.is_some_and(|parent| !is_string(parent)) {
        return false;
    }
    match present("runId") {
        Some(id) if is_string(id) => {}
        None if is_log => {}
        _ => return false,
    }
    if is_log && parent.is_none() {
        return false;
    }
    if !event
        .get("timestamp")
        .and_then(Json::as_number)
        .is_some_and(f64::is_finite)
    {
        return false;
    }
    if present("userId").is_some_and(|id| !is_string(id))
        || present("userProps").is_some_and(|props| props.kind() != Kind::Object)
        || present("tags").is_some_and(|tags| !string_array(tags))
        || present("threadTags").is_some_and(|tags| !string_array(tags))
    {
        return false;
    }
    if name == "chat"
        && !event
            .get("message")
            .and_then(|message| message.get("role"))
            .is_some_and(is_string)
    {
        return false;
    }
    if name == "feedback" && !present("feedback").is_some_and(|f| f.kind() == Kind::Object) {
        return false;
    }
    true
}

/// The body types the real server's parser reads as JSON (in a header value of visible ASCII).
pub fn is_json_content_type(value: &[u8]) -> bool {
    if !value
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        return false;
    }
    let Ok(value) = std::str::from_utf8(value) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence == "application/csp-report"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// What the answer to arbitrary bytes sent as JSON must be, judged by serde_json's `Value`
/// parser (a different code path from the collector's), when it can judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Empty: read as `{}`, so no `events`.
    Empty,
    /// Valid JSON, an object or an array: not a 400.
    Valid,
    /// Malformed, or not an object or array: a 400.
    Malformed,
    /// Past what `Value` can hold (deeper than 128, lone surrogates, numbers past `f64`), which
    /// `JSON.parse` takes: anything but a 400 for objects and arrays, unknown otherwise.
    BeyondValue,
}

pub fn verdict(bytes: &[u8]) -> Verdict {
    if bytes.is_empty() {
        return Verdict::Empty;
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) if value.is_object() || value.is_array() => Verdict::Valid,
        Ok(_) => Verdict::Malformed,
        Err(error) => {
            let message = error.to_string();
            if ["recursion limit", "surrogate", "hex escape", "out of range"]
                .iter()
                .any(|beyond| message.contains(beyond))
            {
                Verdict::BeyondValue
            } else {
                Verdict::Malformed
            }
        }
    }
}

// ---- generators -----------------------------------------------------------------------------

/// One piece of a string: its text inside the quotes, and its code units.
fn string_piece() -> BoxedStrategy<(String, Vec<u16>)> {
    prop_oneof![
        6 => any::<char>().prop_map(|c| {
            let text = match c {
                '"' => "\\\"".to_string(),
                '\\' => "\\\\".to_string(),
                c if u32::from(c) < 0x20 => format!("\\u{:04x}", u32::from(c)),
                c => c.to_string(),
            };
            (text, c.encode_utf16(&mut [0; 2]).to_vec())
        }),
        2 => select(&[
            ("\\n", 0x0a_u16), ("\\t", 0x09), ("\\r", 0x0d), ("\\b", 0x08), ("\\f", 0x0c),
            ("\\/", 0x2f), ("\\\"", 0x22), ("\\\\", 0x5c),
        ][..])
        .prop_map(|(text, unit)| (text.to_string(), vec![unit])),
        // Any code unit, lone surrogates ("\ud800") included, in either case of hex digit.
        2 => (any::<u16>(), any::<bool>()).prop_map(|(unit, upper)| {
            let text = if upper { format!("\\u{unit:04X}") } else { format!("\\u{unit:04x}") };
            (text, vec![unit])
        }),
        1 => (0xd800_u16..0xdc00, 0xdc00_u16..0xe000)
            .prop_map(|(high, low)| (format!("\\u{high:04x}\\u{low:04x}"), vec![high, low])),
    ]
    .boxed()
}

pub fn json_string() -> BoxedStrategy<JStr> {
    vec(string_piece(), 0..10)
        .prop_map(|pieces| {
            let mut text = String::from("\"");
            let mut units = Vec::new();
            for (piece, piece_units) in pieces {
                text.push_str(&piece);
                units.extend(piece_units);
            }
            text.push('"');
            JStr { text, units }
        })
        .boxed()
}

pub fn json_number() -> BoxedStrategy<Json> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| serde_json::to_string(&f).unwrap_or_default()),
        select(
            &[
                "0",
                "-0",
                "0.0",
                "-0.0e5",
                "1e400",
                "-1e400",
                "1E-400",
                "123456789012345678901234567890",
                "1.7976931348623157e308",
                "1.8e308",
                "5e-324",
                "0.1",
                "1e2",
            ][..]
        )
        .prop_map(String::from),
        "-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,4})?",
    ]
    .prop_map(|text| Json::number(&text))
    .boxed()
}

/// Object keys: the names the collector reads (so that they repeat), `__proto__` (also spelled
/// with escapes), and any string.
pub fn json_key() -> BoxedStrategy<JStr> {
    prop_oneof![
        3 => select(&[
            "type", "event", "runId", "parentRunId", "timestamp", "userId", "userProps", "tags",
            "threadTags", "message", "feedback", "role", "content", "events", "__proto__",
            "constructor", "prototype", "a", "",
        ][..])
        .prop_map(JStr::plain),
        1 => Just(JStr {
            text: r#""\u005f\u005fproto\u005F\u005F""#.to_string(),
            units: "__proto__".encode_utf16().collect(),
        }),
        2 => json_string(),
    ]
    .boxed()
}

fn json_leaf() -> BoxedStrategy<Json> {
    prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        json_number(),
        json_string().prop_map(Json::Str),
    ]
    .boxed()
}

/// Up to 12,000 levels of arrays or `{"a":…}` objects.
pub fn deep_json() -> BoxedStrategy<Json> {
    (
        prop_oneof![1_usize..200, 9_000_usize..12_001],
        any::<bool>(),
        json_leaf(),
    )
        .prop_map(|(levels, objects, inner)| Json::Deep {
            levels,
            objects,
            inner: Box::new(inner),
        })
        .boxed()
}

/// An array of up to 3,000 elements, or an object of up to 1,000 keys.
fn wide_json() -> BoxedStrategy<Json> {
    prop_oneof![
        (0_usize..3_000).prop_map(|n| Json::Array(vec![Json::number("1"); n])),
        (0_usize..1_000).prop_map(|n| {
            Json::Object(
                (0..n)
                    .map(|i| (JStr::plain(&format!("k{}", i % 700)), Json::Null))
                    .collect(),
            )
        }),
    ]
    .boxed()
}

/// Any JSON value: a few levels of anything, or very deep, or very wide.
pub fn json_value() -> BoxedStrategy<Json> {
    // Three levels of arrays and objects, built once here (`prop_recursive` would build its
    // strategy again for every value, which is most of the fuzz's time in a debug build).
    let mut tree = json_leaf();
    for _ in 0..3 {
        let inner = tree;
        tree = prop_oneof![
            3 => json_leaf(),
            1 => vec(inner.clone(), 0..5).prop_map(Json::Array),
            1 => vec((json_key(), inner), 0..5).prop_map(Json::Object),
        ]
        .boxed();
    }
    prop_oneof![40 => tree, 1 => deep_json(), 1 => wide_json()].boxed()
}

fn some_object() -> BoxedStrategy<Json> {
    prop_oneof![
        8 => vec((json_key(), json_value()), 0..4).prop_map(Json::Object),
        1 => deep_json().prop_map(|deep| Json::object(vec![("deep", deep)])),
    ]
    .boxed()
}

fn id() -> BoxedStrategy<Json> {
    prop_oneof![
        4 => "[a-z0-9-]{1,36}".prop_map(|id| Json::str(&id)),
        1 => json_string().prop_map(Json::Str),
    ]
    .boxed()
}

fn string_list() -> BoxedStrategy<Json> {
    vec(json_string().prop_map(Json::Str), 0..4)
        .prop_map(Json::Array)
        .boxed()
}

/// Mostly the right type, sometimes anything.
fn or_any<S: Strategy<Value = Json>>(right: S) -> impl Strategy<Value = Json> {
    prop_oneof![6 => right, 1 => Just(Json::Null), 1 => json_value()]
}

/// An event: each field the collector checks, usually of the right type, in any order, with
/// extra members (repeated keys and `__proto__` among them).
pub fn json_event() -> BoxedStrategy<Json> {
    let kind = or_any(prop_oneof![
        select(&["thread", "llm", "tool", "log", "chat"][..]).prop_map(Json::str),
        Just(Json::Str(JStr {
            text: r#""l\u006fg""#.to_string(),
            units: "log".encode_utf16().collect(),
        })),
    ]);
    let name = or_any(prop_oneof![
        select(
            &[
                "start",
                "end",
                "error",
                "chat",
                "feedback",
                "custom-event",
                "update",
                "info",
                "warn",
                "bogus",
            ][..]
        )
        .prop_map(Json::str),
        Just(Json::Str(JStr {
            text: r#""ch\u0061t""#.to_string(),
            units: "chat".encode_utf16().collect(),
        })),
    ]);
    let timestamp = prop_oneof![
        4 => (0_u64..2_000_000_000_000).prop_map(|t| Json::number(&t.to_string())),
        2 => json_number(),
        1 => json_value(),
    ];
    let message = or_any(
        (
            or_any(select(&["user", "assistant", "system"][..]).prop_map(Json::str)),
            json_value(),
        )
            .prop_map(|(role, content)| Json::object(vec![("role", role), ("content", content)])),
    );
    let fields = (
        (
            option::weighted(0.9, kind),
            option::weighted(0.95, name),
            option::weighted(0.9, or_any(id())),
            option::weighted(0.6, or_any(id())),
            option::weighted(0.95, timestamp),
            option::weighted(0.6, or_any(id())),
        ),
        (
            option::weighted(0.6, or_any(some_object())),
            option::weighted(0.3, or_any(string_list())),
            option::weighted(0.4, or_any(string_list())),
            option::weighted(0.6, message),
            option::weighted(0.3, or_any(some_object())),
            vec((json_key(), json_value()), 0..3),
        ),
    );
    fields
        .prop_flat_map(
            |(
                (kind, name, run_id, parent, timestamp, user_id),
                (props, tags, thread_tags, message, feedback, extra),
            )| {
                let named = [
                    ("type", kind),
                    ("event", name),
                    ("runId", run_id),
                    ("parentRunId", parent),
                    ("timestamp", timestamp),
                    ("userId", user_id),
                    ("userProps", props),
                    ("tags", tags),
                    ("threadTags", thread_tags),
                    ("message", message),
                    ("feedback", feedback),
                ];
                let mut members: Vec<(JStr, Json)> = named
                    .into_iter()
                    .filter_map(|(key, value)| Some((JStr::plain(key), value?)))
                    .collect();
                members.extend(extra);
                Just(members).prop_shuffle()
            },
        )
        .prop_map(Json::Object)
        .boxed()
}

/// An ingest body: mostly `{"events": [...]}` (items sometimes wrapped in a one-element array),
/// or one bare event, a falsy or odd `events`, repeated `events` keys, or no object at all.
pub fn json_body() -> BoxedStrategy<Json> {
    let item = prop_oneof![
        8 => json_event(),
        1 => json_event().prop_map(|event| Json::Array(vec![event])),
        1 => json_value(),
    ];
    let events = prop_oneof![
        6 => vec(item, 0..6).prop_map(Json::Array),
        1 => json_event(),
        1 => select(&["null", "false", "0", "-0.0", "\"\"", "true", "1"][..]).prop_map(|text| {
            serde_json::from_str::<serde_json::Value>(text)
                .map(|value| match value {
                    serde_json::Value::Null => Json::Null,
                    serde_json::Value::Bool(b) => Json::Bool(b),
                    serde_json::Value::String(_) => Json::str(""),
                    _ => Json::number(text),
                })
                .unwrap_or(Json::Null)
        }),
        1 => json_value(),
    ];
    let envelope = (events, vec((json_key(), json_value()), 0..3), any::<bool>()).prop_map(
        |(events, extra, events_first)| {
            let mut members = vec![(JStr::plain("events"), events)];
            if events_first {
                members.extend(extra);
            } else {
                members.splice(0..0, extra);
            }
            Json::Object(members)
        },
    );
    prop_oneof![12 => envelope, 1 => json_value()].boxed()
}

/// A change to a valid body's bytes: cut it short, change a byte, or put junk in.
#[derive(Debug, Clone)]
pub enum Mutation {
    Truncate(prop::sample::Index),
    Flip(prop::sample::Index, u8),
    Insert(prop::sample::Index, Vec<u8>),
    Remove(prop::sample::Index, usize),
}

pub fn mutation() -> BoxedStrategy<Mutation> {
    let junk = prop_oneof![
        vec(any::<u8>(), 1..8),
        select(
            &[
                "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "null", "1e999", "-",
                " ", "\u{feff}", "\u{0}",
            ][..]
        )
        .prop_map(|s| s.as_bytes().to_vec()),
    ];
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(at, b)| Mutation::Flip(at, b)),
        (any::<prop::sample::Index>(), junk).prop_map(|(at, junk)| Mutation::Insert(at, junk)),
        (any::<prop::sample::Index>(), 1_usize..16).prop_map(|(at, n)| Mutation::Remove(at, n)),
    ]
    .boxed()
}

pub fn apply_mutations(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let len = bytes.len();
        match mutation {
            Mutation::Truncate(at) => bytes.truncate(at.index(len + 1)),
            Mutation::Flip(at, byte) if len > 0 => bytes[at.index(len)] = *byte,
            Mutation::Flip(..) => {}
            Mutation::Insert(at, junk) => {
                let at = at.index(len + 1);
                bytes.splice(at..at, junk.iter().copied());
            }
            Mutation::Remove(at, n) => {
                let at = at.index(len + 1);
                bytes.drain(at..(at + n).min(len));
            }
        }
    }
    bytes
}

/// A valid body changed one to three times.
pub fn mutated_body() -> BoxedStrategy<Vec<u8>> {
    (json_body(), vec(mutation(), 1..4))
        .prop_map(|(body, mutations)| apply_mutations(body.render().into_bytes(), &mutations))
        .boxed()
}

/// A content type: the JSON ones (in odd spellings), others, and any bytes a header may hold.
pub fn content_type() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        4 => select(&[
            "application/json", "Application/JSON; charset=utf-8", "application/json;charset=latin1",
            " application/json ", "application/vnd.api+json", "application/csp-report",
            "application/x+json; q=1", "application/json-patch", "text/json", "text/plain",
            "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data",
            "application/", "+json", ";", "",
        ][..])
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => vec(any::<u8>(), 0..40),
    ]
    .boxed()
}
