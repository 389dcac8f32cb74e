//! Test support: the in-memory [`Store`] and the contract suite every store must pass.
//!
//! [`InMemoryStore`] is the reference model of the [`Store`] contract: plain maps
//! behind one mutex, no I/O. The SQL stores in `jarvis-adapters` run the same
//! [`contract`] suite, so a behaviour the pipeline relies on here holds there too.

pub mod contract;
mod fakes;
pub use fakes::*;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::*;
use crate::error::StoreError;
use crate::ports::Store;

/// The reference [`Store`]: everything in memory, every method atomic under one lock.
#[derive(Debug, Default)]
pub struct InMemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Insertion order is arrival order.
    alerts: Vec<StoredAlert>,
    alert_index: HashMap<AlertId, usize>,
    alert_keys: HashMap<(Fingerprint, DateTime<Utc>, AlertStatus), AlertId>,
    incidents: BTreeMap<IncidentId, Incident>,
    transitions: Vec<Transition>,
    attempts: Vec<StoredAttempt>,
    escalations: Vec<(RouteKey, IncidentId, DateTime<Utc>)>,
    patterns: BTreeMap<PatternId, Pattern>,
    failures: Vec<FailurePattern>,
    maintenance: BTreeMap<MaintenanceId, MaintenanceWindow>,
    approvals: BTreeMap<ApprovalId, Approval>,
    host_statuses: Vec<HostStatus>,
    handoffs: BTreeMap<HandoffId, Handoff>,
    snapshots: Vec<Snapshot>,
    anomalies: Vec<AnomalyRecord>,
    audit: Vec<AuditEntry>,
    notices: Vec<NoticeRecord>,
}

#[derive(Debug)]
struct StoredAttempt {
    attempt: Attempt,
    cleared_at: Option<DateTime<Utc>>,
}

impl InMemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep going.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `0` means "no limit" for every `limit` the store takes.
fn take_limit(limit: u32) -> usize {
    if limit == 0 {
        usize::MAX
    } else {
        limit as usize
    }
}

fn incident_not_found(id: IncidentId) -> StoreError {
    StoreError::not_found(format_args!("incident {id}"))
}

impl Inner {
    fn incident_mut(&mut self, id: IncidentId) -> Result<&mut Incident, StoreError> {
        self.incidents
            .get_mut(&id)
            .ok_or_else(|| incident_not_found(id))
    }

    /// Incidents matching `keep`, oldest first.
    fn incidents_oldest_first(&self, keep: impl Fn(&Incident) -> bool) -> Vec<Incident> {
        let mut out: Vec<Incident> = self
            .incidents
            .values()
            .filter(|i| keep(i))
            .cloned()
            .collect();
        out.sort_by_key(|a| (a.created_at, a.id));
        out
    }
}

#[async_trait]
impl Store for InMemoryStore {
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn ingest(&self, batch: &IngestBatch) -> Result<Vec<Ingested>, StoreError> {
        let mut inner = self.lock();
        let mut out = Vec::with_capacity(batch.items.len());
        for item in &batch.items {
            let alert = &item.alert;
            let key = (alert.fingerprint.clone(), alert.starts_at, alert.status);
            if let Some(existing) = inner.alert_keys.get(&key) {
                let stored = &inner.alerts[inner.alert_index[existing]];
                out.push(Ingested {
                    alert: stored.id,
                    new: false,
                    incident: stored.incident,
                });
                continue;
            }
            let id = AlertId::new();
            let incident = alert.is_firing().then(|| {
                let incident = Incident {
                    id: IncidentId::new(),
                    key: item.key.clone(),
                    alert_id: id,
                    fingerprint: alert.fingerprint.clone(),
                    alert_name: alert.name().to_string(),
                    labels: alert.labels.clone(),
                    state: IncidentState::Received,
                    reason: String::new(),
                    root: None,
                    attempts: 0,
                    created_at: batch.received_at,
                    updated_at: batch.received_at,
                    lease_owner: None,
                    lease_until: None,
                };
                let incident_id = incident.id;
                inner.incidents.insert(incident_id, incident);
                incident_id
            });
            let index = inner.alerts.len();
            inner.alerts.push(StoredAlert {
                id,
                alert: alert.clone(),
                key: item.key.clone(),
                received_at: batch.received_at,
                incident,
                processed_at: None,
            });
            inner.alert_index.insert(id, index);
            inner.alert_keys.insert(key, id);
            out.push(Ingested {
                alert: id,
                new: true,
                incident,
            });
        }
        Ok(out)
    }

    async fn alert(&self, id: AlertId) -> Result<StoredAlert, StoreError> {
        let inner = self.lock();
        inner
            .alert_index
            .get(&id)
            .map(|&i| inner.alerts[i].clone())
            .ok_or_else(|| StoreError::not_found(format_args!("alert {id}")))
    }

    async fn unprocessed_resolutions(&self, limit: u32) -> Result<Vec<StoredAlert>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<StoredAlert> = inner
            .alerts
            .iter()
            .filter(|a| a.alert.status == AlertStatus::Resolved && a.processed_at.is_none())
            .cloned()
            .collect();
        out.sort_by_key(|a| (a.received_at, a.id));
        out.truncate(take_limit(limit));
        Ok(out)
    }

    async fn mark_processed(&self, id: AlertId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let index = *inner
            .alert_index
            .get(&id)
            .ok_or_else(|| StoreError::not_found(format_args!("alert {id}")))?;
        inner.alerts[index].processed_at = Some(at);
        Ok(())
    }

    async fn incident(&self, id: IncidentId) -> Result<Incident, StoreError> {
        self.lock()
            .incidents
            .get(&id)
            .cloned()
            .ok_or_else(|| incident_not_found(id))
    }

    async fn transition(
        &self,
        id: IncidentId,
        to: IncidentState,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<Incident, StoreError> {
        let mut inner = self.lock();
        let incident = inner.incident_mut(id)?;
        let from = incident.state;
        if !from.can_move_to(to) {
            return Err(StoreError::Conflict(format!(
                "incident {id} cannot move from {from} to {to}"
            )));
        }
        incident.state = to;
        incident.reason = reason.to_string();
        incident.updated_at = at;
        let updated = incident.clone();
        inner.transitions.push(Transition {
            incident: id,
            from,
            to,
            reason: reason.to_string(),
            at,
        });
        Ok(updated)
    }

    async fn set_root(&self, id: IncidentId, root: Option<IncidentId>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if let Some(root) = root {
            if root == id {
                return Err(StoreError::Conflict(format!(
                    "incident {id} cannot be its own root"
                )));
            }
            if !inner.incidents.contains_key(&root) {
                return Err(incident_not_found(root));
            }
        }
        inner.incident_mut(id)?.root = root;
        Ok(())
    }

    async fn bump_attempts(&self, id: IncidentId) -> Result<u32, StoreError> {
        let mut inner = self.lock();
        let incident = inner.incident_mut(id)?;
        incident.attempts += 1;
        Ok(incident.attempts)
    }

    async fn transitions(&self, id: IncidentId) -> Result<Vec<Transition>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<Transition> = inner
            .transitions
            .iter()
            .filter(|t| t.incident == id)
            .cloned()
            .collect();
        // Stable: equal times keep recording order.
        out.sort_by_key(|t| t.at);
        Ok(out)
    }

    async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, StoreError> {
        let inner = self.lock();
        let mut out = inner.incidents_oldest_first(|i| {
            filter.state.is_none_or(|s| i.state == s)
                && filter
                    .alert_name
                    .as_deref()
                    .is_none_or(|n| i.alert_name == n)
                && filter.since.is_none_or(|s| i.created_at >= s)
                && filter
                    .fingerprint
                    .as_ref()
                    .is_none_or(|f| &i.fingerprint == f)
        });
        out.reverse();
        Ok(out
            .into_iter()
            .skip(filter.offset as usize)
            .take(take_limit(filter.limit))
            .collect())
    }

    async fn in_flight(&self) -> Result<Vec<Incident>, StoreError> {
        Ok(self
            .lock()
            .incidents_oldest_first(|i| i.state.is_in_flight()))
    }

    async fn open_incidents(&self) -> Result<Vec<Incident>, StoreError> {
        Ok(self
            .lock()
            .incidents_oldest_first(|i| !i.state.is_terminal()))
    }

    async fn latest_incident_for(
        &self,
        fingerprint: &Fingerprint,
        since: DateTime<Utc>,
    ) -> Result<Option<Incident>, StoreError> {
        Ok(self
            .lock()
            .incidents_oldest_first(|i| &i.fingerprint == fingerprint && i.created_at >= since)
            .pop())
    }

    async fn claim(
        &self,
        id: IncidentId,
        owner: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let incident = inner.incident_mut(id)?;
        let free = match (&incident.lease_owner, incident.lease_until) {
            (None, _) => true,
            (Some(holder), _) if holder == owner => true,
            (Some(_), Some(expires)) => expires <= now,
            (Some(_), None) => true,
        };
        if free {
            incident.lease_owner = Some(owner.to_string());
            incident.lease_until = Some(until);
        }
        Ok(free)
    }

    async fn release(&self, id: IncidentId, owner: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let incident = inner.incident_mut(id)?;
        if incident.lease_owner.as_deref() == Some(owner) {
            incident.lease_owner = None;
            incident.lease_until = None;
        }
        Ok(())
    }

    async fn record_attempt(&self, attempt: &Attempt) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if !inner.incidents.contains_key(&attempt.incident) {
            return Err(incident_not_found(attempt.incident));
        }
        if inner.attempts.iter().any(|a| a.attempt.id == attempt.id) {
            return Err(StoreError::Conflict(format!(
                "attempt {} already recorded",
                attempt.id
            )));
        }
        inner.attempts.push(StoredAttempt {
            attempt: attempt.clone(),
            cleared_at: None,
        });
        Ok(())
    }

    async fn attempts(&self, incident: IncidentId) -> Result<Vec<Attempt>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<Attempt> = inner
            .attempts
            .iter()
            .filter(|a| a.attempt.incident == incident)
            .map(|a| a.attempt.clone())
            .collect();
        out.sort_by_key(|a| (a.started_at, a.id));
        Ok(out)
    }

    async fn attempts_for_key(
        &self,
        key: &RouteKey,
        since: DateTime<Utc>,
    ) -> Result<Vec<Attempt>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<Attempt> = inner
            .attempts
            .iter()
            .filter(|a| {
                a.cleared_at.is_none() && &a.attempt.key == key && a.attempt.started_at >= since
            })
            .map(|a| a.attempt.clone())
            .collect();
        out.sort_by_key(|a| (a.started_at, a.id));
        Ok(out)
    }

    async fn clear_attempts(&self, key: &RouteKey, at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        for stored in inner
            .attempts
            .iter_mut()
            .filter(|a| a.cleared_at.is_none() && &a.attempt.key == key)
        {
            stored.cleared_at = Some(at);
        }
        Ok(())
    }

    async fn last_escalation(&self, key: &RouteKey) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self
            .lock()
            .escalations
            .iter()
            .filter(|(k, _, _)| k == key)
            .map(|(_, _, at)| *at)
            .max())
    }

    async fn record_escalation(
        &self,
        key: &RouteKey,
        incident: IncidentId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.lock().escalations.push((key.clone(), incident, at));
        Ok(())
    }

    async fn patterns(&self) -> Result<Vec<Pattern>, StoreError> {
        let mut out: Vec<Pattern> = self.lock().patterns.values().cloned().collect();
        out.sort_by_key(|a| (a.created_at, a.id));
        Ok(out)
    }

    async fn patterns_for(&self, signature: &str) -> Result<Vec<Pattern>, StoreError> {
        let mut out = self.patterns().await?;
        out.retain(|p| p.signature == signature);
        Ok(out)
    }

    async fn pattern(&self, id: PatternId) -> Result<Pattern, StoreError> {
        self.lock()
            .patterns
            .get(&id)
            .cloned()
            .ok_or_else(|| StoreError::not_found(format_args!("pattern {id}")))
    }

    async fn save_pattern(&self, pattern: &Pattern) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let plan = steps_signature(&pattern.steps);
        if let Some(other) = inner.patterns.values().find(|p| {
            p.id != pattern.id
                && p.signature == pattern.signature
                && steps_signature(&p.steps) == plan
        }) {
            return Err(StoreError::Conflict(format!(
                "pattern {} already has signature {} and plan {plan}",
                other.id, pattern.signature
            )));
        }
        inner.patterns.insert(pattern.id, pattern.clone());
        Ok(())
    }

    async fn delete_pattern(&self, id: PatternId) -> Result<(), StoreError> {
        self.lock()
            .patterns
            .remove(&id)
            .map(|_| ())
            .ok_or_else(|| StoreError::not_found(format_args!("pattern {id}")))
    }

    async fn record_failure(&self, failure: &FailurePattern) -> Result<(), StoreError> {
        let mut inner = self.lock();
        match inner.failures.iter_mut().find(|f| {
            f.signature == failure.signature && f.plan_signature == failure.plan_signature
        }) {
            Some(existing) => {
                existing.failures += failure.failures;
                existing.summary = failure.summary.clone();
                existing.reason = failure.reason.clone();
                existing.last_failed_at = existing.last_failed_at.max(failure.last_failed_at);
            }
            None => inner.failures.push(failure.clone()),
        }
        Ok(())
    }

    async fn failures_for(
        &self,
        signature: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<FailurePattern>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<FailurePattern> = inner
            .failures
            .iter()
            .filter(|f| f.signature == signature && f.last_failed_at >= since)
            .cloned()
            .collect();
        out.sort_by(|a, b| {
            (a.last_failed_at, &a.plan_signature).cmp(&(b.last_failed_at, &b.plan_signature))
        });
        Ok(out)
    }

    async fn save_maintenance(&self, window: &MaintenanceWindow) -> Result<(), StoreError> {
        self.lock().maintenance.insert(window.id, window.clone());
        Ok(())
    }

    async fn maintenance_windows(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<MaintenanceWindow>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<MaintenanceWindow> = inner
            .maintenance
            .values()
            .filter(|w| w.ends_at > now && w.ended_at.is_none_or(|e| e > now))
            .cloned()
            .collect();
        out.sort_by_key(|a| (a.starts_at, a.id));
        Ok(out)
    }

    async fn save_approval(&self, approval: &Approval) -> Result<(), StoreError> {
        self.lock().approvals.insert(approval.id, approval.clone());
        Ok(())
    }

    async fn approval(&self, id: ApprovalId) -> Result<Approval, StoreError> {
        self.lock()
            .approvals
            .get(&id)
            .cloned()
            .ok_or_else(|| StoreError::not_found(format_args!("approval {id}")))
    }

    async fn approvals(&self, status: Option<ApprovalStatus>) -> Result<Vec<Approval>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<Approval> = inner
            .approvals
            .values()
            .filter(|a| status.is_none_or(|s| a.status == s))
            .cloned()
            .collect();
        out.sort_by_key(|a| (a.requested_at, a.id));
        Ok(out)
    }

    async fn record_host_status(&self, status: &HostStatus) -> Result<(), StoreError> {
        self.lock().host_statuses.push(status.clone());
        Ok(())
    }

    async fn host_statuses(&self) -> Result<Vec<HostStatus>, StoreError> {
        let inner = self.lock();
        let mut latest: BTreeMap<&str, &HostStatus> = BTreeMap::new();
        for status in &inner.host_statuses {
            // Later records win ties: the history is in recording order.
            match latest.get(status.host.as_str()) {
                Some(seen) if seen.at > status.at => {}
                _ => {
                    latest.insert(&status.host, status);
                }
            }
        }
        Ok(latest.into_values().cloned().collect())
    }

    async fn save_handoff(&self, handoff: &Handoff) -> Result<(), StoreError> {
        self.lock().handoffs.insert(handoff.id, handoff.clone());
        Ok(())
    }

    async fn handoff(&self, id: HandoffId) -> Result<Handoff, StoreError> {
        self.lock()
            .handoffs
            .get(&id)
            .cloned()
            .ok_or_else(|| StoreError::not_found(format_args!("hand-off {id}")))
    }

    async fn handoffs(&self, state: Option<HandoffState>) -> Result<Vec<Handoff>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<Handoff> = inner
            .handoffs
            .values()
            .filter(|h| state.is_none_or(|s| h.state == s))
            .cloned()
            .collect();
        out.sort_by_key(|a| (a.created_at, a.id));
        Ok(out)
    }

    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        self.lock().snapshots.push(snapshot.clone());
        Ok(())
    }

    async fn snapshots(&self, incident: IncidentId) -> Result<Vec<Snapshot>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<Snapshot> = inner
            .snapshots
            .iter()
            .filter(|s| s.incident == incident)
            .cloned()
            .collect();
        out.sort_by_key(|s| s.at);
        Ok(out)
    }

    async fn record_anomaly(&self, anomaly: &AnomalyRecord) -> Result<(), StoreError> {
        self.lock().anomalies.push(anomaly.clone());
        Ok(())
    }

    async fn anomalies(&self, since: DateTime<Utc>) -> Result<Vec<AnomalyRecord>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<AnomalyRecord> = inner
            .anomalies
            .iter()
            .filter(|a| a.at >= since)
            .cloned()
            .collect();
        out.sort_by_key(|a| a.at);
        Ok(out)
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.lock().audit.push(entry.clone());
        Ok(())
    }

    async fn audit_log(
        &self,
        incident: Option<IncidentId>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<AuditEntry> = inner
            .audit
            .iter()
            .filter(|e| incident.is_none() || e.incident == incident)
            .cloned()
            .collect();
        // Stable sort, then reverse: newest first, later-appended first on equal times.
        out.sort_by_key(|e| e.at);
        out.reverse();
        out.truncate(take_limit(limit));
        Ok(out)
    }

    async fn record_notice(&self, record: &NoticeRecord) -> Result<(), StoreError> {
        self.lock().notices.push(record.clone());
        Ok(())
    }

    async fn notices(&self, incident: IncidentId) -> Result<Vec<NoticeRecord>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<NoticeRecord> = inner
            .notices
            .iter()
            .filter(|n| n.notice.incident == Some(incident))
            .cloned()
            .collect();
        out.sort_by_key(|n| n.notice.at);
        Ok(out)
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<PruneReport, StoreError> {
        let mut inner = self.lock();
        let inner = &mut *inner;
        let mut report = PruneReport::default();

        let gone: Vec<IncidentId> = inner
            .incidents
            .values()
            .filter(|i| i.state.is_terminal() && i.updated_at < before)
            .map(|i| i.id)
            .collect();
        for id in &gone {
            inner.incidents.remove(id);
        }
        report.incidents = gone.len() as u64;
        let pruned = |id: &IncidentId| gone.contains(id);

        inner.transitions.retain(|t| !pruned(&t.incident));
        inner.snapshots.retain(|s| !pruned(&s.incident));
        inner.approvals.retain(|_, a| !pruned(&a.incident));
        let attempts_before = inner.attempts.len();
        inner.attempts.retain(|a| !pruned(&a.attempt.incident));
        report.attempts = (attempts_before - inner.attempts.len()) as u64;

        // Notices live as long as their incident; loose ones by age.
        let notices_before = inner.notices.len();
        let incidents = &inner.incidents;
        inner.notices.retain(|n| match n.notice.incident {
            Some(incident) => incidents.contains_key(&incident),
            None => n.notice.at >= before,
        });
        report.notices = (notices_before - inner.notices.len()) as u64;

        let audit_before = inner.audit.len();
        inner.audit.retain(|e| e.at >= before);
        report.audit = (audit_before - inner.audit.len()) as u64;

        // An alert goes once it is old and done with: processed, or its incident is gone.
        let incidents = &inner.incidents;
        let alerts_before = inner.alerts.len();
        inner.alerts.retain(|a| {
            let done = match a.incident {
                Some(incident) => !incidents.contains_key(&incident),
                None => a.processed_at.is_some(),
            };
            !(a.received_at < before && done)
        });
        report.alerts = (alerts_before - inner.alerts.len()) as u64;
        inner.alert_index = inner
            .alerts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id, i))
            .collect();
        inner.alert_keys = inner
            .alerts
            .iter()
            .map(|a| {
                (
                    (
                        a.alert.fingerprint.clone(),
                        a.alert.starts_at,
                        a.alert.status,
                    ),
                    a.id,
                )
            })
            .collect();
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    crate::store_contract_suite!(in_memory, async { crate::testing::InMemoryStore::new() });
}
