//! Configuration of the Claude planner.

use std::time::Duration;

use secrecy::SecretString;

/// Settings of [`super::ClaudePlanner`]. `Debug` never shows the key.
#[derive(Clone, Debug)]
pub struct ClaudeConfig {
    /// Anthropic API key, sent as `x-api-key`.
    pub api_key: SecretString,
    /// API base URL, without the `/v1/messages` path.
    pub base_url: String,
    /// Model name, e.g. `claude-sonnet-4-5`.
    pub model: String,
    /// `max_tokens` of each Messages API call.
    pub max_tokens: u32,
    /// Hard cap on model calls per incident.
    pub max_iterations: u32,
    /// Stop after this many consecutive calls that made no progress
    /// (no new tool call; repeating an identical call is not progress).
    pub stall_iterations: u32,
    /// Input + output tokens one incident may spend.
    pub incident_token_budget: u64,
    /// Input + output tokens all incidents together may spend per UTC day.
    pub daily_token_budget: u64,
    /// Plans with a lower stated confidence should wait for approval; the
    /// planner records the confidence on the plan and the pipeline gates it.
    pub min_confidence: f64,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
    /// Retries of one call on 429, 529, 5xx and transport errors.
    pub max_retries: u32,
    /// First backoff delay; doubles per retry, with jitter.
    pub retry_base_delay: Duration,
    /// Cap of the computed backoff and of an accepted `retry-after`.
    pub retry_max_delay: Duration,
    /// Longest command/tool output handed back to the model, in characters.
    pub max_tool_output_chars: usize,
}

impl ClaudeConfig {
    pub const DEFAULT_BASE_URL: &'static str = "https://api.anthropic.com";
    pub const DEFAULT_MODEL: &'static str = "claude-sonnet-4-5";

    /// Defaults for everything but the key.
    pub fn new(api_key: SecretString) -> Self {
        ClaudeConfig {
            api_key,
            base_url: Self::DEFAULT_BASE_URL.to_string(),
            model: Self::DEFAULT_MODEL.to_string(),
            max_tokens: 4096,
            max_iterations: 20,
            stall_iterations: 3,
            incident_token_budget: 200_000,
            daily_token_budget: 2_000_000,
            min_confidence: 0.6,
            timeout: Duration::from_secs(120),
            max_retries: 4,
            retry_base_delay: Duration::from_secs(1),
            retry_max_delay: Duration::from_secs(60),
            max_tool_output_chars: 8_000,
        }
    }

    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }
}
