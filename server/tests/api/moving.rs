//! Moving a citizen's letters between two Postkasse installations (DPI's
//! `flyttet`). A runs as the real `postkasse serve` process, so it can be
//! killed with SIGKILL mid-move and started again; B runs in the test. Kari
//! switches from A to B in Settings and moves her 200 letters: B's archive
//! has each exactly once, with its sender, day and read state.

use crate::{
    helpers::{
        citizen, http_client, on_both_backends, spawn_app_with, Backend, TestDatabase,
        OWN_PROVIDER, TEST_SENDER,
    },
    login::{get_at, login_as_at, server_fn_at},
    provider_network::{
        as_provider_b, certificate_der, eventually, keys_of_b, name_the_agency, post_message,
        register_provider, InstallationA, PROVIDER_B,
    },
};
use app::domain::OrgNr;
use postkasse::{krr::Store as _, mailbox::Store as _, moving::Store as _};
use reqwest::StatusCode;
use std::collections::HashSet;

const LETTERS: usize = 200;
/// Letters Kari has read at A before she moves.
const READ_BEFORE: usize = 10;

async fn letters_move_to_the_new_provider_once_even_across_a_crash(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let b_keys = keys_of_b().await;
    let a = InstallationA::new(&database, &b_keys).await;
    let a_address = a.address.clone();
    let kari = citizen(22);
    a.register(&kari, "kari#AAAAAAAA", OWN_PROVIDER).await;
    let mut a_process = a.start().await;

    let b_files = b_keys.files();
    let issuer = a_address.clone();
    let b = spawn_app_with(backend, move |settings| {
        as_provider_b(settings, &b_files, &issuer)
    })
    .await
    .expect("B starts where A did");
    name_the_agency(&b).await;
    register_provider(
        &b,
        OWN_PROVIDER,
        "Postkasse A",
        &a_address,
        certificate_der(&crate::helpers::provider_files().1),
    )
    .await;
    a.add_provider_b(&b, &b_keys).await;

    // Kari's letters at A, as an agency sends them.
    let token = a.send_token(TEST_SENDER).await;
    let client = http_client();
    let sender = OrgNr::parse(TEST_SENDER).unwrap();
    let mut titles = HashSet::new();
    for index in 0..LETTERS {
        let title = format!("Brev nummer {index}");
        let letter = crate::helpers::test_letter(&sender, &kari, &title);
        let package = letter.package().unwrap();
        let response = post_message(
            &client,
            &a_address,
            &token,
            letter.business_message(&package).to_string(),
            Some(package),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        titles.insert(title);
    }
    let a_storage = database.database().await;
    let at_a = a_storage
        .letters_for(&kari, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(at_a.len(), LETTERS);
    let mut read = HashSet::new();
    for letter in at_a.iter().take(READ_BEFORE) {
        a_storage
            .set_unread(&kari, letter.id, false, chrono::Utc::now())
            .await
            .unwrap();
        read.insert(letter.title.as_str().to_owned());
    }

    // Kari chooses B in Settings at A; the register, national in real life,
    // is each installation's own here, so B learns her new address too.
    let session = login_as_at(&client, &a_address, &kari).await;
    let chosen = server_fn_at(
        &client,
        &a_address,
        "choose_mailbox",
        &[("provider", PROVIDER_B.to_owned())],
        &session,
    )
    .await;
    assert!(chosen.status().is_success() || chosen.status().is_redirection());
    let entry = a_storage
        .register_entry(&kari)
        .await
        .unwrap()
        .expect("Kari in A's register")
        .person;
    assert_eq!(
        entry
            .mailbox
            .as_ref()
            .map(|mailbox| mailbox.provider.as_str()),
        Some(PROVIDER_B)
    );
    b.database
        .import_entries(&[entry], chrono::Utc::now())
        .await
        .unwrap();

    let settings = get_at(&client, &a_address, "/innstillinger", &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        settings.contains(&format!(
            "Du har {LETTERS} brev her som kan flyttes til Postkasse B"
        )),
        "the settings page offers the move"
    );

    let started = server_fn_at(&client, &a_address, "start_move", &[], &session).await;
    assert!(started.status().is_success() || started.status().is_redirection());

    // Killed mid-move, and started again.
    eventually("the first letters at B", || async {
        (b.letters(&kari).await.len() >= LETTERS / 5).then_some(())
    })
    .await;
    a_process.kill().await.expect("SIGKILL A");
    let moved_before_the_kill = b.letters(&kari).await.len();
    assert!(moved_before_the_kill < LETTERS, "killed before the end");
    let mut a_process = a.start().await;

    let counts = eventually("every letter moved", || async {
        let counts = a_storage
            .move_counts(&kari, &OrgNr::parse(PROVIDER_B).unwrap())
            .await
            .unwrap();
        (counts.moved + counts.failed == LETTERS as u64).then_some(counts)
    })
    .await;
    assert_eq!(counts.moved, LETTERS as u64, "{counts:?}");
    a_process.kill().await.unwrap();

    let at_b = b.letters(&kari).await;
    assert_eq!(at_b.len(), LETTERS, "each letter exactly once");
    let moved_titles: HashSet<String> = at_b
        .iter()
        .map(|letter| letter.title.as_str().to_owned())
        .collect();
    assert_eq!(moved_titles, titles);
    for letter in &at_b {
        assert_eq!(
            letter.sender_name, "Brønnøysundregistrene",
            "the original sender"
        );
        assert_eq!(
            !letter.unread,
            read.contains(letter.title.as_str()),
            "the read state of {}",
            letter.title.as_str()
        );
    }
    println!("{LETTERS} letters moved, {moved_before_the_kill} of them before A was killed");
}

on_both_backends!(letters_move_to_the_new_provider_once_even_across_a_crash);
