//! The citizen's own order in the archive: folders, moving letters, read
//! marks, uploads, and the purge that empties the trash after
//! `mailbox.trash_days`.
//!
//! Every call names the signed-in citizen and the store filters on them in the
//! query, so another citizen's letter, folder or upload is not found (404).

use super::{MailboxService, Store, StoredUpload};
use crate::clock::Clock;
use crate::errors::internal;
use crate::store::StorageError;
use app::{
    api::{
        archive::{ssr::Archive, FolderView, UploadProblem, UploadView},
        mailbox::AccessKind,
        session::SignedIn,
    },
    domain::{archive::sniff_upload, FolderId, FolderName, LetterId, Place, UploadId, UploadName},
    error::{AppError, Problem},
};
use bytes::Bytes;
use std::{sync::Arc, time::Duration};

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("{} {}", UPLOAD_FIELD, .0)]
    Invalid(UploadProblem),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The upload form's file field.
pub const UPLOAD_FIELD: &str = "fil";

fn upload_view(upload: StoredUpload) -> UploadView {
    UploadView {
        id: upload.id,
        name: upload.name.into(),
        media_type: upload.media_type.as_mime().to_owned(),
        size_bytes: upload.size_bytes,
        uploaded_at: upload.uploaded_at,
    }
}

fn not_found_or_internal(error: StorageError) -> AppError {
    match error {
        StorageError::NotFound => AppError::NotFound,
        other => internal(other),
    }
}

fn name_taken_or_internal(error: StorageError) -> AppError {
    match error {
        StorageError::NotFound => AppError::NotFound,
        StorageError::Conflict(_) => AppError::invalid("navn", Problem::FolderNameTaken),
        other => internal(other),
    }
}

impl MailboxService {
    /// A folder's own name (the other places have none); another citizen's
    /// folder is not found.
    pub(super) async fn folder_name(
        &self,
        viewer: &SignedIn,
        place: Place,
    ) -> Result<Option<String>, AppError> {
        Ok(match place {
            Place::Inbox | Place::Archive | Place::Trash => None,
            Place::Folder(id) => Some(
                self.store
                    .folders(&viewer.fnr)
                    .await
                    .map_err(internal)?
                    .into_iter()
                    .find(|folder| folder.id == id)
                    .ok_or(AppError::NotFound)?
                    .name,
            ),
        })
    }

    /// Stores a document the citizen uploaded, after checking its size and,
    /// by its bytes, that it is a PDF, PNG or JPEG. Nothing is stored when
    /// it is refused.
    pub fn max_upload_bytes(&self) -> usize {
        self.limits.max_upload_bytes
    }

    pub async fn upload(
        &self,
        viewer: &SignedIn,
        file_name: &str,
        bytes: Bytes,
    ) -> Result<UploadView, UploadError> {
        if bytes.is_empty() {
            return Err(UploadError::Invalid(UploadProblem::Missing));
        }
        if bytes.len() > self.limits.max_upload_bytes {
            return Err(UploadError::Invalid(UploadProblem::TooLarge));
        }
        let name = UploadName::parse(file_name)
            .map_err(|_| UploadError::Invalid(UploadProblem::BadName))?;
        let media_type =
            sniff_upload(&bytes).ok_or(UploadError::Invalid(UploadProblem::WrongKind))?;
        let size_bytes = bytes.len() as u64;
        let digest = self
            .blobs
            .put(bytes)
            .await
            .map_err(|error| UploadError::Internal(error.into()))?;
        let upload = StoredUpload {
            id: UploadId::generate(),
            owner: viewer.fnr.clone(),
            name,
            media_type,
            digest,
            size_bytes,
            uploaded_at: self.clock.now(),
        };
        self.store
            .insert_upload(&upload)
            .await
            .map_err(|error| UploadError::Internal(error.into()))?;
        if let Some(feed) = &self.index_feed {
            feed.wake();
        }
        Ok(upload_view(upload))
    }

    /// One of the citizen's uploads with its bytes.
    pub async fn upload_document(
        &self,
        viewer: &SignedIn,
        id: UploadId,
    ) -> Result<(UploadView, Bytes), AppError> {
        let upload = self
            .store
            .upload(&viewer.fnr, id)
            .await
            .map_err(not_found_or_internal)?;
        let bytes = self.blobs.get(&upload.digest).await.map_err(internal)?;
        Ok((upload_view(upload), bytes))
    }

    /// Notes in the letter's access log that its document was downloaded
    /// (by the export, which is a download of everything).
    pub(super) async fn note_download(
        &self,
        viewer: &SignedIn,
        id: LetterId,
        position: usize,
    ) -> Result<(), AppError> {
        self.note_access(
            viewer,
            id,
            AccessKind::Download,
            u32::try_from(position).ok(),
        )
        .await
        .map_err(internal)
    }
}

#[async_trait::async_trait]
impl Archive for MailboxService {
    async fn folders(&self, viewer: &SignedIn) -> Result<Vec<FolderView>, AppError> {
        self.store.folders(&viewer.fnr).await.map_err(internal)
    }

    async fn create_folder(
        &self,
        viewer: &SignedIn,
        name: FolderName,
    ) -> Result<FolderId, AppError> {
        let id = FolderId::generate();
        self.store
            .insert_folder(&viewer.fnr, id, &name, self.clock.now())
            .await
            .map_err(name_taken_or_internal)?;
        Ok(id)
    }

    async fn rename_folder(
        &self,
        viewer: &SignedIn,
        id: FolderId,
        name: FolderName,
    ) -> Result<(), AppError> {
        self.store
            .rename_folder(&viewer.fnr, id, &name)
            .await
            .map_err(name_taken_or_internal)
    }

    async fn delete_folder(&self, viewer: &SignedIn, id: FolderId) -> Result<(), AppError> {
        self.store
            .delete_folder(&viewer.fnr, id)
            .await
            .map_err(not_found_or_internal)?;
        Ok(())
    }

    async fn set_unread(
        &self,
        viewer: &SignedIn,
        id: LetterId,
        unread: bool,
    ) -> Result<(), AppError> {
        self.store
            .set_unread(&viewer.fnr, id, unread, self.clock.now())
            .await
            .map_err(not_found_or_internal)
    }

    async fn move_letter(
        &self,
        viewer: &SignedIn,
        id: LetterId,
        to: Place,
    ) -> Result<(), AppError> {
        self.store
            .move_letter(&viewer.fnr, id, to, self.clock.now())
            .await
            .map_err(not_found_or_internal)?;
        Ok(())
    }

    async fn uploads(&self, viewer: &SignedIn) -> Result<Vec<UploadView>, AppError> {
        Ok(self
            .store
            .uploads(&viewer.fnr)
            .await
            .map_err(internal)?
            .into_iter()
            .map(upload_view)
            .collect())
    }

    async fn delete_upload(&self, viewer: &SignedIn, id: UploadId) -> Result<(), AppError> {
        self.store
            .delete_upload(&viewer.fnr, id)
            .await
            .map_err(not_found_or_internal)?;
        Ok(())
    }
}

/// Empties the trash: letters deleted more than `trash_days` ago are purged.
///
/// The documents' blobs stay in the content-addressed store: the same bytes
/// may belong to another letter or arrive again at any moment, and deleting
/// a blob safely needs a reference count this store does not keep yet.
pub struct TrashPurge {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub trash_days: u32,
    pub interval: Duration,
}

impl TrashPurge {
    /// Purges what is due now; returns how many letters went.
    pub async fn purge_once(&self) -> Result<u64, StorageError> {
        let now = self.clock.now();
        let deleted_before = now - chrono::Duration::days(i64::from(self.trash_days));
        // The purge logs the letters it removes for every node's index.
        self.store.purge_trash(deleted_before, now).await
    }

    /// Purges at every interval for as long as the server runs.
    pub async fn run(self) {
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match self.purge_once().await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "emptied the trash"),
                Err(error) => tracing::error!(error = format!("{error:#}"), "trash purge failed"),
            }
        }
    }
}
