//! Store internals the contract cannot see: SQLite settings, schema guards,
//! and group commit driven with known groups (which concurrency cannot promise).

use jarvis_core::ports::Store;
use jarvis_core::testing::contract;

use super::group::{self, GroupCommit, Job};
use super::sql::IngestPlan;
use super::{PostgresStore, SqliteStore};

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

// --- group commit on known groups --------------------------------------------------

use jarvis_core::domain::{Alert, IngestBatch, Ingested};
use jarvis_core::error::StoreError;
use sqlx::Connection;

async fn temp_postgres() -> (PostgresStore, String) {
    let admin_url = std::env::var("JARVIS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let database = format!("jarvis_unit_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("PostgreSQL on 127.0.0.1:5432 is required");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    let store = PostgresStore::connect(&format!("{base}/{database}"))
        .await
        .expect("connect");
    (store, database)
}

async fn drop_postgres(store: PostgresStore, database: String) {
    store.close().await;
    let admin_url = std::env::var("JARVIS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("admin");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .expect("drop database");
}

/// Commits `batches` as ONE group through the writer's own group logic
/// (fallback included) and returns each caller's answer.
async fn commit_group<C: GroupCommit>(
    committer: &C,
    batches: &[IngestBatch],
) -> Vec<Result<Vec<Ingested>, StoreError>> {
    let (jobs, answers): (Vec<Job>, Vec<_>) = batches
        .iter()
        .map(|b| Job::new(IngestPlan::new(b).expect("plan")))
        .unzip();
    group::commit(committer, jobs, Vec::new()).await;
    let mut results = Vec::new();
    for answer in answers {
        results.push(answer.await.expect("every caller is answered"));
    }
    results
}

async fn count<C: Store>(store: &C, pool_count: impl AsyncFnOnce() -> i64) -> (usize, i64) {
    (
        store.open_incidents().await.unwrap().len(),
        pool_count().await,
    )
}

/// Redeliveries across the batches of one group: the first mention is new and
/// opens the incident, later ones (and duplicates inside a batch) join it.
async fn group_redeliveries<S: Store, C: GroupCommit>(
    store: &S,
    committer: &C,
    deliveries: impl AsyncFnOnce() -> i64,
) {
    let a = contract::firing("NginxDown", "web1", contract::at(0));
    let b = contract::firing("DiskFull", "db1", contract::at(0));
    let batches = [
        contract::batch(std::slice::from_ref(&a), contract::at(1)),
        contract::batch(&[b.clone(), a.clone()], contract::at(2)),
        contract::batch(std::slice::from_ref(&a), contract::at(3)),
        contract::batch(&[b.clone(), b.clone()], contract::at(4)),
    ];
    let results: Vec<Vec<Ingested>> = commit_group(committer, &batches)
        .await
        .into_iter()
        .map(|r| r.expect("ingest"))
        .collect();
    let first_a = results[0][0].clone();
    let first_b = results[1][0].clone();
    assert!(first_a.new && first_a.incident.is_some(), "{results:?}");
    assert!(first_b.new && first_b.incident.is_some(), "{results:?}");
    let again_a = Ingested {
        new: false,
        ..first_a.clone()
    };
    let again_b = Ingested {
        new: false,
        ..first_b.clone()
    };
    assert_eq!(results[1], vec![first_b.clone(), again_a.clone()]);
    assert_eq!(results[2], vec![again_a]);
    assert_eq!(results[3], vec![again_b.clone(), again_b]);
    let flat: Vec<&Ingested> = results.iter().flatten().collect();
    assert_eq!(flat.iter().filter(|r| r.new).count(), 2, "{results:?}");
    assert_eq!(
        count(store, deliveries).await,
        (2, 2),
        "incidents, deliveries"
    );
}

/// One batch the database refuses does not fail the rest of its group.
async fn group_survives_a_bad_batch<S: Store, C: GroupCommit>(
    store: &S,
    committer: &C,
    bad: Alert,
) {
    let good: Vec<IngestBatch> = (0..3)
        .map(|i| {
            contract::batch(
                &[contract::firing(
                    "NginxDown",
                    &format!("web{i}"),
                    contract::at(0),
                )],
                contract::at(i),
            )
        })
        .collect();
    let batches = [
        good[0].clone(),
        contract::batch(&[bad], contract::at(5)),
        good[1].clone(),
        good[2].clone(),
        good[0].clone(),
    ];
    let results = commit_group(committer, &batches).await;
    let error = results[1].as_ref().expect_err("the bad batch fails");
    assert!(!error.is_transient(), "{error:?}");
    for i in [0, 2, 3] {
        let ingested = results[i].as_ref().expect("good batches commit");
        assert!(ingested[0].new, "{results:?}");
    }
    let again = results[4].as_ref().expect("redelivery");
    assert_eq!(again[0].alert, results[0].as_ref().unwrap()[0].alert);
    assert!(!again[0].new);
    assert_eq!(store.open_incidents().await.unwrap().len(), 3);
}

/// A tiny deterministic generator (no dependency, fixed seed).
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// A random mix of new alerts, redeliveries (within and across batches) and
/// resolutions from a small key space.
fn random_batches(rng: &mut Lcg, n: usize) -> Vec<IngestBatch> {
    (0..n)
        .map(|b| {
            let alerts: Vec<Alert> = (0..=rng.below(5))
                .map(|_| {
                    let host = format!("web{}", rng.below(4));
                    let name = ["NginxDown", "DiskFull"][rng.below(2) as usize];
                    let alert = contract::firing(name, &host, contract::at(rng.below(2) as i64));
                    if rng.below(3) == 0 {
                        contract::resolved(&alert, contract::at(9))
                    } else {
                        alert
                    }
                })
                .collect();
            contract::batch(&alerts, contract::at(10 + b as i64))
        })
        .collect()
}

/// Replaces ids by the order they were first seen, so two stores compare.
fn canonical(results: &[Vec<Ingested>]) -> Vec<(bool, usize, Option<usize>)> {
    let mut seen: Vec<String> = Vec::new();
    let mut id = |s: String| match seen.iter().position(|x| *x == s) {
        Some(i) => i,
        None => {
            seen.push(s);
            seen.len() - 1
        }
    };
    results
        .iter()
        .flatten()
        .map(|r| {
            (
                r.new,
                id(r.alert.to_string()),
                r.incident.map(|i| id(i.to_string())),
            )
        })
        .collect()
}

/// A group's results equal those of ingesting its batches one after another.
async fn group_equals_sequential<S: Store, C: GroupCommit>(
    sequential: &S,
    grouped: &S,
    committer: &C,
    seed: u64,
) {
    let mut rng = Lcg(seed);
    let before = random_batches(&mut rng, 6);
    let batches = random_batches(&mut rng, 40);
    let mut expected = Vec::new();
    let mut got = Vec::new();
    for batch in &before {
        expected.push(sequential.ingest(batch).await.unwrap());
        got.push(grouped.ingest(batch).await.unwrap());
    }
    for batch in &batches {
        expected.push(sequential.ingest(batch).await.unwrap());
    }
    for result in commit_group(committer, &batches).await {
        got.push(result.unwrap());
    }
    assert_eq!(canonical(&got), canonical(&expected), "seed {seed}");
    assert_eq!(
        grouped.open_incidents().await.unwrap().len(),
        sequential.open_incidents().await.unwrap().len()
    );
}

fn sqlite_deliveries(store: &SqliteStore) -> impl AsyncFnOnce() -> i64 + '_ {
    async move || {
        sqlx::query_scalar("SELECT COUNT(*) FROM deliveries")
            .fetch_one(&store.pool)
            .await
            .unwrap()
    }
}

fn postgres_deliveries(store: &PostgresStore) -> impl AsyncFnOnce() -> i64 + '_ {
    async move || {
        sqlx::query_scalar("SELECT COUNT(*) FROM deliveries")
            .fetch_one(&store.pool)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn sqlite_group_redeliveries_open_one_incident() {
    let (store, path) = temp_store().await;
    let outcome = contract::catch_unwind(group_redeliveries(
        &store,
        &store.writes,
        sqlite_deliveries(&store),
    ))
    .await;
    remove(store, path).await;
    outcome.unwrap_or_else(|p| std::panic::resume_unwind(p));
}

#[tokio::test]
async fn postgres_group_redeliveries_open_one_incident() {
    let (store, database) = temp_postgres().await;
    let outcome = contract::catch_unwind(group_redeliveries(
        &store,
        &store.pool,
        postgres_deliveries(&store),
    ))
    .await;
    drop_postgres(store, database).await;
    outcome.unwrap_or_else(|p| std::panic::resume_unwind(p));
}

#[tokio::test]
async fn sqlite_group_survives_a_bad_batch() {
    let (store, path) = temp_store().await;
    // SQLite accepts any text, so the test adds a constraint the bad batch breaks.
    sqlx::query(
        "CREATE TRIGGER no_poison BEFORE INSERT ON alerts WHEN NEW.alert_name = 'Poison' \
         BEGIN SELECT RAISE(ABORT, 'poisoned alert'); END",
    )
    .execute(&store.pool)
    .await
    .unwrap();
    let bad = contract::firing("Poison", "web9", contract::at(0));
    let outcome =
        contract::catch_unwind(group_survives_a_bad_batch(&store, &store.writes, bad)).await;
    remove(store, path).await;
    outcome.unwrap_or_else(|p| std::panic::resume_unwind(p));
}

#[tokio::test]
async fn postgres_group_survives_a_bad_batch() {
    let (store, database) = temp_postgres().await;
    // PostgreSQL text cannot hold a NUL character.
    let bad = contract::firing("Nginx\0Down", "web9", contract::at(0));
    let outcome =
        contract::catch_unwind(group_survives_a_bad_batch(&store, &store.pool, bad)).await;
    drop_postgres(store, database).await;
    outcome.unwrap_or_else(|p| std::panic::resume_unwind(p));
}

#[tokio::test]
async fn sqlite_group_equals_sequential_ingest() {
    for seed in [1, 7, 42, 1234] {
        let (sequential, a) = temp_store().await;
        let (grouped, b) = temp_store().await;
        let outcome = contract::catch_unwind(group_equals_sequential(
            &sequential,
            &grouped,
            &grouped.writes,
            seed,
        ))
        .await;
        remove(sequential, a).await;
        remove(grouped, b).await;
        outcome.unwrap_or_else(|p| std::panic::resume_unwind(p));
    }
}

#[tokio::test]
async fn postgres_group_equals_sequential_ingest() {
    for seed in [3, 99] {
        let (sequential, a) = temp_postgres().await;
        let (grouped, b) = temp_postgres().await;
        let outcome = contract::catch_unwind(group_equals_sequential(
            &sequential,
            &grouped,
            &grouped.pool,
            seed,
        ))
        .await;
        drop_postgres(sequential, a).await;
        drop_postgres(grouped, b).await;
        outcome.unwrap_or_else(|p| std::panic::resume_unwind(p));
    }
}

/// A transient failure of a group reaches every caller as unavailable.
#[tokio::test]
async fn a_transient_group_failure_reaches_every_caller() {
    let (store, path) = temp_store().await;
    let pool = store.writes.clone();
    pool.close().await;
    let batches: Vec<IngestBatch> = (0..3)
        .map(|i| {
            contract::batch(
                &[contract::firing("A", &format!("h{i}"), contract::at(0))],
                contract::at(0),
            )
        })
        .collect();
    let results = commit_group(&pool, &batches).await;
    remove(store, path).await;
    assert_eq!(results.len(), 3);
    for result in results {
        let error = result.expect_err("closed pool");
        assert!(error.is_transient(), "{error:?}");
    }
}

// --- writes in groups ---------------------------------------------------------------

use super::group::{Durability, boxed, test_write};
use jarvis_core::domain::AuditEntry;

fn audit_entry(action: &str) -> AuditEntry {
    AuditEntry {
        at: contract::at(1),
        incident: None,
        action: action.into(),
        host: None,
        decision: "allow".into(),
        rule: "test".into(),
        reason: "group".into(),
        executed: false,
        exit_code: None,
    }
}

/// Ingests and writes of one group commit together; a write that fails is
/// rolled back alone and its caller gets its own error; alone, its failure
/// commits nothing.
macro_rules! writes_in_groups {
    ($test:ident, $open:expr, $close:expr, $committer:ident, $conn:ty) => {
        #[tokio::test]
        async fn $test() {
            let (store, handle) = $open.await;
            let outcome = contract::catch_unwind(async {
                async fn insert(
                    conn: &mut $conn,
                    action: &'static str,
                ) -> Result<usize, StoreError> {
                    sqlx::query(
                        "INSERT INTO audit_log (at, action, decision, rule, reason, executed) \
                         VALUES ('2026-01-01T00:00:00Z', $1, 'allow', 't', 'r', false)",
                    )
                    .bind(action)
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    Ok(action.len())
                }
                let (ok_a, a) =
                    test_write::<$conn, _, _>(Durability::Crash, |conn| boxed(insert(conn, "a")));
                let (bad, b) = test_write::<$conn, (), _>(Durability::Crash, |conn| {
                    boxed(async move {
                        insert(conn, "b").await?;
                        Err(StoreError::Conflict("refused after writing".into()))
                    })
                });
                let (ok_c, c) = test_write::<$conn, _, _>(Durability::Durable, |conn| {
                    boxed(insert(conn, "ccc"))
                });
                let fresh = contract::batch(
                    &[contract::firing("NginxDown", "web7", contract::at(0))],
                    contract::at(1),
                );
                let (job, ingested) = Job::new(IngestPlan::new(&fresh).expect("plan"));
                group::commit(&store.$committer, vec![job], vec![ok_a, bad, ok_c]).await;
                assert_eq!(a.await.unwrap().unwrap(), 1);
                assert!(
                    matches!(b.await.unwrap(), Err(StoreError::Conflict(_))),
                    "the failing write gets its own error"
                );
                assert_eq!(c.await.unwrap().unwrap(), 3);
                assert!(ingested.await.unwrap().unwrap()[0].new);
                let mut actions: Vec<String> = store
                    .audit_log(None, 0)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|e| e.action)
                    .collect();
                actions.sort();
                assert_eq!(actions, ["a", "ccc"], "b was rolled back alone");
                assert_eq!(store.open_incidents().await.unwrap().len(), 1);

                // Alone, a failing write commits nothing either.
                let (bad, b) = test_write::<$conn, (), _>(Durability::Durable, |conn| {
                    boxed(async move {
                        insert(conn, "dd").await?;
                        Err(StoreError::Conflict("refused".into()))
                    })
                });
                group::commit(&store.$committer, Vec::new(), vec![bad]).await;
                assert!(matches!(b.await.unwrap(), Err(StoreError::Conflict(_))));
                assert_eq!(store.audit_log(None, 0).await.unwrap().len(), 2);

                // The store's own writes still work after a rolled-back group.
                store.audit(&audit_entry("after")).await.unwrap();
                assert_eq!(store.audit_log(None, 0).await.unwrap().len(), 3);
            })
            .await;
            $close(store, handle).await;
            outcome.unwrap_or_else(|p| std::panic::resume_unwind(p));
        }
    };
}

writes_in_groups!(
    sqlite_writes_in_groups,
    temp_store(),
    remove,
    writes,
    sqlx::SqliteConnection
);
writes_in_groups!(
    postgres_writes_in_groups,
    temp_postgres(),
    drop_postgres,
    pool,
    sqlx::PgConnection
);

/// A group is committed with `synchronous=FULL` when any entry must survive
/// a power cut, and with `NORMAL` otherwise.
#[tokio::test]
async fn sqlite_groups_sync_as_their_most_durable_entry() {
    let (store, path) = temp_store().await;
    let synchronous = |durability| {
        test_write::<sqlx::SqliteConnection, i64, _>(durability, |conn| {
            boxed(async move {
                sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            })
        })
    };
    let mut seen = Vec::new();
    for group in [
        vec![Durability::Crash],
        vec![Durability::Durable],
        vec![Durability::Crash, Durability::Durable, Durability::Crash],
        vec![Durability::Crash, Durability::Crash],
    ] {
        let (writes, answers): (Vec<_>, Vec<_>) = group.into_iter().map(synchronous).unzip();
        group::commit(&store.writes, Vec::new(), writes).await;
        let mut levels = Vec::new();
        for answer in answers {
            levels.push(answer.await.unwrap().unwrap());
        }
        seen.push(levels);
    }
    // Accepting alerts is always durable.
    let (probe, level) = synchronous(Durability::Crash);
    let batch = contract::batch(
        &[contract::firing("NginxDown", "web1", contract::at(0))],
        contract::at(1),
    );
    let (job, _) = Job::new(IngestPlan::new(&batch).expect("plan"));
    group::commit(&store.writes, vec![job], vec![probe]).await;
    seen.push(vec![level.await.unwrap().unwrap()]);
    remove(store, path).await;
    assert_eq!(
        seen,
        [vec![1], vec![2], vec![2, 2, 2], vec![1, 1], vec![2]],
        "1 = NORMAL, 2 = FULL"
    );
}

/// Through the port: a transition into `executing` (the checkpoint before
/// commands run) is durable; the one before it is not.
#[tokio::test]
async fn the_checkpoint_before_commands_is_durable() {
    use jarvis_core::domain::IncidentState;
    let (store, path) = temp_store().await;
    let incident = contract::open(&store, "NginxDown", "web1", contract::at(0)).await;
    // The level the last group left on the writer's one connection.
    let level = async || -> i64 {
        let mut conn = store.writes.acquire().await.unwrap();
        sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .unwrap()
    };
    let mut seen = Vec::new();
    for to in [
        IncidentState::Planning,
        IncidentState::Validating,
        IncidentState::Executing,
    ] {
        store
            .transition(incident.id, to, "test", contract::at(1))
            .await
            .unwrap();
        seen.push((to, level().await));
    }
    remove(store, path).await;
    assert_eq!(
        seen,
        [
            (IncidentState::Planning, 1),
            (IncidentState::Validating, 1),
            (IncidentState::Executing, 2),
        ]
    );
}

/// The incident list binds only the filters that are set, so the planner
/// can use the fingerprint index instead of scanning every incident.
#[tokio::test]
async fn listing_by_fingerprint_uses_its_index() {
    use jarvis_core::domain::{Fingerprint, IncidentFilter};
    let filter = IncidentFilter {
        fingerprint: Some(Fingerprint::parse("0123456789abcdef").unwrap()),
        since: Some(contract::at(0)),
        limit: 20,
        ..IncidentFilter::default()
    };
    let sql = super::sql::incidents_sql("SELECT id FROM incidents", &filter);
    assert_eq!(
        sql,
        "SELECT id FROM incidents WHERE created_at >= $1 AND fingerprint = $2 \
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    );
    let (store, path) = temp_store().await;
    let rows: Vec<(i64, i64, i64, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
            .bind("2026-01-01T00:00:00Z")
            .bind("0123456789abcdef")
            .bind(20i64)
            .bind(0i64)
            .fetch_all(&store.pool)
            .await
            .unwrap();
    let plan: Vec<String> = rows.into_iter().map(|r| r.3).collect();
    remove(store, path).await;
    assert!(
        plan.iter()
            .any(|step| step.contains("incidents_fingerprint")),
        "{plan:?}"
    );
}
