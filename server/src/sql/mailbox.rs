//! The mailbox's store in SQL: citizens, letters and their documents, access
//! logs, places, folders, uploads, the trash purge and the export's reads.
//!
//! Every statement about a citizen's data names the owner in its WHERE clause
//! (or, for an INSERT, copies it from a row that does), so a letter, folder or
//! upload of another citizen is simply not there.

use super::{
    count, insert_rows, place_from_sql,
    search::{log_changes, log_letters_where},
    stored_level, Database, Query, Transaction, OPEN_MAILBOX,
};
use crate::{
    broker::LetterTerms,
    mailbox::{self, ArchivedLetter, Citizen, LetterCounts, LetterSlice, StoredUpload},
    search::Refresh,
    store::Reader,
    store::StorageError,
};
use app::{
    api::archive::FolderView,
    api::mailbox::{AccessEntry, AccessKind},
    domain::{
        ConversationId, Document, DocumentRole, Fnr, FolderId, FolderName, Letter, LetterId,
        LetterLink, LetterSummary, MediaType, MessageId, OrgNr, PackageSigner, Place, Sender,
        Sha256Digest, SyntheticIds, Title, UploadId, UploadName,
    },
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::Value;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct LetterRow {
    id: Uuid,
    message_id: Uuid,
    conversation_id: Uuid,
    sender_org_nr: String,
    sender_name: String,
    recipient_fnr: String,
    nonsensitive_title: String,
    title: String,
    security_level: i32,
    received_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
    signer_org_nr: Option<String>,
    link_url: Option<String>,
    link_description: Option<String>,
    link_button_text: Option<String>,
    link_deadline: Option<DateTime<Utc>>,
    signer_name: Option<String>,
    signed_at: Option<DateTime<Utc>>,
}

/// The columns of a [`LetterRow`], from `letter l JOIN sender s`.
const LETTER_COLUMNS: &str = "l.id, l.message_id, l.conversation_id, l.sender_org_nr,
    s.name AS sender_name, l.recipient_fnr, l.nonsensitive_title, l.title,
    l.security_level, l.received_at, l.read_at, l.signer_org_nr, l.signer_name, l.signed_at,
    l.link_url, l.link_description, l.link_button_text, l.link_deadline";

#[derive(sqlx::FromRow)]
struct LetterSummaryRow {
    id: Uuid,
    sender_name: String,
    nonsensitive_title: String,
    title: String,
    security_level: i32,
    received_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
    document_count: i64,
    public_sender: bool,
    reply_by: Option<DateTime<Utc>>,
}

/// The columns of a [`LetterSummaryRow`], from `letter l JOIN sender s`.
const SUMMARY_COLUMNS: &str = "l.id, s.name AS sender_name, l.nonsensitive_title,
    l.title, l.security_level, l.received_at, l.read_at,
    (SELECT COUNT(*) FROM document d WHERE d.letter_id = l.id) AS document_count,
    EXISTS (SELECT 1 FROM agency a WHERE a.org_nr = l.sender_org_nr) AS public_sender,
    (SELECT f.deadline FROM reply_form f WHERE f.letter_id = l.id
       AND NOT EXISTS (SELECT 1 FROM reply r
                       WHERE r.letter_id = l.id AND r.sent_at IS NOT NULL)) AS reply_by";

#[derive(sqlx::FromRow)]
struct DocumentRow {
    role: String,
    title: String,
    file_name: String,
    media_type: String,
    sha256: String,
    size_bytes: i64,
}

fn stored_title(text: &str) -> Result<Title, StorageError> {
    Title::parse(text).map_err(|_| StorageError::corrupt("title"))
}

fn role_to_sql(role: DocumentRole) -> &'static str {
    match role {
        DocumentRole::Main => "main",
        DocumentRole::Attachment => "attachment",
    }
}

impl DocumentRow {
    fn into_document(self) -> Result<Document, StorageError> {
        let role = match self.role.as_str() {
            "main" => DocumentRole::Main,
            "attachment" => DocumentRole::Attachment,
            _ => return Err(StorageError::corrupt("document role")),
        };
        Ok(Document {
            role,
            title: stored_title(&self.title)?,
            file_name: self.file_name,
            media_type: MediaType::from_mime(&self.media_type)
                .ok_or_else(|| StorageError::corrupt("media type"))?,
            digest: Sha256Digest::from_hex(&self.sha256)
                .ok_or_else(|| StorageError::corrupt("digest"))?,
            size_bytes: u64::try_from(self.size_bytes)
                .map_err(|_| StorageError::corrupt("document size"))?,
        })
    }
}

impl LetterRow {
    fn into_letter(self, documents: Vec<Document>) -> Result<Letter, StorageError> {
        let org_nr =
            OrgNr::parse(&self.sender_org_nr).map_err(|_| StorageError::corrupt("org number"))?;
        Ok(Letter {
            id: LetterId::from_uuid(self.id),
            message_id: MessageId::from_uuid(self.message_id),
            conversation_id: ConversationId::from_uuid(self.conversation_id),
            // Whatever policy admitted the number then, it is stored now.
            recipient: Fnr::parse(&self.recipient_fnr, SyntheticIds::Accepted)
                .map_err(|_| StorageError::corrupt("national id"))?,
            sender: Sender::new(org_nr, &self.sender_name)
                .map_err(|_| StorageError::corrupt("sender name"))?,
            nonsensitive_title: stored_title(&self.nonsensitive_title)?,
            title: stored_title(&self.title)?,
            security_level: stored_level(self.security_level)?,
            received_at: self.received_at,
            read_at: self.read_at,
            documents,
            link: self.link_url.map(|url| LetterLink {
                url,
                description: self.link_description,
                button_text: self.link_button_text,
                deadline: self.link_deadline,
            }),
            signer: match (self.signer_org_nr, self.signer_name) {
                (Some(org_nr), Some(name)) => Some(PackageSigner {
                    org_nr: OrgNr::parse(&org_nr)
                        .map_err(|_| StorageError::corrupt("signer's org number"))?,
                    name,
                    signed_at: self.signed_at,
                }),
                _ => None,
            },
        })
    }
}

impl LetterSummaryRow {
    fn into_summary(self) -> Result<LetterSummary, StorageError> {
        Ok(LetterSummary {
            id: LetterId::from_uuid(self.id),
            sender_name: self.sender_name,
            nonsensitive_title: stored_title(&self.nonsensitive_title)?,
            title: stored_title(&self.title)?,
            security_level: stored_level(self.security_level)?,
            received_at: self.received_at,
            unread: self.read_at.is_none(),
            document_count: u32::try_from(self.document_count)
                .map_err(|_| StorageError::corrupt("count"))?,
            public_sender: self.public_sender,
            reply_by: self.reply_by,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AccessRow {
    accessed_at: DateTime<Utc>,
    kind: String,
    document_index: Option<i32>,
    level: i32,
    delegate_name: Option<String>,
}

impl AccessRow {
    fn into_entry(self) -> Result<AccessEntry, StorageError> {
        Ok(AccessEntry {
            at: self.accessed_at,
            kind: match self.kind.as_str() {
                "view" => AccessKind::View,
                "download" => AccessKind::Download,
                "read" => AccessKind::Read,
                "reply" => AccessKind::Reply,
                "message" => AccessKind::Message,
                _ => return Err(StorageError::corrupt("access kind")),
            },
            document: self
                .document_index
                .map(|index| {
                    u32::try_from(index).map_err(|_| StorageError::corrupt("document index"))
                })
                .transpose()?,
            level: stored_level(self.level)?,
            delegate: self.delegate_name,
        })
    }
}

fn access_to_sql(entry: &AccessEntry) -> Result<(&'static str, Option<i32>), StorageError> {
    let kind = match entry.kind {
        AccessKind::View => "view",
        AccessKind::Download => "download",
        AccessKind::Read => "read",
        // The replies store keeps these; the log reads them from there.
        AccessKind::Reply | AccessKind::Message => {
            return Err(StorageError::Other(anyhow::anyhow!(
                "replies and messages are recorded where they are kept, not as access"
            )))
        }
    };
    let document = entry
        .document
        .map(|index| i32::try_from(index).map_err(|_| anyhow::anyhow!("document index")))
        .transpose()?;
    Ok((kind, document))
}

/// A place as the two parameters the place filter binds.
fn place_to_sql(place: Place) -> (&'static str, Option<Uuid>) {
    match place {
        Place::Inbox => ("inbox", None),
        Place::Archive => ("archive", None),
        Place::Folder(id) => ("folder", Some(id.as_uuid())),
        Place::Trash => ("trash", None),
    }
}

/// The owner's letters ($1) in effect at $2 that lie in the place bound as
/// $3 (its kind) and $4 (a folder id or NULL).
const IN_PLACE: &str = "l.recipient_fnr = $1
    AND (l.effective_at IS NULL OR l.effective_at <= $2) AND l.purged_at IS NULL
    AND (CASE WHEN $3 = 'trash' THEN l.deleted_at IS NOT NULL
         ELSE l.deleted_at IS NULL AND l.archived = ($3 = 'archive')
              AND (l.folder_id = $4 OR (l.folder_id IS NULL AND $4 IS NULL)) END)";

#[derive(sqlx::FromRow)]
struct FolderRow {
    id: Uuid,
    name: String,
    letter_count: i64,
}

impl FolderRow {
    fn into_view(self) -> Result<FolderView, StorageError> {
        Ok(FolderView {
            id: FolderId::from_uuid(self.id),
            name: FolderName::parse(&self.name)
                .map_err(|_| StorageError::corrupt("folder name"))?
                .into(),
            letter_count: count(self.letter_count),
        })
    }
}

const UPLOAD_COLUMNS: &str = "id, owner_fnr, name, media_type, sha256, size_bytes, uploaded_at";

/// A document joining its owner's "Mine dokumenter": an upload of theirs, a
/// reply's receipt, a signed document.
pub(super) fn insert_upload_row(
    id: UploadId,
    owner: &Fnr,
    name: &str,
    media_type: &str,
    sha256: &str,
    size_bytes: i64,
    at: DateTime<Utc>,
) -> Query<'static> {
    Query::new(format!(
        "INSERT INTO upload ({UPLOAD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ))
    .bind(id.as_uuid())
    .bind(owner.as_str().to_owned())
    .bind(name.to_owned())
    .bind(media_type.to_owned())
    .bind(sha256.to_owned())
    .bind(size_bytes)
    .bind(at)
}

#[derive(sqlx::FromRow)]
struct UploadRow {
    id: Uuid,
    owner_fnr: String,
    name: String,
    media_type: String,
    sha256: String,
    size_bytes: i64,
    uploaded_at: DateTime<Utc>,
}

impl UploadRow {
    fn into_upload(self) -> Result<StoredUpload, StorageError> {
        Ok(StoredUpload {
            id: UploadId::from_uuid(self.id),
            owner: Fnr::parse(&self.owner_fnr, SyntheticIds::Accepted)
                .map_err(|_| StorageError::corrupt("national id"))?,
            name: UploadName::parse(&self.name)
                .map_err(|_| StorageError::corrupt("upload name"))?,
            media_type: MediaType::from_mime(&self.media_type)
                .ok_or_else(|| StorageError::corrupt("media type"))?,
            digest: Sha256Digest::from_hex(&self.sha256)
                .ok_or_else(|| StorageError::corrupt("digest"))?,
            size_bytes: u64::try_from(self.size_bytes)
                .map_err(|_| StorageError::corrupt("upload size"))?,
            uploaded_at: self.uploaded_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ArchivedLetterRow {
    #[sqlx(flatten)]
    letter: LetterRow,
    folder_id: Option<Uuid>,
    archived: bool,
    deleted_at: Option<DateTime<Utc>>,
    opening_receipt_pending: bool,
}

#[derive(sqlx::FromRow)]
struct OwnedDocumentRow {
    letter_id: Uuid,
    #[sqlx(flatten)]
    document: DocumentRow,
}

/// Puts each letter's documents (ordered by letter, then position) with it.
fn assemble_archive(
    letters: Vec<ArchivedLetterRow>,
    documents: Vec<OwnedDocumentRow>,
) -> Result<Vec<ArchivedLetter>, StorageError> {
    let mut by_letter: std::collections::HashMap<Uuid, Vec<Document>> =
        std::collections::HashMap::new();
    for row in documents {
        by_letter
            .entry(row.letter_id)
            .or_default()
            .push(row.document.into_document()?);
    }
    letters
        .into_iter()
        .map(|row| {
            let documents = by_letter.remove(&row.letter.id).unwrap_or_default();
            Ok(ArchivedLetter {
                place: place_from_sql(row.folder_id, row.archived, row.deleted_at),
                opening_receipt_pending: row.opening_receipt_pending,
                letter: row.letter.into_letter(documents)?,
            })
        })
        .collect()
}

/// NotFound when an owner-scoped UPDATE or DELETE touched nothing.
fn touched(rows_affected: u64) -> Result<(), StorageError> {
    if rows_affected == 0 {
        Err(StorageError::NotFound)
    } else {
        Ok(())
    }
}

/// The rows a set of letters needs beside the letter rows: each recipient's
/// mailbox and each sender once (with the newest name), and the documents.
pub(super) struct LetterRows<'a> {
    pub citizens: Vec<(&'a str, DateTime<Utc>)>,
    pub senders: Vec<(&'a str, &'a str)>,
    pub documents: Vec<Vec<Value>>,
}

impl<'a> LetterRows<'a> {
    pub fn plan(letters: &[(&'a Letter, &LetterTerms)]) -> Result<Self, StorageError> {
        let mut rows = LetterRows {
            citizens: Vec::new(),
            senders: Vec::new(),
            documents: Vec::new(),
        };
        for (letter, _) in letters {
            let recipient = letter.recipient.as_str();
            if !rows.citizens.iter().any(|known| known.0 == recipient) {
                rows.citizens.push((recipient, letter.received_at));
            }
            let sender = (letter.sender.org_nr.as_str(), letter.sender.name.as_str());
            match rows.senders.iter_mut().find(|known| known.0 == sender.0) {
                Some(known) => *known = sender,
                None => rows.senders.push(sender),
            }
            rows.documents.extend(document_values(letter)?);
        }
        Ok(rows)
    }
}

/// Writes letters with their documents inside the transaction, opening each
/// recipient's mailbox and recording each sender on first sight: one
/// multi-row `INSERT` per table, however many letters. The broker's group
/// commit and the mailbox's single letter both come here.
pub(super) async fn insert_letters(
    transaction: &mut Transaction,
    letters: &[(&Letter, &LetterTerms)],
) -> Result<(), StorageError> {
    let rows = LetterRows::plan(letters)?;
    insert_rows(
        transaction,
        "INSERT INTO citizen (fnr, display_name, created_at)",
        rows.citizens
            .iter()
            .map(|(fnr, at)| {
                vec![
                    Value::from(*fnr),
                    Value::from(None::<String>),
                    Value::from(*at),
                ]
            })
            .collect(),
        " ON CONFLICT (fnr) DO NOTHING",
    )
    .await?;
    insert_rows(
        transaction,
        "INSERT INTO sender (org_nr, name)",
        rows.senders
            .iter()
            .map(|(org_nr, name)| vec![Value::from(*org_nr), Value::from(*name)])
            .collect(),
        " ON CONFLICT (org_nr) DO UPDATE SET name = excluded.name",
    )
    .await?;
    insert_rows(
        transaction,
        "INSERT INTO letter (id, message_id, conversation_id, sender_org_nr,
             recipient_fnr, nonsensitive_title, title, security_level, received_at,
             read_at, effective_at, opening_receipt, language, signer_org_nr, signer_name,
             signed_at, link_url, link_description, link_button_text, link_deadline)",
        letters
            .iter()
            .map(|(letter, terms)| letter_values(letter, terms))
            .collect(),
        "",
    )
    .await?;
    insert_rows(
        transaction,
        "INSERT INTO document (letter_id, position, role, title, file_name,
             media_type, sha256, size_bytes)",
        rows.documents,
        "",
    )
    .await?;
    super::replies::insert_forms(transaction, letters).await?;
    super::signing::insert_orders(transaction, letters).await?;
    Ok(())
}

fn letter_values(letter: &Letter, terms: &LetterTerms) -> Vec<Value> {
    vec![
        Value::from(letter.id.as_uuid()),
        Value::from(letter.message_id.as_uuid()),
        Value::from(letter.conversation_id.as_uuid()),
        Value::from(letter.sender.org_nr.as_str()),
        Value::from(letter.recipient.as_str()),
        Value::from(letter.nonsensitive_title.as_str()),
        Value::from(letter.title.as_str()),
        Value::from(i32::from(letter.security_level.as_number())),
        Value::from(letter.received_at),
        Value::from(letter.read_at),
        Value::from(terms.effective_at),
        Value::from(terms.opening_receipt),
        Value::from(terms.language.as_deref()),
        Value::from(letter.signer.as_ref().map(|signer| signer.org_nr.as_str())),
        Value::from(letter.signer.as_ref().map(|signer| signer.name.as_str())),
        Value::from(letter.signer.as_ref().and_then(|signer| signer.signed_at)),
        Value::from(letter.link.as_ref().map(|link| link.url.as_str())),
        Value::from(
            letter
                .link
                .as_ref()
                .and_then(|link| link.description.as_deref()),
        ),
        Value::from(
            letter
                .link
                .as_ref()
                .and_then(|link| link.button_text.as_deref()),
        ),
        Value::from(letter.link.as_ref().and_then(|link| link.deadline)),
    ]
}

/// The values of the letter's `document` rows, in order.
fn document_values(letter: &Letter) -> Result<Vec<Vec<Value>>, StorageError> {
    letter
        .documents
        .iter()
        .enumerate()
        .map(|(position, document)| {
            let position =
                i32::try_from(position).map_err(|_| anyhow::anyhow!("too many documents"))?;
            let size_bytes = i64::try_from(document.size_bytes)
                .map_err(|_| anyhow::anyhow!("document size out of range"))?;
            Ok(vec![
                Value::from(letter.id.as_uuid()),
                Value::from(position),
                Value::from(role_to_sql(document.role)),
                Value::from(document.title.as_str()),
                Value::from(document.file_name.as_str()),
                Value::from(document.media_type.as_mime()),
                Value::from(document.digest.to_hex()),
                Value::from(size_bytes),
            ])
        })
        .collect()
}

#[async_trait]
impl mailbox::Store for Database {
    async fn upsert_citizen(&self, citizen: &Citizen) -> Result<(), StorageError> {
        self.execute(
            Query::new(
                "INSERT INTO citizen (fnr, display_name, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (fnr) DO UPDATE
                 SET display_name = COALESCE(excluded.display_name, citizen.display_name)",
            )
            .bind(citizen.fnr.as_str())
            .bind(citizen.display_name.as_deref())
            .bind(Utc::now()),
        )
        .await?;
        Ok(())
    }

    async fn insert_letter(&self, letter: &Letter) -> Result<(), StorageError> {
        let mut transaction = self.begin().await?;
        insert_letters(&mut transaction, &[(letter, &LetterTerms::default())]).await?;
        transaction.commit().await
    }

    async fn letters_for(
        &self,
        owner: &Fnr,
        now: DateTime<Utc>,
    ) -> Result<Vec<LetterSummary>, StorageError> {
        let rows: Vec<LetterSummaryRow> = self
            .fetch_all(
                Query::new(format!(
                    "SELECT {SUMMARY_COLUMNS}
                     FROM letter l JOIN sender s ON s.org_nr = l.sender_org_nr
                     WHERE l.recipient_fnr = $1 AND (l.effective_at IS NULL OR l.effective_at <= $2)
                       AND l.purged_at IS NULL
                     ORDER BY l.received_at DESC, l.id"
                ))
                .bind(owner.as_str())
                .bind(now),
            )
            .await?;
        rows.into_iter()
            .map(LetterSummaryRow::into_summary)
            .collect()
    }

    async fn letter_for(
        &self,
        reader: Reader<'_>,
        id: LetterId,
        now: DateTime<Utc>,
    ) -> Result<Letter, StorageError> {
        let owner = reader.owner;
        let row: LetterRow = self
            .fetch_one(
                Query::new(format!(
                    "SELECT {LETTER_COLUMNS}
                     FROM letter l JOIN sender s ON s.org_nr = l.sender_org_nr
                     WHERE l.id = $1 AND l.recipient_fnr = $2
                       AND (l.effective_at IS NULL OR l.effective_at <= $3)
                       AND l.purged_at IS NULL AND {}",
                    super::within_power(4, 3)
                ))
                .bind(id.as_uuid())
                .bind(owner.as_str())
                .bind(now)
                .bind(reader.power.map(|power| power.as_uuid())),
            )
            .await?;
        // The owner condition is repeated so this query stands on its own.
        let documents: Vec<DocumentRow> = self
            .fetch_all(
                Query::new(
                    "SELECT d.role, d.title, d.file_name, d.media_type, d.sha256, d.size_bytes
                     FROM document d JOIN letter l ON l.id = d.letter_id
                     WHERE d.letter_id = $1 AND l.recipient_fnr = $2
                     ORDER BY d.position",
                )
                .bind(id.as_uuid())
                .bind(owner.as_str()),
            )
            .await?;
        let documents = documents
            .into_iter()
            .map(DocumentRow::into_document)
            .collect::<Result<Vec<_>, _>>()?;
        row.into_letter(documents)
    }

    async fn record_access(
        &self,
        owner: &Fnr,
        letter: LetterId,
        entry: &AccessEntry,
        unless_since: Option<DateTime<Utc>>,
    ) -> Result<(), StorageError> {
        let (kind, document) = access_to_sql(entry)?;
        self.execute(
            Query::new(
                "INSERT INTO letter_access (letter_id, owner_fnr, accessed_at, kind,
                     document_index, level, delegate_name)
                 SELECT l.id, l.recipient_fnr, $3, $4, $5, $6, $8 FROM letter l
                 WHERE l.id = $1 AND l.recipient_fnr = $2
                   AND ($7 IS NULL OR NOT EXISTS (
                       SELECT 1 FROM letter_access a
                       WHERE a.letter_id = $1 AND a.owner_fnr = $2 AND a.kind = $4
                         AND a.document_index = $5 AND a.accessed_at >= $7))",
            )
            .bind(letter.as_uuid())
            .bind(owner.as_str())
            .bind(entry.at)
            .bind(kind)
            .bind(document)
            .bind(i32::from(entry.level.as_number()))
            .bind(unless_since)
            .bind(entry.delegate.as_deref()),
        )
        .await?;
        Ok(())
    }

    async fn access_log(
        &self,
        owner: &Fnr,
        letter: LetterId,
    ) -> Result<Vec<AccessEntry>, StorageError> {
        let rows: Vec<AccessRow> = self
            .fetch_all(
                // Replies and messages sent about the letter are in the log
                // too; they are kept in their own tables.
                Query::new(
                    "SELECT accessed_at, kind, document_index, level, delegate_name FROM (
                         SELECT accessed_at, kind, document_index, level, delegate_name,
                             id AS sequence
                         FROM letter_access WHERE letter_id = $1 AND owner_fnr = $2
                         UNION ALL
                         SELECT sent_at, 'reply', NULL, sent_level, sent_by_delegate, 0 FROM reply
                         WHERE letter_id = $1 AND owner_fnr = $2 AND sent_at IS NOT NULL
                         UNION ALL
                         SELECT sent_at, 'message', NULL, sent_level, sent_by_delegate, 0
                         FROM citizen_message
                         WHERE letter_id = $1 AND owner_fnr = $2
                     ) AS log
                     ORDER BY accessed_at DESC, sequence DESC",
                )
                .bind(letter.as_uuid())
                .bind(owner.as_str()),
            )
            .await?;
        rows.into_iter().map(AccessRow::into_entry).collect()
    }

    async fn letter_slice(
        &self,
        reader: Reader<'_>,
        now: DateTime<Utc>,
        place: Place,
        offset: u64,
        limit: u32,
    ) -> Result<LetterSlice, StorageError> {
        let (kind, folder) = place_to_sql(place);
        let power = reader.power.map(|power| power.as_uuid());
        let offset = i64::try_from(offset).map_err(|_| anyhow::anyhow!("offset"))?;
        let rows: Vec<LetterSummaryRow> = self
            .fetch_all(
                Query::new(format!(
                    "SELECT {SUMMARY_COLUMNS}
                     FROM letter l JOIN sender s ON s.org_nr = l.sender_org_nr
                     WHERE {IN_PLACE} AND {}
                     ORDER BY l.received_at DESC, l.id
                     LIMIT $5 OFFSET $6",
                    super::within_power(7, 2)
                ))
                .bind(reader.owner.as_str())
                .bind(now)
                .bind(kind)
                .bind(folder)
                .bind(i64::from(limit))
                .bind(offset)
                .bind(power),
            )
            .await?;
        let (total, unread): (i64, Option<i64>) = self
            .fetch_one(
                Query::new(format!(
                    "SELECT COUNT(*), SUM(CASE WHEN l.read_at IS NULL THEN 1 ELSE 0 END)
                     FROM letter l WHERE {IN_PLACE} AND {}",
                    super::within_power(5, 2)
                ))
                .bind(reader.owner.as_str())
                .bind(now)
                .bind(kind)
                .bind(folder)
                .bind(power),
            )
            .await?;
        Ok(LetterSlice {
            letters: rows
                .into_iter()
                .map(LetterSummaryRow::into_summary)
                .collect::<Result<_, _>>()?,
            counts: LetterCounts {
                total: count(total),
                unread: count(unread.unwrap_or_default()),
            },
        })
    }

    async fn letter_place(&self, owner: &Fnr, id: LetterId) -> Result<Place, StorageError> {
        let (folder_id, archived, deleted_at): (Option<Uuid>, bool, Option<DateTime<Utc>>) = self
            .fetch_one(
                Query::new(
                    "SELECT folder_id, archived, deleted_at FROM letter
                     WHERE id = $1 AND recipient_fnr = $2 AND purged_at IS NULL",
                )
                .bind(id.as_uuid())
                .bind(owner.as_str()),
            )
            .await?;
        Ok(place_from_sql(folder_id, archived, deleted_at))
    }

    async fn set_unread(
        &self,
        owner: &Fnr,
        id: LetterId,
        unread: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let updated = self
            .execute(
                Query::new(
                    "UPDATE letter SET read_at = CASE WHEN $4 THEN NULL ELSE COALESCE(read_at, $3) END
                     WHERE id = $1 AND recipient_fnr = $2 AND purged_at IS NULL
                       AND (effective_at IS NULL OR effective_at <= $3)",
                )
                .bind(id.as_uuid())
                .bind(owner.as_str())
                .bind(now)
                .bind(unread),
            )
            .await?;
        touched(updated)
    }

    async fn move_letter(
        &self,
        owner: &Fnr,
        id: LetterId,
        place: Place,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        const OWNED_IN_EFFECT: &str = "id = $1 AND recipient_fnr = $2 AND purged_at IS NULL
            AND (effective_at IS NULL OR effective_at <= $3)";
        let query = match place {
            Place::Trash => Query::new(format!(
                "UPDATE letter SET deleted_at = COALESCE(deleted_at, $3)
                 WHERE {OWNED_IN_EFFECT}"
            ))
            .bind(id.as_uuid())
            .bind(owner.as_str())
            .bind(now),
            Place::Inbox | Place::Archive => Query::new(format!(
                "UPDATE letter SET deleted_at = NULL, folder_id = NULL, archived = $4
                 WHERE {OWNED_IN_EFFECT}"
            ))
            .bind(id.as_uuid())
            .bind(owner.as_str())
            .bind(now)
            .bind(place == Place::Archive),
            // The folder must be the owner's too.
            Place::Folder(folder) => Query::new(format!(
                "UPDATE letter SET deleted_at = NULL, folder_id = $4, archived = $5
                 WHERE {OWNED_IN_EFFECT}
                   AND EXISTS (SELECT 1 FROM folder f WHERE f.id = $4 AND f.owner_fnr = $2)"
            ))
            .bind(id.as_uuid())
            .bind(owner.as_str())
            .bind(now)
            .bind(folder.as_uuid())
            .bind(false),
        };
        let mut transaction = self.begin_write().await?;
        touched(transaction.execute(query).await?)?;
        transaction
            .execute(log_changes(&[Refresh::Letter(id)]))
            .await?;
        transaction.commit().await
    }

    async fn folders(&self, owner: &Fnr) -> Result<Vec<FolderView>, StorageError> {
        let rows: Vec<FolderRow> = self
            .fetch_all(
                Query::new(
                    "SELECT f.id, f.name,
                         (SELECT COUNT(*) FROM letter l
                          WHERE l.folder_id = f.id AND l.recipient_fnr = $1
                            AND l.deleted_at IS NULL AND l.purged_at IS NULL) AS letter_count
                     FROM folder f WHERE f.owner_fnr = $1
                     ORDER BY lower(f.name), f.id",
                )
                .bind(owner.as_str()),
            )
            .await?;
        rows.into_iter().map(FolderRow::into_view).collect()
    }

    async fn insert_folder(
        &self,
        owner: &Fnr,
        id: FolderId,
        name: &FolderName,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.execute(
            Query::new(
                "INSERT INTO folder (id, owner_fnr, name, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(id.as_uuid())
            .bind(owner.as_str())
            .bind(name.as_str())
            .bind(at),
        )
        .await?;
        Ok(())
    }

    async fn rename_folder(
        &self,
        owner: &Fnr,
        id: FolderId,
        name: &FolderName,
    ) -> Result<(), StorageError> {
        let updated = self
            .execute(
                Query::new("UPDATE folder SET name = $3 WHERE id = $1 AND owner_fnr = $2")
                    .bind(id.as_uuid())
                    .bind(owner.as_str())
                    .bind(name.as_str()),
            )
            .await?;
        touched(updated)
    }

    async fn delete_folder(&self, owner: &Fnr, id: FolderId) -> Result<(), StorageError> {
        let mut transaction = self.begin_write().await?;
        // Its letters go back to the inbox, and every index learns of it.
        transaction
            .execute(
                log_letters_where(
                    "SELECT id FROM letter WHERE folder_id = $1 AND recipient_fnr = $2",
                )
                .bind(id.as_uuid())
                .bind(owner.as_str()),
            )
            .await?;
        transaction
            .execute(
                Query::new(
                    "UPDATE letter SET folder_id = NULL WHERE folder_id = $1 AND recipient_fnr = $2",
                )
                .bind(id.as_uuid())
                .bind(owner.as_str()),
            )
            .await?;
        let deleted = transaction
            .execute(
                Query::new("DELETE FROM folder WHERE id = $1 AND owner_fnr = $2")
                    .bind(id.as_uuid())
                    .bind(owner.as_str()),
            )
            .await?;
        // Not the owner's folder: nothing is kept of the first statement either.
        touched(deleted)?;
        transaction.commit().await
    }

    async fn purge_trash(
        &self,
        deleted_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        const DUE: &str = "SELECT id FROM letter
            WHERE deleted_at IS NOT NULL AND deleted_at <= $1 AND purged_at IS NULL";
        let mut transaction = self.begin().await?;
        // The letter's content stored inline (its documents and the package
        // they came in) goes with it, unless another letter, message or
        // upload holds the same bytes. Blobs in files stay (see TrashPurge).
        transaction
            .execute(
                Query::new(format!(
                    "DELETE FROM inline_blob
                     WHERE sha256 IN (SELECT d.sha256 FROM document d WHERE d.letter_id IN ({DUE})
                                      UNION
                                      SELECT m.package_sha256 FROM dpi_message m
                                      WHERE m.letter_id IN ({DUE}))
                       AND NOT EXISTS (SELECT 1 FROM document d WHERE d.sha256 = inline_blob.sha256
                                         AND d.letter_id NOT IN ({DUE}))
                       AND NOT EXISTS (SELECT 1 FROM dpi_message m
                                       WHERE m.package_sha256 = inline_blob.sha256
                                         AND (m.letter_id IS NULL OR m.letter_id NOT IN ({DUE})))
                       AND NOT EXISTS (SELECT 1 FROM upload u WHERE u.sha256 = inline_blob.sha256)"
                ))
                .bind(deleted_before),
            )
            .await?;
        transaction
            .execute(
                Query::new(format!("DELETE FROM document WHERE letter_id IN ({DUE})"))
                    .bind(deleted_before),
            )
            .await?;
        transaction
            .execute(
                Query::new(format!(
                    "DELETE FROM letter_access WHERE letter_id IN ({DUE})"
                ))
                .bind(deleted_before),
            )
            .await?;
        // Every index drops the purged letters.
        transaction
            .execute(log_letters_where(DUE).bind(deleted_before))
            .await?;
        // The row stays as a tombstone: the agency's message record
        // (dpi_message) refers to it. What was the citizen's goes.
        let purged = transaction
            .execute(
                Query::new(
                    "UPDATE letter SET purged_at = $2, title = nonsensitive_title, folder_id = NULL
                     WHERE deleted_at IS NOT NULL AND deleted_at <= $1 AND purged_at IS NULL",
                )
                .bind(deleted_before)
                .bind(now),
            )
            .await?;
        transaction.commit().await?;
        Ok(purged)
    }

    async fn insert_upload(&self, upload: &StoredUpload) -> Result<(), StorageError> {
        let size_bytes =
            i64::try_from(upload.size_bytes).map_err(|_| anyhow::anyhow!("upload size"))?;
        let mut transaction = self.begin().await?;
        transaction
            .execute(
                Query::new(OPEN_MAILBOX)
                    .bind(upload.owner.as_str())
                    .bind(upload.uploaded_at),
            )
            .await?;
        transaction
            .execute(insert_upload_row(
                upload.id,
                &upload.owner,
                upload.name.as_str(),
                upload.media_type.as_mime(),
                &upload.digest.to_hex(),
                size_bytes,
                upload.uploaded_at,
            ))
            .await?;
        transaction.commit().await
    }

    async fn uploads(&self, owner: &Fnr) -> Result<Vec<StoredUpload>, StorageError> {
        let rows: Vec<UploadRow> = self
            .fetch_all(
                Query::new(format!(
                    "SELECT {UPLOAD_COLUMNS} FROM upload WHERE owner_fnr = $1
                     ORDER BY uploaded_at DESC, id"
                ))
                .bind(owner.as_str()),
            )
            .await?;
        rows.into_iter().map(UploadRow::into_upload).collect()
    }

    async fn upload(&self, owner: &Fnr, id: UploadId) -> Result<StoredUpload, StorageError> {
        let row: UploadRow = self
            .fetch_one(
                Query::new(format!(
                    "SELECT {UPLOAD_COLUMNS} FROM upload WHERE id = $1 AND owner_fnr = $2"
                ))
                .bind(id.as_uuid())
                .bind(owner.as_str()),
            )
            .await?;
        row.into_upload()
    }

    async fn delete_upload(&self, owner: &Fnr, id: UploadId) -> Result<(), StorageError> {
        let mut transaction = self.begin_write().await?;
        let deleted = transaction
            .execute(
                Query::new("DELETE FROM upload WHERE id = $1 AND owner_fnr = $2")
                    .bind(id.as_uuid())
                    .bind(owner.as_str()),
            )
            .await?;
        touched(deleted)?;
        transaction
            .execute(log_changes(&[Refresh::Upload(id)]))
            .await?;
        transaction.commit().await
    }

    async fn archived_letters(
        &self,
        owner: &Fnr,
        now: DateTime<Utc>,
    ) -> Result<Vec<ArchivedLetter>, StorageError> {
        const OWNED_IN_EFFECT: &str = "l.recipient_fnr = $1 AND l.purged_at IS NULL
            AND (l.effective_at IS NULL OR l.effective_at <= $2)";
        let letters: Vec<ArchivedLetterRow> = self
            .fetch_all(
                Query::new(format!(
                    "SELECT {LETTER_COLUMNS},
                         l.folder_id, l.archived, l.deleted_at,
                         (l.opening_receipt AND l.opening_receipt_sent_at IS NULL)
                             AS opening_receipt_pending
                     FROM letter l JOIN sender s ON s.org_nr = l.sender_org_nr
                     WHERE {OWNED_IN_EFFECT}
                     ORDER BY l.received_at DESC, l.id"
                ))
                .bind(owner.as_str())
                .bind(now),
            )
            .await?;
        let documents: Vec<OwnedDocumentRow> = self
            .fetch_all(
                Query::new(format!(
                    "SELECT d.letter_id, d.role, d.title, d.file_name, d.media_type, d.sha256,
                         d.size_bytes
                     FROM document d JOIN letter l ON l.id = d.letter_id
                     WHERE {OWNED_IN_EFFECT}
                     ORDER BY d.letter_id, d.position"
                ))
                .bind(owner.as_str())
                .bind(now),
            )
            .await?;
        assemble_archive(letters, documents)
    }
}
