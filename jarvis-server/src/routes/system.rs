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

/// The on-disk spool webhook batches wait in while the store is unreachable.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpoolHealth {
    /// Webhook batches go to the spool (the store is down or the spool is draining).
    pub degraded: bool,
    /// Alerts waiting.
    pub depth: usize,
    /// Webhook notifications waiting.
    pub batches: usize,
    /// The most alerts it holds (`database.spool_max_alerts`); past it webhooks get 503.
    pub capacity: usize,
    /// Age of the oldest waiting notification.
    pub oldest_age_seconds: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: HealthStatus,
    pub version: String,
    pub store: StoreHealth,
    pub queue: QueueStats,
    pub spool: SpoolHealth,
    pub uptime_seconds: i64,
    /// Fixes are verified against Prometheus.
    pub verification: bool,
    /// Commands are only recorded, never run.
    pub dry_run: bool,
    /// Why the status is not `healthy`.
    pub reasons: Vec<String>,
}

/// Health: `degraded` while the store is unreachable (webhooks are spooled) or
/// the spool is not yet drained, or the store answers slowly or the queue backs
/// up; `unhealthy` (503) when alerts are refused (the store is down and the spool full).
#[utoipa::path(get, path = "/health", tag = "system",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let started = Instant::now();
    let connected = if state.intake.is_degraded() {
        // The recovery loop pings with backoff; don't wait on a dead database here.
        state.intake.store_up()
    } else {
        let ping = tokio::time::timeout(Duration::from_secs(3), state.store.ping()).await;
        let up = matches!(ping, Ok(Ok(())));
        if !up {
            // Spool from now on rather than make the next webhook wait for the store.
            state.intake.mark_store_down();
        }
        up
    };
    let latency = started.elapsed();
    metrics::database_connected(connected);
    let queue = state.queue.stats();
    let stats = state.intake.stats();
    let degraded = state.intake.is_degraded();
    let mut reasons = Vec::new();
    if !connected {
        reasons.push("the store does not answer: webhook batches are spooled".to_string());
    }
    if stats.depth > 0 {
        reasons.push(format!(
            "{} of {} spooled alerts wait for the store",
            stats.depth, stats.capacity
        ));
    }
    let full = degraded && stats.depth >= stats.capacity;
    if full {
        reasons.push("the spool is full: webhooks are refused with 503".to_string());
    }
    if connected && latency > Duration::from_secs(1) {
        reasons.push(format!("the store answered in {} ms", latency.as_millis()));
    }
    if queue.in_flight > 100 {
        reasons.push(format!(
            "{} batches are waiting to be handled",
            queue.in_flight
        ));
    }
    if degraded && reasons.is_empty() {
        reasons.push("draining the spool".to_string());
    }
    let status = if full {
        HealthStatus::Unhealthy
    } else if reasons.is_empty() {
        HealthStatus::Healthy
    } else {
        HealthStatus::Degraded
    };
    let now = state.now();
    let body = Health {
        status,
        version: VERSION.to_string(),
        store: StoreHealth {
            kind: state.store_handle.kind().to_string(),
            connected,
            latency_ms: latency.as_millis() as u64,
        },
        queue,
        spool: SpoolHealth {
            degraded,
            depth: stats.depth,
            batches: stats.batches,
            capacity: stats.capacity,
            oldest_age_seconds: stats.oldest.map(|t| (now - t).num_seconds().max(0)),
        },
        uptime_seconds: (now - state.started_at).num_seconds(),
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
