//! SSH: runs shell steps on configured hosts ([`SshExecutor`]), checks host keys
//! (known_hosts, pinned keys, trust on first use) and tracks host availability.

mod config;
mod error;
mod executor;
mod host_key;
mod tracker;

pub use config::{MAX_COMMAND_TIMEOUT_SECS, SshConfig, SshHostConfig};
pub use error::SshError;
pub use executor::{CommandOutput, SshExecutor, StatusSink};
pub use host_key::fingerprint;
pub use tracker::HostTracker;
