//! The tracking calls, as plain Rust: who each event is about, its timestamp, its wire
//! JSON, and the outbox it waits in. The api layer checks arguments and hands over
//! JSON text and ids; the shell supplies the time and does the I/O.

use crate::prelude::*;

use super::clock::Clock;
use super::event::{self, Head};
use super::identity::{event_user, ThreadUser, User};
use super::json::{RawJson, RawMembers};
use super::outbox::{Outbox, Policy};
use super::stats::Dropped;

/// A conversation opened with `openThread`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thread {
    pub id: String,
    pub user: ThreadUser,
    /// `threadTags`: a JSON array of strings.
    pub tags: Option<RawJson>,
}

/// The SDK's state, one per page.
#[derive(Debug)]
pub struct Tracker {
    identified: Option<User>,
    clock: Clock,
    pub outbox: Outbox,
    /// Logs need a parent run on the server; they attach to the latest thread.
    latest_thread: Option<String>,
}

impl Tracker {
    pub fn new(policy: Policy) -> Self {
        Tracker {
            identified: None,
            clock: Clock::default(),
            outbox: Outbox::new(policy),
            latest_thread: None,
        }
    }

    /// The identified user, if any.
    pub fn user(&self) -> Option<&User> {
        self.identified.as_ref()
    }

    /// Sets (or, with `None`, forgets) the identified user.
    pub fn set_user(&mut self, user: Option<User>) {
        self.identified = user;
    }

    /// Remembers a newly opened thread as the one logs attach to.
    pub fn open_thread(&mut self, thread: &Thread) {
        self.latest_thread = Some(thread.id.clone());
    }

    /// `thread.trackMessage`: `message` is the caller's message object, `feedback` its
    /// `feedback` field if set.
    pub fn message(
        &mut self,
        now: u64,
        thread: &Thread,
        run_id: &str,
        message: &RawJson,
        feedback: Option<&RawJson>,
    ) -> Option<Dropped> {
        let head = Head {
            event: "chat",
            run_type: Some("thread"),
            user: event_user(Some(&thread.user), self.identified.as_ref()),
            parent_run_id: Some(&thread.id),
            timestamp: self.clock.stamp(now),
        };
        let json = event::chat_message(&head, run_id, thread.tags.as_ref(), feedback, message);
        self.outbox.push(now, json)
    }

    /// `thread.trackEvent`.
    pub fn thread_event(
        &mut self,
        now: u64,
        thread: &Thread,
        name: &str,
        run_id: &str,
        metadata: Option<&RawJson>,
    ) -> Option<Dropped> {
        let head = Head {
            event: "custom-event",
            run_type: Some("thread"),
            user: event_user(Some(&thread.user), self.identified.as_ref()),
            parent_run_id: Some(&thread.id),
            timestamp: self.clock.stamp(now),
        };
        let json = event::thread_event(&head, name, run_id, thread.tags.as_ref(), metadata);
        self.outbox.push(now, json)
    }

    /// `trackFeedback`: carries the identified user, as lunary-js does.
    pub fn feedback(
        &mut self,
        now: u64,
        run_id: &str,
        overwrite: bool,
        feedback: &RawJson,
    ) -> Option<Dropped> {
        let head = Head {
            event: "feedback",
            run_type: None,
            user: event_user(None, self.identified.as_ref()),
            parent_run_id: None,
            timestamp: self.clock.stamp(now),
        };
        let json = event::feedback(&head, run_id, overwrite, feedback);
        self.outbox.push(now, json)
    }

    /// `info`/`warn`/`error`: `level` is the event name.
    pub fn log(
        &mut self,
        now: u64,
        level: &str,
        message: Option<&str>,
        extra: Option<&RawJson>,
    ) -> Option<Dropped> {
        let head = Head {
            event: level,
            run_type: Some("log"),
            user: event_user(None, self.identified.as_ref()),
            parent_run_id: self.latest_thread.as_deref(),
            timestamp: self.clock.stamp(now),
        };
        let json = event::log(&head, message, extra);
        self.outbox.push(now, json)
    }

    /// `trackEvent(type, event, data)`: `user` and `parent_run_id` come from `data` when
    /// it names them; the rest of `data` is in `fields`.
    #[allow(clippy::too_many_arguments)]
    pub fn custom(
        &mut self,
        now: u64,
        run_type: Option<&str>,
        event_name: &str,
        run_id: &str,
        user: &ThreadUser,
        parent_run_id: Option<&str>,
        fields: &RawMembers,
    ) -> Option<Dropped> {
        let head = Head {
            event: event_name,
            run_type,
            user: event_user(Some(user), self.identified.as_ref()),
            parent_run_id,
            timestamp: self.clock.stamp(now),
        };
        let json = event::custom(&head, run_id, fields);
        self.outbox.push(now, json)
    }
}
