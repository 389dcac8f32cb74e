//! The scheduled daily report: what happened in the last 24 hours, and whether
//! anything did.
//!
//! Fixes of alerts Jarvis raised itself (anomalies, predictions) do not get a
//! message each; they are listed here. The report is sent only when
//! [`Digest::has_news`]: a quiet day sends nothing.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::backup::BackupFreshness;
use crate::domain::{AnomalyRecord, Incident, IncidentState, Notice, NoticeKind, SYNTHETIC_LABEL};

/// Lines listed per section before "… and N more".
const MAX_LINES: usize = 15;

/// The daily report's content for the window `[from, to)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Digest {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Incidents opened in the window (real and synthetic).
    pub incidents_opened: usize,
    /// Incidents that reached `resolved` / `escalated` / `unverified` in the window.
    pub resolved: usize,
    pub escalated: usize,
    pub unverified: usize,
    /// Synthetic incidents (anomalies, predictions) fixed in the window: one line each.
    pub proactive_fixes: Vec<String>,
    /// Prediction incidents opened in the window: one line each.
    pub predictions: Vec<String>,
    /// Anomaly records in the window.
    pub anomalies: usize,
    /// The latest backup freshness per system.
    pub backups: Vec<BackupFreshness>,
}

fn synthetic_kind(incident: &Incident) -> Option<&str> {
    incident.labels.get(SYNTHETIC_LABEL).map(String::as_str)
}

fn line(incident: &Incident) -> String {
    let target = &incident.key.target;
    if target.is_empty() {
        incident.alert_name.clone()
    } else {
        format!("{} ({target})", incident.alert_name)
    }
}

impl Digest {
    /// Builds the digest; records and incidents outside the window are ignored,
    /// so callers may pass a wider range.
    pub fn build(
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        incidents: &[Incident],
        anomalies: &[AnomalyRecord],
        backups: &[BackupFreshness],
    ) -> Digest {
        let within = |at: DateTime<Utc>| from <= at && at < to;
        let mut d = Digest {
            from,
            to,
            incidents_opened: 0,
            resolved: 0,
            escalated: 0,
            unverified: 0,
            proactive_fixes: Vec::new(),
            predictions: Vec::new(),
            anomalies: anomalies.iter().filter(|a| within(a.at)).count(),
            backups: backups.to_vec(),
        };
        let mut incidents: Vec<&Incident> = incidents.iter().collect();
        incidents.sort_by_key(|i| (i.created_at, i.id));
        for i in incidents {
            let synthetic = synthetic_kind(i);
            if within(i.created_at) {
                d.incidents_opened += 1;
                if synthetic == Some("prediction") {
                    d.predictions.push(line(i));
                }
            }
            if !within(i.updated_at) {
                continue;
            }
            match i.state {
                IncidentState::Resolved => d.resolved += 1,
                IncidentState::Escalated => d.escalated += 1,
                IncidentState::Unverified => d.unverified += 1,
                _ => {}
            }
            if synthetic.is_some()
                && matches!(i.state, IncidentState::Resolved | IncidentState::Unverified)
            {
                let how = if i.state == IncidentState::Resolved {
                    "fixed, verified"
                } else {
                    "fix ran, unverified"
                };
                d.proactive_fixes.push(format!("{}: {how}", line(i)));
            }
        }
        d
    }

    /// Whether anything happened worth a message: an incident, a proactive fix,
    /// a prediction, an anomaly or a stale backup. Fresh backups alone are not news.
    pub fn has_news(&self) -> bool {
        self.incidents_opened > 0
            || self.resolved + self.escalated + self.unverified > 0
            || !self.proactive_fixes.is_empty()
            || !self.predictions.is_empty()
            || self.anomalies > 0
            || self.backups.iter().any(|b| b.stale)
    }

    /// The report as a notice.
    pub fn notice(&self, now: DateTime<Utc>) -> Notice {
        let hours = (self.to - self.from).num_hours();
        let mut notice = Notice::new(NoticeKind::DailyReport, "Jarvis daily report", now).body(
            format!(
                "Last {hours} hours: {} incident(s) opened; {} resolved, {} unverified, {} escalated; \
                 {} proactive fix(es), {} prediction(s), {} anomaly(ies).",
                self.incidents_opened,
                self.resolved,
                self.unverified,
                self.escalated,
                self.proactive_fixes.len(),
                self.predictions.len(),
                self.anomalies
            ),
        );
        if !self.proactive_fixes.is_empty() {
            notice = notice.field("Proactive fixes", lines(&self.proactive_fixes));
        }
        if !self.predictions.is_empty() {
            notice = notice.field("Predictive warnings", lines(&self.predictions));
        }
        if !self.backups.is_empty() {
            let backups: Vec<String> = self.backups.iter().map(|b| b.describe()).collect();
            notice = notice.field("Backups", lines(&backups));
        }
        notice
    }
}

fn lines(items: &[String]) -> String {
    let mut out: Vec<String> = items.iter().take(MAX_LINES).cloned().collect();
    if items.len() > MAX_LINES {
        out.push(format!("… and {} more", items.len() - MAX_LINES));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::domain::{AlertId, Fingerprint, IncidentId, Labels, RouteKey};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap()
    }

    fn incident(name: &str, synthetic: Option<&str>, state: IncidentState, age_h: i64) -> Incident {
        let mut labels = Labels::new();
        labels.insert("alertname".into(), name.into());
        if let Some(kind) = synthetic {
            labels.insert(SYNTHETIC_LABEL.into(), kind.into());
        }
        let at = now() - Duration::hours(age_h);
        Incident {
            id: IncidentId::new(),
            key: RouteKey {
                alert_name: name.into(),
                target: "nas".into(),
            },
            alert_id: AlertId::new(),
            fingerprint: Fingerprint::parse("0123456789abcdef").unwrap(),
            alert_name: name.into(),
            labels,
            state,
            reason: String::new(),
            root: None,
            attempts: 0,
            created_at: at,
            updated_at: at,
            lease_owner: None,
            lease_until: None,
        }
    }

    fn anomaly(age_h: i64) -> AnomalyRecord {
        AnomalyRecord {
            series: "cpu".into(),
            value: 1.0,
            mean: 0.0,
            z_score: 4.0,
            at: now() - Duration::hours(age_h),
            alert_fingerprint: None,
        }
    }

    fn backup(stale: bool) -> BackupFreshness {
        BackupFreshness {
            system: "nas".into(),
            last_success: Some(now() - Duration::hours(3)),
            stale,
            covered_by_rule: false,
            checked_at: now(),
        }
    }

    fn digest(
        incidents: &[Incident],
        anomalies: &[AnomalyRecord],
        b: &[BackupFreshness],
    ) -> Digest {
        Digest::build(now() - Duration::hours(24), now(), incidents, anomalies, b)
    }

    #[test]
    fn a_quiet_day_has_no_news() {
        let old = [
            incident("ServiceDown", None, IncidentState::Resolved, 30),
            incident(
                "AnomalyDetected",
                Some("anomaly"),
                IncidentState::Resolved,
                25,
            ),
        ];
        let d = digest(&old, &[anomaly(26)], &[backup(false)]);
        assert!(!d.has_news(), "{d:?}");
        assert_eq!(d.backups.len(), 1, "fresh backups are still reported");
    }

    #[test]
    fn each_kind_of_event_is_news() {
        let cases: Vec<(&str, Digest)> = vec![
            (
                "incident",
                digest(
                    &[incident("ServiceDown", None, IncidentState::Escalated, 2)],
                    &[],
                    &[],
                ),
            ),
            (
                "proactive fix",
                digest(
                    &[incident(
                        "AnomalyDetected",
                        Some("anomaly"),
                        IncidentState::Resolved,
                        3,
                    )],
                    &[],
                    &[],
                ),
            ),
            ("anomaly", digest(&[], &[anomaly(5)], &[])),
            ("stale backup", digest(&[], &[], &[backup(true)])),
        ];
        for (what, d) in cases {
            assert!(d.has_news(), "{what}: {d:?}");
        }
    }

    #[test]
    fn proactive_fixes_and_predictions_are_listed_in_the_notice() {
        let incidents = [
            incident(
                "AnomalyDetected",
                Some("anomaly"),
                IncidentState::Resolved,
                3,
            ),
            incident(
                "PredictiveDiskFull",
                Some("prediction"),
                IncidentState::Unverified,
                4,
            ),
            incident("ServiceDown", None, IncidentState::Resolved, 5),
        ];
        let d = digest(&incidents, &[anomaly(1)], &[backup(true)]);
        assert_eq!(d.proactive_fixes.len(), 2, "real alerts are not proactive");
        assert_eq!(d.predictions, vec!["PredictiveDiskFull (nas)"]);
        let n = d.notice(now());
        assert_eq!(n.kind, NoticeKind::DailyReport);
        let field = |name: &str| {
            n.fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {name} field in {n:?}"))
        };
        assert_eq!(
            field("Proactive fixes"),
            "PredictiveDiskFull (nas): fix ran, unverified\nAnomalyDetected (nas): fixed, verified"
        );
        assert!(field("Backups").contains("nas: STALE"));
        assert!(n.body.contains("3 incident(s) opened"), "{}", n.body);
    }

    #[test]
    fn long_lists_are_cut() {
        let incidents: Vec<Incident> = (0..20)
            .map(|_| {
                incident(
                    "AnomalyDetected",
                    Some("anomaly"),
                    IncidentState::Resolved,
                    1,
                )
            })
            .collect();
        let n = digest(&incidents, &[], &[]).notice(now());
        let fixes = &n.fields[0].1;
        assert_eq!(fixes.lines().count(), MAX_LINES + 1);
        assert!(fixes.ends_with("… and 5 more"));
    }
}
