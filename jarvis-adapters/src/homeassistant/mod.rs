//! Home Assistant: a REST client ([`HomeAssistantClient`]) and an
//! [`jarvis_core::ports::Executor`] for `HaService` and `HaAddonRestart` steps
//! ([`HomeAssistantExecutor`]).
//!
//! Add-on (app) restarts go through the Supervisor API when a Supervisor token
//! is configured (Jarvis running as an add-on), else through the `hassio`
//! integration: `hassio.app_restart {"app": slug}` when `GET /api/services`
//! lists it, `hassio.addon_restart {"addon": slug}` otherwise.

mod client;
mod executor;

pub use client::{EntityState, HomeAssistantClient, ServiceDomain};
pub use executor::HomeAssistantExecutor;

use std::time::Duration;

use secrecy::SecretString;

/// Settings of [`HomeAssistantClient`]. `Debug` never shows the tokens.
#[derive(Clone, Debug)]
pub struct HomeAssistantConfig {
    /// Base URL without `/api`, e.g. `http://homeassistant.local:8123`.
    pub base_url: String,
    /// Long-lived access token.
    pub token: SecretString,
    /// Set when Jarvis runs as an add-on with `hassio_api: true`.
    pub supervisor: Option<SupervisorConfig>,
    /// Timeout of one request. Service calls block until the service ran.
    pub timeout: Duration,
}

impl HomeAssistantConfig {
    pub fn new(base_url: impl Into<String>, token: SecretString) -> Self {
        HomeAssistantConfig {
            base_url: base_url.into(),
            token,
            supervisor: None,
            timeout: Duration::from_secs(30),
        }
    }
}

/// The Supervisor API, reachable only from inside an add-on.
#[derive(Clone, Debug)]
pub struct SupervisorConfig {
    /// Default `http://supervisor`.
    pub url: String,
    /// `SUPERVISOR_TOKEN`.
    pub token: SecretString,
}

impl SupervisorConfig {
    pub fn new(token: SecretString) -> Self {
        SupervisorConfig {
            url: "http://supervisor".into(),
            token,
        }
    }
}

/// Errors of the Home Assistant client.
#[derive(Debug, thiserror::Error)]
pub enum HomeAssistantError {
    #[error("home assistant refused the token (401): {0}")]
    Unauthorized(String),
    #[error("home assistant: {what} not found (404): {body}")]
    NotFound { what: String, body: String },
    #[error("home assistant rejected the request to {what} (400): {body}")]
    BadRequest { what: String, body: String },
    #[error("home assistant answered {status} for {what}: {body}")]
    Status {
        what: String,
        status: u16,
        body: String,
    },
    #[error("invalid home assistant {kind} {value:?}")]
    InvalidName { kind: &'static str, value: String },
    #[error("home assistant cannot restart add-ons: {0}")]
    Unsupported(String),
    #[error("supervisor refused to {what}: {message}")]
    Supervisor { what: String, message: String },
    #[error("home assistant timed out while {0}")]
    Timeout(String),
    #[error("home assistant unreachable while {what}")]
    Transport {
        what: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("home assistant response to {what} not understood: {reason}")]
    Decode { what: String, reason: String },
}

impl HomeAssistantError {
    /// The request never reached Home Assistant.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, HomeAssistantError::Transport { source, .. } if source.is_connect())
    }
}
