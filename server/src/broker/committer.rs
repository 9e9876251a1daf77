//! Group commit: many accepted messages share one database transaction (and
//! one fsync), and each sender is answered only once the group holding its
//! message is committed.
//!
//! One task owns the writing. While a commit is in flight, new messages queue
//! in the channel; the next group takes everything waiting, up to a limit.
//! Under light load a group is one message and nothing waits; under heavy load
//! groups grow by themselves. A group that fails is retried one message at a
//! time, so one bad message cannot sink the others.

use super::{CommitOutcome, NewMessage, Store};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

type Reply = oneshot::Sender<Result<CommitOutcome, String>>;

#[derive(Clone)]
pub struct GroupCommitter {
    queue: mpsc::Sender<(NewMessage, Reply)>,
}

impl GroupCommitter {
    /// Starts the writing task; it ends when the last handle is dropped.
    pub fn start(store: Arc<dyn Store>, max_group: usize) -> GroupCommitter {
        let (queue, incoming) = mpsc::channel(max_group.max(1) * 4);
        tokio::spawn(write_groups(store, incoming, max_group.max(1)));
        GroupCommitter { queue }
    }

    /// Returns once the message is durably committed (or found to be a resend).
    pub async fn commit(&self, message: NewMessage) -> anyhow::Result<CommitOutcome> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((message, reply))
            .await
            .map_err(|_| anyhow::anyhow!("the committer has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the committer stopped before answering"))?
            .map_err(|error| anyhow::anyhow!("committing the message failed: {error}"))
    }
}

async fn write_groups(
    store: Arc<dyn Store>,
    mut incoming: mpsc::Receiver<(NewMessage, Reply)>,
    max_group: usize,
) {
    let mut group = Vec::with_capacity(max_group);
    while incoming.recv_many(&mut group, max_group).await > 0 {
        let (messages, replies): (Vec<_>, Vec<_>) = group.drain(..).unzip();
        match store.commit_messages(&messages).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // The sender may have gone away; its message is stored all the same.
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(error) if messages.len() > 1 => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    size = messages.len(),
                    "group commit failed; committing its messages one by one"
                );
                for (message, reply) in messages.into_iter().zip(replies) {
                    let outcome = store
                        .commit_messages(std::slice::from_ref(&message))
                        .await
                        .map(|outcomes| outcomes[0])
                        .map_err(|error| format!("{error:#}"));
                    let _ = reply.send(outcome);
                }
            }
            Err(error) => {
                let error = format!("{error:#}");
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}
