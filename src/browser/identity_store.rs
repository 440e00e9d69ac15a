//! The identified user, kept in storage under a key namespaced by the project key, so a
//! reload keeps the user and two projects on one origin never mix.

use crate::prelude::*;

use wasm_bindgen::prelude::*;

use super::console;
use super::storage::Store;
use crate::core::identity::User;
use crate::core::json::RawJson;

/// The storage key for a project's user.
pub fn user_key(project_key: &str) -> String {
    let mut key = String::with_capacity(project_key.len() + 12);
    key.push_str("lunary:");
    key.push_str(project_key);
    key.push_str(":user");
    key
}

/// The user saved for this project, if any. A record that is not what this SDK wrote
/// (corrupt, or written by another script) is removed, with a warning.
pub fn load(store: &Store, project_key: &str) -> Option<User> {
    let key = user_key(project_key);
    let text = store.get(&key)?;
    let user = parse_record(&text);
    if user.is_none() {
        console::warn(&["discarded an unreadable saved user under ", &key]);
        store.remove(&key);
    }
    user
}

/// Saves the user for this project.
pub fn save(store: &Store, project_key: &str, user: &User) {
    store.set(&user_key(project_key), &user.to_record());
}

/// Forgets the user for this project.
pub fn forget(store: &Store, project_key: &str) {
    store.remove(&user_key(project_key));
}

/// Reads `{"userId":"…","userProps":{…}}`; anything else is `None`.
fn parse_record(text: &str) -> Option<User> {
    let record = js_sys::JSON::parse(text).ok()?;
    if !record.is_object() {
        return None;
    }
    let id = js_sys::Reflect::get(&record, &JsValue::from_str("userId"))
        .ok()?
        .as_string()?;
    if id.is_empty() {
        return None;
    }
    let props_value = js_sys::Reflect::get(&record, &JsValue::from_str("userProps")).ok()?;
    let props = if props_value.is_undefined() {
        None
    } else if props_value.is_object() && !js_sys::Array::is_array(&props_value) {
        let text = js_sys::JSON::stringify(&props_value).ok()?.as_string()?;
        Some(RawJson::trusted(text))
    } else {
        return None;
    };
    Some(User { id, props })
}
