//! SQLite storage: every accepted event as received, plus the views derived from it (users,
//! threads, feedback), maintained in the same transaction as the event itself.
//!
//! One connection behind a mutex: SQLite has one writer anyway, and holding the lock for a whole
//! batch makes concurrent requests serialize instead of losing or interleaving writes. Callers
//! run these blocking methods on tokio's blocking pool.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::json;
use serde_json::value::RawValue;

use crate::json_text::{self, Object};
use crate::validation::ValidEvent;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    project       TEXT NOT NULL,
    received_at   INTEGER NOT NULL,
    dedupe_key    TEXT NOT NULL UNIQUE,
    type          TEXT,
    event         TEXT NOT NULL,
    run_id        TEXT,
    parent_run_id TEXT,
    timestamp     REAL NOT NULL,
    user_id       TEXT,
    raw           TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_parent ON events (project, parent_run_id, type, event);
CREATE TABLE IF NOT EXISTS users (
    project    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    props      TEXT,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (project, user_id)
);
CREATE TABLE IF NOT EXISTS threads (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    id      TEXT NOT NULL,
    user_id TEXT,
    tags    TEXT,
    UNIQUE (project, id)
);
CREATE TABLE IF NOT EXISTS feedback (
    project  TEXT NOT NULL,
    run_id   TEXT NOT NULL,
    feedback TEXT NOT NULL,
    PRIMARY KEY (project, run_id)
);
";

/// An event that passed validation, with its text as received.
#[derive(Debug, Clone, Copy)]
pub struct Accepted<'a> {
    pub text: &'a str,
    pub event: &'a ValidEvent<'a>,
}

/// What became of one accepted event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    Stored,
    /// Already stored earlier (same project, `type`, `event`, `runId` and `timestamp`).
    Duplicate,
}

/// One stored event, as `GET /api/events` lists it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredEvent {
    pub received_at: i64,
    pub project: String,
    /// The event's JSON exactly as it was received.
    pub event: Box<RawValue>,
}

// The views below hold JSON as text (`RawValue`), exactly as stored: printing it is copying
// it, whatever its depth.

/// One user, as `GET /api/users` lists it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub project: String,
    pub user_id: String,
    pub user_props: Option<Box<RawValue>>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub thread_count: i64,
}

/// One thread, as `GET /api/threads` lists it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadSummary {
    pub id: String,
    pub project: String,
    pub user_id: Option<String>,
    pub tags: Box<RawValue>,
    pub message_count: i64,
}

/// One thread with its messages, as `GET /api/threads/{id}` shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadDetail {
    pub id: String,
    pub project: String,
    pub user_id: Option<String>,
    pub user_props: Option<Box<RawValue>>,
    pub tags: Box<RawValue>,
    pub messages: Vec<MessageView>,
}

/// One message of a thread, with the feedback merged for it so far.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub run_id: String,
    pub role: Option<Box<RawValue>>,
    pub content: Option<Box<RawValue>>,
    pub timestamp: Option<Box<RawValue>>,
    /// The `message` object exactly as it was received.
    pub message: Option<Box<RawValue>>,
    pub feedback: Option<Box<RawValue>>,
}

pub struct Storage {
    conn: Mutex<Connection>,
}

impl Storage {
    /// Opens (and creates if needed) the database; `:memory:` for a throwaway one.
    pub fn open(path: &str) -> rusqlite::Result<Storage> {
        let conn = if path == ":memory:" {
            Connection::open_in_memory()?
        } else {
            let conn = Connection::open(path)?;
            // WAL: readers of the file (sqlite3, a dashboard) do not block the collector.
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| {
                row.get::<_, String>(0)
            })?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn
        };
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Storage {
            conn: Mutex::new(conn),
        })
    }

    /// A panic elsewhere while holding the lock leaves the connection usable: SQLite rolls back
    /// an unfinished transaction when it is dropped.
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores accepted events in the order given, in one transaction, skipping duplicates.
    pub fn store(
        &self,
        project: &str,
        received_at: i64,
        events: &[Accepted<'_>],
    ) -> rusqlite::Result<Vec<StoreOutcome>> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut outcomes = Vec::with_capacity(events.len());
        for event in events {
            outcomes.push(store_one(&tx, project, received_at, event)?);
        }
        tx.commit()?;
        Ok(outcomes)
    }

    /// Stored events in arrival order, of one project or of all.
    pub fn events(&self, project: Option<&str>) -> rusqlite::Result<Vec<StoredEvent>> {
        let conn = self.lock();
        let mut statement = conn.prepare_cached(
            "SELECT received_at, project, raw FROM events
             WHERE ?1 IS NULL OR project = ?1 ORDER BY seq",
        )?;
        let rows = statement.query_map(params![project], |row| {
            Ok(StoredEvent {
                received_at: row.get(0)?,
                project: row.get(1)?,
                event: raw_json(row.get::<_, String>(2)?),
            })
        })?;
        rows.collect()
    }

    /// Users in the order they were first seen.
    pub fn users(&self, project: Option<&str>) -> rusqlite::Result<Vec<UserView>> {
        let conn = self.lock();
        let mut statement = conn.prepare_cached(
            "SELECT u.project, u.user_id, u.props, u.first_seen, u.last_seen,
                    (SELECT COUNT(*) FROM threads t
                     WHERE t.project = u.project AND t.user_id = u.user_id)
             FROM users u WHERE ?1 IS NULL OR u.project = ?1
             ORDER BY u.first_seen, u.rowid",
        )?;
        let rows = statement.query_map(params![project], |row| {
            Ok(UserView {
                project: row.get(0)?,
                user_id: row.get(1)?,
                user_props: row.get::<_, Option<String>>(2)?.map(raw_json),
                first_seen: row.get(3)?,
                last_seen: row.get(4)?,
                thread_count: row.get(5)?,
            })
        })?;
        rows.collect()
    }

    /// Threads in the order they were first seen.
    pub fn threads(&self, project: Option<&str>) -> rusqlite::Result<Vec<ThreadSummary>> {
        let conn = self.lock();
        let mut statement = conn.prepare_cached(
            "SELECT t.id, t.project, t.user_id, t.tags,
                    (SELECT COUNT(*) FROM events e
                     WHERE e.project = t.project AND e.parent_run_id = t.id
                       AND e.type = 'thread' AND e.event = 'chat')
             FROM threads t WHERE ?1 IS NULL OR t.project = ?1 ORDER BY t.seq",
        )?;
        let rows = statement.query_map(params![project], |row| {
            Ok(ThreadSummary {
                id: row.get(0)?,
                project: row.get(1)?,
                user_id: row.get(2)?,
                tags: tags_or_empty(row.get(3)?),
                message_count: row.get(4)?,
            })
        })?;
        rows.collect()
    }

    /// One thread (the first one seen with that id if no project is given), or `None`.
    pub fn thread(
        &self,
        id: &str,
        project: Option<&str>,
    ) -> rusqlite::Result<Option<ThreadDetail>> {
        let conn = self.lock();
        let found = conn
            .prepare_cached(
                "SELECT project, user_id, tags FROM threads
                 WHERE id = ?1 AND (?2 IS NULL OR project = ?2) ORDER BY seq LIMIT 1",
            )?
            .query_row(params![id, project], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, Option<String>>(2)?,
                ))
            })
            .optional()?;
        let Some((project, user_id, tags)) = found else {
            return Ok(None);
        };

        let user_props = match &user_id {
            Some(user_id) => conn
                .prepare_cached("SELECT props FROM users WHERE project = ?1 AND user_id = ?2")?
                .query_row(params![project, user_id], |row| {
                    row.get::<_, Option<String>>(0)
                })
                .optional()?
                .flatten(),
            None => None,
        };

        let mut statement = conn.prepare_cached(
            "SELECT e.run_id, e.raw, f.feedback FROM events e
             LEFT JOIN feedback f ON f.project = e.project AND f.run_id = e.run_id
             WHERE e.project = ?1 AND e.parent_run_id = ?2
               AND e.type = 'thread' AND e.event = 'chat'
             ORDER BY e.timestamp, e.seq",
        )?;
        let messages = statement
            .query_map(params![project, id], |row| {
                let text: String = row.get(1)?;
                let event = serde_json::from_str::<&RawValue>(&text)
                    .ok()
                    .and_then(Object::parse)
                    .unwrap_or_default();
                let message = event.get("message");
                let message_fields = message.and_then(Object::parse).unwrap_or_default();
                Ok(MessageView {
                    run_id: row.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    role: message_fields.get("role").map(RawValue::to_owned),
                    content: message_fields.get("content").map(RawValue::to_owned),
                    timestamp: event.get("timestamp").map(RawValue::to_owned),
                    message: message.map(RawValue::to_owned),
                    feedback: row.get::<_, Option<String>>(2)?.map(raw_json),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;

        Ok(Some(ThreadDetail {
            id: id.to_string(),
            project,
            user_id,
            user_props: user_props.map(raw_json),
            tags: tags_or_empty(tags),
            messages,
        }))
    }
}

fn store_one(
    tx: &Transaction<'_>,
    project: &str,
    received_at: i64,
    accepted: &Accepted<'_>,
) -> rusqlite::Result<StoreOutcome> {
    let event = &accepted.event;
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO events
             (project, received_at, dedupe_key, type, event, run_id, parent_run_id,
              timestamp, user_id, raw)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            project,
            received_at,
            dedupe_key(project, accepted),
            event.kind,
            event.event,
            event.run_id,
            event.parent_run_id,
            event.timestamp.as_f64().unwrap_or(0.0),
            event.user_id,
            accepted.text,
        ])?;
    if inserted == 0 {
        return Ok(StoreOutcome::Duplicate);
    }
    update_user(tx, project, received_at, event)?;
    update_thread(tx, project, event)?;
    merge_feedback(tx, project, event)?;
    Ok(StoreOutcome::Stored)
}

/// What makes two deliveries "the same event": project, `type`, `event`, `runId` and
/// `timestamp`. Logs have no `runId`, so for them the whole event is the key.
fn dedupe_key(project: &str, accepted: &Accepted<'_>) -> String {
    let event = accepted.event;
    match &event.run_id {
        Some(run_id) => json!([project, event.kind, event.event, run_id, event.timestamp]),
        None => json!([project, "whole-event", accepted.text]),
    }
    .to_string()
}

/// Like the real server, an event naming a user *replaces* that user's stored properties with
/// its own `userProps` — and an event with a `userId` but no `userProps` wipes them. The real
/// server skips run `end`/`error` events here, and so does this.
fn update_user(
    tx: &Transaction<'_>,
    project: &str,
    received_at: i64,
    event: &ValidEvent<'_>,
) -> rusqlite::Result<()> {
    let Some(user_id) = &event.user_id else {
        return Ok(());
    };
    let ends_a_run =
        event.kind.as_deref() != Some("log") && matches!(event.event.as_ref(), "end" | "error");
    if ends_a_run {
        return Ok(());
    }
    // As received: copied, never parsed into a tree, so any depth is fine.
    let props = event.user_props.map(RawValue::get);
    tx.prepare_cached(
        "INSERT INTO users (project, user_id, props, first_seen, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT (project, user_id) DO UPDATE
         SET props = excluded.props, last_seen = excluded.last_seen",
    )?
    .execute(params![project, user_id, props, received_at])?;
    Ok(())
}

/// A `type:"thread"` event names its thread in `parentRunId`. The thread takes the user of its
/// latest message event (`event:"chat"`, none if that message named no user), and its tags from
/// the latest event that carries `threadTags`.
fn update_thread(
    tx: &Transaction<'_>,
    project: &str,
    event: &ValidEvent<'_>,
) -> rusqlite::Result<()> {
    let (Some("thread"), Some(thread_id)) = (event.kind.as_deref(), &event.parent_run_id) else {
        return Ok(());
    };
    tx.prepare_cached("INSERT OR IGNORE INTO threads (project, id) VALUES (?1, ?2)")?
        .execute(params![project, thread_id])?;
    if event.is_thread_message() {
        tx.prepare_cached("UPDATE threads SET user_id = ?3 WHERE project = ?1 AND id = ?2")?
            .execute(params![project, thread_id, event.user_id])?;
    }
    if let Some(tags) = &event.thread_tags {
        // Strings only, so printing them cannot fail.
        let tags = serde_json::to_string(tags).unwrap_or_else(|_| "[]".to_string());
        tx.prepare_cached("UPDATE threads SET tags = ?3 WHERE project = ?1 AND id = ?2")?
            .execute(params![project, thread_id, tags])?;
    }
    Ok(())
}

/// Feedback for a run is merged key by key into what is stored for it: new keys overwrite old
/// ones, others stay, like the real server.
fn merge_feedback(
    tx: &Transaction<'_>,
    project: &str,
    event: &ValidEvent<'_>,
) -> rusqlite::Result<()> {
    let (Some(feedback), Some(run_id)) = (event.feedback, &event.run_id) else {
        return Ok(());
    };
    let stored: Option<String> = tx
        .prepare_cached("SELECT feedback FROM feedback WHERE project = ?1 AND run_id = ?2")?
        .query_row(params![project, run_id], |row| row.get(0))
        .optional()?;
    let stored = stored
        .as_deref()
        .and_then(|text| serde_json::from_str::<&RawValue>(text).ok());
    tx.prepare_cached(
        "INSERT INTO feedback (project, run_id, feedback) VALUES (?1, ?2, ?3)
         ON CONFLICT (project, run_id) DO UPDATE SET feedback = excluded.feedback",
    )?
    .execute(params![project, run_id, merge_objects(stored, feedback)])?;
    Ok(())
}

/// `{...old, ...new}` as JavaScript spreads it, on the objects' text: each key once, in the
/// order first seen, with its last value. The values are copied as text, never parsed.
fn merge_objects(old: Option<&RawValue>, new: &RawValue) -> String {
    let mut order: Vec<(&RawValue, &RawValue)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let objects = old
        .and_then(Object::parse)
        .into_iter()
        .chain(Object::parse(new));
    for object in objects {
        for &(key, value) in object.members() {
            let name = json_text::string(key).unwrap_or_default().into_owned();
            match index.get(&name) {
                Some(&at) => order[at] = (key, value),
                None => {
                    index.insert(name, order.len());
                    order.push((key, value));
                }
            }
        }
    }
    let members: Vec<String> = order
        .iter()
        .map(|(key, value)| format!("{}:{}", key.get(), value.get()))
        .collect();
    format!("{{{}}}", members.join(","))
}

/// Stored JSON text to serve as it is; text that is somehow not JSON comes back as a JSON
/// string saying so. Checking it is a loop, not a recursion: any depth is fine.
fn raw_json(text: String) -> Box<RawValue> {
    match RawValue::from_string(text) {
        Ok(raw) => raw,
        Err(_) => serde_json::value::to_raw_value("unreadable stored JSON").unwrap_or_default(),
    }
}

fn tags_or_empty(text: Option<String>) -> Box<RawValue> {
    raw_json(text.unwrap_or_else(|| "[]".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::validate;
    use serde_json::Value;

    const PROJECT: &str = "0b3a4e7c-1f2d-4c5b-9a8e-7d6c5b4a3f21";

    fn store(storage: &Storage, values: &[Value]) -> Vec<StoreOutcome> {
        let texts: Vec<Box<RawValue>> = values
            .iter()
            .map(|value| serde_json::value::to_raw_value(value).unwrap())
            .collect();
        let events: Vec<ValidEvent<'_>> = texts.iter().map(|t| validate(t).unwrap()).collect();
        let accepted: Vec<_> = texts
            .iter()
            .zip(&events)
            .map(|(text, event)| Accepted {
                text: text.get(),
                event,
            })
            .collect();
        storage.store(PROJECT, 1000, &accepted).unwrap()
    }

    fn value(raw: Option<&RawValue>) -> Value {
        raw.map_or(Value::Null, |raw| serde_json::from_str(raw.get()).unwrap())
    }

    #[test]
    fn duplicates_are_stored_once() {
        let storage = Storage::open(":memory:").unwrap();
        let event = json!({"type":"llm","event":"start","runId":"r","timestamp":5});
        assert_eq!(
            store(&storage, &[event.clone(), event.clone()]),
            [StoreOutcome::Stored, StoreOutcome::Duplicate]
        );
        assert_eq!(store(&storage, &[event]), [StoreOutcome::Duplicate]);
        assert_eq!(storage.events(Some(PROJECT)).unwrap().len(), 1);
        assert!(storage.events(Some("other")).unwrap().is_empty());
    }

    #[test]
    fn feedback_merges_and_props_are_replaced() {
        let storage = Storage::open(":memory:").unwrap();
        store(
            &storage,
            &[
                json!({"type":"thread","event":"chat","runId":"m","parentRunId":"t","timestamp":1,
                       "userId":"u","userProps":{"name":"A","email":"a@x"},
                       "message":{"role":"user","content":"hi"}}),
                json!({"type":null,"event":"feedback","runId":"m","timestamp":2,"userId":"u",
                       "userProps":{"name":"B"},"feedback":{"thumb":"up","comment":"c"}}),
                json!({"type":null,"event":"feedback","runId":"m","timestamp":3,
                       "feedback":{"thumb":"down"}}),
            ],
        );
        let users = storage.users(None).unwrap();
        assert_eq!(value(users[0].user_props.as_deref()), json!({"name":"B"}));
        assert_eq!(users[0].thread_count, 1);
        let thread = storage.thread("t", None).unwrap().unwrap();
        assert_eq!(
            value(thread.messages[0].feedback.as_deref()),
            json!({"thumb":"down","comment":"c"})
        );
        assert_eq!(
            thread.messages[0].feedback.as_deref().unwrap().get(),
            r#"{"comment":"c","thumb":"down"}"#,
            "merged in place, in the order the keys came (json! sorts them)"
        );
        assert!(storage.thread("nope", None).unwrap().is_none());
    }

    #[test]
    fn a_file_database_keeps_events_across_reopening() {
        let path = std::env::temp_dir().join(format!(
            "lunary-collector-test-{}-{:?}.db",
            std::process::id(),
            std::thread::current().id()
        ));
        let path_text = path.to_string_lossy().to_string();
        {
            let storage = Storage::open(&path_text).unwrap();
            store(
                &storage,
                &[json!({"type":"llm","event":"start","runId":"r","timestamp":5})],
            );
        }
        let reopened = Storage::open(&path_text).unwrap();
        assert_eq!(reopened.events(None).unwrap().len(), 1);
        drop(reopened);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path_text}{suffix}"));
        }
    }
}
