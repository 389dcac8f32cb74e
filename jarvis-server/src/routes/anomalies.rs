//! Anomaly detection: records, statistics, on-demand checks, synthetic alerts
//! and the daily report.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::{DateTime, Duration, Utc};
use jarvis_core::anomaly::{Anomaly, Detector};
use jarvis_core::domain::{
    AnomalyRecord, Incident, IncidentFilter, Labels, Notice, NoticeRecord, SYNTHETIC_LABEL,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::metrics;
use crate::state::AppState;

/// The detector with its Prometheus source, when anomaly detection is on.
#[derive(Debug)]
pub struct AnomalyWatch {
    pub client: jarvis_adapters::prometheus::PrometheusClient,
    pub queries: Vec<String>,
    pub detector: tokio::sync::Mutex<Detector>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnomalyList {
    pub since: DateTime<Utc>,
    #[schema(value_type = Vec<Object>)]
    pub anomalies: Vec<AnomalyRecord>,
}

async fn since(state: &AppState, since: DateTime<Utc>) -> ApiResult<AnomalyList> {
    let mut anomalies = state
        .store
        .anomalies(since)
        .await
        .map_err(|e| ApiError::store("listing anomalies", e))?;
    anomalies.sort_by_key(|a| std::cmp::Reverse(a.at));
    Ok(AnomalyList { since, anomalies })
}

/// Anomalies of the last 24 hours, newest first.
#[utoipa::path(get, path = "/anomalies", tag = "anomalies",
    responses((status = 200, body = AnomalyList), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<AnomalyList>> {
    let from = state.now() - Duration::hours(24);
    Ok(Json(since(&state, from).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Days back, 1 to 90 (default 7).
    pub days: Option<u32>,
}

/// Anomalies of the last `days` days, newest first.
#[utoipa::path(get, path = "/anomalies/history", tag = "anomalies", params(HistoryQuery),
    responses((status = 200, body = AnomalyList), (status = 400, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    q: Result<Query<HistoryQuery>, QueryRejection>,
) -> ApiResult<Json<AnomalyList>> {
    let Query(q) = q?;
    let days = q.days.unwrap_or(7);
    if !(1..=90).contains(&days) {
        return Err(ApiError::BadRequest(format!(
            "days: must be between 1 and 90, not {days}"
        )));
    }
    let from = state.now() - Duration::days(i64::from(days));
    Ok(Json(since(&state, from).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesStats {
    pub anomalies: usize,
    pub last_at: DateTime<Utc>,
    pub max_abs_z_score: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnomalyStats {
    /// Whether the detector runs.
    pub enabled: bool,
    /// The PromQL expressions it watches.
    pub queries: Vec<String>,
    /// Series the detector keeps a baseline for.
    pub tracked_series: usize,
    pub last_24h: usize,
    pub last_7d: usize,
    /// Per series, over the last 7 days.
    pub by_series: BTreeMap<String, SeriesStats>,
}

#[utoipa::path(get, path = "/anomalies/stats", tag = "anomalies",
    responses((status = 200, body = AnomalyStats), (status = 401, body = ErrorBody)))]
pub async fn stats(State(state): State<AppState>) -> ApiResult<Json<AnomalyStats>> {
    let now = state.now();
    let week = since(&state, now - Duration::days(7)).await?.anomalies;
    let mut by_series: BTreeMap<String, SeriesStats> = BTreeMap::new();
    for a in &week {
        let entry = by_series.entry(a.series.clone()).or_insert(SeriesStats {
            anomalies: 0,
            last_at: a.at,
            max_abs_z_score: 0.0,
        });
        entry.anomalies += 1;
        entry.last_at = entry.last_at.max(a.at);
        entry.max_abs_z_score = entry.max_abs_z_score.max(a.z_score.abs());
    }
    let tracked_series = match &state.anomaly {
        Some(w) => w.detector.lock().await.len(),
        None => 0,
    };
    Ok(Json(AnomalyStats {
        enabled: state.anomaly.is_some(),
        queries: state.config.anomaly.queries.clone(),
        tracked_series,
        last_24h: week
            .iter()
            .filter(|a| a.at >= now - Duration::hours(24))
            .count(),
        last_7d: week.len(),
        by_series,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResult {
    pub series_checked: usize,
    #[schema(value_type = Vec<Object>)]
    pub anomalies: Vec<Anomaly>,
    /// Synthetic alerts raised into the pipeline.
    pub alerts_raised: usize,
}

/// `metric{label="value",…}` for a sample of `query`.
fn series_name(query: &str, metric: &Labels) -> String {
    let name = metric
        .get("__name__")
        .cloned()
        .unwrap_or_else(|| query.to_string());
    let labels: Vec<String> = metric
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| format!("{k}=\"{v}\""))
        .collect();
    if labels.is_empty() {
        name
    } else {
        format!("{name}{{{}}}", labels.join(","))
    }
}

/// One detector pass over every watched query. Used by the endpoint and the periodic loop.
pub async fn run_check(state: &AppState, watch: &Arc<AnomalyWatch>) -> ApiResult<CheckResult> {
    let now = state.now();
    let mut found = Vec::new();
    let mut series_checked = 0;
    for query in &watch.queries {
        let samples =
            watch
                .client
                .query_vector(query, None)
                .await
                .map_err(|e| ApiError::Unavailable {
                    doing: "querying Prometheus for anomaly detection",
                    source: Box::new(e),
                })?;
        let mut detector = watch.detector.lock().await;
        for sample in samples {
            series_checked += 1;
            if let Some(a) =
                detector.observe(&series_name(query, &sample.metric), sample.value, now)
            {
                found.push(a);
            }
        }
    }
    let mut alerts = Vec::new();
    for anomaly in &found {
        let alert = Detector::synthetic_alert(anomaly);
        state
            .store
            .record_anomaly(&anomaly.record(Some(alert.fingerprint.to_string())))
            .await
            .map_err(|e| ApiError::store("recording an anomaly", e))?;
        alerts.push(alert);
    }
    metrics::anomalies_detected(found.len());
    let alerts_raised = alerts.len();
    if !alerts.is_empty() {
        let ingested = state
            .pipeline
            .ingest(alerts, None)
            .await
            .map_err(|e| ApiError::pipeline("raising synthetic alerts", e))?;
        state.spawn_handling(ingested);
    }
    Ok(CheckResult {
        series_checked,
        anomalies: found,
        alerts_raised,
    })
}

/// Runs one detector pass now.
#[utoipa::path(post, path = "/anomalies/check", tag = "anomalies",
    responses((status = 200, body = CheckResult), (status = 409, description = "Anomaly detection is off", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn check(State(state): State<AppState>) -> ApiResult<Json<CheckResult>> {
    let Some(watch) = state.anomaly.clone() else {
        return Err(ApiError::Conflict(
            "anomaly detection is off: set [anomaly] enabled = true, queries and [prometheus] url"
                .into(),
        ));
    };
    Ok(Json(run_check(&state, &watch).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyntheticAlerts {
    /// Incidents opened by alerts Jarvis raised itself, newest first.
    #[schema(value_type = Vec<Object>)]
    pub incidents: Vec<Incident>,
}

#[utoipa::path(get, path = "/anomalies/synthetic-alerts", tag = "anomalies",
    responses((status = 200, body = SyntheticAlerts), (status = 401, body = ErrorBody)))]
pub async fn synthetic_alerts(State(state): State<AppState>) -> ApiResult<Json<SyntheticAlerts>> {
    let incidents = state
        .store
        .incidents(&IncidentFilter {
            limit: 1000,
            ..IncidentFilter::default()
        })
        .await
        .map_err(|e| ApiError::store("listing incidents", e))?
        .into_iter()
        .filter(|i| i.labels.contains_key(SYNTHETIC_LABEL))
        .collect();
    Ok(Json(SyntheticAlerts { incidents }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportSent {
    pub delivered: bool,
    pub error: Option<String>,
    #[schema(value_type = Object)]
    pub notice: Notice,
}

/// The last 24 hours as a notice (the scheduled report's content).
pub async fn daily_report(state: &AppState) -> ApiResult<Notice> {
    let now = state.now();
    let digest = crate::proactive::digest(state, now)
        .await
        .map_err(|e| ApiError::Unavailable {
            doing: "building the daily report",
            source: Box::new(e),
        })?;
    Ok(digest.notice(now))
}

/// Sends the daily report now.
#[utoipa::path(post, path = "/anomalies/send-daily-report", tag = "anomalies",
    responses((status = 200, body = ReportSent), (status = 401, body = ErrorBody)))]
pub async fn send_daily_report(State(state): State<AppState>) -> ApiResult<Json<ReportSent>> {
    let notice = daily_report(&state).await?;
    let result = state.pipeline.ports().notifier.notify(&notice).await;
    let error = result.as_ref().err().map(ToString::to_string);
    state
        .store
        .record_notice(&NoticeRecord {
            notice: notice.clone(),
            delivered: result.is_ok(),
            error: error.clone(),
        })
        .await
        .map_err(|e| ApiError::store("recording a notice", e))?;
    Ok(Json(ReportSent {
        delivered: result.is_ok(),
        error,
        notice,
    }))
}
