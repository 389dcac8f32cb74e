//! The scenario file format (YAML or TOML, chosen by extension).
//!
//! A scenario describes a world (hosts, services, disks, VPN links, backups,
//! certificates, metric series), a timeline of faults and Alertmanager-shaped
//! alerts, an optional scripted LLM, configuration overrides, the simulated
//! operator, and the expectations the run is checked against.
//! `docs/SCENARIOS.md` documents every field with a worked example.

use std::fmt;
use std::path::Path;

use chrono::{DateTime, Utc};
use jarvis_core::correlation::CorrelationConfig;
use jarvis_core::domain::{Labels, Step};
use jarvis_core::hints::RouteRule;
use jarvis_core::learning::LearningConfig;
use jarvis_core::pipeline::PipelineConfig;
use jarvis_core::safety::SafetyConfig;
use serde::{Deserialize, Deserializer, Serialize};

/// One scenario file.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique name; defaults to the file stem.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Simulated start time (default 2026-03-01T00:00:00Z).
    #[serde(default)]
    pub start: Option<DateTime<Utc>>,
    /// How long to simulate; default: the last timeline event plus `settle`.
    #[serde(default)]
    pub duration: Option<Dur>,
    /// Time simulated after the last timeline event when `duration` is absent (default 1h).
    #[serde(default)]
    pub settle: Option<Dur>,
    /// How often the simulated Prometheus evaluates its rules (default 30s).
    #[serde(default)]
    pub eval_interval: Option<Dur>,
    #[serde(default)]
    pub world: WorldSpec,
    #[serde(default)]
    pub timeline: Vec<Event>,
    /// A scripted LLM planner; absent: the deterministic planner plans alone.
    #[serde(default)]
    pub llm: Option<LlmScript>,
    #[serde(default)]
    pub operator: Operator,
    #[serde(default)]
    pub config: ConfigOverrides,
    #[serde(default)]
    pub expect: Expectations,
    /// Generates the world and the timeline instead of (or in addition to) listing them.
    #[serde(default)]
    pub generate: Option<Generate>,
}

/// A duration: seconds as an integer, or a string such as `90s`, `10m`, `2h`, `1d`, `1h30m`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub u64);

impl Dur {
    pub fn chrono(self) -> chrono::Duration {
        chrono::Duration::seconds(self.0 as i64)
    }

    pub fn parse(s: &str) -> Result<Dur, String> {
        let s = s.trim();
        if let Ok(n) = s.parse::<u64>() {
            return Ok(Dur(n));
        }
        let mut total = 0u64;
        let mut num = String::new();
        for c in s.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                'w' => 7 * 86_400,
                _ => return Err(format!("invalid duration {s:?}: unknown unit {c:?}")),
            };
            let n: u64 = num
                .parse()
                .map_err(|_| format!("invalid duration {s:?}: a unit without a number"))?;
            total += n * unit;
            num.clear();
        }
        if !num.is_empty() || s.is_empty() {
            return Err(format!("invalid duration {s:?}: use e.g. 90s, 10m, 2h, 1d"));
        }
        Ok(Dur(total))
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.0)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(Dur(n)),
            Raw::S(s) => Dur::parse(&s).map_err(serde::de::Error::custom),
        }
    }
}

impl Serialize for Dur {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

// --- world ----------------------------------------------------------------

/// The simulated homelab.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorldSpec {
    #[serde(default)]
    pub hosts: Vec<HostSpec>,
    #[serde(default)]
    pub services: Vec<ServiceSpec>,
    #[serde(default)]
    pub vpn_links: Vec<VpnSpec>,
    #[serde(default)]
    pub backups: Vec<BackupSpec>,
    #[serde(default)]
    pub certificates: Vec<CertSpec>,
    /// Free-form metric series, read by `rules`.
    #[serde(default)]
    pub metrics: Vec<MetricSpec>,
    /// Extra alert rules over `metrics`.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    #[serde(default)]
    pub thresholds: Thresholds,
    /// Commands (substrings) that exit 0 and change nothing: fixes that do not fix.
    #[serde(default)]
    pub broken_fixes: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    pub name: String,
    /// The host's role (symptom label `host_role` for learning).
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default = "default_memory")]
    pub memory_mb: u64,
    #[serde(default)]
    pub disks: Vec<DiskSpec>,
    #[serde(default = "yes")]
    pub online: bool,
}

fn default_memory() -> u64 {
    8192
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DiskSpec {
    #[serde(default = "root_mount")]
    pub mount: String,
    pub size_gb: f64,
    /// Data nobody may delete automatically.
    #[serde(default)]
    pub data_gb: f64,
    /// Reclaimed by `journalctl --vacuum-*` (down to 0.5 GB).
    #[serde(default)]
    pub journal_gb: f64,
    /// Reclaimed by `docker image prune` / `docker system prune`.
    #[serde(default)]
    pub images_gb: f64,
    /// Reclaimed by `apt-get clean`.
    #[serde(default)]
    pub apt_cache_gb: f64,
}

fn root_mount() -> String {
    "/".into()
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// A Docker container (`docker restart`, ContainerDown).
    #[default]
    Container,
    /// A systemd unit (`systemctl restart`, ServiceDown).
    Systemd,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub name: String,
    pub host: String,
    #[serde(default)]
    pub kind: ServiceKind,
    /// Working set in MB after a (re)start.
    #[serde(default = "default_service_memory")]
    pub memory_mb: u64,
    /// Container memory limit; a working set above it is OOM-killed (exit 137).
    #[serde(default)]
    pub memory_limit_mb: Option<u64>,
    /// Services or VPN links this one needs; while one is down, this one is down too.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Alert name when the service is down (default ContainerDown / ServiceDown).
    #[serde(default)]
    pub alert: Option<String>,
    /// Mount point the service writes to; a full disk stops it from starting.
    #[serde(default = "root_mount")]
    pub disk: String,
    /// Annotations added to the service's alerts (untrusted text, as in real life).
    #[serde(default)]
    pub annotations: Labels,
    /// Extra labels added to the service's alerts.
    #[serde(default)]
    pub labels: Labels,
    #[serde(default = "yes")]
    pub running: bool,
}

fn default_service_memory() -> u64 {
    256
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VpnSpec {
    /// Interface name (`wg0`); restored by `systemctl restart wg-quick@<name>` on its host.
    pub name: String,
    pub host: String,
    #[serde(default = "yes")]
    pub up: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSpec {
    pub system: String,
    /// The host that runs `/usr/local/bin/backup-<system>.sh`.
    pub host: String,
    /// The exporter's `instance` label (misleading on purpose: route by `system`).
    #[serde(default = "default_exporter")]
    pub exporter: String,
    #[serde(default = "default_backup_max_age")]
    pub max_age: Dur,
    /// The timer runs the backup this often while enabled.
    #[serde(default = "default_backup_interval")]
    pub interval: Dur,
    /// Age of the last successful backup at the start.
    #[serde(default)]
    pub age: Dur,
    /// The script exits 1 (destination unreachable).
    #[serde(default)]
    pub script_broken: bool,
}

fn default_exporter() -> String {
    "backup-exporter:9100".into()
}

fn default_backup_max_age() -> Dur {
    Dur(26 * 3600)
}

fn default_backup_interval() -> Dur {
    Dur(24 * 3600)
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CertSpec {
    pub host: String,
    /// The web server that serves it (reloaded to pick up a renewal).
    #[serde(default = "default_web")]
    pub service: String,
    #[serde(default = "default_cert_days")]
    pub days_left: f64,
    /// `certbot renew` fails (exit 1).
    #[serde(default)]
    pub renew_broken: bool,
}

fn default_web() -> String {
    "nginx".into()
}

fn default_cert_days() -> f64 {
    60.0
}

/// A metric series: `value(t) = start + rate_per_hour * hours since the last reset`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    pub name: String,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub start: f64,
    #[serde(default)]
    pub rate_per_hour: f64,
    /// A command containing this text (run on `host`) resets the series to `start`.
    #[serde(default)]
    pub reset_by: Option<String>,
    #[serde(default)]
    pub host: Option<String>,
}

/// `alert` fires while `metric <op> threshold`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub alert: String,
    pub metric: String,
    #[serde(default = "default_op")]
    pub op: String,
    pub threshold: f64,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub annotations: Labels,
}

fn default_op() -> String {
    ">".into()
}

/// Thresholds of the built-in alert rules.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// DiskSpaceLow fires at or above this used percentage.
    pub disk_percent: f64,
    /// HighMemoryUsage fires at or above this used percentage.
    pub memory_percent: f64,
    /// CertificateExpiring fires below this many days.
    pub cert_days: f64,
    /// PredictiveDiskFull (anomaly::predict) looks this far ahead, in hours.
    pub predict_hours: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            disk_percent: 90.0,
            memory_percent: 90.0,
            cert_days: 14.0,
            predict_hours: 24.0,
        }
    }
}

// --- timeline -------------------------------------------------------------

/// One thing that happens at a time.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Offset from the start.
    pub at: Dur,
    /// A fault injected into the world; the alert rules notice it.
    #[serde(default)]
    pub fault: Option<Fault>,
    /// An Alertmanager-shaped alert delivered as is.
    #[serde(default)]
    pub alert: Option<AlertSpec>,
    /// The fault of this event is repaired by a person after this long.
    #[serde(default)]
    pub heal_after: Option<Dur>,
}

/// Faults. Each names the entity it breaks.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// The service stops; a restart brings it back.
    Crash {
        service: String,
        #[serde(default = "default_exit")]
        exit_code: i32,
    },
    /// The service needs more memory than its limit: it is OOM-killed (exit 137)
    /// on every start until `docker update --memory` raises the limit.
    Oom { service: String, memory_mb: u64 },
    /// The service is down and restarts exit 0 but change nothing.
    Stuck { service: String },
    /// The service's memory grows by this much per hour until it restarts.
    MemoryLeak {
        service: String,
        rate_mb_per_hour: f64,
        #[serde(default)]
        initial_mb: f64,
    },
    /// A database error alert (default `FrigateDatabaseError`) fires while the
    /// service runs; a restart clears it, or only a self-restart hand-off when
    /// `self_restart` names the target.
    DatabaseError {
        service: String,
        #[serde(default)]
        alert: Option<String>,
        #[serde(default)]
        self_restart: Option<String>,
    },
    /// The disk fills at a rate, into the journal, Docker images or data.
    DiskFill {
        host: String,
        #[serde(default = "root_mount")]
        mount: String,
        gb_per_hour: f64,
        #[serde(default)]
        into: FillTarget,
    },
    /// The VPN link goes down; services that depend on it go down with it.
    VpnDown { link: String },
    /// The backup timer stops and the last backup is older than its max age.
    BackupStale { system: String },
    /// The served certificate expires in this many days.
    CertExpiring {
        host: String,
        #[serde(default)]
        service: Option<String>,
        days_left: f64,
    },
    /// The host goes offline (every service on it with it).
    HostDown { host: String },
    /// The host comes back; its services start again.
    HostUp { host: String },
    /// The command (substring) starts exiting 0 without doing anything.
    BrokenFix { command: String },
}

fn default_exit() -> i32 {
    1
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FillTarget {
    #[default]
    Journal,
    Images,
    Data,
}

/// An alert as Alertmanager would deliver it.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSpec {
    pub labels: Labels,
    #[serde(default)]
    pub annotations: Labels,
    #[serde(default)]
    pub status: Option<String>,
    /// Alertmanager sends it resolved this long after it fired.
    #[serde(default)]
    pub resolve_after: Option<Dur>,
}

// --- LLM, operator, config --------------------------------------------------

/// A scripted LLM: each call takes the first unused turn whose `alert` matches.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LlmScript {
    pub turns: Vec<LlmTurn>,
    /// What the LLM does once no turn matches.
    #[serde(default)]
    pub when_exhausted: Exhausted,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exhausted {
    /// The LLM is unavailable: the deterministic planner takes over.
    #[default]
    Fallback,
    /// The LLM answers with an empty plan: the pipeline escalates.
    Empty,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LlmTurn {
    /// Only for incidents of this alert name.
    #[serde(default)]
    pub alert: Option<String>,
    /// The turn may be used any number of times.
    #[serde(default)]
    pub repeat: bool,
    /// Steps: a command string (run on the alert's host; `{host}`, `{container}`,
    /// `{service}`, `{system}` are filled) or a full step object (`kind: shell`, …).
    pub steps: Vec<StepSpec>,
    #[serde(default)]
    pub analysis: Option<String>,
    #[serde(default)]
    pub confidence: Option<f64>,
    #[serde(default = "default_input_tokens")]
    pub input_tokens: u64,
    #[serde(default = "default_output_tokens")]
    pub output_tokens: u64,
}

fn default_input_tokens() -> u64 {
    2_000
}

fn default_output_tokens() -> u64 {
    400
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum StepSpec {
    Command(String),
    Step(Step),
}

/// The simulated person on call.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    /// What the operator does with approval requests (default: ignore, so they expire).
    #[serde(default)]
    pub approvals: ApprovalAction,
    /// How long the operator takes to answer (default 5m).
    #[serde(default)]
    pub answer_after: Option<Dur>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalAction {
    Approve,
    Reject,
    #[default]
    Ignore,
}

/// Overrides of Jarvis's configuration for this scenario.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigOverrides {
    #[serde(default)]
    pub pipeline: Option<PipelineConfig>,
    #[serde(default)]
    pub routing: Vec<RouteRule>,
    #[serde(default)]
    pub correlation: Option<CorrelationConfig>,
    #[serde(default)]
    pub safety: Option<SafetyConfig>,
    #[serde(default)]
    pub learning: Option<LearningConfig>,
    #[serde(default)]
    pub maintenance: Vec<MaintenanceSpec>,
    /// Raise synthetic `PredictiveDiskFull` alerts from the disk series (default false).
    #[serde(default)]
    pub predictions: bool,
    /// Record host up/down changes as the host monitor does (default true).
    #[serde(default = "yes")]
    pub host_monitor: bool,
}

impl Default for ConfigOverrides {
    fn default() -> Self {
        ConfigOverrides {
            pipeline: None,
            routing: Vec::new(),
            correlation: None,
            safety: None,
            learning: None,
            maintenance: Vec::new(),
            predictions: false,
            host_monitor: true,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceSpec {
    /// Absent: the whole lab.
    #[serde(default)]
    pub host: Option<String>,
    pub start: Dur,
    pub end: Dur,
    #[serde(default)]
    pub reason: String,
}

// --- expectations -----------------------------------------------------------

/// What must hold at the end of the run.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    #[serde(default)]
    pub incidents: Vec<IncidentExpectation>,
    /// Substrings that must appear in some executed command.
    #[serde(default)]
    pub commands_run: Vec<String>,
    /// Substrings that must not appear in any executed command.
    #[serde(default)]
    pub commands_not_run: Vec<String>,
    #[serde(default)]
    pub max_commands: Option<u64>,
    #[serde(default)]
    pub max_notifications: Option<u64>,
    #[serde(default)]
    pub max_llm_calls: Option<u64>,
    #[serde(default)]
    pub min_llm_calls: Option<u64>,
    /// Attempts planned from a learned pattern (no LLM).
    #[serde(default)]
    pub min_cached: Option<u64>,
    #[serde(default)]
    pub min_refused: Option<u64>,
    #[serde(default)]
    pub max_escalations: Option<u64>,
    #[serde(default)]
    pub min_incidents: Option<u64>,
    #[serde(default)]
    pub max_incidents: Option<u64>,
    #[serde(default)]
    pub self_restarts: Option<u64>,
    /// Every incident ends in a terminal state (nothing left in flight or parked).
    #[serde(default)]
    pub all_terminal: bool,
}

/// Expectations on the incidents of one alert.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentExpectation {
    pub alert: String,
    /// Incident labels must include these.
    #[serde(default)]
    pub labels: Labels,
    /// Which matching incidents are checked: `all` (default), `first`, `last`, or a 1-based index.
    #[serde(default)]
    pub occurrence: Option<String>,
    /// Exact number of matching incidents.
    #[serde(default)]
    pub count: Option<u64>,
    /// Final state (`resolved`, `escalated`, `suppressed`, …).
    #[serde(default)]
    pub state: Option<String>,
    /// States the incident passed through.
    #[serde(default)]
    pub states_seen: Vec<String>,
    #[serde(default)]
    pub max_attempts: Option<u64>,
    #[serde(default)]
    pub min_attempts: Option<u64>,
    /// Tier of the incident's last attempt.
    #[serde(default)]
    pub tier: Option<String>,
    #[serde(default)]
    pub max_llm_calls: Option<u64>,
    #[serde(default)]
    pub commands_run: Vec<String>,
    #[serde(default)]
    pub commands_not_run: Vec<String>,
    /// Text the final reason contains.
    #[serde(default)]
    pub reason_contains: Option<String>,
}

/// A generated world and timeline.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Generate {
    /// Only `homelab` for now.
    pub kind: String,
    #[serde(default = "default_hosts")]
    pub hosts: u32,
    #[serde(default = "default_days")]
    pub days: u32,
    #[serde(default)]
    pub seed: u64,
    /// Faults per host per week (default 1.5).
    #[serde(default)]
    pub faults_per_host_week: Option<f64>,
}

fn default_hosts() -> u32 {
    10
}

fn default_days() -> u32 {
    7
}

// --- loading ----------------------------------------------------------------

/// A scenario file that could not be used, naming the file and the field.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {field}: {message}")]
pub struct ScenarioError {
    pub file: String,
    pub field: String,
    pub message: String,
}

impl ScenarioError {
    pub fn new(file: &Path, field: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError {
            file: file.display().to_string(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Parses a scenario from text; `path` chooses the format and names errors.
pub fn parse(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut scenario: Scenario = match ext.as_str() {
        "yaml" | "yml" => {
            let de = yaml_serde::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| {
                let field = field_of(e.path());
                ScenarioError::new(path, field, e.into_inner().to_string())
            })?
        }
        "toml" => {
            let de = toml::Deserializer::parse(text)
                .map_err(|e| ScenarioError::new(path, "(document)", one_line(&e.to_string())))?;
            serde_path_to_error::deserialize(de).map_err(|e| {
                let field = field_of(e.path());
                ScenarioError::new(path, field, one_line(&e.into_inner().to_string()))
            })?
        }
        other => {
            return Err(ScenarioError::new(
                path,
                "(file)",
                format!("unknown scenario extension {other:?}: use .yaml, .yml or .toml"),
            ));
        }
    };
    if scenario.name.is_empty() {
        scenario.name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("scenario")
            .to_string();
    }
    let problems = validate(&scenario);
    if let Some((field, message)) = problems.into_iter().next() {
        return Err(ScenarioError::new(path, field, message));
    }
    Ok(scenario)
}

fn field_of(path: &serde_path_to_error::Path) -> String {
    let s = path.to_string();
    if s.is_empty() || s == "." {
        "(document)".into()
    } else {
        s
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cross-references the serde types cannot check: every name refers to something that exists.
pub fn validate(s: &Scenario) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let w = &s.world;
    let hosts: Vec<&str> = w.hosts.iter().map(|h| h.name.as_str()).collect();
    let services: Vec<&str> = w.services.iter().map(|x| x.name.as_str()).collect();
    let links: Vec<&str> = w.vpn_links.iter().map(|x| x.name.as_str()).collect();
    let systems: Vec<&str> = w.backups.iter().map(|b| b.system.as_str()).collect();
    let check_host = |field: String, host: &str, problems: &mut Vec<(String, String)>| {
        if !hosts.contains(&host) {
            problems.push((field, format!("unknown host {host:?}")));
        }
    };
    for (i, svc) in w.services.iter().enumerate() {
        check_host(
            format!("world.services[{i}].host"),
            &svc.host,
            &mut problems,
        );
        for (j, dep) in svc.depends_on.iter().enumerate() {
            if !services.contains(&dep.as_str()) && !links.contains(&dep.as_str()) {
                problems.push((
                    format!("world.services[{i}].depends_on[{j}]"),
                    format!("{dep:?} is neither a service nor a VPN link"),
                ));
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, svc) in w.services.iter().enumerate() {
        if !seen.insert(svc.name.as_str()) {
            problems.push((
                format!("world.services[{i}].name"),
                format!("duplicate service {:?}", svc.name),
            ));
        }
    }
    for (i, v) in w.vpn_links.iter().enumerate() {
        check_host(format!("world.vpn_links[{i}].host"), &v.host, &mut problems);
    }
    for (i, b) in w.backups.iter().enumerate() {
        check_host(format!("world.backups[{i}].host"), &b.host, &mut problems);
    }
    for (i, c) in w.certificates.iter().enumerate() {
        check_host(
            format!("world.certificates[{i}].host"),
            &c.host,
            &mut problems,
        );
    }
    for (i, r) in w.rules.iter().enumerate() {
        if !w.metrics.iter().any(|m| m.name == r.metric) {
            problems.push((
                format!("world.rules[{i}].metric"),
                format!("unknown metric {:?}", r.metric),
            ));
        }
        if !matches!(r.op.as_str(), ">" | ">=" | "<" | "<=" | "==" | "!=") {
            problems.push((
                format!("world.rules[{i}].op"),
                format!("unknown operator {:?}", r.op),
            ));
        }
    }
    for (i, e) in s.timeline.iter().enumerate() {
        match (&e.fault, &e.alert) {
            (None, None) | (Some(_), Some(_)) => problems.push((
                format!("timeline[{i}]"),
                "give exactly one of `fault` or `alert`".into(),
            )),
            (Some(f), None) => {
                let field = format!("timeline[{i}].fault");
                let svc = |name: &str| services.contains(&name);
                match f {
                    Fault::Crash { service, .. }
                    | Fault::Oom { service, .. }
                    | Fault::Stuck { service }
                    | Fault::MemoryLeak { service, .. }
                    | Fault::DatabaseError { service, .. } => {
                        if !svc(service) {
                            problems.push((
                                format!("{field}.service"),
                                format!("unknown service {service:?}"),
                            ));
                        }
                    }
                    Fault::DiskFill { host, mount, .. } => {
                        let ok = w
                            .hosts
                            .iter()
                            .any(|h| &h.name == host && h.disks.iter().any(|d| &d.mount == mount));
                        if !ok {
                            problems.push((
                                format!("{field}.mount"),
                                format!("host {host:?} has no disk {mount:?}"),
                            ));
                        }
                    }
                    Fault::VpnDown { link } => {
                        if !links.contains(&link.as_str()) {
                            problems.push((
                                format!("{field}.link"),
                                format!("unknown VPN link {link:?}"),
                            ));
                        }
                    }
                    Fault::BackupStale { system } => {
                        if !systems.contains(&system.as_str()) {
                            problems.push((
                                format!("{field}.system"),
                                format!("unknown backup system {system:?}"),
                            ));
                        }
                    }
                    Fault::CertExpiring { host, .. }
                    | Fault::HostDown { host }
                    | Fault::HostUp { host } => {
                        check_host(format!("{field}.host"), host, &mut problems);
                    }
                    Fault::BrokenFix { .. } => {}
                }
            }
            (None, Some(a)) => {
                if !a.labels.contains_key("alertname") {
                    problems.push((
                        format!("timeline[{i}].alert.labels"),
                        "an alert needs an `alertname` label".into(),
                    ));
                }
                if let Some(status) = &a.status
                    && status != "firing"
                    && status != "resolved"
                {
                    problems.push((
                        format!("timeline[{i}].alert.status"),
                        format!("{status:?} is neither firing nor resolved"),
                    ));
                }
            }
        }
    }
    for (i, m) in s.config.maintenance.iter().enumerate() {
        if let Some(h) = &m.host {
            check_host(format!("config.maintenance[{i}].host"), h, &mut problems);
        }
        if m.end <= m.start {
            problems.push((
                format!("config.maintenance[{i}].end"),
                "must be after start".into(),
            ));
        }
    }
    if let Some(p) = &s.config.pipeline
        && let Some(issue) = p.validate().into_iter().next()
    {
        problems.push(("config.pipeline".into(), issue));
    }
    for (i, e) in s.expect.incidents.iter().enumerate() {
        if let Some(state) = &e.state
            && jarvis_core::domain::IncidentState::parse(state).is_none()
        {
            problems.push((
                format!("expect.incidents[{i}].state"),
                format!("unknown incident state {state:?}"),
            ));
        }
        for (j, state) in e.states_seen.iter().enumerate() {
            if jarvis_core::domain::IncidentState::parse(state).is_none() {
                problems.push((
                    format!("expect.incidents[{i}].states_seen[{j}]"),
                    format!("unknown incident state {state:?}"),
                ));
            }
        }
        if let Some(o) = &e.occurrence
            && !matches!(o.as_str(), "all" | "first" | "last")
            && o.parse::<usize>().map_or(true, |n| n == 0)
        {
            problems.push((
                format!("expect.incidents[{i}].occurrence"),
                format!("{o:?}: use all, first, last or a 1-based index"),
            ));
        }
        if let Some(t) = &e.tier
            && !jarvis_core::domain::Tier::ALL
                .iter()
                .any(|x| x.as_str() == t)
        {
            problems.push((
                format!("expect.incidents[{i}].tier"),
                format!("unknown tier {t:?}"),
            ));
        }
    }
    if let Some(g) = &s.generate
        && g.kind != "homelab"
    {
        problems.push((
            "generate.kind".into(),
            format!("unknown generator {:?}: only `homelab`", g.kind),
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_units() {
        assert_eq!(Dur::parse("90").unwrap(), Dur(90));
        assert_eq!(Dur::parse("90s").unwrap(), Dur(90));
        assert_eq!(Dur::parse("1h30m").unwrap(), Dur(5400));
        assert_eq!(Dur::parse("2d").unwrap(), Dur(172_800));
        assert!(Dur::parse("10x").is_err());
        assert!(Dur::parse("h").is_err());
    }

    #[test]
    fn parse_errors_name_the_file_and_field() {
        let text = "name: x\nworld:\n  hosts:\n    - name: a\n      memory_mb: lots\n";
        let err = parse(Path::new("bad.yaml"), text).unwrap_err();
        assert_eq!(err.file, "bad.yaml");
        assert_eq!(err.field, "world.hosts[0].memory_mb");
        let text = "timeline:\n  - at: 5m\n    fault: {kind: crash, service: nope}\n";
        let err = parse(Path::new("bad.yaml"), text).unwrap_err();
        assert_eq!(err.field, "timeline[0].fault.service");
    }

    #[test]
    fn toml_and_yaml_read_the_same_scenario() {
        let yaml = "name: t\nworld:\n  hosts:\n    - name: h\n";
        let toml = "name = \"t\"\n[[world.hosts]]\nname = \"h\"\n";
        let a = parse(Path::new("a.yaml"), yaml).unwrap();
        let b = parse(Path::new("a.toml"), toml).unwrap();
        assert_eq!(a.world.hosts[0].name, b.world.hosts[0].name);
    }
}
