//! Who an event is about. The server replaces a user's stored properties with each
//! event's `userProps`, so whoever an event names, it must carry that user's full props.

use crate::prelude::*;

use alloc::borrow::Cow;

use super::json::{ObjectWriter, RawJson};
use super::merge::merge_objects;

/// A tracked user: the app's id for them and their properties (a JSON object).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub props: Option<RawJson>,
}

impl User {
    /// The record kept in browser storage: `{"userId":…,"userProps":{…}}`.
    pub fn to_record(&self) -> String {
        let mut record = ObjectWriter::with_capacity(32 + self.id.len());
        record.string("userId", &self.id);
        record.raw_opt("userProps", self.props.as_ref());
        record.finish()
    }
}

/// The user and props an event carries: borrowed, or merged for the event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRef<'a> {
    pub id: &'a str,
    pub props: Option<Cow<'a, RawJson>>,
}

/// The user of a thread, as given to `openThread`: an id, props, both or neither.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThreadUser {
    pub id: Option<String>,
    pub props: Option<RawJson>,
}

/// Decides who an event is about.
///
/// A thread opened with its own `userId` uses it whatever `identify` said (lunary-js's
/// browser build lets the identified user overwrite it, which files the messages under
/// the wrong person). When that is the identified user too, the event carries the
/// identified props with the thread's set over them: the server keeps only the latest
/// event's props, so sending the thread's alone would erase the others. Props without an
/// id are ignored: the server only attaches props to a named user.
pub fn event_user<'a>(
    thread: Option<&'a ThreadUser>,
    identified: Option<&'a User>,
) -> Option<UserRef<'a>> {
    let identified_props = identified.and_then(|user| user.props.as_ref());
    let Some(thread_id) = thread.and_then(|thread| thread.id.as_deref()) else {
        return identified.map(|user| UserRef {
            id: &user.id,
            props: identified_props.map(Cow::Borrowed),
        });
    };
    let same_user = identified.is_some_and(|user| user.id == thread_id);
    let own_props = thread.and_then(|thread| thread.props.as_ref());
    let props = match (own_props, identified_props.filter(|_| same_user)) {
        (Some(own), Some(known)) => Some(Cow::Owned(merge_objects(known, own))),
        (Some(own), None) => Some(Cow::Borrowed(own)),
        (None, known) => known.map(Cow::Borrowed),
    };
    Some(UserRef {
        id: thread_id,
        props,
    })
}

/// The user after `identify(id, props)` when `current` was identified: the same id merges
/// the new props into the known ones (or keeps them when none are given, where lunary-js
/// would send none and the server would wipe them); another id replaces the user.
pub fn after_identify(current: Option<&User>, id: String, props: Option<RawJson>) -> User {
    let known = current
        .filter(|user| user.id == id)
        .and_then(|user| user.props.as_ref());
    let props = match (known, props) {
        (Some(known), Some(new)) => Some(merge_objects(known, &new)),
        (known, new) => new.or_else(|| known.cloned()),
    };
    User { id, props }
}

/// `identify` and `reset` calls made before `init`: without the project key the saved
/// user is unknown, so they are folded here and applied to it at `init`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PendingIdentity {
    reset: bool,
    identified: Option<User>,
}

impl PendingIdentity {
    pub fn identify(&mut self, id: String, props: Option<RawJson>) {
        self.identified = Some(after_identify(self.identified.as_ref(), id, props));
    }

    pub fn reset(&mut self) {
        self.reset = true;
        self.identified = None;
    }

    /// Whether any call is waiting to be applied.
    pub fn is_empty(&self) -> bool {
        !self.reset && self.identified.is_none()
    }

    /// The user once the saved one is known: the calls replayed on top of it.
    pub fn apply(self, saved: Option<User>) -> Option<User> {
        let base = if self.reset { None } else { saved };
        match self.identified {
            Some(user) => Some(after_identify(base.as_ref(), user.id, user.props)),
            None => base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, props: &str) -> User {
        User {
            id: id.into(),
            props: Some(RawJson::trusted(props.into())),
        }
    }

    #[test]
    fn identified_user_is_used_without_a_thread_user() {
        let john = user("john", r#"{"name":"John"}"#);
        let found = event_user(None, Some(&john)).expect("a user");
        assert_eq!(found.id, "john");
        assert_eq!(
            found.props.as_deref().map(RawJson::as_str),
            Some(r#"{"name":"John"}"#)
        );
        assert_eq!(
            event_user(Some(&ThreadUser::default()), Some(&john)),
            event_user(None, Some(&john))
        );
        assert_eq!(event_user(None, None), None);
    }

    #[test]
    fn thread_user_wins_over_identified_user() {
        let john = user("john", r#"{"name":"John"}"#);
        let thread = ThreadUser {
            id: Some("ann".into()),
            props: Some(RawJson::trusted(r#"{"name":"Ann"}"#.into())),
        };
        let found = event_user(Some(&thread), Some(&john)).expect("a user");
        assert_eq!(found.id, "ann");
        assert_eq!(
            found.props.as_deref().map(RawJson::as_str),
            Some(r#"{"name":"Ann"}"#)
        );
    }

    #[test]
    fn thread_user_without_props_borrows_them_only_from_the_same_user() {
        let john = user("john", r#"{"name":"John"}"#);
        let same = ThreadUser {
            id: Some("john".into()),
            props: None,
        };
        let other = ThreadUser {
            id: Some("ann".into()),
            props: None,
        };
        let found = event_user(Some(&same), Some(&john)).expect("a user");
        assert_eq!(
            found.props.as_deref().map(RawJson::as_str),
            Some(r#"{"name":"John"}"#)
        );
        let found = event_user(Some(&other), Some(&john)).expect("a user");
        assert_eq!((found.id, found.props), ("ann", None));
    }

    #[test]
    fn the_same_user_in_thread_and_identify_carries_both_props() {
        let john = user("john", r#"{"name":"John","email":"j@x.org"}"#);
        let thread = ThreadUser {
            id: Some("john".into()),
            props: Some(RawJson::trusted(r#"{"name":"Johnny"}"#.into())),
        };
        let found = event_user(Some(&thread), Some(&john)).expect("a user");
        assert_eq!(
            found.props.as_deref().map(RawJson::as_str),
            Some(r#"{"name":"Johnny","email":"j@x.org"}"#)
        );
    }

    #[test]
    fn thread_props_without_an_id_are_ignored() {
        let thread = ThreadUser {
            id: None,
            props: Some(RawJson::trusted(r#"{"name":"Ghost"}"#.into())),
        };
        assert_eq!(event_user(Some(&thread), None), None);
    }

    #[test]
    fn record_round_trips_through_json() {
        let record = user("u\"1", r#"{"email":"a@b.c"}"#).to_record();
        let parsed: serde_json::Value = serde_json::from_str(&record).expect("valid JSON");
        assert_eq!(
            parsed,
            serde_json::json!({"userId": "u\"1", "userProps": {"email": "a@b.c"}})
        );
        let bare = User {
            id: "x".into(),
            props: None,
        };
        assert_eq!(bare.to_record(), r#"{"userId":"x"}"#);
    }
}

#[cfg(test)]
mod pending_tests {
    use super::*;

    fn props(text: &str) -> Option<RawJson> {
        Some(RawJson::trusted(text.into()))
    }

    fn saved() -> Option<User> {
        Some(User {
            id: "mia".into(),
            props: props(r#"{"name":"Mia","email":"mia@example.org"}"#),
        })
    }

    #[test]
    fn identify_merges_for_the_same_user_and_replaces_for_another() {
        let mia = saved();
        let merged = after_identify(mia.as_ref(), "mia".into(), props(r#"{"plan":"pro"}"#));
        assert_eq!(
            merged.props,
            props(r#"{"name":"Mia","email":"mia@example.org","plan":"pro"}"#)
        );
        let kept = after_identify(mia.as_ref(), "mia".into(), None);
        assert_eq!(kept.props, mia.as_ref().and_then(|u| u.props.clone()));
        let other = after_identify(mia.as_ref(), "leo".into(), None);
        assert_eq!((other.id.as_str(), other.props), ("leo", None));
    }

    #[test]
    fn nothing_pending_keeps_the_saved_user() {
        let pending = PendingIdentity::default();
        assert!(pending.is_empty());
        assert_eq!(pending.apply(saved()), saved());
    }

    #[test]
    fn a_reset_before_init_forgets_the_saved_user() {
        let mut pending = PendingIdentity::default();
        pending.reset();
        assert!(!pending.is_empty());
        assert_eq!(pending.apply(saved()), None);
    }

    #[test]
    fn an_identify_before_init_merges_into_the_saved_props() {
        let mut pending = PendingIdentity::default();
        pending.identify("mia".into(), props(r#"{"plan":"pro"}"#));
        let user = pending.apply(saved()).expect("a user");
        assert_eq!(
            user.props,
            props(r#"{"name":"Mia","email":"mia@example.org","plan":"pro"}"#)
        );
    }

    #[test]
    fn reset_then_identify_before_init_starts_from_nobody() {
        let mut pending = PendingIdentity::default();
        pending.reset();
        pending.identify("mia".into(), props(r#"{"plan":"pro"}"#));
        assert_eq!(
            pending.apply(saved()).and_then(|u| u.props),
            props(r#"{"plan":"pro"}"#)
        );
    }
}
