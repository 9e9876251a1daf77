//! Moving a citizen's letters between two Postkasse installations (DPI's
//! `flyttet`). A runs as the real `postkasse serve` process, so it can be
//! killed with SIGKILL mid-move and started again; B runs in the test. Kari
//! switches from A to B in Settings and moves her 200 letters: B's archive
//! has each exactly once, with its sender, day and read state.

use crate::{
    crash::Environment,
    helpers::{
        citizen, on_both_backends, spawn_app_with, Backend, TestDatabase, OWN_PROVIDER, TEST_SENDER,
    },
    login::{get_at, login_as_at, server_fn_at},
    provider_network::{
        as_provider_b, certificate_der, eventually, keys_of_b, letters_at, name_the_agency,
        register_provider, PROVIDER_B,
    },
};
use app::domain::OrgNr;
use postkasse::{
    krr::{lookup::krr_time, Store as _},
    mailbox::Store as _,
    moving::Store as _,
};
use reqwest::StatusCode;
use std::{collections::HashSet, time::Duration};

const LETTERS: usize = 200;
/// Letters Kari has read at A before she moves.
const READ_BEFORE: usize = 10;

/// A port nothing listens on now: A keeps it across restarts, since its
/// address is the issuer B trusts.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn letters_move_to_the_new_provider_once_even_across_a_crash(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let b_keys = keys_of_b().await;
    let scratch = tempfile::tempdir().unwrap();
    let port = free_port();
    let a_address = format!("http://127.0.0.1:{port}");
    // Quick retries, and a short lease so a move A held when it was killed
    // is taken up soon after it starts again.
    let config = scratch.path().join("a.toml");
    std::fs::write(
        &config,
        format!(
            "[trust]\nanchors = [{:?}]\n\n[broker]\nretry_base_milliseconds = 50\nretry_max_seconds = 1\nlease_seconds = 2\npoll_milliseconds = 50\n",
            b_keys.certificate_file
        ),
    )
    .unwrap();
    let a = Environment {
        database_url: database.url.clone(),
        blobs: scratch.path().join("blobs"),
        scratch: scratch.path().to_path_buf(),
        port,
        config: Some(config),
    };
    a.cli(&["migrate"]).await;
    let kari = citizen(22);
    let register = scratch.path().join("register.csv");
    std::fs::write(
        &register,
        format!(
            "personidentifikator,reservasjon,epostadresse,epostadresse_oppdatert,postkasseadresse,postkasseleverandoeradresse\n{},NEI,kari@example.no,{},kari#AAAAAAAA,{OWN_PROVIDER}\n",
            kari.as_str(),
            krr_time(chrono::Utc::now() - chrono::Duration::days(30)),
        ),
    )
    .unwrap();
    a.cli(&["krr", "import", register.to_str().unwrap()]).await;
    let (mut a_process, listening) = a.start().await;
    assert_eq!(listening, a_address);

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
    let b_certificate = b_keys.certificate_file.to_str().unwrap().to_owned();
    let b_endpoint = format!("{}/messages/out", b.address);
    a.cli(&[
        "provider",
        "add",
        "--org-nr",
        PROVIDER_B,
        "--name",
        "Postkasse B",
        "--endpoint",
        &b_endpoint,
        "--certificate",
        &b_certificate,
    ])
    .await;

    // Kari's letters at A, as an agency sends them.
    let token = a
        .cli(&[
            "token",
            "issue",
            "--client",
            "moving test",
            "--org-nr",
            TEST_SENDER,
            "--scope",
            "digitalpostinnbygger:send",
        ])
        .await
        .trim()
        .to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let sender = OrgNr::parse(TEST_SENDER).unwrap();
    let mut titles = HashSet::new();
    for index in 0..LETTERS {
        let title = format!("Brev nummer {index}");
        let letter = crate::helpers::test_letter(&sender, &kari, &title);
        let package = letter.package().unwrap();
        let form = reqwest::multipart::Form::new()
            .part(
                "forretningsmelding",
                reqwest::multipart::Part::text(letter.business_message(&package).to_string()),
            )
            .part("dokumentpakke", reqwest::multipart::Part::bytes(package));
        let response = client
            .post(format!("{a_address}/messages/out"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
            .await
            .unwrap();
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
        (letters_at(&b, &kari).await.len() >= LETTERS / 5).then_some(())
    })
    .await;
    a_process.kill().await.expect("SIGKILL A");
    let moved_before_the_kill = letters_at(&b, &kari).await.len();
    assert!(moved_before_the_kill < LETTERS, "killed before the end");
    let (mut a_process, listening) = a.start().await;
    assert_eq!(listening, a_address, "A comes back where B expects it");

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

    let at_b = letters_at(&b, &kari).await;
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
