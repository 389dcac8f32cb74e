//! Anomaly detection and prediction: alerts Jarvis raises before Prometheus does.
//!
//! [`Detector`] keeps a streaming baseline (exponentially weighted mean and
//! variance, exact Welford while young) per series and flags a value more than
//! `z_threshold` standard deviations away, once it has stayed away for
//! `sustained_checks` consecutive checks. Anomalous values do not move the
//! baseline, so a sustained step stays flagged; after `rebaseline_after_checks`
//! the new level is accepted as normal. [`predict`] extrapolates trends
//! (disk full, certificate expiry, restart loops, stale backups) and
//! [`DailyReport`] summarises a day. [`backup`] decides whether a stale backup
//! becomes a synthetic alert or is left to a real `BackupStale` rule;
//! [`Digest`] is the scheduled daily report and [`ReportSchedule`] says when it
//! goes out. All of it is pure: time is passed in.

pub mod backup;
mod digest;
pub mod predict;
mod report;
mod schedule;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{ALERTNAME, Alert, AnomalyRecord, Labels, SYNTHETIC_LABEL};

pub use backup::{AlertRule, BackupFreshness, assess_backup, covered_by_rule};
pub use digest::Digest;
pub use report::{AlertSummary, DailyReport, SeriesSummary};
pub use schedule::ReportSchedule;

/// The alert name of a detector anomaly.
pub const ANOMALY_ALERT: &str = "AnomalyDetected";

/// How the detector decides that a value is anomalous.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnomalyConfig {
    /// A value more than this many standard deviations from the baseline is anomalous.
    pub z_threshold: f64,
    /// Consecutive anomalous checks before an anomaly is reported.
    pub sustained_checks: u32,
    /// Seconds between checks. A gap of more than two intervals breaks a streak.
    pub check_interval_seconds: u64,
    /// Keep a separate baseline per hour of the week (168 per series, ≈4 KiB each),
    /// used once that hour has `min_samples`; the overall baseline is used before.
    pub seasonality: bool,
    /// Samples a baseline needs before anything is flagged against it.
    pub min_samples: u32,
    /// Weight of a new sample in the exponentially weighted baseline, in (0, 1].
    /// 0.02 remembers roughly the last 50 checks.
    pub baseline_weight: f64,
    /// Smallest standard deviation used, so a nearly constant series is not
    /// flagged for rounding noise.
    pub min_std: f64,
    /// After this many consecutive anomalous checks the new level becomes the
    /// baseline (0 = never).
    pub rebaseline_after_checks: u32,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        AnomalyConfig {
            z_threshold: 3.0,
            sustained_checks: 3,
            check_interval_seconds: 300,
            seasonality: false,
            min_samples: 12,
            baseline_weight: 0.02,
            min_std: 1e-9,
            rebaseline_after_checks: 12,
        }
    }
}

impl AnomalyConfig {
    /// Every problem with the configuration, or none.
    pub fn validate(&self) -> Vec<String> {
        let mut issues = Vec::new();
        if !(self.z_threshold.is_finite() && self.z_threshold > 0.0) {
            issues.push(format!(
                "anomaly.z_threshold must be positive, not {}",
                self.z_threshold
            ));
        }
        if self.sustained_checks == 0 {
            issues.push("anomaly.sustained_checks must be at least 1".to_string());
        }
        if self.check_interval_seconds == 0 {
            issues.push("anomaly.check_interval_seconds must be at least 1".to_string());
        }
        if !(self.baseline_weight > 0.0 && self.baseline_weight <= 1.0) {
            issues.push(format!(
                "anomaly.baseline_weight must be in (0, 1], not {}",
                self.baseline_weight
            ));
        }
        if !(self.min_std.is_finite() && self.min_std >= 0.0) {
            issues.push(format!(
                "anomaly.min_std must be zero or positive, not {}",
                self.min_std
            ));
        }
        issues
    }
}

/// Why a detector could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid anomaly config: {}", .0.join("; "))]
pub struct AnomalyConfigError(pub Vec<String>);

/// A value that stayed away from its baseline for enough consecutive checks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Anomaly {
    pub series: String,
    pub value: f64,
    /// The baseline the value was compared with.
    pub mean: f64,
    pub std_dev: f64,
    /// Signed: positive above the baseline.
    pub z_score: f64,
    pub at: DateTime<Utc>,
    /// The first check of the streak; the synthetic alert starts then.
    pub since: DateTime<Utc>,
    /// Consecutive anomalous checks so far (≥ `sustained_checks`).
    pub checks: u32,
    /// The baseline was the hour-of-week one.
    pub seasonal: bool,
}

impl Anomaly {
    /// The record the store keeps.
    pub fn record(&self, alert_fingerprint: Option<String>) -> AnomalyRecord {
        AnomalyRecord {
            series: self.series.clone(),
            value: self.value,
            mean: self.mean,
            z_score: self.z_score,
            at: self.at,
            alert_fingerprint,
        }
    }
}

/// Mean and variance, exact (Welford) for the first `1 / weight` samples, then
/// exponentially weighted.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Stats {
    n: u32,
    mean: f64,
    var: f64,
}

impl Stats {
    #[inline]
    fn update(&mut self, x: f64, weight: f64) {
        self.n = self.n.saturating_add(1);
        if self.n == 1 {
            self.mean = x;
            self.var = 0.0;
            return;
        }
        // With w = 1/n this is exactly Welford's update of the population variance.
        let w = (1.0 / f64::from(self.n)).max(weight);
        let delta = x - self.mean;
        self.mean += w * delta;
        self.var = (1.0 - w) * (self.var + w * delta * delta);
    }
}

const HOURS_PER_WEEK: usize = 168;

#[derive(Clone, Debug, Default)]
struct SeriesState {
    overall: Stats,
    by_hour: Option<Box<[Stats; HOURS_PER_WEEK]>>,
    streak: u32,
    /// Milliseconds since the epoch.
    streak_since: i64,
    last_at: Option<i64>,
}

/// A series registered with a [`Detector`], for the allocation- and hash-free
/// [`Detector::observe_id`]. Stale after [`Detector::forget`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeriesId {
    slot: u32,
    generation: u32,
}

#[derive(Clone, Debug)]
struct Slot {
    name: Option<Box<str>>,
    generation: u32,
    state: SeriesState,
}

/// Streaming per-series baselines. Observing a known series allocates nothing;
/// [`Detector::observe_id`] also skips the name lookup.
#[derive(Clone, Debug)]
pub struct Detector {
    cfg: AnomalyConfig,
    index: HashMap<Box<str>, SeriesId>,
    slots: Vec<Slot>,
    free: Vec<u32>,
}

impl Detector {
    pub fn new(cfg: AnomalyConfig) -> Result<Self, AnomalyConfigError> {
        let issues = cfg.validate();
        if !issues.is_empty() {
            return Err(AnomalyConfigError(issues));
        }
        Ok(Detector {
            cfg,
            index: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
        })
    }

    pub fn config(&self) -> &AnomalyConfig {
        &self.cfg
    }

    /// Series tracked.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The id of a series, registering it when new.
    pub fn series_id(&mut self, series: &str) -> SeriesId {
        if let Some(&id) = self.index.get(series) {
            return id;
        }
        let name: Box<str> = series.into();
        let id = match self.free.pop() {
            Some(slot) => {
                let entry = &mut self.slots[slot as usize];
                entry.generation = entry.generation.wrapping_add(1);
                entry.name = Some(name.clone());
                entry.state = SeriesState::default();
                SeriesId {
                    slot,
                    generation: entry.generation,
                }
            }
            None => {
                let slot = u32::try_from(self.slots.len()).expect("fewer than 2^32 series");
                self.slots.push(Slot {
                    name: Some(name.clone()),
                    generation: 0,
                    state: SeriesState::default(),
                });
                SeriesId {
                    slot,
                    generation: 0,
                }
            }
        };
        self.index.insert(name, id);
        id
    }

    /// Stops tracking a series (e.g. it disappeared from Prometheus); its id goes stale.
    pub fn forget(&mut self, series: &str) -> bool {
        let Some(id) = self.index.remove(series) else {
            return false;
        };
        let slot = &mut self.slots[id.slot as usize];
        slot.name = None;
        slot.state = SeriesState::default();
        self.free.push(id.slot);
        true
    }

    /// Feeds one check's value. Returns an anomaly only after `sustained_checks`
    /// consecutive anomalous checks, and on every further anomalous check of the
    /// streak (with the same `since`). Non-finite values and samples not newer
    /// than the series' last one are ignored.
    pub fn observe(&mut self, series: &str, value: f64, at: DateTime<Utc>) -> Option<Anomaly> {
        if !value.is_finite() {
            return None;
        }
        let id = self.series_id(series);
        self.observe_id(id, value, at)
    }

    /// [`Detector::observe`] for a registered series; a stale id is ignored.
    pub fn observe_id(&mut self, id: SeriesId, value: f64, at: DateTime<Utc>) -> Option<Anomaly> {
        if !value.is_finite() {
            return None;
        }
        let slot = self.slots.get_mut(id.slot as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let name = slot.name.as_deref()?;
        step(&self.cfg, &mut slot.state, name, value, at)
    }

    /// The alert an anomaly becomes: `alertname="AnomalyDetected"`,
    /// `jarvis_synthetic="anomaly"`, `series`, `direction` (`above`/`below`),
    /// `severity="warning"`, plus `metric` and the identifying labels
    /// (instance, host, job, service, container, system) of a
    /// `metric{label="value",…}` series. Starts when the streak started, so
    /// re-raising it every check is idempotent.
    pub fn synthetic_alert(anomaly: &Anomaly) -> Alert {
        let mut labels = selector_labels(&anomaly.series);
        labels.insert(ALERTNAME.to_string(), ANOMALY_ALERT.to_string());
        labels.insert(SYNTHETIC_LABEL.to_string(), "anomaly".to_string());
        labels.insert("series".to_string(), anomaly.series.clone());
        let direction = if anomaly.z_score >= 0.0 {
            "above"
        } else {
            "below"
        };
        labels.insert("direction".to_string(), direction.to_string());
        labels.insert("severity".to_string(), "warning".to_string());
        let mut alert = Alert::firing(labels, anomaly.since);
        alert.annotations.insert(
            "summary".to_string(),
            format!(
                "{} is {:.1}σ {direction} its baseline",
                anomaly.series,
                anomaly.z_score.abs()
            ),
        );
        alert.annotations.insert(
            "description".to_string(),
            format!(
                "value {} against a baseline of {} ± {} for {} consecutive checks",
                anomaly.value, anomaly.mean, anomaly.std_dev, anomaly.checks
            ),
        );
        alert
    }
}

/// One observation of a known series.
fn step(
    cfg: &AnomalyConfig,
    state: &mut SeriesState,
    series: &str,
    value: f64,
    at: DateTime<Utc>,
) -> Option<Anomaly> {
    let now = at.timestamp_millis();
    if let Some(last) = state.last_at {
        if now <= last {
            return None;
        }
        let max_gap = i64::try_from(cfg.check_interval_seconds)
            .unwrap_or(i64::MAX / 2_000)
            .saturating_mul(2_000);
        if now - last > max_gap {
            state.streak = 0;
        }
    }
    state.last_at = Some(now);

    let hour = hour_of_week(at);
    if cfg.seasonality && state.by_hour.is_none() {
        state.by_hour = Some(Box::new([Stats::default(); HOURS_PER_WEEK]));
    }
    let seasonal = state
        .by_hour
        .as_ref()
        .map(|bins| bins[hour])
        .filter(|s| cfg.seasonality && s.n >= cfg.min_samples);
    let baseline = seasonal.unwrap_or(state.overall);

    let learn = |state: &mut SeriesState| {
        state.overall.update(value, cfg.baseline_weight);
        if let Some(bins) = state.by_hour.as_mut() {
            bins[hour].update(value, cfg.baseline_weight);
        }
    };

    if baseline.n < cfg.min_samples {
        learn(state);
        state.streak = 0;
        return None;
    }
    let std_dev = baseline.var.max(0.0).sqrt().max(cfg.min_std);
    let deviation = value - baseline.mean;
    if deviation.abs() <= cfg.z_threshold * std_dev {
        learn(state);
        state.streak = 0;
        return None;
    }

    // Anomalous: the baseline that judged it stays as it was. An hour-of-week
    // baseline still too young to judge keeps learning, or it never would.
    if seasonal.is_none()
        && let Some(bins) = state.by_hour.as_mut()
    {
        bins[hour].update(value, cfg.baseline_weight);
    }
    if state.streak == 0 {
        state.streak_since = now;
    }
    state.streak = state.streak.saturating_add(1);
    let checks = state.streak;
    let since = state.streak_since;
    if cfg.rebaseline_after_checks > 0 && checks >= cfg.rebaseline_after_checks {
        // The new level is here to stay: learn it from scratch.
        state.overall = Stats::default();
        if let Some(bins) = state.by_hour.as_mut() {
            bins[hour] = Stats::default();
        }
        learn(state);
        state.streak = 0;
    }
    (checks >= cfg.sustained_checks).then(|| Anomaly {
        series: series.to_string(),
        value,
        mean: baseline.mean,
        std_dev,
        z_score: deviation / std_dev,
        at,
        since: DateTime::from_timestamp_millis(since).unwrap_or(at),
        checks,
        seasonal: seasonal.is_some(),
    })
}

/// 0 = Monday 00:00–01:00 UTC … 167 = Sunday 23:00–24:00 UTC.
fn hour_of_week(at: DateTime<Utc>) -> usize {
    at.weekday().num_days_from_monday() as usize * 24 + at.hour() as usize
}

/// Labels worth copying from a series id onto its synthetic alert.
const SERIES_LABELS: [&str; 6] = ["instance", "host", "job", "service", "container", "system"];

/// `metric{a="b",c="d"}` → `metric=metric`, plus the identifying labels.
fn selector_labels(series: &str) -> Labels {
    let mut labels = Labels::new();
    let (metric, rest) = match series.split_once('{') {
        Some((metric, rest)) => (metric.trim(), rest.strip_suffix('}').unwrap_or(rest)),
        None => (series.trim(), ""),
    };
    if !metric.is_empty() {
        labels.insert("metric".to_string(), metric.to_string());
    }
    for pair in rest.split(',') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let key = key.trim();
        let value = value.trim().trim_matches('"');
        if SERIES_LABELS.contains(&key) && !value.is_empty() {
            labels.insert(key.to_string(), value.to_string());
        }
    }
    labels
}
