//! Signing (docs/signing.md): an agency's order to sign a letter's PDF,
//! checked at intake; the citizen signs after a step-up to level 4 (or
//! declines); the agency follows the order by receipts and its status, and
//! fetches the signed PDF, whose PAdES B-T signature (timestamped by a TSA
//! the test runs) poppler's pdfsig and pyHanko check independently;
//! cancelled and expired orders; another citizen kept out; signed PDFs that
//! arrive in letters checked for the page.

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

/// Posts the sign or decline form as a browser (`accept` text/html) or a
/// client does.
async fn decide(
    app: &TestApp,
    letter: LetterId,
    session: &str,
    fields: &[(&str, &str)],
    accept: &str,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/brev/{letter}/signering")))
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

on_both_backends!(
    a_citizen_steps_up_signs_once_and_the_agency_gets_a_pades_signature,
    an_order_is_declined_cancelled_or_expires,
    a_bad_order_names_every_problem_and_stores_nothing,
    signed_pdfs_in_letters_are_checked,
);
