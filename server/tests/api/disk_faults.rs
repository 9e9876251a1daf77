//! A disk that cannot sync: `strace` attaches to the real `postkasse serve`
//! process and makes every `fsync` and `fdatasync` fail with EIO. Meanwhile
//! letters are sent; each either is acknowledged (and is stored) or gets a
//! 5xx problem (and is not). Once strace lets go the fault has cleared, and
//! the same server takes letters again without a restart, and its search
//! index (whose writer the failed syncs broke) starts again from its last
//! commit and finds every letter that was acknowledged.

use crate::crash::Environment;
use crate::helpers::{citizen, count_in, on_both_backends, Backend, TestDatabase};
use postkasse::broker::client::OutgoingLetter;
use reqwest::StatusCode;
use std::{process::Stdio, time::Duration};
use tokio::io::{AsyncBufReadExt, BufReader};

const AGENCY: &str = "974760673";
/// Letters sent while the disk fails.
const DURING: usize = 12;

/// A letter to `recipient` whose document is `size` bytes: large ones are
/// blob files of their own (fsynced), small ones ride in the database's commit.
fn letter(recipient: &app::domain::Fnr, size: usize) -> OutgoingLetter {
    let sender = app::domain::OrgNr::parse(AGENCY).unwrap();
    let mut letter = crate::helpers::test_letter(&sender, recipient, "Vedtak");
    let mut pdf = postkasse::pdf::letter_pdf("Vedtak", "Test", &["Innhold."]).unwrap();
    let padding = uuid::Uuid::new_v4().simple().to_string().repeat(size / 32);
    pdf.extend_from_slice(format!("\n% {padding}\n").as_bytes());
    letter.main.bytes = pdf;
    letter
}

async fn send(
    client: &reqwest::Client,
    address: &str,
    token: &str,
    letter: &OutgoingLetter,
) -> reqwest::Response {
    let package = letter.package().unwrap();
    let message = letter.business_message(&package).to_string();
    crate::provider_network::post_message(client, address, token, message, Some(package)).await
}

async fn a_disk_that_cannot_sync_acknowledges_nothing_it_did_not_store(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let environment = Environment::in_scratch(&database.url, scratch.path());
    environment.cli(&["migrate"]).await;
    // Citizen 1 has a mailbox here (crash.rs's register).
    let kari = citizen(1);
    environment
        .cli(&[
            "krr",
            "import",
            crate::crash::register_csv(scratch.path()).to_str().unwrap(),
        ])
        .await;
    let token = environment.send_token(AGENCY).await;
    let (server, address) = environment.start().await;
    let client = crate::helpers::http_client();
    let before = letter(&kari, 1024);
    assert_eq!(
        send(&client, &address, &token, &before).await.status(),
        StatusCode::CREATED
    );

    // The fault: every sync of the server's fails while strace is attached.
    let mut strace = tokio::process::Command::new("strace")
        .args(["-f", "-qq", "-p"])
        .arg(server.id().unwrap().to_string())
        .args([
            "-e",
            "trace=fsync,fdatasync",
            "-e",
            "inject=fsync,fdatasync:error=EIO",
            "-o",
            "/dev/null",
        ])
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("strace is installed (Debian's strace)");
    // `-qq` keeps attach messages quiet; wait until the tracer has the process.
    let status_file = format!("/proc/{}/status", server.id().unwrap());
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let status = std::fs::read_to_string(&status_file).unwrap_or_default();
            let traced = status
                .lines()
                .find_map(|line| line.strip_prefix("TracerPid:"))
                .is_some_and(|pid| pid.trim() != "0");
            if traced {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("strace attaches");
    let mut stderr = BufReader::new(strace.stderr.take().unwrap()).lines();
    tokio::spawn(async move { while let Ok(Some(_)) = stderr.next_line().await {} });

    let mut acknowledged = vec![before.message_id];
    let mut refused = 0;
    for index in 0..DURING {
        // Large and small in turn: blob files and inline blobs.
        let size = if index % 2 == 0 { 512 * 1024 } else { 1024 };
        let sent = letter(&kari, size);
        let response = send(&client, &address, &token, &sent).await;
        let status = response.status();
        if status == StatusCode::CREATED {
            acknowledged.push(sent.message_id);
        } else {
            assert!(status.is_server_error(), "answered {status}");
            assert_eq!(
                response.headers()[reqwest::header::CONTENT_TYPE],
                "application/problem+json"
            );
            refused += 1;
        }
    }
    println!(
        "while fsync failed: {} of {DURING} letters acknowledged, {refused} refused with 5xx",
        acknowledged.len() - 1
    );
    assert!(refused > 0, "a failing fsync must refuse some letter");

    // The fault clears: strace lets go of the process.
    strace.kill().await.unwrap();
    let _ = strace.wait().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let after = letter(&kari, 512 * 1024);
        let response = send(&client, &address, &token, &after).await;
        if response.status() == StatusCode::CREATED {
            acknowledged.push(after.message_id);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server does not take letters again: {} {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Every acknowledged letter is found by a search on this same server.
    let session = crate::login::login_as_at(&client, &address, &kari).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let response =
            crate::login::get_at(&client, &address, "/api/search_archive?q=innhold", &session)
                .await;
        assert_eq!(response.status(), StatusCode::OK);
        let results: serde_json::Value = response.json().await.unwrap();
        if results["total"] == acknowledged.len() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} letters acknowledged, the search finds {}",
            acknowledged.len(),
            results["total"]
        );
        // Once a second: the server's own search limit (60 a minute) holds here.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    // What was acknowledged is stored, once; nothing else is.
    drop(server);
    let sender = app::domain::OrgNr::parse(AGENCY).unwrap();
    crate::crash::assert_stored_exactly(&database, &sender, &acknowledged).await;
    assert_eq!(
        count_in(&database.url, "SELECT COUNT(*) FROM letter").await,
        acknowledged.len() as i64
    );
}

on_both_backends!(a_disk_that_cannot_sync_acknowledges_nothing_it_did_not_store);
