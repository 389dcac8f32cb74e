//! An in-memory index of patterns by symptom signature, for fast lookup.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{LearningConfig, PatternMatch, Symptom, choose};
use crate::domain::{FailurePattern, Pattern, PatternId};

/// Patterns grouped by symptom signature. Lookup is one hash probe, so a store
/// or cache can hold hundreds of thousands of patterns.
#[derive(Clone, Debug, Default)]
pub struct PatternIndex {
    by_signature: HashMap<String, Vec<Pattern>>,
    len: usize,
}

impl PatternIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a pattern, replacing the one with the same id.
    pub fn upsert(&mut self, pattern: Pattern) {
        let bucket = self
            .by_signature
            .entry(pattern.signature.clone())
            .or_default();
        match bucket.iter_mut().find(|p| p.id == pattern.id) {
            Some(slot) => *slot = pattern,
            None => {
                bucket.push(pattern);
                self.len += 1;
            }
        }
    }

    /// Removes a pattern by signature and id; returns it when it was present.
    pub fn remove(&mut self, signature: &str, id: PatternId) -> Option<Pattern> {
        let bucket = self.by_signature.get_mut(signature)?;
        let at = bucket.iter().position(|p| p.id == id)?;
        let removed = bucket.swap_remove(at);
        if bucket.is_empty() {
            self.by_signature.remove(signature);
        }
        self.len -= 1;
        Some(removed)
    }

    /// The patterns learned for a symptom signature.
    pub fn candidates(&self, signature: &str) -> &[Pattern] {
        self.by_signature.get(signature).map_or(&[], Vec::as_slice)
    }

    /// [`choose`] among the patterns for this symptom.
    pub fn choose(
        &self,
        symptom: &Symptom,
        failures: &[FailurePattern],
        now: DateTime<Utc>,
        cfg: &LearningConfig,
    ) -> PatternMatch {
        choose(self.candidates(&symptom.signature), failures, now, cfg)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &Pattern> {
        self.by_signature.values().flatten()
    }
}

impl FromIterator<Pattern> for PatternIndex {
    fn from_iter<I: IntoIterator<Item = Pattern>>(iter: I) -> Self {
        let mut index = PatternIndex::new();
        for pattern in iter {
            index.upsert(pattern);
        }
        index
    }
}
