//! The citizen's mailbox: what a logged-in citizen may see of their letters.
//!
//! Every read names the citizen, and the store filters on them in the query, so
//! another citizen's letter is simply not found. A letter above the login's
//! level shows only its non-sensitive title and none of its documents.
//!
//! What it remembers is [`Store`]: mailboxes, letters, access logs, places,
//! folders, uploads and the trash.

pub mod archive;
pub mod export;
pub mod html;
pub mod routes;
mod store;

pub use crate::store::Reader;
pub use store::{ArchivedLetter, Citizen, LetterCounts, LetterSlice, Store, StoredUpload};

use crate::blobs::{BlobError, BlobStore};
use crate::broker::{Broker, OpeningReceiptState};
use crate::clock::Clock;
use crate::errors::internal;
use crate::pages::{PageError, PageLimits, Renderer};
use crate::store::StorageError;
use app::{
    api::{
        mailbox::{
            AccessEntry, AccessKind, DocumentLink, DocumentPages, InboxEntry, LetterBody,
            LetterPage, LetterView, PageView,
        },
        session::SignedIn,
    },
    domain::{Document, Letter, LetterId, LetterSummary, MediaType, Place, SecurityLevel},
    error::AppError,
};
use bytes::Bytes;
use std::sync::Arc;

pub struct MailboxService {
    store: Arc<dyn Store>,
    /// Tells letters from registered agencies (public senders) apart.
    agencies: Arc<dyn crate::agency::Store>,
    /// Sends the opening receipts senders ask for.
    broker: Arc<Broker>,
    blobs: Arc<dyn BlobStore>,
    /// Letters stay hidden until their effective time on this clock.
    clock: Arc<dyn Clock>,
    limits: ArchiveLimits,
    /// Tells the search index what moves, deletes and uploads changed.
    index_feed: Option<crate::search::IndexFeed>,
    /// The replies and messages the export writes beside each letter.
    replies: Option<Arc<dyn crate::replies::Store>>,
    /// Exports are recorded for the citizen's "Min aktivitet".
    activity: Arc<dyn crate::activity::Store>,
    /// Draws PDF pages to read inside the letter page.
    pages: Renderer,
}

/// The archive's limits, from the `[mailbox]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    pub max_upload_bytes: usize,
    pub trash_days: u32,
}

/// The largest HTML or text main document shown inside the letter page; a
/// bigger one is offered as a download only.
const MAX_INLINE_BODY_BYTES: u64 = 2 * 1024 * 1024;

/// A document the citizen may read, with its bytes.
pub struct OpenedDocument {
    pub document: Document,
    pub bytes: Bytes,
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("not found")]
    NotFound,
    #[error("the letter needs a login at level {0:?}")]
    NeedsHigherLevel(SecurityLevel),
    #[error("the sender asked for an opening receipt the citizen has not agreed to")]
    NeedsOpeningConsent,
    /// The page could not be drawn in time; another try may succeed.
    #[error("the page could not be drawn in time")]
    Busy,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn readable_by(level: SecurityLevel, viewer: &SignedIn) -> bool {
    viewer.level >= level
}

fn shown_title(
    summary_level: SecurityLevel,
    viewer: &SignedIn,
    title: &str,
    nonsensitive: &str,
) -> String {
    if readable_by(summary_level, viewer) {
        title
    } else {
        nonsensitive
    }
    .to_owned()
}

impl MailboxService {
    pub fn new(
        store: Arc<dyn Store>,
        agencies: Arc<dyn crate::agency::Store>,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        broker: Arc<Broker>,
        limits: ArchiveLimits,
        activity: Arc<dyn crate::activity::Store>,
    ) -> Self {
        Self {
            store,
            agencies,
            broker,
            blobs,
            clock,
            limits,
            index_feed: None,
            replies: None,
            activity,
            pages: Renderer::new(PageLimits::default()),
        }
    }

    /// Keeps the search index in step with the citizen's changes.
    pub fn with_index_feed(mut self, feed: crate::search::IndexFeed) -> Self {
        self.index_feed = Some(feed);
        self
    }

    /// Exports the citizen's replies and messages with their letters.
    pub fn with_replies(mut self, replies: Arc<dyn crate::replies::Store>) -> Self {
        self.replies = Some(replies);
        self
    }

    fn entry(viewer: &SignedIn, summary: LetterSummary) -> InboxEntry {
        InboxEntry {
            id: summary.id,
            title: shown_title(
                summary.security_level,
                viewer,
                summary.title.as_str(),
                summary.nonsensitive_title.as_str(),
            ),
            locked: !readable_by(summary.security_level, viewer),
            sender_name: summary.sender_name,
            received_at: summary.received_at,
            unread: summary.unread,
            attachment_count: summary.document_count.saturating_sub(1),
            public_sender: summary.public_sender,
            // Only the citizen who may read the letter sees what it asks.
            reply_by: summary
                .reply_by
                .filter(|_| readable_by(summary.security_level, viewer)),
        }
    }

    /// Whether the viewer may see the letter's documents now.
    fn may_open(viewer: &SignedIn, letter: &Letter, opening: OpeningReceiptState) -> bool {
        readable_by(letter.security_level, viewer) && opening != OpeningReceiptState::Pending
    }

    fn view(
        viewer: &SignedIn,
        letter: Letter,
        opening: OpeningReceiptState,
        now: chrono::DateTime<chrono::Utc>,
    ) -> LetterView {
        let readable = readable_by(letter.security_level, viewer);
        // After its deadline the link's address does not reach the page at
        // all, so nothing can follow it.
        let link = letter
            .link
            .clone()
            .filter(|_| Self::may_open(viewer, &letter, opening))
            .map(|mut link| {
                if !link.is_open(now) {
                    link.url.clear();
                }
                link
            });
        let opening_receipt_pending = opening == OpeningReceiptState::Pending;
        let documents = if Self::may_open(viewer, &letter, opening) {
            letter
                .documents
                .iter()
                .enumerate()
                .map(|(index, document)| DocumentLink {
                    href: format!("/dokumenter/{}/{index}", letter.id),
                    title: document.title.to_string(),
                    file_name: document.file_name.clone(),
                    media_type: document.media_type.as_mime().to_owned(),
                    size_bytes: document.size_bytes,
                    pages: None,
                })
                .collect()
        } else {
            Vec::new()
        };
        LetterView {
            id: letter.id,
            title: shown_title(
                letter.security_level,
                viewer,
                letter.title.as_str(),
                letter.nonsensitive_title.as_str(),
            ),
            sender_name: letter.sender.name,
            security_level: letter.security_level,
            received_at: letter.received_at,
            locked: !readable,
            opening_receipt_pending,
            documents,
            body: None,
            public_sender: false,
            signer: letter.signer,
            link_open: link.as_ref().is_some_and(|link| link.is_open(now)),
            link,
            unread: letter.read_at.is_none(),
            place: Place::Inbox,
            access_log: Vec::new(),
            delegated: false,
            may_reply: true,
        }
    }

    /// The main document's text for the letter page, when it is HTML (then
    /// sanitised) or plain text and small enough to show inline.
    async fn body(&self, letter: &Letter) -> Result<Option<LetterBody>, anyhow::Error> {
        let Some(main) = letter.documents.first() else {
            return Ok(None);
        };
        if !matches!(main.media_type, MediaType::Html | MediaType::PlainText)
            || main.size_bytes > MAX_INLINE_BODY_BYTES
        {
            return Ok(None);
        }
        let bytes = self.blobs.get(&main.digest).await?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Ok(Some(match main.media_type {
            MediaType::Html => LetterBody::Html(html::sanitise_off_runtime(text).await?),
            _ => LetterBody::PlainText(text),
        }))
    }

    /// The owner's letter, if it exists and is in effect now.
    async fn letter_in_effect(&self, viewer: &SignedIn, id: LetterId) -> Result<Letter, AppError> {
        match self
            .store
            .letter_for(Reader::of(viewer), id, self.clock.now())
            .await
        {
            Ok(letter) => Ok(letter),
            Err(StorageError::NotFound) => Err(AppError::NotFound),
            Err(error) => Err(internal(error)),
        }
    }

    /// Adds a line to the letter's access log, before what it records is shown.
    async fn note_access(
        &self,
        viewer: &SignedIn,
        id: LetterId,
        kind: AccessKind,
        document: Option<u32>,
    ) -> Result<(), StorageError> {
        self.store
            .record_access(
                &viewer.fnr,
                id,
                &AccessEntry {
                    at: self.clock.now(),
                    kind,
                    document,
                    level: viewer.level,
                    delegate: viewer.delegate_name().map(str::to_owned),
                },
                None,
            )
            .await
    }

    async fn opening_state(
        &self,
        viewer: &SignedIn,
        id: LetterId,
    ) -> Result<OpeningReceiptState, anyhow::Error> {
        Ok(self
            .broker
            .opening_receipt_state(&viewer.fnr, id)
            .await?
            .unwrap_or(OpeningReceiptState::NotAsked))
    }

    /// One document's bytes, if the citizen owns the letter and is logged in at its level.
    /// The viewer's document `index` of letter `id`, if they may read it now:
    /// their own letter, in effect, at their level, its opening receipt
    /// agreed to.
    async fn readable_document(
        &self,
        viewer: &SignedIn,
        id: LetterId,
        index: usize,
    ) -> Result<Document, DocumentError> {
        let letter = match self
            .store
            .letter_for(Reader::of(viewer), id, self.clock.now())
            .await
        {
            Ok(letter) => letter,
            Err(StorageError::NotFound) => return Err(DocumentError::NotFound),
            Err(error) => return Err(DocumentError::Internal(error.into())),
        };
        if !readable_by(letter.security_level, viewer) {
            return Err(DocumentError::NeedsHigherLevel(letter.security_level));
        }
        if self.opening_state(viewer, id).await? == OpeningReceiptState::Pending {
            return Err(DocumentError::NeedsOpeningConsent);
        }
        letter
            .documents
            .into_iter()
            .nth(index)
            .ok_or(DocumentError::NotFound)
    }

    async fn blob(&self, document: &Document) -> Result<Bytes, anyhow::Error> {
        self.blobs
            .get(&document.digest)
            .await
            .map_err(|error| match error {
                BlobError::NotFound => anyhow::anyhow!("document blob missing"),
                other => anyhow::Error::new(other),
            })
    }

    pub async fn document(
        &self,
        viewer: &SignedIn,
        id: LetterId,
        index: usize,
    ) -> Result<OpenedDocument, DocumentError> {
        let document = self.readable_document(viewer, id, index).await?;
        self.note_access(viewer, id, AccessKind::Download, u32::try_from(index).ok())
            .await
            .map_err(anyhow::Error::new)?;
        let bytes = self.blob(&document).await?;
        Ok(OpenedDocument { document, bytes })
    }

    /// Page `page` (from 1) of a PDF document, drawn `width` pixels wide as
    /// PNG, under the same rule as the document itself. Reading it in the
    /// page is logged once per document and [`READ_LOGGED_ONCE_PER`], not
    /// once per page picture.
    pub async fn document_page(
        &self,
        viewer: &SignedIn,
        id: LetterId,
        index: usize,
        page: usize,
        width: u32,
    ) -> Result<Vec<u8>, DocumentError> {
        let document = self.readable_document(viewer, id, index).await?;
        if document.media_type != MediaType::Pdf {
            return Err(DocumentError::NotFound);
        }
        let now = self.clock.now();
        let entry = AccessEntry {
            at: now,
            kind: AccessKind::Read,
            document: u32::try_from(index).ok(),
            level: viewer.level,
            delegate: viewer.delegate_name().map(str::to_owned),
        };
        self.store
            .record_access(&viewer.fnr, id, &entry, Some(now - READ_LOGGED_ONCE_PER))
            .await
            .map_err(anyhow::Error::new)?;
        let bytes = self.blob(&document).await?;
        self.pages
            .render_png(bytes, page, width)
            .await
            .map_err(|error| match error {
                PageError::NoSuchPage(_) => DocumentError::NotFound,
                PageError::TimedOut(_) => DocumentError::Busy,
                other => DocumentError::Internal(other.into()),
            })
    }

    /// The pages of each PDF document in `documents`, for the letter page.
    /// A PDF that cannot be drawn is left a download only.
    async fn with_pages(&self, letter: &Letter, documents: &mut [DocumentLink]) {
        for (document, link) in letter.documents.iter().zip(documents.iter_mut()) {
            if document.media_type != MediaType::Pdf
                || document.size_bytes > self.pages.limits().max_bytes
            {
                continue;
            }
            let outline = match self.blob(document).await {
                Ok(bytes) => self.pages.outline(bytes).await.map_err(anyhow::Error::new),
                Err(error) => Err(error),
            };
            match outline {
                Ok(outline) => {
                    link.pages = Some(DocumentPages {
                        total: u32::try_from(outline.total).unwrap_or(u32::MAX),
                        pages: outline
                            .pages
                            .into_iter()
                            .zip(1..)
                            .map(|(page, number)| PageView {
                                number,
                                src: format!("{}/sider/{number}", link.href),
                                width: page.width_pt.round() as u32,
                                height: page.height_pt.round() as u32,
                                text: page.text,
                            })
                            .collect(),
                    })
                }
                Err(error) => tracing::warn!(
                    letter = %letter.id,
                    error = %error,
                    "a PDF could not be shown in the page; it stays a download"
                ),
            }
        }
    }
}

/// A document read in the page is noted in its access log once in this
/// long, however many page pictures the browser fetches.
pub const READ_LOGGED_ONCE_PER: chrono::Duration = chrono::Duration::minutes(10);

#[async_trait::async_trait]
impl app::api::mailbox::ssr::Mailbox for MailboxService {
    async fn inbox(
        &self,
        viewer: &SignedIn,
        place: Place,
        page: u32,
    ) -> Result<LetterPage, AppError> {
        let folder_name = self.folder_name(viewer, place).await?;
        let page = page.max(1);
        let offset = u64::from(page - 1) * u64::from(LetterPage::SIZE);
        let slice = self
            .store
            .letter_slice(
                Reader::of(viewer),
                self.clock.now(),
                place,
                offset,
                LetterPage::SIZE,
            )
            .await
            .map_err(internal)?;
        let page_count = u32::try_from(slice.counts.total.div_ceil(u64::from(LetterPage::SIZE)))
            .unwrap_or(u32::MAX)
            .max(1);
        Ok(LetterPage {
            place,
            folder_name,
            entries: slice
                .letters
                .into_iter()
                .map(|summary| Self::entry(viewer, summary))
                .collect(),
            total: slice.counts.total,
            unread: slice.counts.unread,
            page: page.min(page_count),
            page_count,
            trash_days: self.limits.trash_days,
            delegated: viewer.on_behalf.is_some(),
        })
    }

    async fn letter(&self, viewer: &SignedIn, id: LetterId) -> Result<LetterView, AppError> {
        let letter = self.letter_in_effect(viewer, id).await?;
        let opening = self.opening_state(viewer, id).await.map_err(internal)?;
        self.note_access(viewer, id, AccessKind::View, None)
            .await
            .map_err(internal)?;
        let open = Self::may_open(viewer, &letter, opening);
        let body = if open {
            // Reading it is what makes it read; the citizen can mark it
            // unread again. A delegate's reading leaves it new for the owner.
            if viewer.on_behalf.is_none() {
                self.store
                    .set_unread(&viewer.fnr, id, false, self.clock.now())
                    .await
                    .map_err(internal)?;
            }
            self.body(&letter).await.map_err(internal)?
        } else {
            None
        };
        let access_log = self
            .store
            .access_log(&viewer.fnr, id)
            .await
            .map_err(internal)?;
        let place = self
            .store
            .letter_place(&viewer.fnr, id)
            .await
            .map_err(internal)?;
        let public_sender = self
            .agencies
            .agency_by_org_nr(&letter.sender.org_nr)
            .await
            .map_err(internal)?
            .is_some();
        let mut view = Self::view(viewer, letter.clone(), opening, self.clock.now());
        if open {
            self.with_pages(&letter, &mut view.documents).await;
        }
        view.unread = view.unread && !(open && viewer.on_behalf.is_none());
        view.delegated = viewer.on_behalf.is_some();
        view.may_reply = viewer
            .on_behalf
            .as_ref()
            .is_none_or(|power| power.may_reply);
        view.body = body;
        view.public_sender = public_sender;
        view.place = place;
        view.access_log = access_log;
        Ok(view)
    }

    async fn accept_opening_receipt(
        &self,
        viewer: &SignedIn,
        id: LetterId,
    ) -> Result<(), AppError> {
        // Only a letter the citizen may read now: their own, in effect, at their level.
        let letter = self.letter_in_effect(viewer, id).await?;
        if !readable_by(letter.security_level, viewer) {
            return Err(AppError::NotFound);
        }
        match self.broker.send_opening_receipt(&viewer.fnr, id).await {
            Ok(()) => Ok(()),
            Err(crate::broker::BrokerError::NotFound) => Err(AppError::NotFound),
            Err(error) => Err(internal(anyhow::Error::new(error))),
        }
    }
}
