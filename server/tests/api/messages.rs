//! The DPI agency API: `POST /messages/out`, routing, receipts and statuses,
//! against the real server with the register, a test provider that is a real
//! HTTP server, and the print queue.

use crate::helpers::{
    citizen, on_both_backends, refused, spawn_app, test_letter, Backend, TestApp, TestSender,
    OWN_PROVIDER, TEST_SENDER,
};
use app::domain::{Fnr, OrgNr};
use axum::{extract::State, http::StatusCode as AxumStatus, routing::post, Router};
use bytes::Bytes;
use postkasse::krr::Store as _;
use postkasse::mailbox::Store as _;
use postkasse::{broker::Store as _, print::Store as _};
use postkasse::{
    broker::{cms, package},
    krr::person::MailboxProvider,
    print::PostalAddress,
};
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const OTHER_PROVIDER: &str = "921000006";

pub(crate) fn body_of<'a>(receipt: &'a Value, kind: &str) -> &'a Value {
    &receipt["forretningsmelding"]["standardBusinessDocument"][kind]
}

pub(crate) fn receipt_kinds(receipts: &[Value]) -> Vec<String> {
    receipts
        .iter()
        .map(|receipt| {
            receipt["forretningsmelding"]["standardBusinessDocument"]
                ["standardBusinessDocumentHeader"]["documentIdentification"]["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

pub(crate) fn conversation_of(receipt: &Value) -> String {
    receipt["forretningsmelding"]["standardBusinessDocument"]["standardBusinessDocumentHeader"]
        ["businessScope"]["scope"][0]["instanceIdentifier"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn status_codes(app: &TestApp, sender: &TestSender, message_id: &str) -> Vec<String> {
    let response = sender.statuses(app, message_id).await;
    assert_eq!(response.status(), StatusCode::OK);
    let statuses: Vec<Value> = response.json().await.unwrap();
    statuses
        .iter()
        .map(|status| status["status"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls until the agency has `count` receipts; a worker may still be busy.
async fn wait_for_receipts(app: &TestApp, sender: &TestSender, count: usize) -> Vec<Value> {
    for _ in 0..200 {
        let receipts = sender.receipts(app, "").await;
        if receipts.len() >= count {
            return receipts;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {count} receipts arrived within 10 s");
}

async fn a_letter_for_a_citizen_with_a_mailbox_here_is_delivered_with_a_receipt(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(3);
    app.make_reachable(&kari, OWN_PROVIDER).await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let letter = test_letter(&sender.org_nr(), &kari, "Vedtak om registrering");

    let response = sender.send(&app, &letter).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["messageId"], letter.message_id.to_string());

    let letters = app
        .database
        .letters_for(&kari, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].title.as_str(), "Vedtak om registrering");
    assert_eq!(letters[0].sender_name, "Brønnøysundregistrene");
    assert_eq!(
        status_codes(&app, &sender, &letter.message_id.to_string()).await,
        ["OPPRETTET", "SENDT"]
    );
    let receipts = sender.receipts(&app, "").await;
    assert_eq!(receipt_kinds(&receipts), ["leveringskvittering"]);
    assert_eq!(
        conversation_of(&receipts[0]),
        letter.conversation_id.to_string()
    );
    let receipt_id = receipts[0]["id"].as_str().unwrap();
    assert_ne!(receipt_id, letter.message_id.to_string());

    // Acknowledged receipts are not handed out again.
    let read = app
        .client
        .post(app.url(&format!("/messages/in/{receipt_id}/read")))
        .bearer_auth(&sender.token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::NO_CONTENT);
    assert!(sender.receipts(&app, "").await.is_empty());

    // Another agency sees neither the statuses nor the receipts.
    let other = app.sender("889640782", "NAV").await;
    assert_eq!(
        other
            .statuses(&app, &letter.message_id.to_string())
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let foreign_read = app
        .client
        .post(app.url(&format!("/messages/in/{receipt_id}/read")))
        .bearer_auth(&other.token)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign_read.status(), StatusCode::NOT_FOUND);
}

/// A mailbox provider elsewhere: a real HTTP server that keeps what it gets
/// and refuses the first `failures` deliveries with 503.
struct TestProvider {
    org_nr: OrgNr,
    key: &'static rsa::RsaPrivateKey,
    certificate: x509_cert::Certificate,
    received: Arc<Mutex<Vec<(String, Bytes)>>>,
    attempts: Arc<Mutex<u32>>,
}

fn provider_key() -> &'static rsa::RsaPrivateKey {
    static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap())
}

#[derive(Clone)]
struct ProviderState {
    received: Arc<Mutex<Vec<(String, Bytes)>>>,
    attempts: Arc<Mutex<u32>>,
    failures: u32,
}

async fn receive(
    State(state): State<ProviderState>,
    mut multipart: axum::extract::Multipart,
) -> AxumStatus {
    let attempt = {
        let mut attempts = state.attempts.lock().unwrap();
        *attempts += 1;
        *attempts
    };
    if attempt <= state.failures {
        return AxumStatus::SERVICE_UNAVAILABLE;
    }
    let (mut message, mut package) = (None, None);
    while let Some(field) = multipart.next_field().await.unwrap() {
        match field.name() {
            Some("forretningsmelding") => message = Some(field.text().await.unwrap()),
            Some("dokumentpakke") => package = Some(field.bytes().await.unwrap()),
            _ => return AxumStatus::BAD_REQUEST,
        }
    }
    match (message, package) {
        (Some(message), Some(package)) => {
            state.received.lock().unwrap().push((message, package));
            AxumStatus::OK
        }
        _ => AxumStatus::BAD_REQUEST,
    }
}

impl TestProvider {
    async fn start(app: &TestApp, failures: u32) -> TestProvider {
        let org_nr = OrgNr::parse(OTHER_PROVIDER).unwrap();
        let key = provider_key();
        let certificate = postkasse::keys::self_signed(key, &org_nr, "Test Provider").unwrap();
        let state = ProviderState {
            received: Arc::default(),
            attempts: Arc::default(),
            failures,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}/dpi/messages", listener.local_addr().unwrap());
        let router = Router::new()
            .route("/dpi/messages", post(receive))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        use x509_cert::der::Encode;
        app.database
            .upsert_mailbox_provider(&MailboxProvider {
                org_nr: org_nr.clone(),
                name: "Test Provider".into(),
                endpoint: Some(endpoint),
                certificate_der: certificate.to_der().unwrap(),
            })
            .await
            .unwrap();
        TestProvider {
            org_nr,
            key,
            certificate,
            received: state.received,
            attempts: state.attempts,
        }
    }
}

async fn a_letter_for_a_citizen_elsewhere_is_forwarded_with_retries(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let provider = TestProvider::start(&app, 2).await;
    let ola = citizen(4);
    app.make_reachable(&ola, provider.org_nr.as_str()).await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let letter = test_letter(&sender.org_nr(), &ola, "Vedtak");
    let plain_package = letter.package().unwrap();

    assert_eq!(
        sender.send(&app, &letter).await.status(),
        StatusCode::CREATED
    );
    let receipts = wait_for_receipts(&app, &sender, 1).await;
    assert_eq!(receipt_kinds(&receipts), ["leveringskvittering"]);
    assert_eq!(
        body_of(&receipts[0], "leveringskvittering")["avsender"]["virksomhetsidentifikator"]
            ["value"],
        format!("0192:{OTHER_PROVIDER}"),
        "the receipt comes from the provider that has the letter"
    );
    assert_eq!(
        *provider.attempts.lock().unwrap(),
        3,
        "two refusals, then success"
    );
    let received = provider.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "delivered exactly once");
    let (jwt, encrypted) = &received[0];
    // The package is encrypted to the provider's certificate and opens to the original.
    let opened = cms::decrypt(encrypted, provider.key, &provider.certificate).unwrap();
    assert_eq!(opened, plain_package);
    // The business message is signed by this Postkasse, and names the package as sent.
    let own_certificate =
        std::fs::read_to_string(crate::helpers::provider_certificate_file()).unwrap();
    let own_key = {
        use x509_cert::der::DecodePem;
        let certificate = x509_cert::Certificate::from_pem(own_certificate.as_bytes()).unwrap();
        use x509_cert::der::Encode;
        let spki = certificate
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .unwrap();
        use rsa::pkcs8::DecodePublicKey;
        let public = rsa::RsaPublicKey::from_public_key_der(&spki).unwrap();
        use rsa::pkcs1::EncodeRsaPublicKey;
        jsonwebtoken::DecodingKey::from_rsa_der(public.to_pkcs1_der().unwrap().as_bytes())
    };
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let forwarded = jsonwebtoken::decode::<Value>(jwt, &own_key, &validation)
        .expect("signed by this Postkasse")
        .claims;
    assert_eq!(
        forwarded["standardBusinessDocument"]["digital"]["dokumentpakkefingeravtrykk"]
            ["digestValue"],
        package::fingerprint(encrypted)
    );
    assert!(app
        .database
        .letters_for(&ola, chrono::Utc::now())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        status_codes(&app, &sender, &letter.message_id.to_string()).await,
        ["OPPRETTET", "SENDT"]
    );
}

async fn a_provider_that_never_answers_gives_the_sender_a_server_error_receipt(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app_with(backend, |settings| {
        settings.broker.max_attempts = 3;
    })
    .await
    else {
        return;
    };
    let provider = TestProvider::start(&app, u32::MAX).await;
    let ola = citizen(4);
    app.make_reachable(&ola, provider.org_nr.as_str()).await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let letter = test_letter(&sender.org_nr(), &ola, "Vedtak");
    assert_eq!(
        sender.send(&app, &letter).await.status(),
        StatusCode::CREATED
    );
    let receipts = wait_for_receipts(&app, &sender, 1).await;
    assert_eq!(receipt_kinds(&receipts), ["feil"]);
    assert_eq!(body_of(&receipts[0], "feil")["feiltype"], "SERVER");
    assert_eq!(*provider.attempts.lock().unwrap(), 3);
    assert_eq!(
        status_codes(&app, &sender, &letter.message_id.to_string()).await,
        ["OPPRETTET", "FEILET"]
    );
}

fn oslo_address(name: &str) -> PostalAddress {
    PostalAddress::norwegian(name, "Storgata 1", "0155", "Oslo").unwrap()
}

async fn set_address(app: &TestApp, fnr: &Fnr, name: &str) {
    app.database
        .set_postal_address(fnr, &oslo_address(name), chrono::Utc::now())
        .await
        .unwrap();
}

async fn a_reserved_citizen_gets_a_decision_on_paper(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(5);
    app.reserve_with_address(&kari, "Kari Nordmann", chrono::Utc::now())
        .await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let letter = test_letter(&sender.org_nr(), &kari, "Vedtak");
    assert_eq!(
        sender.send(&app, &letter).await.status(),
        StatusCode::CREATED
    );

    assert!(app
        .database
        .letters_for(&kari, chrono::Utc::now())
        .await
        .unwrap()
        .is_empty());
    let jobs = app.database.print_jobs(false).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].order.address, oslo_address("Kari Nordmann"));
    // The mottakskvittering waits for the print house to take the letter.
    assert!(sender.receipts(&app, "").await.is_empty());
    assert_eq!(
        status_codes(&app, &sender, &letter.message_id.to_string()).await,
        ["OPPRETTET", "SENDT"]
    );

    // The operator records it posted: the sender learns it was delivered.
    let output = app
        .run_cli(&["print", "done", &jobs[0].message_row.to_string()])
        .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        receipt_kinds(&sender.receipts(&app, "").await),
        ["leveringskvittering"]
    );
    assert!(app.database.print_jobs(false).await.unwrap().is_empty());
    // Recorded once: a second `print done` is refused.
    let again = app
        .run_cli(&["print", "done", &jobs[0].message_row.to_string()])
        .await;
    assert!(!again.status.success());
}

async fn unknown_people_are_printed_if_an_address_is_known_and_refused_if_not(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let (with_address, without) = (citizen(6), citizen(7));
    set_address(&app, &with_address, "Per Hansen").await;

    let printed = test_letter(&sender.org_nr(), &with_address, "Vedtak");
    assert_eq!(
        sender.send(&app, &printed).await.status(),
        StatusCode::CREATED
    );
    let refused = test_letter(&sender.org_nr(), &without, "Vedtak");
    assert_eq!(
        sender.send(&app, &refused).await.status(),
        StatusCode::CREATED
    );

    assert_eq!(app.database.print_jobs(false).await.unwrap().len(), 1);
    let receipts = sender.receipts(&app, "").await;
    assert_eq!(receipt_kinds(&receipts), ["feil"]);
    let feil = body_of(&receipts[0], "feil");
    assert_eq!(feil["feiltype"], "KLIENT");
    let details = feil["detaljer"].as_str().unwrap();
    assert!(
        details.contains("not in the contact and reservation register")
            && details.contains("no postal address"),
        "{details}"
    );
    assert_eq!(
        conversation_of(&receipts[0]),
        refused.conversation_id.to_string()
    );
    assert_eq!(
        status_codes(&app, &sender, &refused.message_id.to_string()).await,
        ["OPPRETTET", "FEILET"]
    );
    let stored = app
        .database
        .message(&sender.org_nr(), refused.message_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.channel, "feil");
    assert_eq!(stored.reason, details);
}

async fn a_print_message_goes_to_the_print_queue(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let letter = test_letter(&sender.org_nr(), &citizen(8), "Brev på papir");
    let (message, package) = crate::helpers::print_message_for(&letter, "Per Hansen");
    let response = sender
        .send_parts(&app, "", message.to_string(), package)
        .await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        response.text().await.unwrap()
    );
    let jobs = app.database.print_jobs(false).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].order.address.navn, "Per Hansen");
    assert!(sender.receipts(&app, "").await.is_empty());
}

async fn a_resend_gets_the_first_answer_and_a_changed_resend_a_conflict(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(9);
    app.make_reachable(&kari, OWN_PROVIDER).await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let letter = test_letter(&sender.org_nr(), &kari, "Vedtak");
    let first = sender.send(&app, &letter).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    // The same message, even with the package encrypted this time.
    let plain = letter.package().unwrap();
    let certificate = {
        use x509_cert::der::DecodePem;
        x509_cert::Certificate::from_pem(
            std::fs::read(crate::helpers::provider_certificate_file()).unwrap(),
        )
        .unwrap()
    };
    let encrypted = cms::encrypt(&plain, &certificate, &mut rand::thread_rng()).unwrap();
    let again = sender
        .send_parts(
            &app,
            "",
            letter.business_message(&encrypted).to_string(),
            encrypted,
        )
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(
        app.database
            .letters_for(&kari, chrono::Utc::now())
            .await
            .unwrap()
            .len(),
        1
    );

    let mut changed = letter.clone();
    changed.nonsensitive_title = "Et annet brev".into();
    let conflict = sender.send(&app, &changed).await;
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    assert_eq!(
        app.database
            .letters_for(&kari, chrono::Utc::now())
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(receipt_kinds(&sender.receipts(&app, "").await).len(), 1);
}

async fn an_encrypted_package_is_opened_with_this_providers_key(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(10);
    app.make_reachable(&kari, OWN_PROVIDER).await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let letter = test_letter(&sender.org_nr(), &kari, "Kryptert vedtak");
    let certificate = {
        use x509_cert::der::DecodePem;
        x509_cert::Certificate::from_pem(
            std::fs::read(crate::helpers::provider_certificate_file()).unwrap(),
        )
        .unwrap()
    };
    let encrypted = cms::encrypt(
        &letter.package().unwrap(),
        &certificate,
        &mut rand::thread_rng(),
    )
    .unwrap();
    let response = sender
        .send_parts(
            &app,
            "",
            letter.business_message(&encrypted).to_string(),
            encrypted,
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        response.text().await.unwrap()
    );
    let letters = app
        .database
        .letters_for(&kari, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(letters[0].title.as_str(), "Kryptert vedtak");
}

/// Nothing of a refused message may be stored: no message, letter, receipt or blob.
async fn assert_nothing_stored(app: &TestApp, sender: &TestSender, recipient: &Fnr) {
    assert!(app
        .database
        .letters_for(recipient, chrono::Utc::now())
        .await
        .unwrap()
        .is_empty());
    assert!(sender.receipts(app, "").await.is_empty());
    assert!(app.blob_files().is_empty(), "{:?}", app.blob_files());
    assert_eq!(app.database.statistics().await.unwrap().inline_blobs, 0);
}

fn problem_names(problem: &Value) -> Vec<String> {
    problem["invalid-params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|param| param["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn bad_messages_are_refused_with_every_problem_named_and_nothing_stored(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(11);
    app.make_reachable(&kari, OWN_PROVIDER).await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let letter = test_letter(&sender.org_nr(), &kari, "Vedtak");
    let package = letter.package().unwrap();

    // A package whose fingerprint does not match.
    let other_package = test_letter(&sender.org_nr(), &kari, "Annet")
        .package()
        .unwrap();
    let problem = refused(
        sender
            .send_parts(
                &app,
                "",
                letter.business_message(&other_package).to_string(),
                package.clone(),
            )
            .await,
    )
    .await;
    assert_eq!(problem_names(&problem), ["dokumentpakke"]);
    assert!(problem.to_string().contains("dokumentpakkefingeravtrykk"));

    // A manifest naming a file the package does not contain.
    let spec = package::ManifestSpec {
        avsender: sender.org_nr(),
        avsenderidentifikator: None,
        mottaker: None,
        main: package::ManifestDocument::new("brev.pdf", "application/pdf", "Vedtak"),
        attachments: vec![package::ManifestDocument::new(
            "vedlegg.pdf",
            "application/pdf",
            "Vedlegg",
        )],
    };
    let missing = package::build(&spec, &[("brev.pdf".into(), letter.main.bytes.clone())]).unwrap();
    let problem = refused(
        sender
            .send_parts(
                &app,
                "",
                letter.business_message(&missing).to_string(),
                missing,
            )
            .await,
    )
    .await;
    assert!(
        problem.to_string().contains("vedlegg.pdf"),
        "names the missing file: {problem}"
    );

    // Several problems in the business message, all named at once.
    let mut message = letter.business_message(&package);
    let digital = &mut message["standardBusinessDocument"]["digital"];
    digital["sikkerhetsnivaa"] = 5.into();
    digital["spraak"] = "norsk".into();
    digital["ikkesensitivtittel"] = "".into();
    digital["varsler"] = serde_json::json!({"smsvarsel": {
        "mobiltelefonnummer": "+4791234567",
        "varslingstekst": "Logg inn på https://example.no",
        "repetisjoner": [0, 0]}});
    digital["ukjent"] = true.into();
    let problem = refused(
        sender
            .send_parts(&app, "", message.to_string(), package.clone())
            .await,
    )
    .await;
    let names = problem_names(&problem);
    for field in [
        "sikkerhetsnivaa",
        "spraak",
        "ikkesensitivtittel",
        "varsler.smsvarsel.varslingstekst",
        "varsler.smsvarsel.repetisjoner",
        "ukjent",
    ] {
        let expected = format!("forretningsmelding.standardBusinessDocument.digital.{field}");
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }

    // A bad kanal and a missing part.
    let form = reqwest::multipart::Form::new().part(
        "forretningsmelding",
        reqwest::multipart::Part::text(letter.business_message(&package).to_string()),
    );
    let response = app
        .client
        .post(app.url("/messages/out?kanal=ikke%20lov"))
        .bearer_auth(&sender.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem_names(&refused(response).await),
        ["dokumentpakke", "kanal"]
    );

    assert_nothing_stored(&app, &sender, &kari).await;
}

async fn only_tokens_with_the_send_scope_may_send(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(12);
    app.make_reachable(&kari, OWN_PROVIDER).await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let lookup_only = TestSender {
        token: sender
            .agency
            .access_token(&app, &["krr:global/kontaktinformasjon.read"])
            .await,
        agency: sender.agency,
    };
    let letter = test_letter(&lookup_only.org_nr(), &kari, "Vedtak");
    let response = lookup_only.send(&app, &letter).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = app
        .client
        .post(app.url("/messages/out"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    assert_nothing_stored(&app, &sender, &kari).await;
}

async fn receipts_are_kept_apart_by_kanal(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(13);
    app.make_reachable(&kari, OWN_PROVIDER).await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    for kanal in ["Lonn", "skatt"] {
        let letter = test_letter(&sender.org_nr(), &kari, "Vedtak");
        let package = letter.package().unwrap();
        let response = sender
            .send_parts(
                &app,
                kanal,
                letter.business_message(&package).to_string(),
                package,
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    assert_eq!(
        sender.receipts(&app, "lonn").await.len(),
        1,
        "case-insensitive"
    );
    assert_eq!(sender.receipts(&app, "SKATT").await.len(), 1);
    assert!(sender.receipts(&app, "").await.is_empty());
}

async fn the_agency_api_is_described_at_api_openapi_json(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let response = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap();
    for path in [
        "/token",
        "/jwk",
        "/messages/out",
        "/messages/out/{id}/statuses",
        "/messages/in",
        "/messages/in/{id}/read",
        "/rest/v1/personer",
    ] {
        assert!(document["paths"].get(path).is_some(), "{path} is described");
    }
}

/// What an agency's callback got: (signature header, id header, body) per
/// push, and how many attempts were made (the first one is refused).
#[derive(Clone, Default)]
pub(crate) struct CallbackState {
    pub(crate) pushes: Arc<Mutex<Vec<(String, String, Bytes)>>>,
    pub(crate) attempts: Arc<Mutex<u32>>,
}

async fn record_callback(
    State(state): State<CallbackState>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> AxumStatus {
    let attempt = {
        let mut attempts = state.attempts.lock().unwrap();
        *attempts += 1;
        *attempts
    };
    // The first push fails, so the retry is exercised too.
    if attempt == 1 {
        return AxumStatus::INTERNAL_SERVER_ERROR;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    state.pushes.lock().unwrap().push((
        header("x-postkasse-signature"),
        header("x-postkasse-receipt-id"),
        body,
    ));
    AxumStatus::NO_CONTENT
}

/// An HTTP server that records what is pushed to it, and the test sender
/// registered with it as its callback; the callback's secret.
pub(crate) async fn sender_with_callback(app: &TestApp) -> (CallbackState, String) {
    let state = CallbackState::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let callback_url = format!("http://{}/kvitteringer", listener.local_addr().unwrap());
    let router = Router::new()
        .route("/kvitteringer", post(record_callback))
        .with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let key = crate::helpers::registered_agency_key();
    let output = app
        .run_cli(&[
            "agency",
            "add",
            "--org-nr",
            TEST_SENDER,
            "--name",
            "Brønnøysundregistrene",
            "--client-id",
            &format!("test-client-{TEST_SENDER}"),
            "--public-key",
            key.public_key_file.to_str().unwrap(),
            "--callback-url",
            &callback_url,
        ])
        .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).unwrap();
    let secret = printed
        .split_whitespace()
        .last()
        .expect("the secret is printed")
        .to_owned();
    (state, secret)
}

/// Waits (up to 10 s) until `count` pushes have arrived, and returns them.
pub(crate) async fn pushes(state: &CallbackState, count: usize) -> Vec<(String, String, Bytes)> {
    for _ in 0..200 {
        if state.pushes.lock().unwrap().len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    state.pushes.lock().unwrap().clone()
}

async fn receipts_are_pushed_to_a_callback_signed_with_its_secret(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (state, secret) = sender_with_callback(&app).await;

    let kari = citizen(14);
    app.make_reachable(&kari, OWN_PROVIDER).await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let letter = test_letter(&sender.org_nr(), &kari, "Vedtak");
    assert_eq!(
        sender.send(&app, &letter).await.status(),
        StatusCode::CREATED
    );

    let pushes = pushes(&state, 1).await;
    assert_eq!(pushes.len(), 1, "pushed once, after one failed attempt");
    assert_eq!(*state.attempts.lock().unwrap(), 2);
    let (signature, receipt_id, body) = &pushes[0];
    assert_eq!(
        *signature,
        format!(
            "sha256={}",
            postkasse::broker::outbox::callback_signature(&secret, body)
        )
    );
    let pushed: Value = serde_json::from_slice(body).unwrap();
    let queued = sender.receipts(&app, "").await;
    assert_eq!(queued.len(), 1, "the receipt also waits in the queue");
    assert_eq!(queued[0]["id"], receipt_id.as_str());
    assert_eq!(pushed, queued[0]["forretningsmelding"]);
}

async fn a_letter_stays_hidden_until_its_effective_time(backend: Backend) {
    use postkasse::clock::{Clock, ManualClock};
    let clock = Arc::new(ManualClock::starting_at(chrono::Utc::now()));
    let Some(app) = crate::helpers::spawn_app_with_clock(backend, |_| {}, clock.clone()).await
    else {
        return;
    };
    let kari = citizen(15);
    app.make_reachable(&kari, OWN_PROVIDER).await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let mut letter = test_letter(&sender.org_nr(), &kari, "Vedtak fra neste uke");
    letter.effective_at = Some(clock.now() + chrono::Duration::days(2));
    assert_eq!(
        sender.send(&app, &letter).await.status(),
        StatusCode::CREATED
    );
    // Delivered means available: the receipt does not wait for the effective time.
    assert_eq!(
        receipt_kinds(&sender.receipts(&app, "").await),
        ["leveringskvittering"]
    );
    let letter_id = app
        .database
        .letters_for(&kari, clock.now() + chrono::Duration::days(3))
        .await
        .unwrap()[0]
        .id;

    let session = app.login_as(&kari).await;
    let inbox = app.get_as("/innboks", &session).await.text().await.unwrap();
    assert!(
        !inbox.contains("Du har fått et brev"),
        "not in the inbox yet"
    );
    for path in [
        format!("/brev/{letter_id}"),
        format!("/dokumenter/{letter_id}/0"),
    ] {
        assert_eq!(
            app.get_as(&path, &session).await.status(),
            StatusCode::NOT_FOUND,
            "{path} before the effective time"
        );
    }

    clock.advance(chrono::Duration::days(2) + chrono::Duration::minutes(1));
    let session = app.login_as(&kari).await;
    let inbox = app.get_as("/innboks", &session).await.text().await.unwrap();
    assert!(
        inbox.contains("Vedtak fra neste uke"),
        "in the inbox from its effective time"
    );
    for path in [
        format!("/brev/{letter_id}"),
        format!("/dokumenter/{letter_id}/0"),
    ] {
        assert_eq!(
            app.get_as(&path, &session).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
}

async fn an_opening_receipt_goes_once_and_only_after_the_citizen_agrees(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(16), citizen(17));
    app.make_reachable(&kari, OWN_PROVIDER).await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let mut letter = test_letter(&sender.org_nr(), &kari, "Innkalling til møte");
    letter.opening_receipt = true;
    assert_eq!(
        sender.send(&app, &letter).await.status(),
        StatusCode::CREATED
    );
    let letter_id = app
        .database
        .letters_for(&kari, chrono::Utc::now())
        .await
        .unwrap()[0]
        .id;
    let (letter_page, document) = (
        format!("/brev/{letter_id}"),
        format!("/dokumenter/{letter_id}/0"),
    );

    let session = app.login_as(&kari).await;
    let page = app
        .get_as(&letter_page, &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Avsenderen vil vite når du åpner brevet"),
        "{page}"
    );
    assert!(
        !page.contains(&document),
        "no document link before she agrees"
    );
    assert_eq!(
        app.get_as(&document, &session).await.status(),
        StatusCode::FORBIDDEN
    );

    // Another citizen cannot open it (nor learn that it exists).
    let olas_session = app.login_as(&ola).await;
    let refused = app
        .server_fn_as(
            "accept_opening_receipt",
            &[("id", letter_id.to_string())],
            &olas_session,
        )
        .await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        receipt_kinds(&sender.receipts(&app, "").await),
        ["leveringskvittering"]
    );

    for _ in 0..2 {
        let accepted = app
            .server_fn_as(
                "accept_opening_receipt",
                &[("id", letter_id.to_string())],
                &session,
            )
            .await;
        assert!(accepted.status().is_success(), "{}", accepted.status());
    }
    let receipts = sender.receipts(&app, "").await;
    assert_eq!(
        receipt_kinds(&receipts),
        ["leveringskvittering", "aapningskvittering"],
        "the opening receipt goes exactly once"
    );
    assert_eq!(
        conversation_of(&receipts[1]),
        letter.conversation_id.to_string()
    );
    let page = app
        .get_as(&letter_page, &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&document), "the documents are open now");
    assert_eq!(
        app.get_as(&document, &session).await.status(),
        StatusCode::OK
    );
}

on_both_backends!(
    an_opening_receipt_goes_once_and_only_after_the_citizen_agrees,
    a_letter_stays_hidden_until_its_effective_time,
    receipts_are_pushed_to_a_callback_signed_with_its_secret,
    a_letter_for_a_citizen_with_a_mailbox_here_is_delivered_with_a_receipt,
    a_letter_for_a_citizen_elsewhere_is_forwarded_with_retries,
    a_provider_that_never_answers_gives_the_sender_a_server_error_receipt,
    a_reserved_citizen_gets_a_decision_on_paper,
    unknown_people_are_printed_if_an_address_is_known_and_refused_if_not,
    a_print_message_goes_to_the_print_queue,
    a_resend_gets_the_first_answer_and_a_changed_resend_a_conflict,
    an_encrypted_package_is_opened_with_this_providers_key,
    bad_messages_are_refused_with_every_problem_named_and_nothing_stored,
    only_tokens_with_the_send_scope_may_send,
    receipts_are_kept_apart_by_kanal,
    the_agency_api_is_described_at_api_openapi_json,
);
