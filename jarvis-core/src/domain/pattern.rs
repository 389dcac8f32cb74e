//! Learned remediation patterns.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Labels, PatternId, Step};

/// Where a pattern came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternSource {
    /// Loaded from a seed file.
    Seeded,
    /// Learned from a verified deterministic (runbook/hint) plan.
    Deterministic,
    /// Learned from a verified LLM plan.
    Llm,
}

impl PatternSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PatternSource::Seeded => "seeded",
            PatternSource::Deterministic => "deterministic",
            PatternSource::Llm => "llm",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "seeded" => Some(PatternSource::Seeded),
            "deterministic" => Some(PatternSource::Deterministic),
            "llm" => Some(PatternSource::Llm),
            _ => None,
        }
    }
}

/// A plan that fixed a symptom, with its verified track record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pattern {
    pub id: PatternId,
    /// Hash of the alert name and the symptom labels; the lookup key.
    pub signature: String,
    pub alert_name: String,
    /// The normalized labels that identify the symptom.
    pub symptom: Labels,
    pub steps: Vec<Step>,
    /// Verified successes (the Verifier said the alert cleared).
    pub successes: u32,
    /// Attempts that failed or left the alert firing.
    pub failures: u32,
    pub source: PatternSource,
    pub created_at: DateTime<Utc>,
    pub last_used: Option<DateTime<Utc>>,
}

/// A plan known to have failed for a symptom: never repeated within the attempt window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailurePattern {
    pub signature: String,
    pub plan_signature: String,
    /// One line per step, for the planner's "already tried" list.
    pub summary: Vec<String>,
    pub failures: u32,
    pub reason: String,
    pub last_failed_at: DateTime<Utc>,
}
