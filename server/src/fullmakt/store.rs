//! What powers of attorney remember: each power with its senders, and which
//! sessions use one. Every read names the person (principal or delegate)
//! in the query, so another person's power is simply not found.

use crate::store::StorageError;
use app::{
    api::fullmakt::{EndedBy, SenderChoice},
    domain::{Fnr, FullmaktId, OrgNr},
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A power to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFullmakt {
    pub id: FullmaktId,
    pub principal: Fnr,
    pub principal_name: Option<String>,
    pub delegate: Fnr,
    pub delegate_name: String,
    pub may_reply: bool,
    /// None: all senders.
    pub senders: Option<Vec<OrgNr>>,
    pub created_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// A stored power, with its senders' names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFullmakt {
    pub id: FullmaktId,
    pub principal: Fnr,
    pub principal_name: Option<String>,
    pub delegate: Fnr,
    pub delegate_name: String,
    pub may_reply: bool,
    pub senders: Option<Vec<SenderChoice>>,
    pub created_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub ended: Option<(DateTime<Utc>, EndedBy)>,
}

impl StoredFullmakt {
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.ended.is_none() && now < self.ends_at
    }
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores the power and its senders, all or nothing.
    async fn insert_fullmakt(&self, power: &NewFullmakt) -> Result<(), StorageError>;

    /// The powers `principal` gave, newest first.
    async fn fullmakter_given(&self, principal: &Fnr) -> Result<Vec<StoredFullmakt>, StorageError>;

    /// The powers `delegate` was given, newest first.
    async fn fullmakter_received(
        &self,
        delegate: &Fnr,
    ) -> Result<Vec<StoredFullmakt>, StorageError>;

    /// Ends power `id` at `now` if `person` is either side of it and it is
    /// still in force; the ended power, or None when there was none to end.
    async fn end_fullmakt(
        &self,
        id: FullmaktId,
        person: &Fnr,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredFullmakt>, StorageError>;

    /// Power `id`, if `delegate` holds it and it is in force at `now`.
    async fn fullmakt_in_force(
        &self,
        id: FullmaktId,
        delegate: &Fnr,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredFullmakt>, StorageError>;

    /// The senders of the letters in `principal`'s mailbox, by name.
    async fn senders_in_mailbox(&self, principal: &Fnr) -> Result<Vec<SenderChoice>, StorageError>;
}
