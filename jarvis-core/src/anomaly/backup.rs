//! Backup freshness: checked and reported by the proactive loop, raised as a
//! synthetic alert only when no real Prometheus rule covers the system.
//!
//! When Prometheus has an alerting rule named `BackupStale` whose scope
//! includes a system, that rule's alert is the one Jarvis remediates; a
//! synthetic `BackupStalePredicted` for the same system would remediate the
//! same backup twice. The caller reads the rules from `/api/v1/rules` and the
//! backup times from Prometheus; everything here is a pure function of them.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::predict::{PredictConfig, check_backup};
use crate::domain::{Alert, Labels};

/// The name of the real Prometheus rule that covers stale backups.
pub const BACKUP_STALE_RULE: &str = "BackupStale";

/// The label that names the backed-up system, on rules, series and alerts.
pub const SYSTEM_LABEL: &str = "system";

/// An alerting rule as Prometheus reports it (only what coverage needs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertRule {
    pub name: String,
    /// The PromQL expression.
    pub query: String,
    /// Labels the rule adds to its alerts.
    pub labels: Labels,
}

/// Which systems a rule's alerts can be about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleScope {
    /// Every system (no `system` label and no equality matcher on it).
    All,
    /// Only these systems.
    Only(BTreeSet<String>),
}

impl RuleScope {
    pub fn covers(&self, system: &str) -> bool {
        match self {
            RuleScope::All => true,
            RuleScope::Only(systems) => systems.contains(system),
        }
    }
}

/// The scope of one rule: its static `system` label if it sets one, else the
/// `system="…"` equality matchers of its query, else every system. A regex or
/// negative matcher (`system=~`, `system!=`) is taken as covering every
/// system: when in doubt Jarvis leaves the backup to the real rule rather than
/// risk remediating it twice.
pub fn rule_scope(rule: &AlertRule) -> RuleScope {
    if let Some(system) = rule.labels.get(SYSTEM_LABEL) {
        return RuleScope::Only(BTreeSet::from([system.clone()]));
    }
    let mut systems = BTreeSet::new();
    let query = rule.query.as_str();
    let mut rest = query;
    while let Some(pos) = rest.find(SYSTEM_LABEL) {
        let before = rest[..pos].chars().next_back();
        let after = rest[pos + SYSTEM_LABEL.len()..].trim_start();
        rest = &rest[pos + SYSTEM_LABEL.len()..];
        // Only a whole label name inside a selector: `{system=…` or `,system=…`.
        let whole = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if !whole {
            continue;
        }
        if after.starts_with("=~") || after.starts_with("!=") || after.starts_with("!~") {
            return RuleScope::All;
        }
        let Some(value) = after.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let Some(quote) = value
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\'' | '`'))
        else {
            continue;
        };
        if let Some(end) = value[1..].find(quote) {
            systems.insert(value[1..=end].to_string());
        }
    }
    if systems.is_empty() {
        RuleScope::All
    } else {
        RuleScope::Only(systems)
    }
}

/// Whether a real `BackupStale` rule covers `system`.
pub fn covered_by_rule(rules: &[AlertRule], system: &str) -> bool {
    rules
        .iter()
        .filter(|r| r.name == BACKUP_STALE_RULE)
        .any(|r| rule_scope(r).covers(system))
}

/// What the proactive loop found for one system's backups.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BackupFreshness {
    pub system: String,
    /// The newest successful backup, if any is known.
    pub last_success: Option<DateTime<Utc>>,
    /// Overdue by the learned interval (or the maximum age).
    pub stale: bool,
    /// A real `BackupStale` rule covers the system, so no synthetic alert is raised.
    pub covered_by_rule: bool,
    pub checked_at: DateTime<Utc>,
}

impl BackupFreshness {
    /// One line for the daily report.
    pub fn describe(&self) -> String {
        let age = |at: DateTime<Utc>| {
            let h = (self.checked_at - at).num_minutes().max(0) as f64 / 60.0;
            format!("last success {h:.1} h ago")
        };
        let last = self
            .last_success
            .map_or("no success recorded".to_string(), age);
        match (self.stale, self.covered_by_rule) {
            (false, _) => format!("{}: fresh, {last}", self.system),
            (true, false) => format!("{}: STALE, {last}", self.system),
            (true, true) => format!(
                "{}: STALE, {last} (left to the {BACKUP_STALE_RULE} rule)",
                self.system
            ),
        }
    }
}

/// Assesses one system: its freshness for the report and, when it is stale and
/// no real `BackupStale` rule covers it, the synthetic alert to raise.
/// `labels` are copied onto the alert; `system` is added to them.
pub fn assess_backup(
    system: &str,
    labels: &Labels,
    successes: &[DateTime<Utc>],
    rules: &[AlertRule],
    now: DateTime<Utc>,
    cfg: &PredictConfig,
) -> (BackupFreshness, Option<Alert>) {
    let mut labels = labels.clone();
    labels.insert(SYSTEM_LABEL.to_string(), system.to_string());
    let alert = check_backup(&labels, successes, now, cfg);
    let covered = covered_by_rule(rules, system);
    let freshness = BackupFreshness {
        system: system.to_string(),
        last_success: successes.iter().copied().filter(|t| *t <= now).max(),
        stale: alert.is_some(),
        covered_by_rule: covered,
        checked_at: now,
    };
    (freshness, alert.filter(|_| !covered))
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::anomaly::predict::BACKUP_STALE_ALERT;

    fn rule(name: &str, query: &str, labels: &[(&str, &str)]) -> AlertRule {
        AlertRule {
            name: name.into(),
            query: query.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn only(systems: &[&str]) -> RuleScope {
        RuleScope::Only(systems.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn scope_of_a_rule() {
        let q = "time() - backup_last_success_timestamp_seconds > 86400";
        assert_eq!(rule_scope(&rule("BackupStale", q, &[])), RuleScope::All);
        assert_eq!(
            rule_scope(&rule("BackupStale", q, &[("system", "nas")])),
            only(&["nas"])
        );
        assert_eq!(
            rule_scope(&rule(
                "BackupStale",
                r#"time() - backup_last_success_timestamp_seconds{system="nas"} > 86400
                   or time() - backup_last_success_timestamp_seconds{job="b", system = 'db'} > 3600"#,
                &[]
            )),
            only(&["db", "nas"])
        );
        for q in [
            r#"backup_age{system=~"nas|db"} > 1"#,
            r#"backup_age{system!="nas"} > 1"#,
        ] {
            assert_eq!(rule_scope(&rule("BackupStale", q, &[])), RuleScope::All);
        }
        // `subsystem` is another label.
        assert_eq!(
            rule_scope(&rule("BackupStale", r#"x{subsystem="nas"} > 1"#, &[])),
            RuleScope::All
        );
    }

    #[test]
    fn only_rules_named_backup_stale_cover() {
        let rules = vec![
            rule("BackupStale", r#"age{system="nas"} > 1"#, &[]),
            rule("DiskFull", "x > 1", &[]),
        ];
        assert!(covered_by_rule(&rules, "nas"));
        assert!(!covered_by_rule(&rules, "db"));
        assert!(!covered_by_rule(&rules[1..], "nas"));
        assert!(!covered_by_rule(&[], "nas"));
    }

    #[test]
    fn a_stale_backup_raises_an_alert_only_without_a_covering_rule() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let cfg = PredictConfig::default();
        let stale = [now - Duration::hours(40)];
        let fresh = [now - Duration::hours(2)];
        let labels = Labels::new();
        let rules = vec![rule("BackupStale", "age > 1", &[("system", "nas")])];

        let (f, alert) = assess_backup("db", &labels, &stale, &rules, now, &cfg);
        let alert = alert.expect("no rule covers db");
        assert_eq!(alert.name(), BACKUP_STALE_ALERT);
        assert_eq!(alert.label(SYSTEM_LABEL), Some("db"));
        assert!(f.stale && !f.covered_by_rule);

        let (f, alert) = assess_backup("nas", &labels, &stale, &rules, now, &cfg);
        assert!(alert.is_none(), "the real BackupStale rule covers nas");
        assert!(f.stale && f.covered_by_rule, "freshness is still reported");
        assert!(f.describe().contains("STALE"), "{}", f.describe());
        assert!(f.describe().contains("BackupStale rule"));

        let (f, alert) = assess_backup("db", &labels, &fresh, &[], now, &cfg);
        assert!(alert.is_none());
        assert!(!f.stale);
        assert_eq!(f.last_success, Some(fresh[0]));
        assert_eq!(f.describe(), "db: fresh, last success 2.0 h ago");
    }
}
