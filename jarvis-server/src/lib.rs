//! The Jarvis server: the Alertmanager webhook and the operator API.
//!
//! `main.rs` only parses flags, loads the configuration and calls [`app::build`];
//! tests build the same app in-process on 127.0.0.1:0.

pub mod app;
pub mod auth;
pub mod error;
pub mod metrics;
pub mod openapi;
pub mod proactive;
pub mod recovery;
pub mod routes;
pub mod state;
pub mod telemetry;
