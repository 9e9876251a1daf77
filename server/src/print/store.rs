//! What the print service remembers: citizens' postal addresses, the print
//! queue (one job per letter routed to paper, holding its print order and
//! its documents), the batches letters are handed over in, and the print
//! house's answers. Jobs are written by the broker's group commit, with the
//! message they belong to; the print chain moves them on from there.

use super::{
    answers::AnswerStatus, batch::BatchKind, verification::VerificationCode, PostalAddress,
    PrintOrder, ReturnHandling,
};
use crate::{notify::SenderReceipt, store::StorageError};
use app::domain::{Fnr, MessageId, OrgNr, Sha256Digest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A letter in the print queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintJob {
    pub message_row: Uuid,
    pub message_id: MessageId,
    pub agency: OrgNr,
    pub order: PrintOrder,
    pub package: Sha256Digest,
    pub state: String,
    pub batch: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub printed_at: Option<DateTime<Utc>>,
}

/// A letter waiting for the next cut-off, with what it takes to print it.
#[derive(Debug, Clone)]
pub struct WaitingLetter {
    pub message_row: Uuid,
    pub order: PrintOrder,
    pub sender_name: String,
    pub documents: Vec<Sha256Digest>,
    pub check_code: VerificationCode,
}

/// A letter made print-ready, for a new batch.
#[derive(Debug, Clone)]
pub struct BatchedLetter {
    pub message_row: Uuid,
    pub pdf: Sha256Digest,
    pub pages: u32,
    pub sheets: u32,
}

#[derive(Debug, Clone)]
pub struct NewBatch {
    pub id: Uuid,
    pub cut_off: DateTime<Utc>,
    pub kind: BatchKind,
    pub letters: Vec<BatchedLetter>,
    pub created_at: DateTime<Utc>,
}

/// A batch not yet handed over, with its letters.
#[derive(Debug, Clone)]
pub struct BatchToDeliver {
    pub id: Uuid,
    pub cut_off: DateTime<Utc>,
    pub kind: BatchKind,
    pub attempts: u32,
    pub letters: Vec<LetterInBatch>,
}

#[derive(Debug, Clone)]
pub struct LetterInBatch {
    pub message_row: Uuid,
    pub order: PrintOrder,
    pub pdf: Sha256Digest,
    pub pages: u32,
    pub sheets: u32,
}

/// An answer from the print house as it is recorded: what happened, what
/// the sender sees, and the receipt it gets.
#[derive(Debug, Clone)]
pub struct RecordedAnswer {
    pub message_row: Uuid,
    pub status: AnswerStatus,
    pub detail: String,
    /// The transport status's description; FEILET when `failed`.
    pub description: String,
    pub failed: bool,
    pub receipt: Option<SenderReceipt>,
    pub at: DateTime<Utc>,
}

/// What the public check page may say about a printed letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedLetter {
    pub sender_name: String,
    pub sender: OrgNr,
    pub title: String,
    /// When Postkasse received it for print.
    pub sent_at: DateTime<Utc>,
}

/// A batch as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSummary {
    pub id: Uuid,
    pub cut_off: DateTime<Utc>,
    pub kind: BatchKind,
    pub letters: u64,
    pub pages: u64,
    pub sheets: u64,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A letter for paper as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleLetter {
    pub job: PrintJob,
    pub pages: Option<u32>,
    pub sheets: Option<u32>,
    pub pdf: Option<Sha256Digest>,
}

/// One of the sender's transport statuses for a letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineStep {
    pub at: DateTime<Utc>,
    pub status: String,
    pub description: String,
}

/// Letters that arrived on a day (UTC) and went to one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// `postkasse`, `leverandoer`, `utskrift` or `feil`.
    pub channel: String,
    pub letters: u64,
}

/// What an operator downloaded: a letter's PDF or its whole batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Download {
    Letter,
    Batch,
}

impl Download {
    pub fn as_str(self) -> &'static str {
        match self {
            Download::Letter => "letter",
            Download::Batch => "batch",
        }
    }
}

/// A print-if-unread letter whose deadline has come.
#[derive(Debug, Clone)]
pub struct UnreadDue {
    pub message_row: Uuid,
    pub owner: Fnr,
    pub opened: bool,
    pub colour: super::PrintColour,
    pub post_class: super::PostClass,
    pub sender_name: String,
    pub title: String,
    /// The letter's documents in the blob store, main document first.
    pub documents: Vec<Sha256Digest>,
}

/// What became of a print-if-unread letter at its deadline.
#[derive(Debug, Clone)]
pub enum UnreadOutcome {
    /// Opened in time: nothing is printed.
    Opened,
    /// Queued for the next cut-off.
    Printed(Box<super::NewPrintJob>),
    /// It cannot be printed; the sender gets this receipt.
    Failed {
        reason: String,
        receipt: SenderReceipt,
    },
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn postal_address(&self, fnr: &Fnr) -> Result<Option<PostalAddress>, StorageError>;

    async fn set_postal_address(
        &self,
        fnr: &Fnr,
        address: &PostalAddress,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Sets many addresses in one transaction; returns how many were new or
    /// changed.
    async fn set_postal_addresses(
        &self,
        addresses: &[(Fnr, PostalAddress)],
        at: DateTime<Utc>,
    ) -> Result<u64, StorageError>;

    /// The queue, oldest first; with `include_done`, posted, failed and
    /// returned letters too.
    async fn print_jobs(&self, include_done: bool) -> Result<Vec<PrintJob>, StorageError>;

    /// Letters that arrived before `created_before` and wait for a batch,
    /// oldest first, at most `limit`.
    async fn waiting_letters(
        &self,
        created_before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<WaitingLetter>, StorageError>;

    /// Stores the batches and moves their letters into them, with a status
    /// for each letter's sender, all or nothing: `false` (and nothing
    /// stored) when another node batched one of the letters first.
    async fn create_batches(&self, batches: &[NewBatch]) -> Result<bool, StorageError>;

    /// Batches not yet handed over whose next attempt is due.
    async fn batches_due(&self, now: DateTime<Utc>) -> Result<Vec<BatchToDeliver>, StorageError>;

    /// The batch is with the print house; its letters' senders see it.
    async fn batch_delivered(&self, batch: Uuid, at: DateTime<Utc>) -> Result<(), StorageError>;

    async fn batch_delivery_failed(
        &self,
        batch: Uuid,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// How a queued letter's returns are handled; `None` for no such letter.
    async fn return_handling(
        &self,
        message_row: Uuid,
    ) -> Result<Option<ReturnHandling>, StorageError>;

    /// Records the answers, each with its status and receipt, in one
    /// transaction. An answer already recorded for the letter is skipped, so
    /// reading the same answers twice changes nothing. Returns how many were
    /// new.
    async fn record_answers(&self, answers: &[RecordedAnswer]) -> Result<usize, StorageError>;

    /// The letter printed with this check code.
    async fn letter_by_check_code(
        &self,
        code: &VerificationCode,
    ) -> Result<Option<CheckedLetter>, StorageError>;

    // The console.

    /// Letters for paper by state.
    async fn state_counts(&self) -> Result<Vec<(String, u64)>, StorageError>;

    /// Letters in C5 and in C4 batches.
    async fn envelope_counts(&self) -> Result<(u64, u64), StorageError>;

    /// The oldest waiting letters, at most `limit`.
    async fn waiting_jobs(&self, limit: u32) -> Result<Vec<PrintJob>, StorageError>;

    /// The newest batches, at most `limit`.
    async fn recent_batches(&self, limit: u32) -> Result<Vec<BatchSummary>, StorageError>;

    async fn batch_summary(&self, batch: Uuid) -> Result<Option<BatchSummary>, StorageError>;

    async fn letters_in_batch(&self, batch: Uuid) -> Result<Vec<ConsoleLetter>, StorageError>;

    async fn console_letter(
        &self,
        message_row: Uuid,
    ) -> Result<Option<ConsoleLetter>, StorageError>;

    /// The letter's transport statuses, oldest first.
    async fn timeline(&self, message_row: Uuid) -> Result<Vec<TimelineStep>, StorageError>;

    /// Operators' downloads of the letter, oldest first.
    async fn downloads(
        &self,
        message_row: Uuid,
    ) -> Result<Vec<(DateTime<Utc>, Download)>, StorageError>;

    /// Records a download for each of the letters; the citizens they were
    /// for, where the sender named them, each once.
    async fn record_download(
        &self,
        message_rows: &[Uuid],
        what: Download,
        at: DateTime<Utc>,
    ) -> Result<Vec<Fnr>, StorageError>;

    /// Offers the batch to the print house again now; false for no such batch.
    async fn resend_batch(&self, batch: Uuid, at: DateTime<Utc>) -> Result<bool, StorageError>;

    /// Messages per day and channel since `since`.
    async fn letters_per_day(&self, since: DateTime<Utc>) -> Result<Vec<ChannelDay>, StorageError>;

    // Print if unread.

    /// Letters to print if unread whose deadline is at or before `now`, at
    /// most `limit`.
    async fn unread_prints_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<UnreadDue>, StorageError>;

    /// Records what became of the letter at its deadline, with the status
    /// (and job, or receipt) it causes; false, and nothing changed, when it
    /// was settled already.
    async fn settle_unread_print(
        &self,
        message_row: Uuid,
        outcome: &UnreadOutcome,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
}
