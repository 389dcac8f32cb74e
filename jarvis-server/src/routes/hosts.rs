//! Hosts and external services.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use jarvis_adapters::config::{CheckItem, probe_integrations};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct HostView {
    pub name: String,
    /// Configured in `[[hosts]]` (otherwise only seen in status records).
    pub configured: bool,
    pub address: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub role: Option<String>,
    pub tags: Vec<String>,
    /// The latest known availability; unknown until Jarvis talked to it.
    pub online: Option<bool>,
    pub reason: Option<String>,
    pub since: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HostList {
    /// Commands are only recorded, never run.
    pub dry_run: bool,
    pub hosts: Vec<HostView>,
}

/// Configured hosts with their latest availability.
#[utoipa::path(get, path = "/hosts", tag = "hosts",
    responses((status = 200, body = HostList), (status = 401, body = ErrorBody)))]
pub async fn hosts(State(state): State<AppState>) -> ApiResult<Json<HostList>> {
    let statuses = state
        .store
        .host_statuses()
        .await
        .map_err(|e| ApiError::store("reading host statuses", e))?;
    let mut hosts: BTreeMap<String, HostView> = state
        .config
        .hosts
        .iter()
        .map(|h| {
            (
                h.name.clone(),
                HostView {
                    name: h.name.clone(),
                    configured: true,
                    address: Some(h.address.clone()),
                    port: Some(h.port),
                    user: Some(h.user.clone()),
                    role: h.role.clone(),
                    tags: h.tags.clone(),
                    online: None,
                    reason: None,
                    since: None,
                },
            )
        })
        .collect();
    for s in statuses {
        let view = hosts.entry(s.host.clone()).or_insert_with(|| HostView {
            name: s.host.clone(),
            configured: false,
            address: None,
            port: None,
            user: None,
            role: None,
            tags: Vec::new(),
            online: None,
            reason: None,
            since: None,
        });
        if view.since.is_none_or(|at| s.at >= at) {
            view.online = Some(s.online);
            view.reason = Some(s.reason);
            view.since = Some(s.at);
        }
    }
    Ok(Json(HostList {
        dry_run: state.config.dry_run(),
        hosts: hosts.into_values().collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExternalServices {
    /// One entry per integration: `ok`, `failed` or `skipped` (not configured), with detail.
    #[schema(value_type = Vec<Object>)]
    pub services: Vec<CheckItem>,
}

/// Configured integrations and whether they answer their health endpoint now.
#[utoipa::path(get, path = "/external-services", tag = "hosts",
    responses((status = 200, body = ExternalServices), (status = 401, body = ErrorBody)))]
pub async fn external_services(State(state): State<AppState>) -> Json<ExternalServices> {
    Json(ExternalServices {
        services: probe_integrations(&state.config).await,
    })
}
