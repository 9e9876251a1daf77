//! The one full-text index under the data directory: its schema, the writer
//! thread that alone changes it, and the reader searches use.
//!
//! Updates travel over a channel to one writer thread (never an async
//! thread). It replaces an entry as delete-then-add by its id and commits in
//! batches: at most one commit per `commit_interval`, as soon as that long has
//! passed since the first uncommitted change. After each commit it reloads the
//! reader, so a search that starts afterwards sees the change.
//!
//! The index is derived data: a directory that is missing, unreadable or
//! written with another [`SCHEMA_VERSION`] is emptied and rebuilt from the
//! database. Each commit carries, as its payload, the position in the
//! database's change log that the index is up to ([`SearchIndex::follow`]),
//! so a node that restarts goes on from there.

use super::{analyzer, compounds::Compounds, EntryKind, IndexEntry};
use anyhow::Context;
use app::domain::{Place, SecurityLevel};
use std::{
    path::{Path, PathBuf},
    sync::{mpsc, Arc},
    time::{Duration, Instant},
};
use tantivy::{
    schema::{
        DateOptions, DateTimePrecision, FacetOptions, Field, IndexRecordOption, NumericOptions,
        Schema, TextFieldIndexing, TextOptions, STORED, STRING,
    },
    DateTime, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term,
};
use uuid::Uuid;

/// Bump when the schema or the analyzer changes: an index written with
/// another version is rebuilt at start.
pub const SCHEMA_VERSION: u32 = 2;
const VERSION_FILE: &str = "postkasse-index-version";
/// The writer's memory budget, shared by its indexing threads.
const WRITER_HEAP_BYTES: usize = 64 * 1024 * 1024;

/// The index's fields. Text fields are analysed with [`analyzer::norwegian`];
/// the `secret_*` ones hold what only a login at level high may match on.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// The letter's or upload's id.
    pub id: Field,
    /// `brev` or `opplasting`.
    pub kind: Field,
    /// The owner's national id; indexed, never stored.
    pub owner: Field,
    pub sender: Field,
    pub secret_sender: Field,
    /// Sender names for the per-sender counts and filter.
    pub sender_facet: Field,
    /// The non-sensitive title (`ikkesensitivtittel`); for level-3 letters the title too.
    pub title: Field,
    /// A level-4 letter's title.
    pub secret_title: Field,
    /// A level-3 letter's or an upload's text; stored for snippets.
    pub body: Field,
    /// A level-4 letter's text.
    pub secret_body: Field,
    /// The parts of the compounds in the title, sender and text
    /// ([`Compounds`]): searched with a lower weight than the words.
    pub parts: Field,
    /// The same for a level-4 letter.
    pub secret_parts: Field,
    pub received: Field,
    /// Seconds since the epoch from which the letter may be shown.
    pub effective: Field,
    /// Where a letter lies ([`place_key`]); uploads have `opplastinger`.
    pub place: Field,
    pub level: Field,
    /// Shown titles, stored only.
    pub shown_title: Field,
    pub shown_public_title: Field,
    pub shown_sender: Field,
    /// How many documents are not searchable, stored only.
    pub unsearchable: Field,
}

impl Fields {
    /// The fields a word may match at the login's level.
    pub fn text_fields(&self, level: SecurityLevel) -> Vec<Field> {
        let mut fields = vec![self.title, self.sender, self.body];
        if level == SecurityLevel::High {
            fields.extend([self.secret_title, self.secret_sender, self.secret_body]);
        }
        fields
    }

    /// The compound parts' fields a word may match at the login's level.
    pub fn parts_fields(&self, level: SecurityLevel) -> Vec<Field> {
        match level {
            SecurityLevel::High => vec![self.parts, self.secret_parts],
            _ => vec![self.parts],
        }
    }
}

pub fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = |stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(analyzer::NORWEGIAN)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED),
        kind: builder.add_text_field("kind", STRING | STORED),
        owner: builder.add_text_field("owner", STRING),
        sender: builder.add_text_field("sender", text(false)),
        secret_sender: builder.add_text_field("secret_sender", text(false)),
        sender_facet: builder.add_facet_field("sender_facet", FacetOptions::default()),
        title: builder.add_text_field("title", text(false)),
        secret_title: builder.add_text_field("secret_title", text(false)),
        body: builder.add_text_field("body", text(true)),
        secret_body: builder.add_text_field("secret_body", text(true)),
        parts: builder.add_text_field("parts", text(false)),
        secret_parts: builder.add_text_field("secret_parts", text(false)),
        received: builder.add_date_field(
            "received",
            DateOptions::default()
                .set_indexed()
                .set_fast()
                .set_stored()
                .set_precision(DateTimePrecision::Microseconds),
        ),
        effective: builder.add_i64_field(
            "effective",
            NumericOptions::default().set_indexed().set_fast(),
        ),
        place: builder.add_text_field("place", STRING),
        level: builder.add_u64_field("level", NumericOptions::default().set_stored()),
        shown_title: builder.add_text_field("shown_title", STORED),
        shown_public_title: builder.add_text_field("shown_public_title", STORED),
        shown_sender: builder.add_text_field("shown_sender", STORED),
        unsearchable: builder.add_u64_field("unsearchable", STORED),
    };
    (builder.build(), fields)
}

/// A place as the index stores it; a folder by its id.
pub fn place_key(place: Place) -> String {
    match place {
        Place::Inbox => "innboks".to_owned(),
        Place::Archive => "arkiv".to_owned(),
        Place::Trash => "papirkurv".to_owned(),
        Place::Folder(id) => id.as_uuid().to_string(),
    }
}

/// Where uploads lie in the index.
pub const UPLOADS_PLACE: &str = "opplastinger";

pub fn kind_key(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Letter => "brev",
        EntryKind::Upload => "opplasting",
    }
}

fn date(at: chrono::DateTime<chrono::Utc>) -> DateTime {
    DateTime::from_timestamp_micros(at.timestamp_micros())
}

/// The index document of an entry: what each field holds is decided here.
pub fn document(fields: &Fields, compounds: &Compounds, entry: &IndexEntry) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    let secret = entry.level == SecurityLevel::High;
    doc.add_text(fields.id, entry.id.to_string());
    doc.add_text(fields.kind, kind_key(entry.kind));
    doc.add_text(fields.owner, entry.owner.as_str());
    doc.add_text(fields.title, &entry.nonsensitive_title);
    let text = entry.texts.join("\n\n");
    let rest = format!(
        "{}\n{}\n{text}",
        entry.title,
        entry.sender.as_deref().unwrap_or_default()
    );
    if secret {
        doc.add_text(fields.secret_title, &entry.title);
        doc.add_text(fields.secret_body, &text);
        // Compound parts of what only a login at level high may match on
        // stay in the secret field.
        doc.add_text(
            fields.parts,
            compounds.parts_of_text(&entry.nonsensitive_title),
        );
        doc.add_text(fields.secret_parts, compounds.parts_of_text(&rest));
    } else {
        if entry.title != entry.nonsensitive_title {
            doc.add_text(fields.title, &entry.title);
        }
        doc.add_text(fields.body, &text);
        // One pass over everything, so a compound in the title that is
        // also the non-sensitive title counts once.
        let all = format!("{}\n{rest}", entry.nonsensitive_title);
        doc.add_text(fields.parts, compounds.parts_of_text(&all));
    }
    if let Some(sender) = &entry.sender {
        doc.add_text(
            if secret {
                fields.secret_sender
            } else {
                fields.sender
            },
            sender,
        );
        doc.add_facet(fields.sender_facet, sender_facet(sender));
        doc.add_text(fields.shown_sender, sender);
    }
    doc.add_date(fields.received, date(entry.received_at));
    doc.add_i64(
        fields.effective,
        entry.effective_at.map_or(i64::MIN, |at| at.timestamp()),
    );
    doc.add_text(
        fields.place,
        entry.place.map_or(UPLOADS_PLACE.to_owned(), place_key),
    );
    doc.add_u64(fields.level, entry.level as u64);
    doc.add_text(fields.shown_title, &entry.title);
    doc.add_text(fields.shown_public_title, &entry.nonsensitive_title);
    doc.add_u64(fields.unsearchable, u64::from(entry.unsearchable));
    doc
}

/// The facet of a sender's name (one level below the root).
pub fn sender_facet(name: &str) -> tantivy::schema::Facet {
    tantivy::schema::Facet::from_path([name])
}

/// A change for the writer thread.
enum Change {
    Put(Vec<IndexEntry>),
    Delete(Vec<Uuid>),
    Clear,
    /// What was sent so far brings the index up to this position of the
    /// change log: the next commit records it.
    Followed(i64),
    /// Commit now and answer once the reader sees it.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// The index, its reader and the way to its writer thread.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    changes: std::sync::Mutex<mpsc::Sender<Change>>,
    /// Whether the index was created or emptied on opening: the caller rebuilds it.
    needs_rebuild: bool,
    /// The change log's position the last commit before opening was up to.
    followed_at_open: i64,
    /// What the writer thread tells the rest: how far the last commit came,
    /// and whether the writer had to start again from it.
    state: Arc<WriterState>,
}

/// Shared between the writer thread and the [`Indexer`](super::Indexer).
#[derive(Debug, Default)]
struct WriterState {
    committed: std::sync::atomic::AtomicI64,
    /// Set when the writer failed (a disk that would not sync) and a new
    /// one was opened on the last commit: what came after it is lost, and
    /// the change log must be followed again from there.
    restarted: std::sync::atomic::AtomicBool,
}

impl SearchIndex {
    /// Opens the index in `directory`, creating it, or emptying it when it
    /// cannot be read or was written with another schema version, and starts
    /// the writer thread, which splits compounds with `compounds`. Blocking:
    /// call it off the async threads.
    pub fn open(
        directory: &Path,
        commit_interval: Duration,
        compounds: Arc<Compounds>,
    ) -> anyhow::Result<Arc<SearchIndex>> {
        let (schema, fields) = schema();
        std::fs::create_dir_all(directory)
            .with_context(|| format!("cannot create {}", directory.display()))?;
        let version_file = directory.join(VERSION_FILE);
        let current = std::fs::read_to_string(&version_file)
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok())
            == Some(SCHEMA_VERSION);
        let opened = if current {
            Index::open_in_dir(directory)
                .ok()
                .filter(|index| index.schema() == schema)
        } else {
            None
        };
        let (index, needs_rebuild) = match opened {
            Some(index) => (index, false),
            None => {
                empty_directory(directory)?;
                let index = Index::create_in_dir(directory, schema).with_context(|| {
                    format!("cannot create an index in {}", directory.display())
                })?;
                std::fs::write(&version_file, SCHEMA_VERSION.to_string())?;
                (index, true)
            }
        };
        let followed_at_open = index
            .load_metas()
            .ok()
            .and_then(|metas| metas.payload)
            .and_then(|payload| payload.parse().ok())
            .unwrap_or(0);
        let tokenizers = index.tokenizers();
        tokenizers.register(analyzer::NORWEGIAN, analyzer::norwegian());
        tokenizers.register(analyzer::NORWEGIAN_PREFIX, analyzer::norwegian_prefix());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let writer: IndexWriter = index
            .writer(WRITER_HEAP_BYTES)
            .context("cannot open the index for writing (is another postkasse using it?)")?;
        let (send, receive) = mpsc::channel();
        let thread_reader = reader.clone();
        let state = Arc::new(WriterState::default());
        state
            .committed
            .store(followed_at_open, std::sync::atomic::Ordering::SeqCst);
        let thread_state = state.clone();
        let thread_index = index.clone();
        std::thread::Builder::new()
            .name("search-index-writer".to_owned())
            .spawn(move || {
                write_loop(
                    Writer {
                        index: thread_index,
                        writer: Some(writer),
                        reader: thread_reader,
                        state: thread_state,
                    },
                    fields,
                    &compounds,
                    receive,
                    commit_interval,
                    followed_at_open,
                )
            })?;
        Ok(Arc::new(SearchIndex {
            index,
            reader,
            fields,
            changes: std::sync::Mutex::new(send),
            needs_rebuild,
            followed_at_open,
            state,
        }))
    }

    pub fn needs_rebuild(&self) -> bool {
        self.needs_rebuild
    }

    /// How far in the change log the index was when it was opened (0 for a
    /// new one).
    pub fn followed_at_open(&self) -> i64 {
        self.followed_at_open
    }

    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// A searcher on the last commit; one per request.
    pub fn searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }

    fn send(&self, change: Change) {
        let sender = self
            .changes
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if sender.send(change).is_err() {
            tracing::error!(
                "the search index writer has stopped; the change is lost until reindex"
            );
        }
    }

    /// Adds the entries, replacing any with the same id.
    pub fn put(&self, entries: Vec<IndexEntry>) {
        if !entries.is_empty() {
            self.send(Change::Put(entries));
        }
    }

    pub fn delete(&self, ids: Vec<Uuid>) {
        if !ids.is_empty() {
            self.send(Change::Delete(ids));
        }
    }

    /// Removes everything (the start of a rebuild).
    pub fn clear(&self) {
        self.send(Change::Clear);
    }

    /// What was put and deleted so far brings the index up to `position` of
    /// the change log; the next commit records it.
    pub fn follow(&self, position: i64) {
        self.send(Change::Followed(position));
    }

    /// If the writer started again from its last commit since the last ask:
    /// the change log's position that commit was up to. Once per restart.
    pub fn restarted_at(&self) -> Option<i64> {
        use std::sync::atomic::Ordering::SeqCst;
        self.state
            .restarted
            .swap(false, SeqCst)
            .then(|| self.state.committed.load(SeqCst))
    }

    /// Commits what was sent so far and waits until searches see it.
    pub async fn flush(&self) -> anyhow::Result<()> {
        let (done, committed) = tokio::sync::oneshot::channel();
        self.send(Change::Flush(done));
        committed
            .await
            .context("the search index writer stopped before committing")
    }
}

fn empty_directory(directory: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(directory)? {
        let path: PathBuf = entry?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// The writer thread's own: the writer, and what it needs to open another.
struct Writer {
    index: Index,
    /// `None` between a failed writer and the new one.
    writer: Option<IndexWriter>,
    reader: IndexReader,
    state: Arc<WriterState>,
}

impl Writer {
    /// Commits with the change log's position as payload, and makes the
    /// commit visible to searches; answers the waiting flushes.
    fn commit(&mut self, waiting: &mut Vec<tokio::sync::oneshot::Sender<()>>, followed: i64) {
        let Some(writer) = self.writer.as_mut() else {
            waiting.clear();
            self.start_again();
            return;
        };
        let committed = writer.prepare_commit().and_then(|mut prepared| {
            prepared.set_payload(&followed.to_string());
            prepared.commit()
        });
        match committed.and_then(|_| self.reader.reload()) {
            Ok(()) => {
                self.state
                    .committed
                    .store(followed, std::sync::atomic::Ordering::SeqCst);
                for done in waiting.drain(..) {
                    let _ = done.send(());
                }
            }
            // Waiters see their channel close: the flush failed.
            Err(error) => {
                tracing::error!(error = %error, "search index commit failed");
                waiting.clear();
                self.start_again();
            }
        }
    }

    /// A writer that failed (a disk that would not sync) stays failed, so it
    /// is dropped, which lets go of the index's lock, and a new one is opened
    /// on the last commit; the indexer is told to follow the change log
    /// again from there. If opening fails too, the next commit tries again.
    fn start_again(&mut self) {
        drop(self.writer.take());
        match self.index.writer(WRITER_HEAP_BYTES) {
            Ok(writer) => {
                self.writer = Some(writer);
                self.state
                    .restarted
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                tracing::warn!("the search index writer started again from its last commit");
            }
            Err(error) => {
                tracing::error!(error = %error, "the search index writer cannot start again yet");
            }
        }
    }
}

/// The writer thread: applies changes, commits at most once per interval.
fn write_loop(
    mut writer: Writer,
    fields: Fields,
    compounds: &Compounds,
    changes: mpsc::Receiver<Change>,
    commit_interval: Duration,
    mut followed: i64,
) {
    let mut first_uncommitted: Option<Instant> = None;
    let mut waiting: Vec<tokio::sync::oneshot::Sender<()>> = Vec::new();
    loop {
        let change = match first_uncommitted {
            Some(since) => {
                let left = commit_interval.saturating_sub(since.elapsed());
                match changes.recv_timeout(left) {
                    Ok(change) => Some(change),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        writer.commit(&mut waiting, followed);
                        return;
                    }
                }
            }
            None => match changes.recv() {
                Ok(change) => Some(change),
                Err(_) => return,
            },
        };
        let mut commit_now = false;
        match change {
            Some(Change::Put(entries)) => {
                if let Some(writer) = writer.writer.as_mut() {
                    for entry in &entries {
                        writer.delete_term(Term::from_field_text(fields.id, &entry.id.to_string()));
                        if let Err(error) = writer.add_document(document(&fields, compounds, entry))
                        {
                            tracing::error!(error = %error, "cannot add a document to the search index");
                        }
                    }
                }
            }
            Some(Change::Delete(ids)) => {
                if let Some(writer) = writer.writer.as_mut() {
                    for id in ids {
                        writer.delete_term(Term::from_field_text(fields.id, &id.to_string()));
                    }
                }
            }
            Some(Change::Clear) => {
                if let Some(Err(error)) = writer
                    .writer
                    .as_mut()
                    .map(|writer| writer.delete_all_documents())
                {
                    tracing::error!(error = %error, "cannot empty the search index");
                }
            }
            Some(Change::Followed(position)) => followed = position,
            Some(Change::Flush(done)) => {
                waiting.push(done);
                commit_now = true;
            }
            None => commit_now = true,
        }
        first_uncommitted.get_or_insert_with(Instant::now);
        if commit_now || first_uncommitted.is_some_and(|since| since.elapsed() >= commit_interval) {
            writer.commit(&mut waiting, followed);
            first_uncommitted = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_other_version_index_is_made_anew() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("index");
        let interval = Duration::from_millis(10);
        let first = SearchIndex::open(&path, interval, Arc::new(Compounds::none())).unwrap();
        assert!(first.needs_rebuild(), "a missing index is built");
        drop(first);
        // The writer thread lets go of the lock when the index is dropped.
        let again = (0..100)
            .find_map(|_| {
                std::thread::sleep(Duration::from_millis(20));
                SearchIndex::open(&path, interval, Arc::new(Compounds::none())).ok()
            })
            .unwrap();
        assert!(!again.needs_rebuild(), "a current index is kept");
        drop(again);
        std::fs::write(path.join(VERSION_FILE), "0").unwrap();
        let other = (0..100)
            .find_map(|_| {
                std::thread::sleep(Duration::from_millis(20));
                SearchIndex::open(&path, interval, Arc::new(Compounds::none())).ok()
            })
            .unwrap();
        assert!(other.needs_rebuild(), "another version is rebuilt");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_change_logs_position_rides_in_the_commit_and_is_read_back_on_opening() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("index");
        let interval = Duration::from_millis(10);
        let index = SearchIndex::open(&path, interval, Arc::new(Compounds::none())).unwrap();
        assert_eq!(
            index.followed_at_open(),
            0,
            "a new index has followed nothing"
        );
        index.follow(41);
        index.follow(42);
        index.flush().await.unwrap();
        drop(index);
        let again = (0..100)
            .find_map(|_| {
                std::thread::sleep(Duration::from_millis(20));
                SearchIndex::open(&path, interval, Arc::new(Compounds::none())).ok()
            })
            .unwrap();
        assert!(!again.needs_rebuild());
        assert_eq!(again.followed_at_open(), 42);
    }
}
