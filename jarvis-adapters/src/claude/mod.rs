//! Claude (Anthropic Messages API) as a [`jarvis_core::ports::Planner`].
//!
//! [`ClaudePlanner`] runs an agent loop: the model investigates with tools and
//! ends with `submit_plan`. Diagnostic tools (`run_command`, `gather_logs`)
//! execute only steps the [`jarvis_core::safety::SafetyPolicy`] allows as
//! diagnostic; refusals go back to the model as `is_error` results naming the
//! rule. Action tools (Home Assistant, n8n, self-restart) never run during
//! planning: they become proposed plan steps, which the pipeline validates
//! again like every other step. Alert data and tool output reach the model only
//! as quoted JSON data ([`prompt`]). With [`ClaudePlanner::with_audit`], every
//! command the model asks to run is written to the store's audit log with the
//! incident, host, verdict, rule and exit status (never its output).
//!
//! The loop stops on `submit_plan`, after `stall_iterations` turns without a
//! new tool call, at `max_iterations`, or when the incident or daily token
//! budget is spent ([`jarvis_core::error::PlanError::OverBudget`]). A refused
//! key (401/403) or an API that stays overloaded is
//! [`jarvis_core::error::PlanError::Unavailable`], so the pipeline falls back
//! to the deterministic planner.

pub mod client;
mod config;
mod planner;
pub mod prompt;
pub mod sources;
pub mod tools;

pub use client::ClaudeClient;
pub use config::ClaudeConfig;
pub use planner::{ClaudePlanner, DailyTokenBudget, PLANNER_NAME, PLANNING_AUDIT_PREFIX};
pub use sources::{LibraryRunbooks, LokiLogs, PrometheusMetrics};
pub use tools::{LogLine, LogSource, MetricSeries, MetricSource, RunbookSource};

/// Errors of the Anthropic client.
#[derive(Debug, thiserror::Error)]
pub enum ClaudeError {
    /// 401, 402 or 403: the key is wrong, lacks permission or billing.
    #[error("anthropic api refused the credentials ({status}): {message}")]
    Auth { status: u16, message: String },
    /// 429 after retries, or without a `retry-after` (e.g. a spend cap).
    #[error("anthropic api rate limited: {message}")]
    RateLimited {
        retry_after_secs: Option<u64>,
        message: String,
    },
    /// 5xx or 529 after retries.
    #[error("anthropic api overloaded or failing ({status}): {message}")]
    Overloaded { status: u16, message: String },
    /// Any other error status (400 invalid request, 404, 413, …).
    #[error("anthropic api error {status} {kind}: {message}")]
    Api {
        status: u16,
        kind: String,
        message: String,
    },
    #[error("anthropic api unreachable")]
    Transport(#[source] reqwest::Error),
    #[error("anthropic api response not understood: {0}")]
    Decode(String),
}

impl ClaudeError {
    /// The backend cannot serve us now: fall back rather than fail.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            ClaudeError::Auth { .. }
                | ClaudeError::RateLimited { .. }
                | ClaudeError::Overloaded { .. }
                | ClaudeError::Transport(_)
        )
    }
}
