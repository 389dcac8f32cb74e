//! What every handler shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use jarvis_adapters::config::Config;
use jarvis_adapters::config::wiring::StoreHandle;
use jarvis_core::domain::Ingested;
use jarvis_core::pipeline::Pipeline;
use jarvis_core::ports::Store;
use serde::Serialize;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, info_span, warn};
use utoipa::ToSchema;

use crate::auth::Credentials;
use crate::metrics::{self, ActiveGuard};

/// The in-process work queue: webhook batches handled after the reply, at
/// most `[pipeline] max_concurrent_incidents` at once, oldest first (the
/// semaphore is fair). Waiting batches are already stored: a restart
/// resumes their incidents from the store.
#[derive(Debug)]
pub struct Queue {
    accepted: AtomicU64,
    in_flight: AtomicU64,
    completed: AtomicU64,
    left_to_store: AtomicU64,
    slots: tokio::sync::Semaphore,
    /// Most batches waiting in memory; see [`AppState::spawn_handling`].
    max_queued: u64,
    /// Batches were left to the store because the queue was full.
    overflowed: std::sync::atomic::AtomicBool,
}

/// A snapshot of [`Queue`].
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
pub struct QueueStats {
    /// Batches accepted since start.
    pub accepted: u64,
    /// Batches accepted and not finished: waiting for a slot or being handled.
    pub in_flight: u64,
    /// Batches finished since start.
    pub completed: u64,
    /// Batches left to the store because the queue was full (their incidents
    /// are picked up from the store once it drains).
    pub left_to_store: u64,
}

impl Queue {
    /// A queue that handles at most `concurrency` batches at once and holds
    /// at most `max_queued` in memory.
    pub fn new(concurrency: usize, max_queued: u64) -> Self {
        Queue {
            accepted: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            left_to_store: AtomicU64::new(0),
            slots: tokio::sync::Semaphore::new(concurrency.max(1)),
            max_queued: max_queued.max(1),
            overflowed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Whether batches were left to the store and the queue has room again
    /// (clears the mark: the caller resumes them from the store).
    pub fn take_overflow(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) < self.max_queued.div_ceil(2)
            && self.overflowed.swap(false, Ordering::Relaxed)
    }

    pub fn stats(&self) -> QueueStats {
        QueueStats {
            accepted: self.accepted.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            completed: self.completed.load(Ordering::Relaxed),
            left_to_store: self.left_to_store.load(Ordering::Relaxed),
        }
    }
}

/// Shared by all handlers; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pipeline: Pipeline,
    pub store: Arc<dyn Store>,
    pub store_handle: StoreHandle,
    pub credentials: Arc<Credentials>,
    pub metrics: metrics::Metrics,
    /// Background work spawned by requests; awaited (with a bound) at shutdown.
    pub tasks: TaskTracker,
    pub queue: Arc<Queue>,
    pub started_at: DateTime<Utc>,
    pub n8n: Option<Arc<jarvis_adapters::n8n::N8nClient>>,
    /// Serializes hand-off creation so only one is active at a time.
    pub handoff_lock: Arc<tokio::sync::Mutex<()>>,
    /// The model name LLM metrics are labelled with.
    pub llm_model: String,
    /// The anomaly detector, when `[anomaly] enabled` (with Prometheus).
    pub anomaly: Option<Arc<crate::routes::anomalies::AnomalyWatch>>,
    /// Backup freshness checks, when `[backups] query` is set (with Prometheus).
    pub backups: crate::proactive::Backups,
    /// Store or spool: degraded mode while the store is unreachable.
    pub intake: Arc<jarvis_adapters::spool::Intake>,
    /// Silences maintenance windows in Alertmanager, when `[alertmanager]` is configured.
    pub alertmanager: Option<Arc<jarvis_adapters::prometheus::AlertmanagerClient>>,
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        self.pipeline.ports().clock.now()
    }

    /// Handles a committed batch in the background, after the webhook replied.
    /// When `[pipeline] max_queued_batches` already wait, the batch is left
    /// to the store (it is committed): the backlog sweep resumes its
    /// incidents from there once the queue has room, so a storm cannot grow
    /// memory without bound.
    pub fn spawn_handling(&self, ingested: Vec<Ingested>) {
        let state = self.clone();
        self.queue.accepted.fetch_add(1, Ordering::Relaxed);
        if self.queue.in_flight.load(Ordering::Relaxed) >= self.queue.max_queued {
            self.queue.left_to_store.fetch_add(1, Ordering::Relaxed);
            if !self.queue.overflowed.swap(true, Ordering::Relaxed) {
                warn!(
                    queued = self.queue.max_queued,
                    "work queue full: new incidents wait in the store until it drains"
                );
            }
            return;
        }
        self.queue.in_flight.fetch_add(1, Ordering::Relaxed);
        let span = info_span!("batch", alerts = ingested.len());
        self.tasks.spawn(
            async move {
                // The semaphore is never closed: `None` cannot happen.
                let _slot = state.queue.slots.acquire().await.ok();
                let _active = ActiveGuard::new();
                let since = state.now();
                let handled = state.pipeline.handle_ingested(&ingested).await;
                metrics::observe_handled(state.store.as_ref(), &handled, since, &state.llm_model)
                    .await;
                state.queue.in_flight.fetch_sub(1, Ordering::Relaxed);
                state.queue.completed.fetch_add(1, Ordering::Relaxed);
            }
            .instrument(span),
        );
    }

    /// Resumes work a previous process left in flight, in the background.
    pub fn spawn_resume(&self, why: &'static str) {
        let state = self.clone();
        self.tasks.spawn(async move {
            let _active = ActiveGuard::new();
            state.resume(why).await;
        });
    }

    /// Resumes work left in flight (by a previous process or an outage).
    pub async fn resume(&self, why: &'static str) {
        let since = self.now();
        match self.pipeline.resume().await {
            Ok(handled) => {
                if !handled.is_empty() {
                    tracing::info!(
                        incidents = handled.len(),
                        why,
                        "resumed in-flight incidents"
                    );
                }
                metrics::observe_handled(self.store.as_ref(), &handled, since, &self.llm_model)
                    .await;
            }
            Err(e) => warn!(error = %e, why, "resume failed"),
        }
    }
}
