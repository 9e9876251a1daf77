//! The broker's part of the storage boundary: messages agencies send with
//! their routing decisions, transport statuses, receipt queues, the outbox,
//! the print queue and postal addresses.
//!
//! [`BrokerStorage::commit_messages`] writes a whole group of messages, each
//! with everything it causes, in one transaction: group commit is what lets
//! many letters share one fsync without acknowledging any before it is
//! durable. One body of SQL serves SQLite and PostgreSQL via
//! [`impl_sql_broker!`].

use super::StorageError;
use crate::{
    broker::routing::Process,
    print::{PostalAddress, PrintOrder},
};
use anyhow::anyhow;
use app::domain::{ConversationId, Fnr, Letter, LetterId, MessageId, OrgNr, Sha256Digest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// DPI's transport statuses (`GET /messages/out/{id}/statuses`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum TransportStatus {
    #[serde(rename = "OPPRETTET")]
    Created,
    #[serde(rename = "SENDT")]
    Sent,
    #[serde(rename = "FEILET")]
    Failed,
}

impl TransportStatus {
    pub fn code(self) -> &'static str {
        match self {
            TransportStatus::Created => "OPPRETTET",
            TransportStatus::Sent => "SENDT",
            TransportStatus::Failed => "FEILET",
        }
    }

    fn parse(code: &str) -> Option<TransportStatus> {
        [Self::Created, Self::Sent, Self::Failed]
            .into_iter()
            .find(|status| status.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatusEntry {
    pub status: TransportStatus,
    pub beskrivelse: String,
    pub timestamp: DateTime<Utc>,
}

/// A receipt for the agency, as a finished business document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReceipt {
    pub id: Uuid,
    /// `leveringskvittering`, `feil`, ...
    pub kind: &'static str,
    pub document: String,
    pub created_at: DateTime<Utc>,
}

/// What the mailbox keeps from the business message beside the letter itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LetterTerms {
    pub effective_at: Option<DateTime<Utc>>,
    pub opening_receipt: bool,
    pub language: Option<String>,
}

/// Where the message went, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredChannel {
    Mailbox(Box<(Letter, LetterTerms)>),
    Provider(OrgNr),
    Print(Box<PrintOrder>),
    Refused,
}

/// A message accepted from an agency with everything it causes, to be
/// committed together.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub row_id: Uuid,
    pub agency: OrgNr,
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub kanal: String,
    pub avsenderidentifikator: String,
    pub process: Process,
    pub content_sha256: String,
    pub document: String,
    pub package: Sha256Digest,
    pub channel: StoredChannel,
    pub reason: String,
    pub received_at: DateTime<Utc>,
    pub statuses: Vec<StatusEntry>,
    pub receipts: Vec<NewReceipt>,
    /// Whether each receipt is also pushed to the agency's callback.
    pub push_receipts: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    Stored,
    /// A message with this agency and message id was already stored.
    Duplicate,
}

/// A message as stored, for answering resends and for later work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub row_id: Uuid,
    pub agency: OrgNr,
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub kanal: String,
    pub avsenderidentifikator: String,
    pub process: Process,
    pub content_sha256: String,
    pub document: String,
    pub package: Sha256Digest,
    pub channel: String,
    pub provider: Option<OrgNr>,
    pub reason: String,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReceipt {
    pub id: Uuid,
    pub kind: String,
    pub document: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxKind {
    Forward,
    Callback,
}

/// A claimed piece of outbox work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxJob {
    pub id: Uuid,
    pub kind: OutboxKind,
    pub message_row: Uuid,
    pub receipt_id: Option<Uuid>,
    /// Including this one.
    pub attempts: u32,
}

/// How a job ended, with what it causes.
#[derive(Debug, Clone)]
pub enum JobOutcome {
    Delivered {
        status: Option<StatusEntry>,
        receipts: Vec<NewReceipt>,
    },
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    Failed {
        error: String,
        status: Option<StatusEntry>,
        receipts: Vec<NewReceipt>,
    },
}

/// The sender's `aapningskvittering` for one letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpeningReceiptState {
    NotAsked,
    /// Asked for; the citizen has not agreed yet, so the letter stays closed.
    Pending,
    Sent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintJob {
    pub message_row: Uuid,
    pub message_id: MessageId,
    pub agency: OrgNr,
    pub order: PrintOrder,
    pub package: Sha256Digest,
    pub created_at: DateTime<Utc>,
    pub printed_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait BrokerStorage: Send + Sync + 'static {
    /// Stores each message with its letter or print job, statuses, receipts
    /// and outbox work, all in one transaction; returns only once committed.
    /// A message whose agency and message id are already stored is skipped
    /// and reported as [`CommitOutcome::Duplicate`].
    async fn commit_messages(
        &self,
        messages: &[NewMessage],
    ) -> Result<Vec<CommitOutcome>, StorageError>;

    async fn message(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
    ) -> Result<Option<StoredMessage>, StorageError>;

    async fn message_by_row(&self, row_id: Uuid) -> Result<Option<StoredMessage>, StorageError>;

    /// The message's statuses, oldest first; `None` when the agency sent no such message.
    async fn message_statuses(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
    ) -> Result<Option<Vec<StatusEntry>>, StorageError>;

    /// Unacknowledged receipts for the agency on `kanal`, oldest first.
    async fn unread_receipts(
        &self,
        agency: &OrgNr,
        kanal: &str,
        avsenderidentifikator: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<StoredReceipt>, StorageError>;

    async fn receipt_document(&self, id: Uuid) -> Result<Option<StoredReceipt>, StorageError>;

    /// Acknowledges one of the agency's receipts; false when it has none with this id.
    async fn mark_receipt_read(
        &self,
        agency: &OrgNr,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// Takes the oldest due job nobody holds, holding it until `lease_until`.
    async fn claim_outbox_job(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<OutboxJob>, StorageError>;

    /// Records how a job ended, with its statuses and receipts, in one transaction.
    async fn finish_outbox_job(
        &self,
        job: &OutboxJob,
        outcome: &JobOutcome,
        push_receipts: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Jobs not yet done, for tests and operators.
    async fn pending_outbox_jobs(&self) -> Result<u64, StorageError>;

    async fn postal_address(&self, fnr: &Fnr) -> Result<Option<PostalAddress>, StorageError>;

    async fn set_postal_address(
        &self,
        fnr: &Fnr,
        address: &PostalAddress,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    async fn print_jobs(&self, include_printed: bool) -> Result<Vec<PrintJob>, StorageError>;

    /// Whether the sender of the owner's letter asked for an opening receipt,
    /// and whether it has been sent; `None` when the owner has no such letter.
    async fn opening_receipt_state(
        &self,
        owner: &Fnr,
        letter: LetterId,
    ) -> Result<Option<OpeningReceiptState>, StorageError>;

    /// The message the owner's letter came in.
    async fn message_for_letter(
        &self,
        owner: &Fnr,
        letter: LetterId,
    ) -> Result<Option<StoredMessage>, StorageError>;

    /// Notes that the owner agreed to the opening receipt and queues it, in
    /// one transaction; false (and nothing queued) when it was asked for
    /// and already sent, or not asked for.
    async fn record_opening_receipt(
        &self,
        owner: &Fnr,
        letter: LetterId,
        receipt: &NewReceipt,
        push_receipt: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// Marks a print job posted and queues the receipts it causes; false when
    /// there is no such unprinted job.
    async fn mark_printed(
        &self,
        message_row: Uuid,
        receipts: &[NewReceipt],
        push_receipts: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
}

fn corrupt(what: &str) -> StorageError {
    StorageError::Other(anyhow!("stored {what} does not parse"))
}

#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    id: Uuid,
    agency_org_nr: String,
    message_id: Uuid,
    conversation_id: Uuid,
    kanal: String,
    avsenderidentifikator: String,
    process: String,
    content_sha256: String,
    document: String,
    package_sha256: String,
    channel: String,
    provider_org_nr: Option<String>,
    reason: String,
    received_at: DateTime<Utc>,
}

pub(super) const MESSAGE_COLUMNS: &str = "id, agency_org_nr, message_id, conversation_id, kanal,
    avsenderidentifikator, process, content_sha256, document, package_sha256, channel,
    provider_org_nr, reason, received_at";

impl MessageRow {
    pub(super) fn into_message(self) -> Result<StoredMessage, StorageError> {
        Ok(StoredMessage {
            row_id: self.id,
            agency: OrgNr::parse(&self.agency_org_nr).map_err(|_| corrupt("org number"))?,
            message_id: MessageId::from_uuid(self.message_id),
            conversation_id: ConversationId::from_uuid(self.conversation_id),
            kanal: self.kanal,
            avsenderidentifikator: self.avsenderidentifikator,
            process: Process::parse(&self.process).ok_or_else(|| corrupt("process"))?,
            content_sha256: self.content_sha256,
            document: self.document,
            package: Sha256Digest::from_hex(&self.package_sha256)
                .ok_or_else(|| corrupt("digest"))?,
            channel: self.channel,
            provider: self
                .provider_org_nr
                .map(|org_nr| OrgNr::parse(&org_nr).map_err(|_| corrupt("org number")))
                .transpose()?,
            reason: self.reason,
            received_at: self.received_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct StatusRow {
    status: String,
    beskrivelse: String,
    at: DateTime<Utc>,
}

impl StatusRow {
    pub(super) fn into_entry(self) -> Result<StatusEntry, StorageError> {
        Ok(StatusEntry {
            status: TransportStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            beskrivelse: self.beskrivelse,
            timestamp: self.at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ReceiptRow {
    id: Uuid,
    kind: String,
    document: String,
    created_at: DateTime<Utc>,
}

impl From<ReceiptRow> for StoredReceipt {
    fn from(row: ReceiptRow) -> Self {
        StoredReceipt {
            id: row.id,
            kind: row.kind,
            document: row.document,
            created_at: row.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct OutboxRow {
    id: Uuid,
    kind: String,
    message_row: Uuid,
    receipt_id: Option<Uuid>,
    attempts: i32,
}

impl OutboxRow {
    pub(super) fn into_job(self) -> Result<OutboxJob, StorageError> {
        Ok(OutboxJob {
            id: self.id,
            kind: match self.kind.as_str() {
                "forward" => OutboxKind::Forward,
                "callback" => OutboxKind::Callback,
                _ => return Err(corrupt("outbox kind")),
            },
            message_row: self.message_row,
            receipt_id: self.receipt_id,
            attempts: u32::try_from(self.attempts).map_err(|_| corrupt("attempts"))?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PrintJobRow {
    message_row: Uuid,
    message_id: Uuid,
    agency_org_nr: String,
    print_order: String,
    package_sha256: String,
    created_at: DateTime<Utc>,
    printed_at: Option<DateTime<Utc>>,
}

impl PrintJobRow {
    pub(super) fn into_job(self) -> Result<PrintJob, StorageError> {
        Ok(PrintJob {
            message_row: self.message_row,
            message_id: MessageId::from_uuid(self.message_id),
            agency: OrgNr::parse(&self.agency_org_nr).map_err(|_| corrupt("org number"))?,
            order: serde_json::from_str(&self.print_order).map_err(|_| corrupt("print order"))?,
            package: Sha256Digest::from_hex(&self.package_sha256)
                .ok_or_else(|| corrupt("digest"))?,
            created_at: self.created_at,
            printed_at: self.printed_at,
        })
    }
}

pub(super) fn address_from_json(text: &str) -> Result<PostalAddress, StorageError> {
    serde_json::from_str(text).map_err(|_| corrupt("postal address"))
}

pub(super) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|error| StorageError::Other(error.into()))
}

/// Queues receipts (and, when the agency has a callback, a push job for
/// each) for the message in `$message_row`, inside `$transaction`.
macro_rules! queue_receipts {
    ($transaction:expr, $message_row:expr, $receipts:expr, $push:expr, $now:expr) => {{
        for receipt in $receipts {
            sqlx::query(
                "INSERT INTO receipt (id, message_row, agency_org_nr, kanal,
                     avsenderidentifikator, kind, document, created_at)
                 SELECT $1, m.id, m.agency_org_nr, m.kanal, m.avsenderidentifikator, $3, $4, $5
                 FROM dpi_message m WHERE m.id = $2",
            )
            .bind(receipt.id)
            .bind($message_row)
            .bind(receipt.kind)
            .bind(&receipt.document)
            .bind(receipt.created_at)
            .execute(&mut *$transaction)
            .await?;
            if $push {
                sqlx::query(
                    "INSERT INTO outbox (id, kind, message_row, receipt_id, next_attempt_at,
                         created_at)
                     VALUES ($1, 'callback', $2, $3, $4, $4)",
                )
                .bind(uuid::Uuid::new_v4())
                .bind($message_row)
                .bind(receipt.id)
                .bind($now)
                .execute(&mut *$transaction)
                .await?;
            }
        }
    }};
}

macro_rules! insert_statuses {
    ($transaction:expr, $message_row:expr, $statuses:expr) => {{
        for status in $statuses {
            sqlx::query(
                "INSERT INTO dpi_status (message_row, status, beskrivelse, at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind($message_row)
            .bind(status.status.code())
            .bind(&status.beskrivelse)
            .bind(status.timestamp)
            .execute(&mut *$transaction)
            .await?;
        }
    }};
}

pub(super) use insert_statuses;
pub(super) use queue_receipts;

/// Implements [`BrokerStorage`] for a type with a sqlx `pool` field.
macro_rules! impl_sql_broker {
    ($storage:ty) => {
        #[async_trait::async_trait]
        impl $crate::storage::broker::BrokerStorage for $storage {
            async fn commit_messages(
                &self,
                messages: &[$crate::storage::broker::NewMessage],
            ) -> Result<Vec<$crate::storage::broker::CommitOutcome>, $crate::storage::StorageError> {
                use $crate::storage::broker::{to_json, CommitOutcome, StoredChannel};
                // It reads (resends) before it writes: take the write lock first.
                let mut transaction = self.begin_write().await?;
                let mut outcomes = Vec::with_capacity(messages.len());
                for message in messages {
                    let (channel_code, provider, letter_id) = match &message.channel {
                        StoredChannel::Mailbox(delivery) => ("postkasse", None, Some(delivery.0.id.as_uuid())),
                        StoredChannel::Provider(org_nr) => ("leverandoer", Some(org_nr.as_str()), None),
                        StoredChannel::Print(_) => ("utskrift", None, None),
                        StoredChannel::Refused => ("feil", None, None),
                    };
                    if let StoredChannel::Mailbox(delivery) = &message.channel {
                        // The letter first: the message row refers to it. A
                        // resend is caught below, before anything else is written,
                        // so a duplicate letter must not fail the whole group.
                        let exists: Option<(uuid::Uuid,)> = sqlx::query_as(
                            "SELECT id FROM dpi_message WHERE agency_org_nr = $1 AND message_id = $2",
                        )
                        .bind(message.agency.as_str())
                        .bind(message.message_id.as_uuid())
                        .fetch_optional(&mut *transaction)
                        .await?;
                        if exists.is_some() {
                            outcomes.push(CommitOutcome::Duplicate);
                            continue;
                        }
                        $crate::storage::sql::insert_letter_rows!(transaction, &delivery.0, &delivery.1);
                    }
                    let inserted = sqlx::query(
                        "INSERT INTO dpi_message (id, agency_org_nr, message_id, conversation_id,
                             kanal, avsenderidentifikator, process, content_sha256, document,
                             package_sha256, channel, provider_org_nr, reason, letter_id,
                             received_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                         ON CONFLICT (agency_org_nr, message_id) DO NOTHING",
                    )
                    .bind(message.row_id)
                    .bind(message.agency.as_str())
                    .bind(message.message_id.as_uuid())
                    .bind(message.conversation_id.as_uuid())
                    .bind(&message.kanal)
                    .bind(&message.avsenderidentifikator)
                    .bind(message.process.code())
                    .bind(&message.content_sha256)
                    .bind(&message.document)
                    .bind(message.package.to_hex())
                    .bind(channel_code)
                    .bind(provider)
                    .bind(&message.reason)
                    .bind(letter_id)
                    .bind(message.received_at)
                    .execute(&mut *transaction)
                    .await?;
                    if inserted.rows_affected() == 0 {
                        outcomes.push(CommitOutcome::Duplicate);
                        continue;
                    }
                    $crate::storage::broker::insert_statuses!(transaction, message.row_id, &message.statuses);
                    $crate::storage::broker::queue_receipts!(
                        transaction,
                        message.row_id,
                        &message.receipts,
                        message.push_receipts,
                        message.received_at
                    );
                    match &message.channel {
                        StoredChannel::Provider(_) => {
                            sqlx::query(
                                "INSERT INTO outbox (id, kind, message_row, next_attempt_at, created_at)
                                 VALUES ($1, 'forward', $2, $3, $3)",
                            )
                            .bind(uuid::Uuid::new_v4())
                            .bind(message.row_id)
                            .bind(message.received_at)
                            .execute(&mut *transaction)
                            .await?;
                        }
                        StoredChannel::Print(order) => {
                            sqlx::query(
                                "INSERT INTO print_job (message_row, print_order, created_at)
                                 VALUES ($1, $2, $3)",
                            )
                            .bind(message.row_id)
                            .bind(to_json(order.as_ref())?)
                            .bind(message.received_at)
                            .execute(&mut *transaction)
                            .await?;
                        }
                        StoredChannel::Mailbox(_) | StoredChannel::Refused => {}
                    }
                    outcomes.push(CommitOutcome::Stored);
                }
                transaction.commit().await?;
                Ok(outcomes)
            }

            async fn message(
                &self,
                agency: &app::domain::OrgNr,
                message_id: app::domain::MessageId,
            ) -> Result<Option<$crate::storage::broker::StoredMessage>, $crate::storage::StorageError> {
                use $crate::storage::broker::{MessageRow, MESSAGE_COLUMNS};
                let row: Option<MessageRow> = sqlx::query_as(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM dpi_message
                     WHERE agency_org_nr = $1 AND message_id = $2"
                ))
                .bind(agency.as_str())
                .bind(message_id.as_uuid())
                .fetch_optional(&self.pool)
                .await?;
                row.map(MessageRow::into_message).transpose()
            }

            async fn message_by_row(
                &self,
                row_id: uuid::Uuid,
            ) -> Result<Option<$crate::storage::broker::StoredMessage>, $crate::storage::StorageError> {
                use $crate::storage::broker::{MessageRow, MESSAGE_COLUMNS};
                let row: Option<MessageRow> =
                    sqlx::query_as(&format!("SELECT {MESSAGE_COLUMNS} FROM dpi_message WHERE id = $1"))
                        .bind(row_id)
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(MessageRow::into_message).transpose()
            }

            async fn message_statuses(
                &self,
                agency: &app::domain::OrgNr,
                message_id: app::domain::MessageId,
            ) -> Result<Option<Vec<$crate::storage::broker::StatusEntry>>, $crate::storage::StorageError> {
                let message: Option<(uuid::Uuid,)> = sqlx::query_as(
                    "SELECT id FROM dpi_message WHERE agency_org_nr = $1 AND message_id = $2",
                )
                .bind(agency.as_str())
                .bind(message_id.as_uuid())
                .fetch_optional(&self.pool)
                .await?;
                let Some((row_id,)) = message else {
                    return Ok(None);
                };
                let rows: Vec<$crate::storage::broker::StatusRow> = sqlx::query_as(
                    "SELECT status, beskrivelse, at FROM dpi_status WHERE message_row = $1 ORDER BY id",
                )
                .bind(row_id)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map($crate::storage::broker::StatusRow::into_entry)
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
            }

            async fn unread_receipts(
                &self,
                agency: &app::domain::OrgNr,
                kanal: &str,
                avsenderidentifikator: Option<&str>,
                offset: u32,
                limit: u32,
            ) -> Result<Vec<$crate::storage::broker::StoredReceipt>, $crate::storage::StorageError> {
                let rows: Vec<$crate::storage::broker::ReceiptRow> = sqlx::query_as(
                    "SELECT id, kind, document, created_at FROM receipt
                     WHERE agency_org_nr = $1 AND kanal = $2 AND read_at IS NULL
                       AND ($3 IS NULL OR avsenderidentifikator = $3)
                     ORDER BY created_at, id
                     LIMIT $4 OFFSET $5",
                )
                .bind(agency.as_str())
                .bind(kanal)
                .bind(avsenderidentifikator)
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn receipt_document(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<$crate::storage::broker::StoredReceipt>, $crate::storage::StorageError> {
                let row: Option<$crate::storage::broker::ReceiptRow> = sqlx::query_as(
                    "SELECT id, kind, document, created_at FROM receipt WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn mark_receipt_read(
                &self,
                agency: &app::domain::OrgNr,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<bool, $crate::storage::StorageError> {
                let updated = sqlx::query(
                    "UPDATE receipt SET read_at = COALESCE(read_at, $3)
                     WHERE id = $1 AND agency_org_nr = $2",
                )
                .bind(id)
                .bind(agency.as_str())
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(updated.rows_affected() == 1)
            }

            async fn claim_outbox_job(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                lease_until: chrono::DateTime<chrono::Utc>,
            ) -> Result<Option<$crate::storage::broker::OutboxJob>, $crate::storage::StorageError> {
                // The lease check is repeated in the UPDATE so two workers
                // racing for the same row cannot both win it.
                let row: Option<$crate::storage::broker::OutboxRow> = sqlx::query_as(
                    "UPDATE outbox SET leased_until = $2, attempts = attempts + 1
                     WHERE id = (
                         SELECT id FROM outbox
                         WHERE done_at IS NULL AND next_attempt_at <= $1
                           AND (leased_until IS NULL OR leased_until <= $1)
                         ORDER BY next_attempt_at LIMIT 1
                     ) AND done_at IS NULL AND (leased_until IS NULL OR leased_until <= $1)
                     RETURNING id, kind, message_row, receipt_id, attempts",
                )
                .bind(now)
                .bind(lease_until)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::storage::broker::OutboxRow::into_job).transpose()
            }

            async fn finish_outbox_job(
                &self,
                job: &$crate::storage::broker::OutboxJob,
                outcome: &$crate::storage::broker::JobOutcome,
                push_receipts: bool,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::storage::StorageError> {
                use $crate::storage::broker::JobOutcome;
                let mut transaction = self.pool.begin().await?;
                let (status, receipts) = match outcome {
                    JobOutcome::Retry { at, error } => {
                        sqlx::query(
                            "UPDATE outbox SET next_attempt_at = $2, leased_until = NULL,
                                 last_error = $3
                             WHERE id = $1",
                        )
                        .bind(job.id)
                        .bind(at)
                        .bind(error)
                        .execute(&mut *transaction)
                        .await?;
                        (None, &[][..])
                    }
                    JobOutcome::Delivered { status, receipts } => {
                        sqlx::query(
                            "UPDATE outbox SET done_at = $2, outcome = 'delivered',
                                 leased_until = NULL
                             WHERE id = $1",
                        )
                        .bind(job.id)
                        .bind(now)
                        .execute(&mut *transaction)
                        .await?;
                        (status.as_ref(), &receipts[..])
                    }
                    JobOutcome::Failed { error, status, receipts } => {
                        sqlx::query(
                            "UPDATE outbox SET done_at = $2, outcome = 'failed',
                                 leased_until = NULL, last_error = $3
                             WHERE id = $1",
                        )
                        .bind(job.id)
                        .bind(now)
                        .bind(error)
                        .execute(&mut *transaction)
                        .await?;
                        (status.as_ref(), &receipts[..])
                    }
                };
                $crate::storage::broker::insert_statuses!(transaction, job.message_row, status.as_slice());
                $crate::storage::broker::queue_receipts!(
                    transaction,
                    job.message_row,
                    receipts,
                    push_receipts,
                    now
                );
                transaction.commit().await?;
                Ok(())
            }

            async fn pending_outbox_jobs(&self) -> Result<u64, $crate::storage::StorageError> {
                let (count,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE done_at IS NULL")
                        .fetch_one(&self.pool)
                        .await?;
                Ok($crate::storage::sql::count(count))
            }

            async fn postal_address(
                &self,
                fnr: &app::domain::Fnr,
            ) -> Result<Option<$crate::print::PostalAddress>, $crate::storage::StorageError> {
                let row: Option<(String,)> =
                    sqlx::query_as("SELECT address FROM postal_address WHERE fnr = $1")
                        .bind(fnr.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(|(text,)| $crate::storage::broker::address_from_json(&text))
                    .transpose()
            }

            async fn set_postal_address(
                &self,
                fnr: &app::domain::Fnr,
                address: &$crate::print::PostalAddress,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::storage::StorageError> {
                sqlx::query(
                    "INSERT INTO postal_address (fnr, address, updated_at) VALUES ($1, $2, $3)
                     ON CONFLICT (fnr) DO UPDATE
                     SET address = excluded.address, updated_at = excluded.updated_at",
                )
                .bind(fnr.as_str())
                .bind($crate::storage::broker::to_json(address)?)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn print_jobs(
                &self,
                include_printed: bool,
            ) -> Result<Vec<$crate::storage::broker::PrintJob>, $crate::storage::StorageError> {
                let rows: Vec<$crate::storage::broker::PrintJobRow> = sqlx::query_as(
                    "SELECT p.message_row, m.message_id, m.agency_org_nr, p.print_order,
                         m.package_sha256, p.created_at, p.printed_at
                     FROM print_job p JOIN dpi_message m ON m.id = p.message_row
                     WHERE $1 OR p.printed_at IS NULL
                     ORDER BY p.created_at, p.message_row",
                )
                .bind(include_printed)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map($crate::storage::broker::PrintJobRow::into_job)
                    .collect()
            }

            async fn mark_printed(
                &self,
                message_row: uuid::Uuid,
                receipts: &[$crate::storage::broker::NewReceipt],
                push_receipts: bool,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<bool, $crate::storage::StorageError> {
                let mut transaction = self.pool.begin().await?;
                let updated = sqlx::query(
                    "UPDATE print_job SET printed_at = $2
                     WHERE message_row = $1 AND printed_at IS NULL",
                )
                .bind(message_row)
                .bind(at)
                .execute(&mut *transaction)
                .await?;
                if updated.rows_affected() == 0 {
                    return Ok(false);
                }
                $crate::storage::broker::queue_receipts!(
                    transaction,
                    message_row,
                    receipts,
                    push_receipts,
                    at
                );
                transaction.commit().await?;
                Ok(true)
            }

            async fn opening_receipt_state(
                &self,
                owner: &app::domain::Fnr,
                letter: app::domain::LetterId,
            ) -> Result<Option<$crate::storage::broker::OpeningReceiptState>, $crate::storage::StorageError> {
                use $crate::storage::broker::OpeningReceiptState;
                let row: Option<(bool, Option<chrono::DateTime<chrono::Utc>>)> = sqlx::query_as(
                    "SELECT opening_receipt, opening_receipt_sent_at FROM letter
                     WHERE id = $1 AND recipient_fnr = $2",
                )
                .bind(letter.as_uuid())
                .bind(owner.as_str())
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(asked, sent_at)| match (asked, sent_at) {
                    (false, _) => OpeningReceiptState::NotAsked,
                    (true, None) => OpeningReceiptState::Pending,
                    (true, Some(_)) => OpeningReceiptState::Sent,
                }))
            }

            async fn message_for_letter(
                &self,
                owner: &app::domain::Fnr,
                letter: app::domain::LetterId,
            ) -> Result<Option<$crate::storage::broker::StoredMessage>, $crate::storage::StorageError> {
                use $crate::storage::broker::{MessageRow, MESSAGE_COLUMNS};
                let row: Option<MessageRow> = sqlx::query_as(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM dpi_message
                     WHERE letter_id = (SELECT id FROM letter WHERE id = $1 AND recipient_fnr = $2)"
                ))
                .bind(letter.as_uuid())
                .bind(owner.as_str())
                .fetch_optional(&self.pool)
                .await?;
                row.map(MessageRow::into_message).transpose()
            }

            async fn record_opening_receipt(
                &self,
                owner: &app::domain::Fnr,
                letter: app::domain::LetterId,
                receipt: &$crate::storage::broker::NewReceipt,
                push_receipt: bool,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<bool, $crate::storage::StorageError> {
                let mut transaction = self.pool.begin().await?;
                // The guard makes this happen once, however often it is asked.
                let updated = sqlx::query(
                    "UPDATE letter SET opening_receipt_sent_at = $3
                     WHERE id = $1 AND recipient_fnr = $2
                       AND opening_receipt AND opening_receipt_sent_at IS NULL",
                )
                .bind(letter.as_uuid())
                .bind(owner.as_str())
                .bind(at)
                .execute(&mut *transaction)
                .await?;
                if updated.rows_affected() == 0 {
                    return Ok(false);
                }
                let message: (uuid::Uuid,) =
                    sqlx::query_as("SELECT id FROM dpi_message WHERE letter_id = $1")
                        .bind(letter.as_uuid())
                        .fetch_one(&mut *transaction)
                        .await?;
                $crate::storage::broker::queue_receipts!(
                    transaction,
                    message.0,
                    std::slice::from_ref(receipt),
                    push_receipt,
                    at
                );
                transaction.commit().await?;
                Ok(true)
            }
        }
    };
}

pub(super) use impl_sql_broker;
