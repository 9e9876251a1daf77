//! The broker: takes letters from agencies and puts them in citizens' mailboxes.
//!
//! For now one way in: [`http::receive_letter`], a letter for a national id with
//! one PDF. The DPI-shaped API (business messages, ASiC-E packages, KRR routing,
//! receipts) replaces it later; [`Broker::accept`] is where those paths meet storage.

pub mod http;
pub mod submission;

use crate::storage::{blobs::BlobStore, Storage, StorageError};
use app::domain::{Document, DocumentRole, Letter, LetterId, MediaType, MessageId};
use chrono::{DateTime, SubsecRound, Utc};
use std::sync::Arc;
pub use submission::{LetterSubmission, SubmissionLimits};

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("message {0} from this sender was already received")]
    Duplicate(MessageId),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What the sender is told once the letter is safely stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Acceptance {
    pub letter_id: LetterId,
    pub message_id: MessageId,
    pub received_at: DateTime<Utc>,
}

pub struct Broker {
    storage: Arc<dyn Storage>,
    blobs: Arc<dyn BlobStore>,
}

impl Broker {
    pub fn new(storage: Arc<dyn Storage>, blobs: Arc<dyn BlobStore>) -> Self {
        Self { storage, blobs }
    }

    /// Stores the document bytes, then the letter, and returns only after both
    /// are durable: the acceptance is the promise that the letter will not be lost.
    ///
    /// The blob goes first so a committed letter never points at missing bytes;
    /// if the letter then fails, the blob is an unreferenced orphan, harmless
    /// because blobs are content-addressed.
    #[tracing::instrument(skip_all, fields(message_id = %submission.message_id))]
    pub async fn accept(&self, submission: LetterSubmission) -> Result<Acceptance, BrokerError> {
        let size_bytes = submission.document.bytes.len() as u64;
        let digest = self
            .blobs
            .put(submission.document.bytes)
            .await
            .map_err(|error| anyhow::Error::new(error).context("storing the document failed"))?;
        // Microseconds: what PostgreSQL keeps, so a stored time reads back equal.
        let received_at = Utc::now().trunc_subsecs(6);
        let letter = Letter {
            id: LetterId::generate(),
            message_id: submission.message_id,
            conversation_id: submission.conversation_id,
            recipient: submission.recipient,
            sender: submission.sender,
            nonsensitive_title: submission.nonsensitive_title,
            title: submission.title.clone(),
            security_level: submission.security_level,
            received_at,
            read_at: None,
            documents: vec![Document {
                role: DocumentRole::Main,
                title: submission.title,
                file_name: submission.document.file_name,
                media_type: MediaType::Pdf,
                digest,
                size_bytes,
            }],
        };
        match self.storage.insert_letter(&letter).await {
            Ok(()) => {
                tracing::info!(letter_id = %letter.id, "letter stored");
                Ok(Acceptance {
                    letter_id: letter.id,
                    message_id: letter.message_id,
                    received_at,
                })
            }
            Err(StorageError::Conflict(_)) => Err(BrokerError::Duplicate(letter.message_id)),
            Err(error) => Err(anyhow::Error::new(error)
                .context("storing the letter failed")
                .into()),
        }
    }
}
