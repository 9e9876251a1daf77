//! The notifications' part of the storage boundary: notice jobs (scheduled in
//! the broker's group commit, see `storage::broker::GroupRows`), their leases and
//! outcomes, the citizen's notice preference and the development sink.
//!
//! One body of SQL serves both backends via [`impl_sql_notify!`]; the only
//! difference is the claim's row lock, `FOR UPDATE SKIP LOCKED` on PostgreSQL
//! so concurrent workers pass each other's rows by (SQLite has one writer).

use super::StorageError;
use crate::notify::{
    parse_channel, NoticeJob, NoticeOutcome, NoticePreference, NoticeState, OrderedBy, SinkNotice,
};
use app::domain::{Fnr, LetterId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[async_trait]
pub trait NotifyStorage: Send + Sync + 'static {
    /// Leases up to `limit` due jobs until `lease_until`. Claimed jobs of
    /// letters their owner has opened are closed as skipped in the same
    /// transaction and not returned, so an opened letter is never notified
    /// about.
    async fn claim_notice_jobs(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<NoticeJob>, StorageError>;

    /// Records how each claimed job ended, with any failure receipt, in one
    /// transaction.
    async fn finish_notice_jobs(
        &self,
        finished: &[(NoticeJob, NoticeOutcome)],
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    async fn notice_preference(&self, fnr: &Fnr) -> Result<NoticePreference, StorageError>;

    async fn set_notice_preference(
        &self,
        fnr: &Fnr,
        preference: NoticePreference,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Keeps what the sink channel "sent"; false when the key was seen before.
    async fn record_sink_notice(&self, notice: &SinkNotice) -> Result<bool, StorageError>;

    /// The newest sink notices first.
    async fn sink_notices(&self, limit: u32) -> Result<Vec<SinkNotice>, StorageError>;

    /// The owner's letter's notice jobs, by due time.
    async fn notice_states(
        &self,
        owner: &Fnr,
        letter: LetterId,
    ) -> Result<Vec<NoticeState>, StorageError>;
}

fn corrupt(what: &str) -> StorageError {
    StorageError::Other(anyhow::anyhow!("corrupt notice data: {what}"))
}

#[derive(sqlx::FromRow)]
pub(super) struct NoticeJobRow {
    pub(super) id: Uuid,
    letter_id: Uuid,
    message_row: Uuid,
    recipient_fnr: String,
    channel: String,
    day: i32,
    ordered_by: String,
    text: String,
    attempts: i32,
}

impl NoticeJobRow {
    pub(super) fn into_job(self) -> Result<NoticeJob, StorageError> {
        Ok(NoticeJob {
            id: self.id,
            letter_id: self.letter_id,
            message_row: self.message_row,
            recipient: Fnr::parse(&self.recipient_fnr, app::domain::SyntheticIds::Accepted)
                .map_err(|_| corrupt("recipient"))?,
            channel: parse_channel(&self.channel).ok_or_else(|| corrupt("channel"))?,
            day: u8::try_from(self.day).map_err(|_| corrupt("day"))?,
            ordered_by: OrderedBy::parse(&self.ordered_by).ok_or_else(|| corrupt("ordered_by"))?,
            text: self.text,
            attempts: u32::try_from(self.attempts).map_err(|_| corrupt("attempts"))?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct NoticeStateRow {
    channel: String,
    day: i32,
    ordered_by: String,
    due_at: DateTime<Utc>,
    attempts: i32,
    outcome: Option<String>,
}

impl NoticeStateRow {
    pub(super) fn into_state(self) -> Result<NoticeState, StorageError> {
        Ok(NoticeState {
            channel: parse_channel(&self.channel).ok_or_else(|| corrupt("channel"))?,
            day: u8::try_from(self.day).map_err(|_| corrupt("day"))?,
            ordered_by: OrderedBy::parse(&self.ordered_by).ok_or_else(|| corrupt("ordered_by"))?,
            due_at: self.due_at,
            attempts: u32::try_from(self.attempts).map_err(|_| corrupt("attempts"))?,
            outcome: self.outcome,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct SinkRow {
    idempotency_key: Uuid,
    channel: String,
    address: String,
    text: String,
    sent_at: DateTime<Utc>,
}

impl SinkRow {
    pub(super) fn into_notice(self) -> Result<SinkNotice, StorageError> {
        Ok(SinkNotice {
            key: self.idempotency_key,
            channel: parse_channel(&self.channel).ok_or_else(|| corrupt("channel"))?,
            address: self.address,
            text: self.text,
            sent_at: self.sent_at,
        })
    }
}

/// Implements [`NotifyStorage`] for a type with a sqlx `pool` field; `$lock`
/// is the claim's row lock clause.
macro_rules! impl_sql_notify {
    ($storage:ty, $lock:literal) => {
        #[async_trait::async_trait]
        impl $crate::storage::notify::NotifyStorage for $storage {
            async fn claim_notice_jobs(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                lease_until: chrono::DateTime<chrono::Utc>,
                limit: u32,
            ) -> Result<Vec<$crate::notify::NoticeJob>, $crate::storage::StorageError> {
                let mut transaction = self.pool.begin().await?;
                // The lease check is repeated outside the subquery so that two
                // SQLite connections racing for a row cannot both win it.
                let mut rows: Vec<$crate::storage::notify::NoticeJobRow> = sqlx::query_as(concat!(
                    "UPDATE notice_job SET leased_until = $2, attempts = attempts + 1,
                         sending_since = COALESCE(sending_since, $1)
                     WHERE id IN (
                         SELECT id FROM notice_job
                         WHERE done_at IS NULL AND due_at <= $1
                           AND (leased_until IS NULL OR leased_until <= $1)
                         ORDER BY due_at LIMIT $3 ",
                    $lock,
                    "
                     ) AND done_at IS NULL AND (leased_until IS NULL OR leased_until <= $1)
                     RETURNING id, letter_id, message_row, recipient_fnr, channel, day,
                         ordered_by, text, attempts"
                ))
                .bind(now)
                .bind(lease_until)
                .bind(i64::from(limit))
                .fetch_all(&mut *transaction)
                .await?;
                if !rows.is_empty() {
                    // Of the claimed jobs, those whose letter its owner has
                    // opened are closed as skipped here, in the claim's
                    // transaction; only the claimed rows are looked at.
                    let placeholders: Vec<String> = (0..rows.len())
                        .map(|index| format!("${}", index + 2))
                        .collect();
                    let sql = format!(
                        "UPDATE notice_job SET done_at = $1, outcome = 'skipped',
                             last_error = 'brevet er åpnet', leased_until = NULL
                         WHERE id IN ({}) AND EXISTS (SELECT 1 FROM letter_access a
                             WHERE a.letter_id = notice_job.letter_id
                               AND a.owner_fnr = notice_job.recipient_fnr)
                         RETURNING id",
                        placeholders.join(", ")
                    );
                    let mut skip = sqlx::query_as::<_, (uuid::Uuid,)>(&sql).bind(now);
                    for row in &rows {
                        skip = skip.bind(row.id);
                    }
                    let skipped: std::collections::HashSet<uuid::Uuid> = skip
                        .fetch_all(&mut *transaction)
                        .await?
                        .into_iter()
                        .map(|(id,)| id)
                        .collect();
                    rows.retain(|row| !skipped.contains(&row.id));
                }
                transaction.commit().await?;
                rows.into_iter()
                    .map($crate::storage::notify::NoticeJobRow::into_job)
                    .collect()
            }

            async fn finish_notice_jobs(
                &self,
                finished: &[($crate::notify::NoticeJob, $crate::notify::NoticeOutcome)],
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::storage::StorageError> {
                use $crate::notify::NoticeOutcome;
                let mut transaction = self.pool.begin().await?;
                for (job, outcome) in finished {
                    let (outcome_code, next, error) = match outcome {
                        NoticeOutcome::Sent => (Some("sent"), None, None),
                        NoticeOutcome::Skipped(reason) => (Some("skipped"), None, Some(reason)),
                        NoticeOutcome::Retry { at, error } => (None, Some(*at), Some(error)),
                        NoticeOutcome::Failed { error, .. } => (Some("failed"), None, Some(error)),
                    };
                    sqlx::query(
                        "UPDATE notice_job SET leased_until = NULL,
                             done_at = CASE WHEN $2 IS NULL THEN NULL ELSE $3 END,
                             outcome = $2,
                             due_at = COALESCE($4, due_at),
                             last_error = COALESCE($5, last_error)
                         WHERE id = $1",
                    )
                    .bind(job.id)
                    .bind(outcome_code)
                    .bind(now)
                    .bind(next)
                    .bind(error)
                    .execute(&mut *transaction)
                    .await?;
                    if let NoticeOutcome::Failed {
                        receipt: Some(receipt),
                        push,
                        ..
                    } = outcome
                    {
                        $crate::storage::broker::queue_receipts!(
                            transaction,
                            job.message_row,
                            std::slice::from_ref(receipt),
                            *push,
                            now
                        );
                    }
                }
                transaction.commit().await?;
                Ok(())
            }

            async fn notice_preference(
                &self,
                fnr: &app::domain::Fnr,
            ) -> Result<$crate::notify::NoticePreference, $crate::storage::StorageError> {
                let row: Option<(bool, bool)> =
                    sqlx::query_as("SELECT email, sms FROM notice_preference WHERE fnr = $1")
                        .bind(fnr.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row
                    .map(|(email, sms)| $crate::notify::NoticePreference { email, sms })
                    .unwrap_or_default())
            }

            async fn set_notice_preference(
                &self,
                fnr: &app::domain::Fnr,
                preference: $crate::notify::NoticePreference,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::storage::StorageError> {
                sqlx::query(
                    "INSERT INTO notice_preference (fnr, email, sms, updated_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (fnr) DO UPDATE
                     SET email = excluded.email, sms = excluded.sms,
                         updated_at = excluded.updated_at",
                )
                .bind(fnr.as_str())
                .bind(preference.email)
                .bind(preference.sms)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn record_sink_notice(
                &self,
                notice: &$crate::notify::SinkNotice,
            ) -> Result<bool, $crate::storage::StorageError> {
                let inserted = sqlx::query(
                    "INSERT INTO notice_sink (idempotency_key, channel, address, text, sent_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (idempotency_key) DO NOTHING",
                )
                .bind(notice.key)
                .bind($crate::notify::channel_code(notice.channel))
                .bind(&notice.address)
                .bind(&notice.text)
                .bind(notice.sent_at)
                .execute(&self.pool)
                .await?;
                Ok(inserted.rows_affected() == 1)
            }

            async fn sink_notices(
                &self,
                limit: u32,
            ) -> Result<Vec<$crate::notify::SinkNotice>, $crate::storage::StorageError> {
                let rows: Vec<$crate::storage::notify::SinkRow> = sqlx::query_as(
                    "SELECT idempotency_key, channel, address, text, sent_at FROM notice_sink
                     ORDER BY sent_at DESC LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map($crate::storage::notify::SinkRow::into_notice)
                    .collect()
            }

            async fn notice_states(
                &self,
                owner: &app::domain::Fnr,
                letter: app::domain::LetterId,
            ) -> Result<Vec<$crate::notify::NoticeState>, $crate::storage::StorageError> {
                let rows: Vec<$crate::storage::notify::NoticeStateRow> = sqlx::query_as(
                    "SELECT channel, day, ordered_by, due_at, attempts, outcome FROM notice_job
                     WHERE letter_id = $1 AND recipient_fnr = $2
                     ORDER BY due_at, channel",
                )
                .bind(letter.as_uuid())
                .bind(owner.as_str())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map($crate::storage::notify::NoticeStateRow::into_state)
                    .collect()
            }
        }
    };
}

pub(super) use impl_sql_notify;
