//! Signing: an agency asks the citizen to sign a letter's PDF (Postkasse's
//! `signeringsoppdrag` extension, docs/signing.md), and optionally more
//! citizens after them, in order. The recipient signs in the letter view
//! after a login at the order's level, or declines; each later signer is
//! told by notice when their turn comes and signs on their own page, seeing
//! only the document. The agency follows the order through receipts and its
//! status, and fetches the signed PDF. Every signature in a letter's PDFs is
//! checked for the page.
//!
//! - [`order`] reads the order from the package.
//! - [`SigningService`] signs (a PAdES B-T signature made by Postkasse's
//!   signing service on the citizen's behalf, as Posten signering's
//!   ID-porten signatures are), records declines, cancels, and expires.
//! - [`verify`] checks PDF signatures.
//! - [`routes`]: the citizen's form post and the agency's API.
//!
//! Receipts are made where receipts are made ([`SigningMessages`],
//! implemented by the broker), so this domain does not depend on the broker.

pub mod order;
pub mod routes;
mod store;
pub mod verify;

pub use store::{
    AfterSigning, AgencyJob, Job, LetterSigning, Outcome, Overdue, Signature, SignerProgress,
    SignerTask, Store, StoredDocument,
};

use crate::{
    auth::LoginEvidence,
    blobs::BlobStore,
    clock::Clock,
    errors::internal,
    notify::{
        schedule::DayWindow, NewNotice, NoticeChannel, NoticePurpose, OrderedBy, SenderReceipt,
    },
    seal::{Appearance, EmbeddedFile, Sealer, SignaturePlace, VisibleSignature},
    timestamp::TimestampAuthority,
    trust::TrustAnchors,
};
use app::{
    api::{
        session::SignedIn,
        signing::{
            ssr::Signing, SignatureSummary, SignatureVerdict, SignerLine, SigningArea,
            SigningState, SigningTask, SigningView, REASON_MAX_CHARS,
        },
    },
    domain::{
        JobStatus, LetterId, MessageId, OrgNr, SecurityLevel, Sha256Digest, SignerIdentifier,
        SignerStatus, SigningOrder, UploadId,
    },
    error::AppError,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::{sync::Arc, time::Duration};
use uuid::Uuid;

/// Makes the receipts a signing order causes; the broker knows the letter's
/// message and its agency (`broker::ReceiptIssuer`).
#[async_trait]
pub trait SigningMessages: Send + Sync + 'static {
    /// A `signeringsstatus` for the sender of the message stored as
    /// `message_row`; `body` is [`status_document`].
    async fn status_message(
        &self,
        message_row: Uuid,
        body: Map<String, Value>,
    ) -> anyhow::Result<SenderReceipt>;
}

/// Where a signer acts: the recipient in the letter, the signers after them
/// on their own signing page. Each place serves only its own signers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Letter,
    SigningPage,
}

impl Via {
    fn serves(self, position: usize) -> bool {
        match self {
            Via::Letter => position == 0,
            Via::SigningPage => position > 0,
        }
    }
}

/// Why the citizen could not sign or decline.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("not found")]
    NotFound,
    #[error("the order needs a login at a higher security level")]
    NeedsHigherLevel,
    #[error("the order's deadline has passed")]
    Expired,
    #[error("the order was cancelled by its sender")]
    Cancelled,
    /// Signed or declined before.
    #[error("the order has been answered already")]
    Answered,
    #[error("the reason is longer than {REASON_MAX_CHARS} characters")]
    ReasonTooLong,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Why the agency's request about a job was refused.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("not found")]
    NotFound,
    /// Cancelling a job that is no longer waiting, or fetching the document
    /// of one that is not signed.
    #[error("the job is {0}")]
    WrongStatus(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub struct SigningService {
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
    messages: Arc<dyn SigningMessages>,
    clock: Arc<dyn Clock>,
    /// Wakes the outbox that pushes receipts to agencies' callbacks.
    outbox_work: Arc<tokio::sync::Notify>,
    /// The signing service's key: signs on the citizen's behalf.
    signer: Arc<Sealer>,
    timestamps: Arc<dyn TimestampAuthority>,
    /// Whose signatures the page calls valid.
    anchors: Arc<TrustAnchors>,
    /// When the notice that a signer's turn has come may go out.
    notice_window: DayWindow,
}

impl SigningService {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        messages: Arc<dyn SigningMessages>,
        clock: Arc<dyn Clock>,
        outbox_work: Arc<tokio::sync::Notify>,
        signer: Arc<Sealer>,
        timestamps: Arc<dyn TimestampAuthority>,
        anchors: Arc<TrustAnchors>,
        notice_window: DayWindow,
    ) -> Self {
        Self {
            store,
            blobs,
            messages,
            clock,
            outbox_work,
            signer,
            timestamps,
            anchors,
            notice_window,
        }
    }

    /// The viewer's seat in the letter's order, where `via` serves them:
    /// the letter (with the document to sign), its job and their position.
    /// Anyone else, or before their turn, gets `NotFound`.
    async fn seat(
        &self,
        viewer: &SignedIn,
        via: Via,
        letter: LetterId,
        now: DateTime<Utc>,
    ) -> Result<(LetterSigning, Job, usize), SignError> {
        let found = self
            .store
            .signer_signing(&viewer.fnr, letter, now)
            .await
            .map_err(anyhow::Error::from)?
            .ok_or(SignError::NotFound)?;
        let job = found.job.clone().ok_or(SignError::NotFound)?;
        let position = job
            .position_of(&viewer.fnr)
            .filter(|position| via.serves(*position))
            .ok_or(SignError::NotFound)?;
        Ok((found, job, position))
    }

    /// The order the viewer is to sign now, with their position; refused
    /// below the level it needs or once their part is over.
    async fn waiting(
        &self,
        viewer: &SignedIn,
        via: Via,
        letter: LetterId,
        now: DateTime<Utc>,
    ) -> Result<(LetterSigning, Job, usize), SignError> {
        let (found, job, position) = self.seat(viewer, via, letter, now).await?;
        if viewer.level < found.required_level(&job) {
            return Err(SignError::NeedsHigherLevel);
        }
        match job.progress[position].status {
            SignerStatus::Waiting if now >= job.order.deadline => Err(SignError::Expired),
            SignerStatus::Waiting => Ok((found, job, position)),
            SignerStatus::Expired => Err(SignError::Expired),
            SignerStatus::Cancelled => Err(SignError::Cancelled),
            SignerStatus::Signed | SignerStatus::Rejected => Err(SignError::Answered),
        }
    }

    /// Signs the document for the viewer, whose login `evidence` shows; a
    /// second submit after the first signed changes nothing.
    pub async fn sign(
        &self,
        viewer: &SignedIn,
        via: Via,
        letter: LetterId,
        evidence: &LoginEvidence,
    ) -> Result<(), SignError> {
        let now = self.clock.now();
        let (found, job, position) = self.waiting(viewer, via, letter, now).await?;
        if evidence.level < job.order.level {
            return Err(SignError::NeedsHigherLevel);
        }
        let main = found
            .main_document()
            .ok_or_else(|| anyhow::anyhow!("a signing order without its document"))?;
        let to_sign = job.document_for(position, &main.sha256).to_owned();
        let original = self.read_blob(&to_sign).await?;
        let signed = self
            .signed_pdf(
                &found, &job.order, position, &to_sign, original, evidence, now,
            )
            .await?;
        let size_bytes = signed.len() as u64;
        let signed_digest = self
            .blobs
            .put(bytes::Bytes::from(signed))
            .await
            .map_err(|error| anyhow::anyhow!("storing a signed document: {error}"))?
            .to_hex();
        let name = signed_file_name(&job.order.title, "signert");
        let completed_name = signed_file_name(&job.order.title, "signert av alle");
        let upload = UploadId::generate();
        let signers = &job.order.signers;
        let then = match signers.get(position + 1) {
            Some(next) => AfterSigning::NextTurn {
                signer: &next.fnr,
                notices: self.turn_notices(&job.order, found.available_at, now),
            },
            None => AfterSigning::Completed {
                recipient: &signers[0].fnr,
                recipient_copy: (position > 0)
                    .then(|| (UploadId::generate(), completed_name.as_str())),
            },
        };
        let settled = job.clone().settled_by(
            position,
            SignerProgress {
                status: SignerStatus::Signed,
                status_at: Some(now),
                signed_level: Some(evidence.level),
                signed_upload: Some(upload),
                signed_sha256: Some(signed_digest.clone()),
                reason: None,
            },
        );
        let outcome = Outcome::Signed {
            signature: Signature {
                level: evidence.level,
                upload,
                name: &name,
                sha256: &signed_digest,
                size_bytes,
            },
            then,
        };
        if self
            .record(viewer, &found, position, &settled, &outcome, now)
            .await?
        {
            tracing::info!(letter = %letter, signer = position + 1, "document signed");
        }
        Ok(())
    }

    /// The notices that tell the next signer their turn has come: by e-mail
    /// and SMS, in the daytime, as ordered by the sender (who asked for the
    /// signature). They name neither the document nor the sender.
    fn turn_notices(
        &self,
        order: &SigningOrder,
        available: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Vec<NewNotice> {
        let window = &self.notice_window;
        let due_at = window.due(now, 0);
        let wording = crate::notify::Wording::SigningTurn {
            deadline: order.deadline,
        };
        let day = (window.local_date(due_at) - window.local_date(available)).num_days();
        let day = u8::try_from(day.max(0)).unwrap_or(u8::MAX);
        [NoticeChannel::Email, NoticeChannel::Sms]
            .into_iter()
            .map(|channel| NewNotice {
                channel,
                day,
                ordered_by: OrderedBy::Sender,
                wording: wording.clone(),
                due_at,
                purpose: NoticePurpose::Signing,
            })
            .collect()
    }

    /// Records that the viewer declines to sign, with their reason.
    pub async fn decline(
        &self,
        viewer: &SignedIn,
        via: Via,
        letter: LetterId,
        reason: Option<&str>,
    ) -> Result<(), SignError> {
        let reason = reason.map(str::trim).filter(|reason| !reason.is_empty());
        if reason.is_some_and(|reason| reason.chars().count() > REASON_MAX_CHARS) {
            return Err(SignError::ReasonTooLong);
        }
        let now = self.clock.now();
        let (found, job, position) = self.waiting(viewer, via, letter, now).await?;
        let declined = job.settled_by(
            position,
            SignerProgress {
                status: SignerStatus::Rejected,
                status_at: Some(now),
                reason: reason.map(str::to_owned),
                ..SignerProgress::waiting()
            },
        );
        self.record(
            viewer,
            &found,
            position,
            &declined,
            &Outcome::Rejected { reason },
            now,
        )
        .await?;
        Ok(())
    }

    /// Stores how the signer's part ended with the agency's receipt (about
    /// the job as `settled`); false when another request got there first.
    async fn record(
        &self,
        viewer: &SignedIn,
        found: &LetterSigning,
        position: usize,
        settled: &Job,
        outcome: &Outcome<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, SignError> {
        let (Some(message_row), Some(message_id)) = (found.message_row, found.message_id) else {
            return Err(anyhow::anyhow!("a signing order without its message").into());
        };
        let receipt = self
            .messages
            .status_message(message_row, status_document(message_id, settled))
            .await?;
        let recorded = self
            .store
            .record(&viewer.fnr, found.letter, position, outcome, &receipt, now)
            .await
            .map_err(anyhow::Error::from)?;
        if recorded && receipt.push {
            self.outbox_work.notify_waiters();
        }
        Ok(recorded)
    }

    /// The document signed: a signature page and the login evidence added
    /// in an incremental update, signed, and timestamped by the TSA.
    #[allow(clippy::too_many_arguments)]
    async fn signed_pdf(
        &self,
        found: &LetterSigning,
        order: &SigningOrder,
        position: usize,
        document_sha256: &str,
        original: bytes::Bytes,
        evidence: &LoginEvidence,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<u8>> {
        let shown_as = shown_as(order, position);
        let evidence_file = serde_json::to_vec(&json!({
            "signatar": signer_identity(order, position),
            "innlogging": {
                "tilbyder": "ID-porten",
                "sikkerhetsnivaa": evidence.level.as_number(),
                "acr": evidence.level.acr(),
                "autentisert": evidence.authenticated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "sid": evidence.provider_sid,
                "idTokenSha256": evidence.id_token_sha256,
            },
            "dokument": {"tittel": order.title, "sha256": document_sha256},
            "oppdragsgiver": found.sender_name,
            "signert": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }))?;
        let local = now.with_timezone(&chrono_tz::Europe::Oslo);
        let lines = vec![
            format!("Signert av / Signed by: {shown_as}"),
            format!(
                "Tidspunkt / Time: {} (norsk tid)",
                local.format("%d.%m.%Y %H:%M:%S")
            ),
            format!(
                "Innlogging / Login: ID-porten, sikkerhetsniv\u{e5} {}",
                evidence.level.as_number()
            ),
            format!("Dokument / Document: {}", order.title),
            format!("For: {}", found.sender_name),
            "Signert med Postkasses signeringstjeneste / Signed by Postkasse's signing service"
                .to_owned(),
        ];
        let signer = self.signer.clone();
        let name = order.signers[position].name.clone();
        let reason = format!("Signert av {name} i Postkasse");
        // The first signature adds the signature pages, with room for
        // everyone's, and embeds the login evidence; each later one only
        // adds its field there and keeps its evidence in its signature
        // dictionary, since a file embedded after the first signature would
        // change the document outside the form.
        let pages = SignaturePlace::pages_for(order.signers.len());
        let (place, field_name, in_dictionary) = match position {
            0 => (
                SignaturePlace::NewPages { pages },
                "Signatur".to_owned(),
                None,
            ),
            slot => (
                SignaturePlace::Slot { pages, slot },
                format!("Signatur {}", slot + 1),
                Some(String::from_utf8(evidence_file.clone())?),
            ),
        };
        let (prepared, mut signed) = tokio::task::spawn_blocking(move || {
            let prepared = crate::seal::prepare(
                &original,
                &Appearance {
                    field_name: &field_name,
                    name: &name,
                    reason: &reason,
                    at: now,
                    visible: Some(VisibleSignature {
                        heading: "Elektronisk signatur / Electronic signature",
                        lines,
                        place,
                    }),
                    embedded: match in_dictionary {
                        None => vec![EmbeddedFile {
                            name: "signeringsbevis.json",
                            media_type: "application/json",
                            description: "Innloggingsbevis for signaturen / Login evidence",
                            bytes: &evidence_file,
                        }],
                        Some(_) => Vec::new(),
                    },
                    in_dictionary: in_dictionary.as_deref(),
                },
            )?;
            let signed = signer.sign(&prepared)?;
            anyhow::Ok((prepared, signed))
        })
        .await??;
        let stamped: [u8; 32] = Sha256::digest(crate::seal::signature_value(&signed)?).into();
        let token = self
            .timestamps
            .timestamp(stamped)
            .await
            .map_err(|error| anyhow::anyhow!("the timestamp authority: {error}"))?;
        crate::seal::add_timestamp(&mut signed, &token)?;
        prepared.finish(&signed)
    }

    /// The job of the agency's message.
    pub async fn agency_job(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
    ) -> Result<AgencyJob, JobError> {
        self.store
            .agency_job(agency, message_id)
            .await
            .map_err(anyhow::Error::from)?
            .ok_or(JobError::NotFound)
    }

    /// The job's status document, as the agency's receipts carry it.
    pub async fn status(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
    ) -> Result<Map<String, Value>, JobError> {
        let found = self.agency_job(agency, message_id).await?;
        Ok(status_document(message_id, &found.job))
    }

    /// Withdraws a job in progress; the signers' pages then say so.
    pub async fn cancel(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
    ) -> Result<Map<String, Value>, JobError> {
        let found = self.agency_job(agency, message_id).await?;
        if found.job.status() != JobStatus::InProgress {
            return Err(JobError::WrongStatus(found.job.status().code()));
        }
        let now = self.clock.now();
        let cancelled = found.job.ended(SignerStatus::Cancelled, Some(now));
        let document = status_document(message_id, &cancelled);
        let receipt = self
            .messages
            .status_message(found.message_row, document.clone())
            .await?;
        if !self
            .store
            .cancel(agency, message_id, &receipt, now)
            .await
            .map_err(anyhow::Error::from)?
        {
            // Completed, declined or expired meanwhile.
            let now_found = self.agency_job(agency, message_id).await?;
            return Err(JobError::WrongStatus(now_found.job.status().code()));
        }
        if receipt.push {
            self.outbox_work.notify_waiters();
        }
        tracing::info!(message = %message_id, "signing job cancelled by its agency");
        Ok(document)
    }

    /// The signed PDF of a completed job, with every signer's signature.
    pub async fn signed_document(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
    ) -> Result<bytes::Bytes, JobError> {
        let found = self.agency_job(agency, message_id).await?;
        match (found.job.status(), &found.job.signed_sha256) {
            (JobStatus::CompletedSuccessfully, Some(sha256)) => Ok(self.read_blob(sha256).await?),
            (status, _) => Err(JobError::WrongStatus(status.code())),
        }
    }

    /// The document a later signer is to sign (or signed), with the
    /// signatures before theirs; anyone else gets `NotFound`.
    pub async fn document_to_sign(
        &self,
        viewer: &SignedIn,
        letter: LetterId,
    ) -> Result<bytes::Bytes, SignError> {
        // The recipient reads the document in the letter.
        let (found, job, position) = self
            .seat(viewer, Via::SigningPage, letter, self.clock.now())
            .await?;
        if viewer.level < found.required_level(&job) {
            return Err(SignError::NeedsHigherLevel);
        }
        let main = found.main_document().ok_or(SignError::NotFound)?;
        Ok(self
            .read_blob(job.document_for(position, &main.sha256))
            .await?)
    }

    /// A document of the job from the blob store, by its SHA-256 (hex).
    async fn read_blob(&self, sha256: &str) -> anyhow::Result<bytes::Bytes> {
        let digest = Sha256Digest::from_hex(sha256)
            .ok_or_else(|| anyhow::anyhow!("a stored document's digest"))?;
        self.blobs
            .get(&digest)
            .await
            .map_err(|error| anyhow::anyhow!("reading a signing document: {error}"))
    }

    /// Expires jobs in progress whose deadline has passed, telling their
    /// agencies; returns how many.
    pub async fn settle_expired(&self, limit: u32) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let mut expired = 0;
        for overdue in self.store.overdue(now, limit).await? {
            let job = overdue.job.ended(SignerStatus::Expired, Some(now));
            let receipt = self
                .messages
                .status_message(
                    overdue.message_row,
                    status_document(overdue.message_id, &job),
                )
                .await?;
            if self
                .store
                .record_expired(overdue.letter, &receipt, now)
                .await?
            {
                expired += 1;
                if receipt.push {
                    self.outbox_work.notify_waiters();
                }
            }
        }
        Ok(expired)
    }

    /// Every signature in `files` (name, SHA-256) that are signed PDFs,
    /// checked against the trust anchors now.
    async fn signatures(
        &self,
        files: Vec<(String, String)>,
    ) -> Result<Vec<SignatureSummary>, AppError> {
        let mut summaries = Vec::new();
        for (document_name, sha256) in files {
            let Some(digest) = Sha256Digest::from_hex(&sha256) else {
                continue;
            };
            let bytes = self.blobs.get(&digest).await.map_err(internal)?;
            if !verify::may_be_signed(&bytes) {
                continue;
            }
            let (anchors, at) = (self.anchors.clone(), self.clock.now());
            let checks =
                tokio::task::spawn_blocking(move || verify::check_pdf(&bytes, &anchors, at))
                    .await
                    .map_err(|error| internal(anyhow::Error::from(error)))?;
            summaries.extend(checks.into_iter().map(|check| SignatureSummary {
                document_name: document_name.clone(),
                signer: check.signer,
                name: check.name,
                signed_at: check.signed_at,
                timestamped: check.timestamped,
                verdict: match check.verdict {
                    verify::Verdict::Valid => SignatureVerdict::Valid,
                    verify::Verdict::UnknownSigner => SignatureVerdict::UnknownSigner,
                    verify::Verdict::Invalid(_) => SignatureVerdict::Invalid,
                },
            }));
        }
        Ok(summaries)
    }
}

/// Where a signer's page and form are: the letter for its recipient, the
/// signing page for the others.
fn page_of(letter: LetterId, position: usize) -> (String, String) {
    match position {
        0 => (
            format!("/brev/{letter}"),
            format!("/brev/{letter}/signering"),
        ),
        _ => (
            format!("/signering/{letter}"),
            format!("/signering/{letter}"),
        ),
    }
}

/// The viewer's part of a job, as their page shows it; signing needs a login
/// at `required`.
fn signing_state(
    job: &Job,
    position: usize,
    viewer_level: SecurityLevel,
    required: SecurityLevel,
    now: DateTime<Utc>,
) -> SigningState {
    let own = &job.progress[position];
    match SigningState::from_status(
        own.status,
        own.status_at,
        own.signed_upload
            .map(|upload| format!("/opplastinger/{upload}")),
    ) {
        SigningState::Open if now >= job.order.deadline => SigningState::Expired,
        SigningState::Open if viewer_level < required => SigningState::NeedsStepUp,
        state => state,
    }
}

/// The order as the signer at `position` sees it; `document` is the one
/// they sign (name, link, SHA-256).
fn signing_view(
    found: &LetterSigning,
    job: &Job,
    position: usize,
    document: (String, String, String),
    viewer: &SignedIn,
    now: DateTime<Utc>,
) -> SigningView {
    let (page_href, form_action) = page_of(found.letter, position);
    let (document_name, document_href, document_sha256) = document;
    SigningView {
        title: job.order.title.clone(),
        sender_name: found.sender_name.clone(),
        document_href,
        document_name,
        document_sha256,
        deadline: job.order.deadline,
        level: job.order.level,
        shown_as: shown_as(&job.order, position),
        // The document is the letter's, so the letter's level counts too.
        state: signing_state(job, position, viewer.level, found.required_level(job), now),
        form_action,
        page_href,
        signers: job
            .order
            .signers
            .iter()
            .zip(&job.progress)
            .enumerate()
            .map(|(index, (signer, progress))| SignerLine {
                name: signer.name.clone(),
                status: progress.status,
                at: progress.status_at,
                is_viewer: index == position,
            })
            .collect(),
        job: job.status(),
        // The recipient keeps the completed document among their own; a
        // later signer's own copy is it when they signed last. A signer who
        // signs alone has it as their signed copy already.
        completed_href: match (job.status(), position) {
            _ if job.progress.len() == 1 => None,
            (JobStatus::CompletedSuccessfully, 0) => job.signed_upload,
            (JobStatus::CompletedSuccessfully, _) if position + 1 == job.progress.len() => {
                job.progress[position].signed_upload
            }
            _ => None,
        }
        .map(|upload| format!("/opplastinger/{upload}")),
    }
}

#[async_trait]
impl Signing for SigningService {
    async fn area(&self, viewer: &SignedIn, letter: LetterId) -> Result<SigningArea, AppError> {
        let now = self.clock.now();
        let found = self
            .store
            .letter_signing(&viewer.fnr, letter, now)
            .await
            .map_err(internal)?
            .ok_or(AppError::NotFound)?;
        // Below the letter's level the page shows only that it is locked.
        if viewer.level < found.security_level {
            return Ok(SigningArea::default());
        }
        let mut files: Vec<(String, String)> = found
            .documents
            .iter()
            .filter(|document| document.media_type == "application/pdf")
            .map(|document| (document.file_name.clone(), document.sha256.clone()))
            .collect();
        if let Some(signed) = found.job.as_ref().and_then(Job::latest_signed) {
            let title = &found
                .job
                .as_ref()
                .map(|job| job.order.title.clone())
                .unwrap_or_default();
            files.push((signed_file_name(title, "signert"), signed.to_owned()));
        }
        let signatures = self.signatures(files).await?;
        let order = found.job.as_ref().and_then(|job| {
            let main = found.main_document()?;
            Some(signing_view(
                &found,
                job,
                0,
                (
                    main.file_name.clone(),
                    format!("/dokumenter/{letter}/0"),
                    main.sha256.clone(),
                ),
                viewer,
                now,
            ))
        });
        Ok(SigningArea { order, signatures })
    }

    async fn task(&self, viewer: &SignedIn, letter: LetterId) -> Result<SigningArea, AppError> {
        let now = self.clock.now();
        // The recipient signs in the letter itself.
        let (found, job, position) = self
            .seat(viewer, Via::SigningPage, letter, now)
            .await
            .map_err(|error| match error {
                SignError::NotFound => AppError::NotFound,
                other => internal(anyhow::Error::from(other)),
            })?;
        let main = found.main_document().ok_or(AppError::NotFound)?;
        let to_sign = job.document_for(position, &main.sha256).to_owned();
        let signatures = match job.latest_signed() {
            Some(signed) => {
                self.signatures(vec![(
                    signed_file_name(&job.order.title, "signert"),
                    signed.to_owned(),
                )])
                .await?
            }
            None => Vec::new(),
        };
        let view = signing_view(
            &found,
            &job,
            position,
            (
                main.file_name.clone(),
                format!("/signering/{letter}/dokument"),
                to_sign,
            ),
            viewer,
            now,
        );
        Ok(SigningArea {
            order: Some(view),
            signatures,
        })
    }

    async fn tasks(&self, viewer: &SignedIn) -> Result<Vec<SigningTask>, AppError> {
        let now = self.clock.now();
        let tasks = self
            .store
            .signer_tasks(&viewer.fnr, now)
            .await
            .map_err(internal)?;
        Ok(tasks
            .into_iter()
            .map(|task| {
                let (page_href, _) = page_of(task.letter, task.position);
                SigningTask {
                    title: task.job.order.title.clone(),
                    sender_name: task.sender_name,
                    deadline: task.job.order.deadline,
                    href: match task.position {
                        0 => format!("{page_href}#signering"),
                        _ => page_href,
                    },
                    state: signing_state(
                        &task.job,
                        task.position,
                        viewer.level,
                        task.job.order.level,
                        now,
                    ),
                    turn: task.position + 1,
                    signers: task.job.progress.len(),
                }
            })
            .collect())
    }
}

/// The signed PDF's file name: the title and `note` ("signert").
fn signed_file_name(title: &str, note: &str) -> String {
    let name = format!("{} ({note}).pdf", title.replace(['/', '\\'], "-"));
    app::domain::UploadName::parse(&name)
        .map(|name| name.to_string())
        .unwrap_or_else(|_| "Signert dokument.pdf".to_owned())
}

/// The signer at `position` as the signed document shows them, by the
/// order's choice.
fn shown_as(order: &SigningOrder, position: usize) -> String {
    let signer = &order.signers[position];
    match order.identifier {
        SignerIdentifier::PersonalIdAndName => {
            format!(
                "{}, f\u{f8}dselsnummer {}",
                signer.name,
                signer.fnr.as_str()
            )
        }
        SignerIdentifier::BirthDateAndName => format!(
            "{}, f\u{f8}dt {}",
            signer.name,
            signer.fnr.birth_date().format("%d.%m.%Y")
        ),
        SignerIdentifier::Name => signer.name.clone(),
    }
}

/// The signer at `position` in the login evidence, by the order's choice.
fn signer_identity(order: &SigningOrder, position: usize) -> Value {
    let signer = &order.signers[position];
    match order.identifier {
        SignerIdentifier::PersonalIdAndName => {
            json!({"navn": signer.name, "personidentifikator": signer.fnr.as_str()})
        }
        SignerIdentifier::BirthDateAndName => json!({
            "navn": signer.name,
            "foedselsdato": signer.fnr.birth_date().format("%Y-%m-%d").to_string(),
        }),
        SignerIdentifier::Name => json!({"navn": signer.name}),
    }
}

/// `signeringsoppdrag`: how the job of message `message_id` stands, as the
/// agency's status and receipts give it (docs/signing.md).
pub fn status_document(message_id: MessageId, job: &Job) -> Map<String, Value> {
    let time = |at: DateTime<Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let signers: Vec<Value> = job
        .order
        .signers
        .iter()
        .zip(&job.progress)
        .map(|(signer, progress)| {
            let mut line = Map::new();
            line.insert("personidentifikator".into(), json!(signer.fnr.as_str()));
            line.insert("status".into(), json!(progress.status.code()));
            if let Some(at) = progress.status_at {
                line.insert("tidspunkt".into(), json!(time(at)));
            }
            if let Some(level) = progress.signed_level {
                line.insert("sikkerhetsnivaa".into(), json!(level.as_number()));
            }
            if let Some(reason) = &progress.reason {
                line.insert("begrunnelse".into(), json!(reason));
            }
            Value::Object(line)
        })
        .collect();
    let mut order = Map::new();
    order.insert("meldingId".into(), json!(message_id.to_string()));
    order.insert("tittel".into(), json!(job.order.title));
    order.insert("status".into(), json!(job.status().code()));
    order.insert("frist".into(), json!(time(job.order.deadline)));
    order.insert("sikkerhetsnivaa".into(), json!(job.order.level.as_number()));
    order.insert("signatarer".into(), Value::Array(signers));
    if let Some(sha256) = &job.signed_sha256 {
        order.insert(
            "signertDokument".into(),
            json!({
                "href": format!("/messages/out/{message_id}/signing/document"),
                "sha256": sha256,
            }),
        );
    }
    let mut body = Map::new();
    body.insert("signeringsoppdrag".into(), Value::Object(order));
    body
}

/// Expires overdue orders every `interval`.
pub struct ExpiryWorker {
    service: Arc<SigningService>,
    interval: Duration,
}

impl ExpiryWorker {
    pub fn new(service: Arc<SigningService>, interval: Duration) -> Self {
        Self { service, interval }
    }

    pub async fn run(self) {
        crate::rounds::repeat(
            self.interval,
            "overdue signing orders expired",
            "expiring signing orders failed",
            || self.service.settle_expired(100),
        )
        .await;
    }
}
