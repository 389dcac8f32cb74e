//! Configuration of the Prometheus client, verifier and Alertmanager client.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

/// Prometheus: where it is and how the verifier polls it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusConfig {
    /// Base URL, e.g. `http://127.0.0.1:9090` (a path prefix such as `/prometheus/` is kept).
    pub url: Url,
    /// Total timeout of one HTTP request (seconds).
    #[serde(default = "defaults::request_timeout")]
    pub request_timeout_secs: u64,
    /// Delay before the verifier's second poll (milliseconds); the first is immediate.
    #[serde(default = "defaults::first_poll")]
    pub verify_first_poll_millis: u64,
    /// Each further poll delay is the previous one times this factor (at least 1).
    #[serde(default = "defaults::backoff")]
    pub verify_backoff_factor: f64,
    /// Ceiling of the poll delay (milliseconds). The verifier also caps it at half
    /// the alert rule's evaluation interval, so a fix is confirmed within about one
    /// evaluation interval of taking effect.
    #[serde(default = "defaults::max_poll")]
    pub verify_max_poll_millis: u64,
    /// How long the pipeline waits for an alert to clear when it does not say (seconds).
    #[serde(default = "defaults::max_wait")]
    pub verify_max_wait_secs: u64,
}

/// Alertmanager's v2 API, used for silences.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerConfig {
    /// Base URL, e.g. `http://127.0.0.1:9093`.
    pub url: Url,
    /// Total timeout of one HTTP request (seconds).
    #[serde(default = "defaults::request_timeout")]
    pub request_timeout_secs: u64,
}

impl PrometheusConfig {
    /// Defaults for everything but the URL.
    pub fn new(url: Url) -> Self {
        PrometheusConfig {
            url,
            request_timeout_secs: defaults::request_timeout(),
            verify_first_poll_millis: defaults::first_poll(),
            verify_backoff_factor: defaults::backoff(),
            verify_max_poll_millis: defaults::max_poll(),
            verify_max_wait_secs: defaults::max_wait(),
        }
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }

    pub fn verify_max_wait(&self) -> Duration {
        Duration::from_secs(self.verify_max_wait_secs)
    }

    /// Every problem with the config, empty when it is usable.
    pub fn validate(&self) -> Vec<String> {
        let mut issues = Vec::new();
        if !matches!(self.url.scheme(), "http" | "https") {
            issues.push(format!("prometheus.url {} is not http(s)", self.url));
        }
        if !(self.verify_backoff_factor >= 1.0 && self.verify_backoff_factor <= 10.0) {
            issues.push("prometheus.verify_backoff_factor must be within 1..=10".to_string());
        }
        if self.verify_first_poll_millis == 0 {
            issues.push("prometheus.verify_first_poll_millis must be at least 1".to_string());
        }
        if self.verify_max_poll_millis < self.verify_first_poll_millis {
            issues.push(
                "prometheus.verify_max_poll_millis must be at least verify_first_poll_millis"
                    .to_string(),
            );
        }
        issues
    }
}

impl AlertmanagerConfig {
    pub fn new(url: Url) -> Self {
        AlertmanagerConfig {
            url,
            request_timeout_secs: defaults::request_timeout(),
        }
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }
}

mod defaults {
    pub fn request_timeout() -> u64 {
        10
    }
    pub fn first_poll() -> u64 {
        250
    }
    pub fn backoff() -> f64 {
        1.5
    }
    pub fn max_poll() -> u64 {
        5000
    }
    pub fn max_wait() -> u64 {
        120
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_strictness() {
        let cfg: PrometheusConfig = toml::from_str(r#"url = "http://127.0.0.1:9090""#).unwrap();
        assert_eq!(cfg.verify_first_poll_millis, 250);
        assert_eq!(cfg.verify_backoff_factor, 1.5);
        assert_eq!(cfg.verify_max_poll_millis, 5000);
        assert_eq!(cfg.verify_max_wait_secs, 120);
        assert!(cfg.validate().is_empty());
        assert!(toml::from_str::<PrometheusConfig>("url = \"http://x\"\nbogus = 1").is_err());
        assert!(toml::from_str::<AlertmanagerConfig>("url = \"not a url\"").is_err());
    }
}
