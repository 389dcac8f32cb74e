//! Loki: `query_range` with LogQL ([`LokiClient`]), and a helper that trims log
//! lines to fit a prompt ([`render_for_prompt`]).

use std::fmt::Write as _;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jarvis_core::domain::Labels;
use serde::Deserialize;
use tracing::instrument;
use url::Url;

/// Loki: where it is and who we are to it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LokiConfig {
    /// Base URL, e.g. `http://127.0.0.1:3100`.
    pub url: Url,
    /// Tenant sent as `X-Scope-OrgID` to a multi-tenant Loki.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Total timeout of one HTTP request (seconds).
    #[serde(default = "default_timeout")]
    pub request_timeout_secs: u64,
}

fn default_timeout() -> u64 {
    10
}

impl LokiConfig {
    pub fn new(url: Url) -> Self {
        LokiConfig {
            url,
            tenant: None,
            request_timeout_secs: default_timeout(),
        }
    }
}

/// What went wrong asking Loki.
#[derive(Debug, thiserror::Error)]
pub enum LokiError {
    #[error("loki client could not be built")]
    Client(#[source] reqwest::Error),
    #[error("loki at {url} unreachable")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// Loki's errors are plain-text bodies.
    #[error("loki answered http {status}: {message}")]
    Http { status: u16, message: String },
    #[error("loki response could not be decoded")]
    Decode(#[source] serde_json::Error),
    #[error("loki response is invalid: {0}")]
    Invalid(String),
}

impl LokiError {
    pub fn is_transient(&self) -> bool {
        match self {
            LokiError::Unreachable { .. } => true,
            LokiError::Http { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// Which end of the range comes first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Forward,
    /// Newest first (Loki's default).
    #[default]
    Backward,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Forward => "forward",
            Direction::Backward => "backward",
        }
    }
}

/// A `query_range` request.
#[derive(Clone, Debug, PartialEq)]
pub struct LokiQuery {
    /// LogQL.
    pub query: String,
    /// Inclusive.
    pub start: DateTime<Utc>,
    /// Exclusive.
    pub end: DateTime<Utc>,
    /// Maximum entries (log queries).
    pub limit: u32,
    pub direction: Direction,
}

impl LokiQuery {
    /// The last `since` of logs up to `end`, newest first, at most `limit` lines.
    pub fn last(query: impl Into<String>, end: DateTime<Utc>, since: Duration, limit: u32) -> Self {
        LokiQuery {
            query: query.into(),
            start: end - chrono::Duration::from_std(since).unwrap_or(chrono::Duration::hours(1)),
            end,
            limit,
            direction: Direction::Backward,
        }
    }
}

/// One log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// Nanoseconds since the epoch.
    pub timestamp_ns: i64,
    pub line: String,
}

impl LogEntry {
    pub fn time(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.timestamp_ns)
    }
}

/// One stream: a label set and its lines, in the order Loki returned them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogStream {
    pub labels: Labels,
    pub entries: Vec<LogEntry>,
}

/// One series of a metric query.
#[derive(Clone, Debug, PartialEq)]
pub struct LokiSeries {
    pub metric: Labels,
    /// `(unix seconds, value)`.
    pub points: Vec<(f64, f64)>,
}

/// The result of a `query_range`.
#[derive(Clone, Debug, PartialEq)]
pub enum LokiResult {
    Streams(Vec<LogStream>),
    Matrix(Vec<LokiSeries>),
}

impl LokiResult {
    /// The log streams (empty for a metric query).
    pub fn streams(&self) -> &[LogStream] {
        match self {
            LokiResult::Streams(s) => s,
            LokiResult::Matrix(_) => &[],
        }
    }
}

#[derive(Deserialize)]
struct WireResponse {
    status: String,
    data: WireData,
}

#[derive(Deserialize)]
struct WireData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct WireStream {
    #[serde(default)]
    stream: Labels,
    /// `["<ns as string>", "<line>", {structured metadata}?]`.
    #[serde(default)]
    values: Vec<Vec<serde_json::Value>>,
}

#[derive(Deserialize)]
struct WireSeries {
    #[serde(default)]
    metric: Labels,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// Client for Loki's HTTP API.
#[derive(Clone, Debug)]
pub struct LokiClient {
    http: reqwest::Client,
    base: Url,
    tenant: Option<String>,
}

impl LokiClient {
    pub fn new(config: &LokiConfig) -> Result<Self, LokiError> {
        let http = crate::http::client(Duration::from_secs(config.request_timeout_secs.max(1)))
            .map_err(LokiError::Client)?;
        let mut base = config.url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(LokiClient {
            http,
            base,
            tenant: config.tenant.clone(),
        })
    }

    /// `GET /loki/api/v1/query_range`; `start`/`end` are sent as nanosecond integers.
    #[instrument(skip_all, fields(query = %q.query, limit = q.limit))]
    pub async fn query_range(&self, q: &LokiQuery) -> Result<LokiResult, LokiError> {
        let url = self
            .base
            .join("loki/api/v1/query_range")
            .map_err(|e| LokiError::Invalid(e.to_string()))?;
        let params = [
            ("query", q.query.clone()),
            ("start", nanos(q.start).to_string()),
            ("end", nanos(q.end).to_string()),
            ("limit", q.limit.to_string()),
            ("direction", q.direction.as_str().to_string()),
        ];
        let mut req = self.http.get(url).query(&params);
        if let Some(tenant) = &self.tenant {
            req = req.header("X-Scope-OrgID", tenant);
        }
        let resp = req.send().await.map_err(|source| LokiError::Unreachable {
            url: self.base.to_string(),
            source,
        })?;
        let status = resp.status();
        let body = resp.text().await.map_err(|source| LokiError::Unreachable {
            url: self.base.to_string(),
            source,
        })?;
        if !status.is_success() {
            return Err(LokiError::Http {
                status: status.as_u16(),
                message: first_chars(body.trim(), 512),
            });
        }
        parse_response(&body)
    }
}

fn nanos(t: DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt()
        .unwrap_or_else(|| t.timestamp().saturating_mul(1_000_000_000))
}

fn first_chars(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Parses a `query_range` response body.
pub fn parse_response(body: &str) -> Result<LokiResult, LokiError> {
    let resp: WireResponse = serde_json::from_str(body).map_err(LokiError::Decode)?;
    if resp.status != "success" {
        return Err(LokiError::Invalid(format!("status {}", resp.status)));
    }
    match resp.data.result_type.as_str() {
        "streams" => {
            let raw: Vec<WireStream> =
                serde_json::from_value(resp.data.result).map_err(LokiError::Decode)?;
            let mut streams = Vec::with_capacity(raw.len());
            for s in raw {
                let mut entries = Vec::with_capacity(s.values.len());
                for v in s.values {
                    let (Some(ts), Some(line)) = (
                        v.first().and_then(|t| t.as_str()),
                        v.get(1).and_then(|l| l.as_str()),
                    ) else {
                        return Err(LokiError::Invalid(
                            "stream entry is not [\"<ns>\", \"<line>\"]".to_string(),
                        ));
                    };
                    let timestamp_ns = ts.parse::<i64>().map_err(|_| {
                        LokiError::Invalid(format!("timestamp {ts:?} is not integer nanoseconds"))
                    })?;
                    entries.push(LogEntry {
                        timestamp_ns,
                        line: line.to_string(),
                    });
                }
                streams.push(LogStream {
                    labels: s.stream,
                    entries,
                });
            }
            Ok(LokiResult::Streams(streams))
        }
        "matrix" => {
            let raw: Vec<WireSeries> =
                serde_json::from_value(resp.data.result).map_err(LokiError::Decode)?;
            Ok(LokiResult::Matrix(
                raw.into_iter()
                    .map(|s| LokiSeries {
                        metric: s.metric,
                        points: s
                            .values
                            .into_iter()
                            .map(|(t, v)| (t, v.parse().unwrap_or(f64::NAN)))
                            .collect(),
                    })
                    .collect(),
            ))
        }
        other => Err(LokiError::Invalid(format!(
            "unsupported resultType {other}"
        ))),
    }
}

/// Log lines rendered for a prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptLogs {
    pub text: String,
    /// Lines included.
    pub lines: usize,
    /// Lines left out (oldest first) to stay within the limits.
    pub omitted: usize,
}

/// Renders streams as `<RFC 3339> <line>` lines, oldest first, keeping the newest
/// lines that fit in `max_lines` and `max_bytes` (a longer single line is cut).
/// When lines are left out, a one-line `[N earlier lines omitted]` note precedes them.
pub fn render_for_prompt(streams: &[LogStream], max_lines: usize, max_bytes: usize) -> PromptLogs {
    let mut all: Vec<&LogEntry> = streams.iter().flat_map(|s| &s.entries).collect();
    all.sort_by_key(|e| e.timestamp_ns);
    let mut kept: Vec<String> = Vec::new();
    let mut bytes = 0;
    for entry in all.iter().rev() {
        if kept.len() >= max_lines {
            break;
        }
        let mut line = format!(
            "{} {}",
            entry
                .time()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            entry.line.trim_end()
        );
        let room = max_bytes.saturating_sub(bytes);
        if line.len() + 1 > room {
            if !kept.is_empty() || room < 16 {
                break;
            }
            line = first_chars(&line, room.saturating_sub(4));
        }
        bytes += line.len() + 1;
        kept.push(line);
    }
    let omitted = all.len() - kept.len();
    let mut text = String::new();
    if omitted > 0 {
        let _ = writeln!(text, "[{omitted} earlier lines omitted]");
    }
    for line in kept.iter().rev() {
        text.push_str(line);
        text.push('\n');
    }
    PromptLogs {
        text,
        lines: kept.len(),
        omitted,
    }
}

#[cfg(test)]
mod tests;
