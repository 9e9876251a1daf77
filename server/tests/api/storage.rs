//! The storage suite: what the mailbox asks of its store (`mailbox::Store`)
//! and the database's own answers (statistics, ping), held to account on
//! both backends.

use crate::helpers::{on_both_backends, Backend, TestDatabase};
use app::domain::{
    ConversationId, Document, DocumentRole, Fnr, Letter, LetterId, MediaType, MessageId, OrgNr,
    SecurityLevel, Sender, Sha256Digest, Title,
};
use chrono::{Duration, NaiveDate, SubsecRound, Utc};
use postkasse::{
    mailbox::{Citizen, Store as _},
    sql::StoreStatistics,
    store::StorageError,
};

fn citizen(day: u32) -> Fnr {
    let birth_date = NaiveDate::from_ymd_opt(1990, 5, day).unwrap();
    (100..500)
        .find_map(|individual| Fnr::synthetic(birth_date, individual))
        .unwrap()
}

fn letter_for(recipient: &Fnr, minutes_ago: i64) -> Letter {
    let title = Title::parse("Vedtak om bostøtte").unwrap();
    Letter {
        id: LetterId::generate(),
        message_id: MessageId::generate(),
        conversation_id: ConversationId::generate(),
        recipient: recipient.clone(),
        sender: Sender::new(OrgNr::parse("974760673").unwrap(), "Brønnøysundregistrene").unwrap(),
        nonsensitive_title: Title::parse("Brev fra Husbanken").unwrap(),
        title: title.clone(),
        security_level: SecurityLevel::High,
        received_at: (Utc::now() - Duration::minutes(minutes_ago)).trunc_subsecs(6),
        read_at: None,
        documents: vec![Document {
            role: DocumentRole::Main,
            title,
            file_name: "vedtak.pdf".into(),
            media_type: MediaType::Pdf,
            digest: Sha256Digest::from_bytes([42; 32]),
            size_bytes: 1234,
        }],
        link: None,
        signer: None,
    }
}

async fn a_stored_letter_reads_back_whole(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let mailboxes = database.database().await;
    let owner = citizen(1);
    let letter = letter_for(&owner, 0);
    mailboxes.insert_letter(&letter).await.unwrap();

    let stored = mailboxes
        .letter_for(
            postkasse::mailbox::Reader::owner(&owner),
            letter.id,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(stored, letter);
}

async fn the_inbox_lists_only_the_owners_letters_newest_first(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let mailboxes = database.database().await;
    let (kari, ola) = (citizen(2), citizen(3));
    let older = letter_for(&kari, 60);
    let newer = letter_for(&kari, 5);
    let someone_elses = letter_for(&ola, 1);
    for letter in [&older, &newer, &someone_elses] {
        mailboxes.insert_letter(letter).await.unwrap();
    }

    let inbox = mailboxes
        .letters_for(&kari, chrono::Utc::now())
        .await
        .unwrap();
    let ids: Vec<_> = inbox.iter().map(|summary| summary.id).collect();
    assert_eq!(ids, [newer.id, older.id]);
    assert!(inbox
        .iter()
        .all(|summary| summary.unread && summary.document_count == 1));
    assert_eq!(inbox[0].sender_name, "Brønnøysundregistrene");
}

async fn another_citizens_letter_is_not_found(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let mailboxes = database.database().await;
    let (owner, stranger) = (citizen(4), citizen(5));
    let letter = letter_for(&owner, 0);
    mailboxes.insert_letter(&letter).await.unwrap();

    let result = mailboxes
        .letter_for(
            postkasse::mailbox::Reader::owner(&stranger),
            letter.id,
            chrono::Utc::now(),
        )
        .await;
    assert!(matches!(result, Err(StorageError::NotFound)), "{result:?}");
    let result = mailboxes
        .letter_for(
            postkasse::mailbox::Reader::owner(&owner),
            LetterId::generate(),
            chrono::Utc::now(),
        )
        .await;
    assert!(matches!(result, Err(StorageError::NotFound)), "{result:?}");
}

async fn a_resent_message_id_conflicts_only_for_the_same_sender(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let mailboxes = database.database().await;
    let storage = database.database().await;
    let owner = citizen(6);
    let first = letter_for(&owner, 0);
    mailboxes.insert_letter(&first).await.unwrap();

    let resent = Letter {
        id: LetterId::generate(),
        ..first.clone()
    };
    let result = mailboxes.insert_letter(&resent).await;
    assert!(
        matches!(result, Err(StorageError::Conflict(_))),
        "{result:?}"
    );

    let other_sender = Letter {
        id: LetterId::generate(),
        sender: Sender::new(OrgNr::parse("991825827").unwrap(), "Digdir").unwrap(),
        ..first
    };
    mailboxes.insert_letter(&other_sender).await.unwrap();
    assert_eq!(storage.statistics().await.unwrap().letters, 2);
}

async fn a_letter_that_fails_halfway_leaves_nothing_behind(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let mailboxes = database.database().await;
    let storage = database.database().await;
    let mut letter = letter_for(&citizen(7), 0);
    // Two main documents break a constraint after the citizen, sender, letter
    // and first document rows were written in the transaction.
    letter.documents.push(letter.documents[0].clone());

    assert!(mailboxes.insert_letter(&letter).await.is_err());
    assert_eq!(
        storage.statistics().await.unwrap(),
        StoreStatistics::default()
    );
}

async fn citizens_keep_their_name_when_a_letter_arrives(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let mailboxes = database.database().await;
    let storage = database.database().await;
    let kari = citizen(8);
    mailboxes
        .upsert_citizen(&Citizen {
            fnr: kari.clone(),
            display_name: Some("Kari Nordmann".into()),
        })
        .await
        .unwrap();
    mailboxes
        .upsert_citizen(&Citizen {
            fnr: kari.clone(),
            display_name: None,
        })
        .await
        .unwrap();
    mailboxes
        .insert_letter(&letter_for(&kari, 0))
        .await
        .unwrap();

    let statistics = storage.statistics().await.unwrap();
    assert_eq!(
        (
            statistics.citizens,
            statistics.letters,
            statistics.documents
        ),
        (1, 1, 1)
    );
}

async fn the_database_answers_pings(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let storage = database.database().await;
    storage.ping().await.unwrap();
    let expected = match backend {
        Backend::Sqlite => postkasse::sql::Backend::Sqlite,
        Backend::Postgres => postkasse::sql::Backend::Postgres,
    };
    assert_eq!(storage.backend(), expected);
}

on_both_backends!(
    a_stored_letter_reads_back_whole,
    the_inbox_lists_only_the_owners_letters_newest_first,
    another_citizens_letter_is_not_found,
    a_resent_message_id_conflicts_only_for_the_same_sender,
    a_letter_that_fails_halfway_leaves_nothing_behind,
    citizens_keep_their_name_when_a_letter_arrives,
    the_database_answers_pings,
);

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_full_sync_and_foreign_keys() {
    let directory = tempfile::tempdir().unwrap();
    let database = postkasse::sql::Database::connect(&postkasse::sql::DatabaseOptions {
        url: secrecy::SecretString::from(format!(
            "sqlite://{}",
            directory.path().join("p.db").display()
        )),
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(5),
    })
    .await
    .unwrap();
    let (journal_mode, synchronous, foreign_keys) = database.sqlite_pragmas().await.unwrap();
    assert_eq!(journal_mode, "wal");
    assert_eq!(synchronous, 2, "2 is FULL");
    assert_eq!(foreign_keys, 1);
}
