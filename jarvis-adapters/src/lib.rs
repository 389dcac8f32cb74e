//! Jarvis adapters.

pub mod alertmanager;
pub mod claude;
pub mod config;
pub mod discord;
pub mod dryrun;
pub mod homeassistant;
pub mod http;
pub mod log_notifier;
pub mod loki;
pub mod n8n;
pub mod prometheus;
pub mod spool;
pub mod ssh;
pub mod store;
