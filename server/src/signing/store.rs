//! What the signing domain needs stored: letters' orders (written with the
//! letter), how far each signer has got, the signed documents, and the
//! notices that tell a signer their turn has come.

use crate::{
    notify::{NewNotice, SenderReceipt},
    store::StorageError,
};
use app::domain::{
    Fnr, JobStatus, LetterId, MessageId, OrgNr, SecurityLevel, SignerStatus, SigningOrder, UploadId,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// How far one signer has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerProgress {
    pub status: SignerStatus,
    pub status_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub signed_level: Option<SecurityLevel>,
    /// The document as it stood after this signer's signature, in this
    /// signer's own documents and in the blob store (SHA-256, hex).
    pub signed_upload: Option<UploadId>,
    pub signed_sha256: Option<String>,
}

impl SignerProgress {
    pub fn waiting() -> Self {
        Self {
            status: SignerStatus::Waiting,
            status_at: None,
            reason: None,
            signed_level: None,
            signed_upload: None,
            signed_sha256: None,
        }
    }
}

/// A letter's signing order and how far each of its signers has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub order: SigningOrder,
    /// One per signer of the order, in the order's order.
    pub progress: Vec<SignerProgress>,
    /// The completed document in the recipient's documents (kept for good).
    pub signed_upload: Option<UploadId>,
    /// The completed document in the blob store (SHA-256, hex), for the
    /// agency.
    pub signed_sha256: Option<String>,
}

impl Job {
    pub fn status(&self) -> JobStatus {
        JobStatus::of(self.progress.iter().map(|signer| signer.status))
    }

    /// Where `fnr` is among the signers.
    pub fn position_of(&self, fnr: &Fnr) -> Option<usize> {
        self.order
            .signers
            .iter()
            .position(|signer| &signer.fnr == fnr)
    }

    /// Whose turn it is: the first signer still waiting, while the job is
    /// in progress.
    pub fn turn(&self) -> Option<usize> {
        (self.status() == JobStatus::InProgress)
            .then(|| {
                self.progress
                    .iter()
                    .position(|signer| signer.status == SignerStatus::Waiting)
            })
            .flatten()
    }

    /// The document the signer at `position` signs (SHA-256, hex): the one
    /// the signer before them signed, or the letter's own.
    pub fn document_for<'a>(&'a self, position: usize, original: &'a str) -> &'a str {
        position
            .checked_sub(1)
            .and_then(|before| self.progress.get(before)?.signed_sha256.as_deref())
            .unwrap_or(original)
    }

    /// The document with the most signatures so far, if anyone has signed.
    pub fn latest_signed(&self) -> Option<&str> {
        self.progress
            .iter()
            .rev()
            .find_map(|signer| signer.signed_sha256.as_deref())
    }

    /// The job once the signer at `position` has `progress`: a decline
    /// cancels the part of everyone after them, and the last signature
    /// completes the job with its document.
    pub fn settled_by(mut self, position: usize, progress: SignerProgress) -> Job {
        let (status, at) = (progress.status, progress.status_at);
        let signed = progress.signed_sha256.clone();
        if let Some(signer) = self.progress.get_mut(position) {
            *signer = progress;
        }
        match status {
            SignerStatus::Rejected => self.ended(SignerStatus::Cancelled, at),
            SignerStatus::Signed if self.status() == JobStatus::CompletedSuccessfully => Job {
                signed_sha256: signed,
                ..self
            },
            _ => self,
        }
    }

    /// The job once it has failed: every signer still waiting gets `status`.
    pub fn ended(mut self, status: SignerStatus, at: Option<DateTime<Utc>>) -> Job {
        for signer in &mut self.progress {
            if signer.status == SignerStatus::Waiting {
                signer.status = status;
                signer.status_at = at;
            }
        }
        self
    }
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

/// A letter as signing sees it: for its recipient, with all its documents;
/// for a later signer, with only the document to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterSigning {
    pub letter: LetterId,
    pub security_level: SecurityLevel,
    pub sender_name: String,
    /// The DPI message the letter came in: where receipts about it go.
    pub message_row: Option<Uuid>,
    pub message_id: Option<MessageId>,
    /// When the letter became available to its recipient.
    pub available_at: DateTime<Utc>,
    pub documents: Vec<StoredDocument>,
    pub job: Option<Job>,
}

impl LetterSigning {
    /// The letter's main document: the one an order asks to be signed.
    pub fn main_document(&self) -> Option<&StoredDocument> {
        self.documents
            .iter()
            .find(|document| document.position == 0)
    }

    /// The login level signing needs: the order's, and the letter's own,
    /// since the document is the letter's.
    pub fn required_level(&self, job: &Job) -> SecurityLevel {
        job.order.level.max(self.security_level)
    }
}

/// A job as its agency sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyJob {
    pub message_id: MessageId,
    pub message_row: Uuid,
    pub letter: LetterId,
    pub job: Job,
}

/// A signature made: the signed document, which joins the signer's own
/// documents as `upload`.
#[derive(Debug, Clone)]
pub struct Signature<'a> {
    pub level: SecurityLevel,
    pub upload: UploadId,
    pub name: &'a str,
    pub sha256: &'a str,
    pub size_bytes: u64,
}

/// What follows a signature.
#[derive(Debug, Clone)]
pub enum AfterSigning<'a> {
    /// The next signer's turn; they are told by these notices.
    NextTurn {
        signer: &'a Fnr,
        notices: Vec<NewNotice>,
    },
    /// That was the last signature. The recipient keeps the completed
    /// document: their own signed copy when they signed last, else
    /// `recipient_copy`, a new document of theirs (its id and name).
    Completed {
        recipient: &'a Fnr,
        recipient_copy: Option<(UploadId, &'a str)>,
    },
}

/// How a signer's part ended.
#[derive(Debug, Clone)]
pub enum Outcome<'a> {
    Signed {
        signature: Signature<'a>,
        then: AfterSigning<'a>,
    },
    /// Declined: the job fails, and the signers after this one are not
    /// asked (their part is cancelled).
    Rejected { reason: Option<&'a str> },
}

/// A job one of whose signers is the viewer, for their list of things to
/// sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerTask {
    pub letter: LetterId,
    pub sender_name: String,
    pub job: Job,
    pub position: usize,
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

    /// The letter's order with only the document to sign, for one of its
    /// signers whose turn has come (everyone before them has signed);
    /// `None` for anyone else, or before their turn.
    async fn signer_signing(
        &self,
        signer: &Fnr,
        letter: LetterId,
        now: DateTime<Utc>,
    ) -> Result<Option<LetterSigning>, StorageError>;

    /// Every job in which the signer's turn has come, newest letter first.
    async fn signer_tasks(
        &self,
        signer: &Fnr,
        now: DateTime<Utc>,
    ) -> Result<Vec<SignerTask>, StorageError>;

    /// Records how the part of the signer at `position` ended, with what
    /// follows and the receipt for the agency, in one transaction; false
    /// when it was no longer their turn (or the deadline had passed), and
    /// nothing is written.
    async fn record(
        &self,
        signer: &Fnr,
        letter: LetterId,
        position: usize,
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

    /// Cancels the agency's job in progress (every signer still waiting),
    /// with the receipt; false when it was not in progress.
    async fn cancel(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
        receipt: &SenderReceipt,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// Jobs in progress whose deadline is past `now`, oldest first.
    async fn overdue(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Overdue>, StorageError>;

    /// Marks an overdue job's waiting signers expired, with the receipt;
    /// false when another node did first.
    async fn record_expired(
        &self,
        letter: LetterId,
        receipt: &SenderReceipt,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::{signing_order::Signer, SignerIdentifier, SyntheticIds};

    fn job(signers: usize) -> Job {
        let fnrs = ["14838510036", "02917910181", "30929610039"];
        Job {
            order: SigningOrder {
                title: "Avtale".into(),
                signers: fnrs[..signers]
                    .iter()
                    .map(|fnr| Signer {
                        fnr: Fnr::parse(fnr, SyntheticIds::Accepted).unwrap(),
                        name: "N".into(),
                    })
                    .collect(),
                level: SecurityLevel::High,
                deadline: Utc::now(),
                identifier: SignerIdentifier::Name,
            },
            progress: vec![SignerProgress::waiting(); signers],
            signed_upload: None,
            signed_sha256: None,
        }
    }

    fn signed(sha256: &str) -> SignerProgress {
        SignerProgress {
            status: SignerStatus::Signed,
            status_at: Some(Utc::now()),
            signed_sha256: Some(sha256.into()),
            ..SignerProgress::waiting()
        }
    }

    #[test]
    fn signers_take_turns_each_signing_what_the_one_before_signed() {
        let job = job(3);
        assert_eq!(job.turn(), Some(0));
        assert_eq!(job.document_for(0, "original"), "original");
        let job = job.settled_by(0, signed("first"));
        assert_eq!(job.turn(), Some(1));
        assert_eq!(job.document_for(1, "original"), "first");
        assert_eq!(job.latest_signed(), Some("first"));
        let job = job
            .settled_by(1, signed("second"))
            .settled_by(2, signed("third"));
        assert_eq!(job.status(), JobStatus::CompletedSuccessfully);
        assert_eq!(job.turn(), None);
        assert_eq!(job.signed_sha256.as_deref(), Some("third"));
    }

    #[test]
    fn a_decline_cancels_the_part_of_those_after() {
        let job = job(3).settled_by(0, signed("first")).settled_by(
            1,
            SignerProgress {
                status: SignerStatus::Rejected,
                ..SignerProgress::waiting()
            },
        );
        let statuses: Vec<_> = job.progress.iter().map(|signer| signer.status).collect();
        assert_eq!(
            statuses,
            [
                SignerStatus::Signed,
                SignerStatus::Rejected,
                SignerStatus::Cancelled
            ]
        );
        assert_eq!(job.status(), JobStatus::Failed);
        assert_eq!(job.signed_sha256, None);
    }
}
