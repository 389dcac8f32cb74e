//! Predictions: trouble that is coming, raised as synthetic alerts before it arrives.
//!
//! Each `check_*` function looks at data the caller gathered (samples, expiry
//! dates, restart times, backup times) and returns a synthetic alert with
//! `jarvis_synthetic="prediction"` when the trouble is within its horizon.
//! The caller's `labels` (host, device, container, system…) are copied onto
//! the alert so routing and hints work as for any other alert.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{ALERTNAME, Alert, Labels, SYNTHETIC_LABEL};

pub const DISK_FULL_ALERT: &str = "PredictiveDiskFull";
pub const CERTIFICATE_ALERT: &str = "CertificateExpiringSoon";
pub const RESTART_LOOP_ALERT: &str = "RestartLoop";
pub const BACKUP_STALE_ALERT: &str = "BackupStalePredicted";

/// Horizons and thresholds of the predictions.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PredictConfig {
    /// Raise `PredictiveDiskFull` when the disk is predicted full within this many hours.
    pub disk_full_horizon_hours: f64,
    /// Samples a disk trend needs before it is extrapolated.
    pub min_fit_samples: usize,
    /// Raise `CertificateExpiringSoon` when a certificate expires within this many days.
    pub certificate_horizon_days: f64,
    /// Raise `RestartLoop` when a container restarted this many times …
    pub restart_threshold: u32,
    /// … within this many seconds.
    pub restart_window_seconds: u64,
    /// Raise `BackupStalePredicted` when the time since the last backup exceeds the
    /// usual interval between backups times this factor …
    pub backup_tolerance: f64,
    /// … or, with fewer than two past intervals to learn from, this many hours.
    pub backup_max_age_hours: f64,
}

impl Default for PredictConfig {
    fn default() -> Self {
        PredictConfig {
            disk_full_horizon_hours: 24.0,
            min_fit_samples: 6,
            certificate_horizon_days: 14.0,
            restart_threshold: 5,
            restart_window_seconds: 900,
            backup_tolerance: 1.5,
            backup_max_age_hours: 26.0,
        }
    }
}

/// A least-squares line through `(time, value)` samples.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LinearFit {
    /// Change of the value per second.
    pub slope_per_second: f64,
    /// The fitted value at `origin`.
    pub intercept: f64,
    /// The time of the earliest sample.
    pub origin: DateTime<Utc>,
    /// Goodness of fit in [0, 1] (1 for flat data, which a line fits exactly).
    pub r_squared: f64,
}

impl LinearFit {
    /// The fitted value at `at`.
    pub fn value_at(&self, at: DateTime<Utc>) -> f64 {
        self.intercept + self.slope_per_second * seconds_between(self.origin, at)
    }
}

fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 1000.0
}

/// The least-squares line through the samples (any order). `None` with fewer
/// than two distinct times or a non-finite value.
pub fn linear_fit(samples: &[(DateTime<Utc>, f64)]) -> Option<LinearFit> {
    let origin = samples.iter().map(|(t, _)| *t).min()?;
    if samples.iter().any(|(_, v)| !v.is_finite()) {
        return None;
    }
    let n = samples.len() as f64;
    let (sum_t, sum_v) = samples.iter().fold((0.0, 0.0), |(st, sv), (t, v)| {
        (st + seconds_between(origin, *t), sv + v)
    });
    let (mean_t, mean_v) = (sum_t / n, sum_v / n);
    let (mut stt, mut stv, mut svv) = (0.0, 0.0, 0.0);
    for (t, v) in samples {
        let dt = seconds_between(origin, *t) - mean_t;
        let dv = v - mean_v;
        stt += dt * dt;
        stv += dt * dv;
        svv += dv * dv;
    }
    if stt <= 0.0 {
        return None;
    }
    let slope = stv / stt;
    let r_squared = if svv <= 0.0 {
        1.0
    } else {
        (stv * stv / (stt * svv)).clamp(0.0, 1.0)
    };
    Some(LinearFit {
        slope_per_second: slope,
        intercept: mean_v - slope * mean_t,
        origin,
        r_squared,
    })
}

/// When a growing quantity reaches its capacity.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Exhaustion {
    /// Fewer than two distinct sample times.
    Insufficient,
    /// Flat or improving: it never fills at this rate.
    Never,
    /// The latest sample is already at or over capacity.
    Exhausted,
    /// The trend reaches capacity at `at`, `after` the latest sample.
    At {
        at: DateTime<Utc>,
        #[serde(with = "secs")]
        after: Duration,
        slope_per_second: f64,
    },
}

/// Least-squares linear fit of the samples, extrapolated to `capacity`;
/// [`Exhaustion::Never`] for flat or improving series.
pub fn time_to_exhaustion(samples: &[(DateTime<Utc>, f64)], capacity: f64) -> Exhaustion {
    let Some(&(last_at, last_value)) = samples.iter().max_by_key(|(t, _)| *t) else {
        return Exhaustion::Insufficient;
    };
    if last_value >= capacity {
        return Exhaustion::Exhausted;
    }
    let Some(fit) = linear_fit(samples) else {
        return Exhaustion::Insufficient;
    };
    // Growth too small to matter over the sampled span (rounding noise on flat data) is flat.
    let span = seconds_between(fit.origin, last_at);
    let scale = samples
        .iter()
        .map(|(_, v)| v.abs())
        .fold(capacity.abs(), f64::max)
        .max(1.0);
    if fit.slope_per_second * span <= scale * 1e-9 {
        return Exhaustion::Never;
    }
    let from_last = (capacity - fit.value_at(last_at)) / fit.slope_per_second;
    let after = Duration::try_from_secs_f64(from_last.max(0.0)).unwrap_or(Duration::MAX);
    let at = TimeDelta::from_std(after)
        .ok()
        .and_then(|d| last_at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    Exhaustion::At {
        at,
        after,
        slope_per_second: fit.slope_per_second,
    }
}

fn hours(h: f64) -> TimeDelta {
    TimeDelta::try_milliseconds((h * 3_600_000.0) as i64).unwrap_or(TimeDelta::MAX)
}

fn synthetic(alert_name: &str, labels: &Labels, starts_at: DateTime<Utc>) -> Alert {
    let mut labels = labels.clone();
    labels.insert(ALERTNAME.to_string(), alert_name.to_string());
    labels.insert(SYNTHETIC_LABEL.to_string(), "prediction".to_string());
    labels
        .entry("severity".to_string())
        .or_insert_with(|| "warning".to_string());
    Alert::firing(labels, starts_at)
}

/// `PredictiveDiskFull` when the usage samples reach `capacity` within the horizon
/// (or already have). Starts at `now`.
pub fn check_disk(
    labels: &Labels,
    samples: &[(DateTime<Utc>, f64)],
    capacity: f64,
    now: DateTime<Utc>,
    cfg: &PredictConfig,
) -> Option<Alert> {
    if samples.len() < cfg.min_fit_samples.max(2) {
        return None;
    }
    let (summary, full_at) = match time_to_exhaustion(samples, capacity) {
        Exhaustion::Exhausted => ("disk is full".to_string(), now),
        Exhaustion::At { at, .. } if at - now <= hours(cfg.disk_full_horizon_hours) => {
            let left = (at - now).num_minutes().max(0) as f64 / 60.0;
            (format!("disk predicted full in {left:.1} hours"), at)
        }
        _ => return None,
    };
    let mut alert = synthetic(DISK_FULL_ALERT, labels, now);
    alert.annotations.insert("summary".into(), summary);
    alert
        .annotations
        .insert("predicted_full_at".into(), full_at.to_rfc3339());
    Some(alert)
}

/// `CertificateExpiringSoon` when `not_after` is within the horizon (or past).
/// Starts when the certificate entered the horizon.
pub fn check_certificate(
    labels: &Labels,
    not_after: DateTime<Utc>,
    now: DateTime<Utc>,
    cfg: &PredictConfig,
) -> Option<Alert> {
    let horizon = hours(cfg.certificate_horizon_days * 24.0);
    if not_after - now > horizon {
        return None;
    }
    let entered = not_after
        .checked_sub_signed(horizon)
        .unwrap_or(now)
        .min(now);
    let mut alert = synthetic(CERTIFICATE_ALERT, labels, entered);
    let days = (not_after - now).num_hours() as f64 / 24.0;
    let summary = if days < 0.0 {
        format!("certificate expired {:.1} days ago", -days)
    } else {
        format!("certificate expires in {days:.1} days")
    };
    alert.annotations.insert("summary".into(), summary);
    alert
        .annotations
        .insert("not_after".into(), not_after.to_rfc3339());
    Some(alert)
}

/// `RestartLoop` when at least `restart_threshold` of the restart times fall in
/// the window ending at `now`. Starts at the restart that reached the threshold.
pub fn check_restarts(
    labels: &Labels,
    restarts: &[DateTime<Utc>],
    now: DateTime<Utc>,
    cfg: &PredictConfig,
) -> Option<Alert> {
    let window =
        TimeDelta::try_seconds(cfg.restart_window_seconds as i64).unwrap_or(TimeDelta::MAX);
    let mut recent: Vec<DateTime<Utc>> = restarts
        .iter()
        .copied()
        .filter(|t| *t <= now && now - *t <= window)
        .collect();
    let threshold = cfg.restart_threshold.max(1) as usize;
    if recent.len() < threshold {
        return None;
    }
    recent.sort_unstable();
    let mut alert = synthetic(RESTART_LOOP_ALERT, labels, recent[threshold - 1]);
    alert.annotations.insert(
        "summary".into(),
        format!(
            "{} restarts in the last {} minutes",
            recent.len(),
            cfg.restart_window_seconds / 60
        ),
    );
    Some(alert)
}

/// `BackupStalePredicted` when the last successful backup is older than the usual
/// interval between backups times `backup_tolerance` (the median of past
/// intervals; `backup_max_age_hours` with fewer than two). Starts when the backup
/// became overdue. No backups at all is not a prediction: the ordinary
/// BackupStale alert covers it.
pub fn check_backup(
    labels: &Labels,
    successes: &[DateTime<Utc>],
    now: DateTime<Utc>,
    cfg: &PredictConfig,
) -> Option<Alert> {
    let mut times: Vec<DateTime<Utc>> = successes.iter().copied().filter(|t| *t <= now).collect();
    times.sort_unstable();
    times.dedup();
    let last = *times.last()?;
    let mut intervals: Vec<TimeDelta> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let allowed = if intervals.len() >= 2 {
        intervals.sort_unstable();
        let median = intervals[intervals.len() / 2];
        let ms = median.num_milliseconds() as f64 * cfg.backup_tolerance;
        TimeDelta::try_milliseconds(ms as i64).unwrap_or(TimeDelta::MAX)
    } else {
        hours(cfg.backup_max_age_hours)
    };
    let age = now - last;
    if age <= allowed {
        return None;
    }
    let overdue_since = last.checked_add_signed(allowed).unwrap_or(now);
    let mut alert = synthetic(BACKUP_STALE_ALERT, labels, overdue_since);
    alert.annotations.insert(
        "summary".into(),
        format!(
            "no successful backup for {:.1} hours (usually within {:.1})",
            age.num_minutes() as f64 / 60.0,
            allowed.num_minutes() as f64 / 60.0
        ),
    );
    alert
        .annotations
        .insert("last_success".into(), last.to_rfc3339());
    Some(alert)
}

mod secs {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
}
