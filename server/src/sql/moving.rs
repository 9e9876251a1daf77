//! [`moving::Store`]: the queue of letters moving to other providers.

use super::{count, insert_rows, Database, Query};
use crate::{
    moving::{self, MoveCounts, MoveJob, MoveOutcome},
    store::StorageError,
};
use app::domain::{ConversationId, Fnr, LetterId, OrgNr, Sha256Digest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::Value;
use uuid::Uuid;

/// The owner's letters that can move to a provider and have not been asked
/// to: `$1` the owner, `$2` the provider, `$3` now. A letter can move when it
/// is in the mailbox, available, owes no opening receipt the citizen has not
/// given, and came as a DPI message.
const MOVABLE: &str = "FROM letter l JOIN dpi_message m ON m.letter_id = l.id
     WHERE l.recipient_fnr = $1
       AND l.deleted_at IS NULL AND l.purged_at IS NULL
       AND (l.effective_at IS NULL OR l.effective_at <= $3)
       AND NOT (l.opening_receipt AND l.opening_receipt_sent_at IS NULL)
       AND NOT EXISTS (
           SELECT 1 FROM letter_move v WHERE v.letter_id = l.id AND v.provider_org_nr = $2
       )";

#[derive(sqlx::FromRow)]
struct MoveRow {
    id: Uuid,
    letter_id: Uuid,
    provider_org_nr: String,
    mailbox_address: String,
    attempts: i32,
    conversation_id: Uuid,
    received_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
    document: String,
    package_sha256: String,
}

impl MoveRow {
    fn into_job(self) -> Result<MoveJob, StorageError> {
        Ok(MoveJob {
            id: self.id,
            letter_id: LetterId::from_uuid(self.letter_id),
            provider: OrgNr::parse(&self.provider_org_nr)
                .map_err(|_| StorageError::corrupt("org number"))?,
            mailbox_address: self.mailbox_address,
            attempts: u32::try_from(self.attempts)
                .map_err(|_| StorageError::corrupt("attempts"))?,
            conversation_id: ConversationId::from_uuid(self.conversation_id),
            received_at: self.received_at,
            read_at: self.read_at,
            message_document: self.document,
            package: Sha256Digest::from_hex(&self.package_sha256)
                .ok_or_else(|| StorageError::corrupt("digest"))?,
        })
    }
}

#[async_trait]
impl moving::Store for Database {
    async fn movable_letters(
        &self,
        owner: &Fnr,
        provider: &OrgNr,
        now: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let (movable,): (i64,) = self
            .fetch_one(
                Query::new(format!("SELECT COUNT(*) {MOVABLE}"))
                    .bind(owner.as_str())
                    .bind(provider.as_str())
                    .bind(now),
            )
            .await?;
        Ok(count(movable))
    }

    async fn request_moves(
        &self,
        owner: &Fnr,
        provider: &OrgNr,
        mailbox_address: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let mut transaction = self.begin_write().await?;
        let letters: Vec<(Uuid,)> = transaction
            .fetch_all(
                Query::new(format!("SELECT l.id {MOVABLE}"))
                    .bind(owner.as_str())
                    .bind(provider.as_str())
                    .bind(now),
            )
            .await?;
        let queued = insert_rows(
            &mut transaction,
            "INSERT INTO letter_move (id, letter_id, owner_fnr, provider_org_nr,
                 mailbox_address, requested_at, next_attempt_at)",
            letters
                .into_iter()
                .map(|(letter,)| {
                    vec![
                        Value::from(Uuid::new_v4()),
                        Value::from(letter),
                        Value::from(owner.as_str()),
                        Value::from(provider.as_str()),
                        Value::from(mailbox_address),
                        Value::from(now),
                        Value::from(now),
                    ]
                })
                .collect(),
            " ON CONFLICT (letter_id, provider_org_nr) DO NOTHING",
        )
        .await?;
        transaction.commit().await?;
        Ok(queued)
    }

    async fn move_counts(&self, owner: &Fnr, provider: &OrgNr) -> Result<MoveCounts, StorageError> {
        let (requested, moved, failed): (i64, i64, i64) = self
            .fetch_one(
                Query::new(
                    "SELECT COUNT(*),
                         COALESCE(SUM(CASE WHEN moved_at IS NOT NULL THEN 1 ELSE 0 END), 0),
                         COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0)
                     FROM letter_move WHERE owner_fnr = $1 AND provider_org_nr = $2",
                )
                .bind(owner.as_str())
                .bind(provider.as_str()),
            )
            .await?;
        Ok(MoveCounts {
            requested: count(requested),
            moved: count(moved),
            failed: count(failed),
        })
    }

    async fn claim_move(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<MoveJob>, StorageError> {
        // The lease check is repeated in the UPDATE so two workers racing
        // for the same row cannot both win it.
        let claimed: Option<(Uuid,)> = self
            .fetch_optional(
                Query::new(
                    "UPDATE letter_move SET leased_until = $2, attempts = attempts + 1
                     WHERE id = (
                         SELECT id FROM letter_move
                         WHERE moved_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1
                           AND (leased_until IS NULL OR leased_until <= $1)
                         ORDER BY next_attempt_at LIMIT 1
                     ) AND moved_at IS NULL AND failed_at IS NULL
                       AND (leased_until IS NULL OR leased_until <= $1)
                     RETURNING id",
                )
                .bind(now)
                .bind(lease_until),
            )
            .await?;
        let Some((id,)) = claimed else {
            return Ok(None);
        };
        let row: Option<MoveRow> = self
            .fetch_optional(
                Query::new(
                    "SELECT v.id, v.letter_id, v.provider_org_nr, v.mailbox_address, v.attempts,
                         l.conversation_id, l.received_at, l.read_at, m.document, m.package_sha256
                     FROM letter_move v
                     JOIN letter l ON l.id = v.letter_id
                     JOIN dpi_message m ON m.letter_id = l.id
                     WHERE v.id = $1",
                )
                .bind(id),
            )
            .await?;
        row.map(MoveRow::into_job).transpose()
    }

    async fn finish_move(
        &self,
        id: Uuid,
        outcome: &MoveOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let query = match outcome {
            MoveOutcome::Moved => Query::new(
                "UPDATE letter_move SET moved_at = $2, leased_until = NULL, last_error = NULL
                 WHERE id = $1",
            )
            .bind(id)
            .bind(now),
            MoveOutcome::Retry { at, error } => Query::new(
                "UPDATE letter_move SET next_attempt_at = $2, leased_until = NULL, last_error = $3
                 WHERE id = $1",
            )
            .bind(id)
            .bind(*at)
            .bind(error.as_str()),
            MoveOutcome::Failed { error } => Query::new(
                "UPDATE letter_move SET failed_at = $2, leased_until = NULL, last_error = $3
                 WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .bind(error.as_str()),
        };
        self.execute(query).await?;
        Ok(())
    }
}
