//! [`PrometheusClient`]: the HTTP API (`/api/v1/query`, `query_range`, `alerts`, `rules`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use jarvis_core::domain::Labels;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tracing::instrument;
use url::Url;

use super::config::PrometheusConfig;
use super::error::{ErrorType, PrometheusError, snippet};

/// One instant sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub metric: Labels,
    /// Unix seconds.
    pub timestamp: f64,
    /// `NaN` for native-histogram samples.
    pub value: f64,
}

/// One series of a range query.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeSeries {
    pub metric: Labels,
    /// `(unix seconds, value)`, oldest first.
    pub points: Vec<(f64, f64)>,
}

/// The result of an instant query.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryResult {
    Vector(Vec<Sample>),
    Matrix(Vec<RangeSeries>),
    Scalar { timestamp: f64, value: f64 },
    String { timestamp: f64, value: String },
}

impl QueryResult {
    fn kind(&self) -> &'static str {
        match self {
            QueryResult::Vector(_) => "vector",
            QueryResult::Matrix(_) => "matrix",
            QueryResult::Scalar { .. } => "scalar",
            QueryResult::String { .. } => "string",
        }
    }
}

/// `pending` or `firing`, as `/api/v1/alerts` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlertState {
    Pending,
    Firing,
    Inactive,
    Other(String),
}

impl AlertState {
    fn parse(s: &str) -> Self {
        match s {
            "pending" => AlertState::Pending,
            "firing" => AlertState::Firing,
            "inactive" => AlertState::Inactive,
            other => AlertState::Other(other.to_string()),
        }
    }
}

/// One alert Prometheus holds active.
#[derive(Clone, Debug, PartialEq)]
pub struct ActiveAlert {
    pub labels: Labels,
    pub annotations: Labels,
    pub state: AlertState,
    pub active_at: Option<DateTime<Utc>>,
    /// The expression's value when the alert was last evaluated (`NaN` if unparsable).
    pub value: f64,
}

/// One alerting rule with its group's evaluation interval.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertingRule {
    pub name: String,
    pub query: String,
    /// The rule's `for`.
    pub duration: Duration,
    pub labels: Labels,
    pub annotations: Labels,
    /// `inactive`, `pending` or `firing`.
    pub state: String,
    pub health: String,
    pub group: String,
    /// How often the group is evaluated.
    pub interval: Duration,
}

/// Client for Prometheus's HTTP API.
#[derive(Clone, Debug)]
pub struct PrometheusClient {
    http: reqwest::Client,
    base: Url,
}

// --- wire types (never deny unknown fields: the API grows) ---

#[derive(Debug, Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<serde_json::Value>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct WireQueryData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct WireInstant {
    #[serde(default)]
    metric: Labels,
    #[serde(default)]
    value: Option<(f64, String)>,
    #[serde(default)]
    histogram: Option<(f64, serde_json::Value)>,
}

#[derive(Debug, Deserialize)]
struct WireRange {
    #[serde(default)]
    metric: Labels,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

#[derive(Debug, Deserialize)]
struct WireAlerts {
    alerts: Vec<WireAlert>,
}

#[derive(Debug, Deserialize)]
struct WireAlert {
    #[serde(default)]
    labels: Labels,
    #[serde(default)]
    annotations: Labels,
    state: String,
    #[serde(default, rename = "activeAt")]
    active_at: Option<DateTime<Utc>>,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireRules {
    groups: Vec<WireGroup>,
}

#[derive(Debug, Deserialize)]
struct WireGroup {
    name: String,
    #[serde(default)]
    interval: f64,
    #[serde(default)]
    rules: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct WireAlertingRule {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    query: String,
    #[serde(default)]
    duration: f64,
    #[serde(default)]
    labels: Labels,
    #[serde(default)]
    annotations: Labels,
    #[serde(default)]
    state: String,
    #[serde(default)]
    health: String,
}

/// Parses a sample value; Prometheus sends strings to carry `NaN` and `±Inf`.
pub fn parse_value(s: &str) -> f64 {
    s.parse::<f64>().unwrap_or(f64::NAN)
}

fn secs(d: f64) -> Duration {
    if d.is_finite() && d > 0.0 {
        Duration::from_secs_f64(d)
    } else {
        Duration::ZERO
    }
}

/// Seconds since the epoch with millisecond precision, as the API accepts.
fn unix(t: DateTime<Utc>) -> String {
    format!("{:.3}", t.timestamp_millis() as f64 / 1000.0)
}

impl PrometheusClient {
    pub fn new(config: &PrometheusConfig) -> Result<Self, PrometheusError> {
        let http =
            crate::http::client(config.request_timeout()).map_err(PrometheusError::Client)?;
        let mut base = config.url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(PrometheusClient { http, base })
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> Url {
        // `path` is relative (no leading slash), so a base path prefix is kept.
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    /// `GET /-/ready`: Ok when Prometheus is ready to serve queries.
    #[instrument(skip_all)]
    pub async fn ready(&self) -> Result<(), PrometheusError> {
        let url = self.url("-/ready");
        let resp = self.send(self.http.get(url.clone()), &url).await?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let body = resp.text().await.unwrap_or_default();
        Err(PrometheusError::Http {
            status: status.as_u16(),
            body: snippet(&body, 512),
        })
    }

    /// An instant query, evaluated at `at` (now when `None`).
    #[instrument(skip_all, fields(query = %query))]
    pub async fn query(
        &self,
        query: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<QueryResult, PrometheusError> {
        let mut params = vec![("query", query.to_string())];
        if let Some(at) = at {
            params.push(("time", unix(at)));
        }
        let data: WireQueryData = self.get("api/v1/query", &params).await?;
        decode_query(data)
    }

    /// An instant query that must return a vector (a scalar becomes one unlabelled sample).
    pub async fn query_vector(
        &self,
        query: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<Vec<Sample>, PrometheusError> {
        match self.query(query, at).await? {
            QueryResult::Vector(v) => Ok(v),
            QueryResult::Scalar { timestamp, value } => Ok(vec![Sample {
                metric: Labels::new(),
                timestamp,
                value,
            }]),
            other => Err(PrometheusError::UnexpectedResult {
                want: "vector",
                got: other.kind().to_string(),
            }),
        }
    }

    /// A range query from `start` to `end` (inclusive) every `step`.
    #[instrument(skip_all, fields(query = %query))]
    pub async fn query_range(
        &self,
        query: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: Duration,
    ) -> Result<Vec<RangeSeries>, PrometheusError> {
        let params = [
            ("query", query.to_string()),
            ("start", unix(start)),
            ("end", unix(end)),
            ("step", format!("{}", step.as_secs_f64().max(0.001))),
        ];
        let data: WireQueryData = self.get("api/v1/query_range", &params).await?;
        match decode_query(data)? {
            QueryResult::Matrix(m) => Ok(m),
            other => Err(PrometheusError::UnexpectedResult {
                want: "matrix",
                got: other.kind().to_string(),
            }),
        }
    }

    /// `GET /api/v1/alerts`: the pending and firing alerts.
    #[instrument(skip_all)]
    pub async fn alerts(&self) -> Result<Vec<ActiveAlert>, PrometheusError> {
        let data: WireAlerts = self.get("api/v1/alerts", &[]).await?;
        Ok(data
            .alerts
            .into_iter()
            .map(|a| ActiveAlert {
                labels: a.labels,
                annotations: a.annotations,
                state: AlertState::parse(&a.state),
                active_at: a.active_at,
                value: a.value.as_deref().map_or(f64::NAN, parse_value),
            })
            .collect())
    }

    /// `GET /api/v1/rules?type=alert`, optionally only rules named `name`.
    #[instrument(skip_all)]
    pub async fn alerting_rules(
        &self,
        name: Option<&str>,
    ) -> Result<Vec<AlertingRule>, PrometheusError> {
        let mut params = vec![("type", "alert".to_string())];
        if let Some(name) = name {
            params.push(("rule_name[]", name.to_string()));
        }
        let data: WireRules = self.get("api/v1/rules", &params).await?;
        Ok(collect_rules(data, name))
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        url: &Url,
    ) -> Result<reqwest::Response, PrometheusError> {
        req.send().await.map_err(|source| {
            let url = redact(url);
            if source.is_timeout() {
                PrometheusError::Timeout { url }
            } else {
                PrometheusError::Unreachable { url, source }
            }
        })
    }

    /// GET `path`, unwrap the envelope and decode `data`.
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<T, PrometheusError> {
        let url = self.url(path);
        let resp = self
            .send(self.http.get(url.clone()).query(params), &url)
            .await?;
        let status = resp.status();
        let body = resp.text().await.map_err(|source| {
            if source.is_timeout() {
                PrometheusError::Timeout { url: redact(&url) }
            } else {
                PrometheusError::Unreachable {
                    url: redact(&url),
                    source,
                }
            }
        })?;
        decode_envelope(status.as_u16(), &body, &url)
    }
}

/// The alerting rules of a `/api/v1/rules` answer, named `name` when given.
fn collect_rules(data: WireRules, name: Option<&str>) -> Vec<AlertingRule> {
    let mut rules = Vec::new();
    for group in data.groups {
        for raw in group.rules {
            // Mixed recording/alerting rules: skip what is not an alerting rule.
            let Ok(rule) = serde_json::from_value::<WireAlertingRule>(raw) else {
                continue;
            };
            if rule.kind != "alerting" || name.is_some_and(|n| n != rule.name) {
                continue;
            }
            rules.push(AlertingRule {
                name: rule.name,
                query: rule.query,
                duration: secs(rule.duration),
                labels: rule.labels,
                annotations: rule.annotations,
                state: rule.state,
                health: rule.health,
                group: group.name.clone(),
                interval: secs(group.interval),
            });
        }
    }
    rules
}

/// The URL without credentials or query, for errors and logs.
fn redact(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.to_string()
}

fn decode_envelope<T: DeserializeOwned>(
    status: u16,
    body: &str,
    url: &Url,
) -> Result<T, PrometheusError> {
    let ok = (200..300).contains(&status);
    let envelope = match serde_json::from_str::<Envelope>(body) {
        Ok(e) => e,
        Err(source) if ok => {
            return Err(PrometheusError::Decode {
                url: redact(url),
                source,
            });
        }
        Err(_) => {
            return Err(PrometheusError::Http {
                status,
                body: snippet(body, 512),
            });
        }
    };
    if envelope.status != "success" {
        return Err(PrometheusError::Api {
            status,
            error_type: ErrorType::parse(envelope.error_type.as_deref().unwrap_or("")),
            message: envelope.error.unwrap_or_default(),
        });
    }
    if !ok {
        return Err(PrometheusError::Http {
            status,
            body: snippet(body, 512),
        });
    }
    for warning in &envelope.warnings {
        tracing::debug!(warning = %warning, "prometheus warning");
    }
    serde_json::from_value(envelope.data.unwrap_or(serde_json::Value::Null)).map_err(|source| {
        PrometheusError::Decode {
            url: redact(url),
            source,
        }
    })
}

fn decode_query(data: WireQueryData) -> Result<QueryResult, PrometheusError> {
    let decode = |source| PrometheusError::Decode {
        url: "query result".to_string(),
        source,
    };
    Ok(match data.result_type.as_str() {
        "vector" => {
            let raw: Vec<WireInstant> = serde_json::from_value(data.result).map_err(decode)?;
            QueryResult::Vector(
                raw.into_iter()
                    .map(|s| {
                        let (timestamp, value) = match (s.value, s.histogram) {
                            (Some((t, v)), _) => (t, parse_value(&v)),
                            (None, Some((t, _))) => (t, f64::NAN),
                            (None, None) => (f64::NAN, f64::NAN),
                        };
                        Sample {
                            metric: s.metric,
                            timestamp,
                            value,
                        }
                    })
                    .collect(),
            )
        }
        "matrix" => {
            let raw: Vec<WireRange> = serde_json::from_value(data.result).map_err(decode)?;
            QueryResult::Matrix(
                raw.into_iter()
                    .map(|s| RangeSeries {
                        metric: s.metric,
                        points: s
                            .values
                            .into_iter()
                            .map(|(t, v)| (t, parse_value(&v)))
                            .collect(),
                    })
                    .collect(),
            )
        }
        "scalar" => {
            let (timestamp, v): (f64, String) =
                serde_json::from_value(data.result).map_err(decode)?;
            QueryResult::Scalar {
                timestamp,
                value: parse_value(&v),
            }
        }
        "string" => {
            let (timestamp, value): (f64, String) =
                serde_json::from_value(data.result).map_err(decode)?;
            QueryResult::String { timestamp, value }
        }
        other => {
            return Err(PrometheusError::UnexpectedResult {
                want: "vector, matrix, scalar or string",
                got: other.to_string(),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> (u16, String) {
        let path = format!(
            "{}/../../shared/fixtures/prometheus/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path)
            .or_else(|_| {
                std::fs::read_to_string(format!("/work/shared/fixtures/prometheus/{name}"))
            })
            .unwrap_or_else(|e| panic!("fixture {path}: {e}"));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        (v["status"].as_u64().unwrap() as u16, v["body"].to_string())
    }

    fn url() -> Url {
        Url::parse("http://prom/").unwrap()
    }

    #[test]
    fn vector_values_are_strings_parsed_to_floats() {
        let (status, body) = fixture("query-demo_service_up-down.json");
        let data: WireQueryData = decode_envelope(status, &body, &url()).unwrap();
        let QueryResult::Vector(v) = decode_query(data).unwrap() else {
            panic!("not a vector")
        };
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].value, 0.0);
        assert_eq!(v[0].metric["service"], "demo");
    }

    #[test]
    fn matrix_fixture_decodes() {
        let (status, body) = fixture("query_range-demo_service_up.json");
        let data: WireQueryData = decode_envelope(status, &body, &url()).unwrap();
        let QueryResult::Matrix(m) = decode_query(data).unwrap() else {
            panic!("not a matrix")
        };
        assert_eq!(m[0].points.len(), 11);
        assert_eq!(m[0].points.last().unwrap().1, 0.0);
    }

    #[test]
    fn error_envelope_maps_to_typed_error() {
        let (status, body) = fixture("query-error-400.json");
        let err = decode_envelope::<WireQueryData>(status, &body, &url()).unwrap_err();
        match err {
            PrometheusError::Api {
                status,
                error_type,
                message,
            } => {
                assert_eq!(status, 400);
                assert_eq!(error_type, ErrorType::BadData);
                assert!(message.contains("parse error"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn proxy_error_without_envelope_is_http_error() {
        let err =
            decode_envelope::<WireQueryData>(502, "<html>Bad Gateway</html>", &url()).unwrap_err();
        assert!(matches!(err, PrometheusError::Http { status: 502, .. }));
        assert!(err.is_transient());
    }

    #[test]
    fn special_values_parse() {
        assert!(parse_value("NaN").is_nan());
        assert_eq!(parse_value("+Inf"), f64::INFINITY);
        assert_eq!(parse_value("-Inf"), f64::NEG_INFINITY);
        assert_eq!(parse_value("1e+00"), 1.0);
    }

    #[test]
    fn alerts_and_rules_fixtures_decode() {
        let (status, body) = fixture("api-v1-alerts-firing.json");
        let data: WireAlerts = decode_envelope(status, &body, &url()).unwrap();
        assert_eq!(data.alerts[0].state, "firing");
        let (status, body) = fixture("api-v1-rules.json");
        let data: WireRules = decode_envelope(status, &body, &url()).unwrap();
        let rules = collect_rules(data, Some("ServiceDown"));
        assert_eq!(rules.len(), 1, "{rules:?}");
        assert_eq!(rules[0].query, "demo_service_up == 0");
        assert_eq!(rules[0].duration, Duration::from_secs(2));
    }
}
