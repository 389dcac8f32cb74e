//! Runbooks and hosts, as loaded from the operator's files and configuration.

use serde::{Deserialize, Serialize};

/// A runbook: how a person (or Jarvis) handles one alert.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Runbook {
    /// The alert name the runbook is for.
    pub alert_name: String,
    /// Other alert names that use this runbook (`matches:`).
    pub aliases: Vec<String>,
    pub title: String,
    pub overview: String,
    pub investigation: Vec<String>,
    pub causes: Vec<String>,
    pub commands: Vec<RunbookCommand>,
    /// The Markdown text, as given to the LLM planner.
    pub markdown: String,
}

/// A command listed in a runbook's commands section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunbookCommand {
    pub command: String,
    /// `true` in the remediation subsection, `false` in the diagnostics one.
    pub remediation: bool,
}

/// A host Jarvis may act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    pub name: String,
    pub address: String,
    pub port: u16,
    pub user: String,
    pub role: Option<String>,
    pub tags: Vec<String>,
}
