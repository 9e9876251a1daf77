//! The operator console's store in SQL.

use super::{Database, Query};
use crate::{operator, store::StorageError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
impl operator::Store for Database {
    async fn insert_sign_in_code(
        &self,
        code_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.execute(
            Query::new("INSERT INTO operator_sign_in (code_hash, expires_at) VALUES ($1, $2)")
                .bind(code_hash)
                .bind(expires_at),
        )
        .await?;
        Ok(())
    }

    async fn take_sign_in_code(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let taken: Option<(DateTime<Utc>,)> = self
            .fetch_optional(
                Query::new(
                    "DELETE FROM operator_sign_in WHERE code_hash = $1 RETURNING expires_at",
                )
                .bind(code_hash),
            )
            .await?;
        self.execute(Query::new("DELETE FROM operator_sign_in WHERE expires_at <= $1").bind(now))
            .await?;
        Ok(taken.is_some_and(|(expires_at,)| expires_at > now))
    }

    async fn insert_session(
        &self,
        id_hash: &str,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.execute(
            Query::new(
                "INSERT INTO operator_session (id_hash, created_at, expires_at) VALUES ($1, $2, $3)",
            )
            .bind(id_hash)
            .bind(created_at)
            .bind(expires_at),
        )
        .await?;
        Ok(())
    }

    async fn session_alive(&self, id_hash: &str, now: DateTime<Utc>) -> Result<bool, StorageError> {
        let alive: Option<(i32,)> = self
            .fetch_optional(
                Query::new("SELECT 1 FROM operator_session WHERE id_hash = $1 AND expires_at > $2")
                    .bind(id_hash)
                    .bind(now),
            )
            .await?;
        Ok(alive.is_some())
    }

    async fn delete_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<(), StorageError> {
        self.execute(
            Query::new("DELETE FROM operator_session WHERE id_hash = $1 OR expires_at <= $2")
                .bind(id_hash)
                .bind(now),
        )
        .await?;
        Ok(())
    }
}
