//! Moving the citizen's letters to the mailbox provider they switched to
//! (DPI's `flyttet`): the wire types, the server functions, and (on the
//! server) the service trait they call. Like every server function here,
//! they act on the logged-in citizen only.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// How far moving the citizen's letters to their chosen provider has come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveStatus {
    /// The provider the citizen chose, by name: the letters go there.
    pub provider_name: String,
    /// Letters here that can go there and have not been asked to.
    pub movable: u64,
    /// Letters asked to go there, and how many have arrived or could not.
    pub requested: u64,
    pub moved: u64,
    pub failed: u64,
}

impl MoveStatus {
    /// Letters asked to go that are still on their way.
    pub fn in_progress(&self) -> u64 {
        self.requested.saturating_sub(self.moved + self.failed)
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Server-only: the service the server functions call.

    use super::*;
    use crate::api::session::{fail, require_signed_in, SignedIn};
    use std::sync::Arc;

    #[async_trait::async_trait]
    pub trait LetterMoves: Send + Sync + 'static {
        /// `None` when the citizen's mailbox is here, or with no provider.
        async fn status(&self, viewer: &SignedIn) -> Result<Option<MoveStatus>, AppError>;
        /// Asks for every letter here that can go to the citizen's chosen
        /// provider to be moved there; letters asked for before are not
        /// asked for again.
        async fn start(&self, viewer: &SignedIn) -> Result<(), AppError>;
    }

    pub type SharedLetterMoves = Arc<dyn LetterMoves>;

    pub fn moves() -> Result<SharedLetterMoves, AppError> {
        use_context::<SharedLetterMoves>().ok_or_else(|| fail(AppError::Internal))
    }

    pub async fn status() -> Result<Option<MoveStatus>, AppError> {
        let citizen = require_signed_in()?;
        moves()?.status(&citizen).await.map_err(fail)
    }

    pub async fn start() -> Result<(), AppError> {
        let citizen = require_signed_in()?;
        moves()?.start(&citizen).await.map_err(fail)
    }
}

#[server(endpoint = "load_move_status")]
pub async fn load_move_status() -> Result<Option<MoveStatus>, AppError> {
    ssr::status().await
}

#[server(endpoint = "start_move")]
pub async fn start_move() -> Result<(), AppError> {
    ssr::start().await
}
