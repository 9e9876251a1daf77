//! The print service's store in SQL: postal addresses and the print queue.
//! Jobs are inserted by the broker's group commit, with the message they
//! belong to, and marked posted by the broker (see `sql/broker.rs`).

use super::{broker::queue_sender_receipt, insert_rows, Database, Query};
use crate::{
    print::{
        self,
        batch::{BatchKind, Envelope},
        store::{
            BatchSummary, BatchToDeliver, ChannelDay, CheckedLetter, ConsoleLetter, Download,
            LetterInBatch, NewBatch, RecordedAnswer, TimelineStep, WaitingLetter,
        },
        store::{UnreadDue, UnreadOutcome},
        verification::VerificationCode,
        NewPrintJob, PostClass, PostalAddress, PrintColour, PrintJob, PrintOrder, ReturnHandling,
    },
    store::StorageError,
};
use app::domain::{Fnr, MessageId, OrgNr, Sha256Digest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::Value;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct PrintJobRow {
    message_row: Uuid,
    message_id: Uuid,
    agency_org_nr: String,
    print_order: String,
    package_sha256: String,
    state: String,
    batch_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    printed_at: Option<DateTime<Utc>>,
}

impl PrintJobRow {
    fn into_job(self) -> Result<PrintJob, StorageError> {
        Ok(PrintJob {
            message_row: self.message_row,
            message_id: MessageId::from_uuid(self.message_id),
            agency: OrgNr::parse(&self.agency_org_nr)
                .map_err(|_| StorageError::corrupt("org number"))?,
            order: order_from_json(&self.print_order)?,
            package: digest(&self.package_sha256)?,
            state: self.state,
            batch: self.batch_id,
            created_at: self.created_at,
            printed_at: self.printed_at,
        })
    }
}

fn digest(hex: &str) -> Result<Sha256Digest, StorageError> {
    Sha256Digest::from_hex(hex).ok_or_else(|| StorageError::corrupt("digest"))
}

fn order_from_json(text: &str) -> Result<PrintOrder, StorageError> {
    serde_json::from_str(text).map_err(|_| StorageError::corrupt("print order"))
}

/// Inserting print jobs, with [`print_job_values`]' rows.
pub(super) const INSERT_PRINT_JOB: &str = "INSERT INTO print_job (message_row, print_order,
    sender_name, title, documents, check_code, created_at, recipient_fnr)";

/// A new print job's row for [`INSERT_PRINT_JOB`]: the broker's commit
/// writes letters routed to paper, and a letter unread at its deadline is
/// queued the same way.
pub(super) fn print_job_values(
    message_row: Uuid,
    job: &NewPrintJob,
    created_at: DateTime<Utc>,
) -> Result<Vec<Value>, StorageError> {
    Ok(vec![
        Value::from(message_row),
        Value::from(order_to_json(&job.order)?),
        Value::from(job.sender_name.as_str()),
        Value::from(job.title.as_str()),
        Value::from(documents_to_json(&job.documents)?),
        Value::from(job.check_code.as_str()),
        Value::from(created_at),
        Value::from(job.recipient.as_ref().map(|fnr| fnr.as_str().to_owned())),
    ])
}

/// A job's documents as stored: their digests, main document first.
pub(super) fn documents_to_json(documents: &[Sha256Digest]) -> Result<String, StorageError> {
    serde_json::to_string(
        &documents
            .iter()
            .map(Sha256Digest::to_hex)
            .collect::<Vec<_>>(),
    )
    .map_err(|error| StorageError::Other(error.into()))
}

fn documents_from_json(text: &str) -> Result<Vec<Sha256Digest>, StorageError> {
    let hexes: Vec<String> =
        serde_json::from_str(text).map_err(|_| StorageError::corrupt("print documents"))?;
    hexes.iter().map(|hex| digest(hex)).collect()
}

fn batch_kind(post_class: &str, colour: &str, envelope: &str) -> Result<BatchKind, StorageError> {
    Ok(BatchKind {
        post_class: match post_class {
            "A" => PostClass::A,
            "B" => PostClass::B,
            _ => return Err(StorageError::corrupt("post class")),
        },
        colour: match colour {
            "SORT_HVIT" => PrintColour::BlackAndWhite,
            "FARGE" => PrintColour::Colour,
            _ => return Err(StorageError::corrupt("colour")),
        },
        envelope: Envelope::parse(envelope).ok_or_else(|| StorageError::corrupt("envelope"))?,
    })
}

/// The status rows a letter's sender sees, one per letter.
fn status_rows(
    message_rows: impl IntoIterator<Item = Uuid>,
    failed: bool,
    description: &str,
    at: DateTime<Utc>,
) -> Vec<Vec<Value>> {
    message_rows
        .into_iter()
        .map(|message_row| {
            vec![
                Value::from(message_row),
                Value::from(if failed { "FEILET" } else { "SENDT" }),
                Value::from(description),
                Value::from(at),
            ]
        })
        .collect()
}

const INSERT_STATUS: &str = "INSERT INTO dpi_status (message_row, status, beskrivelse, at)";

/// A print order as its stored JSON.
pub(super) fn order_to_json(order: &PrintOrder) -> Result<String, StorageError> {
    serde_json::to_string(order).map_err(|error| StorageError::Other(error.into()))
}

#[derive(sqlx::FromRow)]
struct WaitingRow {
    message_row: Uuid,
    print_order: String,
    sender_name: String,
    documents: String,
    check_code: Option<String>,
}

#[derive(sqlx::FromRow)]
struct BatchRow {
    id: Uuid,
    cut_off: DateTime<Utc>,
    post_class: String,
    colour: String,
    envelope: String,
    attempts: i32,
}

#[derive(sqlx::FromRow)]
struct UnreadDueRow {
    message_row: Uuid,
    letter_id: Uuid,
    recipient_fnr: String,
    opened: bool,
    colour: String,
    post_class: String,
    sender_name: String,
    title: String,
}

#[derive(sqlx::FromRow)]
struct BatchSummaryRow {
    id: Uuid,
    cut_off: DateTime<Utc>,
    post_class: String,
    colour: String,
    envelope: String,
    letters: i32,
    pages: i32,
    sheets: i32,
    attempts: i32,
    last_error: Option<String>,
    delivered_at: Option<DateTime<Utc>>,
}

impl BatchSummaryRow {
    fn into_summary(self) -> Result<BatchSummary, StorageError> {
        let count = |value: i32| u64::try_from(value).unwrap_or_default();
        Ok(BatchSummary {
            id: self.id,
            cut_off: self.cut_off,
            kind: batch_kind(&self.post_class, &self.colour, &self.envelope)?,
            letters: count(self.letters),
            pages: count(self.pages),
            sheets: count(self.sheets),
            attempts: u32::try_from(self.attempts).unwrap_or_default(),
            last_error: self.last_error,
            delivered_at: self.delivered_at,
        })
    }
}

const BATCH_SUMMARY_COLUMNS: &str = "id, cut_off, post_class, colour, envelope, letters, pages,
    sheets, attempts, last_error, delivered_at";

#[derive(sqlx::FromRow)]
struct ConsoleLetterRow {
    #[sqlx(flatten)]
    job: PrintJobRow,
    pages: Option<i32>,
    sheets: Option<i32>,
    pdf_sha256: Option<String>,
}

impl ConsoleLetterRow {
    fn into_letter(self) -> Result<ConsoleLetter, StorageError> {
        Ok(ConsoleLetter {
            job: self.job.into_job()?,
            pages: self.pages.and_then(|pages| u32::try_from(pages).ok()),
            sheets: self.sheets.and_then(|sheets| u32::try_from(sheets).ok()),
            pdf: self.pdf_sha256.as_deref().map(digest).transpose()?,
        })
    }
}

/// A print job with its message's id, agency and package.
const JOB_COLUMNS: &str = "p.message_row, m.message_id, m.agency_org_nr, p.print_order,
    m.package_sha256, p.state, p.batch_id, p.created_at, p.printed_at";

#[derive(sqlx::FromRow)]
struct LetterInBatchRow {
    message_row: Uuid,
    print_order: String,
    pdf_sha256: Option<String>,
    pages: Option<i32>,
    sheets: Option<i32>,
}

#[async_trait]
impl print::Store for Database {
    async fn postal_address(&self, fnr: &Fnr) -> Result<Option<PostalAddress>, StorageError> {
        let row: Option<(String,)> = self
            .fetch_optional(
                Query::new("SELECT address FROM postal_address WHERE fnr = $1").bind(fnr.as_str()),
            )
            .await?;
        row.map(|(text,)| {
            serde_json::from_str(&text).map_err(|_| StorageError::corrupt("postal address"))
        })
        .transpose()
    }

    async fn set_postal_address(
        &self,
        fnr: &Fnr,
        address: &PostalAddress,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let address =
            serde_json::to_string(address).map_err(|error| StorageError::Other(error.into()))?;
        self.execute(
            Query::new(
                "INSERT INTO postal_address (fnr, address, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (fnr) DO UPDATE
                 SET address = excluded.address, updated_at = excluded.updated_at",
            )
            .bind(fnr.as_str())
            .bind(address)
            .bind(at),
        )
        .await?;
        Ok(())
    }

    async fn set_postal_addresses(
        &self,
        addresses: &[(Fnr, PostalAddress)],
        at: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let rows = addresses
            .iter()
            .map(|(fnr, address)| {
                let address = serde_json::to_string(address)
                    .map_err(|error| StorageError::Other(error.into()))?;
                Ok(vec![
                    Value::from(fnr.as_str()),
                    Value::from(address),
                    Value::from(at),
                ])
            })
            .collect::<Result<Vec<_>, StorageError>>()?;
        let mut transaction = self.begin_write().await?;
        // An address stored exactly so is left alone, and not counted.
        let written = insert_rows(
            &mut transaction,
            "INSERT INTO postal_address (fnr, address, updated_at)",
            rows,
            " ON CONFLICT (fnr) DO UPDATE
              SET address = excluded.address, updated_at = excluded.updated_at
              WHERE postal_address.address IS DISTINCT FROM excluded.address",
        )
        .await?;
        transaction.commit().await?;
        Ok(written)
    }

    async fn print_jobs(&self, include_done: bool) -> Result<Vec<PrintJob>, StorageError> {
        let rows: Vec<PrintJobRow> = self
            .fetch_all(
                Query::new(format!(
                    "SELECT {JOB_COLUMNS}
                     FROM print_job p JOIN dpi_message m ON m.id = p.message_row
                     WHERE $1 OR p.state IN ('waiting', 'batched', 'accepted')
                     ORDER BY p.created_at, p.message_row"
                ))
                .bind(include_done),
            )
            .await?;
        rows.into_iter().map(PrintJobRow::into_job).collect()
    }

    async fn waiting_letters(
        &self,
        created_before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<WaitingLetter>, StorageError> {
        let rows: Vec<WaitingRow> = self
            .fetch_all(
                Query::new(
                    "SELECT message_row, print_order, sender_name, documents, check_code
                     FROM print_job
                     WHERE state = 'waiting' AND created_at < $1
                     ORDER BY created_at, message_row
                     LIMIT $2",
                )
                .bind(created_before)
                .bind(limit as i64),
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(WaitingLetter {
                    message_row: row.message_row,
                    order: order_from_json(&row.print_order)?,
                    sender_name: row.sender_name,
                    documents: documents_from_json(&row.documents)?,
                    check_code: row
                        .check_code
                        .as_deref()
                        .and_then(|code| VerificationCode::parse(code).ok())
                        .ok_or_else(|| StorageError::corrupt("check code"))?,
                })
            })
            .collect()
    }

    async fn create_batches(&self, batches: &[NewBatch]) -> Result<bool, StorageError> {
        let mut transaction = self.begin_write().await?;
        for batch in batches {
            let (pages, sheets) = batch
                .letters
                .iter()
                .fold((0, 0), |(pages, sheets), letter| {
                    (pages + letter.pages, sheets + letter.sheets)
                });
            transaction
                .execute(
                    Query::new(
                        "INSERT INTO print_batch (id, cut_off, post_class, colour, envelope,
                             letters, pages, sheets, next_attempt_at, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                    )
                    .bind(batch.id)
                    .bind(batch.cut_off)
                    .bind(batch.kind.post_class.code())
                    .bind(batch.kind.colour.code())
                    .bind(batch.kind.envelope.as_str())
                    .bind(batch.letters.len() as i32)
                    .bind(pages as i32)
                    .bind(sheets as i32)
                    .bind(batch.created_at),
                )
                .await?;
            for letter in &batch.letters {
                let moved = transaction
                    .execute(
                        Query::new(
                            "UPDATE print_job
                             SET state = 'batched', batch_id = $2, pdf_sha256 = $3,
                                 pages = $4, sheets = $5
                             WHERE message_row = $1 AND state = 'waiting'",
                        )
                        .bind(letter.message_row)
                        .bind(batch.id)
                        .bind(letter.pdf.to_hex())
                        .bind(letter.pages as i32)
                        .bind(letter.sheets as i32),
                    )
                    .await?;
                if moved == 0 {
                    // Another node batched it: this run's batches are dropped whole.
                    return Ok(false);
                }
            }
            let description = format!(
                "lagt i utskriftsbunke {} ({}-post, {}, {})",
                batch.id,
                batch.kind.post_class.code(),
                batch.kind.envelope.as_str(),
                match batch.kind.colour {
                    PrintColour::BlackAndWhite => "svart-hvitt",
                    PrintColour::Colour => "farge",
                }
            );
            insert_rows(
                &mut transaction,
                INSERT_STATUS,
                status_rows(
                    batch.letters.iter().map(|letter| letter.message_row),
                    false,
                    &description,
                    batch.created_at,
                ),
                "",
            )
            .await?;
        }
        transaction.commit().await?;
        Ok(true)
    }

    async fn batches_due(&self, now: DateTime<Utc>) -> Result<Vec<BatchToDeliver>, StorageError> {
        let batches: Vec<BatchRow> = self
            .fetch_all(
                Query::new(
                    "SELECT id, cut_off, post_class, colour, envelope, attempts
                     FROM print_batch
                     WHERE delivered_at IS NULL AND next_attempt_at <= $1
                     ORDER BY created_at, id",
                )
                .bind(now),
            )
            .await?;
        let mut due = Vec::with_capacity(batches.len());
        for batch in batches {
            let letters: Vec<LetterInBatchRow> = self
                .fetch_all(
                    Query::new(
                        "SELECT message_row, print_order, pdf_sha256, pages, sheets
                         FROM print_job WHERE batch_id = $1
                         ORDER BY created_at, message_row",
                    )
                    .bind(batch.id),
                )
                .await?;
            due.push(BatchToDeliver {
                id: batch.id,
                cut_off: batch.cut_off,
                kind: batch_kind(&batch.post_class, &batch.colour, &batch.envelope)?,
                attempts: u32::try_from(batch.attempts).unwrap_or_default(),
                letters: letters
                    .into_iter()
                    .map(|row| {
                        Ok(LetterInBatch {
                            message_row: row.message_row,
                            order: order_from_json(&row.print_order)?,
                            pdf: digest(row.pdf_sha256.as_deref().unwrap_or_default())?,
                            pages: u32::try_from(row.pages.unwrap_or_default()).unwrap_or_default(),
                            sheets: u32::try_from(row.sheets.unwrap_or_default())
                                .unwrap_or_default(),
                        })
                    })
                    .collect::<Result<_, StorageError>>()?,
            });
        }
        Ok(due)
    }

    async fn batch_delivered(&self, batch: Uuid, at: DateTime<Utc>) -> Result<(), StorageError> {
        let mut transaction = self.begin_write().await?;
        let updated = transaction
            .execute(
                Query::new(
                    "UPDATE print_batch SET delivered_at = $2, attempts = attempts + 1,
                         last_error = NULL
                     WHERE id = $1 AND delivered_at IS NULL",
                )
                .bind(batch)
                .bind(at),
            )
            .await?;
        if updated == 1 {
            let letters: Vec<(Uuid,)> = transaction
                .fetch_all(
                    Query::new("SELECT message_row FROM print_job WHERE batch_id = $1").bind(batch),
                )
                .await?;
            insert_rows(
                &mut transaction,
                INSERT_STATUS,
                status_rows(
                    letters.into_iter().map(|(row,)| row),
                    false,
                    &format!("utskriftsbunke {batch} levert til trykkeriet"),
                    at,
                ),
                "",
            )
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn batch_delivery_failed(
        &self,
        batch: Uuid,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.execute(
            Query::new(
                "UPDATE print_batch
                 SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3
                 WHERE id = $1 AND delivered_at IS NULL",
            )
            .bind(batch)
            .bind(error)
            .bind(retry_at),
        )
        .await?;
        Ok(())
    }

    async fn return_handling(
        &self,
        message_row: Uuid,
    ) -> Result<Option<ReturnHandling>, StorageError> {
        let row: Option<(String,)> = self
            .fetch_optional(
                Query::new("SELECT print_order FROM print_job WHERE message_row = $1")
                    .bind(message_row),
            )
            .await?;
        row.map(|(order,)| order_from_json(&order).map(|order| order.return_handling))
            .transpose()
    }

    async fn record_answers(&self, answers: &[RecordedAnswer]) -> Result<usize, StorageError> {
        let mut transaction = self.begin_write().await?;
        let mut recorded = 0;
        for answer in answers {
            let inserted = transaction
                .execute(
                    Query::new(
                        "INSERT INTO print_event (message_row, event, detail, at)
                         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    )
                    .bind(answer.message_row)
                    .bind(answer.status.as_str())
                    .bind(answer.detail.as_str())
                    .bind(answer.at),
                )
                .await?;
            if inserted == 0 {
                continue;
            }
            recorded += 1;
            // A late answer never takes the letter back (see AnswerStatus::rank).
            transaction
                .execute(
                    Query::new(
                        "UPDATE print_job
                         SET state = $2,
                             printed_at = CASE WHEN $2 = 'posted' THEN $4 ELSE printed_at END
                         WHERE message_row = $1
                           AND (CASE state WHEN 'waiting' THEN 0 WHEN 'batched' THEN 1
                                WHEN 'accepted' THEN 2 WHEN 'posted' THEN 3 ELSE 4 END) < $3",
                    )
                    .bind(answer.message_row)
                    .bind(answer.status.as_str())
                    .bind(i32::from(answer.status.rank()))
                    .bind(answer.at),
                )
                .await?;
            insert_rows(
                &mut transaction,
                INSERT_STATUS,
                status_rows(
                    [answer.message_row],
                    answer.failed,
                    &answer.description,
                    answer.at,
                ),
                "",
            )
            .await?;
            if let Some(receipt) = &answer.receipt {
                queue_sender_receipt(&mut transaction, answer.message_row, receipt, answer.at)
                    .await?;
            }
        }
        transaction.commit().await?;
        Ok(recorded)
    }

    async fn letter_by_check_code(
        &self,
        code: &VerificationCode,
    ) -> Result<Option<CheckedLetter>, StorageError> {
        let row: Option<(String, String, String, DateTime<Utc>)> = self
            .fetch_optional(
                Query::new(
                    "SELECT p.sender_name, m.agency_org_nr, p.title, p.created_at
                     FROM print_job p JOIN dpi_message m ON m.id = p.message_row
                     WHERE p.check_code = $1 AND p.state <> 'waiting'",
                )
                .bind(code.as_str()),
            )
            .await?;
        row.map(|(sender_name, agency, title, sent_at)| {
            Ok(CheckedLetter {
                sender_name,
                sender: OrgNr::parse(&agency).map_err(|_| StorageError::corrupt("org number"))?,
                title,
                sent_at,
            })
        })
        .transpose()
    }

    async fn state_counts(&self) -> Result<Vec<(String, u64)>, StorageError> {
        let rows: Vec<(String, i64)> = self
            .fetch_all(Query::new(
                "SELECT state, COUNT(*) FROM print_job GROUP BY state ORDER BY state",
            ))
            .await?;
        Ok(rows
            .into_iter()
            .map(|(state, letters)| (state, super::count(letters)))
            .collect())
    }

    async fn envelope_counts(&self) -> Result<(u64, u64), StorageError> {
        let rows: Vec<(String, i64)> = self
            .fetch_all(Query::new(
                "SELECT b.envelope, COUNT(*) FROM print_job p
                 JOIN print_batch b ON b.id = p.batch_id
                 GROUP BY b.envelope",
            ))
            .await?;
        let of = |envelope: &str| {
            rows.iter()
                .find(|(found, _)| found == envelope)
                .map_or(0, |(_, letters)| super::count(*letters))
        };
        Ok((of("C5"), of("C4")))
    }

    async fn waiting_jobs(&self, limit: u32) -> Result<Vec<PrintJob>, StorageError> {
        let rows: Vec<PrintJobRow> = self
            .fetch_all(
                Query::new(format!(
                    "SELECT {JOB_COLUMNS}
                     FROM print_job p JOIN dpi_message m ON m.id = p.message_row
                     WHERE p.state = 'waiting'
                     ORDER BY p.created_at, p.message_row
                     LIMIT $1"
                ))
                .bind(i64::from(limit)),
            )
            .await?;
        rows.into_iter().map(PrintJobRow::into_job).collect()
    }

    async fn recent_batches(&self, limit: u32) -> Result<Vec<BatchSummary>, StorageError> {
        let rows: Vec<BatchSummaryRow> = self
            .fetch_all(
                Query::new(format!(
                    "SELECT {BATCH_SUMMARY_COLUMNS} FROM print_batch
                     ORDER BY created_at DESC, id LIMIT $1"
                ))
                .bind(i64::from(limit)),
            )
            .await?;
        rows.into_iter()
            .map(BatchSummaryRow::into_summary)
            .collect()
    }

    async fn batch_summary(&self, batch: Uuid) -> Result<Option<BatchSummary>, StorageError> {
        let row: Option<BatchSummaryRow> = self
            .fetch_optional(
                Query::new(format!(
                    "SELECT {BATCH_SUMMARY_COLUMNS} FROM print_batch WHERE id = $1"
                ))
                .bind(batch),
            )
            .await?;
        row.map(BatchSummaryRow::into_summary).transpose()
    }

    async fn letters_in_batch(&self, batch: Uuid) -> Result<Vec<ConsoleLetter>, StorageError> {
        let rows: Vec<ConsoleLetterRow> = self
            .fetch_all(
                Query::new(format!(
                    "SELECT {JOB_COLUMNS}, p.pages, p.sheets, p.pdf_sha256
                     FROM print_job p JOIN dpi_message m ON m.id = p.message_row
                     WHERE p.batch_id = $1
                     ORDER BY p.created_at, p.message_row"
                ))
                .bind(batch),
            )
            .await?;
        rows.into_iter()
            .map(ConsoleLetterRow::into_letter)
            .collect()
    }

    async fn console_letter(
        &self,
        message_row: Uuid,
    ) -> Result<Option<ConsoleLetter>, StorageError> {
        let row: Option<ConsoleLetterRow> = self
            .fetch_optional(
                Query::new(format!(
                    "SELECT {JOB_COLUMNS}, p.pages, p.sheets, p.pdf_sha256
                     FROM print_job p JOIN dpi_message m ON m.id = p.message_row
                     WHERE p.message_row = $1"
                ))
                .bind(message_row),
            )
            .await?;
        row.map(ConsoleLetterRow::into_letter).transpose()
    }

    async fn timeline(&self, message_row: Uuid) -> Result<Vec<TimelineStep>, StorageError> {
        let rows: Vec<(DateTime<Utc>, String, String)> = self
            .fetch_all(
                Query::new(
                    "SELECT at, status, beskrivelse FROM dpi_status
                     WHERE message_row = $1 ORDER BY id",
                )
                .bind(message_row),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(at, status, description)| TimelineStep {
                at,
                status,
                description,
            })
            .collect())
    }

    async fn downloads(
        &self,
        message_row: Uuid,
    ) -> Result<Vec<(DateTime<Utc>, Download)>, StorageError> {
        let rows: Vec<(DateTime<Utc>, String)> = self
            .fetch_all(
                Query::new("SELECT at, what FROM print_access WHERE message_row = $1 ORDER BY id")
                    .bind(message_row),
            )
            .await?;
        rows.into_iter()
            .map(|(at, what)| {
                let what = match what.as_str() {
                    "letter" => Download::Letter,
                    "batch" => Download::Batch,
                    _ => return Err(StorageError::corrupt("download kind")),
                };
                Ok((at, what))
            })
            .collect()
    }

    async fn record_download(
        &self,
        message_rows: &[Uuid],
        what: Download,
        at: DateTime<Utc>,
    ) -> Result<Vec<Fnr>, StorageError> {
        let mut transaction = self.begin_write().await?;
        insert_rows(
            &mut transaction,
            "INSERT INTO print_access (message_row, what, at)",
            message_rows
                .iter()
                .map(|row| {
                    vec![
                        Value::from(*row),
                        Value::from(what.as_str()),
                        Value::from(at),
                    ]
                })
                .collect(),
            "",
        )
        .await?;
        let mut recipients = Vec::new();
        for row in message_rows {
            let recipient: Option<(Option<String>,)> = transaction
                .fetch_optional(
                    Query::new("SELECT recipient_fnr FROM print_job WHERE message_row = $1")
                        .bind(*row),
                )
                .await?;
            if let Some((Some(fnr),)) = recipient {
                let fnr = Fnr::parse(&fnr, app::domain::SyntheticIds::Accepted)
                    .map_err(|_| StorageError::corrupt("national id"))?;
                if !recipients.contains(&fnr) {
                    recipients.push(fnr);
                }
            }
        }
        transaction.commit().await?;
        Ok(recipients)
    }

    async fn resend_batch(&self, batch: Uuid, at: DateTime<Utc>) -> Result<bool, StorageError> {
        let updated = self
            .execute(
                Query::new(
                    "UPDATE print_batch
                     SET delivered_at = NULL, next_attempt_at = $2, last_error = NULL
                     WHERE id = $1",
                )
                .bind(batch)
                .bind(at),
            )
            .await?;
        Ok(updated == 1)
    }

    async fn letters_per_day(&self, since: DateTime<Utc>) -> Result<Vec<ChannelDay>, StorageError> {
        // Days in UTC, written the same way by both backends.
        let day = match self.backend() {
            super::Backend::Sqlite => "substr(received_at, 1, 10)",
            super::Backend::Postgres => "to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        };
        let rows: Vec<(String, String, i64)> = self
            .fetch_all(
                Query::new(format!(
                    "SELECT {day} AS day, channel, COUNT(*) FROM dpi_message
                     WHERE received_at >= $1
                     GROUP BY day, channel ORDER BY day, channel"
                ))
                .bind(since),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(day, channel, letters)| ChannelDay {
                day,
                channel,
                letters: super::count(letters),
            })
            .collect())
    }

    async fn unread_prints_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<UnreadDue>, StorageError> {
        let rows: Vec<UnreadDueRow> = self
            .fetch_all(
                Query::new(
                    // Opened as notices and opening receipts count it: the
                    // citizen viewed the letter (its access log has an entry).
                    "SELECT u.message_row, u.letter_id, l.recipient_fnr,
                         EXISTS (SELECT 1 FROM letter_access a
                             WHERE a.letter_id = l.id AND a.owner_fnr = l.recipient_fnr)
                             AS opened,
                         u.colour, u.post_class, s.name AS sender_name, l.title
                     FROM print_if_unread u
                     JOIN letter l ON l.id = u.letter_id
                     JOIN sender s ON s.org_nr = l.sender_org_nr
                     WHERE u.state = 'pending' AND u.deadline <= $1
                     ORDER BY u.deadline, u.message_row
                     LIMIT $2",
                )
                .bind(now)
                .bind(limit as i64),
            )
            .await?;
        let mut due = Vec::with_capacity(rows.len());
        for row in rows {
            let documents: Vec<(String,)> = self
                .fetch_all(
                    Query::new(
                        "SELECT sha256 FROM document WHERE letter_id = $1 ORDER BY position",
                    )
                    .bind(row.letter_id),
                )
                .await?;
            let kind = batch_kind(&row.post_class, &row.colour, "C5")?;
            due.push(UnreadDue {
                message_row: row.message_row,
                owner: Fnr::parse(&row.recipient_fnr, app::domain::SyntheticIds::Accepted)
                    .map_err(|_| StorageError::corrupt("national id"))?,
                opened: row.opened,
                colour: kind.colour,
                post_class: kind.post_class,
                sender_name: row.sender_name,
                title: row.title,
                documents: documents
                    .iter()
                    .map(|(hex,)| digest(hex))
                    .collect::<Result<_, _>>()?,
            });
        }
        Ok(due)
    }

    async fn settle_unread_print(
        &self,
        message_row: Uuid,
        outcome: &UnreadOutcome,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let (state, failed, description) = match outcome {
            UnreadOutcome::Opened => (
                "opened",
                false,
                "åpnet før fristen; skrives ikke ut".to_owned(),
            ),
            UnreadOutcome::Printed(_) => (
                "printed",
                false,
                "ikke åpnet innen fristen; lagt i utskriftskøen".to_owned(),
            ),
            UnreadOutcome::Failed { reason, .. } => (
                "failed",
                true,
                format!("ikke åpnet innen fristen, men kan ikke skrives ut: {reason}"),
            ),
        };
        let mut transaction = self.begin_write().await?;
        let settled = transaction
            .execute(
                Query::new(
                    "UPDATE print_if_unread SET state = $2, settled_at = $3
                     WHERE message_row = $1 AND state = 'pending'",
                )
                .bind(message_row)
                .bind(state)
                .bind(at),
            )
            .await?;
        if settled == 0 {
            return Ok(false);
        }
        insert_rows(
            &mut transaction,
            INSERT_STATUS,
            status_rows([message_row], failed, &description, at),
            "",
        )
        .await?;
        match outcome {
            UnreadOutcome::Opened => {}
            UnreadOutcome::Printed(job) => {
                insert_rows(
                    &mut transaction,
                    INSERT_PRINT_JOB,
                    vec![print_job_values(message_row, job, at)?],
                    "",
                )
                .await?;
            }
            UnreadOutcome::Failed { receipt, .. } => {
                queue_sender_receipt(&mut transaction, message_row, receipt, at).await?;
            }
        }
        transaction.commit().await?;
        Ok(true)
    }
}
