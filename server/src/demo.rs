//! Demo data: synthetic citizens with letters from well-known agencies, so a
//! newcomer sees a lived-in mailbox. Letters go in through the broker, the way
//! agency letters do, and seeding twice changes nothing.

use crate::{
    broker::{submission::SubmittedDocument, Broker, BrokerError, LetterSubmission},
    storage::{Citizen, Storage},
};
use anyhow::Context;
use app::domain::{ConversationId, Fnr, MessageId, OrgNr, SecurityLevel, Sender, Title};
use bytes::Bytes;
use chrono::NaiveDate;
use lopdf::{
    content::{Content, Operation},
    dictionary, Document, Object, Stream, StringFormat,
};
use uuid::Uuid;

/// A synthetic citizen in the demo population.
pub struct DemoCitizen {
    pub name: &'static str,
    pub birth_date: (i32, u32, u32),
}

pub const CITIZENS: [DemoCitizen; 3] = [
    DemoCitizen {
        name: "Kari Nordmann",
        birth_date: (1985, 3, 14),
    },
    DemoCitizen {
        name: "Ola Nordmann",
        birth_date: (1979, 11, 2),
    },
    DemoCitizen {
        name: "Sofie Hansen",
        birth_date: (1996, 6, 30),
    },
];

struct DemoLetter {
    org_nr: &'static str,
    sender: &'static str,
    nonsensitive_title: &'static str,
    title: &'static str,
    level: SecurityLevel,
    body: &'static [&'static str],
}

const LETTERS: [DemoLetter; 4] = [
    DemoLetter {
        org_nr: "974761076",
        sender: "Skatteetaten",
        nonsensitive_title: "Skatteoppgjøret ditt er klart",
        title: "Skatteoppgjør for inntektsåret 2025",
        level: SecurityLevel::Substantial,
        body: &[
            "Skatteoppgjøret for 2025 er ferdig.",
            "Du får 4 312 kroner igjen på skatten.",
            "Beløpet blir utbetalt til kontonummeret ditt innen tre uker.",
        ],
    },
    DemoLetter {
        org_nr: "889640782",
        sender: "NAV",
        nonsensitive_title: "Du har fått et brev fra NAV",
        title: "Vedtak om foreldrepenger",
        level: SecurityLevel::High,
        body: &[
            "Vi har innvilget søknaden din om foreldrepenger.",
            "Vedtaket gjelder fra 1. desember 2026.",
            "Du kan klage på vedtaket innen seks uker.",
        ],
    },
    DemoLetter {
        org_nr: "958935420",
        sender: "Oslo kommune",
        nonsensitive_title: "Svar på søknad om barnehageplass",
        title: "Tilbud om barnehageplass",
        level: SecurityLevel::Substantial,
        body: &[
            "Barnet ditt har fått tilbud om plass i Bjørnebo barnehage.",
            "Svar på tilbudet innen 14 dager.",
        ],
    },
    DemoLetter {
        org_nr: "974760673",
        sender: "Brønnøysundregistrene",
        nonsensitive_title: "Bekreftelse på registrering",
        title: "Bekreftelse på registrering i Enhetsregisteret",
        level: SecurityLevel::Substantial,
        body: &[
            "Enkeltpersonforetaket ditt er registrert i Enhetsregisteret.",
            "Organisasjonsnummeret finner du i Brønnøysundregistrenes søketjeneste.",
        ],
    },
];

/// The synthetic national id of a demo citizen: the first individual number
/// that gives valid control digits.
pub fn demo_fnr(citizen: &DemoCitizen) -> Fnr {
    let (year, month, day) = citizen.birth_date;
    let birth_date =
        NaiveDate::from_ymd_opt(year, month, day).expect("demo birth dates are real dates");
    (100..500)
        .find_map(|individual_number| Fnr::synthetic(birth_date, individual_number))
        .expect("some individual number gives valid control digits")
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub letters_added: usize,
    pub letters_already_present: usize,
}

/// Seeds the demo population. Message ids are fixed, so a second run finds
/// every letter already delivered and adds nothing.
pub async fn seed(storage: &dyn Storage, broker: &Broker) -> anyhow::Result<SeedReport> {
    let mut report = SeedReport::default();
    for (citizen_index, citizen) in CITIZENS.iter().enumerate() {
        let fnr = demo_fnr(citizen);
        storage
            .upsert_citizen(&Citizen {
                fnr: fnr.clone(),
                display_name: Some(citizen.name.to_owned()),
            })
            .await
            .context("seeding a citizen failed")?;
        for (letter_index, letter) in LETTERS.iter().enumerate() {
            let sequence = (citizen_index * LETTERS.len() + letter_index) as u128;
            let submission = LetterSubmission {
                message_id: MessageId::from_uuid(Uuid::from_u128(
                    0x0d3e_0000_0000_4000_8000_0000_0000_0000 + sequence,
                )),
                conversation_id: ConversationId::from_uuid(Uuid::from_u128(
                    0x0d3e_0000_0000_4000_9000_0000_0000_0000 + sequence,
                )),
                recipient: fnr.clone(),
                sender: Sender::new(OrgNr::parse(letter.org_nr)?, letter.sender)?,
                nonsensitive_title: Title::parse(letter.nonsensitive_title)?,
                title: Title::parse(letter.title)?,
                security_level: letter.level,
                document: SubmittedDocument {
                    file_name: format!("{}.pdf", letter.sender.to_lowercase().replace(' ', "-")),
                    bytes: Bytes::from(letter_pdf(letter.title, citizen.name, letter.body)?),
                },
            };
            match broker.accept(submission).await {
                Ok(_) => report.letters_added += 1,
                Err(BrokerError::Duplicate(_)) => report.letters_already_present += 1,
                Err(BrokerError::Internal(cause)) => {
                    return Err(cause.context("seeding a letter failed"))
                }
            }
        }
    }
    Ok(report)
}

/// A one-page A4 PDF letter with real, extractable text.
pub fn letter_pdf(title: &str, addressee: &str, paragraphs: &[&str]) -> anyhow::Result<Vec<u8>> {
    let mut document = Document::with_version("1.5");
    let pages_id = document.new_object_id();
    // Helvetica with WinAnsiEncoding covers æ, ø and å.
    let font_id = document.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources_id =
        document.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut operations = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 16.into()]),
        Operation::new("TL", vec![22.into()]),
        Operation::new("Td", vec![60.into(), 770.into()]),
        Operation::new("Tj", vec![win_ansi(title)?]),
        Operation::new("Tf", vec!["F1".into(), 11.into()]),
        Operation::new("T*", vec![]),
        Operation::new("Tj", vec![win_ansi(&format!("Til: {addressee}"))?]),
    ];
    for paragraph in paragraphs {
        operations.push(Operation::new("T*", vec![]));
        operations.push(Operation::new("Tj", vec![win_ansi(paragraph)?]));
    }
    operations.push(Operation::new("ET", vec![]));
    let content = Content { operations };
    let content_id = document.add_object(Stream::new(dictionary! {}, content.encode()?));
    let page_id = document.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
    });
    document.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = document.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    document.trailer.set("Root", catalog_id);
    let mut bytes = Vec::new();
    document.save_to(&mut bytes)?;
    Ok(bytes)
}

/// PDF's WinAnsiEncoding agrees with Latin-1 for every character we write.
fn win_ansi(text: &str) -> anyhow::Result<Object> {
    let bytes = text
        .chars()
        .map(|character| u8::try_from(u32::from(character)).context("demo text must be Latin-1"))
        .collect::<anyhow::Result<Vec<u8>>>()?;
    Ok(Object::String(bytes, StringFormat::Literal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::{MediaType, SyntheticIds};

    #[test]
    fn demo_citizens_have_valid_synthetic_ids() {
        for citizen in &CITIZENS {
            let fnr = demo_fnr(citizen);
            assert!(fnr.is_synthetic());
            assert_eq!(
                Fnr::parse(fnr.as_str(), SyntheticIds::Accepted).unwrap(),
                fnr
            );
            assert!(Fnr::parse(fnr.as_str(), SyntheticIds::Refused).is_err());
        }
    }

    #[test]
    fn demo_senders_have_valid_org_numbers() {
        for letter in &LETTERS {
            OrgNr::parse(letter.org_nr)
                .unwrap_or_else(|error| panic!("{}: {error}", letter.sender));
        }
    }

    #[test]
    fn generated_letters_are_pdfs_that_parse_back() {
        let bytes = letter_pdf(
            "Vedtak om foreldrepenger",
            "Kari Nordmann",
            &["Vi har innvilget søknaden."],
        )
        .unwrap();
        assert!(MediaType::Pdf.matches_content(&bytes));
        let parsed = Document::load_mem(&bytes).unwrap();
        assert_eq!(parsed.get_pages().len(), 1);
    }
}
