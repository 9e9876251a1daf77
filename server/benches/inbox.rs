//! B7: a logged-in citizen's inbox page under load, on SQLite, beside two
//! baselines measured in the same run.
//!
//! `cargo bench -p postkasse --bench inbox [-- SECONDS]` (default 10 s per
//! measurement). Needs `oha` on PATH (`cargo install oha`).
//!
//! One process serves three things on ports of their own:
//! - the real server (`Application::build`, settings as shipped, SQLite in
//!   a scratch directory), where one citizen has 20 letters and a session
//!   made as a login makes it;
//! - a bare axum route answering `Hello` (the floor of any HTTP answer);
//! - a bare inbox: an axum route that runs the inbox's own query
//!   (`letter_slice`, 20 summaries and the counts) and writes the 20 rows as
//!   a plain HTML list: the floor of the page without Postkasse's shell,
//!   session check, layout and headers.
//!
//! `oha`, a separate process on the same cores, keeps 64 connections busy:
//! first as fast as they go for SECONDS, then at a fixed 3,000 requests a
//! second with latency correction (latencies counted from when each request
//! was due, not when it went out). It prints requests per second, p50 and
//! p99 for each, and the inbox's ratio to each baseline. Every answer must
//! be 200 with the inbox's content; anything else is counted and shown.

use app::domain::{Fnr, Place, SecurityLevel};
use axum::{extract::State, routing::get, Router};
use chrono::Utc;
use postkasse::{
    auth::{Store as _, StoredSession},
    mailbox::{Reader, Store as _},
    settings::{Environment, Settings},
    sql::{Database, DatabaseOptions},
    startup::Application,
};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use std::{process::Command, time::Duration};

mod support;

const CONNECTIONS: usize = 64;
const FIXED_RATE: u32 = 3_000;
const LETTERS: usize = 20;

/// What one oha run measured.
struct Load {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    answers: usize,
    not_ok: usize,
    /// Requests that got no answer (refused or timed out connections).
    errors: usize,
}

/// Runs oha against `url` for `seconds`, at `rate` requests a second with
/// latency correction, or as fast as it goes.
fn oha(url: &str, cookie: Option<&str>, seconds: usize, rate: Option<u32>) -> anyhow::Result<Load> {
    let mut command = Command::new("oha");
    command
        .args(["--no-tui", "--output-format", "json"])
        .args(["-c", &CONNECTIONS.to_string()])
        .args(["-z", &format!("{seconds}s")]);
    if let Some(rate) = rate {
        command.args(["-q", &rate.to_string(), "--latency-correction"]);
    }
    if let Some(cookie) = cookie {
        command.args(["-H", &format!("Cookie: {cookie}")]);
    }
    let output = command.arg(url).output().map_err(|error| {
        anyhow::anyhow!("cannot run oha ({error}); install it with `cargo install oha`")
    })?;
    anyhow::ensure!(
        output.status.success(),
        "oha failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let seconds_to_ms = |value: &serde_json::Value| value.as_f64().unwrap_or(f64::NAN) * 1000.0;
    let count = |code: &str| report["statusCodeDistribution"][code].as_u64().unwrap_or(0) as usize;
    let sum = |map: &serde_json::Value| -> usize {
        map.as_object()
            .map(|map| map.values().map(|n| n.as_u64().unwrap_or(0) as usize).sum())
            .unwrap_or(0)
    };
    let answers = sum(&report["statusCodeDistribution"]);
    Ok(Load {
        requests_per_second: report["summary"]["requestsPerSec"].as_f64().unwrap_or(0.0),
        p50_ms: seconds_to_ms(&report["latencyPercentiles"]["p50"]),
        p99_ms: seconds_to_ms(&report["latencyPercentiles"]["p99"]),
        answers,
        not_ok: answers - count("200"),
        errors: sum(&report["errorDistribution"]),
    })
}

fn print_load(name: &str, load: &Load) {
    println!(
        "  {name:<28} {:>8.0} requests/s   p50 {:>7.2} ms   p99 {:>7.2} ms   \
         ({} answers, {} not 200, {} errors)",
        load.requests_per_second, load.p50_ms, load.p99_ms, load.answers, load.not_ok, load.errors
    );
}

/// The bare inbox: the inbox's own query and 20 rows of plain HTML.
async fn bare_inbox(
    State((database, owner)): State<(Database, Fnr)>,
) -> axum::response::Html<String> {
    let slice = database
        .letter_slice(Reader::owner(&owner), Utc::now(), Place::Inbox, 0, 20)
        .await
        .expect("the inbox query");
    let mut html = String::from("<!doctype html><title>Innboks</title><ul>");
    for letter in &slice.letters {
        html.push_str(&format!(
            "<li><a href=\"/brev/{}\">{}</a> {} {}</li>",
            letter.id,
            html_escape::encode_text(letter.title.as_str()),
            html_escape::encode_text(&letter.sender_name),
            letter.received_at.format("%d.%m.%Y"),
        ));
    }
    html.push_str("</ul>");
    axum::response::Html(html)
}

async fn serve(router: Router) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(address)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = support::count_argument(10);
    let scratch = tempfile::tempdir()?;
    let url = format!("sqlite://{}", scratch.path().join("bench.db").display());
    let mut settings = Settings::load(None)?;
    settings.environment = Environment::Test;
    settings.application.port = 0;
    settings.database.url = SecretString::from(url.clone());
    settings.blobs.directory = scratch.path().join("blobs");
    settings.search.index_directory = scratch.path().join("index");
    settings.provider.key_file = scratch.path().join("provider-key.pem");
    settings.provider.certificate_file = scratch.path().join("provider-certificate.pem");
    settings.testid.key_file = scratch.path().join("testid.pem");
    settings.signing.ca_directory = scratch.path().join("signing");
    let application = Application::build(settings).await?;
    let inbox = format!("http://127.0.0.1:{}/innboks", application.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async {
        let _ = stopped.await;
    }));

    // The citizen, their letters and a session, as a login leaves it.
    let database = Database::connect(&DatabaseOptions {
        url: SecretString::from(url),
        max_connections: 8,
        acquire_timeout: Duration::from_secs(10),
    })
    .await?;
    let owner = support::citizen(1);
    let session = postkasse::tokens::random_token();
    database
        .insert_session(&StoredSession {
            id_hash: hex::encode(Sha256::digest(session.as_bytes())),
            fnr: owner.clone(),
            level: SecurityLevel::Substantial,
            provider_sid: None,
            id_token: String::new(),
            created_at: Utc::now(),
            last_seen_at: Utc::now(),
            display_name: None,
            acting_for: None,
        })
        .await?;
    for number in 0..LETTERS {
        database
            .insert_letter(&support::archive_letter(&owner, number)?)
            .await?;
    }
    let cookie = format!("__Host-postkasse-session={session}");
    let page = reqwest::Client::new()
        .get(&inbox)
        .header("cookie", &cookie)
        .send()
        .await?;
    anyhow::ensure!(page.status() == 200, "the inbox answered {}", page.status());
    let html = page.text().await?;
    anyhow::ensure!(
        html.contains("Brev nummer 19"),
        "the inbox page lists the citizen's letters"
    );

    let hello = serve(Router::new().route("/", get(|| async { "Hello" }))).await?;
    let bare = format!(
        "{}/",
        serve(
            Router::new()
                .route("/", get(bare_inbox))
                .with_state((database, owner))
        )
        .await?
    );

    println!(
        "B7, the inbox page ({LETTERS} letters, SQLite), {CONNECTIONS} connections, \
         {seconds} s each, oha on the same cores"
    );
    println!("As fast as it goes:");
    let hello_max = oha(&hello, None, seconds, None)?;
    print_load("axum hello route", &hello_max);
    let bare_max = oha(&bare, None, seconds, None)?;
    print_load("bare inbox (query + list)", &bare_max);
    let inbox_max = oha(&inbox, Some(&cookie), seconds, None)?;
    print_load("Postkasse /innboks", &inbox_max);
    println!(
        "  ratio: inbox/hello {:.3}, inbox/bare inbox {:.3}",
        inbox_max.requests_per_second / hello_max.requests_per_second,
        inbox_max.requests_per_second / bare_max.requests_per_second
    );

    println!("At a fixed {FIXED_RATE} requests/s, latency corrected:");
    let hello_fixed = oha(&hello, None, seconds, Some(FIXED_RATE))?;
    print_load("axum hello route", &hello_fixed);
    let bare_fixed = oha(&bare, None, seconds, Some(FIXED_RATE))?;
    print_load("bare inbox (query + list)", &bare_fixed);
    let inbox_fixed = oha(&inbox, Some(&cookie), seconds, Some(FIXED_RATE))?;
    print_load("Postkasse /innboks", &inbox_fixed);
    println!(
        "  p99 ratio: inbox/hello {:.1}, inbox/bare inbox {:.1}",
        inbox_fixed.p99_ms / hello_fixed.p99_ms,
        inbox_fixed.p99_ms / bare_fixed.p99_ms
    );

    let _ = stop.send(());
    server.await??;
    Ok(())
}
