//! The broker's store in SQL: the group commit, messages, transport
//! statuses, receipts and the outbox.
//!
//! The group commit writes each table with one multi-row `INSERT` per group
//! ([`insert_rows`]) rather than one per message: [`GroupRows::plan`] first
//! sorts the group into resends and, for the rest, the rows of each table.

use super::{insert_rows, mailbox::insert_letters, placeholders, Database, Query, Transaction};
use crate::{
    broker::{
        self, routing::Process, CommitOutcome, JobOutcome, LetterTerms, NewMessage, NewReceipt,
        OpeningReceiptState, OutboxJob, OutboxKind, StatusEntry, StoredChannel, StoredMessage,
        StoredReceipt, TransportStatus,
    },
    notify::{channel_code, NewNotice, NoticePreference, OrderedBy},
    store::StorageError,
};
use app::domain::{ConversationId, Fnr, Letter, LetterId, MessageId, OrgNr, Sha256Digest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::Value;
use std::collections::{BTreeSet, HashMap, HashSet};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: Uuid,
    agency_org_nr: String,
    message_id: Uuid,
    conversation_id: Uuid,
    kanal: String,
    avsenderidentifikator: String,
    process: String,
    content_sha256: String,
    document: String,
    package_sha256: String,
    channel: String,
    provider_org_nr: Option<String>,
    reason: String,
    received_at: DateTime<Utc>,
}

const MESSAGE_COLUMNS: &str = "id, agency_org_nr, message_id, conversation_id, kanal,
    avsenderidentifikator, process, content_sha256, document, package_sha256, channel,
    provider_org_nr, reason, received_at";

impl MessageRow {
    fn into_message(self) -> Result<StoredMessage, StorageError> {
        let org_nr =
            |text: &str| OrgNr::parse(text).map_err(|_| StorageError::corrupt("org number"));
        Ok(StoredMessage {
            row_id: self.id,
            agency: org_nr(&self.agency_org_nr)?,
            message_id: MessageId::from_uuid(self.message_id),
            conversation_id: ConversationId::from_uuid(self.conversation_id),
            kanal: self.kanal,
            avsenderidentifikator: self.avsenderidentifikator,
            process: Process::parse(&self.process)
                .ok_or_else(|| StorageError::corrupt("process"))?,
            content_sha256: self.content_sha256,
            document: self.document,
            package: Sha256Digest::from_hex(&self.package_sha256)
                .ok_or_else(|| StorageError::corrupt("digest"))?,
            channel: self.channel,
            provider: self.provider_org_nr.as_deref().map(org_nr).transpose()?,
            reason: self.reason,
            received_at: self.received_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct StatusRow {
    status: String,
    beskrivelse: String,
    at: DateTime<Utc>,
}

impl StatusRow {
    fn into_entry(self) -> Result<StatusEntry, StorageError> {
        Ok(StatusEntry {
            status: TransportStatus::parse(&self.status)
                .ok_or_else(|| StorageError::corrupt("status"))?,
            beskrivelse: self.beskrivelse,
            timestamp: self.at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ReceiptRow {
    id: Uuid,
    kind: String,
    document: String,
    created_at: DateTime<Utc>,
}

impl From<ReceiptRow> for StoredReceipt {
    fn from(row: ReceiptRow) -> Self {
        StoredReceipt {
            id: row.id,
            kind: row.kind,
            document: row.document,
            created_at: row.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: Uuid,
    kind: String,
    message_row: Uuid,
    receipt_id: Option<Uuid>,
    attempts: i32,
}

impl OutboxRow {
    fn into_job(self) -> Result<OutboxJob, StorageError> {
        Ok(OutboxJob {
            id: self.id,
            kind: match self.kind.as_str() {
                "forward" => OutboxKind::Forward,
                "callback" => OutboxKind::Callback,
                _ => return Err(StorageError::corrupt("outbox kind")),
            },
            message_row: self.message_row,
            receipt_id: self.receipt_id,
            attempts: u32::try_from(self.attempts)
                .map_err(|_| StorageError::corrupt("attempts"))?,
        })
    }
}

fn outbox_kind_code(kind: OutboxKind) -> &'static str {
    match kind {
        OutboxKind::Forward => "forward",
        OutboxKind::Callback => "callback",
    }
}

/// Work for the outbox workers, due from `due_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OutboxWork {
    kind: OutboxKind,
    message_row: Uuid,
    /// The receipt a callback pushes.
    receipt: Option<Uuid>,
    due_at: DateTime<Utc>,
}

impl OutboxWork {
    const INSERT: &'static str =
        "INSERT INTO outbox (id, kind, message_row, receipt_id, next_attempt_at, created_at)";

    fn values(&self) -> Vec<Value> {
        vec![
            Value::from(Uuid::new_v4()),
            Value::from(outbox_kind_code(self.kind)),
            Value::from(self.message_row),
            Value::from(self.receipt),
            Value::from(self.due_at),
            Value::from(self.due_at),
        ]
    }
}

/// One transport status of one message.
struct MessageStatus<'a> {
    message_row: Uuid,
    status: &'a StatusEntry,
}

impl MessageStatus<'_> {
    const INSERT: &'static str = "INSERT INTO dpi_status (message_row, status, beskrivelse, at)";

    fn values(&self) -> Vec<Value> {
        vec![
            Value::from(self.message_row),
            Value::from(self.status.status.code()),
            Value::from(self.status.beskrivelse.as_str()),
            Value::from(self.status.timestamp),
        ]
    }
}

/// A receipt for the agency that sent the message.
struct MessageReceipt<'a> {
    message: &'a NewMessage,
    receipt: &'a NewReceipt,
}

impl MessageReceipt<'_> {
    fn values(&self) -> Vec<Value> {
        vec![
            Value::from(self.receipt.id),
            Value::from(self.message.row_id),
            Value::from(self.message.agency.as_str()),
            Value::from(self.message.kanal.as_str()),
            Value::from(self.message.avsenderidentifikator.as_str()),
            Value::from(self.receipt.kind),
            Value::from(self.receipt.document.as_str()),
            Value::from(self.receipt.created_at),
        ]
    }
}

/// A new message with the channel columns its row gets.
struct MessageToStore<'a> {
    message: &'a NewMessage,
    channel: &'static str,
    provider: Option<&'a OrgNr>,
    letter: Option<Uuid>,
}

impl MessageToStore<'_> {
    fn values(&self) -> Vec<Value> {
        let message = self.message;
        vec![
            Value::from(message.row_id),
            Value::from(message.agency.as_str()),
            Value::from(message.message_id.as_uuid()),
            Value::from(message.conversation_id.as_uuid()),
            Value::from(message.kanal.as_str()),
            Value::from(message.avsenderidentifikator.as_str()),
            Value::from(message.process.code()),
            Value::from(message.content_sha256.as_str()),
            Value::from(message.document.as_str()),
            Value::from(message.package.to_hex()),
            Value::from(self.channel),
            Value::from(self.provider.map(OrgNr::as_str)),
            Value::from(message.reason.as_str()),
            Value::from(self.letter),
            Value::from(message.received_at),
        ]
    }
}

/// A notice about a letter, to be scheduled (if its recipient wants it).
pub(super) struct NoticeToSchedule<'a> {
    pub letter: Uuid,
    pub message_row: Uuid,
    pub recipient: &'a Fnr,
    pub notice: &'a NewNotice,
    pub created_at: DateTime<Utc>,
}

/// Where a second notice for the same letter, recipient, channel and day is
/// left out.
pub(super) const ONE_NOTICE_PER_DAY: &str =
    " ON CONFLICT (letter_id, recipient_fnr, channel, day) DO NOTHING";

/// The head of an insert of [`NoticeToSchedule::values`].
pub(super) const INSERT_NOTICES: &str =
    "INSERT INTO notice_job (id, letter_id, message_row, recipient_fnr, channel,
         day, ordered_by, text, wording, due_at, created_at, purpose)";

impl NoticeToSchedule<'_> {
    pub(super) fn values(&self) -> Vec<Value> {
        vec![
            Value::from(Uuid::new_v4()),
            Value::from(self.letter),
            Value::from(self.message_row),
            Value::from(self.recipient.as_str()),
            Value::from(channel_code(self.notice.channel)),
            Value::from(i32::from(self.notice.day)),
            Value::from(self.notice.ordered_by.code()),
            // The bokmål text for whoever reads the table; the worker words
            // the notice afresh, in the citizen's language, from `wording`.
            Value::from(self.notice.wording.bokmaal(self.notice.channel)),
            Value::from(
                serde_json::to_string(&self.notice.wording)
                    .expect("a notice's wording is plain data"),
            ),
            Value::from(self.notice.due_at),
            Value::from(self.created_at),
            Value::from(self.notice.purpose.code()),
        ]
    }
}

/// A group's messages sorted into what the commit writes: which are resends
/// (stored before, or earlier in the same group) and, for the rest, the rows
/// of each table.
struct GroupRows<'a> {
    outcomes: Vec<CommitOutcome>,
    letters: Vec<(&'a Letter, &'a LetterTerms)>,
    messages: Vec<MessageToStore<'a>>,
    /// Each digest once: `(hex digest, bytes)`.
    inline_blobs: Vec<(String, &'a [u8])>,
    statuses: Vec<MessageStatus<'a>>,
    receipts: Vec<MessageReceipt<'a>>,
    outbox: Vec<OutboxWork>,
    /// Letters routed to paper, as `print_job` rows.
    print_jobs: Vec<Vec<Value>>,
    /// Letters to print if unread: message row, letter, order.
    unread_prints: Vec<(Uuid, Uuid, crate::print::PrintIfUnread)>,
    notices: Vec<NoticeToSchedule<'a>>,
}

impl<'a> GroupRows<'a> {
    /// `stored` holds the `(agency, message id)` of the group's messages that
    /// are in the database already.
    fn plan(
        messages: &'a [NewMessage],
        stored: &HashSet<(String, Uuid)>,
    ) -> Result<GroupRows<'a>, StorageError> {
        let mut rows = GroupRows {
            outcomes: Vec::with_capacity(messages.len()),
            letters: Vec::new(),
            messages: Vec::with_capacity(messages.len()),
            inline_blobs: Vec::new(),
            statuses: Vec::new(),
            receipts: Vec::new(),
            outbox: Vec::new(),
            print_jobs: Vec::new(),
            unread_prints: Vec::new(),
            notices: Vec::new(),
        };
        let mut seen = HashSet::new();
        let mut blobs = HashSet::new();
        for message in messages {
            let key = (message.agency.as_str(), message.message_id.as_uuid());
            if stored.contains(&(key.0.to_owned(), key.1)) || !seen.insert(key) {
                rows.outcomes.push(CommitOutcome::Duplicate);
                continue;
            }
            rows.outcomes.push(CommitOutcome::Stored);
            let (channel, provider, letter) = match &message.channel {
                StoredChannel::Mailbox(delivery) => {
                    let (letter, terms) = delivery.as_ref();
                    rows.letters.push((letter, terms));
                    if let Some(order) = terms.print_if_unread {
                        rows.unread_prints
                            .push((message.row_id, letter.id.as_uuid(), order));
                    }
                    rows.notices
                        .extend(message.notices.iter().map(|notice| NoticeToSchedule {
                            letter: letter.id.as_uuid(),
                            message_row: message.row_id,
                            recipient: &letter.recipient,
                            notice,
                            created_at: message.received_at,
                        }));
                    ("postkasse", None, Some(letter.id.as_uuid()))
                }
                StoredChannel::Provider(org_nr) => {
                    rows.outbox.push(OutboxWork {
                        kind: OutboxKind::Forward,
                        message_row: message.row_id,
                        receipt: None,
                        due_at: message.received_at,
                    });
                    ("leverandoer", Some(org_nr), None)
                }
                StoredChannel::Print(job) => {
                    rows.print_jobs.push(super::print::print_job_values(
                        message.row_id,
                        job,
                        message.received_at,
                    )?);
                    ("utskrift", None, None)
                }
                StoredChannel::Refused => ("feil", None, None),
            };
            rows.messages.push(MessageToStore {
                message,
                channel,
                provider,
                letter,
            });
            for (digest, bytes) in &message.inline_blobs {
                let name = digest.to_hex();
                if blobs.insert(name.clone()) {
                    rows.inline_blobs.push((name, bytes.as_ref()));
                }
            }
            rows.statuses
                .extend(message.statuses.iter().map(|status| MessageStatus {
                    message_row: message.row_id,
                    status,
                }));
            for receipt in &message.receipts {
                rows.receipts.push(MessageReceipt { message, receipt });
                if message.push_receipts {
                    rows.outbox.push(OutboxWork {
                        kind: OutboxKind::Callback,
                        message_row: message.row_id,
                        receipt: Some(receipt.id),
                        due_at: message.received_at,
                    });
                }
            }
        }
        Ok(rows)
    }
}

/// Of the `(agency, message id)`s of the group, those stored already.
async fn stored_message_keys(
    transaction: &mut Transaction,
    messages: &[NewMessage],
) -> Result<HashSet<(String, Uuid)>, StorageError> {
    let mut stored = HashSet::new();
    for chunk in messages.chunks(500) {
        let found: Vec<(String, Uuid)> = transaction
            .fetch_all(
                Query::new(
                    "SELECT agency_org_nr, message_id FROM dpi_message
                     WHERE (agency_org_nr, message_id) IN (",
                )
                .values(chunk.iter().map(|message| {
                    vec![
                        Value::from(message.agency.as_str()),
                        Value::from(message.message_id.as_uuid()),
                    ]
                }))
                .push(")"),
            )
            .await?;
        stored.extend(found);
    }
    Ok(stored)
}

/// The notice preferences, as they stand in this transaction, of the
/// recipients of notices the citizens ordered themselves.
async fn notice_preferences(
    transaction: &mut Transaction,
    notices: &[NoticeToSchedule<'_>],
) -> Result<HashMap<String, NoticePreference>, StorageError> {
    let asking: BTreeSet<&str> = notices
        .iter()
        .filter(|scheduled| scheduled.notice.ordered_by == OrderedBy::Citizen)
        .map(|scheduled| scheduled.recipient.as_str())
        .collect();
    let asking: Vec<&str> = asking.into_iter().collect();
    let mut preferences = HashMap::new();
    for chunk in asking.chunks(500) {
        let mut query = Query::new(format!(
            "SELECT fnr, email, sms FROM notice_preference WHERE fnr IN ({})",
            placeholders(1, chunk.len())
        ));
        for fnr in chunk {
            query = query.bind(*fnr);
        }
        let found: Vec<(String, bool, bool)> = transaction.fetch_all(query).await?;
        preferences.extend(
            found
                .into_iter()
                .map(|(fnr, email, sms)| (fnr, NoticePreference { email, sms })),
        );
    }
    Ok(preferences)
}

/// Queues receipts for the message in `message_row` (and, when `push` is set
/// because the agency has a callback, a push job for each) inside the
/// transaction that causes them. The receipt row copies the agency and
/// channel from the message. A receipt already queued (the same id, or a
/// second delivery or opening receipt for the message) is left out, and so
/// is its push; returns how many were queued.
/// Queues a receipt another domain made (a notice's failure, a print
/// house's answer) with the write that caused it, pushed if it says so.
pub(super) async fn queue_sender_receipt(
    transaction: &mut Transaction,
    message_row: Uuid,
    receipt: &crate::notify::SenderReceipt,
    now: DateTime<Utc>,
) -> Result<usize, StorageError> {
    let queued = NewReceipt {
        id: receipt.id,
        kind: receipt.kind,
        document: receipt.document.clone(),
        created_at: receipt.created_at,
    };
    queue_receipts(
        transaction,
        message_row,
        std::slice::from_ref(&queued),
        receipt.push,
        now,
    )
    .await
}

pub(super) async fn queue_receipts(
    transaction: &mut Transaction,
    message_row: Uuid,
    receipts: &[NewReceipt],
    push: bool,
    now: DateTime<Utc>,
) -> Result<usize, StorageError> {
    let mut queued = Vec::with_capacity(receipts.len());
    for receipt in receipts {
        let inserted = transaction
            .execute(
                Query::new(
                    "INSERT INTO receipt (id, message_row, agency_org_nr, kanal,
                         avsenderidentifikator, kind, document, created_at)
                     SELECT $1, m.id, m.agency_org_nr, m.kanal, m.avsenderidentifikator, $3, $4, $5
                     FROM dpi_message m WHERE m.id = $2
                     ON CONFLICT DO NOTHING",
                )
                .bind(receipt.id)
                .bind(message_row)
                .bind(receipt.kind)
                .bind(receipt.document.as_str())
                .bind(receipt.created_at),
            )
            .await?;
        if inserted == 1 {
            queued.push(receipt.id);
        }
    }
    if push {
        insert_rows(
            transaction,
            OutboxWork::INSERT,
            queued
                .iter()
                .map(|receipt| {
                    OutboxWork {
                        kind: OutboxKind::Callback,
                        message_row,
                        receipt: Some(*receipt),
                        due_at: now,
                    }
                    .values()
                })
                .collect(),
            "",
        )
        .await?;
    }
    Ok(queued.len())
}

#[async_trait]
impl broker::Store for Database {
    async fn commit_messages(
        &self,
        messages: &[NewMessage],
    ) -> Result<Vec<CommitOutcome>, StorageError> {
        // It reads (resends) before it writes: take the write lock first.
        let mut transaction = self.begin_write().await?;
        // Resends are recognised by the message id, unique per agency.
        let stored = stored_message_keys(&mut transaction, messages).await?;
        let rows = GroupRows::plan(messages, &stored)?;
        insert_letters(&mut transaction, &rows.letters).await?;
        let written = insert_rows(
            &mut transaction,
            "INSERT INTO dpi_message (id, agency_org_nr, message_id, conversation_id,
                 kanal, avsenderidentifikator, process, content_sha256, document,
                 package_sha256, channel, provider_org_nr, reason, letter_id, received_at)",
            rows.messages.iter().map(MessageToStore::values).collect(),
            " ON CONFLICT (agency_org_nr, message_id) DO NOTHING",
        )
        .await?;
        if written != rows.messages.len() as u64 {
            // Stored by another writer since the check above: the committer
            // then retries message by message, which sorts out which ones
            // are resends.
            return Err(StorageError::Conflict(
                "a message of the group was stored meanwhile",
            ));
        }
        insert_rows(
            &mut transaction,
            "INSERT INTO inline_blob (sha256, bytes)",
            rows.inline_blobs
                .iter()
                .map(|(name, bytes)| vec![Value::from(name.as_str()), Value::from(bytes.to_vec())])
                .collect(),
            " ON CONFLICT (sha256) DO NOTHING",
        )
        .await?;
        insert_rows(
            &mut transaction,
            MessageStatus::INSERT,
            rows.statuses.iter().map(MessageStatus::values).collect(),
            "",
        )
        .await?;
        insert_rows(
            &mut transaction,
            "INSERT INTO receipt (id, message_row, agency_org_nr, kanal,
                 avsenderidentifikator, kind, document, created_at)",
            rows.receipts.iter().map(MessageReceipt::values).collect(),
            "",
        )
        .await?;
        insert_rows(
            &mut transaction,
            OutboxWork::INSERT,
            rows.outbox.iter().map(OutboxWork::values).collect(),
            "",
        )
        .await?;
        insert_rows(
            &mut transaction,
            super::print::INSERT_PRINT_JOB,
            rows.print_jobs,
            "",
        )
        .await?;
        insert_rows(
            &mut transaction,
            "INSERT INTO print_if_unread (message_row, letter_id, deadline, colour, post_class)",
            rows.unread_prints
                .iter()
                .map(|(message_row, letter, order)| {
                    vec![
                        Value::from(*message_row),
                        Value::from(*letter),
                        Value::from(order.deadline),
                        Value::from(order.colour.code()),
                        Value::from(order.post_class.code()),
                    ]
                })
                .collect(),
            "",
        )
        .await?;
        let preferences = notice_preferences(&mut transaction, &rows.notices).await?;
        insert_rows(
            &mut transaction,
            INSERT_NOTICES,
            rows.notices
                .iter()
                .filter(|scheduled| {
                    scheduled
                        .notice
                        .is_wanted(preferences.get(scheduled.recipient.as_str()))
                })
                .map(NoticeToSchedule::values)
                .collect(),
            ONE_NOTICE_PER_DAY,
        )
        .await?;
        transaction.commit().await?;
        Ok(rows.outcomes)
    }

    async fn message(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
    ) -> Result<Option<StoredMessage>, StorageError> {
        let row: Option<MessageRow> = self
            .fetch_optional(
                Query::new(format!(
                    "SELECT {MESSAGE_COLUMNS} FROM dpi_message
                     WHERE agency_org_nr = $1 AND message_id = $2"
                ))
                .bind(agency.as_str())
                .bind(message_id.as_uuid()),
            )
            .await?;
        row.map(MessageRow::into_message).transpose()
    }

    async fn message_by_row(&self, row_id: Uuid) -> Result<Option<StoredMessage>, StorageError> {
        let row: Option<MessageRow> = self
            .fetch_optional(
                Query::new(format!(
                    "SELECT {MESSAGE_COLUMNS} FROM dpi_message WHERE id = $1"
                ))
                .bind(row_id),
            )
            .await?;
        row.map(MessageRow::into_message).transpose()
    }

    async fn message_statuses(
        &self,
        agency: &OrgNr,
        message_id: MessageId,
    ) -> Result<Option<Vec<StatusEntry>>, StorageError> {
        let message: Option<(Uuid,)> = self
            .fetch_optional(
                Query::new(
                    "SELECT id FROM dpi_message WHERE agency_org_nr = $1 AND message_id = $2",
                )
                .bind(agency.as_str())
                .bind(message_id.as_uuid()),
            )
            .await?;
        let Some((row_id,)) = message else {
            return Ok(None);
        };
        let rows: Vec<StatusRow> = self
            .fetch_all(
                Query::new(
                    "SELECT status, beskrivelse, at FROM dpi_status
                     WHERE message_row = $1 ORDER BY id",
                )
                .bind(row_id),
            )
            .await?;
        rows.into_iter()
            .map(StatusRow::into_entry)
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    async fn unread_receipts(
        &self,
        agency: &OrgNr,
        kanal: &str,
        avsenderidentifikator: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<StoredReceipt>, StorageError> {
        let rows: Vec<ReceiptRow> = self
            .fetch_all(
                Query::new(
                    "SELECT id, kind, document, created_at FROM receipt
                     WHERE agency_org_nr = $1 AND kanal = $2 AND read_at IS NULL
                       AND ($3 IS NULL OR avsenderidentifikator = $3)
                     ORDER BY created_at, id
                     LIMIT $4 OFFSET $5",
                )
                .bind(agency.as_str())
                .bind(kanal)
                .bind(avsenderidentifikator)
                .bind(i64::from(limit))
                .bind(i64::from(offset)),
            )
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn receipt_document(&self, id: Uuid) -> Result<Option<StoredReceipt>, StorageError> {
        let row: Option<ReceiptRow> = self
            .fetch_optional(
                Query::new("SELECT id, kind, document, created_at FROM receipt WHERE id = $1")
                    .bind(id),
            )
            .await?;
        Ok(row.map(Into::into))
    }

    async fn mark_receipt_read(
        &self,
        agency: &OrgNr,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let updated = self
            .execute(
                Query::new(
                    "UPDATE receipt SET read_at = COALESCE(read_at, $3)
                     WHERE id = $1 AND agency_org_nr = $2",
                )
                .bind(id)
                .bind(agency.as_str())
                .bind(at),
            )
            .await?;
        Ok(updated == 1)
    }

    async fn claim_outbox_job(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<OutboxJob>, StorageError> {
        // The lease check is repeated in the UPDATE so two workers racing
        // for the same row cannot both win it.
        let row: Option<OutboxRow> = self
            .fetch_optional(
                Query::new(
                    "UPDATE outbox SET leased_until = $2, attempts = attempts + 1
                     WHERE id = (
                         SELECT id FROM outbox
                         WHERE done_at IS NULL AND next_attempt_at <= $1
                           AND (leased_until IS NULL OR leased_until <= $1)
                         ORDER BY next_attempt_at LIMIT 1
                     ) AND done_at IS NULL AND (leased_until IS NULL OR leased_until <= $1)
                     RETURNING id, kind, message_row, receipt_id, attempts",
                )
                .bind(now)
                .bind(lease_until),
            )
            .await?;
        row.map(OutboxRow::into_job).transpose()
    }

    async fn finish_outbox_job(
        &self,
        job: &OutboxJob,
        outcome: &JobOutcome,
        push_receipts: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let mut transaction = self.begin().await?;
        let (status, receipts) = match outcome {
            JobOutcome::Retry { at, error } => {
                transaction
                    .execute(
                        Query::new(
                            "UPDATE outbox SET next_attempt_at = $2, leased_until = NULL,
                                 last_error = $3
                             WHERE id = $1",
                        )
                        .bind(job.id)
                        .bind(*at)
                        .bind(error.as_str()),
                    )
                    .await?;
                (None, &[][..])
            }
            JobOutcome::Delivered { status, receipts } => {
                transaction
                    .execute(
                        Query::new(
                            "UPDATE outbox SET done_at = $2, outcome = 'delivered',
                                 leased_until = NULL
                             WHERE id = $1",
                        )
                        .bind(job.id)
                        .bind(now),
                    )
                    .await?;
                (status.as_ref(), &receipts[..])
            }
            JobOutcome::Failed {
                error,
                status,
                receipts,
            } => {
                transaction
                    .execute(
                        Query::new(
                            "UPDATE outbox SET done_at = $2, outcome = 'failed',
                                 leased_until = NULL, last_error = $3
                             WHERE id = $1",
                        )
                        .bind(job.id)
                        .bind(now)
                        .bind(error.as_str()),
                    )
                    .await?;
                (status.as_ref(), &receipts[..])
            }
        };
        insert_rows(
            &mut transaction,
            MessageStatus::INSERT,
            status
                .into_iter()
                .map(|status| {
                    MessageStatus {
                        message_row: job.message_row,
                        status,
                    }
                    .values()
                })
                .collect(),
            "",
        )
        .await?;
        queue_receipts(
            &mut transaction,
            job.message_row,
            receipts,
            push_receipts,
            now,
        )
        .await?;
        transaction.commit().await
    }

    async fn opening_receipt_state(
        &self,
        owner: &Fnr,
        letter: LetterId,
    ) -> Result<Option<OpeningReceiptState>, StorageError> {
        let row: Option<(bool, Option<DateTime<Utc>>)> = self
            .fetch_optional(
                Query::new(
                    "SELECT opening_receipt, opening_receipt_sent_at FROM letter
                     WHERE id = $1 AND recipient_fnr = $2",
                )
                .bind(letter.as_uuid())
                .bind(owner.as_str()),
            )
            .await?;
        Ok(row.map(|(asked, sent_at)| match (asked, sent_at) {
            (false, _) => OpeningReceiptState::NotAsked,
            (true, None) => OpeningReceiptState::Pending,
            (true, Some(_)) => OpeningReceiptState::Sent,
        }))
    }

    async fn message_for_letter(
        &self,
        owner: &Fnr,
        letter: LetterId,
    ) -> Result<Option<StoredMessage>, StorageError> {
        let row: Option<MessageRow> = self
            .fetch_optional(
                Query::new(format!(
                    "SELECT {MESSAGE_COLUMNS} FROM dpi_message
                     WHERE letter_id = (SELECT id FROM letter WHERE id = $1 AND recipient_fnr = $2)"
                ))
                .bind(letter.as_uuid())
                .bind(owner.as_str()),
            )
            .await?;
        row.map(MessageRow::into_message).transpose()
    }

    async fn record_opening_receipt(
        &self,
        owner: &Fnr,
        letter: LetterId,
        receipt: &NewReceipt,
        push_receipt: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut transaction = self.begin().await?;
        // The guard makes this happen once, however often it is asked.
        let updated = transaction
            .execute(
                Query::new(
                    "UPDATE letter SET opening_receipt_sent_at = $3
                     WHERE id = $1 AND recipient_fnr = $2
                       AND opening_receipt AND opening_receipt_sent_at IS NULL",
                )
                .bind(letter.as_uuid())
                .bind(owner.as_str())
                .bind(at),
            )
            .await?;
        if updated == 0 {
            return Ok(false);
        }
        let (message_row,): (Uuid,) = transaction
            .fetch_optional(
                Query::new("SELECT id FROM dpi_message WHERE letter_id = $1")
                    .bind(letter.as_uuid()),
            )
            .await?
            .ok_or(StorageError::NotFound)?;
        queue_receipts(
            &mut transaction,
            message_row,
            std::slice::from_ref(receipt),
            push_receipt,
            at,
        )
        .await?;
        transaction.commit().await?;
        Ok(true)
    }

    async fn forwarded_message(
        &self,
        provider: &OrgNr,
        conversation_id: ConversationId,
    ) -> Result<Option<StoredMessage>, StorageError> {
        let row: Option<MessageRow> = self
            .fetch_optional(
                Query::new(format!(
                    "SELECT {MESSAGE_COLUMNS} FROM dpi_message
                     WHERE provider_org_nr = $1 AND conversation_id = $2
                     ORDER BY received_at LIMIT 1"
                ))
                .bind(provider.as_str())
                .bind(conversation_id.as_uuid()),
            )
            .await?;
        row.map(MessageRow::into_message).transpose()
    }

    async fn record_provider_receipt(
        &self,
        message_row: Uuid,
        receipt: &NewReceipt,
        push_receipt: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut transaction = self.begin().await?;
        let queued = queue_receipts(
            &mut transaction,
            message_row,
            std::slice::from_ref(receipt),
            push_receipt,
            at,
        )
        .await?;
        transaction.commit().await?;
        Ok(queued == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::mailbox::LetterRows;
    use app::domain::{SecurityLevel, Sender, Title};
    use bytes::Bytes;
    use chrono::NaiveDate;

    fn citizen(individual_number: u16) -> Fnr {
        Fnr::synthetic(
            NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(),
            individual_number,
        )
        .unwrap()
    }

    fn mailbox_message(agency: &str, recipient: Fnr, package: Sha256Digest) -> NewMessage {
        let now = Utc::now();
        let letter = Letter {
            id: LetterId::generate(),
            message_id: MessageId::generate(),
            conversation_id: ConversationId::generate(),
            recipient,
            sender: Sender::new(OrgNr::parse(agency).unwrap(), "Etaten").unwrap(),
            nonsensitive_title: Title::parse("Brev").unwrap(),
            title: Title::parse("Vedtak").unwrap(),
            security_level: SecurityLevel::Substantial,
            received_at: now,
            read_at: None,
            documents: Vec::new(),
            link: None,
            signer: None,
        };
        NewMessage {
            row_id: Uuid::new_v4(),
            agency: OrgNr::parse(agency).unwrap(),
            message_id: letter.message_id,
            conversation_id: letter.conversation_id,
            kanal: String::new(),
            avsenderidentifikator: String::new(),
            process: Process::Decision,
            content_sha256: String::new(),
            document: "{}".to_owned(),
            package,
            channel: StoredChannel::Mailbox(Box::new((letter, LetterTerms::default()))),
            reason: String::new(),
            received_at: now,
            statuses: Vec::new(),
            receipts: vec![NewReceipt {
                id: Uuid::new_v4(),
                kind: "leveringskvittering",
                document: "{}".to_owned(),
                created_at: now,
            }],
            push_receipts: true,
            inline_blobs: vec![(package, Bytes::from_static(b"PK"))],
            notices: Vec::new(),
        }
    }

    #[test]
    fn a_group_writes_each_message_once_and_each_shared_row_once() {
        let package = Sha256Digest::from_bytes([1; 32]);
        let first = mailbox_message("974760673", citizen(1), package);
        let mut resent_in_group = first.clone();
        resent_in_group.row_id = Uuid::new_v4();
        let same_recipient = mailbox_message("974760673", citizen(1), package);
        let stored_before = mailbox_message("889640782", citizen(2), package);
        let group = [first, resent_in_group, same_recipient, stored_before];
        let stored = HashSet::from([("889640782".to_owned(), group[3].message_id.as_uuid())]);

        let rows = GroupRows::plan(&group, &stored).unwrap();

        assert_eq!(
            rows.outcomes,
            [
                CommitOutcome::Stored,
                CommitOutcome::Duplicate,
                CommitOutcome::Stored,
                CommitOutcome::Duplicate
            ]
        );
        assert_eq!(rows.messages.len(), 2);
        assert_eq!(rows.letters.len(), 2);
        let letter_rows = LetterRows::plan(&rows.letters).unwrap();
        assert_eq!(
            letter_rows.citizens.len(),
            1,
            "one mailbox for one recipient"
        );
        assert_eq!(letter_rows.senders.len(), 1);
        assert_eq!(rows.inline_blobs.len(), 1, "the same package once");
        assert_eq!(rows.receipts.len(), 2);
        // Each pushed receipt gets a callback job.
        assert_eq!(rows.outbox.len(), 2);
        assert!(rows
            .outbox
            .iter()
            .all(|work| work.kind == OutboxKind::Callback));
    }
}
