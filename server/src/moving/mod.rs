//! Moving a citizen's letters to the mailbox provider they switched to, as
//! DPI's `flyttet` messages: the citizen asks in Settings, every letter that
//! can move is queued once, and workers ([`worker`]) send each to the new
//! provider with its original sender, times, read state and documents.
//!
//! A letter can move when it is in the mailbox (not in the trash), available
//! (no effective time ahead), its sender waits for no opening receipt the
//! citizen has not given, and it came as a DPI message (its package is what
//! moves). The queue is durable and leased, so a move survives a crash and
//! goes on where it stopped; the receiving provider knows a message sent
//! twice by its id, so each letter arrives once.

mod store;
pub mod worker;

pub use store::{MoveCounts, MoveJob, MoveOutcome, Store};

use crate::{clock::Clock, errors::internal, krr, store::StorageError};
use app::{
    api::{moving::MoveStatus, session::SignedIn},
    error::{AppError, Problem},
};
use std::sync::Arc;
use tokio::sync::Notify;

pub struct LetterMoves {
    store: Arc<dyn Store>,
    register: Arc<dyn krr::Store>,
    clock: Arc<dyn Clock>,
    /// Woken when moves are queued.
    work: Arc<Notify>,
}

/// Where the citizen's letters would go: their chosen provider, when it is
/// another one.
struct Destination {
    provider: krr::person::MailboxProvider,
    mailbox_address: String,
}

impl LetterMoves {
    pub fn new(
        store: Arc<dyn Store>,
        register: Arc<dyn krr::Store>,
        clock: Arc<dyn Clock>,
        work: Arc<Notify>,
    ) -> Self {
        LetterMoves {
            store,
            register,
            clock,
            work,
        }
    }

    async fn destination(&self, viewer: &SignedIn) -> Result<Option<Destination>, StorageError> {
        let Some(mailbox) = self
            .register
            .register_entry(&viewer.fnr)
            .await?
            .and_then(|entry| entry.person.mailbox)
        else {
            return Ok(None);
        };
        Ok(self
            .register
            .mailbox_provider(&mailbox.provider)
            .await?
            // Only another provider has an endpoint; this one has none.
            .filter(|provider| provider.endpoint.is_some())
            .map(|provider| Destination {
                provider,
                mailbox_address: mailbox.address,
            }))
    }
}

#[async_trait::async_trait]
impl app::api::moving::ssr::LetterMoves for LetterMoves {
    async fn status(&self, viewer: &SignedIn) -> Result<Option<MoveStatus>, AppError> {
        let Some(destination) = self.destination(viewer).await.map_err(internal)? else {
            return Ok(None);
        };
        let org_nr = &destination.provider.org_nr;
        let now = self.clock.now();
        let movable = self
            .store
            .movable_letters(&viewer.fnr, org_nr, now)
            .await
            .map_err(internal)?;
        let counts = self
            .store
            .move_counts(&viewer.fnr, org_nr)
            .await
            .map_err(internal)?;
        Ok(Some(MoveStatus {
            provider_name: destination.provider.name,
            movable,
            requested: counts.requested,
            moved: counts.moved,
            failed: counts.failed,
        }))
    }

    async fn start(&self, viewer: &SignedIn) -> Result<(), AppError> {
        let Some(destination) = self.destination(viewer).await.map_err(internal)? else {
            return Err(AppError::invalid("provider", Problem::NowhereToMove));
        };
        let queued = self
            .store
            .request_moves(
                &viewer.fnr,
                &destination.provider.org_nr,
                &destination.mailbox_address,
                self.clock.now(),
            )
            .await
            .map_err(internal)?;
        tracing::info!(
            letters = queued,
            provider = %destination.provider.org_nr,
            "letters queued to move"
        );
        if queued > 0 {
            self.work.notify_waiters();
        }
        Ok(())
    }
}
