//! The agency API described for machines: OpenAPI 3.1 at `/api/openapi.json`.
//!
//! Written by hand beside the handlers it describes (`openapi.json`); a test
//! holds it to the router's routes so neither drifts from the other.

use axum::{http::header, response::IntoResponse};

/// The description, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}

#[cfg(test)]
mod tests {
    //! The description is written by hand; these hold its enumerations to
    //! the values the server itself reads and writes, so a new receipt kind,
    //! status or message standard cannot be left out of it.

    use super::DOCUMENT;
    use crate::broker::{
        message::{STANDARD_DIGITAL, STANDARD_MOVED, STANDARD_PRINT},
        receipts::{
            receipt, ErrorKind, ReceiptContext, ReceiptKind, MESSAGE, PROVIDER_RECEIPTS, REPLY,
            SIGNING_STATUS,
        },
        routing::Process,
        TransportStatus,
    };
    use app::domain::{ConversationId, NoticeChannel, OrgNr};
    use serde_json::Value;

    fn document() -> Value {
        serde_json::from_str(DOCUMENT).expect("the description is JSON")
    }

    fn strings(value: &Value) -> Vec<String> {
        value
            .as_array()
            .expect("an enum")
            .iter()
            .map(|item| item.as_str().expect("a string").to_owned())
            .collect()
    }

    fn schema<'a>(document: &'a Value, name: &str) -> &'a Value {
        &document["components"]["schemas"][name]
    }

    /// Every receipt the server makes, one of each kind.
    fn every_receipt() -> Vec<Value> {
        let (provider, agency) = (
            OrgNr::parse("999900003").unwrap(),
            OrgNr::parse("974760673").unwrap(),
        );
        let context = ReceiptContext {
            conversation_id: ConversationId::generate(),
            process: Process::Decision,
            provider: &provider,
            agency: &agency,
        };
        [
            ReceiptKind::Delivered,
            ReceiptKind::Opened,
            ReceiptKind::NoticeFailed {
                channel: NoticeChannel::Email,
                description: "ugyldig adresse".into(),
            },
            ReceiptKind::Received,
            ReceiptKind::ReturnedMail,
            ReceiptKind::Error {
                kind: ErrorKind::Client,
                details: "ingen adresse".into(),
            },
            ReceiptKind::OwnDocument {
                key: REPLY,
                body: serde_json::Map::new(),
            },
            ReceiptKind::OwnDocument {
                key: MESSAGE,
                body: serde_json::Map::new(),
            },
            ReceiptKind::Unanswered {
                deadline: chrono::Utc::now(),
            },
            ReceiptKind::OwnDocument {
                key: SIGNING_STATUS,
                body: serde_json::Map::new(),
            },
        ]
        .into_iter()
        .map(|kind| serde_json::from_str(&receipt(&context, kind, chrono::Utc::now()).document))
        .collect::<Result<_, _>>()
        .unwrap()
    }

    #[test]
    fn the_receipt_types_and_standards_are_those_the_server_writes() {
        let document = document();
        let identification = &schema(&document, "ReceiptHeader")["properties"]
            ["documentIdentification"]["properties"];
        let (types, standards) = (
            strings(&identification["type"]["enum"]),
            strings(&identification["standard"]["enum"]),
        );
        let receipt = &schema(&document, "Receipt")["properties"]["standardBusinessDocument"];
        for made in every_receipt() {
            let sbd = &made["standardBusinessDocument"];
            let made_identification =
                &sbd["standardBusinessDocumentHeader"]["documentIdentification"];
            let kind = made_identification["type"].as_str().unwrap();
            assert!(
                types.iter().any(|t| t == kind),
                "{kind} is a described type"
            );
            assert!(
                standards
                    .iter()
                    .any(|s| s == made_identification["standard"].as_str().unwrap()),
                "the standard of {kind} is described"
            );
            assert!(
                receipt["properties"].get(kind).is_some(),
                "the body {kind} is described"
            );
        }
        assert_eq!(
            types.len(),
            every_receipt().len(),
            "no kind the server never writes"
        );
        for kind in PROVIDER_RECEIPTS {
            assert!(types.iter().any(|t| t == kind));
        }
    }

    #[test]
    fn the_message_standards_and_statuses_are_the_servers() {
        let document = document();
        let identification = &schema(&document, "StandardBusinessDocumentHeader")["properties"]
            ["documentIdentification"]["properties"];
        assert_eq!(
            strings(&identification["standard"]["enum"]),
            [STANDARD_DIGITAL, STANDARD_PRINT, STANDARD_MOVED]
        );
        assert_eq!(
            strings(&identification["type"]["enum"]),
            ["digital", "utskrift", "flyttet"]
        );
        let statuses = strings(&schema(&document, "Status")["properties"]["status"]["enum"]);
        let ours: Vec<&str> = [
            TransportStatus::Created,
            TransportStatus::Sent,
            TransportStatus::Failed,
        ]
        .into_iter()
        .map(TransportStatus::code)
        .collect();
        assert_eq!(statuses, ours);
        assert!(
            ours.iter()
                .all(|code| TransportStatus::parse(code).is_some()),
            "every status reads back"
        );
    }
}
