//! Replies (docs/replies.md): a letter's link out and reply form checked at
//! intake; the citizen's answer kept as a draft, reviewed, sent once and
//! fetched by the agency as a `svar` message, which the agency's side checks
//! against its form with Python's `jsonschema` (`tests/tools/check_reply.py`);
//! deadlines on a test clock; another citizen and a lower login level kept out.

use crate::helpers::{
    citizen, on_both_backends, refused, spawn_app, spawn_app_with_clock, test_letter, Backend,
    TestApp, TEST_SENDER,
};
use app::domain::{Fnr, LetterId, OrgNr, SecurityLevel};
use chrono::{Duration, Utc};
use postkasse::broker::client::{OutgoingData, OutgoingLetter};
use postkasse::clock::{Clock as _, ManualClock};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use std::{path::Path, sync::Arc};
use uuid::Uuid;

const FORM_TYPE: &str = "application/vnd.postkasse.svarskjema+json";
const LINK_TYPE: &str = "application/vnd.difi.dpi.lenke+xml";

/// A course sign-up: yes/no branching to a reason, a choice, a short text,
/// an attachment, and a number.
pub(crate) fn course_form(deadline: chrono::DateTime<Utc>) -> Value {
    json!({
        "versjon": 1,
        "tittel": "Påmelding til kurs",
        "ingress": "Svar før fristen, så vi kan planlegge.",
        "svarfrist": deadline.to_rfc3339(),
        "fritekst": false,
        "spoersmaal": [
            {"id": "deltar", "type": "JA_NEI", "tekst": "Kommer du på kurset?", "paakrevd": true,
             "forgrening": {"nei": "grunn"}},
            {"id": "dag", "type": "ETT_VALG", "tekst": "Hvilken dag passer?", "paakrevd": true,
             "alternativer": [{"verdi": "man", "tekst": "Mandag"}, {"verdi": "tir", "tekst": "Tirsdag"}]},
            {"id": "allergi", "type": "KORT_TEKST", "tekst": "Allergier", "hjelpetekst": "La stå tom om du ikke har noen."},
            {"id": "attest", "type": "VEDLEGG", "tekst": "Legeattest", "paakrevd": true},
            {"id": "antall", "type": "TALL", "tekst": "Hvor mange følger deg?", "min": 0, "maks": 3,
             "nesteSpoersmaal": "SLUTT"},
            {"id": "grunn", "type": "LANG_TEKST", "tekst": "Hvorfor ikke?", "paakrevd": true}
        ]
    })
}

fn letter_with(
    recipient: &Fnr,
    title: &str,
    mime: &str,
    file: &str,
    bytes: Vec<u8>,
) -> OutgoingLetter {
    let mut letter = test_letter(&OrgNr::parse(TEST_SENDER).unwrap(), recipient, title);
    letter.main_data = Some(OutgoingData {
        file_name: file.to_owned(),
        mime: mime.to_owned(),
        bytes,
    });
    letter
}

pub(crate) fn form_letter(recipient: &Fnr, title: &str, form: &Value) -> OutgoingLetter {
    letter_with(
        recipient,
        title,
        FORM_TYPE,
        "svarskjema.json",
        form.to_string().into_bytes(),
    )
}

fn pdf() -> Vec<u8> {
    postkasse::pdf::letter_pdf("Legeattest", "Lege", &["Frisk nok."]).unwrap()
}

/// Posts answers to `/brev/{letter}/svar` as a browser does (asking for
/// HTML): text fields, and files by question id.
pub(crate) async fn post_answers(
    app: &TestApp,
    letter: LetterId,
    session: &str,
    draft: Option<&str>,
    fields: &[(&str, &str)],
    files: &[(&str, &str, Vec<u8>)],
    accept: &str,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new();
    if let Some(draft) = draft {
        form = form.text("utkast", draft.to_owned());
    }
    for (id, value) in fields {
        form = form.text(format!("q.{id}"), (*value).to_owned());
    }
    for (id, name, bytes) in files {
        form = form.part(
            format!("q.{id}"),
            reqwest::multipart::Part::bytes(bytes.clone()).file_name((*name).to_owned()),
        );
    }
    post_form(app, &format!("/brev/{letter}/svar"), session, form, accept).await
}

/// The letter's entry in the citizen's export, and the zip's entries.
async fn exported_letter(
    app: &TestApp,
    session: &str,
    letter: LetterId,
) -> (Value, Vec<(String, Vec<u8>)>) {
    let export = app.get_as("/eksport/postkasse.zip", session).await;
    assert_eq!(export.status(), StatusCode::OK);
    let entries = crate::archive::unzip(&export.bytes().await.unwrap());
    let index: Value = serde_json::from_slice(
        &entries
            .iter()
            .find(|(name, _)| name == "index.json")
            .expect("an index")
            .1,
    )
    .unwrap();
    let exported = index["brev"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["id"] == letter.to_string())
        .expect("the letter in the export")
        .clone();
    (exported, entries)
}

/// A draft answering the course form "no" with a reason; its id.
async fn draft_no(app: &TestApp, letter: LetterId, session: &str, reason: &str) -> String {
    draft_in(
        &post_answers(
            app,
            letter,
            session,
            None,
            &[("deltar", "nei"), ("grunn", reason)],
            &[],
            PAGE,
        )
        .await,
    )
}

/// Answers the course form "no" with a reason, and sends it.
async fn answer_no(app: &TestApp, letter: LetterId, session: &str, reason: &str) {
    let draft = draft_no(app, letter, session, reason).await;
    let sent = app
        .server_fn_as(
            "send_reply",
            &[("id", letter.to_string()), ("utkast", draft)],
            session,
        )
        .await;
    assert!(sent.status().is_success());
}

/// A multipart form posted in the session, asking for `accept`.
async fn post_form(
    app: &TestApp,
    path: &str,
    session: &str,
    form: reqwest::multipart::Form,
    accept: &str,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header(
            header::COOKIE,
            format!("__Host-postkasse-session={session}"),
        )
        .header(header::ACCEPT, accept)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

pub(crate) const PAGE: &str = "text/html";
const API: &str = "application/json";

/// The draft id from the address a page post is sent back to.
pub(crate) fn draft_in(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    location
        .split("utkast=")
        .nth(1)
        .and_then(|rest| rest.split('#').next())
        .unwrap_or_else(|| panic!("no draft in {location}"))
        .to_owned()
}

async fn page(app: &TestApp, path: &str, session: &str) -> String {
    let response = app.get_as(path, session).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    crate::helpers::without_hydration_markers(&response.text().await.unwrap())
}

/// The `svar` documents among the agency's waiting messages, with their ids.
fn svar_documents(entries: &[Value]) -> Vec<(String, Value)> {
    entries
        .iter()
        .filter_map(|entry| {
            let document = &entry["forretningsmelding"];
            document["standardBusinessDocument"].get("svar")?;
            Some((entry["id"].as_str()?.to_owned(), document.clone()))
        })
        .collect()
}

/// Runs the agency's independent check of a delivered reply: against the
/// form, and both against the API's OpenAPI description.
fn agency_checks(form: &Value, message: &Value) -> (bool, String) {
    let scratch = tempfile::tempdir().unwrap();
    let form_file = scratch.path().join("form.json");
    let message_file = scratch.path().join("message.json");
    std::fs::write(&form_file, form.to_string()).unwrap();
    std::fs::write(&message_file, message.to_string()).unwrap();
    let server = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = std::process::Command::new("python3")
        .arg(server.join("tests/tools/check_reply.py"))
        .arg(&form_file)
        .arg(&message_file)
        .arg(server.join("src/broker/openapi.json"))
        .output()
        .expect("python3 runs tests/tools/check_reply.py (jsonschema from PyPI)");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// The sealed receipt the letter page links to: among the citizen's
/// documents, its text what was answered, its seal checked by poppler's
/// pdfsig and by pyHanko against this Postkasse's certificate.
async fn check_sealed_receipt(app: &TestApp, session: &str, letter_page: &str) {
    let href = letter_page
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.starts_with("/opplastinger/"))
        .unwrap_or_else(|| panic!("a receipt link: {letter_page}"));
    let response = app.get_as(href, session).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/pdf");
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("kvittering.pdf");
    std::fs::write(&file, response.bytes().await.unwrap()).unwrap();
    let file = file.to_str().unwrap();
    let text = crate::print_chain::tool("pdftotext", &[file, "-"]);
    for expected in [
        "Kvittering for svar",
        "Innkalling til kurs",
        "Tirsdag",
        "Nøtter",
        "legeattest.pdf",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    let signatures = crate::print_chain::tool("pdfsig", &[file]);
    assert!(signatures.contains("Signature is Valid."), "{signatures}");
    assert!(signatures.contains("Total document signed"), "{signatures}");
    assert!(signatures.contains("ETSI.CAdES.detached"), "{signatures}");
    let certificate = crate::helpers::provider_certificate_file();
    let verdict = std::process::Command::new("pyhanko")
        .args([
            "sign",
            "validate",
            "--no-revocation-check",
            "--trust-replace",
            "--trust",
        ])
        .arg(&certificate)
        .args(["--pretty-print", file])
        .output()
        .expect("pyhanko runs (pyhanko-cli from PyPI, installed by .ci/setup)");
    let report = String::from_utf8_lossy(&verdict.stdout).into_owned();
    assert!(
        verdict.status.success() && report.contains("The signature is cryptographically sound."),
        "pyHanko: {report}{}",
        String::from_utf8_lossy(&verdict.stderr)
    );
    let documents = page(app, "/mine-dokumenter", session).await;
    assert!(
        documents.contains("Kvittering for svar, Påmelding til kurs"),
        "{documents}"
    );
}

async fn a_reply_is_pushed_to_the_agencys_callback_with_a_valid_hmac(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (callback, secret) = crate::messages::sender_with_callback(&app).await;
    let kari = citizen(9);
    let form = course_form(Utc::now() + Duration::days(5));
    let letter = app
        .send_letter(&form_letter(&kari, "Kurs med varsling", &form))
        .await;
    let session = app.login_as(&kari).await;
    answer_no(&app, letter, &session, "Bortreist").await;

    // The delivery receipt, then the reply, each pushed once.
    let pushes = crate::messages::pushes(&callback, 2).await;
    assert_eq!(pushes.len(), 2, "{pushes:?}");
    let (signature, id, body) = pushes
        .iter()
        .find(|(_, _, body)| {
            serde_json::from_slice::<Value>(body).unwrap()["standardBusinessDocument"]["svar"]
                .is_object()
        })
        .expect("the reply was pushed");
    assert_eq!(
        *signature,
        format!(
            "sha256={}",
            postkasse::broker::outbox::callback_signature(&secret, body)
        )
    );
    let pushed: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(
        pushed["standardBusinessDocument"]["svar"]["svar"]["grunn"],
        "Bortreist"
    );
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let waiting = svar_documents(&sender.receipts(&app, "").await);
    assert_eq!(waiting.len(), 1, "it also waits to be fetched");
    assert_eq!(&waiting[0].0, id);
}

/// Posts a message to `/brev/{letter}/melding` with the form's key.
async fn post_message(
    app: &TestApp,
    letter: LetterId,
    session: &str,
    key: &str,
    text: &str,
    file: Option<(&str, Vec<u8>)>,
    accept: &str,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new()
        .text("nokkel", key.to_owned())
        .text("tekst", text.to_owned());
    if let Some((name, bytes)) = file {
        form = form.part(
            "vedlegg",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
    }
    post_form(
        app,
        &format!("/brev/{letter}/melding"),
        session,
        form,
        accept,
    )
    .await
}

/// The form key the letter page's message form posts with.
fn message_key(page: &str) -> String {
    let at = page.find("name=\"nokkel\"").expect("a message form");
    let rest = &page[at..];
    let value = &rest[rest.find("value=\"").unwrap() + 7..];
    value[..value.find('"').unwrap()].to_owned()
}

async fn a_conversation_threads_messages_and_the_agencys_next_letter(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(10), citizen(11));
    let mut form = course_form(Utc::now() + Duration::days(5));
    form["fritekst"] = json!(true);
    let first = form_letter(&kari, "Vedtak om kurs", &form);
    let conversation = first.conversation_id;
    let letter = app.send_letter(&first).await;
    let session = app.login_as(&kari).await;
    let path = format!("/brev/{letter}");
    let shown = page(&app, &path, &session).await;
    assert!(shown.contains("Samtale med avsenderen"), "{shown}");
    let key = message_key(&shown);

    // Empty, it is refused beside the field; sent twice with one key, it is kept once.
    let empty = post_message(&app, letter, &session, &key, "  ", None, PAGE).await;
    assert!(empty.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .contains("meldingfeil=tom"));
    let shown = page(&app, &format!("{path}?meldingfeil=tom"), &session).await;
    assert!(shown.contains("Skriv en melding før du sender."), "{shown}");
    for _ in 0..2 {
        let sent = post_message(
            &app,
            letter,
            &session,
            &key,
            "Kan jeg ta med en ledsager?",
            Some(("timeplan.pdf", pdf())),
            PAGE,
        )
        .await;
        assert_eq!(sent.status(), StatusCode::SEE_OTHER);
        assert!(sent.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .contains("melding=sendt"));
    }

    // The agency gets it once, with its file, and answers in the same conversation.
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let messages: Vec<Value> = sender
        .receipts(&app, "")
        .await
        .into_iter()
        .filter(|entry| {
            entry["forretningsmelding"]["standardBusinessDocument"]["melding"].is_object()
        })
        .map(|entry| entry["forretningsmelding"].clone())
        .collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let body = &messages[0]["standardBusinessDocument"]["melding"];
    assert_eq!(body["tekst"], "Kan jeg ta med en ledsager?");
    assert_eq!(body["vedlegg"]["filnavn"], "timeplan.pdf");
    assert_eq!(
        messages[0]["standardBusinessDocument"]["standardBusinessDocumentHeader"]["businessScope"]
            ["scope"][0]["instanceIdentifier"],
        conversation.to_string()
    );
    let (fits, report) = agency_checks(&form, &messages[0]);
    assert!(fits, "the agency's check: {report}");
    let mut answer = test_letter(
        &OrgNr::parse(TEST_SENDER).unwrap(),
        &kari,
        "Svar: ledsager er velkommen",
    );
    answer.conversation_id = conversation;
    app.send_letter(&answer).await;

    let shown = page(&app, &path, &session).await;
    let thread = &shown[shown.find("Samtale med avsenderen").unwrap()..];
    let asked = thread
        .find("Kan jeg ta med en ledsager?")
        .expect("the message in the thread");
    let answered = thread
        .find("Svar: ledsager er velkommen")
        .expect("the agency's next letter");
    assert!(asked < answered, "oldest first: {thread}");
    assert!(thread.contains("timeplan.pdf"));
    assert!(
        shown.contains("En melding til avsenderen ble sendt"),
        "in the access log: {shown}"
    );
    // The message is searched as the letter's text.
    let mut found = String::new();
    for _ in 0..60 {
        found = page(&app, "/sok?q=ledsager", &session).await;
        if found.contains(&format!("href=\"/brev/{letter}\"")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(
        found.contains(&format!("href=\"/brev/{letter}\"")),
        "search: {found}"
    );
    // The export has the message beside its letter, and its file.
    let (exported, entries) = exported_letter(&app, &session, letter).await;
    let message = &exported["meldinger"][0];
    assert_eq!(message["tekst"], "Kan jeg ta med en ledsager?");
    let file = message["vedlegg"]["fil"].as_str().unwrap();
    assert!(
        entries
            .iter()
            .any(|(name, bytes)| name == file && bytes.starts_with(b"%PDF")),
        "{file} is in the zip"
    );

    // Another citizen: 404, and nothing is sent.
    let ola_session = app.login_as(&ola).await;
    let foreign = post_message(
        &app,
        letter,
        &ola_session,
        &uuid::Uuid::new_v4().to_string(),
        "Hei",
        None,
        API,
    )
    .await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);

    // A form that does not take messages: refused, and no message form shown.
    let closed = app
        .send_letter(&form_letter(
            &kari,
            "Uten meldinger",
            &course_form(Utc::now() + Duration::days(5)),
        ))
        .await;
    let refused = post_message(
        &app,
        closed,
        &session,
        &uuid::Uuid::new_v4().to_string(),
        "Hei",
        None,
        API,
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(!page(&app, &format!("/brev/{closed}"), &session)
        .await
        .contains("name=\"nokkel\""));
}

async fn reminders_go_out_while_a_form_is_unanswered_and_stop_when_it_is(backend: Backend) {
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let Some(app) = spawn_app_with_clock(backend, |_| {}, clock.clone()).await else {
        return;
    };
    let kari = citizen(12);
    let deadline = clock.now() + Duration::days(5);
    let unanswered = app
        .send_letter(&form_letter(&kari, "Kurs A", &course_form(deadline)))
        .await;
    let answered = app
        .send_letter(&form_letter(&kari, "Kurs B", &course_form(deadline)))
        .await;
    let reminders: Vec<(String, String)> = app
        .database
        .fetch_all(postkasse::sql::Query::new(
            "SELECT channel, text FROM notice_job WHERE purpose = 'svar' ORDER BY due_at",
        ))
        .await
        .unwrap();
    assert_eq!(
        reminders.len(),
        4,
        "an e-mail and an SMS per letter: {reminders:?}"
    );
    assert!(reminders[0]
        .1
        .starts_with("Påminnelse: Et brev i Postkasse venter på svar fra deg innen"));

    // Kari opens the one she does not answer (that does not stop its
    // reminders) and answers the other.
    let session = app.login_as(&kari).await;
    page(&app, &format!("/brev/{unanswered}"), &session).await;
    answer_no(&app, answered, &session, "Syk").await;

    // Just before the deadline every reminder is due.
    clock.advance(Duration::days(5) - Duration::minutes(1));
    let mut outcomes = Vec::new();
    for _ in 0..100 {
        outcomes = app
            .database
            .fetch_all::<(Uuid, String, Option<String>)>(postkasse::sql::Query::new(
                "SELECT letter_id, outcome, last_error FROM notice_job
                 WHERE purpose = 'svar' AND outcome IS NOT NULL",
            ))
            .await
            .unwrap();
        if outcomes.len() == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(outcomes.len(), 4, "{outcomes:?}");
    for (letter, outcome, reason) in &outcomes {
        if *letter == answered.as_uuid() {
            assert_eq!(
                (outcome.as_str(), reason.as_deref()),
                ("skipped", Some("svaret er sendt"))
            );
        } else {
            assert_ne!(
                outcome, "skipped",
                "the opened, unanswered letter is reminded"
            );
        }
    }
    let in_sink = postkasse::notify::Store::sink_notices(&app.database, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|notice| notice.text.contains("venter på svar"))
        .count();
    assert_eq!(in_sink, 1, "the e-mail reminder for the unanswered letter");
}

async fn a_bad_form_or_link_names_every_problem_and_stores_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(3);
    app.make_reachable(&kari, crate::helpers::OWN_PROVIDER)
        .await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;

    let mut form = course_form(Utc::now() - Duration::days(1));
    form["versjon"] = json!(2);
    form["spoersmaal"][1]["alternativer"][1]["verdi"] = json!("man");
    form["spoersmaal"][4]["nesteSpoersmaal"] = json!("deltar");
    form["spoersmaal"][5]["type"] = json!("ESSAY");
    let problem = refused(
        sender
            .send(&app, &form_letter(&kari, "Dårlig skjema", &form))
            .await,
    )
    .await;
    let names: Vec<&str> = problem["invalid-params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|param| param["name"].as_str().unwrap())
        .collect();
    let data = "dokumentpakke.hoveddokument.data";
    for expected in [
        format!("{data}.versjon"),
        format!("{data}.svarfrist"),
        format!("{data}.spoersmaal[1].alternativer[1].verdi"),
        format!("{data}.spoersmaal[4].nesteSpoersmaal"),
        format!("{data}.spoersmaal[5].type"),
    ] {
        assert!(
            names.contains(&expected.as_str()),
            "{expected} in {names:?}"
        );
    }

    let link = "<lenke xmlns=\"http://begrep.difi.no/sdp/utvidelser/lenke\"><url>javascript:alert(1)</url>\
         <frist>snart</frist></lenke>";
    let problem = refused(
        sender
            .send(
                &app,
                &letter_with(
                    &kari,
                    "Dårlig lenke",
                    LINK_TYPE,
                    "lenke.xml",
                    link.as_bytes().to_vec(),
                ),
            )
            .await,
    )
    .await;
    let names: Vec<&str> = problem["invalid-params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|param| param["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [format!("{data}.url"), format!("{data}.frist")]);
    assert!(app.letters(&kari).await.is_empty(), "nothing is stored");
}

async fn a_link_out_shows_until_its_deadline(backend: Backend) {
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let Some(app) = spawn_app_with_clock(backend, |_| {}, clock.clone()).await else {
        return;
    };
    let kari = citizen(4);
    let deadline = Utc::now() + Duration::days(2);
    let link = format!(
        "<lenke xmlns=\"http://begrep.difi.no/sdp/utvidelser/lenke\">\
         <url>https://skatteetaten.example/klage?sak=42</url>\
         <beskrivelse lang=\"nb\">Du kan klage på vedtaket i klagetjenesten.</beskrivelse>\
         <knappTekst lang=\"nb\">Klag på vedtaket</knappTekst>\
         <frist>{}</frist></lenke>",
        deadline.to_rfc3339()
    );
    let letter = app
        .send_letter(&letter_with(
            &kari,
            "Vedtak med klagefrist",
            LINK_TYPE,
            "lenke.xml",
            link.into_bytes(),
        ))
        .await;
    let session = app.login_as(&kari).await;
    let shown = page(&app, &format!("/brev/{letter}"), &session).await;
    assert!(
        shown.contains("Du kan klage på vedtaket i klagetjenesten."),
        "{shown}"
    );
    assert!(
        shown.contains("href=\"https://skatteetaten.example/klage?sak=42\""),
        "{shown}"
    );
    assert!(shown.contains("Klag på vedtaket"));

    // Sessions end on the same clock: log in again.
    clock.advance(Duration::days(3));
    let session = app.login_as(&kari).await;
    let shown = page(&app, &format!("/brev/{letter}"), &session).await;
    assert!(
        !shown.contains("skatteetaten.example"),
        "the button is gone"
    );
    assert!(
        shown.contains("Fristen for denne lenken gikk ut"),
        "{shown}"
    );
}

async fn a_citizen_answers_and_the_agency_fetches_the_reply_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(5);
    let form = course_form(Utc::now() + Duration::days(5));
    let letter = app
        .send_letter(&form_letter(&kari, "Innkalling til kurs", &form))
        .await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let session = app.login_as(&kari).await;
    let path = format!("/brev/{letter}");
    let shown = page(&app, &path, &session).await;
    assert!(
        shown.contains("Påmelding til kurs") && shown.contains("Svar innen"),
        "{shown}"
    );
    assert!(shown.contains("name=\"q.deltar\""));
    let deadline = form["svarfrist"]
        .as_str()
        .unwrap()
        .parse::<chrono::DateTime<Utc>>()
        .unwrap();
    let inbox = page(&app, "/innboks", &session).await;
    let reply_by = format!(
        "svar innen {}",
        deadline
            .with_timezone(&chrono_tz::Europe::Oslo)
            .format("%d.%m.%Y")
    );
    assert!(inbox.contains(&reply_by), "{reply_by} in {inbox}");

    // A number out of range and a file that is not a PDF: the draft keeps
    // the answers, and the page names each problem beside its question.
    let first = post_answers(
        &app,
        letter,
        &session,
        None,
        &[
            ("deltar", "ja"),
            ("dag", "tir"),
            ("allergi", "Nøtter"),
            ("antall", "7"),
        ],
        &[("attest", "attest.pdf", b"not a pdf at all".to_vec())],
        PAGE,
    )
    .await;
    let draft = draft_in(&first);
    let shown = page(&app, &format!("{path}?utkast={draft}"), &session).await;
    assert!(shown.contains("Tallet kan være høyst 3."), "{shown}");
    assert!(
        shown.contains("Filen må være en PDF, PNG eller JPEG."),
        "{shown}"
    );
    assert!(
        shown.contains("value=\"Nøtter\""),
        "answers are kept: {shown}"
    );

    // Corrected: the review lists what is sent, the reason (not asked) left out.
    let second = post_answers(
        &app,
        letter,
        &session,
        Some(&draft),
        &[
            ("deltar", "ja"),
            ("dag", "tir"),
            ("allergi", "Nøtter"),
            ("antall", "2"),
            ("grunn", "ikke spurt"),
        ],
        &[("attest", "legeattest.pdf", pdf())],
        PAGE,
    )
    .await;
    assert_eq!(draft_in(&second), draft, "the same draft");
    let shown = page(&app, &format!("{path}?utkast={draft}"), &session).await;
    assert!(shown.contains("Se over før du sender"), "{shown}");
    assert!(shown.contains("Tirsdag") && shown.contains("legeattest.pdf"));
    assert!(!shown.contains("ikke spurt"));
    assert!(
        svar_documents(&sender.receipts(&app, "").await).is_empty(),
        "not sent before the review"
    );

    // Sent twice (a double click): one reply.
    for _ in 0..2 {
        let sent = app
            .server_fn_as(
                "send_reply",
                &[("id", letter.to_string()), ("utkast", draft.clone())],
                &session,
            )
            .await;
        assert!(sent.status().is_success(), "{}", sent.text().await.unwrap());
    }
    let shown = page(&app, &path, &session).await;
    assert!(
        shown.contains("Ditt svar") && shown.contains("Sendt "),
        "{shown}"
    );
    check_sealed_receipt(&app, &session, &shown).await;
    let inbox = page(&app, "/innboks", &session).await;
    assert!(!inbox.contains("svar innen"), "answered: {inbox}");
    assert!(
        shown.contains("Svaret på skjemaet ble sendt"),
        "in the access log: {shown}"
    );
    let (exported, _) = exported_letter(&app, &session, letter).await;
    assert_eq!(exported["svar"]["skjema"], "Påmelding til kurs");
    assert_eq!(
        exported["svar"]["svar"][1]["sporsmal"],
        "Hvilken dag passer?"
    );
    assert_eq!(exported["svar"]["svar"][1]["svar"], json!(["tir"]));
    // The receipt's text is searchable, so the answers are found.
    let mut found = String::new();
    for _ in 0..60 {
        found = page(&app, "/sok?q=N%C3%B8tter", &session).await;
        if found.contains("Kvittering for svar") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(found.contains("Kvittering for svar"), "search: {found}");

    let waiting = svar_documents(&sender.receipts(&app, "").await);
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    let (id, message) = &waiting[0];
    let body = &message["standardBusinessDocument"]["svar"];
    assert_eq!(body["innbygger"]["personidentifikator"], kari.as_str());
    assert_eq!(body["sikkerhetsnivaa"], 3);
    assert_eq!(body["svar"]["dag"], "tir");
    assert_eq!(body["svar"]["antall"], 2);
    assert!(body["svar"].get("grunn").is_none());
    let (fits, report) = agency_checks(&form, message);
    assert!(fits, "the agency's check: {report}");
    // A reply that does not fit the form is caught by the same check.
    let mut tampered = message.clone();
    tampered["standardBusinessDocument"]["svar"]["svar"]["dag"] = json!("fre");
    assert!(!agency_checks(&form, &tampered).0);
    let mut tampered = message.clone();
    tampered["standardBusinessDocument"]["svar"]["svar"]["attest"]["sha256"] =
        json!("0".repeat(64));
    let (fits, report) = agency_checks(&form, &tampered);
    assert!(
        !fits && report.contains("sha256 does not match the file"),
        "{report}"
    );

    // Acknowledged, it is never handed out again.
    let read = app
        .client
        .post(app.url(&format!("/messages/in/{id}/read")))
        .bearer_auth(&sender.token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::NO_CONTENT);
    assert!(svar_documents(&sender.receipts(&app, "").await).is_empty());

    // A second answer is refused: the form takes one.
    let again = post_answers(&app, letter, &session, None, &[("deltar", "nei")], &[], API).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
}

async fn a_late_answer_is_refused_and_the_agency_hears_the_form_went_unanswered(backend: Backend) {
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let Some(app) = spawn_app_with_clock(
        backend,
        |settings| settings.mailbox.unanswered_interval_seconds = 1,
        clock.clone(),
    )
    .await
    else {
        return;
    };
    let kari = citizen(6);
    let form = course_form(Utc::now() + Duration::days(2));
    let letter = app
        .send_letter(&form_letter(&kari, "Kurs med frist", &form))
        .await;
    let mut sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let session = app.login_as(&kari).await;
    let draft = draft_no(&app, letter, &session, "Syk").await;

    // Sessions and access tokens end on the same clock: log in again.
    clock.advance(Duration::days(3));
    let session = app.login_as(&kari).await;
    sender.token = sender
        .agency
        .access_token_at(&app, &["digitalpostinnbygger:send"], clock.now())
        .await;
    let late = post_answers(
        &app,
        letter,
        &session,
        None,
        &[("deltar", "nei"), ("grunn", "Syk")],
        &[],
        API,
    )
    .await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    let problem: Value = late.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("deadline"),
        "{problem}"
    );
    let sent = app
        .server_fn_as(
            "send_reply",
            &[("id", letter.to_string()), ("utkast", draft)],
            &session,
        )
        .await;
    assert_eq!(sent.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let shown = page(&app, &format!("/brev/{letter}"), &session).await;
    assert!(shown.contains("Svarfristen gikk ut"), "{shown}");
    assert!(!shown.contains("name=\"q.deltar\""), "the form is closed");

    // The worker tells the agency once.
    let mut told = Vec::new();
    for _ in 0..100 {
        told = sender
            .receipts(&app, "")
            .await
            .into_iter()
            .filter(|entry| {
                crate::messages::receipt_kinds(std::slice::from_ref(entry))
                    == ["ubesvartkvittering"]
            })
            .collect();
        if !told.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(told.len(), 1, "one ubesvartkvittering");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let again = sender
        .receipts(&app, "")
        .await
        .into_iter()
        .filter(|entry| {
            crate::messages::receipt_kinds(std::slice::from_ref(entry)) == ["ubesvartkvittering"]
        })
        .count();
    assert_eq!(again, 1, "told once");
}

async fn another_citizen_and_a_lower_level_are_kept_out(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(7), citizen(8));
    let form = course_form(Utc::now() + Duration::days(5));
    let mut sensitive = form_letter(&kari, "Innkalling, nivå 4", &form);
    sensitive.security_level = SecurityLevel::High;
    let letter = app.send_letter(&sensitive).await;
    app.make_reachable(&ola, crate::helpers::OWN_PROVIDER).await;

    // Kari at level 3 is asked to log in again at level 4.
    let kari_substantial = app.login_as(&kari).await;
    let locked = post_answers(
        &app,
        letter,
        &kari_substantial,
        None,
        &[("deltar", "nei")],
        &[],
        API,
    )
    .await;
    assert_eq!(locked.status(), StatusCode::FORBIDDEN);
    let shown = page(&app, &format!("/brev/{letter}"), &kari_substantial).await;
    assert!(shown.contains("level=high"), "a step-up link: {shown}");
    assert!(!shown.contains("name=\"q.deltar\""));

    let kari_high = app.login_at_high(&kari).await;
    let draft = draft_no(&app, letter, &kari_high, "Syk").await;

    // Ola gets 404 from every route and server function, and Kari's draft is untouched.
    let ola_session = app.login_at_high(&ola).await;
    let posted = post_answers(
        &app,
        letter,
        &ola_session,
        Some(&draft),
        &[("deltar", "ja")],
        &[],
        API,
    )
    .await;
    assert_eq!(posted.status(), StatusCode::NOT_FOUND);
    for (name, form) in [
        (
            "load_reply_area",
            vec![("id", letter.to_string()), ("utkast", draft.clone())],
        ),
        (
            "send_reply",
            vec![("id", letter.to_string()), ("utkast", draft.clone())],
        ),
    ] {
        let response = app.server_fn_as(name, &form, &ola_session).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{name}");
    }
    let sent = app
        .server_fn_as(
            "send_reply",
            &[("id", letter.to_string()), ("utkast", draft)],
            &kari_high,
        )
        .await;
    assert!(sent.status().is_success());
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let waiting = svar_documents(&sender.receipts(&app, "").await);
    assert_eq!(waiting.len(), 1);
    let body = &waiting[0].1["standardBusinessDocument"]["svar"];
    assert_eq!(body["sikkerhetsnivaa"], 4);
    assert_eq!(body["svar"]["deltar"], "nei");
}

on_both_backends!(
    a_bad_form_or_link_names_every_problem_and_stores_nothing,
    a_reply_is_pushed_to_the_agencys_callback_with_a_valid_hmac,
    a_conversation_threads_messages_and_the_agencys_next_letter,
    reminders_go_out_while_a_form_is_unanswered_and_stop_when_it_is,
    a_link_out_shows_until_its_deadline,
    a_citizen_answers_and_the_agency_fetches_the_reply_once,
    a_late_answer_is_refused_and_the_agency_hears_the_form_went_unanswered,
    another_citizen_and_a_lower_level_are_kept_out,
);
