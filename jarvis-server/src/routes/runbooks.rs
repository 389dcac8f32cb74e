//! Runbooks: listed, looked up by alert name, and reloaded from the runbooks directory.

use axum::Json;
use axum::extract::{Path, State};
use jarvis_adapters::config::wiring::runbook_library;
use jarvis_core::domain::Runbook;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct RunbookSummary {
    pub alert_name: String,
    pub aliases: Vec<String>,
    pub title: String,
    pub diagnostic_commands: usize,
    pub remediation_commands: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunbookList {
    /// The directory runbooks are loaded from.
    pub dir: String,
    pub runbooks: Vec<RunbookSummary>,
}

fn summary(rb: &Runbook) -> RunbookSummary {
    RunbookSummary {
        alert_name: rb.alert_name.clone(),
        aliases: rb.aliases.clone(),
        title: rb.title.clone(),
        diagnostic_commands: rb.commands.iter().filter(|c| !c.remediation).count(),
        remediation_commands: rb.commands.iter().filter(|c| c.remediation).count(),
    }
}

fn list_now(state: &AppState) -> RunbookList {
    let library = state
        .pipeline
        .policy()
        .runbooks
        .read()
        .unwrap_or_else(|e| e.into_inner());
    RunbookList {
        dir: state.config.runbooks.dir.display().to_string(),
        runbooks: library.all().map(summary).collect(),
    }
}

/// The loaded runbooks.
#[utoipa::path(get, path = "/runbooks", tag = "runbooks",
    responses((status = 200, body = RunbookList), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>) -> Json<RunbookList> {
    Json(list_now(&state))
}

/// The runbook used for an alert name (exact name, then alias, then prefix).
#[utoipa::path(get, path = "/runbooks/{alert_name}", tag = "runbooks",
    params(("alert_name" = String, Path, description = "Alert name")),
    responses((status = 200, description = "The runbook", body = Object), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(alert_name): Path<String>,
) -> ApiResult<Json<Runbook>> {
    let library = state
        .pipeline
        .policy()
        .runbooks
        .read()
        .unwrap_or_else(|e| e.into_inner());
    library
        .find(&alert_name)
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no runbook applies to alert {alert_name}")))
}

/// Reloads the runbooks directory. When any file is invalid nothing changes and
/// every problem is listed (422).
#[utoipa::path(post, path = "/runbooks/reload", tag = "runbooks",
    responses((status = 200, body = RunbookList), (status = 422, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn reload(State(state): State<AppState>) -> ApiResult<Json<RunbookList>> {
    let library =
        runbook_library(&state.config).map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    let count = library.len();
    *state
        .pipeline
        .policy()
        .runbooks
        .write()
        .unwrap_or_else(|e| e.into_inner()) = library;
    tracing::info!(runbooks = count, "runbooks reloaded");
    Ok(Json(list_now(&state)))
}
