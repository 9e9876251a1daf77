//! The replies domain's store in SQL: letters' forms (written with the
//! letter by [`insert_forms`]), the citizen's drafts and sent replies, and
//! the senders told that a form went unanswered.

use super::{
    broker::queue_sender_receipt, insert_rows, stored_level, Database, Query, Transaction,
};
use crate::{
    broker::LetterTerms,
    notify::SenderReceipt,
    replies::{
        self, FormLookup, LetterForm, NewCitizenMessage, SendOutcome, Sending, StoredReply,
        StoredThreadEntry, Unanswered,
    },
    store::Reader,
    store::StorageError,
};
use app::domain::{AnswerFile, Fnr, Letter, LetterId, ReplyForm, UploadId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::Value;
use uuid::Uuid;

/// Writes the forms of the letters that carry one, in the letters' transaction.
pub(super) async fn insert_forms(
    transaction: &mut Transaction,
    letters: &[(&Letter, &LetterTerms)],
) -> Result<(), StorageError> {
    let mut rows = Vec::new();
    for (letter, terms) in letters {
        if let Some(form) = &terms.reply_form {
            rows.push(vec![
                Value::from(letter.id.as_uuid()),
                Value::from(json(form)?),
                Value::from(form.deadline),
            ]);
        }
    }
    insert_rows(
        transaction,
        "INSERT INTO reply_form (letter_id, form, deadline)",
        rows,
        "",
    )
    .await?;
    Ok(())
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|error| StorageError::Other(error.into()))
}

fn from_json<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &'static str,
) -> Result<T, StorageError> {
    serde_json::from_str(text).map_err(|_| StorageError::corrupt(what))
}

#[derive(sqlx::FromRow)]
struct LetterFormRow {
    form: Option<String>,
    security_level: i32,
    title: String,
    sender_name: String,
    message_row: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct ReplyRow {
    id: Uuid,
    letter_id: Uuid,
    answers: String,
    problems: String,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    sent_level: Option<i32>,
    receipt_upload_id: Option<Uuid>,
}

impl ReplyRow {
    fn into_reply(self) -> Result<StoredReply, StorageError> {
        Ok(StoredReply {
            id: self.id,
            letter: LetterId::from_uuid(self.letter_id),
            answers: from_json(&self.answers, "reply answers")?,
            problems: from_json(&self.problems, "reply problems")?,
            created_at: self.created_at,
            sent_at: self.sent_at,
            sent_level: self.sent_level.map(stored_level).transpose()?,
            receipt: self.receipt_upload_id.map(UploadId::from_uuid),
        })
    }
}

const REPLY_COLUMNS: &str = "r.id, r.letter_id, r.answers, r.problems, r.created_at, r.sent_at,
    r.sent_level, r.receipt_upload_id";

#[async_trait]
impl replies::Store for Database {
    async fn letter_form(
        &self,
        reader: Reader<'_>,
        letter: LetterId,
        now: DateTime<Utc>,
    ) -> Result<FormLookup, StorageError> {
        let row: Option<LetterFormRow> = self
            .fetch_optional(
                Query::new(format!(
                    "SELECT f.form, l.security_level, l.title, s.name AS sender_name,
                            m.id AS message_row
                     FROM letter l
                     JOIN sender s ON s.org_nr = l.sender_org_nr
                     LEFT JOIN reply_form f ON f.letter_id = l.id
                     LEFT JOIN dpi_message m ON m.letter_id = l.id
                     WHERE l.id = $1 AND l.recipient_fnr = $2
                       AND (l.effective_at IS NULL OR l.effective_at <= $3)
                       AND l.purged_at IS NULL AND {}",
                    super::within_power(4, 3)
                ))
                .bind(letter.as_uuid())
                .bind(reader.owner.as_str())
                .bind(now)
                .bind(reader.power.map(|power| power.as_uuid())),
            )
            .await?;
        let Some(row) = row else {
            return Ok(FormLookup::NoSuchLetter);
        };
        let (Some(form), Some(message_row)) = (row.form, row.message_row) else {
            return Ok(FormLookup::NoForm);
        };
        Ok(FormLookup::Form(Box::new(LetterForm {
            form: from_json::<ReplyForm>(&form, "reply form")?,
            security_level: stored_level(row.security_level)?,
            letter_title: row.title,
            sender_name: row.sender_name,
            message_row,
        })))
    }

    async fn save_draft(&self, owner: &Fnr, reply: &StoredReply) -> Result<bool, StorageError> {
        // Inserted only for the owner's own letter; over an existing row only
        // while it is the owner's unsent draft of the same letter.
        let written = self
            .execute(
                Query::new(
                    "INSERT INTO reply (id, letter_id, owner_fnr, answers, problems, created_at)
                     SELECT $1, l.id, l.recipient_fnr, $4, $5, $6
                     FROM letter l WHERE l.id = $2 AND l.recipient_fnr = $3
                     ON CONFLICT (id) DO UPDATE
                     SET answers = excluded.answers, problems = excluded.problems,
                         created_at = excluded.created_at
                     WHERE reply.owner_fnr = excluded.owner_fnr
                       AND reply.letter_id = excluded.letter_id
                       AND reply.sent_at IS NULL",
                )
                .bind(reply.id)
                .bind(reply.letter.as_uuid())
                .bind(owner.as_str())
                .bind(json(&reply.answers)?)
                .bind(json(&reply.problems)?)
                .bind(reply.created_at),
            )
            .await?;
        Ok(written == 1)
    }

    async fn reply(
        &self,
        owner: &Fnr,
        letter: LetterId,
        id: Uuid,
    ) -> Result<Option<StoredReply>, StorageError> {
        let row: Option<ReplyRow> = self
            .fetch_optional(
                Query::new(format!(
                    "SELECT {REPLY_COLUMNS} FROM reply r
                     WHERE r.id = $1 AND r.letter_id = $2 AND r.owner_fnr = $3"
                ))
                .bind(id)
                .bind(letter.as_uuid())
                .bind(owner.as_str()),
            )
            .await?;
        row.map(ReplyRow::into_reply).transpose()
    }

    async fn sent_reply(
        &self,
        owner: &Fnr,
        letter: LetterId,
    ) -> Result<Option<StoredReply>, StorageError> {
        let row: Option<ReplyRow> = self
            .fetch_optional(
                Query::new(format!(
                    "SELECT {REPLY_COLUMNS} FROM reply r
                     WHERE r.letter_id = $1 AND r.owner_fnr = $2 AND r.sent_at IS NOT NULL"
                ))
                .bind(letter.as_uuid())
                .bind(owner.as_str()),
            )
            .await?;
        row.map(ReplyRow::into_reply).transpose()
    }

    async fn send(&self, owner: &Fnr, sending: &Sending<'_>) -> Result<SendOutcome, StorageError> {
        let Sending {
            letter,
            draft: id,
            level,
            delegate,
            message_row,
            message,
            receipt,
            at,
        } = *sending;
        let mut transaction = self.begin_write().await?;
        let sent: Option<(Uuid,)> = transaction
            .fetch_optional(
                Query::new(
                    "SELECT id FROM reply
                     WHERE letter_id = $1 AND owner_fnr = $2 AND sent_at IS NOT NULL",
                )
                .bind(letter.as_uuid())
                .bind(owner.as_str()),
            )
            .await?;
        match sent {
            Some((sent,)) if sent == id => return Ok(SendOutcome::Sent),
            Some(_) => return Ok(SendOutcome::AlreadyAnswered),
            None => {}
        }
        // The receipt joins the owner's documents only if the reply is sent.
        let size_bytes =
            i64::try_from(receipt.size_bytes).map_err(|_| anyhow::anyhow!("receipt size"))?;
        transaction
            .execute(super::mailbox::insert_upload_row(
                receipt.upload,
                owner,
                receipt.name.as_str(),
                "application/pdf",
                &receipt.digest.to_hex(),
                size_bytes,
                at,
            ))
            .await?;
        let updated = transaction
            .execute(
                Query::new(
                    "UPDATE reply SET sent_at = $4, sent_level = $5, receipt_upload_id = $6,
                         sent_by_delegate = $7
                     WHERE id = $1 AND letter_id = $2 AND owner_fnr = $3 AND sent_at IS NULL",
                )
                .bind(id)
                .bind(letter.as_uuid())
                .bind(owner.as_str())
                .bind(at)
                .bind(i32::from(level.as_number()))
                .bind(receipt.upload.as_uuid())
                .bind(delegate),
            )
            .await;
        match updated {
            Ok(1) => {}
            Ok(_) => return Ok(SendOutcome::NotFound),
            // Another request sent a different draft first.
            Err(StorageError::Conflict(_)) => return Ok(SendOutcome::AlreadyAnswered),
            Err(error) => return Err(error),
        }
        queue_sender_receipt(&mut transaction, message_row, message, at).await?;
        transaction.commit().await?;
        Ok(SendOutcome::Sent)
    }

    async fn send_message(
        &self,
        owner: &Fnr,
        message: &NewCitizenMessage<'_>,
    ) -> Result<bool, StorageError> {
        let mut transaction = self.begin_write().await?;
        let attachment = message.attachment.map(json).transpose()?;
        // Kept only for the owner's own letter; a second post with the same
        // key writes nothing.
        let inserted = transaction
            .execute(
                Query::new(
                    "INSERT INTO citizen_message (id, letter_id, owner_fnr, text, attachment,
                         sent_at, sent_level, sent_by_delegate)
                     SELECT $1, l.id, l.recipient_fnr, $4, $5, $6, $7, $8
                     FROM letter l WHERE l.id = $2 AND l.recipient_fnr = $3
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(message.id)
                .bind(message.letter.as_uuid())
                .bind(owner.as_str())
                .bind(message.text)
                .bind(attachment)
                .bind(message.at)
                .bind(i32::from(message.level.as_number()))
                .bind(message.delegate),
            )
            .await?;
        if inserted == 0 {
            return Ok(false);
        }
        queue_sender_receipt(
            &mut transaction,
            message.message_row,
            message.message,
            message.at,
        )
        .await?;
        // The letter is found by the message's words on every node.
        transaction
            .execute(super::search::log_changes(&[
                crate::search::Refresh::Letter(message.letter),
            ]))
            .await?;
        transaction.commit().await?;
        Ok(true)
    }

    async fn letter_messages(
        &self,
        owner: &Fnr,
        letter: LetterId,
    ) -> Result<Vec<(String, Option<AnswerFile>, DateTime<Utc>)>, StorageError> {
        let rows: Vec<(String, Option<String>, DateTime<Utc>)> = self
            .fetch_all(
                Query::new(
                    "SELECT text, attachment, sent_at FROM citizen_message
                     WHERE letter_id = $1 AND owner_fnr = $2 ORDER BY sent_at",
                )
                .bind(letter.as_uuid())
                .bind(owner.as_str()),
            )
            .await?;
        rows.into_iter()
            .map(|(text, attachment, at)| {
                let attachment = attachment
                    .map(|attachment| from_json(&attachment, "message attachment"))
                    .transpose()?;
                Ok((text, attachment, at))
            })
            .collect()
    }

    async fn thread(
        &self,
        owner: &Fnr,
        letter: LetterId,
        now: DateTime<Utc>,
    ) -> Result<Vec<StoredThreadEntry>, StorageError> {
        // The conversation: the owner's letters from the same sender under
        // the same ConversationId, in effect and not purged.
        const CONVERSATION: &str = "SELECT c.id FROM letter c JOIN letter me
               ON me.id = $1 AND me.recipient_fnr = $2
             WHERE c.recipient_fnr = $2 AND c.conversation_id = me.conversation_id
               AND c.sender_org_nr = me.sender_org_nr
               AND (c.effective_at IS NULL OR c.effective_at <= $3) AND c.purged_at IS NULL";
        let letters: Vec<(Uuid, String, String, i32, DateTime<Utc>)> = self
            .fetch_all(
                Query::new(format!(
                    "SELECT l.id, l.title, l.nonsensitive_title, l.security_level, l.received_at
                     FROM letter l WHERE l.id IN ({CONVERSATION})"
                ))
                .bind(letter.as_uuid())
                .bind(owner.as_str())
                .bind(now),
            )
            .await?;
        let replies: Vec<(DateTime<Utc>,)> = self
            .fetch_all(
                Query::new(format!(
                    "SELECT r.sent_at FROM reply r
                     WHERE r.owner_fnr = $2 AND r.sent_at IS NOT NULL
                       AND r.letter_id IN ({CONVERSATION})"
                ))
                .bind(letter.as_uuid())
                .bind(owner.as_str())
                .bind(now),
            )
            .await?;
        let messages: Vec<(String, Option<String>, DateTime<Utc>)> = self
            .fetch_all(
                Query::new(format!(
                    "SELECT m.text, m.attachment, m.sent_at FROM citizen_message m
                     WHERE m.owner_fnr = $2 AND m.letter_id IN ({CONVERSATION})"
                ))
                .bind(letter.as_uuid())
                .bind(owner.as_str())
                .bind(now),
            )
            .await?;
        let mut thread = Vec::with_capacity(letters.len() + replies.len() + messages.len());
        for (id, title, nonsensitive_title, level, at) in letters {
            thread.push(StoredThreadEntry::Letter {
                id: LetterId::from_uuid(id),
                title,
                nonsensitive_title,
                security_level: stored_level(level)?,
                at,
            });
        }
        thread.extend(
            replies
                .into_iter()
                .map(|(at,)| StoredThreadEntry::Reply { at }),
        );
        for (text, attachment, at) in messages {
            thread.push(StoredThreadEntry::Message {
                text,
                attachment: attachment
                    .map(|attachment| from_json(&attachment, "message attachment"))
                    .transpose()?,
                at,
            });
        }
        thread.sort_by_key(|entry| match entry {
            StoredThreadEntry::Letter { at, .. }
            | StoredThreadEntry::Reply { at }
            | StoredThreadEntry::Message { at, .. } => *at,
        });
        Ok(thread)
    }

    async fn unanswered(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Unanswered>, StorageError> {
        let rows: Vec<(Uuid, Uuid, DateTime<Utc>)> = self
            .fetch_all(
                Query::new(
                    "SELECT f.letter_id, m.id, f.deadline
                     FROM reply_form f JOIN dpi_message m ON m.letter_id = f.letter_id
                     WHERE f.not_answered_at IS NULL AND f.deadline < $1
                       AND NOT EXISTS (SELECT 1 FROM reply r
                                       WHERE r.letter_id = f.letter_id AND r.sent_at IS NOT NULL)
                     ORDER BY f.deadline LIMIT $2",
                )
                .bind(now)
                .bind(i64::from(limit)),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(letter, message_row, deadline)| Unanswered {
                letter: LetterId::from_uuid(letter),
                message_row,
                deadline,
            })
            .collect())
    }

    async fn record_unanswered(
        &self,
        letter: LetterId,
        message_row: Uuid,
        receipt: &SenderReceipt,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut transaction = self.begin_write().await?;
        let updated = transaction
            .execute(
                Query::new(
                    "UPDATE reply_form SET not_answered_at = $2
                     WHERE letter_id = $1 AND not_answered_at IS NULL
                       AND NOT EXISTS (SELECT 1 FROM reply r
                                       WHERE r.letter_id = $1 AND r.sent_at IS NOT NULL)",
                )
                .bind(letter.as_uuid())
                .bind(at),
            )
            .await?;
        if updated == 0 {
            return Ok(false);
        }
        queue_sender_receipt(&mut transaction, message_row, receipt, at).await?;
        transaction.commit().await?;
        Ok(true)
    }
}
