//! The first agency endpoint: `POST /api/v1/letters`.
//!
//! Bad input gets a 400 `application/problem+json` naming the field, and the
//! database and blob store are exactly as before.

use crate::helpers::{on_both_backends, spawn_app, spawn_app_with, Backend, TestApp, INGEST_TOKEN};
use app::domain::{Fnr, LetterId};
use chrono::NaiveDate;
use postkasse::{demo::letter_pdf, storage::StoreStatistics};
use reqwest::{multipart, StatusCode};
use serde_json::{json, Value};

fn kari() -> Fnr {
    let birth_date = NaiveDate::from_ymd_opt(1985, 3, 14).unwrap();
    (100..500)
        .find_map(|individual| Fnr::synthetic(birth_date, individual))
        .unwrap()
}

fn metadata(personidentifikator: &str) -> Value {
    json!({
        "messageId": uuid::Uuid::new_v4().to_string(),
        "mottaker": { "personidentifikator": personidentifikator },
        "avsender": { "organisasjonsnummer": "974760673", "navn": "Brønnøysundregistrene" },
        "ikkesensitivtittel": "Brev fra Brønnøysundregistrene",
        "tittel": "Bekreftelse på registrering",
        "sikkerhetsnivaa": 3
    })
}

fn pdf() -> Vec<u8> {
    letter_pdf("Bekreftelse", "Kari Nordmann", &["Du er registrert."]).unwrap()
}

fn form(metadata: &Value, document: Option<(Vec<u8>, &str)>) -> multipart::Form {
    let form = multipart::Form::new().part(
        "metadata",
        multipart::Part::text(metadata.to_string())
            .mime_str("application/json")
            .unwrap(),
    );
    match document {
        Some((bytes, mime)) => form.part(
            "document",
            multipart::Part::bytes(bytes)
                .file_name("brev.pdf")
                .mime_str(mime)
                .unwrap(),
        ),
        None => form,
    }
}

impl TestApp {
    async fn post_letter(&self, form: multipart::Form) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/letters"))
            .bearer_auth(INGEST_TOKEN)
            .multipart(form)
            .send()
            .await
            .expect("request")
    }

    async fn statistics(&self) -> StoreStatistics {
        self.storage.statistics().await.unwrap()
    }
}

/// Asserts a 400 problem naming exactly `fields`, and that nothing was stored.
async fn assert_refused_naming(app: &TestApp, response: reqwest::Response, fields: &[&str]) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    let named: Vec<&str> = problem["invalid-params"]
        .as_array()
        .expect("invalid-params")
        .iter()
        .map(|param| param["name"].as_str().unwrap())
        .collect();
    assert_eq!(named, fields, "{problem}");
    assert_eq!(app.statistics().await, StoreStatistics::default());
    assert!(
        app.blob_files().is_empty(),
        "blob store changed: {:?}",
        app.blob_files()
    );
}

async fn a_valid_letter_is_stored_and_acknowledged(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let recipient = kari();
    let response = app
        .post_letter(form(
            &metadata(recipient.as_str()),
            Some((pdf(), "application/pdf")),
        ))
        .await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let letter_id: LetterId = body["letterId"].as_str().unwrap().parse().unwrap();
    let stored = app.storage.letter_for(&recipient, letter_id).await.unwrap();
    assert_eq!(stored.title.as_str(), "Bekreftelse på registrering");
    assert_eq!(stored.documents.len(), 1);
    assert_eq!(stored.documents[0].file_name, "brev.pdf");
    assert_eq!(app.blob_files().len(), 1);
    let on_disk = std::fs::read(&app.blob_files()[0]).unwrap();
    assert_eq!(on_disk, pdf(), "the blob holds the document's bytes");
}

async fn a_malformed_national_id_is_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let response = app
        .post_letter(form(
            &metadata("01010112345"),
            Some((pdf(), "application/pdf")),
        ))
        .await;
    assert_refused_naming(&app, response, &["metadata.mottaker.personidentifikator"]).await;
}

async fn a_text_file_labelled_pdf_is_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let text = b"Dette er ikke en PDF.".to_vec();
    let response = app
        .post_letter(form(
            &metadata(kari().as_str()),
            Some((text, "application/pdf")),
        ))
        .await;
    assert_refused_naming(&app, response, &["document"]).await;
}

async fn a_missing_document_is_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let response = app
        .post_letter(form(&metadata(kari().as_str()), None))
        .await;
    assert_refused_naming(&app, response, &["document"]).await;
}

async fn a_missing_metadata_part_is_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let only_document = multipart::Form::new().part(
        "document",
        multipart::Part::bytes(pdf())
            .file_name("brev.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let response = app.post_letter(only_document).await;
    assert_refused_naming(&app, response, &["metadata"]).await;
}

async fn an_oversized_document_is_refused(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |settings| {
        settings.ingest.max_document_bytes = 4096
    })
    .await
    else {
        return;
    };
    let mut big = pdf();
    big.resize(4097 + 64 * 1024, b' ');
    let response = app
        .post_letter(form(
            &metadata(kari().as_str()),
            Some((big, "application/pdf")),
        ))
        .await;
    assert_refused_naming(&app, response, &["document"]).await;
}

async fn every_bad_field_is_named_in_one_answer(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut bad = metadata("123");
    bad["avsender"]["organisasjonsnummer"] = json!("974760674");
    bad["sikkerhetsnivaa"] = json!(5);
    let response = app
        .post_letter(form(&bad, Some((b"hello".to_vec(), "text/plain"))))
        .await;
    assert_refused_naming(
        &app,
        response,
        &[
            "document",
            "metadata.mottaker.personidentifikator",
            "metadata.avsender.organisasjonsnummer",
            "metadata.sikkerhetsnivaa",
        ],
    )
    .await;
}

async fn a_body_that_is_not_multipart_is_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let response = app
        .client
        .post(app.url("/api/v1/letters"))
        .bearer_auth(INGEST_TOKEN)
        .json(&metadata(kari().as_str()))
        .send()
        .await
        .unwrap();
    assert_refused_naming(&app, response, &["body"]).await;
}

async fn letters_need_the_agency_token(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for token in [None, Some("wrong-token-wrong-token")] {
        let mut request = app.client.post(app.url("/api/v1/letters")).multipart(form(
            &metadata(kari().as_str()),
            Some((pdf(), "application/pdf")),
        ));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    assert_eq!(app.statistics().await, StoreStatistics::default());
    assert!(app.blob_files().is_empty());
}

async fn the_same_message_twice_is_a_conflict(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let message = metadata(kari().as_str());
    let first = app
        .post_letter(form(&message, Some((pdf(), "application/pdf"))))
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let second = app
        .post_letter(form(&message, Some((pdf(), "application/pdf"))))
        .await;
    assert_eq!(second.status(), StatusCode::CONFLICT);
    assert_eq!(second.headers()["content-type"], "application/problem+json");
    assert_eq!(app.statistics().await.letters, 1);
}

on_both_backends!(
    a_valid_letter_is_stored_and_acknowledged,
    a_malformed_national_id_is_refused,
    a_text_file_labelled_pdf_is_refused,
    a_missing_document_is_refused,
    a_missing_metadata_part_is_refused,
    an_oversized_document_is_refused,
    every_bad_field_is_named_in_one_answer,
    a_body_that_is_not_multipart_is_refused,
    letters_need_the_agency_token,
    the_same_message_twice_is_a_conflict,
);
