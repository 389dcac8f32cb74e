//! Hints and routing: where an alert should be fixed and which commands are candidates.
//!
//! Label and annotation values are untrusted. A hint is only a candidate; it
//! still passes the safety validator like any other proposal.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{Alert, RouteKey};

/// Labels and annotations Jarvis reads hints from.
pub const HINT_HOST: &str = "remediation_host";
pub const HINT_COMMANDS: &str = "remediation_commands";
pub const HINT_TEXT: &str = "remediation_hint";

/// A routing table entry: alerts named `alert` are routed by the value of `by_label`.
///
/// Example: `BackupStale` routes by `system`, because its `instance` label names
/// the exporter, not the machine that runs the backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// Alert name the rule applies to.
    pub alert: String,
    /// Label whose value selects the route and keys attempt limits.
    pub by_label: String,
    /// Label value → where and how to fix it.
    #[serde(default)]
    pub routes: BTreeMap<String, Route>,
}

/// Where and how to fix one routed value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Host to run on.
    pub host: String,
    /// Candidate commands, in order.
    #[serde(default)]
    pub commands: Vec<String>,
}

/// The routing table from configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Routing {
    pub rules: Vec<RouteRule>,
}

/// What the labels, annotations and routing table suggest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hints {
    /// The host to act on, when one is known.
    pub host: Option<String>,
    /// Candidate commands (untrusted until validated).
    pub commands: Vec<String>,
    /// Free-text hint from the `remediation_hint` annotation.
    pub text: Option<String>,
    pub service: Option<String>,
    pub container: Option<String>,
    pub system: Option<String>,
    /// The routing rule's label value, when a rule matched.
    pub routed_by: Option<(String, String)>,
}

impl Routing {
    fn rule_for(&self, alert_name: &str) -> Option<&RouteRule> {
        self.rules.iter().find(|r| r.alert == alert_name)
    }

    /// The key attempt limits and cooldowns use: alert name plus the routed
    /// target (the routing rule's label value, else the host, else the fingerprint).
    pub fn key(&self, alert: &Alert) -> RouteKey {
        let name = alert.name();
        if let Some(rule) = self.rule_for(name)
            && let Some(value) = alert.label(&rule.by_label)
        {
            return RouteKey::new(name, format!("{}={value}", rule.by_label));
        }
        let target = hinted_host(alert)
            .or_else(|| alert.instance_host().map(str::to_string))
            .unwrap_or_else(|| alert.fingerprint.to_string());
        RouteKey::new(name, target)
    }

    /// Hints for an alert. A routing rule outranks label hints for the host, and
    /// when it matches, the `instance` label is never used to choose the host.
    pub fn hints(&self, alert: &Alert) -> Hints {
        let mut hints = Hints {
            text: pick(alert, HINT_TEXT),
            service: pick(alert, "service"),
            container: pick(alert, "container"),
            system: pick(alert, "system"),
            ..Hints::default()
        };
        if let Some(rule) = self.rule_for(alert.name()) {
            if let Some(value) = alert.label(&rule.by_label) {
                hints.routed_by = Some((rule.by_label.clone(), value.to_string()));
                if let Some(route) = rule.routes.get(value) {
                    hints.host = Some(route.host.clone());
                    hints.commands = route.commands.clone();
                    return hints;
                }
            }
            // A routed alert whose value has no route: the instance label is
            // misleading for it, so only an explicit hint may choose the host.
            hints.host = hinted_host(alert);
            hints.commands = hinted_commands(alert);
            return hints;
        }
        hints.host = hinted_host(alert).or_else(|| alert.instance_host().map(str::to_string));
        hints.commands = hinted_commands(alert);
        hints
    }
}

fn pick(alert: &Alert, key: &str) -> Option<String> {
    alert
        .label(key)
        .or_else(|| alert.annotation(key))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn hinted_host(alert: &Alert) -> Option<String> {
    pick(alert, HINT_HOST)
}

/// `remediation_commands` holds one command per line, or commands separated by `;;`.
fn hinted_commands(alert: &Alert) -> Vec<String> {
    let Some(raw) = pick(alert, HINT_COMMANDS) else {
        return Vec::new();
    };
    raw.split(['\n'])
        .flat_map(|line| line.split(";;"))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::Labels;

    fn alert(pairs: &[(&str, &str)], annotations: &[(&str, &str)]) -> Alert {
        let labels: Labels = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut alert = Alert::firing(labels, Utc::now());
        alert.annotations = annotations
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        alert
    }

    fn backup_routing() -> Routing {
        let mut routes = BTreeMap::new();
        routes.insert(
            "immich".to_string(),
            Route {
                host: "nas".into(),
                commands: vec!["/usr/local/bin/backup-immich.sh".into()],
            },
        );
        routes.insert(
            "nextcloud".to_string(),
            Route {
                host: "cloud".into(),
                commands: vec!["/usr/local/bin/backup-nextcloud.sh".into()],
            },
        );
        Routing {
            rules: vec![RouteRule {
                alert: "BackupStale".into(),
                by_label: "system".into(),
                routes,
            }],
        }
    }

    #[test]
    fn backup_stale_routes_by_system_not_instance() {
        let routing = backup_routing();
        let a = alert(
            &[
                ("alertname", "BackupStale"),
                ("system", "nextcloud"),
                ("instance", "exporter-host:9100"),
            ],
            &[],
        );
        let hints = routing.hints(&a);
        assert_eq!(hints.host.as_deref(), Some("cloud"));
        assert_eq!(hints.commands, vec!["/usr/local/bin/backup-nextcloud.sh"]);
        assert_eq!(
            routing.key(&a),
            RouteKey::new("BackupStale", "system=nextcloud")
        );
    }

    #[test]
    fn routed_alert_without_a_route_never_uses_instance() {
        let routing = backup_routing();
        let a = alert(
            &[
                ("alertname", "BackupStale"),
                ("system", "gitea"),
                ("instance", "exporter-host:9100"),
            ],
            &[],
        );
        assert_eq!(routing.hints(&a).host, None);
    }

    #[test]
    fn four_backup_systems_get_four_keys() {
        let routing = backup_routing();
        let keys: std::collections::BTreeSet<_> = ["immich", "nextcloud", "gitea", "vault"]
            .iter()
            .map(|s| {
                routing.key(&alert(
                    &[
                        ("alertname", "BackupStale"),
                        ("system", s),
                        ("instance", "x:1"),
                    ],
                    &[],
                ))
            })
            .collect();
        assert_eq!(keys.len(), 4);
    }

    #[test]
    fn label_and_annotation_hints() {
        let routing = Routing::default();
        let a = alert(
            &[
                ("alertname", "ContainerDown"),
                ("instance", "docker1:9323"),
                ("container", "frigate"),
            ],
            &[
                (
                    HINT_COMMANDS,
                    "docker restart frigate\n docker logs --tail 50 frigate ",
                ),
                (HINT_TEXT, "usually OOM"),
            ],
        );
        let hints = routing.hints(&a);
        assert_eq!(hints.host.as_deref(), Some("docker1"));
        assert_eq!(hints.container.as_deref(), Some("frigate"));
        assert_eq!(
            hints.commands,
            vec!["docker restart frigate", "docker logs --tail 50 frigate"]
        );
        assert_eq!(hints.text.as_deref(), Some("usually OOM"));
        assert_eq!(routing.key(&a), RouteKey::new("ContainerDown", "docker1"));
    }

    #[test]
    fn explicit_host_hint_wins_over_instance() {
        let a = alert(
            &[
                ("alertname", "ServiceDown"),
                ("instance", "10.0.0.5:9100"),
                (HINT_HOST, "pve"),
            ],
            &[],
        );
        assert_eq!(Routing::default().hints(&a).host.as_deref(), Some("pve"));
    }
}
