//! Errors of the ports. One enum per port; each says whether a retry can help.

/// A boxed cause, kept as `#[source]`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of a [`crate::ports::Store`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("store unavailable while {doing}")]
    Unavailable {
        doing: &'static str,
        #[source]
        source: BoxError,
    },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        StoreError::NotFound {
            what: what.to_string(),
        }
    }

    /// A retry later may succeed (the database is down, a connection dropped).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

/// Errors of a [`crate::ports::Planner`].
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The planner's backend (the LLM) is down, refused the key, or is rate limited.
    #[error("planner {planner} unavailable: {reason}")]
    Unavailable { planner: String, reason: String },
    /// A per-incident or daily token budget is spent.
    #[error("planner {planner} is over its token budget: {reason}")]
    OverBudget { planner: String, reason: String },
    #[error("planner {planner} failed: {reason}")]
    Failed { planner: String, reason: String },
}

impl PlanError {
    /// The deterministic planner should take over.
    pub fn should_fall_back(&self) -> bool {
        matches!(
            self,
            PlanError::Unavailable { .. } | PlanError::OverBudget { .. }
        )
    }
}

/// Errors of an [`crate::ports::Executor`]: the step could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("host {host} unreachable: {reason}")]
    Unreachable { host: String, reason: String },
    #[error("host {0} is not configured")]
    UnknownHost(String),
    #[error("{kind} steps are not supported by this executor")]
    Unsupported { kind: &'static str },
    #[error("step failed to run: {0}")]
    Failed(String),
}

impl ExecError {
    /// The host could not be reached (counts toward host-offline detection).
    pub fn is_connection(&self) -> bool {
        matches!(self, ExecError::Unreachable { .. })
    }
}

/// Errors of a [`crate::ports::Notifier`].
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("notifier {notifier} rejected the notice: {reason}")]
    Rejected { notifier: String, reason: String },
    #[error("notifier {notifier} unavailable: {reason}")]
    Unavailable { notifier: String, reason: String },
}

/// Errors of an [`crate::ports::AlertSource`].
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("alert source {source_name} unavailable: {reason}")]
    Unavailable { source_name: String, reason: String },
    #[error("alert source {source_name} gave invalid data: {reason}")]
    Invalid { source_name: String, reason: String },
}
