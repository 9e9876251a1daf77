//! What an agency's own system does before it calls `POST /messages/out`:
//! put the documents in an ASiC-E package and write the business message
//! that names it by fingerprint.
//!
//! Postkasse uses it for its demo letters; tests use it to send real messages.

use crate::broker::{
    message::{
        identifier, party, ACTOR_AUTHORITY, PROCESS_DECISION, PROCESS_INFORMATION, PROCESS_PRINT,
        SHA256_METHOD, STANDARD_DIGITAL, STANDARD_PRINT,
    },
    package::{self, ManifestDocument, ManifestMottaker, ManifestSpec, PackageError},
    routing::Process,
};
use crate::notify::{OrderedNotice, OrderedNotices};
use app::domain::{ConversationId, Fnr, MessageId, OrgNr, SecurityLevel};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

/// One document to send: its file name in the package, type, title, bytes.
#[derive(Debug, Clone)]
pub struct OutgoingDocument {
    pub file_name: String,
    pub mime: String,
    pub title: String,
    pub bytes: Vec<u8>,
}

/// A document's extension file (`<data href mime>`): a lenke, a reply form.
#[derive(Debug, Clone)]
pub struct OutgoingData {
    pub file_name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// A letter as an agency's system would describe it.
#[derive(Debug, Clone)]
pub struct OutgoingLetter {
    pub sender: OrgNr,
    pub recipient: Fnr,
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub process: Process,
    pub nonsensitive_title: String,
    pub security_level: SecurityLevel,
    pub language: String,
    pub main: OutgoingDocument,
    /// The main document's extension, if any.
    pub main_data: Option<OutgoingData>,
    pub attachments: Vec<OutgoingDocument>,
    pub opening_receipt: bool,
    pub effective_at: Option<DateTime<Utc>>,
    /// `varsler`: the notices the sender orders.
    pub notices: OrderedNotices,
}

impl OutgoingLetter {
    /// A one-document decision letter with fresh ids. Its non-sensitive
    /// title says only that a letter came: the real title may be sensitive.
    pub fn decision(sender: OrgNr, recipient: Fnr, main: OutgoingDocument) -> Self {
        OutgoingLetter {
            sender,
            recipient,
            message_id: MessageId::generate(),
            conversation_id: ConversationId::generate(),
            process: Process::Decision,
            nonsensitive_title: "Du har fått et brev".to_owned(),
            security_level: SecurityLevel::Substantial,
            language: "nb".to_owned(),
            main,
            main_data: None,
            attachments: Vec::new(),
            opening_receipt: false,
            effective_at: None,
            notices: OrderedNotices::default(),
        }
    }

    /// The ASiC-E package with the SDP manifest.
    pub fn package(&self) -> Result<Vec<u8>, PackageError> {
        let spec = ManifestSpec {
            avsender: self.sender.clone(),
            avsenderidentifikator: None,
            mottaker: Some(ManifestMottaker {
                personidentifikator: Some(self.recipient.as_str().to_owned()),
                postkasseadresse: None,
            }),
            main: ManifestDocument {
                data: self
                    .main_data
                    .as_ref()
                    .map(|data| (data.file_name.clone(), data.mime.clone())),
                ..ManifestDocument::new(&self.main.file_name, &self.main.mime, &self.main.title)
            },
            attachments: self
                .attachments
                .iter()
                .map(|document| {
                    ManifestDocument::new(&document.file_name, &document.mime, &document.title)
                })
                .collect(),
        };
        let files: Vec<(String, Vec<u8>)> = std::iter::once(&self.main)
            .chain(&self.attachments)
            .map(|document| (document.file_name.clone(), document.bytes.clone()))
            .chain(
                self.main_data
                    .iter()
                    .map(|data| (data.file_name.clone(), data.bytes.clone())),
            )
            .collect();
        package::build(&spec, &files)
    }

    /// The `digital` business message for a package with these bytes (as
    /// sent: encrypted, if it is encrypted).
    pub fn business_message(&self, package_as_sent: &[u8]) -> Value {
        let mut digital = json!({
            "avsender": {"virksomhetsidentifikator": identifier(&self.sender)},
            "mottaker": {},
            "dokumentpakkefingeravtrykk": {
                "digestMethod": SHA256_METHOD,
                "digestValue": package::fingerprint(package_as_sent),
            },
            "sikkerhetsnivaa": self.security_level.as_number(),
            "ikkesensitivtittel": self.nonsensitive_title,
            "spraak": self.language,
            "aapningskvittering": self.opening_receipt,
        });
        if let Some(at) = self.effective_at {
            digital["virkningstidspunkt"] = json!(at.to_rfc3339_opts(SecondsFormat::Secs, true));
        }
        let notice = |notice: &OrderedNotice, address_field: &str| {
            json!({
                address_field: notice.address,
                "varslingstekst": notice.text,
                "repetisjoner": notice.repetitions,
            })
        };
        let mut varsler = serde_json::Map::new();
        if let Some(email) = &self.notices.email {
            varsler.insert("epostvarsel".to_owned(), notice(email, "epostadresse"));
        }
        if let Some(sms) = &self.notices.sms {
            varsler.insert("smsvarsel".to_owned(), notice(sms, "mobiltelefonnummer"));
        }
        if !varsler.is_empty() {
            digital["varsler"] = Value::Object(varsler);
        }
        let process = match self.process {
            Process::Decision => PROCESS_DECISION,
            Process::Information => PROCESS_INFORMATION,
            Process::Print => PROCESS_PRINT,
        };
        envelope(
            &self.sender,
            self.recipient.as_str(),
            STANDARD_DIGITAL,
            "digital",
            self.message_id,
            self.conversation_id,
            process,
            digital,
        )
    }
}

/// The SBD around a body.
#[allow(clippy::too_many_arguments)]
pub fn envelope(
    sender: &OrgNr,
    receiver: &str,
    standard: &str,
    kind: &str,
    message_id: MessageId,
    conversation_id: ConversationId,
    process: &str,
    body: Value,
) -> Value {
    json!({
        "standardBusinessDocument": {
            "standardBusinessDocumentHeader": {
                "headerVersion": "1.0",
                "sender": [party(sender)],
                "receiver": [{"identifier": {"authority": ACTOR_AUTHORITY, "value": receiver}}],
                "documentIdentification": {
                    "standard": standard,
                    "typeVersion": "1.0",
                    "instanceIdentifier": message_id.to_string(),
                    "type": kind,
                    "creationDateAndTime": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
                },
                "businessScope": {"scope": [{
                    "type": "ConversationId",
                    "instanceIdentifier": conversation_id.to_string(),
                    "identifier": process,
                    "scopeInformation": [{"expectedResponseDateTime":
                        (Utc::now() + chrono::Duration::hours(24)).to_rfc3339_opts(SecondsFormat::Secs, true)}],
                }]},
            },
            kind: body,
        }
    })
}

/// A print (`utskrift`) business message for a package, with eFormidling's
/// defaults (black and white, B post, direct return).
pub fn print_message(
    sender: &OrgNr,
    print_provider: &OrgNr,
    message_id: MessageId,
    conversation_id: ConversationId,
    recipient: &crate::print::PostalAddress,
    return_address: &crate::print::PostalAddress,
    package_as_sent: &[u8],
) -> Value {
    let body = json!({
        "avsender": {"virksomhetsidentifikator": identifier(sender)},
        "mottaker": recipient,
        "dokumentpakkefingeravtrykk": {
            "digestMethod": SHA256_METHOD,
            "digestValue": package::fingerprint(package_as_sent),
        },
        "utskriftstype": "SORT_HVIT",
        "posttype": "B",
        "retur": {"mottaker": return_address, "returposthaandtering": "DIREKTE_RETUR"},
    });
    envelope(
        sender,
        &format!("0192:{print_provider}"),
        STANDARD_PRINT,
        "utskrift",
        message_id,
        conversation_id,
        PROCESS_PRINT,
        body,
    )
}
