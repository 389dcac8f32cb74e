//! Incidents and their state machine.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AlertId, Fingerprint, IncidentId, Labels};

/// What attempt limits, cooldowns and escalation cooldowns key on:
/// the alert name plus the routed target (the routing table's key, else the host).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RouteKey {
    pub alert_name: String,
    pub target: String,
}

impl RouteKey {
    pub fn new(alert_name: impl Into<String>, target: impl Into<String>) -> Self {
        RouteKey {
            alert_name: alert_name.into(),
            target: target.into(),
        }
    }
}

impl fmt::Display for RouteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.alert_name, self.target)
    }
}

/// Where an incident is in the pipeline.
///
/// ```text
/// received → duplicate | in_maintenance | host_offline | suppressed
///          → planning → validating → (awaiting_approval) → executing → verifying
///          → resolved | unverified | failed (→ planning again) | escalated
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    Received,
    /// The same fingerprint was processed moments ago.
    Duplicate,
    /// A maintenance window covers the alert.
    InMaintenance,
    /// The alert's host is known to be offline.
    HostOffline,
    /// Held back while its root cause is handled; re-evaluated after it resolves.
    Suppressed,
    Planning,
    Validating,
    /// A step waits for an operator.
    AwaitingApproval,
    Executing,
    Verifying,
    /// The Verifier said the alert cleared, or the alert resolved by itself.
    Resolved,
    /// The fix ran but could not be verified (verification off or unavailable).
    Unverified,
    /// The attempt did not fix the alert; another attempt may follow.
    Failed,
    /// Handed to a person.
    Escalated,
    /// Closed without remediation, with a recorded reason (e.g. abandoned after a crash).
    Closed,
}

impl IncidentState {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentState::Received => "received",
            IncidentState::Duplicate => "duplicate",
            IncidentState::InMaintenance => "in_maintenance",
            IncidentState::HostOffline => "host_offline",
            IncidentState::Suppressed => "suppressed",
            IncidentState::Planning => "planning",
            IncidentState::Validating => "validating",
            IncidentState::AwaitingApproval => "awaiting_approval",
            IncidentState::Executing => "executing",
            IncidentState::Verifying => "verifying",
            IncidentState::Resolved => "resolved",
            IncidentState::Unverified => "unverified",
            IncidentState::Failed => "failed",
            IncidentState::Escalated => "escalated",
            IncidentState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }

    pub const ALL: [IncidentState; 15] = [
        IncidentState::Received,
        IncidentState::Duplicate,
        IncidentState::InMaintenance,
        IncidentState::HostOffline,
        IncidentState::Suppressed,
        IncidentState::Planning,
        IncidentState::Validating,
        IncidentState::AwaitingApproval,
        IncidentState::Executing,
        IncidentState::Verifying,
        IncidentState::Resolved,
        IncidentState::Unverified,
        IncidentState::Failed,
        IncidentState::Escalated,
        IncidentState::Closed,
    ];

    /// No further transition happens from a terminal state.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            IncidentState::Duplicate
                | IncidentState::InMaintenance
                | IncidentState::HostOffline
                | IncidentState::Resolved
                | IncidentState::Unverified
                | IncidentState::Escalated
                | IncidentState::Closed
        )
    }

    /// Work is under way: a restarted process must resume or close these.
    pub fn is_in_flight(self) -> bool {
        matches!(
            self,
            IncidentState::Received
                | IncidentState::Planning
                | IncidentState::Validating
                | IncidentState::Executing
                | IncidentState::Verifying
                | IncidentState::Failed
        )
    }

    /// The legal transitions of the state machine.
    pub fn can_move_to(self, next: IncidentState) -> bool {
        use IncidentState::*;
        match self {
            Received => matches!(
                next,
                Duplicate
                    | InMaintenance
                    | HostOffline
                    | Suppressed
                    | Planning
                    | Resolved
                    | Escalated
                    | Closed
            ),
            Suppressed => matches!(next, Planning | Resolved | Closed | Escalated),
            Planning => matches!(next, Validating | Escalated | Resolved | Closed | Failed),
            Validating => matches!(
                next,
                Executing | AwaitingApproval | Planning | Failed | Escalated | Resolved | Closed
            ),
            AwaitingApproval => matches!(next, Executing | Escalated | Resolved | Closed),
            Executing => matches!(next, Verifying | Failed | Escalated | Closed | Resolved),
            Verifying => matches!(next, Resolved | Unverified | Failed | Escalated | Closed),
            Failed => matches!(next, Planning | Escalated | Resolved | Closed),
            Duplicate | InMaintenance | HostOffline | Resolved | Unverified | Escalated
            | Closed => false,
        }
    }
}

impl fmt::Display for IncidentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One or more correlated alerts handled together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub key: RouteKey,
    /// The alert that opened the incident.
    pub alert_id: AlertId,
    pub fingerprint: Fingerprint,
    pub alert_name: String,
    pub labels: Labels,
    pub state: IncidentState,
    /// Why the incident is in its state, for people.
    pub reason: String,
    /// The root-cause incident this one is held behind, if any.
    pub root: Option<IncidentId>,
    /// Remediation attempts made so far for this incident.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Lease holder while a process works on the incident.
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
}

/// One recorded state change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub incident: IncidentId,
    pub from: IncidentState,
    pub to: IncidentState,
    pub reason: String,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_states_have_no_exit() {
        for from in IncidentState::ALL {
            if from.is_terminal() {
                for to in IncidentState::ALL {
                    assert!(!from.can_move_to(to), "{from} -> {to}");
                }
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for state in IncidentState::ALL {
            assert_eq!(IncidentState::parse(state.as_str()), Some(state));
        }
        assert_eq!(IncidentState::parse("bogus"), None);
    }

    #[test]
    fn happy_path_is_legal() {
        use IncidentState::*;
        let path = [
            Received, Planning, Validating, Executing, Verifying, Resolved,
        ];
        for pair in path.windows(2) {
            assert!(pair[0].can_move_to(pair[1]), "{} -> {}", pair[0], pair[1]);
        }
        assert!(!Received.can_move_to(Executing));
        assert!(!Planning.can_move_to(Executing));
    }
}
