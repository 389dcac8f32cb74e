//! Host key checking: pinned keys, a known_hosts file, and trust on first use.

use std::path::PathBuf;
use std::sync::Mutex;

use russh::keys::{HashAlg, PublicKey, known_hosts};

use super::config::SshHostConfig;
use super::error::SshError;

/// One accepted key from `pinned_keys`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pin {
    Key(Box<PublicKey>),
    /// `SHA256:<base64, no padding>`.
    Fingerprint(String),
}

/// Decides whether a host's key is trusted. One per host; shared by its connections.
#[derive(Debug)]
pub(crate) struct HostKeyPolicy {
    host: String,
    address: String,
    port: u16,
    known_hosts: Option<PathBuf>,
    pins: Vec<Pin>,
    trust_on_first_use: bool,
    /// Key accepted on first use when there is no known_hosts file to record it in;
    /// pinned for the life of the process. Also serialises TOFU appends.
    learned: Mutex<Option<PublicKey>>,
}

/// The SHA-256 fingerprint of a key, as `ssh-keygen -l` prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

impl HostKeyPolicy {
    pub(crate) fn new(host: &SshHostConfig) -> Result<Self, SshError> {
        let pins = host
            .pinned_keys
            .iter()
            .map(|pin| parse_pin(pin.trim()))
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| SshError::Config(format!("host {}: {e}", host.name)))?;
        Ok(HostKeyPolicy {
            host: host.name.clone(),
            address: host.address.clone(),
            port: host.port,
            known_hosts: host.known_hosts.clone(),
            pins,
            trust_on_first_use: host.trust_on_first_use,
            learned: Mutex::new(None),
        })
    }

    /// `Ok` when the key is trusted (possibly just learned through TOFU).
    pub(crate) fn check(&self, key: &PublicKey) -> Result<(), SshError> {
        let fp = fingerprint(key);
        if !self.pins.is_empty() {
            let pinned = self.pins.iter().any(|pin| match pin {
                Pin::Key(k) => k.key_data() == key.key_data(),
                Pin::Fingerprint(f) => *f == fp,
            });
            return if pinned {
                Ok(())
            } else {
                Err(SshError::HostKeyChanged {
                    host: self.host.clone(),
                    fingerprint: fp,
                })
            };
        }

        let mut learned = self.learned.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(known) = learned.as_ref() {
            return if known.key_data() == key.key_data() {
                Ok(())
            } else {
                Err(SshError::HostKeyChanged {
                    host: self.host.clone(),
                    fingerprint: fp,
                })
            };
        }

        if let Some(path) = &self.known_hosts {
            match known_hosts::check_known_hosts_path(&self.address, self.port, key, path) {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(russh::keys::Error::KeyChanged { .. }) => {
                    return Err(SshError::HostKeyChanged {
                        host: self.host.clone(),
                        fingerprint: fp,
                    });
                }
                Err(source) => {
                    return Err(SshError::KnownHosts {
                        host: self.host.clone(),
                        path: path.clone(),
                        source: Box::new(source),
                    });
                }
            }
        }

        if !self.trust_on_first_use {
            return Err(SshError::UnknownHostKey {
                host: self.host.clone(),
                fingerprint: fp,
            });
        }
        match &self.known_hosts {
            Some(path) => {
                known_hosts::learn_known_hosts_path(&self.address, self.port, key, path).map_err(
                    |source| SshError::KnownHosts {
                        host: self.host.clone(),
                        path: path.clone(),
                        source: Box::new(source),
                    },
                )?;
            }
            None => *learned = Some(key.clone()),
        }
        tracing::warn!(host = %self.host, fingerprint = %fp, "trusted host key on first use");
        Ok(())
    }
}

fn parse_pin(pin: &str) -> Result<Pin, String> {
    if let Some(rest) = pin.strip_prefix("SHA256:") {
        if rest.is_empty() {
            return Err("empty SHA256 fingerprint in pinned_keys".to_string());
        }
        return Ok(Pin::Fingerprint(pin.to_string()));
    }
    PublicKey::from_openssh(pin)
        .map(|k| Pin::Key(Box::new(k)))
        .map_err(|e| {
            format!("pinned key {pin:?} is neither an OpenSSH public key nor SHA256:…: {e}")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ test";
    const OTHER: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA6rWI3G1sz07DnfFlrouTcysQlj2P+jpNSOEWD9OJ3X";

    fn host() -> SshHostConfig {
        SshHostConfig::new("web1", "127.0.0.1", 2222, "u", "/k")
    }

    #[test]
    fn pinned_key_and_fingerprint_accept_only_that_key() {
        let key = PublicKey::from_openssh(KEY).unwrap();
        let other = PublicKey::from_openssh(OTHER).unwrap();
        for pin in [KEY.to_string(), fingerprint(&key)] {
            let mut h = host();
            h.pinned_keys = vec![pin];
            let policy = HostKeyPolicy::new(&h).unwrap();
            assert!(policy.check(&key).is_ok());
            assert!(matches!(
                policy.check(&other),
                Err(SshError::HostKeyChanged { .. })
            ));
        }
    }

    #[test]
    fn unknown_key_refused_without_tofu_and_pinned_in_memory_with_it() {
        let key = PublicKey::from_openssh(KEY).unwrap();
        let other = PublicKey::from_openssh(OTHER).unwrap();
        let policy = HostKeyPolicy::new(&host()).unwrap();
        assert!(matches!(
            policy.check(&key),
            Err(SshError::UnknownHostKey { .. })
        ));
        let mut h = host();
        h.trust_on_first_use = true;
        let policy = HostKeyPolicy::new(&h).unwrap();
        assert!(policy.check(&key).is_ok());
        assert!(policy.check(&key).is_ok());
        assert!(matches!(
            policy.check(&other),
            Err(SshError::HostKeyChanged { .. })
        ));
    }

    #[test]
    fn bad_pin_is_a_config_error() {
        let mut h = host();
        h.pinned_keys = vec!["nonsense".into()];
        assert!(matches!(HostKeyPolicy::new(&h), Err(SshError::Config(_))));
    }
}
