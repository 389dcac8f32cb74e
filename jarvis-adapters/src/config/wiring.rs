//! Wiring: from a validated [`Config`] to the core's [`Ports`] and [`Policy`].
//!
//! Both binaries build their pipeline here, so the choice of adapters lives in
//! one place: SQLite or PostgreSQL; the LLM planner with the deterministic one
//! as fallback, or the deterministic planner alone; SSH or the dry-run
//! executor; the Prometheus verifier or none; Discord or the log.

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use jarvis_core::correlation::Correlator;
use jarvis_core::domain::{
    Action, Alert, Handoff, HandoffId, HandoffState, HostStatus, IncidentId, IncidentState, Notice,
    NoticeKind, NoticeRecord, Pattern, StepResult, Verification, steps_signature,
};
use jarvis_core::error::{ExecError, StoreError};
use jarvis_core::pipeline::{Policy, Ports};
use jarvis_core::planner::DeterministicPlanner;
use jarvis_core::ports::{Clock, Executor, Notifier, Planner, Store, Verifier};
use jarvis_core::runbook::RunbookLibrary;
use jarvis_core::safety::{SafetyPolicy, ValidatedStep};
use tracing::warn;

use super::{Config, DatabaseTarget, expose, load_runbooks, load_seeds};
use crate::dryrun::DryRunExecutor;
use crate::log_notifier::LogNotifier;
use crate::spool::ReconnectingStore;
use crate::store::{PostgresStore, SqliteStore};

/// Why the pipeline could not be built.
#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error("cannot create the data directory {path}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the store")]
    Store(#[source] StoreError),
    #[error("invalid runbooks:\n  - {}", .0.join("\n  - "))]
    Runbooks(Vec<String>),
    #[error("invalid seeds: {0}")]
    Seeds(String),
    #[error("invalid {what} configuration: {reason}")]
    Adapter { what: &'static str, reason: String },
}

/// The store, with its concrete type kept so it can be closed at shutdown.
#[derive(Clone, Debug)]
pub enum StoreHandle {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PostgresStore>),
    /// PostgreSQL that was unreachable at start-up: connects on a later ping.
    PostgresLazy(Arc<ReconnectingStore<PostgresStore>>),
}

impl StoreHandle {
    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            StoreHandle::Sqlite(s) => s.clone(),
            StoreHandle::Postgres(s) => s.clone(),
            StoreHandle::PostgresLazy(s) => s.clone(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            StoreHandle::Sqlite(_) => "sqlite",
            StoreHandle::Postgres(_) | StoreHandle::PostgresLazy(_) => "postgres",
        }
    }

    /// Closes every connection (SQLite checkpoints its WAL).
    pub async fn close(&self) {
        match self {
            StoreHandle::Sqlite(s) => s.close().await,
            StoreHandle::Postgres(s) => s.close().await,
            StoreHandle::PostgresLazy(s) => {
                if let Some(s) = s.connected() {
                    s.close().await
                }
            }
        }
    }
}

/// Opens the configured store, creating the SQLite file's directory if needed.
pub async fn open_store(cfg: &Config) -> Result<StoreHandle, WiringError> {
    match &cfg.database.target {
        DatabaseTarget::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| WiringError::DataDir {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
            let store = SqliteStore::open(path).await.map_err(WiringError::Store)?;
            Ok(StoreHandle::Sqlite(Arc::new(store)))
        }
        DatabaseTarget::Postgres(url) => match PostgresStore::connect(expose(url)).await {
            Ok(store) => Ok(StoreHandle::Postgres(Arc::new(store))),
            // Start degraded (webhooks spool) and connect when the database is back.
            Err(e) if e.is_transient() => {
                warn!(error = %e, "postgres unreachable at start-up: starting degraded");
                let url = secrecy::SecretString::from(expose(url).to_string());
                Ok(StoreHandle::PostgresLazy(Arc::new(ReconnectingStore::new(
                    "postgres",
                    move || {
                        let url = url.clone();
                        Box::pin(async move { PostgresStore::connect(expose(&url)).await })
                    },
                ))))
            }
            Err(e) => Err(WiringError::Store(e)),
        },
    }
}

/// The runbook library from the configured directory.
pub fn runbook_library(cfg: &Config) -> Result<RunbookLibrary, WiringError> {
    load_runbooks(&cfg.runbooks.dir)
        .map(RunbookLibrary::new)
        .map_err(WiringError::Runbooks)
}

/// Everything the pipeline needs, plus handles the server keeps.
#[derive(Debug)]
pub struct Wired {
    pub store: StoreHandle,
    pub ports: Ports,
    pub policy: Policy,
    /// The n8n client, when n8n is configured (self-restart hand-offs).
    pub n8n: Option<Arc<crate::n8n::N8nClient>>,
    /// The SSH executor, when commands run over SSH (the server's probe loop).
    pub ssh: Option<Arc<crate::ssh::SshExecutor>>,
    /// Serialises hand-offs (the HTTP endpoint and `SelfRestart` steps share it).
    pub handoff_lock: Arc<tokio::sync::Mutex<()>>,
    /// The Alertmanager client, when `[alertmanager]` is configured (maintenance silences).
    pub alertmanager: Option<Arc<crate::prometheus::AlertmanagerClient>>,
    /// Seed patterns added to the store at start-up.
    pub seeded: usize,
}

/// Builds the ports and the policy. `owner` names this process in incident leases.
pub async fn wire(
    cfg: &Config,
    clock: Arc<dyn Clock>,
    owner: String,
) -> Result<Wired, WiringError> {
    let runbooks = Arc::new(RwLock::new(runbook_library(cfg)?));
    let store = open_store(cfg).await?;
    let seeded = match &cfg.seeds.file {
        Some(file) => match seed(store.store().as_ref(), file, clock.now()).await {
            Err(WiringError::Store(e)) if e.is_transient() => {
                warn!(error = %e, "seed patterns not added: the store is down (added at the next start)");
                0
            }
            other => other?,
        },
        None => 0,
    };
    let host_names = cfg.host_names();
    let safety = Arc::new(SafetyPolicy::new(&cfg.safety, &host_names).map_err(|e| {
        WiringError::Adapter {
            what: "safety",
            reason: e.to_string(),
        }
    })?);
    let correlator = Correlator::new(&cfg.correlation).map_err(|e| WiringError::Adapter {
        what: "correlation",
        reason: e.to_string(),
    })?;

    let notifier: Arc<dyn Notifier> = match &cfg.discord {
        Some(d) => {
            let mut dc = crate::discord::DiscordConfig::new(d.webhook_url.clone());
            dc.username = Some(d.username.clone());
            Arc::new(crate::discord::DiscordNotifier::new(dc).map_err(|e| {
                WiringError::Adapter {
                    what: "discord",
                    reason: e.to_string(),
                }
            })?)
        }
        None => Arc::new(LogNotifier::new()),
    };
    let n8n = match &cfg.n8n {
        Some(n) => {
            let mut nc = crate::n8n::N8nConfig::new(n.url.as_str().trim_end_matches('/'));
            nc.api_key = n.api_key.clone();
            nc.timeout = n.request_timeout;
            if let Some(path) = &n.self_restart_webhook {
                nc = nc.with_workflow(
                    SELF_RESTART_WORKFLOW,
                    crate::n8n::N8nWorkflow::new(path.clone()),
                );
                nc.self_restart_workflow = Some(SELF_RESTART_WORKFLOW.to_string());
            }
            Some(Arc::new(crate::n8n::N8nClient::new(nc).map_err(|e| {
                WiringError::Adapter {
                    what: "n8n",
                    reason: e.to_string(),
                }
            })?))
        }
        None => None,
    };

    let alertmanager = match &cfg.alertmanager {
        Some(a) => {
            let mut ac = crate::prometheus::AlertmanagerConfig::new(a.url.clone());
            ac.request_timeout_secs = a.request_timeout.as_secs().max(1);
            Some(Arc::new(
                crate::prometheus::AlertmanagerClient::new(&ac).map_err(|e| {
                    WiringError::Adapter {
                        what: "alertmanager",
                        reason: e.to_string(),
                    }
                })?,
            ))
        }
        None => None,
    };

    let handoff_lock = Arc::new(tokio::sync::Mutex::new(()));
    let self_restart = n8n
        .clone()
        .filter(|_| {
            cfg.n8n
                .as_ref()
                .is_some_and(|n| n.self_restart_webhook.is_some())
        })
        .map(|n8n| SelfRestarter {
            store: store.store(),
            n8n,
            notifier: notifier.clone(),
            clock: clock.clone(),
            resume_url: resume_url(cfg),
            lock: handoff_lock.clone(),
            owner: owner.clone(),
        });
    let (executor, ssh) = executor(
        cfg,
        store.store(),
        notifier.clone(),
        clock.clone(),
        self_restart,
    )?;
    let deterministic: Arc<dyn Planner> = Arc::new(DeterministicPlanner::new());
    let (planner, fallback) = match &cfg.llm {
        Some(llm) => {
            let mut c = crate::claude::ClaudeConfig::new(llm.api_key.clone())
                .with_base_url(llm.base_url.as_str().trim_end_matches('/'))
                .with_model(llm.model.clone());
            c.max_tokens = llm.max_tokens;
            c.max_iterations = llm.max_iterations;
            c.incident_token_budget = llm.incident_token_budget;
            c.daily_token_budget = llm.daily_token_budget;
            c.timeout = llm.timeout;
            c.min_confidence = cfg.pipeline.min_plan_confidence;
            let mut planner =
                crate::claude::ClaudePlanner::new(c, safety.clone(), executor.clone())
                    .map_err(|e| WiringError::Adapter {
                        what: "llm",
                        reason: e.to_string(),
                    })?
                    .with_runbooks(Arc::new(crate::claude::LibraryRunbooks(runbooks.clone())))
                    .with_audit(store.store(), clock.clone());
            if let Some(l) = &cfg.loki {
                let mut lc = crate::loki::LokiConfig::new(l.url.clone());
                lc.tenant = l.org_id.clone();
                lc.request_timeout_secs = l.request_timeout.as_secs().max(1);
                let client =
                    crate::loki::LokiClient::new(&lc).map_err(|e| WiringError::Adapter {
                        what: "loki",
                        reason: e.to_string(),
                    })?;
                planner = planner.with_logs(Arc::new(crate::claude::LokiLogs(client)));
            }
            if let Some(p) = &cfg.prometheus {
                let mut pc = crate::prometheus::PrometheusConfig::new(p.url.clone());
                pc.request_timeout_secs = p.request_timeout.as_secs().max(1);
                let client = crate::prometheus::PrometheusClient::new(&pc).map_err(|e| {
                    WiringError::Adapter {
                        what: "prometheus",
                        reason: e.to_string(),
                    }
                })?;
                planner = planner.with_metrics(Arc::new(crate::claude::PrometheusMetrics(client)));
            }
            (Arc::new(planner) as Arc<dyn Planner>, Some(deterministic))
        }
        None => (deterministic, None),
    };
    let verifier: Arc<dyn Verifier> = match (&cfg.prometheus, cfg.verification_enabled()) {
        (Some(p), true) => {
            let pc = verifier_config(cfg, p);
            let client = crate::prometheus::PrometheusClient::new(&pc).map_err(|e| {
                WiringError::Adapter {
                    what: "prometheus",
                    reason: e.to_string(),
                }
            })?;
            Arc::new(crate::prometheus::PrometheusVerifier::new(client, &pc))
        }
        (None, _) => Arc::new(VerificationOff::new(
            "verification is off: no Prometheus is configured",
        )),
        (Some(_), false) => Arc::new(VerificationOff::new(
            "verification is off: pipeline.verification_enabled = false",
        )),
    };
    let mut pipeline = cfg.pipeline.clone();
    pipeline.verification_enabled = cfg.verification_enabled();
    let policy = Policy {
        config: pipeline,
        safety,
        routing: cfg.routing.clone(),
        runbooks,
        correlator,
        learning: cfg.learning.clone(),
        hosts: cfg.hosts.iter().map(|h| h.to_host()).collect(),
        owner,
    };
    let ports = Ports {
        store: store.store(),
        planner,
        fallback,
        executor,
        verifier,
        notifier,
        clock,
    };
    Ok(Wired {
        store,
        ports,
        policy,
        n8n,
        ssh,
        handoff_lock,
        alertmanager,
        seeded,
    })
}

/// The verifier's Prometheus settings: `prometheus.poll_interval_secs`
/// (`VERIFICATION_POLL_INTERVAL`) is the adaptive poller's ceiling, the longest
/// delay between two polls.
pub fn verifier_config(
    cfg: &Config,
    p: &super::PrometheusSettings,
) -> crate::prometheus::PrometheusConfig {
    let mut pc = crate::prometheus::PrometheusConfig::new(p.url.clone());
    pc.request_timeout_secs = p.request_timeout.as_secs().max(1);
    pc.verify_max_poll_millis =
        (p.poll_interval.as_millis() as u64).max(pc.verify_first_poll_millis);
    pc.verify_max_wait_secs = cfg.pipeline.verification_max_wait_seconds;
    pc
}

/// The name the self-restart workflow is registered under in the n8n client.
pub const SELF_RESTART_WORKFLOW: &str = "jarvis-self-restart";

/// Adds the seed file's patterns the store does not hold yet (same symptom and steps).
async fn seed(
    store: &dyn Store,
    file: &Path,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, WiringError> {
    let seeds: Vec<Pattern> = load_seeds(file, now).map_err(WiringError::Seeds)?;
    let mut added = 0;
    for pattern in seeds {
        let existing = store
            .patterns_for(&pattern.signature)
            .await
            .map_err(WiringError::Store)?;
        let plan = steps_signature(&pattern.steps);
        if existing.iter().any(|p| steps_signature(&p.steps) == plan) {
            continue;
        }
        store
            .save_pattern(&pattern)
            .await
            .map_err(WiringError::Store)?;
        added += 1;
    }
    Ok(added)
}

type Executors = (Arc<dyn Executor>, Option<Arc<crate::ssh::SshExecutor>>);

fn executor(
    cfg: &Config,
    store: Arc<dyn Store>,
    notifier: Arc<dyn Notifier>,
    clock: Arc<dyn Clock>,
    self_restart: Option<SelfRestarter>,
) -> Result<Executors, WiringError> {
    let dry = Arc::new(DryRunExecutor::new());
    if cfg.executor.dry_run {
        return Ok((dry, None));
    }
    let mut ssh_handle = None;
    let shell: Arc<dyn Executor> = if cfg.hosts.is_empty() {
        dry.clone()
    } else {
        let mut ssh = crate::ssh::SshConfig {
            default_command_timeout_secs: cfg.executor.command_timeout_secs,
            connect_timeout_secs: cfg.executor.connect_timeout_secs,
            output_cap_bytes: cfg.executor.output_cap_bytes,
            ..crate::ssh::SshConfig::default()
        };
        for h in &cfg.hosts {
            let Some(key) = &h.key_file else {
                return Err(WiringError::Adapter {
                    what: "hosts",
                    reason: format!("host {} has no key_file", h.name),
                });
            };
            let mut host =
                crate::ssh::SshHostConfig::new(&h.name, &h.address, h.port, &h.user, key);
            host.known_hosts = h.known_hosts.clone();
            host.pinned_keys = h.pinned_keys.clone();
            host.trust_on_first_use = h.trust_on_first_use;
            host.command_timeout_secs = h.command_timeout_secs;
            ssh.hosts.push(host);
        }
        let sink = host_status_sink(store.clone(), notifier, clock);
        let exec = crate::ssh::SshExecutor::new(ssh)
            .map_err(|e| WiringError::Adapter {
                what: "hosts",
                reason: e.to_string(),
            })?
            .with_status_sink(sink);
        let exec = Arc::new(exec);
        ssh_handle = Some(exec.clone());
        exec
    };
    let home_assistant: Option<Arc<dyn Executor>> = match &cfg.home_assistant {
        Some(h) => {
            let mut hc = crate::homeassistant::HomeAssistantConfig::new(
                h.url.as_str().trim_end_matches('/'),
                h.token.clone(),
            );
            hc.timeout = h.request_timeout;
            let client = crate::homeassistant::HomeAssistantClient::new(hc).map_err(|e| {
                WiringError::Adapter {
                    what: "home_assistant",
                    reason: e.to_string(),
                }
            })?;
            Some(Arc::new(crate::homeassistant::HomeAssistantExecutor::new(
                Arc::new(client),
            )))
        }
        None => None,
    };
    let n8n: Option<Arc<dyn Executor>> = match &cfg.n8n {
        Some(n) => {
            let mut nc = crate::n8n::N8nConfig::new(n.url.as_str().trim_end_matches('/'));
            nc.api_key = n.api_key.clone();
            nc.timeout = n.request_timeout;
            let client = crate::n8n::N8nClient::new(nc).map_err(|e| WiringError::Adapter {
                what: "n8n",
                reason: e.to_string(),
            })?;
            Some(Arc::new(crate::n8n::N8nExecutor::new(Arc::new(client))))
        }
        None => None,
    };
    let self_restart: Option<Arc<dyn Executor>> = match self_restart {
        Some(s) => Some(Arc::new(s)),
        None => None,
    };
    let dispatch: Arc<dyn Executor> = Arc::new(DispatchExecutor {
        shell,
        home_assistant,
        n8n,
        self_restart,
    });
    Ok((dispatch, ssh_handle))
}

/// Each host availability change is stored, then notified (`HostOffline` /
/// `HostOnline`) and the notice recorded, in a background task.
pub fn host_status_sink(
    store: Arc<dyn Store>,
    notifier: Arc<dyn Notifier>,
    clock: Arc<dyn Clock>,
) -> crate::ssh::StatusSink {
    Arc::new(move |status: HostStatus| {
        let (store, notifier, clock) = (store.clone(), notifier.clone(), clock.clone());
        tokio::spawn(async move {
            if let Err(e) = store.record_host_status(&status).await {
                warn!(host = %status.host, error = %e, "host status not recorded");
            }
            let (kind, title) = if status.online {
                (
                    NoticeKind::HostOnline,
                    format!("Host {} is back online", status.host),
                )
            } else {
                (
                    NoticeKind::HostOffline,
                    format!("Host {} is offline", status.host),
                )
            };
            let mut notice = Notice::new(kind, title, clock.now());
            notice.body = status.reason.clone();
            let result = notifier.notify(&notice).await;
            let error = result.as_ref().err().map(|e| e.to_string());
            if let Some(error) = &error {
                warn!(host = %status.host, error = %error, "host notice not delivered");
            }
            let record = NoticeRecord {
                notice,
                delivered: result.is_ok(),
                error,
            };
            if let Err(e) = store.record_notice(&record).await {
                warn!(host = %status.host, error = %e, "host notice not recorded");
            }
        });
    })
}

/// The URL n8n calls back once a restart is done: `server.public_url` (or the
/// listen address) + `/resume`.
pub fn resume_url(cfg: &Config) -> String {
    let base = match &cfg.server.public_url {
        Some(url) => url.as_str().trim_end_matches('/').to_string(),
        None => format!("http://{}", cfg.server.listen),
    };
    format!("{base}/resume")
}

/// Pending hand-offs younger than this block a `SelfRestart` step.
pub const SELF_RESTART_PENDING_LIMIT: chrono::Duration = chrono::Duration::minutes(10);

/// Why a self-restart hand-off was not started.
#[derive(Debug, thiserror::Error)]
pub enum SelfRestartError {
    #[error("hand-off {} ({}) is still pending; cancel it first", .0.id, .0.target)]
    Pending(Box<Handoff>),
    #[error("store error while {doing}")]
    Store {
        doing: &'static str,
        #[source]
        source: StoreError,
    },
    #[error("n8n could not be triggered: {0}")]
    N8n(#[source] crate::n8n::N8nError),
}

/// Starts self-restart hand-offs: records one, then triggers the n8n workflow.
/// Shared by `POST /self-restart` and `SelfRestart` steps.
#[derive(Clone, Debug)]
pub struct SelfRestarter {
    pub store: Arc<dyn Store>,
    pub n8n: Arc<crate::n8n::N8nClient>,
    /// Says a self-restart started (`self_restart` notice).
    pub notifier: Arc<dyn Notifier>,
    pub clock: Arc<dyn Clock>,
    pub resume_url: String,
    /// One hand-off at a time.
    pub lock: Arc<tokio::sync::Mutex<()>>,
    /// This process's lease name: a step's hand-off is linked to the incident
    /// this process is executing, so a hand-off that times out escalates it.
    pub owner: String,
}

impl SelfRestarter {
    /// Records a pending hand-off and triggers n8n. A pending hand-off blocks it;
    /// with `stale_after`, one older than that is marked timed out instead. When
    /// n8n cannot be triggered the new hand-off is cancelled.
    pub async fn request(
        &self,
        target: &str,
        incident: Option<IncidentId>,
        reason: String,
        stale_after: Option<chrono::Duration>,
    ) -> Result<Handoff, SelfRestartError> {
        let _one_at_a_time = self.lock.lock().await;
        let store_err = |doing| move |source| SelfRestartError::Store { doing, source };
        let pending = self
            .store
            .handoffs(Some(HandoffState::Pending))
            .await
            .map_err(store_err("listing hand-offs"))?;
        let now = self.clock.now();
        for mut active in pending {
            match stale_after {
                Some(limit) if now - active.created_at >= limit => {
                    active.state = HandoffState::TimedOut;
                    active.reason = format!("{} (timed out: no resume call)", active.reason);
                    active.updated_at = now;
                    self.store
                        .save_handoff(&active)
                        .await
                        .map_err(store_err("timing out a hand-off"))?;
                }
                _ => return Err(SelfRestartError::Pending(Box::new(active))),
            }
        }
        let mut handoff = Handoff {
            id: HandoffId::new(),
            target: target.to_string(),
            incident,
            state: HandoffState::Pending,
            reason,
            created_at: now,
            updated_at: now,
        };
        self.store
            .save_handoff(&handoff)
            .await
            .map_err(store_err("saving a hand-off"))?;
        if let Err(e) = self
            .n8n
            .request_self_restart(target, handoff.id, &self.resume_url)
            .await
        {
            handoff.state = HandoffState::Cancelled;
            handoff.reason = format!("n8n could not be triggered: {e}");
            handoff.updated_at = self.clock.now();
            let _ = self.store.save_handoff(&handoff).await;
            return Err(SelfRestartError::N8n(e));
        }
        let mut notice = Notice::new(
            NoticeKind::SelfRestart,
            format!("Self-restart of {target} started"),
            now,
        )
        .body(format!(
            "n8n restarts {target} and calls back {}; a hand-off not resumed in time is marked failed and its incident escalates.",
            self.resume_url
        ))
        .field("Hand-off", handoff.id.to_string())
        .field("Why", handoff.reason.clone());
        if let Some(incident) = handoff.incident {
            notice = notice.incident(incident);
        }
        let result = self.notifier.notify(&notice).await;
        let error = result.as_ref().err().map(|e| e.to_string());
        if let Some(error) = &error {
            warn!(handoff = %handoff.id, error = %error, "self-restart notice not delivered");
        }
        let record = NoticeRecord {
            notice,
            delivered: result.is_ok(),
            error,
        };
        if let Err(e) = self.store.record_notice(&record).await {
            warn!(handoff = %handoff.id, error = %e, "self-restart notice not recorded");
        }
        Ok(handoff)
    }

    /// The one incident this process is executing, if exactly one: the incident
    /// a `SelfRestart` step belongs to.
    async fn executing_incident(&self) -> Option<IncidentId> {
        let executing: Vec<IncidentId> = self
            .store
            .in_flight()
            .await
            .ok()?
            .into_iter()
            .filter(|i| {
                i.state == IncidentState::Executing
                    && i.lease_owner.as_deref() == Some(self.owner.as_str())
            })
            .map(|i| i.id)
            .collect();
        match executing.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }
}

/// Runs `SelfRestart` steps as n8n hand-offs.
#[async_trait]
impl Executor for SelfRestarter {
    async fn execute(&self, step: &ValidatedStep) -> Result<StepResult, ExecError> {
        let Action::SelfRestart { target } = &step.step().action else {
            return Err(ExecError::Unsupported {
                kind: step.step().action.kind(),
            });
        };
        let started = std::time::Instant::now();
        let incident = self.executing_incident().await;
        let handoff = self
            .request(
                target,
                incident,
                format!("requested by a remediation step: self-restart {target}"),
                Some(SELF_RESTART_PENDING_LIMIT),
            )
            .await
            .map_err(|e| ExecError::Failed(format!("self-restart of {target}: {e}")))?;
        tracing::info!(handoff = %handoff.id, target = %handoff.target, "self-restart requested by a step");
        Ok(StepResult {
            exit_code: Some(0),
            stdout: format!(
                "self-restart hand-off {} started for {target}; n8n resumes via {}",
                handoff.id, self.resume_url
            ),
            duration: started.elapsed(),
            ..StepResult::default()
        })
    }
}

/// Sends each step to the executor for its kind; runs `Wait` steps itself.
#[derive(Debug)]
pub struct DispatchExecutor {
    pub shell: Arc<dyn Executor>,
    pub home_assistant: Option<Arc<dyn Executor>>,
    pub n8n: Option<Arc<dyn Executor>>,
    /// `SelfRestart` steps (n8n with a self-restart webhook).
    pub self_restart: Option<Arc<dyn Executor>>,
}

#[async_trait]
impl Executor for DispatchExecutor {
    async fn execute(&self, step: &ValidatedStep) -> Result<StepResult, ExecError> {
        let action = &step.step().action;
        let target = match action {
            Action::Shell { .. } => Some(&self.shell),
            Action::HaAddonRestart { .. } | Action::HaService { .. } => {
                self.home_assistant.as_ref()
            }
            Action::N8nWorkflow { .. } => self.n8n.as_ref(),
            Action::Wait { duration } => {
                tokio::time::sleep(*duration).await;
                return Ok(StepResult {
                    exit_code: Some(0),
                    duration: *duration,
                    ..StepResult::default()
                });
            }
            Action::SelfRestart { .. } => match &self.self_restart {
                Some(executor) => return executor.execute(step).await,
                // `kind` is only displayed: it carries why, as the error has no message.
                None => {
                    return Err(ExecError::Unsupported {
                        kind: "self_restart (self-restart needs n8n: set [n8n] url and \
                               self_restart_webhook)",
                    });
                }
            },
            Action::PrometheusCheck { .. } => None,
        };
        match target {
            Some(executor) => executor.execute(step).await,
            None => Err(ExecError::Unsupported {
                kind: action.kind(),
            }),
        }
    }
}

/// The verifier when verification is off: every outcome is "unverified", with the reason.
#[derive(Debug, Clone)]
pub struct VerificationOff {
    reason: String,
}

impl VerificationOff {
    pub fn new(reason: impl Into<String>) -> Self {
        VerificationOff {
            reason: reason.into(),
        }
    }
}

#[async_trait]
impl Verifier for VerificationOff {
    async fn verify(&self, _alert: &Alert, _max_wait: Duration) -> Verification {
        Verification::Unverified {
            reason: self.reason.clone(),
        }
    }
}
