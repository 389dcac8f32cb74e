//! `GET /incidents` and `GET /incidents/{id}`: the whole timeline of an incident.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use jarvis_core::domain::{
    Alert, Approval, Attempt, AuditEntry, Incident, IncidentFilter, IncidentId, IncidentState,
    NoticeRecord, RouteKey, Snapshot, Transition,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentQuery {
    /// Only incidents in this state (`received`, `planning`, …, `resolved`, `escalated`).
    pub state: Option<String>,
    /// Only incidents of this alert name.
    pub alertname: Option<String>,
    /// Only incidents created at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// Incidents to skip (default 0).
    pub offset: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentList {
    /// Newest first.
    #[schema(value_type = Vec<Object>)]
    pub incidents: Vec<Incident>,
    pub limit: u32,
    pub offset: u32,
}

pub fn parse_state(raw: &str) -> ApiResult<IncidentState> {
    IncidentState::parse(raw).ok_or_else(|| {
        let known: Vec<&str> = IncidentState::ALL.iter().map(|s| s.as_str()).collect();
        ApiError::BadRequest(format!(
            "state: unknown state {raw:?} (known: {})",
            known.join(", ")
        ))
    })
}

/// Incidents, newest first.
#[utoipa::path(get, path = "/incidents", tag = "incidents", params(IncidentQuery),
    responses((status = 200, body = IncidentList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    q: Result<Query<IncidentQuery>, QueryRejection>,
) -> ApiResult<Json<IncidentList>> {
    let Query(q) = q?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit: must be between 1 and 500, not {limit}"
        )));
    }
    let offset = q.offset.unwrap_or(0);
    let filter = IncidentFilter {
        state: q.state.as_deref().map(parse_state).transpose()?,
        alert_name: q.alertname.filter(|a| !a.is_empty()),
        since: q.since,
        limit,
        offset,
        ..IncidentFilter::default()
    };
    let incidents = state
        .store
        .incidents(&filter)
        .await
        .map_err(|e| ApiError::store("listing incidents", e))?;
    Ok(Json(IncidentList {
        incidents,
        limit,
        offset,
    }))
}

/// One alert of an incident, with its Alertmanager fingerprint.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    pub id: Uuid,
    pub fingerprint: String,
    #[schema(value_type = Object)]
    pub key: RouteKey,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
    /// The alert as received: status, labels, annotations, startsAt, endsAt, group.
    #[schema(value_type = Object)]
    pub alert: Alert,
}

/// Everything known about one incident.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentDetail {
    #[schema(value_type = Object)]
    pub incident: Incident,
    pub alerts: Vec<AlertView>,
    /// The root-cause incident this one is held behind, if any.
    #[schema(value_type = Option<Object>)]
    pub root: Option<Incident>,
    /// Open incidents held behind this one.
    #[schema(value_type = Vec<Object>)]
    pub dependents: Vec<Incident>,
    /// State changes, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub transitions: Vec<Transition>,
    /// Attempts, oldest first: plan, tier, each step's verdict and output, verification, outcome.
    #[schema(value_type = Vec<Object>)]
    pub attempts: Vec<Attempt>,
    /// Validator decisions that did not simply allow a step, newest first.
    #[schema(value_type = Vec<Object>)]
    pub audit: Vec<AuditEntry>,
    /// Notices sent about the incident, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub notices: Vec<NoticeRecord>,
    #[schema(value_type = Vec<Object>)]
    pub approvals: Vec<Approval>,
    #[schema(value_type = Vec<Object>)]
    pub snapshots: Vec<Snapshot>,
}

pub fn parse_id<T: std::str::FromStr>(what: &str, raw: &str) -> ApiResult<T> {
    raw.parse()
        .map_err(|_| ApiError::BadRequest(format!("{what}: {raw:?} is not a valid id (a UUID)")))
}

/// The whole timeline of one incident.
#[utoipa::path(get, path = "/incidents/{id}", tag = "incidents",
    params(("id" = String, Path, description = "Incident id (UUID)")),
    responses((status = 200, body = IncidentDetail), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<IncidentDetail>> {
    let id: IncidentId = parse_id("id", &id)?;
    let store = &state.store;
    let e = |doing| move |err| ApiError::store(doing, err);
    let incident = store.incident(id).await.map_err(e("reading an incident"))?;
    let stored = store
        .alert(incident.alert_id)
        .await
        .map_err(e("reading an incident's alert"))?;
    let root = match incident.root {
        Some(root) => store.incident(root).await.ok(),
        None => None,
    };
    let dependents = store
        .open_incidents()
        .await
        .map_err(e("reading open incidents"))?
        .into_iter()
        .filter(|i| i.root == Some(id))
        .collect();
    let approvals = store
        .approvals(None)
        .await
        .map_err(e("reading approvals"))?
        .into_iter()
        .filter(|a| a.incident == id)
        .collect();
    Ok(Json(IncidentDetail {
        alerts: vec![AlertView {
            id: stored.id.0,
            fingerprint: stored.alert.fingerprint.to_string(),
            key: stored.key,
            received_at: stored.received_at,
            processed_at: stored.processed_at,
            alert: stored.alert,
        }],
        root,
        dependents,
        transitions: store
            .transitions(id)
            .await
            .map_err(e("reading transitions"))?,
        attempts: store.attempts(id).await.map_err(e("reading attempts"))?,
        audit: store
            .audit_log(Some(id), 500)
            .await
            .map_err(e("reading the audit log"))?,
        notices: store.notices(id).await.map_err(e("reading notices"))?,
        approvals,
        snapshots: store.snapshots(id).await.map_err(e("reading snapshots"))?,
        incident,
    }))
}
