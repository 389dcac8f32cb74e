//! A thin client of the Anthropic Messages API and its wire types.

use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ClaudeConfig, ClaudeError};
use crate::http::{self, RetryOn, RetryPolicy};

/// The `anthropic-version` header value.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// One turn of the conversation. Content blocks stay raw JSON so that an
/// assistant turn is sent back verbatim, unknown block types included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Vec<Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// A tool the model may call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ToolDef {
    pub name: &'static str,
    pub description: &'static str,
    pub input_schema: Value,
}

/// The body of `POST /v1/messages`.
#[derive(Clone, Debug, Serialize)]
pub struct MessagesRequest<'a> {
    pub model: &'a str,
    pub max_tokens: u32,
    pub system: &'a str,
    pub messages: &'a [Message],
    pub tools: &'a [ToolDef],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
}

/// Why the model stopped. Unknown values are kept.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    EndTurn,
    MaxTokens,
    StopSequence,
    ToolUse,
    PauseTurn,
    Refusal,
    ModelContextWindowExceeded,
    #[serde(other)]
    Other,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
}

impl Usage {
    /// Input tokens including cache writes and reads: all count against budgets.
    pub fn input_total(&self) -> u64 {
        self.input_tokens
            + self.cache_creation_input_tokens.unwrap_or(0)
            + self.cache_read_input_tokens.unwrap_or(0)
    }
}

/// A successful Messages API response.
#[derive(Clone, Debug, Deserialize)]
pub struct MessagesResponse {
    #[serde(default)]
    pub id: String,
    pub content: Vec<Value>,
    pub stop_reason: Option<StopReason>,
    #[serde(default)]
    pub usage: Usage,
}

/// A `tool_use` block of an assistant turn.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolUse {
    pub id: String,
    pub name: String,
    pub input: Value,
}

impl MessagesResponse {
    /// The `tool_use` blocks, in order.
    pub fn tool_uses(&self) -> Vec<ToolUse> {
        self.content
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"))
            .filter_map(|b| {
                Some(ToolUse {
                    id: b.get("id")?.as_str()?.to_string(),
                    name: b.get("name")?.as_str()?.to_string(),
                    input: b.get("input").cloned().unwrap_or(Value::Null),
                })
            })
            .collect()
    }

    /// The text blocks joined.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    message: String,
}

/// The HTTP side of the planner.
#[derive(Clone, Debug)]
pub struct ClaudeClient {
    http: reqwest::Client,
    config: ClaudeConfig,
    url: String,
    retry: RetryPolicy,
}

impl ClaudeClient {
    pub fn new(config: ClaudeConfig) -> Result<Self, ClaudeError> {
        let http = http::client(config.timeout).map_err(ClaudeError::Transport)?;
        let url = format!("{}/v1/messages", config.base_url.trim_end_matches('/'));
        let retry = RetryPolicy {
            max_tries: config.max_retries.saturating_add(1),
            base_delay: config.retry_base_delay,
            max_delay: config.retry_max_delay,
            max_retry_after: config.retry_max_delay,
            retry_on: RetryOn::Transient,
        };
        Ok(ClaudeClient {
            http,
            config,
            url,
            retry,
        })
    }

    pub fn config(&self) -> &ClaudeConfig {
        &self.config
    }

    /// One Messages API call, retried on 429 (when it says when to come back),
    /// 529, 5xx and transport errors.
    pub async fn create(
        &self,
        request: &MessagesRequest<'_>,
    ) -> Result<MessagesResponse, ClaudeError> {
        let body = serde_json::to_vec(request).map_err(|e| ClaudeError::Decode(e.to_string()))?;
        let sent = http::send(&self.retry, "anthropic messages", || {
            self.http
                .post(&self.url)
                .header("x-api-key", self.config.api_key.expose_secret())
                .header("anthropic-version", ANTHROPIC_VERSION)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
        })
        .await
        .map_err(ClaudeError::Transport)?;
        let response = sent.response;
        let status = response.status();
        let request_id = response
            .headers()
            .get("request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        tracing::debug!(
            request_id = %request_id,
            status = status.as_u16(),
            tries = sent.tries,
            "anthropic messages call"
        );
        if status.is_success() {
            let text = response
                .text()
                .await
                .map_err(|e| ClaudeError::Transport(e.without_url()))?;
            return serde_json::from_str(&text).map_err(|e| ClaudeError::Decode(e.to_string()));
        }
        let retry_after = http::retry_after(response.headers());
        let text = response.text().await.unwrap_or_default();
        let (kind, message) = match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => (body.error.kind, body.error.message),
            Err(_) => (String::new(), http::truncate_chars(text.trim(), 300)),
        };
        tracing::warn!(
            request_id = %request_id,
            status = status.as_u16(),
            error_type = %kind,
            "anthropic messages call failed"
        );
        Err(match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::PAYMENT_REQUIRED => {
                ClaudeError::Auth {
                    status: status.as_u16(),
                    message,
                }
            }
            StatusCode::TOO_MANY_REQUESTS => ClaudeError::RateLimited {
                retry_after_secs: retry_after.map(|d| d.as_secs()),
                message,
            },
            s if s.is_server_error() => ClaudeError::Overloaded {
                status: s.as_u16(),
                message,
            },
            s => ClaudeError::Api {
                status: s.as_u16(),
                kind,
                message,
            },
        })
    }
}
