//! Plans: ordered, typed remediation steps.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How a plan was produced. Every attempt records its tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// A learned pattern with enough verified successes ran without the LLM.
    Cached,
    /// Runbook and label/annotation hints, planned deterministically (no LLM).
    Deterministic,
    /// The LLM planned, with a weaker pattern and the runbook given as context.
    HintAssisted,
    /// The LLM planned from scratch.
    FullReasoning,
}

impl Tier {
    pub const ALL: [Tier; 4] = [
        Tier::Cached,
        Tier::Deterministic,
        Tier::HintAssisted,
        Tier::FullReasoning,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Cached => "cached",
            Tier::Deterministic => "deterministic",
            Tier::HintAssisted => "hint_assisted",
            Tier::FullReasoning => "full_reasoning",
        }
    }

    /// Whether producing a plan in this tier costs an LLM call.
    pub fn uses_llm(self) -> bool {
        matches!(self, Tier::HintAssisted | Tier::FullReasoning)
    }
}

/// One typed action. Every kind passes the safety validator before it can run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// A shell command on a configured host.
    Shell {
        host: String,
        command: String,
        /// Per-command timeout; the executor's default applies when absent.
        #[serde(default, with = "opt_secs", skip_serializing_if = "Option::is_none")]
        timeout: Option<Duration>,
    },
    /// Restart a Home Assistant add-on (app) by slug.
    HaAddonRestart { addon: String },
    /// Call a Home Assistant service, e.g. `automation.reload`.
    HaService {
        domain: String,
        service: String,
        #[serde(default)]
        data: serde_json::Value,
    },
    /// Trigger an n8n workflow by its configured name.
    N8nWorkflow {
        workflow: String,
        #[serde(default)]
        payload: serde_json::Value,
    },
    /// Ask n8n to restart Jarvis itself, its database, or a named container, then resume.
    SelfRestart { target: String },
    /// Wait before the next step.
    Wait {
        #[serde(with = "secs")]
        duration: Duration,
    },
    /// Evaluate a PromQL expression; the step fails when it returns no truthy sample.
    PrometheusCheck { query: String },
}

impl Action {
    /// Short human label of the action kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Shell { .. } => "shell",
            Action::HaAddonRestart { .. } => "ha_addon_restart",
            Action::HaService { .. } => "ha_service",
            Action::N8nWorkflow { .. } => "n8n_workflow",
            Action::SelfRestart { .. } => "self_restart",
            Action::Wait { .. } => "wait",
            Action::PrometheusCheck { .. } => "prometheus_check",
        }
    }

    /// The host a shell action targets.
    pub fn host(&self) -> Option<&str> {
        match self {
            Action::Shell { host, .. } => Some(host),
            _ => None,
        }
    }

    /// A one-line rendering for logs, notifications and the audit log, with
    /// credentials masked ([`super::redact_command`]).
    pub fn summary(&self) -> String {
        match self {
            Action::Shell { host, command, .. } => {
                format!("{host}: {}", super::redact_command(command))
            }
            Action::HaAddonRestart { addon } => format!("restart add-on {addon}"),
            Action::HaService {
                domain, service, ..
            } => format!("call service {domain}.{service}"),
            Action::N8nWorkflow { workflow, .. } => format!("trigger workflow {workflow}"),
            Action::SelfRestart { target } => format!("self-restart {target}"),
            Action::Wait { duration } => format!("wait {}s", duration.as_secs()),
            Action::PrometheusCheck { query } => format!("check {query}"),
        }
    }
}

/// One step of a plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    #[serde(flatten)]
    pub action: Action,
    /// Why the step is there, in a sentence.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

impl Step {
    pub fn new(action: Action) -> Self {
        Step {
            action,
            reason: String::new(),
        }
    }

    pub fn shell(host: impl Into<String>, command: impl Into<String>) -> Self {
        Step::new(Action::Shell {
            host: host.into(),
            command: command.into(),
            timeout: None,
        })
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = reason.into();
        self
    }
}

/// An ordered list of steps with the tier that produced them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub tier: Tier,
    /// What the planner concluded, for people.
    #[serde(default)]
    pub analysis: String,
    /// The planner's own confidence in [0, 1], when it states one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// The learned pattern the plan came from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<crate::domain::PatternId>,
    /// LLM usage spent producing this plan.
    #[serde(default)]
    pub usage: LlmUsage,
}

impl Plan {
    pub fn new(tier: Tier, steps: Vec<Step>) -> Self {
        Plan {
            steps,
            tier,
            analysis: String::new(),
            confidence: None,
            pattern: None,
            usage: LlmUsage::default(),
        }
    }

    /// True when the plan does nothing at all.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// A stable identity of the plan's actions, used to recognise a known-failed plan.
    pub fn signature(&self) -> String {
        steps_signature(&self.steps)
    }
}

/// A stable identity of a list of actions (reasons are ignored).
pub fn steps_signature(steps: &[Step]) -> String {
    let mut hasher = blake3::Hasher::new();
    for step in steps {
        let encoded = serde_json::to_string(&step.action).unwrap_or_default();
        hasher.update(encoded.as_bytes());
        hasher.update(b"\n");
    }
    hasher.finalize().to_hex()[..16].to_string()
}

/// Tokens and calls an LLM planner spent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmUsage {
    pub calls: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub iterations: u32,
}

impl LlmUsage {
    pub fn add(&mut self, other: LlmUsage) {
        self.calls += other.calls;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.iterations += other.iterations;
    }

    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs(u64::deserialize(d)?))
    }
}

mod opt_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_secs))
    }
}
