//! What the signing domain needs stored: letters' orders (written with the
//! letter), how far each signer has got, and the signed documents.

use crate::{notify::SenderReceipt, store::StorageError};
use app::domain::{
    Fnr, LetterId, MessageId, OrgNr, SecurityLevel, SignerStatus, SigningOrder, UploadId,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A letter's signing order and how far it has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub order: SigningOrder,
    pub status: SignerStatus,
    pub status_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub signed_level: Option<SecurityLevel>,
    /// The signed PDF in the citizen's documents.
    pub signed_upload: Option<UploadId>,
    /// The signed PDF in the blob store (SHA-256, hex).
    pub signed_sha256: Option<String>,
}

/// One of a letter's documents, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    pub position: u32,
    pub title: String,
    pub file_name: String,
    pub media_type: String,
    pub sha256: String,
}

/// A letter as signing sees it, for its recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterSigning {
    pub letter: LetterId,
    pub security_level: SecurityLevel,
    pub sender_name: String,
    /// The DPI message the letter came in: where receipts about it go.
    pub message_row: Option<Uuid>,
    pub message_id: Option<MessageId>,
    pub documents: Vec<StoredDocument>,
    pub job: Option<Job>,
}

/// A job as its agency sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyJob {
    pub message_id: MessageId,
    pub message_row: Uuid,
    pub letter: LetterId,
    pub job: Job,
}

/// How a signer's part ended.
#[derive(Debug, Clone)]
pub enum Outcome<'a> {
    Signed {
        level: SecurityLevel,
        upload: UploadId,
        name: &'a str,
        sha256: &'a str,
        size_bytes: u64,
    },
    Rejected {
        reason: Option<&'a str>,
    },
}

/// An open order whose deadline has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    pub letter: LetterId,
    pub message_row: Uuid,
    pub message_id: MessageId,
    pub job: Job,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The owner's letter with its documents and order; `None` when it is
    /// not theirs (or not yet shown).
    async fn letter_signing(
        &self,
        owner: &Fnr,
        letter: LetterId,
        now: DateTime<Utc>,
    ) -> Result<Option<LetterSigning>, StorageError>;

    /// Records how the owner's waiting order ended, with the receipt for the
    /// agency, in one transaction; false when it was no longer waiting (or
    /// its deadline had passed), and nothing is written.
    async fn record(
        &self,
        owner: &Fnr,
        letter: LetterId,
        outcome: &Outcome<'_>,
        receipt: &SenderReceipt,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// The job of the agency's message `message_id`, if it has one.
    async fn agency_job(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
    ) -> Result<Option<AgencyJob>, StorageError>;

    /// Cancels the agency's waiting job, with the receipt; false when it
    /// was not waiting.
    async fn cancel(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
        receipt: &SenderReceipt,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// Waiting orders whose deadline is past `now`, oldest first.
    async fn overdue(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Overdue>, StorageError>;

    /// Marks an overdue order expired, with the receipt; false when another
    /// node did first.
    async fn record_expired(
        &self,
        letter: LetterId,
        receipt: &SenderReceipt,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
}
