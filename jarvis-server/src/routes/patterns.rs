//! Learned patterns, analytics and statistics.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Duration;
use jarvis_core::domain::{
    ApprovalStatus, Attempt, Incident, IncidentFilter, IncidentState, Pattern, PatternId,
};
use jarvis_core::learning::{self, LearningAnalytics};
use serde::Serialize;
use utoipa::ToSchema;

use super::incidents::parse_id;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// A pattern with its current confidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatternView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub pattern: Pattern,
    /// Lower bound of the success rate, decayed by age.
    pub confidence: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PatternList {
    pub patterns: Vec<PatternView>,
}

fn view(state: &AppState, pattern: Pattern) -> PatternView {
    let confidence = learning::confidence(&pattern, state.now(), &state.config.learning);
    PatternView {
        pattern,
        confidence,
    }
}

/// Learned and seeded patterns.
#[utoipa::path(get, path = "/patterns", tag = "learning",
    responses((status = 200, body = PatternList), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<PatternList>> {
    let patterns = state
        .store
        .patterns()
        .await
        .map_err(|e| ApiError::store("listing patterns", e))?;
    Ok(Json(PatternList {
        patterns: patterns.into_iter().map(|p| view(&state, p)).collect(),
    }))
}

/// One pattern.
#[utoipa::path(get, path = "/patterns/{id}", tag = "learning",
    params(("id" = String, Path, description = "Pattern id (UUID)")),
    responses((status = 200, body = PatternView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<PatternView>> {
    let id: PatternId = parse_id("id", &id)?;
    let pattern = state
        .store
        .pattern(id)
        .await
        .map_err(|e| ApiError::store("reading a pattern", e))?;
    Ok(Json(view(&state, pattern)))
}

/// Forgets a pattern.
#[utoipa::path(delete, path = "/patterns/{id}", tag = "learning",
    params(("id" = String, Path, description = "Pattern id (UUID)")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id: PatternId = parse_id("id", &id)?;
    state
        .store
        .delete_pattern(id)
        .await
        .map_err(|e| ApiError::store("deleting a pattern", e))?;
    tracing::info!(pattern = %id, "pattern deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// How remediation is going.
#[derive(Debug, Serialize, ToSchema)]
pub struct Analytics {
    /// Incidents considered (the newest 5000).
    pub incidents: usize,
    /// Resolved ÷ finished (duplicates and maintenance excluded).
    pub success_rate: f64,
    /// Escalated ÷ finished.
    pub escalation_rate: f64,
    /// Unverified ÷ finished.
    pub unverified_rate: f64,
    /// Mean seconds from creation to resolution, over resolved incidents.
    pub mttr_seconds: Option<f64>,
    /// Finished incidents by final state.
    pub outcomes: BTreeMap<String, usize>,
    /// Patterns, tier mix, LLM calls and tokens, and what the learned tier saved.
    #[schema(value_type = Object)]
    pub learning: LearningAnalytics,
}

async fn recent(state: &AppState, limit: u32) -> ApiResult<Vec<Incident>> {
    state
        .store
        .incidents(&IncidentFilter {
            limit,
            ..IncidentFilter::default()
        })
        .await
        .map_err(|e| ApiError::store("listing incidents", e))
}

fn counted(state: IncidentState) -> bool {
    state.is_terminal()
        && !matches!(
            state,
            IncidentState::Duplicate | IncidentState::InMaintenance | IncidentState::HostOffline
        )
}

/// Success and escalation rates, MTTR, tier mix, LLM calls and tokens saved.
#[utoipa::path(get, path = "/analytics", tag = "learning",
    responses((status = 200, body = Analytics), (status = 401, body = ErrorBody)))]
pub async fn analytics(State(state): State<AppState>) -> ApiResult<Json<Analytics>> {
    let incidents = recent(&state, 5000).await?;
    let mut attempts: Vec<Attempt> = Vec::new();
    for incident in incidents.iter().filter(|i| i.attempts > 0) {
        attempts.extend(
            state
                .store
                .attempts(incident.id)
                .await
                .map_err(|e| ApiError::store("reading attempts", e))?,
        );
    }
    let patterns = state
        .store
        .patterns()
        .await
        .map_err(|e| ApiError::store("listing patterns", e))?;
    let finished: Vec<&Incident> = incidents.iter().filter(|i| counted(i.state)).collect();
    let mut outcomes = BTreeMap::new();
    for i in &finished {
        *outcomes.entry(i.state.as_str().to_string()).or_insert(0) += 1;
    }
    let rate = |s: IncidentState| {
        if finished.is_empty() {
            0.0
        } else {
            finished.iter().filter(|i| i.state == s).count() as f64 / finished.len() as f64
        }
    };
    let resolved: Vec<f64> = finished
        .iter()
        .filter(|i| i.state == IncidentState::Resolved)
        .map(|i| (i.updated_at - i.created_at).num_milliseconds() as f64 / 1000.0)
        .collect();
    Ok(Json(Analytics {
        incidents: incidents.len(),
        success_rate: rate(IncidentState::Resolved),
        escalation_rate: rate(IncidentState::Escalated),
        unverified_rate: rate(IncidentState::Unverified),
        mttr_seconds: (!resolved.is_empty())
            .then(|| resolved.iter().sum::<f64>() / resolved.len() as f64),
        outcomes,
        learning: learning::analytics(&patterns, &attempts, &state.config.learning),
    }))
}

/// Counts for a dashboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct Statistics {
    /// Incidents by state (the newest 5000).
    pub incidents_by_state: BTreeMap<String, usize>,
    /// Incidents by alert name (the newest 5000).
    pub incidents_by_alert: BTreeMap<String, usize>,
    pub incidents_last_24h: usize,
    pub open_incidents: usize,
    pub patterns: usize,
    pub pending_approvals: usize,
    pub active_maintenance_windows: usize,
    pub anomalies_last_24h: usize,
    pub uptime_seconds: i64,
}

#[utoipa::path(get, path = "/statistics", tag = "learning",
    responses((status = 200, body = Statistics), (status = 401, body = ErrorBody)))]
pub async fn statistics(State(state): State<AppState>) -> ApiResult<Json<Statistics>> {
    let now = state.now();
    let store = &state.store;
    let e = |doing| move |err| ApiError::store(doing, err);
    let incidents = recent(&state, 5000).await?;
    let mut by_state = BTreeMap::new();
    let mut by_alert = BTreeMap::new();
    for i in &incidents {
        *by_state.entry(i.state.as_str().to_string()).or_insert(0) += 1;
        *by_alert.entry(i.alert_name.clone()).or_insert(0) += 1;
    }
    let day_ago = now - Duration::hours(24);
    Ok(Json(Statistics {
        incidents_last_24h: incidents.iter().filter(|i| i.created_at >= day_ago).count(),
        incidents_by_state: by_state,
        incidents_by_alert: by_alert,
        open_incidents: store
            .open_incidents()
            .await
            .map_err(e("reading open incidents"))?
            .len(),
        patterns: store.patterns().await.map_err(e("listing patterns"))?.len(),
        pending_approvals: store
            .approvals(Some(ApprovalStatus::Pending))
            .await
            .map_err(e("listing approvals"))?
            .len(),
        active_maintenance_windows: store
            .maintenance_windows(now)
            .await
            .map_err(e("listing maintenance windows"))?
            .iter()
            .filter(|w| w.is_active(now))
            .count(),
        anomalies_last_24h: store
            .anomalies(day_ago)
            .await
            .map_err(e("listing anomalies"))?
            .len(),
        uptime_seconds: (now - state.started_at).num_seconds(),
    }))
}
