//! Limits and timings of the pipeline. Defaults are those of the system Jarvis replaces.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The `[pipeline]` configuration table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Remediation attempts allowed per alert and routed target within the attempt window.
    pub max_attempts: u32,
    /// The window attempts are counted in, in seconds (default 2 h).
    pub attempt_window_seconds: u64,
    /// The same fingerprint is not processed again within this many seconds (default 5 min).
    pub dedupe_window_seconds: u64,
    /// After an escalation, no new escalation notice for the same key for this long (default 4 h).
    pub escalation_cooldown_seconds: u64,
    /// How long the verifier may wait for an alert to clear (default 120 s).
    pub verification_max_wait_seconds: u64,
    /// Whether fixes are verified at all. Without verification outcomes are "unverified".
    pub verification_enabled: bool,
    /// How long a process may hold an incident before another may take it over (default 15 min).
    pub lease_seconds: u64,
    /// A step waiting for approval escalates after this long (default 30 min).
    pub approval_expiry_seconds: u64,
    /// An LLM plan whose stated confidence is below this needs approval (default 0.6).
    pub min_plan_confidence: f64,
    /// Incidents a process works on at once (default 8). Webhooks are
    /// acknowledged as soon as their alerts are stored; the incidents they
    /// open wait in the store, oldest first, for one of these slots.
    pub max_concurrent_incidents: u32,
    /// Accepted webhook batches that may wait in memory for a slot (default
    /// 4096). Beyond that a batch is only in the store, and a sweep every
    /// few seconds picks its incidents up from there once the queue drains.
    pub max_queued_batches: u32,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            max_attempts: 3,
            attempt_window_seconds: 2 * 3600,
            dedupe_window_seconds: 5 * 60,
            escalation_cooldown_seconds: 4 * 3600,
            verification_max_wait_seconds: 120,
            verification_enabled: true,
            lease_seconds: 15 * 60,
            approval_expiry_seconds: 30 * 60,
            min_plan_confidence: 0.6,
            max_concurrent_incidents: 8,
            max_queued_batches: 4096,
        }
    }
}

impl PipelineConfig {
    pub fn attempt_window(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.attempt_window_seconds as i64)
    }

    pub fn dedupe_window(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.dedupe_window_seconds as i64)
    }

    pub fn escalation_cooldown(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.escalation_cooldown_seconds as i64)
    }

    pub fn verification_max_wait(&self) -> Duration {
        Duration::from_secs(self.verification_max_wait_seconds)
    }

    pub fn lease(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.lease_seconds as i64)
    }

    pub fn approval_expiry(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.approval_expiry_seconds as i64)
    }

    /// Every problem with the values, each naming its key.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.max_attempts == 0 {
            problems.push("pipeline.max_attempts: must be at least 1".to_string());
        }
        if self.attempt_window_seconds == 0 {
            problems.push("pipeline.attempt_window_seconds: must be positive".to_string());
        }
        if self.verification_max_wait_seconds == 0 || self.verification_max_wait_seconds > 3600 {
            problems.push(
                "pipeline.verification_max_wait_seconds: must be between 1 and 3600".to_string(),
            );
        }
        if !(0.0..=1.0).contains(&self.min_plan_confidence) {
            problems.push("pipeline.min_plan_confidence: must be within [0, 1]".to_string());
        }
        if self.max_queued_batches == 0 {
            problems.push("pipeline.max_queued_batches: must be at least 1".to_string());
        }
        if self.max_concurrent_incidents == 0 {
            problems.push("pipeline.max_concurrent_incidents: must be at least 1".to_string());
        }
        if self.lease_seconds < 30 {
            problems.push("pipeline.lease_seconds: must be at least 30".to_string());
        }
        problems
    }
}
