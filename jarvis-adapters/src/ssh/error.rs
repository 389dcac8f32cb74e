//! Errors of the SSH executor, and their translation to [`ExecError`].

use std::path::PathBuf;

use jarvis_core::error::ExecError;

/// What went wrong talking to a host over SSH.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("invalid ssh config: {0}")]
    Config(String),
    #[error("host {0} is not configured")]
    UnknownHost(String),
    #[error("host {host} is offline after {failures} consecutive connection failures")]
    Offline { host: String, failures: u32 },
    #[error("cannot connect to host {host}")]
    Connect {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("connecting to host {host} timed out after {secs}s")]
    ConnectTimeout { host: String, secs: u64 },
    #[error("ssh session with host {host} failed")]
    Transport {
        host: String,
        #[source]
        source: Box<russh::Error>,
    },
    #[error("host {host} presented an unknown host key {fingerprint}")]
    UnknownHostKey { host: String, fingerprint: String },
    #[error("host {host} presented host key {fingerprint}, which does not match the recorded one")]
    HostKeyChanged { host: String, fingerprint: String },
    #[error("known_hosts file {path} for host {host} could not be used")]
    KnownHosts {
        host: String,
        path: PathBuf,
        #[source]
        source: Box<russh::keys::Error>,
    },
    #[error("host {host} refused public key authentication as {user}")]
    AuthRejected { host: String, user: String },
    #[error("private key {path} could not be loaded")]
    ClientKey {
        path: PathBuf,
        #[source]
        source: Box<russh::keys::Error>,
    },
    /// The command may have started: never retried.
    #[error("command on host {host} failed after it was sent")]
    Exec {
        host: String,
        #[source]
        source: Box<russh::Error>,
    },
    /// Raised inside the russh handler before the host is known to the error; re-wrapped.
    #[error("ssh protocol error")]
    Protocol(#[source] Box<russh::Error>),
}

impl From<russh::Error> for SshError {
    fn from(e: russh::Error) -> Self {
        SshError::Protocol(Box::new(e))
    }
}

impl SshError {
    /// A connection-level failure: retried before anything ran, and counted toward
    /// the host going offline.
    pub fn is_connection(&self) -> bool {
        matches!(
            self,
            SshError::Connect { .. }
                | SshError::ConnectTimeout { .. }
                | SshError::Transport { .. }
                | SshError::Protocol(_)
                | SshError::Offline { .. }
        )
    }

    pub(crate) fn with_host(self, host: &str) -> Self {
        match self {
            SshError::Protocol(source) => SshError::Transport {
                host: host.to_string(),
                source,
            },
            other => other,
        }
    }
}

impl From<SshError> for ExecError {
    fn from(e: SshError) -> Self {
        let reason = error_chain(&e);
        match e {
            SshError::UnknownHost(host) => ExecError::UnknownHost(host),
            SshError::Offline { host, .. }
            | SshError::Connect { host, .. }
            | SshError::ConnectTimeout { host, .. }
            | SshError::Transport { host, .. } => ExecError::Unreachable { host, reason },
            SshError::Protocol(_) => ExecError::Unreachable {
                host: "unknown".to_string(),
                reason,
            },
            SshError::Config(_)
            | SshError::UnknownHostKey { .. }
            | SshError::HostKeyChanged { .. }
            | SshError::KnownHosts { .. }
            | SshError::AuthRejected { .. }
            | SshError::ClientKey { .. }
            | SshError::Exec { .. } => ExecError::Failed(reason),
        }
    }
}

/// `outer: cause: cause` in one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}
