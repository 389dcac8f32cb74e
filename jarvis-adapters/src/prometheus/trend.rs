//! Trend helpers: when will a series reach a limit (disk full, memory exhausted)?
//!
//! [`PrometheusClient::time_to_exhaustion`] fits a least-squares line per series
//! over a range query; [`predict_linear_query`] and [`deriv_query`] build the
//! equivalent PromQL for rules and one-off checks.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::client::{PrometheusClient, RangeSeries};
use super::error::PrometheusError;

/// A fitted line `value = slope * t + intercept` (t in unix seconds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearFit {
    pub slope: f64,
    pub intercept: f64,
}

impl LinearFit {
    pub fn at(&self, t: f64) -> f64 {
        self.slope * t + self.intercept
    }
}

/// Least-squares fit over finite points; `None` with fewer than two distinct times.
pub fn fit_line(points: &[(f64, f64)]) -> Option<LinearFit> {
    let pts: Vec<_> = points
        .iter()
        .copied()
        .filter(|(t, v)| t.is_finite() && v.is_finite())
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let n = pts.len() as f64;
    // Centre times for numerical stability with epoch-sized values.
    let t0 = pts[0].0;
    let mean_t = pts.iter().map(|(t, _)| t - t0).sum::<f64>() / n;
    let mean_v = pts.iter().map(|(_, v)| v).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (t, v) in &pts {
        let dt = t - t0 - mean_t;
        sxy += dt * (v - mean_v);
        sxx += dt * dt;
    }
    if sxx == 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = mean_v - slope * (mean_t + t0);
    Some(LinearFit { slope, intercept })
}

/// How long after `now` the fitted trend of `points` reaches `limit`, approached
/// from the side the series started on (free bytes falling to 0, usage rising to a
/// capacity): `Some(ZERO)` when already there or past, `None` when it never gets there.
pub fn time_to_reach(points: &[(f64, f64)], limit: f64, now: f64) -> Option<Duration> {
    let mut finite = points
        .iter()
        .filter(|(t, v)| t.is_finite() && v.is_finite());
    let first = finite.next()?.1;
    let last = finite.next_back().map_or(first, |p| p.1);
    let falling = first > limit;
    if first == limit || (falling && last <= limit) || (!falling && last >= limit) {
        return Some(Duration::ZERO);
    }
    let fit = fit_line(points)?;
    if (falling && fit.slope >= 0.0) || (!falling && fit.slope <= 0.0) {
        return None;
    }
    let secs = (limit - fit.at(now)) / fit.slope;
    secs.is_finite()
        .then(|| Duration::from_secs_f64(secs.max(0.0)))
}

/// `predict_linear(<expr>[<window>], <horizon seconds>)`.
pub fn predict_linear_query(expr: &str, window: Duration, horizon: Duration) -> String {
    format!(
        "predict_linear(({expr})[{}s:], {})",
        window.as_secs().max(1),
        horizon.as_secs()
    )
}

/// `deriv(<expr>[<window>])`: per-second slope.
pub fn deriv_query(expr: &str, window: Duration) -> String {
    format!("deriv(({expr})[{}s:])", window.as_secs().max(1))
}

impl PrometheusClient {
    /// The shortest time until any series of `query` reaches `limit`, from a
    /// least-squares fit over the last `window` sampled every `step`.
    /// `None` when no series trends toward the limit.
    pub async fn time_to_exhaustion(
        &self,
        query: &str,
        limit: f64,
        window: Duration,
        step: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<(Duration, RangeSeries)>, PrometheusError> {
        let start = now - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::hours(1));
        let series = self.query_range(query, start, now, step).await?;
        let now_s = now.timestamp_millis() as f64 / 1000.0;
        Ok(series
            .into_iter()
            .filter_map(|s| time_to_reach(&s.points, limit, now_s).map(|d| (d, s)))
            .min_by_key(|(d, _)| *d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_a_line_at_epoch_scale() {
        let t0 = 1_795_413_386.0;
        let pts: Vec<_> = (0..10)
            .map(|i| (t0 + i as f64 * 10.0, 100.0 - 2.0 * i as f64))
            .collect();
        let fit = fit_line(&pts).unwrap();
        assert!((fit.slope + 0.2).abs() < 1e-9, "{fit:?}");
        assert!((fit.at(t0) - 100.0).abs() < 1e-6);
    }

    #[test]
    fn time_to_reach_falls_rises_and_never() {
        let t0 = 1_000_000.0;
        // 100 → 82 over 90 s: 0.2/s; reaches 0 about 410 s after the last point.
        let falling: Vec<_> = (0..10)
            .map(|i| (t0 + i as f64 * 10.0, 100.0 - 2.0 * i as f64))
            .collect();
        let d = time_to_reach(&falling, 0.0, t0 + 90.0).unwrap();
        assert!((d.as_secs_f64() - 410.0).abs() < 1e-6, "{d:?}");
        let rising: Vec<_> = (0..10).map(|i| (t0 + i as f64, i as f64)).collect();
        assert_eq!(time_to_reach(&rising, -1.0, t0 + 9.0), None);
        assert!(time_to_reach(&rising, 19.0, t0 + 9.0).is_some());
        assert_eq!(time_to_reach(&[(t0, 5.0)], 0.0, t0), None);
        assert_eq!(
            time_to_reach(&falling, 90.0, t0 + 90.0),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn promql_builders() {
        assert_eq!(
            predict_linear_query(
                "node_filesystem_avail_bytes",
                Duration::from_secs(3600),
                Duration::from_secs(14400)
            ),
            "predict_linear((node_filesystem_avail_bytes)[3600s:], 14400)"
        );
        assert_eq!(
            deriv_query("x", Duration::from_secs(60)),
            "deriv((x)[60s:])"
        );
    }
}
