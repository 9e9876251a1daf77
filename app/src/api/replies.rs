//! Answering a letter's reply form: what the letter page shows of it (the
//! form, a draft with its problems, the review, the sent reply) and sending
//! a reviewed draft.
//!
//! Answers are posted as a plain multipart form to `/brev/{id}/svar` (files
//! cannot travel through a server function without JavaScript); the server
//! keeps them as a draft, problems and all, and sends the browser back to
//! the letter with `?utkast=<id>`. A draft without problems is shown for
//! review, and [`send_reply`] sends it.

use crate::{
    domain::{
        reply_form::{Answer, AnswerFile},
        LetterId, ReplyForm, SecurityLevel,
    },
    error::AppError,
};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// What is wrong with one answer, by meaning; the page puts it in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnswerProblem {
    /// A required question on the citizen's path has no answer.
    Missing,
    /// A value that is none of the question's choices.
    NotAChoice,
    TooLong {
        max: u32,
    },
    NotANumber,
    BelowMin {
        min: i64,
    },
    AboveMax {
        max: i64,
    },
    /// Not a date as `YYYY-MM-DD`.
    NotADate,
    /// An attachment that is not a PDF, PNG or JPEG by its bytes.
    FileWrongKind,
    FileTooLarge,
}

/// The citizen's answers to a form, before or after sending. `values` are
/// the answers as the form fields show them (a date as `YYYY-MM-DD`), so a
/// draft with problems fills the form in again as it was posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyView {
    pub id: Uuid,
    pub values: BTreeMap<String, Vec<String>>,
    pub files: BTreeMap<String, AnswerFile>,
    pub problems: BTreeMap<String, AnswerProblem>,
    /// The questions asked on the citizen's path, in order: what the review
    /// shows and what is sent.
    pub path: Vec<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub sent_level: Option<SecurityLevel>,
    /// The sealed PDF receipt among the citizen's documents, once sent.
    pub receipt_href: Option<String>,
}

impl ReplyView {
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The reply part of a letter's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyArea {
    pub letter: LetterId,
    pub form: ReplyForm,
    /// The deadline has not passed.
    pub open: bool,
    /// The reply that was sent, if one was.
    pub sent: Option<ReplyView>,
    /// The draft the address names, when it is the citizen's and unsent.
    pub draft: Option<ReplyView>,
    /// The conversation the letter is part of, oldest first: the sender's
    /// letters, the reply, the citizen's messages.
    pub thread: Vec<ThreadEntry>,
    /// The key the message form posts with, so a message posted twice is
    /// kept once.
    pub message_key: Uuid,
}

/// One step of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThreadEntry {
    /// A letter from the sender; `current` is the one whose page this is.
    Letter {
        id: LetterId,
        title: String,
        at: DateTime<Utc>,
        current: bool,
    },
    /// The citizen answered the form.
    Reply { at: DateTime<Utc> },
    /// The citizen wrote to the sender.
    Message {
        text: String,
        file_name: Option<String>,
        at: DateTime<Utc>,
    },
}

/// Why a message was refused, as the address tells the page (`?meldingfeil=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageProblem {
    Empty,
    TooLong,
    FileWrongKind,
    FileTooLarge,
}

impl MessageProblem {
    pub fn code(self) -> &'static str {
        match self {
            MessageProblem::Empty => "tom",
            MessageProblem::TooLong => "lang",
            MessageProblem::FileWrongKind => "filtype",
            MessageProblem::FileTooLarge => "filstorrelse",
        }
    }

    pub fn from_code(code: &str) -> Option<MessageProblem> {
        [
            MessageProblem::Empty,
            MessageProblem::TooLong,
            MessageProblem::FileWrongKind,
            MessageProblem::FileTooLarge,
        ]
        .into_iter()
        .find(|problem| problem.code() == code)
    }
}

/// The most characters a message may have.
pub const MESSAGE_MAX_CHARS: usize = 4000;

/// The value a stored answer shows as in a form field.
pub fn field_values(answer: &Answer) -> Vec<String> {
    match answer {
        Answer::Choice(value) | Answer::Text(value) => vec![value.clone()],
        Answer::Choices(values) => values.clone(),
        Answer::Number(number) => vec![number.to_string()],
        Answer::Date(date) => vec![date.format("%Y-%m-%d").to_string()],
        Answer::Attachment(file) => vec![file.file_name.clone()],
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Server-only: the replies service.

    use super::*;
    use crate::api::session::{fail, SignedIn};
    use std::sync::Arc;

    #[async_trait::async_trait]
    pub trait Replies: Send + Sync + 'static {
        /// The letter's form with the citizen's sent reply and the named
        /// draft; `None` when the letter has no form. Another citizen's
        /// letter or draft is not found.
        async fn area(
            &self,
            viewer: &SignedIn,
            letter: LetterId,
            draft: Option<Uuid>,
        ) -> Result<Option<ReplyArea>, AppError>;

        /// Sends a reviewed draft to the letter's sender. Sending the same
        /// draft again changes nothing.
        async fn send(
            &self,
            viewer: &SignedIn,
            letter: LetterId,
            draft: Uuid,
        ) -> Result<(), AppError>;
    }

    pub type SharedReplies = Arc<dyn Replies>;

    pub fn replies() -> Result<SharedReplies, AppError> {
        use_context::<SharedReplies>().ok_or_else(|| fail(AppError::Internal))
    }
}

/// `id` is the letter's id, `utkast` a draft's id from the address.
#[server(endpoint = "load_reply_area")]
pub async fn load_reply_area(
    id: String,
    utkast: Option<String>,
) -> Result<Option<ReplyArea>, AppError> {
    use crate::api::{input, session};
    let citizen = session::require_replier()?;
    let letter: LetterId = input::id("id", &id)?;
    let draft = match utkast.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(input::id::<Uuid>("utkast", text)?),
    };
    ssr::replies()?
        .area(&citizen, letter, draft)
        .await
        .map_err(session::fail)
}

/// Sends the reviewed draft `utkast` of letter `id`.
#[server(endpoint = "send_reply")]
pub async fn send_reply(id: String, utkast: String) -> Result<(), AppError> {
    use crate::api::{input, session};
    let citizen = session::require_replier()?;
    let letter: LetterId = input::id("id", &id)?;
    let draft: Uuid = input::id("utkast", &utkast)?;
    ssr::replies()?
        .send(&citizen, letter, draft)
        .await
        .map_err(session::fail)
}
