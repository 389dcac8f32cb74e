//! [`PostgresStore`]: the store in PostgreSQL, shareable by several replicas.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jarvis_core::domain::*;
use jarvis_core::error::StoreError;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions, Postgres};

use super::group::{Durability, GroupWriter, boxed};
use super::rows::*;
use super::sql::{impl_sql_store, incident_not_found, sql_limit};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// The store in PostgreSQL. Every decision that reads then writes locks the
/// row (`SELECT … FOR UPDATE`) or is a single conditional `UPDATE`, so
/// replicas sharing the database never both act on one incident.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pub(super) pool: PgPool,
    writer: GroupWriter<PgConnection>,
}

impl PostgresStore {
    /// Connects to `url` (e.g. `postgres://jarvis@db/jarvis`) and migrates the schema.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(db_err("connecting to postgres"))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| migrate_err("migrating the postgres store", e))?;
        let writer = GroupWriter::spawn(pool.clone());
        Ok(PostgresStore { pool, writer })
    }

    /// Commits the writes already queued, then closes every
    /// connection; later calls fail as unavailable.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    /// Starts a group's transaction; one that need not wait for the disk
    /// commits asynchronously (`synchronous_commit = off`: a crash of the
    /// database server may lose it, never corrupt anything).
    async fn begin_group(
        conn: &mut PgConnection,
        durability: Durability,
    ) -> Result<sqlx::Transaction<'_, Postgres>, StoreError> {
        const DOING: &str = "starting a write";
        let mut tx = sqlx::Connection::begin(conn).await.map_err(db_err(DOING))?;
        if durability == Durability::Crash {
            sqlx::query("SET LOCAL synchronous_commit TO OFF")
                .execute(&mut *tx)
                .await
                .map_err(db_err(DOING))?;
        }
        Ok(tx)
    }
}

impl_sql_store!(
    PostgresStore,
    pool = PgPool,
    conn = PgConnection,
    for_update = " FOR UPDATE"
);
