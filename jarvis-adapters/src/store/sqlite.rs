//! [`SqliteStore`]: the store in one SQLite file.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jarvis_core::domain::*;
use jarvis_core::error::StoreError;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteSynchronous,
};

use super::group::{Durability, GroupWriter, boxed};
use super::rows::*;
use super::sql::{impl_sql_store, incident_not_found, sql_limit};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// How long a writer waits for SQLite's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The store in one SQLite file: WAL journal, foreign keys on.
///
/// Reads run on a pool of connections; every write goes through one writer
/// task on one connection of its own ([`super::group`]), so SQLite's write
/// lock is never contended (no busy-waiting) and concurrent writes share
/// commits. Commits that must survive a power cut (accepted alerts,
/// operators' decisions, the checkpoint before commands run) are made with
/// `synchronous=FULL`; the pipeline's bookkeeping with `synchronous=NORMAL`,
/// which in WAL mode survives a crash of the process and reaches the disk
/// with the next full commit or checkpoint.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
    /// The writer's own connection (the same pool for an in-memory store).
    pub(super) writes: SqlitePool,
    writer: GroupWriter<SqliteConnection>,
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
        // A local file cannot go stale: no ping before each use (a round
        // trip to the connection's worker thread per statement otherwise).
        let writes = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(db_err("opening the sqlite store"))?;
        MIGRATOR
            .run(&writes)
            .await
            .map_err(|e| migrate_err("migrating the sqlite store", e))?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(db_err("opening the sqlite store"))?;
        Ok(Self::with_pools(pool, writes))
    }

    /// A private in-memory database, for tests and simulation. One connection
    /// (each SQLite connection would otherwise see its own empty database),
    /// shared by reads and the writer.
    pub async fn in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(db_err("opening an in-memory sqlite store"))?
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(db_err("opening an in-memory sqlite store"))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| migrate_err("migrating the sqlite store", e))?;
        Ok(Self::with_pools(pool.clone(), pool))
    }

    fn with_pools(pool: SqlitePool, writes: SqlitePool) -> Self {
        let writer = GroupWriter::spawn(writes.clone());
        SqliteStore {
            pool,
            writes,
            writer,
        }
    }

    /// Commits the writes already queued, then closes every connection
    /// (checkpointing the WAL); later calls fail as unavailable.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
        self.writes.close().await;
    }

    /// Starts a group's transaction on the writer's connection, taking the
    /// write lock up front (`BEGIN IMMEDIATE`) at the durability it needs.
    async fn begin_group(
        conn: &mut SqliteConnection,
        durability: Durability,
    ) -> Result<sqlx::Transaction<'_, Sqlite>, StoreError> {
        // One round trip: the level for this commit, then the write lock.
        let begin = match durability {
            Durability::Durable => "PRAGMA synchronous = FULL; BEGIN IMMEDIATE",
            Durability::Crash => "PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE",
        };
        sqlx::Connection::begin_with(conn, begin)
            .await
            .map_err(db_err("starting a write"))
    }
}

impl_sql_store!(
    SqliteStore,
    pool = SqlitePool,
    conn = SqliteConnection,
    for_update = ""
);
