//! [`Intake`]: where the webhook puts a batch, the store or the spool, and how
//! the spool drains back into the store.
//!
//! Normal mode: a batch goes straight to the store. A transient store error (or
//! no answer within [`DIRECT_TIMEOUT`]) switches to degraded mode and the batch
//! goes to the spool instead. In degraded mode every batch goes to the spool,
//! so batches reach the store in arrival order. [`Intake::drain_step`] stores the
//! oldest spooled batches; once the spool is empty it switches back to normal
//! mode, under a lock no webhook holds at that moment, so no batch can slip into
//! the spool unseen.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use jarvis_core::domain::{Alert, IngestBatch, Ingested};
use jarvis_core::error::StoreError;
use jarvis_core::pipeline::Pipeline;
use serde::Serialize;
use tokio::sync::{RwLock, watch};
use tracing::{error, info, warn};

use super::file::{Spool, SpoolError, SpoolStats, SpooledBatch};
use crate::alertmanager::parse_webhook;

/// How long the webhook waits for the store before spooling instead.
pub const DIRECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How many spooled batches one drain step stores.
pub const DRAIN_CHUNK: usize = 32;
/// Spooled batches the store refuses for good (not transiently) are moved here.
pub const REJECTED_FILE: &str = "spool.rejected.jsonl";

/// What happened to an accepted batch.
#[derive(Debug)]
pub enum Accepted {
    /// Committed by the store.
    Stored(Vec<Ingested>),
    /// Synced to the spool; stored when the store is back.
    Spooled { seq: u64, alerts: usize },
}

/// Why a batch was not accepted. Every variant means "answer 5xx".
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error("the store refused the batch")]
    Store(#[source] StoreError),
}

impl IntakeError {
    /// The spool is full: the sender should retry later.
    pub fn is_full(&self) -> bool {
        matches!(self, IntakeError::Spool(SpoolError::Full { .. }))
    }
}

/// What one drain step did.
#[derive(Debug, Default)]
pub struct DrainStep {
    /// What the store made of each drained batch, oldest first: to be handled.
    pub batches: Vec<Vec<Ingested>>,
    /// Alerts stored by this step.
    pub alerts: usize,
    /// Batches moved to the rejected file.
    pub rejected: usize,
    /// The spool is empty and the intake is back in normal mode.
    pub recovered: bool,
    /// The store failed part-way; the batches before it are committed.
    pub stopped: Option<StoreError>,
}

/// The degraded-mode switch and the spool behind it. Shared by the webhook and
/// the recovery loop.
#[derive(Debug)]
pub struct Intake {
    spool: Spool,
    degraded: watch::Sender<bool>,
    /// Held shared by every accept, exclusively to leave degraded mode.
    gate: RwLock<()>,
    store_up: AtomicBool,
    rejected_path: PathBuf,
    direct_timeout: Duration,
}

impl Intake {
    /// An intake over `spool`; degraded from the start when the spool holds
    /// batches (they must be stored first) or `store_up` is false.
    pub fn new(spool: Spool, store_up: bool) -> Intake {
        let degraded = !store_up || !spool.is_empty();
        let rejected_path = spool
            .path()
            .parent()
            .unwrap_or(Path::new("."))
            .join(REJECTED_FILE);
        Intake {
            spool,
            degraded: watch::channel(degraded).0,
            gate: RwLock::new(()),
            store_up: AtomicBool::new(store_up),
            rejected_path,
            direct_timeout: DIRECT_TIMEOUT,
        }
    }

    /// Overrides [`DIRECT_TIMEOUT`].
    pub fn with_direct_timeout(mut self, timeout: Duration) -> Intake {
        self.direct_timeout = timeout;
        self
    }

    pub fn spool(&self) -> &Spool {
        &self.spool
    }

    pub fn stats(&self) -> SpoolStats {
        self.spool.stats()
    }

    /// Batches go to the spool.
    pub fn is_degraded(&self) -> bool {
        *self.degraded.borrow()
    }

    /// Follows [`Intake::is_degraded`].
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.degraded.subscribe()
    }

    /// The store answered the last time anyone asked.
    pub fn store_up(&self) -> bool {
        self.store_up.load(Ordering::Relaxed)
    }

    /// The store answered a ping.
    pub fn mark_store_up(&self) {
        self.store_up.store(true, Ordering::Relaxed);
    }

    /// The store did not answer: spool from now on.
    pub fn mark_store_down(&self) {
        self.store_up.store(false, Ordering::Relaxed);
        self.degraded
            .send_if_modified(|d| !std::mem::replace(d, true));
    }

    /// Stores a parsed webhook batch, or spools it when the store is down.
    /// Returns only once the batch is durable in one or the other.
    pub async fn accept(
        &self,
        pipeline: &Pipeline,
        alerts: Vec<Alert>,
        raw: String,
    ) -> Result<Accepted, IntakeError> {
        let count = alerts.len();
        let _gate = self.gate.read().await;
        if self.is_degraded() {
            let received_at = pipeline.ports().clock.now();
            let seq = self.spool.append(received_at, count, raw).await?;
            return Ok(Accepted::Spooled { seq, alerts: count });
        }
        let batch = pipeline.batch(alerts, Some(raw));
        let stored =
            tokio::time::timeout(self.direct_timeout, pipeline.ports().store.ingest(&batch)).await;
        match stored {
            Ok(Ok(ingested)) => {
                pipeline.note_ingested(&batch, &ingested);
                return Ok(Accepted::Stored(ingested));
            }
            Ok(Err(e)) if !e.is_transient() => return Err(IntakeError::Store(e)),
            Ok(Err(e)) => warn!(error = %e, "store unavailable: spooling webhook batches"),
            Err(_) => warn!(
                timeout_ms = self.direct_timeout.as_millis() as u64,
                "store did not answer in time: spooling webhook batches"
            ),
        }
        self.mark_store_down();
        let IngestBatch {
            raw, received_at, ..
        } = batch;
        let seq = self
            .spool
            .append(received_at, count, raw.unwrap_or_default())
            .await?;
        Ok(Accepted::Spooled { seq, alerts: count })
    }

    /// Stores up to `limit` of the oldest spooled batches, in order, and commits
    /// them in the spool. With nothing left, leaves degraded mode (`recovered`).
    /// Storing is idempotent, so batches stored again after a crash between the
    /// store's commit and the spool's are harmless.
    pub async fn drain_step(
        &self,
        pipeline: &Pipeline,
        limit: usize,
    ) -> Result<DrainStep, SpoolError> {
        let records = self.spool.front(limit.max(1)).await?;
        let mut step = DrainStep::default();
        if records.is_empty() {
            let _gate = self.gate.write().await;
            if self.spool.is_empty() {
                self.degraded
                    .send_if_modified(|d| std::mem::replace(d, false));
                step.recovered = true;
            }
            return Ok(step);
        }
        let mut last = None;
        for record in records {
            match self.store_record(pipeline, &record).await {
                Ok(ingested) => {
                    step.alerts += ingested.len();
                    step.batches.push(ingested);
                }
                Err(Stop::Poison(reason)) => {
                    error!(
                        seq = record.seq,
                        received_at = %record.received_at,
                        reason,
                        file = %self.rejected_path.display(),
                        "spooled batch can never be stored: moved to the rejected file"
                    );
                    self.reject(&record, &reason).await?;
                    step.rejected += 1;
                }
                Err(Stop::Store(e)) => {
                    self.mark_store_down();
                    step.stopped = Some(e);
                    break;
                }
            }
            last = Some(record.seq);
        }
        if let Some(seq) = last {
            self.spool.commit(seq).await?;
        }
        if step.alerts > 0 {
            info!(
                alerts = step.alerts,
                batches = step.batches.len(),
                left = self.spool.stats().depth,
                "drained spooled alerts into the store"
            );
        }
        Ok(step)
    }

    async fn store_record(
        &self,
        pipeline: &Pipeline,
        record: &SpooledBatch,
    ) -> Result<Vec<Ingested>, Stop> {
        let alerts = parse_webhook(record.raw.as_bytes())
            .map_err(|e| Stop::Poison(format!("the payload no longer parses: {e}")))?;
        let mut batch = pipeline.batch(alerts, Some(record.raw.clone()));
        batch.received_at = record.received_at;
        match tokio::time::timeout(self.direct_timeout, pipeline.ports().store.ingest(&batch)).await
        {
            Ok(Ok(ingested)) => {
                pipeline.note_ingested(&batch, &ingested);
                Ok(ingested)
            }
            Ok(Err(e)) if e.is_transient() => Err(Stop::Store(e)),
            Ok(Err(e)) => Err(Stop::Poison(e.to_string())),
            Err(_) => Err(Stop::Store(StoreError::Unavailable {
                doing: "draining the spool",
                source: Box::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the store did not answer in time",
                )),
            })),
        }
    }

    /// Appends a batch the store refuses for good to the rejected file, synced.
    async fn reject(&self, record: &SpooledBatch, reason: &str) -> Result<(), SpoolError> {
        #[derive(Serialize)]
        struct Rejected<'a> {
            rejected_at: chrono::DateTime<Utc>,
            reason: &'a str,
            #[serde(flatten)]
            record: &'a SpooledBatch,
        }
        let mut line = serde_json::to_vec(&Rejected {
            rejected_at: Utc::now(),
            reason,
            record,
        })
        .unwrap_or_default();
        line.push(b'\n');
        let path = self.rejected_path.clone();
        let written = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            f.write_all(&line)?;
            f.sync_data()
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        written.map_err(|source| SpoolError::Io {
            doing: "writing the rejected file",
            path: self.rejected_path.display().to_string(),
            source,
        })
    }
}

enum Stop {
    /// The store is down: try again later.
    Store(StoreError),
    /// This batch can never be stored.
    Poison(String),
}
