//! Signing: an agency asks the citizen to sign a letter's PDF (Postkasse's
//! `signeringsoppdrag` extension, docs/signing.md); the citizen signs it in
//! the letter view after a login at the order's level, or declines; the
//! agency follows the order through receipts and its status, and fetches
//! the signed PDF. Every signature in a letter's PDFs is checked for the
//! page.
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

pub use store::{AgencyJob, Job, LetterSigning, Outcome, Overdue, Store, StoredDocument};

use crate::{
    auth::LoginEvidence,
    blobs::BlobStore,
    clock::Clock,
    errors::internal,
    notify::SenderReceipt,
    seal::{Appearance, EmbeddedFile, Sealer, VisibleSignature},
    timestamp::TimestampAuthority,
    trust::TrustAnchors,
};
use app::{
    api::{
        session::SignedIn,
        signing::{
            ssr::Signing, SignatureSummary, SignatureVerdict, SigningArea, SigningState,
            SigningView, REASON_MAX_CHARS,
        },
    },
    domain::{
        LetterId, MessageId, OrgNr, Sha256Digest, SignerIdentifier, SignerStatus, SigningOrder,
        UploadId,
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
        }
    }

    /// The viewer's letter and its waiting order, when they may act on it now.
    async fn waiting(
        &self,
        viewer: &SignedIn,
        letter: LetterId,
        now: DateTime<Utc>,
    ) -> Result<(LetterSigning, Job), SignError> {
        let found = self
            .store
            .letter_signing(&viewer.fnr, letter, now)
            .await
            .map_err(anyhow::Error::from)?
            .ok_or(SignError::NotFound)?;
        let job = found.job.clone().ok_or(SignError::NotFound)?;
        if viewer.level < found.security_level || viewer.level < job.order.level {
            return Err(SignError::NeedsHigherLevel);
        }
        match job.status {
            SignerStatus::Waiting if now >= job.order.deadline => Err(SignError::Expired),
            SignerStatus::Waiting => Ok((found, job)),
            SignerStatus::Expired => Err(SignError::Expired),
            SignerStatus::Cancelled => Err(SignError::Cancelled),
            SignerStatus::Signed | SignerStatus::Rejected => Err(SignError::Answered),
        }
    }

    /// Signs the letter's document for the viewer, whose login `evidence`
    /// shows; a second submit after the first signed changes nothing.
    pub async fn sign(
        &self,
        viewer: &SignedIn,
        letter: LetterId,
        evidence: &LoginEvidence,
    ) -> Result<(), SignError> {
        let now = self.clock.now();
        let (found, job) = self.waiting(viewer, letter, now).await?;
        if evidence.level < job.order.level {
            return Err(SignError::NeedsHigherLevel);
        }
        let main = found
            .documents
            .iter()
            .find(|document| document.position == 0)
            .ok_or_else(|| anyhow::anyhow!("a signing order without its document"))?;
        let digest = Sha256Digest::from_hex(&main.sha256)
            .ok_or_else(|| anyhow::anyhow!("a stored document's digest"))?;
        let original = self
            .blobs
            .get(&digest)
            .await
            .map_err(|error| anyhow::anyhow!("reading the document to sign: {error}"))?;
        let signed = self
            .signed_pdf(&found, &job.order, &main.sha256, original, evidence, now)
            .await?;
        let size_bytes = signed.len() as u64;
        let signed_digest = self
            .blobs
            .put(bytes::Bytes::from(signed))
            .await
            .map_err(|error| anyhow::anyhow!("storing a signed document: {error}"))?;
        let name = signed_file_name(&job.order.title);
        let signed_job = Job {
            status: SignerStatus::Signed,
            status_at: Some(now),
            signed_level: Some(evidence.level),
            signed_sha256: Some(signed_digest.to_hex()),
            ..job
        };
        let recorded = self
            .record(
                viewer,
                &found,
                &signed_job,
                &Outcome::Signed {
                    level: evidence.level,
                    upload: UploadId::generate(),
                    name: &name,
                    sha256: &signed_digest.to_hex(),
                    size_bytes,
                },
                now,
            )
            .await?;
        if recorded {
            tracing::info!(letter = %letter, "document signed");
        }
        Ok(())
    }

    /// Records that the viewer declines to sign, with their reason.
    pub async fn decline(
        &self,
        viewer: &SignedIn,
        letter: LetterId,
        reason: Option<&str>,
    ) -> Result<(), SignError> {
        let reason = reason.map(str::trim).filter(|reason| !reason.is_empty());
        if reason.is_some_and(|reason| reason.chars().count() > REASON_MAX_CHARS) {
            return Err(SignError::ReasonTooLong);
        }
        let now = self.clock.now();
        let (found, job) = self.waiting(viewer, letter, now).await?;
        let declined = Job {
            status: SignerStatus::Rejected,
            status_at: Some(now),
            reason: reason.map(str::to_owned),
            ..job
        };
        self.record(
            viewer,
            &found,
            &declined,
            &Outcome::Rejected { reason },
            now,
        )
        .await?;
        Ok(())
    }

    /// Stores how the signer's part ended with the agency's receipt; false
    /// when another request got there first.
    async fn record(
        &self,
        viewer: &SignedIn,
        found: &LetterSigning,
        job: &Job,
        outcome: &Outcome<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, SignError> {
        let (Some(message_row), Some(message_id)) = (found.message_row, found.message_id) else {
            return Err(anyhow::anyhow!("a signing order without its message").into());
        };
        let receipt = self
            .messages
            .status_message(message_row, status_document(message_id, job))
            .await?;
        let recorded = self
            .store
            .record(&viewer.fnr, found.letter, outcome, &receipt, now)
            .await
            .map_err(anyhow::Error::from)?;
        if recorded && receipt.push {
            self.outbox_work.notify_waiters();
        }
        Ok(recorded)
    }

    /// The document signed: a signature page and the login evidence added
    /// in an incremental update, signed, and timestamped by the TSA.
    async fn signed_pdf(
        &self,
        found: &LetterSigning,
        order: &SigningOrder,
        document_sha256: &str,
        original: bytes::Bytes,
        evidence: &LoginEvidence,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<u8>> {
        let shown_as = shown_as(order);
        let evidence_file = serde_json::to_vec_pretty(&json!({
            "signatar": signer_identity(order),
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
        let name = order.signer.name.clone();
        let reason = format!("Signert av {} i Postkasse", order.signer.name);
        let (prepared, mut signed) = tokio::task::spawn_blocking(move || {
            let prepared = crate::seal::prepare(
                &original,
                &Appearance {
                    field_name: "Signatur",
                    name: &name,
                    reason: &reason,
                    at: now,
                    visible: Some(VisibleSignature {
                        heading: "Elektronisk signatur / Electronic signature",
                        lines,
                    }),
                    embedded: vec![EmbeddedFile {
                        name: "signeringsbevis.json",
                        media_type: "application/json",
                        description: "Innloggingsbevis for signaturen / Login evidence",
                        bytes: &evidence_file,
                    }],
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

    /// Withdraws a waiting job; the citizen's page then says so.
    pub async fn cancel(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
    ) -> Result<Map<String, Value>, JobError> {
        let found = self.agency_job(agency, message_id).await?;
        if found.job.status != SignerStatus::Waiting {
            return Err(JobError::WrongStatus(found.job.status.job_status()));
        }
        let now = self.clock.now();
        let cancelled = Job {
            status: SignerStatus::Cancelled,
            status_at: Some(now),
            ..found.job
        };
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
            // Signed, declined or expired meanwhile.
            let now_found = self.agency_job(agency, message_id).await?;
            return Err(JobError::WrongStatus(now_found.job.status.job_status()));
        }
        if receipt.push {
            self.outbox_work.notify_waiters();
        }
        tracing::info!(message = %message_id, "signing job cancelled by its agency");
        Ok(document)
    }

    /// The signed PDF of a completed job.
    pub async fn signed_document(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
    ) -> Result<bytes::Bytes, JobError> {
        let found = self.agency_job(agency, message_id).await?;
        let digest = match (found.job.status, &found.job.signed_sha256) {
            (SignerStatus::Signed, Some(digest)) => Sha256Digest::from_hex(digest)
                .ok_or_else(|| anyhow::anyhow!("a stored signed document's digest"))?,
            (status, _) => return Err(JobError::WrongStatus(status.job_status())),
        };
        Ok(self
            .blobs
            .get(&digest)
            .await
            .map_err(|error| anyhow::anyhow!("reading a signed document: {error}"))?)
    }

    /// Expires waiting orders whose deadline has passed, telling their
    /// agencies; returns how many.
    pub async fn settle_expired(&self, limit: u32) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let mut expired = 0;
        for overdue in self.store.overdue(now, limit).await? {
            let job = Job {
                status: SignerStatus::Expired,
                status_at: Some(now),
                ..overdue.job
            };
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

    /// Every signature in the letter's PDFs (and the signed document),
    /// checked against the trust anchors now.
    async fn signatures(&self, found: &LetterSigning) -> Result<Vec<SignatureSummary>, AppError> {
        let mut files: Vec<(String, String)> = found
            .documents
            .iter()
            .filter(|document| document.media_type == "application/pdf")
            .map(|document| (document.file_name.clone(), document.sha256.clone()))
            .collect();
        if let Some(job) = &found.job {
            if let Some(signed) = &job.signed_sha256 {
                files.push((signed_file_name(&job.order.title), signed.clone()));
            }
        }
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
        let signatures = self.signatures(&found).await?;
        let order = found.job.as_ref().and_then(|job| {
            let main = found
                .documents
                .iter()
                .find(|document| document.position == 0)?;
            let state = match SigningState::from_status(
                job.status,
                job.status_at,
                job.signed_upload
                    .map(|upload| format!("/opplastinger/{upload}")),
            ) {
                SigningState::Open if now >= job.order.deadline => SigningState::Expired,
                SigningState::Open if viewer.level < job.order.level => SigningState::NeedsStepUp,
                state => state,
            };
            Some(SigningView {
                title: job.order.title.clone(),
                sender_name: found.sender_name.clone(),
                document_href: format!("/dokumenter/{letter}/0"),
                document_name: main.file_name.clone(),
                document_sha256: main.sha256.clone(),
                deadline: job.order.deadline,
                level: job.order.level,
                shown_as: shown_as(&job.order),
                state,
            })
        });
        Ok(SigningArea { order, signatures })
    }
}

/// The signed PDF's file name.
fn signed_file_name(title: &str) -> String {
    let name = format!("{} (signert).pdf", title.replace(['/', '\\'], "-"));
    app::domain::UploadName::parse(&name)
        .map(|name| name.to_string())
        .unwrap_or_else(|_| "Signert dokument.pdf".to_owned())
}

/// The signer as the signed document shows them, by the order's choice.
fn shown_as(order: &SigningOrder) -> String {
    let signer = &order.signer;
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

/// The signer in the login evidence, by the order's choice.
fn signer_identity(order: &SigningOrder) -> Value {
    let signer = &order.signer;
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
    let mut signer = Map::new();
    signer.insert(
        "personidentifikator".into(),
        json!(job.order.signer.fnr.as_str()),
    );
    signer.insert("status".into(), json!(job.status.code()));
    if let Some(at) = job.status_at {
        signer.insert("tidspunkt".into(), json!(time(at)));
    }
    if let Some(level) = job.signed_level {
        signer.insert("sikkerhetsnivaa".into(), json!(level.as_number()));
    }
    if let Some(reason) = &job.reason {
        signer.insert("begrunnelse".into(), json!(reason));
    }
    let mut order = Map::new();
    order.insert("meldingId".into(), json!(message_id.to_string()));
    order.insert("tittel".into(), json!(job.order.title));
    order.insert("status".into(), json!(job.status.job_status()));
    order.insert("frist".into(), json!(time(job.order.deadline)));
    order.insert("sikkerhetsnivaa".into(), json!(job.order.level.as_number()));
    order.insert("signatarer".into(), json!([signer]));
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
