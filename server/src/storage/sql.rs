//! The SQL behind [`Storage`](super::Storage), written once for both backends.
//!
//! SQLite and PostgreSQL accept the same statements here (`$n` placeholders,
//! `ON CONFLICT`, correlated subqueries), and sqlx encodes the same Rust types
//! on both, so one body of code serves both pools: [`impl_sql_storage!`]
//! expands it for each backend type. What differs (connect options, pragmas,
//! migrations) lives in `sqlite.rs` and `postgres.rs`.

use super::StorageError;
use anyhow::anyhow;
use app::domain::{
    ConversationId, Document, DocumentRole, Fnr, Letter, LetterId, LetterSummary, MediaType,
    MessageId, OrgNr, SecurityLevel, Sender, Sha256Digest, SyntheticIds, Title,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
pub(super) struct LetterRow {
    pub id: Uuid,
    pub message_id: Uuid,
    pub conversation_id: Uuid,
    pub sender_org_nr: String,
    pub sender_name: String,
    pub recipient_fnr: String,
    pub nonsensitive_title: String,
    pub title: String,
    pub security_level: i32,
    pub received_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
pub(super) struct LetterSummaryRow {
    pub id: Uuid,
    pub sender_name: String,
    pub nonsensitive_title: String,
    pub title: String,
    pub security_level: i32,
    pub received_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub document_count: i64,
    pub public_sender: bool,
}

/// The columns of a [`LetterSummaryRow`], from `letter l JOIN sender s`.
pub(super) const SUMMARY_COLUMNS: &str = "l.id, s.name AS sender_name, l.nonsensitive_title,
    l.title, l.security_level, l.received_at, l.read_at,
    (SELECT COUNT(*) FROM document d WHERE d.letter_id = l.id) AS document_count,
    EXISTS (SELECT 1 FROM agency a WHERE a.org_nr = l.sender_org_nr) AS public_sender";

#[derive(sqlx::FromRow)]
pub(super) struct DocumentRow {
    pub role: String,
    pub title: String,
    pub file_name: String,
    pub media_type: String,
    pub sha256: String,
    pub size_bytes: i64,
}

/// Stored rows were checked on the way in; failing to read one back means the
/// database was changed behind our back, which is an internal error.
fn corrupt(what: &str) -> StorageError {
    StorageError::Other(anyhow!("stored {what} does not parse"))
}

fn stored_title(text: &str) -> Result<Title, StorageError> {
    Title::parse(text).map_err(|_| corrupt("title"))
}

fn stored_level(number: i32) -> Result<SecurityLevel, StorageError> {
    SecurityLevel::try_from(i64::from(number)).map_err(|_| corrupt("security level"))
}

pub(super) fn role_to_sql(role: DocumentRole) -> &'static str {
    match role {
        DocumentRole::Main => "main",
        DocumentRole::Attachment => "attachment",
    }
}

impl DocumentRow {
    pub fn into_document(self) -> Result<Document, StorageError> {
        let role = match self.role.as_str() {
            "main" => DocumentRole::Main,
            "attachment" => DocumentRole::Attachment,
            _ => return Err(corrupt("document role")),
        };
        Ok(Document {
            role,
            title: stored_title(&self.title)?,
            file_name: self.file_name,
            media_type: MediaType::from_mime(&self.media_type)
                .ok_or_else(|| corrupt("media type"))?,
            digest: Sha256Digest::from_hex(&self.sha256).ok_or_else(|| corrupt("digest"))?,
            size_bytes: u64::try_from(self.size_bytes).map_err(|_| corrupt("document size"))?,
        })
    }
}

impl LetterRow {
    pub fn into_letter(self, documents: Vec<Document>) -> Result<Letter, StorageError> {
        let org_nr = OrgNr::parse(&self.sender_org_nr).map_err(|_| corrupt("org number"))?;
        Ok(Letter {
            id: LetterId::from_uuid(self.id),
            message_id: MessageId::from_uuid(self.message_id),
            conversation_id: ConversationId::from_uuid(self.conversation_id),
            // Whatever policy admitted the number then, it is stored now.
            recipient: Fnr::parse(&self.recipient_fnr, SyntheticIds::Accepted)
                .map_err(|_| corrupt("national id"))?,
            sender: Sender::new(org_nr, &self.sender_name).map_err(|_| corrupt("sender name"))?,
            nonsensitive_title: stored_title(&self.nonsensitive_title)?,
            title: stored_title(&self.title)?,
            security_level: stored_level(self.security_level)?,
            received_at: self.received_at,
            read_at: self.read_at,
            documents,
        })
    }
}

impl LetterSummaryRow {
    pub fn into_summary(self) -> Result<LetterSummary, StorageError> {
        Ok(LetterSummary {
            id: LetterId::from_uuid(self.id),
            sender_name: self.sender_name,
            nonsensitive_title: stored_title(&self.nonsensitive_title)?,
            title: stored_title(&self.title)?,
            security_level: stored_level(self.security_level)?,
            received_at: self.received_at,
            unread: self.read_at.is_none(),
            document_count: u32::try_from(self.document_count).map_err(|_| corrupt("count"))?,
            public_sender: self.public_sender,
        })
    }
}

/// Opens a citizen's mailbox the first time anything arrives for them: a
/// letter or a login. Binds the national id and the time.
pub(super) const OPEN_MAILBOX: &str =
    "INSERT INTO citizen (fnr, display_name, created_at) VALUES ($1, NULL, $2)
     ON CONFLICT (fnr) DO NOTHING";

#[derive(sqlx::FromRow)]
pub(super) struct AccessRow {
    accessed_at: DateTime<Utc>,
    kind: String,
    document_index: Option<i32>,
    level: i32,
}

impl AccessRow {
    pub(super) fn into_entry(self) -> Result<app::api::mailbox::AccessEntry, StorageError> {
        use app::api::mailbox::{AccessEntry, AccessKind};
        Ok(AccessEntry {
            at: self.accessed_at,
            kind: match self.kind.as_str() {
                "view" => AccessKind::View,
                "download" => AccessKind::Download,
                _ => return Err(corrupt("access kind")),
            },
            document: self
                .document_index
                .map(|index| u32::try_from(index).map_err(|_| corrupt("document index")))
                .transpose()?,
            level: stored_level(self.level)?,
        })
    }
}

pub(super) fn access_to_sql(
    entry: &app::api::mailbox::AccessEntry,
) -> Result<(&'static str, Option<i32>), StorageError> {
    let kind = match entry.kind {
        app::api::mailbox::AccessKind::View => "view",
        app::api::mailbox::AccessKind::Download => "download",
    };
    let document = entry
        .document
        .map(|index| {
            i32::try_from(index).map_err(|_| StorageError::Other(anyhow!("document index")))
        })
        .transpose()?;
    Ok((kind, document))
}

pub(super) fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

/// Writes letters with their documents inside `$transaction`, opening each
/// recipient's mailbox and recording each sender on first sight: one
/// multi-row `INSERT` per table, whether for one letter or a commit group.
macro_rules! insert_letter_rows {
    ($transaction:expr, $rows:expr) => {{
        let rows: &$crate::storage::broker::LetterRows = $rows;
        $crate::storage::broker::insert_many!(
            $transaction,
            "INSERT INTO citizen (fnr, display_name, created_at) ",
            rows.citizens,
            " ON CONFLICT (fnr) DO NOTHING",
            |row, (fnr, at)| {
                row.push_bind(*fnr).push_bind(None::<&str>).push_bind(*at);
            }
        );
        $crate::storage::broker::insert_many!(
            $transaction,
            "INSERT INTO sender (org_nr, name) ",
            rows.senders,
            " ON CONFLICT (org_nr) DO UPDATE SET name = excluded.name",
            |row, (org_nr, name)| {
                row.push_bind(*org_nr).push_bind(*name);
            }
        );
        $crate::storage::broker::insert_many!(
            $transaction,
            "INSERT INTO letter (id, message_id, conversation_id, sender_org_nr,
                 recipient_fnr, nonsensitive_title, title, security_level, received_at,
                 read_at, effective_at, opening_receipt, language) ",
            rows.letters,
            "",
            |row, (letter, terms)| {
                row.push_bind(letter.id.as_uuid())
                    .push_bind(letter.message_id.as_uuid())
                    .push_bind(letter.conversation_id.as_uuid())
                    .push_bind(letter.sender.org_nr.as_str())
                    .push_bind(letter.recipient.as_str())
                    .push_bind(letter.nonsensitive_title.as_str())
                    .push_bind(letter.title.as_str())
                    .push_bind(i32::from(letter.security_level.as_number()))
                    .push_bind(letter.received_at)
                    .push_bind(letter.read_at)
                    .push_bind(terms.effective_at)
                    .push_bind(terms.opening_receipt)
                    .push_bind(terms.language.as_deref());
            }
        );
        $crate::storage::broker::insert_many!(
            $transaction,
            "INSERT INTO document (letter_id, position, role, title, file_name,
                 media_type, sha256, size_bytes) ",
            rows.documents,
            "",
            |row, (letter_id, position, size_bytes, document)| {
                row.push_bind(*letter_id)
                    .push_bind(*position)
                    .push_bind($crate::storage::sql::role_to_sql(document.role))
                    .push_bind(document.title.as_str())
                    .push_bind(document.file_name.as_str())
                    .push_bind(document.media_type.as_mime())
                    .push_bind(document.digest.to_hex())
                    .push_bind(*size_bytes);
            }
        );
    }};
}

pub(super) use insert_letter_rows;

/// Implements [`Storage`](super::Storage) for a type with a `pool` field of a
/// sqlx pool, given its [`Backend`](super::Backend).
macro_rules! impl_sql_storage {
    ($storage:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl $crate::storage::Storage for $storage {
            fn backend(&self) -> $crate::storage::Backend {
                $backend
            }

            async fn ping(&self) -> Result<(), $crate::storage::StorageError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn upsert_citizen(
                &self,
                citizen: &$crate::storage::Citizen,
            ) -> Result<(), $crate::storage::StorageError> {
                sqlx::query(
                    "INSERT INTO citizen (fnr, display_name, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (fnr) DO UPDATE
                     SET display_name = COALESCE(excluded.display_name, citizen.display_name)",
                )
                .bind(citizen.fnr.as_str())
                .bind(citizen.display_name.as_deref())
                .bind(chrono::Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn insert_letter(
                &self,
                letter: &app::domain::Letter,
            ) -> Result<(), $crate::storage::StorageError> {
                let terms = $crate::storage::broker::LetterTerms::default();
                let mut rows = $crate::storage::broker::LetterRows::default();
                rows.add(letter, &terms)?;
                let mut transaction = self.pool.begin().await?;
                $crate::storage::sql::insert_letter_rows!(transaction, &rows);
                transaction.commit().await?;
                Ok(())
            }

            async fn letters_for(
                &self,
                owner: &app::domain::Fnr,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<app::domain::LetterSummary>, $crate::storage::StorageError> {
                let rows: Vec<$crate::storage::sql::LetterSummaryRow> = sqlx::query_as(&format!(
                    "SELECT {}
                     FROM letter l JOIN sender s ON s.org_nr = l.sender_org_nr
                     WHERE l.recipient_fnr = $1 AND (l.effective_at IS NULL OR l.effective_at <= $2)
                       AND l.purged_at IS NULL
                     ORDER BY l.received_at DESC, l.id",
                    $crate::storage::sql::SUMMARY_COLUMNS
                ))
                .bind(owner.as_str())
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(|row| row.into_summary()).collect()
            }

            async fn letter_for(
                &self,
                owner: &app::domain::Fnr,
                id: app::domain::LetterId,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<app::domain::Letter, $crate::storage::StorageError> {
                let row: $crate::storage::sql::LetterRow = sqlx::query_as(
                    "SELECT l.id, l.message_id, l.conversation_id, l.sender_org_nr,
                         s.name AS sender_name, l.recipient_fnr, l.nonsensitive_title, l.title,
                         l.security_level, l.received_at, l.read_at
                     FROM letter l JOIN sender s ON s.org_nr = l.sender_org_nr
                     WHERE l.id = $1 AND l.recipient_fnr = $2
                       AND (l.effective_at IS NULL OR l.effective_at <= $3)
                       AND l.purged_at IS NULL",
                )
                .bind(id.as_uuid())
                .bind(owner.as_str())
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                // The owner condition is repeated so this query stands on its own.
                let documents: Vec<$crate::storage::sql::DocumentRow> = sqlx::query_as(
                    "SELECT d.role, d.title, d.file_name, d.media_type, d.sha256, d.size_bytes
                     FROM document d JOIN letter l ON l.id = d.letter_id
                     WHERE d.letter_id = $1 AND l.recipient_fnr = $2
                     ORDER BY d.position",
                )
                .bind(id.as_uuid())
                .bind(owner.as_str())
                .fetch_all(&self.pool)
                .await?;
                let documents = documents
                    .into_iter()
                    .map(|row| row.into_document())
                    .collect::<Result<Vec<_>, _>>()?;
                row.into_letter(documents)
            }

            async fn statistics(
                &self,
            ) -> Result<$crate::storage::StoreStatistics, $crate::storage::StorageError> {
                let (citizens, letters, documents, register_entries, inline_blobs): (i64, i64, i64, i64, i64) =
                    sqlx::query_as(
                        "SELECT (SELECT COUNT(*) FROM citizen), (SELECT COUNT(*) FROM letter),
                             (SELECT COUNT(*) FROM document), (SELECT COUNT(*) FROM krr_person),
                             (SELECT COUNT(*) FROM inline_blob)",
                    )
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::storage::StoreStatistics {
                    citizens: $crate::storage::sql::count(citizens),
                    letters: $crate::storage::sql::count(letters),
                    documents: $crate::storage::sql::count(documents),
                    register_entries: $crate::storage::sql::count(register_entries),
                    inline_blobs: $crate::storage::sql::count(inline_blobs),
                })
            }

            async fn record_access(
                &self,
                owner: &app::domain::Fnr,
                letter: app::domain::LetterId,
                entry: &app::api::mailbox::AccessEntry,
            ) -> Result<(), $crate::storage::StorageError> {
                let (kind, document) = $crate::storage::sql::access_to_sql(entry)?;
                sqlx::query(
                    "INSERT INTO letter_access (letter_id, owner_fnr, accessed_at, kind,
                         document_index, level)
                     SELECT l.id, l.recipient_fnr, $3, $4, $5, $6 FROM letter l
                     WHERE l.id = $1 AND l.recipient_fnr = $2",
                )
                .bind(letter.as_uuid())
                .bind(owner.as_str())
                .bind(entry.at)
                .bind(kind)
                .bind(document)
                .bind(i32::from(entry.level.as_number()))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn access_log(
                &self,
                owner: &app::domain::Fnr,
                letter: app::domain::LetterId,
            ) -> Result<Vec<app::api::mailbox::AccessEntry>, $crate::storage::StorageError> {
                let rows: Vec<$crate::storage::sql::AccessRow> = sqlx::query_as(
                    "SELECT accessed_at, kind, document_index, level FROM letter_access
                     WHERE letter_id = $1 AND owner_fnr = $2
                     ORDER BY accessed_at DESC, id DESC",
                )
                .bind(letter.as_uuid())
                .bind(owner.as_str())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::storage::sql::AccessRow::into_entry).collect()
            }
        }
    };
}

pub(super) use impl_sql_storage;
