//! [`PrometheusVerifier`]: decides whether an alert cleared after a remediation.
//!
//! # The rule
//!
//! The verifier first finds the alert's expression:
//! 1. the alerting rules named like the alert in `/api/v1/rules` whose own labels the
//!    alert carries; their group interval sets the poll ceiling (half of it); or else
//! 2. the `g0.expr` parameter of the alert's `generatorURL`. Then the expression must
//!    have had a series matching the alert at the alert's `startsAt` (proof that this
//!    Prometheus holds the data); otherwise an empty result would prove nothing.
//!
//! Without an expression the answer is `Unverified`.
//!
//! Each poll evaluates the expression now and reads `/api/v1/alerts`, concurrently.
//! The alert is **cleared** only when both say so: no series of the expression matches
//! the alert's labels (a series matches when every one of its labels, except
//! `__name__` and labels the rule overrides, equals the alert's), *and* no pending or
//! firing alert in `/api/v1/alerts` has labels all carried by the alert. Pending counts
//! as not cleared. The first poll is immediate, the next after `verify_first_poll_millis`,
//! then each delay grows by `verify_backoff_factor` up to the ceiling.
//!
//! A query error (bad expression) ends verification as `Unverified` at once; three
//! consecutive transport errors do too. Nothing but positive evidence yields `Cleared`.

use std::time::Duration;

use async_trait::async_trait;
use jarvis_core::domain::{ALERTNAME, Alert, Labels, Verification};
use jarvis_core::ports::Verifier;
use tokio::time::Instant;
use tracing::instrument;

use super::client::{AlertState, PrometheusClient};
use super::config::PrometheusConfig;
use super::error::PrometheusError;

/// Consecutive transport failures after which verification gives up.
const MAX_TRANSPORT_FAILURES: u32 = 3;

/// Verifies alerts against Prometheus.
#[derive(Clone, Debug)]
pub struct PrometheusVerifier {
    client: PrometheusClient,
    first_poll: Duration,
    factor: f64,
    max_poll: Duration,
}

/// Where the checked expression came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExprSource {
    Rule,
    GeneratorUrl,
}

/// What the verifier checks for one alert.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifyTarget {
    pub labels: Labels,
    /// Expressions of the matching rules (usually one).
    pub exprs: Vec<String>,
    /// Labels set by the rules, which override series labels.
    pub rule_labels: Labels,
    pub source: ExprSource,
    /// The rule group's evaluation interval, when known.
    pub interval: Option<Duration>,
}

/// One poll's evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    /// Series of the expression that still match the alert.
    pub matching_series: usize,
    /// The alert's state in `/api/v1/alerts`, `None` when absent.
    pub alert_state: Option<String>,
}

impl Observation {
    pub fn cleared(&self) -> bool {
        self.matching_series == 0 && self.alert_state.is_none()
    }
}

impl PrometheusVerifier {
    pub fn new(client: PrometheusClient, config: &PrometheusConfig) -> Self {
        let first_poll = Duration::from_millis(config.verify_first_poll_millis.max(1));
        PrometheusVerifier {
            client,
            first_poll,
            factor: config.verify_backoff_factor.clamp(1.0, 10.0),
            max_poll: Duration::from_millis(config.verify_max_poll_millis).max(first_poll),
        }
    }

    /// A verifier with its own client.
    pub fn from_config(config: &PrometheusConfig) -> Result<Self, PrometheusError> {
        Ok(Self::new(PrometheusClient::new(config)?, config))
    }

    pub fn client(&self) -> &PrometheusClient {
        &self.client
    }

    /// Finds what to check for `alert`; `Err` holds why it cannot be verified.
    pub async fn target(&self, alert: &Alert) -> Result<VerifyTarget, String> {
        let name = alert.name();
        if name.is_empty() {
            return Err("alert has no alertname".to_string());
        }
        let rules = self
            .client
            .alerting_rules(Some(name))
            .await
            .map_err(|e| format!("cannot read rules: {}", chain(&e)))?;
        let rules: Vec<_> = rules
            .into_iter()
            .filter(|r| r.labels.iter().all(|(k, v)| alert.labels.get(k) == Some(v)))
            .collect();
        if !rules.is_empty() {
            let interval = rules
                .iter()
                .map(|r| r.interval)
                .filter(|d| !d.is_zero())
                .min();
            let mut rule_labels = Labels::new();
            for r in &rules {
                rule_labels.extend(r.labels.clone());
            }
            return Ok(VerifyTarget {
                labels: alert.labels.clone(),
                exprs: rules.into_iter().map(|r| r.query).collect(),
                rule_labels,
                source: ExprSource::Rule,
                interval,
            });
        }
        let Some(expr) = alert
            .generator_url
            .as_deref()
            .and_then(expr_from_generator_url)
        else {
            return Err(format!(
                "no alerting rule {name} in prometheus and no expression in the generator url"
            ));
        };
        let target = VerifyTarget {
            labels: alert.labels.clone(),
            exprs: vec![expr],
            rule_labels: Labels::new(),
            source: ExprSource::GeneratorUrl,
            interval: None,
        };
        let baseline = self
            .matching_series(&target, Some(alert.starts_at))
            .await
            .map_err(|e| format!("cannot evaluate the alert expression: {}", chain(&e)))?;
        if baseline == 0 {
            return Err(format!(
                "the expression of {name} had no matching series when the alert started; \
                 this prometheus cannot confirm it"
            ));
        }
        Ok(target)
    }

    /// One poll: the expression now and the alert's state, concurrently.
    pub async fn observe(&self, target: &VerifyTarget) -> Result<Observation, PrometheusError> {
        let (series, alerts) =
            tokio::join!(self.matching_series(target, None), self.client.alerts());
        let matching_series = series?;
        let alert_state = alerts?
            .into_iter()
            .filter(|a| matches!(a.state, AlertState::Pending | AlertState::Firing))
            .find(|a| {
                a.labels.get(ALERTNAME) == target.labels.get(ALERTNAME)
                    && a.labels
                        .iter()
                        .all(|(k, v)| target.labels.get(k) == Some(v))
            })
            .map(|a| match a.state {
                AlertState::Pending => "pending".to_string(),
                _ => "firing".to_string(),
            });
        Ok(Observation {
            matching_series,
            alert_state,
        })
    }

    async fn matching_series(
        &self,
        target: &VerifyTarget,
        at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<usize, PrometheusError> {
        let mut n = 0;
        for expr in &target.exprs {
            let samples = self.client.query_vector(expr, at).await?;
            n += samples
                .iter()
                .filter(|s| series_matches(&s.metric, &target.labels, &target.rule_labels))
                .count();
        }
        Ok(n)
    }

    fn ceiling(&self, target: &VerifyTarget) -> Duration {
        let by_interval = target.interval.map_or(self.max_poll, |i| i / 2);
        self.max_poll.min(by_interval).max(self.first_poll)
    }
}

#[async_trait]
impl Verifier for PrometheusVerifier {
    #[instrument(skip_all, fields(alertname = %alert.name(), fingerprint = %alert.fingerprint))]
    async fn verify(&self, alert: &Alert, max_wait: Duration) -> Verification {
        let start = Instant::now();
        let target = match self.target(alert).await {
            Ok(t) => t,
            Err(reason) => {
                tracing::warn!(reason = %reason, "alert cannot be verified");
                return Verification::Unverified { reason };
            }
        };
        let ceiling = self.ceiling(&target);
        let mut delay = self.first_poll;
        let mut failures = 0;
        let mut last_error: Option<PrometheusError> = None;
        let mut polls = 0u32;
        loop {
            polls += 1;
            match self.observe(&target).await {
                Ok(obs) if obs.cleared() => {
                    let after = start.elapsed();
                    tracing::info!(after_ms = after.as_millis() as u64, polls, "alert cleared");
                    return Verification::Cleared { after };
                }
                Ok(obs) => {
                    tracing::debug!(series = obs.matching_series, state = ?obs.alert_state, "alert not cleared yet");
                    failures = 0;
                    last_error.take();
                }
                Err(e) if !e.is_transient() => {
                    return Verification::Unverified {
                        reason: format!("query failed: {}", chain(&e)),
                    };
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %chain(&e), failures, "verification poll failed");
                    if failures >= MAX_TRANSPORT_FAILURES {
                        return Verification::Unverified {
                            reason: format!("prometheus unavailable: {}", chain(&e)),
                        };
                    }
                    last_error = Some(e);
                }
            }
            let elapsed = start.elapsed();
            if elapsed >= max_wait {
                break;
            }
            tokio::time::sleep(delay.min(max_wait - elapsed)).await;
            delay = delay.mul_f64(self.factor).min(ceiling);
        }
        match last_error {
            Some(e) => Verification::Unverified {
                reason: format!("prometheus unavailable: {}", chain(&e)),
            },
            None => Verification::StillFiring {
                waited: start.elapsed(),
            },
        }
    }
}

/// Whether a series of the alert's expression belongs to this alert.
pub fn series_matches(series: &Labels, alert: &Labels, rule_labels: &Labels) -> bool {
    series
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__" && !rule_labels.contains_key(*k))
        .all(|(k, v)| alert.get(k) == Some(v))
}

/// The `g0.expr` query parameter of a Prometheus generator URL.
pub fn expr_from_generator_url(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == "g0.expr")
        .map(|(_, v)| v.into_owned())
        .filter(|e| !e.trim().is_empty())
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn generator_url_expression_is_decoded() {
        assert_eq!(
            expr_from_generator_url(
                "http://prom:9090/graph?g0.expr=demo_service_up+%3D%3D+0&g0.tab=1"
            )
            .as_deref(),
            Some("demo_service_up == 0")
        );
        assert_eq!(expr_from_generator_url("http://prom:9090/graph"), None);
        assert_eq!(expr_from_generator_url("not a url"), None);
    }

    #[test]
    fn series_match_ignores_name_and_rule_overrides() {
        let alert = labels(&[
            ("alertname", "Down"),
            ("instance", "a:1"),
            ("severity", "critical"),
        ]);
        let rule = labels(&[("severity", "critical")]);
        assert!(series_matches(
            &labels(&[("__name__", "up"), ("instance", "a:1"), ("severity", "x")]),
            &alert,
            &rule
        ));
        assert!(!series_matches(
            &labels(&[("instance", "b:1")]),
            &alert,
            &rule
        ));
    }

    #[test]
    fn pending_is_not_cleared() {
        let obs = Observation {
            matching_series: 0,
            alert_state: Some("pending".into()),
        };
        assert!(!obs.cleared());
        let obs = Observation {
            matching_series: 0,
            alert_state: None,
        };
        assert!(obs.cleared());
    }
}
