//! The citizen's mailbox as the web app sees it: wire types, the server
//! functions, and (on the server) the service trait they call.
//!
//! Server functions are thin: they find the signed-in citizen and the
//! [`ssr::Mailbox`] service in context and call one method. What a citizen may see
//! (their own letters only; a level-4 letter's title only at level high) is
//! decided by the service, so it never reaches the browser otherwise.

use crate::{
    domain::{LetterId, LetterLink, PackageSigner, Place, SecurityLevel},
    error::AppError,
};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Who is logged in, as the header shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    /// The name from the login, when it gave one.
    pub name: Option<String>,
    /// Shown instead of a name the login did not give.
    pub birth_date: chrono::NaiveDate,
    pub level: SecurityLevel,
    /// Set while the viewer reads another's mailbox under a power of
    /// attorney: whose, and how far the power goes. (`name` and
    /// `birth_date` are then the principal's.)
    pub acting_for: Option<crate::api::fullmakt::ActingBanner>,
}

/// One line of the inbox, with the title the viewer may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    pub id: LetterId,
    pub sender_name: String,
    pub title: String,
    pub received_at: DateTime<Utc>,
    pub unread: bool,
    /// The letter needs a higher login level than the viewer has.
    pub locked: bool,
    /// Documents besides the main one.
    pub attachment_count: u32,
    /// The sender is a public body registered to send through the DPI API.
    pub public_sender: bool,
    /// The sender asks for an answer by then, and none has been sent.
    pub reply_by: Option<DateTime<Utc>>,
}

/// The letters on one page of a place, with the place's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterPage {
    pub place: Place,
    /// A folder's own name; the other places are named by the page, in the
    /// citizen's language.
    pub folder_name: Option<String>,
    pub entries: Vec<InboxEntry>,
    pub total: u64,
    pub unread: u64,
    /// 1-based; the last page when the one asked for is past the end.
    pub page: u32,
    pub page_count: u32,
    /// Days a letter lies in the trash before it is purged.
    pub trash_days: u32,
    /// Read by a delegate under a power of attorney: only reading is offered.
    pub delegated: bool,
}

impl LetterPage {
    /// How many letters one page shows.
    pub const SIZE: u32 = 20;
}

/// The main document shown inside the letter page, when it is text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LetterBody {
    /// HTML already sanitised on the server: no scripts, styles sheets,
    /// event handlers or references to anything outside the letter.
    Html(String),
    PlainText(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentLink {
    pub href: String,
    pub title: String,
    pub file_name: String,
    pub media_type: String,
    pub size_bytes: u64,
    /// A PDF's pages to read inside the letter page; none for other types
    /// and for a PDF that cannot be drawn (then it is a download only).
    pub pages: Option<DocumentPages>,
}

/// A PDF shown page by page: the first pages (up to the server's limit) of
/// `total`, each drawn on the server as a picture with its text beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentPages {
    pub pages: Vec<PageView>,
    pub total: u32,
}

/// One page of a PDF shown in the letter page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageView {
    pub number: u32,
    /// The page's picture, to be asked for at one of [`PageView::WIDTHS`]
    /// with `?bredde=`.
    pub src: String,
    /// The page's size in points: the picture's aspect, so the page keeps
    /// its place before the picture arrives.
    pub width: u32,
    pub height: u32,
    /// The page's text, for screen readers, copying and finding in the page.
    pub text: String,
}

impl PageView {
    /// The widths, in pixels, a page's picture is drawn at. A fixed set
    /// bounds the server's work and is offered to the browser as a `srcset`.
    pub const WIDTHS: [u32; 4] = [480, 800, 1200, 1600];
    /// The query parameter naming the width.
    pub const WIDTH_PARAMETER: &'static str = "bredde";

    /// The picture at `width` pixels.
    pub fn src_at(&self, width: u32) -> String {
        format!("{}?{}={width}", self.src, Self::WIDTH_PARAMETER)
    }

    /// Every width, for `srcset`.
    pub fn srcset(&self) -> String {
        Self::WIDTHS
            .iter()
            .map(|width| format!("{} {width}w", self.src_at(*width)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A letter as the viewer may see it. A locked letter has no documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterView {
    pub id: LetterId,
    pub sender_name: String,
    pub title: String,
    pub security_level: SecurityLevel,
    pub received_at: DateTime<Utc>,
    pub locked: bool,
    /// The sender asked to be told when the letter is opened, and the citizen
    /// has not yet agreed: the documents stay closed until they do.
    pub opening_receipt_pending: bool,
    pub documents: Vec<DocumentLink>,
    /// The main document's text, when it is HTML or plain text and may be shown.
    pub body: Option<LetterBody>,
    pub public_sender: bool,
    /// Who signed the letter's package; the signature was checked on arrival.
    pub signer: Option<PackageSigner>,
    /// The sender's link out, when the documents may be read.
    pub link: Option<LetterLink>,
    /// The link's deadline has not passed (on the server's clock).
    pub link_open: bool,
    pub unread: bool,
    pub place: Place,
    /// Every view of this letter and download of its documents, newest first.
    pub access_log: Vec<AccessEntry>,
    /// Read by a delegate under a power of attorney: only reading, and
    /// replying when `may_reply`, is offered.
    pub delegated: bool,
    pub may_reply: bool,
}

/// What was done with a letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessKind {
    /// The letter's page was shown.
    View,
    /// A document was downloaded.
    Download,
    /// A document's pages were read inside the letter page.
    Read,
    /// The citizen sent their answer to the letter's reply form.
    Reply,
    /// The citizen wrote to the letter's sender.
    Message,
}

/// One line of a letter's access log. It names documents by position only,
/// so the log of a locked letter reveals nothing of its contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    pub at: DateTime<Utc>,
    pub kind: AccessKind,
    /// For downloads: the document's position, 0 being the main document.
    pub document: Option<u32>,
    pub level: SecurityLevel,
    /// The delegate who did it under a power of attorney, by the name the
    /// owner gave them; none when the owner did it.
    pub delegate: Option<String>,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Server-only: the mailbox service.

    use super::*;
    use crate::api::session::{fail, SignedIn};
    use std::sync::Arc;

    #[async_trait::async_trait]
    pub trait Mailbox: Send + Sync + 'static {
        /// One page (1-based) of the letters in `place`.
        async fn inbox(
            &self,
            viewer: &SignedIn,
            place: Place,
            page: u32,
        ) -> Result<LetterPage, AppError>;
        async fn letter(&self, viewer: &SignedIn, id: LetterId) -> Result<LetterView, AppError>;
        /// The citizen agrees that the sender is told the letter was opened.
        async fn accept_opening_receipt(
            &self,
            viewer: &SignedIn,
            id: LetterId,
        ) -> Result<(), AppError>;
    }

    pub type SharedMailbox = Arc<dyn Mailbox>;

    pub fn mailbox() -> Result<SharedMailbox, AppError> {
        use_context::<SharedMailbox>().ok_or_else(|| fail(AppError::Internal))
    }
}

#[server(endpoint = "current_viewer")]
pub async fn current_viewer() -> Result<Option<Viewer>, AppError> {
    use crate::api::{
        fullmakt::{ActingBanner, Reach},
        session,
    };
    Ok(session::signed_in()
        .or_else(session::acting_for)
        .map(|citizen| Viewer {
            name: citizen.display_name.clone(),
            birth_date: citizen.fnr.birth_date(),
            level: citizen.level,
            acting_for: citizen.on_behalf.as_ref().map(|power| ActingBanner {
                principal_name: citizen.display_name.clone(),
                principal_birth_date: citizen.fnr.birth_date(),
                reach: if power.may_reply {
                    Reach::ReadAndReply
                } else {
                    Reach::Read
                },
                all_senders: power.all_senders,
            }),
        }))
}

/// `mappe` is a place as in the address (`innboks` when absent), `side` the
/// 1-based page (the first when absent).
#[server(endpoint = "list_inbox")]
pub async fn list_inbox(
    mappe: Option<String>,
    side: Option<String>,
) -> Result<LetterPage, AppError> {
    use crate::api::{input, session};
    let citizen = session::require_reader()?;
    let page = input::page("side", side.as_deref())?;
    let place = Place::from_param(mappe.as_deref().unwrap_or_default())
        .ok_or_else(|| session::fail(AppError::NotFound))?;
    ssr::mailbox()?
        .inbox(&citizen, place, page.get())
        .await
        .map_err(session::fail)
}

/// `id` is the letter's id, as text.
#[server(endpoint = "open_letter")]
pub async fn open_letter(id: String) -> Result<LetterView, AppError> {
    use crate::api::{input, session};
    let citizen = session::require_reader()?;
    let id: LetterId = input::id("id", &id)?;
    ssr::mailbox()?
        .letter(&citizen, id)
        .await
        .map_err(session::fail)
}

/// Opens a letter whose sender asked for an opening receipt: the receipt goes
/// to the sender (once), and the documents can be read.
#[server(endpoint = "accept_opening_receipt")]
pub async fn accept_opening_receipt(id: String) -> Result<(), AppError> {
    use crate::api::{input, session};
    let citizen = session::require_signed_in()?;
    let id: LetterId = input::id("id", &id)?;
    ssr::mailbox()?
        .accept_opening_receipt(&citizen, id)
        .await
        .map_err(session::fail)
}
