//! Records the store keeps besides alerts and incidents.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Alert, AlertId, ApprovalId, HandoffId, IncidentId, RouteKey, Step};

/// One webhook's worth of alerts, routed, ready to be committed together.
#[derive(Clone, Debug, PartialEq)]
pub struct IngestBatch {
    /// The payload as received, kept for audit and replay.
    pub raw: Option<String>,
    pub received_at: DateTime<Utc>,
    pub items: Vec<IngestItem>,
}

/// One alert of a batch with the key it was routed to.
#[derive(Clone, Debug, PartialEq)]
pub struct IngestItem {
    pub alert: Alert,
    pub key: RouteKey,
}

/// What the store did with one alert of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ingested {
    pub alert: AlertId,
    /// `false` when the same fingerprint, `startsAt` and status were already stored.
    pub new: bool,
    /// The incident a new firing alert opened (or the one a redelivery already has).
    pub incident: Option<IncidentId>,
}

/// An alert as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredAlert {
    pub id: AlertId,
    pub alert: Alert,
    pub key: RouteKey,
    pub received_at: DateTime<Utc>,
    pub incident: Option<IncidentId>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// Filters for listing incidents, newest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IncidentFilter {
    pub state: Option<super::IncidentState>,
    pub fingerprint: Option<super::Fingerprint>,
    pub alert_name: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub limit: u32,
    pub offset: u32,
}

/// One line of the append-only audit log: a command Jarvis ran or refused, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub incident: Option<IncidentId>,
    pub action: String,
    pub host: Option<String>,
    /// `allow`, `approve` or `refuse`.
    pub decision: String,
    pub rule: String,
    pub reason: String,
    pub executed: bool,
    pub exit_code: Option<i32>,
}

/// A notice as it was sent (or failed to be).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoticeRecord {
    pub notice: super::Notice,
    pub delivered: bool,
    pub error: Option<String>,
}

/// A step parked for an operator's decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub id: ApprovalId,
    pub incident: IncidentId,
    pub step: Step,
    pub rule: String,
    pub reason: String,
    pub status: ApprovalStatus,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
    Expired,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Rejected => "rejected",
            ApprovalStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Rejected, Self::Expired]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A change in a host's availability.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostStatus {
    pub host: String,
    pub online: bool,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A self-restart hand-off: Jarvis asked n8n to restart a target and resume an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handoff {
    pub id: HandoffId,
    pub target: String,
    pub incident: Option<IncidentId>,
    pub state: HandoffState,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffState {
    Pending,
    Resumed,
    Cancelled,
    TimedOut,
}

impl HandoffState {
    pub fn as_str(self) -> &'static str {
        match self {
            HandoffState::Pending => "pending",
            HandoffState::Resumed => "resumed",
            HandoffState::Cancelled => "cancelled",
            HandoffState::TimedOut => "timed_out",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Resumed,
            Self::Cancelled,
            Self::TimedOut,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// State captured before a remediation, for rollback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub incident: IncidentId,
    pub host: String,
    pub label: String,
    pub content: String,
    pub at: DateTime<Utc>,
}

/// One anomaly the detector raised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnomalyRecord {
    pub series: String,
    pub value: f64,
    pub mean: f64,
    pub z_score: f64,
    pub at: DateTime<Utc>,
    /// The synthetic alert it became, if any.
    pub alert_fingerprint: Option<String>,
}

/// Rows removed by a retention prune.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    pub alerts: u64,
    pub incidents: u64,
    pub attempts: u64,
    pub audit: u64,
    pub notices: u64,
}
