//! Jarvis core: domain types, ports, the remediation pipeline, learning,
//! correlation, anomaly detection and command safety. No I/O happens here.

pub mod anomaly;
pub mod clock;
pub mod correlation;
pub mod domain;
pub mod error;
pub mod handoff;
pub mod hints;
pub mod learning;
pub mod pipeline;
pub mod planner;
pub mod ports;
pub mod runbook;
pub mod safety;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
