//! Jarvis adapters.

pub mod claude;
pub mod discord;
pub mod homeassistant;
pub mod http;
pub mod n8n;
pub mod ssh;
pub mod prometheus;
pub mod loki;
pub mod store;
pub mod config;
pub mod alertmanager;
pub mod dryrun;
pub mod log_notifier;
pub mod spool;
