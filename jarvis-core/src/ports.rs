//! The ports: what the pipeline needs from the outside world.
//!
//! Each trait is object-safe and held as `Arc<dyn Port>`. Domain types go in
//! and out; adapter types (rows, responses, SSH channels) never cross.
//! The doc comment on each method is the contract every adapter must keep;
//! `jarvis_core::testing` holds the contract suite for [`Store`].

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::*;
use crate::error::{ExecError, NotifyError, PlanError, SourceError, StoreError};
use crate::safety::ValidatedStep;

/// Time, so the pipeline runs on simulated time in tests and simulation.
#[async_trait]
pub trait Clock: Send + Sync + Debug {
    /// The current time. MUST never go backwards within one process.
    fn now(&self) -> DateTime<Utc>;
    /// Waits `duration` of this clock's time.
    async fn sleep(&self, duration: Duration);
}

/// Where alerts come from when they are pulled rather than pushed
/// (a replay file, a simulation timeline, Prometheus's active alerts, the anomaly detector).
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait AlertSource: Send + Sync + Debug {
    /// A short name for logs.
    fn name(&self) -> &str;
    /// The alerts available now. MUST return each alert occurrence at least once;
    /// returning one again is harmless because ingest is idempotent.
    async fn poll(&self) -> Result<Vec<Alert>, SourceError>;
}

/// Everything a planner may use to choose a plan.
#[derive(Clone, Debug)]
pub struct PlanContext {
    pub incident: Incident,
    pub alert: Alert,
    /// Host and candidate commands extracted from labels, annotations and routing.
    pub hints: crate::hints::Hints,
    pub runbook: Option<Runbook>,
    /// A matching learned pattern that is not yet trusted enough to run alone, with its confidence.
    pub pattern: Option<(Pattern, f64)>,
    /// Plans that already failed for this symptom: do not propose them again.
    pub failed: Vec<FailurePattern>,
    pub hosts: Vec<Host>,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// LLM tokens the incident's earlier attempts used; a per-incident token
    /// budget counts them too.
    pub tokens_spent: u64,
}

/// Chooses a plan for an incident.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait Planner: Send + Sync + Debug {
    /// A short name for logs and attempts.
    fn name(&self) -> &str;
    /// A plan for the incident. The plan's steps are proposals: the pipeline
    /// validates every one before anything runs. MUST NOT run anything itself
    /// except through validated diagnostic tools. An empty plan means "nothing
    /// I can do": the pipeline escalates. MUST set `Plan::tier` and `Plan::usage`.
    async fn plan(&self, ctx: &PlanContext) -> Result<Plan, PlanError>;
}

/// Runs validated steps.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait Executor: Send + Sync + Debug {
    /// Runs one step that passed the validator. MUST NOT retry a command that may
    /// have started; MUST report a non-zero exit as `Ok` with that exit code, and
    /// only failures to run at all as `Err`. MUST bound the output it returns.
    async fn execute(&self, step: &ValidatedStep) -> Result<StepResult, ExecError>;
}

/// Decides whether an alert cleared after a remediation.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait Verifier: Send + Sync + Debug {
    /// Waits at most `max_wait` for the alert to clear. MUST return
    /// [`Verification::Cleared`] only on positive evidence that the alert stopped
    /// firing; an unreachable or failing backend is [`Verification::Unverified`].
    async fn verify(&self, alert: &Alert, max_wait: Duration) -> Verification;
}

/// Tells people what happened.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait Notifier: Send + Sync + Debug {
    /// Delivers a notice. MUST NOT drop a notice silently: either it was
    /// delivered or an error says why not. MUST keep within the channel's limits.
    async fn notify(&self, notice: &Notice) -> Result<(), NotifyError>;
}

/// Durable memory of alerts, incidents, attempts and learned patterns.
///
/// Every pipeline transition goes through the store, so a restarted process
/// can resume. All methods are atomic.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait Store: Send + Sync + Debug {
    /// Whether the store answers.
    async fn ping(&self) -> Result<(), StoreError>;

    // --- alerts and incidents -------------------------------------------

    /// Commits all alerts of a batch in one transaction before returning.
    /// MUST be idempotent per (fingerprint, startsAt, status): a redelivered alert
    /// returns `new: false` and never opens a second incident, even when two
    /// deliveries race. Each new firing alert opens one incident in state
    /// `received` keyed by its item's route key; resolved alerts open none.
    async fn ingest(&self, batch: &IngestBatch) -> Result<Vec<Ingested>, StoreError>;

    /// A stored alert.
    async fn alert(&self, id: AlertId) -> Result<StoredAlert, StoreError>;

    /// Resolved alerts not yet processed, oldest first.
    async fn unprocessed_resolutions(&self, limit: u32) -> Result<Vec<StoredAlert>, StoreError>;

    /// Marks an alert processed.
    async fn mark_processed(&self, id: AlertId, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// An incident. `StoreError::NotFound` when absent.
    async fn incident(&self, id: IncidentId) -> Result<Incident, StoreError>;

    /// Moves an incident to `to`, recording the transition. MUST refuse an illegal
    /// move ([`IncidentState::can_move_to`]) with `StoreError::Conflict`, checking
    /// against the current state inside the same transaction.
    async fn transition(
        &self,
        id: IncidentId,
        to: IncidentState,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<Incident, StoreError>;

    /// Sets (or clears) the root-cause incident an incident is held behind.
    async fn set_root(&self, id: IncidentId, root: Option<IncidentId>) -> Result<(), StoreError>;

    /// Adds one to the incident's attempt counter.
    async fn bump_attempts(&self, id: IncidentId) -> Result<u32, StoreError>;

    /// The incident's transitions, oldest first.
    async fn transitions(&self, id: IncidentId) -> Result<Vec<Transition>, StoreError>;

    /// Incidents, newest first.
    async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, StoreError>;

    /// Incidents that are neither terminal nor parked (suppressed, awaiting approval), oldest first.
    async fn in_flight(&self) -> Result<Vec<Incident>, StoreError>;

    /// Non-terminal incidents, including suppressed and awaiting approval, oldest first.
    async fn open_incidents(&self) -> Result<Vec<Incident>, StoreError>;

    /// The newest incident for a fingerprint created at or after `since`.
    async fn latest_incident_for(
        &self,
        fingerprint: &Fingerprint,
        since: DateTime<Utc>,
    ) -> Result<Option<Incident>, StoreError>;

    /// Takes a lease on an incident for `owner` until `until`. Returns `false` when
    /// another owner holds an unexpired lease. MUST be safe across processes sharing
    /// the store (row locks, not process state).
    async fn claim(
        &self,
        id: IncidentId,
        owner: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Gives up a lease held by `owner`.
    async fn release(&self, id: IncidentId, owner: &str) -> Result<(), StoreError>;

    // --- attempts and escalations -----------------------------------------

    /// Records a finished attempt.
    async fn record_attempt(&self, attempt: &Attempt) -> Result<(), StoreError>;

    /// The attempts of one incident, oldest first.
    async fn attempts(&self, incident: IncidentId) -> Result<Vec<Attempt>, StoreError>;

    /// Uncleared attempts for a route key started at or after `since`, oldest first.
    async fn attempts_for_key(
        &self,
        key: &RouteKey,
        since: DateTime<Utc>,
    ) -> Result<Vec<Attempt>, StoreError>;

    /// Clears the attempt history of a route key (its alert resolved). Cleared
    /// attempts stay readable through [`Store::attempts`].
    async fn clear_attempts(&self, key: &RouteKey, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// When the last escalation notice for a route key was sent.
    async fn last_escalation(&self, key: &RouteKey) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Records an escalation notice for a route key.
    async fn record_escalation(
        &self,
        key: &RouteKey,
        incident: IncidentId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    // --- learning ---------------------------------------------------------

    /// All patterns.
    async fn patterns(&self) -> Result<Vec<Pattern>, StoreError>;

    /// Patterns for one symptom signature.
    async fn patterns_for(&self, signature: &str) -> Result<Vec<Pattern>, StoreError>;

    /// A pattern by id.
    async fn pattern(&self, id: PatternId) -> Result<Pattern, StoreError>;

    /// Inserts or replaces a pattern by id. MUST keep at most one pattern per
    /// (signature, plan) pair: `StoreError::Conflict` otherwise.
    async fn save_pattern(&self, pattern: &Pattern) -> Result<(), StoreError>;

    /// Deletes a pattern; `NotFound` when absent.
    async fn delete_pattern(&self, id: PatternId) -> Result<(), StoreError>;

    /// Records (or counts again) a failed plan for a symptom.
    async fn record_failure(&self, failure: &FailurePattern) -> Result<(), StoreError>;

    /// Failed plans for a symptom last seen at or after `since`.
    async fn failures_for(
        &self,
        signature: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<FailurePattern>, StoreError>;

    // --- maintenance, approvals, hosts, hand-offs -------------------------

    async fn save_maintenance(&self, window: &MaintenanceWindow) -> Result<(), StoreError>;

    /// Windows that have not ended by `now` (active or pending).
    async fn maintenance_windows(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<MaintenanceWindow>, StoreError>;

    async fn save_approval(&self, approval: &Approval) -> Result<(), StoreError>;

    async fn approval(&self, id: ApprovalId) -> Result<Approval, StoreError>;

    async fn approvals(&self, status: Option<ApprovalStatus>) -> Result<Vec<Approval>, StoreError>;

    async fn record_host_status(&self, status: &HostStatus) -> Result<(), StoreError>;

    /// The latest status of each host.
    async fn host_statuses(&self) -> Result<Vec<HostStatus>, StoreError>;

    async fn save_handoff(&self, handoff: &Handoff) -> Result<(), StoreError>;

    async fn handoff(&self, id: HandoffId) -> Result<Handoff, StoreError>;

    async fn handoffs(&self, state: Option<HandoffState>) -> Result<Vec<Handoff>, StoreError>;

    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError>;

    async fn snapshots(&self, incident: IncidentId) -> Result<Vec<Snapshot>, StoreError>;

    async fn record_anomaly(&self, anomaly: &AnomalyRecord) -> Result<(), StoreError>;

    async fn anomalies(&self, since: DateTime<Utc>) -> Result<Vec<AnomalyRecord>, StoreError>;

    // --- audit and notices ------------------------------------------------

    /// Appends to the audit log. Entries are never changed or removed except by retention.
    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// Audit entries, newest first; those of one incident when given.
    async fn audit_log(
        &self,
        incident: Option<IncidentId>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    async fn record_notice(&self, record: &NoticeRecord) -> Result<(), StoreError>;

    /// Notices of one incident, oldest first.
    async fn notices(&self, incident: IncidentId) -> Result<Vec<NoticeRecord>, StoreError>;

    // --- retention --------------------------------------------------------

    /// Removes closed incidents, alerts, attempts, audit entries and notices older
    /// than `before`. Open incidents and patterns are kept.
    async fn prune(&self, before: DateTime<Utc>) -> Result<PruneReport, StoreError>;
}
