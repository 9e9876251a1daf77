//! Postkasse as a mailbox provider in the DPI network: messages in DPI's own
//! (provider) shape, embedded Maskinporten tokens checked by the issuer's
//! keys, processors sending on behalf of agencies, and messages built by
//! tools that share no code with Postkasse (Python's cryptography, PyJWT,
//! signxml and `openssl cms`: server/tests/tools/dpi_message.py).

use crate::helpers::{
    citizen, on_both_backends, provider_certificate_file, refused, spawn_app, spawn_app_with,
    test_letter, without_hydration_markers, Backend, TestApp, TestSender, OWN_PROVIDER,
    TEST_SENDER,
};
use app::domain::Fnr;
use postkasse::mailbox::Store as _;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::{Path, PathBuf};

const OTHER_PROVIDER: &str = "921000006";
const PROCESSOR: &str = "991825827";

/// The business message for `letter` in DPI's provider shape: addressed to
/// this provider, the citizen named by their mailbox address, with the
/// sender's Maskinporten token.
fn provider_shaped(message: &mut Value, provider: &str, address: &str, token: &str) {
    let sbd = &mut message["standardBusinessDocument"];
    sbd["standardBusinessDocumentHeader"]["receiver"][0]["identifier"]["value"] =
        format!("0192:{provider}").into();
    sbd["digital"]["mottaker"] = serde_json::json!({ "postkasseadresse": address });
    sbd["digital"]["maskinportentoken"] = token.into();
}

/// The problem's one invalid parameter: its name and reason.
fn only_problem(problem: &Value) -> (String, String) {
    let params = problem["invalid-params"].as_array().unwrap();
    assert_eq!(params.len(), 1, "one problem: {problem}");
    (
        params[0]["name"].as_str().unwrap().to_owned(),
        params[0]["reason"].as_str().unwrap().to_owned(),
    )
}

async fn a_provider_shaped_message_must_be_for_this_provider_and_complete(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(4);
    app.make_reachable(&kari, OWN_PROVIDER).await;
    let address = app.mailbox_address(&kari).await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let letter = test_letter(&sender.org_nr(), &kari, "Vedtak i tilbyderform");
    let package = letter.package().unwrap();
    let send = |message: Value| sender.send_parts(&app, "", message.to_string(), package.clone());

    // Another provider's organisation number: that provider's letter.
    let mut message = letter.business_message(&package);
    provider_shaped(&mut message, OTHER_PROVIDER, &address, &sender.token);
    let (name, reason) = only_problem(&refused(send(message).await).await);
    assert_eq!(
        name,
        "forretningsmelding.standardBusinessDocument.standardBusinessDocumentHeader.receiver[0].identifier.value"
    );
    assert!(
        reason.contains(OTHER_PROVIDER) && reason.contains(OWN_PROVIDER),
        "{reason}"
    );

    // The provider shape needs the sender's Maskinporten token.
    let mut message = letter.business_message(&package);
    provider_shaped(&mut message, OWN_PROVIDER, &address, &sender.token);
    message["standardBusinessDocument"]["digital"]
        .as_object_mut()
        .unwrap()
        .remove("maskinportentoken");
    let (name, _) = only_problem(&refused(send(message).await).await);
    assert_eq!(
        name,
        "forretningsmelding.standardBusinessDocument.digital.maskinportentoken"
    );

    // DPI's senders sign their packages; an unsigned one is refused. (The
    // signed way in is messages_built_by_independent_tools_are_verified_end_to_end.)
    let mut message = letter.business_message(&package);
    provider_shaped(&mut message, OWN_PROVIDER, &address, &sender.token);
    let (name, reason) = only_problem(&refused(send(message).await).await);
    assert_eq!(name, "dokumentpakke.META-INF/signatures.xml");
    assert!(reason.contains("required"), "{reason}");
    assert_eq!(app.letters(&kari).await.len(), 0, "nothing was stored");
}

async fn embedded_tokens_must_prove_the_sender_may_send(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(5);
    app.make_reachable(&kari, OWN_PROVIDER).await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let letter = test_letter(&sender.org_nr(), &kari, "Vedtak med token");
    let package = letter.package().unwrap();
    let with_token = |token: &str| {
        let mut message = letter.business_message(&package);
        message["standardBusinessDocument"]["digital"]["maskinportentoken"] = token.into();
        sender.send_parts(&app, "", message.to_string(), package.clone())
    };
    let token_problem = |problem: Value| {
        let (name, reason) = only_problem(&problem);
        assert_eq!(
            name,
            "forretningsmelding.standardBusinessDocument.digital.maskinportentoken"
        );
        reason
    };

    // Another agency's token: its consumer is not the avsender.
    let other = app.sender("991825827", "Annen etat").await;
    let reason = token_problem(refused(with_token(&other.token).await).await);
    assert!(reason.starts_with("consumer:"), "{reason}");

    // A token without the send scope.
    let reader = sender
        .agency
        .access_token(&app, &["krr:global/kontaktinformasjon.read"])
        .await;
    let reason = token_problem(refused(with_token(&reader).await).await);
    assert!(reason.starts_with("scope:"), "{reason}");

    // Not a token of the issuer at all: the same claims, signed by the agency.
    let forged = sender.agency.sign(&serde_json::json!({
        "iss": app.token_audience(),
        "consumer": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{TEST_SENDER}")},
        "scope": "digitalpostinnbygger:send",
        "exp": chrono::Utc::now().timestamp() + 60,
    }));
    let reason = token_problem(refused(with_token(&forged).await).await);
    assert!(
        reason.contains("not signed by the token issuer"),
        "{reason}"
    );
    assert_eq!(app.letters(&kari).await.len(), 0, "nothing was stored");

    // The sender's own token from this installation's issuer is accepted.
    let response = with_token(&sender.token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// A letter from [`TEST_SENDER`] that [`PROCESSOR`] sends: the SBD header's
/// sender is the processor, the body's avsender the agency.
fn sent_by_processor(recipient: &Fnr, title: &str) -> (Value, Vec<u8>) {
    let agency = app::domain::OrgNr::parse(TEST_SENDER).unwrap();
    let letter = test_letter(&agency, recipient, title);
    let package = letter.package().unwrap();
    let mut message = letter.business_message(&package);
    message["standardBusinessDocument"]["standardBusinessDocumentHeader"]["sender"][0]
        ["identifier"]["value"] = format!("0192:{PROCESSOR}").into();
    (message, package)
}

async fn a_processor_sends_for_an_agency_only_with_its_delegation(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(6);
    app.make_reachable(&kari, OWN_PROVIDER).await;
    // The agency is registered (its name is what the citizen sees); the
    // processor sends with its own access token.
    app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let processor = app.sender(PROCESSOR, "Databehandler AS").await;
    let (message, package) = sent_by_processor(&kari, "Vedtak via databehandler");
    let send = || processor.send_parts(&app, "", message.to_string(), package.clone());

    let (name, reason) = only_problem(&refused(send().await).await);
    assert_eq!(
        name,
        "forretningsmelding.standardBusinessDocument.digital.avsender.virksomhetsidentifikator"
    );
    assert!(reason.contains(PROCESSOR), "{reason}");
    assert_eq!(app.letters(&kari).await.len(), 0);

    let output = app
        .run_cli(&[
            "agency",
            "delegate",
            "--agency",
            TEST_SENDER,
            "--processor",
            PROCESSOR,
        ])
        .await;
    assert!(output.status.success(), "{output:?}");
    let listed = app.run_cli(&["agency", "delegations"]).await;
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains(PROCESSOR) && listed.contains(TEST_SENDER),
        "{listed}"
    );

    let response = send().await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let letters = app
        .database
        .letters_for(&kari, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(
        letters[0].sender_name, "Brønnøysundregistrene",
        "the citizen sees the agency, not the processor"
    );
    // The processor, not the agency, fetches the receipts it caused.
    assert!(!processor.receipts(&app, "").await.is_empty());

    // Withdrawn, the delegation no longer lets it send.
    let output = app
        .run_cli(&[
            "agency",
            "undelegate",
            "--agency",
            TEST_SENDER,
            "--processor",
            PROCESSOR,
        ])
        .await;
    assert!(output.status.success(), "{output:?}");
    let (message, package) = sent_by_processor(&kari, "Nytt vedtak via databehandler");
    let response = processor
        .send_parts(&app, "", message.to_string(), package)
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

/// A JWKS at a URL of its own, as Maskinporten publishes one.
async fn serve_jwks(jwks: Value) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = axum::Router::new().route(
        "/jwk",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            async move { axum::Json(jwks) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}/jwk")
}

/// Runs the independent builder; its output directory.
fn build_message(keys: &Path, out: &Path, address: &str, variant: &str) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/dpi_message.py");
    let output = std::process::Command::new("python3")
        .arg(script)
        .args(["--keys", keys.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap()])
        .args(["--provider-org", OWN_PROVIDER])
        .arg("--provider-certificate")
        .arg(provider_certificate_file())
        .args(["--sender-org", TEST_SENDER])
        .args(["--address", address])
        .args(["--variant", variant])
        .output()
        .expect("python3 runs (the test needs python3 with cryptography, PyJWT and signxml, and openssl: .ci/setup installs them)");
    assert!(
        output.status.success(),
        "dpi_message.py {variant} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    out.to_owned()
}

async fn send_built(app: &TestApp, sender: &TestSender, built: &Path) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .part(
            "forretningsmelding",
            reqwest::multipart::Part::text(
                std::fs::read_to_string(built.join("forretningsmelding.jwt")).unwrap(),
            )
            .mime_str("application/jwt")
            .unwrap(),
        )
        .part(
            "dokumentpakke",
            reqwest::multipart::Part::bytes(
                std::fs::read(built.join("dokumentpakke.cms")).unwrap(),
            )
            .file_name("dokumentpakke.cms")
            .mime_str("application/cms")
            .unwrap(),
        );
    app.client
        .post(app.url("/messages/out"))
        .bearer_auth(&sender.token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn messages_built_by_independent_tools_are_verified_end_to_end(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // The keys (and the issuer's JWKS) first, so the app can be told of them.
    let first = build_message(keys.path(), &work.path().join("first"), "x#Y", "good");
    drop(first);
    let jwks: Value =
        serde_json::from_str(&std::fs::read_to_string(keys.path().join("jwks.json")).unwrap())
            .unwrap();
    let jwks_url = serve_jwks(jwks).await;
    let anchor = keys.path().join("ca.pem");
    let Some(app) = spawn_app_with(backend, |settings| {
        settings.maskinporten.issuer = "https://maskinporten.test/".to_owned();
        settings.maskinporten.jwks_url = jwks_url;
        settings.trust.anchors = vec![anchor];
    })
    .await
    else {
        return;
    };
    let kari = citizen(7);
    app.make_reachable(&kari, OWN_PROVIDER).await;
    let address = app.mailbox_address(&kari).await;
    let sender = app.sender(TEST_SENDER, "Skatteetaten").await;

    let refusals = [
        ("tampered-document", "brev.txt"),
        ("added-file", "ekstra.txt"),
        ("expired-token", "exp:"),
        ("foreign-token", "not signed by the token issuer"),
        ("unknown-ca", "trusted"),
        ("other-org", "991825827"),
    ];
    for (variant, cause) in refusals {
        let built = build_message(keys.path(), &work.path().join(variant), &address, variant);
        let problem = refused(send_built(&app, &sender, &built).await).await;
        assert!(
            problem.to_string().contains(cause),
            "{variant}: the problem names {cause:?}: {problem}"
        );
        assert_eq!(
            app.letters(&kari).await.len(),
            0,
            "{variant}: nothing stored"
        );
    }
    // A mailbox address no one here has.
    let built = build_message(
        keys.path(),
        &work.path().join("unknown-address"),
        "ola.nordmann#ZZZZ9999",
        "good",
    );
    let (name, reason) = only_problem(&refused(send_built(&app, &sender, &built).await).await);
    assert_eq!(
        name,
        "forretningsmelding.standardBusinessDocument.digital.mottaker.postkasseadresse"
    );
    assert!(reason.contains("not the address of a mailbox"), "{reason}");
    assert!(sender.receipts(&app, "").await.is_empty());

    // Right in every way, it is delivered to the mailbox the address names.
    let built = build_message(keys.path(), &work.path().join("good"), &address, "good");
    let response = send_built(&app, &sender, &built).await;
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let letters = app
        .database
        .letters_for(&kari, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].title.as_str(), "Vedtak om skatt");

    // The letter keeps who signed its package, and its page says so.
    let letter = app
        .database
        .letter_for(
            postkasse::mailbox::Reader::owner(&kari),
            letters[0].id,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let signer = letter.signer.expect("the package's signer is stored");
    assert_eq!(signer.org_nr.as_str(), TEST_SENDER);
    assert!(signer.signed_at.is_some(), "signxml writes a SigningTime");
    let session = app.login_as(&kari).await;
    let page = without_hydration_markers(
        &app.get_as(&format!("/brev/{}", letters[0].id), &session)
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(
        page.contains(&format!("(organisasjonsnummer {TEST_SENDER})"))
            && page.contains("Signaturen og sertifikatet ble kontrollert"),
        "{page}"
    );
}

on_both_backends!(
    a_provider_shaped_message_must_be_for_this_provider_and_complete,
    embedded_tokens_must_prove_the_sender_may_send,
    a_processor_sends_for_an_agency_only_with_its_delegation,
    messages_built_by_independent_tools_are_verified_end_to_end,
);
