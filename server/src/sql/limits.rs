//! Rate-limit buckets in SQL: GCRA as one upsert (see `crate::limits::gcra`),
//! so concurrent requests on any node each take their own allowance.

use super::{Database, Query};
use crate::{
    limits::{self, Decision},
    store::StorageError,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Binds the bucket, now, the interval and the tolerance (all in µs). A new
/// bucket starts one interval after now; a known one moves one interval on
/// from now or from where it stood, whichever is later, but only while it is
/// no further ahead of now than the tolerance. A refusal changes nothing and
/// returns no row.
const TAKE: &str = "INSERT INTO rate_limit (bucket, full_at_micros) VALUES ($1, $2 + $3)
    ON CONFLICT (bucket) DO UPDATE
    SET full_at_micros = (CASE WHEN rate_limit.full_at_micros > $2
                               THEN rate_limit.full_at_micros ELSE $2 END) + $3
    WHERE rate_limit.full_at_micros - $2 <= $4
    RETURNING full_at_micros";

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX / 4)
}

#[async_trait]
impl limits::Store for Database {
    async fn take(
        &self,
        bucket: &str,
        now: DateTime<Utc>,
        interval: Duration,
        tolerance: Duration,
    ) -> Result<Decision, StorageError> {
        let now = now.timestamp_micros();
        let tolerance = micros(tolerance);
        let taken: Option<(i64,)> = self
            .fetch_optional(
                Query::new(TAKE)
                    .bind(bucket.to_owned())
                    .bind(now)
                    .bind(micros(interval))
                    .bind(tolerance),
            )
            .await?;
        if taken.is_some() {
            return Ok(Decision::Admitted);
        }
        let full_at: Option<(i64,)> = self
            .fetch_optional(
                Query::new("SELECT full_at_micros FROM rate_limit WHERE bucket = $1")
                    .bind(bucket.to_owned()),
            )
            .await?;
        let wait = full_at.map_or(0, |(full_at,)| full_at - now - tolerance);
        Ok(Decision::Refused {
            retry_after: Duration::from_micros(wait.max(0).unsigned_abs()),
        })
    }

    async fn forget_full(&self, now: DateTime<Utc>) -> Result<u64, StorageError> {
        self.execute(
            Query::new("DELETE FROM rate_limit WHERE full_at_micros <= $1")
                .bind(now.timestamp_micros()),
        )
        .await
    }
}
