//! Searching the archive over HTTP (`GET /api/search_archive`): Norwegian
//! words, inflections and phrases; one citizen never sees another's hits
//! (also under 50 concurrent searches); level-4 letters and effective times;
//! filters and counts per sender; moves and the trash; documents whose text
//! cannot be read; `postkasse reindex`. Every search polls until the index
//! has caught up, never sleeping a fixed time.

use crate::helpers::{
    citizen, on_both_backends, spawn_app, spawn_app_with, spawn_app_with_clock, test_letter,
    Backend, TestApp, OWN_PROVIDER, TEST_SENDER,
};
use app::domain::{Fnr, LetterId, OrgNr, SecurityLevel};
use chrono::{Duration, Utc};
use postkasse::broker::client::{OutgoingDocument, OutgoingLetter};
use postkasse::clock::{Clock, ManualClock};
use postkasse::mailbox::Store as _;
use postkasse::search::Store as _;
use reqwest::{header, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

const SKATTEETATEN: &str = "974761076";

/// How long the index may take to catch up before a test gives up.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(20);

fn text_letter(sender: &str, recipient: &Fnr, title: &str, body: &str) -> OutgoingLetter {
    let mut letter = test_letter(&OrgNr::parse(sender).unwrap(), recipient, title);
    letter.main = OutgoingDocument {
        file_name: "brev.txt".to_owned(),
        mime: "text/plain".to_owned(),
        title: title.to_owned(),
        bytes: body.as_bytes().to_vec(),
    };
    letter
}

impl TestApp {
    /// Sends the letter from `sender_name` and returns its id.
    async fn send_as(&self, sender_name: &str, letter: &OutgoingLetter) -> LetterId {
        self.make_reachable(&letter.recipient, OWN_PROVIDER).await;
        let sender = self.sender(letter.sender.as_str(), sender_name).await;
        let response = sender.send(self, letter).await;
        let status = response.status();
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
        self.database
            .letters_for(&letter.recipient, Utc::now() + Duration::days(3650))
            .await
            .unwrap()
            .into_iter()
            .find(|summary| summary.title.as_str() == letter.main.title)
            .expect("the letter is in the mailbox")
            .id
    }

    /// Uploads a file for `owner` and returns the upload's id and where a
    /// hit on it links.
    async fn upload_found_at(
        &self,
        session: &str,
        owner: &Fnr,
        file_name: &str,
        bytes: &[u8],
    ) -> (app::domain::UploadId, String) {
        let uploaded = self.upload_as(session, file_name, bytes).await;
        assert!(
            uploaded.status().is_success() || uploaded.status().is_redirection(),
            "{}",
            uploaded.status()
        );
        let upload = self.database.uploads(owner).await.unwrap().remove(0);
        (upload.id, format!("/opplastinger/{}", upload.id))
    }

    async fn search_response(&self, session: &str, query: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .get(self.url("/api/search_archive"))
            .query(query)
            .header(
                header::COOKIE,
                format!("__Host-postkasse-session={session}"),
            )
            .send()
            .await
            .unwrap()
    }

    async fn search(&self, session: &str, query: &[(&str, &str)]) -> Value {
        let response = self.search_response(session, query).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Searches until the hits are exactly `expected` (in any order), or fails.
    async fn hits_become(
        &self,
        session: &str,
        query: &[(&str, &str)],
        expected: &[LetterId],
    ) -> Value {
        let wanted: Vec<String> = expected.iter().map(|id| format!("/brev/{id}")).collect();
        self.hrefs_become(session, query, wanted).await
    }

    /// Searches until the hits' links are exactly `wanted` (in any order), or fails.
    async fn hrefs_become(
        &self,
        session: &str,
        query: &[(&str, &str)],
        mut wanted: Vec<String>,
    ) -> Value {
        let deadline = Instant::now() + PATIENCE;
        wanted.sort();
        loop {
            let results = self.search(session, query).await;
            if hrefs(&results) == wanted {
                return results;
            }
            assert!(
                Instant::now() < deadline,
                "{query:?}: wanted {wanted:?}, got {results}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

fn hrefs(results: &Value) -> Vec<String> {
    let mut found: Vec<String> = results["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["href"].as_str().unwrap().to_owned())
        .collect();
    found.sort();
    found
}

async fn norwegian_words_phrases_and_inflections_match_exactly(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(3);
    let session = app.login_as(&kari).await;
    let sender = "Brønnøysundregistrene";
    let faar = app
        .send_as(
            sender,
            &text_letter(TEST_SENDER, &kari, "Svarbrev", "Du får svar innen fredag."),
        )
        .await;
    let accepted = Instant::now();
    app.hits_become(&session, &[("q", "får")], &[faar]).await;
    let searchable_after = accepted.elapsed();
    assert!(
        searchable_after < std::time::Duration::from_secs(2),
        "a new letter was searchable only after {searchable_after:?}"
    );

    let far = app
        .send_as(
            sender,
            &text_letter(
                TEST_SENDER,
                &kari,
                "Telefon",
                "Din far ringte, og bær er modne.",
            ),
        )
        .await;
    let vedtak = app
        .send_as(
            sender,
            &text_letter(
                TEST_SENDER,
                &kari,
                "Melding",
                "Vedtaket om bostøtte er fattet.",
            ),
        )
        .await;
    let phrase = app
        .send_as(
            sender,
            &text_letter(
                TEST_SENDER,
                &kari,
                "Søknad",
                "Vi har fått søknaden om barnehageplass.",
            ),
        )
        .await;
    let scrambled = app
        .send_as(
            sender,
            &text_letter(
                TEST_SENDER,
                &kari,
                "Annet",
                "Barnehageplass: søknaden kom om kvelden.",
            ),
        )
        .await;

    app.hits_become(&session, &[("q", "far")], &[far]).await;
    app.hits_become(&session, &[("q", "får")], &[faar]).await;
    app.hits_become(&session, &[("q", "bær")], &[far]).await;
    app.hits_become(&session, &[("q", "bar")], &[]).await;
    // Inflected forms meet: the letter says "Vedtaket", the citizen types "vedtak".
    app.hits_become(&session, &[("q", "vedtak")], &[vedtak])
        .await;
    app.hits_become(&session, &[("q", "VEDTAKENE")], &[vedtak])
        .await;
    // Words anywhere, a phrase only in its order.
    app.hits_become(
        &session,
        &[("q", "søknaden barnehageplass")],
        &[phrase, scrambled],
    )
    .await;
    let results = app
        .hits_become(
            &session,
            &[("q", "\"søknaden om barnehageplass\"")],
            &[phrase],
        )
        .await;
    let marked: Vec<&str> = results["hits"][0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|part| part["marked"] == true)
        .map(|part| part["text"].as_str().unwrap())
        .collect();
    assert_eq!(marked, ["søknaden", "om", "barnehageplass"], "{results}");
    // Typing: the last word is a prefix.
    app.hits_become(
        &session,
        &[("q", "barnehagep"), ("prefiks", "true")],
        &[phrase, scrambled],
    )
    .await;
    app.hits_become(&session, &[("q", "barnehagep")], &[]).await;
    // Titles match too.
    app.hits_become(&session, &[("q", "telefon")], &[far]).await;
}

/// Norwegian as people search it. A part of a compound finds the compound,
/// ranked below a letter with the word itself; a one-letter typo in a word
/// of five letters or more still finds it, below exact matches; short words
/// are matched only as typed, so `far` still does not find `får`.
async fn compound_parts_and_typos_find_letters_below_exact_words(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(9);
    let session = app.login_as(&kari).await;
    let sender = "Digitaliseringsdirektoratet";
    let compound = app
        .send_as(
            sender,
            &text_letter(
                TEST_SENDER,
                &kari,
                "Om registeret",
                "Reservasjonsregisteret viser at du har brukt reservasjonsretten din.",
            ),
        )
        .await;
    let exact = app
        .send_as(
            sender,
            &text_letter(
                TEST_SENDER,
                &kari,
                "Kvittering",
                "Vi har mottatt din reservasjon mot digital post. Svar kommer innen tirsdag.",
            ),
        )
        .await;
    let faar = app
        .send_as(
            sender,
            &text_letter(TEST_SENDER, &kari, "Svarbrev", "Du får svar på torsdag."),
        )
        .await;

    // The part finds the compound; the letter with the word itself comes first.
    let results = app
        .hits_become(&session, &[("q", "reservasjon")], &[compound, exact])
        .await;
    assert_eq!(
        results["hits"][0]["href"],
        format!("/brev/{exact}"),
        "{results}"
    );
    // Also the compound's other part, inflected as typed.
    app.hits_become(&session, &[("q", "registeret")], &[compound])
        .await;
    // One letter wrong, missing, extra or two swapped, in a longer word.
    for typo in ["reservasjom", "resevasjon", "reservasjonn", "reservajson"] {
        app.hits_become(&session, &[("q", typo)], &[exact]).await;
    }
    app.hits_become(&session, &[("q", "kvitering")], &[exact])
        .await;
    // A word one letter from another finds both, the exact one first.
    let results = app
        .hits_become(&session, &[("q", "tirsdag")], &[exact, faar])
        .await;
    assert_eq!(
        results["hits"][0]["href"],
        format!("/brev/{exact}"),
        "{results}"
    );
    // Short words only as typed: no ø/o or å/a folding, no typos.
    app.hits_become(&session, &[("q", "får")], &[faar]).await;
    app.hits_become(&session, &[("q", "far")], &[]).await;
    app.hits_become(&session, &[("q", "svat")], &[]).await;
}

async fn citizens_never_see_each_others_hits(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(4), citizen(5));
    let karis = app
        .send_as(
            "Brønnøysundregistrene",
            &text_letter(
                TEST_SENDER,
                &kari,
                "Karis brev",
                "Felles ord: tannlegetime.",
            ),
        )
        .await;
    let olas = app
        .send_as(
            "Skatteetaten",
            &text_letter(SKATTEETATEN, &ola, "Olas brev", "Felles ord: tannlegetime."),
        )
        .await;
    let (kari_session, ola_session) = (app.login_as(&kari).await, app.login_as(&ola).await);
    app.hits_become(&kari_session, &[("q", "tannlegetime")], &[karis])
        .await;
    let olas_results = app
        .hits_become(&ola_session, &[("q", "tannlegetime")], &[olas])
        .await;
    // Not even the counts tell Ola about Kari's sender.
    assert_eq!(
        olas_results["senders"],
        serde_json::json!([{"name": "Skatteetaten", "count": 1}])
    );
    app.hits_become(&ola_session, &[("q", "karis")], &[]).await;
    app.hits_become(&ola_session, &[("avsender", "Brønnøysundregistrene")], &[])
        .await;

    let searches = (0..50).map(|n| {
        let app = &app;
        let (session, own) = if n % 2 == 0 {
            (&kari_session, karis)
        } else {
            (&ola_session, olas)
        };
        async move {
            let results = app.search(session, &[("q", "tannlegetime ord")]).await;
            assert_eq!(hrefs(&results), [format!("/brev/{own}")], "{results}");
        }
    });
    futures::future::join_all(searches).await;

    // Without a session there is nothing to search.
    let response = app
        .client
        .get(app.url("/api/search_archive?q=tannlegetime"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn a_level_4_letters_body_is_found_only_at_level_high(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(6);
    let mut letter = text_letter(
        TEST_SENDER,
        &kari,
        "Prøvesvar fra sykehuset",
        "Diagnosen er astma.",
    );
    letter.security_level = SecurityLevel::High;
    letter.nonsensitive_title = "Brev fra helseforetaket".to_owned();
    let secret = app.send_as("Brønnøysundregistrene", &letter).await;
    let open = app
        .send_as(
            "Brønnøysundregistrene",
            &text_letter(
                TEST_SENDER,
                &kari,
                "Åpent brev",
                "Ingen astma her, men pollen.",
            ),
        )
        .await;

    let substantial = app.login_as(&kari).await;
    app.hits_become(&substantial, &[("q", "pollen")], &[open])
        .await;
    app.hits_become(&substantial, &[("q", "astma")], &[open])
        .await;
    app.hits_become(&substantial, &[("q", "diagnosen")], &[])
        .await;
    app.hits_become(&substantial, &[("q", "prøvesvar")], &[])
        .await;
    // The non-sensitive title matches, and is all that is shown.
    let results = app
        .hits_become(&substantial, &[("q", "helseforetaket")], &[secret])
        .await;
    assert_eq!(results["hits"][0]["title"], "Brev fra helseforetaket");
    assert!(!results.to_string().contains("Prøvesvar"), "{results}");
    assert!(!results.to_string().contains("Diagnosen"), "{results}");

    let high = app.login_at_high(&kari).await;
    let results = app
        .hits_become(&high, &[("q", "diagnosen")], &[secret])
        .await;
    assert_eq!(results["hits"][0]["title"], "Prøvesvar fra sykehuset");
    app.hits_become(&high, &[("q", "astma")], &[secret, open])
        .await;
    app.hits_become(&high, &[("q", "prøvesvar")], &[secret])
        .await;
}

async fn letters_before_their_effective_time_never_match(backend: Backend) {
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let Some(app) = spawn_app_with_clock(backend, |_| {}, clock.clone()).await else {
        return;
    };
    let kari = citizen(7);
    let mut later = text_letter(
        TEST_SENDER,
        &kari,
        "Kommer senere",
        "Skattemelding for neste år.",
    );
    later.effective_at = Some(clock.now() + Duration::hours(1));
    let later = app.send_as("Brønnøysundregistrene", &later).await;
    let now = app
        .send_as(
            "Brønnøysundregistrene",
            &text_letter(TEST_SENDER, &kari, "Nå", "Skattemelding for i år."),
        )
        .await;
    let session = app.login_as(&kari).await;
    app.hits_become(&session, &[("q", "skattemelding")], &[now])
        .await;
    // Both were extracted and indexed in the same round; the later one is
    // still not a hit, by the query's own clause.
    assert_eq!(app.search(&session, &[("q", "neste")]).await["total"], 0);
    clock.advance(Duration::hours(2));
    let session = app.login_as(&kari).await;
    app.hits_become(&session, &[("q", "skattemelding")], &[now, later])
        .await;
}

async fn filters_counts_order_and_moves(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(9);
    let brreg = app
        .send_as(
            "Brønnøysundregistrene",
            &text_letter(TEST_SENDER, &kari, "Enhetsregisteret", "Om kontoret ditt."),
        )
        .await;
    let skatt1 = app
        .send_as(
            "Skatteetaten",
            &text_letter(
                SKATTEETATEN,
                &kari,
                "Skatteoppgjør",
                "Om kontoret ditt og skatt.",
            ),
        )
        .await;
    let skatt2 = app
        .send_as(
            "Skatteetaten",
            &text_letter(
                SKATTEETATEN,
                &kari,
                "Forskudd",
                "Kontoret sender skatt skatt skatt.",
            ),
        )
        .await;
    let session = app.login_as(&kari).await;
    let results = app
        .hits_become(&session, &[("q", "kontoret")], &[brreg, skatt1, skatt2])
        .await;
    assert_eq!(
        results["senders"],
        serde_json::json!([
            {"name": "Skatteetaten", "count": 2},
            {"name": "Brønnøysundregistrene", "count": 1},
        ])
    );
    // The sender filter keeps the counts of every sender, to switch to.
    let results = app
        .hits_become(
            &session,
            &[("q", "kontoret"), ("avsender", "Skatteetaten")],
            &[skatt1, skatt2],
        )
        .await;
    assert_eq!(results["senders"].as_array().unwrap().len(), 2);
    // Newest first: the last one sent comes first.
    let newest = app
        .search(&session, &[("q", "kontoret"), ("sortering", "nyeste")])
        .await;
    assert_eq!(newest["hits"][0]["href"], format!("/brev/{skatt2}"));
    // Relevance: "skatt" three times beats once.
    let relevant = app
        .search(&session, &[("q", "skatt"), ("sortering", "relevans")])
        .await;
    assert_eq!(relevant["hits"][0]["href"], format!("/brev/{skatt2}"));
    // Years: this year has them all, last year none.
    let year = Utc::now().format("%Y").to_string();
    let last_year = (Utc::now() - Duration::days(366)).format("%Y").to_string();
    app.hits_become(
        &session,
        &[("q", "kontoret"), ("fra", &year), ("til", &year)],
        &[brreg, skatt1, skatt2],
    )
    .await;
    app.hits_become(&session, &[("q", "kontoret"), ("til", &last_year)], &[])
        .await;

    // Moved to the archive and to the trash: the folder filter follows, and
    // the trash is searched only when asked for.
    let moved = app
        .server_fn_as(
            "move_letter",
            &[("id", brreg.to_string()), ("til", "papirkurv".to_owned())],
            &session,
        )
        .await;
    assert!(
        moved.status().is_success() || moved.status().is_redirection(),
        "{}",
        moved.status()
    );
    app.hits_become(&session, &[("q", "kontoret")], &[skatt1, skatt2])
        .await;
    app.hits_become(
        &session,
        &[("q", "kontoret"), ("mappe", "papirkurv")],
        &[brreg],
    )
    .await;
    app.hits_become(&session, &[("mappe", "innboks")], &[skatt1, skatt2])
        .await;

    // Bad filters are refused, naming the field.
    for (field, value) in [
        ("fra", "i fjor"),
        ("mappe", "ukjent"),
        ("sortering", "tilfeldig"),
    ] {
        let response = app.search_response(&session, &[(field, value)]).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["Invalid"]["field"], field, "{body}");
    }
}

async fn unreadable_documents_are_delivered_marked_and_retried(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |settings| {
        settings.search.retry_base_seconds = 1;
        settings.search.max_extraction_attempts = 2;
    })
    .await
    else {
        return;
    };
    let kari = citizen(10);
    let mut letter = test_letter(
        &OrgNr::parse(TEST_SENDER).unwrap(),
        &kari,
        "Ødelagt vedlegg",
    );
    letter.attachments.push(OutgoingDocument {
        file_name: "vedlegg.pdf".to_owned(),
        mime: "application/pdf".to_owned(),
        title: "Vedlegg".to_owned(),
        bytes: b"%PDF-1.4\nthis is not a PDF at all".to_vec(),
    });
    let broken = app.send_as("Brønnøysundregistrene", &letter).await;
    let session = app.login_as(&kari).await;
    // Delivered and found by its title and its readable main document.
    let results = app
        .hits_become(&session, &[("q", "ødelagt")], &[broken])
        .await;
    assert_eq!(results["hits"][0]["partly_searchable"], true, "{results}");
    assert_eq!(results["unsearchable_documents"], 1);
    app.hits_become(&session, &[("q", "innhold")], &[broken])
        .await;
    // Tried again after the wait, then given up: not due any more, still marked.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let due = app
            .database
            .due_texts(Utc::now() + Duration::days(365), 10)
            .await
            .unwrap();
        if due.is_empty() {
            break;
        }
        assert_eq!(due.len(), 1);
        assert!(
            Instant::now() < deadline,
            "the attachment is still due: {due:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let results = app.search(&session, &[("q", "ødelagt")]).await;
    assert_eq!(results["unsearchable_documents"], 1);
}

/// A letter as a scanner or a phone camera makes it: one of our letters,
/// rendered to PNG by poppler's `pdftoppm` (which shares no code with
/// Postkasse).
fn photographed_letter(text: &str) -> Vec<u8> {
    let pdf = postkasse::pdf::letter_pdf("Vedtak", "Kari", &[text]).unwrap();
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(directory.path().join("brev.pdf"), pdf).unwrap();
    let rendered = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "150", "-singlefile", "brev.pdf", "side"])
        .current_dir(directory.path())
        .status()
        .expect("pdftoppm (poppler-utils) is installed");
    assert!(rendered.success());
    std::fs::read(directory.path().join("side.png")).unwrap()
}

/// An uploaded photo of a letter is read by OCR, off the request path, and
/// becomes searchable by a word in it.
async fn an_uploaded_image_becomes_searchable_by_its_words(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(16);
    let session = app.login_as(&kari).await;
    let png = photographed_letter("Søknaden om parkeringstillatelse er innvilget.");
    let (_, href) = app
        .upload_found_at(&session, &kari, "skann.png", &png)
        .await;
    let results = app
        .hrefs_become(
            &session,
            &[("q", "parkeringstillatelse")],
            vec![href.clone()],
        )
        .await;
    assert_eq!(results["unsearchable_documents"], 0, "{results}");
    app.hrefs_become(&session, &[("q", "innvilget")], vec![href])
        .await;
    // Another citizen never finds it.
    let ola = app.login_as(&citizen(17)).await;
    app.hrefs_become(&ola, &[("q", "innvilget")], vec![]).await;
}

async fn reindex_rebuilds_the_index_from_the_database(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(11);
    let letter = app
        .send_as(
            "Brønnøysundregistrene",
            &text_letter(
                TEST_SENDER,
                &kari,
                "Gjenoppbygd",
                "Ord i brevet: reindeksering.",
            ),
        )
        .await;
    let session = app.login_as(&kari).await;
    app.hits_become(&session, &[("q", "reindeksering")], &[letter])
        .await;

    // The running server holds the index: a second writer is refused, loudly.
    let index = app.index_directory.to_string_lossy().into_owned();
    let refused = app
        .run_cli_with(
            &["reindex"],
            &[("POSTKASSE__SEARCH__INDEX_DIRECTORY", &index)],
        )
        .await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("another postkasse"));

    let fresh = tempfile::tempdir().unwrap();
    let directory = fresh.path().join("index");
    let built = app
        .run_cli_with(
            &["reindex"],
            &[(
                "POSTKASSE__SEARCH__INDEX_DIRECTORY",
                directory.to_str().unwrap(),
            )],
        )
        .await;
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    assert!(String::from_utf8_lossy(&built.stdout).contains(": 1 letters and uploads"));

    let rebuilt = postkasse::search::index::SearchIndex::open(
        &directory,
        std::time::Duration::from_millis(10),
        std::sync::Arc::new(postkasse::search::compounds::Compounds::none()),
    )
    .unwrap();
    assert!(!rebuilt.needs_rebuild());
    let request = app::api::search::SearchFields::words("reindeksering")
        .parse()
        .unwrap();
    let scope = postkasse::search::query::Scope {
        owner: kari.as_str(),
        level: SecurityLevel::Substantial,
        now: Utc::now(),
    };
    let results =
        postkasse::search::query::run(&rebuilt, &rebuilt.searcher(), &request, &scope).unwrap();
    assert_eq!(results.total, 1);
    assert_eq!(results.hits[0].href, format!("/brev/{letter}"));
}

async fn the_search_page_works_as_a_plain_form(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(12);
    let letter = app
        .send_as(
            "Skatteetaten",
            &text_letter(
                SKATTEETATEN,
                &kari,
                "Skatteoppgjøret <2025>",
                "Du får penger tilbake & mer.",
            ),
        )
        .await;
    let session = app.login_as(&kari).await;
    app.hits_become(&session, &[("q", "penger")], &[letter])
        .await;

    let inbox = app.get_as("/innboks", &session).await.text().await.unwrap();
    assert!(
        inbox.contains(r#"action="/sok""#),
        "the inbox has a search box"
    );
    let page = app
        .get_as(
            "/sok?q=f%C3%A5r+penger&fra=&til=&mappe=&sortering=",
            &session,
        )
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = crate::helpers::without_hydration_markers(&page.text().await.unwrap());
    assert!(page.contains("1 treff"), "{page}");
    assert!(
        page.contains(&format!(r#"href="/brev/{letter}""#)),
        "{page}"
    );
    assert!(page.contains("<mark>får</mark>"), "{page}");
    assert!(page.contains("<mark>penger</mark>"), "{page}");
    // Letter text is text, never markup.
    assert!(page.contains("Skatteoppgjøret &lt;2025&gt;"), "{page}");
    assert!(
        page.contains("Skatteetaten (1)"),
        "the sender's count: {page}"
    );
    assert!(
        page.contains("q=f%C3%A5r%20penger&amp;avsender=Skatteetaten"),
        "the filter link keeps the words: {page}"
    );

    let refused = app.get_as("/sok?fra=tjue", &session).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Fra år: må være et årstall"));

    let anonymous = app
        .client
        .get(app.url("/sok?q=penger"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(!anonymous.text().await.unwrap().contains("penger tilbake"));
}

/// Every node's index learns of the mailbox's changes from the change log,
/// so each change must be in the log with the commit that made it, and a
/// refused one not at all.
async fn the_mailboxs_changes_are_logged_with_their_commit(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(14), citizen(15));
    let letter = app
        .send_as(
            "Brønnøysundregistrene",
            &text_letter(TEST_SENDER, &kari, "Faktura", "Faktura for strøm."),
        )
        .await;
    let session = app.login_as(&kari).await;
    let intruder = app.login_as(&ola).await;
    // The letter's text is logged once it is extracted.
    app.hits_become(&session, &[("q", "faktura")], &[letter])
        .await;
    // The only letter here, and its text is in: nothing else is logging.
    let logged =
        || crate::helpers::count_in(&app.database_url, "SELECT COUNT(*) FROM search_change");
    let before = logged().await;

    // Another citizen's move is refused and logs nothing.
    let refused = app
        .server_fn_as(
            "move_letter",
            &[("id", letter.to_string()), ("til", "arkiv".to_owned())],
            &intruder,
        )
        .await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    assert_eq!(logged().await, before);

    // The owner's move is logged, and every node finds the letter archived.
    let moved = app
        .server_fn_as(
            "move_letter",
            &[("id", letter.to_string()), ("til", "arkiv".to_owned())],
            &session,
        )
        .await;
    assert!(moved.status().is_success(), "{}", moved.status());
    assert_eq!(logged().await, before + 1);
    app.hits_become(&session, &[("q", "faktura"), ("mappe", "arkiv")], &[letter])
        .await;
}

async fn purged_letters_and_deleted_folders_leave_the_index(backend: Backend) {
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
    let kari = citizen(13);
    let old = app
        .send_as(
            "Brønnøysundregistrene",
            &text_letter(TEST_SENDER, &kari, "Gammel faktura", "Faktura for strøm."),
        )
        .await;
    let filed = app
        .send_as(
            "Brønnøysundregistrene",
            &text_letter(TEST_SENDER, &kari, "Arkivert faktura", "Faktura for vann."),
        )
        .await;
    let session = app.login_as(&kari).await;
    app.hits_become(&session, &[("q", "faktura")], &[old, filed])
        .await;

    // A folder's letters go back to the inbox when it is deleted; the index follows.
    let created = app
        .server_fn_as(
            "create_folder",
            &[("navn", "Regninger".to_owned())],
            &session,
        )
        .await;
    assert!(created.status().is_success(), "{}", created.status());
    let folders: Value = app
        .server_fn_as("list_folders", &[], &session)
        .await
        .json()
        .await
        .unwrap();
    let folder = folders[0]["id"].as_str().unwrap().to_owned();
    let moved = app
        .server_fn_as(
            "move_letter",
            &[("id", filed.to_string()), ("til", folder.clone())],
            &session,
        )
        .await;
    assert!(moved.status().is_success(), "{}", moved.status());
    app.hits_become(&session, &[("q", "faktura"), ("mappe", &folder)], &[filed])
        .await;
    let deleted = app
        .server_fn_as("delete_folder", &[("id", folder.clone())], &session)
        .await;
    assert!(deleted.status().is_success(), "{}", deleted.status());
    app.hits_become(
        &session,
        &[("q", "faktura"), ("mappe", "innboks")],
        &[old, filed],
    )
    .await;

    // Trashed, then purged: gone from the index, even when the trash is searched.
    let trashed = app
        .server_fn_as(
            "move_letter",
            &[("id", old.to_string()), ("til", "papirkurv".to_owned())],
            &session,
        )
        .await;
    assert!(trashed.status().is_success(), "{}", trashed.status());
    app.hits_become(&session, &[("q", "strøm"), ("mappe", "papirkurv")], &[old])
        .await;
    clock.advance(Duration::days(31));
    let session = app.login_as(&kari).await;
    app.hits_become(&session, &[("q", "strøm"), ("mappe", "papirkurv")], &[])
        .await;
    app.hits_become(&session, &[("q", "faktura")], &[filed])
        .await;
}

async fn uploads_are_searchable_until_deleted(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(14);
    let session = app.login_as(&kari).await;
    let pdf =
        postkasse::pdf::letter_pdf("Kvittering for sykkel", "Kari", &["Kjøpt i Bergen."]).unwrap();
    let (upload, href) = app
        .upload_found_at(&session, &kari, "kvittering.pdf", &pdf)
        .await;
    let results = app
        .hrefs_become(&session, &[("q", "sykkel bergen")], vec![href.clone()])
        .await;
    assert_eq!(results["hits"][0]["title"], "kvittering.pdf");
    assert!(results["hits"][0]["sender"].is_null());
    // Uploads lie in no folder of letters.
    app.hrefs_become(&session, &[("q", "sykkel"), ("mappe", "innboks")], vec![])
        .await;

    let deleted = app
        .server_fn_as("delete_upload", &[("id", upload.to_string())], &session)
        .await;
    assert!(deleted.status().is_success(), "{}", deleted.status());
    app.hrefs_become(&session, &[("q", "sykkel")], vec![]).await;
    // Another citizen never finds it.
    let ola = app.login_as(&citizen(15)).await;
    app.hrefs_become(&ola, &[("q", "sykkel")], vec![]).await;
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Searches at `address` until the hits are exactly `expected`; returns how
/// long that took.
async fn hits_at_become(
    app: &TestApp,
    address: &str,
    session: &str,
    query: &str,
    expected: &[LetterId],
) -> std::time::Duration {
    let started = Instant::now();
    let mut wanted: Vec<String> = expected.iter().map(|id| format!("/brev/{id}")).collect();
    wanted.sort();
    loop {
        let path = format!("/api/search_archive?q={}", urlencoding(query));
        let response = crate::login::get_at(&app.client, address, &path, session).await;
        assert_eq!(response.status(), StatusCode::OK);
        let results: Value = response.json().await.unwrap();
        if hrefs(&results) == wanted {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{address} {query:?}: wanted {wanted:?}, got {results}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn every_node_finds_a_letter_another_took_in_and_a_restarted_one_catches_up(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let second = app.another_node().await;
    // The third node is a `postkasse serve` process of its own, on the same
    // database and blobs, with its index in its own directory.
    let scratch = tempfile::tempdir().unwrap();
    let mut third = crate::crash::Environment::in_scratch(&app.database_url, scratch.path());
    third.blobs = app.blob_directory.clone();
    let (mut third_process, third_address) = third.start().await;
    let kari = citizen(21);
    // The session lives in the database: good on every node.
    let session = app.login_as(&kari).await;
    let first_letter = app
        .send_as(
            "Skatteetaten",
            &text_letter(
                SKATTEETATEN,
                &kari,
                "Skatteoppgjør",
                "Ord i brevet: formuesverdi.",
            ),
        )
        .await;
    for (name, address) in [
        ("first", &app.address),
        ("second", &second.address),
        ("third", &third_address),
    ] {
        let took = hits_at_become(&app, address, &session, "formuesverdi", &[first_letter]).await;
        println!(
            "the letter the first node took in was found on the {name} node after {} ms",
            took.as_millis()
        );
    }

    // The third node is killed; meanwhile a letter comes and the first one
    // moves to the trash.
    third_process.kill().await.unwrap();
    let second_letter = app
        .send_as(
            "Skatteetaten",
            &text_letter(
                SKATTEETATEN,
                &kari,
                "Restskatt",
                "Ord i brevet: formuesverdi og renter.",
            ),
        )
        .await;
    let moved = app
        .server_fn_as(
            "move_letter",
            &[
                ("id", first_letter.to_string()),
                ("til", "papirkurv".to_owned()),
            ],
            &session,
        )
        .await;
    assert!(moved.status().is_success(), "{}", moved.status());
    hits_at_become(
        &app,
        &second.address,
        &session,
        "formuesverdi",
        &[second_letter],
    )
    .await;
    // Started again on its index, it goes on from where its last commit was.
    let (_third_process, third_address) = third.start().await;
    let took = hits_at_become(
        &app,
        &third_address,
        &session,
        "formuesverdi",
        &[second_letter],
    )
    .await;
    println!(
        "the node killed and started again caught up after {} ms",
        took.as_millis()
    );
}

on_both_backends!(
    the_mailboxs_changes_are_logged_with_their_commit,
    every_node_finds_a_letter_another_took_in_and_a_restarted_one_catches_up,
    an_uploaded_image_becomes_searchable_by_its_words,
    compound_parts_and_typos_find_letters_below_exact_words,
    uploads_are_searchable_until_deleted,
    purged_letters_and_deleted_folders_leave_the_index,
    the_search_page_works_as_a_plain_form,
    norwegian_words_phrases_and_inflections_match_exactly,
    citizens_never_see_each_others_hits,
    a_level_4_letters_body_is_found_only_at_level_high,
    letters_before_their_effective_time_never_match,
    filters_counts_order_and_moves,
    unreadable_documents_are_delivered_marked_and_retried,
    reindex_rebuilds_the_index_from_the_database,
);
