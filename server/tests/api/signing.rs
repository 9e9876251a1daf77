//! Signing (docs/signing.md): an agency's order to sign a letter's PDF,
//! checked at intake; the citizen signs after a step-up to level 4 (or
//! declines); the agency follows the order by receipts and its status, and
//! fetches the signed PDF, whose PAdES B-T signature (timestamped by a TSA
//! the test runs) poppler's pdfsig and pyHanko check independently;
//! cancelled and expired orders; another citizen kept out; more signers
//! after the recipient, each in turn, told by notice and kept to the
//! document alone; signed PDFs that arrive in letters checked for the page.

use crate::helpers::{
    citizen, on_both_backends, spawn_app_with, spawn_app_with_clock, test_letter, Backend, TestApp,
    TEST_SENDER,
};
use crate::print_chain::tool;
use app::domain::{Fnr, LetterId, OrgNr};
use chrono::{Duration, Utc};
use postkasse::broker::client::{OutgoingData, OutgoingLetter};
use postkasse::clock::{Clock as _, ManualClock};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::{path::Path, process::Command, sync::Arc};

const ORDER_TYPE: &str = "application/vnd.postkasse.signeringsoppdrag+json";
const PAGE: &str = "text/html";
const API: &str = "application/json";

fn order(signer: &Fnr, deadline: chrono::DateTime<Utc>) -> Value {
    json!({
        "versjon": 1,
        "tittel": "Arbeidsavtale",
        "frist": deadline.to_rfc3339(),
        "signatarer": [{"personidentifikator": signer.as_str(), "navn": "Kari Nordmann"}],
        "identifisering": "FOEDSELSDATO_OG_NAVN",
    })
}

fn order_letter(recipient: &Fnr, title: &str, order: &Value) -> OutgoingLetter {
    let mut letter = test_letter(&OrgNr::parse(TEST_SENDER).unwrap(), recipient, title);
    letter.main_data = Some(OutgoingData {
        file_name: "signeringsoppdrag.json".to_owned(),
        mime: ORDER_TYPE.to_owned(),
        bytes: order.to_string().into_bytes(),
    });
    letter
}

/// An order titled `title` for these signers, in turn.
fn order_for(title: &str, signers: &[(&Fnr, &str)], deadline: chrono::DateTime<Utc>) -> Value {
    let mut order = order(signers[0].0, deadline);
    order["tittel"] = json!(title);
    order["signatarer"] = signers
        .iter()
        .map(|(fnr, name)| json!({"personidentifikator": fnr.as_str(), "navn": name}))
        .collect();
    order
}

/// Posts the sign or decline form as a browser (`accept` text/html) or a
/// client does.
async fn decide(
    app: &TestApp,
    letter: LetterId,
    session: &str,
    fields: &[(&str, &str)],
    accept: &str,
) -> reqwest::Response {
    decide_at(
        app,
        &format!("/brev/{letter}/signering"),
        session,
        fields,
        accept,
    )
    .await
}

/// The same form posted to `path` (a later signer's is `/signering/{id}`).
async fn decide_at(
    app: &TestApp,
    path: &str,
    session: &str,
    fields: &[(&str, &str)],
    accept: &str,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header(
            header::COOKIE,
            format!("__Host-postkasse-session={session}"),
        )
        .header(header::ACCEPT, accept)
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn page(app: &TestApp, path: &str, session: &str) -> String {
    let response = app.get_as(path, session).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    crate::helpers::without_hydration_markers(&response.text().await.unwrap())
}

/// The agency's `signeringsstatus` documents waiting at `GET /messages/in`.
fn statuses(entries: &[Value]) -> Vec<Value> {
    entries
        .iter()
        .filter_map(|entry| {
            entry["forretningsmelding"]["standardBusinessDocument"]
                .get("signeringsstatus")
                .map(|status| status["signeringsoppdrag"].clone())
        })
        .collect()
}

async fn agency_get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// pyHanko's verdict on the signed PDF, trusting only `ca`.
fn pyhanko(ca: &Path, pdf: &Path) -> (bool, String) {
    let output = Command::new("pyhanko")
        .args([
            "sign",
            "validate",
            "--no-revocation-check",
            "--trust-replace",
            "--trust",
        ])
        .arg(ca)
        .arg(pdf)
        .output()
        .expect("pyhanko runs (pyhanko-cli from PyPI, installed by .ci/setup)");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// pdfsig's report, which exits non-zero for a broken signature.
fn pdfsig(pdf: &Path) -> String {
    let output = Command::new("pdfsig")
        .arg(pdf)
        .output()
        .expect("pdfsig runs (poppler-utils)");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn a_citizen_steps_up_signs_once_and_the_agency_gets_a_pades_signature(backend: Backend) {
    // The signatures are timestamped by a TSA this test runs beside the app.
    let tsa = crate::helpers::spawn_tsa();
    let Some(app) = spawn_app_with(backend, |settings| {
        settings.signing.tsa_url = tsa.clone();
    })
    .await
    else {
        return;
    };
    let kari = citizen(11);
    let ola = citizen(12);
    let letter_out = order_letter(
        &kari,
        "Arbeidsavtale til signering",
        &order(&kari, Utc::now() + Duration::days(30)),
    );
    let document_sha256 = hex::encode(Sha256::digest(&letter_out.main.bytes));
    let letter = app.send_letter(&letter_out).await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let path = format!("/brev/{letter}");

    // At level 3 the page asks for a step-up, and signing is refused.
    let substantial = app.login_as(&kari).await;
    let shown = page(&app, &path, &substantial).await;
    assert!(
        shown.contains("Til signering") && shown.contains("level=high"),
        "{shown}"
    );
    assert!(
        !shown.contains("name=\"handling\" value=\"signer\""),
        "{shown}"
    );
    let refused = decide(&app, letter, &substantial, &[("handling", "signer")], API).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // At level 4: what, for whom, the document's fingerprint, the deadline.
    let high = app.login_at_high(&kari).await;
    let shown = page(&app, &path, &high).await;
    for expected in [
        "Arbeidsavtale",
        "Brønnøysundregistrene",
        document_sha256.as_str(),
        "Signer dokumentet",
        "Kari Nordmann, født",
    ] {
        assert!(shown.contains(expected), "{expected} in {shown}");
    }

    // Another citizen gets 404 from the form and the server function.
    let ola_high = app.login_at_high(&ola).await;
    app.make_reachable(&ola, crate::helpers::OWN_PROVIDER).await;
    let other = decide(&app, letter, &ola_high, &[("handling", "signer")], API).await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let other = decide(&app, letter, &ola_high, &[("handling", "avvis")], API).await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let other = app
        .server_fn_as(
            "load_signing_area",
            &[("id", letter.to_string())],
            &ola_high,
        )
        .await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);

    // Signed; a double submit signs once.
    let signed = decide(&app, letter, &high, &[("handling", "signer")], PAGE).await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        signed.headers()[header::LOCATION],
        format!("/brev/{letter}#signering")
    );
    let again = decide(&app, letter, &high, &[("handling", "signer")], PAGE).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let again = decide(&app, letter, &high, &[("handling", "signer")], API).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let waiting = statuses(&sender.receipts(&app, "").await);
    assert_eq!(waiting.len(), 1, "one receipt: {waiting:?}");
    assert_eq!(waiting[0]["status"], "COMPLETED_SUCCESSFULLY");
    assert_eq!(waiting[0]["signatarer"][0]["status"], "SIGNED");
    assert_eq!(waiting[0]["signatarer"][0]["sikkerhetsnivaa"], 4);

    // The agency's status and the signed PDF; another agency finds nothing.
    let job = format!("/messages/out/{}/signing", letter_out.message_id);
    let status: Value = agency_get(&app, &sender.token, &job)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        status["signeringsoppdrag"]["status"],
        "COMPLETED_SUCCESSFULLY"
    );
    let download = agency_get(&app, &sender.token, &format!("{job}/document")).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()[header::CONTENT_TYPE], "application/pdf");
    let signed_pdf = download.bytes().await.unwrap().to_vec();
    assert!(
        signed_pdf.starts_with(&letter_out.main.bytes),
        "an incremental update of the sent PDF"
    );
    assert_eq!(
        status["signeringsoppdrag"]["signertDokument"]["sha256"],
        hex::encode(Sha256::digest(&signed_pdf))
    );
    let stranger = app.sender("974761076", "Skatteetaten").await;
    let hidden = agency_get(&app, &stranger.token, &job).await;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);

    // Independent checks: pdfsig and pyHanko, trusting the signing CA.
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("signert.pdf");
    std::fs::write(&file, &signed_pdf).unwrap();
    let report = pdfsig(&file);
    assert!(report.contains("ETSI.CAdES.detached"), "{report}");
    assert!(report.contains("Signature is Valid."), "{report}");
    assert!(report.contains("Total document signed"), "{report}");
    let ca = crate::helpers::signing_ca_file();
    let (valid, verdict) = pyhanko(&ca, &file);
    assert!(
        valid && verdict.contains("INTACT:TRUSTED"),
        "pyHanko: {verdict}"
    );
    assert!(
        verdict.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
        "a B-T timestamp: {verdict}"
    );
    let text = tool("pdftotext", &[file.to_str().unwrap(), "-"]);
    assert!(
        text.contains("Signert av / Signed by: Kari Nordmann, født"),
        "{text}"
    );
    let attached = tool("pdfdetach", &["-list", file.to_str().unwrap()]);
    assert!(attached.contains("signeringsbevis.json"), "{attached}");
    let evidence_file = scratch.path().join("bevis.json");
    tool(
        "pdfdetach",
        &[
            "-save",
            "1",
            "-o",
            evidence_file.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
    );
    let evidence: Value = serde_json::from_slice(&std::fs::read(&evidence_file).unwrap()).unwrap();
    assert_eq!(evidence["innlogging"]["sikkerhetsnivaa"], 4);
    assert_eq!(
        evidence["innlogging"]["idTokenSha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    assert!(evidence["innlogging"]["sid"].is_string(), "{evidence}");
    assert!(
        evidence["signatar"].get("personidentifikator").is_none(),
        "date of birth and name only"
    );

    // One byte flipped inside the signed range breaks it for both tools.
    let mut tampered = signed_pdf.clone();
    let at = find(&tampered, b"Kari Nordmann, f").expect("the signer's line");
    tampered[at] = b'M';
    let tampered_file = scratch.path().join("endret.pdf");
    std::fs::write(&tampered_file, &tampered).unwrap();
    let report = pdfsig(&tampered_file);
    assert!(!report.contains("Signature is Valid."), "{report}");
    let (valid, verdict) = pyhanko(&ca, &tampered_file);
    assert!(
        !valid && !verdict.contains("INTACT:TRUSTED"),
        "pyHanko: {verdict}"
    );

    // The page: signed, a link to the signed PDF, and the validation summary.
    let shown = page(&app, &path, &high).await;
    for expected in [
        "Du signerte dokumentet",
        "Signaturer i dokumentene",
        "Gyldig",
        "Kari Nordmann",
        "(med tidsstempel)",
    ] {
        assert!(shown.contains(expected), "{expected} in {shown}");
    }
    let documents = page(&app, "/mine-dokumenter", &high).await;
    assert!(
        documents.contains("Arbeidsavtale (signert).pdf"),
        "kept for good: {documents}"
    );
}

/// The login evidence (JSON) in the signature dictionary of the
/// `signature`th signature (from 2: the first's is an embedded file), read
/// from its `/Postkasse.Bevis` literal string.
fn signature_evidence(pdf: &[u8], signature: usize) -> Value {
    let key = b"/Postkasse.Bevis";
    let at = (0..pdf.len())
        .filter(|&index| pdf[index..].starts_with(key))
        .nth(signature - 2)
        .expect("the signature's evidence");
    let mut index = at + key.len();
    while pdf[index] != b'(' {
        index += 1;
    }
    index += 1;
    let (mut text, mut depth) = (Vec::new(), 1);
    loop {
        match pdf[index] {
            b'\\' if pdf[index + 1].is_ascii_digit() => {
                let digits = pdf[index + 1..]
                    .iter()
                    .take(3)
                    .take_while(|byte| byte.is_ascii_digit())
                    .count();
                let octal = std::str::from_utf8(&pdf[index + 1..index + 1 + digits]).unwrap();
                text.push(u8::from_str_radix(octal, 8).unwrap());
                index += 1 + digits;
                continue;
            }
            b'\\' => {
                text.push(pdf[index + 1]);
                index += 2;
                continue;
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        text.push(pdf[index]);
        index += 1;
    }
    serde_json::from_slice(&text).expect("the evidence is JSON")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

async fn an_order_is_declined_cancelled_or_expires(backend: Backend) {
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let Some(app) = spawn_app_with_clock(
        backend,
        |settings| settings.signing.expiry_interval_seconds = 1,
        clock.clone(),
    )
    .await
    else {
        return;
    };
    let kari = citizen(13);
    let deadline = clock.now() + Duration::days(2);
    let declined = app
        .send_letter(&order_letter(&kari, "Avtale A", &order(&kari, deadline)))
        .await;
    let cancelled_out = order_letter(&kari, "Avtale B", &order(&kari, deadline));
    let cancelled = app.send_letter(&cancelled_out).await;
    let expiring = app
        .send_letter(&order_letter(&kari, "Avtale C", &order(&kari, deadline)))
        .await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let high = app.login_at_high(&kari).await;

    // Declined with a reason, which the agency hears.
    let too_long = "x".repeat(501);
    let refused = decide(
        &app,
        declined,
        &high,
        &[("handling", "avvis"), ("begrunnelse", &too_long)],
        API,
    )
    .await;
    let problem = crate::helpers::refused(refused).await;
    assert_eq!(
        problem["invalid-params"][0]["name"], "begrunnelse",
        "{problem}"
    );
    let answer = decide(
        &app,
        declined,
        &high,
        &[("handling", "avvis"), ("begrunnelse", "Feil lønn")],
        PAGE,
    )
    .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let shown = page(&app, &format!("/brev/{declined}"), &high).await;
    assert!(shown.contains("Du avviste å signere"), "{shown}");
    let after = decide(&app, declined, &high, &[("handling", "signer")], API).await;
    assert_eq!(after.status(), StatusCode::CONFLICT);

    // Cancelled by the agency: the page says so, and it cannot be signed.
    let job = format!("/messages/out/{}/signing", cancelled_out.message_id);
    let cancel = app
        .client
        .post(app.url(&format!("{job}/cancel")))
        .bearer_auth(&sender.token)
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), StatusCode::OK);
    let body: Value = cancel.json().await.unwrap();
    assert_eq!(
        body["signeringsoppdrag"]["signatarer"][0]["status"],
        "CANCELLED"
    );
    let twice = app
        .client
        .post(app.url(&format!("{job}/cancel")))
        .bearer_auth(&sender.token)
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), StatusCode::CONFLICT);
    let no_document = agency_get(&app, &sender.token, &format!("{job}/document")).await;
    assert_eq!(no_document.status(), StatusCode::CONFLICT);
    let shown = page(&app, &format!("/brev/{cancelled}"), &high).await;
    assert!(
        shown.contains("Avsenderen trakk tilbake signeringsoppdraget"),
        "{shown}"
    );
    let refused = decide(&app, cancelled, &high, &[("handling", "signer")], API).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);

    // Past its deadline an order cannot be signed, and the agency hears it expired, once.
    clock.advance(Duration::days(3));
    let high = app.login_at_high(&kari).await;
    let late = decide(&app, expiring, &high, &[("handling", "signer")], API).await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    let shown = page(&app, &format!("/brev/{expiring}"), &high).await;
    assert!(shown.contains("Fristen for å signere gikk ut"), "{shown}");
    let token = sender
        .agency
        .access_token_at(&app, &["digitalpostinnbygger:send"], clock.now())
        .await;
    let mut expired = Vec::new();
    for _ in 0..100 {
        let waiting = statuses(
            &crate::helpers::receipts_at(&app.client, &app.url("/messages/in"), &token).await,
        );
        expired = waiting
            .into_iter()
            .filter(|status| status["signatarer"][0]["status"] == "EXPIRED")
            .collect();
        if !expired.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(expired.len(), 1, "one expiry receipt: {expired:?}");
    assert_eq!(expired[0]["tittel"], "Arbeidsavtale");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let waiting =
        statuses(&crate::helpers::receipts_at(&app.client, &app.url("/messages/in"), &token).await);
    let kinds: Vec<&str> = waiting
        .iter()
        .filter_map(|status| status["signatarer"][0]["status"].as_str())
        .collect();
    assert_eq!(
        kinds.iter().filter(|kind| **kind == "EXPIRED").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|kind| **kind == "REJECTED").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|kind| **kind == "CANCELLED").count(),
        1,
        "{kinds:?}"
    );
}

async fn a_bad_order_names_every_problem_and_stores_nothing(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(14), citizen(15));
    app.make_reachable(&kari, crate::helpers::OWN_PROVIDER)
        .await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;

    let mut bad = order(&kari, Utc::now() + Duration::days(91));
    bad["sikkerhetsnivaa"] = json!(5);
    bad["identifisering"] = json!("ADRESSE");
    let response = sender
        .send(&app, &order_letter(&kari, "Feil oppdrag", &bad))
        .await;
    let problem = crate::helpers::refused(response).await;
    for name in ["frist", "sikkerhetsnivaa", "identifisering"] {
        let field = format!("dokumentpakke.hoveddokument.data.{name}");
        assert!(problem.to_string().contains(&field), "{field} in {problem}");
    }

    let response = sender
        .send(
            &app,
            &order_letter(
                &kari,
                "Feil signatar",
                &order(&ola, Utc::now() + Duration::days(5)),
            ),
        )
        .await;
    let problem = crate::helpers::refused(response).await;
    assert!(
        problem
            .to_string()
            .contains("dokumentpakke.hoveddokument.data.signatarer[0].personidentifikator"),
        "{problem}"
    );

    let mut not_pdf = order_letter(
        &kari,
        "Ikke PDF",
        &order(&kari, Utc::now() + Duration::days(5)),
    );
    not_pdf.main.mime = "text/plain".to_owned();
    not_pdf.main.file_name = "brev.txt".to_owned();
    not_pdf.main.bytes = b"Signer dette".to_vec();
    let response = sender.send(&app, &not_pdf).await;
    let problem = crate::helpers::refused(response).await;
    assert!(
        problem.to_string().contains("only PDFs are signed"),
        "{problem}"
    );
    assert!(app.letters(&kari).await.is_empty(), "nothing is stored");
}

/// Signed PDFs that arrive in letters are checked for the page: valid when
/// their signer's CA is trusted, an unknown signer otherwise, invalid when
/// changed after signing.
async fn signed_pdfs_in_letters_are_checked(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app(backend).await else {
        return;
    };
    let kari = citizen(16);
    let (trusted, unknown) = crate::helpers::document_sealers();
    let plain = postkasse::pdf::letter_pdf("Vedtak", "Etat", &["Innvilget."]).unwrap();
    let valid = trusted.seal(&plain, "Vedtak", Utc::now()).unwrap();
    let stranger = unknown.seal(&plain, "Vedtak", Utc::now()).unwrap();
    let mut broken = valid.clone();
    // The seal's time in its dictionary, which the signature covers.
    let at = find(&broken, b"(D:20").expect("the signing time") + 3;
    broken[at] = b'1';
    let mut cases = Vec::new();
    for (title, bytes) in [
        ("Gyldig vedtak", valid),
        ("Ukjent vedtak", stranger),
        ("Endret vedtak", broken),
    ] {
        let mut letter = test_letter(&OrgNr::parse(TEST_SENDER).unwrap(), &kari, title);
        letter.main.bytes = bytes;
        cases.push((app.send_letter(&letter).await, title));
    }
    let session = app.login_as(&kari).await;
    for (letter, title) in cases {
        let shown = page(&app, &format!("/brev/{letter}"), &session).await;
        let expected = match title {
            "Gyldig vedtak" => "<strong class=\"verdict valid\">",
            "Ukjent vedtak" => "<strong class=\"verdict unknown\">",
            _ => "<strong class=\"verdict invalid\">",
        };
        assert!(shown.contains(expected), "{title}: {expected} in {shown}");
    }
}

/// Three citizens sign one document in turn: each later signer sees
/// nothing until their turn, is told by notice, sees only the document
/// (with the signatures before theirs) and signs on their own page; the
/// agency gets one PDF whose three signatures pdfsig and pyHanko accept.
async fn signers_after_the_recipient_sign_in_turn(backend: Backend) {
    let tsa = crate::helpers::spawn_tsa();
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let Some(app) = spawn_app_with_clock(
        backend,
        |settings| settings.signing.tsa_url = tsa.clone(),
        clock.clone(),
    )
    .await
    else {
        return;
    };
    let (kari, ola, sofie, stranger) = (citizen(17), citizen(18), citizen(19), citizen(20));
    for fnr in [&ola, &sofie] {
        app.make_reachable(fnr, crate::helpers::OWN_PROVIDER).await;
    }
    let signers = [
        (&kari, "Kari Nordmann"),
        (&ola, "Ola Nordmann"),
        (&sofie, "Sofie Hansen"),
    ];
    let letter_out = order_letter(
        &kari,
        "Kjøpekontrakt",
        &order_for("Kjøpekontrakt", &signers, clock.now() + Duration::days(30)),
    );
    let letter = app.send_letter(&letter_out).await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let task = format!("/signering/{letter}");
    let document = format!("{task}/dokument");

    // Before Kari has signed, Ola and Sofie see nothing of it.
    let ola_high = app.login_at_high(&ola).await;
    let tasks = page(&app, "/signering", &ola_high).await;
    assert!(!tasks.contains("Kjøpekontrakt"), "{tasks}");
    for path in [&task, &document] {
        let hidden = app.get_as(path, &ola_high).await;
        assert_eq!(hidden.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let early = decide_at(&app, &task, &ola_high, &[("handling", "signer")], API).await;
    assert_eq!(early.status(), StatusCode::NOT_FOUND);

    // Kari signs in the letter; the page lists who signs after her.
    let kari_high = app.login_at_high(&kari).await;
    let shown = page(&app, &format!("/brev/{letter}"), &kari_high).await;
    for expected in [
        "Hvem som signerer, i rekkefølge",
        "Ola Nordmann",
        "Sofie Hansen",
    ] {
        assert!(shown.contains(expected), "{expected} in {shown}");
    }
    let signed = decide(&app, letter, &kari_high, &[("handling", "signer")], API).await;
    assert_eq!(signed.status(), StatusCode::NO_CONTENT);
    let receipts = statuses(&sender.receipts(&app, "").await);
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    assert_eq!(receipts[0]["status"], "IN_PROGRESS");
    let signer_statuses: Vec<&str> = receipts[0]["signatarer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|signer| signer["status"].as_str().unwrap())
        .collect();
    assert_eq!(signer_statuses, ["SIGNED", "WAITING", "WAITING"]);

    // Ola's turn: a notice by e-mail and SMS, ordered on the sender's
    // behalf, naming neither the document nor the sender; none for Sofie.
    use postkasse::notify::Store as _;
    let notices = app.database.notice_states(&ola, letter).await.unwrap();
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(
        notices
            .iter()
            .all(|notice| notice.ordered_by == postkasse::notify::OrderedBy::Sender),
        "{notices:?}"
    );
    assert!(app
        .database
        .notice_states(&sofie, letter)
        .await
        .unwrap()
        .is_empty());
    let due = notices.iter().map(|notice| notice.due_at).max().unwrap();
    if due > clock.now() {
        clock.advance(due - clock.now() + Duration::seconds(1));
    }
    let mut sent = Vec::new();
    for _ in 0..100 {
        sent = app
            .database
            .sink_notices(100)
            .await
            .unwrap()
            .into_iter()
            .filter(|notice| notice.text.contains("venter på din signatur"))
            .collect();
        if !sent.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(sent.len(), 1, "the e-mail (Ola has no mobile): {sent:?}");
    assert!(!sent[0].text.contains("Kjøpekontrakt"), "{}", sent[0].text);

    // Ola's list and page: at level 3 a step-up; at level 4 the document
    // with Kari's signature, checked; never the letter itself.
    let ola_substantial = app.login_as(&ola).await;
    let tasks = page(&app, "/signering", &ola_substantial).await;
    assert!(
        tasks.contains("Kjøpekontrakt") && tasks.contains(&task),
        "{tasks}"
    );
    let shown = page(&app, &task, &ola_substantial).await;
    assert!(shown.contains("level=high"), "{shown}");
    assert!(!shown.contains("value=\"signer\""), "{shown}");
    let ola_high = app.login_at_high(&ola).await;
    let shown = page(&app, &task, &ola_high).await;
    for expected in [
        "Signer dokumentet",
        "Ola Nordmann, født",
        "Gyldig",
        "Kari Nordmann",
        "(deg)",
    ] {
        assert!(shown.contains(expected), "{expected} in {shown}");
    }
    let to_sign = app.get_as(&document, &ola_high).await;
    assert_eq!(to_sign.status(), StatusCode::OK);
    let to_sign = to_sign.bytes().await.unwrap();
    assert!(to_sign.starts_with(&letter_out.main.bytes));
    assert!(
        shown.contains(&hex::encode(Sha256::digest(&to_sign))),
        "the fingerprint of what Ola signs"
    );
    let letter_page = app.get_as(&format!("/brev/{letter}"), &ola_high).await;
    assert_eq!(letter_page.status(), StatusCode::NOT_FOUND);
    let attachment = app
        .get_as(&format!("/dokumenter/{letter}/0"), &ola_high)
        .await;
    assert_eq!(attachment.status(), StatusCode::NOT_FOUND);

    // Nobody else gets in: not a stranger, not Sofie before her turn, not
    // Kari on Ola's page (she signs in the letter).
    let kari_high = app.login_at_high(&kari).await;
    let stranger_high = app.login_at_high(&stranger).await;
    let sofie_high = app.login_at_high(&sofie).await;
    for session in [&stranger_high, &sofie_high, &kari_high] {
        for path in [&task, &document] {
            let hidden = app.get_as(path, session).await;
            assert_eq!(hidden.status(), StatusCode::NOT_FOUND, "{path}");
        }
        let refused = decide_at(&app, &task, session, &[("handling", "signer")], API).await;
        assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    }

    // Ola signs on his page and is sent back to it.
    let signed = decide_at(&app, &task, &ola_high, &[("handling", "signer")], PAGE).await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed.headers()[header::LOCATION], task.as_str());
    let shown = page(&app, &task, &ola_high).await;
    assert!(shown.contains("Du signerte dokumentet"), "{shown}");

    // Sofie signs last, which completes the job.
    let shown = page(&app, &task, &sofie_high).await;
    assert!(shown.contains("Signer dokumentet"), "{shown}");
    let signed = decide_at(&app, &task, &sofie_high, &[("handling", "signer")], API).await;
    assert_eq!(signed.status(), StatusCode::NO_CONTENT);
    let token = sender
        .agency
        .access_token_at(&app, &["digitalpostinnbygger:send"], clock.now())
        .await;
    let job = format!("/messages/out/{}/signing", letter_out.message_id);
    let status: Value = agency_get(&app, &token, &job).await.json().await.unwrap();
    assert_eq!(
        status["signeringsoppdrag"]["status"], "COMPLETED_SUCCESSFULLY",
        "{status}"
    );
    let completed = agency_get(&app, &token, &format!("{job}/document"))
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    assert!(
        completed.starts_with(&to_sign),
        "Ola's signature on Kari's document"
    );

    // Three signatures, each intact and trusted, each with its evidence.
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("signert.pdf");
    std::fs::write(&file, &completed).unwrap();
    let report = pdfsig(&file);
    assert_eq!(report.matches("Signature is Valid.").count(), 3, "{report}");
    assert_eq!(report.matches("ETSI.CAdES.detached").count(), 3, "{report}");
    let (valid, verdict) = pyhanko(&crate::helpers::signing_ca_file(), &file);
    assert!(valid, "pyHanko: {verdict}");
    // Each signature intact and trusted, with its timestamp; the first two
    // see only the later signatures' form filling after them.
    assert_eq!(
        verdict
            .matches(":INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>")
            .count(),
        3,
        "{verdict}"
    );
    assert_eq!(
        verdict
            .matches("EXTENDED_WITH_FORM_FILLING,ACCEPTABLE_MODIFICATIONS")
            .count(),
        2,
        "{verdict}"
    );
    assert!(!verdict.contains("ILLEGAL"), "{verdict}");
    // Kari's login evidence is an embedded file; Ola's and Sofie's, in
    // their signature dictionaries (a later revision may only add fields).
    let attached = tool("pdfdetach", &["-list", file.to_str().unwrap()]);
    assert!(attached.contains("signeringsbevis.json"), "{attached}");
    for (signature, name) in [(2, "Ola Nordmann"), (3, "Sofie Hansen")] {
        let evidence = signature_evidence(&completed, signature);
        assert_eq!(evidence["signatar"]["navn"], name, "{evidence}");
        assert_eq!(evidence["innlogging"]["sikkerhetsnivaa"], 4, "{evidence}");
        assert_eq!(
            evidence["innlogging"]["idTokenSha256"]
                .as_str()
                .unwrap()
                .len(),
            64
        );
    }
    let text = tool("pdftotext", &[file.to_str().unwrap(), "-"]);
    for name in [
        "Kari Nordmann, født",
        "Ola Nordmann, født",
        "Sofie Hansen, født",
    ] {
        assert!(text.contains(name), "{name} in {text}");
    }

    // Kari keeps the completed document; each of the others their copy.
    let kari_high = app.login_at_high(&kari).await;
    let shown = page(&app, &format!("/brev/{letter}"), &kari_high).await;
    assert!(shown.contains("Alle har signert dokumentet."), "{shown}");
    let documents = page(&app, "/mine-dokumenter", &kari_high).await;
    assert!(
        documents.contains("Kjøpekontrakt (signert av alle).pdf"),
        "{documents}"
    );
    let sofie_high = app.login_at_high(&sofie).await;
    let documents = page(&app, "/mine-dokumenter", &sofie_high).await;
    assert!(
        documents.contains("Kjøpekontrakt (signert).pdf"),
        "{documents}"
    );
}

/// A later signer who declines fails the job: those after them are never
/// asked, and the agency hears it once.
async fn a_later_signer_declines_and_those_after_are_not_asked(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app(backend).await else {
        return;
    };
    let (kari, ola, sofie) = (citizen(21), citizen(22), citizen(23));
    let letter_out = order_letter(
        &kari,
        "Leiekontrakt",
        &order_for(
            "Leiekontrakt",
            &[(&kari, "Kari"), (&ola, "Ola"), (&sofie, "Sofie")],
            Utc::now() + Duration::days(10),
        ),
    );
    let letter = app.send_letter(&letter_out).await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let kari_high = app.login_at_high(&kari).await;
    let signed = decide(&app, letter, &kari_high, &[("handling", "signer")], API).await;
    assert_eq!(signed.status(), StatusCode::NO_CONTENT);
    let task = format!("/signering/{letter}");
    let ola_high = app.login_at_high(&ola).await;
    let declined = decide_at(
        &app,
        &task,
        &ola_high,
        &[("handling", "avvis"), ("begrunnelse", "Feil leie")],
        API,
    )
    .await;
    assert_eq!(declined.status(), StatusCode::NO_CONTENT);
    let again = decide_at(&app, &task, &ola_high, &[("handling", "signer")], API).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    let receipts = statuses(&sender.receipts(&app, "").await);
    let last = receipts.last().unwrap();
    assert_eq!(last["status"], "FAILED", "{receipts:?}");
    let signer_statuses: Vec<&str> = last["signatarer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|signer| signer["status"].as_str().unwrap())
        .collect();
    assert_eq!(signer_statuses, ["SIGNED", "REJECTED", "CANCELLED"]);
    assert_eq!(last["signatarer"][1]["begrunnelse"], "Feil leie");

    // Sofie's turn never came.
    let sofie_high = app.login_at_high(&sofie).await;
    let hidden = app.get_as(&task, &sofie_high).await;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let tasks = page(&app, "/signering", &sofie_high).await;
    assert!(!tasks.contains("Leiekontrakt"), "{tasks}");
    // Kari signed, but the job did not complete.
    let shown = page(&app, &format!("/brev/{letter}"), &kari_high).await;
    assert!(shown.contains("Signeringen ble ikke fullført"), "{shown}");
    let tasks = page(&app, "/signering", &kari_high).await;
    assert!(tasks.contains("Leiekontrakt"), "{tasks}");
}

on_both_backends!(
    a_citizen_steps_up_signs_once_and_the_agency_gets_a_pades_signature,
    an_order_is_declined_cancelled_or_expires,
    a_bad_order_names_every_problem_and_stores_nothing,
    signed_pdfs_in_letters_are_checked,
    signers_after_the_recipient_sign_in_turn,
    a_later_signer_declines_and_those_after_are_not_asked,
);
