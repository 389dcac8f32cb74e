//! The `Store` contract suite against `SqliteStore` (a temporary file per test)
//! and `PostgresStore` (a fresh database per test on the local server).
//!
//! PostgreSQL must be running on 127.0.0.1:5432 with trust auth for user
//! `postgres` and a database `test` (override with `JARVIS_TEST_POSTGRES_URL`).
//! When it is not, every Postgres test fails: nothing here is skipped.

use std::path::PathBuf;
use std::sync::Arc;

use jarvis_adapters::store::{PostgresStore, SqliteStore};
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
