//! What moving letters remembers: one queued move per letter and provider,
//! leased to a worker while it is sent.

use crate::store::StorageError;
use app::domain::{ConversationId, Fnr, LetterId, OrgNr, Sha256Digest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// How many of a citizen's letters were asked to move to a provider, and
/// how they fared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MoveCounts {
    pub requested: u64,
    pub moved: u64,
    pub failed: u64,
}

/// A letter to move, with what its `flyttet` message is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveJob {
    /// Also the `flyttet` message's instanceIdentifier.
    pub id: Uuid,
    pub letter_id: LetterId,
    pub provider: OrgNr,
    pub mailbox_address: String,
    /// Including this one.
    pub attempts: u32,
    pub conversation_id: ConversationId,
    pub received_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    /// The business message the letter came in (its `digital` body gives
    /// the fields the move repeats).
    pub message_document: String,
    /// The plain package the letter came in.
    pub package: Sha256Digest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveOutcome {
    Moved,
    Retry { at: DateTime<Utc>, error: String },
    Failed { error: String },
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// How many of the owner's letters could move to `provider` and have
    /// not been asked to (see the module's documentation for which can).
    async fn movable_letters(
        &self,
        owner: &Fnr,
        provider: &OrgNr,
        now: DateTime<Utc>,
    ) -> Result<u64, StorageError>;

    /// Queues each of those letters to move, once; returns how many were queued.
    async fn request_moves(
        &self,
        owner: &Fnr,
        provider: &OrgNr,
        mailbox_address: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StorageError>;

    async fn move_counts(&self, owner: &Fnr, provider: &OrgNr) -> Result<MoveCounts, StorageError>;

    /// Takes the oldest due move nobody holds, holding it until `lease_until`.
    async fn claim_move(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<MoveJob>, StorageError>;

    async fn finish_move(
        &self,
        id: Uuid,
        outcome: &MoveOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;
}
