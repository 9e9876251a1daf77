//! What the search remembers: the text extracted from each document and
//! upload (with where its extraction stands), and the letters and uploads
//! the full-text index is fed from.
//!
//! The index under the data directory is derived data; these rows are the
//! truth it is rebuilt from. Reads for the index feed are not scoped by a
//! citizen: the index stores the owner in each entry and every search filters
//! on it in the index query. The one read a citizen sees
//! ([`Store::unsearchable_documents`]) names them in its WHERE clause.

use crate::store::StorageError;
use app::domain::{Fnr, LetterId, MediaType, Place, SecurityLevel, Sha256Digest, UploadId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Where a text comes from: one document of a letter, or an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextSource {
    Document { letter: LetterId, position: u32 },
    Upload(UploadId),
}

/// A document whose text is due to be extracted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingText {
    pub source: TextSource,
    pub media_type: MediaType,
    pub digest: Sha256Digest,
    pub size_bytes: u64,
    /// Tries so far.
    pub attempts: u32,
}

/// What one try gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextOutcome {
    Extracted(String),
    /// Not this time: try again at `retry_at`, or never (`None`).
    Failed {
        retry_at: Option<DateTime<Utc>>,
    },
}

/// Whether an index entry is a letter or the citizen's own upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Letter,
    Upload,
}

/// One letter or upload as the index needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub id: Uuid,
    pub kind: EntryKind,
    pub owner: Fnr,
    /// The sender's name; uploads have none.
    pub sender: Option<String>,
    pub nonsensitive_title: String,
    /// The title shown to a login at `level` (an upload's file name).
    pub title: String,
    pub level: SecurityLevel,
    pub received_at: DateTime<Utc>,
    pub effective_at: Option<DateTime<Utc>>,
    /// Where a letter lies; `None` for uploads.
    pub place: Option<Place>,
    /// The extracted texts, main document first.
    pub texts: Vec<String>,
    /// Documents whose text is not (yet) extracted.
    pub unsearchable: u32,
}

/// One letter or upload whose index entry must be read again: it is new,
/// changed or gone. Each node's index follows these, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    Letter(LetterId),
    Upload(UploadId),
}

/// A [`Refresh`] at its place in the change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoggedChange {
    pub position: i64,
    pub refresh: Refresh,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Up to `limit` documents and uploads whose text is due by `now`.
    async fn due_texts(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PendingText>, StorageError>;

    /// [`due_texts`](Self::due_texts), taken by this node until
    /// `lease_until`: another node's claim meanwhile gets none of them, and
    /// after it (this node died) they are due again.
    async fn claim_due_texts(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PendingText>, StorageError>;

    /// Up to `limit` changes after `position`, in order.
    async fn changes_after(
        &self,
        position: i64,
        limit: u32,
    ) -> Result<Vec<LoggedChange>, StorageError>;

    /// The log's last position (0 when empty).
    async fn last_change(&self) -> Result<i64, StorageError>;

    /// Stores the text or notes the failed try (one more attempt), and logs
    /// the change in the same commit.
    async fn record_text(
        &self,
        source: TextSource,
        outcome: &TextOutcome,
    ) -> Result<(), StorageError>;

    /// The letters among `ids` that still exist and are not purged.
    async fn letter_index_entries(&self, ids: &[LetterId])
        -> Result<Vec<IndexEntry>, StorageError>;

    async fn upload_index_entry(&self, id: UploadId) -> Result<Option<IndexEntry>, StorageError>;

    /// Up to `limit` letters (not purged) and then uploads with ids after
    /// `after` in id order, for rebuilding the index page by page.
    async fn index_entries_after(
        &self,
        kind: EntryKind,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<IndexEntry>, StorageError>;

    /// How many letters (not purged) and uploads there are: the rebuild's total.
    async fn index_entry_count(&self) -> Result<u64, StorageError>;

    /// How many of the owner's documents (in letters in effect by `now`, not
    /// purged, and uploads) are not searchable yet or at all.
    async fn unsearchable_documents(
        &self,
        owner: &Fnr,
        now: DateTime<Utc>,
    ) -> Result<u64, StorageError>;
}
