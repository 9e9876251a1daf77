//! Blobs on an S3-compatible object store, a real one (SeaweedFS): a letter's
//! bytes land in the bucket (read back through SeaweedFS's filer, not
//! through Postkasse), none on the local disk, and every node serves them;
//! an unreachable store refuses the letter and stores nothing of it.

use crate::helpers::{
    citizen, count_in, on_both_backends, seaweedfs, spawn_app_with, test_letter, Backend,
    TEST_SENDER,
};
use crate::login::get_at;
use app::domain::OrgNr;
use postkasse::{broker::client::OutgoingDocument, settings::BlobStoreKind};
use reqwest::{header, StatusCode};
use sha2::{Digest, Sha256};

/// Settings with blobs in `bucket`.
fn on(bucket: postkasse::blobs::S3Bucket) -> impl FnOnce(&mut postkasse::settings::Settings) {
    move |settings| {
        settings.blobs.store = BlobStoreKind::S3;
        settings.blobs.s3 = bucket;
    }
}

/// A letter whose document is `bytes`, a PDF of some size.
fn letter_with(
    recipient: &app::domain::Fnr,
    title: &str,
    bytes: Vec<u8>,
) -> postkasse::broker::client::OutgoingLetter {
    let mut letter = test_letter(&OrgNr::parse(TEST_SENDER).unwrap(), recipient, title);
    letter.main = OutgoingDocument {
        file_name: "vedtak.pdf".to_owned(),
        mime: "application/pdf".to_owned(),
        title: title.to_owned(),
        bytes,
    };
    letter
}

/// A valid PDF padded with a comment to about `size` bytes, so it is too
/// large to go inline and different from every other test's.
fn pdf_of_about(size: usize) -> Vec<u8> {
    let mut pdf = postkasse::pdf::pages_pdf(&["Skattemelding 2026"]).unwrap();
    let padding = uuid::Uuid::new_v4().simple().to_string().repeat(size / 32);
    pdf.extend_from_slice(format!("\n% {padding}\n").as_bytes());
    pdf
}

fn files_under(directory: &std::path::Path) -> usize {
    walk(directory).len()
}

fn walk(directory: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

async fn letters_live_in_the_bucket_and_every_node_serves_them(backend: Backend) {
    let store = seaweedfs().await;
    let bucket = store.bucket_for_a_test();
    let prefix = bucket.prefix.clone();
    let Some(app) = spawn_app_with(backend, on(bucket)).await else {
        return;
    };
    let other_node = app.another_node().await;
    let kari = citizen(1);
    let document = pdf_of_about(400 * 1024);
    let letter = app
        .send_letter(&letter_with(&kari, "Skatteoppgjør", document.clone()))
        .await;

    // In the bucket under its SHA-256, as SeaweedFS's own filer reads it.
    let digest = hex::encode(Sha256::digest(&document));
    let key = format!("sha256/{}/{digest}", &digest[..2]);
    let stored = store.read(&prefix, &key).await;
    assert!(
        stored.as_deref() == Some(&document[..]),
        "the document is in the bucket, byte for byte"
    );
    assert_eq!(
        files_under(&app.blob_directory),
        0,
        "nothing went to the local directory"
    );

    // The citizen gets it from either node.
    let session = app.login_as(&kari).await;
    for address in [&app.address, &other_node.address] {
        let response = get_at(
            &app.client,
            address,
            &format!("/dokumenter/{letter}/0"),
            &session,
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.bytes().await.unwrap(), document);
    }

    // The same document again is the same object, written once.
    let again = app
        .send_letter(&letter_with(&kari, "Skatteoppgjør, kopi", document.clone()))
        .await;
    assert_ne!(again, letter);
    assert_eq!(
        store.read(&prefix, &key).await.as_deref(),
        Some(&document[..])
    );
}

async fn an_unreachable_store_refuses_the_letter_and_keeps_nothing(backend: Backend) {
    let mut bucket = seaweedfs().await.bucket_for_a_test();
    // Nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    bucket.endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let Some(app) = spawn_app_with(backend, on(bucket)).await else {
        return;
    };
    let kari = citizen(2);
    app.make_reachable(&kari, crate::helpers::OWN_PROVIDER)
        .await;
    let sender = app.sender(TEST_SENDER, "Skatteetaten").await;
    let response = sender
        .send(
            &app,
            &letter_with(&kari, "Skatteoppgjør", pdf_of_about(400 * 1024)),
        )
        .await;
    assert!(
        response.status().is_server_error(),
        "answered {}",
        response.status()
    );
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    assert_eq!(
        count_in(&app.database_url, "SELECT COUNT(*) FROM letter").await,
        0
    );
    assert_eq!(
        count_in(&app.database_url, "SELECT COUNT(*) FROM dpi_message").await,
        0
    );
}

on_both_backends!(
    letters_live_in_the_bucket_and_every_node_serves_them,
    an_unreachable_store_refuses_the_letter_and_keeps_nothing,
);
