//! Reading fields of the objects apps pass in (options, messages, feedback). Each getter
//! is compiled into the JS glue as a plain property access (no key strings cross the
//! boundary) and bound with `catch`, since a getter or a Proxy may throw.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// Any object argument.
    pub type Fields;

    #[wasm_bindgen(method, getter, catch, js_name = appId)]
    pub fn app_id(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch, js_name = publicKey)]
    pub fn public_key(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch, js_name = apiUrl)]
    pub fn api_url(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch)]
    pub fn verbose(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch, js_name = maxBatchSize)]
    pub fn max_batch_size(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch, js_name = flushIntervalMs)]
    pub fn flush_interval_ms(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch, js_name = maxQueueSize)]
    pub fn max_queue_size(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch, js_name = maxEventBytes)]
    pub fn max_event_bytes(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch, js_name = maxQueueBytes)]
    pub fn max_queue_bytes(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch, js_name = retryBaseMs)]
    pub fn retry_base_ms(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch, js_name = retryMaxMs)]
    pub fn retry_max_ms(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch, js_name = respectDoNotTrack)]
    pub fn respect_do_not_track(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch, js_name = onError)]
    pub fn on_error(this: &Fields) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, getter, catch)]
    pub fn id(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch, js_name = userId)]
    pub fn user_id(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch, js_name = userProps)]
    pub fn user_props(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch)]
    pub fn tags(this: &Fields) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, getter, catch)]
    pub fn role(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch)]
    pub fn content(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch)]
    pub fn feedback(this: &Fields) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, getter, catch)]
    pub fn message(this: &Fields) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, catch)]
    pub fn stack(this: &Fields) -> Result<JsValue, JsValue>;

    /// `Array.isArray`, which throws for a revoked Proxy.
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    pub fn is_array(value: &JsValue) -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Object, js_name = entries)]
    pub fn object_entries(object: &JsValue) -> Result<JsValue, JsValue>;
}
