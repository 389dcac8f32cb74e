//! The `[safety]` configuration and the compiled policy built from it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{Decision, SafetyClass, ValidatedStep, Verdict, classify, rules};
use crate::domain::{Action, Step};

/// The `[safety]` table of the configuration file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SafetyConfig {
    /// What happens to a command no rule recognises: `approve` (held for a
    /// person, the default) or `refuse`. `allow` is rejected: an unknown
    /// command never runs unattended.
    pub unclassified: Decision,
    /// Services whose stop, disable, mask or kill is refused and whose restart
    /// needs approval. Entries may end in `*` (`wg-quick@*`); `.service` is optional.
    pub critical_services: Vec<String>,
    /// Exact names of Jarvis's own units, containers and processes (and its
    /// database's): anything that stops, restarts, kills or removes them is refused.
    pub protected: ProtectedNames,
    /// Per-host regexes over the normalised command, keyed by host name.
    pub hosts: BTreeMap<String, HostRules>,
    /// Policy for Home Assistant service calls and add-on restarts.
    pub home_assistant: HomeAssistantRules,
    /// Policy for n8n workflow triggers.
    pub n8n: N8nRules,
    /// Targets a `SelfRestart` action may name.
    pub self_restart_targets: Vec<String>,
    /// The host Jarvis itself runs on; a `SelfRestart` may never target it.
    pub jarvis_host: Option<String>,
    /// Longest `Wait` step allowed, in seconds.
    pub max_wait_secs: u64,
}

impl Default for SafetyConfig {
    fn default() -> Self {
        SafetyConfig {
            unclassified: Decision::Approve,
            critical_services: [
                "ssh",
                "sshd",
                "networking",
                "NetworkManager",
                "systemd-networkd",
                "systemd-resolved",
                "docker",
                "docker.socket",
                "containerd",
                "dbus",
                "systemd-journald",
                "systemd-logind",
                "wg-quick@*",
                "tailscaled",
            ]
            .map(String::from)
            .to_vec(),
            protected: ProtectedNames::default(),
            hosts: BTreeMap::new(),
            home_assistant: HomeAssistantRules::default(),
            n8n: N8nRules::default(),
            self_restart_targets: vec!["jarvis".into(), "database".into()],
            jarvis_host: None,
            max_wait_secs: 600,
        }
    }
}

/// Exact names that identify Jarvis and its database.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ProtectedNames {
    /// systemd units (`jarvis` also matches `jarvis.service`; `jarvis-backup` does not match).
    pub units: Vec<String>,
    /// Docker container names (also compose project names and directories).
    pub containers: Vec<String>,
    /// Process names, as `pkill`, `killall` and `pidof` see them.
    pub processes: Vec<String>,
}

impl Default for ProtectedNames {
    fn default() -> Self {
        ProtectedNames {
            units: vec![
                "jarvis".into(),
                "jarvis.service".into(),
                "jarvis-server".into(),
            ],
            containers: vec!["jarvis".into()],
            processes: vec!["jarvis-server".into()],
        }
    }
}

/// Per-host regexes, matched against each normalised simple command (with and
/// without wrappers such as `sudo`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct HostRules {
    /// Lets a command that would otherwise be held for approval run unattended.
    /// Never overrides a built-in refusal.
    pub allow: Vec<String>,
    /// Refuses matching commands; wins over `allow`.
    pub deny: Vec<String>,
}

/// Home Assistant policy.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct HomeAssistantRules {
    /// `domain.service` calls that run unattended; others need approval.
    pub allowed_services: Vec<String>,
    /// `domain.service` calls that are always refused.
    pub denied_services: Vec<String>,
    /// Domains whose services are always refused (locks, alarms, covers).
    pub denied_domains: Vec<String>,
    /// Add-ons that may be restarted unattended; others need approval.
    pub allowed_addons: Vec<String>,
}

impl Default for HomeAssistantRules {
    fn default() -> Self {
        HomeAssistantRules {
            allowed_services: [
                "automation.reload",
                "script.reload",
                "homeassistant.reload_core_config",
                "homeassistant.reload_all",
                "hassio.addon_restart",
                "hassio.app_restart",
            ]
            .map(String::from)
            .to_vec(),
            denied_services: vec!["homeassistant.stop".into(), "homeassistant.restart".into()],
            denied_domains: vec!["lock".into(), "alarm_control_panel".into(), "cover".into()],
            allowed_addons: Vec::new(),
        }
    }
}

/// n8n policy.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct N8nRules {
    /// Workflows that may be triggered; any other is refused.
    pub allowed_workflows: Vec<String>,
}

/// One problem in the `[safety]` configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafetyConfigIssue {
    /// The offending key, e.g. `safety.hosts.nas.allow[1]`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for SafetyConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Every problem found in the `[safety]` configuration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid safety configuration: {}", join(.issues))]
pub struct SafetyConfigError {
    pub issues: Vec<SafetyConfigIssue>,
}

fn join(issues: &[SafetyConfigIssue]) -> String {
    issues
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Clone, Debug, Default)]
pub(super) struct CompiledHostRules {
    pub(super) allow: Vec<Regex>,
    pub(super) deny: Vec<Regex>,
}

/// The compiled safety policy. Build it once at start-up; checking is pure.
#[derive(Clone, Debug)]
pub struct SafetyPolicy {
    pub(super) unclassified: Decision,
    pub(super) critical: Vec<String>,
    pub(super) protected: ProtectedNames,
    hosts: BTreeMap<String, CompiledHostRules>,
    known_hosts: BTreeSet<String>,
    ha: HomeAssistantRules,
    n8n: N8nRules,
    self_restart_targets: Vec<String>,
    jarvis_host: Option<String>,
    max_wait: Duration,
}

impl SafetyPolicy {
    /// Compiles the configuration. `known_hosts` are the configured host names;
    /// when it is empty (zero-config) every host is checked under the default rules.
    /// Collects every problem before failing.
    pub fn new(config: &SafetyConfig, known_hosts: &[String]) -> Result<Self, SafetyConfigError> {
        let mut issues = Vec::new();
        let mut issue =
            |key: String, message: String| issues.push(SafetyConfigIssue { key, message });
        if config.unclassified == Decision::Allow {
            issue(
                "safety.unclassified".into(),
                "must be `approve` or `refuse`: unclassified commands never run unattended".into(),
            );
        }
        let known_hosts: BTreeSet<String> = known_hosts.iter().cloned().collect();
        let mut hosts = BTreeMap::new();
        for (host, rules) in &config.hosts {
            if !known_hosts.is_empty() && !known_hosts.contains(host) {
                issue(
                    format!("safety.hosts.{host}"),
                    "rules for a host that is not configured in [[hosts]]".into(),
                );
            }
            let mut compiled = CompiledHostRules::default();
            for (kind, list, out) in [
                ("allow", &rules.allow, &mut compiled.allow),
                ("deny", &rules.deny, &mut compiled.deny),
            ] {
                for (i, pattern) in list.iter().enumerate() {
                    match Regex::new(pattern) {
                        Ok(re) => out.push(re),
                        Err(e) => issue(
                            format!("safety.hosts.{host}.{kind}[{i}]"),
                            format!("invalid regex: {}", e.to_string().replace('\n', " ")),
                        ),
                    }
                }
            }
            hosts.insert(host.clone(), compiled);
        }
        for (i, name) in config.critical_services.iter().enumerate() {
            if name.trim().is_empty() {
                issue(
                    format!("safety.critical_services[{i}]"),
                    "empty name".into(),
                );
            }
        }
        for (list, key) in [
            (&config.protected.units, "units"),
            (&config.protected.containers, "containers"),
            (&config.protected.processes, "processes"),
        ] {
            for (i, name) in list.iter().enumerate() {
                if name.trim().is_empty() || rules::has_glob(name) {
                    issue(
                        format!("safety.protected.{key}[{i}]"),
                        "must be an exact, non-empty name".into(),
                    );
                }
            }
        }
        for (i, s) in config.home_assistant.allowed_services.iter().enumerate() {
            if !s.contains('.') {
                issue(
                    format!("safety.home_assistant.allowed_services[{i}]"),
                    format!("`{s}` is not `domain.service`"),
                );
            }
        }
        for (i, s) in config.home_assistant.denied_services.iter().enumerate() {
            if !s.contains('.') {
                issue(
                    format!("safety.home_assistant.denied_services[{i}]"),
                    format!("`{s}` is not `domain.service`"),
                );
            }
        }
        if let Some(h) = &config.jarvis_host
            && config.self_restart_targets.contains(h)
        {
            issue(
                "safety.self_restart_targets".into(),
                format!("must not contain the Jarvis host `{h}`"),
            );
        }
        if !issues.is_empty() {
            return Err(SafetyConfigError { issues });
        }
        Ok(SafetyPolicy {
            unclassified: config.unclassified,
            critical: config.critical_services.clone(),
            protected: config.protected.clone(),
            hosts,
            known_hosts,
            ha: config.home_assistant.clone(),
            n8n: config.n8n.clone(),
            self_restart_targets: config.self_restart_targets.clone(),
            jarvis_host: config.jarvis_host.clone(),
            max_wait: Duration::from_secs(config.max_wait_secs),
        })
    }

    /// The default configuration with no hosts: every host gets the built-in rules.
    pub fn permissive_defaults() -> Self {
        Self::new(&SafetyConfig::default(), &[]).expect("the default safety config is valid")
    }

    /// The verdict for a step. Pure: no I/O, same answer every time.
    pub fn check(&self, step: &Step) -> Verdict {
        match &step.action {
            Action::Shell { host, command, .. } => self.check_command(Some(host), command),
            Action::HaService {
                domain, service, ..
            } => self.check_ha_service(domain, service),
            Action::HaAddonRestart { addon } => {
                if self.ha.allowed_addons.iter().any(|a| a == addon) {
                    Verdict::remediation(rules::HA_ADDON, format!("add-on `{addon}` is allowed"))
                } else {
                    Verdict::approve(
                        rules::HA_ADDON,
                        format!("add-on `{addon}` is not in safety.home_assistant.allowed_addons"),
                    )
                }
            }
            Action::N8nWorkflow { workflow, .. } => {
                if self.n8n.allowed_workflows.iter().any(|w| w == workflow) {
                    Verdict::remediation(
                        rules::N8N_WORKFLOW,
                        format!("workflow `{workflow}` is allowed"),
                    )
                } else {
                    Verdict::refuse(
                        rules::N8N_WORKFLOW,
                        format!("workflow `{workflow}` is not in safety.n8n.allowed_workflows"),
                    )
                }
            }
            Action::SelfRestart { target } => {
                if self.jarvis_host.as_deref() == Some(target.as_str()) {
                    Verdict::refuse(
                        rules::SELF_RESTART,
                        format!(
                            "`{target}` is the host Jarvis runs on; it is never restarted by Jarvis"
                        ),
                    )
                } else if self.self_restart_targets.iter().any(|t| t == target) {
                    Verdict::remediation(
                        rules::SELF_RESTART,
                        format!("self-restart of `{target}` is allowed"),
                    )
                } else {
                    Verdict::refuse(
                        rules::SELF_RESTART,
                        format!("`{target}` is not in safety.self_restart_targets"),
                    )
                }
            }
            Action::Wait { duration } => {
                if *duration <= self.max_wait {
                    Verdict::diagnostic(rules::WAIT, format!("wait {}s", duration.as_secs()))
                } else {
                    Verdict::refuse(
                        rules::WAIT,
                        format!(
                            "wait of {}s exceeds the {}s limit",
                            duration.as_secs(),
                            self.max_wait.as_secs()
                        ),
                    )
                    .with_class(SafetyClass::Diagnostic)
                }
            }
            Action::PrometheusCheck { query } => {
                if query.trim().is_empty() {
                    Verdict::refuse(rules::PROMETHEUS_CHECK, "empty PromQL query")
                        .with_class(SafetyClass::Diagnostic)
                } else {
                    Verdict::diagnostic(rules::PROMETHEUS_CHECK, "a read-only Prometheus query")
                }
            }
        }
    }

    fn check_ha_service(&self, domain: &str, service: &str) -> Verdict {
        let key = format!("{domain}.{service}");
        if self.ha.denied_services.contains(&key) {
            return Verdict::refuse(
                rules::HA_SERVICE,
                format!("`{key}` is a denied Home Assistant service"),
            );
        }
        if self.ha.denied_domains.iter().any(|d| d == domain) {
            return Verdict::refuse(
                rules::HA_SERVICE,
                format!(
                    "services of domain `{domain}` (locks, alarms, covers) are never called by Jarvis"
                ),
            );
        }
        if self.ha.allowed_services.contains(&key) {
            Verdict::remediation(
                rules::HA_SERVICE,
                format!("`{key}` is an allowed Home Assistant service"),
            )
        } else {
            Verdict::approve(
                rules::HA_SERVICE,
                format!("`{key}` is not in safety.home_assistant.allowed_services"),
            )
        }
    }

    /// Checks a step; `Ok` only when it may run unattended.
    pub fn validate(&self, step: Step) -> Result<ValidatedStep, Verdict> {
        let verdict = self.check(&step);
        match verdict.decision {
            Decision::Allow => Ok(ValidatedStep {
                step,
                verdict,
                approved_by: None,
            }),
            Decision::Approve | Decision::Refuse => Err(verdict),
        }
    }

    /// Checks a step a person approved: `Ok` for `Allow` and `Approve`;
    /// a refusal stays a refusal whoever approves.
    pub fn approve(&self, step: Step, approved_by: &str) -> Result<ValidatedStep, Verdict> {
        let verdict = self.check(&step);
        match verdict.decision {
            Decision::Allow => Ok(ValidatedStep {
                step,
                verdict,
                approved_by: None,
            }),
            Decision::Approve if approved_by.trim().is_empty() => Err(Verdict {
                reason: format!("{} (approval needs a named approver)", verdict.reason),
                ..verdict
            }),
            Decision::Approve => Ok(ValidatedStep {
                step,
                verdict,
                approved_by: Some(approved_by.to_string()),
            }),
            Decision::Refuse => Err(verdict),
        }
    }

    /// The verdict for a shell command, on `host` when given. The CLI uses it.
    pub fn check_command(&self, host: Option<&str>, command: &str) -> Verdict {
        let rules = match host {
            Some(h) => {
                if !self.known_hosts.is_empty()
                    && !self.known_hosts.contains(h)
                    && !self.hosts.contains_key(h)
                {
                    return Verdict::refuse(
                        rules::UNKNOWN_HOST,
                        format!("host `{h}` is not a configured host"),
                    );
                }
                self.hosts.get(h)
            }
            None => None,
        };
        classify::classify(self, rules, command)
    }
}
