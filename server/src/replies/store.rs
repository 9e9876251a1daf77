//! What the replies domain remembers: each letter's form (written with the
//! letter, by the broker's commit), the citizen's drafts and sent replies,
//! and which forms the sender was told went unanswered.
//!
//! Every method about a citizen's data takes the citizen (the owner), and an
//! implementation filters on them in the query itself.

use crate::notify::SenderReceipt;
use crate::store::{Reader, StorageError};
use app::api::replies::AnswerProblem;
use app::domain::{
    reply_form::{Answer, AnswerFile},
    Fnr, LetterId, ReplyForm, SecurityLevel, Sha256Digest, UploadId, UploadName,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A letter's form, with what answering it needs to know of the letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterForm {
    pub form: ReplyForm,
    pub security_level: SecurityLevel,
    /// The letter's title (the receipt names it; the citizen may read it).
    pub letter_title: String,
    pub sender_name: String,
    /// The business message the letter came in: the reply answers it.
    pub message_row: Uuid,
}

/// What a letter has by way of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormLookup {
    /// Not the owner's letter, not in effect, or purged.
    NoSuchLetter,
    NoForm,
    Form(Box<LetterForm>),
}

/// A draft or a sent reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReply {
    pub id: Uuid,
    pub letter: LetterId,
    pub answers: BTreeMap<String, Answer>,
    pub problems: BTreeMap<String, AnswerProblem>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub sent_level: Option<SecurityLevel>,
    /// The sealed receipt in the citizen's documents, once sent.
    pub receipt: Option<UploadId>,
}

/// The sealed receipt of a reply, stored in the blob store, to be listed
/// among the citizen's documents when the reply is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptFile {
    pub upload: UploadId,
    pub name: UploadName,
    pub digest: Sha256Digest,
    pub size_bytes: u64,
}

/// A draft being sent: which, at what login level, and the business
/// message it becomes, answering the message stored as `message_row`.
#[derive(Debug, Clone)]
pub struct Sending<'a> {
    pub letter: LetterId,
    pub draft: Uuid,
    pub level: SecurityLevel,
    /// The delegate who sent it under a power of attorney, by name.
    pub delegate: Option<&'a str>,
    pub message_row: Uuid,
    pub message: &'a SenderReceipt,
    pub receipt: &'a ReceiptFile,
    pub at: DateTime<Utc>,
}

/// A message the citizen writes to the sender of a letter, with the
/// business message it becomes (answering the message stored as
/// `message_row`).
#[derive(Debug, Clone)]
pub struct NewCitizenMessage<'a> {
    /// The key the form posted with.
    pub id: Uuid,
    pub letter: LetterId,
    pub text: &'a str,
    pub attachment: Option<&'a AnswerFile>,
    pub level: SecurityLevel,
    /// The delegate who wrote it under a power of attorney, by name.
    pub delegate: Option<&'a str>,
    pub message_row: Uuid,
    pub message: &'a SenderReceipt,
    pub at: DateTime<Utc>,
}

/// One step of a letter's conversation, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredThreadEntry {
    Letter {
        id: LetterId,
        title: String,
        nonsensitive_title: String,
        security_level: SecurityLevel,
        at: DateTime<Utc>,
    },
    Reply {
        at: DateTime<Utc>,
    },
    Message {
        text: String,
        attachment: Option<AnswerFile>,
        at: DateTime<Utc>,
    },
}

/// What sending a draft came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// Sent now, or already by an earlier request for this same draft.
    Sent,
    /// Another reply to the letter was sent before.
    AlreadyAnswered,
    /// The owner has no such draft for the letter.
    NotFound,
}

/// A form whose deadline passed without a sent reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unanswered {
    pub letter: LetterId,
    pub message_row: Uuid,
    pub deadline: DateTime<Utc>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The form of the owner's letter; the letter must be theirs, in effect
    /// at `now`, not purged, and within the reader's power of attorney.
    async fn letter_form(
        &self,
        reader: Reader<'_>,
        letter: LetterId,
        now: DateTime<Utc>,
    ) -> Result<FormLookup, StorageError>;

    /// Writes the draft: a new one, or over the owner's unsent draft with
    /// the same id. Returns false when the id is taken by a sent reply or
    /// by another citizen's draft (then nothing is written).
    async fn save_draft(&self, owner: &Fnr, reply: &StoredReply) -> Result<bool, StorageError>;

    /// The owner's reply to the letter with this id, draft or sent.
    async fn reply(
        &self,
        owner: &Fnr,
        letter: LetterId,
        id: Uuid,
    ) -> Result<Option<StoredReply>, StorageError>;

    /// The owner's sent reply to the letter, if any.
    async fn sent_reply(
        &self,
        owner: &Fnr,
        letter: LetterId,
    ) -> Result<Option<StoredReply>, StorageError>;

    /// Marks the owner's draft sent and queues its message for the sender,
    /// in one transaction.
    async fn send(&self, owner: &Fnr, sending: &Sending<'_>) -> Result<SendOutcome, StorageError>;

    /// Keeps the owner's message, queues its business message and logs the
    /// letter for the search index, in one transaction; false when a message
    /// with this id was kept before (then nothing is written).
    async fn send_message(
        &self,
        owner: &Fnr,
        message: &NewCitizenMessage<'_>,
    ) -> Result<bool, StorageError>;

    /// The owner's messages about the letter, oldest first: (text,
    /// attachment, sent at).
    async fn letter_messages(
        &self,
        owner: &Fnr,
        letter: LetterId,
    ) -> Result<Vec<(String, Option<AnswerFile>, DateTime<Utc>)>, StorageError>;

    /// The conversation of the owner's letter, oldest first: the letters of
    /// the same sender with the same ConversationId that are in effect at
    /// `now`, the replies to their forms, and the owner's messages.
    async fn thread(
        &self,
        owner: &Fnr,
        letter: LetterId,
        now: DateTime<Utc>,
    ) -> Result<Vec<StoredThreadEntry>, StorageError>;

    /// Forms whose deadline is before `now`, with no sent reply, whose sender
    /// has not been told; the oldest deadline first, at most `limit`.
    async fn unanswered(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Unanswered>, StorageError>;

    /// Queues `receipt` (the form went unanswered) and notes it, once: false
    /// when it was noted before, or a reply was sent after all.
    async fn record_unanswered(
        &self,
        letter: LetterId,
        message_row: Uuid,
        receipt: &SenderReceipt,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
}
