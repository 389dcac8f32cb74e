//! `jarvis check-command`: classify a shell command with the safety rules.
//!
//! Prints one JSON line with the verdict and exits 0 when the command would
//! run unattended (`allow`), 3 otherwise. Configuration problems are errors
//! (exit 2 from `main`).

use std::path::PathBuf;

use anyhow::Context as _;
use jarvis_core::safety::{Decision, SafetyConfig, SafetyPolicy};
use serde::Deserialize;

/// Exit code when the command would be held for approval or refused.
const NOT_ALLOWED: i32 = 3;

#[derive(clap::Args, Debug)]
pub struct CheckCommandArgs {
    /// Host the command would run on
    #[arg(long)]
    pub host: Option<String>,
    /// Configuration file whose [safety] table and [[hosts]] names apply
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The command, after `--`
    #[arg(last = true, required = true, num_args = 1..)]
    pub command: Vec<String>,
}

/// The parts of the configuration file this command reads; other tables are ignored.
#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    safety: Option<toml::Value>,
    #[serde(default)]
    hosts: Vec<HostEntry>,
}

#[derive(Debug, Deserialize)]
struct HostEntry {
    name: String,
}

/// Builds the policy from the configuration file (or the defaults).
fn load_policy(path: Option<&PathBuf>) -> anyhow::Result<SafetyPolicy> {
    let Some(path) = path else {
        return Ok(SafetyPolicy::permissive_defaults());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading configuration {}", path.display()))?;
    let file: ConfigFile = toml::from_str(&text)
        .with_context(|| format!("parsing configuration {}", path.display()))?;
    let safety: SafetyConfig = match file.safety {
        Some(table) => table
            .try_into()
            .with_context(|| format!("invalid [safety] table in {}", path.display()))?,
        None => SafetyConfig::default(),
    };
    let hosts: Vec<String> = file.hosts.into_iter().map(|h| h.name).collect();
    SafetyPolicy::new(&safety, &hosts)
        .with_context(|| format!("invalid safety configuration in {}", path.display()))
}

pub fn run(args: &CheckCommandArgs) -> anyhow::Result<i32> {
    let policy = load_policy(args.config.as_ref())?;
    let command = args.command.join(" ");
    let verdict = policy.check_command(args.host.as_deref(), &command);
    let line = serde_json::json!({
        "verdict": verdict.decision.as_str(),
        "class": verdict.class.as_str(),
        "rule": verdict.rule,
        "reason": verdict.reason,
    });
    println!("{line}");
    Ok(if verdict.decision == Decision::Allow {
        0
    } else {
        NOT_ALLOWED
    })
}
