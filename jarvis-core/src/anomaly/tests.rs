use chrono::{Duration, NaiveDate, TimeZone};
use proptest::prelude::*;

use super::predict::*;
use super::*;
use crate::domain::{AlertId, Fingerprint, Incident, IncidentId, IncidentState, RouteKey};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 2, 0, 0, 0).unwrap()
}

fn check_at(i: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(300 * i)
}

fn detector() -> Detector {
    Detector::new(AnomalyConfig::default()).unwrap()
}

/// Feeds `mean ± sigma` alternately for `n` checks; returns the next check index.
fn warm_up(d: &mut Detector, series: &str, mean: f64, sigma: f64, n: i64) -> i64 {
    for i in 0..n {
        let v = if i % 2 == 0 {
            mean + sigma
        } else {
            mean - sigma
        };
        assert_eq!(
            d.observe(series, v, check_at(i)),
            None,
            "flagged warm-up {i}"
        );
    }
    n
}

#[test]
fn defaults_and_validation() {
    let cfg = AnomalyConfig::default();
    assert_eq!((cfg.z_threshold, cfg.sustained_checks), (3.0, 3));
    assert_eq!(cfg.check_interval_seconds, 300);
    assert!(!cfg.seasonality);
    assert!(cfg.validate().is_empty());
    let bad = AnomalyConfig {
        z_threshold: -1.0,
        sustained_checks: 0,
        baseline_weight: 0.0,
        ..AnomalyConfig::default()
    };
    let err = Detector::new(bad).unwrap_err();
    assert_eq!(err.0.len(), 3, "{err}");
    assert!(toml::from_str::<AnomalyConfig>("z_treshold = 2").is_err());
    assert!(toml::from_str::<PredictConfig>("").is_ok());
}

#[test]
fn a_sustained_step_is_flagged_on_the_third_check_and_stays_flagged() {
    let mut d = detector();
    let next = warm_up(&mut d, "cpu", 50.0, 2.0, 40);
    assert_eq!(d.observe("cpu", 70.0, check_at(next)), None);
    assert_eq!(d.observe("cpu", 70.0, check_at(next + 1)), None);
    let third = d
        .observe("cpu", 70.0, check_at(next + 2))
        .expect("third check");
    assert_eq!(third.checks, 3);
    assert_eq!(third.since, check_at(next));
    assert!((third.mean - 50.0).abs() < 1e-9);
    assert!((third.z_score - 10.0).abs() < 1e-6, "{}", third.z_score);
    let fourth = d
        .observe("cpu", 70.0, check_at(next + 3))
        .expect("fourth check");
    assert_eq!((fourth.checks, fourth.since), (4, third.since));
}

#[test]
fn a_normal_value_breaks_the_streak() {
    let mut d = detector();
    let next = warm_up(&mut d, "cpu", 50.0, 2.0, 40);
    assert_eq!(d.observe("cpu", 70.0, check_at(next)), None);
    assert_eq!(d.observe("cpu", 70.0, check_at(next + 1)), None);
    assert_eq!(d.observe("cpu", 51.0, check_at(next + 2)), None);
    assert_eq!(d.observe("cpu", 70.0, check_at(next + 3)), None);
    // So does a gap of more than two check intervals.
    assert_eq!(d.observe("cpu", 70.0, check_at(next + 4)), None);
    assert_eq!(d.observe("cpu", 70.0, check_at(next + 8)), None);
    assert!(d.observe("cpu", 70.0, check_at(next + 9)).is_none());
    assert!(d.observe("cpu", 70.0, check_at(next + 10)).is_some());
}

#[test]
fn nothing_is_flagged_before_min_samples_and_old_samples_are_ignored() {
    let mut d = detector();
    for i in 0..11 {
        let v = if i < 2 { 1.0 } else { 1_000.0 * i as f64 };
        assert_eq!(d.observe("x", v, check_at(i)), None);
    }
    assert_eq!(d.observe("x", f64::NAN, check_at(20)), None);
    assert_eq!(
        d.observe("x", 5.0, check_at(3)),
        None,
        "older than the last sample"
    );
    assert_eq!(d.len(), 1);
    assert!(d.forget("x"));
    assert!(d.is_empty());
}

#[test]
fn a_new_level_becomes_the_baseline() {
    let mut d = detector();
    let next = warm_up(&mut d, "mem", 100.0, 1.0, 40);
    let flagged = (0..12)
        .filter(|i| d.observe("mem", 200.0, check_at(next + i)).is_some())
        .count();
    assert_eq!(flagged, 10);
    // Re-learning: quiet from now on at the new level.
    for i in 12..40 {
        let v = if i % 2 == 0 { 201.0 } else { 199.0 };
        assert_eq!(d.observe("mem", v, check_at(next + i)), None, "check {i}");
    }
}

#[test]
fn seasonality_learns_each_hour_of_the_week() {
    let hourly = AnomalyConfig {
        seasonality: true,
        min_samples: 3,
        check_interval_seconds: 3600,
        ..AnomalyConfig::default()
    };
    let mut seasonal = Detector::new(hourly).unwrap();
    // Four weeks of hourly checks: busy (100 ± 1) from 09:00 to 17:59, quiet (10 ± 1) otherwise.
    let start = t0();
    for h in 0..(4 * 168) {
        let at = start + Duration::hours(h);
        let busy = (9..18).contains(&at.hour());
        let noise = if h % 2 == 0 { 1.0 } else { -1.0 };
        let v = if busy { 100.0 } else { 10.0 } + noise;
        let flagged = seasonal.observe("requests", v, at);
        assert!(
            h < 3 * 168 || flagged.is_none(),
            "week 4 is normal for each hour: {h}"
        );
    }
    // 100 from 03:00 to 05:00 is usual by day but not at night.
    let night = start + Duration::hours(4 * 168 + 3);
    let mut last = None;
    for h in 0..3 {
        let at = night + Duration::hours(h);
        last = seasonal.observe("requests", 100.0, at);
    }
    let anomaly = last.expect("three night checks at 100");
    assert!(anomaly.seasonal);
    assert_eq!(anomaly.checks, 3);
}

#[test]
fn synthetic_alert_carries_the_series_and_its_labels() {
    let mut d = detector();
    let series = r#"node_load1{instance="web1:9100",job="node",mode="x"}"#;
    let next = warm_up(&mut d, series, 1.0, 0.1, 20);
    let mut anomaly = None;
    for i in 0..3 {
        anomaly = d.observe(series, 5.0, check_at(next + i));
    }
    let anomaly = anomaly.unwrap();
    let alert = Detector::synthetic_alert(&anomaly);
    assert_eq!(alert.name(), "AnomalyDetected");
    assert!(alert.is_synthetic());
    assert_eq!(alert.label("jarvis_synthetic"), Some("anomaly"));
    assert_eq!(alert.label("series"), Some(series));
    assert_eq!(alert.label("metric"), Some("node_load1"));
    assert_eq!(alert.label("instance"), Some("web1:9100"));
    assert_eq!(alert.label("job"), Some("node"));
    assert_eq!(alert.label("mode"), None);
    assert_eq!(alert.label("direction"), Some("above"));
    assert_eq!(alert.starts_at, anomaly.since);
    assert_eq!(alert.instance_host(), Some("web1"));
    // The same streak gives the same alert identity on every check.
    let again = d.observe(series, 5.0, check_at(next + 3)).unwrap();
    let alert_again = Detector::synthetic_alert(&again);
    assert_eq!(alert_again.fingerprint, alert.fingerprint);
    assert_eq!(alert_again.starts_at, alert.starts_at);
    let record = anomaly.record(Some(alert.fingerprint.to_string()));
    assert_eq!(record.series, series);
    assert_eq!(
        Fingerprint::parse(record.alert_fingerprint.as_deref().unwrap()).unwrap(),
        alert.fingerprint
    );
}

fn linear(n: i64, step_secs: i64, start: f64, per_sec: f64) -> Vec<(DateTime<Utc>, f64)> {
    (0..n)
        .map(|i| {
            (
                t0() + Duration::seconds(i * step_secs),
                start + per_sec * (i * step_secs) as f64,
            )
        })
        .collect()
}

#[test]
fn exhaustion_of_a_filling_disk() {
    // 50 GB used, growing 1 GB an hour, of 100 GB: full 50 h after t0, 45 h after the last sample.
    let samples = linear(6, 3600, 50.0, 1.0 / 3600.0);
    match time_to_exhaustion(&samples, 100.0) {
        Exhaustion::At { at, after, .. } => {
            assert_eq!(after.as_secs(), 45 * 3600);
            assert_eq!(at, t0() + Duration::hours(50));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(time_to_exhaustion(&samples, 54.0), Exhaustion::Exhausted);
    assert_eq!(
        time_to_exhaustion(&samples[..1], 100.0),
        Exhaustion::Insufficient
    );
    assert_eq!(time_to_exhaustion(&[], 100.0), Exhaustion::Insufficient);

    let labels = Labels::from([("host".to_string(), "nas".to_string())]);
    let cfg = PredictConfig::default();
    let now = samples.last().unwrap().0;
    assert!(
        check_disk(&labels, &samples, 100.0, now, &cfg).is_none(),
        "45 h > 24 h"
    );
    let alert = check_disk(&labels, &samples, 70.0, now, &cfg).expect("15 h < 24 h");
    assert_eq!(alert.name(), DISK_FULL_ALERT);
    assert_eq!(alert.label("jarvis_synthetic"), Some("prediction"));
    assert_eq!(alert.label("host"), Some("nas"));
    assert!(alert.annotation("summary").unwrap().contains("15.0 hours"));
    assert!(
        check_disk(&labels, &samples[..3], 70.0, now, &cfg).is_none(),
        "too few samples"
    );
}

#[test]
fn certificate_restart_and_backup_checks() {
    let cfg = PredictConfig::default();
    let labels = Labels::from([("host".to_string(), "proxy".to_string())]);
    let now = t0();

    assert!(check_certificate(&labels, now + Duration::days(20), now, &cfg).is_none());
    let cert = check_certificate(&labels, now + Duration::days(10), now, &cfg).unwrap();
    assert_eq!(cert.name(), CERTIFICATE_ALERT);
    assert_eq!(cert.starts_at, now - Duration::days(4));
    assert!(check_certificate(&labels, now - Duration::days(1), now, &cfg).is_some());

    let restarts: Vec<_> = (0..5).map(|i| now - Duration::minutes(2 * i)).collect();
    let loop_alert = check_restarts(&labels, &restarts, now, &cfg).unwrap();
    assert_eq!(loop_alert.name(), RESTART_LOOP_ALERT);
    assert_eq!(loop_alert.starts_at, now);
    assert!(check_restarts(&labels, &restarts[..4], now, &cfg).is_none());
    let spread: Vec<_> = (0..5).map(|i| now - Duration::minutes(10 * i)).collect();
    assert!(check_restarts(&labels, &spread, now, &cfg).is_none());

    // Nightly backups; the last one 30 h ago is overdue (1.5 × 24 h = 36 h not yet).
    let nightly: Vec<_> = (0..5).map(|i| now - Duration::hours(30 + 24 * i)).collect();
    assert!(check_backup(&labels, &nightly, now, &cfg).is_none());
    let later = now + Duration::hours(7);
    let stale = check_backup(&labels, &nightly, later, &cfg).unwrap();
    assert_eq!(stale.name(), BACKUP_STALE_ALERT);
    assert_eq!(
        stale.starts_at,
        now - Duration::hours(30) + Duration::hours(36)
    );
    assert!(check_backup(&labels, &[], now, &cfg).is_none());
    // Without history: the fixed maximum age.
    assert!(check_backup(&labels, &[now - Duration::hours(27)], now, &cfg).is_some());
}

fn incident(
    name: &str,
    state: IncidentState,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
) -> Incident {
    Incident {
        id: IncidentId::new(),
        key: RouteKey::new(name, "h"),
        alert_id: AlertId::new(),
        fingerprint: Fingerprint::parse("abc").unwrap(),
        alert_name: name.to_string(),
        labels: Labels::new(),
        state,
        reason: String::new(),
        root: None,
        attempts: 1,
        created_at: created,
        updated_at: updated,
        lease_owner: None,
        lease_until: None,
    }
}

#[test]
fn daily_report_counts_one_day() {
    let day = NaiveDate::from_ymd_opt(2025, 6, 2).unwrap();
    let noon = t0() + Duration::hours(12);
    let record = |series: &str, z: f64, at: DateTime<Utc>, alert: bool| AnomalyRecord {
        series: series.to_string(),
        value: 1.0,
        mean: 0.0,
        z_score: z,
        at,
        alert_fingerprint: alert.then(|| "abc".to_string()),
    };
    let anomalies = [
        record("cpu", 4.0, noon, true),
        record("cpu", -6.0, noon, false),
        record("disk", 9.0, noon, false),
        record("cpu", 50.0, noon + Duration::days(1), true),
    ];
    let incidents = [
        incident("ContainerDown", IncidentState::Resolved, noon, noon),
        incident("ContainerDown", IncidentState::Escalated, noon, noon),
        incident("DiskSpaceLow", IncidentState::Planning, noon, noon),
        incident(
            "BackupStale",
            IncidentState::Resolved,
            noon - Duration::days(1),
            noon,
        ),
        incident(
            "Old",
            IncidentState::Resolved,
            noon - Duration::days(3),
            noon - Duration::days(2),
        ),
    ];
    let report = DailyReport::build(day, &anomalies, &incidents);
    assert_eq!((report.anomalies, report.anomaly_alerts), (3, 1));
    assert_eq!(report.series[0].series, "cpu");
    assert_eq!(report.series[0].anomalies, 2);
    assert_eq!(report.series[0].max_abs_z, 6.0);
    assert_eq!(report.incidents_opened, 3);
    assert_eq!((report.resolved, report.escalated, report.open), (2, 1, 1));
    assert_eq!(
        report.by_alert["ContainerDown"],
        AlertSummary {
            opened: 2,
            resolved: 1,
            escalated: 1
        }
    );
    assert_eq!(report.by_alert["BackupStale"].resolved, 1);
    assert!(!report.by_alert.contains_key("Old"));
    let text = report.render(5);
    assert!(text.contains("2025-06-02"));
    assert!(
        text.contains("3 opened, 2 resolved, 1 escalated, 1 still open"),
        "{text}"
    );
    assert!(serde_json::to_value(&report).is_ok());
}

use chrono::Timelike;

proptest! {
    #[test]
    fn a_constant_series_is_never_flagged(
        value in -1e12f64..1e12,
        n in 1usize..200,
        seasonality in any::<bool>(),
    ) {
        let cfg = AnomalyConfig { seasonality, min_samples: 3, ..AnomalyConfig::default() };
        let mut d = Detector::new(cfg).unwrap();
        for i in 0..n as i64 {
            prop_assert!(d.observe("s", value, check_at(i)).is_none());
        }
    }

    #[test]
    fn a_sustained_step_is_flagged_exactly_from_the_third_check(
        mean in -1e6f64..1e6,
        sigma in 1e-3f64..1e3,
        extra in 0.05f64..20.0,
        up in any::<bool>(),
        warm in 12i64..200,
        threshold in 1.5f64..6.0,
    ) {
        let cfg = AnomalyConfig { z_threshold: threshold, ..AnomalyConfig::default() };
        let mut d = Detector::new(cfg).unwrap();
        // Even warm-up: the baseline's deviation is exactly sigma.
        let warm = warm + warm % 2;
        let next = warm_up(&mut d, "s", mean, sigma, warm);
        // k·σ with k > threshold (the EWMA baseline of ±σ noise has deviation ≤ σ).
        let k = threshold * (1.0 + extra / 10.0) + extra;
        let stepped = if up { mean + k * sigma } else { mean - k * sigma };
        prop_assert!(d.observe("s", stepped, check_at(next)).is_none());
        prop_assert!(d.observe("s", stepped, check_at(next + 1)).is_none());
        let third = d.observe("s", stepped, check_at(next + 2));
        prop_assert!(third.is_some(), "k = {} not flagged", k);
        let third = third.unwrap();
        prop_assert_eq!(third.checks, 3);
        prop_assert_eq!(third.z_score > 0.0, up);
    }

    #[test]
    fn linear_fit_recovers_the_slope_of_exact_linear_data(
        start in -1e6f64..1e6,
        per_hour in -1e3f64..1e3,
        n in 2i64..200,
        step in 1i64..86_400,
    ) {
        let per_sec = per_hour / 3600.0;
        let samples = linear(n, step, start, per_sec);
        let fit = linear_fit(&samples).unwrap();
        let tolerance = 1e-9 * (per_sec.abs() + (start.abs() + 1.0) / (n * step) as f64);
        prop_assert!((fit.slope_per_second - per_sec).abs() <= tolerance,
            "{} vs {}", fit.slope_per_second, per_sec);
        // Shuffled input gives the same line.
        let mut reversed = samples.clone();
        reversed.reverse();
        let again = linear_fit(&reversed).unwrap();
        prop_assert!((again.slope_per_second - fit.slope_per_second).abs() <= tolerance);
    }

    #[test]
    fn flat_or_improving_series_never_fill(
        start in 0.0f64..1e6,
        per_hour in -1e3f64..=0.0,
        n in 2i64..200,
        step in 1i64..86_400,
    ) {
        let samples = linear(n, step, start, per_hour / 3600.0);
        let capacity = start + 1.0;
        prop_assert_eq!(time_to_exhaustion(&samples, capacity), Exhaustion::Never);
    }

    #[test]
    fn growing_series_fill_when_the_line_says(
        start in 0.0f64..1e3,
        per_hour in 0.01f64..1e3,
        n in 2i64..100,
        headroom in 1.0f64..1e4,
    ) {
        let per_sec = per_hour / 3600.0;
        let samples = linear(n, 600, start, per_sec);
        let last = samples.last().unwrap();
        let capacity = last.1 + headroom;
        match time_to_exhaustion(&samples, capacity) {
            Exhaustion::At { after, .. } => {
                let expected = headroom / per_sec;
                prop_assert!((after.as_secs_f64() - expected).abs() <= expected * 1e-6 + 1e-3,
                    "{} vs {}", after.as_secs_f64(), expected);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }
}
