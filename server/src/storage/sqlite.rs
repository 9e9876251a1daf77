//! The stores not yet moved to their domains, on SQLite (connected, with its
//! pragmas, by [`crate::sql::Database::connect`]).

use super::{sql::impl_sql_storage, Backend};
use sqlx::SqlitePool;

pub struct SqliteStorage {
    pub(super) pool: SqlitePool,
}

impl SqliteStorage {
    /// A transaction that takes the write lock at once. A deferred one that
    /// reads before it writes fails with SQLITE_BUSY, without waiting, when
    /// another connection (the search indexer, a worker) committed a write
    /// since its read; BEGIN IMMEDIATE waits for the lock (busy_timeout) instead.
    pub(super) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }
}

super::broker::impl_sql_broker!(SqliteStorage);
impl_sql_storage!(SqliteStorage, Backend::Sqlite);
