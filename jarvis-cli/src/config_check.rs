//! `jarvis config check`: validate a configuration and probe each configured integration.

use std::path::PathBuf;

use jarvis_adapters::config::{self, CheckStatus, Overrides};

/// Arguments of `jarvis config check`.
#[derive(clap::Args, Debug)]
pub struct ConfigCheckArgs {
    /// Configuration file [env JARVIS_CONFIG]; without one, the embedded defaults plus environment.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print one JSON object instead of a line per item.
    #[arg(long)]
    pub json: bool,
}

/// Validates the configuration (every problem listed, each naming its key), then
/// checks runbooks, seeds, the database location and each integration's health.
/// Exit status: 0 when everything is fine, 1 when a probe failed, 2 when the
/// configuration is invalid.
pub async fn run(args: &ConfigCheckArgs) -> u8 {
    let env = config::process_env();
    let cfg = match config::load(args.config.as_deref(), &env, &Overrides::default()) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("invalid configuration:");
            for problem in &e.problems {
                eprintln!("  {problem}");
            }
            return 2;
        }
    };
    let report = config::check(&cfg).await;
    if args.json {
        match serde_json::to_string(&report) {
            Ok(line) => println!("{line}"),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    } else {
        for item in &report.items {
            let (mark, detail) = match &item.status {
                CheckStatus::Ok(d) => ("ok  ", d),
                CheckStatus::Failed(d) => ("FAIL", d),
                CheckStatus::Skipped(d) => ("skip", d),
            };
            let target = item
                .target
                .as_deref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default();
            println!("{mark} {}{target}: {detail}", item.name);
        }
    }
    if report.ok() { 0 } else { 1 }
}
