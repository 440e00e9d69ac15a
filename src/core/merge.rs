//! Merging two JSON objects' top-level fields, on the JSON text itself. The server
//! replaces a user's stored props with each event's `userProps`, so props learned from
//! `identify` and from a thread's options must travel together, not one instead of the
//! other.

use crate::prelude::*;

use super::json::RawJson;

/// `base` with `overlay`'s fields set over it (`Object.assign({}, base, overlay)`, at the
/// top level). Either one that is not a JSON object is treated as `{}`.
pub fn merge_objects(base: &RawJson, overlay: &RawJson) -> RawJson {
    let base_fields = members(base.as_str()).unwrap_or_default();
    let overlay_fields = members(overlay.as_str()).unwrap_or_default();
    let mut out = String::with_capacity(base.as_str().len() + overlay.as_str().len());
    out.push('{');
    // As `Object.assign`: known keys keep their place with the new value, new keys follow.
    let updated = base_fields.iter().map(|(key, value)| {
        let newer = overlay_fields.iter().find(|(other, _)| other == key);
        (*key, newer.map_or(*value, |(_, newer)| *newer))
    });
    let added = overlay_fields
        .iter()
        .filter(|(key, _)| !base_fields.iter().any(|(other, _)| other == key))
        .copied();
    for (index, (key, value)) in updated.chain(added).enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push(':');
        out.push_str(value);
    }
    out.push('}');
    RawJson::trusted(out)
}

/// The `(key, value)` texts of an object's top-level fields, keys still quoted; `None`
/// if `text` is not an object. Expects the compact JSON `JSON.stringify` writes, but
/// tolerates whitespace.
pub fn members(text: &str) -> Option<Vec<(&str, &str)>> {
    let mut scanner = Scanner { text, at: 0 };
    scanner.expect(b'{')?;
    let mut fields = Vec::new();
    if scanner.peek() == Some(b'}') {
        return Some(fields);
    }
    loop {
        let key_start = scanner.skip_space();
        scanner.string()?;
        let key = text.get(key_start..scanner.at)?;
        scanner.expect(b':')?;
        let value_start = scanner.skip_space();
        scanner.value()?;
        fields.push((key, text.get(value_start..scanner.at)?));
        match scanner.next_token()? {
            b',' => continue,
            b'}' => return Some(fields),
            _ => return None,
        }
    }
}

/// A cursor over JSON text that skips whole values without building them.
struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl Scanner<'_> {
    fn byte(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) -> usize {
        while matches!(self.byte(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
        self.at
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.byte()
    }

    fn next_token(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn expect(&mut self, wanted: u8) -> Option<()> {
        (self.next_token()? == wanted).then_some(())
    }

    /// Skips a string literal, the cursor on its opening quote.
    fn string(&mut self) -> Option<()> {
        self.expect(b'"')?;
        loop {
            match self.byte()? {
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                b'\\' => self.at += 2,
                _ => self.at += 1,
            }
        }
    }

    /// Skips one value: a string, an object or array (brackets counted, strings
    /// respected), or a scalar up to the next delimiter.
    fn value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.byte()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.checked_sub(1)?;
                            if depth == 0 {
                                self.at += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
            }
            _ => {
                let start = self.at;
                while !matches!(
                    self.byte(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
                ) {
                    self.at += 1;
                }
                (self.at > start).then_some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn merged(base: &str, overlay: &str) -> Value {
        let text = merge_objects(
            &RawJson::trusted(base.into()),
            &RawJson::trusted(overlay.into()),
        );
        serde_json::from_str(text.as_str()).expect("merge writes valid JSON")
    }

    #[test]
    fn keys_keep_their_place_like_object_assign() {
        let text = merge_objects(
            &RawJson::trusted(r#"{"name":"John","email":"j@x.org"}"#.into()),
            &RawJson::trusted(r#"{"group":"beta","name":"Johnny"}"#.into()),
        );
        assert_eq!(
            text.as_str(),
            r#"{"name":"Johnny","email":"j@x.org","group":"beta"}"#
        );
    }

    #[test]
    fn overlay_fields_win_and_the_rest_is_kept() {
        assert_eq!(
            merged(
                r#"{"name":"John","email":"j@x.org"}"#,
                r#"{"name":"Johnny","group":"beta"}"#
            ),
            json!({"name":"Johnny","email":"j@x.org","group":"beta"})
        );
    }

    #[test]
    fn nested_values_and_tricky_strings_are_copied_whole() {
        let base = r#"{"a":{"b":[1,{"c":"}"}]},"s":"x\"y,z}","n":-1.5e3,"t":true,"z":null}"#;
        let overlay = r#"{"k\"ey":"v","arr":[[],{}]}"#;
        assert_eq!(
            merged(base, overlay),
            json!({"a":{"b":[1,{"c":"}"}]},"s":"x\"y,z}","n":-1.5e3,"t":true,"z":null,"k\"ey":"v","arr":[[],{}]})
        );
    }

    #[test]
    fn empty_and_non_objects_count_as_empty() {
        assert_eq!(merged("{}", r#"{"a":1}"#), json!({"a":1}));
        assert_eq!(merged(r#"{"a":1}"#, "{}"), json!({"a":1}));
        assert_eq!(merged("[1,2]", r#"{"a":1}"#), json!({"a":1}));
        assert_eq!(merged(r#"{"a":1}"#, "\"text\""), json!({"a":1}));
        assert_eq!(merged("{broken", "{}"), json!({}));
    }

    #[test]
    fn whitespace_is_tolerated() {
        assert_eq!(
            merged("{ \"a\" : 1 , \"b\" : [ 1 , 2 ] }", "{\"b\":2}"),
            json!({"a":1,"b":2})
        );
    }
}
