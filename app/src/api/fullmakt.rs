//! Powers of attorney (fullmakt): a citizen lets another person read their
//! letters, and perhaps answer them, from all senders or from the senders
//! they choose, until a date. The wire types, the server functions and (on
//! the server) the service trait they call.
//!
//! Giving, ending and listing are the citizen's own acts. Switching into a
//! principal's mailbox, and back, changes the session, so those are plain
//! form posts to the server (`/fullmakter/bruk`, `/fullmakter/tilbake`).

use crate::{
    domain::{FullmaktId, OrgNr},
    error::AppError,
};
use chrono::{DateTime, NaiveDate, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A power lasts at most this long; a longer need is a new power then.
pub const LONGEST_DAYS: i64 = 366;
/// The most characters of the delegate's name.
pub const NAME_MAX_CHARS: u32 = 100;

/// The form's fields, as the page names them.
pub mod field {
    pub const FNR: &str = "fnr";
    pub const NAME: &str = "navn";
    pub const REACH: &str = "tilgang";
    pub const SENDERS: &str = "avsendere";
    pub const SENDER: &str = "avsender";
    pub const ENDS_ON: &str = "til";
}

/// What the delegate may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reach {
    Read,
    ReadAndReply,
}

impl Reach {
    /// As the form sends it.
    pub fn code(self) -> &'static str {
        match self {
            Reach::Read => "lese",
            Reach::ReadAndReply => "lese-og-svare",
        }
    }

    pub fn from_code(code: &str) -> Option<Reach> {
        [Reach::Read, Reach::ReadAndReply]
            .into_iter()
            .find(|reach| reach.code() == code)
    }
}

/// A sender the citizen has letters from, to choose in the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderChoice {
    pub org_nr: OrgNr,
    pub name: String,
}

/// How a power ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndedBy {
    Principal,
    Delegate,
}

/// One power, as one side of it sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullmaktView {
    pub id: FullmaktId,
    /// The other side: the delegate's name for the principal; for the
    /// delegate, the principal's name (or none, then `other_birth_date`).
    pub other_name: Option<String>,
    pub other_birth_date: NaiveDate,
    pub reach: Reach,
    /// None: all senders.
    pub senders: Option<Vec<SenderChoice>>,
    pub created_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub ended: Option<(DateTime<Utc>, EndedBy)>,
    /// Not ended, and its end date not passed.
    pub in_force: bool,
}

/// The page: powers the citizen gave and was given, and the senders to
/// choose from when giving one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullmaktOverview {
    pub given: Vec<FullmaktView>,
    pub received: Vec<FullmaktView>,
    pub senders: Vec<SenderChoice>,
    /// Today in Norway: the form's earliest end date is tomorrow.
    pub today: NaiveDate,
}

/// What the header's banner says while a delegate reads another's mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActingBanner {
    pub principal_name: Option<String>,
    pub principal_birth_date: NaiveDate,
    pub reach: Reach,
    pub all_senders: bool,
}

/// A power to give, as the form sent it (checked on the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiveRequest {
    pub fnr: String,
    pub name: String,
    pub reach: String,
    pub senders: String,
    pub chosen: Vec<String>,
    pub ends_on: String,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Server-only: the service the server functions call.

    use super::*;
    use crate::api::session::{fail, SignedIn};
    use std::sync::Arc;

    #[async_trait::async_trait]
    pub trait Powers: Send + Sync + 'static {
        async fn overview(&self, viewer: &SignedIn) -> Result<FullmaktOverview, AppError>;
        /// Gives the power; the principal is told through their notice channels.
        async fn give(
            &self,
            viewer: &SignedIn,
            request: GiveRequest,
        ) -> Result<FullmaktId, AppError>;
        /// Ends the power now, for either side.
        async fn end(&self, viewer: &SignedIn, id: FullmaktId) -> Result<(), AppError>;
    }

    pub type SharedPowers = Arc<dyn Powers>;

    pub fn powers() -> Result<SharedPowers, AppError> {
        use_context::<SharedPowers>().ok_or_else(|| fail(AppError::Internal))
    }
}

#[server(endpoint = "load_fullmakter")]
pub async fn load_fullmakter() -> Result<FullmaktOverview, AppError> {
    use crate::api::session;
    let citizen = session::require_signed_in()?;
    ssr::powers()?
        .overview(&citizen)
        .await
        .map_err(session::fail)
}

/// `avsendere` is `alle` or `valgte`; the chosen senders come as
/// `avsender[0]`, `avsender[1]`, ... (checkboxes, so some may be missing).
#[server(endpoint = "give_fullmakt")]
pub async fn give_fullmakt(
    fnr: String,
    navn: String,
    tilgang: String,
    avsendere: String,
    avsender: Option<Vec<String>>,
    til: String,
) -> Result<(), AppError> {
    use crate::api::session;
    let citizen = session::require_signed_in()?;
    ssr::powers()?
        .give(
            &citizen,
            GiveRequest {
                fnr,
                name: navn,
                reach: tilgang,
                senders: avsendere,
                chosen: avsender.unwrap_or_default(),
                ends_on: til,
            },
        )
        .await
        .map(|_| ())
        .map_err(session::fail)
}

/// Ends power `id` now: the principal or the delegate may, also while the
/// delegate reads the principal's mailbox.
#[server(endpoint = "end_fullmakt")]
pub async fn end_fullmakt(id: String) -> Result<(), AppError> {
    use crate::api::{input, session};
    let reader = session::require_reader()?;
    let id: FullmaktId = input::id("id", &id)?;
    // A delegate ends the power they hold, as themselves.
    ssr::powers()?
        .end(&reader.as_themselves(), id)
        .await
        .map_err(session::fail)
}
