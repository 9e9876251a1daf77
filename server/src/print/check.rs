//! The public check page's service: a paper letter's code is looked up, and
//! only what the holder of the letter already sees is told (sender, date,
//! title). Guessing is rate-limited per client address, so the code space
//! (2^50) cannot be searched.

use super::{verification::VerificationCode, PrintService};
use app::{
    api::check::{ssr::PaperLetterCheck, CheckOutcome},
    error::AppError,
};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::{
    net::{IpAddr, Ipv4Addr},
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
};

pub struct PaperLetterChecks {
    print: PrintService,
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

impl PaperLetterChecks {
    /// Each client may check `per_minute` codes a minute, all at once if it likes.
    pub fn new(print: PrintService, per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            print,
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
            checks: AtomicU64::new(0),
        }
    }
}

#[async_trait::async_trait]
impl PaperLetterCheck for PaperLetterChecks {
    async fn check(&self, code: &str, client: Option<IpAddr>) -> Result<CheckOutcome, AppError> {
        // Clients the server cannot tell apart share one allowance.
        let client = client.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            // Forget clients whose allowance is full again.
            self.limiter.retain_recent();
        }
        if self.limiter.check_key(&client).is_err() {
            tracing::warn!(%client, "too many paper letter checks");
            return Ok(CheckOutcome::TooManyAttempts);
        }
        let Ok(code) = VerificationCode::parse(code) else {
            return Ok(CheckOutcome::NotACode);
        };
        let found = self.print.check(&code).await.map_err(|error| {
            tracing::error!(%error, "checking a paper letter failed");
            AppError::Internal
        })?;
        Ok(match found {
            Some(letter) => CheckOutcome::Genuine {
                sender_name: letter.sender_name,
                sender_org_nr: letter.sender.to_string(),
                title: letter.title,
                sent_at: letter.sent_at,
            },
            None => CheckOutcome::Unknown,
        })
    }
}
