//! Maintenance windows: alerts are recorded but not remediated while one is active.
//!
//! With `[alertmanager]` configured, starting a window also creates an
//! Alertmanager silence for it (so people are not paged either) and ending it
//! expires the silence. Alertmanager being away never blocks a window: it is
//! saved anyway, and the answer says why there is no silence.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Duration, Utc};
use jarvis_adapters::prometheus::{AlertmanagerClient, NewSilence};
use jarvis_core::domain::{MaintenanceId, MaintenanceScope, MaintenanceWindow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartMaintenance {
    /// The host to cover; all alerts when absent.
    pub host: Option<String>,
    /// Why, for the timeline and notices.
    pub reason: String,
    /// When the window ends (RFC 3339). Default: `duration_minutes` from now.
    pub until: Option<DateTime<Utc>>,
    /// Length of the window when `until` is absent (default 60).
    pub duration_minutes: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WindowView {
    pub id: Uuid,
    /// The covered host; `null` for a global window.
    pub host: Option<String>,
    pub reason: String,
    pub created_by: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub active: bool,
    /// The Alertmanager silence that accompanies the window; `null` without one.
    pub silence_id: Option<String>,
    /// Set only in the answers of start and end: why the Alertmanager silence
    /// could not be created or expired. The window itself was saved.
    pub silence_error: Option<String>,
}

fn view(w: &MaintenanceWindow, now: DateTime<Utc>) -> WindowView {
    WindowView {
        id: w.id.0,
        host: match &w.scope {
            MaintenanceScope::Global => None,
            MaintenanceScope::Host(h) => Some(h.clone()),
        },
        reason: w.reason.clone(),
        created_by: w.created_by.clone(),
        starts_at: w.starts_at,
        ends_at: w.ends_at,
        ended_at: w.ended_at,
        active: w.is_active(now),
        silence_id: w.silence_id.clone(),
        silence_error: None,
    }
}

/// Creates the window's silence; on failure, says why (and warns).
async fn silence(am: &AlertmanagerClient, window: &MaintenanceWindow) -> Result<String, String> {
    am.create_silence(&NewSilence::for_maintenance(window))
        .await
        .map_err(|e| {
            let why = crate::error::chain(&e);
            tracing::warn!(window = %window.id, error = %why,
                "maintenance window without an alertmanager silence");
            format!("the Alertmanager silence could not be created: {why}")
        })
}

/// Expires the window's silence, if it has one. A silence that is already
/// gone (expired, or unknown to Alertmanager) is fine.
async fn unsilence(am: Option<&AlertmanagerClient>, window: &MaintenanceWindow) -> Option<String> {
    let (Some(am), Some(id)) = (am, window.silence_id.as_deref()) else {
        return None;
    };
    match am.expire_silence(id).await {
        Ok(()) => None,
        Err(e) if e.is_gone() => None,
        Err(e) => {
            let why = crate::error::chain(&e);
            tracing::warn!(window = %window.id, silence = %id, error = %why,
                "alertmanager silence of an ended maintenance window not expired");
            Some(format!(
                "the Alertmanager silence {id} could not be expired: {why}"
            ))
        }
    }
}

/// Starts a maintenance window for a host or for everything.
#[utoipa::path(post, path = "/maintenance/start", tag = "maintenance",
    request_body = StartMaintenance,
    responses((status = 201, body = WindowView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    payload: Result<Json<StartMaintenance>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<WindowView>)> {
    let Json(req) = payload?;
    let now = state.now();
    if req.reason.trim().is_empty() {
        return Err(ApiError::BadRequest("reason: must not be empty".into()));
    }
    let ends_at = match (req.until, req.duration_minutes) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "give either until or duration_minutes, not both".into(),
            ));
        }
        (Some(until), None) => until,
        (None, minutes) => {
            let minutes = minutes.unwrap_or(60);
            if minutes == 0 || minutes > 7 * 24 * 60 {
                return Err(ApiError::BadRequest(
                    "duration_minutes: must be between 1 and 10080".into(),
                ));
            }
            now + Duration::minutes(i64::from(minutes))
        }
    };
    if ends_at <= now {
        return Err(ApiError::BadRequest(format!(
            "until: {ends_at} is not in the future"
        )));
    }
    let scope = match req
        .host
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
    {
        Some(h) => MaintenanceScope::Host(h),
        None => MaintenanceScope::Global,
    };
    let mut window = MaintenanceWindow {
        id: MaintenanceId::new(),
        scope,
        reason: req.reason,
        created_by: caller.0,
        starts_at: now,
        ends_at,
        ended_at: None,
        silence_id: None,
    };
    let am = state.alertmanager.as_deref();
    let mut silence_error = None;
    if let Some(am) = am {
        match silence(am, &window).await {
            Ok(id) => window.silence_id = Some(id),
            Err(why) => silence_error = Some(why),
        }
    }
    if let Err(e) = state.store.save_maintenance(&window).await {
        // No window, so no silence either.
        unsilence(am, &window).await;
        return Err(ApiError::store("saving a maintenance window", e));
    }
    tracing::info!(window = %window.id, by = %window.created_by,
        silence = window.silence_id.as_deref().unwrap_or("none"), "maintenance window started");
    let mut body = view(&window, now);
    body.silence_error = silence_error;
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndMaintenance {
    /// End this window.
    pub id: Option<Uuid>,
    /// End the windows of this host.
    pub host: Option<String>,
    /// End every window.
    #[serde(default)]
    pub all: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ended {
    pub ended: Vec<WindowView>,
}

/// Ends windows early: one by id, those of a host, or all with `all = true`.
#[utoipa::path(post, path = "/maintenance/end", tag = "maintenance",
    request_body = EndMaintenance,
    responses((status = 200, body = Ended), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn end(
    State(state): State<AppState>,
    payload: Result<Json<EndMaintenance>, JsonRejection>,
) -> ApiResult<Json<Ended>> {
    let Json(req) = payload?;
    let selectors =
        usize::from(req.id.is_some()) + usize::from(req.host.is_some()) + usize::from(req.all);
    if selectors != 1 {
        return Err(ApiError::BadRequest(
            "give exactly one of id, host or all = true".into(),
        ));
    }
    let now = state.now();
    let windows = state
        .store
        .maintenance_windows(now)
        .await
        .map_err(|e| ApiError::store("listing maintenance windows", e))?;
    let chosen: Vec<MaintenanceWindow> = windows
        .into_iter()
        .filter(|w| match (&req.id, &req.host) {
            (Some(id), _) => w.id.0 == *id,
            (_, Some(host)) => w.scope == MaintenanceScope::Host(host.clone()),
            _ => true,
        })
        .collect();
    if chosen.is_empty() && !req.all {
        return Err(ApiError::NotFound(match (&req.id, &req.host) {
            (Some(id), _) => format!("maintenance window {id} not found or already ended"),
            (_, Some(host)) => format!("no open maintenance window for host {host}"),
            _ => "no open maintenance window".into(),
        }));
    }
    let mut ended = Vec::new();
    for mut w in chosen {
        w.ended_at = Some(now);
        state
            .store
            .save_maintenance(&w)
            .await
            .map_err(|e| ApiError::store("ending a maintenance window", e))?;
        let mut v = view(&w, now);
        v.silence_error = unsilence(state.alertmanager.as_deref(), &w).await;
        ended.push(v);
    }
    Ok(Json(Ended { ended }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MaintenanceStatus {
    pub in_maintenance: bool,
    pub active: Vec<WindowView>,
    /// Windows that start later.
    pub scheduled: Vec<WindowView>,
}

/// Active and scheduled windows.
#[utoipa::path(get, path = "/maintenance/status", tag = "maintenance",
    responses((status = 200, body = MaintenanceStatus), (status = 401, body = ErrorBody)))]
pub async fn status(State(state): State<AppState>) -> ApiResult<Json<MaintenanceStatus>> {
    let now = state.now();
    let windows = state
        .store
        .maintenance_windows(now)
        .await
        .map_err(|e| ApiError::store("listing maintenance windows", e))?;
    let (active, scheduled): (Vec<_>, Vec<_>) = windows.iter().partition(|w| w.is_active(now));
    Ok(Json(MaintenanceStatus {
        in_maintenance: !active.is_empty(),
        active: active.into_iter().map(|w| view(w, now)).collect(),
        scheduled: scheduled
            .into_iter()
            .filter(|w| w.ended_at.is_none() && w.starts_at > now)
            .map(|w| view(w, now))
            .collect(),
    }))
}
