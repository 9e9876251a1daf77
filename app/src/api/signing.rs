//! Signing: what an agency asks citizens to sign and how far it has got, and
//! the checked signatures of signed PDFs. The letter's recipient signs in the
//! letter view; the citizens who sign after them (in order) have their own
//! page, `/signering/{id}`, and every signer a list, `/signering`.
//!
//! Signing and declining are plain forms posted to `/brev/{id}/signering`
//! (the recipient) or `/signering/{id}` (a later signer): one deliberate
//! action, the same with and without JavaScript. The server signs, stores and
//! sends the browser back to the page.

use crate::{
    domain::{JobStatus, SecurityLevel, SignerStatus},
    error::AppError,
};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The most characters a reason for declining may have.
pub const REASON_MAX_CHARS: usize = 500;

/// A signing order as the letter page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningView {
    /// What is signed.
    pub title: String,
    /// For whom: the letter's sender.
    pub sender_name: String,
    /// The document to sign, and its SHA-256 (hex) so the citizen can tell
    /// it is the one they read.
    pub document_href: String,
    pub document_name: String,
    pub document_sha256: String,
    pub deadline: DateTime<Utc>,
    pub level: SecurityLevel,
    /// What the signed document says about the signer ("Kari Nordmann,
    /// født 01.01.1970").
    pub shown_as: String,
    /// The viewer's own part.
    pub state: SigningState,
    /// Where the sign and decline forms post, and where a step-up login
    /// returns to.
    pub form_action: String,
    pub page_href: String,
    /// Everyone who is to sign, in order (one line when the viewer signs
    /// alone).
    pub signers: Vec<SignerLine>,
    pub job: JobStatus,
    /// The completed document, signed by everyone, once it is.
    pub completed_href: Option<String>,
}

impl SigningView {
    /// Whether the viewer has signed their part.
    pub fn state_is_signed(&self) -> bool {
        matches!(self.state, SigningState::Signed { .. })
    }
}

/// One of an order's signers, as its page lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerLine {
    pub name: String,
    pub status: SignerStatus,
    pub at: Option<DateTime<Utc>>,
    pub is_viewer: bool,
}

/// An order in the viewer's list of things to sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningTask {
    pub title: String,
    pub sender_name: String,
    pub deadline: DateTime<Utc>,
    /// The letter (for its recipient) or the signing page (for the others).
    pub href: String,
    pub state: SigningState,
    /// Where the viewer is in the order, from 1, of how many.
    pub turn: usize,
    pub signers: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningState {
    /// The citizen may sign or decline now.
    Open,
    /// Open, but the login's level is below the order's.
    NeedsStepUp,
    Signed {
        at: DateTime<Utc>,
        /// The signed PDF, kept in the letter.
        signed_href: String,
    },
    Declined {
        at: DateTime<Utc>,
    },
    Expired,
    /// The sender withdrew the order.
    Cancelled {
        at: DateTime<Utc>,
    },
}

impl SigningState {
    pub fn from_status(
        status: SignerStatus,
        at: Option<DateTime<Utc>>,
        signed_href: Option<String>,
    ) -> Self {
        let at = at.unwrap_or_default();
        match (status, signed_href) {
            (SignerStatus::Waiting, _) => SigningState::Open,
            (SignerStatus::Signed, Some(signed_href)) => SigningState::Signed { at, signed_href },
            (SignerStatus::Signed, None) => SigningState::Open,
            (SignerStatus::Rejected, _) => SigningState::Declined { at },
            (SignerStatus::Expired, _) => SigningState::Expired,
            (SignerStatus::Cancelled, _) => SigningState::Cancelled { at },
        }
    }
}

/// A signature in one of the letter's PDFs, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureSummary {
    /// The document it is in.
    pub document_name: String,
    /// The certificate's subject.
    pub signer: String,
    /// The person the signature was made for, when the signature names one.
    pub name: Option<String>,
    pub signed_at: Option<DateTime<Utc>>,
    pub timestamped: bool,
    pub verdict: SignatureVerdict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignatureVerdict {
    Valid,
    /// Intact, but the signer's certificate leads to no certificate
    /// authority Postkasse trusts.
    UnknownSigner,
    /// Broken: the document changed after signing, or the signature does
    /// not verify.
    Invalid,
}

/// What the letter page shows about signing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningArea {
    pub order: Option<SigningView>,
    pub signatures: Vec<SignatureSummary>,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Server-only: the signing service.

    use super::*;
    use crate::api::session::{fail, SignedIn};
    use crate::domain::LetterId;
    use std::sync::Arc;

    #[async_trait::async_trait]
    pub trait Signing: Send + Sync + 'static {
        /// The letter's signing order and its signatures; another citizen's
        /// letter is not found. Below the letter's own level nothing is shown.
        async fn area(&self, viewer: &SignedIn, letter: LetterId) -> Result<SigningArea, AppError>;

        /// The order of `letter` for a signer after its recipient, whose
        /// turn has come; anyone else's is not found.
        async fn task(&self, viewer: &SignedIn, letter: LetterId) -> Result<SigningArea, AppError>;

        /// Every order whose turn has come for the viewer, newest first.
        async fn tasks(&self, viewer: &SignedIn) -> Result<Vec<SigningTask>, AppError>;
    }

    pub type SharedSigning = Arc<dyn Signing>;

    pub fn signing() -> Result<SharedSigning, AppError> {
        use_context::<SharedSigning>().ok_or_else(|| fail(AppError::Internal))
    }
}

/// `id` is the letter's id.
#[server(endpoint = "load_signing_area")]
pub async fn load_signing_area(id: String) -> Result<SigningArea, AppError> {
    use crate::api::{input, session};
    let citizen = session::require_signed_in()?;
    let letter: crate::domain::LetterId = input::id("id", &id)?;
    ssr::signing()?
        .area(&citizen, letter)
        .await
        .map_err(session::fail)
}

/// The order of letter `id` for a signer after its recipient.
#[server(endpoint = "load_signing_task")]
pub async fn load_signing_task(id: String) -> Result<SigningArea, AppError> {
    use crate::api::{input, session};
    let citizen = session::require_signed_in()?;
    let letter: crate::domain::LetterId = input::id("id", &id)?;
    ssr::signing()?
        .task(&citizen, letter)
        .await
        .map_err(session::fail)
}

/// The viewer's orders to sign, theirs or as a later signer.
#[server(endpoint = "load_signing_tasks")]
pub async fn load_signing_tasks() -> Result<Vec<SigningTask>, AppError> {
    use crate::api::session;
    let citizen = session::require_signed_in()?;
    ssr::signing()?.tasks(&citizen).await.map_err(session::fail)
}
