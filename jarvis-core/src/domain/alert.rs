//! Alerts as Jarvis sees them: one Alertmanager alert plus the group it came in.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Label or annotation set. Ordered, so encodings are canonical.
pub type Labels = BTreeMap<String, String>;

/// The label that carries the alert name.
pub const ALERTNAME: &str = "alertname";
/// The label Jarvis puts on alerts it raises itself (anomalies, predictions).
pub const SYNTHETIC_LABEL: &str = "jarvis_synthetic";

/// Alertmanager's label-set hash, as lowercase hex.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint(String);

/// Why a fingerprint was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FingerprintError {
    #[error("fingerprint is empty")]
    Empty,
    #[error("fingerprint {0:?} is longer than 64 characters")]
    TooLong(String),
    #[error("fingerprint {0:?} is not hexadecimal")]
    NotHex(String),
}

impl Fingerprint {
    /// Accepts 1 to 64 hex digits, as Alertmanager (16) and Jarvis's synthetic alerts produce.
    pub fn parse(s: &str) -> Result<Self, FingerprintError> {
        if s.is_empty() {
            return Err(FingerprintError::Empty);
        }
        if s.len() > 64 {
            return Err(FingerprintError::TooLong(s.chars().take(80).collect()));
        }
        if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(FingerprintError::NotHex(s.to_string()));
        }
        Ok(Fingerprint(s.to_ascii_lowercase()))
    }

    /// A fingerprint derived from a label set, for alerts that did not come from Alertmanager.
    /// The encoding is `name=value\n` per label in order; it must never change.
    pub fn of_labels(labels: &Labels) -> Self {
        let mut hasher = blake3::Hasher::new();
        for (k, v) in labels {
            hasher.update(k.as_bytes());
            hasher.update(b"=");
            hasher.update(v.as_bytes());
            hasher.update(b"\n");
        }
        Fingerprint(hasher.finalize().to_hex()[..16].to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = FingerprintError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Fingerprint::parse(&s)
    }
}

impl From<Fingerprint> for String {
    fn from(f: Fingerprint) -> String {
        f.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Firing or resolved, per alert (a "firing" notification can carry resolved alerts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

/// The group fields of an Alertmanager notification, shared by its alerts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertGroup {
    pub version: String,
    pub group_key: String,
    pub status: Option<AlertStatus>,
    pub receiver: String,
    pub group_labels: Labels,
    pub common_labels: Labels,
    pub common_annotations: Labels,
    pub external_url: String,
    pub truncated_alerts: u64,
    pub notification_reason: Option<String>,
    pub route_labels: Labels,
}

/// One alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub status: AlertStatus,
    pub labels: Labels,
    pub annotations: Labels,
    pub starts_at: DateTime<Utc>,
    /// `None` while firing (Alertmanager sends the zero time).
    pub ends_at: Option<DateTime<Utc>>,
    pub generator_url: Option<String>,
    pub fingerprint: Fingerprint,
    /// The notification this alert arrived in, when it came from Alertmanager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Arc<AlertGroup>>,
}

impl Alert {
    /// A firing alert with the given labels; the fingerprint is derived from them.
    pub fn firing(labels: Labels, starts_at: DateTime<Utc>) -> Self {
        Alert {
            status: AlertStatus::Firing,
            fingerprint: Fingerprint::of_labels(&labels),
            labels,
            annotations: Labels::new(),
            starts_at,
            ends_at: None,
            generator_url: None,
            group: None,
        }
    }

    pub fn name(&self) -> &str {
        self.label(ALERTNAME).unwrap_or("")
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }

    pub fn is_firing(&self) -> bool {
        self.status == AlertStatus::Firing
    }

    /// Raised by Jarvis itself (anomaly or prediction), not by a Prometheus rule.
    pub fn is_synthetic(&self) -> bool {
        self.label(SYNTHETIC_LABEL).is_some()
    }

    /// The `instance` label without its port, which often names the host.
    pub fn instance_host(&self) -> Option<&str> {
        let instance = self.label("instance")?;
        // `[::1]:9100`, `host:9100`, `host`
        if let Some(rest) = instance.strip_prefix('[') {
            return rest.split(']').next();
        }
        Some(instance.rsplit_once(':').map_or(instance, |(h, _)| h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_accepts_alertmanager_hex_and_rejects_the_rest() {
        assert_eq!(
            Fingerprint::parse("1A30ba71cca2921f").unwrap().as_str(),
            "1a30ba71cca2921f"
        );
        assert_eq!(Fingerprint::parse(""), Err(FingerprintError::Empty));
        assert!(matches!(
            Fingerprint::parse("xyz"),
            Err(FingerprintError::NotHex(_))
        ));
        assert!(matches!(
            Fingerprint::parse(&"a".repeat(65)),
            Err(FingerprintError::TooLong(_))
        ));
    }

    #[test]
    fn fingerprint_of_labels_is_stable_and_order_free() {
        let mut a = Labels::new();
        a.insert("alertname".into(), "ServiceDown".into());
        a.insert("job".into(), "demo".into());
        let b: Labels = a.clone().into_iter().rev().collect();
        assert_eq!(Fingerprint::of_labels(&a), Fingerprint::of_labels(&b));
        a.insert("job".into(), "other".into());
        assert_ne!(Fingerprint::of_labels(&a), Fingerprint::of_labels(&b));
    }

    #[test]
    fn instance_host_strips_ports() {
        let mut labels = Labels::new();
        for (instance, host) in [
            ("web1:9100", "web1"),
            ("web1", "web1"),
            ("[::1]:9100", "::1"),
        ] {
            labels.insert("instance".into(), instance.into());
            let alert = Alert::firing(labels.clone(), Utc::now());
            assert_eq!(alert.instance_host(), Some(host));
        }
    }
}
