//! Self-restart hand-offs: Jarvis asks n8n to restart it (or its database) and
//! to call `POST /resume?handoff_id=…` once it is back. One hand-off at a time.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use jarvis_adapters::config::wiring::{SelfRestartError, SelfRestarter, resume_url};
use jarvis_core::domain::{Handoff, HandoffId, HandoffState, Notice, NoticeKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::incidents::parse_id;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RestartQuery {
    /// What to restart: one of `safety.self_restart_targets` (default `jarvis`, `database`).
    pub target: String,
}

async fn pending(state: &AppState) -> ApiResult<Option<Handoff>> {
    Ok(state
        .store
        .handoffs(Some(HandoffState::Pending))
        .await
        .map_err(|e| ApiError::store("listing hand-offs", e))?
        .into_iter()
        .next())
}

/// Starts a hand-off: records it, then triggers the n8n self-restart workflow.
#[utoipa::path(post, path = "/self-restart", tag = "self-restart", params(RestartQuery),
    responses((status = 202, description = "Hand-off recorded and n8n triggered", body = Object),
        (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn self_restart(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<RestartQuery>, QueryRejection>,
) -> ApiResult<(StatusCode, Json<Handoff>)> {
    let Query(q) = q?;
    let targets = &state.config.safety.self_restart_targets;
    if !targets.contains(&q.target) {
        return Err(ApiError::BadRequest(format!(
            "target: {:?} is not a self-restart target (allowed: {})",
            q.target,
            targets.join(", ")
        )));
    }
    let Some(n8n) = state.n8n.clone().filter(|_| {
        state
            .config
            .n8n
            .as_ref()
            .is_some_and(|n| n.self_restart_webhook.is_some())
    }) else {
        return Err(ApiError::Conflict(
            "self-restart needs n8n: set [n8n] url and self_restart_webhook".into(),
        ));
    };
    let restarter = SelfRestarter {
        store: state.store.clone(),
        n8n,
        notifier: state.pipeline.ports().notifier.clone(),
        clock: state.pipeline.ports().clock.clone(),
        resume_url: resume_url(&state.config),
        lock: state.handoff_lock.clone(),
        owner: state.pipeline.policy().owner.clone(),
    };
    let handoff = restarter
        .request(&q.target, None, format!("requested by {}", caller.0), None)
        .await
        .map_err(|e| match e {
            SelfRestartError::Pending(_) => ApiError::Conflict(e.to_string()),
            SelfRestartError::Store { doing, source } => ApiError::store(doing, source),
            SelfRestartError::N8n(e) => ApiError::Unavailable {
                doing: "triggering the n8n self-restart workflow",
                source: Box::new(e),
            },
        })?;
    tracing::info!(handoff = %handoff.id, target = %handoff.target, by = %caller.0, "self-restart requested");
    Ok((StatusCode::ACCEPTED, Json(handoff)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoffStatus {
    /// The pending hand-off, if any.
    #[schema(value_type = Option<Object>)]
    pub active: Option<Handoff>,
    /// The latest hand-offs, newest first.
    #[schema(value_type = Vec<Object>)]
    pub recent: Vec<Handoff>,
    /// Whether n8n is configured to restart Jarvis.
    pub available: bool,
}

#[utoipa::path(get, path = "/self-restart/status", tag = "self-restart",
    responses((status = 200, body = HandoffStatus), (status = 401, body = ErrorBody)))]
pub async fn status(State(state): State<AppState>) -> ApiResult<Json<HandoffStatus>> {
    let mut all = state
        .store
        .handoffs(None)
        .await
        .map_err(|e| ApiError::store("listing hand-offs", e))?;
    all.sort_by_key(|h| std::cmp::Reverse(h.created_at));
    all.truncate(20);
    Ok(Json(HandoffStatus {
        active: all
            .iter()
            .find(|h| h.state == HandoffState::Pending)
            .cloned(),
        recent: all,
        available: state.n8n.is_some()
            && state
                .config
                .n8n
                .as_ref()
                .is_some_and(|n| n.self_restart_webhook.is_some()),
    }))
}

/// Cancels the pending hand-off.
#[utoipa::path(post, path = "/self-restart/cancel", tag = "self-restart",
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Handoff>> {
    let _one_at_a_time = state.handoff_lock.lock().await;
    let mut handoff = pending(&state)
        .await?
        .ok_or_else(|| ApiError::NotFound("no hand-off is pending".into()))?;
    handoff.state = HandoffState::Cancelled;
    handoff.reason = format!("cancelled by {}", caller.0);
    handoff.updated_at = state.now();
    state
        .store
        .save_handoff(&handoff)
        .await
        .map_err(|e| ApiError::store("cancelling a hand-off", e))?;
    Ok(Json(handoff))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResumeQuery {
    /// The hand-off to complete.
    pub handoff_id: String,
}

/// Called back after a restart: completes the hand-off and resumes in-flight work.
#[utoipa::path(post, path = "/resume", tag = "self-restart", params(ResumeQuery),
    responses((status = 202, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    q: Result<Query<ResumeQuery>, QueryRejection>,
) -> ApiResult<(StatusCode, Json<Handoff>)> {
    let Query(q) = q?;
    let id: HandoffId = parse_id("handoff_id", &q.handoff_id)?;
    let _one_at_a_time = state.handoff_lock.lock().await;
    let mut handoff = state
        .store
        .handoff(id)
        .await
        .map_err(|e| ApiError::store("reading a hand-off", e))?;
    if handoff.state != HandoffState::Pending {
        return Err(ApiError::Conflict(format!(
            "hand-off {id} is {}, not pending",
            handoff.state.as_str()
        )));
    }
    handoff.state = HandoffState::Resumed;
    handoff.updated_at = state.now();
    state
        .store
        .save_handoff(&handoff)
        .await
        .map_err(|e| ApiError::store("completing a hand-off", e))?;
    state.spawn_resume("self-restart hand-off completed");
    tracing::info!(handoff = %id, "hand-off resumed");
    let took = (handoff.updated_at - handoff.created_at)
        .num_seconds()
        .max(0);
    let mut notice = Notice::new(
        NoticeKind::SelfRestart,
        format!("Self-restart of {} finished", handoff.target),
        handoff.updated_at,
    )
    .body(format!(
        "Jarvis is back after {took} s and resumes the work the restart interrupted."
    ))
    .field("Hand-off", id.to_string());
    if let Some(incident) = handoff.incident {
        notice = notice.incident(incident);
    }
    crate::proactive::send_notice(&state, notice).await;
    Ok((StatusCode::ACCEPTED, Json(handoff)))
}
