//! Building and running the server: wiring, the router, background loops and
//! graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use jarvis_adapters::config::Config;
use jarvis_adapters::config::wiring::{WiringError, wire};
use jarvis_adapters::spool::{Intake, Spool};
use jarvis_adapters::ssh::{SshConfig, SshExecutor};
use jarvis_core::anomaly::Detector;
use jarvis_core::clock::SystemClock;
use jarvis_core::pipeline::Pipeline;
use jarvis_core::ports::{Clock, Notifier};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::auth::Credentials;
use crate::metrics::{self, Metrics};
use crate::routes;
use crate::routes::anomalies::AnomalyWatch;
use crate::state::{AppState, Queue};

/// What the process supplies besides the configuration.
#[derive(Clone, Debug)]
pub struct AppEnv {
    /// The pipeline's clock (the system clock outside tests).
    pub clock: Arc<dyn Clock>,
    /// This process's name in incident leases.
    pub owner: String,
    /// Replaces the configured notifier (tests record notices with it).
    pub notifier: Option<Arc<dyn Notifier>>,
}

impl Default for AppEnv {
    fn default() -> Self {
        AppEnv {
            clock: Arc::new(SystemClock),
            owner: format!("jarvis-server-{}", std::process::id()),
            notifier: None,
        }
    }
}

/// The file in the data directory that names this instance.
pub const INSTANCE_ID_FILE: &str = "instance-id";

/// This instance's name in incident leases, stable across restarts on one data
/// directory (created on first use): a process killed with `kill -9` cannot
/// release its leases, and the next one on the same data directory takes its
/// incidents back at once instead of waiting for the leases to expire. Replicas
/// sharing a PostgreSQL store have their own data directories, so their names differ.
pub fn instance_owner(data_dir: &std::path::Path) -> std::io::Result<String> {
    let path = data_dir.join(INSTANCE_ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(format!("jarvis-server-{}", id.trim())),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(data_dir)?;
    let id = uuid::Uuid::now_v7().simple().to_string();
    let tmp = data_dir.join(format!("{INSTANCE_ID_FILE}.tmp"));
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(format!("{id}\n").as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    std::fs::File::open(data_dir)?.sync_all()?;
    Ok(format!("jarvis-server-{id}"))
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Wiring(#[from] WiringError),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid anomaly detection settings: {0}")]
    Anomaly(String),
    #[error("invalid backup check settings: {0}")]
    Backups(String),
    #[error("cannot open the spool")]
    Spool(#[from] jarvis_adapters::spool::SpoolError),
}

/// A built server, bound to its address but not yet serving.
pub struct App {
    state: AppState,
    router: Router,
    doc: utoipa::openapi::OpenApi,
    listener: TcpListener,
    addr: SocketAddr,
    cancel: CancellationToken,
    /// The SSH executor, probed by a background loop.
    ssh: Option<Arc<SshExecutor>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Wires the pipeline from `config`, opens the store and binds the listener.
/// Says what it runs with in its first log lines.
pub async fn build(config: Config, env: AppEnv) -> Result<App, BuildError> {
    let metrics = Metrics::install();
    for line in config.summary() {
        info!("{line}");
    }
    if config.server.webhook_password.is_none() {
        warn!(
            "no webhook password configured: accepting requests from loopback clients only; \
             set server.webhook_password (WEBHOOK_AUTH_PASSWORD) to accept Alertmanager from other machines"
        );
    }
    let started_at = env.clock.now();
    let mut wired = wire(&config, env.clock, env.owner).await?;
    if let Some(notifier) = env.notifier {
        wired.ports.notifier = notifier;
    }
    info!(
        store = wired.store.kind(),
        runbooks = wired.policy.runbooks.read().map(|r| r.len()).unwrap_or(0),
        seeded_patterns = wired.seeded,
        "pipeline ready"
    );
    let anomaly = match (&config.prometheus, config.anomaly.enabled) {
        (Some(p), true) => {
            let pc = jarvis_adapters::prometheus::PrometheusConfig::new(p.url.clone());
            let client = jarvis_adapters::prometheus::PrometheusClient::new(&pc)
                .map_err(|e| BuildError::Anomaly(e.to_string()))?;
            let detector = Detector::new(config.anomaly.detector.clone())
                .map_err(|e| BuildError::Anomaly(e.to_string()))?;
            Some(Arc::new(AnomalyWatch {
                client,
                queries: config.anomaly.queries.clone(),
                detector: tokio::sync::Mutex::new(detector),
            }))
        }
        _ => None,
    };
    let backups = match (&config.prometheus, &config.backups) {
        (Some(p), Some(b)) => {
            let mut pc = jarvis_adapters::prometheus::PrometheusConfig::new(p.url.clone());
            pc.request_timeout_secs = p.request_timeout.as_secs().max(1);
            let client = jarvis_adapters::prometheus::PrometheusClient::new(&pc)
                .map_err(|e| BuildError::Backups(e.to_string()))?;
            Some(Arc::new(crate::proactive::BackupWatch::new(
                client,
                b.clone(),
            )))
        }
        _ => None,
    };
    let store = wired.ports.store.clone();
    let store_up = matches!(
        tokio::time::timeout(crate::recovery::PING_TIMEOUT, store.ping()).await,
        Ok(Ok(()))
    );
    metrics::database_connected(store_up);
    // Batches a previous process spooled (during an outage) are replayed first.
    let spool = Spool::open(&config.server.data_dir, config.database.spool_max_alerts)?;
    let intake = Intake::new(spool, store_up);
    metrics::spool_depth(intake.stats().depth);
    if intake.is_degraded() {
        warn!(
            store_up,
            spooled = intake.stats().depth,
            "starting degraded: webhook batches are spooled until the store has them all"
        );
    }
    let ssh = wired.ssh;
    let state = AppState {
        credentials: Arc::new(Credentials {
            user: config.server.webhook_user.clone(),
            password: config.server.webhook_password.clone(),
        }),
        llm_model: config
            .llm
            .as_ref()
            .map(|l| l.model.clone())
            .unwrap_or_else(|| "none".into()),
        pipeline: Pipeline::new(wired.ports, wired.policy),
        store,
        store_handle: wired.store,
        metrics,
        tasks: TaskTracker::new(),
        queue: Arc::new(Queue::new(
            config.pipeline.max_concurrent_incidents as usize,
            u64::from(config.pipeline.max_queued_batches),
        )),
        started_at,
        n8n: wired.n8n,
        handoff_lock: wired.handoff_lock,
        alertmanager: wired.alertmanager,
        anomaly,
        backups,
        intake: Arc::new(intake),
        config: Arc::new(config),
    };
    let (router, doc) = routes::router(state.clone());
    let listen = state.config.server.listen;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| BuildError::Bind {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| BuildError::Bind {
        addr: listen,
        source,
    })?;
    Ok(App {
        state,
        router,
        doc,
        listener,
        addr,
        cancel: CancellationToken::new(),
        ssh,
    })
}

impl App {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The router, for in-process requests (`tower::ServiceExt::oneshot`).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The OpenAPI document of exactly the router's routes.
    pub fn openapi(&self) -> &utoipa::openapi::OpenApi {
        &self.doc
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight
    /// work checkpoint for at most `server.shutdown_grace`, and closes the store.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let App {
            state,
            router,
            listener,
            addr,
            cancel,
            ssh,
            ..
        } = self;
        info!("listening on http://{addr}");
        start_background(&state, &cancel, ssh);
        let server_cancel = cancel.clone();
        let mut server = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(server_cancel.cancelled_owned())
            .await
        });
        let early = tokio::select! {
            _ = shutdown => None,
            _ = cancel.cancelled() => None,
            result = &mut server => Some(result),
        };
        cancel.cancel();
        if let Some(result) = early {
            state.store_handle.close().await;
            return result.unwrap_or_else(|e| Err(std::io::Error::other(e)));
        }
        info!("shutting down: no longer accepting requests");
        let grace = state.config.server.shutdown_grace;
        let tasks = state.tasks.clone();
        let drained = tokio::time::timeout(grace, async {
            let result = (&mut server).await;
            tasks.close();
            tasks.wait().await;
            result
        })
        .await;
        let result = match drained {
            Ok(result) => result.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            Err(_) => {
                warn!(
                    grace_secs = grace.as_secs(),
                    "shutdown grace elapsed; unfinished incidents resume at the next start"
                );
                server.abort();
                Ok(())
            }
        };
        state.store_handle.close().await;
        info!("stopped");
        result
    }

    /// Runs in a background task; for tests and embedding.
    pub fn spawn(self) -> RunningApp {
        let addr = self.addr;
        let cancel = self.cancel.clone();
        let state = self.state.clone();
        let stop = cancel.clone();
        let handle = tokio::spawn(self.run(async move { stop.cancelled().await }));
        RunningApp {
            addr,
            cancel,
            state,
            handle,
        }
    }
}

/// A server running in the background.
#[derive(Debug)]
pub struct RunningApp {
    pub addr: SocketAddr,
    pub state: AppState,
    cancel: CancellationToken,
    handle: JoinHandle<std::io::Result<()>>,
}

impl RunningApp {
    /// `http://addr` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops it gracefully and waits until the store is closed.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.cancel.cancel();
        self.handle
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

/// Every `period` until cancelled (the first run after `first`).
fn every<F, Fut>(
    state: &AppState,
    cancel: &CancellationToken,
    first: Duration,
    period: Duration,
    mut f: F,
) where
    F: FnMut(AppState) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let cancel = cancel.clone();
    let state = state.clone();
    state.tasks.clone().spawn(async move {
        let mut wait = first;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = f(state.clone()) => {}
            }
            wait = period;
        }
    });
}

fn start_background(state: &AppState, cancel: &CancellationToken, ssh: Option<Arc<SshExecutor>>) {
    // In-flight incidents of a previous process. When degraded, the recovery
    // loop resumes them once the spool is drained instead.
    if !state.intake.is_degraded() {
        state.spawn_resume("start-up");
    }
    crate::recovery::spawn(state, cancel);
    // Batches left to the store while the work queue was full.
    every(
        state,
        cancel,
        Duration::from_secs(2),
        Duration::from_secs(2),
        |s| async move {
            if s.queue.take_overflow() {
                s.spawn_resume("work queue backlog");
            }
        },
    );
    every(
        state,
        cancel,
        Duration::from_secs(60),
        Duration::from_secs(60),
        |s| async move {
            match s.pipeline.expire_approvals().await {
                Ok(0) => {}
                Ok(n) => info!(expired = n, "approvals expired"),
                Err(e) => warn!(error = %e, "approval expiry failed"),
            }
        },
    );
    every(
        state,
        cancel,
        Duration::from_secs(30),
        Duration::from_secs(30),
        |s| async move {
            metrics::database_connected(s.store.ping().await.is_ok());
        },
    );
    every(
        state,
        cancel,
        Duration::from_secs(120),
        Duration::from_secs(24 * 3600),
        |s| async move {
            let days = i64::from(s.config.database.retention_days);
            let before = s.now() - chrono::Duration::days(days);
            match s.store.prune(before).await {
                Ok(report) => info!(
                    alerts = report.alerts,
                    incidents = report.incidents,
                    attempts = report.attempts,
                    audit = report.audit,
                    notices = report.notices,
                    retention_days = days,
                    "retention prune"
                ),
                Err(e) => warn!(error = %e, "retention prune failed"),
            }
        },
    );
    if let Some(ssh) = ssh {
        // Offline hosts are probed every `probe_interval_secs` (the executor
        // gates each host); ticking more often keeps timer jitter from
        // stretching that to two intervals.
        let interval = Duration::from_secs(SshConfig::default().probe_interval_secs.max(1));
        let tick = interval.min(Duration::from_secs(60));
        every(state, cancel, tick, tick, move |_| {
            let ssh = ssh.clone();
            async move {
                for change in ssh.probe_all().await {
                    info!(host = %change.host, online = change.online, "host probe changed availability");
                }
            }
        });
    }
    // Hand-offs not resumed in time fail; stale ones are cleaned up.
    every(
        state,
        cancel,
        Duration::from_secs(5),
        Duration::from_secs(60),
        |s| async move {
            if let Err(e) = crate::proactive::check_handoffs(&s).await {
                warn!(error = %e, "hand-off check failed");
            }
        },
    );
    if state.config.report.enabled {
        let (s, c) = (state.clone(), cancel.clone());
        state.tasks.spawn(crate::proactive::run_daily_reports(s, c));
    }
    if let Some(watch) = state.backups.clone() {
        let period = watch.settings.check_interval;
        every(state, cancel, Duration::from_secs(30), period, move |s| {
            let watch = watch.clone();
            async move {
                if let Err(e) = crate::proactive::check_backups(&s, &watch).await {
                    warn!(error = %e, "backup check failed");
                }
            }
        });
    }
    if let Some(watch) = state.anomaly.clone() {
        let period =
            Duration::from_secs(state.config.anomaly.detector.check_interval_seconds.max(1));
        every(state, cancel, period, period, move |s| {
            let watch = watch.clone();
            async move {
                if let Err(e) = routes::anomalies::run_check(&s, &watch).await {
                    warn!(error = %e, "anomaly check failed");
                }
            }
        });
    }
}
