//! `/health`, `/version`, `/metrics`, `/openapi.json`: public, no credentials.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;

use crate::metrics;
use crate::state::{AppState, QueueStats};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Overall health.
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreHealth {
    /// `sqlite` or `postgres`.
    pub kind: String,
    pub connected: bool,
    /// How long the ping took, in milliseconds.
    pub latency_ms: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: HealthStatus,
    pub version: String,
    pub store: StoreHealth,
    pub queue: QueueStats,
    pub uptime_seconds: i64,
    /// Fixes are verified against Prometheus.
    pub verification: bool,
    /// Commands are only recorded, never run.
    pub dry_run: bool,
    /// Why the status is not `healthy`.
    pub reasons: Vec<String>,
}

/// Health: `unhealthy` (503) when the store does not answer, `degraded` when it
/// answers slowly or the queue backs up.
#[utoipa::path(get, path = "/health", tag = "system",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let started = Instant::now();
    let ping = tokio::time::timeout(Duration::from_secs(3), state.store.ping()).await;
    let latency = started.elapsed();
    let connected = matches!(ping, Ok(Ok(())));
    metrics::database_connected(connected);
    let queue = state.queue.stats();
    let mut reasons = Vec::new();
    let status = if !connected {
        reasons.push("the store does not answer".to_string());
        HealthStatus::Unhealthy
    } else {
        if latency > Duration::from_secs(1) {
            reasons.push(format!("the store answered in {} ms", latency.as_millis()));
        }
        if queue.in_flight > 100 {
            reasons.push(format!(
                "{} batches are waiting to be handled",
                queue.in_flight
            ));
        }
        if reasons.is_empty() {
            HealthStatus::Healthy
        } else {
            HealthStatus::Degraded
        }
    };
    let body = Health {
        status,
        version: VERSION.to_string(),
        store: StoreHealth {
            kind: state.store_handle.kind().to_string(),
            connected,
            latency_ms: latency.as_millis() as u64,
        },
        queue,
        uptime_seconds: (state.now() - state.started_at).num_seconds(),
        verification: state.config.verification_enabled(),
        dry_run: state.config.dry_run(),
        reasons,
    };
    let code = if status == HealthStatus::Unhealthy {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, Json(body))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Version {
    pub name: String,
    pub version: String,
}

#[utoipa::path(get, path = "/version", tag = "system", responses((status = 200, body = Version)))]
pub async fn version() -> Json<Version> {
    Json(Version {
        name: "jarvis-server".into(),
        version: VERSION.into(),
    })
}

/// Prometheus text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI 3 document", body = Object)))]
pub async fn openapi_json(
    Extension(doc): Extension<Arc<utoipa::openapi::OpenApi>>,
) -> Json<utoipa::openapi::OpenApi> {
    Json((*doc).clone())
}
