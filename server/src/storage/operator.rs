//! The operators' part of the storage boundary: single-use sign-in codes and
//! operator sessions, both stored only as SHA-256 digests (see
//! [`crate::operator`]).
//!
//! One body of SQL serves both backends via [`impl_sql_operator!`].

use super::StorageError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait OperatorStorage: Send + Sync + 'static {
    async fn insert_operator_sign_in(
        &self,
        code_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Uses the code up: `true` when it was stored and had not expired by
    /// `now`. Whatever the answer, it cannot be used again, and codes that
    /// expired by `now` are forgotten.
    async fn take_operator_sign_in(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    async fn insert_operator_session(
        &self,
        id_hash: &str,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Whether the session exists and has not expired by `now`.
    async fn operator_session_alive(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// Ends the session, and every session that expired by `now`.
    async fn delete_operator_session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;
}

/// Implements [`OperatorStorage`] for a type with a sqlx `pool` field.
macro_rules! impl_sql_operator {
    ($storage:ty) => {
        #[async_trait::async_trait]
        impl $crate::storage::operator::OperatorStorage for $storage {
            async fn insert_operator_sign_in(
                &self,
                code_hash: &str,
                expires_at: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::storage::StorageError> {
                sqlx::query("INSERT INTO operator_sign_in (code_hash, expires_at) VALUES ($1, $2)")
                    .bind(code_hash)
                    .bind(expires_at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn take_operator_sign_in(
                &self,
                code_hash: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<bool, $crate::storage::StorageError> {
                let expires_at: Option<chrono::DateTime<chrono::Utc>> = sqlx::query_scalar(
                    "DELETE FROM operator_sign_in WHERE code_hash = $1 RETURNING expires_at",
                )
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await?;
                sqlx::query("DELETE FROM operator_sign_in WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(expires_at.is_some_and(|expires_at| expires_at > now))
            }

            async fn insert_operator_session(
                &self,
                id_hash: &str,
                created_at: chrono::DateTime<chrono::Utc>,
                expires_at: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::storage::StorageError> {
                sqlx::query(
                    "INSERT INTO operator_session (id_hash, created_at, expires_at)
                     VALUES ($1, $2, $3)",
                )
                .bind(id_hash)
                .bind(created_at)
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn operator_session_alive(
                &self,
                id_hash: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<bool, $crate::storage::StorageError> {
                let alive: Option<i32> = sqlx::query_scalar(
                    "SELECT 1 FROM operator_session WHERE id_hash = $1 AND expires_at > $2",
                )
                .bind(id_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                Ok(alive.is_some())
            }

            async fn delete_operator_session(
                &self,
                id_hash: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::storage::StorageError> {
                sqlx::query("DELETE FROM operator_session WHERE id_hash = $1 OR expires_at <= $2")
                    .bind(id_hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }
    };
}

pub(super) use impl_sql_operator;
