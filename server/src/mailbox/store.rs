//! What the mailbox remembers: each citizen's mailbox and the letters in it
//! with their documents, the access log of every letter, where each letter
//! lies (inbox, archive, one of the citizen's folders, the trash), the
//! citizen's folders and uploads, and what the trash purge and the export read.
//!
//! Every method about a citizen's data takes the citizen (the owner), and an
//! implementation filters on them in the query itself: another citizen's
//! letter, folder or upload is [`StorageError::NotFound`], never handed out.
//! The reads a delegate makes under a power of attorney take a [`Reader`],
//! and the query also checks the power: in force now, and reaching the
//! letter's sender.

use crate::store::{Reader, StorageError};
use app::{
    api::archive::FolderView,
    api::mailbox::AccessEntry,
    domain::{
        Fnr, FolderId, FolderName, Letter, LetterId, LetterSummary, MediaType, Place, Sha256Digest,
        UploadId, UploadName,
    },
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A citizen who has a mailbox here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citizen {
    pub fnr: Fnr,
    pub display_name: Option<String>,
}

/// How many letters a place holds, for the page count and the lead line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LetterCounts {
    pub total: u64,
    pub unread: u64,
}

/// One slice of a place's letters, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterSlice {
    pub letters: Vec<LetterSummary>,
    pub counts: LetterCounts,
}

/// A document the citizen uploaded; the bytes are in the blob store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUpload {
    pub id: UploadId,
    pub owner: Fnr,
    pub name: UploadName,
    pub media_type: MediaType,
    pub digest: Sha256Digest,
    pub size_bytes: u64,
    pub uploaded_at: DateTime<Utc>,
}

/// A letter as the export writes it: with where it lies and whether its
/// sender still waits for the citizen's consent to an opening receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedLetter {
    pub letter: Letter,
    pub place: Place,
    pub opening_receipt_pending: bool,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // The mailbox and its letters.

    /// Creates the citizen's mailbox, or updates the display name when given.
    async fn upsert_citizen(&self, citizen: &Citizen) -> Result<(), StorageError>;

    /// Stores a letter with its documents in one transaction, creating the
    /// recipient's mailbox and the sender on first sight. Returns only once the
    /// transaction is committed. A second letter with the same sender and
    /// message id is a [`StorageError::Conflict`].
    async fn insert_letter(&self, letter: &Letter) -> Result<(), StorageError>;

    /// The owner's letters whose effective time (`virkningstidspunkt`) has
    /// come by `now`, newest first, wherever they lie (the trash too; not purged ones).
    async fn letters_for(
        &self,
        owner: &Fnr,
        now: DateTime<Utc>,
    ) -> Result<Vec<LetterSummary>, StorageError>;

    /// One of the owner's letters; [`StorageError::NotFound`] when it does not
    /// exist, belongs to someone else, its effective time is after `now`, it
    /// was purged from the trash, or the reader's power does not reach it.
    async fn letter_for(
        &self,
        reader: Reader<'_>,
        id: LetterId,
        now: DateTime<Utc>,
    ) -> Result<Letter, StorageError>;

    /// Notes a view of the owner's letter or a download of one of its
    /// documents; nothing is noted for a letter the owner does not have.
    /// With `unless_since`, nothing is noted either when the same kind of
    /// access to the same document was noted at or after it: page pictures
    /// come one by one, and the log should say "read" once, not per page.
    async fn record_access(
        &self,
        owner: &Fnr,
        letter: LetterId,
        entry: &AccessEntry,
        unless_since: Option<DateTime<Utc>>,
    ) -> Result<(), StorageError>;

    /// The access log of the owner's letter, newest first.
    async fn access_log(
        &self,
        owner: &Fnr,
        letter: LetterId,
    ) -> Result<Vec<AccessEntry>, StorageError>;

    // Where letters lie, and read marks.

    /// The owner's letters in `place` that are in effect by `now` (and that
    /// the reader's power reaches), newest first, `limit` of them after
    /// skipping `offset`; with the place's counts.
    async fn letter_slice(
        &self,
        reader: Reader<'_>,
        now: DateTime<Utc>,
        place: Place,
        offset: u64,
        limit: u32,
    ) -> Result<LetterSlice, StorageError>;

    /// Where the owner's letter lies; [`StorageError::NotFound`] when they have no such letter.
    async fn letter_place(&self, owner: &Fnr, id: LetterId) -> Result<Place, StorageError>;

    /// Marks the owner's letter unread, or read at `now` (keeping an earlier
    /// read time). NotFound when the owner has no such letter in effect.
    async fn set_unread(
        &self,
        owner: &Fnr,
        id: LetterId,
        unread: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Moves the owner's letter to `place`; into the trash at `now`. A folder
    /// must be the owner's own. NotFound when the letter or folder is not theirs.
    /// The move is in the search change log with its commit.
    async fn move_letter(
        &self,
        owner: &Fnr,
        id: LetterId,
        place: Place,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    // Folders.

    /// The owner's folders by name, each with the letters (not in the trash) in it.
    async fn folders(&self, owner: &Fnr) -> Result<Vec<FolderView>, StorageError>;

    /// A name the owner already has is a [`StorageError::Conflict`].
    async fn insert_folder(
        &self,
        owner: &Fnr,
        id: FolderId,
        name: &FolderName,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    async fn rename_folder(
        &self,
        owner: &Fnr,
        id: FolderId,
        name: &FolderName,
    ) -> Result<(), StorageError>;

    /// Deletes the owner's folder; its letters go back to the inbox, and into
    /// the search change log, in the same transaction.
    async fn delete_folder(&self, owner: &Fnr, id: FolderId) -> Result<(), StorageError>;

    // The trash.

    /// Empties the trash of every citizen: letters deleted at or before
    /// `deleted_before` lose their documents, access log and sensitive title
    /// and are never shown again; the search change log names them in the
    /// same commit. Returns how many letters went.
    async fn purge_trash(
        &self,
        deleted_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StorageError>;

    // Uploads.

    /// Stores the upload, opening the owner's mailbox if they have none yet.
    async fn insert_upload(&self, upload: &StoredUpload) -> Result<(), StorageError>;

    /// The owner's uploads, newest first.
    async fn uploads(&self, owner: &Fnr) -> Result<Vec<StoredUpload>, StorageError>;

    async fn upload(&self, owner: &Fnr, id: UploadId) -> Result<StoredUpload, StorageError>;

    /// Deletes the owner's upload, and logs it for the search index in the
    /// same commit. NotFound when it is not theirs.
    async fn delete_upload(&self, owner: &Fnr, id: UploadId) -> Result<(), StorageError>;

    // The export.

    /// Every letter of the owner in effect by `now`, the trash included,
    /// newest first, with their documents: what the export writes.
    async fn archived_letters(
        &self,
        owner: &Fnr,
        now: DateTime<Utc>,
    ) -> Result<Vec<ArchivedLetter>, StorageError>;
}
