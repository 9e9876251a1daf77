//! The citizen's own order in the archive, as the web app sees it: folders,
//! moving letters between the inbox, the archive, folders and the trash,
//! marking them read or unread, and the documents they upload themselves.
//!
//! Server functions are thin: they parse the form into domain types, find the
//! signed-in citizen and call one method of the [`ssr::Archive`] service,
//! which scopes everything to that citizen. They are POSTs, so the
//! cross-site check in front of the server refuses them from other sites.

use crate::{
    domain::{FolderId, TextError, UploadId},
    error::{AppError, Problem},
};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One of the citizen's folders, with how many letters lie in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderView {
    pub id: FolderId,
    pub name: String,
    pub letter_count: u64,
}

/// A document the citizen uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadView {
    pub id: UploadId,
    pub name: String,
    pub media_type: String,
    pub size_bytes: u64,
    pub uploaded_at: DateTime<Utc>,
}

impl UploadView {
    pub fn href(&self) -> String {
        format!("/opplastinger/{}", self.id)
    }
}

/// Why an upload was refused. It travels in the upload page's address after
/// a form post (`?feil=<code>`), so only these codes, never free text, can
/// be put on the page by a link.
/// The `Display` is English, for the upload API; the page has its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum UploadProblem {
    #[error("must be chosen")]
    Missing,
    #[error("is too large")]
    TooLarge,
    #[error("must be a PDF, PNG or JPEG file")]
    WrongKind,
    #[error("has a file name that cannot be used")]
    BadName,
}

impl UploadProblem {
    const ALL: [UploadProblem; 4] = [
        UploadProblem::Missing,
        UploadProblem::TooLarge,
        UploadProblem::WrongKind,
        UploadProblem::BadName,
    ];

    pub fn code(self) -> &'static str {
        match self {
            UploadProblem::Missing => "mangler",
            UploadProblem::TooLarge => "for-stor",
            UploadProblem::WrongKind => "feil-type",
            UploadProblem::BadName => "filnavn",
        }
    }

    pub fn from_code(code: &str) -> Option<UploadProblem> {
        Self::ALL.into_iter().find(|problem| problem.code() == code)
    }
}

/// What is wrong with a refused name.
pub fn text_problem(error: &TextError) -> Problem {
    match error {
        TextError::Empty => Problem::Empty,
        TextError::TooLong { max } => Problem::TooLong { max: *max as u32 },
        TextError::ControlCharacters => Problem::ControlCharacters,
        TextError::PathSeparators => Problem::PathSeparators,
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Server-only: the archive service the server functions call.

    use super::*;
    use crate::api::session::{fail, SignedIn};
    use crate::domain::{FolderName, LetterId, Place};
    use std::sync::Arc;

    pub(super) fn folder_name(field: &str, input: &str) -> Result<FolderName, AppError> {
        FolderName::parse(input).map_err(|error| AppError::invalid(field, text_problem(&error)))
    }

    pub(super) fn place(field: &str, input: &str) -> Result<Place, AppError> {
        Place::from_param(input).ok_or_else(|| AppError::invalid(field, Problem::NoSuchPlace))
    }

    #[async_trait::async_trait]
    pub trait Archive: Send + Sync + 'static {
        /// The citizen's folders, by name.
        async fn folders(&self, viewer: &SignedIn) -> Result<Vec<FolderView>, AppError>;
        /// A name the citizen already uses is refused as invalid.
        async fn create_folder(
            &self,
            viewer: &SignedIn,
            name: FolderName,
        ) -> Result<FolderId, AppError>;
        async fn rename_folder(
            &self,
            viewer: &SignedIn,
            id: FolderId,
            name: FolderName,
        ) -> Result<(), AppError>;
        /// The folder's letters go back to the inbox.
        async fn delete_folder(&self, viewer: &SignedIn, id: FolderId) -> Result<(), AppError>;
        async fn set_unread(
            &self,
            viewer: &SignedIn,
            id: LetterId,
            unread: bool,
        ) -> Result<(), AppError>;
        /// Moves the letter; to [`Place::Trash`] deletes it (it can be restored
        /// until the trash is emptied), and from the trash anywhere restores it.
        async fn move_letter(
            &self,
            viewer: &SignedIn,
            id: LetterId,
            to: Place,
        ) -> Result<(), AppError>;
        /// The documents the citizen uploaded, newest first.
        async fn uploads(&self, viewer: &SignedIn) -> Result<Vec<UploadView>, AppError>;
        async fn delete_upload(&self, viewer: &SignedIn, id: UploadId) -> Result<(), AppError>;
    }

    pub type SharedArchive = Arc<dyn Archive>;

    pub fn archive() -> Result<SharedArchive, AppError> {
        use_context::<SharedArchive>().ok_or_else(|| fail(AppError::Internal))
    }
}

#[server(endpoint = "list_folders")]
pub async fn list_folders() -> Result<Vec<FolderView>, AppError> {
    use crate::api::session::{fail, require_signed_in};
    let citizen = require_signed_in()?;
    ssr::archive()?.folders(&citizen).await.map_err(fail)
}

#[server(endpoint = "create_folder")]
pub async fn create_folder(navn: String) -> Result<(), AppError> {
    use crate::api::session::{fail, require_signed_in};
    let citizen = require_signed_in()?;
    let name = ssr::folder_name("navn", &navn).map_err(fail)?;
    ssr::archive()?
        .create_folder(&citizen, name)
        .await
        .map(|_| ())
        .map_err(fail)
}

#[server(endpoint = "rename_folder")]
pub async fn rename_folder(id: String, navn: String) -> Result<(), AppError> {
    use crate::api::session::{fail, require_signed_in};
    let citizen = require_signed_in()?;
    let id: FolderId = crate::api::input::id("id", &id)?;
    let name = ssr::folder_name("navn", &navn).map_err(fail)?;
    ssr::archive()?
        .rename_folder(&citizen, id, name)
        .await
        .map_err(fail)
}

#[server(endpoint = "delete_folder")]
pub async fn delete_folder(id: String) -> Result<(), AppError> {
    use crate::api::session::{fail, require_signed_in};
    let citizen = require_signed_in()?;
    let id: FolderId = crate::api::input::id("id", &id)?;
    ssr::archive()?
        .delete_folder(&citizen, id)
        .await
        .map_err(fail)
}

/// `ulest=true` marks the letter unread, `false` read. Marked unread, the
/// citizen goes back to the inbox: showing the letter would read it again.
#[server(endpoint = "mark_letter")]
pub async fn mark_letter(id: String, ulest: String) -> Result<(), AppError> {
    use crate::api::{
        input,
        session::{fail, require_signed_in},
    };
    let citizen = require_signed_in()?;
    let id: crate::domain::LetterId = input::id("id", &id)?;
    let ulest = input::flag("ulest", &ulest)?;
    ssr::archive()?
        .set_unread(&citizen, id, ulest)
        .await
        .map_err(fail)?;
    if ulest {
        leptos_axum::redirect("/innboks");
    }
    Ok(())
}

/// `til` is a place as in the inbox's address: `innboks`, `arkiv`,
/// `papirkurv` or a folder's id.
#[server(endpoint = "move_letter")]
pub async fn move_letter(id: String, til: String) -> Result<(), AppError> {
    use crate::api::session::{fail, require_signed_in};
    let citizen = require_signed_in()?;
    let id: crate::domain::LetterId = crate::api::input::id("id", &id)?;
    let to = ssr::place("til", &til).map_err(fail)?;
    ssr::archive()?
        .move_letter(&citizen, id, to)
        .await
        .map_err(fail)
}

#[server(endpoint = "list_uploads")]
pub async fn list_uploads() -> Result<Vec<UploadView>, AppError> {
    use crate::api::session::{fail, require_signed_in};
    let citizen = require_signed_in()?;
    ssr::archive()?.uploads(&citizen).await.map_err(fail)
}

#[server(endpoint = "delete_upload")]
pub async fn delete_upload(id: String) -> Result<(), AppError> {
    use crate::api::session::{fail, require_signed_in};
    let citizen = require_signed_in()?;
    let id: UploadId = crate::api::input::id("id", &id)?;
    ssr::archive()?
        .delete_upload(&citizen, id)
        .await
        .map_err(fail)
}
