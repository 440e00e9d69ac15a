//! Random v4 UUIDs for threads, messages and events. Randomness comes from
//! `crypto.getRandomValues` (available in insecure contexts too, unlike
//! `crypto.randomUUID`), fetched 256 bytes at a time so an id costs no JS call.

use crate::prelude::*;

use super::page_static::page_static;
use core::cell::RefCell;
use wasm_bindgen::prelude::*;

use crate::core::uuid::uuid_v4;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buffer: &mut [u8]) -> Result<JsValue, JsValue>;
}

const POOL_BYTES: usize = 256;

struct Pool {
    bytes: [u8; POOL_BYTES],
    used: usize,
}

page_static! {
    static POOL: RefCell<Pool> = const { RefCell::new(Pool { bytes: [0; POOL_BYTES], used: POOL_BYTES }) };
}

/// A new random version 4 UUID.
pub fn new_id() -> String {
    let mut id = [0u8; 16];
    POOL.with(|pool| {
        if let Ok(mut pool) = pool.try_borrow_mut() {
            if pool.used + id.len() > POOL_BYTES {
                refill(&mut pool.bytes);
                pool.used = 0;
            }
            let start = pool.used;
            if let Some(chunk) = pool.bytes.get(start..start + id.len()) {
                id.iter_mut()
                    .zip(chunk)
                    .for_each(|(byte, random)| *byte = *random);
            }
            pool.used += id.len();
        }
    });
    uuid_v4(id)
}

/// Fills the pool from the platform's CSPRNG, or from `Math.random` where there is none.
fn refill(bytes: &mut [u8; POOL_BYTES]) {
    if get_random_values(bytes).is_err() {
        for byte in bytes.iter_mut() {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
}
