//! Prometheus metrics, rendered by our own `/metrics` route.
//!
//! The core does not emit metrics; they are derived here from what the
//! pipeline returns ([`Handled`]) and what it wrote to the store (attempts,
//! audit entries). One recorder serves the whole process.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use jarvis_core::domain::{IncidentState, Tier};
use jarvis_core::pipeline::Handled;
use jarvis_core::ports::Store;
use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const ALERTS_RECEIVED: &str = "jarvis_alerts_received_total";
pub const REMEDIATIONS: &str = "jarvis_remediation_total";
pub const REMEDIATION_DURATION: &str = "jarvis_remediation_duration_seconds";
pub const PATTERN_MATCHES: &str = "jarvis_pattern_matches_total";
pub const LLM_CALLS: &str = "jarvis_llm_calls_total";
/// The old name of [`LLM_CALLS`], kept for existing dashboards.
pub const CLAUDE_CALLS: &str = "jarvis_claude_api_calls_total";
pub const LLM_TOKENS: &str = "jarvis_llm_tokens_total";
pub const ACTIVE_REMEDIATIONS: &str = "jarvis_active_remediations";
pub const DATABASE_CONNECTED: &str = "jarvis_database_connected";
pub const COMMANDS_REFUSED: &str = "jarvis_commands_refused_total";
pub const ANOMALIES_DETECTED: &str = "jarvis_anomalies_detected_total";
pub const WEBHOOKS_REJECTED: &str = "jarvis_webhooks_rejected_total";
pub const SPOOL_DEPTH: &str = "jarvis_spool_depth";

/// Every family: name, type, help.
pub const FAMILIES: [(&str, &str, &str); 13] = [
    (ALERTS_RECEIVED, "counter", "Alerts received on the webhook"),
    (
        REMEDIATIONS,
        "counter",
        "Incidents handled, by alert name and final state",
    ),
    (
        REMEDIATION_DURATION,
        "histogram",
        "Seconds from an incident's creation to its final state",
    ),
    (
        PATTERN_MATCHES,
        "counter",
        "Plans by learned-pattern result: cached, hint or miss",
    ),
    (
        LLM_CALLS,
        "counter",
        "LLM planner calls, by model and status",
    ),
    (
        CLAUDE_CALLS,
        "counter",
        "LLM planner calls (old name of jarvis_llm_calls_total)",
    ),
    (LLM_TOKENS, "counter", "LLM tokens spent, by direction"),
    (
        ACTIVE_REMEDIATIONS,
        "gauge",
        "Batches of alerts being handled right now",
    ),
    (
        DATABASE_CONNECTED,
        "gauge",
        "1 when the store answers, else 0",
    ),
    (
        COMMANDS_REFUSED,
        "counter",
        "Steps refused by the safety policy, by rule",
    ),
    (
        ANOMALIES_DETECTED,
        "counter",
        "Anomalies the detector raised",
    ),
    (
        WEBHOOKS_REJECTED,
        "counter",
        "Webhook requests rejected, by reason",
    ),
    (
        SPOOL_DEPTH,
        "gauge",
        "Alerts waiting in the on-disk spool for the store",
    ),
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide recorder, installed on first use.
#[derive(Clone, Debug)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl Metrics {
    pub fn install() -> Metrics {
        let handle = HANDLE
            .get_or_init(|| {
                let recorder = PrometheusBuilder::new()
                    .set_buckets_for_metric(
                        Matcher::Full(REMEDIATION_DURATION.to_string()),
                        &[
                            1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
                        ],
                    )
                    .unwrap_or_else(|_| PrometheusBuilder::new())
                    .build_recorder();
                let handle = recorder.handle();
                // Another recorder may already be installed (e.g. a host process's); then ours
                // still renders whatever is recorded through it directly.
                let _ = metrics::set_global_recorder(recorder);
                describe();
                handle
            })
            .clone();
        Metrics { handle }
    }

    /// The text exposition. Families with no series yet are listed with their
    /// HELP and TYPE lines, so every name is discoverable from the start.
    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        let mut out = self.handle.render();
        for (name, kind, help) in FAMILIES {
            if !out.contains(&format!("# TYPE {name} ")) && !has_series(&out, name) {
                out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            }
        }
        out
    }
}

fn has_series(text: &str, name: &str) -> bool {
    text.lines().any(|l| {
        l.strip_prefix(name)
            .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
    })
}

fn describe() {
    describe_counter!(ALERTS_RECEIVED, "Alerts received on the webhook");
    describe_counter!(
        REMEDIATIONS,
        "Incidents handled, by alert name and final state"
    );
    describe_histogram!(
        REMEDIATION_DURATION,
        Unit::Seconds,
        "Seconds from an incident's creation to its final state"
    );
    describe_counter!(
        PATTERN_MATCHES,
        "Plans by learned-pattern result: cached, hint or miss"
    );
    describe_counter!(LLM_CALLS, "LLM planner calls, by model and status");
    describe_counter!(
        CLAUDE_CALLS,
        "LLM planner calls (old name of jarvis_llm_calls_total)"
    );
    describe_counter!(LLM_TOKENS, "LLM tokens spent, by direction");
    describe_gauge!(
        ACTIVE_REMEDIATIONS,
        "Batches of alerts being handled right now"
    );
    describe_gauge!(DATABASE_CONNECTED, "1 when the store answers, else 0");
    describe_counter!(
        COMMANDS_REFUSED,
        "Steps refused by the safety policy, by rule"
    );
    describe_counter!(ANOMALIES_DETECTED, "Anomalies the detector raised");
    describe_counter!(WEBHOOKS_REJECTED, "Webhook requests rejected, by reason");
    describe_gauge!(
        SPOOL_DEPTH,
        "Alerts waiting in the on-disk spool for the store"
    );
    // Series whose labels are known up front start at zero.
    counter!(ALERTS_RECEIVED).increment(0);
    counter!(ANOMALIES_DETECTED).increment(0);
    gauge!(ACTIVE_REMEDIATIONS).set(0.0);
    for result in ["cached", "hint", "miss"] {
        counter!(PATTERN_MATCHES, "result" => result).increment(0);
    }
    for direction in ["input", "output"] {
        counter!(LLM_TOKENS, "direction" => direction).increment(0);
    }
}

pub fn alerts_received(n: usize) {
    counter!(ALERTS_RECEIVED).increment(n as u64);
}

pub fn webhook_rejected(reason: &'static str) {
    counter!(WEBHOOKS_REJECTED, "reason" => reason).increment(1);
}

pub fn database_connected(up: bool) {
    gauge!(DATABASE_CONNECTED).set(if up { 1.0 } else { 0.0 });
}

pub fn spool_depth(alerts: usize) {
    gauge!(SPOOL_DEPTH).set(alerts as f64);
}

pub fn anomalies_detected(n: usize) {
    counter!(ANOMALIES_DETECTED).increment(n as u64);
}

/// Counts a batch being handled while it lives.
pub struct ActiveGuard;

impl ActiveGuard {
    pub fn new() -> Self {
        gauge!(ACTIVE_REMEDIATIONS).increment(1.0);
        ActiveGuard
    }
}

impl Default for ActiveGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        gauge!(ACTIVE_REMEDIATIONS).decrement(1.0);
    }
}

/// Records what handling produced: final states, durations, tiers, LLM use and
/// refusals, from the attempts and audit entries written since `since`.
pub async fn observe_handled(
    store: &dyn Store,
    handled: &[Handled],
    since: DateTime<Utc>,
    model: &str,
) {
    for h in handled {
        let Ok(incident) = store.incident(h.incident).await else {
            continue;
        };
        counter!(
            REMEDIATIONS,
            "alert_name" => incident.alert_name.clone(),
            "status" => h.state.as_str()
        )
        .increment(1);
        if h.state.is_terminal() && h.state != IncidentState::Duplicate {
            let secs = (incident.updated_at - incident.created_at)
                .to_std()
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            histogram!(REMEDIATION_DURATION).record(secs);
        }
        if let Ok(attempts) = store.attempts(h.incident).await {
            for attempt in attempts.iter().filter(|a| a.started_at >= since) {
                let result = match attempt.tier {
                    Tier::Cached => "cached",
                    Tier::HintAssisted => "hint",
                    Tier::Deterministic | Tier::FullReasoning => "miss",
                };
                counter!(PATTERN_MATCHES, "result" => result).increment(1);
                if attempt.usage.calls > 0 {
                    let calls = u64::from(attempt.usage.calls);
                    counter!(LLM_CALLS, "model" => model.to_string(), "status" => "success")
                        .increment(calls);
                    counter!(CLAUDE_CALLS, "model" => model.to_string(), "status" => "success")
                        .increment(calls);
                    counter!(LLM_TOKENS, "direction" => "input")
                        .increment(attempt.usage.input_tokens);
                    counter!(LLM_TOKENS, "direction" => "output")
                        .increment(attempt.usage.output_tokens);
                }
            }
        }
        if let Ok(entries) = store.audit_log(Some(h.incident), 200).await {
            for entry in entries
                .iter()
                .filter(|e| e.at >= since && e.decision == "refuse")
            {
                counter!(COMMANDS_REFUSED, "rule" => entry.rule.clone()).increment(1);
            }
        }
    }
}
