//! What the SQL stores share: value encodings, row types and error translation.
//!
//! Both schemas use the same column names and encodings (UUID text, fixed-width
//! RFC 3339 instants, JSON text), so one set of row types decodes both.

use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use jarvis_core::domain::*;
use jarvis_core::error::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;

// --- value encodings -----------------------------------------------------------

/// An instant as stored: RFC 3339 UTC with exactly nine fractional digits,
/// so text order is time order and nothing is lost.
pub(crate) fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

pub(crate) fn opt_ts(at: Option<DateTime<Utc>>) -> Option<String> {
    at.map(ts)
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("bad instant {s:?}: {e}")))
}

fn parse_opt_ts(s: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    s.as_deref().map(parse_ts).transpose()
}

fn parse_id<T: FromStr>(s: &str, what: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("bad {what} id {s:?}: {e}")))
}

pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode {what}: {e}")))
}

fn from_json<T: DeserializeOwned>(s: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("bad {what} json: {e}")))
}

fn count<T: TryFrom<i64>>(n: i64, what: &str) -> Result<T, StoreError> {
    T::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} out of range: {n}")))
}

fn state(s: &str) -> Result<IncidentState, StoreError> {
    IncidentState::parse(s).ok_or_else(|| StoreError::Corrupt(format!("bad incident state {s:?}")))
}

/// The states matching `keep`, as an SQL list literal of our own constants.
pub(crate) fn state_list(keep: impl Fn(IncidentState) -> bool) -> String {
    IncidentState::ALL
        .into_iter()
        .filter(|s| keep(*s))
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

// --- error translation ---------------------------------------------------------

/// Translates a sqlx error at the seam. Connection-level failures and lock
/// timeouts become `Unavailable` (transient); constraint violations become
/// `Conflict`; undecodable rows become `Corrupt`.
pub(crate) fn db_err(doing: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| classify(doing, error)
}

pub(crate) fn classify(doing: &'static str, error: sqlx::Error) -> StoreError {
    use sqlx::Error as E;
    let unavailable = |error: sqlx::Error| StoreError::Unavailable {
        doing,
        source: Box::new(error),
    };
    match error {
        E::Database(db) => {
            if db.is_unique_violation() || db.is_foreign_key_violation() {
                StoreError::Conflict(format!("{doing}: {}", db.message()))
            } else if is_transient(db.as_ref()) {
                unavailable(E::Database(db))
            } else {
                StoreError::Corrupt(format!("{doing}: {}", db.message()))
            }
        }
        E::RowNotFound => StoreError::not_found(doing),
        E::ColumnDecode { .. }
        | E::Decode(_)
        | E::TypeNotFound { .. }
        | E::ColumnNotFound(_)
        | E::ColumnIndexOutOfBounds { .. } => StoreError::Corrupt(format!("{doing}: {error}")),
        // Io, Tls, Protocol, PoolTimedOut, PoolClosed, WorkerCrashed, Configuration, ...
        other => unavailable(other),
    }
}

fn is_transient(db: &dyn sqlx::error::DatabaseError) -> bool {
    let code = db.code().unwrap_or_default();
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // Primary result codes: BUSY, LOCKED, NOMEM, IOERR, FULL, CANTOPEN, PROTOCOL.
        let code = code.parse::<i64>().unwrap_or(0) & 0xff;
        return matches!(code, 5 | 6 | 7 | 10 | 13 | 14 | 15);
    }
    if db
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .is_some()
    {
        // Classes: connection exception, transaction rollback (serialization,
        // deadlock), insufficient resources, operator intervention, system error.
        return ["08", "40", "53", "57", "58"]
            .iter()
            .any(|class| code.starts_with(class));
    }
    false
}

pub(crate) fn migrate_err(doing: &'static str, error: sqlx::migrate::MigrateError) -> StoreError {
    match error {
        sqlx::migrate::MigrateError::Execute(e) => classify(doing, e),
        other => StoreError::Corrupt(format!("{doing}: {other}")),
    }
}

// --- rows ------------------------------------------------------------------------

macro_rules! alert_cols {
    () => {
        "id, alert, key_alert_name, key_target, received_at, incident_id, processed_at"
    };
}
macro_rules! incident_cols {
    () => {
        "id, alert_id, fingerprint, alert_name, key_alert_name, key_target, labels, state, \
         reason, root_id, attempts, lease_owner, lease_until, created_at, updated_at"
    };
}
macro_rules! attempt_cols {
    () => {
        "id, incident_id, key_alert_name, key_target, tier, plan, steps, verification, \
         outcome_detail, llm_calls, input_tokens, output_tokens, iterations, \
         counts_toward_limit, started_at, finished_at"
    };
}
macro_rules! pattern_cols {
    () => {
        "id, signature, alert_name, symptom, steps, successes, failures, source, created_at, \
         last_used"
    };
}
pub(crate) use {alert_cols, attempt_cols, incident_cols, pattern_cols};

#[derive(sqlx::FromRow)]
pub(crate) struct AlertRow {
    id: String,
    alert: String,
    key_alert_name: String,
    key_target: String,
    received_at: String,
    incident_id: Option<String>,
    processed_at: Option<String>,
}

impl TryFrom<AlertRow> for StoredAlert {
    type Error = StoreError;
    fn try_from(r: AlertRow) -> Result<Self, StoreError> {
        Ok(StoredAlert {
            id: parse_id(&r.id, "alert")?,
            alert: from_json(&r.alert, "alert")?,
            key: RouteKey::new(r.key_alert_name, r.key_target),
            received_at: parse_ts(&r.received_at)?,
            incident: r
                .incident_id
                .as_deref()
                .map(|s| parse_id(s, "incident"))
                .transpose()?,
            processed_at: parse_opt_ts(r.processed_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct IncidentRow {
    id: String,
    alert_id: String,
    fingerprint: String,
    alert_name: String,
    key_alert_name: String,
    key_target: String,
    labels: String,
    state: String,
    reason: String,
    root_id: Option<String>,
    attempts: i64,
    lease_owner: Option<String>,
    lease_until: Option<String>,
    created_at: String,
    updated_at: String,
}

impl TryFrom<IncidentRow> for Incident {
    type Error = StoreError;
    fn try_from(r: IncidentRow) -> Result<Self, StoreError> {
        Ok(Incident {
            id: parse_id(&r.id, "incident")?,
            key: RouteKey::new(r.key_alert_name, r.key_target),
            alert_id: parse_id(&r.alert_id, "alert")?,
            fingerprint: Fingerprint::parse(&r.fingerprint)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            alert_name: r.alert_name,
            labels: from_json(&r.labels, "labels")?,
            state: state(&r.state)?,
            reason: r.reason,
            root: r
                .root_id
                .as_deref()
                .map(|s| parse_id(s, "incident"))
                .transpose()?,
            attempts: count(r.attempts, "attempts")?,
            created_at: parse_ts(&r.created_at)?,
            updated_at: parse_ts(&r.updated_at)?,
            lease_owner: r.lease_owner,
            lease_until: parse_opt_ts(r.lease_until)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TransitionRow {
    incident_id: String,
    from_state: String,
    to_state: String,
    reason: String,
    at: String,
}

impl TryFrom<TransitionRow> for Transition {
    type Error = StoreError;
    fn try_from(r: TransitionRow) -> Result<Self, StoreError> {
        Ok(Transition {
            incident: parse_id(&r.incident_id, "incident")?,
            from: state(&r.from_state)?,
            to: state(&r.to_state)?,
            reason: r.reason,
            at: parse_ts(&r.at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AttemptRow {
    id: String,
    incident_id: String,
    key_alert_name: String,
    key_target: String,
    tier: String,
    plan: String,
    steps: String,
    verification: Option<String>,
    outcome_detail: String,
    llm_calls: i64,
    input_tokens: i64,
    output_tokens: i64,
    iterations: i64,
    counts_toward_limit: bool,
    started_at: String,
    finished_at: String,
}

impl TryFrom<AttemptRow> for Attempt {
    type Error = StoreError;
    fn try_from(r: AttemptRow) -> Result<Self, StoreError> {
        Ok(Attempt {
            id: parse_id(&r.id, "attempt")?,
            incident: parse_id(&r.incident_id, "incident")?,
            key: RouteKey::new(r.key_alert_name, r.key_target),
            tier: Tier::ALL
                .into_iter()
                .find(|t| t.as_str() == r.tier)
                .ok_or_else(|| StoreError::Corrupt(format!("bad tier {:?}", r.tier)))?,
            plan: from_json(&r.plan, "plan")?,
            steps: from_json(&r.steps, "steps")?,
            verification: r
                .verification
                .as_deref()
                .map(|v| from_json(v, "verification"))
                .transpose()?,
            outcome: from_json(&r.outcome_detail, "outcome")?,
            usage: LlmUsage {
                calls: count(r.llm_calls, "llm calls")?,
                input_tokens: count(r.input_tokens, "input tokens")?,
                output_tokens: count(r.output_tokens, "output tokens")?,
                iterations: count(r.iterations, "iterations")?,
            },
            counts_toward_limit: r.counts_toward_limit,
            started_at: parse_ts(&r.started_at)?,
            finished_at: parse_ts(&r.finished_at)?,
        })
    }
}

/// The bound values of an attempt row, in `attempt_cols!` order plus `outcome`.
pub(crate) struct AttemptValues {
    pub id: String,
    pub incident_id: String,
    pub tier: &'static str,
    pub plan: String,
    pub steps: String,
    pub verification: Option<String>,
    pub outcome: &'static str,
    pub outcome_detail: String,
    pub llm_calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub iterations: i64,
    pub started_at: String,
    pub finished_at: String,
}

pub(crate) fn big(n: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Conflict(format!("{what} too large: {n}")))
}

impl AttemptValues {
    pub fn of(a: &Attempt) -> Result<Self, StoreError> {
        Ok(AttemptValues {
            id: a.id.to_string(),
            incident_id: a.incident.to_string(),
            tier: a.tier.as_str(),
            plan: to_json(&a.plan, "plan")?,
            steps: to_json(&a.steps, "steps")?,
            verification: a
                .verification
                .as_ref()
                .map(|v| to_json(v, "verification"))
                .transpose()?,
            outcome: a.outcome.as_str(),
            outcome_detail: to_json(&a.outcome, "outcome")?,
            llm_calls: i64::from(a.usage.calls),
            input_tokens: big(a.usage.input_tokens, "input tokens")?,
            output_tokens: big(a.usage.output_tokens, "output tokens")?,
            iterations: i64::from(a.usage.iterations),
            started_at: ts(a.started_at),
            finished_at: ts(a.finished_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PatternRow {
    id: String,
    signature: String,
    alert_name: String,
    symptom: String,
    steps: String,
    successes: i64,
    failures: i64,
    source: String,
    created_at: String,
    last_used: Option<String>,
}

impl TryFrom<PatternRow> for Pattern {
    type Error = StoreError;
    fn try_from(r: PatternRow) -> Result<Self, StoreError> {
        Ok(Pattern {
            id: parse_id(&r.id, "pattern")?,
            signature: r.signature,
            alert_name: r.alert_name,
            symptom: from_json(&r.symptom, "symptom")?,
            steps: from_json(&r.steps, "steps")?,
            successes: count(r.successes, "successes")?,
            failures: count(r.failures, "failures")?,
            source: PatternSource::parse(&r.source)
                .ok_or_else(|| StoreError::Corrupt(format!("bad source {:?}", r.source)))?,
            created_at: parse_ts(&r.created_at)?,
            last_used: parse_opt_ts(r.last_used)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct FailureRow {
    signature: String,
    plan_signature: String,
    summary: String,
    failures: i64,
    reason: String,
    last_failed_at: String,
}

impl TryFrom<FailureRow> for FailurePattern {
    type Error = StoreError;
    fn try_from(r: FailureRow) -> Result<Self, StoreError> {
        Ok(FailurePattern {
            signature: r.signature,
            plan_signature: r.plan_signature,
            summary: from_json(&r.summary, "summary")?,
            failures: count(r.failures, "failures")?,
            reason: r.reason,
            last_failed_at: parse_ts(&r.last_failed_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MaintenanceRow {
    id: String,
    scope: String,
    reason: String,
    created_by: String,
    starts_at: String,
    ends_at: String,
    ended_at: Option<String>,
    silence_id: Option<String>,
}

impl TryFrom<MaintenanceRow> for MaintenanceWindow {
    type Error = StoreError;
    fn try_from(r: MaintenanceRow) -> Result<Self, StoreError> {
        Ok(MaintenanceWindow {
            id: parse_id(&r.id, "maintenance window")?,
            scope: from_json(&r.scope, "scope")?,
            reason: r.reason,
            created_by: r.created_by,
            starts_at: parse_ts(&r.starts_at)?,
            ends_at: parse_ts(&r.ends_at)?,
            ended_at: parse_opt_ts(r.ended_at)?,
            silence_id: r.silence_id,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ApprovalRow {
    id: String,
    incident_id: String,
    step: String,
    rule: String,
    reason: String,
    status: String,
    requested_at: String,
    expires_at: String,
    decided_by: Option<String>,
    decided_at: Option<String>,
}

impl TryFrom<ApprovalRow> for Approval {
    type Error = StoreError;
    fn try_from(r: ApprovalRow) -> Result<Self, StoreError> {
        Ok(Approval {
            id: parse_id(&r.id, "approval")?,
            incident: parse_id(&r.incident_id, "incident")?,
            step: from_json(&r.step, "step")?,
            rule: r.rule,
            reason: r.reason,
            status: ApprovalStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("bad status {:?}", r.status)))?,
            requested_at: parse_ts(&r.requested_at)?,
            expires_at: parse_ts(&r.expires_at)?,
            decided_by: r.decided_by,
            decided_at: parse_opt_ts(r.decided_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct HostStatusRow {
    host: String,
    online: bool,
    reason: String,
    at: String,
}

impl TryFrom<HostStatusRow> for HostStatus {
    type Error = StoreError;
    fn try_from(r: HostStatusRow) -> Result<Self, StoreError> {
        Ok(HostStatus {
            host: r.host,
            online: r.online,
            reason: r.reason,
            at: parse_ts(&r.at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct HandoffRow {
    id: String,
    target: String,
    incident_id: Option<String>,
    state: String,
    reason: String,
    created_at: String,
    updated_at: String,
}

impl TryFrom<HandoffRow> for Handoff {
    type Error = StoreError;
    fn try_from(r: HandoffRow) -> Result<Self, StoreError> {
        Ok(Handoff {
            id: parse_id(&r.id, "hand-off")?,
            target: r.target,
            incident: r
                .incident_id
                .as_deref()
                .map(|s| parse_id(s, "incident"))
                .transpose()?,
            state: HandoffState::parse(&r.state)
                .ok_or_else(|| StoreError::Corrupt(format!("bad hand-off state {:?}", r.state)))?,
            reason: r.reason,
            created_at: parse_ts(&r.created_at)?,
            updated_at: parse_ts(&r.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SnapshotRow {
    incident_id: String,
    host: String,
    label: String,
    content: String,
    at: String,
}

impl TryFrom<SnapshotRow> for Snapshot {
    type Error = StoreError;
    fn try_from(r: SnapshotRow) -> Result<Self, StoreError> {
        Ok(Snapshot {
            incident: parse_id(&r.incident_id, "incident")?,
            host: r.host,
            label: r.label,
            content: r.content,
            at: parse_ts(&r.at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AnomalyRow {
    series: String,
    value: f64,
    mean: f64,
    z_score: f64,
    at: String,
    alert_fingerprint: Option<String>,
}

impl TryFrom<AnomalyRow> for AnomalyRecord {
    type Error = StoreError;
    fn try_from(r: AnomalyRow) -> Result<Self, StoreError> {
        Ok(AnomalyRecord {
            series: r.series,
            value: r.value,
            mean: r.mean,
            z_score: r.z_score,
            at: parse_ts(&r.at)?,
            alert_fingerprint: r.alert_fingerprint,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    at: String,
    incident_id: Option<String>,
    action: String,
    host: Option<String>,
    decision: String,
    rule: String,
    reason: String,
    executed: bool,
    exit_code: Option<i64>,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        Ok(AuditEntry {
            at: parse_ts(&r.at)?,
            incident: r
                .incident_id
                .as_deref()
                .map(|s| parse_id(s, "incident"))
                .transpose()?,
            action: r.action,
            host: r.host,
            decision: r.decision,
            rule: r.rule,
            reason: r.reason,
            executed: r.executed,
            exit_code: r.exit_code.map(|c| count(c, "exit code")).transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct NoticeRow {
    notice: String,
    delivered: bool,
    error: Option<String>,
}

impl TryFrom<NoticeRow> for NoticeRecord {
    type Error = StoreError;
    fn try_from(r: NoticeRow) -> Result<Self, StoreError> {
        Ok(NoticeRecord {
            notice: from_json(&r.notice, "notice")?,
            delivered: r.delivered,
            error: r.error,
        })
    }
}

/// Converts every row, failing on the first corrupt one.
pub(crate) fn convert<R, T: TryFrom<R, Error = StoreError>>(
    rows: Vec<R>,
) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(T::try_from).collect()
}
