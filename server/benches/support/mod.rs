//! What the benches share: the count from the command line and a scratch
//! PostgreSQL database to measure on, and citizens and archive letters to
//! fill a mailbox with.
// Each bench compiles this module on its own and uses only some of it.
#![allow(dead_code)]

use app::domain::{
    ConversationId, Document, DocumentRole, Fnr, Letter, LetterId, MediaType, MessageId, OrgNr,
    SecurityLevel, Sender, Sha256Digest, Title,
};
use chrono::{Duration as Days, Utc};
use sqlx::{Connection, Executor};
use std::future::Future;

/// The first number on the command line, else `default`.
pub fn count_argument(default: usize) -> usize {
    std::env::args()
        .skip(1)
        .find_map(|argument| argument.parse().ok())
        .unwrap_or(default)
}

/// Runs `measure` with the URL of a fresh PostgreSQL database named after
/// `bench`, dropped afterwards whatever the outcome. PostgreSQL is expected at
/// `POSTKASSE_TEST_POSTGRES_URL` (default
/// `postgres://postgres@127.0.0.1:5432/postgres`); when it cannot be reached
/// this says so and answers `Ok(None)`: the bench measures SQLite only.
pub async fn on_scratch_postgres<T, Measured>(
    bench: &str,
    measure: impl FnOnce(String) -> Measured,
) -> anyhow::Result<Option<T>>
where
    Measured: Future<Output = anyhow::Result<T>>,
{
    let admin_url = std::env::var("POSTKASSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(admin) => admin,
        Err(error) => {
            println!("\nPostgreSQL: NOT MEASURED, cannot connect to {admin_url}: {error}");
            return Ok(None);
        }
    };
    let name = format!("postkasse_bench_{bench}_{}", std::process::id());
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    let url = format!(
        "{}/{name}",
        admin_url.rsplit_once('/').expect("a URL with a database").0
    );
    let outcome = measure(url).await;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await?;
    outcome.map(Some)
}

/// A synthetic national id, different for each `day` of May 1990.
pub fn citizen(day: u32) -> Fnr {
    let birth_date = chrono::NaiveDate::from_ymd_opt(1990, 5, day).expect("a day in May");
    (100..500)
        .find_map(|individual| Fnr::synthetic(birth_date, individual))
        .expect("some individual number gives valid control digits")
}

/// Letter `number` of a citizen's archive: a title of its own, a main
/// document and an attachment (no bytes: the rows alone), received `number`
/// minutes ago, every third one read.
pub fn archive_letter(recipient: &Fnr, number: usize) -> anyhow::Result<Letter> {
    let now = Utc::now();
    let title = Title::parse(&format!("Brev nummer {number}"))?;
    let document = |role, position: usize| -> anyhow::Result<Document> {
        Ok(Document {
            role,
            title: title.clone(),
            file_name: format!("dokument-{position}.pdf"),
            media_type: MediaType::Pdf,
            digest: Sha256Digest::from_bytes([(number % 251) as u8; 32]),
            size_bytes: 1000,
        })
    };
    Ok(Letter {
        id: LetterId::generate(),
        message_id: MessageId::generate(),
        conversation_id: ConversationId::generate(),
        recipient: recipient.clone(),
        sender: Sender::new(OrgNr::parse("974760673")?, "Brønnøysundregistrene")?,
        nonsensitive_title: title.clone(),
        title: title.clone(),
        security_level: SecurityLevel::Substantial,
        received_at: now - Days::minutes(number as i64),
        read_at: number.is_multiple_of(3).then_some(now),
        documents: vec![
            document(DocumentRole::Main, 0)?,
            document(DocumentRole::Attachment, 1)?,
        ],
        link: None,
        signer: None,
    })
}
