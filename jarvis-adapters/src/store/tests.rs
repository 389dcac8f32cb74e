//! Store internals the contract cannot see: SQLite settings and schema guards.

use jarvis_core::ports::Store;
use jarvis_core::testing::contract;

use super::SqliteStore;

async fn temp_store() -> (SqliteStore, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!(
        "jarvis-store-unit-{}.db",
        uuid::Uuid::now_v7().simple()
    ));
    (SqliteStore::open(&path).await.expect("open"), path)
}

async fn remove(store: SqliteStore, path: std::path::PathBuf) {
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

#[tokio::test]
async fn sqlite_is_durable_wal_with_foreign_keys() {
    let (store, path) = temp_store().await;
    let mut conn = store.pool.acquire().await.unwrap();
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let busy_timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    remove(store, path).await;
    assert_eq!(journal, "wal");
    assert_eq!(synchronous, 2, "FULL");
    assert_eq!(foreign_keys, 1);
    assert_eq!(busy_timeout, 5000);
}

#[tokio::test]
async fn the_audit_log_refuses_updates() {
    let (store, path) = temp_store().await;
    let incident = contract::open(&store, "NginxDown", "web1", contract::at(0)).await;
    store
        .audit(&jarvis_core::domain::AuditEntry {
            at: contract::at(1),
            incident: Some(incident.id),
            action: "web1: uptime".into(),
            host: Some("web1".into()),
            decision: "allow".into(),
            rule: "read-only".into(),
            reason: "diagnostic".into(),
            executed: true,
            exit_code: Some(0),
        })
        .await
        .unwrap();
    let update = sqlx::query("UPDATE audit_log SET reason = 'rewritten'")
        .execute(&store.pool)
        .await;
    let kept = store.audit_log(None, 0).await.unwrap();
    remove(store, path).await;
    assert!(update.is_err(), "{update:?}");
    assert_eq!(kept[0].reason, "diagnostic");
}

#[tokio::test]
async fn the_raw_payload_is_kept_once_per_delivery() {
    let (store, path) = temp_store().await;
    let a = contract::firing("NginxDown", "web1", contract::at(0));
    let b = contract::firing("DiskFull", "db1", contract::at(0));
    let batch = contract::batch(&[a, b], contract::at(1));
    store.ingest(&batch).await.unwrap();
    store.ingest(&batch).await.unwrap();
    let raws: Vec<Option<String>> = sqlx::query_scalar("SELECT raw FROM deliveries")
        .fetch_all(&store.pool)
        .await
        .unwrap();
    remove(store, path).await;
    assert_eq!(raws, vec![batch.raw], "a pure redelivery stores no payload");
}
