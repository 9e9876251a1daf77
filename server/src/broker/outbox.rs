//! Outbox workers: the work a message causes after its answer — forwarding it
//! to another provider, pushing receipts to an agency's callback — drained
//! from the durable outbox with retries and backoff.
//!
//! A job is leased, not locked: a worker that dies (or a server killed
//! mid-send) leaves its lease to expire, and the job is taken again. Sending
//! is therefore at-least-once; receivers recognise a resend by its message or
//! receipt id.

use super::{
    cms, package,
    receipts::{receipt, ErrorKind, ReceiptContext, ReceiptKind},
    JobOutcome, OutboxJob, OutboxKind, StatusEntry, Store, StoredMessage, TransportStatus,
};
use crate::{
    blobs::BlobStore,
    clock::{retry_delay, Clock},
    krr::providers::OwnProvider,
};
use anyhow::Context;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
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
    pub settings: OutboxSettings,
    pub wake: Arc<Notify>,
}

enum Attempt {
    Delivered,
    /// Worth trying again (network trouble, 5xx, 429).
    Transient(String),
    /// Will not work however often it is tried.
    Permanent(String),
}

impl OutboxWorker {
    /// Works until the task is dropped.
    pub async fn run(self) {
        loop {
            match self.work_once().await {
                Ok(true) => continue,
                Ok(false) => {
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(self.settings.poll) => {}
                    }
                }
                Err(error) => {
                    tracing::error!(error = format!("{error:#}"), "outbox work failed");
                    tokio::time::sleep(self.settings.poll).await;
                }
            }
        }
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
        let push_receipts = agency
            .as_ref()
            .is_some_and(|agency| agency.pushes_receipts());
        let attempt = match job.kind {
            OutboxKind::Forward => self.forward(&message).await,
            OutboxKind::Callback => match agency.and_then(|agency| agency.callback) {
                Some(callback) => self.push_receipt(&job, &callback).await,
                None => Attempt::Permanent("the agency no longer has a callback".into()),
            },
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
        match attempt {
            Attempt::Delivered if forwarding => {
                // An interpretation: the receiving provider's acceptance is
                // its promise of availability, so Postkasse passes it on as
                // that provider's leveringskvittering (see
                // docs/protocol.md#choices-where-the-sources-are-silent).
                let context = ReceiptContext::for_message(message, &provider);
                JobOutcome::Delivered {
                    status: Some(status(
                        TransportStatus::Sent,
                        format!("levert til postkasseleverandør {provider}"),
                    )),
                    receipts: vec![receipt(&context, ReceiptKind::Delivered, now)],
                }
            }
            Attempt::Delivered => JobOutcome::Delivered {
                status: None,
                receipts: vec![],
            },
            Attempt::Transient(error) if job.attempts < self.settings.max_attempts => {
                tracing::warn!(attempt = job.attempts, error = %error, "outbox job will be retried");
                JobOutcome::Retry {
                    at: now + self.backoff(job.attempts),
                    error,
                }
            }
            Attempt::Transient(error) | Attempt::Permanent(error) => {
                tracing::warn!(attempts = job.attempts, error = %error, "outbox job gave up");
                failed(error)
            }
        }
    }

    fn backoff(&self, attempts: u32) -> Duration {
        retry_delay(self.settings.retry_base, self.settings.retry_max, attempts)
    }

    /// Sends the message on to the citizen's provider: the package encrypted
    /// to that provider's certificate, the business message as a JWT signed by
    /// this Postkasse with its certificate in `x5c`.
    async fn forward(&self, message: &StoredMessage) -> Attempt {
        match self.prepare_forward(message).await {
            Ok((endpoint, business_message, package)) => {
                let form = reqwest::multipart::Form::new()
                    .part(
                        "forretningsmelding",
                        reqwest::multipart::Part::text(business_message)
                            .mime_str("application/jwt")
                            .expect("a valid mime type"),
                    )
                    .part(
                        "dokumentpakke",
                        reqwest::multipart::Part::bytes(package)
                            .file_name("dokumentpakke.cms")
                            .mime_str("application/cms")
                            .expect("a valid mime type"),
                    );
                let request = self
                    .http
                    .post(endpoint)
                    .timeout(self.settings.request_timeout)
                    .multipart(form);
                classify(request.send().await)
            }
            Err(error) => Attempt::Permanent(format!("{error:#}")),
        }
    }

    async fn prepare_forward(
        &self,
        message: &StoredMessage,
    ) -> anyhow::Result<(String, String, Vec<u8>)> {
        let provider_org = message
            .provider
            .as_ref()
            .context("no provider to forward to")?;
        let provider = self
            .register
            .mailbox_providers()
            .await?
            .into_iter()
            .find(|provider| provider.org_nr == *provider_org)
            .context("the provider is no longer registered")?;
        let endpoint = provider
            .endpoint
            .clone()
            .context("the provider has no endpoint")?;
        let plain = self.blobs.get(&message.package).await?;
        let mut document: serde_json::Value = serde_json::from_str(&message.document)?;
        let own = self.own.clone();
        let (business_message, package) = tokio::task::spawn_blocking(move || {
            use x509_cert::der::Decode;
            let certificate = x509_cert::Certificate::from_der(&provider.certificate_der)
                .context("the provider's certificate does not parse")?;
            let encrypted = cms::encrypt(&plain, &certificate, &mut rand::thread_rng())?;
            if let Some(fingerprint) = document.pointer_mut(
                "/standardBusinessDocument/digital/dokumentpakkefingeravtrykk/digestValue",
            ) {
                *fingerprint = serde_json::Value::String(package::fingerprint(&encrypted));
            }
            let jwt = sign_business_message(&document, &own)?;
            anyhow::Ok((jwt, encrypted))
        })
        .await??;
        Ok((endpoint, business_message, package))
    }

    /// Posts the receipt to the agency's callback, signed with their secret.
    async fn push_receipt(
        &self,
        job: &OutboxJob,
        callback: &crate::agency::registry::Callback,
    ) -> Attempt {
        let Some(receipt_id) = job.receipt_id else {
            return Attempt::Permanent("a callback job without a receipt".into());
        };
        let receipt = match self.store.receipt_document(receipt_id).await {
            Ok(Some(receipt)) => receipt,
            Ok(None) => return Attempt::Permanent("the receipt is gone".into()),
            Err(error) => return Attempt::Transient(format!("{error:#}")),
        };
        let body = receipt.document.into_bytes();
        let signature = callback_signature(callback.secret.expose_secret(), &body);
        let request = self
            .http
            .post(callback.url.clone())
            .timeout(self.settings.request_timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, format!("sha256={signature}"))
            .header("X-Postkasse-Receipt-Id", receipt_id.to_string())
            .body(body);
        classify(request.send().await)
    }
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
