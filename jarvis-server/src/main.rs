//! `jarvis-server`: parse flags, load the configuration, build the app, serve
//! until SIGTERM or Ctrl-C. Everything else lives in the library.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use jarvis_adapters::config::{self, Overrides};
use jarvis_server::{app, telemetry};

/// Jarvis: auto-remediation of Prometheus alerts. Runs with no configuration at all.
#[derive(Debug, Parser)]
#[command(name = "jarvis-server", version)]
struct Args {
    /// Address to listen on [default: 127.0.0.1:8000; env JARVIS_LISTEN].
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Directory for the SQLite database [default: ./data; env JARVIS_DATA_DIR].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// TOML configuration file [env JARVIS_CONFIG].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let env = config::process_env();
    telemetry::init(&env);
    let overrides = Overrides {
        listen: args.listen,
        data_dir: args.data_dir,
    };
    let cfg = match config::load(args.config.as_deref(), &env, &overrides) {
        Ok(cfg) => cfg,
        Err(e) => {
            tracing::error!("{e}");
            anyhow::bail!("{e}");
        }
    };
    let owner = app::instance_owner(&cfg.server.data_dir).with_context(|| {
        format!(
            "cannot read or create {}",
            cfg.server.data_dir.join(app::INSTANCE_ID_FILE).display()
        )
    })?;
    let app_env = app::AppEnv {
        owner,
        ..app::AppEnv::default()
    };
    let app = app::build(cfg, app_env)
        .await
        .context("jarvis-server could not start")?;
    app.run(shutdown_signal()).await.context("server failed")?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("ctrl-c received"),
        _ = term => tracing::info!("SIGTERM received"),
    }
}
