//! What the limits remember: one row per bucket, the time (in microseconds
//! since the epoch) at which it would be full again. Shared by every node
//! over one database, so a limit holds for the system, not per process.

use super::Decision;
use crate::store::StorageError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Takes one request's allowance from `bucket` if it has room at `now`
    /// ([`super::gcra`], in one statement, so concurrent takes on any node
    /// count each once).
    async fn take(
        &self,
        bucket: &str,
        now: DateTime<Utc>,
        interval: Duration,
        tolerance: Duration,
    ) -> Result<Decision, StorageError>;

    /// Forgets buckets that are full again by `now`: as good as absent.
    async fn forget_full(&self, now: DateTime<Utc>) -> Result<u64, StorageError>;
}
