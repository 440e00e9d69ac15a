//! Writing JSON text by hand: the wire format is a handful of fixed shapes, and the
//! formatting machinery of serde/`core::fmt` would cost more bytes in the wasm than
//! everything else in the core together.

use crate::prelude::*;

/// JSON text that is known to be valid: produced by the browser's `JSON.stringify`,
/// by this module's writers, or written as a literal in tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawJson(String);

impl RawJson {
    /// Wraps text the caller vouches for (the output of `JSON.stringify`).
    pub fn trusted(text: String) -> Self {
        RawJson(text)
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the text is a JSON object (as opposed to an array or a scalar).
    pub fn is_object(&self) -> bool {
        self.0.starts_with('{')
    }

    /// A JSON string literal holding `text`.
    pub fn string(text: &str) -> Self {
        let mut out = String::with_capacity(text.len() + 2);
        push_string(&mut out, text);
        RawJson(out)
    }
}

/// Appends `text` as a JSON string literal, escaped exactly as `JSON.stringify` does
/// (short escapes for `\b \f \n \r \t`, `\u00xx` for other control characters).
pub fn push_string(out: &mut String, text: &str) {
    out.push('"');
    let mut start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Every byte escaped here is ASCII, so both ends are char boundaries.
        out.push_str(text.get(start..index).unwrap_or_default());
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0f));
        } else {
            out.push_str(escape);
        }
        start = index + 1;
    }
    out.push_str(text.get(start..).unwrap_or_default());
    out.push('"');
}

/// Appends an unsigned integer in decimal.
pub fn push_u64(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut used = 0;
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
        used += 1;
        if value == 0 {
            break;
        }
    }
    for &digit in digits.iter().skip(digits.len() - used) {
        out.push(char::from(digit));
    }
}

/// A lowercase hexadecimal digit for the low four bits of `nibble`.
pub fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble & 0x0f), 16).unwrap_or('0')
}

/// Fields already written as JSON object members (`"name":value,…`, without braces), in
/// order: the app's own fields of a `trackEvent`, copied from the text `JSON.stringify`
/// made of its `data`, or written one by one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawMembers(String);

impl RawMembers {
    /// Adds a field; `name` is escaped.
    pub fn push(&mut self, name: &str, value: &RawJson) {
        self.separate();
        push_string(&mut self.0, name);
        self.0.push(':');
        self.0.push_str(value.as_str());
    }

    /// Adds a member as JSON text: `key` still quoted, as `JSON.stringify` wrote it.
    pub fn push_text(&mut self, key: &str, value: &str) {
        self.separate();
        self.0.push_str(key);
        self.0.push(':');
        self.0.push_str(value);
    }

    fn separate(&mut self) {
        if !self.0.is_empty() {
            self.0.push(',');
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Writes one JSON object field by field, in the order the fields are given.
pub struct ObjectWriter {
    out: String,
    empty: bool,
}

impl ObjectWriter {
    /// Starts an object; `capacity` is a hint for the final length.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut out = String::with_capacity(capacity);
        out.push('{');
        ObjectWriter { out, empty: true }
    }

    /// Starts a field; `name` is escaped, so any key is safe.
    fn key(&mut self, name: &str) {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        push_string(&mut self.out, name);
        self.out.push(':');
    }

    /// Fields written already (see [`RawMembers`]).
    pub fn members(&mut self, members: &RawMembers) {
        if members.0.is_empty() {
            return;
        }
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        self.out.push_str(&members.0);
    }

    /// A string field.
    pub fn string(&mut self, name: &str, value: &str) {
        self.key(name);
        push_string(&mut self.out, value);
    }

    /// A string field, left out when `value` is `None`.
    pub fn string_opt(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.string(name, value);
        }
    }

    /// A field holding JSON text as it is.
    pub fn raw(&mut self, name: &str, value: &RawJson) {
        self.key(name);
        self.out.push_str(value.as_str());
    }

    /// A JSON-text field, left out when `value` is `None`.
    pub fn raw_opt(&mut self, name: &str, value: Option<&RawJson>) {
        if let Some(value) = value {
            self.raw(name, value);
        }
    }

    /// A number field.
    pub fn number(&mut self, name: &str, value: u64) {
        self.key(name);
        push_u64(&mut self.out, value);
    }

    /// A boolean field.
    pub fn boolean(&mut self, name: &str, value: bool) {
        self.key(name);
        self.out.push_str(if value { "true" } else { "false" });
    }

    /// A `null` field.
    pub fn null(&mut self, name: &str) {
        self.key(name);
        self.out.push_str("null");
    }

    /// Closes the object and returns its text.
    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(text: &str) -> String {
        let mut out = String::new();
        push_string(&mut out, text);
        out
    }

    #[test]
    fn strings_are_escaped_like_json_stringify() {
        assert_eq!(quoted("plain"), r#""plain""#);
        assert_eq!(quoted("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quoted("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
        assert_eq!(quoted("\u{0}\u{1f}"), r#""\u0000\u001f""#);
        assert_eq!(quoted("héllo ✓ \u{2028}"), "\"héllo ✓ \u{2028}\"");
        assert_eq!(quoted(""), r#""""#);
    }

    #[test]
    fn escaped_strings_parse_back_to_the_same_text() {
        let samples = [
            "",
            "x",
            "\"\\/",
            "\u{0}\u{7f}\u{80}",
            "😀 emoji",
            "tab\tend\n",
        ];
        for sample in samples {
            let parsed: String = serde_json::from_str(&quoted(sample)).expect("valid JSON");
            assert_eq!(parsed, sample);
        }
    }

    #[test]
    fn numbers_are_plain_decimal() {
        for value in [0u64, 7, 10, 1_764_325_200_000, u64::MAX] {
            let mut out = String::new();
            push_u64(&mut out, value);
            assert_eq!(out, value.to_string());
        }
    }

    #[test]
    fn objects_keep_field_order_and_skip_absent_fields() {
        let mut object = ObjectWriter::with_capacity(16);
        object.string("b", "1");
        object.string_opt("skipped", None);
        object.number("a", 2);
        object.null("n");
        object.boolean("t", true);
        object.raw("r", &RawJson::trusted("[1,2]".into()));
        assert_eq!(
            object.finish(),
            r#"{"b":"1","a":2,"n":null,"t":true,"r":[1,2]}"#
        );
        assert_eq!(ObjectWriter::with_capacity(0).finish(), "{}");
    }
}
