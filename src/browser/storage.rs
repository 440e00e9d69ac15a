//! Key-value storage that never throws: `localStorage`, else `sessionStorage`, else
//! memory. Browsers throw from storage for many reasons (cookies blocked → SecurityError
//! on access, quota → QuotaExceededError on write, a page overriding `Storage`): each
//! failure moves this store one step down the chain, counts a fallback and says so once.
//!
//! A page that fell back to `sessionStorage` (say `localStorage` was full) leaves its
//! values there; the next page of the tab starts at `localStorage` again, so reads and key
//! listings look down the chain too, or that page would lose the user and the queue.

use crate::prelude::*;

use core::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::console;

#[wasm_bindgen]
extern "C" {
    /// A `Storage` (`localStorage`, `sessionStorage`). Every method is bound with `catch`,
    /// and reads take whatever a page's override returns: a non-string is no value.
    #[wasm_bindgen(js_name = Storage)]
    type StorageArea;

    #[wasm_bindgen(method, catch, js_name = getItem)]
    fn get_item(this: &StorageArea, key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = setItem)]
    fn set_item(this: &StorageArea, key: &str, value: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = removeItem)]
    fn remove_item(this: &StorageArea, key: &str) -> Result<(), JsValue>;
    /// `removeItem` with a key as storage gave it (it may not be valid Unicode).
    #[wasm_bindgen(method, catch, js_name = removeItem)]
    fn remove_key(this: &StorageArea, key: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn key(this: &StorageArea, index: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, getter)]
    fn length(this: &StorageArea) -> Result<JsValue, JsValue>;
}

fn get_string(storage: &StorageArea, key: &str) -> Result<Option<String>, JsValue> {
    storage.get_item(key).map(|value| value.as_string())
}

/// Where values are kept, from most to least durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Backend {
    Local,
    Session,
    Memory,
}

impl Backend {
    /// The name used in logs and tests.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Local => "localStorage",
            Backend::Session => "sessionStorage",
            Backend::Memory => "memory",
        }
    }

    fn next(self) -> Backend {
        match self {
            Backend::Local => Backend::Session,
            Backend::Session | Backend::Memory => Backend::Memory,
        }
    }
}

/// A storage chain. Methods take `&self` and hold no borrow while calling the browser, so
/// a page's storage override that calls back into the SDK cannot deadlock it.
#[derive(Debug)]
pub struct Store {
    backend: Cell<Backend>,
    memory: RefCell<Vec<(String, String)>>,
    fallbacks: Cell<u32>,
    /// `sessionStorage` may hold values of an earlier fallback: a write that reaches
    /// `localStorage` removes its stale copy there.
    session_copies: Cell<bool>,
    /// Keys under our prefix removed because their name is not valid Unicode.
    discarded: Cell<u64>,
}

impl Default for Store {
    fn default() -> Self {
        Store::starting_at(Backend::Local)
    }
}

impl Store {
    /// A store that starts at `backend` (tests start lower down the chain).
    pub fn starting_at(backend: Backend) -> Self {
        Store {
            backend: Cell::new(backend),
            memory: RefCell::new(Vec::new()),
            fallbacks: Cell::new(0),
            session_copies: Cell::new(false),
            discarded: Cell::new(0),
        }
    }

    /// Where values go now.
    pub fn backend(&self) -> Backend {
        self.backend.get()
    }

    /// Keys under a listed prefix that were removed because their name is not valid
    /// Unicode (a lone surrogate, written by another script): such a name cannot be read
    /// back from Rust, so the record under it could never be used.
    pub fn discarded(&self) -> u64 {
        self.discarded.get()
    }

    /// How many times the store had to fall back.
    pub fn fallbacks(&self) -> u32 {
        self.fallbacks.get()
    }

    pub fn get(&self, key: &str) -> Option<String> {
        loop {
            let backend = self.backend.get();
            let result = match browser_storage(backend) {
                Some(storage) => storage.and_then(|s| get_string(&s, key)),
                None => return self.memory_get(key),
            };
            match result {
                Ok(None) if backend == Backend::Local => return self.session_get(key),
                Ok(value) => return value,
                Err(error) => self.fall_back(backend, &error),
            }
        }
    }

    pub fn set(&self, key: &str, value: &str) {
        loop {
            let backend = self.backend.get();
            let result = match browser_storage(backend) {
                Some(storage) => storage.and_then(|s| s.set_item(key, value)),
                None => return self.memory_set(key, Some(value)),
            };
            match result {
                Ok(()) => {
                    if backend == Backend::Local && self.session_copies.get() {
                        if let Some(Ok(session)) = browser_storage(Backend::Session) {
                            let _ = session.remove_item(key);
                        }
                    }
                    return;
                }
                Err(error) => {
                    // Leave no stale copy behind where the write failed.
                    if let Some(Ok(storage)) = browser_storage(backend) {
                        let _ = storage.remove_item(key);
                    }
                    self.fall_back(backend, &error);
                }
            }
        }
    }

    pub fn remove(&self, key: &str) {
        self.memory_set(key, None);
        let mut backend = Backend::Local;
        // Remove from every browser storage in the chain, not only the current one.
        while backend != Backend::Memory {
            if let Some(Ok(storage)) = browser_storage(backend) {
                let _ = storage.remove_item(key);
            }
            backend = backend.next();
        }
    }

    /// The keys that start with `prefix`, in the storage in use now and those below it.
    pub fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut backend = self.backend.get();
        while backend != Backend::Memory {
            if let Some(Ok(storage)) = browser_storage(backend) {
                let lossy = self.list_into(&storage, prefix, backend, &mut keys);
                for (raw, key) in lossy {
                    let _ = storage.remove_key(&raw);
                    self.discarded.set(self.discarded.get().saturating_add(1));
                    console::warn(&["discarded a record whose key is not valid Unicode: ", &key]);
                }
            }
            backend = backend.next();
        }
        if let Ok(memory) = self.memory.try_borrow() {
            for (key, _) in memory.iter().filter(|(k, _)| k.starts_with(prefix)) {
                if !keys.contains(key) {
                    keys.push(key.clone());
                }
            }
        }
        keys
    }

    /// Adds the keys of `storage` under `prefix` to `keys`; returns those whose name is
    /// not valid Unicode (they came through with U+FFFD), as storage gave them.
    fn list_into(
        &self,
        storage: &StorageArea,
        prefix: &str,
        backend: Backend,
        keys: &mut Vec<String>,
    ) -> Vec<(JsValue, String)> {
        let mut lossy = Vec::new();
        let count = storage
            .length()
            .ok()
            .and_then(|n| n.as_f64())
            .unwrap_or(0.0);
        // A page's override may claim any length: never look at more than 10^5 keys.
        for index in 0..(count.min(100_000.0) as u32) {
            let Ok(raw) = storage.key(index) else {
                continue;
            };
            let Some(key) = raw.as_string().filter(|key| key.starts_with(prefix)) else {
                continue;
            };
            if JsValue::from_str(&key) != raw {
                lossy.push((raw, key));
                continue;
            }
            if backend == Backend::Session {
                self.session_copies.set(true);
            }
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        lossy
    }

    /// A value an earlier page of this tab left in `sessionStorage` when it fell back.
    fn session_get(&self, key: &str) -> Option<String> {
        let Some(Ok(session)) = browser_storage(Backend::Session) else {
            return None;
        };
        let value = get_string(&session, key).ok().flatten();
        if value.is_some() {
            self.session_copies.set(true);
        }
        value
    }

    fn fall_back(&self, from: Backend, error: &JsValue) {
        let to = from.next();
        if self.backend.get() == from {
            self.backend.set(to);
            self.session_copies.set(true);
            self.fallbacks.set(self.fallbacks.get().saturating_add(1));
            let reason = error_name(error);
            console::warn(&[
                from.name(),
                " is unusable (",
                &reason,
                "); using ",
                to.name(),
                " instead",
            ]);
        }
    }

    fn memory_get(&self, key: &str) -> Option<String> {
        let memory = self.memory.try_borrow().ok()?;
        memory
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    fn memory_set(&self, key: &str, value: Option<&str>) {
        if let Ok(mut memory) = self.memory.try_borrow_mut() {
            memory.retain(|(k, _)| k != key);
            if let Some(value) = value {
                memory.push((key.to_string(), value.to_string()));
            }
        }
    }
}

/// The browser storage object for `backend` (`None` for memory); reading the global can
/// itself throw (SecurityError when cookies are blocked).
fn browser_storage(backend: Backend) -> Option<Result<StorageArea, JsValue>> {
    let name = match backend {
        Backend::Local => "localStorage",
        Backend::Session => "sessionStorage",
        Backend::Memory => return None,
    };
    let found =
        js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str(name)).and_then(|value| {
            value
                .dyn_into::<StorageArea>()
                .map_err(|_| JsValue::from_str("not available"))
        });
    Some(found)
}

/// `error.name` (`QuotaExceededError`, `SecurityError`, …) or its text.
pub fn error_name(error: &JsValue) -> String {
    js_sys::Reflect::get(error, &JsValue::from_str("name"))
        .ok()
        .and_then(|name| name.as_string())
        .or_else(|| error.as_string())
        .unwrap_or_else(|| String::from("error"))
}
