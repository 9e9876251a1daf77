//! What the broker remembers: the messages agencies send with their routing
//! decisions, transport statuses, the receipts agencies fetch, and the outbox
//! of work still to do (forwarding to other providers, pushing receipts to
//! agencies' callbacks).
//!
//! [`Store::commit_messages`] writes a whole group of messages, each with
//! everything it causes (the letter or print job, statuses, receipts, outbox
//! work, notices, small blobs), in one transaction: group commit is what lets
//! many letters share one fsync without acknowledging any before it is
//! durable.

use crate::{broker::routing::Process, print::NewPrintJob, store::StorageError};
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

    pub fn parse(code: &str) -> Option<TransportStatus> {
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

/// What the mailbox keeps from the business message beside the letter
/// itself: when the letter may be shown, whether its sender asked for an
/// opening receipt, its language, and the reply form and signing order it
/// carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LetterTerms {
    pub effective_at: Option<DateTime<Utc>>,
    pub opening_receipt: bool,
    pub language: Option<String>,
    /// Print the letter if it is still unopened at a deadline.
    pub print_if_unread: Option<crate::print::PrintIfUnread>,
    /// The questions the sender asks the citizen to answer here.
    pub reply_form: Option<app::domain::ReplyForm>,
    /// The sender's order to sign the main document.
    pub signing_order: Option<app::domain::SigningOrder>,
}

/// Where the message went, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredChannel {
    Mailbox(Box<(Letter, LetterTerms)>),
    Provider(OrgNr),
    Print(Box<NewPrintJob>),
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
    /// by this commit itself; see [`crate::blobs::TieredBlobs`].
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

#[async_trait]
pub trait Store: Send + Sync + 'static {
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

    /// The message this Postkasse forwarded to `provider` in the conversation.
    async fn forwarded_message(
        &self,
        provider: &OrgNr,
        conversation_id: ConversationId,
    ) -> Result<Option<StoredMessage>, StorageError>;

    /// Queues a receipt another provider sent about a message forwarded to
    /// it; false (and nothing queued) when it was queued before.
    async fn record_provider_receipt(
        &self,
        message_row: Uuid,
        receipt: &NewReceipt,
        push_receipt: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
}
