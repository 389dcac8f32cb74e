//! Degraded mode: an on-disk spool for webhook batches while the store is down.
//!
//! - [`Spool`] is the append-only file in the data directory (`spool.jsonl`):
//!   one synced record per webhook batch, bounded by alerts, drained in order
//!   and truncated crash-safely through a committed seq.
//! - [`Intake`] decides, per batch, store or spool, and drains the spool back
//!   into the store through the pipeline's routing (idempotent ingest).
//! - [`ReconnectingStore`] lets the server start while PostgreSQL is down: it
//!   answers `Unavailable` until a ping connects it.
//!
//! The server owns the loop around them: ping with backoff, drain, hand the
//! drained batches to the pipeline, report `degraded` on `/health`.

mod file;
mod intake;
mod reconnecting;

pub use file::{
    COMMITTED_FILE, DEFAULT_MAX_ALERTS, SPOOL_FILE, Spool, SpoolError, SpoolStats, SpooledBatch,
};
pub use intake::{
    Accepted, DIRECT_TIMEOUT, DRAIN_CHUNK, DrainStep, Intake, IntakeError, REJECTED_FILE,
};
pub use reconnecting::{ConnectFuture, Connector, ReconnectingStore};

#[cfg(test)]
mod tests;
