//! Configuration of the SSH executor.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Hard ceiling for any per-command timeout, whatever the config says.
pub const MAX_COMMAND_TIMEOUT_SECS: u64 = 3600;

/// The SSH executor: the hosts Jarvis may run shell steps on, and how.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshConfig {
    /// The hosts, addressed by `name` in shell steps.
    #[serde(default)]
    pub hosts: Vec<SshHostConfig>,
    /// Per-command timeout when neither the step nor the host sets one (seconds, at most 3600).
    #[serde(default = "defaults::command_timeout")]
    pub default_command_timeout_secs: u64,
    /// Timeout of one connection attempt, TCP connect through authentication (seconds).
    #[serde(default = "defaults::connect_timeout")]
    pub connect_timeout_secs: u64,
    /// Connection attempts per command before the host counts as unreachable (at least 1).
    /// Only connection errors are retried; a command that may have started never is.
    #[serde(default = "defaults::connect_tries")]
    pub connect_tries: u32,
    /// First delay between connection attempts (milliseconds); it doubles each try.
    #[serde(default = "defaults::connect_backoff")]
    pub connect_backoff_millis: u64,
    /// A pooled session unused for this long is closed (seconds).
    #[serde(default = "defaults::idle_timeout")]
    pub idle_timeout_secs: u64,
    /// Bytes kept of each of stdout and stderr; the rest is dropped and the result marked truncated.
    #[serde(default = "defaults::output_cap")]
    pub output_cap_bytes: usize,
    /// Consecutive connection failures after which a host is reported offline.
    #[serde(default = "defaults::offline_after")]
    pub offline_after_failures: u32,
    /// How often an offline host is probed by [`super::SshExecutor::probe_all`] (seconds).
    #[serde(default = "defaults::probe_interval")]
    pub probe_interval_secs: u64,
}

/// One host.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshHostConfig {
    /// The name steps use (`Action::Shell::host`).
    pub name: String,
    /// Host name or IP address to connect to.
    pub address: String,
    /// SSH port.
    #[serde(default = "defaults::port")]
    pub port: u16,
    /// Remote user.
    pub user: String,
    /// Private key (OpenSSH format, unencrypted) used to authenticate.
    pub key_file: PathBuf,
    /// known_hosts file checked for the host key (`[address]:port` entries for non-22 ports).
    /// With `trust_on_first_use`, first-seen keys are appended here.
    #[serde(default)]
    pub known_hosts: Option<PathBuf>,
    /// Accepted host keys: OpenSSH public key lines (`ssh-ed25519 AAAA… [comment]`)
    /// or SHA-256 fingerprints (`SHA256:…`). When set, only these keys are accepted.
    #[serde(default)]
    pub pinned_keys: Vec<String>,
    /// Accept and record an unknown host key on first contact. A changed key is always refused.
    #[serde(default)]
    pub trust_on_first_use: bool,
    /// Per-command timeout for this host (seconds), overriding the default.
    #[serde(default)]
    pub command_timeout_secs: Option<u64>,
    /// Commands run at once on this host; more wait their turn.
    #[serde(default = "defaults::max_concurrent")]
    pub max_concurrent: usize,
}

impl Default for SshConfig {
    fn default() -> Self {
        SshConfig {
            hosts: Vec::new(),
            default_command_timeout_secs: defaults::command_timeout(),
            connect_timeout_secs: defaults::connect_timeout(),
            connect_tries: defaults::connect_tries(),
            connect_backoff_millis: defaults::connect_backoff(),
            idle_timeout_secs: defaults::idle_timeout(),
            output_cap_bytes: defaults::output_cap(),
            offline_after_failures: defaults::offline_after(),
            probe_interval_secs: defaults::probe_interval(),
        }
    }
}

impl SshHostConfig {
    /// A host with default settings and no host-key source yet.
    pub fn new(
        name: impl Into<String>,
        address: impl Into<String>,
        port: u16,
        user: impl Into<String>,
        key_file: impl Into<PathBuf>,
    ) -> Self {
        SshHostConfig {
            name: name.into(),
            address: address.into(),
            port,
            user: user.into(),
            key_file: key_file.into(),
            known_hosts: None,
            pinned_keys: Vec::new(),
            trust_on_first_use: false,
            command_timeout_secs: None,
            max_concurrent: defaults::max_concurrent(),
        }
    }
}

impl SshConfig {
    /// Every problem with the config, empty when it is usable.
    pub fn validate(&self) -> Vec<String> {
        let mut issues = Vec::new();
        if self.default_command_timeout_secs == 0
            || self.default_command_timeout_secs > MAX_COMMAND_TIMEOUT_SECS
        {
            issues.push(format!(
                "ssh.default_command_timeout_secs must be within 1..={MAX_COMMAND_TIMEOUT_SECS}"
            ));
        }
        if self.connect_tries == 0 {
            issues.push("ssh.connect_tries must be at least 1".to_string());
        }
        if self.connect_timeout_secs == 0 {
            issues.push("ssh.connect_timeout_secs must be at least 1".to_string());
        }
        if self.offline_after_failures == 0 {
            issues.push("ssh.offline_after_failures must be at least 1".to_string());
        }
        let mut seen = std::collections::BTreeSet::new();
        for host in &self.hosts {
            let name = &host.name;
            if name.is_empty() {
                issues.push("ssh host with an empty name".to_string());
            }
            if !seen.insert(name.as_str()) {
                issues.push(format!("ssh host {name} is configured twice"));
            }
            if host.max_concurrent == 0 {
                issues.push(format!(
                    "ssh host {name}: max_concurrent must be at least 1"
                ));
            }
            if let Some(t) = host.command_timeout_secs
                && (t == 0 || t > MAX_COMMAND_TIMEOUT_SECS)
            {
                issues.push(format!(
                    "ssh host {name}: command_timeout_secs must be within 1..={MAX_COMMAND_TIMEOUT_SECS}"
                ));
            }
            if host.known_hosts.is_none() && host.pinned_keys.is_empty() && !host.trust_on_first_use
            {
                issues.push(format!(
                    "ssh host {name}: set known_hosts, pinned_keys or trust_on_first_use, \
                     otherwise every host key is refused"
                ));
            }
        }
        issues
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs.max(1))
    }

    pub(crate) fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub(crate) fn probe_interval(&self) -> Duration {
        Duration::from_secs(self.probe_interval_secs)
    }
}

mod defaults {
    /// The documented default, the same as `executor.command_timeout_secs`:
    /// backup scripts run long.
    pub fn command_timeout() -> u64 {
        300
    }
    pub fn connect_timeout() -> u64 {
        10
    }
    pub fn connect_tries() -> u32 {
        3
    }
    pub fn connect_backoff() -> u64 {
        250
    }
    pub fn idle_timeout() -> u64 {
        300
    }
    pub fn output_cap() -> usize {
        64 * 1024
    }
    pub fn offline_after() -> u32 {
        3
    }
    pub fn probe_interval() -> u64 {
        300
    }
    pub fn port() -> u16 {
        22
    }
    pub fn max_concurrent() -> usize {
        4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_and_unknown_fields_are_refused() {
        let cfg: SshConfig = toml::from_str(
            r#"
            [[hosts]]
            name = "web1"
            address = "10.0.0.1"
            user = "jarvis"
            key_file = "/etc/jarvis/id_ed25519"
            known_hosts = "/etc/jarvis/known_hosts"
            "#,
        )
        .unwrap();
        assert_eq!(cfg.default_command_timeout_secs, 300);
        assert_eq!(SshConfig::default().default_command_timeout_secs, 300);
        assert_eq!(cfg.connect_tries, 3);
        assert_eq!(cfg.output_cap_bytes, 65536);
        assert_eq!(cfg.hosts[0].port, 22);
        assert_eq!(cfg.hosts[0].max_concurrent, 4);
        assert!(!cfg.hosts[0].trust_on_first_use);
        assert!(cfg.validate().is_empty());

        let err = toml::from_str::<SshConfig>("bogus = 1").unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
    }

    #[test]
    fn validate_names_every_issue() {
        let mut cfg = SshConfig {
            default_command_timeout_secs: 0,
            ..SshConfig::default()
        };
        let mut host = SshHostConfig::new("a", "h", 22, "u", "/k");
        host.max_concurrent = 0;
        cfg.hosts = vec![host.clone(), host];
        let issues = cfg.validate();
        assert!(issues.iter().any(|i| i.contains("default_command_timeout")));
        assert!(issues.iter().any(|i| i.contains("configured twice")));
        assert!(issues.iter().any(|i| i.contains("max_concurrent")));
        assert!(issues.iter().any(|i| i.contains("known_hosts")));
    }
}
