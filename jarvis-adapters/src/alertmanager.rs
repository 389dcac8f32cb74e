//! The Alertmanager webhook payload (version "4") and its conversion into core [`Alert`]s.
//!
//! The wire types never reach the core: [`Notification::into_alerts`] turns one
//! notification into alerts sharing one [`AlertGroup`], and every error names the
//! field that is wrong (`alerts[2].startsAt: invalid RFC 3339 timestamp "..."`).
//! Unknown fields are ignored on purpose: Alertmanager adds fields over time.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Utc};
use jarvis_core::domain::{Alert, AlertGroup, AlertStatus, Fingerprint, Labels};
use serde::Deserialize;

/// The only payload version Jarvis understands.
pub const SUPPORTED_VERSION: &str = "4";

/// One webhook notification, as Alertmanager sends it.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub group_key: String,
    #[serde(default)]
    pub truncated_alerts: u64,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub receiver: String,
    #[serde(default)]
    pub group_labels: Labels,
    #[serde(default)]
    pub common_labels: Labels,
    #[serde(default)]
    pub common_annotations: Labels,
    #[serde(default, rename = "externalURL")]
    pub external_url: String,
    /// Alertmanager 0.32+ (snake_case on the wire).
    #[serde(default, rename = "notification_reason")]
    pub notification_reason: Option<String>,
    /// Alertmanager 0.34+.
    #[serde(default)]
    pub route_labels: Labels,
    pub alerts: Vec<WireAlert>,
}

/// One alert of a notification.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireAlert {
    pub status: String,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub annotations: Labels,
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
    pub fingerprint: String,
}

/// Why a payload cannot be accepted. The message names the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The body is not JSON of the expected shape.
    #[error("malformed payload: {0}")]
    Malformed(String),
    #[error(
        "version: unsupported payload version {found:?} (Jarvis accepts \"{SUPPORTED_VERSION}\")"
    )]
    UnsupportedVersion { found: String },
    #[error("{field}: {problem}")]
    Field { field: String, problem: String },
}

impl PayloadError {
    fn field(field: impl Into<String>, problem: impl Into<String>) -> Self {
        PayloadError::Field {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl Notification {
    /// Parses a webhook body. Syntax and shape errors carry serde's line and column.
    pub fn from_json(body: &[u8]) -> Result<Self, PayloadError> {
        let de = &mut serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path.is_empty() || path == "." {
                PayloadError::Malformed(inner.to_string())
            } else {
                PayloadError::Malformed(format!("{path}: {inner}"))
            }
        })
    }

    /// The notification's alerts as core alerts sharing one group.
    pub fn into_alerts(self) -> Result<Vec<Alert>, PayloadError> {
        match self.version.as_deref() {
            Some(SUPPORTED_VERSION) => {}
            Some(other) => {
                return Err(PayloadError::UnsupportedVersion {
                    found: other.to_string(),
                });
            }
            None => {
                return Err(PayloadError::field(
                    "version",
                    format!("missing (Jarvis accepts \"{SUPPORTED_VERSION}\")"),
                ));
            }
        }
        let status = match self.status.as_deref() {
            None => None,
            Some(s) => Some(parse_status(s).ok_or_else(|| {
                PayloadError::field(
                    "status",
                    format!("must be \"firing\" or \"resolved\", not {s:?}"),
                )
            })?),
        };
        let group = Arc::new(AlertGroup {
            version: SUPPORTED_VERSION.to_string(),
            group_key: self.group_key,
            status,
            receiver: self.receiver,
            group_labels: self.group_labels,
            common_labels: self.common_labels,
            common_annotations: self.common_annotations,
            external_url: self.external_url,
            truncated_alerts: self.truncated_alerts,
            notification_reason: self.notification_reason,
            route_labels: self.route_labels,
        });
        self.alerts
            .into_iter()
            .enumerate()
            .map(|(i, wire)| wire.into_alert(i, group.clone()))
            .collect()
    }
}

impl TryFrom<Notification> for Vec<Alert> {
    type Error = PayloadError;
    fn try_from(n: Notification) -> Result<Self, Self::Error> {
        n.into_alerts()
    }
}

impl WireAlert {
    fn into_alert(self, index: usize, group: Arc<AlertGroup>) -> Result<Alert, PayloadError> {
        let field = |name: &str| format!("alerts[{index}].{name}");
        let status = parse_status(&self.status).ok_or_else(|| {
            PayloadError::field(
                field("status"),
                format!("must be \"firing\" or \"resolved\", not {:?}", self.status),
            )
        })?;
        let fingerprint = Fingerprint::parse(&self.fingerprint)
            .map_err(|e| PayloadError::field(field("fingerprint"), e.to_string()))?;
        if self
            .labels
            .get(jarvis_core::domain::ALERTNAME)
            .is_none_or(|n| n.is_empty())
        {
            return Err(PayloadError::field(
                field("labels.alertname"),
                "missing or empty",
            ));
        }
        let starts_at = parse_time(&self.starts_at)
            .map_err(|p| PayloadError::field(field("startsAt"), p))?
            .ok_or_else(|| PayloadError::field(field("startsAt"), "is the zero time"))?;
        let ends_at = match self.ends_at.as_deref() {
            None | Some("") => None,
            Some(raw) => parse_time(raw).map_err(|p| PayloadError::field(field("endsAt"), p))?,
        };
        Ok(Alert {
            status,
            labels: self.labels,
            annotations: self.annotations,
            starts_at,
            ends_at,
            generator_url: self.generator_url.filter(|u| !u.is_empty()),
            fingerprint,
            group: Some(group),
        })
    }
}

/// Decodes and converts a webhook body in one go.
pub fn parse_webhook(body: &[u8]) -> Result<Vec<Alert>, PayloadError> {
    Notification::from_json(body)?.into_alerts()
}

fn parse_status(s: &str) -> Option<AlertStatus> {
    match s {
        "firing" => Some(AlertStatus::Firing),
        "resolved" => Some(AlertStatus::Resolved),
        _ => None,
    }
}

/// An RFC 3339 time; Go's zero time (year 1) is `None`.
fn parse_time(raw: &str) -> Result<Option<DateTime<Utc>>, String> {
    let parsed = DateTime::parse_from_rfc3339(raw)
        .map_err(|_| format!("invalid RFC 3339 timestamp {:?}", truncate(raw, 64)))?;
    let utc = parsed.with_timezone(&Utc);
    Ok((utc.year() > 1).then_some(utc))
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRING: &str = r#"{
      "receiver": "jarvis", "status": "firing", "version": "4",
      "groupKey": "{}:{alertname=\"ServiceDown\"}", "truncatedAlerts": 0,
      "groupLabels": {"alertname": "ServiceDown"}, "commonLabels": {}, "commonAnnotations": {},
      "externalURL": "http://am:9093", "someFutureField": {"x": 1},
      "alerts": [{
        "status": "firing",
        "labels": {"alertname": "ServiceDown", "instance": "web1:9100"},
        "annotations": {"summary": "down"},
        "startsAt": "2026-11-23T05:54:05.331Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prom/graph",
        "fingerprint": "8FB85C1053FC0ACF"
      }]
    }"#;

    fn with(f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut v: serde_json::Value = serde_json::from_str(FIRING).unwrap();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    fn check_err(body: &[u8], expected: &str) {
        let err = parse_webhook(body).unwrap_err().to_string();
        assert!(
            err.contains(expected),
            "{err:?} should contain {expected:?}"
        );
    }

    #[test]
    fn converts_a_firing_alert_and_ignores_unknown_fields() {
        let alerts = parse_webhook(FIRING.as_bytes()).unwrap();
        assert_eq!(alerts.len(), 1);
        let a = &alerts[0];
        assert_eq!(a.status, AlertStatus::Firing);
        assert_eq!(a.name(), "ServiceDown");
        assert_eq!(a.fingerprint.as_str(), "8fb85c1053fc0acf");
        assert_eq!(a.ends_at, None);
        let group = a.group.as_ref().unwrap();
        assert_eq!(group.receiver, "jarvis");
        assert_eq!(group.status, Some(AlertStatus::Firing));
    }

    #[test]
    fn resolved_alert_keeps_its_end_time() {
        let body = with(|v| {
            v["alerts"][0]["status"] = "resolved".into();
            v["alerts"][0]["endsAt"] = "2026-11-23T05:54:07.331Z".into();
        });
        let alerts = parse_webhook(&body).unwrap();
        assert_eq!(alerts[0].status, AlertStatus::Resolved);
        assert!(alerts[0].ends_at.is_some());
    }

    #[test]
    fn errors_name_the_bad_field() {
        check_err(
            &with(|v| v["alerts"][0]["startsAt"] = "yesterday".into()),
            "alerts[0].startsAt: invalid RFC 3339 timestamp \"yesterday\"",
        );
        check_err(
            &with(|v| v["alerts"][0]["endsAt"] = "x".into()),
            "alerts[0].endsAt: invalid RFC 3339",
        );
        check_err(
            &with(|v| v["alerts"][0]["fingerprint"] = "zz".into()),
            "alerts[0].fingerprint: fingerprint \"zz\" is not hexadecimal",
        );
        check_err(
            &with(|v| v["alerts"][0]["status"] = "pending".into()),
            "alerts[0].status: must be",
        );
        check_err(
            &with(|v| {
                v["alerts"][0]["labels"] = serde_json::json!({});
            }),
            "alerts[0].labels.alertname: missing",
        );
        check_err(
            &with(|v| v["version"] = "5".into()),
            "unsupported payload version \"5\"",
        );
        check_err(
            &with(|v| {
                v.as_object_mut().unwrap().remove("version");
            }),
            "version: missing",
        );
        check_err(
            &with(|v| v["alerts"][0]["labels"] = serde_json::json!({"alertname": 3})),
            "alerts[0].labels.alertname: invalid type",
        );
        check_err(b"{not json", "malformed payload");
        check_err(
            &with(|v| {
                v.as_object_mut().unwrap().remove("alerts");
            }),
            "missing field `alerts`",
        );
    }
}
