//! What the notifications remember: notice jobs (scheduled with their letter
//! in the broker's group commit), their leases and outcomes, the citizen's own
//! notice preference, and what the development sink "sent".

use super::{NoticeJob, NoticeOutcome, NoticePreference, NoticeState, SinkNotice};
use crate::store::StorageError;
use app::domain::{Fnr, LetterId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Leases up to `limit` due jobs until `lease_until`. Claimed jobs of
    /// letters their owner has opened are closed as skipped in the same
    /// transaction and not returned, so an opened letter is never notified
    /// about.
    async fn claim_notice_jobs(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<NoticeJob>, StorageError>;

    /// Records how each claimed job ended, with any failure receipt, in one
    /// transaction.
    async fn finish_notice_jobs(
        &self,
        finished: &[(NoticeJob, NoticeOutcome)],
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    async fn notice_preference(&self, fnr: &Fnr) -> Result<NoticePreference, StorageError>;

    async fn set_notice_preference(
        &self,
        fnr: &Fnr,
        preference: NoticePreference,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Keeps what the sink channel "sent"; false when the key was seen before.
    async fn record_sink_notice(&self, notice: &SinkNotice) -> Result<bool, StorageError>;

    /// The newest sink notices first.
    async fn sink_notices(&self, limit: u32) -> Result<Vec<SinkNotice>, StorageError>;

    /// The owner's letter's notice jobs, by due time.
    async fn notice_states(
        &self,
        owner: &Fnr,
        letter: LetterId,
    ) -> Result<Vec<NoticeState>, StorageError>;
}
