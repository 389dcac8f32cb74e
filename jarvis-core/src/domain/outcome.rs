//! What happened when Jarvis acted: step results, verification, attempts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AttemptId, IncidentId, LlmUsage, Plan, RouteKey, Tier};

/// The result of running one step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// Exit status; `None` when the step was killed or never produced one.
    pub exit_code: Option<i32>,
    /// Captured standard output, truncated to the executor's cap.
    pub stdout: String,
    pub stderr: String,
    #[serde(with = "millis")]
    pub duration: Duration,
    /// The output was cut at the cap.
    pub truncated: bool,
    /// The step was stopped at its timeout.
    pub timed_out: bool,
    /// Nothing ran: the executor only recorded what it would have done.
    pub dry_run: bool,
}

impl StepResult {
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out
    }
}

/// One step as it was recorded in an attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub summary: String,
    pub class: String,
    pub rule: String,
    pub result: Option<StepResult>,
    /// Set when the executor failed to run the step at all.
    pub error: Option<String>,
}

/// Whether the alert cleared after a remediation, per the Verifier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verification {
    /// Prometheus says the alert is no longer firing.
    Cleared {
        #[serde(with = "millis")]
        after: Duration,
    },
    /// Still firing when the verifier stopped waiting.
    StillFiring {
        #[serde(with = "millis")]
        waited: Duration,
    },
    /// No verdict: verification is off or Prometheus could not be asked. Never a success.
    Unverified { reason: String },
}

impl Verification {
    pub fn is_cleared(&self) -> bool {
        matches!(self, Verification::Cleared { .. })
    }
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Verified: the alert cleared.
    Resolved,
    /// The fix ran and could not be verified.
    Unverified { reason: String },
    /// Commands failed or the alert stayed firing.
    Failed { reason: String },
    /// A step was refused by the validator.
    Refused { rule: String, reason: String },
    /// A step waits for approval.
    AwaitingApproval { reason: String },
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::Unverified { .. } => "unverified",
            Outcome::Failed { .. } => "failed",
            Outcome::Refused { .. } => "refused",
            Outcome::AwaitingApproval { .. } => "awaiting_approval",
        }
    }
}

/// One remediation attempt: a plan, what ran, and whether it worked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub id: AttemptId,
    pub incident: IncidentId,
    pub key: RouteKey,
    pub tier: Tier,
    pub plan: Plan,
    pub steps: Vec<StepRecord>,
    pub verification: Option<Verification>,
    pub outcome: Outcome,
    pub usage: LlmUsage,
    /// Diagnostic-only attempts never count toward the attempt limit.
    pub counts_toward_limit: bool,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}
