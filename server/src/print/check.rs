//! The public check page's service: a paper letter's code is looked up, and
//! only what the holder of the letter already sees is told (sender, date,
//! title). Guessing is rate-limited per client address (the `paper_check`
//! limit, shared by every node), so the code space (2^50) cannot be searched.

use super::{verification::VerificationCode, PrintService};
use crate::limits::{Kind, Limiter, Subject};
use app::{
    api::check::{ssr::PaperLetterCheck, CheckOutcome},
    error::AppError,
};
use std::{net::IpAddr, sync::Arc};

pub struct PaperLetterChecks {
    print: PrintService,
    limiter: Arc<Limiter>,
}

impl PaperLetterChecks {
    pub fn new(print: PrintService, limiter: Arc<Limiter>) -> Self {
        Self { print, limiter }
    }
}

#[async_trait::async_trait]
impl PaperLetterCheck for PaperLetterChecks {
    async fn check(&self, code: &str, client: Option<IpAddr>) -> Result<CheckOutcome, AppError> {
        // Clients the server cannot tell apart share one allowance.
        if self
            .limiter
            .admit(Kind::PaperCheck, &Subject::Address(client))
            .await
            .is_err()
        {
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
