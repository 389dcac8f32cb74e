//! [`SqliteStore`]: the store in one SQLite file.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jarvis_core::domain::*;
use jarvis_core::error::StoreError;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use super::group::GroupWriter;
use super::rows::*;
use super::sql::{impl_sql_store, incident_not_found, sql_limit};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// How long a writer waits for SQLite's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The store in one SQLite file: WAL journal, `synchronous=FULL`, foreign keys on.
///
/// `FULL` makes every commit durable (the WAL is synced) before `ingest`
/// returns, so an acknowledged webhook survives a power cut, not only a crash;
/// `NORMAL` in WAL mode may lose the last commits on power loss. Concurrent
/// `ingest` calls share commits (see [`super::group`]), so one fsync
/// acknowledges every webhook that arrived while the previous one ran.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
    writer: GroupWriter,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path` and migrates it.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(db_err("opening the sqlite store"))?;
        Self::migrated(pool).await
    }

    /// A private in-memory database, for tests and simulation. One connection
    /// (each SQLite connection would otherwise see its own empty database).
    pub async fn in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(db_err("opening an in-memory sqlite store"))?
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(db_err("opening an in-memory sqlite store"))?;
        Self::migrated(pool).await
    }

    async fn migrated(pool: SqlitePool) -> Result<Self, StoreError> {
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| migrate_err("migrating the sqlite store", e))?;
        let writer = GroupWriter::spawn(pool.clone());
        Ok(SqliteStore { pool, writer })
    }

    /// Commits the alerts already queued for ingest, then closes every
    /// connection (checkpointing the WAL); later calls fail as unavailable.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    /// A write transaction that holds SQLite's write lock from its first statement,
    /// so read-then-write sequences cannot interleave with another writer.
    async fn begin(
        pool: &SqlitePool,
        doing: &'static str,
    ) -> Result<sqlx::Transaction<'static, Sqlite>, StoreError> {
        pool.begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err(doing))
    }

    async fn begin_write(
        &self,
        doing: &'static str,
    ) -> Result<sqlx::Transaction<'static, Sqlite>, StoreError> {
        Self::begin(&self.pool, doing).await
    }
}

impl_sql_store!(SqliteStore, pool = SqlitePool, for_update = "");
