//! Receipts (*kvitteringer*) as DPI business documents: an SBD with the
//! original ConversationId and a new instanceIdentifier, whose body is one of
//! `leveringskvittering`, `aapningskvittering`, `varslingfeiletkvittering`,
//! `mottakskvittering`, `returpostkvittering` or `feil`
//! (docs/protocol.md#receipts).
//!
//! The receipt standards follow the naming of DPI's message standards, as
//! Digdir lists them at <https://docs.digdir.no/identifiers.html>.

use super::message::{ACTOR_AUTHORITY, PROCESS_DIGITAL, PROCESS_PRINT};
use super::routing::Process;
use super::{NewReceipt, StoredMessage};
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
        }
    }
}

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

fn party(org_nr: &OrgNr) -> Value {
    json!({"identifier": {"authority": ACTOR_AUTHORITY, "value": format!("0192:{org_nr}")}})
}

fn organisation(org_nr: &OrgNr) -> Value {
    json!({"authority": ACTOR_AUTHORITY, "value": format!("0192:{org_nr}")})
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Makes the receipt, ready to queue.
pub fn receipt(context: &ReceiptContext<'_>, kind: ReceiptKind, at: DateTime<Utc>) -> NewReceipt {
    let id = Uuid::new_v4();
    let key = kind.body_key();
    let mut body = json!({
        "avsender": {"virksomhetsidentifikator": organisation(context.provider)},
        "mottaker": {"virksomhetsidentifikator": organisation(context.agency)},
        "tidspunkt": timestamp(at),
    });
    match &kind {
        ReceiptKind::NoticeFailed {
            channel,
            description,
        } => {
            body["varslingskanal"] = json!(match channel {
                NoticeChannel::Email => "EPOST",
                NoticeChannel::Sms => "SMS",
            });
            body["beskrivelse"] = json!(description);
        }
        ReceiptKind::Error { kind, details } => {
            body["feiltype"] = json!(match kind {
                ErrorKind::Client => "KLIENT",
                ErrorKind::Server => "SERVER",
            });
            body["detaljer"] = json!(details);
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
                    "standard": format!(
                        "urn:fdc:digdir.no:2020:innbyggerpost:xsd::innbyggerpost##urn:fdc:digdir.no:2020:innbyggerpost:schema:{key}::1.0"
                    ),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
