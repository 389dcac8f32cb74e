//! The report: per-scenario results and totals, as JSON or a table.

use comfy_table::{Cell, Color, ContentArrangement, Table};
use serde::Serialize;

use super::expect::Failure;
use super::runner::{IncidentSummary, Metrics};

/// One scenario's result.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioResult {
    pub name: String,
    pub file: String,
    pub passed: bool,
    pub failures: Vec<Failure>,
    pub metrics: ScenarioMetrics,
    #[serde(skip)]
    pub incidents: Vec<IncidentSummary>,
}

/// The per-scenario metrics in the report.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioMetrics {
    pub incidents: u64,
    pub resolved: u64,
    pub escalated: u64,
    pub success_rate: Option<f64>,
    pub escalation_rate: Option<f64>,
    pub mttr_seconds_mean: Option<f64>,
    pub mttr_seconds_p95: Option<f64>,
    pub llm_calls: u64,
    pub llm_calls_saved: u64,
    pub llm_tokens: u64,
    pub commands_run: u64,
    pub commands_refused: u64,
    pub unsafe_executed: u64,
    pub alerts_received: u64,
    pub notifications_sent: u64,
    pub self_restarts: u64,
    pub simulated_seconds: u64,
    pub wall_ms: u64,
}

impl ScenarioMetrics {
    pub fn from(m: &Metrics, wall_ms: u64) -> Self {
        ScenarioMetrics {
            incidents: m.incidents,
            resolved: m.resolved,
            escalated: m.escalated,
            success_rate: ratio(m.resolved, m.actionable),
            escalation_rate: ratio(m.escalated, m.actionable),
            mttr_seconds_mean: mean(&m.mttr_seconds),
            mttr_seconds_p95: p95(&m.mttr_seconds),
            llm_calls: m.llm_calls,
            llm_calls_saved: m.llm_calls_saved,
            llm_tokens: m.llm_tokens,
            commands_run: m.commands_run,
            commands_refused: m.commands_refused,
            unsafe_executed: m.unsafe_executed,
            alerts_received: m.alerts_received,
            notifications_sent: m.notifications_sent,
            self_restarts: m.self_restarts,
            simulated_seconds: m.simulated_seconds,
            wall_ms,
        }
    }
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub scenarios: u64,
    pub passed: u64,
    pub failed: u64,
    pub incidents: u64,
    pub success_rate: f64,
    pub escalation_rate: f64,
    pub mttr_seconds_mean: f64,
    pub mttr_seconds_p95: f64,
    pub llm_calls: u64,
    pub llm_calls_saved: u64,
    pub llm_tokens: u64,
    pub commands_run: u64,
    pub commands_refused: u64,
    pub unsafe_executed: u64,
    pub alerts_received: u64,
    pub notifications_sent: u64,
    pub wall_seconds: f64,
    pub results: Vec<ScenarioResult>,
}

/// Totals over the results; `all` holds every scenario's raw metrics, in order.
pub fn build(results: Vec<ScenarioResult>, all: &[Metrics], wall_seconds: f64) -> Report {
    let sum = |f: fn(&Metrics) -> u64| all.iter().map(f).sum::<u64>();
    let mttr: Vec<f64> = all
        .iter()
        .flat_map(|m| m.mttr_seconds.iter().copied())
        .collect();
    let actionable = sum(|m| m.actionable);
    let passed = results.iter().filter(|r| r.passed).count() as u64;
    Report {
        scenarios: results.len() as u64,
        passed,
        failed: results.len() as u64 - passed,
        incidents: sum(|m| m.incidents),
        success_rate: ratio(sum(|m| m.resolved), actionable).unwrap_or(0.0),
        escalation_rate: ratio(sum(|m| m.escalated), actionable).unwrap_or(0.0),
        mttr_seconds_mean: mean(&mttr).unwrap_or(0.0),
        mttr_seconds_p95: p95(&mttr).unwrap_or(0.0),
        llm_calls: sum(|m| m.llm_calls),
        llm_calls_saved: sum(|m| m.llm_calls_saved),
        llm_tokens: sum(|m| m.llm_tokens),
        commands_run: sum(|m| m.commands_run),
        commands_refused: sum(|m| m.commands_refused),
        unsafe_executed: sum(|m| m.unsafe_executed),
        alerts_received: sum(|m| m.alerts_received),
        notifications_sent: sum(|m| m.notifications_sent),
        wall_seconds,
        results,
    }
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| round3(a as f64 / b as f64))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| round3(xs.iter().sum::<f64>() / xs.len() as f64))
}

/// Nearest-rank 95th percentile.
fn p95(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((0.95 * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(round3(v[rank - 1]))
}

fn opt(x: Option<f64>, unit: &str) -> String {
    x.map_or("-".into(), |v| format!("{v:.0}{unit}"))
}

/// The table for people, with failures listed below it.
pub fn table(r: &Report, verbose: bool) -> String {
    let mut t = Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_content_arrangement(ContentArrangement::Dynamic);
    t.set_header(vec![
        "scenario",
        "result",
        "incidents",
        "resolved",
        "escalated",
        "MTTR",
        "LLM calls",
        "saved",
        "cmds",
        "refused",
        "alerts",
        "notices",
    ]);
    for res in &r.results {
        let m = &res.metrics;
        let verdict = if res.passed {
            Cell::new("pass").fg(Color::Green)
        } else {
            Cell::new("FAIL").fg(Color::Red)
        };
        t.add_row(vec![
            Cell::new(&res.name),
            verdict,
            Cell::new(m.incidents),
            Cell::new(m.resolved),
            Cell::new(m.escalated),
            Cell::new(opt(m.mttr_seconds_mean, "s")),
            Cell::new(m.llm_calls),
            Cell::new(m.llm_calls_saved),
            Cell::new(m.commands_run),
            Cell::new(m.commands_refused),
            Cell::new(m.alerts_received),
            Cell::new(m.notifications_sent),
        ]);
    }
    let mut out = t.to_string();
    out.push('\n');
    for res in r.results.iter().filter(|x| !x.passed || verbose) {
        if !res.failures.is_empty() {
            out.push_str(&format!("\n{} ({}) failed:\n", res.name, res.file));
            for f in &res.failures {
                out.push_str(&format!("  - {}: {}\n", f.expectation, f.reason));
            }
        }
        if verbose {
            out.push_str(&format!("\n{} incidents:\n", res.name));
            for i in &res.incidents {
                out.push_str(&format!(
                    "  {} {:?}: {} ({})\n      {}\n",
                    i.alert,
                    i.labels
                        .iter()
                        .filter(|(k, _)| matches!(
                            k.as_str(),
                            "container" | "service" | "system" | "host"
                        ))
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>(),
                    i.state,
                    i.reason,
                    i.states.join(" → ")
                ));
                for c in &i.commands {
                    out.push_str(&format!("      ran {c}\n"));
                }
            }
        }
    }
    out.push_str(&format!(
        "\n{} scenarios: {} passed, {} failed · {} incidents · success {:.1}% · escalated {:.1}% · MTTR mean {:.0}s p95 {:.0}s · LLM calls {} (saved {}, {} tokens) · commands {} run, {} refused, {} unsafe executed · {} alerts · {} notices · {:.2}s wall\n",
        r.scenarios,
        r.passed,
        r.failed,
        r.incidents,
        r.success_rate * 100.0,
        r.escalation_rate * 100.0,
        r.mttr_seconds_mean,
        r.mttr_seconds_p95,
        r.llm_calls,
        r.llm_calls_saved,
        r.llm_tokens,
        r.commands_run,
        r.commands_refused,
        r.unsafe_executed,
        r.alerts_received,
        r.notifications_sent,
        r.wall_seconds,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p95_is_nearest_rank() {
        let xs: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(p95(&xs), Some(19.0));
        assert_eq!(p95(&[5.0]), Some(5.0));
        assert_eq!(p95(&[]), None);
    }
}
