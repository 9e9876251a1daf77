//! This Postkasse's receipts about stored messages, and the citizens'
//! replies to them: made from the message ([`super::receipts`]), and pushed
//! where the message's client wants them:
//! an agency's callback, or the API of another mailbox provider that
//! forwarded the letter here ([`receipt_push`]).

use super::{
    receipts::{receipt, ErrorKind, ReceiptContext, ReceiptKind},
    NewReceipt, Store, StoredMessage,
};
use crate::{
    clock::Clock,
    notify::{NoticeChannel, SenderReceipt, SenderReceipts},
    print::answers::{PrintReceipt, PrintReceipts},
    replies::{OutgoingMessage, OutgoingReply, ReplyMessages},
    store::StorageError,
};
use anyhow::Context;
use app::domain::reply_form::{Answer, AnswerFile};
use app::domain::OrgNr;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::sync::Arc;
use uuid::Uuid;

/// Where receipts for a client go besides the queue it fetches them from.
#[derive(Debug, Clone)]
pub enum ReceiptPush {
    /// An agency's callback, signed with its secret.
    Callback(crate::agency::registry::Callback),
    /// Another mailbox provider's API, for letters it forwarded here: sent
    /// as DPI sends receipts, as signed business messages.
    Provider { endpoint: String },
}

/// Where receipts for `client` (the organisation that sent the message) are
/// pushed, if anywhere: `agency` is the client as registered here, when it
/// is; the register is asked only when it has no callback.
pub async fn receipt_push(
    agency: Option<&crate::agency::registry::Agency>,
    register: &dyn crate::krr::Store,
    own: &OrgNr,
    client: &OrgNr,
) -> Result<Option<ReceiptPush>, StorageError> {
    if let Some(callback) = agency.and_then(|agency| agency.callback.clone()) {
        return Ok(Some(ReceiptPush::Callback(callback)));
    }
    if client == own {
        return Ok(None);
    }
    Ok(register
        .mailbox_provider(client)
        .await?
        .and_then(|provider| provider.endpoint)
        .map(|endpoint| ReceiptPush::Provider { endpoint }))
}

pub struct ReceiptIssuer {
    messages: Arc<dyn Store>,
    agencies: Arc<dyn crate::agency::Store>,
    register: Arc<dyn crate::krr::Store>,
    /// This Postkasse, the issuer.
    own: OrgNr,
    clock: Arc<dyn Clock>,
}

impl ReceiptIssuer {
    pub fn new(
        messages: Arc<dyn Store>,
        agencies: Arc<dyn crate::agency::Store>,
        register: Arc<dyn crate::krr::Store>,
        own: OrgNr,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            messages,
            agencies,
            register,
            own,
            clock,
        }
    }

    /// Whether receipts for `client`, registered here as `agency` (if at
    /// all), are pushed somewhere.
    pub async fn pushes_to(
        &self,
        agency: Option<&crate::agency::registry::Agency>,
        client: &OrgNr,
    ) -> Result<bool, StorageError> {
        Ok(
            receipt_push(agency, self.register.as_ref(), &self.own, client)
                .await?
                .is_some(),
        )
    }

    /// A receipt from this Postkasse about a stored message, made now, and
    /// whether it is pushed to the message's client.
    pub async fn issue(
        &self,
        message: &StoredMessage,
        kind: ReceiptKind,
    ) -> Result<(NewReceipt, bool), StorageError> {
        let agency = self.agencies.agency_by_org_nr(&message.agency).await?;
        let push = self.pushes_to(agency.as_ref(), &message.agency).await?;
        let context = ReceiptContext::for_message(message, &self.own);
        Ok((receipt(&context, kind, self.clock.now()), push))
    }
}

impl ReceiptIssuer {
    /// A receipt about the message stored as `message_row`, in the shape
    /// notices and the print chain queue receipts in.
    async fn issue_for_row(
        &self,
        message_row: Uuid,
        kind: ReceiptKind,
    ) -> anyhow::Result<SenderReceipt> {
        let message = self
            .messages
            .message_by_row(message_row)
            .await?
            .context("a receipt for a message that is not stored")?;
        let (receipt, push) = self.issue(&message, kind).await?;
        Ok(SenderReceipt {
            id: receipt.id,
            kind: receipt.kind,
            document: receipt.document,
            created_at: receipt.created_at,
            push,
        })
    }
}

#[async_trait]
impl SenderReceipts for ReceiptIssuer {
    async fn notice_failed(
        &self,
        message_row: Uuid,
        channel: NoticeChannel,
        description: &str,
    ) -> anyhow::Result<SenderReceipt> {
        let kind = ReceiptKind::NoticeFailed {
            channel,
            description: description.to_owned(),
        };
        self.issue_for_row(message_row, kind).await
    }
}

#[async_trait]
impl PrintReceipts for ReceiptIssuer {
    async fn print_receipt(
        &self,
        message_row: Uuid,
        receipt: &PrintReceipt,
    ) -> anyhow::Result<SenderReceipt> {
        let kind = match receipt {
            PrintReceipt::Received => ReceiptKind::Received,
            PrintReceipt::Delivered => ReceiptKind::Delivered,
            PrintReceipt::ReturnedMail => ReceiptKind::ReturnedMail,
            // The print house, not the sender, failed.
            PrintReceipt::Failed { reason } => ReceiptKind::Error {
                kind: ErrorKind::Server,
                details: reason.clone(),
            },
        };
        self.issue_for_row(message_row, kind).await
    }
}

#[async_trait]
impl ReplyMessages for ReceiptIssuer {
    async fn reply_message(
        &self,
        message_row: Uuid,
        reply: &OutgoingReply,
    ) -> anyhow::Result<SenderReceipt> {
        let kind = ReceiptKind::OwnDocument {
            key: super::receipts::REPLY,
            body: reply_body(reply)?,
        };
        self.issue_for_row(message_row, kind).await
    }

    async fn citizen_message(
        &self,
        message_row: Uuid,
        message: &OutgoingMessage,
    ) -> anyhow::Result<SenderReceipt> {
        let kind = ReceiptKind::OwnDocument {
            key: super::receipts::MESSAGE,
            body: message_body(message)?,
        };
        self.issue_for_row(message_row, kind).await
    }

    async fn unanswered_receipt(
        &self,
        message_row: Uuid,
        deadline: DateTime<Utc>,
    ) -> anyhow::Result<SenderReceipt> {
        self.issue_for_row(message_row, ReceiptKind::Unanswered { deadline })
            .await
    }
}

#[async_trait]
impl crate::signing::SigningMessages for ReceiptIssuer {
    async fn status_message(
        &self,
        message_row: Uuid,
        body: serde_json::Map<String, Value>,
    ) -> anyhow::Result<SenderReceipt> {
        let kind = ReceiptKind::OwnDocument {
            key: super::receipts::SIGNING_STATUS,
            body,
        };
        self.issue_for_row(message_row, kind).await
    }
}

/// What every document from a citizen says beyond the common fields: its
/// id (under `id_key`), who sent it at which login level, and when.
fn from_citizen(
    id_key: &str,
    id: Uuid,
    citizen: &app::domain::Fnr,
    level: app::domain::SecurityLevel,
    sent_at: DateTime<Utc>,
) -> serde_json::Map<String, Value> {
    let mut body = serde_json::Map::new();
    body.insert(id_key.into(), json!(id.to_string()));
    body.insert(
        "innbygger".into(),
        json!({"personidentifikator": citizen.as_str()}),
    );
    body.insert("sikkerhetsnivaa".into(), json!(level.as_number()));
    body.insert(
        "sendt".into(),
        json!(sent_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    );
    body
}

/// An attached file as the document names it: `fil`, its name in
/// `vedleggspakke`, is `<folder>/<file name>`.
fn attached(folder: &str, file: &AnswerFile) -> Value {
    json!({
        "fil": format!("{folder}/{}", file.file_name),
        "filnavn": file.file_name,
        "mimetype": file.media_type,
        "sha256": file.sha256,
        "stoerrelse": file.size_bytes,
    })
}

/// Adds `vedleggspakke`, an ASiC-E container of `files` (`(fil, bytes)`)
/// with its SHA-256 fingerprint, when there are any.
fn attach_files(
    body: &mut serde_json::Map<String, Value>,
    files: &[(String, Vec<u8>)],
) -> anyhow::Result<()> {
    use base64::{engine::general_purpose::STANDARD, Engine as _};
    if files.is_empty() {
        return Ok(());
    }
    let container = super::package::build_container(None, files)?;
    body.insert(
        "vedleggspakke".into(),
        json!({
            "innhold": STANDARD.encode(&container),
            "fingeravtrykk": {
                "digestMethod": super::message::SHA256_METHOD,
                "digestValue": super::package::fingerprint(&container),
            },
        }),
    );
    Ok(())
}

/// The `svar` body (docs/replies.md): the answers by question id, each
/// attached file in `vedleggspakke` (ASiC-E) and named by its answer.
fn reply_body(reply: &OutgoingReply) -> anyhow::Result<serde_json::Map<String, Value>> {
    let mut files = Vec::new();
    let answers: serde_json::Map<String, Value> = reply
        .answers
        .iter()
        .map(|(id, answer, bytes)| {
            let value = match answer {
                Answer::Choice(value) | Answer::Text(value) => json!(value),
                Answer::Choices(values) => json!(values),
                Answer::Number(number) => json!(number),
                Answer::Date(date) => json!(date.format("%Y-%m-%d").to_string()),
                Answer::Attachment(file) => {
                    let named = attached(id, file);
                    files.push((
                        named["fil"].as_str().unwrap_or_default().to_owned(),
                        bytes.clone().unwrap_or_default().to_vec(),
                    ));
                    named
                }
            };
            (id.clone(), value)
        })
        .collect();
    let mut body = from_citizen(
        "svarId",
        reply.id,
        &reply.citizen,
        reply.level,
        reply.sent_at,
    );
    body.insert(
        "skjema".into(),
        json!({"tittel": reply.form_title, "versjon": reply.form_version}),
    );
    body.insert("svar".into(), Value::Object(answers));
    attach_files(&mut body, &files)?;
    Ok(body)
}

/// The `melding` body (docs/replies.md): the text, and an attached file.
fn message_body(message: &OutgoingMessage) -> anyhow::Result<serde_json::Map<String, Value>> {
    let mut body = from_citizen(
        "meldingId",
        message.id,
        &message.citizen,
        message.level,
        message.sent_at,
    );
    body.insert("tekst".into(), json!(message.text));
    let mut files = Vec::new();
    if let Some((file, bytes)) = &message.attachment {
        let named = attached("vedlegg", file);
        files.push((
            named["fil"].as_str().unwrap_or_default().to_owned(),
            bytes.to_vec(),
        ));
        body.insert("vedlegg".into(), named);
    }
    attach_files(&mut body, &files)?;
    Ok(body)
}
