//! The SQL behind [`Storage`](super::Storage), written once for both backends.
//!
//! SQLite and PostgreSQL accept the same statements here (`$n` placeholders,
//! `ON CONFLICT`, correlated subqueries), and sqlx encodes the same Rust types
//! on both, so one body of code serves both pools: [`impl_sql_storage!`]
//! expands it for each backend type. What differs (connect options, pragmas,
//! migrations) lives in `sqlite.rs` and `postgres.rs`.

use super::StorageError;
use anyhow::anyhow;
use app::domain::{DocumentRole, Fnr, SecurityLevel, SyntheticIds};
use chrono::{DateTime, Utc};

/// Stored rows were checked on the way in; failing to read one back means the
/// database was changed behind our back, which is an internal error.
fn corrupt(what: &str) -> StorageError {
    StorageError::Other(anyhow!("stored {what} does not parse"))
}

fn stored_level(number: i32) -> Result<SecurityLevel, StorageError> {
    SecurityLevel::try_from(i64::from(number)).map_err(|_| corrupt("security level"))
}

pub(super) fn role_to_sql(role: DocumentRole) -> &'static str {
    match role {
        DocumentRole::Main => "main",
        DocumentRole::Attachment => "attachment",
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct LoginAttemptRow {
    pub state: String,
    pub browser_binding: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub requested_level: i32,
    pub return_to: String,
    pub created_at: DateTime<Utc>,
}

impl LoginAttemptRow {
    pub fn into_attempt(self) -> Result<super::LoginAttempt, StorageError> {
        Ok(super::LoginAttempt {
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
pub(super) struct SessionRow {
    pub id_hash: String,
    pub fnr: String,
    pub level: i32,
    pub provider_sid: Option<String>,
    pub id_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub display_name: Option<String>,
}

impl SessionRow {
    pub fn into_session(self) -> Result<super::StoredSession, StorageError> {
        Ok(super::StoredSession {
            id_hash: self.id_hash,
            fnr: Fnr::parse(&self.fnr, SyntheticIds::Accepted)
                .map_err(|_| corrupt("national id"))?,
            level: stored_level(self.level)?,
            provider_sid: self.provider_sid,
            id_token: self.id_token,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            display_name: self.display_name,
        })
    }
}

/// Opens a citizen's mailbox at their first login (the mailbox's store opens
/// it for an upload, [`insert_letter_rows!`] for a letter). Binds the
/// national id and the time.
pub(super) const OPEN_MAILBOX: &str =
    "INSERT INTO citizen (fnr, display_name, created_at) VALUES ($1, NULL, $2)
     ON CONFLICT (fnr) DO NOTHING";

pub(super) fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

/// Writes letters with their documents inside `$transaction`, opening each
/// recipient's mailbox and recording each sender on first sight: one
/// multi-row `INSERT` per table for the broker's whole commit group. The
/// mailbox's store writes a single letter to the same columns itself
/// (`crate::sql`'s `mailbox::Store::insert_letter`) until the broker moves.
macro_rules! insert_letter_rows {
    ($transaction:expr, $rows:expr) => {{
        let rows: &$crate::storage::broker::LetterRows = $rows;
        $crate::storage::broker::insert_many!(
            $transaction,
            "INSERT INTO citizen (fnr, display_name, created_at) ",
            rows.citizens,
            " ON CONFLICT (fnr) DO NOTHING",
            |row, (fnr, at)| {
                row.push_bind(*fnr).push_bind(None::<&str>).push_bind(*at);
            }
        );
        $crate::storage::broker::insert_many!(
            $transaction,
            "INSERT INTO sender (org_nr, name) ",
            rows.senders,
            " ON CONFLICT (org_nr) DO UPDATE SET name = excluded.name",
            |row, (org_nr, name)| {
                row.push_bind(*org_nr).push_bind(*name);
            }
        );
        $crate::storage::broker::insert_many!(
            $transaction,
            "INSERT INTO letter (id, message_id, conversation_id, sender_org_nr,
                 recipient_fnr, nonsensitive_title, title, security_level, received_at,
                 read_at, effective_at, opening_receipt, language) ",
            rows.letters,
            "",
            |row, (letter, terms)| {
                row.push_bind(letter.id.as_uuid())
                    .push_bind(letter.message_id.as_uuid())
                    .push_bind(letter.conversation_id.as_uuid())
                    .push_bind(letter.sender.org_nr.as_str())
                    .push_bind(letter.recipient.as_str())
                    .push_bind(letter.nonsensitive_title.as_str())
                    .push_bind(letter.title.as_str())
                    .push_bind(i32::from(letter.security_level.as_number()))
                    .push_bind(letter.received_at)
                    .push_bind(letter.read_at)
                    .push_bind(terms.effective_at)
                    .push_bind(terms.opening_receipt)
                    .push_bind(terms.language.as_deref());
            }
        );
        $crate::storage::broker::insert_many!(
            $transaction,
            "INSERT INTO document (letter_id, position, role, title, file_name,
                 media_type, sha256, size_bytes) ",
            rows.documents,
            "",
            |row, (letter_id, position, size_bytes, document)| {
                row.push_bind(*letter_id)
                    .push_bind(*position)
                    .push_bind($crate::storage::sql::role_to_sql(document.role))
                    .push_bind(document.title.as_str())
                    .push_bind(document.file_name.as_str())
                    .push_bind(document.media_type.as_mime())
                    .push_bind(document.digest.to_hex())
                    .push_bind(*size_bytes);
            }
        );
    }};
}

pub(super) use insert_letter_rows;

/// Implements [`Storage`](super::Storage) for a type with a `pool` field of a
/// sqlx pool, given its [`Backend`](super::Backend).
macro_rules! impl_sql_storage {
    ($storage:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl $crate::storage::Storage for $storage {
            fn backend(&self) -> $crate::storage::Backend {
                $backend
            }

            async fn ping(&self) -> Result<(), $crate::storage::StorageError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn statistics(
                &self,
            ) -> Result<$crate::storage::StoreStatistics, $crate::storage::StorageError> {
                let (citizens, letters, documents, register_entries, inline_blobs): (i64, i64, i64, i64, i64) =
                    sqlx::query_as(
                        "SELECT (SELECT COUNT(*) FROM citizen), (SELECT COUNT(*) FROM letter),
                             (SELECT COUNT(*) FROM document), (SELECT COUNT(*) FROM krr_person),
                             (SELECT COUNT(*) FROM inline_blob)",
                    )
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::storage::StoreStatistics {
                    citizens: $crate::storage::sql::count(citizens),
                    letters: $crate::storage::sql::count(letters),
                    documents: $crate::storage::sql::count(documents),
                    register_entries: $crate::storage::sql::count(register_entries),
                    inline_blobs: $crate::storage::sql::count(inline_blobs),
                })
            }

            async fn insert_login_attempt(
                &self,
                attempt: &$crate::storage::LoginAttempt,
            ) -> Result<(), $crate::storage::StorageError> {
                sqlx::query(
                    "INSERT INTO login_attempt (state, browser_binding, nonce, pkce_verifier,
                         requested_level, return_to, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&attempt.state)
                .bind(&attempt.browser_binding)
                .bind(&attempt.nonce)
                .bind(&attempt.pkce_verifier)
                .bind(i32::from(attempt.requested_level.as_number()))
                .bind(&attempt.return_to)
                .bind(attempt.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn take_login_attempt(
                &self,
                state: &str,
                not_before: chrono::DateTime<chrono::Utc>,
            ) -> Result<Option<$crate::storage::LoginAttempt>, $crate::storage::StorageError> {
                let row: Option<$crate::storage::sql::LoginAttemptRow> = sqlx::query_as(
                    "DELETE FROM login_attempt WHERE state = $1
                     RETURNING state, browser_binding, nonce, pkce_verifier, requested_level,
                         return_to, created_at",
                )
                .bind(state)
                .fetch_optional(&self.pool)
                .await?;
                sqlx::query("DELETE FROM login_attempt WHERE created_at < $1")
                    .bind(not_before)
                    .execute(&self.pool)
                    .await?;
                row.filter(|row| row.created_at >= not_before)
                    .map(|row| row.into_attempt())
                    .transpose()
            }

            async fn insert_session(
                &self,
                session: &$crate::storage::StoredSession,
            ) -> Result<(), $crate::storage::StorageError> {
                let mut transaction = self.pool.begin().await?;
                sqlx::query(
                    $crate::storage::sql::OPEN_MAILBOX,
                )
                .bind(session.fnr.as_str())
                .bind(session.created_at)
                .execute(&mut *transaction)
                .await?;
                sqlx::query(
                    "INSERT INTO citizen_session (id_hash, fnr, level, provider_sid, id_token,
                         created_at, last_seen_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&session.id_hash)
                .bind(session.fnr.as_str())
                .bind(i32::from(session.level.as_number()))
                .bind(session.provider_sid.as_deref())
                .bind(&session.id_token)
                .bind(session.created_at)
                .bind(session.last_seen_at)
                .execute(&mut *transaction)
                .await?;
                transaction.commit().await?;
                Ok(())
            }

            async fn session(
                &self,
                id_hash: &str,
            ) -> Result<Option<$crate::storage::StoredSession>, $crate::storage::StorageError> {
                let row: Option<$crate::storage::sql::SessionRow> = sqlx::query_as(
                    "SELECT s.id_hash, s.fnr, s.level, s.provider_sid, s.id_token, s.created_at,
                         s.last_seen_at, c.display_name
                     FROM citizen_session s JOIN citizen c ON c.fnr = s.fnr
                     WHERE s.id_hash = $1",
                )
                .bind(id_hash)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|row| row.into_session()).transpose()
            }

            async fn touch_session(
                &self,
                id_hash: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::storage::StorageError> {
                sqlx::query("UPDATE citizen_session SET last_seen_at = $2 WHERE id_hash = $1")
                    .bind(id_hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_session(&self, id_hash: &str) -> Result<(), $crate::storage::StorageError> {
                sqlx::query("DELETE FROM citizen_session WHERE id_hash = $1")
                    .bind(id_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_sessions_by_provider_sid(
                &self,
                sid: &str,
            ) -> Result<u64, $crate::storage::StorageError> {
                let result = sqlx::query("DELETE FROM citizen_session WHERE provider_sid = $1")
                    .bind(sid)
                    .execute(&self.pool)
                    .await?;
                Ok(result.rows_affected())
            }
        }
    };
}

pub(super) use impl_sql_storage;
