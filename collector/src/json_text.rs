//! Reading JSON one level at a time, every value kept as the text it was sent as.
//!
//! The real server parses bodies with `JSON.parse`, which takes any nesting depth, lone surrogate
//! escapes (`"\ud800"`), numbers past `f64` (`1e400` is Infinity) and repeated keys (the last one
//! wins). serde_json's `Value` refuses the first three, and building, cloning, printing or
//! dropping a `Value` recurses, so a deep one overflows a thread's stack. So the collector never
//! builds a tree: a [`RawValue`] is checked by serde_json with a loop and a heap-allocated stack
//! (no recursion, no depth limit), and only the few fields the collector needs are read out of
//! it, one level at a time. Everything else stays text, stored and served as received.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// What a JSON text holds, told by its first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

/// The kind of a JSON value (a `RawValue` is always valid JSON, without surrounding whitespace).
pub fn kind(raw: &RawValue) -> Kind {
    match raw.get().as_bytes().first() {
        Some(b'{') => Kind::Object,
        Some(b'[') => Kind::Array,
        Some(b'"') => Kind::String,
        Some(b't' | b'f') => Kind::Bool,
        Some(b'-' | b'0'..=b'9') => Kind::Number,
        Some(_) | None => Kind::Null,
    }
}

/// Whether JavaScript would find the value falsy: `null`, `false`, `0` (in any spelling,
/// `-0.0e5` and `1e-400` included) and `""`.
pub fn is_falsy(raw: &RawValue) -> bool {
    match kind(raw) {
        Kind::Null => true,
        Kind::Bool => raw.get() == "false",
        Kind::Number => number(raw) == Some(0.0),
        Kind::String => raw.get() == "\"\"",
        Kind::Array | Kind::Object => false,
    }
}

/// The value of a number as `JSON.parse` reads it: past `f64`'s range it is infinite.
pub fn number(raw: &RawValue) -> Option<f64> {
    match kind(raw) {
        // JSON's number syntax is a subset of what `f64::from_str` reads.
        Kind::Number => raw.get().parse().ok(),
        _ => None,
    }
}

/// The elements of an array, as text; `None` if the value is not an array.
pub fn array(raw: &RawValue) -> Option<Vec<&RawValue>> {
    match kind(raw) {
        Kind::Array => serde_json::from_str(raw.get()).ok(),
        _ => None,
    }
}

/// The element of an array of exactly one element; `None` for anything else. The elements past
/// the first are only counted, so a huge array costs no memory here.
pub fn single_element(raw: &RawValue) -> Option<&RawValue> {
    struct Single;

    impl<'de> Visitor<'de> for Single {
        type Value = Option<&'de RawValue>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON array")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let first = seq.next_element::<&'de RawValue>()?;
            let mut more = false;
            while seq.next_element::<IgnoredAny>()?.is_some() {
                more = true;
            }
            Ok(first.filter(|_| !more))
        }
    }

    match kind(raw) {
        Kind::Array => {
            let mut deserializer = serde_json::Deserializer::from_str(raw.get());
            deserializer.deserialize_seq(Single).ok().flatten()
        }
        _ => None,
    }
}

/// A string's content; `None` if the value is not a string. A lone surrogate escape, which
/// `JSON.parse` keeps but a Rust string cannot hold, becomes U+FFFD, as it does when the real
/// server writes the string to its database.
pub fn string(raw: &RawValue) -> Option<Cow<'_, str>> {
    if kind(raw) != Kind::String {
        return None;
    }
    let text = raw.get();
    let inner = text
        .get(1..text.len().saturating_sub(1))
        .unwrap_or_default();
    if inner.contains('\\') {
        Some(Cow::Owned(unescape(inner)))
    } else {
        Some(Cow::Borrowed(inner))
    }
}

/// Decodes the escapes of a JSON string's content (known valid): into UTF-16 code units first,
/// as JavaScript holds strings, then into UTF-8 with unpaired surrogates replaced.
fn unescape(inner: &str) -> String {
    let mut units: Vec<u16> = Vec::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buffer = [0u16; 2];
            units.extend_from_slice(c.encode_utf16(&mut buffer));
            continue;
        }
        let unit = match chars.next() {
            Some('b') => 0x08,
            Some('f') => 0x0c,
            Some('n') => 0x0a,
            Some('r') => 0x0d,
            Some('t') => 0x09,
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                u16::from_str_radix(&hex, 16).unwrap_or(0xfffd)
            }
            // `"`, `\` and `/` stand for themselves.
            Some(other) => u16::try_from(u32::from(other)).unwrap_or(0xfffd),
            None => 0xfffd,
        };
        units.push(unit);
    }
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// An object's members in order, keys and values as text. Built only for the levels the
/// collector reads; the values themselves are not parsed.
#[derive(Debug, Default)]
pub struct Object<'a> {
    members: Vec<(&'a RawValue, &'a RawValue)>,
}

impl<'a> Object<'a> {
    /// The members of an object; `None` if the value is not an object.
    pub fn parse(raw: &'a RawValue) -> Option<Object<'a>> {
        match kind(raw) {
            Kind::Object => serde_json::from_str(raw.get()).ok(),
            _ => None,
        }
    }

    /// The members of a whole JSON text that should be an object, checking all of it in the same
    /// pass; the error says what is wrong with the text.
    pub fn parse_text(text: &'a str) -> Result<Object<'a>, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The value of a key, the last one when the key repeats (as with `JSON.parse`).
    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.members
            .iter()
            .rev()
            .find(|(name, _)| string(name).is_some_and(|name| name == key))
            .map(|(_, value)| *value)
    }

    /// The value of a key unless it is absent or `null`.
    pub fn present(&self, key: &str) -> Option<&'a RawValue> {
        self.get(key).filter(|value| kind(value) != Kind::Null)
    }

    /// Every member in order, repeated keys included: the key as sent (a JSON string) and the
    /// value.
    pub fn members(&self) -> &[(&'a RawValue, &'a RawValue)] {
        &self.members
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Object<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;

        impl<'de> Visitor<'de> for Members {
            type Value = Object<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<&'de RawValue, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(Object { members })
            }
        }

        deserializer.deserialize_map(Members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> &RawValue {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn kinds_and_falsiness_as_in_javascript() {
        for (text, expected, falsy) in [
            ("null", Kind::Null, true),
            ("false", Kind::Bool, true),
            ("true", Kind::Bool, false),
            ("0", Kind::Number, true),
            ("-0.0e5", Kind::Number, true),
            ("1e-400", Kind::Number, true),
            ("-1", Kind::Number, false),
            ("\"\"", Kind::String, true),
            ("\" \"", Kind::String, false),
            ("[]", Kind::Array, false),
            ("{}", Kind::Object, false),
        ] {
            assert_eq!(kind(raw(text)), expected, "{text}");
            assert_eq!(is_falsy(raw(text)), falsy, "{text}");
        }
        assert_eq!(number(raw("1e400")), Some(f64::INFINITY));
        assert_eq!(number(raw("-12.5E1")), Some(-125.0));
        assert_eq!(number(raw("\"1\"")), None);
    }

    #[test]
    fn strings_decode_like_json_parse_then_utf8() {
        assert_eq!(string(raw(r#""plain é""#)).unwrap(), "plain é");
        assert_eq!(
            string(raw(r#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00""#)).unwrap(),
            "a\"b\\c/d\u{8}\u{c}\n\r\té😀"
        );
        assert_eq!(string(raw(r#""x\ud800y""#)).unwrap(), "x\u{fffd}y");
        assert_eq!(
            string(raw(r#""\udc00\ud800""#)).unwrap(),
            "\u{fffd}\u{fffd}"
        );
        assert_eq!(string(raw("1")), None);
    }

    #[test]
    fn objects_keep_every_member_and_the_last_key_wins() {
        let object = Object::parse(raw(r#"{"a":1, "b":{"c":[2]}, "\u0061":3, "n":null}"#)).unwrap();
        assert_eq!(object.members().len(), 4);
        assert_eq!(object.get("a").unwrap().get(), "3");
        assert_eq!(object.get("b").unwrap().get(), r#"{"c":[2]}"#);
        assert!(object.get("n").is_some());
        assert!(object.present("n").is_none());
        assert!(Object::parse(raw("[1]")).is_none());
        assert_eq!(array(raw("[1, [2], {}]")).unwrap().len(), 3);
        assert!(array(raw("{}")).is_none());
        assert_eq!(
            single_element(raw("[ {\"a\":[1]} ]")).unwrap().get(),
            r#"{"a":[1]}"#
        );
        for not_one in ["[]", "[1,2]", "{}", "1"] {
            assert!(single_element(raw(not_one)).is_none(), "{not_one}");
        }
    }

    #[test]
    fn nesting_of_any_depth_is_read_without_recursion() {
        let depth = 1_000_000;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let deep = raw(&text);
        assert_eq!(array(deep).unwrap().len(), 1);
        assert!(single_element(deep).is_some());
        let text = format!(
            r#"{{"a":{}1{}}}"#,
            r#"{"a":"#.repeat(depth),
            "}".repeat(depth)
        );
        let object = Object::parse(raw(&text)).unwrap();
        assert!(object.get("a").unwrap().get().starts_with(r#"{"a":{"a":"#));
    }
}
