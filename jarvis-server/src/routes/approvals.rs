//! Steps parked for an operator: listed, approved or rejected (recorded with who and when).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use jarvis_core::domain::{Approval, ApprovalId, ApprovalStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::incidents::parse_id;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::metrics;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApprovalQuery {
    /// `pending` (default), `approved`, `rejected`, `expired` or `all`.
    pub status: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalList {
    #[schema(value_type = Vec<Object>)]
    pub approvals: Vec<Approval>,
}

/// Approvals, pending ones by default.
#[utoipa::path(get, path = "/approvals", tag = "approvals", params(ApprovalQuery),
    responses((status = 200, body = ApprovalList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    q: Result<Query<ApprovalQuery>, QueryRejection>,
) -> ApiResult<Json<ApprovalList>> {
    let Query(q) = q?;
    let status = match q.status.as_deref() {
        None | Some("pending") => Some(ApprovalStatus::Pending),
        Some("all") => None,
        Some(s) => Some(ApprovalStatus::parse(s).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "status: unknown status {s:?} (pending, approved, rejected, expired or all)"
            ))
        })?),
    };
    let approvals = state
        .store
        .approvals(status)
        .await
        .map_err(|e| ApiError::store("listing approvals", e))?;
    Ok(Json(ApprovalList { approvals }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Decision {
    pub approval_id: Uuid,
    pub incident_id: Uuid,
    /// `approved` or `rejected`.
    pub decision: String,
    pub decided_by: String,
    pub decided_at: DateTime<Utc>,
    /// The incident's state after the decision, when already known.
    pub incident_state: Option<String>,
}

async fn pending(state: &AppState, id: ApprovalId) -> ApiResult<Approval> {
    let approval = state
        .store
        .approval(id)
        .await
        .map_err(|e| ApiError::store("reading an approval", e))?;
    if approval.status != ApprovalStatus::Pending {
        return Err(ApiError::Conflict(format!(
            "approval {id} is already {}",
            approval.status.as_str()
        )));
    }
    Ok(approval)
}

/// Approves a parked step; the incident continues in the background.
#[utoipa::path(post, path = "/approvals/{id}/approve", tag = "approvals",
    params(("id" = String, Path, description = "Approval id (UUID)")),
    responses((status = 202, body = Decision), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Decision>)> {
    let id: ApprovalId = parse_id("id", &id)?;
    let approval = pending(&state, id).await?;
    let at = state.now();
    let by = caller.0.clone();
    tracing::info!(approval = %id, by = %by, "step approved");
    let task = state.clone();
    state.tasks.spawn(async move {
        let _active = metrics::ActiveGuard::new();
        let since = task.now();
        match task.pipeline.approve(id, &by).await {
            Ok(Some(handled)) => {
                metrics::observe_handled(task.store.as_ref(), &[handled], since, &task.llm_model)
                    .await;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(approval = %id, error = %e, "approved step failed"),
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(Decision {
            approval_id: id.0,
            incident_id: approval.incident.0,
            decision: "approved".into(),
            decided_by: caller.0,
            decided_at: at,
            incident_state: None,
        }),
    ))
}

/// Rejects a parked step; the incident escalates.
#[utoipa::path(post, path = "/approvals/{id}/reject", tag = "approvals",
    params(("id" = String, Path, description = "Approval id (UUID)")),
    responses((status = 200, body = Decision), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Decision>> {
    let id: ApprovalId = parse_id("id", &id)?;
    let approval = pending(&state, id).await?;
    let handled = state
        .pipeline
        .reject(id, &caller.0)
        .await
        .map_err(|e| ApiError::pipeline("rejecting a step", e))?;
    tracing::info!(approval = %id, by = %caller.0, "step rejected");
    Ok(Json(Decision {
        approval_id: id.0,
        incident_id: approval.incident.0,
        decision: "rejected".into(),
        decided_by: caller.0,
        decided_at: state.now(),
        incident_state: Some(handled.state.as_str().to_string()),
    }))
}
