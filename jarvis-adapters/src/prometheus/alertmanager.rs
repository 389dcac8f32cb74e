//! [`AlertmanagerClient`]: v2 silences (create, list, expire) and health.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use jarvis_core::domain::{Labels, MaintenanceScope, MaintenanceWindow};
use serde::{Deserialize, Serialize};
use tracing::instrument;
use url::Url;

use super::config::AlertmanagerConfig;
use super::error::{AlertmanagerError, snippet};

/// One silence matcher.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matcher {
    pub name: String,
    pub value: String,
    #[serde(rename = "isRegex")]
    pub is_regex: bool,
    #[serde(rename = "isEqual", default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl Matcher {
    /// `name="value"`.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Matcher {
            name: name.into(),
            value: value.into(),
            is_regex: false,
            is_equal: true,
        }
    }

    /// `name=~"value"` (Alertmanager anchors the expression at both ends).
    pub fn regex(name: impl Into<String>, value: impl Into<String>) -> Self {
        Matcher {
            name: name.into(),
            value: value.into(),
            is_regex: true,
            is_equal: true,
        }
    }
}

/// The label every alert has, matched by a global maintenance silence.
const ALL_ALERTS: (&str, &str) = ("alertname", ".+");

/// A silence to create (`postableSilence`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewSilence {
    pub matchers: Vec<Matcher>,
    #[serde(rename = "startsAt")]
    pub starts_at: DateTime<Utc>,
    #[serde(rename = "endsAt")]
    pub ends_at: DateTime<Utc>,
    #[serde(rename = "createdBy")]
    pub created_by: String,
    pub comment: String,
}

impl NewSilence {
    /// Silences exactly this label set (one equality matcher per label).
    pub fn for_labels(
        labels: &Labels,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        comment: impl Into<String>,
    ) -> Self {
        NewSilence {
            matchers: labels
                .iter()
                .map(|(k, v)| Matcher::equal(k.clone(), v.clone()))
                .collect(),
            starts_at,
            ends_at,
            created_by: "jarvis".to_string(),
            comment: comment.into(),
        }
    }

    /// The silence that accompanies a maintenance window, for the window's span.
    ///
    /// A global window silences every alert (`alertname=~".+"`). A host window
    /// silences alerts whose `instance` label names the host, with or without
    /// a port (`web1`, `web1:9100`, `[::1]:9100`): the label Jarvis itself falls
    /// back on to find an alert's host. One silence cannot also match the other
    /// ways Jarvis maps an alert to a host (a `remediation_host` hint, a routing
    /// rule); Jarvis's own window still holds those back from remediation.
    pub fn for_maintenance(window: &MaintenanceWindow) -> Self {
        let matcher = match &window.scope {
            MaintenanceScope::Global => Matcher::regex(ALL_ALERTS.0, ALL_ALERTS.1),
            MaintenanceScope::Host(host) => Matcher::regex("instance", instance_pattern(host)),
        };
        NewSilence {
            matchers: vec![matcher],
            starts_at: window.starts_at,
            ends_at: window.ends_at,
            created_by: "jarvis".to_string(),
            comment: format!(
                "jarvis maintenance window {} (started by {}): {}",
                window.id, window.created_by, window.reason
            ),
        }
    }
}

/// An `instance` value naming `host`: `host`, `host:PORT`, `[host]` or `[host]:PORT`,
/// the forms `Alert::instance_host` reads back to `host`.
pub fn instance_pattern(host: &str) -> String {
    let host = regex_escape(host);
    format!("(?:{host}|\\[{host}\\])(?::[0-9]+)?")
}

/// Escapes what RE2 (Alertmanager's regex engine) treats as syntax.
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_punctuation() && !matches!(c, '_' | '-' | ':' | '/' | '@' | '%' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `expired`, `active` or `pending`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct SilenceStatus {
    pub state: String,
}

/// A silence as Alertmanager returns it (`gettableSilence`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Silence {
    pub id: String,
    pub status: SilenceStatus,
    pub matchers: Vec<Matcher>,
    #[serde(rename = "startsAt")]
    pub starts_at: DateTime<Utc>,
    #[serde(rename = "endsAt")]
    pub ends_at: DateTime<Utc>,
    #[serde(rename = "updatedAt", default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(rename = "createdBy", default)]
    pub created_by: String,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

impl Silence {
    pub fn is_active(&self) -> bool {
        self.status.state == "active"
    }
}

#[derive(Deserialize)]
struct Created {
    #[serde(rename = "silenceID")]
    silence_id: String,
}

/// Client for Alertmanager's v2 API.
#[derive(Clone, Debug)]
pub struct AlertmanagerClient {
    http: reqwest::Client,
    base: Url,
}

impl AlertmanagerClient {
    pub fn new(config: &AlertmanagerConfig) -> Result<Self, AlertmanagerError> {
        let http =
            crate::http::client(config.request_timeout()).map_err(AlertmanagerError::Client)?;
        let mut base = config.url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(AlertmanagerClient { http, base })
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    /// `GET /-/healthy`.
    #[instrument(skip_all)]
    pub async fn healthy(&self) -> Result<(), AlertmanagerError> {
        self.call(self.http.get(self.url("-/healthy")))
            .await
            .map(drop)
    }

    /// `GET /-/ready`.
    #[instrument(skip_all)]
    pub async fn ready(&self) -> Result<(), AlertmanagerError> {
        self.call(self.http.get(self.url("-/ready")))
            .await
            .map(drop)
    }

    /// Creates a silence; returns its id.
    #[instrument(skip_all, fields(matchers = silence.matchers.len()))]
    pub async fn create_silence(&self, silence: &NewSilence) -> Result<String, AlertmanagerError> {
        let url = self.url("api/v2/silences");
        let body = self.call(self.http.post(url.clone()).json(silence)).await?;
        let created: Created = decode(&body, &url)?;
        tracing::info!(silence = %created.silence_id, "silence created");
        Ok(created.silence_id)
    }

    /// Expires a silence. `NotFound` when Alertmanager does not know it;
    /// expiring a silence that already expired succeeds.
    #[instrument(skip_all, fields(silence = %id))]
    pub async fn expire_silence(&self, id: &str) -> Result<(), AlertmanagerError> {
        let url = self.url(&format!("api/v2/silence/{}", encode_segment(id)));
        match self.call(self.http.delete(url)).await {
            // Newer Alertmanagers answer 404; 0.25 answers 500 "silence not found".
            Err(AlertmanagerError::Rejected { status, message })
                if status == 404 || (status == 500 && message == "silence not found") =>
            {
                Err(AlertmanagerError::NotFound(id.to_string()))
            }
            other => other.map(drop),
        }
    }

    /// One silence by id.
    #[instrument(skip_all, fields(silence = %id))]
    pub async fn silence(&self, id: &str) -> Result<Silence, AlertmanagerError> {
        let url = self.url(&format!("api/v2/silence/{}", encode_segment(id)));
        match self.call(self.http.get(url.clone())).await {
            Err(AlertmanagerError::Rejected { status: 404, .. }) => {
                Err(AlertmanagerError::NotFound(id.to_string()))
            }
            Err(e) => Err(e),
            Ok(body) => decode(&body, &url),
        }
    }

    /// Silences, optionally filtered by matchers such as `alertname="X"`.
    #[instrument(skip_all)]
    pub async fn silences(&self, filters: &[String]) -> Result<Vec<Silence>, AlertmanagerError> {
        let url = self.url("api/v2/silences");
        let query: Vec<(&str, &str)> = filters.iter().map(|f| ("filter", f.as_str())).collect();
        let body = self.call(self.http.get(url.clone()).query(&query)).await?;
        decode(&body, &url)
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> Result<String, AlertmanagerError> {
        let unreachable = |source: reqwest::Error| AlertmanagerError::Unreachable {
            url: crate::config::redact_url(&self.base),
            source: source.without_url(),
        };
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status();
        let body = resp.text().await.map_err(unreachable)?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(AlertmanagerError::Rejected {
                status: status.as_u16(),
                message: snippet(body.trim().trim_matches('"'), 512),
            })
        }
    }
}

fn decode<T: serde::de::DeserializeOwned>(body: &str, url: &Url) -> Result<T, AlertmanagerError> {
    serde_json::from_str(body).map_err(|source| AlertmanagerError::Decode {
        url: url.path().to_string(),
        source,
    })
}

/// Silence ids are UUIDs; anything else is percent-encoded so it stays one path segment.
fn encode_segment(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_silence_serialises_as_postable_silence() {
        let mut labels = Labels::new();
        labels.insert("alertname".into(), "Down".into());
        let t = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let s = NewSilence::for_labels(&labels, t, t + chrono::Duration::minutes(10), "incident 1");
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["matchers"][0]["name"], "alertname");
        assert_eq!(v["matchers"][0]["isRegex"], false);
        assert_eq!(v["matchers"][0]["isEqual"], true);
        assert_eq!(v["createdBy"], "jarvis");
        assert!(
            v["startsAt"]
                .as_str()
                .unwrap()
                .starts_with("2026-01-01T00:00:00")
        );
    }

    fn window(scope: MaintenanceScope) -> MaintenanceWindow {
        let t = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        MaintenanceWindow {
            id: jarvis_core::domain::MaintenanceId::new(),
            scope,
            reason: "kernel upgrade".into(),
            created_by: "ops".into(),
            starts_at: t,
            ends_at: t + chrono::Duration::hours(1),
            ended_at: None,
            silence_id: None,
        }
    }

    #[test]
    fn a_global_window_silences_every_alert_for_its_span() {
        let w = window(MaintenanceScope::Global);
        let s = NewSilence::for_maintenance(&w);
        assert_eq!(s.matchers, vec![Matcher::regex("alertname", ".+")]);
        assert_eq!((s.starts_at, s.ends_at), (w.starts_at, w.ends_at));
        assert!(s.comment.contains(&w.id.to_string()), "{}", s.comment);
        assert!(s.comment.contains("kernel upgrade"), "{}", s.comment);
    }

    #[test]
    fn a_host_window_silences_the_instance_forms_jarvis_reads_as_that_host() {
        let s = NewSilence::for_maintenance(&window(MaintenanceScope::Host("web1.lan".into())));
        assert_eq!(s.matchers.len(), 1);
        let m = &s.matchers[0];
        assert_eq!(
            (m.name.as_str(), m.is_regex, m.is_equal),
            ("instance", true, true)
        );
        // Alertmanager anchors matchers; so does this check.
        let re = regex::Regex::new(&format!("^(?:{})$", m.value)).unwrap();
        for instance in ["web1.lan", "web1.lan:9100", "[web1.lan]:9100", "[web1.lan]"] {
            let mut labels = Labels::new();
            labels.insert("instance".into(), instance.into());
            let alert = jarvis_core::domain::Alert::firing(labels, Utc::now());
            assert_eq!(alert.instance_host(), Some("web1.lan"));
            assert!(
                re.is_match(instance),
                "{instance} not matched by {}",
                m.value
            );
        }
        for other in [
            "web1xlan",
            "web1.lan.other",
            "web1.lan:",
            "web10.lan:9100",
            "x.web1.lan",
        ] {
            assert!(!re.is_match(other), "{other} matched by {}", m.value);
        }
        let v6 = instance_pattern("::1");
        let re = regex::Regex::new(&format!("^(?:{v6})$")).unwrap();
        assert!(re.is_match("[::1]:9100"));
    }

    #[test]
    fn ids_stay_one_segment() {
        assert_eq!(encode_segment("a-1/../x"), "a-1%2F%2E%2E%2Fx");
    }
}
