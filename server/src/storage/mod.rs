//! The storage boundary: what Postkasse needs to remember, said in domain terms.
//!
//! Being taken apart: each domain is getting a store trait of its own,
//! implemented in [`crate::sql`] (the operator console, agencies, the
//! register and the mailbox so far). [`Storage`] holds what has not moved
//! yet, implemented for SQLite and PostgreSQL by the macros in [`sql`];
//! [`open`] puts it on the connected [`Database`]. Document bytes are not
//! stored here but in the content-addressed [`blobs::BlobStore`].
//!
//! Every read of a citizen's data takes the citizen as an argument and filters
//! on it in the query itself, so one citizen can never be handed another's rows.

pub mod blobs;
pub mod broker;
pub mod notify;
mod postgres;
pub mod search;
mod sql;
mod sqlite;

use crate::sql::{Backend, Database};
use crate::store::StorageError;
use app::domain::{Fnr, SecurityLevel};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub use broker::BrokerStorage;
pub use notify::NotifyStorage;
pub use postgres::PostgresStorage;
pub use search::SearchStorage;
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

/// A login on its way through the identity provider (see the login migration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    pub state: String,
    /// SHA-256 of the pre-login cookie: the login must end in the browser that began it.
    pub browser_binding: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub requested_level: SecurityLevel,
    /// A path on this site, checked before it was stored.
    pub return_to: String,
    pub created_at: DateTime<Utc>,
}

/// A logged-in citizen, keyed by the SHA-256 of the session cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub id_hash: String,
    pub fnr: Fnr,
    pub level: SecurityLevel,
    pub provider_sid: Option<String>,
    pub id_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// Read from the citizen's mailbox; not written with the session.
    pub display_name: Option<String>,
}

#[async_trait]
pub trait Storage: BrokerStorage + NotifyStorage + SearchStorage + Send + Sync + 'static {
    fn backend(&self) -> Backend;

    /// Answers when the database can serve queries.
    async fn ping(&self) -> Result<(), StorageError>;

    async fn statistics(&self) -> Result<StoreStatistics, StorageError>;

    async fn insert_login_attempt(&self, attempt: &LoginAttempt) -> Result<(), StorageError>;

    /// Removes and returns the attempt with this state, if it was created after
    /// `not_before`; an attempt can be taken only once. Stale attempts go too.
    async fn take_login_attempt(
        &self,
        state: &str,
        not_before: DateTime<Utc>,
    ) -> Result<Option<LoginAttempt>, StorageError>;

    /// Stores the session and opens the citizen's mailbox if this is their first login.
    async fn insert_session(&self, session: &StoredSession) -> Result<(), StorageError>;

    async fn session(&self, id_hash: &str) -> Result<Option<StoredSession>, StorageError>;

    async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<(), StorageError>;

    async fn delete_session(&self, id_hash: &str) -> Result<(), StorageError>;

    /// Ends every session the provider's session `sid` opened; returns how many.
    async fn delete_sessions_by_provider_sid(&self, sid: &str) -> Result<u64, StorageError>;
}

/// The stores not yet moved to their domains, on the connected database.
pub fn open(database: &Database) -> Arc<dyn Storage> {
    match database {
        Database::Sqlite(pool) => Arc::new(SqliteStorage { pool: pool.clone() }),
        Database::Postgres(pool) => Arc::new(PostgresStorage { pool: pool.clone() }),
    }
}
