//! `jarvis replay`: what Jarvis would do with captured Alertmanager webhooks.
//!
//! A dry run: each payload is parsed with the server's wire type
//! (`jarvis_adapters::alertmanager`), routed, matched to a runbook and planned
//! by the deterministic planner; every step gets its safety verdict. Nothing runs.

use std::path::{Path, PathBuf};

use chrono::Utc;
use jarvis_core::domain::{Alert, Incident, IncidentId, IncidentState, Plan};
use jarvis_core::hints::{Hints, Routing};
use jarvis_core::planner::DeterministicPlanner;
use jarvis_core::ports::{PlanContext, Planner};
use jarvis_core::runbook::RunbookLibrary;
use jarvis_core::safety::{SafetyConfig, SafetyPolicy};
use serde::Serialize;

use crate::simulate::{self, EXIT_OK, EXIT_USAGE, Format, scenario};

/// Arguments of `jarvis replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Captured Alertmanager webhook payloads (JSON).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Directory of runbooks (default: `runbooks` here or in a parent directory).
    #[arg(long)]
    pub runbooks: Option<PathBuf>,
    /// Take routing, safety and hosts from this scenario file's `config` and `world`.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
}

/// What Jarvis would do with one alert.
#[derive(Debug, Serialize)]
pub struct ReplayedAlert {
    pub file: String,
    pub alertname: String,
    pub status: String,
    pub fingerprint: String,
    pub route_key: String,
    pub hints: Hints,
    pub runbook: Option<String>,
    pub plan: Vec<ReplayedStep>,
    pub analysis: String,
}

/// One planned step and its safety verdict.
#[derive(Debug, Serialize)]
pub struct ReplayedStep {
    pub step: String,
    pub decision: String,
    pub class: String,
    pub rule: String,
    pub reason: String,
}

/// Runs `jarvis replay`; returns the process exit status.
pub async fn run(args: ReplayArgs) -> u8 {
    match replay(&args).await {
        Ok(out) => {
            match args.format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&out)
                        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
                ),
                Format::Table => print!("{}", render(&out)),
            }
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
    }
}

async fn replay(args: &ReplayArgs) -> Result<Vec<ReplayedAlert>, scenario::ScenarioError> {
    let runbooks = simulate::load_runbooks(args.runbooks.as_deref())?;
    let (routing, safety) = match &args.scenario {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| scenario::ScenarioError::new(path, "(file)", e.to_string()))?;
            let s = scenario::parse(path, &text)?;
            let hosts: Vec<String> = s.world.hosts.iter().map(|h| h.name.clone()).collect();
            let safety = SafetyPolicy::new(&s.config.safety.clone().unwrap_or_default(), &hosts)
                .map_err(|e| scenario::ScenarioError::new(path, "config.safety", e.to_string()))?;
            (
                Routing {
                    rules: s.config.routing.clone(),
                },
                safety,
            )
        }
        None => (
            Routing::default(),
            SafetyPolicy::new(&SafetyConfig::default(), &[]).map_err(|e| {
                scenario::ScenarioError::new(Path::new("(defaults)"), "safety", e.to_string())
            })?,
        ),
    };
    let mut out = Vec::new();
    for file in &args.files {
        let body = std::fs::read(file)
            .map_err(|e| scenario::ScenarioError::new(file, "(file)", e.to_string()))?;
        let alerts = jarvis_adapters::alertmanager::parse_webhook(&body)
            .map_err(|e| scenario::ScenarioError::new(file, "(payload)", e.to_string()))?;
        for alert in alerts {
            out.push(explain(file, alert, &routing, &safety, &runbooks).await);
        }
    }
    Ok(out)
}

async fn explain(
    file: &Path,
    alert: Alert,
    routing: &Routing,
    safety: &SafetyPolicy,
    runbooks: &RunbookLibrary,
) -> ReplayedAlert {
    let key = routing.key(&alert);
    let hints = routing.hints(&alert);
    let runbook = runbooks.find(alert.name()).cloned();
    let now = Utc::now();
    let mut plan = Plan::new(jarvis_core::domain::Tier::Deterministic, Vec::new());
    if alert.is_firing() {
        let ctx = PlanContext {
            incident: Incident {
                id: IncidentId::new(),
                key: key.clone(),
                alert_id: jarvis_core::domain::AlertId::new(),
                fingerprint: alert.fingerprint.clone(),
                alert_name: alert.name().to_string(),
                labels: alert.labels.clone(),
                state: IncidentState::Planning,
                reason: String::new(),
                root: None,
                attempts: 0,
                created_at: now,
                updated_at: now,
                lease_owner: None,
                lease_until: None,
            },
            alert: alert.clone(),
            hints: hints.clone(),
            runbook: runbook.clone(),
            pattern: None,
            failed: Vec::new(),
            hosts: Vec::new(),
            attempt: 1,
            tokens_spent: 0,
        };
        match DeterministicPlanner::new().plan(&ctx).await {
            Ok(p) => plan = p,
            Err(e) => plan.analysis = e.to_string(),
        }
    } else {
        plan.analysis =
            "resolved: Jarvis clears the key's attempt history and closes its open incident".into();
    }
    let steps = plan
        .steps
        .iter()
        .map(|step| {
            let v = safety.check(step);
            ReplayedStep {
                step: step.action.summary(),
                decision: v.decision.as_str().into(),
                class: v.class.as_str().into(),
                rule: v.rule,
                reason: v.reason,
            }
        })
        .collect();
    ReplayedAlert {
        file: file.display().to_string(),
        alertname: alert.name().to_string(),
        status: alert.status.as_str().to_string(),
        fingerprint: alert.fingerprint.to_string(),
        route_key: key.to_string(),
        hints,
        runbook: runbook.map(|r| r.alert_name),
        plan: steps,
        analysis: plan.analysis,
    }
}

fn render(alerts: &[ReplayedAlert]) -> String {
    let mut out = String::new();
    for a in alerts {
        out.push_str(&format!(
            "{} [{}] {} ({})\n  route key: {}\n  host: {}\n  runbook: {}\n",
            a.alertname,
            a.status,
            a.fingerprint,
            a.file,
            a.route_key,
            a.hints.host.as_deref().unwrap_or("unknown"),
            a.runbook.as_deref().unwrap_or("none"),
        ));
        if !a.hints.commands.is_empty() {
            out.push_str(&format!(
                "  hinted commands: {}\n",
                a.hints.commands.join("; ")
            ));
        }
        out.push_str(&format!("  plan: {}\n", a.analysis));
        for s in &a.plan {
            out.push_str(&format!(
                "    {:<7} {}  [{} · {}: {}]\n",
                s.decision, s.step, s.class, s.rule, s.reason
            ));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "{} alerts replayed; nothing was executed\n",
        alerts.len()
    ));
    out
}
