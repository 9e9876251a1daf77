//! Notice workers: claim due notice jobs in batches, look the citizen's
//! contact details up in the register at send time (the 18-month rule per
//! channel), send within the per-channel rate limit, and record each outcome
//! with any `varslingfeiletkvittering` for the sender.
//!
//! The claim records the attempt (and its lease) before anything is sent;
//! the job id is the idempotency key of every attempt. A worker that dies
//! between sending and recording leaves the lease to run out, and the next
//! worker resends under the same key, which the receiver recognises.

use super::{
    channels::{NoticeSender, OutgoingNotice, SendError},
    NoticeChannel, NoticeJob, NoticeOutcome, OrderedBy, SenderReceipts, Store,
};
use crate::{
    clock::{retry_delay, Clock},
    krr::rules::channel_is_current,
    krr::RegisterEntry,
};
use anyhow::Context;
use app::domain::Fnr;
use chrono::{DateTime, Duration, Utc};
use std::{collections::HashMap, sync::Arc};
use tokio::{sync::Mutex, time::Instant};

#[derive(Debug, Clone)]
pub struct NotifyWorkerSettings {
    /// Jobs claimed at once.
    pub batch: u32,
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// How long a worker holds its jobs before another may take them over.
    pub lease: Duration,
    /// How often an idle worker looks for due jobs.
    pub poll: std::time::Duration,
}

/// At most `per_second` notices a second through one channel, shared by all
/// workers, so a mass mailing cannot flood a gateway. Zero means no limit.
pub struct RateLimit {
    interval: Option<std::time::Duration>,
    next: Mutex<Instant>,
}

impl RateLimit {
    pub fn per_second(per_second: u32) -> RateLimit {
        RateLimit {
            interval: (per_second > 0).then(|| std::time::Duration::from_secs(1) / per_second),
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for this notice's turn.
    pub async fn acquire(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(Instant::now());
            *next = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// One channel: where its notices go and how fast.
pub struct Route {
    pub sender: Arc<dyn NoticeSender>,
    pub limit: RateLimit,
}

pub struct Routes {
    pub email: Route,
    pub sms: Route,
}

impl Routes {
    fn route(&self, channel: NoticeChannel) -> &Route {
        match channel {
            NoticeChannel::Email => &self.email,
            NoticeChannel::Sms => &self.sms,
        }
    }
}

/// The codes that prove new addresses go out at once on the notices'
/// routes, within each channel's rate.
#[async_trait::async_trait]
impl crate::krr::proof::Courier for Routes {
    async fn send_now(
        &self,
        key: uuid::Uuid,
        channel: NoticeChannel,
        address: &str,
        text: &str,
    ) -> Result<(), crate::krr::proof::NotSent> {
        use crate::krr::proof::NotSent;
        let route = self.route(channel);
        route.limit.acquire().await;
        let notice = OutgoingNotice {
            key,
            channel,
            address: address.to_owned(),
            text: text.to_owned(),
        };
        route.sender.send(&notice).await.map_err(|error| {
            tracing::warn!(key = %key, ?channel, error = %error, "a proof code was not sent");
            match error {
                SendError::Permanent(_) => NotSent::Refused,
                SendError::Transient(_) => NotSent::Unavailable,
            }
        })
    }
}

pub struct NotifyWorker {
    /// The notice jobs.
    pub notices: Arc<dyn Store>,
    /// The senders' failure receipts.
    pub receipts: Arc<dyn SenderReceipts>,
    pub register: Arc<dyn crate::krr::Store>,
    pub clock: Arc<dyn Clock>,
    pub routes: Arc<Routes>,
    pub settings: NotifyWorkerSettings,
}

impl NotifyWorker {
    /// Works until the task is dropped.
    pub async fn run(self) {
        loop {
            match self.work_once().await {
                Ok(0) => tokio::time::sleep(self.settings.poll).await,
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(error = format!("{error:#}"), "notice work failed");
                    tokio::time::sleep(self.settings.poll).await;
                }
            }
        }
    }

    /// Claims, sends and records one batch; says how many jobs it held.
    pub async fn work_once(&self) -> anyhow::Result<usize> {
        let jobs = self.claim().await?;
        let count = jobs.len();
        if count > 0 {
            let finished = self.attempt(jobs).await?;
            self.record(&finished).await?;
        }
        Ok(count)
    }

    /// Leases the due jobs; the lease is the record of the attempt.
    pub async fn claim(&self) -> anyhow::Result<Vec<NoticeJob>> {
        let now = self.clock.now();
        Ok(self
            .notices
            .claim_notice_jobs(now, now + self.settings.lease, self.settings.batch)
            .await?)
    }

    /// Sends each job's notice and says how it went; records nothing.
    pub async fn attempt(
        &self,
        jobs: Vec<NoticeJob>,
    ) -> anyhow::Result<Vec<(NoticeJob, NoticeOutcome)>> {
        let mut ids: Vec<Fnr> = jobs.iter().map(|job| job.recipient.clone()).collect();
        ids.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        ids.dedup();
        let entries: HashMap<String, RegisterEntry> = self
            .register
            .register_entries(&ids)
            .await?
            .into_iter()
            .map(|entry| (entry.person.fnr.as_str().to_owned(), entry))
            .collect();
        let mut finished = Vec::with_capacity(jobs.len());
        for job in jobs {
            let entry = entries.get(job.recipient.as_str());
            let address =
                entry.and_then(|entry| current_address(entry, job.channel, self.clock.now()));
            let outcome = match address {
                None => {
                    self.not_sent(&job, "Ingen gyldig kontaktinformasjon i Kontakt- og reservasjonsregisteret for denne kanalen".into())
                        .await?
                }
                Some(address) => {
                    let route = self.routes.route(job.channel);
                    route.limit.acquire().await;
                    let notice = OutgoingNotice {
                        key: job.id,
                        channel: job.channel,
                        address,
                        // In the citizen's language as the register has it now.
                        text: job
                            .wording
                            .text(entry.and_then(|entry| entry.person.language), job.channel),
                    };
                    match route.sender.send(&notice).await {
                        Ok(()) => NoticeOutcome::Sent,
                        Err(SendError::Transient(error))
                            if job.attempts < self.settings.max_attempts =>
                        {
                            tracing::warn!(job = %job.id, attempt = job.attempts, error = %error, "notice will be retried");
                            NoticeOutcome::Retry {
                                at: self.clock.now()
                                    + retry_delay(
                                        self.settings.retry_base,
                                        self.settings.retry_max,
                                        job.attempts,
                                    ),
                                error,
                            }
                        }
                        Err(SendError::Transient(error) | SendError::Permanent(error)) => {
                            tracing::warn!(job = %job.id, attempts = job.attempts, error = %error, "notice gave up");
                            self.not_sent(
                                &job,
                                format!("Varselet kunne ikke leveres etter {} forsøk", job.attempts),
                            )
                            .await?
                        }
                    }
                }
            };
            finished.push((job, outcome));
        }
        Ok(finished)
    }

    pub async fn record(&self, finished: &[(NoticeJob, NoticeOutcome)]) -> anyhow::Result<()> {
        self.notices
            .finish_notice_jobs(finished, self.clock.now())
            .await
            .context("recording notice outcomes")
    }

    /// A notice that will not go out: the sender who ordered it is told with
    /// a `varslingfeiletkvittering`; the citizen's own is just skipped.
    async fn not_sent(
        &self,
        job: &NoticeJob,
        description: String,
    ) -> anyhow::Result<NoticeOutcome> {
        if job.ordered_by == OrderedBy::Citizen {
            return Ok(NoticeOutcome::Skipped(description));
        }
        let receipt = self
            .receipts
            .notice_failed(job.message_row, job.channel, &description)
            .await?;
        Ok(NoticeOutcome::Failed {
            receipt: Some(receipt),
            error: description,
        })
    }
}

/// The register's address for the channel, if it may be used at `now`.
fn current_address(
    entry: &RegisterEntry,
    channel: NoticeChannel,
    now: DateTime<Utc>,
) -> Option<String> {
    let person = &entry.person;
    match channel {
        NoticeChannel::Email => person
            .email
            .as_ref()
            .filter(|email| channel_is_current(Some(email.updated_at), email.verified_at, now))
            .map(|email| email.value.as_str().to_owned()),
        NoticeChannel::Sms => person
            .mobile
            .as_ref()
            .filter(|mobile| channel_is_current(Some(mobile.updated_at), mobile.verified_at, now))
            .map(|mobile| mobile.value.as_str().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_rate_limit_spaces_notices_evenly() {
        let limit = RateLimit::per_second(100);
        let start = Instant::now();
        for _ in 0..21 {
            limit.acquire().await;
        }
        // The first goes at once; twenty more need at least 200 ms.
        assert!(start.elapsed() >= std::time::Duration::from_millis(200));
        let unlimited = RateLimit::per_second(0);
        let start = Instant::now();
        for _ in 0..1000 {
            unlimited.acquire().await;
        }
        assert!(start.elapsed() < std::time::Duration::from_millis(200));
    }
}
