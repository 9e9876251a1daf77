//! The database's side of the blob store: small blobs a message's commit
//! stored inline, beside the rows that name them. They are written by the
//! broker's group commit (and removed with the letters that used them, by
//! the mailbox's purge); here they are only read.

use crate::store::StorageError;
use app::domain::Sha256Digest;
use async_trait::async_trait;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A blob stored inline by a message's commit.
    async fn inline_blob(&self, digest: &Sha256Digest) -> Result<Option<Vec<u8>>, StorageError>;
}
