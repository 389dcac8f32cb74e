//! Support for the end-to-end suite and the benchmark programs in `src/bin/`
//! (results in `docs/BENCHMARKS.md`).
//!
//! [`load`] is the webhook load generator used by `jarvis-bench-ingest` and
//! `jarvis-bench-footprint`; [`stats`] turns latencies into percentiles.

pub mod load;
pub mod stats;
