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
    /// Blobs (the package, a letter's documents) small enough to be stored
    /// by this commit itself; see [`crate::storage::blobs::TieredBlobs`].
    pub inline_blobs: Vec<(Sha256Digest, bytes::Bytes)>,
    /// The notices a mailbox letter gets, scheduled in the same commit.
    pub notices: Vec<crate::notify::NewNotice>,
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

    /// A blob stored inline by a message's commit.
    async fn inline_blob(&self, digest: &Sha256Digest) -> Result<Option<Vec<u8>>, StorageError>;
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

/// A group's messages sorted into what the commit writes: which are resends
/// (stored before, or earlier in the same group) and, for the rest, the rows
/// of each table, so that each table gets one multi-row `INSERT` per group
/// instead of one per message. One round trip per table rather than per row
/// is what lets a group of 256 letters commit in a few milliseconds, most of
/// all on PostgreSQL.
pub(super) struct GroupRows<'a> {
    pub outcomes: Vec<CommitOutcome>,
    pub letters: LetterRows<'a>,
    pub messages: Vec<StoredRow<'a>>,
    /// Each digest once.
    pub inline_blobs: Vec<(String, &'a [u8])>,
    pub statuses: Vec<(Uuid, &'a StatusEntry)>,
    pub receipts: Vec<(&'a NewMessage, &'a NewReceipt)>,
    /// Work for the outbox workers: `(kind, message row, receipt, at)`.
    pub outbox: Vec<(&'static str, Uuid, Option<Uuid>, DateTime<Utc>)>,
    pub print_jobs: Vec<(Uuid, String, DateTime<Utc>)>,
    /// A mailbox letter's notices: `(letter, message row, recipient, notice, at)`.
    pub notices: Vec<(
        Uuid,
        Uuid,
        &'a str,
        &'a crate::notify::NewNotice,
        DateTime<Utc>,
    )>,
}

/// Letters for mailboxes here, with the rows they need beside them, written
/// by [`crate::storage::sql::insert_letter_rows!`].
#[derive(Default)]
pub(super) struct LetterRows<'a> {
    /// Each recipient once; the letter rows need their mailbox.
    pub citizens: Vec<(&'a str, DateTime<Utc>)>,
    /// Each sender once, with the newest name.
    pub senders: Vec<(&'a str, &'a str)>,
    pub letters: Vec<(&'a Letter, &'a LetterTerms)>,
    /// `(letter, position, size in bytes, document)`.
    pub documents: Vec<(Uuid, i32, i64, &'a app::domain::Document)>,
}

impl<'a> LetterRows<'a> {
    pub fn add(&mut self, letter: &'a Letter, terms: &'a LetterTerms) -> Result<(), StorageError> {
        let recipient = letter.recipient.as_str();
        if !self.citizens.iter().any(|known| known.0 == recipient) {
            self.citizens.push((recipient, letter.received_at));
        }
        let sender = (letter.sender.org_nr.as_str(), letter.sender.name.as_str());
        match self.senders.iter_mut().find(|known| known.0 == sender.0) {
            Some(known) => *known = sender,
            None => self.senders.push(sender),
        }
        for (position, document) in letter.documents.iter().enumerate() {
            let position = i32::try_from(position)
                .map_err(|_| StorageError::Other(anyhow!("too many documents")))?;
            let size_bytes = i64::try_from(document.size_bytes)
                .map_err(|_| StorageError::Other(anyhow!("document size out of range")))?;
            self.documents
                .push((letter.id.as_uuid(), position, size_bytes, document));
        }
        self.letters.push((letter, terms));
        Ok(())
    }
}

/// A new message with the channel columns its row gets.
pub(super) struct StoredRow<'a> {
    pub message: &'a NewMessage,
    pub channel: &'static str,
    pub provider: Option<&'a str>,
    pub letter_id: Option<Uuid>,
}

impl<'a> GroupRows<'a> {
    /// `stored` holds the `(agency, message id)` of the group's messages that
    /// are in the database already.
    pub fn plan(
        messages: &'a [NewMessage],
        stored: &std::collections::HashSet<(String, Uuid)>,
    ) -> Result<GroupRows<'a>, StorageError> {
        let mut rows = GroupRows {
            outcomes: Vec::with_capacity(messages.len()),
            letters: LetterRows::default(),
            messages: Vec::with_capacity(messages.len()),
            inline_blobs: Vec::new(),
            statuses: Vec::new(),
            receipts: Vec::new(),
            outbox: Vec::new(),
            print_jobs: Vec::new(),
            notices: Vec::new(),
        };
        let mut seen = std::collections::HashSet::new();
        let mut blobs = std::collections::HashSet::new();
        for message in messages {
            let key = (message.agency.as_str(), message.message_id.as_uuid());
            if stored.contains(&(key.0.to_owned(), key.1)) || !seen.insert(key) {
                rows.outcomes.push(CommitOutcome::Duplicate);
                continue;
            }
            rows.outcomes.push(CommitOutcome::Stored);
            let (channel, provider, letter_id) = match &message.channel {
                StoredChannel::Mailbox(delivery) => {
                    let (letter, terms) = delivery.as_ref();
                    rows.letters.add(letter, terms)?;
                    rows.notices.extend(message.notices.iter().map(|notice| {
                        (
                            letter.id.as_uuid(),
                            message.row_id,
                            letter.recipient.as_str(),
                            notice,
                            message.received_at,
                        )
                    }));
                    ("postkasse", None, Some(letter.id.as_uuid()))
                }
                StoredChannel::Provider(org_nr) => {
                    rows.outbox
                        .push(("forward", message.row_id, None, message.received_at));
                    ("leverandoer", Some(org_nr.as_str()), None)
                }
                StoredChannel::Print(order) => {
                    rows.print_jobs.push((
                        message.row_id,
                        to_json(order.as_ref())?,
                        message.received_at,
                    ));
                    ("utskrift", None, None)
                }
                StoredChannel::Refused => ("feil", None, None),
            };
            rows.messages.push(StoredRow {
                message,
                channel,
                provider,
                letter_id,
            });
            for (digest, bytes) in &message.inline_blobs {
                let name = digest.to_hex();
                if blobs.insert(name.clone()) {
                    rows.inline_blobs.push((name, bytes.as_ref()));
                }
            }
            rows.statuses.extend(
                message
                    .statuses
                    .iter()
                    .map(|status| (message.row_id, status)),
            );
            for receipt in &message.receipts {
                rows.receipts.push((message, receipt));
                if message.push_receipts {
                    rows.outbox.push((
                        "callback",
                        message.row_id,
                        Some(receipt.id),
                        message.received_at,
                    ));
                }
            }
        }
        Ok(rows)
    }
}

/// Runs `INSERT INTO <head> VALUES (...), (...) <tail>` over `$items`, in
/// chunks that keep within both databases' limit on bound parameters; each
/// item's values are pushed by `$push`. Nothing runs for no items. Evaluates
/// to the number of rows written.
macro_rules! insert_many {
    ($transaction:expr, $head:expr, $items:expr, $tail:expr, |$row:ident, $item:pat_param| $push:block) => {{
        // SQLite allows 32,766 parameters; 500 rows of at most 16 columns stay well within.
        let mut written: u64 = 0;
        for chunk in $items.chunks(500) {
            let mut query = sqlx::QueryBuilder::new($head);
            query.push_values(chunk, |mut $row, $item| $push);
            query.push($tail);
            written += query
                .build()
                .execute(&mut *$transaction)
                .await?
                .rows_affected();
        }
        written
    }};
}

pub(super) use insert_many;

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
                use $crate::storage::broker::{insert_many, GroupRows};
                // It reads (resends) before it writes: take the write lock first.
                let mut transaction = self.begin_write().await?;
                // Resends are recognised by the message id, unique per agency.
                let mut stored = std::collections::HashSet::new();
                for chunk in messages.chunks(500) {
                    let mut query = sqlx::QueryBuilder::new(
                        "SELECT agency_org_nr, message_id FROM dpi_message
                         WHERE (agency_org_nr, message_id) IN ",
                    );
                    query.push("(");
                    query.push_values(chunk, |mut row, message| {
                        row.push_bind(message.agency.as_str())
                            .push_bind(message.message_id.as_uuid());
                    });
                    query.push(")");
                    let found: Vec<(String, uuid::Uuid)> =
                        query.build_query_as().fetch_all(&mut *transaction).await?;
                    stored.extend(found);
                }
                let rows = GroupRows::plan(messages, &stored)?;
                $crate::storage::sql::insert_letter_rows!(transaction, &rows.letters);
                let written = insert_many!(
                    transaction,
                    "INSERT INTO dpi_message (id, agency_org_nr, message_id, conversation_id,
                         kanal, avsenderidentifikator, process, content_sha256, document,
                         package_sha256, channel, provider_org_nr, reason, letter_id,
                         received_at) ",
                    rows.messages,
                    " ON CONFLICT (agency_org_nr, message_id) DO NOTHING",
                    |row, stored_row| {
                        let message = stored_row.message;
                        row.push_bind(message.row_id)
                            .push_bind(message.agency.as_str())
                            .push_bind(message.message_id.as_uuid())
                            .push_bind(message.conversation_id.as_uuid())
                            .push_bind(message.kanal.as_str())
                            .push_bind(message.avsenderidentifikator.as_str())
                            .push_bind(message.process.code())
                            .push_bind(message.content_sha256.as_str())
                            .push_bind(message.document.as_str())
                            .push_bind(message.package.to_hex())
                            .push_bind(stored_row.channel)
                            .push_bind(stored_row.provider)
                            .push_bind(message.reason.as_str())
                            .push_bind(stored_row.letter_id)
                            .push_bind(message.received_at);
                    }
                );
                if written != rows.messages.len() as u64 {
                    // Stored by another writer since the check above: the
                    // committer then retries message by message, which sorts
                    // out which ones are resends.
                    return Err($crate::storage::StorageError::Conflict(
                        "a message of the group was stored meanwhile",
                    ));
                }
                insert_many!(
                    transaction,
                    "INSERT INTO inline_blob (sha256, bytes) ",
                    rows.inline_blobs,
                    " ON CONFLICT (sha256) DO NOTHING",
                    |row, (name, bytes)| {
                        row.push_bind(name.as_str()).push_bind(*bytes);
                    }
                );
                insert_many!(
                    transaction,
                    "INSERT INTO dpi_status (message_row, status, beskrivelse, at) ",
                    rows.statuses,
                    "",
                    |row, (message_row, status)| {
                        row.push_bind(*message_row)
                            .push_bind(status.status.code())
                            .push_bind(status.beskrivelse.as_str())
                            .push_bind(status.timestamp);
                    }
                );
                insert_many!(
                    transaction,
                    "INSERT INTO receipt (id, message_row, agency_org_nr, kanal,
                         avsenderidentifikator, kind, document, created_at) ",
                    rows.receipts,
                    "",
                    |row, (message, receipt)| {
                        row.push_bind(receipt.id)
                            .push_bind(message.row_id)
                            .push_bind(message.agency.as_str())
                            .push_bind(message.kanal.as_str())
                            .push_bind(message.avsenderidentifikator.as_str())
                            .push_bind(receipt.kind)
                            .push_bind(receipt.document.as_str())
                            .push_bind(receipt.created_at);
                    }
                );
                insert_many!(
                    transaction,
                    "INSERT INTO outbox (id, kind, message_row, receipt_id, next_attempt_at,
                         created_at) ",
                    rows.outbox,
                    "",
                    |row, (kind, message_row, receipt_id, at)| {
                        row.push_bind(uuid::Uuid::new_v4())
                            .push_bind(*kind)
                            .push_bind(*message_row)
                            .push_bind(*receipt_id)
                            .push_bind(*at)
                            .push_bind(*at);
                    }
                );
                insert_many!(
                    transaction,
                    "INSERT INTO print_job (message_row, print_order, created_at) ",
                    rows.print_jobs,
                    "",
                    |row, (message_row, order, at)| {
                        row.push_bind(*message_row)
                            .push_bind(order.as_str())
                            .push_bind(*at);
                    }
                );
                // The citizen's own notices go only to those who asked for
                // them, as their preference stands in this transaction.
                let mut wanted = std::collections::HashSet::new();
                let asking: std::collections::BTreeSet<&str> = rows
                    .notices
                    .iter()
                    .filter(|notice| notice.3.ordered_by == $crate::notify::OrderedBy::Citizen)
                    .map(|notice| notice.2)
                    .collect();
                let asking: Vec<&str> = asking.into_iter().collect();
                for chunk in asking.chunks(500) {
                    let mut query = sqlx::QueryBuilder::new(
                        "SELECT fnr, email, sms FROM notice_preference WHERE fnr IN (",
                    );
                    let mut fnrs = query.separated(", ");
                    for fnr in chunk {
                        fnrs.push_bind(*fnr);
                    }
                    query.push(")");
                    let preferences: Vec<(String, bool, bool)> =
                        query.build_query_as().fetch_all(&mut *transaction).await?;
                    for (fnr, email, sms) in preferences {
                        if email {
                            wanted.insert((fnr.clone(), $crate::notify::NoticeChannel::Email));
                        }
                        if sms {
                            wanted.insert((fnr, $crate::notify::NoticeChannel::Sms));
                        }
                    }
                }
                let notices: Vec<_> = rows
                    .notices
                    .iter()
                    .filter(|(_, _, fnr, notice, _)| {
                        notice.ordered_by == $crate::notify::OrderedBy::Sender
                            || wanted.contains(&(fnr.to_string(), notice.channel))
                    })
                    .collect();
                insert_many!(
                    transaction,
                    "INSERT INTO notice_job (id, letter_id, message_row, recipient_fnr, channel,
                         day, ordered_by, text, due_at, created_at) ",
                    notices,
                    " ON CONFLICT (letter_id, channel, day) DO NOTHING",
                    |row, (letter_id, message_row, fnr, notice, at)| {
                        row.push_bind(uuid::Uuid::new_v4())
                            .push_bind(*letter_id)
                            .push_bind(*message_row)
                            .push_bind(*fnr)
                            .push_bind($crate::notify::channel_code(notice.channel))
                            .push_bind(i32::from(notice.day))
                            .push_bind(notice.ordered_by.code())
                            .push_bind(notice.text.as_str())
                            .push_bind(notice.due_at)
                            .push_bind(*at);
                    }
                );
                transaction.commit().await?;
                Ok(rows.outcomes)
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

            async fn inline_blob(
                &self,
                digest: &app::domain::Sha256Digest,
            ) -> Result<Option<Vec<u8>>, $crate::storage::StorageError> {
                let row: Option<(Vec<u8>,)> =
                    sqlx::query_as("SELECT bytes FROM inline_blob WHERE sha256 = $1")
                        .bind(digest.to_hex())
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(bytes,)| bytes))
            }
        }
    };
}

pub(super) use impl_sql_broker;

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::{SecurityLevel, Sender, Title};
    use bytes::Bytes;
    use chrono::NaiveDate;

    fn citizen(individual_number: u16) -> Fnr {
        Fnr::synthetic(
            NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(),
            individual_number,
        )
        .unwrap()
    }

    fn mailbox_message(agency: &str, recipient: Fnr, package: Sha256Digest) -> NewMessage {
        let now = Utc::now();
        let letter = Letter {
            id: LetterId::generate(),
            message_id: MessageId::generate(),
            conversation_id: ConversationId::generate(),
            recipient,
            sender: Sender::new(OrgNr::parse(agency).unwrap(), "Etaten").unwrap(),
            nonsensitive_title: Title::parse("Brev").unwrap(),
            title: Title::parse("Vedtak").unwrap(),
            security_level: SecurityLevel::Substantial,
            received_at: now,
            read_at: None,
            documents: Vec::new(),
        };
        NewMessage {
            row_id: Uuid::new_v4(),
            agency: OrgNr::parse(agency).unwrap(),
            message_id: letter.message_id,
            conversation_id: letter.conversation_id,
            kanal: String::new(),
            avsenderidentifikator: String::new(),
            process: Process::Decision,
            content_sha256: String::new(),
            document: "{}".to_owned(),
            package,
            channel: StoredChannel::Mailbox(Box::new((letter, LetterTerms::default()))),
            reason: String::new(),
            received_at: now,
            statuses: Vec::new(),
            receipts: vec![NewReceipt {
                id: Uuid::new_v4(),
                kind: "leveringskvittering",
                document: "{}".to_owned(),
                created_at: now,
            }],
            push_receipts: true,
            inline_blobs: vec![(package, Bytes::from_static(b"PK"))],
            notices: Vec::new(),
        }
    }

    #[test]
    fn a_group_writes_each_message_once_and_each_shared_row_once() {
        let package = Sha256Digest::from_bytes([1; 32]);
        let first = mailbox_message("974760673", citizen(1), package);
        let mut resent_in_group = first.clone();
        resent_in_group.row_id = Uuid::new_v4();
        let same_recipient = mailbox_message("974760673", citizen(1), package);
        let stored_before = mailbox_message("889640782", citizen(2), package);
        let group = [first, resent_in_group, same_recipient, stored_before];
        let stored = std::collections::HashSet::from([(
            "889640782".to_owned(),
            group[3].message_id.as_uuid(),
        )]);

        let rows = GroupRows::plan(&group, &stored).unwrap();

        assert_eq!(
            rows.outcomes,
            [
                CommitOutcome::Stored,
                CommitOutcome::Duplicate,
                CommitOutcome::Stored,
                CommitOutcome::Duplicate
            ]
        );
        assert_eq!(rows.messages.len(), 2);
        assert_eq!(rows.letters.letters.len(), 2);
        assert_eq!(
            rows.letters.citizens.len(),
            1,
            "one mailbox for one recipient"
        );
        assert_eq!(rows.letters.senders.len(), 1);
        assert_eq!(rows.inline_blobs.len(), 1, "the same package once");
        assert_eq!(rows.receipts.len(), 2);
        // Each pushed receipt gets a callback job.
        assert_eq!(rows.outbox.len(), 2);
        assert!(rows.outbox.iter().all(|job| job.0 == "callback"));
    }
}
