//! The configuration of both binaries: one typed tree, loaded in two phases.
//!
//! Phase one reads a TOML file (optional) and overlays the environment
//! ([`env`]): `JARVIS_SECTION__KEY` variables and the old names such as
//! `DATABASE_URL`. Phase two validates everything into [`Config`], with
//! `SocketAddr`, `PathBuf`, `Url` and `SecretString` fields, and collects
//! every problem before failing, each naming its key
//! (`pipeline.max_attempts: must be at least 1`).
//!
//! With no file and no variables the result is the zero configuration:
//! listen on 127.0.0.1:8000, SQLite in `./data`, the deterministic planner,
//! the dry-run executor and no verification.

mod check;
mod env;
mod files;
mod lenient;
mod raw;
pub mod wiring;

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use jarvis_core::anomaly::predict::PredictConfig;
use jarvis_core::anomaly::{AnomalyConfig, ReportSchedule};
use jarvis_core::correlation::{CorrelationConfig, Correlator};
use jarvis_core::handoff::HandoffPolicy;
use jarvis_core::hints::{RouteRule, Routing};
use jarvis_core::learning::LearningConfig;
use jarvis_core::pipeline::PipelineConfig;
use jarvis_core::safety::{SafetyConfig, SafetyPolicy};
use secrecy::{ExposeSecret, SecretString};
use toml::{Table, Value};
use url::Url;

pub use check::{CheckItem, CheckReport, CheckStatus, check, probe_integrations};
pub use env::{Env, process_env};
pub use files::{load_runbooks, load_seeds};

use raw::*;

/// The address Jarvis listens on when nothing says otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8000";
/// The webhook user name when nothing says otherwise (Alertmanager's usual one).
pub const DEFAULT_WEBHOOK_USER: &str = "alertmanager";
/// The largest webhook body accepted by default (1 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Values given on the command line; they win over the file and the environment.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
}

/// Every problem found in the configuration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// One line per problem, each starting with the key it is about.
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "invalid configuration ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

/// The validated configuration. `Debug` never shows a secret.
#[derive(Clone, Debug)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    /// `[pipeline]`: limits and timings of the remediation pipeline.
    pub pipeline: PipelineConfig,
    /// `[safety]`: the command safety policy's settings.
    pub safety: SafetyConfig,
    /// `[[hosts]]`: machines Jarvis may run commands on.
    pub hosts: Vec<HostConfig>,
    /// `[[routing]]`: where alerts are fixed.
    pub routing: Routing,
    /// `[correlation]`: which alerts explain which.
    pub correlation: CorrelationConfig,
    /// `[learning]`: thresholds of the learned-pattern tier.
    pub learning: LearningConfig,
    pub anomaly: AnomalySettings,
    /// `[report]`: when the daily report goes out.
    pub report: ReportSettings,
    /// `[backups]`: backup freshness checks, `None` without a query.
    pub backups: Option<BackupSettings>,
    /// `[self_restart]`: hand-off timeout and stale cleanup.
    pub self_restart: HandoffPolicy,
    pub runbooks: RunbooksConfig,
    pub seeds: SeedsConfig,
    pub executor: ExecutorConfig,
    /// `[llm]` / `[claude]`: the LLM planner, `None` (off) without an API key.
    pub llm: Option<LlmConfig>,
    pub discord: Option<DiscordConfig>,
    pub prometheus: Option<PrometheusSettings>,
    pub alertmanager: Option<ServiceConfig>,
    pub loki: Option<LokiSettings>,
    pub home_assistant: Option<HomeAssistantSettings>,
    pub n8n: Option<N8nSettings>,
    /// The file the configuration came from, if any.
    pub source: Option<PathBuf>,
}

/// `[server]`
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on (`--listen`, `JARVIS_LISTEN`).
    pub listen: SocketAddr,
    /// Where the SQLite database and other state live (`--data-dir`, `JARVIS_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Largest accepted request body; larger webhooks get 413.
    pub body_limit_bytes: usize,
    /// Read endpoints answer without credentials.
    pub public_reads: bool,
    /// Basic-auth user Alertmanager and operators use.
    pub webhook_user: String,
    /// Basic-auth password; without one only loopback peers are accepted.
    pub webhook_password: Option<SecretString>,
    /// How long in-flight work may take to checkpoint at shutdown.
    pub shutdown_grace: Duration,
    /// The URL other systems (n8n) reach Jarvis at; default `http://<listen>`.
    pub public_url: Option<Url>,
}

/// Where the store lives.
#[derive(Clone, Debug)]
pub enum DatabaseTarget {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL (it may carry a password).
    Postgres(SecretString),
}

/// `[database]`
#[derive(Clone, Debug)]
pub struct DatabaseConfig {
    pub target: DatabaseTarget,
    /// Closed incidents and their records are removed after this many days.
    pub retention_days: u32,
    /// Alerts the on-disk spool holds while the store is down; past it the webhook answers 503.
    pub spool_max_alerts: usize,
}

/// One `[[hosts]]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostConfig {
    pub name: String,
    pub address: String,
    pub port: u16,
    pub user: String,
    pub role: Option<String>,
    pub tags: Vec<String>,
    pub key_file: Option<PathBuf>,
    pub known_hosts: Option<PathBuf>,
    pub pinned_keys: Vec<String>,
    pub trust_on_first_use: bool,
    pub command_timeout_secs: Option<u64>,
}

impl HostConfig {
    /// The core's view of the host.
    pub fn to_host(&self) -> jarvis_core::domain::Host {
        jarvis_core::domain::Host {
            name: self.name.clone(),
            address: self.address.clone(),
            port: self.port,
            user: self.user.clone(),
            role: self.role.clone(),
            tags: self.tags.clone(),
        }
    }
}

/// `[executor]`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutorConfig {
    /// Run nothing, only record, even when hosts are configured. Always true without hosts.
    pub dry_run: bool,
    pub command_timeout_secs: u64,
    pub connect_timeout_secs: u64,
    pub output_cap_bytes: usize,
}

/// `[anomaly]`
#[derive(Clone, Debug, PartialEq)]
pub struct AnomalySettings {
    /// Whether the detector runs (it needs Prometheus).
    pub enabled: bool,
    /// PromQL expressions whose series are watched.
    pub queries: Vec<String>,
    pub detector: AnomalyConfig,
}

/// `[report]`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportSettings {
    /// Whether the daily report is sent by itself (it is sent only when something happened).
    pub enabled: bool,
    /// When: a time of day at a fixed UTC offset (default 08:00 UTC).
    pub schedule: ReportSchedule,
}

/// `[backups]`
#[derive(Clone, Debug, PartialEq)]
pub struct BackupSettings {
    /// PromQL whose series carry the Unix time of each system's last successful backup.
    pub query: String,
    /// The series label that names the system.
    pub system_label: String,
    pub check_interval: Duration,
    /// How far back backup times are read to learn the usual interval.
    pub history: Duration,
    /// `backup_tolerance` and `backup_max_age_hours`; the other keys keep their defaults.
    pub predict: PredictConfig,
}

/// `[runbooks]`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunbooksConfig {
    pub dir: PathBuf,
    /// The directory was configured explicitly (then it must exist).
    pub explicit: bool,
}

/// `[seeds]`
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SeedsConfig {
    pub file: Option<PathBuf>,
}

/// `[llm]`
#[derive(Clone, Debug)]
pub struct LlmConfig {
    pub api_key: SecretString,
    pub base_url: Url,
    pub model: String,
    pub max_tokens: u32,
    pub max_iterations: u32,
    pub incident_token_budget: u64,
    pub daily_token_budget: u64,
    pub timeout: Duration,
}

/// `[discord]`
#[derive(Clone, Debug)]
pub struct DiscordConfig {
    /// The webhook URL embeds a token: secret.
    pub webhook_url: SecretString,
    pub username: String,
}

/// `[prometheus]`
#[derive(Clone, Debug, PartialEq)]
pub struct PrometheusSettings {
    pub url: Url,
    pub request_timeout: Duration,
    /// Longest delay between two verification polls.
    pub poll_interval: Duration,
}

/// A service known by its URL (`[alertmanager]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceConfig {
    pub url: Url,
    pub request_timeout: Duration,
}

/// `[loki]`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LokiSettings {
    pub url: Url,
    pub org_id: Option<String>,
    pub request_timeout: Duration,
}

/// `[home_assistant]`
#[derive(Clone, Debug)]
pub struct HomeAssistantSettings {
    pub url: Url,
    pub token: SecretString,
    pub request_timeout: Duration,
}

/// `[n8n]`
#[derive(Clone, Debug)]
pub struct N8nSettings {
    pub url: Url,
    pub api_key: Option<SecretString>,
    /// The webhook path of the workflow that restarts Jarvis or its database.
    pub self_restart_webhook: Option<String>,
    pub request_timeout: Duration,
}

impl Config {
    /// The zero configuration (what `jarvis-server` with no arguments uses).
    pub fn zero() -> Config {
        match load(None, &Env::new(), &Overrides::default()) {
            Ok(cfg) => cfg,
            // The defaults are valid by construction; a test keeps them so.
            Err(e) => unreachable!("the default configuration is invalid: {e}"),
        }
    }

    /// Whether remediation only records what it would run.
    pub fn dry_run(&self) -> bool {
        self.executor.dry_run || self.hosts.is_empty()
    }

    /// Whether fixes are verified (a Prometheus is configured and verification is on).
    pub fn verification_enabled(&self) -> bool {
        self.prometheus.is_some() && self.pipeline.verification_enabled
    }

    /// The routing table as the core uses it.
    pub fn host_names(&self) -> Vec<String> {
        self.hosts.iter().map(|h| h.name.clone()).collect()
    }

    /// Short lines that say what this configuration does, for the first log lines.
    pub fn summary(&self) -> Vec<String> {
        let mut lines = vec![
            format!("listening on http://{}", self.server.listen),
            match &self.database.target {
                DatabaseTarget::Sqlite(p) => format!("store: SQLite at {}", p.display()),
                DatabaseTarget::Postgres(_) => "store: PostgreSQL (url from database.url)".into(),
            },
            match &self.llm {
                Some(llm) => format!(
                    "planner: LLM ({}), falling back to the deterministic planner",
                    llm.model
                ),
                None => "planner: deterministic (no LLM api key configured)".into(),
            },
            if self.dry_run() {
                if self.hosts.is_empty() {
                    "executor: dry run (no [[hosts]] configured yet): commands are recorded, never run".into()
                } else {
                    "executor: dry run (executor.dry_run = true): commands are recorded, never run"
                        .into()
                }
            } else {
                format!("executor: SSH to {} configured host(s)", self.hosts.len())
            },
            if self.verification_enabled() {
                format!(
                    "verification: on, via Prometheus at {}",
                    self.prometheus
                        .as_ref()
                        .map(|p| p.url.as_str())
                        .unwrap_or("")
                )
            } else if self.prometheus.is_none() {
                "verification: off (no Prometheus configured): outcomes are \"unverified\"".into()
            } else {
                "verification: off (pipeline.verification_enabled = false): outcomes are \"unverified\"".into()
            },
            match &self.server.webhook_password {
                Some(_) => format!(
                    "webhook auth: HTTP basic, user {:?}",
                    self.server.webhook_user
                ),
                None => "webhook auth: none configured, so only loopback peers are accepted".into(),
            },
            format!(
                "notifications: {}",
                if self.discord.is_some() {
                    "Discord"
                } else {
                    "log only (no Discord webhook configured)"
                }
            ),
        ];
        if let Some(file) = &self.source {
            lines.push(format!("configuration file: {}", file.display()));
        }
        lines
    }
}

/// The exposure rule: without a password the server may only listen on loopback.
pub fn check_exposure(listen: &SocketAddr, has_password: bool) -> Result<(), String> {
    if has_password || listen.ip().is_loopback() {
        return Ok(());
    }
    Err(format!(
        "server.listen: {listen} is reachable from other machines but no webhook password is set; \
         set server.webhook_password (JARVIS_SERVER__WEBHOOK_PASSWORD or WEBHOOK_AUTH_PASSWORD) \
         or listen on 127.0.0.1"
    ))
}

/// Reads a file (optional), overlays `env` and `overrides`, and validates.
pub fn load(file: Option<&Path>, env: &Env, overrides: &Overrides) -> Result<Config, ConfigError> {
    let mut problems = Vec::new();
    let file = file.map(Path::to_path_buf).or_else(|| {
        env.get("JARVIS_CONFIG")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let mut tree = match &file {
        None => Table::new(),
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => match text.parse::<Table>() {
                Ok(t) => t,
                Err(e) => {
                    return Err(ConfigError {
                        problems: vec![format!(
                            "{}: not valid TOML: {}",
                            path.display(),
                            e.to_string().trim()
                        )],
                    });
                }
            },
            Err(e) => {
                return Err(ConfigError {
                    problems: vec![format!("{}: cannot read: {e}", path.display())],
                });
            }
        },
    };
    let origins = env::overlay(&mut tree, env, &mut problems);
    if let Some(listen) = &overrides.listen {
        set_top(&mut tree, "server", "listen", Value::String(listen.clone()));
    }
    if let Some(dir) = &overrides.data_dir {
        set_top(
            &mut tree,
            "server",
            "data_dir",
            Value::String(dir.display().to_string()),
        );
    }
    let mut parsed = Vec::new();
    let config = from_tree(tree, &mut parsed).and_then(|raw| validate(raw, &mut parsed));
    // Name the variable that set a bad key.
    for p in parsed {
        let key = p.split(':').next().unwrap_or("");
        let origin = origins
            .iter()
            .filter(|(path, _)| key == path.as_str() || key.starts_with(&format!("{path}.")))
            .max_by_key(|(path, _)| path.len())
            .map(|(_, var)| var);
        match origin {
            Some(var) => problems.push(format!("{p} (set by {var})")),
            None => problems.push(p),
        }
    }
    match config {
        Some(mut cfg) if problems.is_empty() => {
            cfg.source = file;
            Ok(cfg)
        }
        _ => Err(ConfigError { problems }),
    }
}

fn set_top(tree: &mut Table, section: &str, key: &str, value: Value) {
    let entry = tree
        .entry(section.to_string())
        .or_insert_with(|| Value::Table(Table::new()));
    if let Value::Table(t) = entry {
        t.insert(key.to_string(), value);
    } else {
        *entry = Value::Table(Table::from_iter([(key.to_string(), value)]));
    }
}

/// Phase one, section by section, so every broken section is reported.
struct RawConfig {
    server: RawServer,
    database: RawDatabase,
    pipeline: PipelineConfig,
    safety: SafetyConfig,
    hosts: Vec<RawHost>,
    routing: Vec<RouteRule>,
    correlation: CorrelationConfig,
    learning: LearningConfig,
    anomaly_extra: RawAnomalyExtra,
    anomaly: AnomalyConfig,
    report: RawReport,
    backups: RawBackups,
    self_restart: RawSelfRestart,
    runbooks: RawRunbooks,
    seeds: RawSeeds,
    executor: RawExecutor,
    llm: RawLlm,
    discord: RawDiscord,
    prometheus: RawPrometheus,
    alertmanager: RawUrlService,
    loki: RawLoki,
    home_assistant: RawHomeAssistant,
    n8n: RawN8n,
}

/// The sections of the file, in documentation order.
pub const SECTIONS: [&str; 23] = [
    "server",
    "database",
    "pipeline",
    "safety",
    "hosts",
    "routing",
    "correlation",
    "learning",
    "anomaly",
    "report",
    "backups",
    "self_restart",
    "runbooks",
    "seeds",
    "executor",
    "llm",
    "claude",
    "discord",
    "prometheus",
    "alertmanager",
    "loki",
    "home_assistant",
    "n8n",
];

fn from_tree(mut tree: Table, problems: &mut Vec<String>) -> Option<RawConfig> {
    for key in tree.keys() {
        if !SECTIONS.contains(&key.as_str()) {
            problems.push(format!(
                "{key}: unknown section (known: {})",
                SECTIONS.join(", ")
            ));
        }
    }
    if tree.contains_key("llm") && tree.contains_key("claude") {
        problems.push("claude: [claude] is another name for [llm]; use only one of them".into());
    }
    let llm_name = if tree.contains_key("claude") {
        "claude"
    } else {
        "llm"
    };
    fn section<T: serde::de::DeserializeOwned + Default>(
        tree: &mut Table,
        name: &str,
        problems: &mut Vec<String>,
    ) -> T {
        match tree.remove(name) {
            None => T::default(),
            Some(v) => lenient::from_value(name, v).unwrap_or_else(|e| {
                problems.push(e);
                T::default()
            }),
        }
    }
    // `[anomaly]` mixes the detector's keys with Jarvis's own.
    let mut anomaly_extra = Table::new();
    if let Some(Value::Table(a)) = tree.get_mut("anomaly") {
        for key in ["enabled", "queries"] {
            if let Some(v) = a.remove(key) {
                anomaly_extra.insert(key.to_string(), v);
            }
        }
    }
    let anomaly_extra =
        lenient::from_value("anomaly", Value::Table(anomaly_extra)).unwrap_or_else(|e| {
            problems.push(e);
            RawAnomalyExtra::default()
        });
    let raw = RawConfig {
        server: section(&mut tree, "server", problems),
        database: section(&mut tree, "database", problems),
        pipeline: section(&mut tree, "pipeline", problems),
        safety: section(&mut tree, "safety", problems),
        hosts: section(&mut tree, "hosts", problems),
        routing: section(&mut tree, "routing", problems),
        correlation: section(&mut tree, "correlation", problems),
        learning: section(&mut tree, "learning", problems),
        anomaly_extra,
        anomaly: section(&mut tree, "anomaly", problems),
        report: section(&mut tree, "report", problems),
        backups: section(&mut tree, "backups", problems),
        self_restart: section(&mut tree, "self_restart", problems),
        runbooks: section(&mut tree, "runbooks", problems),
        seeds: section(&mut tree, "seeds", problems),
        executor: section(&mut tree, "executor", problems),
        llm: section(&mut tree, llm_name, problems),
        discord: section(&mut tree, "discord", problems),
        prometheus: section(&mut tree, "prometheus", problems),
        alertmanager: section(&mut tree, "alertmanager", problems),
        loki: section(&mut tree, "loki", problems),
        home_assistant: section(&mut tree, "home_assistant", problems),
        n8n: section(&mut tree, "n8n", problems),
    };
    // Keep validating what parsed, so every problem is listed at once.
    Some(raw)
}

fn secs(v: Option<u64>, default: u64) -> Duration {
    Duration::from_secs(v.unwrap_or(default))
}

fn http_url(key: &str, raw: &str, problems: &mut Vec<String>) -> Option<Url> {
    match Url::parse(raw.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Some(u),
        Ok(u) => {
            problems.push(format!(
                "{key}: expected an http(s) URL, found scheme `{}`",
                u.scheme()
            ));
            None
        }
        Err(e) => {
            problems.push(format!("{key}: not a URL ({e})"));
            None
        }
    }
}

/// A URL for an error message: scheme, host and port only.
pub fn redact_url(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}://{}:{port}", url.scheme(), url.host_str().unwrap_or("")),
        None => format!("{}://{}", url.scheme(), url.host_str().unwrap_or("")),
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn parse_listen(raw: &str) -> Result<SocketAddr, String> {
    let raw = raw.trim();
    if let Ok(addr) = raw.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some(port) = raw.strip_prefix("localhost:")
        && let Ok(port) = port.parse::<u16>()
    {
        return Ok(SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port));
    }
    if let Ok(port) = raw.trim_start_matches(':').parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port));
    }
    Err(format!(
        "server.listen: {raw:?} is not an address such as 127.0.0.1:8000 or 0.0.0.0:8000"
    ))
}

fn validate(raw: RawConfig, problems: &mut Vec<String>) -> Option<Config> {
    // [server]
    let listen = match parse_listen(raw.server.listen.as_deref().unwrap_or(DEFAULT_LISTEN)) {
        Ok(a) => a,
        Err(e) => {
            problems.push(e);
            DEFAULT_LISTEN.parse().ok()?
        }
    };
    let webhook_password = non_empty(raw.server.webhook_password).map(SecretString::from);
    if let Err(e) = check_exposure(&listen, webhook_password.is_some()) {
        problems.push(e);
    }
    let webhook_user = raw
        .server
        .webhook_user
        .unwrap_or_else(|| DEFAULT_WEBHOOK_USER.to_string());
    if webhook_user.is_empty() || webhook_user.contains(':') {
        problems.push("server.webhook_user: must be non-empty and contain no `:`".into());
    }
    let body_limit = raw
        .server
        .body_limit_bytes
        .unwrap_or(DEFAULT_BODY_LIMIT as u64);
    if !(1024..=64 * 1024 * 1024).contains(&body_limit) {
        problems.push(format!(
            "server.body_limit_bytes: must be between 1024 and 67108864, not {body_limit}"
        ));
    }
    let data_dir = raw
        .server
        .data_dir
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("data"));
    let grace = raw.server.shutdown_grace_secs.unwrap_or(10);
    if grace == 0 || grace > 300 {
        problems.push(format!(
            "server.shutdown_grace_secs: must be between 1 and 300, not {grace}"
        ));
    }
    let server = ServerConfig {
        listen,
        data_dir: data_dir.clone(),
        body_limit_bytes: body_limit as usize,
        public_reads: raw.server.public_reads.unwrap_or(false),
        webhook_user,
        webhook_password,
        shutdown_grace: Duration::from_secs(grace),
        public_url: non_empty(raw.server.public_url)
            .and_then(|u| http_url("server.public_url", &u, problems)),
    };

    // [database]
    let target = match non_empty(raw.database.url) {
        None => DatabaseTarget::Sqlite(data_dir.join("jarvis.db")),
        Some(url) => {
            if let Some(path) = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
            {
                let path = path.split('?').next().unwrap_or(path);
                if path.is_empty() || path == ":memory:" {
                    problems.push(
                        "database.url: a SQLite URL needs a file path (sqlite://data/jarvis.db)"
                            .into(),
                    );
                }
                DatabaseTarget::Sqlite(PathBuf::from(path))
            } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                DatabaseTarget::Postgres(SecretString::from(url))
            } else {
                let scheme = url.split(':').next().unwrap_or("");
                problems.push(format!(
                    "database.url: unsupported scheme `{scheme}` (use sqlite:// or postgres://)"
                ));
                DatabaseTarget::Sqlite(data_dir.join("jarvis.db"))
            }
        }
    };
    let retention_days = raw.database.retention_days.unwrap_or(30);
    if retention_days == 0 {
        problems.push("database.retention_days: must be at least 1".into());
    }
    let spool_max_alerts = raw
        .database
        .spool_max_alerts
        .map_or(crate::spool::DEFAULT_MAX_ALERTS, |n| n as usize);
    if spool_max_alerts == 0 {
        problems.push("database.spool_max_alerts: must be at least 1".into());
    }

    // [pipeline], [learning], [anomaly], [correlation]
    problems.extend(raw.pipeline.validate());
    problems.extend(validate_learning(&raw.learning));
    problems.extend(raw.anomaly.validate());
    if let Err(e) = Correlator::new(&raw.correlation) {
        problems.push(format!("correlation: {e}"));
    }

    // [[hosts]]
    let executor_dry_run = raw.executor.dry_run.unwrap_or(false);
    let mut names = BTreeSet::new();
    let mut hosts = Vec::new();
    for (i, h) in raw.hosts.into_iter().enumerate() {
        let key = |k: &str| format!("hosts[{i}].{k}");
        if h.name.trim().is_empty() {
            problems.push(format!("{}: must not be empty", key("name")));
        } else if !names.insert(h.name.clone()) {
            problems.push(format!(
                "{}: host `{}` is configured twice",
                key("name"),
                h.name
            ));
        }
        if h.address.trim().is_empty() {
            problems.push(format!("{}: must not be empty", key("address")));
        }
        if h.user.trim().is_empty() {
            problems.push(format!("{}: must not be empty", key("user")));
        }
        if h.port == Some(0) {
            problems.push(format!("{}: must be between 1 and 65535", key("port")));
        }
        if h.key_file.is_none() && !executor_dry_run {
            problems.push(format!(
                "{}: required to run commands over SSH (or set executor.dry_run = true)",
                key("key_file")
            ));
        }
        if h.command_timeout_secs.is_some_and(|t| t == 0 || t > 3600) {
            problems.push(format!(
                "{}: must be between 1 and 3600",
                key("command_timeout_secs")
            ));
        }
        hosts.push(HostConfig {
            name: h.name,
            address: h.address,
            port: h.port.unwrap_or(22),
            user: h.user,
            role: h.role,
            tags: h.tags,
            key_file: h.key_file,
            known_hosts: h.known_hosts,
            pinned_keys: h.pinned_keys,
            trust_on_first_use: h.trust_on_first_use,
            command_timeout_secs: h.command_timeout_secs,
        });
    }
    let host_names: Vec<String> = hosts.iter().map(|h| h.name.clone()).collect();

    // [safety]
    if let Err(e) = SafetyPolicy::new(&raw.safety, &host_names) {
        problems.extend(e.issues.iter().map(ToString::to_string));
    }

    // [[routing]]
    for (i, rule) in raw.routing.iter().enumerate() {
        if rule.alert.trim().is_empty() {
            problems.push(format!("routing[{i}].alert: must not be empty"));
        }
        if rule.by_label.trim().is_empty() {
            problems.push(format!("routing[{i}].by_label: must not be empty"));
        }
        if !hosts.is_empty() {
            for (value, route) in &rule.routes {
                if !names.contains(&route.host) {
                    problems.push(format!(
                        "routing[{i}].routes.{value}.host: host `{}` is not in [[hosts]]",
                        route.host
                    ));
                }
            }
        }
    }

    // [executor]
    let command_timeout = raw.executor.command_timeout_secs.unwrap_or(300);
    if command_timeout == 0 || command_timeout > 3600 {
        problems.push(format!(
            "executor.command_timeout_secs: must be between 1 and 3600, not {command_timeout}"
        ));
    }
    let executor = ExecutorConfig {
        dry_run: executor_dry_run,
        command_timeout_secs: command_timeout,
        connect_timeout_secs: raw.executor.connect_timeout_secs.unwrap_or(10),
        output_cap_bytes: raw.executor.output_cap_bytes.unwrap_or(64 * 1024) as usize,
    };

    // [runbooks], [seeds]
    let runbooks = match raw.runbooks.dir {
        Some(dir) => {
            if !dir.is_dir() {
                problems.push(format!(
                    "runbooks.dir: {} is not a directory",
                    dir.display()
                ));
            }
            RunbooksConfig {
                dir,
                explicit: true,
            }
        }
        None => RunbooksConfig {
            dir: PathBuf::from("runbooks"),
            explicit: false,
        },
    };
    if let Some(file) = &raw.seeds.file
        && !file.is_file()
    {
        problems.push(format!("seeds.file: {} does not exist", file.display()));
    }

    // Integrations.
    let llm = match non_empty(raw.llm.api_key) {
        None => None,
        Some(key) => {
            let base = raw
                .llm
                .base_url
                .unwrap_or_else(|| "https://api.anthropic.com".to_string());
            let base_url = http_url("llm.base_url", &base, problems);
            let model = non_empty(raw.llm.model).unwrap_or_else(|| "claude-sonnet-4-5".into());
            let max_tokens = raw.llm.max_tokens.unwrap_or(4096);
            if max_tokens == 0 {
                problems.push("llm.max_tokens: must be at least 1".into());
            }
            base_url.map(|base_url| LlmConfig {
                api_key: SecretString::from(key),
                base_url,
                model,
                max_tokens,
                max_iterations: raw.llm.max_iterations.unwrap_or(20),
                incident_token_budget: raw.llm.incident_token_budget.unwrap_or(200_000),
                daily_token_budget: raw.llm.daily_token_budget.unwrap_or(2_000_000),
                timeout: secs(raw.llm.timeout_secs, 120),
            })
        }
    };
    let discord = non_empty(raw.discord.webhook_url).and_then(|u| {
        http_url("discord.webhook_url", &u, problems).map(|_| DiscordConfig {
            webhook_url: SecretString::from(u),
            username: non_empty(raw.discord.username).unwrap_or_else(|| "Jarvis".into()),
        })
    });
    let prometheus = non_empty(raw.prometheus.url).and_then(|u| {
        let poll = raw.prometheus.poll_interval_secs.unwrap_or(5.0);
        if !(poll.is_finite() && poll > 0.0 && poll <= 600.0) {
            problems.push(format!(
                "prometheus.poll_interval_secs: must be within (0, 600], not {poll}"
            ));
        }
        http_url("prometheus.url", &u, problems).map(|url| PrometheusSettings {
            url,
            request_timeout: secs(raw.prometheus.request_timeout_secs, 10),
            poll_interval: Duration::from_secs_f64(poll.clamp(0.001, 600.0)),
        })
    });
    let alertmanager = non_empty(raw.alertmanager.url).and_then(|u| {
        http_url("alertmanager.url", &u, problems).map(|url| ServiceConfig {
            url,
            request_timeout: secs(raw.alertmanager.request_timeout_secs, 10),
        })
    });
    let loki = non_empty(raw.loki.url).and_then(|u| {
        http_url("loki.url", &u, problems).map(|url| LokiSettings {
            url,
            org_id: non_empty(raw.loki.org_id),
            request_timeout: secs(raw.loki.request_timeout_secs, 10),
        })
    });
    let ha_token = non_empty(raw.home_assistant.token);
    let home_assistant = match non_empty(raw.home_assistant.url) {
        None => None,
        Some(u) => {
            let url = http_url("home_assistant.url", &u, problems);
            if ha_token.is_none() {
                problems.push(
                    "home_assistant.token: required when home_assistant.url is set (HA_TOKEN)"
                        .into(),
                );
            }
            match (url, ha_token) {
                (Some(url), Some(token)) => Some(HomeAssistantSettings {
                    url,
                    token: SecretString::from(token),
                    request_timeout: secs(raw.home_assistant.request_timeout_secs, 30),
                }),
                _ => None,
            }
        }
    };
    let n8n = non_empty(raw.n8n.url).and_then(|u| {
        http_url("n8n.url", &u, problems).map(|url| N8nSettings {
            url,
            api_key: non_empty(raw.n8n.api_key).map(SecretString::from),
            self_restart_webhook: non_empty(raw.n8n.self_restart_webhook),
            request_timeout: secs(raw.n8n.request_timeout_secs, 30),
        })
    });
    let anomaly = AnomalySettings {
        enabled: raw.anomaly_extra.enabled.unwrap_or(false),
        queries: raw.anomaly_extra.queries,
        detector: raw.anomaly,
    };
    if anomaly.enabled && prometheus.is_none() {
        problems.push("anomaly.enabled: anomaly detection needs [prometheus] url".into());
    }

    // [report], [backups], [self_restart]
    let schedule = ReportSchedule::parse(
        raw.report.time.as_deref().unwrap_or("08:00"),
        raw.report.utc_offset.as_deref().unwrap_or("+00:00"),
    )
    .unwrap_or_else(|e| {
        let key = if e.contains("offset") {
            "report.utc_offset"
        } else {
            "report.time"
        };
        problems.push(format!("{key}: {e}"));
        ReportSchedule::default()
    });
    let report = ReportSettings {
        enabled: raw.report.enabled.unwrap_or(true),
        schedule,
    };
    let backups = non_empty(raw.backups.query).map(|query| {
        if prometheus.is_none() {
            problems.push("backups.query: backup checks need [prometheus] url".into());
        }
        let defaults = PredictConfig::default();
        let predict = PredictConfig {
            backup_tolerance: raw.backups.tolerance.unwrap_or(defaults.backup_tolerance),
            backup_max_age_hours: raw
                .backups
                .max_age_hours
                .unwrap_or(defaults.backup_max_age_hours),
            ..defaults
        };
        if !(predict.backup_tolerance.is_finite() && predict.backup_tolerance >= 1.0) {
            problems.push(format!(
                "backups.tolerance: must be at least 1, not {}",
                predict.backup_tolerance
            ));
        }
        if !(predict.backup_max_age_hours.is_finite() && predict.backup_max_age_hours > 0.0) {
            problems.push(format!(
                "backups.max_age_hours: must be positive, not {}",
                predict.backup_max_age_hours
            ));
        }
        let interval = raw.backups.check_interval_secs.unwrap_or(900);
        if interval < 10 {
            problems.push(format!(
                "backups.check_interval_secs: must be at least 10, not {interval}"
            ));
        }
        BackupSettings {
            query,
            system_label: non_empty(raw.backups.system_label)
                .unwrap_or_else(|| jarvis_core::anomaly::backup::SYSTEM_LABEL.to_string()),
            check_interval: Duration::from_secs(interval.max(10)),
            history: Duration::from_secs(raw.backups.history_hours.unwrap_or(168).max(1) * 3600),
            predict,
        }
    });
    let self_restart = HandoffPolicy {
        timeout: chrono::Duration::minutes(
            raw.self_restart.timeout_minutes.unwrap_or(10).min(24 * 60) as i64,
        ),
        cleanup_after: chrono::Duration::minutes(
            raw.self_restart
                .stale_cleanup_minutes
                .unwrap_or(30)
                .min(7 * 24 * 60) as i64,
        ),
    };
    problems.extend(self_restart.validate());

    Some(Config {
        server,
        database: DatabaseConfig {
            target,
            retention_days,
            spool_max_alerts,
        },
        pipeline: raw.pipeline,
        safety: raw.safety,
        hosts,
        routing: Routing { rules: raw.routing },
        correlation: raw.correlation,
        learning: raw.learning,
        anomaly,
        report,
        backups,
        self_restart,
        runbooks,
        seeds: SeedsConfig {
            file: raw.seeds.file,
        },
        executor,
        llm,
        discord,
        prometheus,
        alertmanager,
        loki,
        home_assistant,
        n8n,
        source: None,
    })
}

fn validate_learning(cfg: &LearningConfig) -> Vec<String> {
    let mut out = Vec::new();
    for (key, v) in [
        ("cache_confidence", cfg.cache_confidence),
        ("hint_confidence", cfg.hint_confidence),
    ] {
        if !(0.0..=1.0).contains(&v) {
            out.push(format!("learning.{key}: must be within [0, 1], not {v}"));
        }
    }
    if cfg.hint_confidence > cfg.cache_confidence {
        out.push("learning.hint_confidence: must not exceed learning.cache_confidence".into());
    }
    for (key, v) in [
        ("half_life_days", cfg.half_life_days),
        ("prior_successes", cfg.prior_successes),
        ("prior_failures", cfg.prior_failures),
    ] {
        if !(v.is_finite() && v > 0.0) {
            out.push(format!("learning.{key}: must be positive, not {v}"));
        }
    }
    for (key, v) in [
        ("confidence_z", cfg.confidence_z),
        (
            "price_per_million_input_tokens",
            cfg.price_per_million_input_tokens,
        ),
        (
            "price_per_million_output_tokens",
            cfg.price_per_million_output_tokens,
        ),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            out.push(format!("learning.{key}: must be zero or positive, not {v}"));
        }
    }
    out
}

/// Exposes a secret for an outgoing request. Kept in one place so secret use is greppable.
pub fn expose(secret: &SecretString) -> &str {
    secret.expose_secret()
}

#[cfg(test)]
mod tests;
