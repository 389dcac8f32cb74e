//! The daily report: what Jarvis detected and fixed over one day.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::{AnomalyRecord, Incident, IncidentState};

/// How often one series was anomalous.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeriesSummary {
    pub series: String,
    pub anomalies: usize,
    /// The largest |z| seen.
    pub max_abs_z: f64,
}

/// Incidents of one alert name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AlertSummary {
    pub opened: usize,
    pub resolved: usize,
    pub escalated: usize,
}

/// One day, UTC, midnight to midnight.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DailyReport {
    pub day: NaiveDate,
    /// Anomaly records in the day.
    pub anomalies: usize,
    /// Those that became a synthetic alert.
    pub anomaly_alerts: usize,
    /// Per series, most anomalous first.
    pub series: Vec<SeriesSummary>,
    /// Incidents opened in the day.
    pub incidents_opened: usize,
    /// Incidents that reached `resolved` in the day (last update in the day).
    pub resolved: usize,
    /// Incidents handed to a person in the day.
    pub escalated: usize,
    /// Incidents opened in the day still not in a terminal state.
    pub open: usize,
    /// Per alert name.
    pub by_alert: BTreeMap<String, AlertSummary>,
}

impl DailyReport {
    /// Builds the report for `day` from anomaly records and incidents; records and
    /// incidents outside the day are ignored, so callers may pass a wider range.
    pub fn build(day: NaiveDate, anomalies: &[AnomalyRecord], incidents: &[Incident]) -> Self {
        let start = day.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
        let end = day
            .succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc());
        let within =
            |at: DateTime<Utc>| start.is_none_or(|s| at >= s) && end.is_none_or(|e| at < e);

        let mut series: BTreeMap<&str, SeriesSummary> = BTreeMap::new();
        let mut report = DailyReport {
            day,
            anomalies: 0,
            anomaly_alerts: 0,
            series: Vec::new(),
            incidents_opened: 0,
            resolved: 0,
            escalated: 0,
            open: 0,
            by_alert: BTreeMap::new(),
        };
        for record in anomalies.iter().filter(|r| within(r.at)) {
            report.anomalies += 1;
            if record.alert_fingerprint.is_some() {
                report.anomaly_alerts += 1;
            }
            let entry = series
                .entry(record.series.as_str())
                .or_insert_with(|| SeriesSummary {
                    series: record.series.clone(),
                    anomalies: 0,
                    max_abs_z: 0.0,
                });
            entry.anomalies += 1;
            if record.z_score.is_finite() {
                entry.max_abs_z = entry.max_abs_z.max(record.z_score.abs());
            }
        }
        report.series = series.into_values().collect();
        report.series.sort_by(|a, b| {
            b.anomalies
                .cmp(&a.anomalies)
                .then(b.max_abs_z.total_cmp(&a.max_abs_z))
                .then_with(|| a.series.cmp(&b.series))
        });

        for incident in incidents {
            let opened = within(incident.created_at);
            let closed_today = within(incident.updated_at);
            let resolved = closed_today && incident.state == IncidentState::Resolved;
            let escalated = closed_today && incident.state == IncidentState::Escalated;
            if !(opened || resolved || escalated) {
                continue;
            }
            let entry = report
                .by_alert
                .entry(incident.alert_name.clone())
                .or_default();
            if opened {
                report.incidents_opened += 1;
                entry.opened += 1;
                if !incident.state.is_terminal() {
                    report.open += 1;
                }
            }
            if resolved {
                report.resolved += 1;
                entry.resolved += 1;
            }
            if escalated {
                report.escalated += 1;
                entry.escalated += 1;
            }
        }
        report
    }

    /// A plain-text rendering for notifications; `top` limits the series listed.
    pub fn render(&self, top: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Jarvis daily report for {}", self.day);
        let _ = writeln!(
            out,
            "Incidents: {} opened, {} resolved, {} escalated, {} still open",
            self.incidents_opened, self.resolved, self.escalated, self.open
        );
        for (name, s) in &self.by_alert {
            let _ = writeln!(
                out,
                "  {name}: {} opened, {} resolved, {} escalated",
                s.opened, s.resolved, s.escalated
            );
        }
        let _ = writeln!(
            out,
            "Anomalies: {} detected, {} raised as alerts",
            self.anomalies, self.anomaly_alerts
        );
        for s in self.series.iter().take(top) {
            let _ = writeln!(
                out,
                "  {}: {} (max |z| {:.1})",
                s.series, s.anomalies, s.max_abs_z
            );
        }
        out
    }
}
