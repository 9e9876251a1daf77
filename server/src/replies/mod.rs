//! Replies: the citizen answers the questions a letter's sender asks
//! (Postkasse's reply form, docs/replies.md), and the sender fetches the
//! answer as a business message beside its receipts.
//!
//! - [`form`] reads the form a sender puts in a letter's package.
//! - [`answers`] reads a posted answer against the form.
//! - [`ReplyService`] keeps drafts, sends a reviewed one once, and refuses
//!   answers after the deadline or below the letter's security level.
//! - [`routes`] takes the posted form (multipart, with attachments).
//! - [`UnansweredWorker`] tells the sender when a deadline passes unanswered.
//!
//! The business messages themselves are made where receipts are made
//! ([`ReplyMessages`], implemented by the broker), so this domain does not
//! depend on the broker.

pub mod answers;
pub mod form;
pub mod receipt;
pub mod routes;
mod store;

pub use store::{
    FormLookup, LetterForm, NewCitizenMessage, ReceiptFile, SendOutcome, Sending, Store,
    StoredReply, StoredThreadEntry, Unanswered,
};

use crate::blobs::BlobStore;
use crate::clock::Clock;
use crate::errors::internal;
use crate::notify::SenderReceipt;
use crate::store::Reader;
use app::{
    api::{
        replies::{field_values, ssr::Replies, ReplyArea, ReplyView, ThreadEntry},
        session::SignedIn,
    },
    domain::{reply_form::Answer, Fnr, LetterId, SecurityLevel},
    error::{AppError, Problem},
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::{sync::Arc, time::Duration};
use uuid::Uuid;

/// A sent reply as the sender receives it.
#[derive(Debug, Clone)]
pub struct OutgoingReply {
    pub id: Uuid,
    pub citizen: Fnr,
    pub level: SecurityLevel,
    pub sent_at: DateTime<Utc>,
    pub form_title: String,
    pub form_version: u32,
    /// The answers on the citizen's path, in the form's order, each with the
    /// bytes of an attached file.
    pub answers: Vec<(String, Answer, Option<bytes::Bytes>)>,
}

/// A message the citizen writes to a letter's sender, as the sender receives it.
#[derive(Debug, Clone)]
pub struct OutgoingMessage {
    pub id: Uuid,
    pub citizen: Fnr,
    pub level: SecurityLevel,
    pub sent_at: DateTime<Utc>,
    pub text: String,
    pub attachment: Option<(app::domain::AnswerFile, bytes::Bytes)>,
}

/// Makes the business messages a reply causes; the broker knows the letter's
/// message and its agency (`broker::ReceiptIssuer`).
#[async_trait]
pub trait ReplyMessages: Send + Sync + 'static {
    /// The reply, for the sender of the message stored as `message_row`.
    async fn reply_message(
        &self,
        message_row: Uuid,
        reply: &OutgoingReply,
    ) -> anyhow::Result<SenderReceipt>;

    /// The citizen's message, for the sender of the message stored as `message_row`.
    async fn citizen_message(
        &self,
        message_row: Uuid,
        message: &OutgoingMessage,
    ) -> anyhow::Result<SenderReceipt>;

    /// Tells the sender that the form's deadline passed without an answer.
    async fn unanswered_receipt(
        &self,
        message_row: Uuid,
        deadline: DateTime<Utc>,
    ) -> anyhow::Result<SenderReceipt>;
}

/// Why the viewer may not answer or write about a letter at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shut {
    /// Not their letter, or it has no form.
    NotFound,
    NeedsHigherLevel,
}

impl From<Shut> for PostError {
    fn from(shut: Shut) -> Self {
        match shut {
            Shut::NotFound => PostError::NotFound,
            Shut::NeedsHigherLevel => PostError::NeedsHigherLevel,
        }
    }
}

impl From<Shut> for MessageError {
    fn from(shut: Shut) -> Self {
        match shut {
            Shut::NotFound => MessageError::NotFound,
            Shut::NeedsHigherLevel => MessageError::NeedsHigherLevel,
        }
    }
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("not found")]
    NotFound,
    /// The letter's sender takes no messages (its form says `fritekst: false`).
    #[error("the sender does not take messages about this letter")]
    NotTaken,
    #[error("the letter needs a login at security level 4")]
    NeedsHigherLevel,
    #[error("the message is refused: {0:?}")]
    Invalid(app::api::replies::MessageProblem),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Why a posted answer was not kept.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("not found")]
    NotFound,
    #[error("the reply deadline has passed")]
    Closed,
    #[error("the letter needs a login at security level 4")]
    NeedsHigherLevel,
    /// The reply with this id was sent before.
    #[error("the letter has been answered already")]
    AlreadyAnswered(Uuid),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub struct ReplyService {
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
    messages: Arc<dyn ReplyMessages>,
    clock: Arc<dyn Clock>,
    /// Wakes the outbox that pushes messages to senders' callbacks.
    outbox_work: Arc<tokio::sync::Notify>,
    max_file_bytes: usize,
    /// Seals the citizen's receipt of each sent reply.
    sealer: Arc<crate::seal::Sealer>,
}

impl ReplyService {
    pub fn new(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        messages: Arc<dyn ReplyMessages>,
        clock: Arc<dyn Clock>,
        outbox_work: Arc<tokio::sync::Notify>,
        max_file_bytes: usize,
        sealer: Arc<crate::seal::Sealer>,
    ) -> Self {
        Self {
            store,
            blobs,
            messages,
            clock,
            outbox_work,
            max_file_bytes,
            sealer,
        }
    }

    pub fn max_file_bytes(&self) -> usize {
        self.max_file_bytes
    }

    /// The letter's form, when the viewer has the letter, it has a form,
    /// and the viewer is logged in at its level.
    async fn form_at_level(
        &self,
        viewer: &SignedIn,
        letter: LetterId,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Result<Box<LetterForm>, Shut>> {
        let FormLookup::Form(form) = self
            .store
            .letter_form(Reader::of(viewer), letter, now)
            .await?
        else {
            return Ok(Err(Shut::NotFound));
        };
        if viewer.level < form.security_level {
            return Ok(Err(Shut::NeedsHigherLevel));
        }
        Ok(Ok(form))
    }

    /// The letter's form, when the viewer may answer it now.
    async fn answerable(
        &self,
        viewer: &SignedIn,
        letter: LetterId,
    ) -> Result<Box<LetterForm>, PostError> {
        let now = self.clock.now();
        let form = self.form_at_level(viewer, letter, now).await??;
        if !form.form.is_open(now) {
            return Err(PostError::Closed);
        }
        if let Some(sent) = self
            .store
            .sent_reply(&viewer.fnr, letter)
            .await
            .map_err(anyhow::Error::from)?
        {
            return Err(PostError::AlreadyAnswered(sent.id));
        }
        Ok(form)
    }

    /// Keeps what the citizen posted as a draft, problems and all, and
    /// returns its id. Files in `posted` are stored already; an attachment
    /// question without a new file keeps the one of the earlier draft
    /// `earlier` names.
    pub async fn save_draft(
        &self,
        viewer: &SignedIn,
        letter: LetterId,
        earlier: Option<Uuid>,
        mut posted: answers::Posted,
    ) -> Result<StoredReply, PostError> {
        let form = self.answerable(viewer, letter).await?;
        let earlier = match earlier {
            Some(id) => self
                .store
                .reply(&viewer.fnr, letter, id)
                .await
                .map_err(anyhow::Error::from)?
                .filter(|reply| reply.sent_at.is_none()),
            None => None,
        };
        if let Some(earlier) = &earlier {
            for (id, answer) in &earlier.answers {
                if let Answer::Attachment(file) = answer {
                    posted
                        .files
                        .entry(id.clone())
                        .or_insert_with(|| Ok(file.clone()));
                }
            }
        }
        let read = answers::read(&form.form, &posted);
        let reply = StoredReply {
            id: earlier
                .as_ref()
                .map_or_else(Uuid::new_v4, |earlier| earlier.id),
            letter,
            answers: read.answers,
            problems: read.problems,
            created_at: self.clock.now(),
            sent_at: None,
            sent_level: None,
            receipt: None,
        };
        if !self
            .store
            .save_draft(&viewer.fnr, &reply)
            .await
            .map_err(anyhow::Error::from)?
        {
            return Err(PostError::NotFound);
        }
        Ok(reply)
    }

    /// Checks an attached file by its bytes (as uploads are) and stores it.
    pub async fn store_file(
        &self,
        file_name: &str,
        bytes: bytes::Bytes,
    ) -> anyhow::Result<Result<app::domain::AnswerFile, app::api::replies::AnswerProblem>> {
        use app::api::replies::AnswerProblem;
        if bytes.len() > self.max_file_bytes {
            return Ok(Err(AnswerProblem::FileTooLarge));
        }
        let Some(media_type) = app::domain::archive::sniff_upload(&bytes) else {
            return Ok(Err(AnswerProblem::FileWrongKind));
        };
        // A name the citizen cannot see as theirs is replaced, not refused:
        // the bytes are what matters.
        let file_name = app::domain::UploadName::parse(file_name)
            .map_or_else(|_| "vedlegg".to_owned(), |name| name.to_string());
        let size_bytes = bytes.len() as u64;
        let digest = self
            .blobs
            .put(bytes)
            .await
            .map_err(|error| anyhow::anyhow!("storing an attachment failed: {error}"))?;
        Ok(Ok(app::domain::AnswerFile {
            file_name,
            media_type: media_type.as_mime().to_owned(),
            sha256: digest.to_hex(),
            size_bytes,
        }))
    }

    /// Sends the citizen's message about the letter to its sender, once per
    /// `key` (the form's hidden key): a second post with it changes nothing.
    /// `file` is an attached file as [`Self::store_file`] checked and kept
    /// it, with its bytes.
    pub async fn send_message(
        &self,
        viewer: &SignedIn,
        letter: LetterId,
        key: Uuid,
        text: &str,
        file: Option<
            Result<(app::domain::AnswerFile, bytes::Bytes), app::api::replies::AnswerProblem>,
        >,
    ) -> Result<(), MessageError> {
        use app::api::replies::{AnswerProblem, MessageProblem, MESSAGE_MAX_CHARS};
        let now = self.clock.now();
        let form = self.form_at_level(viewer, letter, now).await??;
        if !form.form.free_text {
            return Err(MessageError::NotTaken);
        }
        let text = text.trim().replace("\r\n", "\n");
        if text.is_empty() {
            return Err(MessageError::Invalid(MessageProblem::Empty));
        }
        if text.chars().count() > MESSAGE_MAX_CHARS {
            return Err(MessageError::Invalid(MessageProblem::TooLong));
        }
        let attachment = match file {
            None => None,
            Some(Ok(file)) => Some(file),
            Some(Err(AnswerProblem::FileTooLarge)) => {
                return Err(MessageError::Invalid(MessageProblem::FileTooLarge))
            }
            Some(Err(_)) => return Err(MessageError::Invalid(MessageProblem::FileWrongKind)),
        };
        let outgoing = OutgoingMessage {
            id: key,
            citizen: viewer.fnr.clone(),
            level: viewer.level,
            sent_at: now,
            text,
            attachment,
        };
        let message = self
            .messages
            .citizen_message(form.message_row, &outgoing)
            .await?;
        let kept = self
            .store
            .send_message(
                &viewer.fnr,
                &NewCitizenMessage {
                    id: key,
                    letter,
                    text: &outgoing.text,
                    attachment: outgoing.attachment.as_ref().map(|(file, _)| file),
                    level: viewer.level,
                    delegate: viewer.delegate_name(),
                    message_row: form.message_row,
                    message: &message,
                    at: now,
                },
            )
            .await
            .map_err(anyhow::Error::from)?;
        if kept {
            if message.push {
                self.outbox_work.notify_waiters();
            }
            tracing::info!(message = %key, "citizen message sent");
        }
        Ok(())
    }

    /// The conversation as the viewer may see it: a letter above their
    /// level by its non-sensitive title.
    fn thread_view(
        viewer: &SignedIn,
        current: LetterId,
        stored: Vec<StoredThreadEntry>,
    ) -> Vec<ThreadEntry> {
        stored
            .into_iter()
            .map(|entry| match entry {
                StoredThreadEntry::Letter {
                    id,
                    title,
                    nonsensitive_title,
                    security_level,
                    at,
                } => ThreadEntry::Letter {
                    id,
                    title: if viewer.level >= security_level {
                        title
                    } else {
                        nonsensitive_title
                    },
                    at,
                    current: id == current,
                },
                StoredThreadEntry::Reply { at } => ThreadEntry::Reply { at },
                StoredThreadEntry::Message {
                    text,
                    attachment,
                    at,
                } => ThreadEntry::Message {
                    text,
                    file_name: attachment.map(|file| file.file_name),
                    at,
                },
            })
            .collect()
    }

    fn view(form: &app::domain::ReplyForm, reply: StoredReply) -> ReplyView {
        let path = form
            .path(&reply.answers)
            .into_iter()
            .map(|question| question.id.clone())
            .collect();
        let files = reply
            .answers
            .iter()
            .filter_map(|(id, answer)| match answer {
                Answer::Attachment(file) => Some((id.clone(), file.clone())),
                _ => None,
            })
            .collect();
        ReplyView {
            id: reply.id,
            receipt_href: reply
                .receipt
                .map(|upload| format!("/opplastinger/{upload}")),
            values: reply
                .answers
                .iter()
                .map(|(id, answer)| (id.clone(), field_values(answer)))
                .collect(),
            files,
            problems: reply.problems,
            path,
            sent_at: reply.sent_at,
            sent_level: reply.sent_level,
        }
    }

    /// The citizen's sealed receipt for the reply, in the blob store.
    async fn receipt(
        &self,
        form: &LetterForm,
        reply: &OutgoingReply,
    ) -> anyhow::Result<ReceiptFile> {
        let (letter, sealer, sent) = (form.clone(), self.sealer.clone(), reply.clone());
        let bytes = tokio::task::spawn_blocking(move || {
            let facts = receipt::ReceiptFacts {
                letter_title: &letter.letter_title,
                sender_name: &letter.sender_name,
                form: &letter.form,
                reply_id: sent.id,
                sent_at: sent.sent_at,
                level: sent.level,
                answers: sent
                    .answers
                    .iter()
                    .map(|(id, answer, _)| (id.as_str(), answer))
                    .collect(),
            };
            let pdf = receipt::receipt_pdf(&facts)?;
            sealer.seal(
                &pdf,
                "Kvittering for svar sendt fra Postkasse",
                sent.sent_at,
            )
        })
        .await??;
        let size_bytes = bytes.len() as u64;
        let digest = self
            .blobs
            .put(bytes::Bytes::from(bytes))
            .await
            .map_err(|error| anyhow::anyhow!("storing a receipt failed: {error}"))?;
        let name = format!(
            "Kvittering for svar, {} {}.pdf",
            form.form.title,
            reply
                .sent_at
                .with_timezone(&chrono_tz::Europe::Oslo)
                .format("%d.%m.%Y")
        );
        Ok(ReceiptFile {
            upload: app::domain::UploadId::generate(),
            // A form's title may hold what a file name may not.
            name: app::domain::UploadName::parse(&name.replace(['/', '\\'], "-"))
                .or_else(|_| app::domain::UploadName::parse("Kvittering for svar.pdf"))?,
            digest,
            size_bytes,
        })
    }

    /// Tells senders about forms whose deadline passed unanswered; returns
    /// how many were told.
    pub async fn settle_unanswered(&self, limit: u32) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let mut told = 0;
        for due in self.store.unanswered(now, limit).await? {
            let receipt = self
                .messages
                .unanswered_receipt(due.message_row, due.deadline)
                .await?;
            if self
                .store
                .record_unanswered(due.letter, due.message_row, &receipt, now)
                .await?
            {
                told += 1;
                if receipt.push {
                    self.outbox_work.notify_waiters();
                }
            }
        }
        Ok(told)
    }
}

fn refusal(error: PostError) -> AppError {
    match error {
        PostError::NotFound => AppError::NotFound,
        PostError::Closed => AppError::invalid("svar", Problem::ReplyDeadlinePassed),
        PostError::NeedsHigherLevel => AppError::invalid("svar", Problem::NeedsHigherLevel),
        PostError::AlreadyAnswered(_) => AppError::invalid("svar", Problem::AlreadyAnswered),
        PostError::Internal(cause) => internal(cause),
    }
}

#[async_trait]
impl Replies for ReplyService {
    async fn area(
        &self,
        viewer: &SignedIn,
        letter: LetterId,
        draft: Option<Uuid>,
    ) -> Result<Option<ReplyArea>, AppError> {
        let now = self.clock.now();
        let form = match self
            .store
            .letter_form(Reader::of(viewer), letter, now)
            .await
            .map_err(internal)?
        {
            FormLookup::NoSuchLetter => return Err(AppError::NotFound),
            FormLookup::NoForm => return Ok(None),
            FormLookup::Form(form) => form,
        };
        // Below the letter's level the page shows only that it is locked.
        if viewer.level < form.security_level {
            return Ok(None);
        }
        let sent = self
            .store
            .sent_reply(&viewer.fnr, letter)
            .await
            .map_err(internal)?;
        let draft = match draft {
            Some(id) => self
                .store
                .reply(&viewer.fnr, letter, id)
                .await
                .map_err(internal)?
                .filter(|reply| reply.sent_at.is_none()),
            None => None,
        };
        let thread = self
            .store
            .thread(&viewer.fnr, letter, now)
            .await
            .map_err(internal)?;
        Ok(Some(ReplyArea {
            letter,
            thread: Self::thread_view(viewer, letter, thread),
            message_key: Uuid::new_v4(),
            open: form.form.is_open(now),
            sent: sent.map(|reply| Self::view(&form.form, reply)),
            draft: draft.map(|reply| Self::view(&form.form, reply)),
            form: form.form,
        }))
    }

    async fn send(&self, viewer: &SignedIn, letter: LetterId, draft: Uuid) -> Result<(), AppError> {
        let form = match self.answerable(viewer, letter).await {
            Ok(form) => form,
            // Sending the same draft twice is harmless.
            Err(PostError::AlreadyAnswered(sent)) if sent == draft => return Ok(()),
            Err(error) => return Err(refusal(error)),
        };
        let reply = self
            .store
            .reply(&viewer.fnr, letter, draft)
            .await
            .map_err(internal)?
            .ok_or(AppError::NotFound)?;
        if !reply.problems.is_empty() {
            return Err(AppError::invalid("svar", Problem::ReplyHasProblems));
        }
        let now = self.clock.now();
        let mut answers = Vec::new();
        for question in form.form.path(&reply.answers) {
            let Some(answer) = reply.answers.get(&question.id) else {
                continue;
            };
            let bytes = match answer {
                Answer::Attachment(file) => {
                    let digest = app::domain::Sha256Digest::from_hex(&file.sha256)
                        .ok_or_else(|| internal(anyhow::anyhow!("a stored file's digest")))?;
                    Some(self.blobs.get(&digest).await.map_err(internal)?)
                }
                _ => None,
            };
            answers.push((question.id.clone(), answer.clone(), bytes));
        }
        let outgoing = OutgoingReply {
            id: reply.id,
            citizen: viewer.fnr.clone(),
            level: viewer.level,
            sent_at: now,
            form_title: form.form.title.clone(),
            form_version: form.form.version,
            answers,
        };
        let message = self
            .messages
            .reply_message(form.message_row, &outgoing)
            .await
            .map_err(internal)?;
        let receipt = self.receipt(&form, &outgoing).await.map_err(internal)?;
        let outcome = self
            .store
            .send(
                &viewer.fnr,
                &Sending {
                    letter,
                    draft,
                    level: viewer.level,
                    delegate: viewer.delegate_name(),
                    message_row: form.message_row,
                    message: &message,
                    receipt: &receipt,
                    at: now,
                },
            )
            .await
            .map_err(internal)?;
        match outcome {
            SendOutcome::Sent => {
                if message.push {
                    self.outbox_work.notify_waiters();
                }
                tracing::info!(reply = %draft, "reply sent");
                Ok(())
            }
            SendOutcome::AlreadyAnswered => {
                Err(AppError::invalid("svar", Problem::AlreadyAnswered))
            }
            SendOutcome::NotFound => Err(AppError::NotFound),
        }
    }
}

/// Tells senders, every `interval`, about forms whose deadline passed
/// unanswered.
pub struct UnansweredWorker {
    service: Arc<ReplyService>,
    interval: Duration,
}

impl UnansweredWorker {
    pub fn new(service: Arc<ReplyService>, interval: Duration) -> Self {
        Self { service, interval }
    }

    pub async fn run(self) {
        crate::rounds::repeat(
            self.interval,
            "unanswered reply forms reported to their senders",
            "reporting unanswered forms failed",
            || self.service.settle_unanswered(100),
        )
        .await;
    }
}
