//! The search: a tantivy index of every citizen's letters and uploads on
//! each node, kept in step with the database, and the search over it.
//!
//! Several nodes share one database; each keeps its own index and follows
//! the database's change log (`search_change`): whatever changes a letter or
//! upload (its text extracted, a move, a delete, a purge) appends a
//! [`Refresh`], and every node's [`Indexer`] reads the log in order, reads
//! those entries afresh and puts them in its index. The position it is up
//! to rides in the index's commit, so a restarted node goes on from there.
//! Text extraction is done once, by whichever node claims the document.
//!
//! - [`Store`]: what it remembers (extracted texts, the entries it is fed from).
//! - [`analyzer`]: Norwegian words to terms (stemmed, lower-cased, no ASCII folding).
//! - [`compounds`]: the parts of Norwegian compounds, from the hunspell word list.
//! - [`index`]: the schema, the one writer thread (batched commits) and the reader.
//! - [`extract`]: text from PDF, HTML and plain text, with time and size caps.
//! - [`Indexer`]: the task that extracts what is due (after the letter was
//!   acknowledged, never in the ingest request), retries failures and
//!   follows the log ([`LogFollower`]). The mailbox's own changes (moves,
//!   folder deletions, purges, deleted uploads, a citizen's message) are
//!   logged by its stores in the transaction that makes them; [`IndexFeed`]
//!   only wakes the indexer when new documents wait for extraction.
//! - [`query`] and [`SearchService`]: a citizen's search, scoped in the index query.
//!
//! The database is the truth: `postkasse reindex` ([`rebuild`]) and a server
//! that finds its index missing or of another schema version rebuild it from there.

pub mod analyzer;
pub mod compounds;
pub mod extract;
pub mod index;
pub mod query;
mod store;

pub use store::{
    EntryKind, IndexEntry, LoggedChange, PendingText, Refresh, Store, TextOutcome, TextSource,
};

use crate::blobs::BlobStore;
use crate::clock::Clock;
use app::{
    api::{
        search::{ssr::Search, SearchRequest, SearchResults},
        session::SignedIn,
    },
    domain::{LetterId, UploadId},
    error::AppError,
};
use extract::{ExtractError, ExtractionLimits};
use index::SearchIndex;
use std::{collections::BTreeSet, sync::Arc, time::Duration};
use tokio::sync::Notify;

/// How the indexer works, from the `[search]` settings.
#[derive(Debug, Clone)]
pub struct IndexerSettings {
    pub limits: ExtractionLimits,
    /// How often the indexer looks for documents due for extraction.
    pub poll: Duration,
    pub max_attempts: u32,
    pub retry_base: chrono::Duration,
    pub retry_max: chrono::Duration,
    /// How long a claimed document is this node's to extract before another
    /// may take it (this one died).
    pub claim: chrono::Duration,
}

/// Where the mailbox tells the indexer that new documents wait. Cheap to
/// clone.
#[derive(Clone)]
pub struct IndexFeed {
    wake: Arc<Notify>,
}

impl IndexFeed {
    /// New documents are waiting for extraction: look now rather than at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The indexer task: extraction of due documents and index updates.
pub struct Indexer {
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
    clock: Arc<dyn Clock>,
    index: Arc<SearchIndex>,
    settings: IndexerSettings,
    wake: Arc<Notify>,
}

/// How many due documents one round takes.
const EXTRACTION_BATCH: u32 = 32;
/// How many entries one rebuild page reads.
const REBUILD_PAGE: u32 = 500;
/// How many changes one read of the log takes.
const LOG_PAGE: u32 = 2000;
/// How long a position missing from the log is waited for. PostgreSQL hands
/// out positions when rows are written, not when they commit, so a later
/// position can be seen before an earlier one; a position still missing
/// after this long was a transaction that rolled back.
const GAP_PATIENCE: Duration = Duration::from_secs(10);

/// Where a node is in the change log: `durable` and everything before it
/// are in the index; after it, positions up to `seen` were applied except
/// those `missing` (not yet committed, or never).
#[derive(Debug)]
pub struct LogFollower {
    durable: i64,
    seen: i64,
    missing: std::collections::BTreeMap<i64, std::time::Instant>,
}

impl LogFollower {
    pub fn starting_after(position: i64) -> Self {
        Self {
            durable: position,
            seen: position,
            missing: Default::default(),
        }
    }

    /// Where the next read starts.
    pub fn durable(&self) -> i64 {
        self.durable
    }

    /// Takes a page read after [`durable`](Self::durable): returns the
    /// refreshes not applied before, and moves on as far as no position is
    /// missing.
    pub fn take(&mut self, page: &[LoggedChange], now: std::time::Instant) -> Vec<Refresh> {
        let mut fresh = Vec::new();
        let mut expected = self.durable + 1;
        for change in page {
            for skipped in expected..change.position {
                if skipped > self.seen {
                    self.missing.entry(skipped).or_insert(now);
                }
            }
            expected = change.position + 1;
            if change.position > self.seen || self.missing.remove(&change.position).is_some() {
                fresh.push(change.refresh);
            }
            self.seen = self.seen.max(change.position);
        }
        self.missing
            .retain(|_, since| now.duration_since(*since) < GAP_PATIENCE);
        self.durable = match self.missing.keys().next() {
            Some(first_missing) => first_missing - 1,
            None => self.seen,
        };
        fresh
    }
}

impl Indexer {
    pub fn new(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        index: Arc<SearchIndex>,
        settings: IndexerSettings,
    ) -> (Indexer, IndexFeed) {
        let wake = Arc::new(Notify::new());
        (
            Indexer {
                store,
                blobs,
                clock,
                index,
                settings,
                wake: wake.clone(),
            },
            IndexFeed { wake },
        )
    }

    /// Runs for as long as the server does. Rebuilds first when the index was
    /// missing or of another schema version.
    pub async fn run(self) {
        if self.index.needs_rebuild() {
            // Progress in the log, every tenth of the way.
            let total = self.store.index_entry_count().await.unwrap_or_default();
            let mut reported = 0;
            let progress = |done: u64| {
                if total > 0 && done * 10 / total > reported {
                    reported = done * 10 / total;
                    tracing::info!(done, total, "rebuilding the search index");
                }
            };
            match rebuild(self.store.as_ref(), &self.index, progress).await {
                Ok(count) => tracing::info!(count, "rebuilt the search index"),
                Err(error) => {
                    tracing::error!(error = format!("{error:#}"), "search index rebuild failed")
                }
            }
        }
        let mut follower = LogFollower::starting_after(self.index.followed_at_open());
        loop {
            let extracted = match self.extract_due().await {
                Ok(count) => count,
                Err(error) => {
                    tracing::error!(error = format!("{error:#}"), "text extraction round failed");
                    0
                }
            };
            loop {
                let before = follower.durable();
                match self.follow(&mut follower).await {
                    // A full page that moved the position on: there may be
                    // more at once. (One that did not waits for a missing
                    // position, which a tight loop would not bring sooner.)
                    Ok(read) if read >= LOG_PAGE as usize && follower.durable() > before => {
                        continue
                    }
                    Ok(_) => break,
                    Err(error) => {
                        tracing::error!(error = format!("{error:#}"), "search index update failed");
                        break;
                    }
                }
            }
            // A full batch of extraction: there may be more at once.
            if extracted >= EXTRACTION_BATCH as usize {
                continue;
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.settings.poll) => {}
            }
        }
    }

    /// Applies the log's next page to the index; returns how many changes it read.
    async fn follow(&self, follower: &mut LogFollower) -> anyhow::Result<usize> {
        if let Some(committed) = self.index.restarted_at() {
            // What was applied after the index's last commit is gone with
            // the failed writer: follow the log again from that commit.
            *follower = LogFollower::starting_after(committed);
        }
        let page = self
            .store
            .changes_after(follower.durable(), LOG_PAGE)
            .await?;
        let fresh = follower.take(&page, std::time::Instant::now());
        let mut letters = BTreeSet::new();
        let mut uploads = BTreeSet::new();
        for refresh in fresh {
            match refresh {
                Refresh::Letter(id) => letters.insert(id.as_uuid()),
                Refresh::Upload(id) => uploads.insert(id.as_uuid()),
            };
        }
        let letters: Vec<LetterId> = letters.into_iter().map(LetterId::from_uuid).collect();
        self.reindex_letters(&letters).await?;
        for id in uploads {
            let id = UploadId::from_uuid(id);
            match self.store.upload_index_entry(id).await? {
                Some(entry) => self.index.put(vec![entry]),
                None => self.index.delete(vec![id.as_uuid()]),
            }
        }
        self.index.follow(follower.durable());
        Ok(page.len())
    }

    /// Puts the letters' current entries in the index; ones that are gone leave it.
    async fn reindex_letters(&self, ids: &[LetterId]) -> anyhow::Result<()> {
        for chunk in ids.chunks(REBUILD_PAGE as usize) {
            let entries = self.store.letter_index_entries(chunk).await?;
            let found: BTreeSet<_> = entries.iter().map(|entry| entry.id).collect();
            let gone = chunk
                .iter()
                .map(|id| id.as_uuid())
                .filter(|id| !found.contains(id))
                .collect();
            self.index.put(entries);
            self.index.delete(gone);
        }
        Ok(())
    }

    /// Extracts one batch of due documents this node claimed; each text and
    /// the news of it go to the database, and the index learns of them from
    /// the log like every other node's. Returns how many were tried.
    async fn extract_due(&self) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let due = self
            .store
            .claim_due_texts(now, now + self.settings.claim, EXTRACTION_BATCH)
            .await?;
        for pending in &due {
            let outcome = self.extract_one(pending).await;
            self.store.record_text(pending.source, &outcome).await?;
        }
        Ok(due.len())
    }

    async fn extract_one(&self, pending: &PendingText) -> TextOutcome {
        let result = match self.blobs.get(&pending.digest).await {
            Ok(bytes) => {
                extract::extract_capped(pending.media_type, bytes, self.settings.limits).await
            }
            Err(error) => Err(ExtractError::Unreadable(format!("blob: {error}"))),
        };
        match result {
            Ok(text) => TextOutcome::Extracted(text),
            Err(error) => {
                let attempts = pending.attempts + 1;
                let retry = error.is_retryable() && attempts < self.settings.max_attempts;
                // Only the kind of failure and where: never the document's text.
                tracing::warn!(
                    source = ?pending.source,
                    attempts,
                    retry,
                    error = %error,
                    "document text could not be extracted"
                );
                TextOutcome::Failed {
                    retry_at: retry.then(|| self.clock.now() + self.backoff(attempts)),
                }
            }
        }
    }

    fn backoff(&self, attempts: u32) -> chrono::Duration {
        let doubled = self
            .settings
            .retry_base
            .checked_mul(1 << attempts.saturating_sub(1).min(20))
            .unwrap_or(self.settings.retry_max);
        doubled.min(self.settings.retry_max)
    }
}

/// Empties the index and fills it again from the database; `progress` is
/// told how many entries went in so far. Returns the total.
pub async fn rebuild(
    store: &dyn Store,
    index: &SearchIndex,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<u64> {
    // Changes logged from here on are followed afterwards; those before are
    // in what the rebuild reads.
    let start = store.last_change().await?;
    index.clear();
    let mut total = 0;
    for kind in [EntryKind::Letter, EntryKind::Upload] {
        let mut after = None;
        loop {
            let entries = store.index_entries_after(kind, after, REBUILD_PAGE).await?;
            let Some(last) = entries.last() else { break };
            after = Some(last.id);
            total += entries.len() as u64;
            index.put(entries);
            progress(total);
        }
    }
    index.follow(start);
    index.flush().await?;
    Ok(total)
}

/// The citizen's search.
pub struct SearchService {
    store: Arc<dyn Store>,
    index: Arc<SearchIndex>,
    clock: Arc<dyn Clock>,
}

impl SearchService {
    pub fn new(store: Arc<dyn Store>, index: Arc<SearchIndex>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            index,
            clock,
        }
    }
}

#[async_trait::async_trait]
impl Search for SearchService {
    async fn search(
        &self,
        viewer: &SignedIn,
        request: SearchRequest,
    ) -> Result<SearchResults, AppError> {
        let now = self.clock.now();
        let index = self.index.clone();
        let owner = viewer.fnr.clone();
        let level = viewer.level;
        // A searcher per request, on a blocking thread: tantivy's work is CPU and mmap IO.
        let found = tokio::task::spawn_blocking(move || {
            let searcher = index.searcher();
            let scope = query::Scope {
                owner: owner.as_str(),
                level,
                now,
            };
            query::run(&index, &searcher, &request, &scope)
        })
        .await;
        let mut results = match found {
            Ok(Ok(results)) => results,
            Ok(Err(error)) => return Err(crate::errors::internal(error)),
            Err(error) => return Err(crate::errors::internal(error)),
        };
        results.unsearchable_documents = self
            .store
            .unsearchable_documents(&viewer.fnr, now)
            .await
            .map_err(crate::errors::internal)?;
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn at(position: i64) -> LoggedChange {
        LoggedChange {
            position,
            refresh: Refresh::Letter(LetterId::from_uuid(uuid::Uuid::from_u128(position as u128))),
        }
    }

    fn positions(refreshes: &[Refresh]) -> Vec<u128> {
        refreshes
            .iter()
            .map(|refresh| match refresh {
                Refresh::Letter(id) => id.as_uuid().as_u128(),
                Refresh::Upload(id) => id.as_uuid().as_u128(),
            })
            .collect()
    }

    #[test]
    fn an_unbroken_log_is_followed_to_its_end() {
        let mut follower = LogFollower::starting_after(3);
        let fresh = follower.take(&[at(4), at(5), at(6)], Instant::now());
        assert_eq!(positions(&fresh), [4, 5, 6]);
        assert_eq!(follower.durable(), 6);
        assert!(follower.take(&[], Instant::now()).is_empty());
        assert_eq!(follower.durable(), 6);
    }

    #[test]
    fn a_position_committed_late_is_applied_when_it_shows_and_nothing_twice() {
        let start = Instant::now();
        let mut follower = LogFollower::starting_after(0);
        // 2 is written but not committed yet: 3 shows first.
        let fresh = follower.take(&[at(1), at(3)], start);
        assert_eq!(positions(&fresh), [1, 3]);
        assert_eq!(follower.durable(), 1, "not past the gap");
        // Read again from 1: 2 has come, 3 was applied already.
        let fresh = follower.take(&[at(2), at(3), at(4)], start);
        assert_eq!(positions(&fresh), [2, 4]);
        assert_eq!(follower.durable(), 4);
    }

    #[test]
    fn a_position_that_never_comes_is_given_up_after_a_while() {
        let start = Instant::now();
        let mut follower = LogFollower::starting_after(0);
        follower.take(&[at(1), at(3)], start);
        assert_eq!(follower.durable(), 1);
        let fresh = follower.take(&[at(3)], start + Duration::from_secs(1));
        assert!(fresh.is_empty());
        assert_eq!(follower.durable(), 1, "still waiting for 2");
        let fresh = follower.take(&[at(3), at(5)], start + GAP_PATIENCE);
        assert_eq!(positions(&fresh), [5]);
        assert_eq!(
            follower.durable(),
            3,
            "2 rolled back; 4 is new and waited for"
        );
    }
}
