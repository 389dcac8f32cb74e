//! The remediation pipeline: one explicit state machine per incident.
//!
//! ```text
//! received → duplicate | in_maintenance | host_offline | suppressed
//!          → planning → validating → (awaiting_approval) → executing → verifying
//!          → resolved | unverified | failed (→ planning) | escalated
//! ```
//!
//! Every transition goes through the [`Store`], so a restarted process resumes
//! where the last one stopped. Nothing runs without a validator verdict, and
//! success is never reported before the [`Verifier`] says the alert cleared.

mod config;
mod open;

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use tracing::{Instrument, info, info_span, warn};

pub use config::PipelineConfig;

use crate::correlation::Correlator;
use crate::domain::*;
use crate::error::{PlanError, StoreError};
use crate::hints::Routing;
use crate::learning::{self, LearningConfig, PatternMatch, Symptom};
use crate::ports::{Clock, Executor, Notifier, PlanContext, Planner, Store, Verifier};
use crate::runbook::{self, RunbookLibrary};
use crate::safety::{Decision, SafetyClass, SafetyPolicy, ValidatedStep, Verdict};

/// Errors that stop the handling of one incident.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("store failed while handling incident {incident}")]
    Store {
        incident: IncidentId,
        #[source]
        source: StoreError,
    },
    #[error(transparent)]
    Ingest(#[from] StoreError),
}

/// The outside world the pipeline acts through.
#[derive(Clone, Debug)]
pub struct Ports {
    pub store: Arc<dyn Store>,
    pub planner: Arc<dyn Planner>,
    /// Takes over when the main planner is down or over budget (the deterministic planner).
    pub fallback: Option<Arc<dyn Planner>>,
    pub executor: Arc<dyn Executor>,
    pub verifier: Arc<dyn Verifier>,
    pub notifier: Arc<dyn Notifier>,
    pub clock: Arc<dyn Clock>,
}

/// The operator's policy: limits, safety rules, routing, runbooks, correlation and learning.
#[derive(Debug)]
pub struct Policy {
    pub config: PipelineConfig,
    pub safety: Arc<SafetyPolicy>,
    pub routing: Routing,
    pub runbooks: Arc<RwLock<RunbookLibrary>>,
    pub correlator: Correlator,
    pub learning: LearningConfig,
    pub hosts: Vec<Host>,
    /// A name for this process in incident leases.
    pub owner: String,
}

/// What handling one incident came to.
#[derive(Clone, Debug, PartialEq)]
pub struct Handled {
    pub incident: IncidentId,
    pub state: IncidentState,
    /// Incidents released by this one's resolution, to be handled next.
    pub released: Vec<IncidentId>,
}

/// The pipeline.
#[derive(Debug, Clone)]
pub struct Pipeline {
    ports: Ports,
    policy: Arc<Policy>,
    /// Incidents this process is working on. The store lease keeps other
    /// processes out; this keeps a second task of the same process out.
    active: Arc<Mutex<HashSet<IncidentId>>>,
    /// The open incidents correlation compares with (see [`open`]).
    open: Arc<Mutex<open::OpenIndex>>,
}

/// Removes an incident from the active set when its handling ends, however it ends.
struct ActiveGuard {
    active: Arc<Mutex<HashSet<IncidentId>>>,
    id: IncidentId,
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

type Res<T> = Result<T, PipelineError>;

impl Pipeline {
    pub fn new(ports: Ports, policy: Policy) -> Self {
        Pipeline {
            ports,
            policy: Arc::new(policy),
            active: Arc::default(),
            open: Arc::default(),
        }
    }

    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Routes the alerts of one notification and commits them in one batch.
    /// Returns only after the store committed: then the webhook may be acknowledged.
    pub async fn ingest(&self, alerts: Vec<Alert>, raw: Option<String>) -> Res<Vec<Ingested>> {
        let batch = self.batch(alerts, raw);
        let ingested = self.ports.store.ingest(&batch).await?;
        self.note_ingested(&batch, &ingested);
        Ok(ingested)
    }

    /// Tells correlation about the incidents a committed batch opened; call
    /// it after committing a batch through the store directly.
    pub fn note_ingested(&self, batch: &IngestBatch, ingested: &[Ingested]) {
        let mut index = self.open_index();
        for (item, done) in batch.items.iter().zip(ingested) {
            if let (true, Some(id)) = (done.new, done.incident) {
                index.add(crate::correlation::CorrelationItem {
                    id,
                    alert_name: item.alert.name().to_string(),
                    labels: item.alert.labels.clone(),
                    at: batch.received_at,
                });
            }
        }
    }

    /// The batch `ingest` would commit (routing applied).
    pub fn batch(&self, alerts: Vec<Alert>, raw: Option<String>) -> IngestBatch {
        let items = alerts
            .into_iter()
            .map(|alert| IngestItem {
                key: self.policy.routing.key(&alert),
                alert,
            })
            .collect();
        IngestBatch {
            raw,
            received_at: self.ports.clock.now(),
            items,
        }
    }

    /// Handles everything a batch produced: new incidents and resolutions.
    /// Per-alert errors are recorded on the incident, not returned.
    pub async fn handle_ingested(&self, ingested: &[Ingested]) -> Vec<Handled> {
        let mut out = Vec::new();
        for item in ingested.iter().filter(|i| i.new) {
            let result = match item.incident {
                Some(incident) => self.process(incident).await,
                None => self.process_resolution(item.alert).await,
            };
            match result {
                Ok(Some(handled)) => out.push(handled),
                Ok(None) => {}
                Err(error) => warn!(alert = %item.alert, error = %error, "alert handling failed"),
            }
        }
        let mut queue: Vec<IncidentId> = out.iter().flat_map(|h| h.released.clone()).collect();
        while let Some(id) = queue.pop() {
            if let Ok(Some(handled)) = self.process(id).await {
                queue.extend(handled.released.iter().copied());
                out.push(handled);
            }
        }
        out
    }

    /// Resumes everything a previous process left in flight and processes
    /// resolutions it had not handled. Returns what was handled.
    pub async fn resume(&self) -> Res<Vec<Handled>> {
        let mut handled = Vec::new();
        for alert in self.ports.store.unprocessed_resolutions(1000).await? {
            if let Ok(Some(h)) = self.process_resolution(alert.id).await {
                handled.push(h);
            }
        }
        for incident in self.ports.store.in_flight().await? {
            match self.process(incident.id).await {
                Ok(Some(h)) => handled.push(h),
                Ok(None) => {}
                Err(error) => warn!(incident = %incident.id, error = %error, "resume failed"),
            }
        }
        Ok(handled)
    }

    fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    fn store(&self) -> &dyn Store {
        self.ports.store.as_ref()
    }

    /// Takes the store lease on an incident for this process; `false` when
    /// another process holds it.
    async fn claim(&self, id: IncidentId) -> Result<bool, StoreError> {
        let now = self.now();
        self.store()
            .claim(
                id,
                &self.policy.owner,
                now + self.policy.config.lease(),
                now,
            )
            .await
    }

    /// Handles one incident from its current state until it is terminal or parked.
    /// Returns `None` when another process holds the incident.
    pub async fn process(&self, id: IncidentId) -> Res<Option<Handled>> {
        let err = |source| PipelineError::Store {
            incident: id,
            source,
        };
        if !self
            .active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id)
        {
            return Ok(None);
        }
        let _active = ActiveGuard {
            active: self.active.clone(),
            id,
        };
        let owner = &self.policy.owner;
        if !self.claim(id).await.map_err(err)? {
            return Ok(None);
        }
        let incident = self.store().incident(id).await.map_err(err)?;
        let span = info_span!(
            "incident",
            incident = %id,
            alertname = %incident.alert_name,
            fingerprint = %incident.fingerprint,
            plan_tier = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        let result = self.run(incident).instrument(span.clone()).await;
        if let Ok(h) = &result {
            span.record("outcome", h.state.as_str());
            if h.state.is_terminal() {
                self.open_index().remove(id);
            }
        }
        self.store().release(id, owner).await.map_err(err)?;
        result.map(Some).map_err(err)
    }

    async fn run(&self, mut incident: Incident) -> Result<Handled, StoreError> {
        let stored = self.store().alert(incident.alert_id).await?;
        let alert = stored.alert;
        let mut released = Vec::new();
        loop {
            let next = match incident.state {
                IncidentState::Received => self.screen(&incident, &alert).await?,
                IncidentState::Planning | IncidentState::Failed | IncidentState::Validating => {
                    self.attempt(&incident, &alert).await?
                }
                // A crash while commands ran: we cannot know what finished, so we
                // do not run them again; we ask the verifier whether it worked.
                IncidentState::Executing | IncidentState::Verifying => {
                    self.reverify(&incident, &alert).await?
                }
                _ => None,
            };
            match next {
                Some((state, reason)) => {
                    incident = self.move_to(&incident, state, &reason).await?;
                    if incident.state == IncidentState::Resolved {
                        released = self.release_dependents(&incident).await?;
                    }
                }
                None => break,
            }
            if incident.state.is_terminal()
                || matches!(
                    incident.state,
                    IncidentState::Suppressed | IncidentState::AwaitingApproval
                )
            {
                break;
            }
        }
        Ok(Handled {
            incident: incident.id,
            state: incident.state,
            released,
        })
    }

    async fn move_to(
        &self,
        incident: &Incident,
        to: IncidentState,
        reason: &str,
    ) -> Result<Incident, StoreError> {
        info!(from = %incident.state, to = %to, reason, "transition");
        self.store()
            .transition(incident.id, to, reason, self.now())
            .await
    }

    /// received → duplicate | in_maintenance | host_offline | suppressed | escalated | planning
    async fn screen(
        &self,
        incident: &Incident,
        alert: &Alert,
    ) -> Result<Option<(IncidentState, String)>, StoreError> {
        let now = self.now();
        let cfg = &self.policy.config;
        if !alert.is_firing() {
            return Ok(Some((
                IncidentState::Resolved,
                "alert already resolved".into(),
            )));
        }
        // The same fingerprint was processed moments ago under another incident.
        let recent = self
            .store()
            .incidents(&IncidentFilter {
                fingerprint: Some(incident.fingerprint.clone()),
                since: Some(now - cfg.dedupe_window()),
                limit: 20,
                ..IncidentFilter::default()
            })
            .await?;
        if let Some(previous) = recent.iter().find(|p| {
            p.id != incident.id
                && p.created_at <= incident.created_at
                && p.state != IncidentState::Duplicate
        }) {
            return Ok(Some((
                IncidentState::Duplicate,
                format!("fingerprint already handled by incident {}", previous.id),
            )));
        }
        let hints = self.policy.routing.hints(alert);
        let host = hints.host.clone();
        for window in self.store().maintenance_windows(now).await? {
            if window.is_active(now) && window.covers(host.as_deref()) {
                return Ok(Some((
                    IncidentState::InMaintenance,
                    format!("maintenance window {}: {}", window.id, window.reason),
                )));
            }
        }
        if let Some(host) = &host {
            let statuses = self.store().host_statuses().await?;
            if statuses.iter().any(|s| &s.host == host && !s.online) {
                return Ok(Some((
                    IncidentState::HostOffline,
                    format!("host {host} is offline; alerts about it are suppressed"),
                )));
            }
        }
        if let Some(root) = self.correlate(incident).await? {
            self.store().set_root(incident.id, Some(root.id)).await?;
            return Ok(Some((
                IncidentState::Suppressed,
                format!("held behind root cause {} ({})", root.alert_name, root.id),
            )));
        }
        let used = self.attempts_used(&incident.key).await?;
        if used >= cfg.max_attempts {
            let reason = format!(
                "attempt limit reached: {used} of {} attempts for {} in the last {} min",
                cfg.max_attempts,
                incident.key,
                cfg.attempt_window_seconds / 60
            );
            self.escalate(incident, &reason).await?;
            return Ok(Some((IncidentState::Escalated, reason)));
        }
        Ok(Some((IncidentState::Planning, "screened".into())))
    }

    /// Finds an open incident that explains this one; and holds back open
    /// incidents this one explains, so the outcome does not depend on arrival order.
    async fn correlate(&self, incident: &Incident) -> Result<Option<Incident>, StoreError> {
        let me = open::item(incident);
        let correlator = &self.policy.correlator;
        let read_at = self.now();
        if self.open_index().stale(read_at) {
            let open = self.store().open_incidents().await?;
            self.open_index().replace(&open, read_at, self.now());
        }
        let (roots, explained) = {
            let mut index = self.open_index();
            index.insert(incident);
            (
                index.select(|o| o.id != me.id && correlator.causes(o, &me)),
                index.select(|o| o.id != me.id && correlator.causes(&me, o)),
            )
        };
        // Index entries may be stale: act only on what the store says is open.
        let mut causes = Vec::new();
        for id in roots {
            if let Some(root) = self.still_open(id).await? {
                causes.push(root);
            }
        }
        causes.sort_by(|a, b| (&a.alert_name, a.id).cmp(&(&b.alert_name, b.id)));
        if let Some(root) = causes.into_iter().next() {
            return Ok(Some(root));
        }
        // This incident explains others that have not started acting yet: hold them.
        let mut explained_open = Vec::new();
        for id in explained {
            if let Some(other) = self.still_open(id).await? {
                explained_open.push(other);
            }
        }
        explained_open.sort_by_key(|o| (o.created_at, o.id));
        for other in &explained_open {
            if matches!(
                other.state,
                IncidentState::Received | IncidentState::Planning | IncidentState::Failed
            ) && self
                .store()
                .claim(
                    other.id,
                    &self.policy.owner,
                    self.now() + self.policy.config.lease(),
                    self.now(),
                )
                .await?
            {
                self.store().set_root(other.id, Some(incident.id)).await?;
                let reason = format!(
                    "held behind root cause {} ({})",
                    incident.alert_name, incident.id
                );
                let moved = if other.state == IncidentState::Received {
                    self.store()
                        .transition(other.id, IncidentState::Suppressed, &reason, self.now())
                        .await
                } else {
                    Err(StoreError::Conflict(
                        "only received incidents are held".into(),
                    ))
                };
                if moved.is_err() && other.state != IncidentState::Received {
                    // Planning/failed incidents cannot jump to suppressed; leave them to run.
                    self.store().set_root(other.id, None).await?;
                }
                self.store().release(other.id, &self.policy.owner).await?;
            }
        }
        Ok(None)
    }

    fn open_index(&self) -> std::sync::MutexGuard<'_, open::OpenIndex> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The incident, if the store still has it open; else it leaves the index.
    async fn still_open(&self, id: IncidentId) -> Result<Option<Incident>, StoreError> {
        match self.store().incident(id).await {
            Ok(incident) if !incident.state.is_terminal() => Ok(Some(incident)),
            Ok(_) | Err(StoreError::NotFound { .. }) => {
                self.open_index().remove(id);
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// Counted attempts for a key within the window (diagnostic-only attempts never count).
    async fn attempts_used(&self, key: &RouteKey) -> Result<u32, StoreError> {
        let since = self.now() - self.policy.config.attempt_window();
        Ok(self
            .store()
            .attempts_for_key(key, since)
            .await?
            .iter()
            .filter(|a| a.counts_toward_limit)
            .count() as u32)
    }

    /// One remediation attempt: plan → validate → execute → verify → learn.
    async fn attempt(
        &self,
        incident: &Incident,
        alert: &Alert,
    ) -> Result<Option<(IncidentState, String)>, StoreError> {
        let cfg = &self.policy.config;
        let mut incident = incident.clone();
        if incident.state != IncidentState::Planning {
            let used = self.attempts_used(&incident.key).await?;
            if used >= cfg.max_attempts {
                let reason = format!(
                    "attempt limit reached after {used} attempts for {}",
                    incident.key
                );
                self.escalate(&incident, &reason).await?;
                return Ok(Some((IncidentState::Escalated, reason)));
            }
            incident = self
                .move_to(
                    &incident,
                    IncidentState::Planning,
                    "planning another attempt",
                )
                .await?;
        }
        let started_at = self.now();
        let hints = self.policy.routing.hints(alert);
        let role = hints
            .host
            .as_deref()
            .and_then(|h| self.policy.hosts.iter().find(|x| x.name == h))
            .and_then(|h| h.role.clone());
        let symptom = learning::symptom(alert, role.as_deref());
        let since = self.now() - cfg.attempt_window();
        let failures = self.store().failures_for(&symptom.signature, since).await?;
        // Specific patterns first, then seeds keyed on the alert name alone.
        let mut patterns = Vec::new();
        for signature in symptom.lookup_signatures() {
            patterns.extend(self.store().patterns_for(&signature).await?);
        }
        let runbook = self
            .policy
            .runbooks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .find(alert.name())
            .cloned();
        let attempt_no = self.attempts_used(&incident.key).await? + 1;
        let mut ctx = PlanContext {
            incident: incident.clone(),
            alert: alert.clone(),
            hints,
            runbook,
            pattern: None,
            failed: failures.clone(),
            hosts: self.policy.hosts.clone(),
            attempt: attempt_no,
            tokens_spent: 0,
        };

        // Plan: learned pattern first, then the planner (with the pattern as a hint).
        let mut notes = Vec::new();
        let plan = match learning::choose_filled(
            &patterns,
            &failures,
            self.now(),
            &self.policy.learning,
            |p| self.fill_pattern(p, &ctx),
        ) {
            PatternMatch::Cached {
                pattern,
                confidence,
            } if !self.fill_pattern(&pattern, &ctx).is_empty() => {
                let mut plan = Plan::new(Tier::Cached, self.fill_pattern(&pattern, &ctx));
                plan.pattern = Some(pattern.id);
                plan.confidence = Some(confidence);
                plan.analysis = format!(
                    "learned pattern with {} verified successes (confidence {confidence:.2})",
                    pattern.successes
                );
                plan
            }
            PatternMatch::Hint {
                pattern,
                confidence,
            } => {
                ctx.pattern = Some((pattern, confidence));
                ctx.tokens_spent = self.tokens_spent(incident.id).await?;
                self.plan_with_fallback(&ctx, &mut notes).await
            }
            PatternMatch::Cached { .. } | PatternMatch::None => {
                ctx.tokens_spent = self.tokens_spent(incident.id).await?;
                self.plan_with_fallback(&ctx, &mut notes).await
            }
        };
        tracing::Span::current().record("plan_tier", plan.tier.as_str());
        let plan_failed_before = failures
            .iter()
            .any(|f| f.plan_signature == plan.signature());
        if plan.is_empty() || plan_failed_before {
            let reason = if plan.is_empty() {
                format!("no plan: {}", plan.analysis)
            } else {
                "the only plan found already failed for this symptom".to_string()
            };
            let reason = join_notes(&reason, &notes);
            return self
                .give_up(&incident, &plan, Vec::new(), reason, started_at)
                .await;
        }
        let incident = self
            .move_to(
                &incident,
                IncidentState::Validating,
                &join_notes(
                    &format!("plan ({}): {}", plan.tier.as_str(), plan.analysis),
                    &notes,
                ),
            )
            .await?;

        // Validate every step before running any.
        let mut validated = Vec::new();
        let mut records = Vec::new();
        let low_confidence =
            plan.tier.uses_llm() && plan.confidence.is_some_and(|c| c < cfg.min_plan_confidence);
        for step in &plan.steps {
            let verdict = self.policy.safety.check(step);
            let verdict = if low_confidence
                && verdict.decision == Decision::Allow
                && verdict.class == SafetyClass::Remediation
            {
                Verdict {
                    decision: Decision::Approve,
                    class: verdict.class,
                    rule: "low-plan-confidence".into(),
                    reason: format!(
                        "the planner's confidence {:.2} is below {:.2}",
                        plan.confidence.unwrap_or_default(),
                        cfg.min_plan_confidence
                    ),
                }
            } else {
                verdict
            };
            if verdict.decision != Decision::Allow {
                self.audit(&incident, step, &verdict, false, None).await?;
            }
            match verdict.decision {
                Decision::Allow => match self.policy.safety.validate(step.clone()) {
                    Ok(v) => validated.push(v),
                    Err(v) => {
                        return self
                            .refused(&incident, alert, &plan, step, &v, started_at)
                            .await;
                    }
                },
                Decision::Refuse => {
                    return self
                        .refused(&incident, alert, &plan, step, &verdict, started_at)
                        .await;
                }
                Decision::Approve => {
                    return self
                        .park(&incident, &plan, step, &verdict, started_at)
                        .await;
                }
            }
            records.push(StepRecord {
                summary: step.action.summary(),
                class: class_name(verdict.class).into(),
                rule: verdict.rule.clone(),
                result: None,
                error: None,
            });
        }
        self.execute_and_verify(
            &incident, alert, &symptom, plan, validated, records, started_at,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn execute_and_verify(
        &self,
        incident: &Incident,
        alert: &Alert,
        symptom: &Symptom,
        plan: Plan,
        validated: Vec<ValidatedStep>,
        mut records: Vec<StepRecord>,
        started_at: DateTime<Utc>,
    ) -> Result<Option<(IncidentState, String)>, StoreError> {
        let cfg = &self.policy.config;
        let remediates = validated
            .iter()
            .any(|v| v.class() == SafetyClass::Remediation);
        let incident = self
            .move_to(
                incident,
                IncidentState::Executing,
                &format!("running {} steps", validated.len()),
            )
            .await?;
        let mut failure: Option<String> = None;
        for (i, step) in validated.iter().enumerate() {
            let result = self.ports.executor.execute(step).await;
            let (exit, error) = match &result {
                Ok(r) => (r.exit_code, None),
                Err(e) => (None, Some(e.to_string())),
            };
            self.audit(&incident, step.step(), step.verdict(), result.is_ok(), exit)
                .await?;
            records[i].error = error.clone();
            records[i].result = result.as_ref().ok().cloned();
            match result {
                Ok(r) if r.succeeded() => {}
                Ok(r) => {
                    failure = Some(format!(
                        "step {} ({}) {}",
                        i + 1,
                        step.step().action.summary(),
                        if r.timed_out {
                            "timed out".to_string()
                        } else {
                            format!(
                                "exited with {}",
                                r.exit_code.map_or("no status".into(), |c| c.to_string())
                            )
                        }
                    ));
                    break;
                }
                Err(e) => {
                    failure = Some(format!("step {} could not run: {e}", i + 1));
                    break;
                }
            }
        }
        if !remediates {
            // Diagnostics only: nothing was fixed, and it never counts as an attempt.
            let reason = "the plan only gathered diagnostics; a person must act".to_string();
            return self
                .give_up(&incident, &plan, records, reason, started_at)
                .await;
        }
        self.store().bump_attempts(incident.id).await?;
        if let Some(reason) = failure {
            return self
                .failed(&incident, symptom, &plan, records, None, reason, started_at)
                .await;
        }
        let incident = self
            .move_to(
                &incident,
                IncidentState::Verifying,
                "commands succeeded; verifying",
            )
            .await?;
        let verification = if cfg.verification_enabled {
            self.ports
                .verifier
                .verify(alert, cfg.verification_max_wait())
                .await
        } else {
            Verification::Unverified {
                reason: "verification is off".into(),
            }
        };
        match &verification {
            Verification::Cleared { after } => {
                self.record_attempt(
                    &incident,
                    &plan,
                    records.clone(),
                    Some(verification.clone()),
                    Outcome::Resolved,
                    true,
                    started_at,
                )
                .await?;
                self.learn(symptom, &plan, true).await?;
                let mut notice = Notice::new(
                    NoticeKind::RemediationSuccess,
                    format!("Fixed {} ({})", incident.alert_name, incident.key.target),
                    self.now(),
                )
                .incident(incident.id)
                .body(plan.analysis.clone())
                .field("Tier", plan.tier.as_str())
                .field(
                    "Verified",
                    format!("cleared {:.1}s after the fix", after.as_secs_f64()),
                );
                notice = notice.field("Commands", commands_field(&records));
                let dependents = self.dependents(&incident).await?;
                if !dependents.is_empty() {
                    notice = notice.field(
                        "Also covered",
                        format!("{} dependent alerts", dependents.len()),
                    );
                }
                self.notify_fix(&incident, notice).await?;
                Ok(Some((
                    IncidentState::Resolved,
                    "verified: the alert cleared".into(),
                )))
            }
            Verification::StillFiring { waited } => {
                let reason = format!(
                    "the commands succeeded but the alert was still firing after {}s",
                    waited.as_secs()
                );
                self.failed(
                    &incident,
                    symptom,
                    &plan,
                    records,
                    Some(verification.clone()),
                    reason,
                    started_at,
                )
                .await
            }
            Verification::Unverified { reason } => {
                self.record_attempt(
                    &incident,
                    &plan,
                    records.clone(),
                    Some(verification.clone()),
                    Outcome::Unverified {
                        reason: reason.clone(),
                    },
                    true,
                    started_at,
                )
                .await?;
                let notice = Notice::new(
                    NoticeKind::RemediationUnverified,
                    format!(
                        "Ran a fix for {} but could not verify it",
                        incident.alert_name
                    ),
                    self.now(),
                )
                .incident(incident.id)
                .body(format!(
                    "Verification: {reason}. No success is claimed and nothing was learned."
                ))
                .field("Commands", commands_field(&records));
                self.notify_fix(&incident, notice).await?;
                Ok(Some((
                    IncidentState::Unverified,
                    format!("unverified: {reason}"),
                )))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn failed(
        &self,
        incident: &Incident,
        symptom: &Symptom,
        plan: &Plan,
        records: Vec<StepRecord>,
        verification: Option<Verification>,
        reason: String,
        started_at: DateTime<Utc>,
    ) -> Result<Option<(IncidentState, String)>, StoreError> {
        let commands = commands_field(&records);
        self.record_attempt(
            incident,
            plan,
            records,
            verification,
            Outcome::Failed {
                reason: reason.clone(),
            },
            true,
            started_at,
        )
        .await?;
        self.learn(symptom, plan, false).await?;
        let existing = self
            .store()
            .failures_for(
                &symptom.signature,
                self.now() - self.policy.config.attempt_window(),
            )
            .await?
            .into_iter()
            .find(|f| f.plan_signature == plan.signature());
        let failure =
            learning::failure(existing.as_ref(), symptom, &plan.steps, &reason, self.now());
        self.store().record_failure(&failure).await?;
        self.notify_attempt_failed(incident, commands, &reason)
            .await?;
        self.after_failure(incident, reason).await
    }

    /// After a failed or refused attempt: retry while the budget lasts, else escalate.
    async fn after_failure(
        &self,
        incident: &Incident,
        reason: String,
    ) -> Result<Option<(IncidentState, String)>, StoreError> {
        let used = self.attempts_used(&incident.key).await?;
        if used >= self.policy.config.max_attempts {
            let why = format!(
                "{reason}; attempt limit reached ({used} of {})",
                self.policy.config.max_attempts
            );
            self.escalate(incident, &why).await?;
            return Ok(Some((IncidentState::Escalated, why)));
        }
        Ok(Some((IncidentState::Failed, reason)))
    }

    /// Records an attempt that does not count toward the limit and escalates.
    async fn give_up(
        &self,
        incident: &Incident,
        plan: &Plan,
        records: Vec<StepRecord>,
        reason: String,
        started_at: DateTime<Utc>,
    ) -> Result<Option<(IncidentState, String)>, StoreError> {
        let outcome = Outcome::Failed {
            reason: reason.clone(),
        };
        self.record_attempt(incident, plan, records, None, outcome, false, started_at)
            .await?;
        self.escalate(incident, &reason).await?;
        Ok(Some((IncidentState::Escalated, reason)))
    }

    async fn refused(
        &self,
        incident: &Incident,
        alert: &Alert,
        plan: &Plan,
        step: &Step,
        verdict: &Verdict,
        started_at: DateTime<Utc>,
    ) -> Result<Option<(IncidentState, String)>, StoreError> {
        let reason = format!(
            "refused {}: {} (rule {})",
            step.action.summary(),
            verdict.reason,
            verdict.rule
        );
        let symptom = learning::symptom(alert, None);
        self.record_attempt(
            incident,
            plan,
            vec![StepRecord {
                summary: step.action.summary(),
                class: class_name(verdict.class).into(),
                rule: verdict.rule.clone(),
                result: None,
                error: Some(verdict.reason.clone()),
            }],
            None,
            Outcome::Refused {
                rule: verdict.rule.clone(),
                reason: verdict.reason.clone(),
            },
            true,
            started_at,
        )
        .await?;
        self.store().bump_attempts(incident.id).await?;
        let failure = learning::failure(None, &symptom, &plan.steps, &reason, self.now());
        self.store().record_failure(&failure).await?;
        let commands = format!("{} (refused, never ran)", step.action.summary());
        self.notify_attempt_failed(incident, commands, &reason)
            .await?;
        self.after_failure(incident, reason).await
    }

    async fn park(
        &self,
        incident: &Incident,
        plan: &Plan,
        step: &Step,
        verdict: &Verdict,
        started_at: DateTime<Utc>,
    ) -> Result<Option<(IncidentState, String)>, StoreError> {
        let now = self.now();
        let approval = Approval {
            id: ApprovalId::new(),
            incident: incident.id,
            step: step.clone(),
            rule: verdict.rule.clone(),
            reason: verdict.reason.clone(),
            status: ApprovalStatus::Pending,
            requested_at: now,
            expires_at: now + self.policy.config.approval_expiry(),
            decided_by: None,
            decided_at: None,
        };
        self.store().save_approval(&approval).await?;
        self.record_attempt(
            incident,
            plan,
            Vec::new(),
            None,
            Outcome::AwaitingApproval {
                reason: verdict.reason.clone(),
            },
            false,
            started_at,
        )
        .await?;
        let notice = Notice::new(
            NoticeKind::ApprovalWaiting,
            format!("Approval needed for {}", incident.alert_name),
            now,
        )
        .incident(incident.id)
        .body(format!(
            "`{}` waits for approval: {} (rule {}). Approve or reject with POST /approvals/{}/approve|reject before {}.",
            step.action.summary(),
            verdict.reason,
            verdict.rule,
            approval.id,
            approval.expires_at.to_rfc3339()
        ));
        self.notify(notice).await?;
        Ok(Some((
            IncidentState::AwaitingApproval,
            format!("waiting for approval {}", approval.id),
        )))
    }

    /// Runs a parked step after an operator approved it, then verifies.
    pub async fn approve(&self, id: ApprovalId, by: &str) -> Res<Option<Handled>> {
        let mut approval = self.store().approval(id).await?;
        if approval.status != ApprovalStatus::Pending {
            return Err(StoreError::Conflict(format!(
                "approval {id} is already {}",
                approval.status.as_str()
            ))
            .into());
        }
        let now = self.now();
        approval.status = ApprovalStatus::Approved;
        approval.decided_by = Some(by.to_string());
        approval.decided_at = Some(now);
        self.store().save_approval(&approval).await?;
        let incident = self.store().incident(approval.incident).await?;
        let alert = self.store().alert(incident.alert_id).await?.alert;
        let err = |source| PipelineError::Store {
            incident: incident.id,
            source,
        };
        let step = approval.step.clone();
        let validated = match self.policy.safety.approve(step.clone(), by) {
            Ok(v) => v,
            Err(verdict) => {
                let reason = format!("approved step is refused: {}", verdict.reason);
                self.escalate(&incident, &reason).await.map_err(err)?;
                let inc = self
                    .move_to(&incident, IncidentState::Escalated, &reason)
                    .await
                    .map_err(err)?;
                return Ok(Some(Handled {
                    incident: inc.id,
                    state: inc.state,
                    released: Vec::new(),
                }));
            }
        };
        let mut plan = Plan::new(Tier::Deterministic, vec![step.clone()]);
        plan.analysis = format!("approved by {by}");
        let symptom = learning::symptom(&alert, None);
        let record = StepRecord {
            summary: step.action.summary(),
            class: class_name(validated.class()).into(),
            rule: validated.verdict().rule.clone(),
            result: None,
            error: None,
        };
        let next = self
            .execute_and_verify(
                &incident,
                &alert,
                &symptom,
                plan,
                vec![validated],
                vec![record],
                now,
            )
            .await
            .map_err(err)?;
        let mut current = self.store().incident(incident.id).await?;
        if let Some((state, reason)) = next {
            current = self.move_to(&current, state, &reason).await.map_err(err)?;
        }
        let released = if current.state == IncidentState::Resolved {
            self.release_dependents(&current).await.map_err(err)?
        } else {
            Vec::new()
        };
        Ok(Some(Handled {
            incident: current.id,
            state: current.state,
            released,
        }))
    }

    /// Rejects a parked step: the incident escalates.
    pub async fn reject(&self, id: ApprovalId, by: &str) -> Res<Handled> {
        let mut approval = self.store().approval(id).await?;
        if approval.status != ApprovalStatus::Pending {
            return Err(StoreError::Conflict(format!(
                "approval {id} is already {}",
                approval.status.as_str()
            ))
            .into());
        }
        approval.status = ApprovalStatus::Rejected;
        approval.decided_by = Some(by.to_string());
        approval.decided_at = Some(self.now());
        self.store().save_approval(&approval).await?;
        let incident = self.store().incident(approval.incident).await?;
        let reason = format!("{by} rejected `{}`", approval.step.action.summary());
        self.escalate(&incident, &reason).await?;
        let inc = self
            .move_to(&incident, IncidentState::Escalated, &reason)
            .await?;
        Ok(Handled {
            incident: inc.id,
            state: inc.state,
            released: Vec::new(),
        })
    }

    /// Escalates pending approvals past their expiry. Returns how many expired.
    pub async fn expire_approvals(&self) -> Res<u32> {
        let now = self.now();
        let mut expired = 0;
        for mut approval in self
            .store()
            .approvals(Some(ApprovalStatus::Pending))
            .await?
        {
            if approval.expires_at > now {
                continue;
            }
            approval.status = ApprovalStatus::Expired;
            approval.decided_at = Some(now);
            self.store().save_approval(&approval).await?;
            let incident = self.store().incident(approval.incident).await?;
            if incident.state == IncidentState::AwaitingApproval {
                let reason = format!(
                    "nobody approved `{}` within {} min",
                    approval.step.action.summary(),
                    self.policy.config.approval_expiry_seconds / 60
                );
                self.escalate(&incident, &reason).await?;
                self.move_to(&incident, IncidentState::Escalated, &reason)
                    .await?;
            }
            expired += 1;
        }
        Ok(expired)
    }

    /// After a crash mid-execution: never re-run commands; verify instead.
    async fn reverify(
        &self,
        incident: &Incident,
        alert: &Alert,
    ) -> Result<Option<(IncidentState, String)>, StoreError> {
        if incident.state == IncidentState::Executing {
            self.move_to(
                    incident,
                    IncidentState::Verifying,
                    "resumed after a restart: commands may have run; verifying instead of running them again",
                )
                .await?;
        }
        if !self.policy.config.verification_enabled {
            return Ok(Some((
                IncidentState::Closed,
                "interrupted by a restart while acting; verification is off, so the outcome is unknown".into(),
            )));
        }
        Ok(Some(
            match self
                .ports
                .verifier
                .verify(alert, self.policy.config.verification_max_wait())
                .await
            {
                Verification::Cleared { .. } => (
                    IncidentState::Resolved,
                    "verified after a restart: the alert cleared".into(),
                ),
                Verification::StillFiring { .. } => (
                    IncidentState::Failed,
                    "interrupted by a restart and still firing".into(),
                ),
                Verification::Unverified { reason } => (
                    IncidentState::Unverified,
                    format!("interrupted by a restart; unverified: {reason}"),
                ),
            },
        ))
    }

    /// A resolved alert: clear its key's attempt history and close its open incident.
    pub async fn process_resolution(&self, alert_id: AlertId) -> Res<Option<Handled>> {
        let stored = self.store().alert(alert_id).await?;
        let now = self.now();
        self.store().clear_attempts(&stored.key, now).await?;
        let open = self
            .store()
            .latest_incident_for(
                &stored.alert.fingerprint,
                stored.alert.starts_at - chrono::Duration::seconds(1),
            )
            .await?;
        let mut handled = None;
        if let Some(incident) = open
            && !incident.state.is_terminal()
            && incident.state.can_move_to(IncidentState::Resolved)
            && !matches!(
                incident.state,
                IncidentState::Executing | IncidentState::Verifying
            )
        {
            let inc = self
                .move_to(
                    &incident,
                    IncidentState::Resolved,
                    "Alertmanager reported the alert resolved",
                )
                .await?;
            let released = self.release_dependents(&inc).await?;
            handled = Some(Handled {
                incident: inc.id,
                state: inc.state,
                released,
            });
        }
        self.store().mark_processed(alert_id, now).await?;
        Ok(handled)
    }

    async fn dependents(&self, root: &Incident) -> Result<Vec<Incident>, StoreError> {
        Ok(self
            .store()
            .open_incidents()
            .await?
            .into_iter()
            .filter(|i| i.root == Some(root.id) && i.state == IncidentState::Suppressed)
            .collect())
    }

    /// The root cause resolved: its held dependents are re-evaluated.
    async fn release_dependents(&self, root: &Incident) -> Result<Vec<IncidentId>, StoreError> {
        let mut released = Vec::new();
        for dependent in self.dependents(root).await? {
            let alert = self.store().alert(dependent.alert_id).await?.alert;
            // Many dependents clear with their root: check before acting.
            let quick = std::time::Duration::from_secs(5);
            let verdict = if self.policy.config.verification_enabled {
                self.ports.verifier.verify(&alert, quick).await
            } else {
                Verification::Unverified {
                    reason: "verification is off".into(),
                }
            };
            if verdict.is_cleared() {
                self.move_to(
                    &dependent,
                    IncidentState::Resolved,
                    &format!("cleared with its root cause {}", root.id),
                )
                .await?;
            } else {
                self.store().set_root(dependent.id, None).await?;
                self.move_to(
                    &dependent,
                    IncidentState::Planning,
                    &format!("root cause {} resolved; re-evaluating", root.id),
                )
                .await?;
                released.push(dependent.id);
            }
        }
        Ok(released)
    }

    /// LLM tokens the incident's earlier attempts used: the per-incident
    /// budget covers every attempt, not each one.
    async fn tokens_spent(&self, incident: IncidentId) -> Result<u64, StoreError> {
        Ok(self
            .store()
            .attempts(incident)
            .await?
            .iter()
            .map(|a| a.usage.total_tokens())
            .sum())
    }

    async fn plan_with_fallback(&self, ctx: &PlanContext, notes: &mut Vec<String>) -> Plan {
        match self.ports.planner.plan(ctx).await {
            Ok(plan) => plan,
            Err(e) => {
                let fallback = self
                    .ports
                    .fallback
                    .as_ref()
                    .filter(|_| e.should_fall_back());
                match fallback {
                    Some(fallback) => {
                        notes.push(format!("{e}; fell back to the {} planner", fallback.name()));
                        match fallback.plan(ctx).await {
                            Ok(plan) => plan,
                            Err(e2) => {
                                notes.push(e2.to_string());
                                Plan::new(Tier::Deterministic, Vec::new())
                            }
                        }
                    }
                    None => {
                        notes.push(e.to_string());
                        let mut plan = Plan::new(
                            if matches!(e, PlanError::Failed { .. }) {
                                Tier::FullReasoning
                            } else {
                                Tier::Deterministic
                            },
                            Vec::new(),
                        );
                        plan.analysis = e.to_string();
                        plan
                    }
                }
            }
        }
    }

    /// A cached pattern's steps with placeholders filled from this alert's hints.
    /// All or nothing: a step whose placeholder has no safe value voids the plan.
    fn fill_pattern(&self, pattern: &Pattern, ctx: &PlanContext) -> Vec<Step> {
        let values = crate::planner::DeterministicPlanner::placeholders(ctx);
        let filled: Option<Vec<Step>> = pattern
            .steps
            .iter()
            .map(|step| {
                let mut step = step.clone();
                if let Action::Shell { host, command, .. } = &mut step.action {
                    *host = runbook::fill(host, &values)?;
                    *command = runbook::fill(command, &values)?;
                }
                Some(step)
            })
            .collect();
        filled.unwrap_or_default()
    }

    async fn learn(
        &self,
        symptom: &Symptom,
        plan: &Plan,
        verified: bool,
    ) -> Result<(), StoreError> {
        let source = match plan.tier {
            Tier::Cached => None,
            Tier::Deterministic => Some(PatternSource::Deterministic),
            Tier::HintAssisted | Tier::FullReasoning => Some(PatternSource::Llm),
        };
        let existing = self
            .store()
            .patterns_for(&symptom.signature)
            .await?
            .into_iter()
            .find(|p| plan.pattern == Some(p.id) || steps_signature(&p.steps) == plan.signature());
        let source = existing
            .as_ref()
            .map(|p| p.source)
            .or(source)
            .unwrap_or(PatternSource::Deterministic);
        if let Some(pattern) = learning::learn(
            existing.as_ref(),
            symptom,
            &plan.steps,
            verified,
            source,
            self.now(),
        ) {
            self.store().save_pattern(&pattern).await?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn record_attempt(
        &self,
        incident: &Incident,
        plan: &Plan,
        steps: Vec<StepRecord>,
        verification: Option<Verification>,
        outcome: Outcome,
        counts: bool,
        started_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let attempt = Attempt {
            id: AttemptId::new(),
            incident: incident.id,
            key: incident.key.clone(),
            tier: plan.tier,
            plan: plan.clone(),
            steps,
            verification,
            outcome,
            usage: plan.usage,
            counts_toward_limit: counts,
            started_at,
            finished_at: self.now(),
        };
        self.store().record_attempt(&attempt).await
    }

    async fn audit(
        &self,
        incident: &Incident,
        step: &Step,
        verdict: &Verdict,
        executed: bool,
        exit_code: Option<i32>,
    ) -> Result<(), StoreError> {
        self.store()
            .audit(&AuditEntry {
                at: self.now(),
                incident: Some(incident.id),
                action: step.action.summary(),
                host: step.action.host().map(str::to_string),
                decision: decision_name(verdict.decision).into(),
                rule: verdict.rule.clone(),
                reason: verdict.reason.clone(),
                executed,
                exit_code,
            })
            .await
    }

    /// Sends an escalation notice unless one went out for the same key within the cooldown.
    async fn escalate(&self, incident: &Incident, reason: &str) -> Result<(), StoreError> {
        let now = self.now();
        if let Some(last) = self.store().last_escalation(&incident.key).await?
            && now - last < self.policy.config.escalation_cooldown()
        {
            info!(key = %incident.key, "escalation notice suppressed by cooldown");
            return Ok(());
        }
        let attempts = self.store().attempts(incident.id).await?;
        let tried: Vec<String> = attempts
            .iter()
            .flat_map(|a| a.plan.steps.iter().map(|s| s.action.summary()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let notice = Notice::new(
            NoticeKind::Escalation,
            format!(
                "Escalated: {} ({})",
                incident.alert_name, incident.key.target
            ),
            now,
        )
        .incident(incident.id)
        .body(reason.to_string())
        .field(
            "Tried",
            if tried.is_empty() {
                "nothing ran".to_string()
            } else {
                tried.join("\n")
            },
        )
        .field(
            "Next step",
            "a person should investigate; see the incident timeline at GET /incidents/{id}"
                .replace("{id}", &incident.id.to_string()),
        );
        self.notify(notice).await?;
        self.store()
            .record_escalation(&incident.key, incident.id, now)
            .await
    }

    /// Tells people one attempt failed, and what happens next.
    async fn notify_attempt_failed(
        &self,
        incident: &Incident,
        commands: String,
        reason: &str,
    ) -> Result<(), StoreError> {
        let used = self.attempts_used(&incident.key).await?;
        let max = self.policy.config.max_attempts;
        let next = if used >= max {
            "attempt limit reached: escalating to a person".to_string()
        } else {
            format!(
                "trying another plan ({} of {max} attempts left)",
                max - used
            )
        };
        let notice = Notice::new(
            NoticeKind::RemediationFailure,
            format!(
                "Attempt {used} failed: {} ({})",
                incident.alert_name, incident.key.target
            ),
            self.now(),
        )
        .incident(incident.id)
        .body(reason.to_string())
        .field(
            "Commands",
            if commands.is_empty() {
                "nothing ran".to_string()
            } else {
                commands
            },
        )
        .field("Next", next);
        self.notify(notice).await
    }

    /// A fix (verified or not) of an alert Jarvis raised itself (anomaly,
    /// prediction) is summarised in the daily report instead of a message of
    /// its own; the notice is still kept on the incident. Failures and
    /// escalations of such alerts are sent at once like any other.
    async fn notify_fix(&self, incident: &Incident, notice: Notice) -> Result<(), StoreError> {
        if !incident.labels.contains_key(SYNTHETIC_LABEL) {
            return self.notify(notice).await;
        }
        self.store()
            .record_notice(&NoticeRecord {
                notice,
                delivered: false,
                error: Some(HELD_FOR_DAILY_REPORT.to_string()),
            })
            .await
    }

    /// Escalates an incident a self-restart interrupted and never resumed.
    /// Returns `false` when the incident already finished or another task holds it.
    pub async fn escalate_interrupted(&self, id: IncidentId, reason: &str) -> Res<bool> {
        let err = |source| PipelineError::Store {
            incident: id,
            source,
        };
        let owner = &self.policy.owner;
        if !self.claim(id).await.map_err(err)? {
            return Ok(false);
        }
        let result = async {
            let incident = self.store().incident(id).await?;
            if incident.state.is_terminal() || !incident.state.can_move_to(IncidentState::Escalated)
            {
                return Ok(false);
            }
            self.escalate(&incident, reason).await?;
            self.move_to(&incident, IncidentState::Escalated, reason)
                .await?;
            Ok(true)
        }
        .await;
        self.store().release(id, owner).await.map_err(err)?;
        result.map_err(err)
    }

    async fn notify(&self, notice: Notice) -> Result<(), StoreError> {
        let result = self.ports.notifier.notify(&notice).await;
        let error = result.as_ref().err().map(|e| e.to_string());
        if let Some(error) = &error {
            warn!(kind = notice.kind.as_str(), error = %error, "notice not delivered");
        }
        self.store()
            .record_notice(&NoticeRecord {
                notice,
                delivered: result.is_ok(),
                error,
            })
            .await
    }
}

/// Why a proactive fix's success notice was not sent on its own.
pub const HELD_FOR_DAILY_REPORT: &str = "held for the daily report (proactive fix)";

fn join_notes(reason: &str, notes: &[String]) -> String {
    if notes.is_empty() {
        reason.to_string()
    } else {
        format!("{reason} ({})", notes.join("; "))
    }
}

fn class_name(class: SafetyClass) -> &'static str {
    match class {
        SafetyClass::Diagnostic => "diagnostic",
        SafetyClass::Remediation => "remediation",
    }
}

fn decision_name(decision: Decision) -> &'static str {
    match decision {
        Decision::Allow => "allow",
        Decision::Approve => "approve",
        Decision::Refuse => "refuse",
    }
}

fn commands_field(records: &[StepRecord]) -> String {
    records
        .iter()
        .map(|r| {
            let status = r
                .result
                .as_ref()
                .and_then(|x| x.exit_code)
                .map_or("-".to_string(), |c| c.to_string());
            format!("{} (exit {status})", r.summary)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests;
