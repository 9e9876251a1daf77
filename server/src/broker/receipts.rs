//! Receipts (*kvitteringer*) as DPI business documents: an SBD with the
//! original ConversationId and a new instanceIdentifier, whose body is one of
//! `leveringskvittering`, `aapningskvittering`, `varslingfeiletkvittering`,
//! `mottakskvittering`, `returpostkvittering` or `feil`
//! (docs/protocol.md#receipts).
//!
//! The receipt standards follow the naming of DPI's message standards, as
//! Digdir lists them at <https://docs.digdir.no/identifiers.html>.

use super::message::{
    first_party, identifier, organisation as parse_organisation, party, read_scope, uuid,
    PROCESS_DIGITAL, PROCESS_PRINT,
};
use super::routing::Process;
use super::{NewReceipt, StoredMessage};
use crate::json_fields::Problems;
use crate::validation::FieldError;
use app::domain::{ConversationId, OrgNr};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

/// `feiltype`: whether the sender must fix the message or the fault is ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Client,
    Server,
}

/// `varslingskanal`.
pub use app::domain::NoticeChannel;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptKind {
    Delivered,
    Opened,
    NoticeFailed {
        channel: NoticeChannel,
        description: String,
    },
    Received,
    ReturnedMail,
    Error {
        kind: ErrorKind,
        details: String,
    },
    /// Postkasse's own: what a citizen sends the agency about a letter
    /// (docs/replies.md): `svar`, the answer to its reply form, or
    /// `melding`, a message; and `signeringsstatus`, how a signing order
    /// stands (docs/signing.md). `body` holds what it says beyond the
    /// common fields.
    OwnDocument {
        key: &'static str,
        body: serde_json::Map<String, Value>,
    },
    /// Postkasse's own: the form's deadline passed without an answer.
    Unanswered {
        deadline: DateTime<Utc>,
    },
}

impl ReceiptKind {
    pub fn body_key(&self) -> &'static str {
        match self {
            ReceiptKind::Delivered => "leveringskvittering",
            ReceiptKind::Opened => "aapningskvittering",
            ReceiptKind::NoticeFailed { .. } => "varslingfeiletkvittering",
            ReceiptKind::Received => "mottakskvittering",
            ReceiptKind::ReturnedMail => "returpostkvittering",
            ReceiptKind::Error { .. } => "feil",
            ReceiptKind::OwnDocument { key, .. } => key,
            ReceiptKind::Unanswered { .. } => UNANSWERED,
        }
    }

    /// The `documentIdentification.standard`: DPI's for its receipts,
    /// Postkasse's for its own documents.
    fn standard(&self) -> String {
        let key = self.body_key();
        match self {
            ReceiptKind::OwnDocument { .. } | ReceiptKind::Unanswered { .. } => {
                format!("{POSTKASSE_STANDARD}{key}::1.0")
            }
            _ => format!(
                "urn:fdc:digdir.no:2020:innbyggerpost:xsd::innbyggerpost##urn:fdc:digdir.no:2020:innbyggerpost:schema:{key}::1.0"
            ),
        }
    }
}

/// The body keys of a citizen's reply and message and of the receipt for a
/// form left unanswered: Postkasse's own documents, beside DPI's receipts.
pub const REPLY: &str = "svar";
pub const MESSAGE: &str = "melding";
pub const UNANSWERED: &str = "ubesvartkvittering";
pub const SIGNING_STATUS: &str = "signeringsstatus";
/// The namespace of Postkasse's own documents' standards.
const POSTKASSE_STANDARD: &str = "urn:postkasse:innbyggerpost:schema:";

/// Who the receipt is about: the message it answers.
#[derive(Debug, Clone)]
pub struct ReceiptContext<'a> {
    pub conversation_id: ConversationId,
    pub process: Process,
    /// The provider issuing the receipt (this Postkasse, or the provider a
    /// letter was forwarded to).
    pub provider: &'a OrgNr,
    /// The agency that sent the message.
    pub agency: &'a OrgNr,
}

impl<'a> ReceiptContext<'a> {
    /// A receipt from `provider` about a stored message.
    pub fn for_message(message: &'a StoredMessage, provider: &'a OrgNr) -> Self {
        ReceiptContext {
            conversation_id: message.conversation_id,
            process: message.process,
            provider,
            agency: &message.agency,
        }
    }
}

/// `varslingskanal` as receipts write it.
const CHANNEL_CODES: [(NoticeChannel, &str); 2] =
    [(NoticeChannel::Email, "EPOST"), (NoticeChannel::Sms, "SMS")];
/// `feiltype` as receipts write it.
const ERROR_CODES: [(ErrorKind, &str); 2] =
    [(ErrorKind::Client, "KLIENT"), (ErrorKind::Server, "SERVER")];

/// The code a receipt writes for `value`.
fn code<T: PartialEq>(codes: &[(T, &'static str)], value: &T) -> &'static str {
    codes
        .iter()
        .find(|(known, _)| known == value)
        .map(|(_, code)| *code)
        .expect("every value has a code")
}

/// The value a receipt's code stands for.
fn from_code<T: Copy>(codes: &[(T, &'static str)], text: &str) -> Option<T> {
    codes
        .iter()
        .find(|(_, code)| *code == text)
        .map(|(value, _)| *value)
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Makes the receipt, ready to queue.
pub fn receipt(context: &ReceiptContext<'_>, kind: ReceiptKind, at: DateTime<Utc>) -> NewReceipt {
    receipt_with_id(context, kind, at, Uuid::new_v4())
}

/// Makes the receipt under a given id: another provider's receipt passed
/// on keeps its id, so however often it is sent, it is queued once.
pub fn receipt_with_id(
    context: &ReceiptContext<'_>,
    kind: ReceiptKind,
    at: DateTime<Utc>,
    id: Uuid,
) -> NewReceipt {
    let key = kind.body_key();
    let mut body = json!({
        "avsender": {"virksomhetsidentifikator": identifier(context.provider)},
        "mottaker": {"virksomhetsidentifikator": identifier(context.agency)},
        "tidspunkt": timestamp(at),
    });
    match &kind {
        ReceiptKind::NoticeFailed {
            channel,
            description,
        } => {
            body["varslingskanal"] = json!(code(&CHANNEL_CODES, channel));
            body["beskrivelse"] = json!(description);
        }
        ReceiptKind::Error { kind, details } => {
            body["feiltype"] = json!(code(&ERROR_CODES, kind));
            body["detaljer"] = json!(details);
        }
        ReceiptKind::OwnDocument { body: citizen, .. } => {
            for (name, value) in citizen {
                body[name.as_str()] = value.clone();
            }
        }
        ReceiptKind::Unanswered { deadline } => {
            body["svarfrist"] = json!(timestamp(*deadline));
        }
        _ => {}
    }
    let process = match context.process {
        Process::Print => PROCESS_PRINT,
        Process::Decision | Process::Information => PROCESS_DIGITAL,
    };
    let document = json!({
        "standardBusinessDocument": {
            "standardBusinessDocumentHeader": {
                "headerVersion": "1.0",
                "sender": [party(context.provider)],
                "receiver": [party(context.agency)],
                "documentIdentification": {
                    "standard": kind.standard(),
                    "typeVersion": "1.0",
                    "instanceIdentifier": id.to_string(),
                    "type": key,
                    "creationDateAndTime": timestamp(at),
                },
                "businessScope": {"scope": [{
                    "type": "ConversationId",
                    "instanceIdentifier": context.conversation_id.to_string(),
                    "identifier": process,
                }]},
            },
            key: body,
        }
    });
    NewReceipt {
        id,
        kind: key,
        document: document.to_string(),
        created_at: at,
    }
}

/// The body keys of the receipts a mailbox provider sends about a digital
/// letter (`mottakskvittering` and `returpostkvittering` are the print
/// service's).
pub const PROVIDER_RECEIPTS: [&str; 4] = [
    "leveringskvittering",
    "aapningskvittering",
    "varslingfeiletkvittering",
    "feil",
];

/// Whether a business document is a receipt rather than a letter: its body
/// is one of the receipts' keys.
pub fn is_receipt(document: &Value) -> bool {
    document
        .get("standardBusinessDocument")
        .and_then(Value::as_object)
        .is_some_and(|sbd| {
            sbd.keys().any(|key| {
                PROVIDER_RECEIPTS.contains(&key.as_str())
                    || matches!(key.as_str(), "mottakskvittering" | "returpostkvittering")
            })
        })
}

/// A receipt another mailbox provider sent about a letter it got from here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingReceipt {
    /// The receipt's own `instanceIdentifier`.
    pub id: Uuid,
    pub conversation_id: ConversationId,
    /// The provider that sent it (the SBD header's sender).
    pub provider: OrgNr,
    pub kind: ReceiptKind,
    /// `tidspunkt`: when what it reports happened.
    pub at: DateTime<Utc>,
}

const ROOT: &str = "forretningsmelding";

/// Reads a receipt in DPI's shape, naming every field at fault.
pub fn parse_incoming(document: &Value) -> Result<IncomingReceipt, Vec<FieldError>> {
    let mut problems = Problems::default();
    let Some(mut root) = problems.object(document, ROOT) else {
        return Err(problems.0);
    };
    let sbd = root.required_object("standardBusinessDocument", &mut problems);
    root.finish(&mut problems);
    let Some(mut sbd) = sbd else {
        return Err(problems.0);
    };
    let header = sbd.required_object("standardBusinessDocumentHeader", &mut problems);
    let body_key = PROVIDER_RECEIPTS
        .into_iter()
        .find(|key| sbd.value(key).is_some());
    let body = body_key.and_then(|key| sbd.object(key, &mut problems));
    if body_key.is_none() {
        problems.add(
            sbd.path(),
            format!(
                "must have one of the bodies {} (a mailbox provider's receipts)",
                PROVIDER_RECEIPTS.join(", ")
            ),
        );
    }
    sbd.finish(&mut problems);

    let (id, conversation_id, provider) = match header {
        Some(mut header) => {
            header.value("headerVersion");
            header.value("receiver");
            let provider =
                first_party(&mut header, "sender", &mut problems).and_then(|(value, path)| {
                    match parse_organisation(value) {
                        Ok(org_nr) => Some(org_nr),
                        Err(reason) => {
                            problems.add(path, reason);
                            None
                        }
                    }
                });
            let mut id = None;
            if let Some(mut identification) =
                header.required_object("documentIdentification", &mut problems)
            {
                match (
                    identification.required_string("type", &mut problems),
                    body_key,
                ) {
                    (Some(kind), Some(key)) if kind != key => problems.add(
                        identification.path_of("type"),
                        format!("must be \"{key}\", the receipt's body"),
                    ),
                    _ => {}
                }
                identification.value("standard");
                identification.value("typeVersion");
                identification.value("creationDateAndTime");
                id = identification
                    .required_string("instanceIdentifier", &mut problems)
                    .and_then(|text| {
                        uuid(
                            text,
                            &identification.path_of("instanceIdentifier"),
                            &mut problems,
                        )
                    });
                identification.finish(&mut problems);
            }
            let (_, conversation_id) = read_scope(&mut header, &mut problems);
            header.finish(&mut problems);
            (id, conversation_id, provider)
        }
        None => (None, None, None),
    };

    let (kind, at) = match (body_key, body) {
        (Some(key), Some(mut body)) => {
            body.value("avsender");
            body.value("mottaker");
            let at = body
                .required_string("tidspunkt", &mut problems)
                .and_then(|text| match DateTime::parse_from_rfc3339(text) {
                    Ok(at) => Some(at.with_timezone(&Utc)),
                    Err(_) => {
                        problems.add(
                            body.path_of("tidspunkt"),
                            "must be a date and time with zone (RFC 3339)",
                        );
                        None
                    }
                });
            let kind = match key {
                "leveringskvittering" => Some(ReceiptKind::Delivered),
                "aapningskvittering" => Some(ReceiptKind::Opened),
                "varslingfeiletkvittering" => {
                    let channel = body
                        .required_string("varslingskanal", &mut problems)
                        .and_then(|text| {
                            let channel = from_code(&CHANNEL_CODES, text);
                            if channel.is_none() {
                                problems.add(
                                    body.path_of("varslingskanal"),
                                    "must be \"EPOST\" or \"SMS\"",
                                );
                            }
                            channel
                        });
                    let description = body
                        .string("beskrivelse", &mut problems)
                        .unwrap_or_default()
                        .to_owned();
                    channel.map(|channel| ReceiptKind::NoticeFailed {
                        channel,
                        description,
                    })
                }
                _ => {
                    let kind = body
                        .required_string("feiltype", &mut problems)
                        .and_then(|text| {
                            let kind = from_code(&ERROR_CODES, text);
                            if kind.is_none() {
                                problems.add(
                                    body.path_of("feiltype"),
                                    "must be \"KLIENT\" or \"SERVER\"",
                                );
                            }
                            kind
                        });
                    let details = body
                        .string("detaljer", &mut problems)
                        .unwrap_or_default()
                        .to_owned();
                    kind.map(|kind| ReceiptKind::Error { kind, details })
                }
            };
            body.finish(&mut problems);
            (kind, at)
        }
        _ => (None, None),
    };
    match (id, conversation_id, provider, kind, at, problems.is_empty()) {
        (Some(id), Some(conversation_id), Some(provider), Some(kind), Some(at), true) => {
            Ok(IncomingReceipt {
                id,
                conversation_id,
                provider,
                kind,
                at,
            })
        }
        _ => Err(problems.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::message::ACTOR_AUTHORITY;

    #[test]
    fn a_feil_receipt_carries_the_conversation_a_new_id_and_the_reason() {
        let provider = OrgNr::parse("999900003").unwrap();
        let agency = OrgNr::parse("974760673").unwrap();
        let conversation_id = ConversationId::generate();
        let context = ReceiptContext {
            conversation_id,
            process: Process::Decision,
            provider: &provider,
            agency: &agency,
        };
        let at = Utc::now();
        let first = receipt(
            &context,
            ReceiptKind::Error {
                kind: ErrorKind::Client,
                details: "no postal address".into(),
            },
            at,
        );
        let second = receipt(&context, ReceiptKind::Delivered, at);
        assert_ne!(first.id, second.id);
        let document: Value = serde_json::from_str(&first.document).unwrap();
        let sbd = &document["standardBusinessDocument"];
        let header = &sbd["standardBusinessDocumentHeader"];
        assert_eq!(
            header["businessScope"]["scope"][0]["instanceIdentifier"],
            conversation_id.to_string()
        );
        assert_eq!(
            header["documentIdentification"]["instanceIdentifier"],
            first.id.to_string()
        );
        assert_eq!(header["documentIdentification"]["type"], "feil");
        assert_eq!(sbd["feil"]["feiltype"], "KLIENT");
        assert_eq!(sbd["feil"]["detaljer"], "no postal address");
        assert_eq!(
            sbd["feil"]["mottaker"]["virksomhetsidentifikator"]["value"],
            "0192:974760673"
        );
    }

    #[test]
    fn a_receipt_made_here_reads_back_as_the_same_receipt() {
        let provider = OrgNr::parse("999900003").unwrap();
        let agency = OrgNr::parse("974760673").unwrap();
        let conversation_id = ConversationId::generate();
        let context = ReceiptContext {
            conversation_id,
            process: Process::Decision,
            provider: &provider,
            agency: &agency,
        };
        let at = DateTime::parse_from_rfc3339("2026-12-07T10:00:00.250Z")
            .unwrap()
            .with_timezone(&Utc);
        for kind in [
            ReceiptKind::Delivered,
            ReceiptKind::Opened,
            ReceiptKind::NoticeFailed {
                channel: NoticeChannel::Sms,
                description: "ukjent nummer".into(),
            },
            ReceiptKind::Error {
                kind: ErrorKind::Server,
                details: "disk full".into(),
            },
        ] {
            let made = receipt(&context, kind.clone(), at);
            let document: Value = serde_json::from_str(&made.document).unwrap();
            assert!(is_receipt(&document));
            assert_eq!(
                parse_incoming(&document),
                Ok(IncomingReceipt {
                    id: made.id,
                    conversation_id,
                    provider: provider.clone(),
                    kind,
                    at,
                })
            );
        }
    }

    #[test]
    fn a_letter_is_not_a_receipt_and_a_broken_receipt_names_its_fields() {
        let letter = json!({"standardBusinessDocument": {"standardBusinessDocumentHeader": {}, "digital": {}}});
        assert!(!is_receipt(&letter));
        let broken = json!({"standardBusinessDocument": {
            "standardBusinessDocumentHeader": {
                "sender": [{"identifier": {"authority": ACTOR_AUTHORITY, "value": "0192:123"}}],
                "documentIdentification": {"type": "feil", "instanceIdentifier": "x"},
                "businessScope": {"scope": [{"type": "ConversationId", "instanceIdentifier": Uuid::new_v4().to_string(), "identifier": PROCESS_DIGITAL}]},
            },
            "varslingfeiletkvittering": {"tidspunkt": "i går", "varslingskanal": "BREVDUE"},
        }});
        assert!(is_receipt(&broken));
        let problems = parse_incoming(&broken).unwrap_err();
        let named: Vec<&str> = problems
            .iter()
            .map(|problem| problem.name.as_str())
            .collect();
        let header = "forretningsmelding.standardBusinessDocument.standardBusinessDocumentHeader";
        let body = "forretningsmelding.standardBusinessDocument.varslingfeiletkvittering";
        for expected in [
            format!("{header}.sender[0].identifier.value"),
            format!("{header}.documentIdentification.type"),
            format!("{header}.documentIdentification.instanceIdentifier"),
            format!("{body}.tidspunkt"),
            format!("{body}.varslingskanal"),
        ] {
            assert!(
                named.contains(&expected.as_str()),
                "{expected} in {named:?}"
            );
        }
    }
}
