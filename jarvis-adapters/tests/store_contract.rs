//! The `Store` contract suite against `SqliteStore` (a temporary file per test)
//! and `PostgresStore` (a fresh database per test on the local server).
//!
//! PostgreSQL must be running on 127.0.0.1:5432 with trust auth for user
//! `postgres` and a database `test` (override with `JARVIS_TEST_POSTGRES_URL`).
//! When it is not, every Postgres test fails: nothing here is skipped.

use std::path::PathBuf;
use std::sync::Arc;

use jarvis_adapters::store::{PostgresStore, SqliteStore};
use jarvis_core::domain::IngestBatch;
use jarvis_core::ports::Store;
use jarvis_core::testing::contract::{self, StoreFixture};
use sqlx::Connection;

// --- SQLite -----------------------------------------------------------------

struct SqliteFixture {
    store: SqliteStore,
    path: PathBuf,
}

impl SqliteFixture {
    async fn new() -> Self {
        let path = std::env::temp_dir().join(format!(
            "jarvis-store-test-{}.db",
            uuid::Uuid::now_v7().simple()
        ));
        let store = SqliteStore::open(&path).await.expect("open sqlite store");
        SqliteFixture { store, path }
    }
}

impl StoreFixture for SqliteFixture {
    type Store = SqliteStore;
    fn store(&self) -> &SqliteStore {
        &self.store
    }
    async fn teardown(self) {
        self.store.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let mut file = self.path.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}

jarvis_core::store_contract_suite!(sqlite, SqliteFixture::new());

// --- PostgreSQL ---------------------------------------------------------------

fn admin_url() -> String {
    std::env::var("JARVIS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// `admin_url` with its database replaced by `database`.
fn database_url(database: &str) -> String {
    let admin = admin_url();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    format!("{base}/{database}")
}

async fn admin() -> sqlx::PgConnection {
    let url = admin_url();
    sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is required for these tests and is not reachable at {url}: {e}")
    })
}

struct PostgresFixture {
    store: PostgresStore,
    database: String,
}

impl PostgresFixture {
    async fn new() -> Self {
        let database = format!("jarvis_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = admin().await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let _ = admin.close().await;
        let store = PostgresStore::connect(&database_url(&database))
            .await
            .expect("connect postgres store");
        PostgresFixture { store, database }
    }
}

impl StoreFixture for PostgresFixture {
    type Store = PostgresStore;
    fn store(&self) -> &PostgresStore {
        &self.store
    }
    async fn teardown(self) {
        self.store.close().await;
        let mut admin = admin().await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.database
        )))
        .execute(&mut admin)
        .await
        .expect("drop test database");
        let _ = admin.close().await;
    }
}

jarvis_core::store_contract_suite!(postgres, PostgresFixture::new());

// --- beyond the shared suite ------------------------------------------------------

/// Redeliveries racing on separate tokio tasks (and threads) still open one incident.
async fn spawned_deliveries_open_one_incident<S: Store + 'static>(store: Arc<S>) {
    let alert = contract::firing("NginxDown", "web1", contract::at(0));
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            let batch = contract::batch(std::slice::from_ref(&alert), contract::at(i));
            tokio::spawn(async move { store.ingest(&batch).await })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.extend(task.await.expect("task").expect("ingest"));
    }
    assert_eq!(results.iter().filter(|r| r.new).count(), 1, "{results:?}");
    assert!(results.iter().all(|r| r.incident == results[0].incident));
    assert_eq!(store.open_incidents().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn sqlite_spawned_deliveries_open_one_incident() {
    let fixture = SqliteFixture::new().await;
    let store = Arc::new(fixture.store.clone());
    let outcome = contract::catch_unwind(spawned_deliveries_open_one_incident(store)).await;
    fixture.teardown().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn postgres_spawned_deliveries_open_one_incident() {
    let fixture = PostgresFixture::new().await;
    let store = Arc::new(fixture.store.clone());
    let outcome = contract::catch_unwind(spawned_deliveries_open_one_incident(store)).await;
    fixture.teardown().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

// --- group commit: concurrent ingest shares transactions -----------------------------

/// Runs `test` on a fresh fixture's store behind an `Arc`, tearing down even on panic.
macro_rules! with_store {
    ($fixture:expr, $test:expr) => {{
        let fixture = $fixture;
        let store = Arc::new(fixture.store.clone());
        let outcome = contract::catch_unwind($test(store)).await;
        fixture.teardown().await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }};
}

/// 64 concurrent ingests of distinct batches all succeed, each with its own results.
async fn concurrent_batches_get_their_own_results<S: Store + 'static>(store: Arc<S>) {
    let batches: Vec<IngestBatch> = (0..64)
        .map(|b| {
            let alerts: Vec<_> = (0..1 + b % 5)
                .map(|i| contract::firing("NginxDown", &format!("web{b}-{i}"), contract::at(0)))
                .collect();
            contract::batch(&alerts, contract::at(b as i64))
        })
        .collect();
    let tasks: Vec<_> = batches
        .iter()
        .cloned()
        .map(|batch| {
            let store = store.clone();
            tokio::spawn(async move { store.ingest(&batch).await })
        })
        .collect();
    let mut alerts = std::collections::HashSet::new();
    for (task, batch) in tasks.into_iter().zip(&batches) {
        let ingested = task.await.expect("task").expect("ingest");
        assert_eq!(ingested.len(), batch.items.len());
        for (result, item) in ingested.iter().zip(&batch.items) {
            assert!(result.new && result.incident.is_some(), "{result:?}");
            assert!(alerts.insert(result.alert), "an alert answered twice");
            let stored = store.alert(result.alert).await.expect("stored");
            assert_eq!(
                stored.alert, item.alert,
                "the caller got another batch's alert"
            );
            let incident = store.incident(result.incident.unwrap()).await.unwrap();
            assert_eq!(incident.fingerprint, item.alert.fingerprint);
        }
    }
    assert_eq!(store.open_incidents().await.unwrap().len(), alerts.len());
}

/// One alert redelivered by 64 concurrent batches (each with an alert of its
/// own) opens one incident, and exactly one caller sees it as new.
async fn concurrent_redeliveries_open_one_incident<S: Store + 'static>(store: Arc<S>) {
    let shared = contract::firing("DiskFull", "db1", contract::at(0));
    let tasks: Vec<_> = (0..64)
        .map(|b| {
            let own = contract::firing("NginxDown", &format!("web{b}"), contract::at(0));
            let batch = contract::batch(&[own, shared.clone(), shared.clone()], contract::at(b));
            let store = store.clone();
            tokio::spawn(async move { store.ingest(&batch).await })
        })
        .collect();
    let mut shared_results = Vec::new();
    for task in tasks {
        let ingested = task.await.expect("task").expect("ingest");
        assert!(ingested[0].new, "each batch's own alert is new");
        assert!(!ingested[2].new, "a duplicate inside a batch is not new");
        shared_results.extend(ingested[1..].iter().cloned());
    }
    assert_eq!(shared_results.iter().filter(|r| r.new).count(), 1);
    assert!(
        shared_results
            .iter()
            .all(|r| r.alert == shared_results[0].alert)
    );
    assert!(
        shared_results
            .iter()
            .all(|r| r.incident == shared_results[0].incident)
    );
    assert_eq!(store.open_incidents().await.unwrap().len(), 65);
}

/// Among concurrent batches, one the database refuses fails alone.
async fn a_bad_batch_fails_alone<S: Store + 'static>(
    store: Arc<S>,
    bad: jarvis_core::domain::Alert,
) {
    let tasks: Vec<_> = (0..32)
        .map(|b| {
            let alert = if b == 16 {
                bad.clone()
            } else {
                contract::firing("NginxDown", &format!("web{b}"), contract::at(0))
            };
            let batch = contract::batch(&[alert], contract::at(b));
            let store = store.clone();
            tokio::spawn(async move { store.ingest(&batch).await })
        })
        .collect();
    for (b, task) in tasks.into_iter().enumerate() {
        let result = task.await.expect("task");
        if b == 16 {
            let error = result.expect_err("the bad batch fails");
            assert!(!error.is_transient(), "{error:?}");
        } else {
            assert!(result.expect("good batches commit")[0].new);
        }
    }
    assert_eq!(store.open_incidents().await.unwrap().len(), 31);
}

/// Callers dropped while they wait do not disturb the others.
async fn cancelled_callers_do_not_disturb_others<S: Store + 'static>(store: Arc<S>) {
    let tasks: Vec<_> = (0..48)
        .map(|b| {
            let batch = contract::batch(
                &[contract::firing(
                    "NginxDown",
                    &format!("web{b}"),
                    contract::at(0),
                )],
                contract::at(b),
            );
            let store = store.clone();
            tokio::spawn(async move { store.ingest(&batch).await })
        })
        .collect();
    for (b, task) in tasks.iter().enumerate() {
        if b % 3 == 0 {
            task.abort();
        }
    }
    for (b, task) in tasks.into_iter().enumerate() {
        match task.await {
            Ok(result) => assert!(result.expect("ingest")[0].new),
            Err(error) => assert!(b % 3 == 0 && error.is_cancelled(), "{error:?}"),
        }
    }
    // Every batch ingests now (the cancelled ones may already be stored).
    for b in 0..48 {
        let batch = contract::batch(
            &[contract::firing(
                "NginxDown",
                &format!("web{b}"),
                contract::at(0),
            )],
            contract::at(b),
        );
        let ingested = store.ingest(&batch).await.expect("ingest");
        if b % 3 != 0 {
            assert!(!ingested[0].new, "an answered batch was stored");
        }
    }
    assert_eq!(store.open_incidents().await.unwrap().len(), 48);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn sqlite_concurrent_batches_get_their_own_results() {
    with_store!(
        SqliteFixture::new().await,
        concurrent_batches_get_their_own_results
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn postgres_concurrent_batches_get_their_own_results() {
    with_store!(
        PostgresFixture::new().await,
        concurrent_batches_get_their_own_results
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn sqlite_concurrent_redeliveries_open_one_incident() {
    with_store!(
        SqliteFixture::new().await,
        concurrent_redeliveries_open_one_incident
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn postgres_concurrent_redeliveries_open_one_incident() {
    with_store!(
        PostgresFixture::new().await,
        concurrent_redeliveries_open_one_incident
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn sqlite_a_bad_batch_fails_alone() {
    let fixture = SqliteFixture::new().await;
    // SQLite accepts any text, so the test adds a constraint the bad batch breaks.
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", fixture.path.display()))
        .await
        .expect("connect");
    sqlx::query(
        "CREATE TRIGGER no_poison BEFORE INSERT ON alerts WHEN NEW.alert_name = 'Poison' \
         BEGIN SELECT RAISE(ABORT, 'poisoned alert'); END",
    )
    .execute(&mut conn)
    .await
    .expect("create trigger");
    let _ = conn.close().await;
    let bad = contract::firing("Poison", "web16", contract::at(0));
    with_store!(fixture, |store| a_bad_batch_fails_alone(store, bad));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn postgres_a_bad_batch_fails_alone() {
    // PostgreSQL text cannot hold a NUL character.
    let bad = contract::firing("Nginx\0Down", "web16", contract::at(0));
    with_store!(PostgresFixture::new().await, |store| {
        a_bad_batch_fails_alone(store, bad)
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn sqlite_cancelled_callers_do_not_disturb_others() {
    with_store!(
        SqliteFixture::new().await,
        cancelled_callers_do_not_disturb_others
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn postgres_cancelled_callers_do_not_disturb_others() {
    with_store!(
        PostgresFixture::new().await,
        cancelled_callers_do_not_disturb_others
    );
}

/// `close` commits what was already queued; later ingests are refused as transient.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn sqlite_close_commits_queued_ingests() {
    let fixture = SqliteFixture::new().await;
    let store = Arc::new(fixture.store.clone());
    let batches: Vec<IngestBatch> = (0..64)
        .map(|b| {
            contract::batch(
                &[contract::firing(
                    "NginxDown",
                    &format!("web{b}"),
                    contract::at(0),
                )],
                contract::at(b),
            )
        })
        .collect();
    let tasks: Vec<_> = batches
        .iter()
        .cloned()
        .map(|batch| {
            let store = store.clone();
            tokio::spawn(async move { store.ingest(&batch).await })
        })
        .collect();
    tokio::task::yield_now().await;
    store.close().await;
    let mut acknowledged = Vec::new();
    for (task, batch) in tasks.into_iter().zip(&batches) {
        match task.await.expect("task") {
            Ok(ingested) => acknowledged.push((batch, ingested[0].alert)),
            Err(error) => assert!(error.is_transient(), "{error:?}"),
        }
    }
    let late = store.ingest(&batches[0]).await.expect_err("closed");
    assert!(late.is_transient(), "{late:?}");
    let reopened = SqliteStore::open(&fixture.path).await.expect("reopen");
    let outcome = contract::catch_unwind(async {
        for (batch, alert) in &acknowledged {
            let stored = reopened
                .alert(*alert)
                .await
                .expect("an acknowledged alert is stored");
            assert_eq!(stored.alert, batch.items[0].alert);
        }
    })
    .await;
    reopened.close().await;
    fixture.teardown().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn sqlite_data_survives_reopening() {
    let fixture = SqliteFixture::new().await;
    let incident = contract::open(fixture.store(), "NginxDown", "web1", contract::at(0)).await;
    fixture.store.close().await;
    let reopened = SqliteStore::open(&fixture.path).await.expect("reopen");
    let outcome = contract::catch_unwind(async {
        assert_eq!(reopened.incident(incident.id).await.unwrap(), incident);
    })
    .await;
    reopened.close().await;
    fixture.teardown().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn sqlite_in_memory_passes_a_smoke_test() {
    let store = SqliteStore::in_memory().await.expect("in-memory sqlite");
    contract::ingest_is_idempotent(&store).await;
    contract::concurrent_ingest_opens_one_incident(&SqliteStore::in_memory().await.unwrap()).await;
}

#[tokio::test]
async fn a_closed_store_is_transiently_unavailable() {
    let fixture = SqliteFixture::new().await;
    fixture.store.close().await;
    let error = fixture.store.ping().await.expect_err("closed pool");
    assert!(error.is_transient(), "{error:?}");
    fixture.teardown().await;

    let fixture = PostgresFixture::new().await;
    fixture.store.close().await;
    let error = fixture
        .store
        .incident(jarvis_core::domain::IncidentId::new())
        .await;
    assert!(error.as_ref().is_err_and(|e| e.is_transient()), "{error:?}");
    fixture.teardown().await;
}

#[tokio::test]
async fn an_unreachable_postgres_is_transiently_unavailable() {
    // Nothing listens on port 1.
    let error = PostgresStore::connect("postgres://postgres@127.0.0.1:1/test")
        .await
        .expect_err("nothing listens on port 1");
    assert!(error.is_transient(), "{error:?}");
}
