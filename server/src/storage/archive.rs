//! The archive's part of the storage boundary: where each letter lies (inbox,
//! archive, a folder, the trash), read marks, the citizen's folders and
//! uploads, the trash purge and the export's reads.
//!
//! Like the rest of [`Storage`](super::Storage), one body of SQL serves SQLite
//! and PostgreSQL: [`impl_sql_archive!`] expands it for each backend. Every
//! statement about a citizen's data names the owner in its WHERE clause.

use super::sql::{DocumentRow, LetterRow};
use super::StorageError;
use anyhow::anyhow;
use app::api::archive::FolderView;
use app::domain::{
    Fnr, FolderId, FolderName, Letter, LetterId, LetterSummary, MediaType, Place, Sha256Digest,
    UploadId, UploadName,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

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
pub trait ArchiveStorage: Send + Sync + 'static {
    /// The owner's letters in `place` that are in effect by `now`, newest
    /// first, `limit` of them after skipping `offset`; with the place's counts.
    async fn letter_slice(
        &self,
        owner: &Fnr,
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
    async fn move_letter(
        &self,
        owner: &Fnr,
        id: LetterId,
        place: Place,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;

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

    /// Deletes the owner's folder; its letters go back to the inbox, in the
    /// same transaction.
    async fn delete_folder(&self, owner: &Fnr, id: FolderId) -> Result<(), StorageError>;

    /// Empties the trash of every citizen: letters deleted at or before
    /// `deleted_before` lose their documents, access log and sensitive title
    /// and are never shown again. Returns how many letters went.
    async fn purge_trash(
        &self,
        deleted_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StorageError>;

    async fn insert_upload(&self, upload: &StoredUpload) -> Result<(), StorageError>;

    /// The owner's uploads, newest first.
    async fn uploads(&self, owner: &Fnr) -> Result<Vec<StoredUpload>, StorageError>;

    async fn upload(&self, owner: &Fnr, id: UploadId) -> Result<StoredUpload, StorageError>;

    async fn delete_upload(&self, owner: &Fnr, id: UploadId) -> Result<(), StorageError>;

    /// Every letter of the owner in effect by `now`, the trash included,
    /// newest first, with their documents: what the export writes.
    async fn archived_letters(
        &self,
        owner: &Fnr,
        now: DateTime<Utc>,
    ) -> Result<Vec<ArchivedLetter>, StorageError>;
}

fn corrupt(what: &str) -> StorageError {
    StorageError::Other(anyhow!("stored {what} does not parse"))
}

/// A place as the two parameters the place filter binds.
pub(super) fn place_to_sql(place: Place) -> (&'static str, Option<Uuid>) {
    match place {
        Place::Inbox => ("inbox", None),
        Place::Archive => ("archive", None),
        Place::Folder(id) => ("folder", Some(id.as_uuid())),
        Place::Trash => ("trash", None),
    }
}

pub(super) fn place_from_sql(
    folder_id: Option<Uuid>,
    archived: bool,
    deleted_at: Option<DateTime<Utc>>,
) -> Place {
    match (deleted_at, folder_id) {
        (Some(_), _) => Place::Trash,
        (None, Some(folder)) => Place::Folder(FolderId::from_uuid(folder)),
        (None, None) if archived => Place::Archive,
        (None, None) => Place::Inbox,
    }
}

/// The owner's letters ($1) in effect at $2 that lie in the place bound as
/// $3 (its kind) and $4 (a folder id or NULL).
pub(super) const IN_PLACE: &str = "l.recipient_fnr = $1
    AND (l.effective_at IS NULL OR l.effective_at <= $2) AND l.purged_at IS NULL
    AND (CASE WHEN $3 = 'trash' THEN l.deleted_at IS NOT NULL
         ELSE l.deleted_at IS NULL AND l.archived = ($3 = 'archive')
              AND (l.folder_id = $4 OR (l.folder_id IS NULL AND $4 IS NULL)) END)";

#[derive(sqlx::FromRow)]
pub(super) struct FolderRow {
    id: Uuid,
    name: String,
    letter_count: i64,
}

impl FolderRow {
    pub(super) fn into_view(self) -> Result<FolderView, StorageError> {
        Ok(FolderView {
            id: FolderId::from_uuid(self.id),
            name: FolderName::parse(&self.name)
                .map_err(|_| corrupt("folder name"))?
                .into(),
            letter_count: super::sql::count(self.letter_count),
        })
    }
}

pub(super) const UPLOAD_COLUMNS: &str =
    "id, owner_fnr, name, media_type, sha256, size_bytes, uploaded_at";

#[derive(sqlx::FromRow)]
pub(super) struct UploadRow {
    id: Uuid,
    owner_fnr: String,
    name: String,
    media_type: String,
    sha256: String,
    size_bytes: i64,
    uploaded_at: DateTime<Utc>,
}

impl UploadRow {
    pub(super) fn into_upload(self) -> Result<StoredUpload, StorageError> {
        Ok(StoredUpload {
            id: UploadId::from_uuid(self.id),
            owner: Fnr::parse(&self.owner_fnr, app::domain::SyntheticIds::Accepted)
                .map_err(|_| corrupt("national id"))?,
            name: UploadName::parse(&self.name).map_err(|_| corrupt("upload name"))?,
            media_type: MediaType::from_mime(&self.media_type)
                .ok_or_else(|| corrupt("media type"))?,
            digest: Sha256Digest::from_hex(&self.sha256).ok_or_else(|| corrupt("digest"))?,
            size_bytes: u64::try_from(self.size_bytes).map_err(|_| corrupt("upload size"))?,
            uploaded_at: self.uploaded_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ArchivedLetterRow {
    #[sqlx(flatten)]
    letter: LetterRow,
    folder_id: Option<Uuid>,
    archived: bool,
    deleted_at: Option<DateTime<Utc>>,
    opening_receipt_pending: bool,
}

#[derive(sqlx::FromRow)]
pub(super) struct OwnedDocumentRow {
    letter_id: Uuid,
    #[sqlx(flatten)]
    document: DocumentRow,
}

/// Puts each letter's documents (ordered by letter, then position) with it.
pub(super) fn assemble_archive(
    letters: Vec<ArchivedLetterRow>,
    documents: Vec<OwnedDocumentRow>,
) -> Result<Vec<ArchivedLetter>, StorageError> {
    let mut by_letter: std::collections::HashMap<Uuid, Vec<app::domain::Document>> =
        std::collections::HashMap::new();
    for row in documents {
        by_letter
            .entry(row.letter_id)
            .or_default()
            .push(row.document.into_document()?);
    }
    letters
        .into_iter()
        .map(|row| {
            let documents = by_letter.remove(&row.letter.id).unwrap_or_default();
            Ok(ArchivedLetter {
                place: place_from_sql(row.folder_id, row.archived, row.deleted_at),
                opening_receipt_pending: row.opening_receipt_pending,
                letter: row.letter.into_letter(documents)?,
            })
        })
        .collect()
}

/// NotFound when an owner-scoped UPDATE or DELETE touched nothing.
pub(super) fn touched(result_rows: u64) -> Result<(), StorageError> {
    if result_rows == 0 {
        Err(StorageError::NotFound)
    } else {
        Ok(())
    }
}

/// Implements [`ArchiveStorage`] for a type with a `pool` field.
macro_rules! impl_sql_archive {
    ($storage:ty) => {
        #[async_trait::async_trait]
        impl $crate::storage::archive::ArchiveStorage for $storage {
            async fn letter_slice(
                &self,
                owner: &app::domain::Fnr,
                now: chrono::DateTime<chrono::Utc>,
                place: app::domain::Place,
                offset: u64,
                limit: u32,
            ) -> Result<$crate::storage::archive::LetterSlice, $crate::storage::StorageError> {
                use $crate::storage::archive::{place_to_sql, IN_PLACE};
                let (kind, folder) = place_to_sql(place);
                let offset = i64::try_from(offset).map_err(|_| anyhow::anyhow!("offset"))?;
                let rows: Vec<$crate::storage::sql::LetterSummaryRow> = sqlx::query_as(&format!(
                    "SELECT {columns}
                     FROM letter l JOIN sender s ON s.org_nr = l.sender_org_nr
                     WHERE {IN_PLACE}
                     ORDER BY l.received_at DESC, l.id
                     LIMIT $5 OFFSET $6",
                    columns = $crate::storage::sql::SUMMARY_COLUMNS
                ))
                .bind(owner.as_str())
                .bind(now)
                .bind(kind)
                .bind(folder)
                .bind(i64::from(limit))
                .bind(offset)
                .fetch_all(&self.pool)
                .await?;
                let (total, unread): (i64, Option<i64>) = sqlx::query_as(&format!(
                    "SELECT COUNT(*), SUM(CASE WHEN l.read_at IS NULL THEN 1 ELSE 0 END)
                     FROM letter l WHERE {IN_PLACE}"
                ))
                .bind(owner.as_str())
                .bind(now)
                .bind(kind)
                .bind(folder)
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::storage::archive::LetterSlice {
                    letters: rows
                        .into_iter()
                        .map(|row| row.into_summary())
                        .collect::<Result<_, _>>()?,
                    counts: $crate::storage::archive::LetterCounts {
                        total: $crate::storage::sql::count(total),
                        unread: $crate::storage::sql::count(unread.unwrap_or_default()),
                    },
                })
            }

            async fn letter_place(
                &self,
                owner: &app::domain::Fnr,
                id: app::domain::LetterId,
            ) -> Result<app::domain::Place, $crate::storage::StorageError> {
                let (folder_id, archived, deleted_at): (
                    Option<uuid::Uuid>,
                    bool,
                    Option<chrono::DateTime<chrono::Utc>>,
                ) = sqlx::query_as(
                    "SELECT folder_id, archived, deleted_at FROM letter
                     WHERE id = $1 AND recipient_fnr = $2 AND purged_at IS NULL",
                )
                .bind(id.as_uuid())
                .bind(owner.as_str())
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::storage::archive::place_from_sql(folder_id, archived, deleted_at))
            }

            async fn set_unread(
                &self,
                owner: &app::domain::Fnr,
                id: app::domain::LetterId,
                unread: bool,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::storage::StorageError> {
                let result = sqlx::query(
                    "UPDATE letter SET read_at = CASE WHEN $4 THEN NULL ELSE COALESCE(read_at, $3) END
                     WHERE id = $1 AND recipient_fnr = $2 AND purged_at IS NULL
                       AND (effective_at IS NULL OR effective_at <= $3)",
                )
                .bind(id.as_uuid())
                .bind(owner.as_str())
                .bind(now)
                .bind(unread)
                .execute(&self.pool)
                .await?;
                $crate::storage::archive::touched(result.rows_affected())
            }

            async fn move_letter(
                &self,
                owner: &app::domain::Fnr,
                id: app::domain::LetterId,
                place: app::domain::Place,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::storage::StorageError> {
                use app::domain::Place;
                const OWNED_IN_EFFECT: &str = "id = $1 AND recipient_fnr = $2 AND purged_at IS NULL
                    AND (effective_at IS NULL OR effective_at <= $3)";
                let result = match place {
                    Place::Trash => sqlx::query(&format!(
                        "UPDATE letter SET deleted_at = COALESCE(deleted_at, $3)
                         WHERE {OWNED_IN_EFFECT}"
                    ))
                    .bind(id.as_uuid())
                    .bind(owner.as_str())
                    .bind(now)
                    .execute(&self.pool)
                    .await?,
                    Place::Inbox | Place::Archive => sqlx::query(&format!(
                        "UPDATE letter SET deleted_at = NULL, folder_id = NULL, archived = $4
                         WHERE {OWNED_IN_EFFECT}"
                    ))
                    .bind(id.as_uuid())
                    .bind(owner.as_str())
                    .bind(now)
                    .bind(place == Place::Archive)
                    .execute(&self.pool)
                    .await?,
                    Place::Folder(folder) => sqlx::query(&format!(
                        "UPDATE letter SET deleted_at = NULL, folder_id = $4, archived = $5
                         WHERE {OWNED_IN_EFFECT}
                           AND EXISTS (SELECT 1 FROM folder f WHERE f.id = $4 AND f.owner_fnr = $2)"
                    ))
                    .bind(id.as_uuid())
                    .bind(owner.as_str())
                    .bind(now)
                    .bind(folder.as_uuid())
                    .bind(false)
                    .execute(&self.pool)
                    .await?,
                };
                $crate::storage::archive::touched(result.rows_affected())
            }

            async fn folders(
                &self,
                owner: &app::domain::Fnr,
            ) -> Result<Vec<app::api::archive::FolderView>, $crate::storage::StorageError> {
                let rows: Vec<$crate::storage::archive::FolderRow> = sqlx::query_as(
                    "SELECT f.id, f.name,
                         (SELECT COUNT(*) FROM letter l
                          WHERE l.folder_id = f.id AND l.recipient_fnr = $1
                            AND l.deleted_at IS NULL AND l.purged_at IS NULL) AS letter_count
                     FROM folder f WHERE f.owner_fnr = $1
                     ORDER BY lower(f.name), f.id",
                )
                .bind(owner.as_str())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(|row| row.into_view()).collect()
            }

            async fn insert_folder(
                &self,
                owner: &app::domain::Fnr,
                id: app::domain::FolderId,
                name: &app::domain::FolderName,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::storage::StorageError> {
                sqlx::query(
                    "INSERT INTO folder (id, owner_fnr, name, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(id.as_uuid())
                .bind(owner.as_str())
                .bind(name.as_str())
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn rename_folder(
                &self,
                owner: &app::domain::Fnr,
                id: app::domain::FolderId,
                name: &app::domain::FolderName,
            ) -> Result<(), $crate::storage::StorageError> {
                let result =
                    sqlx::query("UPDATE folder SET name = $3 WHERE id = $1 AND owner_fnr = $2")
                        .bind(id.as_uuid())
                        .bind(owner.as_str())
                        .bind(name.as_str())
                        .execute(&self.pool)
                        .await?;
                $crate::storage::archive::touched(result.rows_affected())
            }

            async fn delete_folder(
                &self,
                owner: &app::domain::Fnr,
                id: app::domain::FolderId,
            ) -> Result<(), $crate::storage::StorageError> {
                let mut transaction = self.pool.begin().await?;
                sqlx::query(
                    "UPDATE letter SET folder_id = NULL WHERE folder_id = $1 AND recipient_fnr = $2",
                )
                .bind(id.as_uuid())
                .bind(owner.as_str())
                .execute(&mut *transaction)
                .await?;
                let result = sqlx::query("DELETE FROM folder WHERE id = $1 AND owner_fnr = $2")
                    .bind(id.as_uuid())
                    .bind(owner.as_str())
                    .execute(&mut *transaction)
                    .await?;
                $crate::storage::archive::touched(result.rows_affected())?;
                transaction.commit().await?;
                Ok(())
            }

            async fn purge_trash(
                &self,
                deleted_before: chrono::DateTime<chrono::Utc>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<u64, $crate::storage::StorageError> {
                const DUE: &str = "SELECT id FROM letter
                    WHERE deleted_at IS NOT NULL AND deleted_at <= $1 AND purged_at IS NULL";
                let mut transaction = self.pool.begin().await?;
                // The letter's content stored inline (its documents and the
                // package they came in) goes with it, unless another letter,
                // message or upload holds the same bytes. Blobs in files stay
                // (see TrashPurge).
                sqlx::query(&format!(
                    "DELETE FROM inline_blob
                     WHERE sha256 IN (SELECT d.sha256 FROM document d WHERE d.letter_id IN ({DUE})
                                      UNION
                                      SELECT m.package_sha256 FROM dpi_message m
                                      WHERE m.letter_id IN ({DUE}))
                       AND NOT EXISTS (SELECT 1 FROM document d WHERE d.sha256 = inline_blob.sha256
                                         AND d.letter_id NOT IN ({DUE}))
                       AND NOT EXISTS (SELECT 1 FROM dpi_message m
                                       WHERE m.package_sha256 = inline_blob.sha256
                                         AND (m.letter_id IS NULL OR m.letter_id NOT IN ({DUE})))
                       AND NOT EXISTS (SELECT 1 FROM upload u WHERE u.sha256 = inline_blob.sha256)"
                ))
                .bind(deleted_before)
                .execute(&mut *transaction)
                .await?;
                sqlx::query(&format!("DELETE FROM document WHERE letter_id IN ({DUE})"))
                    .bind(deleted_before)
                    .execute(&mut *transaction)
                    .await?;
                sqlx::query(&format!("DELETE FROM letter_access WHERE letter_id IN ({DUE})"))
                    .bind(deleted_before)
                    .execute(&mut *transaction)
                    .await?;
                // The row stays as a tombstone: the agency's message record
                // (dpi_message) refers to it. What was the citizen's goes.
                let result = sqlx::query(
                    "UPDATE letter SET purged_at = $2, title = nonsensitive_title, folder_id = NULL
                     WHERE deleted_at IS NOT NULL AND deleted_at <= $1 AND purged_at IS NULL",
                )
                .bind(deleted_before)
                .bind(now)
                .execute(&mut *transaction)
                .await?;
                transaction.commit().await?;
                Ok(result.rows_affected())
            }

            async fn insert_upload(
                &self,
                upload: &$crate::storage::archive::StoredUpload,
            ) -> Result<(), $crate::storage::StorageError> {
                let mut transaction = self.pool.begin().await?;
                sqlx::query($crate::storage::sql::OPEN_MAILBOX)
                    .bind(upload.owner.as_str())
                    .bind(upload.uploaded_at)
                    .execute(&mut *transaction)
                    .await?;
                sqlx::query(&format!(
                    "INSERT INTO upload ({}) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    $crate::storage::archive::UPLOAD_COLUMNS
                ))
                .bind(upload.id.as_uuid())
                .bind(upload.owner.as_str())
                .bind(upload.name.as_str())
                .bind(upload.media_type.as_mime())
                .bind(upload.digest.to_hex())
                .bind(i64::try_from(upload.size_bytes).map_err(|_| anyhow::anyhow!("upload size"))?)
                .bind(upload.uploaded_at)
                .execute(&mut *transaction)
                .await?;
                transaction.commit().await?;
                Ok(())
            }

            async fn uploads(
                &self,
                owner: &app::domain::Fnr,
            ) -> Result<Vec<$crate::storage::archive::StoredUpload>, $crate::storage::StorageError> {
                let rows: Vec<$crate::storage::archive::UploadRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM upload WHERE owner_fnr = $1 ORDER BY uploaded_at DESC, id",
                    $crate::storage::archive::UPLOAD_COLUMNS
                ))
                .bind(owner.as_str())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(|row| row.into_upload()).collect()
            }

            async fn upload(
                &self,
                owner: &app::domain::Fnr,
                id: app::domain::UploadId,
            ) -> Result<$crate::storage::archive::StoredUpload, $crate::storage::StorageError> {
                let row: $crate::storage::archive::UploadRow = sqlx::query_as(&format!(
                    "SELECT {} FROM upload WHERE id = $1 AND owner_fnr = $2",
                    $crate::storage::archive::UPLOAD_COLUMNS
                ))
                .bind(id.as_uuid())
                .bind(owner.as_str())
                .fetch_one(&self.pool)
                .await?;
                row.into_upload()
            }

            async fn delete_upload(
                &self,
                owner: &app::domain::Fnr,
                id: app::domain::UploadId,
            ) -> Result<(), $crate::storage::StorageError> {
                let result = sqlx::query("DELETE FROM upload WHERE id = $1 AND owner_fnr = $2")
                    .bind(id.as_uuid())
                    .bind(owner.as_str())
                    .execute(&self.pool)
                    .await?;
                $crate::storage::archive::touched(result.rows_affected())
            }

            async fn archived_letters(
                &self,
                owner: &app::domain::Fnr,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<$crate::storage::archive::ArchivedLetter>, $crate::storage::StorageError> {
                const OWNED_IN_EFFECT: &str = "l.recipient_fnr = $1 AND l.purged_at IS NULL
                    AND (l.effective_at IS NULL OR l.effective_at <= $2)";
                let letters: Vec<$crate::storage::archive::ArchivedLetterRow> =
                    sqlx::query_as(&format!(
                        "SELECT l.id, l.message_id, l.conversation_id, l.sender_org_nr,
                             s.name AS sender_name, l.recipient_fnr, l.nonsensitive_title, l.title,
                             l.security_level, l.received_at, l.read_at,
                             l.folder_id, l.archived, l.deleted_at,
                             (l.opening_receipt AND l.opening_receipt_sent_at IS NULL)
                                 AS opening_receipt_pending
                         FROM letter l JOIN sender s ON s.org_nr = l.sender_org_nr
                         WHERE {OWNED_IN_EFFECT}
                         ORDER BY l.received_at DESC, l.id"
                    ))
                    .bind(owner.as_str())
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await?;
                let documents: Vec<$crate::storage::archive::OwnedDocumentRow> =
                    sqlx::query_as(&format!(
                        "SELECT d.letter_id, d.role, d.title, d.file_name, d.media_type, d.sha256,
                             d.size_bytes
                         FROM document d JOIN letter l ON l.id = d.letter_id
                         WHERE {OWNED_IN_EFFECT}
                         ORDER BY d.letter_id, d.position"
                    ))
                    .bind(owner.as_str())
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await?;
                $crate::storage::archive::assemble_archive(letters, documents)
            }
        }
    };
}

pub(super) use impl_sql_archive;
