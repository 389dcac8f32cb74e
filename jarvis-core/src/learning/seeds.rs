//! Seed patterns: plans an operator vouches for before Jarvis has learned anything.
//!
//! The document is a table with one key, `patterns`, an array of entries:
//!
//! ```toml
//! [[patterns]]
//! name = "container-down-start"          # optional; errors use it
//! alert_name = "ContainerDown"
//! symptom = {}                            # optional symptom labels (service, container, system, job, host_role)
//! successes = 3                           # optional; operator-vouched successes, default 0
//! steps = [
//!   { kind = "shell", host = "{host}", command = "docker start {container}" },
//! ]
//! ```
//!
//! Steps use the [`Step`] serde format. String fields may contain the
//! placeholders in [`PLACEHOLDERS`]; [`fill_placeholders`] substitutes them from
//! the alert's hints. Seeds go through the safety validator like any other plan.
//!
//! Core does not parse TOML itself: the caller deserializes the file into a
//! `serde_json::Value` (e.g. `toml::from_str::<serde_json::Value>(text)`) and
//! passes it to [`seeds_from_document`].

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{HOST_ROLE_LABEL, SYMPTOM_LABELS, Symptom};
use crate::domain::{Labels, Pattern, PatternId, PatternSource, Step, steps_signature};

/// Placeholders a seeded (or learned) step may contain, filled from the alert's hints.
pub const PLACEHOLDERS: [&str; 4] = ["host", "service", "container", "system"];

/// Why a seed document was rejected. Entries are numbered from 1 and named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeedError {
    #[error("seed document is invalid: {reason}")]
    Document { reason: String },
    #[error("seed pattern #{index} ({name}) is invalid: {reason}")]
    Entry {
        index: usize,
        name: String,
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedDocument {
    #[serde(default)]
    patterns: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedEntry {
    /// Read from the raw entry by `entry_name`, for error messages.
    #[serde(default)]
    #[expect(dead_code, reason = "accepted here, read before deserializing")]
    name: Option<String>,
    alert_name: String,
    #[serde(default)]
    symptom: Labels,
    #[serde(default)]
    successes: u32,
    steps: Vec<Step>,
}

/// Seed patterns from a deserialized seed document; errors name the bad entry.
pub fn seeds_from_document(
    document: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<Vec<Pattern>, SeedError> {
    let document: SeedDocument =
        serde_json::from_value(document).map_err(|e| SeedError::Document {
            reason: e.to_string(),
        })?;
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut patterns = Vec::with_capacity(document.patterns.len());
    for (i, raw) in document.patterns.into_iter().enumerate() {
        let index = i + 1;
        let name = entry_name(&raw);
        let fail = |reason: String| SeedError::Entry {
            index,
            name: name.clone(),
            reason,
        };
        let entry: SeedEntry = serde_json::from_value(raw).map_err(|e| fail(e.to_string()))?;
        if entry.alert_name.trim().is_empty() {
            return Err(fail("alert_name is empty".into()));
        }
        if entry.steps.is_empty() {
            return Err(fail("steps is empty".into()));
        }
        if let Some(key) = entry
            .symptom
            .keys()
            .find(|k| !SYMPTOM_LABELS.contains(&k.as_str()) && k.as_str() != HOST_ROLE_LABEL)
        {
            return Err(fail(format!(
                "symptom label {key:?} is not one of {SYMPTOM_LABELS:?} or {HOST_ROLE_LABEL:?}, so it would never match"
            )));
        }
        for (n, step) in entry.steps.iter().enumerate() {
            if let Some(unknown) = unknown_placeholder(step) {
                return Err(fail(format!(
                    "step {} uses unknown placeholder {{{unknown}}}; known: {PLACEHOLDERS:?}",
                    n + 1
                )));
            }
        }
        let symptom = Symptom::new(entry.alert_name.trim(), entry.symptom);
        let plan = steps_signature(&entry.steps);
        if let Some(first) = seen.insert((symptom.signature.clone(), plan), index) {
            return Err(fail(format!(
                "same symptom and steps as seed pattern #{first}"
            )));
        }
        patterns.push(Pattern {
            id: PatternId::new(),
            signature: symptom.signature,
            alert_name: symptom.alert_name,
            symptom: symptom.labels,
            steps: entry.steps,
            successes: entry.successes,
            failures: 0,
            source: PatternSource::Seeded,
            created_at: now,
            last_used: None,
        });
    }
    Ok(patterns)
}

fn entry_name(raw: &serde_json::Value) -> String {
    ["name", "alert_name"]
        .iter()
        .find_map(|k| raw.get(k).and_then(serde_json::Value::as_str))
        .unwrap_or("unnamed")
        .to_string()
}

/// Every `{word}` in the step's string fields.
fn placeholders_in(value: &serde_json::Value, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::String(s) => {
            let mut rest = s.as_str();
            while let Some(open) = rest.find('{') {
                let after = &rest[open + 1..];
                match after.find('}') {
                    Some(close) => {
                        let word = &after[..close];
                        if !word.is_empty()
                            && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                        {
                            out.insert(word.to_string());
                        }
                        rest = &after[close + 1..];
                    }
                    None => break,
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| placeholders_in(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| placeholders_in(v, out)),
        _ => {}
    }
}

fn unknown_placeholder(step: &Step) -> Option<String> {
    let value = serde_json::to_value(&step.action).ok()?;
    let mut found = BTreeSet::new();
    placeholders_in(&value, &mut found);
    found
        .into_iter()
        .find(|p| !PLACEHOLDERS.contains(&p.as_str()))
}

/// Why placeholders could not be filled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceholderError {
    /// A placeholder the steps use has no value.
    #[error("no value for placeholder {{{0}}}")]
    Missing(String),
    /// The step no longer has its serde shape (cannot happen for string substitution).
    #[error("step is malformed after substitution: {0}")]
    Malformed(String),
}

/// The steps with `{host}`, `{service}`, `{container}` and `{system}` replaced
/// by `values`. Values come from alert labels and are untrusted: the result
/// must pass the safety validator like any other plan.
pub fn fill_placeholders(
    steps: &[Step],
    values: &BTreeMap<&str, &str>,
) -> Result<Vec<Step>, PlaceholderError> {
    steps
        .iter()
        .map(|step| {
            let mut value = serde_json::to_value(&step.action)
                .map_err(|e| PlaceholderError::Malformed(e.to_string()))?;
            let mut used = BTreeSet::new();
            placeholders_in(&value, &mut used);
            for name in used.iter().filter(|p| PLACEHOLDERS.contains(&p.as_str())) {
                if !values.contains_key(name.as_str()) {
                    return Err(PlaceholderError::Missing(name.clone()));
                }
            }
            replace_in(&mut value, values);
            let action = serde_json::from_value(value)
                .map_err(|e| PlaceholderError::Malformed(e.to_string()))?;
            Ok(Step {
                action,
                reason: step.reason.clone(),
            })
        })
        .collect()
}

fn replace_in(value: &mut serde_json::Value, values: &BTreeMap<&str, &str>) {
    match value {
        serde_json::Value::String(s) => {
            for (name, with) in values {
                if PLACEHOLDERS.contains(name) {
                    *s = s.replace(&format!("{{{name}}}"), with);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| replace_in(v, values)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| replace_in(v, values)),
        _ => {}
    }
}
