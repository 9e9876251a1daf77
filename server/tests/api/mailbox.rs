//! The citizen's mailbox over HTTP: what the letter page and document URLs
//! show, and the access log of each letter.

use crate::helpers::{citizen, on_both_backends, spawn_app, spawn_app_with, Backend};
use reqwest::StatusCode;

/// The rows of the access log table on a letter page, as text.
fn access_log_rows(page: &str) -> Vec<String> {
    let Some(start) = page.find("Tilgangslogg") else {
        return Vec::new();
    };
    let table = &page[start..];
    let body = &table[table.find("<tbody>").unwrap()..table.find("</tbody>").unwrap()];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            let mut text = String::new();
            let mut in_tag = false;
            for character in row.chars() {
                match character {
                    '<' => in_tag = true,
                    '>' => {
                        in_tag = false;
                        text.push(' ');
                    }
                    _ if !in_tag => text.push(character),
                    _ => {}
                }
            }
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

async fn every_view_and_download_is_in_the_citizens_access_log(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(20), citizen(21));
    let letter = app.deliver_letter(&kari, 4, "Vedtak om uføretrygd").await;
    let (page_path, document) = (format!("/brev/{letter}"), format!("/dokumenter/{letter}/0"));

    // At level substantial the letter is locked: the view is logged, and
    // neither the page nor its log reveals the title.
    let substantial = app.login_as(&kari).await;
    let page = app
        .get_as(&page_path, &substantial)
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Vedtak om uføretrygd"));
    assert_eq!(access_log_rows(&page).len(), 1, "{page}");
    assert!(access_log_rows(&page)[0].contains("Brevet ble vist Betydelig"));
    assert_eq!(
        app.get_as(&document, &substantial).await.status(),
        StatusCode::FORBIDDEN
    );

    // Another citizen gets 404 and leaves no trace in Kari's log.
    let olas = app.login_as(&ola).await;
    assert_eq!(
        app.get_as(&page_path, &olas).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_as(&document, &olas).await.status(),
        StatusCode::NOT_FOUND
    );

    // At level high she reads and downloads; each is logged with its level.
    let high = app.login_at_high(&kari).await;
    assert_eq!(app.get_as(&document, &high).await.status(), StatusCode::OK);
    let page = app.get_as(&page_path, &high).await.text().await.unwrap();
    assert!(page.contains("Vedtak om uføretrygd"));
    let rows = access_log_rows(&page);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows[0].contains("Brevet ble vist Høyt"), "{rows:?}");
    assert!(
        rows[1].contains("Hoveddokumentet ble lastet ned Høyt"),
        "{rows:?}"
    );
    assert!(rows[2].contains("Brevet ble vist Betydelig"), "{rows:?}");
}

/// A one-page letter's package and document are stored by the commit that
/// stores the letter; above `blobs.inline_max_bytes` they get files. Either
/// way the citizen gets the same document back.
async fn small_blobs_ride_in_the_letters_commit_and_large_ones_get_files(backend: Backend) {
    for inline_max_bytes in [256 * 1024, 0] {
        let Some(app) = spawn_app_with(backend, |settings| {
            settings.blobs.inline_max_bytes = inline_max_bytes;
        })
        .await
        else {
            return;
        };
        let kari = citizen(22);
        let letter = app.deliver_letter(&kari, 3, "Vedtak om startlån").await;

        let in_database = app.database.statistics().await.unwrap().inline_blobs;
        let files = app.blob_files();
        if inline_max_bytes > 0 {
            // The package and the one document.
            assert_eq!(in_database, 2);
            assert!(files.is_empty(), "{files:?}");
        } else {
            assert_eq!(in_database, 0);
            assert_eq!(files.len(), 2, "{files:?}");
        }

        let session = app.login_as(&kari).await;
        let response = app
            .get_as(&format!("/dokumenter/{letter}/0"), &session)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.bytes().await.unwrap().starts_with(b"%PDF"));
    }
}

on_both_backends!(
    every_view_and_download_is_in_the_citizens_access_log,
    small_blobs_ride_in_the_letters_commit_and_large_ones_get_files,
);
