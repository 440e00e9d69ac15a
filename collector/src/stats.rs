//! Counters of what the ingest endpoint saw, since this process started, in total and per
//! project. They let tests prove delivery counts ("stored exactly once") without reading the
//! database. Not persisted: a restart starts from zero even with a file database.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::Serialize;

/// The numbers `GET /api/stats` answers with.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    /// Ingest requests (preflights excluded), faulted ones included.
    pub requests: u64,
    /// Events in batches that were processed, whatever became of them.
    pub received: u64,
    /// Events stored (first deliveries).
    pub stored: u64,
    /// Events accepted again after having been stored: answered success, not stored again.
    pub duplicates: u64,
    /// Events answered `success:false`.
    pub rejected: u64,
    /// How many events were rejected for each reason.
    pub rejected_reasons: BTreeMap<String, u64>,
    /// Ingest requests that a fault rule was applied to.
    pub faults_injected: u64,
}

/// What became of one event of a batch, for counting.
#[derive(Debug, Clone, Copy)]
pub enum Tally<'a> {
    Stored,
    Duplicate,
    Rejected(&'a str),
}

#[derive(Default)]
pub struct Stats {
    inner: Mutex<StatsInner>,
}

#[derive(Default)]
struct StatsInner {
    total: Counters,
    per_project: HashMap<String, Counters>,
}

impl StatsInner {
    /// Applies a change to the totals and, when the project is known, to that project's counters.
    fn update(&mut self, project: Option<&str>, change: impl Fn(&mut Counters)) {
        change(&mut self.total);
        if let Some(project) = project {
            change(self.per_project.entry(project.to_string()).or_default());
        }
    }
}

impl Stats {
    fn lock(&self) -> MutexGuard<'_, StatsInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn record_request(&self, project: Option<&str>) {
        self.lock().update(project, |c| c.requests += 1);
    }

    pub fn record_fault(&self, project: Option<&str>) {
        self.lock().update(project, |c| c.faults_injected += 1);
    }

    pub fn record_events<'a>(&self, project: &str, tallies: impl IntoIterator<Item = Tally<'a>>) {
        let mut inner = self.lock();
        for tally in tallies {
            inner.update(Some(project), |c| {
                c.received += 1;
                match tally {
                    Tally::Stored => c.stored += 1,
                    Tally::Duplicate => c.duplicates += 1,
                    Tally::Rejected(reason) => {
                        c.rejected += 1;
                        *c.rejected_reasons.entry(reason.to_string()).or_default() += 1;
                    }
                }
            });
        }
    }

    /// The totals, or one project's counters (zeros for a project never seen).
    pub fn snapshot(&self, project: Option<&str>) -> Counters {
        let inner = self.lock();
        match project {
            None => inner.total.clone(),
            Some(project) => inner.per_project.get(project).cloned().unwrap_or_default(),
        }
    }
}
