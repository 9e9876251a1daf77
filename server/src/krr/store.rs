//! What the contact and reservation register remembers: each person's entry,
//! the audit trail of changes to it, and the mailbox providers.

use super::{
    person::{MailboxProvider, Person, RecordedChange, SelfServiceChange},
    proof::ContactProof,
};
use crate::store::StorageError;
use app::domain::{Fnr, OrgNr};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// How many persons one import statement writes: 16 parameters a row stays
/// well under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
pub const IMPORT_BATCH_ROWS: usize = 500;

/// A register entry with the certificate of the person's mailbox provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterEntry {
    pub person: Person,
    pub certificate_der: Option<Vec<u8>>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The entries of those of `ids` the register knows, in no particular order.
    async fn register_entries(&self, ids: &[Fnr]) -> Result<Vec<RegisterEntry>, StorageError>;

    async fn register_entry(&self, fnr: &Fnr) -> Result<Option<RegisterEntry>, StorageError>;

    /// The entry of the person whose mailbox at `provider` has this
    /// `postkasseadresse`, if any: how a provider finds a message's citizen.
    async fn entry_by_mailbox_address(
        &self,
        provider: &OrgNr,
        address: &str,
    ) -> Result<Option<RegisterEntry>, StorageError>;

    /// Applies one change the citizen made and records it in their audit trail,
    /// in one transaction; creates a blank active entry first if there is none.
    async fn apply_self_service(
        &self,
        fnr: &Fnr,
        change: &SelfServiceChange,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// The person's audit trail, newest first.
    async fn register_changes(&self, fnr: &Fnr) -> Result<Vec<RecordedChange>, StorageError>;

    /// Inserts or replaces up to [`IMPORT_BATCH_ROWS`] entries in one
    /// transaction; an entry that is already stored exactly as given is left
    /// alone. Each entry written gets an `import` line in its audit trail.
    /// Returns how many were written. Later entries for the same person win.
    async fn import_entries(
        &self,
        persons: &[Person],
        at: DateTime<Utc>,
    ) -> Result<u64, StorageError>;

    async fn mailbox_providers(&self) -> Result<Vec<MailboxProvider>, StorageError>;

    /// The registered provider with this organisation number, if any.
    async fn mailbox_provider(
        &self,
        org_nr: &OrgNr,
    ) -> Result<Option<MailboxProvider>, StorageError>;

    /// Registers a provider, or updates its name, endpoint and certificate.
    async fn upsert_mailbox_provider(&self, provider: &MailboxProvider)
        -> Result<(), StorageError>;

    /// Keeps a code about to be sent, in place of any the person still had
    /// on its channel, and removes those sent before `stale_before`; unless
    /// the person was sent `limit.1` codes since `limit.0`: then nothing is
    /// written and the answer is false. Counted and written in one
    /// transaction that holds the person, so requests at once cannot
    /// together pass the limit.
    async fn insert_contact_proof(
        &self,
        proof: &ContactProof,
        stale_before: DateTime<Utc>,
        limit: (DateTime<Utc>, u32),
    ) -> Result<bool, StorageError>;

    /// The person's code on each channel that is neither proven nor
    /// replaced (expired or void ones too: the service says why they no
    /// longer work). At most one per channel.
    async fn open_contact_proofs(&self, fnr: &Fnr) -> Result<Vec<ContactProof>, StorageError>;

    /// Counts one typed code against the proof, before it is compared, and
    /// returns the tries used with it; `None`, and nothing counted, when the
    /// proof is proven, replaced, expired at `now`, or out of tries.
    async fn take_try(
        &self,
        proof: &ContactProof,
        now: DateTime<Utc>,
    ) -> Result<Option<u32>, StorageError>;

    /// Marks the proof proven at `at` and stores its address as confirmed
    /// then, with a line in the trail, in one transaction. False, and
    /// nothing stored, when the proof was proven or replaced, or had expired
    /// by then (a second submit of the same code).
    async fn prove_contact(
        &self,
        proof: &ContactProof,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
}
