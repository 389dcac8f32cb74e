//! The `jarvis` command.

mod check_command;
mod config_check;
mod replay;
mod simulate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Jarvis: auto-remediation of Prometheus alerts.
#[derive(Debug, Parser)]
#[command(name = "jarvis", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
#[expect(
    clippy::enum_variant_names,
    reason = "`check-command` is the documented subcommand name"
)]
enum Command {
    /// Run scenarios through the pipeline against a simulated world.
    Simulate(simulate::SimulateArgs),
    /// Show what Jarvis would do with captured Alertmanager webhooks (dry run).
    Replay(replay::ReplayArgs),
    /// Classify a command with the safety rules and print the verdict as one JSON line
    /// (exit 0 when it would run unattended, 3 otherwise).
    CheckCommand(check_command::CheckCommandArgs),
    /// Work with the configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate a configuration and probe each configured integration
    /// (exit 0 when all is well, 1 when a probe failed, 2 when the configuration is invalid).
    Check(config_check::ConfigCheckArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Simulate(args) => simulate::run(args).await,
        Command::Replay(args) => replay::run(args).await,
        Command::Config(ConfigCommand::Check(args)) => config_check::run(&args).await,
        Command::CheckCommand(args) => match check_command::run(&args) {
            Ok(code) => std::process::exit(code),
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::exit(2);
            }
        },
    };
    Ok(ExitCode::from(code))
}
