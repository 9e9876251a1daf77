//! Background work done in rounds (telling senders of unanswered forms,
//! expiring signing orders): a round does up to a batch and says how many it
//! did; a full batch is followed at once by the next, anything less by a
//! pause. Failures are logged and the next round tried after the pause.

use std::{future::Future, time::Duration};

/// Runs `round` for as long as the server runs; `done` and `failed` name the
/// work in the logs.
pub async fn repeat<Round, Done>(
    interval: Duration,
    done: &'static str,
    failed: &'static str,
    mut round: Round,
) where
    Round: FnMut() -> Done,
    Done: Future<Output = anyhow::Result<usize>>,
{
    loop {
        match round().await {
            Ok(count) if count > 0 => {
                tracing::info!(count, "{done}");
                continue;
            }
            Ok(_) => {}
            Err(error) => tracing::error!(error = %error, "{failed}"),
        }
        tokio::time::sleep(interval).await;
    }
}
