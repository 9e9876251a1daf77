//! The signing domain's store in SQL: letters' signing orders (written with
//! the letter by [`insert_orders`]), each signer's progress
//! (`signing_signer`), the signed documents in the signers' uploads, and
//! the notice that tells the next signer their turn has come.
//!
//! A signer's turn is checked in the queries themselves: a signer sees a job,
//! and may act on it, only once everyone before them has signed.

use super::{
    broker::{queue_sender_receipt, NoticeToSchedule, INSERT_NOTICES, ONE_NOTICE_PER_DAY},
    insert_rows, placeholders, stored_level, Database, Query, Transaction, OPEN_MAILBOX,
};
use crate::{
    broker::LetterTerms,
    notify::SenderReceipt,
    signing::{
        self, AfterSigning, AgencyJob, Job, LetterSigning, Outcome, Overdue, SignerProgress,
        SignerTask, StoredDocument,
    },
    store::StorageError,
};
use app::domain::{
    Fnr, JobStatus, Letter, LetterId, MessageId, OrgNr, SignerStatus, SigningOrder, UploadId,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::Value;
use std::collections::HashMap;
use uuid::Uuid;

/// Writes the orders of the letters that carry one, with a row per signer,
/// in the letters' transaction.
pub(super) async fn insert_orders(
    transaction: &mut Transaction,
    letters: &[(&Letter, &LetterTerms)],
) -> Result<(), StorageError> {
    let mut jobs = Vec::new();
    let mut signers = Vec::new();
    for (letter, terms) in letters {
        if let Some(order) = &terms.signing_order {
            jobs.push(vec![
                Value::from(letter.id.as_uuid()),
                Value::from(
                    serde_json::to_string(order)
                        .map_err(|error| StorageError::Other(error.into()))?,
                ),
                Value::from(order.deadline),
            ]);
            for (position, signer) in order.signers.iter().enumerate() {
                signers.push(vec![
                    Value::from(letter.id.as_uuid()),
                    Value::from(i32::try_from(position).unwrap_or(i32::MAX)),
                    Value::from(signer.fnr.as_str().to_owned()),
                ]);
            }
        }
    }
    insert_rows(
        transaction,
        "INSERT INTO signing_job (letter_id, order_json, deadline)",
        jobs,
        "",
    )
    .await?;
    insert_rows(
        transaction,
        "INSERT INTO signing_signer (letter_id, position, signer_fnr)",
        signers,
        "",
    )
    .await?;
    Ok(())
}

/// Commits a change of status with the agency's receipt when exactly one row
/// changed (`updated`); otherwise writes nothing.
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

/// The condition that the turn of the signer row `g` has come.
const TURN_HAS_COME: &str = "NOT EXISTS (SELECT 1 FROM signing_signer e
    WHERE e.letter_id = g.letter_id AND e.position < g.position AND e.status <> 'SIGNED')";

/// The condition that letter `l` is shown (and not purged) at `$3`.
const LETTER_SHOWN: &str =
    "(l.effective_at IS NULL OR l.effective_at <= $3) AND l.purged_at IS NULL";

#[derive(sqlx::FromRow)]
struct JobRow {
    order_json: String,
    status: String,
    signed_upload_id: Option<Uuid>,
    signed_sha256: Option<String>,
}

const JOB_COLUMNS: &str = "j.order_json, j.status, j.signed_upload_id, j.signed_sha256";

impl JobRow {
    fn into_job(self, progress: Vec<SignerProgress>) -> Result<Job, StorageError> {
        let order = serde_json::from_str::<SigningOrder>(&self.order_json)
            .map_err(|_| StorageError::corrupt("signing order"))?;
        if progress.len() != order.signers.len() {
            return Err(StorageError::corrupt("signing order's signers"));
        }
        let job = Job {
            order,
            progress,
            signed_upload: self.signed_upload_id.map(UploadId::from_uuid),
            signed_sha256: self.signed_sha256,
        };
        // The stored status is kept for finding open jobs; the signers' own
        // statuses are what it is made from.
        if JobStatus::from_code(&self.status) != Some(job.status()) {
            return Err(StorageError::corrupt("signing job status"));
        }
        Ok(job)
    }
}

#[derive(sqlx::FromRow)]
struct ProgressRow {
    letter_id: Uuid,
    status: String,
    status_at: Option<DateTime<Utc>>,
    reason: Option<String>,
    signed_level: Option<i32>,
    signed_upload_id: Option<Uuid>,
    signed_sha256: Option<String>,
}

impl ProgressRow {
    fn into_progress(self) -> Result<SignerProgress, StorageError> {
        Ok(SignerProgress {
            status: SignerStatus::from_code(&self.status)
                .ok_or_else(|| StorageError::corrupt("signer status"))?,
            status_at: self.status_at,
            reason: self.reason,
            signed_level: self.signed_level.map(stored_level).transpose()?,
            signed_upload: self.signed_upload_id.map(UploadId::from_uuid),
            signed_sha256: self.signed_sha256,
        })
    }
}

#[derive(sqlx::FromRow)]
struct LetterRow {
    security_level: i32,
    sender_name: String,
    message_row: Option<Uuid>,
    message_id: Option<Uuid>,
    available_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    position: i32,
    title: String,
    file_name: String,
    media_type: String,
    sha256: String,
}

impl DocumentRow {
    fn into_document(self) -> StoredDocument {
        StoredDocument {
            position: u32::try_from(self.position).unwrap_or(u32::MAX),
            title: self.title,
            file_name: self.file_name,
            media_type: self.media_type,
            sha256: self.sha256,
        }
    }
}

impl Database {
    /// Each letter's signers' progress, in order.
    async fn progress(
        &self,
        letters: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<SignerProgress>>, StorageError> {
        let mut found: HashMap<Uuid, Vec<SignerProgress>> = HashMap::new();
        if letters.is_empty() {
            return Ok(found);
        }
        let query = Query::new(format!(
            "SELECT letter_id, status, status_at, reason, signed_level, signed_upload_id,
                 signed_sha256
             FROM signing_signer WHERE letter_id IN ({})
             ORDER BY letter_id, position",
            placeholders(1, letters.len())
        ));
        let query = letters
            .iter()
            .fold(query, |query, letter| query.bind(*letter));
        for row in self.fetch_all::<ProgressRow>(query).await? {
            found
                .entry(row.letter_id)
                .or_default()
                .push(row.into_progress()?);
        }
        Ok(found)
    }

    /// The letter's job, if it has one.
    async fn job(&self, letter: Uuid) -> Result<Option<Job>, StorageError> {
        let row: Option<JobRow> = self
            .fetch_optional(
                Query::new(format!(
                    "SELECT {JOB_COLUMNS} FROM signing_job j WHERE j.letter_id = $1"
                ))
                .bind(letter),
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let progress = self
            .progress(&[letter])
            .await?
            .remove(&letter)
            .unwrap_or_default();
        row.into_job(progress).map(Some)
    }

    /// The letter `found` finds (a [`LetterRow`], or none) as signing sees
    /// it: with its documents (all of them, or only the one to sign) and its
    /// job.
    async fn letter_signing_from(
        &self,
        letter: LetterId,
        found: Query<'_>,
        only_the_document_to_sign: bool,
    ) -> Result<Option<LetterSigning>, StorageError> {
        let Some(row) = self.fetch_optional::<LetterRow>(found).await? else {
            return Ok(None);
        };
        let documents: Vec<DocumentRow> = self
            .fetch_all(
                Query::new(format!(
                    "SELECT position, title, file_name, media_type, sha256
                     FROM document WHERE letter_id = $1 {} ORDER BY position",
                    if only_the_document_to_sign {
                        "AND position = 0"
                    } else {
                        ""
                    }
                ))
                .bind(letter.as_uuid()),
            )
            .await?;
        Ok(Some(LetterSigning {
            letter,
            security_level: stored_level(row.security_level)?,
            sender_name: row.sender_name,
            message_row: row.message_row,
            message_id: row.message_id.map(MessageId::from_uuid),
            available_at: row.available_at,
            documents: documents
                .into_iter()
                .map(DocumentRow::into_document)
                .collect(),
            job: self.job(letter.as_uuid()).await?,
        }))
    }
}

const LETTER_COLUMNS: &str = "l.security_level, s.name AS sender_name, m.id AS message_row,
    m.message_id, COALESCE(l.effective_at, l.received_at) AS available_at";

#[async_trait]
impl signing::Store for Database {
    async fn letter_signing(
        &self,
        owner: &Fnr,
        letter: LetterId,
        now: DateTime<Utc>,
    ) -> Result<Option<LetterSigning>, StorageError> {
        let found = Query::new(format!(
            "SELECT {LETTER_COLUMNS}
             FROM letter l
             JOIN sender s ON s.org_nr = l.sender_org_nr
             LEFT JOIN dpi_message m ON m.letter_id = l.id
             WHERE l.id = $1 AND l.recipient_fnr = $2 AND {LETTER_SHOWN}"
        ))
        .bind(letter.as_uuid())
        .bind(owner.as_str())
        .bind(now);
        self.letter_signing_from(letter, found, false).await
    }

    async fn signer_signing(
        &self,
        signer: &Fnr,
        letter: LetterId,
        now: DateTime<Utc>,
    ) -> Result<Option<LetterSigning>, StorageError> {
        let found = Query::new(format!(
            "SELECT {LETTER_COLUMNS}
             FROM signing_signer g
             JOIN letter l ON l.id = g.letter_id
             JOIN sender s ON s.org_nr = l.sender_org_nr
             LEFT JOIN dpi_message m ON m.letter_id = l.id
             WHERE g.letter_id = $1 AND g.signer_fnr = $2 AND {LETTER_SHOWN}
               AND {TURN_HAS_COME}"
        ))
        .bind(letter.as_uuid())
        .bind(signer.as_str())
        .bind(now);
        // Only the document to sign: the letter's other documents are the
        // recipient's.
        self.letter_signing_from(letter, found, true).await
    }

    async fn signer_tasks(
        &self,
        signer: &Fnr,
        now: DateTime<Utc>,
    ) -> Result<Vec<SignerTask>, StorageError> {
        #[derive(sqlx::FromRow)]
        struct TaskRow {
            letter_id: Uuid,
            position: i32,
            sender_name: String,
            #[sqlx(flatten)]
            job: JobRow,
        }
        let rows: Vec<TaskRow> = self
            .fetch_all(
                Query::new(format!(
                    "SELECT g.letter_id, g.position, s.name AS sender_name, {JOB_COLUMNS}
                     FROM signing_signer g
                     JOIN signing_job j ON j.letter_id = g.letter_id
                     JOIN letter l ON l.id = g.letter_id
                     JOIN sender s ON s.org_nr = l.sender_org_nr
                     WHERE g.signer_fnr = $2 AND {LETTER_SHOWN} AND {TURN_HAS_COME}
                     ORDER BY l.received_at DESC, g.letter_id
                     LIMIT $1"
                ))
                .bind(500_i64)
                .bind(signer.as_str())
                .bind(now),
            )
            .await?;
        let letters: Vec<Uuid> = rows.iter().map(|row| row.letter_id).collect();
        let mut progress = self.progress(&letters).await?;
        rows.into_iter()
            .map(|row| {
                Ok(SignerTask {
                    letter: LetterId::from_uuid(row.letter_id),
                    sender_name: row.sender_name,
                    position: usize::try_from(row.position)
                        .map_err(|_| StorageError::corrupt("signer position"))?,
                    job: row
                        .job
                        .into_job(progress.remove(&row.letter_id).unwrap_or_default())?,
                })
            })
            .collect()
    }

    async fn record(
        &self,
        signer: &Fnr,
        letter: LetterId,
        position: usize,
        outcome: &Outcome<'_>,
        receipt: &SenderReceipt,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let position = i32::try_from(position).map_err(|_| anyhow::anyhow!("signer position"))?;
        let mut transaction = self.begin_write().await?;
        let message_row: Option<(Uuid,)> = transaction
            .fetch_optional(
                Query::new(format!(
                    "SELECT m.id FROM signing_signer g
                     JOIN signing_job j ON j.letter_id = g.letter_id
                     JOIN dpi_message m ON m.letter_id = g.letter_id
                     WHERE g.letter_id = $1 AND g.signer_fnr = $2 AND g.position = $4
                       AND g.status = 'WAITING' AND j.status = 'IN_PROGRESS' AND j.deadline > $3
                       AND {TURN_HAS_COME}"
                ))
                .bind(letter.as_uuid())
                .bind(signer.as_str())
                .bind(at)
                .bind(position),
            )
            .await?;
        let Some((message_row,)) = message_row else {
            return Ok(false);
        };
        let updated = match outcome {
            Outcome::Signed { signature, then } => {
                let size_bytes = i64::try_from(signature.size_bytes)
                    .map_err(|_| anyhow::anyhow!("document size"))?;
                let keep = |owner: &Fnr, upload: UploadId, name: &str| {
                    super::mailbox::insert_upload_row(
                        upload,
                        owner,
                        name,
                        "application/pdf",
                        signature.sha256,
                        size_bytes,
                        at,
                    )
                };
                // The signed document joins the signer's own documents for
                // good; a later signer may never have had a mailbox here.
                transaction
                    .execute(Query::new(OPEN_MAILBOX).bind(signer.as_str()).bind(at))
                    .await?;
                transaction
                    .execute(keep(signer, signature.upload, signature.name))
                    .await?;
                let updated = transaction
                    .execute(
                        Query::new(
                            "UPDATE signing_signer SET status = 'SIGNED', status_at = $3,
                                 signed_level = $4, signed_upload_id = $5, signed_sha256 = $6
                             WHERE letter_id = $1 AND position = $2 AND status = 'WAITING'",
                        )
                        .bind(letter.as_uuid())
                        .bind(position)
                        .bind(at)
                        .bind(i32::from(signature.level.as_number()))
                        .bind(signature.upload.as_uuid())
                        .bind(signature.sha256.to_owned()),
                    )
                    .await?;
                if updated == 1 {
                    match then {
                        AfterSigning::NextTurn { signer, notices } => {
                            let rows = notices
                                .iter()
                                .map(|notice| {
                                    NoticeToSchedule {
                                        letter: letter.as_uuid(),
                                        message_row,
                                        recipient: signer,
                                        notice,
                                        created_at: at,
                                    }
                                    .values()
                                })
                                .collect();
                            insert_rows(&mut transaction, INSERT_NOTICES, rows, ONE_NOTICE_PER_DAY)
                                .await?;
                        }
                        AfterSigning::Completed {
                            recipient,
                            recipient_copy,
                        } => {
                            if let Some((copy, name)) = recipient_copy {
                                transaction.execute(keep(recipient, *copy, name)).await?;
                            }
                            transaction
                                .execute(
                                    Query::new(
                                        "UPDATE signing_job SET status = 'COMPLETED_SUCCESSFULLY',
                                             signed_upload_id = $2, signed_sha256 = $3
                                         WHERE letter_id = $1",
                                    )
                                    .bind(letter.as_uuid())
                                    .bind(
                                        recipient_copy
                                            .map_or(signature.upload, |(copy, _)| copy)
                                            .as_uuid(),
                                    )
                                    .bind(signature.sha256.to_owned()),
                                )
                                .await?;
                        }
                    }
                }
                updated
            }
            Outcome::Rejected { reason } => {
                let updated = transaction
                    .execute(
                        Query::new(
                            "UPDATE signing_signer SET status = 'REJECTED', status_at = $3,
                                 reason = $4
                             WHERE letter_id = $1 AND position = $2 AND status = 'WAITING'",
                        )
                        .bind(letter.as_uuid())
                        .bind(position)
                        .bind(at)
                        .bind(*reason),
                    )
                    .await?;
                if updated == 1 {
                    // The job has failed: those after are never asked.
                    end_waiting(&mut transaction, letter.as_uuid(), "CANCELLED", at).await?;
                }
                updated
            }
        };
        settled(transaction, updated, message_row, receipt, at).await
    }

    async fn agency_job(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
    ) -> Result<Option<AgencyJob>, StorageError> {
        let row: Option<(Uuid, Uuid)> = self
            .fetch_optional(job_of_message(agency, message_id))
            .await?;
        let Some((letter, message_row)) = row else {
            return Ok(None);
        };
        let Some(job) = self.job(letter).await? else {
            return Ok(None);
        };
        Ok(Some(AgencyJob {
            message_id,
            message_row,
            letter: LetterId::from_uuid(letter),
            job,
        }))
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
            .fetch_optional(job_of_message(agency, message_id))
            .await?;
        let Some((letter, message_row)) = found else {
            return Ok(false);
        };
        let updated = end_waiting(&mut transaction, letter, "CANCELLED", at).await?;
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
                     WHERE j.status = 'IN_PROGRESS' AND j.deadline <= $1
                     ORDER BY j.deadline LIMIT $2"
                ))
                .bind(now)
                .bind(i64::from(limit)),
            )
            .await?;
        let letters: Vec<Uuid> = rows.iter().map(|row| row.letter_id).collect();
        let mut progress = self.progress(&letters).await?;
        rows.into_iter()
            .map(|row| {
                Ok(Overdue {
                    letter: LetterId::from_uuid(row.letter_id),
                    message_row: row.message_row,
                    message_id: MessageId::from_uuid(row.message_id),
                    job: row
                        .job
                        .into_job(progress.remove(&row.letter_id).unwrap_or_default())?,
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
                Query::new(
                    "SELECT m.id FROM signing_job j JOIN dpi_message m ON m.letter_id = j.letter_id
                     WHERE j.letter_id = $1 AND j.deadline <= $2",
                )
                .bind(letter.as_uuid())
                .bind(at),
            )
            .await?;
        let Some((message_row,)) = found else {
            return Ok(false);
        };
        let updated = end_waiting(&mut transaction, letter.as_uuid(), "EXPIRED", at).await?;
        settled(transaction, updated, message_row, receipt, at).await
    }
}

/// The letter and message row of the job of the agency's message
/// `message_id`: `(letter_id, message_row)`.
fn job_of_message(agency: &OrgNr, message_id: MessageId) -> Query<'static> {
    Query::new(
        "SELECT j.letter_id, m.id
         FROM signing_job j JOIN dpi_message m ON m.letter_id = j.letter_id
         WHERE m.agency_org_nr = $1 AND m.message_id = $2",
    )
    .bind(agency.as_str().to_owned())
    .bind(message_id.as_uuid())
}

/// Fails the letter's job in progress, giving its waiting signers `status`;
/// 1 when the job was in progress, else 0 (and nothing changes).
async fn end_waiting(
    transaction: &mut Transaction,
    letter: Uuid,
    status: &'static str,
    at: DateTime<Utc>,
) -> Result<u64, StorageError> {
    let failed = transaction
        .execute(
            Query::new(
                "UPDATE signing_job SET status = 'FAILED'
                 WHERE letter_id = $1 AND status = 'IN_PROGRESS'",
            )
            .bind(letter),
        )
        .await?;
    if failed == 1 {
        transaction
            .execute(
                Query::new(
                    "UPDATE signing_signer SET status = $2, status_at = $3
                     WHERE letter_id = $1 AND status = 'WAITING'",
                )
                .bind(letter)
                .bind(status)
                .bind(at),
            )
            .await?;
    }
    Ok(failed)
}
