//! Turning an agency's upload into a [`LetterSubmission`] the broker can trust.
//!
//! Every field is checked and every problem collected, so the sender learns
//! about all of them in one answer. Names in errors are paths into the
//! request: `metadata.avsender.organisasjonsnummer`, `document`.

use crate::http::FieldError;
use app::domain::{
    ConversationId, Fnr, MediaType, MessageId, OrgNr, SecurityLevel, Sender, SyntheticIds, Title,
};
use bytes::Bytes;
use serde::Deserialize;

/// A letter that passed every check, ready for [`super::Broker::accept`].
#[derive(Debug)]
pub struct LetterSubmission {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub recipient: Fnr,
    pub sender: Sender,
    pub nonsensitive_title: Title,
    pub title: Title,
    pub security_level: SecurityLevel,
    pub document: SubmittedDocument,
}

#[derive(Debug)]
pub struct SubmittedDocument {
    pub file_name: String,
    pub bytes: Bytes,
}

/// The parts of the multipart request as they arrived, before any checks.
#[derive(Debug, Default)]
pub struct RawSubmission {
    pub metadata: Option<Bytes>,
    pub document: Option<RawDocument>,
    /// Problems found while reading the request (unknown or repeated parts,
    /// parts over their size limit).
    pub problems: Vec<FieldError>,
}

#[derive(Debug)]
pub struct RawDocument {
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

#[derive(Debug, Clone, Copy)]
pub struct SubmissionLimits {
    pub max_document_bytes: usize,
    pub synthetic_ids: SyntheticIds,
}

/// The metadata part, with DPI's field names where DPI has one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Metadata {
    message_id: Option<String>,
    conversation_id: Option<String>,
    mottaker: Option<Mottaker>,
    avsender: Option<Avsender>,
    ikkesensitivtittel: Option<String>,
    tittel: Option<String>,
    sikkerhetsnivaa: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Mottaker {
    personidentifikator: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Avsender {
    organisasjonsnummer: Option<String>,
    navn: Option<String>,
}

const MISSING: &str = "is required";

/// Collects problems while fields are parsed one by one.
#[derive(Default)]
struct Checks {
    problems: Vec<FieldError>,
}

impl Checks {
    fn required<T, E: ToString>(
        &mut self,
        name: &str,
        value: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let Some(value) = value else {
            self.problems.push(FieldError::new(name, MISSING));
            return None;
        };
        self.parsed(name, parse(value))
    }

    fn parsed<T, E: ToString>(&mut self, name: &str, result: Result<T, E>) -> Option<T> {
        result
            .map_err(|error| self.problems.push(FieldError::new(name, error)))
            .ok()
    }
}

impl LetterSubmission {
    pub fn parse(raw: RawSubmission, limits: SubmissionLimits) -> Result<Self, Vec<FieldError>> {
        let mut checks = Checks {
            problems: raw.problems,
        };
        let document = check_document(raw.document, limits, &mut checks);
        let metadata = match raw.metadata {
            None => {
                checks.problems.push(FieldError::new("metadata", MISSING));
                None
            }
            Some(bytes) => {
                let deserializer = &mut serde_json::Deserializer::from_slice(&bytes);
                match serde_path_to_error::deserialize::<_, Metadata>(deserializer) {
                    Ok(metadata) => Some(metadata),
                    Err(error) => {
                        let path = error.path().to_string();
                        let inner = error.into_inner();
                        // Broken JSON has no field to blame; wrong data has a path.
                        let problem = if inner.classify() != serde_json::error::Category::Data
                            || path == "."
                        {
                            FieldError::new(
                                "metadata",
                                format!("is not a valid metadata object: {inner}"),
                            )
                        } else {
                            FieldError::new(format!("metadata.{path}"), inner)
                        };
                        checks.problems.push(problem);
                        None
                    }
                }
            }
        };
        let Some(metadata) = metadata else {
            return Err(checks.problems);
        };

        let message_id = checks.required(
            "metadata.messageId",
            metadata.message_id.as_deref(),
            str::parse::<MessageId>,
        );
        let conversation_id = match metadata.conversation_id.as_deref() {
            // A message without a conversation starts one.
            None => Some(ConversationId::generate()),
            Some(text) => checks.parsed("metadata.conversationId", text.parse::<ConversationId>()),
        };
        let recipient = checks.required(
            "metadata.mottaker.personidentifikator",
            metadata
                .mottaker
                .as_ref()
                .and_then(|mottaker| mottaker.personidentifikator.as_deref()),
            |text| Fnr::parse(text, limits.synthetic_ids),
        );
        let avsender = metadata.avsender.as_ref();
        let org_nr = checks.required(
            "metadata.avsender.organisasjonsnummer",
            avsender.and_then(|avsender| avsender.organisasjonsnummer.as_deref()),
            OrgNr::parse,
        );
        let sender_name = checks.required(
            "metadata.avsender.navn",
            avsender.and_then(|avsender| avsender.navn.as_deref()),
            |name| app::domain::letter::checked_text(name, Sender::MAX_NAME_CHARS),
        );
        let nonsensitive_title = checks.required(
            "metadata.ikkesensitivtittel",
            metadata.ikkesensitivtittel.as_deref(),
            Title::parse,
        );
        let title = match metadata.tittel.as_deref() {
            // Without a manifest title the non-sensitive one is all there is.
            None => nonsensitive_title.clone(),
            Some(text) => checks.parsed("metadata.tittel", Title::parse(text)),
        };
        let security_level = match metadata.sikkerhetsnivaa {
            // DPI's old documentation makes 4 the default; err on the safe side.
            None => Some(SecurityLevel::High),
            Some(number) => {
                checks.parsed("metadata.sikkerhetsnivaa", SecurityLevel::try_from(number))
            }
        };

        match (
            message_id,
            conversation_id,
            recipient,
            org_nr,
            sender_name,
            nonsensitive_title,
            title,
            security_level,
            document,
        ) {
            (
                Some(message_id),
                Some(conversation_id),
                Some(recipient),
                Some(org_nr),
                Some(sender_name),
                Some(nonsensitive_title),
                Some(title),
                Some(security_level),
                Some(document),
            ) if checks.problems.is_empty() => Ok(LetterSubmission {
                message_id,
                conversation_id,
                recipient,
                sender: Sender {
                    org_nr,
                    name: sender_name,
                },
                nonsensitive_title,
                title,
                security_level,
                document,
            }),
            _ => Err(checks.problems),
        }
    }
}

fn check_document(
    document: Option<RawDocument>,
    limits: SubmissionLimits,
    checks: &mut Checks,
) -> Option<SubmittedDocument> {
    const NAME: &str = "document";
    let Some(document) = document else {
        if !checks.problems.iter().any(|problem| problem.name == NAME) {
            checks.problems.push(FieldError::new(NAME, MISSING));
        }
        return None;
    };
    let declared = document
        .content_type
        .as_deref()
        .and_then(MediaType::from_mime);
    let reason = if declared != Some(MediaType::Pdf) {
        Some("must be sent with content type application/pdf".to_owned())
    } else if document.bytes.is_empty() {
        Some("is empty".to_owned())
    } else if document.bytes.len() > limits.max_document_bytes {
        Some(format!(
            "must be at most {} bytes",
            limits.max_document_bytes
        ))
    } else if !MediaType::Pdf.matches_content(&document.bytes) {
        Some("is not a PDF document (no %PDF- header)".to_owned())
    } else {
        None
    };
    if let Some(reason) = reason {
        checks.problems.push(FieldError::new(NAME, reason));
        return None;
    }
    Some(SubmittedDocument {
        file_name: safe_file_name(document.file_name.as_deref()),
        bytes: document.bytes,
    })
}

/// The last path segment, without control characters, never empty: the name
/// is shown to citizens and used in `Content-Disposition`.
fn safe_file_name(name: Option<&str>) -> String {
    let base = name
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|character| !character.is_control() && *character != '"')
        .take(200)
        .collect::<String>();
    let base = base.trim();
    if base.is_empty() || base == "." || base == ".." {
        "dokument.pdf".to_owned()
    } else {
        base.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn limits() -> SubmissionLimits {
        SubmissionLimits {
            max_document_bytes: 1000,
            synthetic_ids: SyntheticIds::Accepted,
        }
    }

    fn recipient() -> String {
        Fnr::synthetic(NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(), 123)
            .or_else(|| Fnr::synthetic(NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(), 124))
            .unwrap()
            .as_str()
            .to_owned()
    }

    fn metadata(recipient: &str) -> Bytes {
        Bytes::from(
            serde_json::json!({
                "messageId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                "mottaker": { "personidentifikator": recipient },
                "avsender": { "organisasjonsnummer": "974760673", "navn": "Brønnøysundregistrene" },
                "ikkesensitivtittel": "Brev fra Brønnøysundregistrene",
                "sikkerhetsnivaa": 3
            })
            .to_string(),
        )
    }

    fn pdf() -> RawDocument {
        RawDocument {
            file_name: Some("../../etc/vedtak.pdf".into()),
            content_type: Some("application/pdf".into()),
            bytes: Bytes::from_static(b"%PDF-1.4 ..."),
        }
    }

    fn names(problems: &[FieldError]) -> Vec<&str> {
        problems
            .iter()
            .map(|problem| problem.name.as_str())
            .collect()
    }

    #[test]
    fn a_complete_submission_parses_with_defaults_filled_in() {
        let raw = RawSubmission {
            metadata: Some(metadata(&recipient())),
            document: Some(pdf()),
            problems: vec![],
        };
        let submission = LetterSubmission::parse(raw, limits()).unwrap();
        assert_eq!(submission.security_level, SecurityLevel::Substantial);
        assert_eq!(submission.title.as_str(), "Brev fra Brønnøysundregistrene");
        assert_eq!(
            submission.document.file_name, "vedtak.pdf",
            "path segments are dropped"
        );
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let metadata = Bytes::from(
            serde_json::json!({
                "messageId": "not-a-uuid",
                "mottaker": { "personidentifikator": "12345678901" },
                "avsender": { "organisasjonsnummer": "974760674" },
                "ikkesensitivtittel": "",
                "sikkerhetsnivaa": 2
            })
            .to_string(),
        );
        let raw = RawSubmission {
            metadata: Some(metadata),
            document: None,
            problems: vec![],
        };
        let problems = LetterSubmission::parse(raw, limits()).unwrap_err();
        assert_eq!(
            names(&problems),
            [
                "document",
                "metadata.messageId",
                "metadata.mottaker.personidentifikator",
                "metadata.avsender.organisasjonsnummer",
                "metadata.avsender.navn",
                "metadata.ikkesensitivtittel",
                "metadata.sikkerhetsnivaa",
            ]
        );
    }

    #[test]
    fn a_text_file_labelled_pdf_is_refused() {
        let document = RawDocument {
            bytes: Bytes::from_static(b"just some text"),
            ..pdf()
        };
        let raw = RawSubmission {
            metadata: Some(metadata(&recipient())),
            document: Some(document),
            problems: vec![],
        };
        let problems = LetterSubmission::parse(raw, limits()).unwrap_err();
        assert_eq!(names(&problems), ["document"]);
        assert!(problems[0].reason.contains("not a PDF"));
    }

    #[test]
    fn a_pdf_sent_as_another_type_is_refused() {
        let document = RawDocument {
            content_type: Some("text/plain".into()),
            ..pdf()
        };
        let raw = RawSubmission {
            metadata: Some(metadata(&recipient())),
            document: Some(document),
            problems: vec![],
        };
        assert_eq!(
            names(&LetterSubmission::parse(raw, limits()).unwrap_err()),
            ["document"]
        );
    }

    #[test]
    fn an_oversized_document_is_refused() {
        let mut bytes = b"%PDF-1.4".to_vec();
        bytes.resize(1001, b' ');
        let document = RawDocument {
            bytes: Bytes::from(bytes),
            ..pdf()
        };
        let raw = RawSubmission {
            metadata: Some(metadata(&recipient())),
            document: Some(document),
            problems: vec![],
        };
        let problems = LetterSubmission::parse(raw, limits()).unwrap_err();
        assert_eq!(problems[0].reason, "must be at most 1000 bytes");
    }

    #[test]
    fn synthetic_ids_are_refused_when_the_settings_say_so() {
        let raw = RawSubmission {
            metadata: Some(metadata(&recipient())),
            document: Some(pdf()),
            problems: vec![],
        };
        let strict = SubmissionLimits {
            synthetic_ids: SyntheticIds::Refused,
            ..limits()
        };
        let problems = LetterSubmission::parse(raw, strict).unwrap_err();
        assert_eq!(names(&problems), ["metadata.mottaker.personidentifikator"]);
    }

    #[test]
    fn malformed_json_and_unknown_fields_are_named() {
        let raw = RawSubmission {
            metadata: Some(Bytes::from_static(b"{not json")),
            document: Some(pdf()),
            problems: vec![],
        };
        assert_eq!(
            names(&LetterSubmission::parse(raw, limits()).unwrap_err()),
            ["metadata"]
        );
        let unknown = Bytes::from_static(br#"{"avsender": {"orgnr": "974760673"}}"#);
        let raw = RawSubmission {
            metadata: Some(unknown),
            document: Some(pdf()),
            problems: vec![],
        };
        let problems = LetterSubmission::parse(raw, limits()).unwrap_err();
        assert_eq!(names(&problems), ["metadata.avsender.orgnr"]);
        assert!(
            problems[0].reason.contains("unknown field `orgnr`"),
            "{}",
            problems[0].reason
        );
    }

    #[test]
    fn file_names_are_made_safe_to_show() {
        assert_eq!(safe_file_name(None), "dokument.pdf");
        assert_eq!(safe_file_name(Some("C:\\brev\\skatt.pdf")), "skatt.pdf");
        assert_eq!(safe_file_name(Some("..")), "dokument.pdf");
        assert_eq!(safe_file_name(Some("a\"b\nc.pdf")), "abc.pdf");
    }
}
