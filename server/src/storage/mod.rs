//! The storage boundary: what Postkasse needs to remember, said in domain terms.
//!
//! Being taken apart: each domain is getting a store trait of its own,
//! implemented in [`crate::sql`] (so far the register, agencies, operators,
//! logins and sessions, notices and the search). [`Storage`] holds what has
//! not moved yet (letters, the archive, the broker), implemented for SQLite
//! and PostgreSQL by the macros in [`sql`]; [`open`] puts it on the connected
//! [`Database`]. Document bytes are not stored here but in the
//! content-addressed [`blobs::BlobStore`].
//!
//! Every read of a citizen's data takes the citizen as an argument and filters
//! on it in the query itself, so one citizen can never be handed another's rows.

pub mod archive;
pub mod blobs;
pub mod broker;
mod postgres;
mod sql;
mod sqlite;

use crate::sql::{Backend, Database};
use crate::store::StorageError;
use app::api::mailbox::AccessEntry;
use app::domain::{Fnr, Letter, LetterId, LetterSummary};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub use archive::ArchiveStorage;
pub use broker::BrokerStorage;
pub use postgres::PostgresStorage;
pub use sqlite::SqliteStorage;

/// A citizen who has a mailbox here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citizen {
    pub fnr: Fnr,
    pub display_name: Option<String>,
}

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
pub trait Storage: BrokerStorage + ArchiveStorage + Send + Sync + 'static {
    fn backend(&self) -> Backend;

    /// Answers when the database can serve queries.
    async fn ping(&self) -> Result<(), StorageError>;

    /// Creates the citizen's mailbox, or updates the display name when given.
    async fn upsert_citizen(&self, citizen: &Citizen) -> Result<(), StorageError>;

    /// Stores a letter with its documents in one transaction, creating the
    /// recipient's mailbox and the sender on first sight. Returns only once the
    /// transaction is committed. A second letter with the same sender and
    /// message id is a [`StorageError::Conflict`].
    async fn insert_letter(&self, letter: &Letter) -> Result<(), StorageError>;

    /// The owner's letters whose effective time (`virkningstidspunkt`) has
    /// come by `now`, newest first, wherever they lie (the trash too; not purged ones).
    async fn letters_for(
        &self,
        owner: &Fnr,
        now: DateTime<Utc>,
    ) -> Result<Vec<LetterSummary>, StorageError>;

    /// One of the owner's letters; [`StorageError::NotFound`] when it does not
    /// exist, belongs to someone else, its effective time is after `now`, or
    /// it was purged from the trash.
    async fn letter_for(
        &self,
        owner: &Fnr,
        id: LetterId,
        now: DateTime<Utc>,
    ) -> Result<Letter, StorageError>;

    async fn statistics(&self) -> Result<StoreStatistics, StorageError>;

    /// Notes a view of the owner's letter or a download of one of its
    /// documents; nothing is noted for a letter the owner does not have.
    async fn record_access(
        &self,
        owner: &Fnr,
        letter: LetterId,
        entry: &AccessEntry,
    ) -> Result<(), StorageError>;

    /// The access log of the owner's letter, newest first.
    async fn access_log(
        &self,
        owner: &Fnr,
        letter: LetterId,
    ) -> Result<Vec<AccessEntry>, StorageError>;
}

/// The stores not yet moved to their domains, on the connected database.
pub fn open(database: &Database) -> Arc<dyn Storage> {
    match database {
        Database::Sqlite(pool) => Arc::new(SqliteStorage { pool: pool.clone() }),
        Database::Postgres(pool) => Arc::new(PostgresStorage { pool: pool.clone() }),
    }
}
