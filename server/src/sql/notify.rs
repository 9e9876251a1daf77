//! The notifications' store in SQL.
//!
//! The notice jobs themselves are inserted by the broker's group commit, in
//! the letter's transaction; here they are claimed, finished and read.

use super::{broker::queue_sender_receipt, placeholders, Database, Query};
use crate::{
    notify::{
        self, channel_code, parse_channel, NoticeJob, NoticeOutcome, NoticePreference, NoticeState,
        OrderedBy, SinkNotice, Wording,
    },
    store::StorageError,
};
use app::domain::{Fnr, LetterId, SyntheticIds};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct NoticeJobRow {
    id: Uuid,
    letter_id: Uuid,
    message_row: Uuid,
    recipient_fnr: String,
    channel: String,
    day: i32,
    ordered_by: String,
    text: String,
    /// `Wording` as JSON; none in jobs scheduled before notices had one.
    wording: Option<String>,
    attempts: i32,
}

impl NoticeJobRow {
    fn into_job(self) -> Result<NoticeJob, StorageError> {
        Ok(NoticeJob {
            id: self.id,
            letter_id: self.letter_id,
            message_row: self.message_row,
            recipient: Fnr::parse(&self.recipient_fnr, SyntheticIds::Accepted)
                .map_err(|_| StorageError::corrupt("notice recipient"))?,
            channel: parse_channel(&self.channel)
                .ok_or_else(|| StorageError::corrupt("notice channel"))?,
            day: u8::try_from(self.day).map_err(|_| StorageError::corrupt("notice day"))?,
            ordered_by: OrderedBy::parse(&self.ordered_by)
                .ok_or_else(|| StorageError::corrupt("notice orderer"))?,
            // A job from before wordings were kept goes out as it was written.
            wording: match self.wording {
                Some(json) => serde_json::from_str(&json)
                    .map_err(|_| StorageError::corrupt("notice wording"))?,
                None => Wording::Sender { text: self.text },
            },
            attempts: u32::try_from(self.attempts)
                .map_err(|_| StorageError::corrupt("notice attempts"))?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct NoticeStateRow {
    channel: String,
    day: i32,
    ordered_by: String,
    due_at: DateTime<Utc>,
    attempts: i32,
    outcome: Option<String>,
}

impl NoticeStateRow {
    fn into_state(self) -> Result<NoticeState, StorageError> {
        Ok(NoticeState {
            channel: parse_channel(&self.channel)
                .ok_or_else(|| StorageError::corrupt("notice channel"))?,
            day: u8::try_from(self.day).map_err(|_| StorageError::corrupt("notice day"))?,
            ordered_by: OrderedBy::parse(&self.ordered_by)
                .ok_or_else(|| StorageError::corrupt("notice orderer"))?,
            due_at: self.due_at,
            attempts: u32::try_from(self.attempts)
                .map_err(|_| StorageError::corrupt("notice attempts"))?,
            outcome: self.outcome,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SinkRow {
    idempotency_key: Uuid,
    channel: String,
    address: String,
    text: String,
    sent_at: DateTime<Utc>,
}

impl SinkRow {
    fn into_notice(self) -> Result<SinkNotice, StorageError> {
        Ok(SinkNotice {
            key: self.idempotency_key,
            channel: parse_channel(&self.channel)
                .ok_or_else(|| StorageError::corrupt("sink notice channel"))?,
            address: self.address,
            text: self.text,
            sent_at: self.sent_at,
        })
    }
}

#[async_trait]
impl notify::Store for Database {
    async fn claim_notice_jobs(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<NoticeJob>, StorageError> {
        let mut transaction = self.begin().await?;
        // The lease check is repeated outside the subquery so that two
        // SQLite connections racing for a row cannot both win it.
        let claim = format!(
            "UPDATE notice_job SET leased_until = $2, attempts = attempts + 1,
                 sending_since = COALESCE(sending_since, $1)
             WHERE id IN (
                 SELECT id FROM notice_job
                 WHERE done_at IS NULL AND due_at <= $1
                   AND (leased_until IS NULL OR leased_until <= $1)
                 ORDER BY due_at LIMIT $3 {}
             ) AND done_at IS NULL AND (leased_until IS NULL OR leased_until <= $1)
             RETURNING id, letter_id, message_row, recipient_fnr, channel, day,
                 ordered_by, text, wording, attempts",
            self.skip_locked()
        );
        let mut rows: Vec<NoticeJobRow> = transaction
            .fetch_all(
                Query::new(claim)
                    .bind(now)
                    .bind(lease_until)
                    .bind(i64::from(limit)),
            )
            .await?;
        if !rows.is_empty() {
            // Of the claimed jobs, those no longer needed are closed as
            // skipped here, in the claim's transaction (only the claimed rows
            // are looked at): a letter's notices once its owner has opened
            // it, a reply reminder once the form is answered, a signer's
            // turn once it is no longer theirs.
            let sql = format!(
                "UPDATE notice_job SET done_at = $1, outcome = 'skipped',
                     last_error = CASE purpose WHEN 'svar' THEN 'svaret er sendt'
                                               WHEN 'signering' THEN 'signeringen er besvart'
                                               ELSE 'brevet er åpnet' END,
                     leased_until = NULL
                 WHERE id IN ({}) AND CASE purpose
                     WHEN 'svar' THEN EXISTS (SELECT 1 FROM reply r
                         WHERE r.letter_id = notice_job.letter_id AND r.sent_at IS NOT NULL)
                     WHEN 'signering' THEN NOT EXISTS (SELECT 1 FROM signing_signer g
                         WHERE g.letter_id = notice_job.letter_id
                           AND g.signer_fnr = notice_job.recipient_fnr
                           AND g.status = 'WAITING')
                     ELSE EXISTS (SELECT 1 FROM letter_access a
                         WHERE a.letter_id = notice_job.letter_id
                           AND a.owner_fnr = notice_job.recipient_fnr)
                 END
                 RETURNING id",
                placeholders(2, rows.len())
            );
            let skip = rows
                .iter()
                .fold(Query::new(sql).bind(now), |query, row| query.bind(row.id));
            let skipped: HashSet<Uuid> = transaction
                .fetch_all::<(Uuid,)>(skip)
                .await?
                .into_iter()
                .map(|(id,)| id)
                .collect();
            rows.retain(|row| !skipped.contains(&row.id));
        }
        transaction.commit().await?;
        rows.into_iter().map(NoticeJobRow::into_job).collect()
    }

    async fn finish_notice_jobs(
        &self,
        finished: &[(NoticeJob, NoticeOutcome)],
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let mut transaction = self.begin().await?;
        for (job, outcome) in finished {
            let (outcome_code, next, error) = match outcome {
                NoticeOutcome::Sent => (Some("sent"), None, None),
                NoticeOutcome::Skipped(reason) => (Some("skipped"), None, Some(reason)),
                NoticeOutcome::Retry { at, error } => (None, Some(*at), Some(error)),
                NoticeOutcome::Failed { error, .. } => (Some("failed"), None, Some(error)),
            };
            transaction
                .execute(
                    Query::new(
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
                    .bind(error.map(String::as_str)),
                )
                .await?;
            if let NoticeOutcome::Failed {
                receipt: Some(receipt),
                ..
            } = outcome
            {
                // The sender's `varslingfeiletkvittering`, in the transaction
                // that records the failure.
                queue_sender_receipt(&mut transaction, job.message_row, receipt, now).await?;
            }
        }
        transaction.commit().await
    }

    async fn notice_preference(&self, fnr: &Fnr) -> Result<NoticePreference, StorageError> {
        let row: Option<(bool, bool)> = self
            .fetch_optional(
                Query::new("SELECT email, sms FROM notice_preference WHERE fnr = $1")
                    .bind(fnr.as_str()),
            )
            .await?;
        Ok(row
            .map(|(email, sms)| NoticePreference { email, sms })
            .unwrap_or_default())
    }

    async fn set_notice_preference(
        &self,
        fnr: &Fnr,
        preference: NoticePreference,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.execute(
            Query::new(
                "INSERT INTO notice_preference (fnr, email, sms, updated_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (fnr) DO UPDATE
                 SET email = excluded.email, sms = excluded.sms,
                     updated_at = excluded.updated_at",
            )
            .bind(fnr.as_str())
            .bind(preference.email)
            .bind(preference.sms)
            .bind(now),
        )
        .await?;
        Ok(())
    }

    async fn record_sink_notice(&self, notice: &SinkNotice) -> Result<bool, StorageError> {
        let inserted = self
            .execute(
                Query::new(
                    "INSERT INTO notice_sink (idempotency_key, channel, address, text, sent_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (idempotency_key) DO NOTHING",
                )
                .bind(notice.key)
                .bind(channel_code(notice.channel))
                .bind(notice.address.as_str())
                .bind(notice.text.as_str())
                .bind(notice.sent_at),
            )
            .await?;
        Ok(inserted == 1)
    }

    async fn sink_notices(&self, limit: u32) -> Result<Vec<SinkNotice>, StorageError> {
        let rows: Vec<SinkRow> = self
            .fetch_all(
                Query::new(
                    "SELECT idempotency_key, channel, address, text, sent_at FROM notice_sink
                     ORDER BY sent_at DESC LIMIT $1",
                )
                .bind(i64::from(limit)),
            )
            .await?;
        rows.into_iter().map(SinkRow::into_notice).collect()
    }

    async fn notice_states(
        &self,
        owner: &Fnr,
        letter: LetterId,
    ) -> Result<Vec<NoticeState>, StorageError> {
        let rows: Vec<NoticeStateRow> = self
            .fetch_all(
                Query::new(
                    "SELECT channel, day, ordered_by, due_at, attempts, outcome FROM notice_job
                     WHERE letter_id = $1 AND recipient_fnr = $2
                     ORDER BY due_at, channel",
                )
                .bind(letter.as_uuid())
                .bind(owner.as_str()),
            )
            .await?;
        rows.into_iter().map(NoticeStateRow::into_state).collect()
    }
}
