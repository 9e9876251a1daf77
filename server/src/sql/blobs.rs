//! The blob store's inline blobs in SQL.

use super::{Database, Query};
use crate::{blobs, store::StorageError};
use app::domain::Sha256Digest;
use async_trait::async_trait;

#[async_trait]
impl blobs::Store for Database {
    async fn inline_blob(&self, digest: &Sha256Digest) -> Result<Option<Vec<u8>>, StorageError> {
        let row: Option<(Vec<u8>,)> = self
            .fetch_optional(
                Query::new("SELECT bytes FROM inline_blob WHERE sha256 = $1").bind(digest.to_hex()),
            )
            .await?;
        Ok(row.map(|(bytes,)| bytes))
    }
}
