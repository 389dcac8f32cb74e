//! Webhook ingest benchmark: webhooks/s and latency percentiles for the real
//! single-alert Alertmanager payload, each request a distinct alert.
//!
//! ```text
//! cargo run --release -p jarvis-e2e --bin jarvis-bench-ingest -- --store both
//! cargo run --release -p jarvis-e2e --bin jarvis-bench-ingest -- --url http://127.0.0.1:8000/webhook/alertmanager --password secret
//! ```
//!
//! Without `--url` it starts `jarvis-server` in-process on 127.0.0.1:0 (same
//! tokio runtime as the load generator) with a fresh SQLite file, or a
//! throwaway PostgreSQL database created on `--postgres` and dropped after.
//! The webhook answers 202 once the alert is committed; the pipeline then
//! handles it in the background (deterministic planner, dry-run executor: no
//! hosts configured), competing for the same CPU and database, as in
//! production. The time until that background work drained is reported too.
//! Targets (issue 8): >= 5,000 webhooks/s with p99 <= 10 ms on SQLite.

use std::path::Path;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use jarvis_adapters::config::{self, Env, Overrides};
use jarvis_e2e::load::{self, LoadConfig, LoadReport, Target};
use jarvis_server::app::{self, AppEnv};
use sqlx::Connection;

const PASSWORD: &str = "bench-secret";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum StoreKind {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, Parser)]
#[command(name = "jarvis-bench-ingest")]
struct Args {
    /// Store of the in-process server.
    #[arg(long, value_enum, default_value = "both")]
    store: StoreKind,
    /// Measured requests (each a distinct alert).
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Unmeasured requests sent first.
    #[arg(long, default_value_t = 1_000)]
    warmup: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Stop measuring after this many seconds even if requests remain.
    #[arg(long, default_value_t = 60)]
    max_secs: u64,
    /// Target a running server's webhook URL instead of starting one (loopback only).
    #[arg(long)]
    url: Option<String>,
    #[arg(long, default_value = "alertmanager")]
    user: String,
    #[arg(long, default_value = PASSWORD)]
    password: String,
    /// Send one alert over and over (redeliveries: stored once, handled once),
    /// which measures the webhook path without the pipeline work behind it.
    #[arg(long)]
    redeliver: bool,
    /// PostgreSQL server (a database on it is created and dropped per run).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    postgres: String,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Some(url) = &args.url {
        let host = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split(['/', ':']).next())
            .unwrap_or("");
        assert!(
            matches!(host, "127.0.0.1" | "localhost" | "[::1]"),
            "--url must be a loopback address, not {host}"
        );
        let target = Target {
            url: url.clone(),
            user: args.user.clone(),
            password: args.password.clone(),
        };
        let report = measure(&args, &target).await;
        print_report(&label(&args, "external"), &report, None);
        return;
    }
    if matches!(args.store, StoreKind::Sqlite | StoreKind::Both) {
        let dir = tempfile::tempdir().expect("temp dir");
        let (report, drained) = in_process(&args, dir.path(), None).await;
        print_report(&label(&args, "sqlite"), &report, drained);
    }
    if matches!(args.store, StoreKind::Postgres | StoreKind::Both) {
        let name = format!("jarvis_bench_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&args.postgres)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", args.postgres));
        // `name` is built from our pid only.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create the bench database");
        let (base, _) = args
            .postgres
            .rsplit_once('/')
            .expect("a postgres URL with a database");
        let url = format!("{base}/{name}");
        let dir = tempfile::tempdir().expect("temp dir");
        let (report, drained) = in_process(&args, dir.path(), Some(&url)).await;
        print_report(&label(&args, "postgres"), &report, drained);
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await
        .expect("drop the bench database");
    }
}

/// Starts the server in-process, measures, shuts it down. Also returns how long
/// the background handling took to drain after the last answer.
async fn in_process(
    args: &Args,
    dir: &Path,
    postgres: Option<&str>,
) -> (LoadReport, Option<Duration>) {
    let runbooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runbooks");
    // The process's own JARVIS_* settings apply (e.g. the pipeline's concurrency).
    let mut env: Env = std::env::vars()
        .filter(|(k, _)| k.starts_with("JARVIS_"))
        .collect();
    env.insert("JARVIS_SERVER__WEBHOOK_PASSWORD".into(), PASSWORD.into());
    env.insert(
        "JARVIS_RUNBOOKS__DIR".into(),
        runbooks.display().to_string(),
    );
    if let Some(url) = postgres {
        env.insert("JARVIS_DATABASE__URL".into(), url.into());
    }
    let cfg = config::load(
        None,
        &env,
        &Overrides {
            listen: Some("127.0.0.1:0".into()),
            data_dir: Some(dir.to_path_buf()),
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let server = app::build(cfg, AppEnv::default())
        .await
        .unwrap_or_else(|e| panic!("server did not build: {e:?}"))
        .spawn();
    let target = Target {
        url: server.url("/webhook/alertmanager"),
        user: args.user.clone(),
        password: PASSWORD.into(),
    };
    let report = measure(args, &target).await;
    let done = Instant::now();
    let mut drained = None;
    while done.elapsed() < Duration::from_secs(120) {
        if server.state.queue.stats().in_flight == 0 {
            drained = Some(done.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.shutdown().await.expect("shutdown");
    (report, drained)
}

async fn measure(args: &Args, target: &Target) -> LoadReport {
    let run = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0) as u64;
    let mut bodies = if args.redeliver {
        let one = load::distinct_payloads(1, run).remove(0);
        vec![one; args.warmup.max(1) + args.requests]
    } else {
        load::distinct_payloads(args.warmup + args.requests, run)
    };
    let measured = bodies.split_off(args.warmup.max(usize::from(args.redeliver)));
    let cfg = LoadConfig {
        concurrency: args.concurrency,
        max_duration: Duration::from_secs(args.max_secs),
    };
    if !bodies.is_empty() {
        let warm = load::run(target, bodies, cfg).await;
        assert!(
            warm.accepted == warm.sent,
            "warm-up requests were not all accepted: {warm:?}"
        );
    }
    load::run(target, measured, cfg).await
}

fn label(args: &Args, store: &str) -> String {
    let kind = if args.redeliver {
        "redeliveries"
    } else {
        "distinct"
    };
    format!("{store}, {kind}, c={}", args.concurrency)
}

fn print_report(store: &str, r: &LoadReport, drained: Option<Duration>) {
    println!(
        "ingest[{store}]: {} sent, {} accepted (202), {} transport errors, statuses {:?}, {:.2?} wall",
        r.sent, r.accepted, r.errors, r.statuses, r.elapsed
    );
    println!("ingest[{store}]: {:.0} webhooks/s", r.rate());
    if let Some(l) = &r.latency {
        println!("ingest[{store}]: latency {l}");
    }
    match drained {
        Some(d) => {
            println!("ingest[{store}]: background handling drained {d:.2?} after the last answer")
        }
        None => println!("ingest[{store}]: background handling not drained within 120 s"),
    }
}
