//! The search: one tantivy index of every citizen's letters and uploads,
//! kept in step with the database, and the search over it.
//!
//! - [`Store`]: what it remembers (extracted texts, the entries it is fed from).
//! - [`analyzer`]: Norwegian words to terms (stemmed, lower-cased, no ASCII folding).
//! - [`compounds`]: the parts of Norwegian compounds, from the hunspell word list.
//! - [`index`]: the schema, the one writer thread (batched commits) and the reader.
//! - [`extract`]: text from PDF, HTML and plain text, with time and size caps.
//! - [`Indexer`]: the task that extracts what is due (after the letter was
//!   acknowledged, never in the ingest request), retries failures, and feeds
//!   the writer with entries changed by moves, deletes and purges ([`IndexFeed`]).
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

pub use store::{EntryKind, IndexEntry, PendingText, Store, TextOutcome, TextSource};

use crate::blobs::BlobStore;
use crate::clock::Clock;
use app::{
    api::{
        search::{ssr::Search, SearchRequest, SearchResults},
        session::SignedIn,
    },
    domain::{Fnr, LetterId, UploadId},
    error::AppError,
};
use extract::{ExtractError, ExtractionLimits};
use index::SearchIndex;
use std::{collections::BTreeSet, sync::Arc, time::Duration};
use tokio::sync::{mpsc, Notify};

/// How the indexer works, from the `[search]` settings.
#[derive(Debug, Clone)]
pub struct IndexerSettings {
    pub limits: ExtractionLimits,
    /// How often the indexer looks for documents due for extraction.
    pub poll: Duration,
    pub max_attempts: u32,
    pub retry_base: chrono::Duration,
    pub retry_max: chrono::Duration,
}

/// What changed in the database, for the index.
#[derive(Debug, Clone)]
pub enum Change {
    Letters(Vec<LetterId>),
    /// Every letter of the citizen (a folder went).
    Owner(Fnr),
    Upload(UploadId),
    UploadDeleted(UploadId),
    /// Letters purged from the trash at or after this time.
    Purged(chrono::DateTime<chrono::Utc>),
}

/// Where the mailbox and the trash purge tell the indexer what they changed.
/// Cheap to clone.
#[derive(Clone)]
pub struct IndexFeed {
    changes: mpsc::UnboundedSender<Change>,
    wake: Arc<Notify>,
}

impl IndexFeed {
    pub fn changed(&self, change: Change) {
        // The indexer stops only with the server.
        let _ = self.changes.send(change);
    }

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
    changes: mpsc::UnboundedReceiver<Change>,
    wake: Arc<Notify>,
}

/// How many due documents one round takes.
const EXTRACTION_BATCH: u32 = 32;
/// How many entries one rebuild page reads.
const REBUILD_PAGE: u32 = 500;

impl Indexer {
    pub fn new(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        index: Arc<SearchIndex>,
        settings: IndexerSettings,
    ) -> (Indexer, IndexFeed) {
        let (send, changes) = mpsc::unbounded_channel();
        let wake = Arc::new(Notify::new());
        (
            Indexer {
                store,
                blobs,
                clock,
                index,
                settings,
                changes,
                wake: wake.clone(),
            },
            IndexFeed {
                changes: send,
                wake,
            },
        )
    }

    /// Runs for as long as the server does. Rebuilds first when the index was
    /// missing or of another schema version.
    pub async fn run(mut self) {
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
        loop {
            match self.extract_due().await {
                // A full batch: there may be more at once.
                Ok(count) if count >= EXTRACTION_BATCH as usize => continue,
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(error = format!("{error:#}"), "text extraction round failed")
                }
            }
            tokio::select! {
                change = self.changes.recv() => match change {
                    Some(change) => {
                        if let Err(error) = self.apply(change).await {
                            tracing::error!(error = format!("{error:#}"), "search index update failed");
                        }
                    }
                    None => return,
                },
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.settings.poll) => {}
            }
        }
    }

    async fn apply(&self, change: Change) -> anyhow::Result<()> {
        match change {
            Change::Letters(ids) => self.reindex_letters(&ids).await,
            Change::Owner(owner) => {
                let ids = self.store.letter_ids_of(&owner).await?;
                self.reindex_letters(&ids).await
            }
            Change::Upload(id) => {
                match self.store.upload_index_entry(id).await? {
                    Some(entry) => self.index.put(vec![entry]),
                    None => self.index.delete(vec![id.as_uuid()]),
                }
                Ok(())
            }
            Change::UploadDeleted(id) => {
                self.index.delete(vec![id.as_uuid()]);
                Ok(())
            }
            Change::Purged(since) => {
                let ids = self.store.purged_since(since).await?;
                self.index
                    .delete(ids.into_iter().map(|id| id.as_uuid()).collect());
                Ok(())
            }
        }
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

    /// Extracts one batch of due documents; returns how many were tried.
    async fn extract_due(&self) -> anyhow::Result<usize> {
        let due = self
            .store
            .due_texts(self.clock.now(), EXTRACTION_BATCH)
            .await?;
        let mut letters = BTreeSet::new();
        let mut uploads = Vec::new();
        for pending in &due {
            let outcome = self.extract_one(pending).await;
            self.store.record_text(pending.source, &outcome).await?;
            match pending.source {
                TextSource::Document { letter, .. } => {
                    letters.insert(letter.as_uuid());
                }
                TextSource::Upload(id) => uploads.push(id),
            }
        }
        let letters: Vec<LetterId> = letters.into_iter().map(LetterId::from_uuid).collect();
        self.reindex_letters(&letters).await?;
        for id in uploads {
            self.apply(Change::Upload(id)).await?;
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
