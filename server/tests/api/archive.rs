//! The citizen's archive over HTTP: paging, read marks, folders, moving
//! letters, the trash and its purge, uploads, the export, HTML and plain-text
//! letters. Every route and server function is tried by a second citizen,
//! who must get 404.

use crate::helpers::{
    citizen, on_both_backends, spawn_app, spawn_app_with, spawn_app_with_clock, test_letter,
    Backend, TestApp, TEST_SENDER,
};
use app::domain::{Fnr, SecurityLevel};
use chrono::{Duration, Utc};
use postkasse::broker::client::OutgoingDocument;
use postkasse::clock::ManualClock;
use postkasse::mailbox::Store as _;
use reqwest::{header, StatusCode};
use serde_json::Value;
use std::io::Read;
use std::sync::Arc;

/// A PDF small enough to upload in a test.
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

impl TestApp {
    /// A server function's JSON answer, asserting its status.
    async fn server_json(
        &self,
        name: &str,
        form: &[(&str, String)],
        session: &str,
        expected: StatusCode,
    ) -> Value {
        let response = self.server_fn_as(name, form, session).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, expected, "{name}: {body}");
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }

    async fn inbox_json(&self, session: &str, place: &str, page: u32) -> Value {
        self.server_json(
            "list_inbox",
            &[("mappe", place.to_owned()), ("side", page.to_string())],
            session,
            StatusCode::OK,
        )
        .await
    }

    /// Uploads a file to "Mine dokumenter" (its type is read from its bytes).
    pub(crate) async fn upload_as(
        &self,
        session: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> reqwest::Response {
        let form = reqwest::multipart::Form::new().part(
            "fil",
            reqwest::multipart::Part::bytes(bytes.to_vec())
                .file_name(file_name.to_owned())
                .mime_str("application/pdf")
                .unwrap(),
        );
        self.client
            .post(self.url("/mine-dokumenter/last-opp"))
            .header(
                header::COOKIE,
                format!("__Host-postkasse-session={session}"),
            )
            .multipart(form)
            .send()
            .await
            .unwrap()
    }
}

fn titles(page: &Value) -> Vec<String> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["title"].as_str().unwrap().to_owned())
        .collect()
}

fn document(file_name: &str, mime: &str, title: &str, bytes: &[u8]) -> OutgoingDocument {
    OutgoingDocument {
        file_name: file_name.to_owned(),
        mime: mime.to_owned(),
        title: title.to_owned(),
        bytes: bytes.to_vec(),
    }
}

fn sender_org() -> app::domain::OrgNr {
    app::domain::OrgNr::parse(TEST_SENDER).unwrap()
}

/// The zip's entries by name, with their bytes.
pub(crate) fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    (0..archive.len())
        .map(|index| {
            let mut entry = archive.by_index(index).unwrap();
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            (entry.name().to_owned(), content)
        })
        .collect()
}

async fn letters_are_paged_twenty_at_a_time_with_counts(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(1);
    let mut with_attachments = test_letter(&sender_org(), &kari, "Brev 00");
    with_attachments.attachments = vec![
        document("a.pdf", "application/pdf", "Vedlegg A", PDF),
        document("b.txt", "text/plain", "Vedlegg B", b"Tekst"),
    ];
    app.send_letter(&with_attachments).await;
    for number in 1..21 {
        app.deliver_letter(&kari, 3, &format!("Brev {number:02}"))
            .await;
    }
    let session = app.login_as(&kari).await;

    let first = app.inbox_json(&session, "innboks", 1).await;
    assert_eq!(first["total"], 21);
    assert_eq!(first["unread"], 21);
    assert_eq!(first["page_count"], 2);
    assert_eq!(titles(&first).len(), 20);
    assert_eq!(titles(&first)[0], "Brev 20", "newest first");
    let second = app.inbox_json(&session, "innboks", 2).await;
    assert_eq!(titles(&second), ["Brev 00"]);
    assert_eq!(second["entries"][0]["attachment_count"], 2);
    assert_eq!(second["entries"][0]["public_sender"], true);
    assert_eq!(first["entries"][0]["attachment_count"], 0);

    // The page without JavaScript: links between pages, the marker as text.
    let html = app
        .get_as("/innboks?side=2", &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Forrige side"), "{html}");
    assert!(!html.contains("Neste side"));
    assert!(html.contains("Side 2 av 2"));
    assert!(html.contains("2 vedlegg"));
    assert!(html.contains("Ulest"));
    assert!(html.contains("Offentlig virksomhet"));

    // Reading a letter marks it read; the citizen can mark it unread again.
    let letter = second["entries"][0]["id"].as_str().unwrap().to_owned();
    app.get_as(&format!("/brev/{letter}"), &session).await;
    let after = app.inbox_json(&session, "innboks", 2).await;
    assert_eq!(after["entries"][0]["unread"], false);
    assert_eq!(after["unread"], 20);
    app.server_json(
        "mark_letter",
        &[("id", letter.clone()), ("ulest", "true".into())],
        &session,
        StatusCode::OK,
    )
    .await;
    assert_eq!(app.inbox_json(&session, "innboks", 2).await["unread"], 21);

    // Posted by a browser without JavaScript, marking unread returns to the
    // inbox: the letter page would read the letter again.
    let posted = app
        .client
        .post(app.url("/api/mark_letter"))
        .header(
            header::COOKIE,
            format!("__Host-postkasse-session={session}"),
        )
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, app.url(&format!("/brev/{letter}")))
        .form(&[("id", letter.as_str()), ("ulest", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::FOUND);
    assert_eq!(posted.headers()[header::LOCATION], "/innboks");
}

async fn folders_archive_and_trash_move_letters_between_places(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(2);
    let letter = app.deliver_letter(&kari, 3, "Skattemelding").await;
    let other = app.deliver_letter(&kari, 3, "Bostøtte").await;
    let session = app.login_as(&kari).await;

    app.server_json(
        "create_folder",
        &[("navn", "  Skatt ".into())],
        &session,
        StatusCode::OK,
    )
    .await;
    // A name already used, whatever its case, is refused beside the field.
    let taken = app
        .server_json(
            "create_folder",
            &[("navn", "skatt".into())],
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(taken["Invalid"]["field"], "navn", "{taken}");
    app.server_json(
        "create_folder",
        &[("navn", " ".into())],
        &session,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let folders = app
        .server_json("list_folders", &[], &session, StatusCode::OK)
        .await;
    assert_eq!(folders.as_array().unwrap().len(), 1, "{folders}");
    assert_eq!(folders[0]["name"], "Skatt");
    let folder = folders[0]["id"].as_str().unwrap().to_owned();

    let move_to = |place: &str| vec![("id", letter.to_string()), ("til", place.to_owned())];
    app.server_json("move_letter", &move_to(&folder), &session, StatusCode::OK)
        .await;
    assert_eq!(
        titles(&app.inbox_json(&session, &folder, 1).await),
        ["Skattemelding"]
    );
    assert_eq!(
        titles(&app.inbox_json(&session, "innboks", 1).await),
        ["Bostøtte"]
    );
    let page = app
        .get_as(&format!("/innboks?mappe={folder}"), &session)
        .await
        .text()
        .await
        .unwrap();
    let page = crate::helpers::without_hydration_markers(&page);
    assert!(page.contains("<h1>Skatt</h1>"), "{page}");
    assert!(page.contains("<title>Skatt – Postkasse</title>"), "{page}");

    app.server_json(
        "rename_folder",
        &[("id", folder.clone()), ("navn", "Skatt 2026".into())],
        &session,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        app.server_json("list_folders", &[], &session, StatusCode::OK)
            .await[0]["name"],
        "Skatt 2026"
    );

    app.server_json("move_letter", &move_to("arkiv"), &session, StatusCode::OK)
        .await;
    assert_eq!(
        titles(&app.inbox_json(&session, "arkiv", 1).await),
        ["Skattemelding"]
    );
    assert!(titles(&app.inbox_json(&session, &folder, 1).await).is_empty());

    // The trash: out of every other place, still readable, and restorable.
    app.server_json(
        "move_letter",
        &move_to("papirkurv"),
        &session,
        StatusCode::OK,
    )
    .await;
    assert!(titles(&app.inbox_json(&session, "arkiv", 1).await).is_empty());
    assert_eq!(
        titles(&app.inbox_json(&session, "papirkurv", 1).await),
        ["Skattemelding"]
    );
    assert_eq!(
        app.get_as(&format!("/brev/{letter}"), &session)
            .await
            .status(),
        StatusCode::OK
    );
    app.server_json("move_letter", &move_to("innboks"), &session, StatusCode::OK)
        .await;
    assert_eq!(
        titles(&app.inbox_json(&session, "innboks", 1).await).len(),
        2
    );

    // Deleting a folder sends its letters back to the inbox.
    let into_folder = vec![("id", other.to_string()), ("til", folder.clone())];
    app.server_json("move_letter", &into_folder, &session, StatusCode::OK)
        .await;
    app.server_json(
        "delete_folder",
        &[("id", folder.clone())],
        &session,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        titles(&app.inbox_json(&session, "innboks", 1).await).len(),
        2
    );
    let gone = app
        .server_fn_as("list_inbox", &[("mappe", folder.clone())], &session)
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

async fn another_citizen_gets_404_for_every_archive_action(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(3), citizen(4));
    let karis_letter = app.deliver_letter(&kari, 3, "Karis vedtak").await;
    let olas_letter = app.deliver_letter(&ola, 3, "Olas vedtak").await;
    let karis = app.login_as(&kari).await;
    let olas = app.login_as(&ola).await;
    app.server_json(
        "create_folder",
        &[("navn", "Karis mappe".into())],
        &karis,
        StatusCode::OK,
    )
    .await;
    let folder = app
        .server_json("list_folders", &[], &karis, StatusCode::OK)
        .await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let upload: Value = app
        .upload_as(&karis, "kvittering.pdf", PDF)
        .await
        .json()
        .await
        .unwrap();
    let upload = upload["id"].as_str().unwrap().to_owned();

    let karis_letter = karis_letter.to_string();
    let refused: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "mark_letter",
            vec![("id", karis_letter.clone()), ("ulest", "true".into())],
        ),
        (
            "move_letter",
            vec![("id", karis_letter.clone()), ("til", "arkiv".into())],
        ),
        (
            "move_letter",
            vec![("id", karis_letter.clone()), ("til", "papirkurv".into())],
        ),
        // Ola's own letter into Kari's folder.
        (
            "move_letter",
            vec![("id", olas_letter.to_string()), ("til", folder.clone())],
        ),
        (
            "rename_folder",
            vec![("id", folder.clone()), ("navn", "Olas nå".into())],
        ),
        ("delete_folder", vec![("id", folder.clone())]),
        ("list_inbox", vec![("mappe", folder.clone())]),
        ("delete_upload", vec![("id", upload.clone())]),
    ];
    for (name, form) in refused {
        let response = app.server_fn_as(name, &form, &olas).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{name} {form:?}");
    }
    assert_eq!(
        app.get_as(&format!("/opplastinger/{upload}"), &olas)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let olas_folders = app
        .server_json("list_folders", &[], &olas, StatusCode::OK)
        .await;
    assert_eq!(olas_folders, serde_json::json!([]));
    let olas_uploads = app
        .server_json("list_uploads", &[], &olas, StatusCode::OK)
        .await;
    assert_eq!(olas_uploads, serde_json::json!([]));
    let olas_export = app.get_as("/eksport/postkasse.zip", &olas).await;
    assert_eq!(olas_export.status(), StatusCode::OK);
    let entries = unzip(&olas_export.bytes().await.unwrap());
    for (name, content) in &entries {
        let text = String::from_utf8_lossy(content);
        assert!(!text.contains("Karis"), "{name} leaks Kari's data");
        assert!(!name.contains(&upload) && !name.contains(&karis_letter));
    }

    // Nothing of Kari's changed.
    let karis_page = app.inbox_json(&karis, "innboks", 1).await;
    assert_eq!(titles(&karis_page), ["Karis vedtak"]);
    assert_eq!(karis_page["unread"], 1);
    assert_eq!(
        app.server_json("list_folders", &[], &karis, StatusCode::OK)
            .await[0]["name"],
        "Karis mappe"
    );
    assert_eq!(
        app.get_as(&format!("/opplastinger/{upload}"), &karis)
            .await
            .status(),
        StatusCode::OK
    );
    // And without a session, nothing at all.
    for path in [
        "/eksport/postkasse.zip".to_owned(),
        format!("/opplastinger/{upload}"),
    ] {
        let response = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}

async fn uploads_are_checked_by_their_bytes_and_refusals_store_nothing(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |settings| {
        settings.mailbox.max_upload_bytes = 4096;
    })
    .await
    else {
        return;
    };
    let kari = citizen(5);
    let session = app.login_as(&kari).await;
    let blobs_before = app.blob_files();

    // A text file renamed .pdf.
    let refused = app
        .upload_as(&session, "brev.pdf", b"Dette er bare tekst, ikke en PDF.")
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["invalid-params"][0]["name"], "fil", "{problem}");
    let too_big = app
        .upload_as(&session, "stor.pdf", &[PDF, &vec![b' '; 5000]].concat())
        .await;
    assert_eq!(too_big.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.blob_files(), blobs_before, "nothing was stored");
    assert_eq!(
        app.server_json("list_uploads", &[], &session, StatusCode::OK)
            .await,
        serde_json::json!([])
    );

    // Another site cannot make her browser upload, nor move her letters.
    let form = reqwest::multipart::Form::new().part(
        "fil",
        reqwest::multipart::Part::bytes(PDF.to_vec()).file_name("planted.pdf"),
    );
    let cross_site = app
        .client
        .post(app.url("/mine-dokumenter/last-opp"))
        .header(
            header::COOKIE,
            format!("__Host-postkasse-session={session}"),
        )
        .header("sec-fetch-site", "cross-site")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.blob_files(), blobs_before, "nothing was stored");

    // A browser's form post goes back to the page with the reason as a code.
    let form = reqwest::multipart::Form::new().part(
        "fil",
        reqwest::multipart::Part::bytes(b"tekst".to_vec()).file_name("brev.pdf"),
    );
    let browser = app
        .client
        .post(app.url("/mine-dokumenter/last-opp"))
        .header(
            header::COOKIE,
            format!("__Host-postkasse-session={session}"),
        )
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(browser.status(), StatusCode::SEE_OTHER);
    let location = browser.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(location, "/mine-dokumenter?feil=feil-type");
    let page = app.get_as(&location, &session).await.text().await.unwrap();
    assert!(
        page.contains("Filen må være en PDF-, PNG- eller JPEG-fil."),
        "{page}"
    );
    assert!(page.contains("aria-invalid=\"true\""));

    // A real PDF, whatever the browser called it.
    let stored = app.upload_as(&session, "kvittering.pdf", PDF).await;
    assert_eq!(stored.status(), StatusCode::CREATED);
    let stored: Value = stored.json().await.unwrap();
    assert_eq!(stored["media_type"], "application/pdf");
    let download = app
        .get_as(
            &format!("/opplastinger/{}", stored["id"].as_str().unwrap()),
            &session,
        )
        .await;
    assert_eq!(download.headers()[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(download.bytes().await.unwrap().as_ref(), PDF);
    let page = app
        .get_as("/mine-dokumenter", &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("kvittering.pdf"));

    app.server_json(
        "delete_upload",
        &[("id", stored["id"].as_str().unwrap().to_owned())],
        &session,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        app.server_json("list_uploads", &[], &session, StatusCode::OK)
            .await,
        serde_json::json!([])
    );
}

async fn the_export_holds_everything_the_login_level_allows(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(6);
    let ordinary = app.deliver_letter(&kari, 3, "Vedtak om barnetrygd").await;
    let sensitive = app.deliver_letter(&kari, 4, "Vedtak om uføretrygd").await;
    let session = app.login_as(&kari).await;
    app.server_json(
        "create_folder",
        &[("navn", "Trygd".into())],
        &session,
        StatusCode::OK,
    )
    .await;
    let folder = app
        .server_json("list_folders", &[], &session, StatusCode::OK)
        .await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.server_json(
        "move_letter",
        &[("id", ordinary.to_string()), ("til", folder)],
        &session,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        app.upload_as(&session, "avtale.pdf", PDF).await.status(),
        StatusCode::CREATED
    );

    // Filed in the archive, the level-4 letter's sensitive title stays hidden
    // at level substantial: in the list, on its page and in its log.
    app.server_json(
        "move_letter",
        &[("id", sensitive.to_string()), ("til", "arkiv".into())],
        &session,
        StatusCode::OK,
    )
    .await;
    let archived = app.inbox_json(&session, "arkiv", 1).await;
    assert_eq!(titles(&archived), ["Brev fra Brønnøysundregistrene"]);
    assert!(!archived.to_string().contains("uføretrygd"));
    let page = app
        .get_as("/innboks?mappe=arkiv", &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("uføretrygd"), "{page}");
    let page = app
        .get_as(&format!("/brev/{sensitive}"), &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("uføretrygd"), "{page}");
    assert!(page.contains("Ordne brevet"));

    let substantial = app.get_as("/eksport/postkasse.zip", &session).await;
    assert_eq!(substantial.status(), StatusCode::OK);
    assert_eq!(
        substantial.headers()[header::CONTENT_TYPE],
        "application/zip"
    );
    assert_eq!(substantial.headers()[header::CACHE_CONTROL], "no-store");
    let announced: usize = substantial.headers()[header::CONTENT_LENGTH]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let zip = substantial.bytes().await.unwrap();
    assert_eq!(
        zip.len(),
        announced,
        "the streamed zip is as long as announced"
    );
    let entries = unzip(&zip);
    assert_eq!(entries[0].0, "index.json");
    for (name, content) in &entries {
        assert!(
            !String::from_utf8_lossy(content).contains("uføretrygd"),
            "{name} reveals the level-4 letter at level substantial"
        );
        assert!(!name.contains(&sensitive.to_string()), "{name}");
    }
    let index: Value = serde_json::from_slice(&entries[0].1).unwrap();
    let letters = index["brev"].as_array().unwrap();
    assert_eq!(letters.len(), 2);
    let locked = letters
        .iter()
        .find(|letter| letter["id"] == sensitive.to_string())
        .unwrap();
    assert_eq!(locked["tittel"], "Brev fra Brønnøysundregistrene");
    assert_eq!(locked["dokumenter"], serde_json::json!([]));
    assert!(locked["merknad"]
        .as_str()
        .unwrap()
        .contains("høyt sikkerhetsnivå"));
    let open = letters
        .iter()
        .find(|letter| letter["id"] == ordinary.to_string())
        .unwrap();
    assert_eq!(open["tittel"], "Vedtak om barnetrygd");
    assert_eq!(open["plassering"], "mappe");
    assert_eq!(open["mappe"], "Trygd");
    let file = open["dokumenter"][0]["fil"].as_str().unwrap();
    let (_, pdf) = entries.iter().find(|(name, _)| name == file).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let upload = index["opplastinger"][0]["fil"].as_str().unwrap();
    let (_, uploaded) = entries.iter().find(|(name, _)| name == upload).unwrap();
    assert_eq!(uploaded, PDF);

    // Exporting is downloading: the letter's access log says so.
    let page = app
        .get_as(&format!("/brev/{ordinary}"), &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Hoveddokumentet ble lastet ned"), "{page}");

    // At level high the level-4 letter and its document are in the export.
    let high = app.login_at_high(&kari).await;
    let entries = unzip(
        &app.get_as("/eksport/postkasse.zip", &high)
            .await
            .bytes()
            .await
            .unwrap(),
    );
    let index: Value = serde_json::from_slice(&entries[0].1).unwrap();
    let unlocked = index["brev"]
        .as_array()
        .unwrap()
        .iter()
        .find(|letter| letter["id"] == sensitive.to_string())
        .unwrap()
        .clone();
    assert_eq!(unlocked["tittel"], "Vedtak om uføretrygd");
    assert!(unlocked.get("merknad").is_none());
    let file = unlocked["dokumenter"][0]["fil"].as_str().unwrap();
    assert!(entries.iter().any(|(name, _)| name == file));
}

async fn the_trash_is_emptied_after_the_configured_days(backend: Backend) {
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let Some(app) = spawn_app_with_clock(
        backend,
        |settings| {
            settings.mailbox.trash_days = 30;
            settings.mailbox.purge_interval_seconds = 1;
        },
        clock.clone(),
    )
    .await
    else {
        return;
    };
    let kari = citizen(7);
    let letter = app.deliver_letter(&kari, 3, "Gammel faktura").await;
    let kept = app.deliver_letter(&kari, 3, "Beholdes").await;
    let session = app.login_as(&kari).await;
    app.server_json(
        "move_letter",
        &[("id", letter.to_string()), ("til", "papirkurv".into())],
        &session,
        StatusCode::OK,
    )
    .await;

    // 29 days later the purge has run, and the letter is still there.
    clock.advance(Duration::days(29));
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let session = app.login_as(&kari).await;
    assert_eq!(
        titles(&app.inbox_json(&session, "papirkurv", 1).await),
        ["Gammel faktura"]
    );

    // After 30 days it is gone: page, document and lists.
    let inline_before = app.database.statistics().await.unwrap().inline_blobs;
    clock.advance(Duration::days(2));
    let session = app.login_as(&kari).await;
    let mut waited = 0;
    while app
        .get_as(&format!("/brev/{letter}"), &session)
        .await
        .status()
        != StatusCode::NOT_FOUND
    {
        assert!(waited < 100, "the purge did not run within 10 seconds");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(
        app.get_as(&format!("/dokumenter/{letter}/0"), &session)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert!(titles(&app.inbox_json(&session, "papirkurv", 1).await).is_empty());
    let everything = app.database.letters_for(&kari, clock_now()).await.unwrap();
    assert_eq!(everything.len(), 1);
    assert_eq!(everything[0].id, kept);
    // Its package went from the database; the kept letter's bytes did not,
    // even where the two letters shared them.
    assert!(app.database.statistics().await.unwrap().inline_blobs < inline_before);
    assert_eq!(
        app.get_as(&format!("/dokumenter/{kept}/0"), &session)
            .await
            .status(),
        StatusCode::OK
    );
}

fn clock_now() -> chrono::DateTime<Utc> {
    Utc::now() + Duration::days(400)
}

async fn html_and_plain_text_letters_are_shown_safely(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari: Fnr = citizen(8);
    let html = b"<h2>Vedtak</h2><p onclick=\"steal()\">Du har f\xc3\xa5tt <b>innvilget</b> st\xc3\xb8tte.</p>\
        <script>alert('x')</script><img src=\"https://spy.example/pixel.gif\">\
        <a href=\"https://phish.example/\">Logg inn her</a>";
    let mut letter = test_letter(&sender_org(), &kari, "HTML-brev");
    letter.main = document("brev.html", "text/html", "HTML-brev", html);
    let html_letter = app.send_letter(&letter).await;
    let mut letter = test_letter(&sender_org(), &kari, "Tekstbrev");
    letter.main = document(
        "brev.txt",
        "text/plain",
        "Tekstbrev",
        b"Linje 1\n<b>ikke fet</b>",
    );
    let text_letter = app.send_letter(&letter).await;
    let session = app.login_as(&kari).await;

    let page = app
        .get_as(&format!("/brev/{html_letter}"), &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("<b>innvilget</b> støtte"), "{page}");
    assert!(!page.contains("steal()"));
    assert!(!page.contains("alert('x')"));
    assert!(!page.contains("spy.example"));
    assert!(!page.contains("phish.example"));

    let served = app
        .get_as(&format!("/dokumenter/{html_letter}/0"), &session)
        .await;
    assert_eq!(
        served.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let policy = served.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("default-src 'none'") && policy.contains("sandbox"),
        "{policy}"
    );
    let body = served.text().await.unwrap();
    assert!(
        !body.contains("<script") && !body.contains("spy.example"),
        "{body}"
    );

    let page = app
        .get_as(&format!("/brev/{text_letter}"), &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Linje 1\n&lt;b&gt;ikke fet&lt;/b&gt;"),
        "{page}"
    );
    // Locked letters show no body; the level rule is the same as for documents.
    let mut locked = test_letter(&sender_org(), &kari, "Sensitivt tekstbrev");
    locked.security_level = SecurityLevel::High;
    locked.main = document(
        "brev.txt",
        "text/plain",
        "Sensitivt tekstbrev",
        b"Hemmelig innhold",
    );
    let locked = app.send_letter(&locked).await;
    let page = app
        .get_as(&format!("/brev/{locked}"), &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Hemmelig innhold"));
    assert!(!page.contains("Sensitivt tekstbrev"));
}

on_both_backends!(
    letters_are_paged_twenty_at_a_time_with_counts,
    folders_archive_and_trash_move_letters_between_places,
    another_citizen_gets_404_for_every_archive_action,
    uploads_are_checked_by_their_bytes_and_refusals_store_nothing,
    the_export_holds_everything_the_login_level_allows,
    the_trash_is_emptied_after_the_configured_days,
    html_and_plain_text_letters_are_shown_safely,
);
