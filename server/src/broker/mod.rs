//! The broker: takes DPI messages from agencies, looks the citizen up in the
//! register, routes each letter to a mailbox here, to another provider, to the
//! print queue or back to the sender as a `feil`, and keeps the receipts the
//! agency fetches.
//!
//! [`Broker::submit`] is the whole way in. Everything CPU-heavy (JWT and CMS
//! work, unzipping, hashing) runs off the async threads. A message is answered
//! only after it, its routing decision, its statuses, receipts and outbox work
//! are committed together ([`committer`]); [`outbox`] workers do the rest.

pub mod client;
pub mod cms;
pub mod committer;
pub mod extensions;
pub mod http;
pub mod message;
pub mod openapi;
pub mod outbox;
pub mod package;
mod receipt_issuer;
pub mod receipts;
pub mod routing;
mod store;
pub mod xades;

pub use receipt_issuer::{receipt_push, ReceiptIssuer, ReceiptPush};
pub use store::{
    CommitOutcome, JobOutcome, LetterTerms, NewMessage, NewReceipt, OpeningReceiptState, OutboxJob,
    OutboxKind, StatusEntry, Store, StoredChannel, StoredMessage, StoredReceipt, TransportStatus,
};

use crate::{
    agency::token_verifier::{ExpectedParties, TokenVerifier},
    blobs::{digest_of, sha256_of, BlobStore},
    clock::Clock,
    krr::providers::OwnProvider,
    print::{self, verification::VerificationCode, NewPrintJob, PrintOrder},
    store::StorageError,
    trust::{TrustAnchors, VerifiedCertificate},
    validation::FieldError,
};
use anyhow::Context;
use app::domain::{
    ConversationId, Document, DocumentRole, Fnr, Letter, LetterId, MessageId, OrgNr, PackageSigner,
    Sender, Sha256Digest, SyntheticIds,
};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use committer::GroupCommitter;
use message::{Addressee, Body, BusinessMessage, DigitalLetter, Expectations, MovedLetter};
use receipts::{receipt, ErrorKind, ReceiptContext, ReceiptKind};
use routing::{Channel, RecipientFacts};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio::sync::Notify;
use uuid::Uuid;
use x509_cert::{der::Decode, Certificate};

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("invalid message")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StorageError> for BrokerError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound => BrokerError::NotFound,
            other => BrokerError::Internal(anyhow::Error::new(other)),
        }
    }
}

/// What the sender is told once the message is safely stored; a resend of
/// the same message gets the same answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Acceptance {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub received_at: DateTime<Utc>,
}

impl From<&StoredMessage> for Acceptance {
    fn from(stored: &StoredMessage) -> Self {
        Acceptance {
            message_id: stored.message_id,
            conversation_id: stored.conversation_id,
            received_at: stored.received_at,
        }
    }
}

/// A `kanal`: keeps an agency's sender systems' receipts apart.
/// `[a-zA-Z0-9_-]`, at most 28 characters, case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kanal(String);

impl Kanal {
    pub fn parse(text: Option<&str>) -> Result<Kanal, FieldError> {
        let Some(text) = text.filter(|text| !text.is_empty()) else {
            return Ok(Kanal::default());
        };
        if text.len() > 28
            || !text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
        {
            return Err(FieldError::new(
                "kanal",
                "must be at most 28 letters, digits, _ or -",
            ));
        }
        Ok(Kanal(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message as it arrived over HTTP.
pub struct Submission {
    /// The organisation the access token was issued to.
    pub agency: OrgNr,
    /// The client's name, used as the sender's name when the agency is not registered.
    pub client_name: String,
    pub kanal: Kanal,
    pub forretningsmelding: Bytes,
    /// The package; only a receipt from another provider comes without one.
    pub dokumentpakke: Option<Bytes>,
}

#[derive(Debug, Clone)]
pub struct BrokerSettings {
    pub synthetic_ids: SyntheticIds,
    pub package_limits: package::PackageLimits,
    pub max_group: usize,
    /// The daytime window notices are scheduled into.
    pub notice_window: crate::notify::schedule::DayWindow,
    /// What print houses take, checked before a letter is queued for paper.
    pub preflight: print::preflight::PreflightRules,
}

pub struct Broker {
    store: Arc<dyn Store>,
    /// Postal addresses, for letters that go to print.
    print: Arc<dyn print::Store>,
    agencies: Arc<dyn crate::agency::Store>,
    register: Arc<dyn crate::krr::Store>,
    blobs: Arc<dyn BlobStore>,
    clock: Arc<dyn Clock>,
    own: Arc<OwnProvider>,
    own_certificate: Arc<Certificate>,
    committer: GroupCommitter,
    outbox_work: Arc<Notify>,
    settings: BrokerSettings,
    receipts: ReceiptIssuer,
    checks: SenderChecks,
}

/// What a message's sender is checked against besides its access token.
#[derive(Clone)]
pub struct SenderChecks {
    /// The issuer of the Maskinporten tokens messages embed.
    pub tokens: Arc<TokenVerifier>,
    /// The certificate authorities enterprise certificates must chain to.
    pub anchors: Arc<TrustAnchors>,
}

/// The stores the broker reads and writes.
pub struct BrokerStores {
    /// Its own: messages, statuses, receipts, the outbox.
    pub messages: Arc<dyn Store>,
    pub print: Arc<dyn print::Store>,
    pub agencies: Arc<dyn crate::agency::Store>,
    pub register: Arc<dyn crate::krr::Store>,
}

impl Broker {
    pub fn new(
        stores: BrokerStores,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        own: Arc<OwnProvider>,
        checks: SenderChecks,
        settings: BrokerSettings,
    ) -> anyhow::Result<Broker> {
        let own_certificate = Arc::new(
            Certificate::from_der(&own.provider.certificate_der)
                .context("this provider's certificate does not parse")?,
        );
        let BrokerStores {
            messages: store,
            print,
            agencies,
            register,
        } = stores;
        let receipts = ReceiptIssuer::new(
            store.clone(),
            agencies.clone(),
            register.clone(),
            own.provider.org_nr.clone(),
            clock.clone(),
        );
        Ok(Broker {
            receipts,
            committer: GroupCommitter::start(store.clone(), settings.max_group),
            store,
            print,
            agencies,
            register,
            blobs,
            clock,
            own,
            own_certificate,
            outbox_work: Arc::new(Notify::new()),
            settings,
            checks,
        })
    }

    /// Woken whenever committed work waits in the outbox.
    pub fn outbox_work(&self) -> Arc<Notify> {
        self.outbox_work.clone()
    }

    /// The largest package an agency may send.
    pub fn max_package_bytes(&self) -> usize {
        usize::try_from(self.settings.package_limits.max_total_bytes).unwrap_or(usize::MAX)
    }

    pub fn own_provider(&self) -> &OwnProvider {
        &self.own
    }

    /// Checks, routes and stores a message; answers once it is durable.
    #[tracing::instrument(skip_all, fields(agency = %submission.agency))]
    pub async fn submit(&self, submission: Submission) -> Result<Acceptance, BrokerError> {
        let now = self.clock.now();
        let agency = self.agencies.agency_by_org_nr(&submission.agency).await?;
        let mut problems = Vec::new();

        let decoded = decode_business_document(
            &submission.forretningsmelding,
            agency.as_ref(),
            &self.checks.anchors,
            now,
        )
        .await;
        let (document, signer) = match decoded {
            Ok((document, signer)) => (Some(document), signer),
            Err(problem) => {
                problems.push(problem);
                (None, Signer::Unsigned)
            }
        };
        if let Some(document) = document
            .as_ref()
            .filter(|document| receipts::is_receipt(document))
        {
            return self
                .accept_provider_receipt(&submission, document, signer, now)
                .await;
        }
        let message = document.as_ref().and_then(|document| {
            message::parse(
                document,
                &Expectations {
                    agency: &submission.agency,
                    provider: &self.own.provider.org_nr,
                    synthetic_ids: self.settings.synthetic_ids,
                    now,
                },
            )
            .map_err(|found| problems.extend(found))
            .ok()
        });
        if let Some(message) = &message {
            let header_sender = message.processor.as_ref().unwrap_or(&message.sender);
            problems.extend(signer_problem(&signer, header_sender));
            problems.extend(self.sender_problems(message).await?);
        }
        let (fingerprint, package) = match submission.dokumentpakke.clone() {
            Some(bytes) => match self.open_package(bytes).await? {
                (fingerprint, Ok(package)) => (Some(fingerprint), Some(package)),
                (fingerprint, Err(found)) => {
                    problems.extend(found);
                    (Some(fingerprint), None)
                }
            },
            None => {
                problems.push(FieldError::new(
                    "dokumentpakke",
                    http::DOKUMENTPAKKE_REQUIRED,
                ));
                (None, None)
            }
        };
        if let (Some(message), Some(fingerprint)) = (&message, &fingerprint) {
            if message.package_fingerprint != *fingerprint {
                problems.push(FieldError::new(
                    "dokumentpakke",
                    "does not match dokumentpakkefingeravtrykk (the SHA-256 of the package as sent)",
                ));
            }
        }
        let mut extensions = extensions::Extensions::default();
        if let (Some(message), Some(opened)) = (&message, &package) {
            check_package_against_message(&opened.package, message, &mut problems);
            match extensions::read(&opened.package, now) {
                Ok(found) => extensions = found,
                Err(found) => problems.extend(found),
            }
            let forwarded_by_provider = match &message.processor {
                Some(processor) => self.is_other_provider(processor).await?,
                None => false,
            };
            problems.extend(package_signer_problem(
                opened.signature.as_ref(),
                message,
                forwarded_by_provider,
            ));
        }
        let (
            Some(message),
            Some(OpenedPackage {
                package,
                signature,
                plain: plain_package,
                plain_digest,
            }),
            true,
        ) = (message, package, problems.is_empty())
        else {
            return Err(BrokerError::Invalid(problems));
        };

        // A resend is recognised when it is committed (the message id is
        // unique per agency), not by a lookup here: that saves every new
        // letter a query, and a resend only repeats work whose writes are
        // no-ops (blobs are content-addressed).
        let content_sha256 = content_hash(&message.document, &plain_digest);

        let recipient = match message.body.letter() {
            Some(letter) => Some(self.recipient(letter, &package).await?),
            None => None,
        };
        if let (Some(order), Some(recipient)) = (&extensions.signing_order, &recipient) {
            if let Some(problem) =
                crate::signing::order::check_signers(order, recipient, extensions::MAIN_DATA)
            {
                return Err(BrokerError::Invalid(vec![problem]));
            }
        }
        let (mut destination, mut reason) = self.route(&message, recipient.as_ref(), now).await?;
        if let Destination::Mailbox = destination {
            let unshowable = unshowable_documents(&package);
            if !unshowable.is_empty() {
                return Err(BrokerError::Invalid(unshowable));
            }
        }
        if let Destination::Print(_) = destination {
            let unprintable = self.preflight(&package).await?;
            if !unprintable.is_empty() {
                if let Body::Print(_) = message.body {
                    return Err(BrokerError::Invalid(unprintable));
                }
                // A digital letter the rules sent to paper was valid as sent:
                // it is accepted, and the sender learns from a feil receipt.
                destination = Destination::Refused;
                reason = format!(
                    "{reason}, but it cannot be printed: {}",
                    unprintable
                        .iter()
                        .map(|problem| format!("{} {}", problem.name, problem.reason))
                        .collect::<Vec<_>>()
                        .join("; ")
                );
            }
        }
        // The package and (for a mailbox here) the documents are staged at
        // once: a large one is written and synced to a file, which takes a
        // while and need not queue; a small one rides along in the commit.
        let (package_blob, documents) =
            tokio::join!(self.blobs.stage(plain_digest, plain_package), async {
                match destination {
                    Destination::Mailbox | Destination::Print(_) => {
                        self.stage_documents(&package).await.map(Some)
                    }
                    _ => Ok(None),
                }
            });
        let package_blob = package_blob.context("storing the package failed")?;
        let (documents, document_blobs) = documents?.unzip();
        let mut inline_blobs = document_blobs.unwrap_or_default();
        inline_blobs.extend(
            package_blob
                .inline
                .map(|bytes| (package_blob.digest, bytes)),
        );
        let sender_name = match &message.processor {
            // The citizen sees the agency, not the processor that sent for it.
            Some(_) => self
                .agencies
                .agency_by_org_nr(&message.sender)
                .await?
                .map_or_else(|| message.sender.to_string(), |agency| agency.name),
            None => agency
                .as_ref()
                .map(|agency| agency.name.clone())
                .unwrap_or_else(|| submission.client_name.clone()),
        };
        let push_receipts = self
            .receipts
            .pushes_to(agency.as_ref(), &submission.agency)
            .await?;
        let new = self
            .prepare(
                Prepared {
                    submission: &submission,
                    recipient,
                    documents,
                    message,
                    destination,
                    reason,
                    package,
                    signature,
                    package_digest: package_blob.digest,
                    inline_blobs,
                    content_sha256: content_sha256.clone(),
                    sender_name,
                    push_receipts,
                    extensions,
                },
                now,
            )
            .await?;
        let has_outbox_work =
            new.push_receipts || matches!(new.channel, StoredChannel::Provider(_));
        let (agency_org, message_id) = (new.agency.clone(), new.message_id);
        let acceptance = Acceptance {
            message_id: new.message_id,
            conversation_id: new.conversation_id,
            received_at: new.received_at,
        };
        match self.committer.commit(new).await? {
            CommitOutcome::Stored => {
                if has_outbox_work {
                    self.outbox_work.notify_waiters();
                }
                tracing::info!(%message_id, "message accepted");
                Ok(acceptance)
            }
            CommitOutcome::Duplicate => {
                // Another request with this message id won the race.
                let stored = self
                    .store
                    .message(&agency_org, message_id)
                    .await?
                    .context("a duplicate message vanished")?;
                answer_resend(&stored, &content_sha256)
            }
        }
    }

    /// Whether `org_nr` is another mailbox provider in the register.
    async fn is_other_provider(&self, org_nr: &OrgNr) -> Result<bool, BrokerError> {
        Ok(*org_nr != self.own.provider.org_nr
            && self.register.mailbox_provider(org_nr).await?.is_some())
    }

    /// A receipt another mailbox provider sends about a letter this broker
    /// forwarded to it: checked (signed by that provider's enterprise
    /// certificate, from the organisation the token names, about a letter
    /// that went there), then queued for the agency as if made here, once
    /// however often it comes.
    async fn accept_provider_receipt(
        &self,
        submission: &Submission,
        document: &Value,
        signer: Signer,
        now: DateTime<Utc>,
    ) -> Result<Acceptance, BrokerError> {
        let mut problems = Vec::new();
        if submission.dokumentpakke.is_some() {
            problems.push(FieldError::new(
                "dokumentpakke",
                "must be left out: a receipt has no package",
            ));
        }
        let incoming = receipts::parse_incoming(document).map_err(|found| {
            problems.extend(found);
            BrokerError::Invalid(std::mem::take(&mut problems))
        })?;
        if incoming.provider != submission.agency {
            problems.push(FieldError::new(
                HEADER_SENDER,
                "must be the organisation the access token was issued to",
            ));
        }
        match &signer {
            Signer::Certificate(_) => problems.extend(signer_problem(&signer, &incoming.provider)),
            Signer::Unsigned | Signer::RegisteredKey => problems.push(FieldError::new(
                BUSINESS_MESSAGE,
                "must be a JWS signed with the provider's enterprise certificate (x5c): receipts between providers are signed",
            )),
        }
        if !problems.is_empty() {
            return Err(BrokerError::Invalid(problems));
        }
        let message = self
            .store
            .forwarded_message(&incoming.provider, incoming.conversation_id)
            .await?
            .ok_or_else(|| {
                BrokerError::Invalid(vec![FieldError::new(
                    "forretningsmelding.standardBusinessDocument.standardBusinessDocumentHeader.businessScope.scope[0].instanceIdentifier",
                    format!(
                        "is not the conversation of a letter this broker forwarded to 0192:{}",
                        incoming.provider
                    ),
                )])
            })?;
        let context = ReceiptContext::for_message(&message, &incoming.provider);
        let kind = incoming.kind.body_key();
        let receipt = receipts::receipt_with_id(&context, incoming.kind, incoming.at, incoming.id);
        let client = self.agencies.agency_by_org_nr(&message.agency).await?;
        let push = self
            .receipts
            .pushes_to(client.as_ref(), &message.agency)
            .await?;
        let queued = self
            .store
            .record_provider_receipt(message.row_id, &receipt, push, now)
            .await?;
        if queued && push {
            self.outbox_work.notify_waiters();
        }
        tracing::info!(kind, queued, "receipt from a mailbox provider");
        Ok(Acceptance {
            message_id: MessageId::from_uuid(incoming.id),
            conversation_id: incoming.conversation_id,
            received_at: now,
        })
    }

    /// What is wrong with who sent the message: a processor without a
    /// delegation from the agency, a letter moved here by someone who is not
    /// another mailbox provider, or an embedded Maskinporten token that does
    /// not prove the sender may send.
    async fn sender_problems(
        &self,
        message: &BusinessMessage,
    ) -> Result<Vec<FieldError>, BrokerError> {
        let path = |field: &str| {
            format!(
                "forretningsmelding.standardBusinessDocument.{}.{field}",
                message.body.key()
            )
        };
        let mut problems = Vec::new();
        // A moved letter comes from the citizen's previous provider, sending
        // as itself (the avsender is the letter's original sender).
        let moved_by = match &message.body {
            Body::Moved(_) => Some(message.processor.as_ref().unwrap_or(&message.sender)),
            _ => None,
        };
        match (moved_by, &message.processor) {
            (Some(mover), _) => {
                if !self.is_other_provider(mover).await? {
                    problems.push(FieldError::new(
                        HEADER_SENDER,
                        format!("is 0192:{mover}, which is not a mailbox provider in the register: only a provider moves letters"),
                    ));
                }
            }
            // A token from the network's Maskinporten naming the agency as
            // consumer and the processor as supplier is its word that the
            // agency delegated (checked below); without one, the operator's
            // register must hold the delegation.
            (None, Some(processor)) => {
                if message.maskinportentoken.is_none()
                    && !self
                        .agencies
                        .has_delegation(&message.sender, processor)
                        .await?
                {
                    problems.push(FieldError::new(
                        path("avsender.virksomhetsidentifikator"),
                        format!(
                            "is 0192:{}, which has not let the sender 0192:{processor} send on its behalf",
                            message.sender
                        ),
                    ));
                }
            }
            (None, None) => {}
        }
        if let Some(token) = &message.maskinportentoken {
            let expected = match moved_by {
                Some(mover) => ExpectedParties {
                    agency: mover,
                    processor: None,
                },
                None => ExpectedParties {
                    agency: &message.sender,
                    processor: message.processor.as_ref(),
                },
            };
            if let Err(refusal) = self.checks.tokens.verify(token, expected).await {
                problems.push(FieldError::new(path("maskinportentoken"), refusal.0));
            }
        }
        Ok(problems)
    }

    /// The package's fingerprint as sent, and the checked package with its
    /// plain (decrypted) bytes, or every problem with it. Each byte is hashed
    /// once: a plain package's digest is its fingerprint's.
    async fn open_package(
        &self,
        bytes: Bytes,
    ) -> Result<(String, Result<OpenedPackage, Vec<FieldError>>), BrokerError> {
        let own = self.own.clone();
        let certificate = self.own_certificate.clone();
        let limits = self.settings.package_limits;
        let anchors = self.checks.anchors.clone();
        let now = self.clock.now();
        tokio::task::spawn_blocking(move || {
            let sent = digest_of(&bytes);
            let fingerprint = package::fingerprint_of(&sent);
            let plain = if package::is_zip(&bytes) {
                Ok((bytes, sent))
            } else if package::is_cms(&bytes) {
                cms::decrypt(&bytes, &own.private_key, &certificate)
                    .map(|plain| {
                        let digest = digest_of(&plain);
                        (Bytes::from(plain), digest)
                    })
                    .map_err(|error| vec![FieldError::new("dokumentpakke", error)])
            } else {
                Err(vec![FieldError::new(
                    "dokumentpakke",
                    "must be an ASiC-E zip, or one encrypted as CMS to this provider's certificate",
                )])
            };
            let opened = plain.and_then(|(plain, plain_digest)| {
                let package = package::open(&plain, &limits)?;
                let signature = package
                    .signatures_xml
                    .as_ref()
                    .map(|xml| xades::verify(&package.signed_files(), xml, &anchors, now))
                    .transpose()
                    .map_err(|error| {
                        vec![FieldError::new(package::SIGNATURES, error.to_string())]
                    })?;
                Ok(OpenedPackage {
                    package,
                    signature,
                    plain,
                    plain_digest,
                })
            });
            (fingerprint, opened)
        })
        .await
        .map_err(|error| BrokerError::Internal(error.into()))
    }

    /// The citizen a digital letter is for: named by national id, or found
    /// by their mailbox address here. A mailbox address no one here has, or a
    /// package that names someone else, is the sender's mistake.
    async fn recipient(
        &self,
        letter: &DigitalLetter,
        package: &package::Package,
    ) -> Result<Fnr, BrokerError> {
        let fnr = match &letter.addressee {
            Addressee::Person(fnr) => fnr.clone(),
            Addressee::MailboxHere(address) => self
                .register
                .entry_by_mailbox_address(&self.own.provider.org_nr, address)
                .await?
                .map(|entry| entry.person.fnr)
                .ok_or_else(|| {
                    BrokerError::Invalid(vec![FieldError::new(
                        "forretningsmelding.standardBusinessDocument.digital.mottaker.postkasseadresse",
                        "is not the address of a mailbox at this provider",
                    )])
                })?,
        };
        if package
            .mottaker_personidentifikator
            .as_deref()
            .is_some_and(|id| id != fnr.as_str())
        {
            return Err(BrokerError::Invalid(vec![FieldError::new(
                "dokumentpakke.manifest.xml",
                "names another recipient than the business message",
            )]));
        }
        Ok(fnr)
    }

    /// Where the message goes and why.
    async fn route(
        &self,
        message: &BusinessMessage,
        recipient: Option<&Fnr>,
        now: DateTime<Utc>,
    ) -> Result<(Destination, String), BrokerError> {
        let (letter, recipient) = match (&message.body, recipient) {
            (Body::Print(order), _) => {
                return Ok((
                    Destination::Print(Box::new(order.clone())),
                    "the sender asked for print".to_owned(),
                ))
            }
            (Body::Digital(letter) | Body::Moved(MovedLetter { letter, .. }), Some(recipient)) => {
                (letter, recipient)
            }
            (Body::Digital(_) | Body::Moved(_), None) => {
                return Err(anyhow::anyhow!("a digital letter without its recipient").into())
            }
        };
        if let Addressee::MailboxHere(_) = letter.addressee {
            // The sender looked the citizen up and chose this provider.
            return Ok((
                Destination::Mailbox,
                "addressed to the citizen's mailbox at this provider".to_owned(),
            ));
        }
        let entry = self.register.register_entry(recipient).await?;
        let decide = |address: Option<&crate::print::PostalAddress>| {
            routing::route(
                message.process,
                &RecipientFacts {
                    person: entry.as_ref().map(|entry| &entry.person),
                    provider_has_certificate: entry
                        .as_ref()
                        .is_some_and(|entry| entry.certificate_der.is_some()),
                    postal_address: address,
                },
                &self.own.provider.org_nr,
                now,
            )
        };
        // Most letters go digital: the address is looked up only when the
        // rules ask for paper (without one they refuse the letter).
        let mut decision = decide(None);
        if decision.channel == Channel::Refused {
            let address = self.print.postal_address(recipient).await?;
            decision = decide(address.as_ref());
        }
        tracing::info!(channel = decision.channel.code(), "routed");
        let destination = match decision.channel {
            Channel::OwnMailbox => Destination::Mailbox,
            Channel::Provider(org_nr) => Destination::Provider(org_nr),
            // An interpretation: the return address is the sender's business
            // address, which the print service takes from the Central
            // Coordinating Register (BRREG); see
            // docs/protocol.md#choices-where-the-sources-are-silent.
            Channel::Print(address) => {
                Destination::Print(Box::new(PrintOrder::with_defaults(address, None)))
            }
            Channel::Refused => Destination::Refused,
        };
        Ok((destination, decision.reason))
    }

    /// Preflight for a letter headed for paper: each broken rule, named by
    /// the document it is in. Rendering pages is CPU work, done off the
    /// runtime.
    async fn preflight(&self, package: &package::Package) -> Result<Vec<FieldError>, BrokerError> {
        let rules = self.settings.preflight;
        let documents: Vec<(String, String, Bytes)> = named_documents(package)
            .map(|(field, document)| (field, document.href.clone(), document.bytes.clone()))
            .collect();
        let problems = tokio::task::spawn_blocking(move || {
            documents
                .into_iter()
                .flat_map(|(field, href, bytes)| {
                    print::preflight::check(&bytes, &rules)
                        .into_iter()
                        .map(move |problem| {
                            FieldError::new(field.clone(), format!("{href}, {problem}"))
                        })
                })
                .collect::<Vec<_>>()
        })
        .await
        .context("preflight failed")?;
        Ok(problems)
    }

    /// Stores the documents a mailbox letter needs and builds the message
    /// with everything it causes.
    async fn prepare(
        &self,
        prepared: Prepared<'_>,
        now: DateTime<Utc>,
    ) -> Result<NewMessage, BrokerError> {
        let Prepared {
            submission,
            recipient,
            documents,
            message,
            destination,
            reason,
            package,
            signature,
            package_digest,
            inline_blobs,
            content_sha256,
            sender_name,
            push_receipts,
            extensions,
        } = prepared;
        let context = ReceiptContext {
            conversation_id: message.conversation_id,
            process: message.process,
            provider: &self.own.provider.org_nr,
            agency: &submission.agency,
        };
        let status = |status, beskrivelse: &str| StatusEntry {
            status,
            beskrivelse: beskrivelse.to_owned(),
            timestamp: now,
        };
        let created = status(TransportStatus::Created, "mottatt og lagret");
        let mut notices = Vec::new();
        let (channel, statuses, receipts): (StoredChannel, Vec<StatusEntry>, Vec<NewReceipt>) =
            match destination {
                Destination::Mailbox => {
                    let Some(letter) = message.body.letter() else {
                        return Err(
                            anyhow::anyhow!("a mailbox letter without a digital body").into()
                        );
                    };
                    // A moved letter keeps the day it first arrived and
                    // whether it was opened; it was announced and receipted
                    // where it first arrived.
                    let moved = match &message.body {
                        Body::Moved(moved) => Some(moved),
                        _ => None,
                    };
                    let documents =
                        documents.context("a mailbox letter without its stored documents")?;
                    let recipient = recipient.context("a mailbox letter without its recipient")?;
                    let sender =
                        Sender::new(message.sender.clone(), &sender_name).map_err(|error| {
                            anyhow::anyhow!("the agency's name is not usable: {error}")
                        })?;
                    let delivered = Letter {
                        id: LetterId::generate(),
                        message_id: message.message_id,
                        conversation_id: message.conversation_id,
                        recipient,
                        sender,
                        nonsensitive_title: letter.nonsensitive_title.clone(),
                        title: package.main.title.clone(),
                        security_level: letter.security_level,
                        received_at: moved.map_or(now, |moved| moved.received_at),
                        read_at: moved.and_then(|moved| moved.opened.then_some(now)),
                        documents,
                        link: extensions.link,
                        signer: signature.map(|signature| PackageSigner {
                            org_nr: signature.signer.org_nr,
                            name: signature.signer.subject,
                            signed_at: signature.signing_time,
                        }),
                    };
                    // Repetitions count from the effective time, or from
                    // now when the letter is available at once.
                    if moved.is_none() {
                        notices = crate::notify::notices_for_letter(
                            &letter.notices,
                            &letter.nonsensitive_title,
                            letter.effective_at.unwrap_or(now),
                            &self.settings.notice_window,
                        );
                    }
                    let mut delivered_statuses = vec![
                        created,
                        status(TransportStatus::Sent, "levert til postkassen"),
                    ];
                    if let Some(order) = &letter.print_if_unread {
                        let reminders = crate::notify::reminders(
                            crate::notify::Reminder::PrintIfUnread,
                            &notices,
                            order.deadline,
                            letter.effective_at.unwrap_or(now),
                            &self.settings.notice_window,
                        );
                        notices.extend(reminders);
                        delivered_statuses.push(status(
                            TransportStatus::Sent,
                            &format!(
                                "skrives ut om det ikke er åpnet innen {}",
                                order
                                    .deadline
                                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                            ),
                        ));
                    }
                    // A moved letter was announced where it first arrived.
                    if let (Some(form), None) = (&extensions.reply_form, moved) {
                        let reminders = crate::notify::reminders(
                            crate::notify::Reminder::Reply,
                            &notices,
                            form.deadline,
                            letter.effective_at.unwrap_or(now),
                            &self.settings.notice_window,
                        );
                        notices.extend(reminders);
                    }
                    let terms = LetterTerms {
                        effective_at: letter.effective_at,
                        opening_receipt: letter.opening_receipt,
                        language: Some(letter.language.clone()),
                        print_if_unread: letter.print_if_unread,
                        reply_form: extensions.reply_form,
                        signing_order: extensions.signing_order,
                    };
                    (
                        StoredChannel::Mailbox(Box::new((delivered, terms))),
                        delivered_statuses,
                        // Delivered means available: sent at once, before
                        // any effective time. The agency had this receipt
                        // already for a moved letter.
                        match moved {
                            None => vec![receipt(&context, ReceiptKind::Delivered, now)],
                            Some(_) => vec![],
                        },
                    )
                }
                Destination::Provider(org_nr) => {
                    (StoredChannel::Provider(org_nr), vec![created], vec![])
                }
                Destination::Print(order) => {
                    let documents =
                        documents.context("a print letter without its stored documents")?;
                    (
                        StoredChannel::Print(Box::new(NewPrintJob {
                            order: *order,
                            sender_name: sender_name.clone(),
                            title: package.main.title.to_string(),
                            documents: documents.iter().map(|document| document.digest).collect(),
                            check_code: VerificationCode::generate(),
                            recipient,
                        })),
                        vec![
                            created,
                            status(TransportStatus::Sent, "lagt i utskriftskøen"),
                        ],
                        // The mottakskvittering comes when the print house
                        // has taken the letter (print::answers).
                        vec![],
                    )
                }
                Destination::Refused => (
                    StoredChannel::Refused,
                    vec![created, status(TransportStatus::Failed, &reason)],
                    vec![receipt(
                        &context,
                        ReceiptKind::Error {
                            kind: ErrorKind::Client,
                            details: reason.clone(),
                        },
                        now,
                    )],
                ),
            };
        Ok(NewMessage {
            row_id: Uuid::new_v4(),
            agency: submission.agency.clone(),
            message_id: message.message_id,
            conversation_id: message.conversation_id,
            kanal: submission.kanal.as_str().to_owned(),
            avsenderidentifikator: message.avsenderidentifikator.clone().unwrap_or_default(),
            process: message.process,
            content_sha256,
            document: message.document.to_string(),
            package: package_digest,
            channel,
            reason,
            received_at: now,
            statuses,
            receipts,
            push_receipts,
            inline_blobs,
            notices,
        })
    }

    /// Stages each document for the commit that stores the letter, and
    /// returns the blobs that commit must write itself.
    async fn stage_documents(
        &self,
        package: &package::Package,
    ) -> Result<(Vec<Document>, Vec<(Sha256Digest, Bytes)>), BrokerError> {
        let mut documents = Vec::with_capacity(1 + package.attachments.len());
        let mut inline_blobs = Vec::new();
        let all = std::iter::once((DocumentRole::Main, &package.main)).chain(
            package
                .attachments
                .iter()
                .map(|document| (DocumentRole::Attachment, document)),
        );
        for (role, document) in all {
            let media_type = document
                .media_type()
                .context("an unshowable document reached the mailbox")?;
            let (digest, bytes) = sha256_of(document.bytes.clone())
                .await
                .context("hashing a document failed")?;
            let staged = self
                .blobs
                .stage(digest, bytes)
                .await
                .context("storing a document failed")?;
            inline_blobs.extend(staged.inline.map(|bytes| (staged.digest, bytes)));
            documents.push(Document {
                role,
                title: document.title.clone(),
                file_name: document.href.clone(),
                media_type,
                digest: staged.digest,
                size_bytes: document.bytes.len() as u64,
            });
        }
        Ok((documents, inline_blobs))
    }

    /// The message's transport statuses, oldest first.
    pub async fn statuses(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
    ) -> Result<Vec<StatusEntry>, BrokerError> {
        self.store
            .message_statuses(agency, message_id)
            .await?
            .ok_or(BrokerError::NotFound)
    }

    /// Unacknowledged receipts, oldest first, as business documents.
    pub async fn receipts(
        &self,
        agency: &OrgNr,
        kanal: &Kanal,
        avsenderidentifikator: Option<&str>,
        page: u32,
        page_size: u32,
    ) -> Result<Vec<(Uuid, Value)>, BrokerError> {
        let receipts = self
            .store
            .unread_receipts(
                agency,
                kanal.as_str(),
                avsenderidentifikator,
                page.saturating_mul(page_size),
                page_size,
            )
            .await?;
        receipts
            .into_iter()
            .map(|receipt| {
                serde_json::from_str(&receipt.document)
                    .map(|document| (receipt.id, document))
                    .map_err(|error| BrokerError::Internal(error.into()))
            })
            .collect()
    }

    /// Acknowledges a receipt so it is not handed out again.
    pub async fn acknowledge(&self, agency: &OrgNr, receipt_id: Uuid) -> Result<(), BrokerError> {
        if self
            .store
            .mark_receipt_read(agency, receipt_id, self.clock.now())
            .await?
        {
            Ok(())
        } else {
            Err(BrokerError::NotFound)
        }
    }

    /// A receipt from this Postkasse about a stored message, made now, and
    /// whether the agency wants its receipts pushed to a callback.
    async fn own_receipt(
        &self,
        message: &StoredMessage,
        kind: ReceiptKind,
    ) -> Result<(NewReceipt, bool), BrokerError> {
        Ok(self.receipts.issue(message, kind).await?)
    }

    /// The message the agency sent with this id, if any.
    pub async fn message(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
    ) -> Result<Option<StoredMessage>, StorageError> {
        self.store.message(agency, message_id).await
    }

    /// Whether the sender of the owner's letter asked for an opening receipt,
    /// and whether it has been sent; `None` when the owner has no such letter.
    pub async fn opening_receipt_state(
        &self,
        owner: &app::domain::Fnr,
        letter: LetterId,
    ) -> Result<Option<OpeningReceiptState>, StorageError> {
        self.store.opening_receipt_state(owner, letter).await
    }

    /// The citizen agreed to the opening receipt the sender asked for: it is
    /// queued for the sender, once however often this is called.
    pub async fn send_opening_receipt(
        &self,
        owner: &app::domain::Fnr,
        letter: LetterId,
    ) -> Result<(), BrokerError> {
        let message = self
            .store
            .message_for_letter(owner, letter)
            .await?
            .ok_or(BrokerError::NotFound)?;
        let (opened, push) = self.own_receipt(&message, ReceiptKind::Opened).await?;
        if self
            .store
            .record_opening_receipt(owner, letter, &opened, push, opened.created_at)
            .await?
            && push
        {
            self.outbox_work.notify_waiters();
        }
        Ok(())
    }
}

/// Where a message goes.
enum Destination {
    Mailbox,
    Provider(OrgNr),
    Print(Box<PrintOrder>),
    Refused,
}

/// A checked package: its contents, and its plain bytes with their digest.
struct OpenedPackage {
    package: package::Package,
    /// The sender's verified XAdES signature, when the package has one.
    signature: Option<xades::PackageSignature>,
    plain: Bytes,
    plain_digest: Sha256Digest,
}

struct Prepared<'a> {
    submission: &'a Submission,
    /// The citizen a digital letter is for.
    recipient: Option<Fnr>,
    /// The stored documents of a letter for a mailbox here.
    documents: Option<Vec<Document>>,
    message: BusinessMessage,
    destination: Destination,
    reason: String,
    package: package::Package,
    /// The package's verified XAdES signature, when it has one.
    signature: Option<xades::PackageSignature>,
    package_digest: Sha256Digest,
    /// Blobs the commit stores itself.
    inline_blobs: Vec<(Sha256Digest, Bytes)>,
    content_sha256: String,
    sender_name: String,
    push_receipts: bool,
    /// The link and reply form the package's extensions add.
    extensions: extensions::Extensions,
}

/// The first answer again for the same message; 409 for different content
/// under a message id already used.
fn answer_resend(stored: &StoredMessage, content_sha256: &str) -> Result<Acceptance, BrokerError> {
    if stored.content_sha256 == content_sha256 {
        Ok(Acceptance::from(stored))
    } else {
        Err(BrokerError::Conflict(format!(
            "message {} was already received with different content",
            stored.message_id
        )))
    }
}

/// Who vouched for a business message's content.
enum Signer {
    /// Plain JSON: only the request's access token speaks for it.
    Unsigned,
    /// A JWT signed with the key the agency registered here.
    RegisteredKey,
    /// A JWS carrying an enterprise certificate chain (`x5c`) that chains to
    /// a trust anchor.
    Certificate(VerifiedCertificate),
}

const BUSINESS_MESSAGE: &str = "forretningsmelding";
/// Where the SBD header names its sender.
const HEADER_SENDER: &str =
    "forretningsmelding.standardBusinessDocument.standardBusinessDocumentHeader.sender[0].identifier.value";

/// The business message: JSON as is, or a JWT whose payload is the JSON,
/// signed either by an enterprise certificate in its `x5c` header (as DPI
/// sends it) or with the key the agency registered here.
async fn decode_business_document(
    bytes: &Bytes,
    agency: Option<&crate::agency::registry::Agency>,
    anchors: &Arc<TrustAnchors>,
    now: DateTime<Utc>,
) -> Result<(Value, Signer), FieldError> {
    let refused = |text: &str| FieldError::new(BUSINESS_MESSAGE, text);
    let text = std::str::from_utf8(bytes)
        .map_err(|_| refused("must be UTF-8 text"))?
        .trim();
    if text.starts_with('{') {
        return serde_json::from_str(text)
            .map(|document| (document, Signer::Unsigned))
            .map_err(|error| {
                FieldError::new(BUSINESS_MESSAGE, format!("is not valid JSON: {error}"))
            });
    }
    if text.split('.').count() != 3 {
        return Err(refused(
            "must be a JSON business document or a JWT whose payload is one",
        ));
    }
    let header =
        jsonwebtoken::decode_header(text).map_err(|_| refused("has an unreadable JWT header"))?;
    let text = text.to_owned();
    let anchors = anchors.clone();
    let registered_key = match header.x5c {
        Some(_) => None,
        None => {
            let agency = agency.ok_or_else(|| {
                refused("is signed, but no key is registered for this organisation")
            })?;
            Some(
                crate::agency::registry::parse_public_key(&agency.public_key_pem)
                    .map_err(|_| refused("cannot be checked: the registered key is unusable"))?,
            )
        }
    };
    // Chain validation and RSA verification are CPU work.
    tokio::task::spawn_blocking(move || match registered_key {
        Some(public_key) => {
            use rsa::pkcs1::EncodeRsaPublicKey;
            let der = public_key
                .to_pkcs1_der()
                .map_err(|_| refused("cannot be checked"))?;
            let key = jsonwebtoken::DecodingKey::from_rsa_der(der.as_bytes());
            verify_jwt(&text, &key)
                .map(|document| (document, Signer::RegisteredKey))
                .map_err(|_| refused("is not signed with the key registered for this organisation"))
        }
        None => {
            let chain = header
                .x5c
                .unwrap_or_default()
                .iter()
                .map(|certificate| {
                    use base64::Engine;
                    base64::engine::general_purpose::STANDARD.decode(certificate)
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| refused("has an x5c header that is not base64 certificates"))?;
            let certificate = anchors.verify(&chain, now).map_err(|error| {
                FieldError::new(
                    BUSINESS_MESSAGE,
                    format!("has an x5c certificate that is not accepted: {error}"),
                )
            })?;
            let leaf = Certificate::from_der(&certificate.der)
                .map_err(|_| refused("has an x5c certificate that does not parse"))?;
            let key = jsonwebtoken::DecodingKey::from_rsa_der(
                leaf.tbs_certificate
                    .subject_public_key_info
                    .subject_public_key
                    .raw_bytes(),
            );
            verify_jwt(&text, &key)
                .map(|document| (document, Signer::Certificate(certificate)))
                .map_err(|_| refused("is not signed by the key of its x5c certificate"))
        }
    })
    .await
    .map_err(|_| refused("could not be checked"))?
}

/// The payload of an RSA-signed JWT, when the signature verifies.
fn verify_jwt(
    text: &str,
    key: &jsonwebtoken::DecodingKey,
) -> Result<Value, jsonwebtoken::errors::Error> {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.algorithms = vec![
        jsonwebtoken::Algorithm::RS256,
        jsonwebtoken::Algorithm::RS384,
        jsonwebtoken::Algorithm::RS512,
    ];
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(text, key, &validation).map(|data| data.claims)
}

/// A certificate-signed message must be signed by its sender: the SBD
/// header's sender (the data processor, when one sends).
fn signer_problem(signer: &Signer, sender: &OrgNr) -> Option<FieldError> {
    let Signer::Certificate(certificate) = signer else {
        return None;
    };
    (certificate.org_nr != *sender).then(|| {
        FieldError::new(
            BUSINESS_MESSAGE,
            format!(
                "is signed with the enterprise certificate of 0192:{}, not of the sender 0192:{sender}",
                certificate.org_nr
            ),
        )
    })
}

/// The package must be signed by the agency or the processor sending for it;
/// a message in DPI's own (provider) shape must be signed at all, unless
/// another mailbox provider forwards a letter its agency gave it unsigned
/// (its signed business message then vouches for the package by its
/// fingerprint; see docs/protocol.md).
fn package_signer_problem(
    signature: Option<&xades::PackageSignature>,
    message: &BusinessMessage,
    forwarded_by_provider: bool,
) -> Option<FieldError> {
    let provider_shape = message
        .body
        .letter()
        .is_some_and(|letter| matches!(letter.addressee, Addressee::MailboxHere(_)));
    match signature {
        None if provider_shape && !forwarded_by_provider => Some(FieldError::new(
            package::SIGNATURES,
            "is required: the sender signs the package (XAdES) when it sends to a mailbox provider",
        )),
        None => None,
        Some(signature) => {
            let signer = &signature.signer.org_nr;
            let allowed = *signer == message.sender || message.processor.as_ref() == Some(signer);
            (!allowed).then(|| {
                FieldError::new(
                    package::SIGNATURES,
                    format!(
                        "is signed by 0192:{signer}, which is neither the avsender 0192:{} nor the processor sending for it",
                        message.sender
                    ),
                )
            })
        }
    }
}

/// The manifest must agree with the business message (DPI's provider checks).
fn check_package_against_message(
    package: &package::Package,
    message: &BusinessMessage,
    problems: &mut Vec<FieldError>,
) {
    if package.avsender != message.sender {
        problems.push(FieldError::new(
            "dokumentpakke.manifest.xml",
            "names another avsender than the business message",
        ));
    }
    if let (Body::Digital(letter), Some(address)) =
        (&message.body, &package.mottaker_postkasseadresse)
    {
        if let Addressee::MailboxHere(addressed) = &letter.addressee {
            if address != addressed {
                problems.push(FieldError::new(
                    "dokumentpakke.manifest.xml",
                    "names another postkasseadresse than the business message",
                ));
            }
        }
    }
}

/// Documents a mailbox here cannot show, or whose bytes are not what their
/// type says.
/// Each document in the package with the field that names it in problems.
fn named_documents(
    package: &package::Package,
) -> impl Iterator<Item = (String, &package::PackageDocument)> {
    std::iter::once(("dokumentpakke.hoveddokument".to_owned(), &package.main)).chain(
        package
            .attachments
            .iter()
            .enumerate()
            .map(|(index, document)| (format!("dokumentpakke.vedlegg[{index}]"), document)),
    )
}

fn unshowable_documents(package: &package::Package) -> Vec<FieldError> {
    named_documents(package)
        .filter_map(|(name, document)| match document.media_type() {
            None => Some(FieldError::new(
                name,
                format!(
                    "has type {}, which this mailbox cannot show (PDF, HTML, plain text, PNG and JPEG can be shown)",
                    document.mime
                ),
            )),
            Some(media_type) if !media_type.matches_content(&document.bytes) => Some(
                FieldError::new(name, format!("is not a {} file", document.mime)),
            ),
            Some(_) => None,
        })
        .collect()
}

/// What makes two sends "the same message": the business message without its
/// access token and fingerprint (a resend may re-encrypt the package) and
/// without the header's times (a resend may be written anew), and the
/// unencrypted package.
fn content_hash(document: &Value, plain_package: &Sha256Digest) -> String {
    let mut document = document.clone();
    if let Some(header) =
        document.pointer_mut("/standardBusinessDocument/standardBusinessDocumentHeader")
    {
        if let Some(identification) = header
            .get_mut("documentIdentification")
            .and_then(Value::as_object_mut)
        {
            identification.remove("creationDateAndTime");
        }
        if let Some(scopes) = header
            .pointer_mut("/businessScope/scope")
            .and_then(Value::as_array_mut)
        {
            for scope in scopes.iter_mut().filter_map(Value::as_object_mut) {
                scope.remove("scopeInformation");
            }
        }
    }
    for body in ["digital", "utskrift", "flyttet"] {
        if let Some(body) = document
            .pointer_mut(&format!("/standardBusinessDocument/{body}"))
            .and_then(Value::as_object_mut)
        {
            body.remove("dokumentpakkefingeravtrykk");
            // When a moved letter was sent on: a new try has a new time.
            body.remove("tidspunkt");
        }
    }
    let mut hasher = Sha256::new();
    hasher.update(canonical_json(&document).as_bytes());
    hasher.update([0]);
    hasher.update(plain_package.as_bytes());
    hex::encode(hasher.finalize())
}

/// JSON with object keys sorted, so key order does not change the hash.
fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(object) => {
            let mut keys: Vec<&String> = object.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|key| {
                    format!(
                        "{}:{}",
                        Value::String(key.clone()),
                        canonical_json(&object[key])
                    )
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(canonical_json)
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kanal_is_case_insensitive_and_bounded() {
        assert_eq!(Kanal::parse(Some("Lønn")).unwrap_err().name, "kanal");
        assert_eq!(
            Kanal::parse(Some("Skatt_Web-1")).unwrap().as_str(),
            "skatt_web-1"
        );
        assert_eq!(Kanal::parse(None).unwrap(), Kanal::default());
        assert!(Kanal::parse(Some(&"a".repeat(29))).is_err());
    }

    #[test]
    fn the_same_message_hashes_alike_whatever_its_key_order_or_fingerprint() {
        let package = Sha256Digest::from_bytes([1; 32]);
        let first = serde_json::json!({"standardBusinessDocument": {"digital": {
            "a": 1, "b": [1, {"y": 2, "x": 1}], "dokumentpakkefingeravtrykk": {"digestValue": "one"}}}});
        let second = serde_json::json!({"standardBusinessDocument": {"digital": {
            "dokumentpakkefingeravtrykk": {"digestValue": "two"}, "b": [1, {"x": 1, "y": 2}], "a": 1}}});
        assert_eq!(
            content_hash(&first, &package),
            content_hash(&second, &package)
        );
        let changed = serde_json::json!({"standardBusinessDocument": {"digital": {"a": 2}}});
        assert_ne!(
            content_hash(&first, &package),
            content_hash(&changed, &package)
        );
        assert_ne!(
            content_hash(&first, &package),
            content_hash(&first, &Sha256Digest::from_bytes([2; 32]))
        );
    }
}
