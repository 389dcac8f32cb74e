//! Jarvis adapters.

pub mod claude;
pub mod discord;
pub mod homeassistant;
pub mod http;
pub mod n8n;
pub mod ssh;
pub mod prometheus;
pub mod loki;
