//! The relying party's store in SQL: login attempts and citizen sessions.

use super::{stored_level, Database, Query, OPEN_MAILBOX};
use crate::{
    auth::{self, LoginAttempt, StoredSession},
    store::StorageError,
};
use app::domain::{Fnr, FullmaktId, SyntheticIds};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct LoginAttemptRow {
    state: String,
    browser_binding: String,
    nonce: String,
    pkce_verifier: String,
    requested_level: i32,
    return_to: String,
    created_at: DateTime<Utc>,
}

impl LoginAttemptRow {
    fn into_attempt(self) -> Result<LoginAttempt, StorageError> {
        Ok(LoginAttempt {
            state: self.state,
            browser_binding: self.browser_binding,
            nonce: self.nonce,
            pkce_verifier: self.pkce_verifier,
            requested_level: stored_level(self.requested_level)?,
            return_to: self.return_to,
            created_at: self.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id_hash: String,
    fnr: String,
    level: i32,
    provider_sid: Option<String>,
    id_token: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    display_name: Option<String>,
    acting_for: Option<Uuid>,
}

impl SessionRow {
    fn into_session(self) -> Result<StoredSession, StorageError> {
        Ok(StoredSession {
            id_hash: self.id_hash,
            fnr: Fnr::parse(&self.fnr, SyntheticIds::Accepted)
                .map_err(|_| StorageError::corrupt("national id"))?,
            level: stored_level(self.level)?,
            provider_sid: self.provider_sid,
            id_token: self.id_token,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            display_name: self.display_name,
            acting_for: self.acting_for.map(FullmaktId::from_uuid),
        })
    }
}

#[async_trait]
impl auth::Store for Database {
    async fn insert_login_attempt(
        &self,
        attempt: &LoginAttempt,
        stale_before: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.execute(
            Query::new("DELETE FROM login_attempt WHERE created_at < $1").bind(stale_before),
        )
        .await?;
        self.execute(
            Query::new(
                "INSERT INTO login_attempt (state, browser_binding, nonce, pkce_verifier,
                     requested_level, return_to, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(attempt.state.as_str())
            .bind(attempt.browser_binding.as_str())
            .bind(attempt.nonce.as_str())
            .bind(attempt.pkce_verifier.as_str())
            .bind(i32::from(attempt.requested_level.as_number()))
            .bind(attempt.return_to.as_str())
            .bind(attempt.created_at),
        )
        .await?;
        Ok(())
    }

    async fn take_login_attempt(
        &self,
        state: &str,
        not_before: DateTime<Utc>,
    ) -> Result<Option<LoginAttempt>, StorageError> {
        let row: Option<LoginAttemptRow> = self
            .fetch_optional(
                Query::new(
                    "DELETE FROM login_attempt WHERE state = $1
                     RETURNING state, browser_binding, nonce, pkce_verifier, requested_level,
                         return_to, created_at",
                )
                .bind(state),
            )
            .await?;
        self.execute(
            Query::new("DELETE FROM login_attempt WHERE created_at < $1").bind(not_before),
        )
        .await?;
        row.filter(|row| row.created_at >= not_before)
            .map(LoginAttemptRow::into_attempt)
            .transpose()
    }

    async fn insert_session(&self, session: &StoredSession) -> Result<(), StorageError> {
        let mut transaction = self.begin().await?;
        transaction
            .execute(
                Query::new(OPEN_MAILBOX)
                    .bind(session.fnr.as_str())
                    .bind(session.created_at),
            )
            .await?;
        transaction
            .execute(
                Query::new(
                    "INSERT INTO citizen_session (id_hash, fnr, level, provider_sid, id_token,
                         created_at, last_seen_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(session.id_hash.as_str())
                .bind(session.fnr.as_str())
                .bind(i32::from(session.level.as_number()))
                .bind(session.provider_sid.as_deref())
                .bind(session.id_token.as_str())
                .bind(session.created_at)
                .bind(session.last_seen_at),
            )
            .await?;
        transaction.commit().await
    }

    async fn session(&self, id_hash: &str) -> Result<Option<StoredSession>, StorageError> {
        let row: Option<SessionRow> = self
            .fetch_optional(
                Query::new(
                    "SELECT s.id_hash, s.fnr, s.level, s.provider_sid, s.id_token, s.created_at,
                         s.last_seen_at, c.display_name, s.acting_for
                     FROM citizen_session s JOIN citizen c ON c.fnr = s.fnr
                     WHERE s.id_hash = $1",
                )
                .bind(id_hash),
            )
            .await?;
        row.map(SessionRow::into_session).transpose()
    }

    async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<(), StorageError> {
        self.execute(
            Query::new("UPDATE citizen_session SET last_seen_at = $2 WHERE id_hash = $1")
                .bind(id_hash)
                .bind(now),
        )
        .await?;
        Ok(())
    }

    async fn set_acting_for(
        &self,
        id_hash: &str,
        power: Option<FullmaktId>,
    ) -> Result<(), StorageError> {
        self.execute(
            Query::new("UPDATE citizen_session SET acting_for = $2 WHERE id_hash = $1")
                .bind(id_hash)
                .bind(power.map(|power| power.as_uuid())),
        )
        .await?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StorageError> {
        self.execute(Query::new("DELETE FROM citizen_session WHERE id_hash = $1").bind(id_hash))
            .await?;
        Ok(())
    }

    async fn delete_sessions_by_provider_sid(&self, sid: &str) -> Result<u64, StorageError> {
        self.execute(Query::new("DELETE FROM citizen_session WHERE provider_sid = $1").bind(sid))
            .await
    }
}
