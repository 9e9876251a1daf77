//! Outbox workers: the work a message causes after its answer — forwarding it
//! to another provider, pushing receipts to an agency's callback or back to
//! the provider that forwarded the letter here — drained from the durable
//! outbox with retries and backoff.
//!
//! A letter goes to another provider as DPI delivers it there: in the
//! provider shape (the citizen named by `postkasseadresse`), sent by this
//! Postkasse on behalf of the agency, with a Maskinporten token that says so,
//! signed with this Postkasse's certificate, the package encrypted to the
//! other provider's. Receipts go back the same way, as business messages.
//!
//! A job is leased, not locked: a worker that dies (or a server killed
//! mid-send) leaves its lease to expire, and the job is taken again. Sending
//! is therefore at-least-once; receivers recognise a resend by its message or
//! receipt id.

use super::{
    cms,
    message::party,
    package,
    receipt_issuer::{receipt_push, ReceiptPush},
    receipts::{receipt, ErrorKind, ReceiptContext, ReceiptKind},
    JobOutcome, OutboxJob, OutboxKind, StatusEntry, Store, StoredMessage, TransportStatus,
};
use crate::{
    agency::network_tokens::NetworkTokens,
    blobs::BlobStore,
    clock::{retry_delay, Clock},
    krr::providers::OwnProvider,
};
use anyhow::Context;
use app::domain::{Fnr, OrgNr, Sha256Digest, SyntheticIds};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::Arc;
use tokio::sync::Notify;

/// The header carrying the HMAC-SHA256 of a callback body.
pub const SIGNATURE_HEADER: &str = "X-Postkasse-Signature";

#[derive(Debug, Clone)]
pub struct OutboxSettings {
    pub max_attempts: u32,
    /// The first retry waits this long; each further one twice as long.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// How long a worker may hold a job before another takes it over.
    pub lease: Duration,
    /// How often an idle worker looks for due work it was not woken for.
    pub poll: std::time::Duration,
    pub request_timeout: std::time::Duration,
}

pub struct OutboxWorker {
    pub store: Arc<dyn Store>,
    pub agencies: Arc<dyn crate::agency::Store>,
    pub register: Arc<dyn crate::krr::Store>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    pub own: Arc<OwnProvider>,
    pub http: reqwest::Client,
    /// This Postkasse's tokens for other providers' APIs.
    pub tokens: Arc<NetworkTokens>,
    pub settings: OutboxSettings,
    pub wake: Arc<Notify>,
}

/// Runs `work_once` until the task is dropped: again at once while it finds
/// work, then when woken or after `poll`. A failure is logged as `what`
/// failing, and the next try waits `poll`.
pub async fn keep_working<F, Fut>(
    what: &'static str,
    wake: &Notify,
    poll: std::time::Duration,
    mut work_once: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    loop {
        match work_once().await {
            Ok(true) => continue,
            Ok(false) => {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
            }
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "{what} failed");
                tokio::time::sleep(poll).await;
            }
        }
    }
}

impl OutboxSettings {
    /// What the `attempts`th try of `what` comes to: a transient failure is
    /// tried again after the backoff, until the attempts run out.
    pub fn settle(
        &self,
        what: &str,
        attempt: Attempt,
        attempts: u32,
        now: DateTime<Utc>,
    ) -> Settled {
        match attempt {
            Attempt::Delivered => Settled::Delivered,
            Attempt::Transient(error) if attempts < self.max_attempts => {
                tracing::warn!(attempt = attempts, error = %error, "{what} will be retried");
                Settled::Retry {
                    at: now + retry_delay(self.retry_base, self.retry_max, attempts),
                    error,
                }
            }
            Attempt::Transient(error) | Attempt::Permanent(error) => {
                tracing::warn!(attempts, error = %error, "{what} gave up");
                Settled::GaveUp(error)
            }
        }
    }
}

/// What a try comes to.
pub enum Settled {
    Delivered,
    Retry { at: DateTime<Utc>, error: String },
    GaveUp(String),
}

/// How one try to deliver went.
pub enum Attempt {
    Delivered,
    /// Worth trying again (network trouble, 5xx, 429).
    Transient(String),
    /// Will not work however often it is tried.
    Permanent(String),
}

impl OutboxWorker {
    /// Works until the task is dropped.
    pub async fn run(self) {
        keep_working("outbox work", &self.wake, self.settings.poll, || {
            self.work_once()
        })
        .await
    }

    /// Does one due job, if there is one; says whether there was.
    pub async fn work_once(&self) -> anyhow::Result<bool> {
        let now = self.clock.now();
        let Some(job) = self
            .store
            .claim_outbox_job(now, now + self.settings.lease)
            .await?
        else {
            return Ok(false);
        };
        let message = self
            .store
            .message_by_row(job.message_row)
            .await?
            .context("an outbox job without its message")?;
        let agency = self.agencies.agency_by_org_nr(&message.agency).await?;
        let push = receipt_push(
            agency.as_ref(),
            self.register.as_ref(),
            &self.own.provider.org_nr,
            &message.agency,
        )
        .await?;
        let push_receipts = push.is_some();
        let attempt = match (job.kind, push) {
            (OutboxKind::Forward, _) => self.forward(&message).await,
            (OutboxKind::Callback, Some(push)) => self.push_receipt(&job, &push).await,
            (OutboxKind::Callback, None) => {
                Attempt::Permanent("the client no longer takes pushed receipts".into())
            }
        };
        let now = self.clock.now();
        let outcome = self.outcome(&job, &message, attempt, now);
        self.store
            .finish_outbox_job(&job, &outcome, push_receipts, now)
            .await?;
        if push_receipts && !matches!(outcome, JobOutcome::Retry { .. }) {
            self.wake.notify_waiters();
        }
        Ok(true)
    }

    fn outcome(
        &self,
        job: &OutboxJob,
        message: &StoredMessage,
        attempt: Attempt,
        now: DateTime<Utc>,
    ) -> JobOutcome {
        let forwarding = job.kind == OutboxKind::Forward;
        let provider = message
            .provider
            .clone()
            .unwrap_or_else(|| self.own.provider.org_nr.clone());
        let status = |status, beskrivelse: String| StatusEntry {
            status,
            beskrivelse,
            timestamp: now,
        };
        let failed = |error: String| JobOutcome::Failed {
            status: forwarding.then(|| status(TransportStatus::Failed, error.clone())),
            receipts: if forwarding {
                let context = ReceiptContext::for_message(message, &self.own.provider.org_nr);
                vec![receipt(
                    &context,
                    ReceiptKind::Error {
                        kind: ErrorKind::Server,
                        details: format!(
                            "could not deliver to mailbox provider {provider}: {error}"
                        ),
                    },
                    now,
                )]
            } else {
                vec![]
            },
            error,
        };
        match self
            .settings
            .settle("outbox job", attempt, job.attempts, now)
        {
            Settled::Delivered if forwarding => {
                // An interpretation: the receiving provider's acceptance is
                // its promise of availability, so Postkasse passes it on as
                // that provider's leveringskvittering (see
                // docs/protocol.md#choices-where-the-sources-are-silent). A
                // provider that sends its own is not passed on twice: a
                // letter has one leveringskvittering, whichever came first.
                let context = ReceiptContext::for_message(message, &provider);
                JobOutcome::Delivered {
                    status: Some(status(
                        TransportStatus::Sent,
                        format!("levert til postkasseleverandør {provider}"),
                    )),
                    receipts: vec![receipt(&context, ReceiptKind::Delivered, now)],
                }
            }
            Settled::Delivered => JobOutcome::Delivered {
                status: None,
                receipts: vec![],
            },
            Settled::Retry { at, error } => JobOutcome::Retry { at, error },
            Settled::GaveUp(error) => failed(error),
        }
    }

    /// Sends the message on to the citizen's provider, as DPI delivers to a
    /// provider: see the module's documentation.
    async fn forward(&self, message: &StoredMessage) -> Attempt {
        let avsender = match serde_json::from_str(&message.document)
            .map_err(anyhow::Error::from)
            .and_then(|document| avsender_of(&document))
        {
            Ok(avsender) => avsender,
            Err(error) => return Attempt::Permanent(format!("{error:#}")),
        };
        let token = match self.tokens.send_token(&avsender).await {
            Ok(token) => token,
            // The issuer may be down for a moment; a refusal repeats and
            // ends in a failed job with its reason.
            Err(error) => return Attempt::Transient(format!("no access token: {error:#}")),
        };
        match self.prepare_forward(message, &token).await {
            Ok(sealed) => {
                sealed
                    .post(&self.http, &token, self.settings.request_timeout)
                    .await
            }
            Err(error) => Attempt::Permanent(format!("{error:#}")),
        }
    }

    /// The business message and package for the provider, and where they go.
    async fn prepare_forward(
        &self,
        message: &StoredMessage,
        token: &str,
    ) -> anyhow::Result<Sealed> {
        let provider_org = message
            .provider
            .as_ref()
            .context("no provider to forward to")?;
        let mut document: Value = serde_json::from_str(&message.document)?;
        let citizen = citizen_of(&document)?;
        let mailbox_address = self
            .register
            .register_entry(&citizen)
            .await?
            .and_then(|entry| entry.person.mailbox)
            .filter(|mailbox| mailbox.provider == *provider_org)
            .map(|mailbox| mailbox.address)
            .with_context(|| {
                format!(
                    "the register no longer names the citizen's mailbox at provider {provider_org}"
                )
            })?;
        address_to_provider(
            &mut document,
            &self.own.provider.org_nr,
            provider_org,
            &mailbox_address,
            token,
        )?;
        seal(
            self.register.as_ref(),
            self.blobs.as_ref(),
            &self.own,
            provider_org,
            document,
            &message.package,
        )
        .await
    }

    /// Pushes the receipt where the message's client takes them: the
    /// agency's callback, signed with its secret, or the API of the provider
    /// that forwarded the letter here, as a signed business message.
    async fn push_receipt(&self, job: &OutboxJob, push: &ReceiptPush) -> Attempt {
        let Some(receipt_id) = job.receipt_id else {
            return Attempt::Permanent("a callback job without a receipt".into());
        };
        let receipt = match self.store.receipt_document(receipt_id).await {
            Ok(Some(receipt)) => receipt,
            Ok(None) => return Attempt::Permanent("the receipt is gone".into()),
            Err(error) => return Attempt::Transient(format!("{error:#}")),
        };
        let request = match push {
            ReceiptPush::Callback(callback) => {
                let body = receipt.document.into_bytes();
                let signature = callback_signature(callback.secret.expose_secret(), &body);
                self.http
                    .post(callback.url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(SIGNATURE_HEADER, format!("sha256={signature}"))
                    .header("X-Postkasse-Receipt-Id", receipt_id.to_string())
                    .body(body)
            }
            ReceiptPush::Provider { endpoint } => {
                let token = match self.tokens.send_token(&self.own.provider.org_nr).await {
                    Ok(token) => token,
                    Err(error) => return Attempt::Transient(format!("no access token: {error:#}")),
                };
                let own = self.own.clone();
                let signed = tokio::task::spawn_blocking(move || {
                    let document: Value = serde_json::from_str(&receipt.document)?;
                    sign_business_message(&document, &own)
                })
                .await;
                let jwt = match signed {
                    Ok(Ok(jwt)) => jwt,
                    Ok(Err(error)) => return Attempt::Permanent(format!("{error:#}")),
                    Err(error) => return Attempt::Transient(format!("{error:#}")),
                };
                return post_to_provider(
                    &self.http,
                    endpoint,
                    &token,
                    jwt,
                    None,
                    self.settings.request_timeout,
                )
                .await;
            }
        };
        classify(request.timeout(self.settings.request_timeout).send().await)
    }
}

/// A business message and its package, ready to post to another provider.
pub struct Sealed {
    /// The provider's `POST /messages/out`.
    pub endpoint: String,
    /// The signed business message.
    pub business_message: String,
    /// The package, encrypted to the provider.
    pub package: Vec<u8>,
}

impl Sealed {
    /// Posts them, with this Postkasse's token.
    pub async fn post(
        self,
        http: &reqwest::Client,
        token: &str,
        timeout: std::time::Duration,
    ) -> Attempt {
        post_to_provider(
            http,
            &self.endpoint,
            token,
            self.business_message,
            Some(self.package),
            timeout,
        )
        .await
    }
}

/// Seals `document` and the stored plain `package` for `provider` (see
/// [`seal_for_provider`]), with where to post them.
pub async fn seal(
    register: &dyn crate::krr::Store,
    blobs: &dyn BlobStore,
    own: &Arc<OwnProvider>,
    provider: &OrgNr,
    document: Value,
    package: &Sha256Digest,
) -> anyhow::Result<Sealed> {
    let provider = register
        .mailbox_provider(provider)
        .await?
        .context("the provider is no longer registered")?;
    let endpoint = provider
        .endpoint
        .clone()
        .context("the provider has no endpoint")?;
    let plain = blobs.get(package).await?;
    let own = own.clone();
    let (business_message, package) = tokio::task::spawn_blocking(move || {
        seal_for_provider(document, &plain, &provider.certificate_der, &own)
    })
    .await??;
    Ok(Sealed {
        endpoint,
        business_message,
        package,
    })
}

const DIGITAL: &str = "/standardBusinessDocument/digital";
const HEADER: &str = "/standardBusinessDocument/standardBusinessDocumentHeader";

/// The agency a stored `digital` message is from.
fn avsender_of(document: &Value) -> anyhow::Result<OrgNr> {
    let value = document
        .pointer(&format!(
            "{DIGITAL}/avsender/virksomhetsidentifikator/value"
        ))
        .and_then(Value::as_str)
        .context("the stored message has no avsender")?;
    OrgNr::parse_iso6523(value).map_err(|_| anyhow::anyhow!("the stored avsender is not 0192:…"))
}

/// The citizen a stored broker-shaped `digital` message is for: its receiver.
fn citizen_of(document: &Value) -> anyhow::Result<Fnr> {
    let value = document
        .pointer(&format!("{HEADER}/receiver/0/identifier/value"))
        .and_then(Value::as_str)
        .context("the stored message has no receiver")?;
    // It was checked when it came in; synthetic ids then were allowed or not.
    Fnr::parse(value, SyntheticIds::Accepted)
        .map_err(|_| anyhow::anyhow!("the stored receiver is not a national id"))
}

/// Readdresses a broker-shaped `digital` message the way DPI addresses a
/// mailbox provider: sent by this Postkasse for the agency, received by the
/// provider, the citizen named by their mailbox address there, with the
/// token that lets this Postkasse send for the agency.
fn address_to_provider(
    document: &mut Value,
    own: &OrgNr,
    provider: &OrgNr,
    mailbox_address: &str,
    token: &str,
) -> anyhow::Result<()> {
    let header = document
        .pointer_mut(HEADER)
        .and_then(Value::as_object_mut)
        .context("the stored message has no header")?;
    header.insert("sender".to_owned(), json!([party(own)]));
    header.insert("receiver".to_owned(), json!([party(provider)]));
    let digital = document
        .pointer_mut(DIGITAL)
        .and_then(Value::as_object_mut)
        .context("the stored message has no digital body")?;
    digital.insert(
        "mottaker".to_owned(),
        json!({"postkasseadresse": mailbox_address}),
    );
    digital.insert("maskinportentoken".to_owned(), json!(token));
    Ok(())
}

/// A business message and its package as they travel to another provider:
/// the plain package encrypted (CMS) to the provider's certificate, the
/// message naming it by fingerprint and signed by this Postkasse. CPU work:
/// call it off the async threads.
fn seal_for_provider(
    mut document: Value,
    plain: &[u8],
    provider_certificate_der: &[u8],
    own: &OwnProvider,
) -> anyhow::Result<(String, Vec<u8>)> {
    use x509_cert::der::Decode;
    let certificate = x509_cert::Certificate::from_der(provider_certificate_der)
        .context("the provider's certificate does not parse")?;
    let encrypted = cms::encrypt(plain, &certificate, &mut rand::thread_rng())?;
    let body = document
        .get_mut("standardBusinessDocument")
        .and_then(Value::as_object_mut)
        .and_then(|sbd| {
            sbd.iter_mut()
                .find(|(key, _)| key.as_str() != "standardBusinessDocumentHeader")
        })
        .map(|(_, body)| body)
        .context("the business message has no body")?;
    body["dokumentpakkefingeravtrykk"] = json!({
        "digestMethod": super::message::SHA256_METHOD,
        "digestValue": package::fingerprint(&encrypted),
    });
    let jwt = sign_business_message(&document, own)?;
    Ok((jwt, encrypted))
}

/// Posts a business message (a signed JWT) and its package, if it has one,
/// to another provider's `POST /messages/out`, with this Postkasse's token.
pub async fn post_to_provider(
    http: &reqwest::Client,
    endpoint: &str,
    token: &str,
    business_message: String,
    package: Option<Vec<u8>>,
    timeout: std::time::Duration,
) -> Attempt {
    let mut form = reqwest::multipart::Form::new().part(
        "forretningsmelding",
        reqwest::multipart::Part::text(business_message)
            .mime_str("application/jwt")
            .expect("a valid mime type"),
    );
    if let Some(package) = package {
        form = form.part(
            "dokumentpakke",
            reqwest::multipart::Part::bytes(package)
                .file_name("dokumentpakke.cms")
                .mime_str("application/cms")
                .expect("a valid mime type"),
        );
    }
    let request = http
        .post(endpoint)
        .bearer_auth(token)
        .timeout(timeout)
        .multipart(form);
    classify(request.send().await)
}

/// `hex(HMAC-SHA256(secret, body))`, what [`SIGNATURE_HEADER`] carries.
pub fn callback_signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn classify(response: Result<reqwest::Response, reqwest::Error>) -> Attempt {
    match response {
        Ok(response) if response.status().is_success() => Attempt::Delivered,
        Ok(response)
            if response.status().is_server_error()
                || response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS
                || response.status() == reqwest::StatusCode::REQUEST_TIMEOUT =>
        {
            Attempt::Transient(format!("the receiver answered {}", response.status()))
        }
        Ok(response) => Attempt::Permanent(format!("the receiver answered {}", response.status())),
        // Connection refused, timeouts: the receiver may be back later.
        Err(error) => Attempt::Transient(format!("the receiver could not be reached: {error}")),
    }
}

/// The business message as DPI carries it: a JWT (RS256) whose payload is
/// the SBD, with the signer's certificate in `x5c`.
pub fn sign_business_message(
    document: &serde_json::Value,
    own: &OwnProvider,
) -> anyhow::Result<String> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.x5c = Some(vec![
        base64::engine::general_purpose::STANDARD.encode(&own.provider.certificate_der)
    ]);
    let key_der = own.private_key.to_pkcs1_der()?;
    let key = jsonwebtoken::EncodingKey::from_rsa_der(key_der.as_bytes());
    Ok(jsonwebtoken::encode(&header, document, &key)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_signatures_are_hmac_sha256_in_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            callback_signature("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
