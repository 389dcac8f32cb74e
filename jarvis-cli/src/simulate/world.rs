//! The simulated homelab: state, continuous processes, alert rules and command effects.
//!
//! Time only moves through [`World::advance`]. The alert rules ([`World::firing`])
//! are what the simulated Prometheus evaluates; the Verifier asks the same rules,
//! so verification is honest. [`World::run_command`] maps command text to effects.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use chrono::{DateTime, Duration, Utc};
use jarvis_core::anomaly::predict::{self, PredictConfig};
use jarvis_core::domain::{Alert, Labels};

use super::scenario::{Fault, FillTarget, ServiceKind, Thresholds, WorldSpec};

/// Alert name of the predicted disk fill, raised by `jarvis_core::anomaly::predict`.
pub const PREDICTED_DISK_ALERT: &str = predict::DISK_FULL_ALERT;
const DEFAULT_DB_ALERT: &str = "FrigateDatabaseError";
/// Labels that identify what an alert is about, for matching a delivered alert to a rule.
const IDENTITY: [&str; 7] = [
    "container",
    "service",
    "system",
    "host",
    "instance",
    "mountpoint",
    "interface",
];

/// An alert the rules produce right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorldAlert {
    pub labels: Labels,
    pub annotations: Labels,
}

/// What a command did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandOutcome {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Simulated seconds the command took.
    pub seconds: u64,
}

/// Why a command could not run at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    UnknownHost(String),
    Offline(String),
}

#[derive(Debug, Clone)]
struct Disk {
    mount: String,
    size_gb: f64,
    data_gb: f64,
    journal_gb: f64,
    images_gb: f64,
    apt_gb: f64,
    fill: Option<(f64, FillTarget)>,
    /// (time, used GB), the last hour.
    samples: VecDeque<(DateTime<Utc>, f64)>,
}

impl Disk {
    fn used(&self) -> f64 {
        (self.data_gb + self.journal_gb + self.images_gb + self.apt_gb).min(self.size_gb)
    }

    fn percent(&self) -> f64 {
        if self.size_gb <= 0.0 {
            0.0
        } else {
            self.used() / self.size_gb * 100.0
        }
    }

    fn full(&self) -> bool {
        self.used() >= self.size_gb - 1e-9
    }
}

#[derive(Debug, Clone)]
struct HostState {
    online: bool,
    memory_mb: u64,
    disks: Vec<Disk>,
}

#[derive(Debug, Clone)]
struct Service {
    name: String,
    host: String,
    kind: ServiceKind,
    memory_mb: u64,
    limit_mb: Option<u64>,
    leak_mb: f64,
    leak_rate: f64,
    depends_on: Vec<String>,
    alert: Option<String>,
    disk: String,
    annotations: Labels,
    labels: Labels,
    running: bool,
    stuck: bool,
    /// (alert name, self-restart target needed)
    db_error: Option<(String, Option<String>)>,
    last_exit: Option<i32>,
    restarts: u32,
}

#[derive(Debug, Clone)]
struct Vpn {
    host: String,
    up: bool,
}

#[derive(Debug, Clone)]
struct Backup {
    host: String,
    exporter: String,
    max_age: Duration,
    interval: Duration,
    last_success: DateTime<Utc>,
    timer: bool,
    script_broken: bool,
}

#[derive(Debug, Clone)]
struct Cert {
    host: String,
    service: String,
    served: DateTime<Utc>,
    file: DateTime<Utc>,
    renew_broken: bool,
}

#[derive(Debug, Clone)]
struct Metric {
    name: String,
    labels: Labels,
    start: f64,
    rate: f64,
    since: DateTime<Utc>,
    reset_by: Option<String>,
    host: Option<String>,
}

#[derive(Debug, Clone)]
struct Rule {
    alert: String,
    metric: String,
    op: String,
    threshold: f64,
    labels: Labels,
    annotations: Labels,
}

/// The world.
#[derive(Debug, Clone)]
pub struct World {
    now: DateTime<Utc>,
    hosts: BTreeMap<String, HostState>,
    services: BTreeMap<String, Service>,
    vpns: BTreeMap<String, Vpn>,
    backups: BTreeMap<String, Backup>,
    certs: Vec<Cert>,
    metrics: Vec<Metric>,
    rules: Vec<Rule>,
    thresholds: Thresholds,
    broken: Vec<String>,
    predictions: bool,
    predict: PredictConfig,
    /// Alert names faults introduced (database errors), known to the rules from then on.
    extra_alerts: BTreeSet<String>,
    /// Self-restarts performed, by target.
    pub self_restarts: Vec<String>,
}

impl World {
    pub fn new(spec: &WorldSpec, now: DateTime<Utc>, predictions: bool) -> World {
        let hosts = spec
            .hosts
            .iter()
            .map(|h| {
                let disks = h
                    .disks
                    .iter()
                    .map(|d| Disk {
                        mount: d.mount.clone(),
                        size_gb: d.size_gb,
                        data_gb: d.data_gb,
                        journal_gb: d.journal_gb,
                        images_gb: d.images_gb,
                        apt_gb: d.apt_cache_gb,
                        fill: None,
                        samples: VecDeque::new(),
                    })
                    .collect();
                (
                    h.name.clone(),
                    HostState {
                        online: h.online,
                        memory_mb: h.memory_mb,
                        disks,
                    },
                )
            })
            .collect();
        let services = spec
            .services
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    Service {
                        name: s.name.clone(),
                        host: s.host.clone(),
                        kind: s.kind,
                        memory_mb: s.memory_mb,
                        limit_mb: s.memory_limit_mb,
                        leak_mb: 0.0,
                        leak_rate: 0.0,
                        depends_on: s.depends_on.clone(),
                        alert: s.alert.clone(),
                        disk: s.disk.clone(),
                        annotations: s.annotations.clone(),
                        labels: s.labels.clone(),
                        running: s.running,
                        stuck: false,
                        db_error: None,
                        last_exit: None,
                        restarts: 0,
                    },
                )
            })
            .collect();
        let vpns = spec
            .vpn_links
            .iter()
            .map(|v| {
                (
                    v.name.clone(),
                    Vpn {
                        host: v.host.clone(),
                        up: v.up,
                    },
                )
            })
            .collect();
        let backups = spec
            .backups
            .iter()
            .map(|b| {
                (
                    b.system.clone(),
                    Backup {
                        host: b.host.clone(),
                        exporter: b.exporter.clone(),
                        max_age: b.max_age.chrono(),
                        interval: b.interval.chrono(),
                        last_success: now - b.age.chrono(),
                        timer: true,
                        script_broken: b.script_broken,
                    },
                )
            })
            .collect();
        let certs = spec
            .certificates
            .iter()
            .map(|c| {
                let expiry = now + Duration::seconds((c.days_left * 86_400.0) as i64);
                Cert {
                    host: c.host.clone(),
                    service: c.service.clone(),
                    served: expiry,
                    file: expiry,
                    renew_broken: c.renew_broken,
                }
            })
            .collect();
        let metrics = spec
            .metrics
            .iter()
            .map(|m| Metric {
                name: m.name.clone(),
                labels: m.labels.clone(),
                start: m.start,
                rate: m.rate_per_hour,
                since: now,
                reset_by: m.reset_by.clone(),
                host: m.host.clone(),
            })
            .collect();
        let rules = spec
            .rules
            .iter()
            .map(|r| Rule {
                alert: r.alert.clone(),
                metric: r.metric.clone(),
                op: r.op.clone(),
                threshold: r.threshold,
                labels: r.labels.clone(),
                annotations: r.annotations.clone(),
            })
            .collect();
        World {
            now,
            hosts,
            services,
            vpns,
            backups,
            certs,
            metrics,
            rules,
            thresholds: spec.thresholds.clone(),
            broken: spec.broken_fixes.clone(),
            predictions,
            predict: PredictConfig {
                disk_full_horizon_hours: spec.thresholds.predict_hours,
                ..PredictConfig::default()
            },
            extra_alerts: BTreeSet::new(),
            self_restarts: Vec::new(),
        }
    }

    /// Moves the world to `now`: disks fill, memory leaks, backup timers fire.
    pub fn advance(&mut self, now: DateTime<Utc>) {
        if now <= self.now {
            return;
        }
        let hours = (now - self.now).num_milliseconds() as f64 / 3_600_000.0;
        for host in self.hosts.values_mut() {
            for disk in &mut host.disks {
                if let Some((rate, target)) = disk.fill {
                    let room = (disk.size_gb - disk.used()).max(0.0);
                    let add = (rate * hours).min(room);
                    match target {
                        FillTarget::Journal => disk.journal_gb += add,
                        FillTarget::Images => disk.images_gb += add,
                        FillTarget::Data => disk.data_gb += add,
                    }
                }
                let used = disk.used();
                if disk
                    .samples
                    .back()
                    .is_none_or(|(t, _)| now - *t >= Duration::seconds(15))
                {
                    disk.samples.push_back((now, used));
                }
                while disk
                    .samples
                    .front()
                    .is_some_and(|(t, _)| now - *t > Duration::hours(1))
                {
                    disk.samples.pop_front();
                }
            }
        }
        for svc in self.services.values_mut() {
            if svc.running && svc.leak_rate > 0.0 {
                svc.leak_mb += svc.leak_rate * hours;
            }
        }
        for b in self.backups.values_mut() {
            if b.timer && !b.script_broken && b.interval > Duration::zero() {
                while b.last_success + b.interval <= now {
                    b.last_success += b.interval;
                }
            }
        }
        self.now = now;
    }

    // --- faults -------------------------------------------------------------

    pub fn apply(&mut self, fault: &Fault) {
        match fault {
            Fault::Crash { service, exit_code } => {
                if let Some(s) = self.services.get_mut(service) {
                    s.running = false;
                    s.last_exit = Some(*exit_code);
                }
            }
            Fault::Oom { service, memory_mb } => {
                if let Some(s) = self.services.get_mut(service) {
                    s.memory_mb = *memory_mb;
                    s.running = false;
                    s.last_exit = Some(137);
                    s.restarts += 1;
                }
            }
            Fault::Stuck { service } => {
                if let Some(s) = self.services.get_mut(service) {
                    s.running = false;
                    s.stuck = true;
                    s.last_exit = Some(1);
                }
            }
            Fault::MemoryLeak {
                service,
                rate_mb_per_hour,
                initial_mb,
            } => {
                if let Some(s) = self.services.get_mut(service) {
                    s.leak_rate = *rate_mb_per_hour;
                    s.leak_mb += *initial_mb;
                }
            }
            Fault::DatabaseError {
                service,
                alert,
                self_restart,
            } => {
                let name = alert.clone().unwrap_or_else(|| DEFAULT_DB_ALERT.into());
                self.extra_alerts.insert(name.clone());
                if let Some(s) = self.services.get_mut(service) {
                    s.db_error = Some((name, self_restart.clone()));
                }
            }
            Fault::DiskFill {
                host,
                mount,
                gb_per_hour,
                into,
            } => {
                if let Some(d) = self.disk_mut(host, mount) {
                    d.fill = Some((*gb_per_hour, *into));
                }
            }
            Fault::VpnDown { link } => {
                if let Some(v) = self.vpns.get_mut(link) {
                    v.up = false;
                }
            }
            Fault::BackupStale { system } => {
                let now = self.now;
                if let Some(b) = self.backups.get_mut(system) {
                    b.timer = false;
                    b.last_success = now - b.max_age - Duration::minutes(1);
                }
            }
            Fault::CertExpiring {
                host,
                service,
                days_left,
            } => {
                let expiry = self.now + Duration::seconds((days_left * 86_400.0) as i64);
                for c in self
                    .certs
                    .iter_mut()
                    .filter(|c| &c.host == host && service.as_ref().is_none_or(|s| s == &c.service))
                {
                    c.served = expiry;
                    c.file = expiry;
                }
            }
            Fault::HostDown { host } => {
                if let Some(h) = self.hosts.get_mut(host) {
                    h.online = false;
                }
            }
            Fault::HostUp { host } => self.host_up(host),
            Fault::BrokenFix { command } => self.broken.push(command.clone()),
        }
    }

    /// A person repaired what `fault` broke.
    pub fn heal(&mut self, fault: &Fault) {
        match fault {
            Fault::Crash { service, .. }
            | Fault::Oom { service, .. }
            | Fault::Stuck { service }
            | Fault::MemoryLeak { service, .. }
            | Fault::DatabaseError { service, .. } => {
                if let Some(s) = self.services.get_mut(service) {
                    s.stuck = false;
                    s.leak_rate = 0.0;
                    s.leak_mb = 0.0;
                    s.db_error = None;
                    if let Some(limit) = s.limit_mb {
                        s.limit_mb = Some(limit.max(s.memory_mb + 256));
                    }
                }
                self.start(service);
            }
            Fault::DiskFill { host, mount, .. } => {
                if let Some(d) = self.disk_mut(host, mount) {
                    d.fill = None;
                    d.journal_gb = d.journal_gb.min(0.5);
                    d.images_gb = 0.0;
                    d.data_gb = d.data_gb.min(d.size_gb * 0.5);
                }
            }
            Fault::VpnDown { link } => {
                if let Some(v) = self.vpns.get_mut(link) {
                    v.up = true;
                }
            }
            Fault::BackupStale { system } => {
                let now = self.now;
                if let Some(b) = self.backups.get_mut(system) {
                    b.timer = true;
                    b.script_broken = false;
                    b.last_success = now;
                }
            }
            Fault::CertExpiring { host, .. } => {
                let expiry = self.now + Duration::days(90);
                for c in self.certs.iter_mut().filter(|c| &c.host == host) {
                    c.served = expiry;
                    c.file = expiry;
                }
            }
            Fault::HostDown { host } | Fault::HostUp { host } => self.host_up(host),
            Fault::BrokenFix { command } => self.broken.retain(|b| b != command),
        }
    }

    fn host_up(&mut self, host: &str) {
        if let Some(h) = self.hosts.get_mut(host) {
            h.online = true;
        }
        let names: Vec<String> = self
            .services
            .values()
            .filter(|s| s.host == host && !s.stuck)
            .map(|s| s.name.clone())
            .collect();
        for name in names {
            self.start(&name);
        }
    }

    fn disk_mut(&mut self, host: &str, mount: &str) -> Option<&mut Disk> {
        self.hosts
            .get_mut(host)?
            .disks
            .iter_mut()
            .find(|d| d.mount == mount)
    }

    fn disk(&self, host: &str, mount: &str) -> Option<&Disk> {
        self.hosts
            .get(host)?
            .disks
            .iter()
            .find(|d| d.mount == mount)
    }

    // --- state queries ----------------------------------------------------------

    pub fn host_online(&self, host: &str) -> bool {
        self.hosts.get(host).is_some_and(|h| h.online)
    }

    /// Host names and whether each is online.
    pub fn host_states(&self) -> Vec<(String, bool)> {
        self.hosts
            .iter()
            .map(|(n, h)| (n.clone(), h.online))
            .collect()
    }

    /// Whether a service or VPN link works (running, host up, dependencies up).
    pub fn is_up(&self, name: &str) -> bool {
        self.is_up_depth(name, 0)
    }

    fn is_up_depth(&self, name: &str, depth: usize) -> bool {
        if depth > 32 {
            return false;
        }
        if let Some(v) = self.vpns.get(name) {
            return v.up && self.host_online(&v.host);
        }
        let Some(s) = self.services.get(name) else {
            return false;
        };
        s.running
            && self.host_online(&s.host)
            && s.depends_on.iter().all(|d| self.is_up_depth(d, depth + 1))
    }

    fn host_memory_used(&self, host: &str) -> f64 {
        self.services
            .values()
            .filter(|s| s.host == host && s.running)
            .map(|s| s.memory_mb as f64 + s.leak_mb)
            .sum()
    }

    // --- the simulated Prometheus -----------------------------------------------

    /// Every alert the rules produce now.
    pub fn firing(&self) -> Vec<WorldAlert> {
        let mut out = Vec::new();
        let labels = |pairs: &[(&str, &str)]| -> Labels {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let note = |summary: String| -> Labels {
            let mut l = Labels::new();
            l.insert("summary".into(), summary);
            l
        };
        for (name, h) in &self.hosts {
            if !h.online {
                out.push(WorldAlert {
                    labels: labels(&[
                        ("alertname", "HostDown"),
                        ("host", name),
                        ("instance", &format!("{name}:9100")),
                        ("job", "node"),
                        ("severity", "critical"),
                    ]),
                    annotations: note(format!("Host {name} is not answering")),
                });
                continue;
            }
            for d in &h.disks {
                let pct = d.percent();
                if pct >= self.thresholds.disk_percent {
                    out.push(WorldAlert {
                        labels: labels(&[
                            ("alertname", "DiskSpaceLow"),
                            ("host", name),
                            ("instance", &format!("{name}:9100")),
                            ("job", "node"),
                            ("mountpoint", &d.mount),
                            ("severity", "warning"),
                        ]),
                        annotations: note(format!("{} on {name} is {pct:.0}% full", d.mount)),
                    });
                } else if self.predictions
                    && let Some(alert) = predict::check_disk(
                        &labels(&[
                            ("host", name),
                            ("instance", &format!("{name}:9100")),
                            ("mountpoint", &d.mount),
                        ]),
                        &d.samples.iter().copied().collect::<Vec<_>>(),
                        d.size_gb,
                        self.now,
                        &self.predict,
                    )
                {
                    out.push(WorldAlert {
                        labels: alert.labels,
                        annotations: alert.annotations,
                    });
                }
            }
            let used = self.host_memory_used(name);
            if h.memory_mb > 0
                && used / h.memory_mb as f64 * 100.0 >= self.thresholds.memory_percent
            {
                let top = self
                    .services
                    .values()
                    .filter(|s| &s.host == name && s.running)
                    .max_by(|a, b| {
                        (a.memory_mb as f64 + a.leak_mb)
                            .total_cmp(&(b.memory_mb as f64 + b.leak_mb))
                    });
                let mut l = labels(&[
                    ("alertname", "HighMemoryUsage"),
                    ("host", name),
                    ("instance", &format!("{name}:9100")),
                    ("job", "node"),
                    ("severity", "warning"),
                ]);
                if let Some(top) = top {
                    let key = match top.kind {
                        ServiceKind::Container => "container",
                        ServiceKind::Systemd => "service",
                    };
                    l.insert(key.into(), top.name.clone());
                }
                out.push(WorldAlert {
                    labels: l,
                    annotations: note(format!(
                        "{name} uses {:.0}% of its memory",
                        used / h.memory_mb as f64 * 100.0
                    )),
                });
            }
        }
        for s in self.services.values() {
            if !self.is_up(&s.name) {
                let (default_alert, port, key, job) = match s.kind {
                    ServiceKind::Container => ("ContainerDown", 9323, "container", "cadvisor"),
                    ServiceKind::Systemd => ("ServiceDown", 9100, "service", "node"),
                };
                let mut l = labels(&[
                    ("alertname", s.alert.as_deref().unwrap_or(default_alert)),
                    ("host", &s.host),
                    ("instance", &format!("{}:{port}", s.host)),
                    ("job", job),
                    (key, &s.name),
                    ("service", &s.name),
                    ("severity", "critical"),
                ]);
                l.extend(s.labels.clone());
                let mut a = note(format!("{} on {} is down", s.name, s.host));
                a.extend(s.annotations.clone());
                out.push(WorldAlert {
                    labels: l,
                    annotations: a,
                });
            } else if let Some((alert, _)) = &s.db_error {
                let mut l = labels(&[
                    ("alertname", alert),
                    ("host", &s.host),
                    ("instance", &format!("{}:9323", s.host)),
                    ("container", &s.name),
                    ("service", &s.name),
                    ("severity", "critical"),
                ]);
                l.extend(s.labels.clone());
                let mut a = note(format!("{} reports database errors", s.name));
                a.extend(s.annotations.clone());
                out.push(WorldAlert {
                    labels: l,
                    annotations: a,
                });
            }
        }
        for (name, v) in &self.vpns {
            if !v.up && self.host_online(&v.host) {
                out.push(WorldAlert {
                    labels: labels(&[
                        ("alertname", "WireGuardVPNDown"),
                        ("host", &v.host),
                        ("instance", &format!("{}:9586", v.host)),
                        ("interface", name),
                        ("severity", "critical"),
                    ]),
                    annotations: note(format!("WireGuard {name} on {} is down", v.host)),
                });
            }
        }
        for (system, b) in &self.backups {
            if self.now - b.last_success > b.max_age {
                out.push(WorldAlert {
                    labels: labels(&[
                        ("alertname", "BackupStale"),
                        ("instance", &b.exporter),
                        ("job", "backup-exporter"),
                        ("system", system),
                        ("severity", "warning"),
                    ]),
                    annotations: note(format!(
                        "the last {system} backup is {} h old",
                        (self.now - b.last_success).num_hours()
                    )),
                });
            }
        }
        for c in &self.certs {
            let days = (c.served - self.now).num_seconds() as f64 / 86_400.0;
            if self.host_online(&c.host) && days < self.thresholds.cert_days {
                out.push(WorldAlert {
                    labels: labels(&[
                        ("alertname", "CertificateExpiring"),
                        ("host", &c.host),
                        ("instance", &format!("{}:443", c.host)),
                        ("job", "blackbox"),
                        ("service", &c.service),
                        ("severity", "warning"),
                    ]),
                    annotations: note(format!(
                        "the certificate served by {} expires in {days:.1} days",
                        c.host
                    )),
                });
            }
        }
        for r in &self.rules {
            for m in self.metrics.iter().filter(|m| m.name == r.metric) {
                let v = self.metric_value(m);
                let fires = match r.op.as_str() {
                    ">" => v > r.threshold,
                    ">=" => v >= r.threshold,
                    "<" => v < r.threshold,
                    "<=" => v <= r.threshold,
                    "==" => v == r.threshold,
                    _ => v != r.threshold,
                };
                if fires {
                    let mut l = m.labels.clone();
                    l.extend(r.labels.clone());
                    l.insert("alertname".into(), r.alert.clone());
                    out.push(WorldAlert {
                        labels: l,
                        annotations: r.annotations.clone(),
                    });
                }
            }
        }
        out
    }

    fn metric_value(&self, m: &Metric) -> f64 {
        m.start + m.rate * (self.now - m.since).num_seconds() as f64 / 3600.0
    }

    /// Alert names some rule of this world can produce.
    pub fn known_alerts(&self) -> BTreeSet<String> {
        let mut names: BTreeSet<String> = [
            "HostDown",
            "DiskSpaceLow",
            "HighMemoryUsage",
            "WireGuardVPNDown",
            "BackupStale",
            "CertificateExpiring",
            PREDICTED_DISK_ALERT,
        ]
        .map(String::from)
        .into();
        for s in self.services.values() {
            names.insert(s.alert.clone().unwrap_or_else(|| {
                match s.kind {
                    ServiceKind::Container => "ContainerDown",
                    ServiceKind::Systemd => "ServiceDown",
                }
                .to_string()
            }));
        }
        names.insert(DEFAULT_DB_ALERT.into());
        names.extend(self.extra_alerts.iter().cloned());
        names.extend(self.rules.iter().map(|r| r.alert.clone()));
        names
    }

    /// Whether the condition behind `alert` still holds; `None` when no rule of
    /// this world produces alerts of its name (the simulation cannot tell).
    pub fn is_firing(&self, alert: &Alert) -> Option<bool> {
        let name = alert.name();
        if !self.known_alerts().contains(name) {
            return None;
        }
        Some(self.firing().iter().any(|w| matches_alert(w, alert)))
    }

    // --- commands ---------------------------------------------------------------

    /// Runs a shell command on a host and applies its effects.
    pub fn run_command(&mut self, host: &str, command: &str) -> Result<CommandOutcome, RunError> {
        let Some(h) = self.hosts.get(host) else {
            return Err(RunError::UnknownHost(host.to_string()));
        };
        if !h.online {
            return Err(RunError::Offline(host.to_string()));
        }
        if self.broken.iter().any(|b| command.contains(b.as_str())) {
            return Ok(CommandOutcome {
                exit_code: 0,
                stdout: "ok\n".into(),
                seconds: 2,
                ..CommandOutcome::default()
            });
        }
        let mut total = CommandOutcome::default();
        for segment in split_segments(command) {
            let out = self.run_simple(host, &segment);
            total.stdout.push_str(&out.stdout);
            total.stderr.push_str(&out.stderr);
            total.seconds += out.seconds;
            total.exit_code = out.exit_code;
            if out.exit_code != 0 && segment.and_next {
                break;
            }
        }
        self.reset_metrics(host, command);
        Ok(total)
    }

    fn reset_metrics(&mut self, host: &str, command: &str) {
        let now = self.now;
        for m in &mut self.metrics {
            if m.reset_by
                .as_ref()
                .is_some_and(|r| command.contains(r.as_str()))
                && m.host.as_ref().is_none_or(|h| h == host)
            {
                m.since = now;
                m.rate = m.rate.max(0.0);
            }
        }
    }

    fn run_simple(&mut self, host: &str, segment: &Segment) -> CommandOutcome {
        let words = unwrap_words(&segment.words);
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let ok = |stdout: String, seconds: u64| CommandOutcome {
            exit_code: 0,
            stdout,
            stderr: String::new(),
            seconds,
        };
        let fail = |code: i32, stderr: String| CommandOutcome {
            exit_code: code,
            stdout: String::new(),
            stderr,
            seconds: 1,
        };
        match w.as_slice() {
            ["docker", "restart" | "start", names @ ..] if !names.is_empty() => {
                let mut out = ok(String::new(), 5);
                for name in names.iter().filter(|n| !n.starts_with('-')) {
                    if !self.is_container_on(host, name) {
                        return fail(
                            1,
                            format!("Error response from daemon: No such container: {name}\n"),
                        );
                    }
                    let r = self.start(name);
                    if r.exit_code != 0 {
                        return r;
                    }
                    out.stdout.push_str(&format!("{name}\n"));
                }
                out
            }
            ["docker", "stop" | "kill", names @ ..] => {
                for name in names.iter().filter(|n| !n.starts_with('-')) {
                    if let Some(s) = self.services.get_mut(*name)
                        && s.host == host
                    {
                        s.running = false;
                    }
                }
                ok(String::new(), 3)
            }
            ["docker", "update", args @ ..] => self.docker_update(host, args),
            ["docker", "image" | "system" | "builder", "prune", ..] => {
                let mut freed = 0.0;
                if let Some(h) = self.hosts.get_mut(host) {
                    for d in &mut h.disks {
                        freed += d.images_gb;
                        d.images_gb = 0.0;
                    }
                }
                ok(format!("Total reclaimed space: {freed:.1}GB\n"), 20)
            }
            ["docker", "ps", ..] => ok(self.docker_ps(host), 1),
            ["docker", "logs", .., name] => {
                let text = match self.services.get(*name) {
                    Some(s) if s.last_exit == Some(137) => "Killed\n",
                    Some(s) if s.db_error.is_some() => {
                        "sqlite3.OperationalError: database is locked\n"
                    }
                    Some(_) => "started\n",
                    None => return fail(1, format!("Error: No such container: {name}\n")),
                };
                ok(text.into(), 1)
            }
            [
                "systemctl",
                "restart" | "start" | "try-restart" | "reload-or-restart",
                unit,
                ..,
            ] => self.systemctl_restart(host, unit),
            ["systemctl", "reload", unit, ..] => {
                let unit = unit.trim_end_matches(".service");
                if self.reload_certs(host, unit) || self.is_unit_on(host, unit) {
                    ok(String::new(), 1)
                } else {
                    fail(5, format!("Unit {unit}.service not found.\n"))
                }
            }
            ["systemctl", "status", unit, ..] => {
                let unit = unit.trim_end_matches(".service");
                if self.is_up(unit) {
                    ok(
                        format!("● {unit}.service\n   Active: active (running)\n"),
                        1,
                    )
                } else {
                    CommandOutcome {
                        exit_code: 3,
                        stdout: format!(
                            "● {unit}.service\n   Active: failed (Result: exit-code)\n"
                        ),
                        stderr: String::new(),
                        seconds: 1,
                    }
                }
            }
            ["journalctl", args @ ..] if args.iter().any(|a| a.starts_with("--vacuum")) => {
                let mut freed = 0.0;
                if let Some(h) = self.hosts.get_mut(host) {
                    for d in &mut h.disks {
                        let keep = d.journal_gb.min(0.5);
                        freed += d.journal_gb - keep;
                        d.journal_gb = keep;
                    }
                }
                ok(
                    format!("Vacuuming done, freed {freed:.1}G of archived journals.\n"),
                    10,
                )
            }
            ["apt-get" | "apt", "clean", ..] => {
                if let Some(h) = self.hosts.get_mut(host) {
                    for d in &mut h.disks {
                        d.apt_gb = 0.0;
                    }
                }
                ok(String::new(), 3)
            }
            ["certbot", "renew", args @ ..] => {
                let now = self.now;
                let mut broken = false;
                for c in self.certs.iter_mut().filter(|c| c.host == host) {
                    if c.renew_broken {
                        broken = true;
                    } else {
                        c.file = now + Duration::days(90);
                    }
                }
                if broken {
                    return fail(
                        1,
                        "Challenge failed for domain: connection refused\n".into(),
                    );
                }
                let hook = args.iter().enumerate().find_map(|(i, a)| {
                    a.strip_prefix("--deploy-hook=")
                        .map(str::to_string)
                        .or_else(|| {
                            (*a == "--deploy-hook")
                                .then(|| args.get(i + 1).map(|s| s.to_string()))
                                .flatten()
                        })
                });
                if let Some(hook) = hook {
                    for segment in split_segments(&hook) {
                        self.run_simple(host, &segment);
                    }
                }
                ok("Congratulations, all renewals succeeded\n".into(), 30)
            }
            ["df", ..] => ok(self.df(host), 1),
            ["free", ..] => {
                let total = self.hosts.get(host).map_or(0, |h| h.memory_mb);
                let used = self.host_memory_used(host);
                ok(
                    format!(
                        "              total        used        free\nMem:   {total:>12} {used:>11.0} {:>11.0}\n",
                        total as f64 - used
                    ),
                    1,
                )
            }
            [path, ..] if path.starts_with("/usr/local/bin/backup-") && path.ends_with(".sh") => {
                let system = &path["/usr/local/bin/backup-".len()..path.len() - 3];
                let now = self.now;
                match self.backups.get_mut(system) {
                    Some(b) if b.host == host => {
                        if b.script_broken {
                            CommandOutcome {
                                exit_code: 1,
                                stdout: String::new(),
                                stderr: "Fatal: unable to open repository: connection refused\n"
                                    .into(),
                                seconds: 60,
                            }
                        } else {
                            b.last_success = now;
                            ok(format!("backup of {system} finished\n"), 300)
                        }
                    }
                    _ => fail(127, format!("{path}: No such file or directory\n")),
                }
            }
            _ => ok("ok\n".into(), 1),
        }
    }

    fn is_container_on(&self, host: &str, name: &str) -> bool {
        self.services
            .get(name)
            .is_some_and(|s| s.host == host && s.kind == ServiceKind::Container)
    }

    fn is_unit_on(&self, host: &str, name: &str) -> bool {
        self.services
            .get(name)
            .is_some_and(|s| s.host == host && s.kind == ServiceKind::Systemd)
    }

    fn systemctl_restart(&mut self, host: &str, unit: &str) -> CommandOutcome {
        let unit = unit.trim_end_matches(".service");
        if let Some(link) = unit.strip_prefix("wg-quick@") {
            return match self.vpns.get_mut(link) {
                Some(v) if v.host == host => {
                    v.up = true;
                    CommandOutcome {
                        seconds: 3,
                        ..CommandOutcome::default()
                    }
                }
                _ => CommandOutcome {
                    exit_code: 1,
                    stderr: format!("Job for wg-quick@{link}.service failed.\n"),
                    seconds: 2,
                    ..CommandOutcome::default()
                },
            };
        }
        let reloaded = self.reload_certs(host, unit);
        if self.is_unit_on(host, unit) {
            return self.start(unit);
        }
        if reloaded {
            return CommandOutcome {
                seconds: 2,
                ..CommandOutcome::default()
            };
        }
        CommandOutcome {
            exit_code: 5,
            stderr: format!("Failed to restart {unit}.service: Unit {unit}.service not found.\n"),
            seconds: 1,
            ..CommandOutcome::default()
        }
    }

    /// The web server `unit` on `host` re-reads its certificates.
    fn reload_certs(&mut self, host: &str, unit: &str) -> bool {
        let mut any = false;
        for c in self
            .certs
            .iter_mut()
            .filter(|c| c.host == host && c.service == unit)
        {
            c.served = c.file;
            any = true;
        }
        any
    }

    fn docker_update(&mut self, host: &str, args: &[&str]) -> CommandOutcome {
        let mut memory = None;
        let mut names = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = args[i];
            if let Some(v) = a.strip_prefix("--memory=") {
                memory = parse_size_mb(v);
            } else if a == "--memory" || a == "-m" {
                memory = args.get(i + 1).and_then(|v| parse_size_mb(v));
                i += 1;
            } else if a.starts_with("--") && !a.contains('=') {
                i += 1; // a flag with a value
            } else if !a.starts_with('-') {
                names.push(a);
            }
            i += 1;
        }
        let mut out = CommandOutcome {
            seconds: 1,
            ..CommandOutcome::default()
        };
        for name in names {
            if !self.is_container_on(host, name) {
                return CommandOutcome {
                    exit_code: 1,
                    stderr: format!("Error response from daemon: No such container: {name}\n"),
                    seconds: 1,
                    ..CommandOutcome::default()
                };
            }
            if let (Some(mb), Some(s)) = (memory, self.services.get_mut(name)) {
                s.limit_mb = Some(mb);
            }
            out.stdout.push_str(&format!("{name}\n"));
        }
        out
    }

    /// (Re)starts a service: a persistent root cause stops it again.
    fn start(&mut self, name: &str) -> CommandOutcome {
        let Some(s) = self.services.get(name) else {
            return CommandOutcome {
                exit_code: 1,
                stderr: format!("no such service {name}\n"),
                seconds: 1,
                ..CommandOutcome::default()
            };
        };
        let disk_full = self.disk(&s.host, &s.disk).is_some_and(Disk::full);
        let Some(s) = self.services.get_mut(name) else {
            return CommandOutcome::default();
        };
        let seconds = 5;
        if s.stuck {
            // The broken fix: reports success, changes nothing.
            return CommandOutcome {
                seconds,
                ..CommandOutcome::default()
            };
        }
        if disk_full {
            s.running = false;
            s.last_exit = Some(1);
            return CommandOutcome {
                exit_code: 1,
                stderr: format!("{name}: failed to start: no space left on device\n"),
                seconds,
                ..CommandOutcome::default()
            };
        }
        s.restarts += 1;
        s.leak_mb = 0.0;
        if let Some((_, None)) = s.db_error {
            s.db_error = None;
        }
        if s.limit_mb.is_some_and(|limit| s.memory_mb > limit) {
            // Started, then OOM-killed while loading its working set.
            s.running = false;
            s.last_exit = Some(137);
            return CommandOutcome {
                stdout: format!("{name}\n"),
                seconds,
                ..CommandOutcome::default()
            };
        }
        s.running = true;
        s.last_exit = None;
        CommandOutcome {
            seconds,
            ..CommandOutcome::default()
        }
    }

    /// The self-restart hand-off restarted `target`.
    pub fn self_restart(&mut self, target: &str) {
        self.self_restarts.push(target.to_string());
        let names: Vec<String> = self
            .services
            .values()
            .filter(|s| {
                s.name == target || matches!(&s.db_error, Some((_, Some(t))) if t == target)
            })
            .map(|s| s.name.clone())
            .collect();
        for name in names {
            if let Some(s) = self.services.get_mut(&name) {
                s.db_error = None;
            }
            self.start(&name);
        }
    }

    fn docker_ps(&self, host: &str) -> String {
        let mut out = String::from("NAMES\tSTATUS\n");
        for s in self
            .services
            .values()
            .filter(|s| s.host == host && s.kind == ServiceKind::Container)
        {
            let status = if s.running {
                "Up".to_string()
            } else {
                format!("Exited ({})", s.last_exit.unwrap_or(0))
            };
            out.push_str(&format!("{}\t{status}\n", s.name));
        }
        out
    }

    fn df(&self, host: &str) -> String {
        let mut out = String::from("Filesystem Size Used Avail Use% Mounted on\n");
        if let Some(h) = self.hosts.get(host) {
            for d in &h.disks {
                out.push_str(&format!(
                    "/dev/sda {:.0}G {:.0}G {:.0}G {:.0}% {}\n",
                    d.size_gb,
                    d.used(),
                    d.size_gb - d.used(),
                    d.percent(),
                    d.mount
                ));
            }
        }
        out
    }

    /// Used percentage of a disk.
    #[cfg(test)]
    pub fn disk_percent(&self, host: &str, mount: &str) -> Option<f64> {
        self.disk(host, mount).map(Disk::percent)
    }
}

/// Whether a world alert is the one a delivered alert describes: same name and
/// the same value for every identity label both carry (at least one shared).
pub fn matches_alert(w: &WorldAlert, alert: &Alert) -> bool {
    if w.labels.get("alertname").map(String::as_str) != Some(alert.name()) {
        return false;
    }
    let mut shared = 0;
    for key in IDENTITY {
        if let (Some(a), Some(b)) = (w.labels.get(key), alert.labels.get(key)) {
            if a != b {
                return false;
            }
            shared += 1;
        }
    }
    shared > 0
}

struct Segment {
    words: Vec<String>,
    /// The next segment runs only if this one succeeded (`&&`).
    and_next: bool,
}

/// Splits a command line at `&&`, `||`, `;`, `|` and newlines (quotes respected).
fn split_segments(command: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let chars: Vec<char> = command.chars().collect();
    let mut i = 0;
    let flush_word = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            } else {
                word.push(c);
            }
            i += 1;
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            ' ' | '\t' => flush_word(&mut word, &mut words),
            '&' | '|' | ';' | '\n' => {
                flush_word(&mut word, &mut words);
                let and_next = c == '&' && chars.get(i + 1) == Some(&'&');
                if matches!((c, chars.get(i + 1)), ('&', Some('&')) | ('|', Some('|'))) {
                    i += 1;
                }
                if !words.is_empty() {
                    segments.push(Segment {
                        words: std::mem::take(&mut words),
                        and_next,
                    });
                }
            }
            _ => word.push(c),
        }
        i += 1;
    }
    flush_word(&mut word, &mut words);
    if !words.is_empty() {
        segments.push(Segment {
            words,
            and_next: false,
        });
    }
    segments
}

/// Drops wrappers: `sudo`, `env`, `timeout N`, `nice`.
fn unwrap_words(words: &[String]) -> Vec<String> {
    let mut i = 0;
    while i < words.len() {
        match words[i].as_str() {
            "sudo" | "env" | "nice" | "nohup" => i += 1,
            "timeout" => i += 2,
            w if w.starts_with('-') && i > 0 => i += 1,
            _ => break,
        }
    }
    words[i.min(words.len())..].to_vec()
}

/// `512m`, `4g`, `4G`, `1024` (bytes), `2048k` → MB.
fn parse_size_mb(v: &str) -> Option<u64> {
    let v = v.trim().to_ascii_lowercase();
    let v = v.trim_end_matches('b');
    let (num, mult) = match v.chars().last()? {
        'k' => (&v[..v.len() - 1], 1.0 / 1024.0),
        'm' => (&v[..v.len() - 1], 1.0),
        'g' => (&v[..v.len() - 1], 1024.0),
        't' => (&v[..v.len() - 1], 1024.0 * 1024.0),
        _ => (v, 1.0 / (1024.0 * 1024.0)),
    };
    let n: f64 = num.parse().ok()?;
    Some((n * mult).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::scenario::{
        BackupSpec, CertSpec, DiskSpec, Dur, HostSpec, ServiceSpec, VpnSpec,
    };

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn service(name: &str, host: &str) -> ServiceSpec {
        ServiceSpec {
            name: name.into(),
            host: host.into(),
            kind: ServiceKind::Container,
            memory_mb: 512,
            memory_limit_mb: Some(1024),
            depends_on: Vec::new(),
            alert: None,
            disk: "/".into(),
            annotations: Labels::new(),
            labels: Labels::new(),
            running: true,
        }
    }

    fn world() -> World {
        let spec = WorldSpec {
            hosts: vec![
                HostSpec {
                    name: "docker1".into(),
                    role: None,
                    memory_mb: 4096,
                    disks: vec![DiskSpec {
                        mount: "/".into(),
                        size_gb: 100.0,
                        data_gb: 50.0,
                        journal_gb: 20.0,
                        images_gb: 10.0,
                        apt_cache_gb: 1.0,
                    }],
                    online: true,
                },
                HostSpec {
                    name: "gateway".into(),
                    role: None,
                    memory_mb: 1024,
                    disks: Vec::new(),
                    online: true,
                },
            ],
            services: vec![
                service("frigate", "docker1"),
                ServiceSpec {
                    depends_on: vec!["wg0".into()],
                    alert: Some("OutpostDown".into()),
                    ..service("outpost", "docker1")
                },
            ],
            vpn_links: vec![VpnSpec {
                name: "wg0".into(),
                host: "gateway".into(),
                up: true,
            }],
            backups: vec![BackupSpec {
                system: "immich".into(),
                host: "docker1".into(),
                exporter: "exp:9100".into(),
                max_age: Dur(26 * 3600),
                interval: Dur(24 * 3600),
                age: Dur(3600),
                script_broken: false,
            }],
            certificates: vec![CertSpec {
                host: "docker1".into(),
                service: "nginx".into(),
                days_left: 60.0,
                renew_broken: false,
            }],
            ..WorldSpec::default()
        };
        World::new(&spec, t0(), true)
    }

    fn names(w: &World) -> Vec<String> {
        w.firing()
            .into_iter()
            .map(|a| a.labels["alertname"].clone())
            .collect()
    }

    fn run(w: &mut World, host: &str, cmd: &str) -> i32 {
        w.run_command(host, cmd).unwrap().exit_code
    }

    #[test]
    fn a_healthy_world_fires_nothing() {
        assert!(names(&world()).is_empty());
    }

    #[test]
    fn a_crash_fires_container_down_and_a_restart_clears_it() {
        let mut w = world();
        w.apply(&Fault::Crash {
            service: "frigate".into(),
            exit_code: 1,
        });
        assert_eq!(names(&w), ["ContainerDown"]);
        assert_eq!(run(&mut w, "docker1", "docker restart frigate"), 0);
        assert!(names(&w).is_empty());
        assert_eq!(run(&mut w, "docker1", "docker restart nope"), 1);
    }

    #[test]
    fn an_oom_loop_needs_a_higher_memory_limit() {
        let mut w = world();
        w.apply(&Fault::Oom {
            service: "frigate".into(),
            memory_mb: 2000,
        });
        assert_eq!(run(&mut w, "docker1", "docker restart frigate"), 0);
        assert_eq!(names(&w), ["ContainerDown"], "restart alone loops");
        assert_eq!(
            run(
                &mut w,
                "docker1",
                "docker update --memory 3g --memory-swap 3g frigate && docker restart frigate"
            ),
            0
        );
        assert!(names(&w).is_empty());
    }

    #[test]
    fn a_stuck_service_reports_success_and_stays_down() {
        let mut w = world();
        w.apply(&Fault::Stuck {
            service: "frigate".into(),
        });
        assert_eq!(run(&mut w, "docker1", "docker restart frigate"), 0);
        assert_eq!(names(&w), ["ContainerDown"]);
    }

    #[test]
    fn the_vpn_takes_its_dependents_down_and_back() {
        let mut w = world();
        w.apply(&Fault::VpnDown { link: "wg0".into() });
        let mut n = names(&w);
        n.sort();
        assert_eq!(n, ["OutpostDown", "WireGuardVPNDown"]);
        // Restarting the dependent does not help while its root cause persists.
        run(&mut w, "docker1", "docker restart outpost");
        assert_eq!(names(&w).len(), 2);
        assert_eq!(run(&mut w, "gateway", "systemctl restart wg-quick@wg0"), 0);
        assert!(names(&w).is_empty());
    }

    #[test]
    fn a_disk_fills_and_cleanup_frees_it() {
        let mut w = world();
        w.apply(&Fault::DiskFill {
            host: "docker1".into(),
            mount: "/".into(),
            gb_per_hour: 2.0,
            into: FillTarget::Journal,
        });
        for m in 1..=60 {
            w.advance(t0() + Duration::minutes(m));
        }
        // 83% full, growing 2 GB/h: predicted to fill within 24 h.
        assert_eq!(names(&w), [PREDICTED_DISK_ALERT]);
        w.advance(t0() + Duration::hours(5));
        assert_eq!(names(&w), ["DiskSpaceLow"]);
        run(&mut w, "docker1", "journalctl --vacuum-time=7d");
        run(&mut w, "docker1", "docker image prune -f");
        assert!(w.disk_percent("docker1", "/").unwrap() < 60.0);
        assert!(!names(&w).contains(&"DiskSpaceLow".to_string()));
    }

    #[test]
    fn a_full_disk_keeps_a_container_from_starting() {
        let mut w = world();
        w.apply(&Fault::DiskFill {
            host: "docker1".into(),
            mount: "/".into(),
            gb_per_hour: 100.0,
            into: FillTarget::Data,
        });
        w.advance(t0() + Duration::hours(1));
        w.apply(&Fault::Crash {
            service: "frigate".into(),
            exit_code: 1,
        });
        assert_eq!(run(&mut w, "docker1", "docker restart frigate"), 1);
    }

    #[test]
    fn backups_go_stale_and_the_script_refreshes_them() {
        let mut w = world();
        w.apply(&Fault::BackupStale {
            system: "immich".into(),
        });
        assert_eq!(names(&w), ["BackupStale"]);
        assert_eq!(
            run(&mut w, "gateway", "/usr/local/bin/backup-immich.sh"),
            127
        );
        assert_eq!(run(&mut w, "docker1", "/usr/local/bin/backup-immich.sh"), 0);
        assert!(names(&w).is_empty());
    }

    #[test]
    fn a_renewed_certificate_is_served_after_a_reload() {
        let mut w = world();
        w.apply(&Fault::CertExpiring {
            host: "docker1".into(),
            service: None,
            days_left: 5.0,
        });
        assert_eq!(names(&w), ["CertificateExpiring"]);
        run(&mut w, "docker1", "systemctl reload nginx");
        assert_eq!(names(&w), ["CertificateExpiring"], "nothing renewed yet");
        run(&mut w, "docker1", "certbot renew");
        assert_eq!(
            names(&w),
            ["CertificateExpiring"],
            "renewed, not served yet"
        );
        run(&mut w, "docker1", "systemctl reload nginx");
        assert!(names(&w).is_empty());
        w.apply(&Fault::CertExpiring {
            host: "docker1".into(),
            service: None,
            days_left: 5.0,
        });
        run(
            &mut w,
            "docker1",
            "certbot renew --deploy-hook 'systemctl reload nginx'",
        );
        assert!(names(&w).is_empty(), "the deploy hook reloads");
    }

    #[test]
    fn a_memory_leak_fires_on_the_top_consumer_until_restarted() {
        let mut w = world();
        w.apply(&Fault::MemoryLeak {
            service: "frigate".into(),
            rate_mb_per_hour: 1000.0,
            initial_mb: 0.0,
        });
        w.advance(t0() + Duration::hours(3));
        let firing = w.firing();
        assert_eq!(firing[0].labels["alertname"], "HighMemoryUsage");
        assert_eq!(firing[0].labels["container"], "frigate");
        run(&mut w, "docker1", "docker restart frigate");
        assert!(names(&w).is_empty());
    }

    #[test]
    fn an_offline_host_fires_host_down_and_refuses_commands() {
        let mut w = world();
        w.apply(&Fault::HostDown {
            host: "docker1".into(),
        });
        let mut n = names(&w);
        n.sort();
        assert_eq!(n, ["ContainerDown", "HostDown", "OutpostDown"]);
        assert_eq!(
            w.run_command("docker1", "uptime"),
            Err(RunError::Offline("docker1".into()))
        );
        w.apply(&Fault::HostUp {
            host: "docker1".into(),
        });
        assert!(names(&w).is_empty());
    }

    #[test]
    fn a_database_error_needing_a_self_restart_ignores_docker_restart() {
        let mut w = world();
        w.apply(&Fault::DatabaseError {
            service: "frigate".into(),
            alert: Some("JarvisDatabaseCorrupt".into()),
            self_restart: Some("database".into()),
        });
        run(&mut w, "docker1", "docker restart frigate");
        assert_eq!(names(&w), ["JarvisDatabaseCorrupt"]);
        w.self_restart("database");
        assert!(names(&w).is_empty());
    }

    #[test]
    fn broken_fixes_exit_zero_and_change_nothing() {
        let mut w = world();
        w.apply(&Fault::Crash {
            service: "frigate".into(),
            exit_code: 1,
        });
        w.apply(&Fault::BrokenFix {
            command: "docker restart".into(),
        });
        assert_eq!(run(&mut w, "docker1", "docker restart frigate"), 0);
        assert_eq!(names(&w), ["ContainerDown"]);
    }

    #[test]
    fn delivered_alerts_match_rules_by_identity_labels() {
        let mut w = world();
        w.apply(&Fault::Crash {
            service: "frigate".into(),
            exit_code: 1,
        });
        let mut labels = Labels::new();
        labels.insert("alertname".into(), "ContainerDown".into());
        labels.insert("container".into(), "frigate".into());
        let alert = Alert::firing(labels.clone(), t0());
        assert_eq!(w.is_firing(&alert), Some(true));
        labels.insert("container".into(), "other".into());
        assert_eq!(
            w.is_firing(&Alert::firing(labels.clone(), t0())),
            Some(false)
        );
        labels.insert("alertname".into(), "Unmodelled".into());
        assert_eq!(w.is_firing(&Alert::firing(labels, t0())), None);
    }

    #[test]
    fn sizes_parse_to_megabytes() {
        assert_eq!(parse_size_mb("4g"), Some(4096));
        assert_eq!(parse_size_mb("512M"), Some(512));
        assert_eq!(parse_size_mb("1024mb"), Some(1024));
    }
}
