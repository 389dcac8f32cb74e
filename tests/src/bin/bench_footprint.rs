//! Footprint of the real `jarvis-server` binary: resident memory (VmRSS from
//! `/proc/PID/status`) idle, at its peak under webhook load, and after it.
//!
//! ```text
//! cargo build --release -p jarvis-server -p jarvis-e2e && target/release/jarvis-bench-footprint
//! ```
//!
//! Starts the binary found next to this program (`--binary` to override) on a
//! free loopback port with a fresh SQLite data directory and the repository's
//! runbooks, zero configuration otherwise (deterministic planner, dry-run
//! executor), waits for `/health`, lets it settle, then sends `--requests`
//! distinct webhooks with the load generator of `jarvis-bench-ingest`,
//! sampling RSS every 20 ms. Target (issue 8): <= 30 MB idle.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use jarvis_e2e::load::{self, LoadConfig, Target};

const PASSWORD: &str = "bench-secret";

#[derive(Debug, Parser)]
#[command(name = "jarvis-bench-footprint")]
struct Args {
    /// The jarvis-server binary (default: next to this program).
    #[arg(long)]
    binary: Option<PathBuf>,
    /// Webhooks sent under load (each a distinct alert).
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds the idle server settles before the idle reading.
    #[arg(long, default_value_t = 5)]
    settle_secs: u64,
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let binary = args.binary.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .expect("current exe")
            .with_file_name("jarvis-server")
    });
    assert!(
        binary.exists(),
        "{} not found: build it first (cargo build --release -p jarvis-server)",
        binary.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let dir = tempfile::tempdir().expect("temp dir");
    let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
    let runbooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runbooks");
    let mut child = Command::new(&binary)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env_clear()
        .env("JARVIS_SERVER__WEBHOOK_PASSWORD", PASSWORD)
        .env("JARVIS_RUNBOOKS__DIR", &runbooks)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("dup log"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let pid = child.id();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "jarvis-server exited with {status}: {}",
                std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
            );
        }
        if let Ok(r) = client.get(format!("{base}/health")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "jarvis-server not healthy within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "footprint: {} pid {pid} healthy after {:.2?}",
        binary.display(),
        started.elapsed()
    );
    let (rss, _) = load::rss_kib(pid).expect("read /proc status");
    println!("footprint: RSS just after start {}", mib(rss));
    tokio::time::sleep(Duration::from_secs(args.settle_secs)).await;
    let (idle, _) = load::rss_kib(pid).expect("read /proc status");
    println!("footprint: RSS idle ({} s) {}", args.settle_secs, mib(idle));

    let peak = Arc::new(AtomicU64::new(idle));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Some((rss, _)) = load::rss_kib(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let run = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0) as u64;
    let report = load::run(
        &Target {
            url: format!("{base}/webhook/alertmanager"),
            user: "alertmanager".into(),
            password: PASSWORD.into(),
        },
        load::distinct_payloads(args.requests, run),
        LoadConfig {
            concurrency: args.concurrency,
            max_duration: Duration::from_secs(120),
        },
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    println!(
        "footprint: load {} accepted of {} in {:.2?} ({:.0}/s); latency {}",
        report.accepted,
        report.sent,
        report.elapsed,
        report.rate(),
        report
            .latency
            .map(|l| l.to_string())
            .unwrap_or_else(|| "-".into())
    );
    let (after, hwm) = load::rss_kib(pid).expect("read /proc status");
    println!(
        "footprint: RSS peak sampled under load {}, VmHWM {}, right after load {}",
        mib(peak.load(Ordering::Relaxed)),
        mib(hwm),
        mib(after)
    );
    tokio::time::sleep(Duration::from_secs(args.settle_secs)).await;
    let (later, _) = load::rss_kib(pid).expect("read /proc status");
    println!(
        "footprint: RSS {} s after load {}",
        args.settle_secs,
        mib(later)
    );

    // Graceful stop of the process this program started (by its pid).
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
}
