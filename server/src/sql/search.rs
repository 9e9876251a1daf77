//! The search's store in SQL: extraction state and texts on the `document`
//! and `upload` rows, and the index entries read from letters and uploads.

use super::{count, place_from_sql, placeholders, Database, Query};
use crate::{
    search::{
        self, EntryKind, IndexEntry, LoggedChange, PendingText, Refresh, TextOutcome, TextSource,
    },
    store::StorageError,
};
use app::domain::{Fnr, LetterId, MediaType, SecurityLevel, Sha256Digest, SyntheticIds, UploadId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct PendingRow {
    letter_id: Option<Uuid>,
    position: Option<i32>,
    upload_id: Option<Uuid>,
    media_type: String,
    sha256: String,
    size_bytes: i64,
    text_attempts: i32,
}

impl PendingRow {
    fn into_pending(self) -> Result<PendingText, StorageError> {
        let source = match (self.letter_id, self.position, self.upload_id) {
            (Some(letter), Some(position), None) => TextSource::Document {
                letter: LetterId::from_uuid(letter),
                position: u32::try_from(position).map_err(|_| StorageError::corrupt("position"))?,
            },
            (None, None, Some(upload)) => TextSource::Upload(UploadId::from_uuid(upload)),
            _ => return Err(StorageError::corrupt("text source")),
        };
        Ok(PendingText {
            source,
            media_type: MediaType::from_mime(&self.media_type)
                .ok_or_else(|| StorageError::corrupt("media type"))?,
            digest: Sha256Digest::from_hex(&self.sha256)
                .ok_or_else(|| StorageError::corrupt("digest"))?,
            size_bytes: u64::try_from(self.size_bytes)
                .map_err(|_| StorageError::corrupt("size"))?,
            attempts: u32::try_from(self.text_attempts)
                .map_err(|_| StorageError::corrupt("attempts"))?,
        })
    }
}

/// Due documents and uploads, bound `$1` = now, `$2` = limit.
const DUE_TEXTS: &str = "SELECT * FROM (
        SELECT letter_id, position, NULL AS upload_id, media_type, sha256, size_bytes,
               text_attempts, text_next_attempt_at
        FROM document
        WHERE text_state = 'pending' AND (text_next_attempt_at IS NULL OR text_next_attempt_at <= $1)
        UNION ALL
        SELECT NULL, NULL, id, media_type, sha256, size_bytes, text_attempts, text_next_attempt_at
        FROM upload
        WHERE text_state = 'pending' AND (text_next_attempt_at IS NULL OR text_next_attempt_at <= $1)
    ) due ORDER BY text_next_attempt_at IS NOT NULL, text_next_attempt_at LIMIT $2";

/// The columns of a [`LetterEntryRow`], from `letter l JOIN sender s`.
const LETTER_ENTRY_COLUMNS: &str = "l.id, l.recipient_fnr, s.name AS sender_name,
    l.nonsensitive_title, l.title, l.security_level, l.received_at, l.effective_at,
    l.folder_id, l.archived, l.deleted_at";

#[derive(sqlx::FromRow)]
struct LetterEntryRow {
    id: Uuid,
    recipient_fnr: String,
    sender_name: String,
    nonsensitive_title: String,
    title: String,
    security_level: i32,
    received_at: DateTime<Utc>,
    effective_at: Option<DateTime<Utc>>,
    folder_id: Option<Uuid>,
    archived: bool,
    deleted_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct TextRow {
    letter_id: Uuid,
    text_state: String,
    extracted_text: Option<String>,
}

const UPLOAD_ENTRY_COLUMNS: &str = "id, owner_fnr, name, uploaded_at, text_state, extracted_text";

#[derive(sqlx::FromRow)]
struct UploadEntryRow {
    id: Uuid,
    owner_fnr: String,
    name: String,
    uploaded_at: DateTime<Utc>,
    text_state: String,
    extracted_text: Option<String>,
}

fn owner(fnr: &str) -> Result<Fnr, StorageError> {
    Fnr::parse(fnr, SyntheticIds::Accepted).map_err(|_| StorageError::corrupt("national id"))
}

impl UploadEntryRow {
    fn into_entry(self) -> Result<IndexEntry, StorageError> {
        let done = self.text_state == "done";
        Ok(IndexEntry {
            id: self.id,
            kind: EntryKind::Upload,
            owner: owner(&self.owner_fnr)?,
            sender: None,
            nonsensitive_title: self.name.clone(),
            title: self.name,
            level: SecurityLevel::Substantial,
            received_at: self.uploaded_at,
            effective_at: None,
            place: None,
            texts: self.extracted_text.filter(|_| done).into_iter().collect(),
            unsearchable: u32::from(!done),
        })
    }
}

/// Puts each letter's texts (ordered by letter, then position) with it.
fn assemble_entries(
    letters: Vec<LetterEntryRow>,
    texts: Vec<TextRow>,
) -> Result<Vec<IndexEntry>, StorageError> {
    let mut by_letter: std::collections::HashMap<Uuid, (Vec<String>, u32)> =
        std::collections::HashMap::new();
    for row in texts {
        let (found, unsearchable) = by_letter.entry(row.letter_id).or_default();
        match (row.text_state.as_str(), row.extracted_text) {
            ("done", Some(text)) => found.push(text),
            _ => *unsearchable += 1,
        }
    }
    letters
        .into_iter()
        .map(|row| {
            let (texts, unsearchable) = by_letter.remove(&row.id).unwrap_or_default();
            Ok(IndexEntry {
                id: row.id,
                kind: EntryKind::Letter,
                owner: owner(&row.recipient_fnr)?,
                sender: Some(row.sender_name),
                nonsensitive_title: row.nonsensitive_title,
                title: row.title,
                level: SecurityLevel::try_from(i64::from(row.security_level))
                    .map_err(|_| StorageError::corrupt("security level"))?,
                received_at: row.received_at,
                effective_at: row.effective_at,
                place: Some(place_from_sql(row.folder_id, row.archived, row.deleted_at)),
                texts,
                unsearchable,
            })
        })
        .collect()
}

/// One insert of the refreshes into the change log, in their order, in the
/// caller's transaction.
pub(super) fn log_changes(refreshes: &[Refresh]) -> Query<'static> {
    Query::new("INSERT INTO search_change (letter_id, upload_id)").values(refreshes.iter().map(
        |refresh| match refresh {
            Refresh::Letter(letter) => vec![Some(letter.as_uuid()).into(), None::<Uuid>.into()],
            Refresh::Upload(upload) => vec![None::<Uuid>.into(), Some(upload.as_uuid()).into()],
        },
    ))
}

/// Logs a change of every letter whose id `select_ids` (a `SELECT id …`)
/// finds, in the caller's transaction: the mailbox's moves, folder
/// deletions, purges and messages reach every node's index with the commit
/// that made them, or not at all.
pub(super) fn log_letters_where(select_ids: &str) -> Query<'static> {
    Query::new(format!(
        "INSERT INTO search_change (letter_id) SELECT ids.id FROM ({select_ids}) ids"
    ))
}

fn letter_ids(rows: Vec<(Uuid,)>) -> Vec<LetterId> {
    rows.into_iter()
        .map(|(id,)| LetterId::from_uuid(id))
        .collect()
}

#[async_trait]
impl search::Store for Database {
    async fn due_texts(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PendingText>, StorageError> {
        let rows: Vec<PendingRow> = self
            .fetch_all(Query::new(DUE_TEXTS).bind(now).bind(i64::from(limit)))
            .await?;
        rows.into_iter().map(PendingRow::into_pending).collect()
    }

    async fn claim_due_texts(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PendingText>, StorageError> {
        // Each candidate is taken by a conditional update: of two nodes that
        // saw it due, the second finds it leased (PostgreSQL checks the
        // condition again once the first's update has committed) and skips it.
        let candidates = self.due_texts(now, limit).await?;
        let mut claimed = Vec::with_capacity(candidates.len());
        const DUE: &str = "text_state = 'pending'
            AND (text_next_attempt_at IS NULL OR text_next_attempt_at <= $2)";
        for pending in candidates {
            let query = match pending.source {
                TextSource::Document { letter, position } => Query::new(format!(
                    "UPDATE document SET text_next_attempt_at = $1
                     WHERE {DUE} AND letter_id = $3 AND position = $4"
                ))
                .bind(lease_until)
                .bind(now)
                .bind(letter.as_uuid())
                .bind(i64::from(position)),
                TextSource::Upload(upload) => Query::new(format!(
                    "UPDATE upload SET text_next_attempt_at = $1 WHERE {DUE} AND id = $3"
                ))
                .bind(lease_until)
                .bind(now)
                .bind(upload.as_uuid()),
            };
            if self.execute(query).await? == 1 {
                claimed.push(pending);
            }
        }
        Ok(claimed)
    }

    async fn changes_after(
        &self,
        position: i64,
        limit: u32,
    ) -> Result<Vec<LoggedChange>, StorageError> {
        let rows: Vec<(i64, Option<Uuid>, Option<Uuid>)> = self
            .fetch_all(
                Query::new(
                    "SELECT position, letter_id, upload_id FROM search_change
                     WHERE position > $1 ORDER BY position LIMIT $2",
                )
                .bind(position)
                .bind(i64::from(limit)),
            )
            .await?;
        rows.into_iter()
            .map(|(position, letter, upload)| {
                let refresh = match (letter, upload) {
                    (Some(letter), None) => Refresh::Letter(LetterId::from_uuid(letter)),
                    (None, Some(upload)) => Refresh::Upload(UploadId::from_uuid(upload)),
                    _ => return Err(StorageError::corrupt("search change")),
                };
                Ok(LoggedChange { position, refresh })
            })
            .collect()
    }

    async fn last_change(&self) -> Result<i64, StorageError> {
        let (last,): (Option<i64>,) = self
            .fetch_one(Query::new("SELECT MAX(position) FROM search_change"))
            .await?;
        Ok(last.unwrap_or(0))
    }

    async fn record_text(
        &self,
        source: TextSource,
        outcome: &TextOutcome,
    ) -> Result<(), StorageError> {
        let (state, text, retry_at) = match outcome {
            TextOutcome::Extracted(text) => ("done", Some(text.as_str()), None),
            TextOutcome::Failed { retry_at: Some(at) } => ("pending", None, Some(*at)),
            TextOutcome::Failed { retry_at: None } => ("failed", None, None),
        };
        const SET: &str = "SET text_state = $1, extracted_text = $2,
            text_next_attempt_at = $3, text_attempts = text_attempts + 1";
        let (query, refresh) = match source {
            TextSource::Document { letter, position } => (
                Query::new(format!(
                    "UPDATE document {SET} WHERE letter_id = $4 AND position = $5"
                ))
                .bind(state)
                .bind(text)
                .bind(retry_at)
                .bind(letter.as_uuid())
                .bind(i64::from(position)),
                Refresh::Letter(letter),
            ),
            TextSource::Upload(upload) => (
                Query::new(format!("UPDATE upload {SET} WHERE id = $4"))
                    .bind(state)
                    .bind(text)
                    .bind(retry_at)
                    .bind(upload.as_uuid()),
                Refresh::Upload(upload),
            ),
        };
        // The text and the news of it commit together: every node's index
        // learns of each text that is stored, and of no other.
        let mut transaction = self.begin_write().await?;
        // A letter purged or an upload deleted meanwhile has nothing to record.
        if transaction.execute(query).await? == 1 {
            transaction.execute(log_changes(&[refresh])).await?;
        }
        transaction.commit().await
    }

    async fn letter_index_entries(
        &self,
        ids: &[LetterId],
    ) -> Result<Vec<IndexEntry>, StorageError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = placeholders(1, ids.len());
        let mut letters = Query::new(format!(
            "SELECT {LETTER_ENTRY_COLUMNS}
             FROM letter l JOIN sender s ON s.org_nr = l.sender_org_nr
             WHERE l.id IN ({list}) AND l.purged_at IS NULL"
        ));
        // The citizen's messages about a letter are searched as its text
        // too, after its documents.
        let mut texts = Query::new(format!(
            "SELECT letter_id, text_state, extracted_text FROM (
                 SELECT letter_id, text_state, extracted_text, 0 AS part, position AS ordinal
                 FROM document WHERE letter_id IN ({list})
                 UNION ALL
                 SELECT letter_id, 'done', text, 1, 0
                 FROM citizen_message WHERE letter_id IN ({list})
             ) AS texts
             ORDER BY letter_id, part, ordinal"
        ));
        for id in ids {
            letters = letters.bind(id.as_uuid());
            texts = texts.bind(id.as_uuid());
        }
        let letters: Vec<LetterEntryRow> = self.fetch_all(letters).await?;
        let texts: Vec<TextRow> = self.fetch_all(texts).await?;
        assemble_entries(letters, texts)
    }

    async fn upload_index_entry(&self, id: UploadId) -> Result<Option<IndexEntry>, StorageError> {
        let row: Option<UploadEntryRow> = self
            .fetch_optional(
                Query::new(format!(
                    "SELECT {UPLOAD_ENTRY_COLUMNS} FROM upload WHERE id = $1"
                ))
                .bind(id.as_uuid()),
            )
            .await?;
        row.map(UploadEntryRow::into_entry).transpose()
    }

    async fn index_entries_after(
        &self,
        kind: EntryKind,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<IndexEntry>, StorageError> {
        // The nil UUID sorts before every generated one on both backends.
        let after = after.unwrap_or_else(Uuid::nil);
        match kind {
            EntryKind::Letter => {
                let ids: Vec<(Uuid,)> = self
                    .fetch_all(
                        Query::new(
                            "SELECT id FROM letter WHERE id > $1 AND purged_at IS NULL
                             ORDER BY id LIMIT $2",
                        )
                        .bind(after)
                        .bind(i64::from(limit)),
                    )
                    .await?;
                let ids = letter_ids(ids);
                let mut entries = search::Store::letter_index_entries(self, &ids).await?;
                entries.sort_by_key(|entry| entry.id);
                Ok(entries)
            }
            EntryKind::Upload => {
                let rows: Vec<UploadEntryRow> = self
                    .fetch_all(
                        Query::new(format!(
                            "SELECT {UPLOAD_ENTRY_COLUMNS} FROM upload WHERE id > $1
                             ORDER BY id LIMIT $2"
                        ))
                        .bind(after)
                        .bind(i64::from(limit)),
                    )
                    .await?;
                rows.into_iter().map(UploadEntryRow::into_entry).collect()
            }
        }
    }

    async fn index_entry_count(&self) -> Result<u64, StorageError> {
        let (total,): (i64,) = self
            .fetch_one(Query::new(
                "SELECT (SELECT COUNT(*) FROM letter WHERE purged_at IS NULL)
                      + (SELECT COUNT(*) FROM upload)",
            ))
            .await?;
        Ok(count(total))
    }

    async fn unsearchable_documents(
        &self,
        owner: &Fnr,
        now: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let (total,): (i64,) = self
            .fetch_one(
                Query::new(
                    "SELECT (SELECT COUNT(*) FROM document d JOIN letter l ON l.id = d.letter_id
                             WHERE l.recipient_fnr = $1 AND l.purged_at IS NULL
                               AND (l.effective_at IS NULL OR l.effective_at <= $2)
                               AND d.text_state <> 'done')
                          + (SELECT COUNT(*) FROM upload
                             WHERE owner_fnr = $1 AND text_state <> 'done')",
                )
                .bind(owner.as_str())
                .bind(now),
            )
            .await?;
        Ok(count(total))
    }
}
