//! The tools the planner offers the model, and the small traits through which
//! the server plugs in log and metric backends (Loki, Prometheus) and runbooks.

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jarvis_core::domain::{Action, Labels, Runbook, Step};
use jarvis_core::error::BoxError;
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::ToolDef;

/// One log line from a log backend.
#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    pub at: DateTime<Utc>,
    pub labels: Labels,
    pub line: String,
}

/// A log backend the `query_loki_logs` tool reads from.
#[async_trait]
pub trait LogSource: Send + Sync + Debug {
    /// Lines matching the LogQL `query` over the last `since`, newest first,
    /// at most `limit` of them.
    async fn query_logs(
        &self,
        query: &str,
        since: Duration,
        limit: usize,
    ) -> Result<Vec<LogLine>, BoxError>;
}

/// One time series from a metric backend.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSeries {
    pub labels: Labels,
    pub points: Vec<(DateTime<Utc>, f64)>,
}

/// A metric backend the `query_metric_history` tool reads from.
#[async_trait]
pub trait MetricSource: Send + Sync + Debug {
    /// The PromQL `query` evaluated over the last `since`.
    async fn query_range(
        &self,
        query: &str,
        since: Duration,
    ) -> Result<Vec<MetricSeries>, BoxError>;
}

/// Runbooks by alert name, for the `get_runbook` tool.
pub trait RunbookSource: Send + Sync + Debug {
    fn runbook(&self, alert_name: &str) -> Option<Runbook>;
}

pub const RUN_COMMAND: &str = "run_command";
pub const GATHER_LOGS: &str = "gather_logs";
pub const QUERY_LOKI_LOGS: &str = "query_loki_logs";
pub const QUERY_METRIC_HISTORY: &str = "query_metric_history";
pub const GET_RUNBOOK: &str = "get_runbook";
pub const RESTART_HA_ADDON: &str = "restart_ha_addon";
pub const RELOAD_HA_AUTOMATIONS: &str = "reload_ha_automations";
pub const CALL_HA_SERVICE: &str = "call_ha_service";
pub const TRIGGER_WORKFLOW: &str = "trigger_workflow";
pub const REQUEST_SELF_RESTART: &str = "request_self_restart";
pub const SUBMIT_PLAN: &str = "submit_plan";

/// Longest history a log or metric tool may ask for.
pub const MAX_MINUTES: u64 = 24 * 60;

fn action_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "type": {
                "type": "string",
                "enum": ["restart_ha_addon", "reload_ha_automations", "call_ha_service",
                         "trigger_workflow", "request_self_restart", "wait"]
            },
            "addon": {"type": "string", "description": "restart_ha_addon: add-on (app) slug"},
            "domain": {"type": "string", "description": "call_ha_service: service domain"},
            "service": {"type": "string", "description": "call_ha_service: service name"},
            "data": {"type": "object", "description": "call_ha_service: service data"},
            "workflow": {"type": "string", "description": "trigger_workflow: configured workflow name"},
            "payload": {"type": "object", "description": "trigger_workflow: JSON payload"},
            "target": {"type": "string", "description": "request_self_restart: jarvis, database or a container name"},
            "seconds": {"type": "integer", "minimum": 1, "maximum": 600, "description": "wait: seconds"},
            "reason": {"type": "string"}
        },
        "required": ["type"]
    })
}

/// The tool definitions sent with every call.
pub fn definitions() -> Vec<ToolDef> {
    vec![
        ToolDef {
            name: RUN_COMMAND,
            description: "Run a read-only diagnostic shell command on a configured host and get its output. \
                Every command is checked by Jarvis's safety policy; only commands classified as diagnostic \
                are executed now. Remediation commands are NOT executed here: put them in submit_plan.",
            input_schema: json!({
                "type": "object",
                "properties": {
                    "host": {"type": "string", "description": "a configured host name"},
                    "command": {"type": "string", "description": "the shell command"}
                },
                "required": ["host", "command"]
            }),
        },
        ToolDef {
            name: GATHER_LOGS,
            description: "Recent journal lines of a systemd service on a host (diagnostic).",
            input_schema: json!({
                "type": "object",
                "properties": {
                    "host": {"type": "string"},
                    "service": {"type": "string", "description": "systemd unit name"}
                },
                "required": ["host", "service"]
            }),
        },
        ToolDef {
            name: QUERY_LOKI_LOGS,
            description: "Query the central log store with LogQL over the last N minutes.",
            input_schema: json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "LogQL query"},
                    "minutes": {"type": "integer", "minimum": 1, "maximum": MAX_MINUTES}
                },
                "required": ["query", "minutes"]
            }),
        },
        ToolDef {
            name: QUERY_METRIC_HISTORY,
            description: "Evaluate a PromQL query over the last N minutes (range query).",
            input_schema: json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "PromQL query"},
                    "minutes": {"type": "integer", "minimum": 1, "maximum": MAX_MINUTES}
                },
                "required": ["query", "minutes"]
            }),
        },
        ToolDef {
            name: GET_RUNBOOK,
            description: "The operator's runbook for an alert name, if one exists.",
            input_schema: json!({
                "type": "object",
                "properties": {"alert_name": {"type": "string"}},
                "required": ["alert_name"]
            }),
        },
        ToolDef {
            name: RESTART_HA_ADDON,
            description: "Propose restarting a Home Assistant add-on (app). Not executed now: recorded as a plan step.",
            input_schema: json!({
                "type": "object",
                "properties": {"addon": {"type": "string", "description": "add-on slug"}},
                "required": ["addon"]
            }),
        },
        ToolDef {
            name: RELOAD_HA_AUTOMATIONS,
            description: "Propose reloading Home Assistant automations. Not executed now: recorded as a plan step.",
            input_schema: json!({"type": "object", "properties": {}}),
        },
        ToolDef {
            name: CALL_HA_SERVICE,
            description: "Propose a Home Assistant service call. Not executed now: recorded as a plan step.",
            input_schema: json!({
                "type": "object",
                "properties": {
                    "domain": {"type": "string"},
                    "service": {"type": "string"},
                    "data": {"type": "object"}
                },
                "required": ["domain", "service"]
            }),
        },
        ToolDef {
            name: TRIGGER_WORKFLOW,
            description: "Propose triggering a configured n8n workflow. Not executed now: recorded as a plan step.",
            input_schema: json!({
                "type": "object",
                "properties": {
                    "workflow": {"type": "string"},
                    "payload": {"type": "object"}
                },
                "required": ["workflow"]
            }),
        },
        ToolDef {
            name: REQUEST_SELF_RESTART,
            description: "Propose that n8n restarts Jarvis itself, its database or a named container, then resumes. \
                Not executed now: recorded as a plan step.",
            input_schema: json!({
                "type": "object",
                "properties": {"target": {"type": "string"}},
                "required": ["target"]
            }),
        },
        ToolDef {
            name: SUBMIT_PLAN,
            description: "Submit the final remediation plan. Call exactly once, when done investigating. \
                An empty commands and actions list means nothing safe can be done and the incident is escalated.",
            input_schema: json!({
                "type": "object",
                "properties": {
                    "analysis": {"type": "string", "description": "root cause analysis"},
                    "commands": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "host": {"type": "string"},
                                "command": {"type": "string"},
                                "reason": {"type": "string"}
                            },
                            "required": ["host", "command"]
                        }
                    },
                    "actions": {"type": "array", "items": action_schema()},
                    "reasoning": {"type": "string"},
                    "expected_outcome": {"type": "string"},
                    "confidence": {"type": "number", "minimum": 0, "maximum": 1}
                },
                "required": ["analysis", "commands", "confidence"]
            }),
        },
    ]
}

/// Input of `run_command`.
#[derive(Debug, Deserialize)]
pub struct RunCommand {
    pub host: String,
    pub command: String,
}

/// Input of `gather_logs`.
#[derive(Debug, Deserialize)]
pub struct GatherLogs {
    pub host: String,
    pub service: String,
}

/// Input of `query_loki_logs` and `query_metric_history`.
#[derive(Debug, Deserialize)]
pub struct RangeQuery {
    pub query: String,
    pub minutes: u64,
}

/// Input of `get_runbook`.
#[derive(Debug, Deserialize)]
pub struct GetRunbook {
    pub alert_name: String,
}

/// One command of `submit_plan`.
#[derive(Debug, Deserialize)]
pub struct PlannedCommand {
    pub host: String,
    pub command: String,
    #[serde(default)]
    pub reason: String,
}

/// One action of `submit_plan`.
#[derive(Debug, Deserialize)]
pub struct PlannedAction {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub addon: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub data: Option<Value>,
    #[serde(default)]
    pub workflow: Option<String>,
    #[serde(default)]
    pub payload: Option<Value>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub seconds: Option<u64>,
    #[serde(default)]
    pub reason: String,
}

/// Input of `submit_plan`.
#[derive(Debug, Deserialize)]
pub struct SubmitPlan {
    pub analysis: String,
    #[serde(default)]
    pub commands: Vec<PlannedCommand>,
    #[serde(default)]
    pub actions: Vec<PlannedAction>,
    #[serde(default)]
    pub reasoning: String,
    #[serde(default)]
    pub expected_outcome: String,
    pub confidence: f64,
}

fn required(field: &Option<String>, name: &str, kind: &str) -> Result<String, String> {
    match field.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => Err(format!("action {kind} needs a non-empty {name}")),
    }
}

fn object_or_empty(value: &Option<Value>, name: &str) -> Result<Value, String> {
    match value {
        None | Some(Value::Null) => Ok(json!({})),
        Some(v @ Value::Object(_)) => Ok(v.clone()),
        Some(_) => Err(format!("{name} must be a JSON object")),
    }
}

impl PlannedAction {
    /// The typed action, or what is wrong with it.
    pub fn to_step(&self) -> Result<Step, String> {
        let kind = self.kind.as_str();
        let action = match kind {
            "restart_ha_addon" => Action::HaAddonRestart {
                addon: required(&self.addon, "addon", kind)?,
            },
            "reload_ha_automations" => reload_automations(),
            "call_ha_service" => Action::HaService {
                domain: required(&self.domain, "domain", kind)?,
                service: required(&self.service, "service", kind)?,
                data: object_or_empty(&self.data, "data")?,
            },
            "trigger_workflow" => Action::N8nWorkflow {
                workflow: required(&self.workflow, "workflow", kind)?,
                payload: object_or_empty(&self.payload, "payload")?,
            },
            "request_self_restart" => Action::SelfRestart {
                target: required(&self.target, "target", kind)?,
            },
            "wait" => {
                let seconds = self
                    .seconds
                    .filter(|s| (1..=600).contains(s))
                    .ok_or("action wait needs seconds between 1 and 600")?;
                Action::Wait {
                    duration: Duration::from_secs(seconds),
                }
            }
            other => return Err(format!("unknown action type {other:?}")),
        };
        Ok(Step::new(action).with_reason(self.reason.clone()))
    }
}

/// `automation.reload`.
pub fn reload_automations() -> Action {
    Action::HaService {
        domain: "automation".into(),
        service: "reload".into(),
        data: json!({}),
    }
}

/// The plan step an action tool proposes, or why its input is unusable.
pub fn proposed_step(name: &str, input: &Value) -> Option<Result<Step, String>> {
    let field = |key: &str| input.get(key).and_then(Value::as_str).map(str::to_string);
    let planned = match name {
        RESTART_HA_ADDON => PlannedAction {
            kind: "restart_ha_addon".into(),
            addon: field("addon"),
            ..empty_action()
        },
        RELOAD_HA_AUTOMATIONS => PlannedAction {
            kind: "reload_ha_automations".into(),
            ..empty_action()
        },
        CALL_HA_SERVICE => PlannedAction {
            kind: "call_ha_service".into(),
            domain: field("domain"),
            service: field("service"),
            data: input.get("data").cloned(),
            ..empty_action()
        },
        TRIGGER_WORKFLOW => PlannedAction {
            kind: "trigger_workflow".into(),
            workflow: field("workflow"),
            payload: input.get("payload").cloned(),
            ..empty_action()
        },
        REQUEST_SELF_RESTART => PlannedAction {
            kind: "request_self_restart".into(),
            target: field("target"),
            ..empty_action()
        },
        _ => return None,
    };
    Some(planned.to_step())
}

fn empty_action() -> PlannedAction {
    PlannedAction {
        kind: String::new(),
        addon: None,
        domain: None,
        service: None,
        data: None,
        workflow: None,
        payload: None,
        target: None,
        seconds: None,
        reason: String::new(),
    }
}

/// A systemd unit name that is safe to put in a command line unquoted.
pub fn is_unit_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && !s.starts_with('-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '_' | '-' | ':'))
}
