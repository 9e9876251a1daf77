//! The storage boundary: what Postkasse needs to remember, said in domain terms.
//!
//! Being taken apart: each domain is getting a store trait of its own,
//! implemented in [`crate::sql`] (so far the register, agencies, operators,
//! logins and sessions, notices, the search and the mailbox). [`Storage`]
//! holds what has not moved yet (statistics and the broker), implemented for
//! SQLite and PostgreSQL by the macros in [`sql`]; [`open`] puts it on the
//! connected [`Database`]. Document bytes are not stored here but in the
//! content-addressed [`blobs::BlobStore`].
//!
//! Every read of a citizen's data takes the citizen as an argument and filters
//! on it in the query itself, so one citizen can never be handed another's rows.

pub mod blobs;
pub mod broker;
mod postgres;
mod sql;
mod sqlite;

use crate::sql::{Backend, Database};
use crate::store::StorageError;
use async_trait::async_trait;
use std::sync::Arc;

pub use broker::BrokerStorage;
pub use postgres::PostgresStorage;
pub use sqlite::SqliteStorage;

/// How much is stored, for operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStatistics {
    pub citizens: u64,
    pub letters: u64,
    pub documents: u64,
    /// Persons in the contact and reservation register.
    pub register_entries: u64,
    /// Small blobs stored in the database rather than as files.
    pub inline_blobs: u64,
}

#[async_trait]
pub trait Storage: BrokerStorage + Send + Sync + 'static {
    fn backend(&self) -> Backend;

    /// Answers when the database can serve queries.
    async fn ping(&self) -> Result<(), StorageError>;

    async fn statistics(&self) -> Result<StoreStatistics, StorageError>;
}

/// The stores not yet moved to their domains, on the connected database.
pub fn open(database: &Database) -> Arc<dyn Storage> {
    match database {
        Database::Sqlite(pool) => Arc::new(SqliteStorage { pool: pool.clone() }),
        Database::Postgres(pool) => Arc::new(PostgresStorage { pool: pool.clone() }),
    }
}
