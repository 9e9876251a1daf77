//! The OpenAPI description at `/api/openapi.json` against the running
//! server, by an independent tool: schemathesis (PyPI) generates a few
//! thousand requests from it, valid and invalid, with a token that has
//! every scope, and checks that no answer is a server error and every
//! answer conforms to the description: its status codes, content types,
//! headers and schemas, invalid input refused, missing authentication
//! refused.
//!
//! `positive_data_acceptance` is left out on purpose: the API checks what a
//! schema cannot say (national id and organisation number check digits, the
//! package's fingerprint and signatures, the token's organisation), so a
//! schema-valid request may rightly be refused with a problem naming why.

use crate::helpers::{citizen, on_both_backends, spawn_app, test_letter, Backend, TEST_SENDER};
use reqwest::StatusCode;

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_headers_conformance,response_schema_conformance,negative_data_rejection,\
missing_required_header,unsupported_method,ignored_auth";

/// Examples per operation and phase: about 3,000 requests in all.
const EXAMPLES: &str = "200";

async fn schemathesis_finds_no_server_error_and_no_conformance_failure(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    // Something to find: a letter, so receipts and statuses exist.
    let kari = citizen(23);
    app.make_reachable(&kari, crate::helpers::OWN_PROVIDER)
        .await;
    let sender = app.sender(TEST_SENDER, "Brønnøysundregistrene").await;
    let letter = test_letter(&sender.org_nr(), &kari, "Vedtak");
    assert_eq!(
        sender.send(&app, &letter).await.status(),
        StatusCode::CREATED
    );
    let token = app
        .issue_token(&[
            "digitalpostinnbygger:send",
            "krr:global/kontaktinformasjon.read",
            "krr:global/digitalpost.read",
        ])
        .await;

    // The module, not the `st` script: the same Python that .ci/setup
    // installs into. It keeps a cache where it runs: a scratch directory.
    let scratch = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new("python3")
        .current_dir(scratch.path())
        .args([
            "-m",
            "schemathesis.cli",
            "--no-color",
            "run",
            &app.url("/api/openapi.json"),
            "--url",
            &app.address,
            "--header",
            &format!("Authorization: Bearer {token}"),
            "--checks",
            CHECKS,
            "--max-examples",
            EXAMPLES,
            "--generation-deterministic",
        ])
        .output()
        .await
        .unwrap_or_else(|error| {
            panic!(
                "cannot run python3 -m schemathesis.cli ({error}): pip install schemathesis (.ci/setup does)"
            )
        });
    let report = String::from_utf8_lossy(&output.stdout);
    let summary: Vec<&str> = report
        .lines()
        .filter(|line| line.contains(" generated, ") || line.starts_with("====="))
        .collect();
    println!("schemathesis: {}", summary.join(" / "));
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

on_both_backends!(schemathesis_finds_no_server_error_and_no_conformance_failure);
