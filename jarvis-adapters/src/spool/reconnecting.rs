//! [`ReconnectingStore`]: a store that connects lazily, so the server can start
//! while its database is down.
//!
//! Until a connection succeeds every call fails fast with
//! [`StoreError::Unavailable`], which the pipeline and the webhook already treat
//! as "the store is down" (the webhook spools). [`Store::ping`] is what tries to
//! connect: the server's recovery loop pings with backoff, and the first ping
//! that connects makes every later call go to the connected store.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jarvis_core::domain::*;
use jarvis_core::error::StoreError;
use jarvis_core::ports::Store;

/// A future that opens the inner store.
pub type ConnectFuture<S> = Pin<Box<dyn Future<Output = Result<S, StoreError>> + Send>>;

/// Opens the inner store; called again after each failure.
pub type Connector<S> = Arc<dyn Fn() -> ConnectFuture<S> + Send + Sync>;

/// The cause of an `Unavailable` error before the first connection.
#[derive(Debug, thiserror::Error)]
#[error("not connected to the {kind} store yet")]
struct NotConnected {
    kind: &'static str,
}

/// A [`Store`] that delegates to an inner store once one connects.
pub struct ReconnectingStore<S> {
    kind: &'static str,
    connector: Connector<S>,
    inner: RwLock<Option<Arc<S>>>,
    connecting: tokio::sync::Mutex<()>,
}

impl<S> fmt::Debug for ReconnectingStore<S> {
    // The connector may hold a URL with a password: never shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReconnectingStore")
            .field("kind", &self.kind)
            .field(
                "connected",
                &self.inner.read().map(|g| g.is_some()).unwrap_or_default(),
            )
            .finish_non_exhaustive()
    }
}

impl<S: Store + 'static> ReconnectingStore<S> {
    /// A store of `kind` (`postgres`) that connects with `connector` on the next ping.
    pub fn new<F>(kind: &'static str, connector: F) -> Self
    where
        F: Fn() -> ConnectFuture<S> + Send + Sync + 'static,
    {
        ReconnectingStore {
            kind,
            connector: Arc::new(connector),
            inner: RwLock::new(None),
            connecting: tokio::sync::Mutex::new(()),
        }
    }

    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The inner store, once connected.
    pub fn connected(&self) -> Option<Arc<S>> {
        self.inner.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The inner store, connecting first if needed. One connection attempt at a
    /// time: concurrent callers wait for it.
    pub async fn connect(&self) -> Result<Arc<S>, StoreError> {
        if let Some(store) = self.connected() {
            return Ok(store);
        }
        let _one = self.connecting.lock().await;
        if let Some(store) = self.connected() {
            return Ok(store);
        }
        let store = Arc::new((self.connector)().await?);
        *self.inner.write().unwrap_or_else(|p| p.into_inner()) = Some(store.clone());
        tracing::info!(store = self.kind, "store connected");
        Ok(store)
    }

    fn current(&self) -> Result<Arc<S>, StoreError> {
        self.connected().ok_or_else(|| StoreError::Unavailable {
            doing: "connecting to the store",
            source: Box::new(NotConnected { kind: self.kind }),
        })
    }
}

/// Delegates every method but `ping` to the connected store.
macro_rules! delegate {
    ($( $name:ident ( $( $arg:ident : $ty:ty ),* ) -> $ret:ty; )*) => {
        #[async_trait]
        impl<S: Store + 'static> Store for ReconnectingStore<S> {
            /// Connects if not yet connected, then pings.
            async fn ping(&self) -> Result<(), StoreError> {
                self.connect().await?.ping().await
            }
            $(
                async fn $name(&self, $( $arg: $ty ),*) -> Result<$ret, StoreError> {
                    self.current()?.$name($( $arg ),*).await
                }
            )*
        }
    };
}

delegate! {
    ingest(batch: &IngestBatch) -> Vec<Ingested>;
    alert(id: AlertId) -> StoredAlert;
    unprocessed_resolutions(limit: u32) -> Vec<StoredAlert>;
    mark_processed(id: AlertId, at: DateTime<Utc>) -> ();
    incident(id: IncidentId) -> Incident;
    transition(id: IncidentId, to: IncidentState, reason: &str, at: DateTime<Utc>) -> Incident;
    set_root(id: IncidentId, root: Option<IncidentId>) -> ();
    bump_attempts(id: IncidentId) -> u32;
    transitions(id: IncidentId) -> Vec<Transition>;
    incidents(filter: &IncidentFilter) -> Vec<Incident>;
    in_flight() -> Vec<Incident>;
    open_incidents() -> Vec<Incident>;
    latest_incident_for(fingerprint: &Fingerprint, since: DateTime<Utc>) -> Option<Incident>;
    claim(id: IncidentId, owner: &str, until: DateTime<Utc>, now: DateTime<Utc>) -> bool;
    release(id: IncidentId, owner: &str) -> ();
    record_attempt(attempt: &Attempt) -> ();
    attempts(incident: IncidentId) -> Vec<Attempt>;
    attempts_for_key(key: &RouteKey, since: DateTime<Utc>) -> Vec<Attempt>;
    clear_attempts(key: &RouteKey, at: DateTime<Utc>) -> ();
    last_escalation(key: &RouteKey) -> Option<DateTime<Utc>>;
    record_escalation(key: &RouteKey, incident: IncidentId, at: DateTime<Utc>) -> ();
    patterns() -> Vec<Pattern>;
    patterns_for(signature: &str) -> Vec<Pattern>;
    pattern(id: PatternId) -> Pattern;
    save_pattern(pattern: &Pattern) -> ();
    delete_pattern(id: PatternId) -> ();
    record_failure(failure: &FailurePattern) -> ();
    failures_for(signature: &str, since: DateTime<Utc>) -> Vec<FailurePattern>;
    save_maintenance(window: &MaintenanceWindow) -> ();
    maintenance_windows(now: DateTime<Utc>) -> Vec<MaintenanceWindow>;
    save_approval(approval: &Approval) -> ();
    approval(id: ApprovalId) -> Approval;
    approvals(status: Option<ApprovalStatus>) -> Vec<Approval>;
    record_host_status(status: &HostStatus) -> ();
    host_statuses() -> Vec<HostStatus>;
    save_handoff(handoff: &Handoff) -> ();
    handoff(id: HandoffId) -> Handoff;
    handoffs(state: Option<HandoffState>) -> Vec<Handoff>;
    save_snapshot(snapshot: &Snapshot) -> ();
    snapshots(incident: IncidentId) -> Vec<Snapshot>;
    record_anomaly(anomaly: &AnomalyRecord) -> ();
    anomalies(since: DateTime<Utc>) -> Vec<AnomalyRecord>;
    audit(entry: &AuditEntry) -> ();
    audit_log(incident: Option<IncidentId>, limit: u32) -> Vec<AuditEntry>;
    record_notice(record: &NoticeRecord) -> ();
    notices(incident: IncidentId) -> Vec<NoticeRecord>;
    prune(before: DateTime<Utc>) -> PruneReport;
}
