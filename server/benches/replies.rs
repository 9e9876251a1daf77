//! How fast a reply's sealed receipt is made, beside a bare RSA signature.
//!
//! `cargo bench -p postkasse --bench replies [-- RECEIPTS]` (default 500).
//!
//! Before any clock starts: a 2048-bit key with its self-signed certificate
//! (as this Postkasse has), a form of six questions and the answers to it.
//! Then, on one thread (a reply's receipt is made on one blocking thread):
//!
//! - Postkasse: [`receipt::receipt_pdf`] (the receipt laid out with krilla,
//!   the font subset and embedded) and [`Sealer::seal`] (lopdf writes the
//!   signature field, the CMS SignedData is built and signed): what sending
//!   a reply costs on top of its database work.
//! - Bare RSA: a PKCS#1 v1.5 signature over a SHA-256 digest with the same
//!   key, which every seal makes once: the least a seal can cost.
//! - The PDF alone, without the seal, to show where the time goes.
//!
//! It prints receipts per second for each and the ratio. Nothing is asserted.

use app::domain::{
    reply_form::{Answer, AnswerFile, Choice, Question, QuestionKind},
    OrgNr, ReplyForm, SecurityLevel,
};
use chrono::Utc;
use postkasse::{replies::receipt, seal::Sealer};
use rsa::{pkcs1v15::SigningKey, signature::Signer, RsaPrivateKey};
use sha2::{Digest, Sha256};
use std::{collections::BTreeMap, time::Instant};
use x509_cert::der::Encode;

fn question(id: &str, text: &str, kind: QuestionKind) -> Question {
    Question {
        id: id.to_owned(),
        text: text.to_owned(),
        help: None,
        required: true,
        kind,
        next: None,
        branches: BTreeMap::new(),
    }
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|argument| argument.parse().ok())
        .unwrap_or(500);
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("a key");
    let certificate = postkasse::keys::self_signed(
        &key,
        &OrgNr::parse("999900003").expect("an org number"),
        "Postkasse",
    )
    .expect("a certificate");
    let sealer =
        Sealer::from_key(key.clone(), &certificate.to_der().expect("DER")).expect("a sealer");
    let form = ReplyForm {
        version: 1,
        title: "Påmelding til kurs".to_owned(),
        intro: None,
        deadline: Utc::now(),
        free_text: true,
        questions: vec![
            question("deltar", "Kommer du på kurset?", QuestionKind::YesNo),
            question(
                "dag",
                "Hvilken dag passer?",
                QuestionKind::OneChoice(vec![
                    Choice {
                        value: "man".to_owned(),
                        text: "Mandag".to_owned(),
                    },
                    Choice {
                        value: "tir".to_owned(),
                        text: "Tirsdag".to_owned(),
                    },
                ]),
            ),
            question("allergi", "Allergier", QuestionKind::ShortText),
            question(
                "antall",
                "Hvor mange følger deg?",
                QuestionKind::Number {
                    min: Some(0),
                    max: Some(3),
                },
            ),
            question("kommentar", "Noe mer vi bør vite?", QuestionKind::LongText),
            question("attest", "Legeattest", QuestionKind::Attachment),
        ],
    };
    let answers = [
        ("deltar", Answer::Choice("ja".to_owned())),
        ("dag", Answer::Choice("tir".to_owned())),
        ("allergi", Answer::Text("Nøtter og skalldyr".to_owned())),
        ("antall", Answer::Number(2)),
        (
            "kommentar",
            Answer::Text("Jeg kommer med rullestol og trenger en plass ved døren. ".repeat(8)),
        ),
        (
            "attest",
            Answer::Attachment(AnswerFile {
                file_name: "legeattest.pdf".to_owned(),
                media_type: "application/pdf".to_owned(),
                sha256: "ab".repeat(32),
                size_bytes: 48_213,
            }),
        ),
    ];
    let facts = || receipt::ReceiptFacts {
        letter_title: "Innkalling til kurs",
        sender_name: "Brønnøysundregistrene",
        form: &form,
        reply_id: uuid::Uuid::new_v4(),
        sent_at: Utc::now(),
        level: SecurityLevel::Substantial,
        answers: answers.iter().map(|(id, answer)| (*id, answer)).collect(),
    };
    println!("{count} receipts, one thread");

    let started = Instant::now();
    let mut bytes = 0;
    for _ in 0..count {
        let pdf = receipt::receipt_pdf(&facts()).expect("a receipt");
        let sealed = sealer
            .seal(&pdf, "Kvittering for svar", Utc::now())
            .expect("a seal");
        bytes += sealed.len();
    }
    let sealed_rate = count as f64 / started.elapsed().as_secs_f64();
    println!(
        "postkasse: {sealed_rate:.0} sealed receipts/s ({} bytes each)",
        bytes / count
    );

    let started = Instant::now();
    for _ in 0..count {
        receipt::receipt_pdf(&facts()).expect("a receipt");
    }
    let pdf_rate = count as f64 / started.elapsed().as_secs_f64();
    println!("the receipt PDF alone: {pdf_rate:.0}/s");

    let signer = SigningKey::<Sha256>::new(key);
    let started = Instant::now();
    for number in 0..count {
        let digest = Sha256::digest(number.to_le_bytes());
        let _signature = signer.sign(&digest);
    }
    let bare_rate = count as f64 / started.elapsed().as_secs_f64();
    println!("bare RSA-2048 PKCS#1 v1.5 signatures: {bare_rate:.0}/s");
    println!(
        "ratio (sealed receipts / bare signatures): {:.2}",
        sealed_rate / bare_rate
    );
}
