//! Maintenance windows and notices.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{IncidentId, MaintenanceId};

/// What a maintenance window covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", content = "host", rename_all = "snake_case")]
pub enum MaintenanceScope {
    Global,
    Host(String),
}

/// A period during which alerts are recorded but not remediated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    pub id: MaintenanceId,
    pub scope: MaintenanceScope,
    pub reason: String,
    pub created_by: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Set when the window was ended early.
    pub ended_at: Option<DateTime<Utc>>,
    /// The Alertmanager silence created with the window, expired when it ends.
    /// Absent when no Alertmanager is configured or creating the silence failed
    /// (and in windows recorded before silences existed).
    #[serde(default)]
    pub silence_id: Option<String>,
}

impl MaintenanceWindow {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.starts_at <= now && now < self.ends_at && self.ended_at.is_none_or(|e| now < e)
    }

    /// Whether the window covers an alert about `host` (or an alert with no host).
    pub fn covers(&self, host: Option<&str>) -> bool {
        match &self.scope {
            MaintenanceScope::Global => true,
            MaintenanceScope::Host(h) => host == Some(h.as_str()),
        }
    }
}

/// What a notice is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    RemediationSuccess,
    RemediationUnverified,
    RemediationFailure,
    Escalation,
    IncidentSummary,
    ApprovalWaiting,
    HostOffline,
    HostOnline,
    Maintenance,
    PredictiveWarning,
    SelfRestart,
    Degraded,
    DailyReport,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::RemediationSuccess => "remediation_success",
            NoticeKind::RemediationUnverified => "remediation_unverified",
            NoticeKind::RemediationFailure => "remediation_failure",
            NoticeKind::Escalation => "escalation",
            NoticeKind::IncidentSummary => "incident_summary",
            NoticeKind::ApprovalWaiting => "approval_waiting",
            NoticeKind::HostOffline => "host_offline",
            NoticeKind::HostOnline => "host_online",
            NoticeKind::Maintenance => "maintenance",
            NoticeKind::PredictiveWarning => "predictive_warning",
            NoticeKind::SelfRestart => "self_restart",
            NoticeKind::Degraded => "degraded",
            NoticeKind::DailyReport => "daily_report",
        }
    }
}

/// A message for people. Never carries secrets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: NoticeKind,
    pub title: String,
    pub body: String,
    /// Ordered name/value pairs (commands, verification, next steps).
    pub fields: Vec<(String, String)>,
    pub incident: Option<IncidentId>,
    pub at: DateTime<Utc>,
}

impl Notice {
    pub fn new(kind: NoticeKind, title: impl Into<String>, at: DateTime<Utc>) -> Self {
        Notice {
            kind,
            title: title.into(),
            body: String::new(),
            fields: Vec::new(),
            incident: None,
            at,
        }
    }

    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.push((name.into(), value.into()));
        self
    }

    pub fn incident(mut self, id: IncidentId) -> Self {
        self.incident = Some(id);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_recorded_before_silences_still_parse() {
        let old = r#"{"id": "0190c0de-0000-7000-8000-000000000001",
            "scope": {"scope": "host", "host": "web1"}, "reason": "upgrade",
            "created_by": "ops", "starts_at": "2026-01-01T00:00:00Z",
            "ends_at": "2026-01-01T01:00:00Z", "ended_at": null}"#;
        let window: MaintenanceWindow = serde_json::from_str(old).unwrap();
        assert_eq!(window.scope, MaintenanceScope::Host("web1".into()));
        assert_eq!(window.silence_id, None);

        let with = MaintenanceWindow {
            silence_id: Some("5c1f0c2e-silence".into()),
            ..window
        };
        let back: MaintenanceWindow =
            serde_json::from_str(&serde_json::to_string(&with).unwrap()).unwrap();
        assert_eq!(back, with);
    }
}
