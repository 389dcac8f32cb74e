//! Phase one: the configuration file's shape, exactly as serde reads it.
//!
//! Every table denies unknown keys so a typo is an error, not a silent default.
//! Secrets are plain strings here and become `SecretString` in phase two; these
//! types deliberately do not implement `Debug`.

use std::path::PathBuf;

use serde::Deserialize;

/// `[server]`
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawServer {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub body_limit_bytes: Option<u64>,
    pub public_reads: Option<bool>,
    pub webhook_user: Option<String>,
    pub webhook_password: Option<String>,
    pub shutdown_grace_secs: Option<u64>,
    pub public_url: Option<String>,
}

/// `[database]`
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawDatabase {
    pub url: Option<String>,
    pub retention_days: Option<u32>,
    pub spool_max_alerts: Option<u32>,
}

/// `[[hosts]]`
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHost {
    pub name: String,
    pub address: String,
    #[serde(default)]
    pub port: Option<u16>,
    pub user: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    #[serde(default)]
    pub known_hosts: Option<PathBuf>,
    #[serde(default)]
    pub pinned_keys: Vec<String>,
    #[serde(default)]
    pub trust_on_first_use: bool,
    #[serde(default)]
    pub command_timeout_secs: Option<u64>,
}

/// `[executor]`
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawExecutor {
    pub dry_run: Option<bool>,
    pub command_timeout_secs: Option<u64>,
    pub connect_timeout_secs: Option<u64>,
    pub output_cap_bytes: Option<u64>,
}

/// `[anomaly]` keys besides the detector's own (`jarvis_core::anomaly::AnomalyConfig`).
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawAnomalyExtra {
    pub enabled: Option<bool>,
    pub queries: Vec<String>,
}

/// `[report]`
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawReport {
    pub enabled: Option<bool>,
    pub time: Option<String>,
    pub utc_offset: Option<String>,
}

/// `[backups]`
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawBackups {
    pub query: Option<String>,
    pub system_label: Option<String>,
    pub check_interval_secs: Option<u64>,
    pub history_hours: Option<u64>,
    pub tolerance: Option<f64>,
    pub max_age_hours: Option<f64>,
}

/// `[self_restart]`
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawSelfRestart {
    pub timeout_minutes: Option<u64>,
    pub stale_cleanup_minutes: Option<u64>,
}

/// `[runbooks]`
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawRunbooks {
    pub dir: Option<PathBuf>,
}

/// `[seeds]`
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawSeeds {
    pub file: Option<PathBuf>,
}

/// `[llm]` (alias `[claude]`)
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawLlm {
    pub api_key: Option<String>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub max_tokens: Option<u32>,
    pub max_iterations: Option<u32>,
    pub incident_token_budget: Option<u64>,
    pub daily_token_budget: Option<u64>,
    pub timeout_secs: Option<u64>,
}

/// `[discord]`
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawDiscord {
    pub webhook_url: Option<String>,
    pub username: Option<String>,
}

/// `[prometheus]`
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawPrometheus {
    pub url: Option<String>,
    pub request_timeout_secs: Option<u64>,
    pub poll_interval_secs: Option<f64>,
}

/// `[alertmanager]` and `[loki]`
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawUrlService {
    pub url: Option<String>,
    pub request_timeout_secs: Option<u64>,
}

/// `[loki]`
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawLoki {
    pub url: Option<String>,
    pub org_id: Option<String>,
    pub request_timeout_secs: Option<u64>,
}

/// `[home_assistant]`
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawHomeAssistant {
    pub url: Option<String>,
    pub token: Option<String>,
    pub request_timeout_secs: Option<u64>,
}

/// `[n8n]`
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawN8n {
    pub url: Option<String>,
    pub api_key: Option<String>,
    pub self_restart_webhook: Option<String>,
    pub request_timeout_secs: Option<u64>,
}
