//! Move workers: each takes a queued letter, sends it to the citizen's new
//! provider as a `flyttet` message, and records how it went, with retries
//! and backoff like the broker's outbox.
//!
//! The message is DPI's: sent by this Postkasse as itself (its own
//! Maskinporten token, its certificate's signature), to the provider by its
//! organisation number, the citizen by their mailbox address there; the
//! avsender and the fields of the letter's `digital` body as the agency sent
//! them; the day it arrived here and whether it was opened; and the package
//! it came in, encrypted to the new provider.

use super::{MoveJob, MoveOutcome, Store};
use crate::{
    agency::network_tokens::NetworkTokens,
    blobs::BlobStore,
    broker::{
        client::envelope,
        message::{PROCESS_MOVED, STANDARD_MOVED},
        outbox::{keep_working, seal, Attempt, OutboxSettings, Sealed, Settled},
    },
    clock::Clock,
    krr::{self, providers::OwnProvider},
};
use anyhow::Context;
use app::domain::MessageId;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use tokio::sync::Notify;

/// The fields of the letter's `digital` body a `flyttet` message repeats.
const REPEATED_FIELDS: [&str; 6] = [
    "avsender",
    "sikkerhetsnivaa",
    "ikkesensitivtittel",
    "spraak",
    "virkningsdato",
    "virkningstidspunkt",
];

pub struct MoveWorker {
    pub store: Arc<dyn Store>,
    pub register: Arc<dyn krr::Store>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    pub own: Arc<OwnProvider>,
    pub tokens: Arc<NetworkTokens>,
    pub http: reqwest::Client,
    /// Attempts, backoff, lease and timeouts, as the outbox has them.
    pub settings: OutboxSettings,
    pub wake: Arc<Notify>,
}

impl MoveWorker {
    /// Works until the task is dropped.
    pub async fn run(self) {
        keep_working("moving a letter", &self.wake, self.settings.poll, || {
            self.work_once()
        })
        .await
    }

    /// Moves one due letter, if there is one; says whether there was.
    pub async fn work_once(&self) -> anyhow::Result<bool> {
        let now = self.clock.now();
        let Some(job) = self
            .store
            .claim_move(now, now + self.settings.lease)
            .await?
        else {
            return Ok(false);
        };
        let attempt = self.send(&job).await;
        let now = self.clock.now();
        let outcome = match self
            .settings
            .settle("moving a letter", attempt, job.attempts, now)
        {
            Settled::Delivered => MoveOutcome::Moved,
            Settled::Retry { at, error } => MoveOutcome::Retry { at, error },
            Settled::GaveUp(error) => MoveOutcome::Failed { error },
        };
        self.store.finish_move(job.id, &outcome, now).await?;
        Ok(true)
    }

    async fn send(&self, job: &MoveJob) -> Attempt {
        let token = match self.tokens.send_token(&self.own.provider.org_nr).await {
            Ok(token) => token,
            Err(error) => return Attempt::Transient(format!("no access token: {error:#}")),
        };
        match self.prepare(job, &token).await {
            Ok(sealed) => {
                sealed
                    .post(&self.http, &token, self.settings.request_timeout)
                    .await
            }
            Err(error) => Attempt::Permanent(format!("{error:#}")),
        }
    }

    /// The letter's `flyttet` message and package, sealed for its provider.
    async fn prepare(&self, job: &MoveJob, token: &str) -> anyhow::Result<Sealed> {
        let original: Value = serde_json::from_str(&job.message_document)?;
        let document = moved_message(job, &original, &self.own, token, self.clock.now())?;
        seal(
            self.register.as_ref(),
            self.blobs.as_ref(),
            &self.own,
            &job.provider,
            document,
            &job.package,
        )
        .await
    }
}

/// The `flyttet` business message for a letter, before its package is sealed.
fn moved_message(
    job: &MoveJob,
    original: &Value,
    own: &OwnProvider,
    token: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Value> {
    let digital = original
        .pointer("/standardBusinessDocument/digital")
        .and_then(Value::as_object)
        .context("the letter did not come as a digital message")?;
    let mut body: Map<String, Value> = REPEATED_FIELDS
        .into_iter()
        .filter_map(|key| Some((key.to_owned(), digital.get(key)?.clone())))
        .collect();
    body.insert(
        "mottaker".into(),
        json!({"postkasseadresse": job.mailbox_address}),
    );
    body.insert("maskinportentoken".into(), json!(token));
    body.insert(
        "tidspunkt".into(),
        json!(now.to_rfc3339_opts(SecondsFormat::Millis, true)),
    );
    let received_on = job
        .received_at
        .with_timezone(&chrono_tz::Europe::Oslo)
        .date_naive();
    body.insert(
        "mottakstidspunkt".into(),
        json!(received_on.format("%Y-%m-%d").to_string()),
    );
    body.insert("aapnet".into(), json!(job.read_at.is_some()));
    Ok(envelope(
        &own.provider.org_nr,
        &job.provider.to_iso6523(),
        STANDARD_MOVED,
        "flyttet",
        MessageId::from_uuid(job.id),
        job.conversation_id,
        PROCESS_MOVED,
        Value::Object(body),
    ))
}
