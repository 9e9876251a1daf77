//! What the print service remembers: citizens' postal addresses and the
//! print queue (one job per letter routed to paper, holding its print order).
//! Jobs are written by the broker's group commit, with the message they
//! belong to, and marked posted by the broker (which queues the receipts
//! that causes); here they are listed.

use crate::{
    print::{PostalAddress, PrintOrder},
    store::StorageError,
};
use app::domain::{Fnr, MessageId, OrgNr, Sha256Digest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A letter in the print queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintJob {
    pub message_row: Uuid,
    pub message_id: MessageId,
    pub agency: OrgNr,
    pub order: PrintOrder,
    pub package: Sha256Digest,
    pub created_at: DateTime<Utc>,
    pub printed_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn postal_address(&self, fnr: &Fnr) -> Result<Option<PostalAddress>, StorageError>;

    async fn set_postal_address(
        &self,
        fnr: &Fnr,
        address: &PostalAddress,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Sets many addresses in one transaction; returns how many were new or
    /// changed.
    async fn set_postal_addresses(
        &self,
        addresses: &[(Fnr, PostalAddress)],
        at: DateTime<Utc>,
    ) -> Result<u64, StorageError>;

    async fn print_jobs(&self, include_printed: bool) -> Result<Vec<PrintJob>, StorageError>;
}
