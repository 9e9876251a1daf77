//! The signing domain's store in SQL: letters' signing orders (written with
//! the letter by [`insert_orders`]), their signers' outcomes, and the
//! signed documents in the citizen's uploads.

use super::{
    broker::queue_sender_receipt, insert_rows, stored_level, Database, Query, Transaction,
};
use crate::{
    broker::LetterTerms,
    notify::SenderReceipt,
    signing::{self, AgencyJob, Job, LetterSigning, Outcome, Overdue, StoredDocument},
    store::StorageError,
};
use app::domain::{Fnr, Letter, LetterId, MessageId, OrgNr, SignerStatus, SigningOrder, UploadId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::Value;
use uuid::Uuid;

/// Writes the orders of the letters that carry one, in the letters' transaction.
pub(super) async fn insert_orders(
    transaction: &mut Transaction,
    letters: &[(&Letter, &LetterTerms)],
) -> Result<(), StorageError> {
    let mut rows = Vec::new();
    for (letter, terms) in letters {
        if let Some(order) = &terms.signing_order {
            rows.push(vec![
                Value::from(letter.id.as_uuid()),
                Value::from(
                    serde_json::to_string(order)
                        .map_err(|error| StorageError::Other(error.into()))?,
                ),
                Value::from(order.deadline),
                Value::from(order.signer.fnr.as_str().to_owned()),
            ]);
        }
    }
    insert_rows(
        transaction,
        "INSERT INTO signing_job (letter_id, order_json, deadline, signer_fnr)",
        rows,
        "",
    )
    .await?;
    Ok(())
}

/// Commits a signer's change of status with the agency's receipt when
/// exactly one job changed (`updated`); otherwise writes nothing.
async fn settled(
    mut transaction: Transaction,
    updated: u64,
    message_row: Uuid,
    receipt: &SenderReceipt,
    at: DateTime<Utc>,
) -> Result<bool, StorageError> {
    if updated != 1 {
        return Ok(false);
    }
    queue_sender_receipt(&mut transaction, message_row, receipt, at).await?;
    transaction.commit().await?;
    Ok(true)
}

#[derive(sqlx::FromRow)]
struct JobRow {
    order_json: String,
    signer_status: String,
    status_at: Option<DateTime<Utc>>,
    reason: Option<String>,
    signed_level: Option<i32>,
    signed_upload_id: Option<Uuid>,
    signed_sha256: Option<String>,
}

impl JobRow {
    fn into_job(self) -> Result<Job, StorageError> {
        Ok(Job {
            order: serde_json::from_str::<SigningOrder>(&self.order_json)
                .map_err(|_| StorageError::corrupt("signing order"))?,
            status: SignerStatus::from_code(&self.signer_status)
                .ok_or_else(|| StorageError::corrupt("signer status"))?,
            status_at: self.status_at,
            reason: self.reason,
            signed_level: self.signed_level.map(stored_level).transpose()?,
            signed_upload: self.signed_upload_id.map(UploadId::from_uuid),
            signed_sha256: self.signed_sha256,
        })
    }
}

const JOB_COLUMNS: &str = "j.order_json, j.signer_status, j.status_at, j.reason, j.signed_level,
    j.signed_upload_id, j.signed_sha256";

#[derive(sqlx::FromRow)]
struct LetterRow {
    security_level: i32,
    sender_name: String,
    message_row: Option<Uuid>,
    message_id: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    position: i32,
    title: String,
    file_name: String,
    media_type: String,
    sha256: String,
}

#[derive(sqlx::FromRow)]
struct AgencyJobRow {
    letter_id: Uuid,
    message_row: Uuid,
    #[sqlx(flatten)]
    job: JobRow,
}

#[async_trait]
impl signing::Store for Database {
    async fn letter_signing(
        &self,
        owner: &Fnr,
        letter: LetterId,
        now: DateTime<Utc>,
    ) -> Result<Option<LetterSigning>, StorageError> {
        let row: Option<LetterRow> = self
            .fetch_optional(
                Query::new(
                    "SELECT l.security_level, s.name AS sender_name, m.id AS message_row,
                            m.message_id
                     FROM letter l
                     JOIN sender s ON s.org_nr = l.sender_org_nr
                     LEFT JOIN dpi_message m ON m.letter_id = l.id
                     WHERE l.id = $1 AND l.recipient_fnr = $2
                       AND (l.effective_at IS NULL OR l.effective_at <= $3)
                       AND l.purged_at IS NULL",
                )
                .bind(letter.as_uuid())
                .bind(owner.as_str())
                .bind(now),
            )
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let documents: Vec<DocumentRow> = self
            .fetch_all(
                Query::new(
                    "SELECT position, title, file_name, media_type, sha256
                     FROM document WHERE letter_id = $1 ORDER BY position",
                )
                .bind(letter.as_uuid()),
            )
            .await?;
        let job: Option<JobRow> = self
            .fetch_optional(
                Query::new(format!(
                    "SELECT {JOB_COLUMNS} FROM signing_job j
                     WHERE j.letter_id = $1 AND j.signer_fnr = $2"
                ))
                .bind(letter.as_uuid())
                .bind(owner.as_str()),
            )
            .await?;
        Ok(Some(LetterSigning {
            letter,
            security_level: stored_level(row.security_level)?,
            sender_name: row.sender_name,
            message_row: row.message_row,
            message_id: row.message_id.map(MessageId::from_uuid),
            documents: documents
                .into_iter()
                .map(|document| StoredDocument {
                    position: u32::try_from(document.position).unwrap_or(u32::MAX),
                    title: document.title,
                    file_name: document.file_name,
                    media_type: document.media_type,
                    sha256: document.sha256,
                })
                .collect(),
            job: job.map(JobRow::into_job).transpose()?,
        }))
    }

    async fn record(
        &self,
        owner: &Fnr,
        letter: LetterId,
        outcome: &Outcome<'_>,
        receipt: &SenderReceipt,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut transaction = self.begin_write().await?;
        let message_row: Option<(Uuid,)> = transaction
            .fetch_optional(
                Query::new(
                    "SELECT m.id FROM signing_job j JOIN dpi_message m ON m.letter_id = j.letter_id
                     WHERE j.letter_id = $1 AND j.signer_fnr = $2
                       AND j.signer_status = 'WAITING' AND j.deadline > $3",
                )
                .bind(letter.as_uuid())
                .bind(owner.as_str())
                .bind(at),
            )
            .await?;
        let Some((message_row,)) = message_row else {
            return Ok(false);
        };
        let updated = match outcome {
            Outcome::Signed {
                level,
                upload,
                name,
                sha256,
                size_bytes,
            } => {
                let size_bytes =
                    i64::try_from(*size_bytes).map_err(|_| anyhow::anyhow!("document size"))?;
                // The signed document joins the owner's documents for good.
                transaction
                    .execute(
                        Query::new(
                            "INSERT INTO upload (id, owner_fnr, name, media_type, sha256,
                                 size_bytes, uploaded_at)
                             VALUES ($1, $2, $3, 'application/pdf', $4, $5, $6)",
                        )
                        .bind(upload.as_uuid())
                        .bind(owner.as_str())
                        .bind(*name)
                        .bind(*sha256)
                        .bind(size_bytes)
                        .bind(at),
                    )
                    .await?;
                transaction
                    .execute(
                        Query::new(
                            "UPDATE signing_job SET signer_status = 'SIGNED', status_at = $3,
                                 signed_level = $4, signed_upload_id = $5, signed_sha256 = $6
                             WHERE letter_id = $1 AND signer_fnr = $2
                               AND signer_status = 'WAITING'",
                        )
                        .bind(letter.as_uuid())
                        .bind(owner.as_str())
                        .bind(at)
                        .bind(i32::from(level.as_number()))
                        .bind(upload.as_uuid())
                        .bind(*sha256),
                    )
                    .await?
            }
            Outcome::Rejected { reason } => {
                transaction
                    .execute(
                        Query::new(
                            "UPDATE signing_job SET signer_status = 'REJECTED', status_at = $3,
                                 reason = $4
                             WHERE letter_id = $1 AND signer_fnr = $2
                               AND signer_status = 'WAITING'",
                        )
                        .bind(letter.as_uuid())
                        .bind(owner.as_str())
                        .bind(at)
                        .bind(*reason),
                    )
                    .await?
            }
        };
        settled(transaction, updated, message_row, receipt, at).await
    }

    async fn agency_job(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
    ) -> Result<Option<AgencyJob>, StorageError> {
        let row: Option<AgencyJobRow> = self
            .fetch_optional(
                Query::new(format!(
                    "SELECT j.letter_id, m.id AS message_row, {JOB_COLUMNS}
                     FROM signing_job j JOIN dpi_message m ON m.letter_id = j.letter_id
                     WHERE m.agency_org_nr = $1 AND m.message_id = $2"
                ))
                .bind(agency.as_str())
                .bind(message_id.as_uuid()),
            )
            .await?;
        row.map(|row| {
            Ok(AgencyJob {
                message_id,
                message_row: row.message_row,
                letter: LetterId::from_uuid(row.letter_id),
                job: row.job.into_job()?,
            })
        })
        .transpose()
    }

    async fn cancel(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
        receipt: &SenderReceipt,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut transaction = self.begin_write().await?;
        let found: Option<(Uuid, Uuid)> = transaction
            .fetch_optional(
                Query::new(
                    "SELECT j.letter_id, m.id
                     FROM signing_job j JOIN dpi_message m ON m.letter_id = j.letter_id
                     WHERE m.agency_org_nr = $1 AND m.message_id = $2",
                )
                .bind(agency.as_str())
                .bind(message_id.as_uuid()),
            )
            .await?;
        let Some((letter, message_row)) = found else {
            return Ok(false);
        };
        let updated = transaction
            .execute(
                Query::new(
                    "UPDATE signing_job SET signer_status = 'CANCELLED', status_at = $2
                     WHERE letter_id = $1 AND signer_status = 'WAITING'",
                )
                .bind(letter)
                .bind(at),
            )
            .await?;
        settled(transaction, updated, message_row, receipt, at).await
    }

    async fn overdue(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Overdue>, StorageError> {
        #[derive(sqlx::FromRow)]
        struct OverdueRow {
            letter_id: Uuid,
            message_row: Uuid,
            message_id: Uuid,
            #[sqlx(flatten)]
            job: JobRow,
        }
        let rows: Vec<OverdueRow> = self
            .fetch_all(
                Query::new(format!(
                    "SELECT j.letter_id, m.id AS message_row, m.message_id, {JOB_COLUMNS}
                     FROM signing_job j JOIN dpi_message m ON m.letter_id = j.letter_id
                     WHERE j.signer_status = 'WAITING' AND j.deadline <= $1
                     ORDER BY j.deadline LIMIT $2"
                ))
                .bind(now)
                .bind(i64::from(limit)),
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Overdue {
                    letter: LetterId::from_uuid(row.letter_id),
                    message_row: row.message_row,
                    message_id: MessageId::from_uuid(row.message_id),
                    job: row.job.into_job()?,
                })
            })
            .collect()
    }

    async fn record_expired(
        &self,
        letter: LetterId,
        receipt: &SenderReceipt,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut transaction = self.begin_write().await?;
        let found: Option<(Uuid,)> = transaction
            .fetch_optional(
                Query::new("SELECT m.id FROM dpi_message m WHERE m.letter_id = $1")
                    .bind(letter.as_uuid()),
            )
            .await?;
        let Some((message_row,)) = found else {
            return Ok(false);
        };
        let updated = transaction
            .execute(
                Query::new(
                    "UPDATE signing_job SET signer_status = 'EXPIRED', status_at = $2
                     WHERE letter_id = $1 AND signer_status = 'WAITING' AND deadline <= $2",
                )
                .bind(letter.as_uuid())
                .bind(at),
            )
            .await?;
        settled(transaction, updated, message_row, receipt, at).await
    }
}
