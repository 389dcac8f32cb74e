//! Self-restart hand-offs: what to do with the ones that were never resumed.
//!
//! Jarvis asks n8n to restart it and to call back `POST /resume`. One hand-off
//! is active at a time. A hand-off not resumed within `timeout` (10 min) has
//! failed: it is marked timed out, the incident it interrupted escalates and
//! people are told. One still pending after `cleanup_after` (30 min) is stale:
//! the check was not running when it timed out (Jarvis itself was down), so
//! it is cleaned up the same way, saying so. A second pending hand-off
//! (another process created it) is cancelled: the oldest one stays active.
//! [`review`] is a pure function of the hand-offs and `now`; the server's
//! periodic check applies its decisions.

use chrono::{DateTime, Duration, Utc};

use crate::domain::{Handoff, HandoffId, HandoffState};

/// The timings of hand-offs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandoffPolicy {
    /// A pending hand-off older than this has failed.
    pub timeout: Duration,
    /// A pending hand-off older than this is stale and cleaned up.
    pub cleanup_after: Duration,
}

impl Default for HandoffPolicy {
    fn default() -> Self {
        HandoffPolicy {
            timeout: Duration::minutes(10),
            cleanup_after: Duration::minutes(30),
        }
    }
}

impl HandoffPolicy {
    /// Every problem with the timings, or none.
    pub fn validate(&self) -> Vec<String> {
        let mut issues = Vec::new();
        if self.timeout < Duration::minutes(1) {
            issues.push("self_restart.timeout_minutes: must be at least 1".to_string());
        }
        if self.cleanup_after < self.timeout {
            issues.push(
                "self_restart.stale_cleanup_minutes: must not be less than self_restart.timeout_minutes"
                    .to_string(),
            );
        }
        issues
    }
}

/// What the periodic check does with one hand-off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandoffDecision {
    /// Not resumed within the timeout: timed out; its incident escalates.
    TimedOut(Handoff),
    /// Still pending past the cleanup age: cleaned up (timed out); its incident escalates.
    Stale(Handoff),
    /// Pending while an older hand-off is active: cancelled, one at a time.
    Superseded { handoff: Handoff, active: HandoffId },
}

impl HandoffDecision {
    pub fn handoff(&self) -> &Handoff {
        match self {
            HandoffDecision::TimedOut(h) | HandoffDecision::Stale(h) => h,
            HandoffDecision::Superseded { handoff, .. } => handoff,
        }
    }

    /// The hand-off as it is to be saved.
    pub fn apply(&self, now: DateTime<Utc>, policy: &HandoffPolicy) -> Handoff {
        let mut h = self.handoff().clone();
        h.updated_at = now;
        match self {
            HandoffDecision::TimedOut(_) => {
                h.state = HandoffState::TimedOut;
                h.reason = format!(
                    "{} (timed out: not resumed within {} min)",
                    h.reason,
                    policy.timeout.num_minutes()
                );
            }
            HandoffDecision::Stale(_) => {
                h.state = HandoffState::TimedOut;
                h.reason = format!(
                    "{} (stale: still pending after {} min, cleaned up)",
                    h.reason,
                    policy.cleanup_after.num_minutes()
                );
            }
            HandoffDecision::Superseded { active, .. } => {
                h.state = HandoffState::Cancelled;
                h.reason = format!("{} (cancelled: hand-off {active} is active)", h.reason);
            }
        }
        h
    }

    /// Whether the interrupted incident (if any) escalates.
    pub fn escalates(&self) -> bool {
        !matches!(self, HandoffDecision::Superseded { .. })
    }
}

/// Decisions for the pending hand-offs among `handoffs`; others are ignored.
/// The oldest pending hand-off is the active one.
pub fn review(
    handoffs: &[Handoff],
    now: DateTime<Utc>,
    policy: &HandoffPolicy,
) -> Vec<HandoffDecision> {
    let mut pending: Vec<&Handoff> = handoffs
        .iter()
        .filter(|h| h.state == HandoffState::Pending)
        .collect();
    pending.sort_by_key(|h| (h.created_at, h.id));
    let mut out = Vec::new();
    let mut active: Option<HandoffId> = None;
    for h in pending {
        let age = now - h.created_at;
        if age >= policy.cleanup_after {
            out.push(HandoffDecision::Stale(h.clone()));
        } else if age >= policy.timeout {
            out.push(HandoffDecision::TimedOut(h.clone()));
        } else if let Some(active) = active {
            out.push(HandoffDecision::Superseded {
                handoff: h.clone(),
                active,
            });
        } else {
            active = Some(h.id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::IncidentId;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    fn handoff(minutes_ago: i64, state: HandoffState) -> Handoff {
        let at = now() - Duration::minutes(minutes_ago);
        Handoff {
            id: HandoffId::new(),
            target: "jarvis".into(),
            incident: Some(IncidentId::new()),
            state,
            reason: "requested".into(),
            created_at: at,
            updated_at: at,
        }
    }

    fn check(handoffs: &[Handoff], expected: &[&str]) {
        let got: Vec<&str> = review(handoffs, now(), &HandoffPolicy::default())
            .iter()
            .map(|d| match d {
                HandoffDecision::TimedOut(_) => "timed_out",
                HandoffDecision::Stale(_) => "stale",
                HandoffDecision::Superseded { .. } => "superseded",
            })
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn a_young_pending_hand_off_is_left_alone() {
        check(&[handoff(9, HandoffState::Pending)], &[]);
    }

    #[test]
    fn ten_minutes_without_resume_times_out() {
        check(&[handoff(10, HandoffState::Pending)], &["timed_out"]);
        check(&[handoff(29, HandoffState::Pending)], &["timed_out"]);
    }

    #[test]
    fn thirty_minutes_pending_is_stale() {
        check(&[handoff(30, HandoffState::Pending)], &["stale"]);
    }

    #[test]
    fn finished_hand_offs_are_ignored() {
        check(
            &[
                handoff(60, HandoffState::Resumed),
                handoff(60, HandoffState::Cancelled),
                handoff(60, HandoffState::TimedOut),
            ],
            &[],
        );
    }

    #[test]
    fn only_the_oldest_pending_hand_off_stays_active() {
        let older = handoff(5, HandoffState::Pending);
        let newer = handoff(2, HandoffState::Pending);
        let decisions = review(
            &[newer.clone(), older.clone()],
            now(),
            &HandoffPolicy::default(),
        );
        assert_eq!(
            decisions,
            vec![HandoffDecision::Superseded {
                handoff: newer,
                active: older.id
            }]
        );
        // A timed-out one does not count as active.
        check(
            &[
                handoff(12, HandoffState::Pending),
                handoff(2, HandoffState::Pending),
            ],
            &["timed_out"],
        );
    }

    #[test]
    fn applying_a_decision_finishes_the_hand_off_and_says_why() {
        let policy = HandoffPolicy::default();
        let h = handoff(11, HandoffState::Pending);
        let d = HandoffDecision::TimedOut(h.clone());
        let saved = d.apply(now(), &policy);
        assert_eq!(saved.state, HandoffState::TimedOut);
        assert_eq!(saved.updated_at, now());
        assert!(
            saved.reason.contains("not resumed within 10 min"),
            "{}",
            saved.reason
        );
        assert!(d.escalates());
        let stale = HandoffDecision::Stale(h.clone()).apply(now(), &policy);
        assert!(stale.reason.contains("cleaned up"));
        let s = HandoffDecision::Superseded {
            handoff: h.clone(),
            active: HandoffId::new(),
        };
        assert_eq!(s.apply(now(), &policy).state, HandoffState::Cancelled);
        assert!(!s.escalates());
    }

    #[test]
    fn policy_validation() {
        assert!(HandoffPolicy::default().validate().is_empty());
        let bad = HandoffPolicy {
            timeout: Duration::minutes(20),
            cleanup_after: Duration::minutes(10),
        };
        assert_eq!(bad.validate().len(), 1);
    }
}
