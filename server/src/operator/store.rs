//! What the operator console remembers: single-use sign-in codes and operator
//! sessions, both only as SHA-256 digests of what the operator holds.

use crate::store::StorageError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn insert_sign_in_code(
        &self,
        code_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Uses the code up: `true` when it was stored and had not expired by
    /// `now`. Whatever the answer, it cannot be used again, and codes that
    /// expired by `now` are forgotten.
    async fn take_sign_in_code(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    async fn insert_session(
        &self,
        id_hash: &str,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Whether the session exists and has not expired by `now`.
    async fn session_alive(&self, id_hash: &str, now: DateTime<Utc>) -> Result<bool, StorageError>;

    /// Ends the session, and every session that expired by `now`.
    async fn delete_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<(), StorageError>;
}
