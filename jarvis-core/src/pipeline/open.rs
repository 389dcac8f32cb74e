//! What correlation compares a new incident with: the open incidents, kept
//! in memory and brought up to date from the store.
//!
//! Correlating one incident used to read every open incident from the store.
//! That is nothing in a quiet hour, and quadratic in a storm: with thousands
//! of incidents waiting, each one read (and decoded) all the others. The
//! index keeps the few fields correlation needs. While it is small it is
//! reread whole on every use, exactly as before. Once it is large, the
//! process adds the incidents it ingests itself as it commits them
//! ([`super::Pipeline::note_ingested`]) and rereads the whole index every
//! [`FULL_REFRESH_SECS`], which is how incidents ingested by another replica
//! reach it. An entry may be stale (its incident has ended): every match is
//! checked against the store before it is acted on.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};

use crate::correlation::CorrelationItem;
use crate::domain::{Incident, IncidentId};

/// Up to this many open incidents the index is reread whole on every use.
pub(super) const SMALL: usize = 64;
/// A large index is reread whole at least this often (pipeline clock).
pub(super) const FULL_REFRESH_SECS: i64 = 15;
#[derive(Debug, Default)]
pub(super) struct OpenIndex {
    items: HashMap<IncidentId, CorrelationItem>,
    /// When the index was last reread whole.
    refreshed: Option<DateTime<Utc>>,
}

pub(super) fn item(incident: &Incident) -> CorrelationItem {
    CorrelationItem {
        id: incident.id,
        alert_name: incident.alert_name.clone(),
        labels: incident.labels.clone(),
        at: incident.created_at,
    }
}

impl OpenIndex {
    /// Whether the index must be reread whole from the store before use.
    pub fn stale(&self, now: DateTime<Utc>) -> bool {
        match self.refreshed {
            Some(at) => {
                self.items.len() <= SMALL || now - at >= TimeDelta::seconds(FULL_REFRESH_SECS)
            }
            None => true,
        }
    }

    /// Replaces the index with the store's open incidents, keeping what was
    /// added since `read_at` (committed after the store was read).
    pub fn replace(&mut self, open: &[Incident], read_at: DateTime<Utc>, now: DateTime<Utc>) {
        let mut items: HashMap<IncidentId, CorrelationItem> =
            open.iter().map(|i| (i.id, item(i))).collect();
        for (id, item) in self.items.drain() {
            if item.at >= read_at {
                items.entry(id).or_insert(item);
            }
        }
        self.items = items;
        self.refreshed = Some(now);
    }

    /// Adds an incident this process just committed.
    pub fn add(&mut self, item: CorrelationItem) {
        self.items.insert(item.id, item);
    }

    pub fn insert(&mut self, incident: &Incident) {
        if !incident.state.is_terminal() {
            self.items.insert(incident.id, item(incident));
        }
    }

    pub fn remove(&mut self, id: IncidentId) {
        self.items.remove(&id);
    }

    /// The entries `keep` accepts.
    pub fn select(&self, keep: impl Fn(&CorrelationItem) -> bool) -> Vec<IncidentId> {
        self.items
            .values()
            .filter(|i| keep(i))
            .map(|i| i.id)
            .collect()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IncidentState;
    use crate::ports::Store;
    use crate::testing::InMemoryStore;
    use crate::testing::contract::{at, open, walk};

    #[tokio::test]
    async fn small_indexes_are_reread_on_every_use_and_large_ones_periodically() {
        let store = InMemoryStore::default();
        let mut index = OpenIndex::default();
        assert!(index.stale(at(0)), "never read");
        open(&store, "NginxDown", "web0", at(0)).await;
        index.replace(&store.open_incidents().await.unwrap(), at(0), at(1));
        assert!(index.stale(at(1)), "small: always reread");
        for i in 1..=SMALL {
            open(&store, "NginxDown", &format!("web{i}"), at(i as i64)).await;
        }
        index.replace(&store.open_incidents().await.unwrap(), at(99), at(100));
        assert_eq!(index.len(), SMALL + 1);
        assert!(!index.stale(at(100 + FULL_REFRESH_SECS - 1)));
        assert!(index.stale(at(100 + FULL_REFRESH_SECS)));
    }

    #[tokio::test]
    async fn a_reread_keeps_what_was_added_after_the_read() {
        let store = InMemoryStore::default();
        let mut index = OpenIndex::default();
        let first = open(&store, "NginxDown", "web1", at(0)).await;
        walk(&store, first.id, &[IncidentState::Resolved], at(3)).await;
        let read = store.open_incidents().await.unwrap();
        // Committed after the read; added by the process that ingested it.
        let late = open(&store, "DiskFull", "db1", at(5)).await;
        index.add(item(&late));
        index.add(item(&first)); // stale: it has ended since
        index.replace(&read, at(4), at(6));
        assert_eq!(index.select(|_| true), vec![late.id]);
        index.remove(late.id);
        assert_eq!(index.len(), 0);
    }
}
