//! Host availability: offline after N consecutive connection failures, online
//! again on the first success. Pure state; the executor feeds it and reports changes.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jarvis_core::domain::HostStatus;
use tokio::time::Instant;

#[derive(Clone, Debug)]
struct HostState {
    online: bool,
    consecutive_failures: u32,
    /// Last connection attempt (command or probe), for probe scheduling.
    last_attempt: Option<Instant>,
}

impl Default for HostState {
    fn default() -> Self {
        HostState {
            online: true,
            consecutive_failures: 0,
            last_attempt: None,
        }
    }
}

/// Availability of each host. Hosts start online.
#[derive(Clone, Debug)]
pub struct HostTracker {
    offline_after: u32,
    probe_interval: Duration,
    hosts: BTreeMap<String, HostState>,
}

impl HostTracker {
    /// `offline_after` consecutive failures mark a host offline (at least 1);
    /// offline hosts are due for a probe every `probe_interval`.
    pub fn new(offline_after: u32, probe_interval: Duration) -> Self {
        HostTracker {
            offline_after: offline_after.max(1),
            probe_interval,
            hosts: BTreeMap::new(),
        }
    }

    pub fn is_online(&self, host: &str) -> bool {
        self.hosts.get(host).is_none_or(|s| s.online)
    }

    pub fn consecutive_failures(&self, host: &str) -> u32 {
        self.hosts.get(host).map_or(0, |s| s.consecutive_failures)
    }

    /// A connection succeeded. Returns the change when the host was offline.
    pub fn record_success(
        &mut self,
        host: &str,
        now: Instant,
        at: DateTime<Utc>,
    ) -> Option<HostStatus> {
        let state = self.hosts.entry(host.to_string()).or_default();
        state.consecutive_failures = 0;
        state.last_attempt = Some(now);
        if state.online {
            return None;
        }
        state.online = true;
        Some(HostStatus {
            host: host.to_string(),
            online: true,
            reason: "connection succeeded".to_string(),
            at,
        })
    }

    /// A connection failed (after its retries). Returns the change when the host
    /// just went offline.
    pub fn record_failure(
        &mut self,
        host: &str,
        reason: &str,
        now: Instant,
        at: DateTime<Utc>,
    ) -> Option<HostStatus> {
        let offline_after = self.offline_after;
        let state = self.hosts.entry(host.to_string()).or_default();
        state.consecutive_failures = state.consecutive_failures.saturating_add(1);
        state.last_attempt = Some(now);
        if !state.online || state.consecutive_failures < offline_after {
            return None;
        }
        state.online = false;
        Some(HostStatus {
            host: host.to_string(),
            online: false,
            reason: format!(
                "{} consecutive connection failures; last: {reason}",
                state.consecutive_failures
            ),
            at,
        })
    }

    /// Offline hosts whose last attempt is at least one probe interval old.
    pub fn due_for_probe(&self, now: Instant) -> Vec<String> {
        self.hosts
            .iter()
            .filter(|(_, s)| {
                !s.online
                    && s.last_attempt
                        .is_none_or(|t| now.saturating_duration_since(t) >= self.probe_interval)
            })
            .map(|(h, _)| h.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_after_three_failures_online_after_one_success_probed_when_due() {
        let mut t = HostTracker::new(3, Duration::from_secs(300));
        let start = Instant::now();
        let at = Utc::now();
        assert!(t.record_failure("a", "refused", start, at).is_none());
        assert!(t.record_failure("a", "refused", start, at).is_none());
        let change = t.record_failure("a", "refused", start, at).unwrap();
        assert!(!change.online);
        assert!(change.reason.contains("3 consecutive"), "{}", change.reason);
        assert!(!t.is_online("a"));
        assert!(t.record_failure("a", "refused", start, at).is_none());
        assert!(t.due_for_probe(start).is_empty());
        assert_eq!(t.due_for_probe(start + Duration::from_secs(300)), ["a"]);
        let change = t.record_success("a", start, at).unwrap();
        assert!(change.online);
        assert!(t.record_success("a", start, at).is_none());
        assert_eq!(t.consecutive_failures("a"), 0);
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let mut t = HostTracker::new(3, Duration::from_secs(300));
        let now = Instant::now();
        let at = Utc::now();
        t.record_failure("a", "x", now, at);
        t.record_failure("a", "x", now, at);
        t.record_success("a", now, at);
        t.record_failure("a", "x", now, at);
        t.record_failure("a", "x", now, at);
        assert!(t.is_online("a"));
    }
}
