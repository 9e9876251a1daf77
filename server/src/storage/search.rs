//! The search's part of the storage boundary: the text extracted from each
//! document and upload (with where its extraction stands), and what the
//! full-text index is fed from.
//!
//! The index under the data directory is derived data; these rows are the
//! truth it is rebuilt from. One body of SQL serves SQLite and PostgreSQL
//! ([`impl_sql_search!`]). Reads for the index feed are not scoped by a
//! citizen: the index stores the owner in each entry and every search filters
//! on it in the index query. The one read a citizen sees
//! ([`SearchStorage::unsearchable_documents`]) names them in its WHERE clause.

use super::StorageError;
use anyhow::anyhow;
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

#[async_trait]
pub trait SearchStorage: Send + Sync + 'static {
    /// Up to `limit` documents and uploads whose text is due by `now`.
    async fn due_texts(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PendingText>, StorageError>;

    /// Stores the text or notes the failed try (one more attempt).
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

    /// The owner's letters (not purged): what changes when one of their folders goes.
    async fn letter_ids_of(&self, owner: &Fnr) -> Result<Vec<LetterId>, StorageError>;

    /// Letters purged at or after `since`, which must leave the index.
    async fn purged_since(&self, since: DateTime<Utc>) -> Result<Vec<LetterId>, StorageError>;

    /// How many of the owner's documents (in letters in effect by `now`, not
    /// purged, and uploads) are not searchable yet or at all.
    async fn unsearchable_documents(
        &self,
        owner: &Fnr,
        now: DateTime<Utc>,
    ) -> Result<u64, StorageError>;
}

fn corrupt(what: &str) -> StorageError {
    StorageError::Other(anyhow!("stored {what} does not parse"))
}

/// Where a letter lies, from its `folder_id`, `archived` and `deleted_at`:
/// the mailbox's store (`crate::sql`) decodes it the same way.
fn place_from_sql(
    folder_id: Option<Uuid>,
    archived: bool,
    deleted_at: Option<DateTime<Utc>>,
) -> Place {
    match (deleted_at, folder_id) {
        (Some(_), _) => Place::Trash,
        (None, Some(folder)) => Place::Folder(app::domain::FolderId::from_uuid(folder)),
        (None, None) if archived => Place::Archive,
        (None, None) => Place::Inbox,
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PendingRow {
    letter_id: Option<Uuid>,
    position: Option<i32>,
    upload_id: Option<Uuid>,
    media_type: String,
    sha256: String,
    size_bytes: i64,
    text_attempts: i32,
}

impl PendingRow {
    pub(super) fn into_pending(self) -> Result<PendingText, StorageError> {
        let source = match (self.letter_id, self.position, self.upload_id) {
            (Some(letter), Some(position), None) => TextSource::Document {
                letter: LetterId::from_uuid(letter),
                position: u32::try_from(position).map_err(|_| corrupt("position"))?,
            },
            (None, None, Some(upload)) => TextSource::Upload(UploadId::from_uuid(upload)),
            _ => return Err(corrupt("text source")),
        };
        Ok(PendingText {
            source,
            media_type: MediaType::from_mime(&self.media_type)
                .ok_or_else(|| corrupt("media type"))?,
            digest: Sha256Digest::from_hex(&self.sha256).ok_or_else(|| corrupt("digest"))?,
            size_bytes: u64::try_from(self.size_bytes).map_err(|_| corrupt("size"))?,
            attempts: u32::try_from(self.text_attempts).map_err(|_| corrupt("attempts"))?,
        })
    }
}

/// Due documents and uploads, bound `$1` = now, `$2` = limit.
pub(super) const DUE_TEXTS: &str = "SELECT * FROM (
        SELECT letter_id, position, NULL AS upload_id, media_type, sha256, size_bytes,
               text_attempts, text_next_attempt_at
        FROM document
        WHERE text_state = 'pending' AND (text_next_attempt_at IS NULL OR text_next_attempt_at <= $1)
        UNION ALL
        SELECT NULL, NULL, id, media_type, sha256, size_bytes, text_attempts, text_next_attempt_at
        FROM upload
        WHERE text_state = 'pending' AND (text_next_attempt_at IS NULL OR text_next_attempt_at <= $1)
    ) due ORDER BY text_next_attempt_at IS NOT NULL, text_next_attempt_at LIMIT $2";

/// The columns of a [`LetterEntryRow`], from `letter l JOIN sender s`.
pub(super) const LETTER_ENTRY_COLUMNS: &str = "l.id, l.recipient_fnr, s.name AS sender_name,
    l.nonsensitive_title, l.title, l.security_level, l.received_at, l.effective_at,
    l.folder_id, l.archived, l.deleted_at";

#[derive(sqlx::FromRow)]
pub(super) struct LetterEntryRow {
    id: Uuid,
    recipient_fnr: String,
    sender_name: String,
    nonsensitive_title: String,
    title: String,
    security_level: i32,
    received_at: DateTime<Utc>,
    effective_at: Option<DateTime<Utc>>,
    folder_id: Option<Uuid>,
    archived: bool,
    deleted_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
pub(super) struct TextRow {
    letter_id: Uuid,
    text_state: String,
    extracted_text: Option<String>,
}

pub(super) const UPLOAD_ENTRY_COLUMNS: &str =
    "id, owner_fnr, name, uploaded_at, text_state, extracted_text";

#[derive(sqlx::FromRow)]
pub(super) struct UploadEntryRow {
    id: Uuid,
    owner_fnr: String,
    name: String,
    uploaded_at: DateTime<Utc>,
    text_state: String,
    extracted_text: Option<String>,
}

fn owner(fnr: &str) -> Result<Fnr, StorageError> {
    Fnr::parse(fnr, app::domain::SyntheticIds::Accepted).map_err(|_| corrupt("national id"))
}

impl UploadEntryRow {
    pub(super) fn into_entry(self) -> Result<IndexEntry, StorageError> {
        let done = self.text_state == "done";
        Ok(IndexEntry {
            id: self.id,
            kind: EntryKind::Upload,
            owner: owner(&self.owner_fnr)?,
            sender: None,
            nonsensitive_title: self.name.clone(),
            title: self.name,
            level: SecurityLevel::Substantial,
            received_at: self.uploaded_at,
            effective_at: None,
            place: None,
            texts: self.extracted_text.filter(|_| done).into_iter().collect(),
            unsearchable: u32::from(!done),
        })
    }
}

/// Puts each letter's texts (ordered by letter, then position) with it.
pub(super) fn assemble_entries(
    letters: Vec<LetterEntryRow>,
    texts: Vec<TextRow>,
) -> Result<Vec<IndexEntry>, StorageError> {
    let mut by_letter: std::collections::HashMap<Uuid, (Vec<String>, u32)> =
        std::collections::HashMap::new();
    for row in texts {
        let (found, unsearchable) = by_letter.entry(row.letter_id).or_default();
        match (row.text_state.as_str(), row.extracted_text) {
            ("done", Some(text)) => found.push(text),
            _ => *unsearchable += 1,
        }
    }
    letters
        .into_iter()
        .map(|row| {
            let (texts, unsearchable) = by_letter.remove(&row.id).unwrap_or_default();
            Ok(IndexEntry {
                id: row.id,
                kind: EntryKind::Letter,
                owner: owner(&row.recipient_fnr)?,
                sender: Some(row.sender_name),
                nonsensitive_title: row.nonsensitive_title,
                title: row.title,
                level: SecurityLevel::try_from(i64::from(row.security_level))
                    .map_err(|_| corrupt("security level"))?,
                received_at: row.received_at,
                effective_at: row.effective_at,
                place: Some(place_from_sql(row.folder_id, row.archived, row.deleted_at)),
                texts,
                unsearchable,
            })
        })
        .collect()
}

pub(super) fn letter_ids(rows: Vec<(Uuid,)>) -> Vec<LetterId> {
    rows.into_iter()
        .map(|(id,)| LetterId::from_uuid(id))
        .collect()
}

/// `$first, $first+1, ...`: placeholders for a list bound one by one.
pub(super) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Implements [`SearchStorage`] for a type with a `pool` field.
macro_rules! impl_sql_search {
    ($storage:ty) => {
        #[async_trait::async_trait]
        impl $crate::storage::search::SearchStorage for $storage {
            async fn due_texts(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                limit: u32,
            ) -> Result<Vec<$crate::storage::search::PendingText>, $crate::storage::StorageError>
            {
                let rows: Vec<$crate::storage::search::PendingRow> =
                    sqlx::query_as($crate::storage::search::DUE_TEXTS)
                        .bind(now)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter().map(|row| row.into_pending()).collect()
            }

            async fn record_text(
                &self,
                source: $crate::storage::search::TextSource,
                outcome: &$crate::storage::search::TextOutcome,
            ) -> Result<(), $crate::storage::StorageError> {
                use $crate::storage::search::{TextOutcome, TextSource};
                let (state, text, retry_at) = match outcome {
                    TextOutcome::Extracted(text) => ("done", Some(text.as_str()), None),
                    TextOutcome::Failed { retry_at: Some(at) } => ("pending", None, Some(*at)),
                    TextOutcome::Failed { retry_at: None } => ("failed", None, None),
                };
                const SET: &str = "SET text_state = $1, extracted_text = $2,
                    text_next_attempt_at = $3, text_attempts = text_attempts + 1";
                let document_sql =
                    format!("UPDATE document {SET} WHERE letter_id = $4 AND position = $5");
                let upload_sql = format!("UPDATE upload {SET} WHERE id = $4");
                let query = match source {
                    TextSource::Document { letter, position } => sqlx::query(&document_sql)
                        .bind(state)
                        .bind(text)
                        .bind(retry_at)
                        .bind(letter.as_uuid())
                        .bind(i64::from(position)),
                    TextSource::Upload(upload) => sqlx::query(&upload_sql)
                        .bind(state)
                        .bind(text)
                        .bind(retry_at)
                        .bind(upload.as_uuid()),
                };
                // A letter purged or an upload deleted meanwhile has nothing to record.
                query.execute(&self.pool).await?;
                Ok(())
            }

            async fn letter_index_entries(
                &self,
                ids: &[app::domain::LetterId],
            ) -> Result<Vec<$crate::storage::search::IndexEntry>, $crate::storage::StorageError>
            {
                use $crate::storage::search::{placeholders, LETTER_ENTRY_COLUMNS};
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let list = placeholders(1, ids.len());
                let letters_sql = format!(
                    "SELECT {LETTER_ENTRY_COLUMNS}
                     FROM letter l JOIN sender s ON s.org_nr = l.sender_org_nr
                     WHERE l.id IN ({list}) AND l.purged_at IS NULL"
                );
                let texts_sql = format!(
                    "SELECT letter_id, text_state, extracted_text FROM document
                     WHERE letter_id IN ({list}) ORDER BY letter_id, position"
                );
                let mut letters =
                    sqlx::query_as::<_, $crate::storage::search::LetterEntryRow>(&letters_sql);
                let mut texts = sqlx::query_as::<_, $crate::storage::search::TextRow>(&texts_sql);
                for id in ids {
                    letters = letters.bind(id.as_uuid());
                    texts = texts.bind(id.as_uuid());
                }
                let letters = letters.fetch_all(&self.pool).await?;
                let texts = texts.fetch_all(&self.pool).await?;
                $crate::storage::search::assemble_entries(letters, texts)
            }

            async fn upload_index_entry(
                &self,
                id: app::domain::UploadId,
            ) -> Result<Option<$crate::storage::search::IndexEntry>, $crate::storage::StorageError>
            {
                let row: Option<$crate::storage::search::UploadEntryRow> =
                    sqlx::query_as(&format!(
                        "SELECT {} FROM upload WHERE id = $1",
                        $crate::storage::search::UPLOAD_ENTRY_COLUMNS
                    ))
                    .bind(id.as_uuid())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|row| row.into_entry()).transpose()
            }

            async fn index_entries_after(
                &self,
                kind: $crate::storage::search::EntryKind,
                after: Option<uuid::Uuid>,
                limit: u32,
            ) -> Result<Vec<$crate::storage::search::IndexEntry>, $crate::storage::StorageError>
            {
                use $crate::storage::search::{EntryKind, UploadEntryRow, UPLOAD_ENTRY_COLUMNS};
                // The nil UUID sorts before every generated one on both backends.
                let after = after.unwrap_or_else(uuid::Uuid::nil);
                match kind {
                    EntryKind::Letter => {
                        let ids: Vec<(uuid::Uuid,)> = sqlx::query_as(
                            "SELECT id FROM letter WHERE id > $1 AND purged_at IS NULL
                             ORDER BY id LIMIT $2",
                        )
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?;
                        let ids = $crate::storage::search::letter_ids(ids);
                        let mut entries = self.letter_index_entries(&ids).await?;
                        entries.sort_by_key(|entry| entry.id);
                        Ok(entries)
                    }
                    EntryKind::Upload => {
                        let rows: Vec<UploadEntryRow> = sqlx::query_as(&format!(
                            "SELECT {UPLOAD_ENTRY_COLUMNS} FROM upload WHERE id > $1
                             ORDER BY id LIMIT $2"
                        ))
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?;
                        rows.into_iter().map(|row| row.into_entry()).collect()
                    }
                }
            }

            async fn index_entry_count(&self) -> Result<u64, $crate::storage::StorageError> {
                let (count,): (i64,) = sqlx::query_as(
                    "SELECT (SELECT COUNT(*) FROM letter WHERE purged_at IS NULL)
                          + (SELECT COUNT(*) FROM upload)",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::storage::sql::count(count))
            }

            async fn letter_ids_of(
                &self,
                owner: &app::domain::Fnr,
            ) -> Result<Vec<app::domain::LetterId>, $crate::storage::StorageError> {
                let ids: Vec<(uuid::Uuid,)> = sqlx::query_as(
                    "SELECT id FROM letter WHERE recipient_fnr = $1 AND purged_at IS NULL",
                )
                .bind(owner.as_str())
                .fetch_all(&self.pool)
                .await?;
                Ok($crate::storage::search::letter_ids(ids))
            }

            async fn purged_since(
                &self,
                since: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<app::domain::LetterId>, $crate::storage::StorageError> {
                let ids: Vec<(uuid::Uuid,)> =
                    sqlx::query_as("SELECT id FROM letter WHERE purged_at >= $1")
                        .bind(since)
                        .fetch_all(&self.pool)
                        .await?;
                Ok($crate::storage::search::letter_ids(ids))
            }

            async fn unsearchable_documents(
                &self,
                owner: &app::domain::Fnr,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<u64, $crate::storage::StorageError> {
                let (count,): (i64,) = sqlx::query_as(
                    "SELECT (SELECT COUNT(*) FROM document d JOIN letter l ON l.id = d.letter_id
                             WHERE l.recipient_fnr = $1 AND l.purged_at IS NULL
                               AND (l.effective_at IS NULL OR l.effective_at <= $2)
                               AND d.text_state <> 'done')
                          + (SELECT COUNT(*) FROM upload
                             WHERE owner_fnr = $1 AND text_state <> 'done')",
                )
                .bind(owner.as_str())
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::storage::sql::count(count))
            }
        }
    };
}

pub(super) use impl_sql_search;
