//! Ingest throughput: 10,000 alerts arriving as 1,000 webhook batches of 10,
//! each batch committed (durably) before the next arrives.
//!
//! `cargo bench -p jarvis-adapters --bench ingest`
//! Targets: SQLite under 2 s, PostgreSQL under 3 s. PostgreSQL must run on
//! 127.0.0.1:5432 (override with `JARVIS_TEST_POSTGRES_URL`).
//!
//! A durable commit costs at least one fsync, so 1,000 sequential batches cost
//! at least 1,000 fsyncs: the bench measures the disk's fsync latency first and
//! prints that floor. For reference it also runs each store without the fsync
//! (SQLite in memory; PostgreSQL with `synchronous_commit = off` on the bench
//! database) to show the store's own overhead. Those are not how Jarvis runs.

use std::time::{Duration, Instant};

use jarvis_adapters::store::{PostgresStore, SqliteStore};
use jarvis_core::domain::IngestBatch;
use jarvis_core::ports::Store;
use jarvis_core::testing::contract::{at, batch, firing};
use sqlx::Connection;

const BATCHES: usize = 1_000;
const PER_BATCH: usize = 10;

fn batches() -> Vec<IngestBatch> {
    (0..BATCHES)
        .map(|b| {
            let alerts: Vec<_> = (0..PER_BATCH)
                .map(|i| firing("BenchAlert", &format!("host-{b}-{i}"), at(b as i64)))
                .collect();
            batch(&alerts, at(b as i64))
        })
        .collect()
}

async fn run(store: &dyn Store) -> Duration {
    let batches = batches();
    let started = Instant::now();
    for batch in &batches {
        let ingested = store.ingest(batch).await.expect("ingest");
        assert!(ingested.iter().all(|i| i.new));
    }
    started.elapsed()
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
        "disk: fdatasync {:.2} ms, so {BATCHES} durable commits need at least {:.2} s",
        each.as_secs_f64() * 1000.0,
        each.as_secs_f64() * BATCHES as f64
    );
}

fn report(name: &str, elapsed: Duration, target: Duration) {
    let alerts = (BATCHES * PER_BATCH) as f64;
    println!(
        "{name}: {} alerts in {BATCHES} batches of {PER_BATCH}: {:.3} s ({:.0} alerts/s, {:.2} ms/batch), target < {} s: {}",
        BATCHES * PER_BATCH,
        elapsed.as_secs_f64(),
        alerts / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / BATCHES as f64,
        target.as_secs(),
        if elapsed < target { "ok" } else { "MISSED" }
    );
}

async fn sqlite() {
    let path =
        std::env::temp_dir().join(format!("jarvis-bench-{}.db", uuid::Uuid::now_v7().simple()));
    let store = SqliteStore::open(&path).await.expect("open sqlite");
    let elapsed = run(&store).await;
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
    report(
        "sqlite (WAL, synchronous=FULL)",
        elapsed,
        Duration::from_secs(2),
    );

    let store = SqliteStore::in_memory().await.expect("in-memory sqlite");
    let elapsed = run(&store).await;
    report(
        "sqlite in memory, reference only",
        elapsed,
        Duration::from_secs(2),
    );
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
    let store = PostgresStore::connect(&url)
        .await
        .expect("connect postgres");
    let elapsed = run(&store).await;
    store.close().await;
    report(
        "postgres (synchronous_commit=on)",
        elapsed,
        Duration::from_secs(3),
    );

    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {database} SET synchronous_commit = off"
    )))
    .execute(&mut admin)
    .await
    .expect("relax the bench database");
    let store = PostgresStore::connect(&url)
        .await
        .expect("connect postgres");
    sqlx::query("TRUNCATE alerts, incidents, deliveries CASCADE")
        .execute(&mut sqlx::PgConnection::connect(&url).await.expect("connect"))
        .await
        .expect("empty the bench database");
    let elapsed = run(&store).await;
    store.close().await;
    report(
        "postgres (synchronous_commit=off), reference only",
        elapsed,
        Duration::from_secs(3),
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
