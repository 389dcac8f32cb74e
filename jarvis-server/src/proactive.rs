//! The server side of the proactive loops: the daily report scheduler, backup
//! freshness checks and the self-restart hand-off check.
//!
//! The decisions are pure functions in `jarvis_core` (`anomaly::Digest`,
//! `anomaly::ReportSchedule`, `anomaly::assess_backup`, `handoff::review`);
//! this module gathers their inputs from the store and Prometheus, applies what
//! they decide and sends the notices. Each loop has a step function tests drive.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jarvis_adapters::config::BackupSettings;
use jarvis_adapters::prometheus::{PrometheusClient, PrometheusError};
use jarvis_core::anomaly::backup::{BACKUP_STALE_RULE, SYSTEM_LABEL};
use jarvis_core::anomaly::{AlertRule, BackupFreshness, Digest, assess_backup};
use jarvis_core::domain::{IncidentFilter, Labels, Notice, NoticeKind, NoticeRecord};
use jarvis_core::error::StoreError;
use jarvis_core::handoff::{self, HandoffDecision};
use jarvis_core::pipeline::PipelineError;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::state::AppState;

/// Why one pass of a proactive loop failed.
#[derive(Debug, thiserror::Error)]
pub enum ProactiveError {
    #[error("store failed while {doing}")]
    Store {
        doing: &'static str,
        #[source]
        source: StoreError,
    },
    #[error("prometheus failed while {doing}")]
    Prometheus {
        doing: &'static str,
        #[source]
        source: PrometheusError,
    },
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

fn store(doing: &'static str) -> impl FnOnce(StoreError) -> ProactiveError {
    move |source| ProactiveError::Store { doing, source }
}

fn prometheus(doing: &'static str) -> impl FnOnce(PrometheusError) -> ProactiveError {
    move |source| ProactiveError::Prometheus { doing, source }
}

/// Delivers a notice and records it; a failure is logged, never fatal.
/// Returns whether it was delivered.
pub async fn send_notice(state: &AppState, notice: Notice) -> bool {
    let result = state.pipeline.ports().notifier.notify(&notice).await;
    let error = result.as_ref().err().map(ToString::to_string);
    if let Some(error) = &error {
        warn!(kind = notice.kind.as_str(), error = %error, "notice not delivered");
    }
    let record = NoticeRecord {
        notice,
        delivered: result.is_ok(),
        error,
    };
    if let Err(e) = state.store.record_notice(&record).await {
        warn!(kind = record.notice.kind.as_str(), error = %e, "notice not recorded");
    }
    record.delivered
}

// --- the daily report ---------------------------------------------------------

/// What happened in the 24 hours before `at`.
pub async fn digest(state: &AppState, at: DateTime<Utc>) -> Result<Digest, ProactiveError> {
    let from = at - chrono::Duration::hours(24);
    // Incidents opened up to a day earlier may have been fixed in the window.
    let incidents = state
        .store
        .incidents(&IncidentFilter {
            since: Some(from - chrono::Duration::hours(24)),
            limit: 5000,
            ..IncidentFilter::default()
        })
        .await
        .map_err(store("listing incidents for the daily report"))?;
    let anomalies = state
        .store
        .anomalies(from)
        .await
        .map_err(store("listing anomalies for the daily report"))?;
    let backups = match &state.backups {
        Some(watch) => watch.latest().await,
        None => Vec::new(),
    };
    Ok(Digest::build(from, at, &incidents, &anomalies, &backups))
}

/// One scheduled run at `at`: sends the report if anything happened.
/// Returns the notice sent, or `None` on a quiet day.
pub async fn send_daily_report(
    state: &AppState,
    at: DateTime<Utc>,
) -> Result<Option<Notice>, ProactiveError> {
    let digest = digest(state, at).await?;
    if !digest.has_news() {
        info!("daily report skipped: nothing happened in the last 24 hours");
        return Ok(None);
    }
    let notice = digest.notice(at);
    send_notice(state, notice.clone()).await;
    Ok(Some(notice))
}

/// Sends the daily report at `[report]` time every day, on the pipeline's clock,
/// until cancelled. A process that is down at report time skips that day.
pub async fn run_daily_reports(state: AppState, cancel: CancellationToken) {
    let clock = state.pipeline.ports().clock.clone();
    let schedule = state.config.report.schedule;
    loop {
        let now = clock.now();
        let next = schedule.next_after(now);
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = clock.sleep(wait) => {}
        }
        if let Err(e) = send_daily_report(&state, next).await {
            warn!(error = %e, "daily report failed");
        }
        tokio::task::yield_now().await;
    }
}

// --- backup freshness ---------------------------------------------------------

/// The backup check's Prometheus source and its latest findings.
#[derive(Debug)]
pub struct BackupWatch {
    pub client: PrometheusClient,
    pub settings: BackupSettings,
    latest: tokio::sync::Mutex<Vec<BackupFreshness>>,
}

impl BackupWatch {
    pub fn new(client: PrometheusClient, settings: BackupSettings) -> Self {
        BackupWatch {
            client,
            settings,
            latest: tokio::sync::Mutex::new(Vec::new()),
        }
    }

    /// The freshness of every system at the last check.
    pub async fn latest(&self) -> Vec<BackupFreshness> {
        self.latest.lock().await.clone()
    }
}

/// One backup check: reads each system's backup times and the `BackupStale`
/// rules, raises a synthetic alert (and a predictive warning) for a stale
/// backup no real rule covers, and keeps every system's freshness for the
/// daily report. Without the rules nothing is raised: Jarvis cannot tell
/// whether it would remediate a backup twice.
pub async fn check_backups(
    state: &AppState,
    watch: &BackupWatch,
) -> Result<Vec<BackupFreshness>, ProactiveError> {
    let now = state.now();
    let s = &watch.settings;
    let history = chrono::Duration::from_std(s.history).unwrap_or(chrono::Duration::days(7));
    let step = (s.history / 500).max(Duration::from_secs(60));
    let series = watch
        .client
        .query_range(&s.query, now - history, now, step)
        .await
        .map_err(prometheus("reading backup times"))?;
    let rules: Vec<AlertRule> = watch
        .client
        .alerting_rules(Some(BACKUP_STALE_RULE))
        .await
        .map_err(prometheus("reading the BackupStale rules"))?
        .into_iter()
        .map(|r| AlertRule {
            name: r.name,
            query: r.query,
            labels: r.labels,
        })
        .collect();

    let mut systems: BTreeMap<String, (Labels, BTreeSet<i64>)> = BTreeMap::new();
    for series in series {
        let Some(system) = series.metric.get(&s.system_label).cloned() else {
            continue;
        };
        let entry = systems.entry(system).or_default();
        for (key, value) in &series.metric {
            if key != "__name__" && key != &s.system_label {
                entry.0.insert(key.clone(), value.clone());
            }
        }
        entry.1.extend(
            series
                .points
                .iter()
                .filter(|(_, v)| v.is_finite() && *v > 0.0)
                .map(|(_, v)| *v as i64),
        );
    }
    let mut freshness = Vec::new();
    let mut alerts = Vec::new();
    for (system, (labels, times)) in systems {
        let successes: Vec<DateTime<Utc>> = times
            .into_iter()
            .filter_map(|t| DateTime::from_timestamp(t, 0))
            .collect();
        let (f, alert) = assess_backup(&system, &labels, &successes, &rules, now, &s.predict);
        if f.stale && f.covered_by_rule {
            info!(system = %system, "backup stale; left to the BackupStale rule");
        }
        freshness.push(f);
        alerts.extend(alert);
    }
    *watch.latest.lock().await = freshness.clone();
    if !alerts.is_empty() {
        raise_predictions(state, alerts).await?;
    }
    Ok(freshness)
}

/// Ingests prediction alerts; each new one gets a predictive-warning notice
/// before the pipeline handles it.
async fn raise_predictions(
    state: &AppState,
    alerts: Vec<jarvis_core::domain::Alert>,
) -> Result<(), ProactiveError> {
    let summaries: Vec<(String, String, String)> = alerts
        .iter()
        .map(|a| {
            (
                a.name().to_string(),
                a.label(SYSTEM_LABEL).unwrap_or_default().to_string(),
                a.annotations.get("summary").cloned().unwrap_or_default(),
            )
        })
        .collect();
    let ingested = state.pipeline.ingest(alerts, None).await?;
    for (item, (name, system, summary)) in ingested.iter().zip(summaries) {
        let (true, Some(incident)) = (item.new, item.incident) else {
            continue;
        };
        let notice = Notice::new(
            NoticeKind::PredictiveWarning,
            format!("Predicted: {name} for {system}"),
            state.now(),
        )
        .incident(incident)
        .body(summary)
        .field(
            "Next",
            "Jarvis tries the runbook for it; a fix is listed in the daily report",
        );
        send_notice(state, notice).await;
    }
    state.spawn_handling(ingested);
    Ok(())
}

// --- self-restart hand-offs ---------------------------------------------------

/// One hand-off check: times out hand-offs not resumed in time, cleans up
/// stale ones and cancels all but one active; escalates the incidents they
/// interrupted and says so. Returns what it decided.
pub async fn check_handoffs(state: &AppState) -> Result<Vec<HandoffDecision>, ProactiveError> {
    let _one_at_a_time = state.handoff_lock.lock().await;
    let now = state.now();
    let policy = state.config.self_restart;
    let pending = state
        .store
        .handoffs(Some(jarvis_core::domain::HandoffState::Pending))
        .await
        .map_err(store("listing hand-offs"))?;
    let decisions = handoff::review(&pending, now, &policy);
    for decision in &decisions {
        let saved = decision.apply(now, &policy);
        state
            .store
            .save_handoff(&saved)
            .await
            .map_err(store("finishing a hand-off"))?;
        let title = match decision {
            HandoffDecision::TimedOut(_) => format!(
                "Self-restart of {} failed: not resumed within {} min",
                saved.target,
                policy.timeout.num_minutes()
            ),
            HandoffDecision::Stale(_) => {
                format!(
                    "Stale self-restart hand-off for {} cleaned up",
                    saved.target
                )
            }
            HandoffDecision::Superseded { .. } => format!(
                "Self-restart of {} cancelled: another hand-off is active",
                saved.target
            ),
        };
        let mut notice = Notice::new(NoticeKind::SelfRestart, title, now)
            .body(saved.reason.clone())
            .field("Hand-off", saved.id.to_string());
        if decision.escalates() {
            let escalated = match saved.incident {
                Some(incident) => {
                    let reason = format!(
                        "the self-restart of {} that interrupted this incident was never resumed",
                        saved.target
                    );
                    state
                        .pipeline
                        .escalate_interrupted(incident, &reason)
                        .await?
                }
                None => false,
            };
            if let Some(incident) = saved.incident {
                notice = notice.incident(incident);
            }
            notice = notice
                .field(
                    "Incident",
                    match (saved.incident, escalated) {
                        (Some(id), true) => format!("{id} escalated"),
                        (Some(id), false) => format!("{id} had already finished"),
                        (None, _) => "none linked".to_string(),
                    },
                )
                .field(
                    "Next step",
                    "check that Jarvis is running and that the n8n self-restart workflow \
                     ran and called POST /resume; restart Jarvis by hand if it did not",
                );
        }
        warn!(handoff = %saved.id, state = saved.state.as_str(), "hand-off finished by the periodic check");
        send_notice(state, notice).await;
    }
    Ok(decisions)
}

/// Shared handle for [`crate::state::AppState::backups`].
pub type Backups = Option<Arc<BackupWatch>>;
