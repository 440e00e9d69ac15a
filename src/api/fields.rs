//! Reading fields of the objects apps pass in (options, messages, feedback). Every field is
//! read through one import, `field(object, index)` of `js/fields.js`, which names the
//! field by its place in [`Field`]: one import instead of one per field keeps the glue
//! small, and no key string crosses the boundary. A getter or a Proxy may throw, so the
//! import is bound with `catch`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/fields.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn field(object: &Fields, index: u32) -> Result<JsValue, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    /// Any object argument.
    pub type Fields;

    /// `Array.isArray`, which throws for a revoked Proxy.
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    pub fn is_array(value: &JsValue) -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Object, js_name = entries)]
    pub fn object_entries(object: &JsValue) -> Result<JsValue, JsValue>;
}

/// Declares [`Field`] (the fields the SDK reads, in the order of `FIELDS` in
/// `js/fields.js`), their JS names, and a getter method on [`Fields`] for each.
macro_rules! fields {
    ($($variant:ident $method:ident $name:literal,)*) => {
        #[derive(Clone, Copy)]
        enum Field {
            $($variant,)*
        }

        /// The JS names of [`Field`], in order (checked against `js/fields.js` by a test).
        #[cfg(test)]
        const NAMES: &[&str] = &[$($name,)*];

        impl Fields {
            $(
                pub fn $method(&self) -> Result<JsValue, JsValue> {
                    field(self, Field::$variant as u32)
                }
            )*
        }
    };
}

fields! {
    AppId app_id "appId",
    PublicKey public_key "publicKey",
    ApiUrl api_url "apiUrl",
    Verbose verbose "verbose",
    MaxBatchSize max_batch_size "maxBatchSize",
    FlushIntervalMs flush_interval_ms "flushIntervalMs",
    MaxQueueSize max_queue_size "maxQueueSize",
    MaxEventBytes max_event_bytes "maxEventBytes",
    MaxQueueBytes max_queue_bytes "maxQueueBytes",
    RetryBaseMs retry_base_ms "retryBaseMs",
    RetryMaxMs retry_max_ms "retryMaxMs",
    RespectDoNotTrack respect_do_not_track "respectDoNotTrack",
    OnError on_error "onError",
    Id id "id",
    UserId user_id "userId",
    UserProps user_props "userProps",
    Tags tags "tags",
    Role role "role",
    Content content "content",
    Feedback feedback "feedback",
    Message message "message",
    Stack stack "stack",
    ToJson to_json "toJSON",
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn the_js_field_list_matches_the_enum() {
        let js = include_str!("../../js/fields.js");
        let start = js.find('[').unwrap_or(0);
        let end = js.find(']').unwrap_or(0);
        let listed: Vec<&str> = js[start + 1..end]
            .split(',')
            .map(|name| name.trim().trim_matches('"'))
            .filter(|name| !name.is_empty())
            .collect();
        assert_eq!(listed, NAMES);
        assert_eq!(Field::AppId as usize, 0);
        assert_eq!(Field::ToJson as usize, NAMES.len() - 1);
    }
}
