//! Ingest throughput: 10,000 alerts arriving as 1,000 webhook batches of 10.
//!
//! `cargo bench -p jarvis-adapters --bench ingest`
//! Targets: SQLite under 2 s, PostgreSQL under 3 s. PostgreSQL must run on
//! 127.0.0.1:5432 (override with `JARVIS_TEST_POSTGRES_URL`).
//!
//! Each store runs three arrival patterns, each on an empty database:
//! - sequential: each batch is committed (durably) before the next arrives;
//! - concurrent: 32 and then 128 clients, each sending its next batch as soon
//!   as the previous one is acknowledged (closed loop), so group commit can
//!   share one fsync between the batches that arrive during the previous one;
//! - open loop: 10,000 single-alert webhooks arriving at 5,000/s whatever the
//!   store does (latency counted from the scheduled arrival), the server's
//!   target being p99 <= 10 ms on SQLite.
//!
//! A durable commit costs at least one fsync, so 1,000 sequential batches cost
//! at least 1,000 fsyncs: the bench measures the disk's fsync latency first and
//! prints that floor. For reference it also runs each store without the fsync
//! (SQLite in memory; PostgreSQL with `synchronous_commit = off` on the bench
//! database) to show the store's own overhead. Those are not how Jarvis runs.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jarvis_adapters::store::{PostgresStore, SqliteStore};
use jarvis_core::domain::IngestBatch;
use jarvis_core::ports::Store;
use jarvis_core::testing::contract::{at, batch, firing};
use sqlx::Connection;

const BATCHES: usize = 1_000;
const PER_BATCH: usize = 10;
const OPEN_LOOP_WEBHOOKS: usize = 10_000;
const OPEN_LOOP_RATE: f64 = 5_000.0;

fn batches(count: usize, per_batch: usize) -> Vec<IngestBatch> {
    (0..count)
        .map(|b| {
            let alerts: Vec<_> = (0..per_batch)
                .map(|i| firing("BenchAlert", &format!("host-{b}-{i}"), at(b as i64)))
                .collect();
            batch(&alerts, at(b as i64))
        })
        .collect()
}

/// How a run went: wall time and each call's latency.
struct Run {
    alerts: usize,
    calls: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }
}

/// Each batch committed before the next is sent.
async fn sequential(store: Arc<dyn Store>) -> Run {
    let batches = batches(BATCHES, PER_BATCH);
    let mut latencies = Vec::with_capacity(BATCHES);
    let started = Instant::now();
    for batch in &batches {
        let call = Instant::now();
        let ingested = store.ingest(batch).await.expect("ingest");
        latencies.push(call.elapsed());
        assert!(ingested.iter().all(|i| i.new));
    }
    Run {
        alerts: BATCHES * PER_BATCH,
        calls: BATCHES,
        elapsed: started.elapsed(),
        latencies,
    }
}

/// `clients` concurrent senders sharing the batches, each waiting for its
/// acknowledgement before sending its next batch.
async fn concurrent(store: Arc<dyn Store>, clients: usize) -> Run {
    let batches = Arc::new(batches(BATCHES, PER_BATCH));
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (store, batches, next) = (store.clone(), batches.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(batch) = batches.get(i) else {
                        return latencies;
                    };
                    let call = Instant::now();
                    let ingested = store.ingest(batch).await.expect("ingest");
                    latencies.push(call.elapsed());
                    assert!(ingested.iter().all(|i| i.new));
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(BATCHES);
    for task in tasks {
        latencies.extend(task.await.expect("client"));
    }
    Run {
        alerts: BATCHES * PER_BATCH,
        calls: BATCHES,
        elapsed: started.elapsed(),
        latencies,
    }
}

/// Single-alert webhooks arriving at a fixed rate, each on its own task;
/// latency runs from the scheduled arrival to the acknowledgement.
async fn open_loop(store: Arc<dyn Store>) -> Run {
    let batches = batches(OPEN_LOOP_WEBHOOKS, 1);
    let gap = Duration::from_secs_f64(1.0 / OPEN_LOOP_RATE);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(batches.len());
    for (i, batch) in batches.into_iter().enumerate() {
        let due = started + gap * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let ingested = store.ingest(&batch).await.expect("ingest");
            assert!(ingested[0].new);
            due.elapsed()
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    for task in tasks {
        latencies.push(task.await.expect("webhook"));
    }
    Run {
        alerts: OPEN_LOOP_WEBHOOKS,
        calls: OPEN_LOOP_WEBHOOKS,
        elapsed: started.elapsed(),
        latencies,
    }
}

/// The disk's fsync latency in the temporary directory, and the floor it sets.
fn fsync_floor() {
    use std::io::Write;
    let path = std::env::temp_dir().join(format!("jarvis-fsync-{}", uuid::Uuid::now_v7().simple()));
    let mut file = std::fs::File::create(&path).expect("temp file");
    let rounds = 100;
    let started = Instant::now();
    for _ in 0..rounds {
        file.write_all(&[0; 128]).expect("write");
        file.sync_data().expect("fdatasync");
    }
    let each = started.elapsed() / rounds;
    let _ = std::fs::remove_file(&path);
    println!(
        "disk: fdatasync {:.2} ms, so {BATCHES} durable commits in a row need at least {:.2} s",
        each.as_secs_f64() * 1000.0,
        each.as_secs_f64() * BATCHES as f64
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Prints one run; `target` is a wall-time target for 10,000 alerts, or for
/// the open loop a p99 latency target.
fn report(store: &str, pattern: &str, run: &Run, target: Option<(&str, bool)>) {
    let verdict = match target {
        Some((what, met)) => format!(", target {what}: {}", if met { "ok" } else { "MISSED" }),
        None => String::new(),
    };
    println!(
        "{store:<38} {pattern:<22} {:>6} alerts / {:>5} calls in {:>6.3} s = {:>7.0} alerts/s ({:>6.0} calls/s), latency p50 {:>7.2} ms p99 {:>7.2} ms{verdict}",
        run.alerts,
        run.calls,
        run.elapsed.as_secs_f64(),
        run.alerts as f64 / run.elapsed.as_secs_f64(),
        run.calls as f64 / run.elapsed.as_secs_f64(),
        ms(run.percentile(0.50)),
        ms(run.percentile(0.99)),
    );
}

/// Runs every arrival pattern, each on a fresh store from `fresh`.
async fn patterns<F, Fut>(name: &str, wall_target: Duration, fresh: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = (Arc<dyn Store>, Box<dyn FnOnce() -> CloseFut>)>,
{
    let limit = format!("< {} s", wall_target.as_secs());
    let (store, close) = fresh().await;
    let run = sequential(store).await;
    close().await;
    report(
        name,
        "sequential",
        &run,
        Some((&limit, run.elapsed < wall_target)),
    );
    for clients in [32, 128] {
        let (store, close) = fresh().await;
        let run = concurrent(store, clients).await;
        close().await;
        let pattern = format!("{clients} clients x {PER_BATCH}");
        report(
            name,
            &pattern,
            &run,
            Some((&limit, run.elapsed < wall_target)),
        );
    }
    let (store, close) = fresh().await;
    let run = open_loop(store).await;
    close().await;
    let met = run.percentile(0.99) <= Duration::from_millis(10);
    report(
        name,
        "open loop 5000/s x 1",
        &run,
        Some(("p99 <= 10 ms", met)),
    );
}

type CloseFut = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

async fn sqlite() {
    patterns(
        "sqlite (WAL, synchronous=FULL)",
        Duration::from_secs(2),
        || async {
            let path = std::env::temp_dir()
                .join(format!("jarvis-bench-{}.db", uuid::Uuid::now_v7().simple()));
            let store = SqliteStore::open(&path).await.expect("open sqlite");
            let close: Box<dyn FnOnce() -> CloseFut> = {
                let store = store.clone();
                Box::new(move || {
                    Box::pin(async move {
                        store.close().await;
                        for suffix in ["", "-wal", "-shm"] {
                            let mut file = path.clone().into_os_string();
                            file.push(suffix);
                            let _ = std::fs::remove_file(file);
                        }
                    })
                })
            };
            (Arc::new(store) as Arc<dyn Store>, close)
        },
    )
    .await;

    let store = SqliteStore::in_memory().await.expect("in-memory sqlite");
    let run = sequential(Arc::new(store)).await;
    report("sqlite in memory, reference only", "sequential", &run, None);
}

async fn postgres() {
    let admin_url = std::env::var("JARVIS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let database = format!("jarvis_bench_{}", uuid::Uuid::now_v7().simple());
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is not reachable at {admin_url}: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut admin)
        .await
        .expect("create bench database");
    let url = format!("{base}/{database}");
    let fresh = || async {
        let store = PostgresStore::connect(&url)
            .await
            .expect("connect postgres");
        sqlx::query("TRUNCATE alerts, incidents, deliveries CASCADE")
            .execute(&mut sqlx::PgConnection::connect(&url).await.expect("connect"))
            .await
            .expect("empty the bench database");
        let close: Box<dyn FnOnce() -> CloseFut> = {
            let store = store.clone();
            Box::new(move || Box::pin(async move { store.close().await }))
        };
        (Arc::new(store) as Arc<dyn Store>, close)
    };
    patterns(
        "postgres (synchronous_commit=on)",
        Duration::from_secs(3),
        fresh,
    )
    .await;

    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {database} SET synchronous_commit = off"
    )))
    .execute(&mut admin)
    .await
    .expect("relax the bench database");
    let (store, close) = fresh().await;
    let run = sequential(store).await;
    close().await;
    report(
        "postgres (synchronous_commit=off), ref",
        "sequential",
        &run,
        None,
    );

    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {database} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .expect("drop bench database");
}

fn main() {
    // `cargo test --benches` runs bench binaries with no `--bench` flag: keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    fsync_floor();
    runtime.block_on(async {
        sqlite().await;
        postgres().await;
    });
}
