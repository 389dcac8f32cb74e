//! The [`Store`](jarvis_core::ports::Store) port on SQL databases.
//!
//! [`SqliteStore`] is the zero-configuration default (one file in the data
//! directory); [`PostgresStore`] lets several replicas share one database.
//! Both run the embedded migrations in `migrations/{sqlite,postgres}` when
//! opened, share one implementation ([`sql`]) and one row mapping ([`rows`]),
//! commit concurrent `ingest` calls together ([`group`]), and pass the
//! contract suite in `jarvis_core::testing::contract`.

mod group;
mod postgres;
mod rows;
mod sql;
mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

#[cfg(test)]
mod tests;
