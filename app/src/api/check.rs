//! The public check of a paper letter: every letter Postkasse prints carries
//! a short code, and anyone holding the letter can ask here whether it
//! really came through Postkasse, from whom, when and with what title. A
//! letter that fails the check is not from Postkasse, which blunts phishing
//! letters made to look official. No login: the code is the key, and
//! guessing codes is rate-limited per client.

use crate::error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckOutcome {
    /// A letter Postkasse printed.
    Genuine {
        sender_name: String,
        sender_org_nr: String,
        title: String,
        sent_at: DateTime<Utc>,
    },
    /// No letter Postkasse printed has this code.
    Unknown,
    /// What was typed cannot be a code.
    NotACode,
    /// Too many checks from this client lately; try again in a minute.
    TooManyAttempts,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Server-only: the service the server function calls, and where the
    //! server says who is asking.

    use super::*;
    use crate::api::session::fail;
    use std::{net::IpAddr, sync::Arc};

    /// The address the request came from, put in the request's extensions
    /// by the server; it never crosses the wire.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct ClientAddress(pub IpAddr);

    #[async_trait::async_trait]
    pub trait PaperLetterCheck: Send + Sync + 'static {
        async fn check(&self, code: &str, client: Option<IpAddr>)
            -> Result<CheckOutcome, AppError>;
    }

    pub type SharedPaperLetterCheck = Arc<dyn PaperLetterCheck>;

    pub async fn check(code: String) -> Result<CheckOutcome, AppError> {
        let service =
            use_context::<SharedPaperLetterCheck>().ok_or_else(|| fail(AppError::Internal))?;
        let client = use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<ClientAddress>().copied())
            .map(|ClientAddress(address)| address);
        let outcome = service.check(&code, client).await.map_err(fail)?;
        if outcome == CheckOutcome::TooManyAttempts {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(http::StatusCode::TOO_MANY_REQUESTS);
            }
        }
        Ok(outcome)
    }
}

#[server(endpoint = "check_paper_letter")]
pub async fn check_paper_letter(kode: String) -> Result<CheckOutcome, AppError> {
    ssr::check(kode).await
}
