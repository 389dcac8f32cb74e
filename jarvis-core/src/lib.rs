//! Jarvis core: domain types, ports, the remediation pipeline, learning,
//! correlation, anomaly detection and command safety. No I/O happens here.

pub mod clock;
pub mod domain;
pub mod error;
pub mod hints;
pub mod ports;
pub mod runbook;
pub mod safety;
pub mod planner;
pub mod pipeline;
pub mod learning;
pub mod correlation;
pub mod anomaly;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
