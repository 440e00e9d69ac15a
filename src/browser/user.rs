//! The app's user: `identify`, `reset` and the opt-out choice, kept in storage per
//! project; calls made before `init` are remembered and applied to the saved user then.

use crate::prelude::*;

use super::page_static::page_static;
use core::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;

use super::runtime::{project_key, with_tracker, STORE};
use super::storage::Store;
use super::{identity_store, persist, privacy};
use crate::core::identity::{after_identify, PendingIdentity, User};
use crate::core::json::RawJson;

page_static! {
    /// `identify`/`reset` calls made before `init` gave the key to the saved user.
    static PENDING: RefCell<PendingIdentity> = RefCell::new(PendingIdentity::default());
    /// `optOut`/`optIn` called before `init` gave the key to keep the choice under.
    static PENDING_OPT_OUT: Cell<Option<bool>> = const { Cell::new(None) };
    /// The last `identify` after `init`, while nothing else changed the user: the same call
    /// again changes nothing (merging the same props twice gives the same user), so it
    /// returns at once — apps often identify on every page view or message. Held as the JS
    /// values the app passed (its user id, `JSON.stringify` of its props): comparing them
    /// costs no copy into the wasm.
    static LAST_IDENTIFY: RefCell<Option<(JsValue, JsValue)>> = const { RefCell::new(None) };
}

/// At `init` with `key`: the saved user with the calls made before `init` applied (and
/// saved), and whether tracking is opted out (a choice made before `init` is kept now).
pub fn at_init(store: &Store, key: &str, respect_do_not_track: bool) -> (Option<User>, bool) {
    remember_identify(None);
    let pending = PENDING.with(|pending| {
        pending
            .try_borrow_mut()
            .map(|mut p| core::mem::take(&mut *p))
            .unwrap_or_default()
    });
    let saved = identity_store::load(store, key);
    let user = if pending.is_empty() {
        saved
    } else {
        let user = pending.apply(saved);
        match &user {
            Some(user) => identity_store::save(store, key, user),
            None => identity_store::forget(store, key),
        }
        user
    };
    let opt_out_key = privacy::opt_out_key(key);
    let opted_out = match PENDING_OPT_OUT.with(Cell::take) {
        Some(choice) => {
            keep_choice(store, &opt_out_key, choice);
            choice
        }
        None => store.get(&opt_out_key).is_some(),
    } || (respect_do_not_track && privacy::browser_asks_not_to_track());
    (user, opted_out)
}

/// Whether `identify(user_id, props)` repeats the last call after `init` (`props_text`:
/// `JSON.stringify` of its props, `undefined` without); then it would change nothing.
pub fn repeats_last_identify(user_id: &JsValue, props_text: &JsValue) -> bool {
    LAST_IDENTIFY.with(|last| {
        last.try_borrow().is_ok_and(|last| {
            last.as_ref()
                .is_some_and(|(id, text)| id == user_id && text == props_text)
        })
    })
}

/// `identify`: sets the user (merging props for the same id) and saves it for the
/// project; before `init`, remembers the call to apply to the saved user then.
/// `same_next_time` is what [`repeats_last_identify`] compares a later call to.
pub fn identify(id: String, props: Option<RawJson>, same_next_time: Option<(JsValue, JsValue)>) {
    let changed = with_tracker(|t| {
        let user = after_identify(t.user(), id.clone(), props.clone());
        let changed = t.user() != Some(&user);
        t.set_user(Some(user.clone()));
        changed.then_some(user)
    });
    match project_key() {
        Some(key) => {
            if let Some(Some(user)) = changed.filter(|_| !opted_out()) {
                STORE.with(|store| identity_store::save(store, &key, &user));
            }
            remember_identify(same_next_time);
        }
        None => PENDING.with(|pending| {
            if let Ok(mut pending) = pending.try_borrow_mut() {
                pending.identify(id, props);
            }
        }),
    }
}

fn remember_identify(last: Option<(JsValue, JsValue)>) {
    LAST_IDENTIFY.with(|cell| {
        if let Ok(mut cell) = cell.try_borrow_mut() {
            *cell = last;
        }
    });
}

/// `reset`: forgets the user, in memory and in storage (or at `init`, before it).
pub fn reset() {
    remember_identify(None);
    with_tracker(|t| t.set_user(None));
    match project_key() {
        Some(key) => STORE.with(|store| identity_store::forget(store, &key)),
        None => PENDING.with(|pending| {
            if let Ok(mut pending) = pending.try_borrow_mut() {
                pending.reset();
            }
        }),
    }
}

/// `optOut()` (`true`) / `optIn()`: while opted out nothing is stored or sent; opting
/// out clears the queue and forgets the saved user. The choice is kept per project.
pub fn set_opted_out(opted_out: bool) {
    remember_identify(None);
    with_tracker(|t| t.outbox.set_opted_out(opted_out));
    let Some(key) = project_key() else {
        PENDING_OPT_OUT.with(|cell| cell.set(Some(opted_out)));
        return;
    };
    STORE.with(|store| {
        keep_choice(store, &privacy::opt_out_key(&key), opted_out);
        if opted_out {
            identity_store::forget(store, &key);
        }
    });
    persist::save_now();
}

fn keep_choice(store: &Store, key: &str, opted_out: bool) {
    if opted_out {
        store.set(key, "1");
    } else {
        store.remove(key);
    }
}

fn opted_out() -> bool {
    with_tracker(|t| t.outbox.opted_out()).unwrap_or(false)
}
