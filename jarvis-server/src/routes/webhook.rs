//! `POST /webhook/alertmanager` (alias `POST /webhook`): the Alertmanager receiver.
//!
//! The reply is 202 only after the batch is durable: committed by the store, or,
//! while the store is unreachable (degraded mode), synced to the on-disk spool
//! that is drained into the store in order once it is back. Handling runs
//! afterwards in a tracked background task. A failure to persist (including a
//! full spool) is 503, so Alertmanager retries; a payload Jarvis cannot read is
//! 400 and is not retried.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use jarvis_adapters::alertmanager::parse_webhook;
use jarvis_adapters::spool::Accepted as Durable;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::metrics;
use crate::state::AppState;

/// One accepted alert.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedAlert {
    pub alert_id: Uuid,
    /// The incident the alert opened or joined; none for a resolved alert.
    pub incident_id: Option<Uuid>,
    /// `false` when this exact alert (fingerprint, startsAt, status) was already stored.
    pub new: bool,
}

/// The reply to an accepted notification.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// Alerts in the notification.
    pub accepted: usize,
    /// Alerts not seen before (0 when spooled: not known yet).
    pub new: usize,
    /// Empty when spooled.
    pub alerts: Vec<AcceptedAlert>,
    /// The store is unreachable: the batch is in the on-disk spool and is stored
    /// (then handled) when the store is back.
    pub spooled: bool,
}

async fn receive(
    state: AppState,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            metrics::webhook_rejected("too_large");
            ApiError::PayloadTooLarge(format!(
                "the body is larger than {} bytes (server.body_limit_bytes)",
                state.config.server.body_limit_bytes
            ))
        } else {
            metrics::webhook_rejected("unreadable");
            ApiError::BadRequest(format!("cannot read the body: {rejection}"))
        }
    })?;
    let alerts = parse_webhook(&body).map_err(|e| {
        metrics::webhook_rejected("invalid");
        ApiError::BadRequest(e.to_string())
    })?;
    metrics::alerts_received(alerts.len());
    let count = alerts.len();
    let raw = String::from_utf8_lossy(&body).into_owned();
    let accepted = state
        .intake
        .accept(&state.pipeline, alerts, raw)
        .await
        .map_err(|e| {
            metrics::webhook_rejected(if e.is_full() { "spool_full" } else { "store" });
            // Whatever the cause, a retry is what we want from Alertmanager.
            ApiError::Unavailable {
                doing: "storing a webhook batch",
                source: Box::new(e),
            }
        })?;
    let ingested = match accepted {
        Durable::Stored(ingested) => ingested,
        Durable::Spooled { .. } => {
            metrics::spool_depth(state.intake.stats().depth);
            let reply = Accepted {
                accepted: count,
                new: 0,
                alerts: Vec::new(),
                spooled: true,
            };
            return Ok((StatusCode::ACCEPTED, Json(reply)));
        }
    };
    let reply = Accepted {
        accepted: ingested.len(),
        new: ingested.iter().filter(|i| i.new).count(),
        alerts: ingested
            .iter()
            .map(|i| AcceptedAlert {
                alert_id: i.alert.0,
                incident_id: i.incident.map(|id| id.0),
                new: i.new,
            })
            .collect(),
        spooled: false,
    };
    if reply.new > 0 {
        state.spawn_handling(ingested);
    }
    Ok((StatusCode::ACCEPTED, Json(reply)))
}

/// Receives an Alertmanager webhook notification (payload version 4).
#[utoipa::path(post, path = "/webhook/alertmanager", tag = "webhook",
    request_body(content = Object, description = "Alertmanager webhook payload, version \"4\"", content_type = "application/json"),
    responses(
        (status = 202, description = "Stored durably (or spooled while the store is down); handled in the background", body = Accepted),
        (status = 400, description = "Malformed JSON or unsupported payload", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials", body = ErrorBody),
        (status = 403, description = "Not a loopback client and no password configured", body = ErrorBody),
        (status = 413, description = "Body larger than server.body_limit_bytes", body = ErrorBody),
        (status = 503, description = "Could not be stored or spooled (spool full); retry", body = ErrorBody),
    ),
    security(("basic" = [])))]
pub async fn alertmanager(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    receive(state, body).await
}

/// The same receiver at the path older setups use.
#[utoipa::path(post, path = "/webhook", tag = "webhook",
    request_body(content = Object, description = "Alertmanager webhook payload, version \"4\"", content_type = "application/json"),
    responses(
        (status = 202, description = "Stored durably (or spooled while the store is down); handled in the background", body = Accepted),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 503, body = ErrorBody),
    ),
    security(("basic" = [])))]
pub async fn alias(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    receive(state, body).await
}
