//! How many letters the broker accepts per second, on SQLite and PostgreSQL.
//!
//! `cargo bench -p postkasse --bench broker [-- LETTERS]` (default 5,000
//! one-page letters; 200 letters of 2 MB).
//!
//! For each backend it starts the real server on port 0, registers an agency
//! with an operator token and puts 100 synthetic citizens in the register
//! with a mailbox here. Then 64 concurrent clients (one `reqwest` client and
//! its connection pool) `POST /messages/out`, each looping over its share:
//! first one-page letters, then 2 MB PDFs. Packages, business messages and
//! whole multipart bodies are built before the clock starts: that is the
//! agency's work. Every answer must be 201; anything else is counted and
//! shown, and afterwards the mailbox must hold exactly one letter per 201.
//! It prints letters per second and p50/p99 acknowledgement latency (request
//! start to the whole response).
//!
//! Beside each run, the same run's baseline: 64 concurrent tasks that, per
//! letter, write the bytes the broker writes where the broker writes them
//! (the package and the document: up to `blobs.inline_max_bytes` as rows in
//! the commit, larger ones each to its own file with `sync_all`, then the
//! directory synced, as a new file needs to be durable) and insert
//! rows of the same shape and number (citizen, sender upsert, letter,
//! document, message, two statuses, receipt) into bare `bench_` tables
//! without foreign keys, checks or secondary indexes, committed in groups of
//! `broker.max_commit_group` by one writer task fed by a channel, as the
//! broker's committer does. The ratio is broker letters/s over baseline
//! letters/s.
//!
//! The issue's aim on a 2-core machine: at least 1,000 one-page letters per
//! second, and at least half the baseline. Nothing here asserts either.
//!
//! PostgreSQL is expected at `POSTKASSE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); when it cannot be reached
//! the bench says so and measures SQLite only.

use app::domain::{Fnr, OrgNr};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use postkasse::{
    agency::{self, registry::NewAgency},
    blobs::{BlobStore, ObjectStoreBlobs},
    broker::{
        client::{OutgoingDocument, OutgoingLetter},
        package::{self, PackageLimits},
        receipts::{receipt, ReceiptContext, ReceiptKind},
    },
    krr::{contact::EmailAddress, person},
    settings::{Environment, Settings},
    startup::{Application, Services},
};
use secrecy::SecretString;
use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    Executor, PgPool, SqlitePool,
};
use std::{
    path::{Path, PathBuf},
    str::FromStr,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

mod support;
use support::count_argument;

/// Concurrent clients, and concurrent tasks in the baseline.
const CLIENTS: usize = 64;
/// Citizens in the register with a mailbox here; letters go round them.
const CITIZENS: usize = 100;
/// Letters in the 2 MB run.
const LARGE_LETTERS: usize = 200;
const LARGE_PDF_BYTES: usize = 2 * 1024 * 1024;
/// Letters sent before anything is timed, to open connections and warm caches.
const WARM_UP: usize = CLIENTS;
/// The sending agency (Brønnøysundregistrene).
const AGENCY: &str = "974760673";
const BOUNDARY: &str = "postkasse-bench-7f3c2a9d1e5b4c8a";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let letters = count_argument(5_000);
    let scratch = tempfile::tempdir()?;
    println!(
        "Broker: {CLIENTS} concurrent clients, {letters} one-page letters, \
         {LARGE_LETTERS} letters of {} MB, {CITIZENS} recipients",
        LARGE_PDF_BYTES / (1024 * 1024)
    );
    let started = Instant::now();
    let workloads = [
        Workload::build("1-page", letters, None).await?,
        Workload::build("2 MB", LARGE_LETTERS, Some(LARGE_PDF_BYTES)).await?,
    ];
    let warm_up = Workload::build("warm-up", WARM_UP, None).await?;
    println!(
        "  built {} packages and business messages in {:.1} s (not timed)",
        workloads.iter().map(|w| w.letters.len()).sum::<usize>() + WARM_UP,
        started.elapsed().as_secs_f64()
    );

    let mut tables = Vec::new();
    let sqlite_url = format!("sqlite://{}", scratch.path().join("bench.db").display());
    let sqlite = run("SQLite", &sqlite_url, &workloads, &warm_up, scratch.path()).await?;
    tables.push(("SQLite", Some(sqlite)));

    let scratch_path = scratch.path();
    let postgres = support::on_scratch_postgres("broker", |url| {
        let (workloads, warm_up) = (&workloads, &warm_up);
        async move { run("PostgreSQL", &url, workloads, warm_up, scratch_path).await }
    })
    .await?;
    tables.push(("PostgreSQL", postgres));

    println!("\n=== Summary ({CLIENTS} concurrent clients; aim: >= 1000 one-page letters/s and ratio >= 0.50) ===");
    for (label, rows) in &tables {
        println!("\n{label}");
        let Some(rows) = rows else {
            println!("  NOT MEASURED (PostgreSQL unreachable)");
            continue;
        };
        println!(
            "  {:<8} {:>7} {:>9} {:>12} {:>9} {:>9} {:>12} {:>9} {:>7}",
            "letters",
            "count",
            "failures",
            "broker/s",
            "p50 ms",
            "p99 ms",
            "baseline/s",
            "p99 ms",
            "ratio"
        );
        for row in rows {
            println!(
                "  {:<8} {:>7} {:>9} {:>12.0} {:>9.1} {:>9.1} {:>12.0} {:>9.1} {:>7.2}",
                row.workload,
                row.broker.count,
                row.broker.failures,
                row.broker.rate(),
                row.broker.p50,
                row.broker.p99,
                row.baseline.rate(),
                row.baseline.p99,
                row.broker.rate() / row.baseline.rate(),
            );
        }
    }
    Ok(())
}

/// One prebuilt letter: what the agency sends, and what the baseline writes.
struct Prebuilt {
    recipient: Fnr,
    title: String,
    message_id: Uuid,
    conversation_id: Uuid,
    /// The whole `multipart/form-data` request body.
    body: Bytes,
    /// The package as sent (plain ASiC-E): the broker stores it as a blob.
    package: Bytes,
    /// The main document: the broker stores it as a blob too.
    pdf: Bytes,
    /// The business message, as the broker keeps it on the message row.
    business_message: String,
}

struct Workload {
    name: &'static str,
    letters: Vec<Prebuilt>,
}

impl Workload {
    /// Builds the letters on blocking threads; each PDF is different, so no
    /// blob is shared between letters and every letter costs its own writes.
    async fn build(
        name: &'static str,
        count: usize,
        pad_to: Option<usize>,
    ) -> anyhow::Result<Workload> {
        let citizens = Arc::new(citizens());
        let sender = OrgNr::parse(AGENCY)?;
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut tasks = Vec::new();
        for part in 0..threads {
            let (citizens, sender) = (citizens.clone(), sender.clone());
            tasks.push(tokio::task::spawn_blocking(move || {
                (part..count)
                    .step_by(threads)
                    .map(|index| {
                        prebuild(
                            name,
                            index,
                            &sender,
                            &citizens[index % citizens.len()],
                            pad_to,
                        )
                    })
                    .collect::<anyhow::Result<Vec<_>>>()
            }));
        }
        let mut parts = Vec::new();
        for task in tasks {
            parts.push(task.await??.into_iter());
        }
        // Back in index order, so that letter i goes to client i % CLIENTS.
        let mut letters = Vec::with_capacity(count);
        'outer: loop {
            for part in parts.iter_mut() {
                match part.next() {
                    Some(letter) => letters.push(letter),
                    None => break 'outer,
                }
            }
        }
        anyhow::ensure!(letters.len() == count, "built {} letters", letters.len());
        Ok(Workload { name, letters })
    }
}

fn prebuild(
    workload: &str,
    index: usize,
    sender: &OrgNr,
    recipient: &Fnr,
    pad_to: Option<usize>,
) -> anyhow::Result<Prebuilt> {
    let title = format!("Vedtak {workload} nr. {index}");
    let mut pdf = postkasse::pdf::letter_pdf(
        &title,
        "Innbygger",
        &[&format!("Brev {index} i ytelsesmålingen.")],
    )?;
    if let Some(size) = pad_to {
        pdf = padded_pdf(&pdf, size, index as u64)?;
    }
    let letter = OutgoingLetter::decision(
        sender.clone(),
        recipient.clone(),
        OutgoingDocument {
            file_name: "vedtak.pdf".to_owned(),
            mime: "application/pdf".to_owned(),
            title: title.clone(),
            bytes: pdf.clone(),
        },
    );
    let package = letter.package()?;
    let business_message = letter.business_message(&package).to_string();
    let mut body = Vec::with_capacity(package.len() + business_message.len() + 512);
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"forretningsmelding\"\r\n\
             Content-Type: application/json\r\n\r\n{business_message}\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"dokumentpakke\"; \
             filename=\"dokumentpakke.asice\"\r\n\
             Content-Type: application/vnd.etsi.asic-e+zip\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&package);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    Ok(Prebuilt {
        recipient: recipient.clone(),
        title,
        message_id: letter.message_id.as_uuid(),
        conversation_id: letter.conversation_id.as_uuid(),
        body: Bytes::from(body),
        package: Bytes::from(package),
        pdf: Bytes::from(pdf),
        business_message,
    })
}

/// The one-page letter with an unreferenced stream of incompressible bytes
/// added, so that the whole file is `size` bytes, give or take the
/// cross-reference table: a valid PDF that weighs what a scanned letter does.
fn padded_pdf(pdf: &[u8], size: usize, seed: u64) -> anyhow::Result<Vec<u8>> {
    let mut document = lopdf::Document::load_mem(pdf)?;
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let filler: Vec<u8> = (0..size.saturating_sub(pdf.len() + 64))
        .map(|_| {
            // xorshift64: cheap, and deflate cannot shrink it.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    document.add_object(lopdf::Stream::new(lopdf::Dictionary::new(), filler));
    let mut out = Vec::with_capacity(size + 1024);
    document.save_to(&mut out)?;
    Ok(out)
}

/// Synthetic national ids, one per day from 1 January 1990.
fn citizens() -> Vec<Fnr> {
    let first = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).expect("a date");
    (0..CITIZENS as u64)
        .map(|day| {
            let birth_date = first + chrono::Days::new(day);
            (100..500)
                .find_map(|individual| Fnr::synthetic(birth_date, individual))
                .expect("some individual number gives valid control digits")
        })
        .collect()
}

/// What one run measured.
struct Measured {
    count: usize,
    failures: usize,
    elapsed: Duration,
    p50: f64,
    p99: f64,
}

impl Measured {
    fn rate(&self) -> f64 {
        (self.count - self.failures) as f64 / self.elapsed.as_secs_f64()
    }
}

struct Row {
    workload: &'static str,
    broker: Measured,
    baseline: Measured,
}

async fn run(
    label: &str,
    url: &str,
    workloads: &[Workload],
    warm_up: &Workload,
    scratch: &Path,
) -> anyhow::Result<Vec<Row>> {
    println!("\n{label}");
    let mut settings = Settings::load(None)?;
    settings.environment = Environment::Test;
    settings.application.port = 0;
    settings.database.url = SecretString::from(url.to_owned());
    settings.blobs.directory = scratch.join(format!("blobs-{label}"));
    settings.provider.key_file = scratch.join("provider-key.pem");
    settings.provider.certificate_file = scratch.join("provider-certificate.pem");
    settings.testid.key_file = scratch.join("testid.pem");
    let max_group = settings.broker.max_commit_group;
    let inline_max_bytes = settings.blobs.inline_max_bytes;
    let services = Services::open_from(&settings).await?;
    let own = OrgNr::parse(&settings.provider.org_nr)?;

    // The register: every recipient active, notifiable, with a mailbox here.
    let now = Utc::now();
    let entries: Vec<person::Person> = citizens()
        .into_iter()
        .map(|fnr| {
            let mut entry = person::Person::blank(fnr.clone());
            entry.email = Some(person::Channel {
                value: EmailAddress::parse("innbygger@example.no").expect("an address"),
                updated_at: now - chrono::Duration::days(10),
                verified_at: None,
            });
            entry.mailbox = Some(person::DigitalMailbox {
                address: format!("innbygger{}#BENCH", &fnr.as_str()[..6]),
                provider: own.clone(),
            });
            entry
        })
        .collect();
    postkasse::krr::Store::import_entries(&services.database, &entries, now).await?;

    // The agency, registered (its key: any RSA key will do, as its business
    // messages are plain JSON), and an operator-issued token that may send.
    agency::registry::register(
        services.agency_store().as_ref(),
        services.clock.as_ref(),
        NewAgency {
            org_nr: OrgNr::parse(AGENCY)?,
            name: "Brønnøysundregistrene".to_owned(),
            client_id: "bench-brreg".to_owned(),
            public_key_pem: certificate_pem(&services.own_provider.provider.certificate_der),
            avsenderidentifikatorer: Vec::new(),
            callback_url: None,
        },
    )
    .await?;
    let token = agency::issue_token(
        services.agency_store().as_ref(),
        services.clock.as_ref(),
        "bench",
        OrgNr::parse(AGENCY)?,
        &[agency::SEND_SCOPE.to_owned()],
        chrono::Duration::days(1),
    )
    .await?;

    let bare = BarePool::connect(url).await?;
    bare.create_tables().await?;
    let bare_blobs = scratch.join(format!("bare-blobs-{label}"));
    std::fs::create_dir_all(&bare_blobs)?;

    let database = services.database.clone();
    let application = Application::build_with(settings, services).await?;
    let address = format!("http://127.0.0.1:{}/messages/out", application.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()?;

    let warmed = send_all(&client, &address, &token, &warm_up.letters).await;
    report_failures("warm-up", &warmed);
    let _ = bare_run(
        &bare,
        &bare_blobs,
        &warm_up.letters,
        max_group,
        inline_max_bytes,
        &own,
    )
    .await?;

    let mut rows = Vec::new();
    for workload in workloads {
        let baseline = bare_run(
            &bare,
            &bare_blobs,
            &workload.letters,
            max_group,
            inline_max_bytes,
            &own,
        )
        .await?;
        let before = bare.count("SELECT COUNT(*) FROM letter").await?;
        let sent = send_all(&client, &address, &token, &workload.letters).await;
        let stored = bare.count("SELECT COUNT(*) FROM letter").await? - before;
        report_failures(workload.name, &sent);
        let broker = sent.measured;
        let accepted = broker.count - broker.failures;
        if stored != accepted as i64 {
            println!(
                "  {}: FAILURE: {accepted} letters answered 201 but {stored} reached the mailbox",
                workload.name
            );
        }
        println!(
            "  {:<7} broker   {:>8.0} letters/s ({} of {} accepted in {:.2} s), p50 {:.1} ms, p99 {:.1} ms",
            workload.name,
            broker.rate(),
            accepted,
            broker.count,
            broker.elapsed.as_secs_f64(),
            broker.p50,
            broker.p99
        );
        println!(
            "  {:<7} baseline {:>8.0} letters/s ({} in {:.2} s), p50 {:.1} ms, p99 {:.1} ms; ratio {:.2}",
            workload.name,
            baseline.rate(),
            baseline.count,
            baseline.elapsed.as_secs_f64(),
            baseline.p50,
            baseline.p99,
            broker.rate() / baseline.rate()
        );
        rows.push(Row {
            workload: workload.name,
            broker,
            baseline,
        });
    }
    breakdown(&client, &address, &token, &workloads[0], scratch, label).await?;
    lookups(&database, &token, &workloads[0]).await?;
    let _ = stop.send(());
    server.await??;
    bare.close().await;
    Ok(rows)
}

/// The three reads each mailbox letter makes outside the commit (token,
/// agency, register entry), alone, 64 letters at a time. (Resends are found
/// at commit; the postal address is read only for letters going to paper.)
async fn lookups(
    database: &postkasse::sql::Database,
    token: &str,
    workload: &Workload,
) -> anyhow::Result<()> {
    use sha2::Digest;
    let token_hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    let agency = OrgNr::parse(AGENCY)?;
    let recipients = workload
        .letters
        .iter()
        .map(|letter| letter.recipient.clone());
    let database = database.clone();
    let (mut timings, elapsed) = timed_by_clients(recipients, move |recipient: Fnr| {
        let (database, token_hash, agency) = (database.clone(), token_hash.clone(), agency.clone());
        async move {
            agency::Store::access_token(&database, &token_hash).await?;
            agency::Store::agency_by_org_nr(&database, &agency).await?;
            postkasse::krr::Store::register_entry(&database, &recipient).await?;
            Ok(())
        }
    })
    .await?;
    let (p50, p99) = percentiles(&mut timings);
    println!(
        "    the three reads per letter outside the commit, alone: {:>8.0} letters/s, p50 {p50:.1} ms, p99 {p99:.1} ms",
        timings.len() as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

/// Parts of the broker's path measured alone on the one-page letters, to
/// show where its time goes.
async fn breakdown(
    client: &reqwest::Client,
    address: &str,
    token: &str,
    workload: &Workload,
    scratch: &Path,
    label: &str,
) -> anyhow::Result<()> {
    println!(
        "  where the time goes ({} one-page letters, {CLIENTS} at a time):",
        workload.letters.len()
    );
    // An unusable kanal is refused after the whole body is read and before
    // the broker is called: HTTP, the token lookup and multipart parsing.
    let refused = send_all(
        client,
        &format!("{address}?kanal=%21"),
        token,
        &workload.letters,
    )
    .await;
    let http = refused.measured;
    println!(
        "    HTTP + token + multipart only (400 before the broker): {:>8.0} requests/s, p50 {:.1} ms, p99 {:.1} ms",
        http.count as f64 / http.elapsed.as_secs_f64(),
        http.p50,
        http.p99
    );

    // Two puts to the file blob store, as a letter above
    // `blobs.inline_max_bytes` pays them: what inline blobs save.
    let blobs: Arc<dyn BlobStore> = Arc::new(ObjectStoreBlobs::local(
        &scratch.join(format!("breakdown-blobs-{label}")),
    )?);
    let pairs = workload
        .letters
        .iter()
        .map(|letter| (letter.package.clone(), letter.pdf.clone()));
    let (mut timings, elapsed) = timed_by_clients(pairs, move |(package, pdf): (Bytes, Bytes)| {
        let blobs = blobs.clone();
        async move {
            blobs.put(package).await?;
            blobs.put(pdf).await?;
            Ok(())
        }
    })
    .await?;
    let (p50, p99) = percentiles(&mut timings);
    println!(
        "    file blob store puts only (package + document as files, fsync + rename + directory fsync each; not paid by inline letters): {:>8.0} letters/s, p50 {p50:.1} ms, p99 {p99:.1} ms",
        timings.len() as f64 / elapsed.as_secs_f64()
    );

    // The CPU work on the package, on one thread.
    let limits = PackageLimits::default();
    let started = Instant::now();
    for letter in &workload.letters {
        let _ = package::fingerprint(&letter.package);
        package::open(&letter.package, &limits)
            .map_err(|problems| anyhow::anyhow!("package refused: {problems:?}"))?;
    }
    println!(
        "    package fingerprint + open (unzip, manifest), one thread: {:.0} µs per letter",
        started.elapsed().as_secs_f64() * 1e6 / workload.letters.len() as f64
    );
    Ok(())
}

/// An X.509 certificate as PEM, which the agency register reads as a key.
fn certificate_pem(der: &[u8]) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

struct Sent {
    measured: Measured,
    /// The first few failures, as status and body.
    examples: Vec<String>,
}

fn report_failures(name: &str, sent: &Sent) {
    if sent.measured.failures > 0 {
        println!(
            "  {name}: FAILURES: {} of {} requests were not answered 201, e.g.:",
            sent.measured.failures, sent.measured.count
        );
        for example in &sent.examples {
            println!("    {example}");
        }
    }
}

/// POSTs every letter, `CLIENTS` at a time; letter i is client i % CLIENTS's.
async fn send_all(
    client: &reqwest::Client,
    address: &str,
    token: &str,
    letters: &[Prebuilt],
) -> Sent {
    let bodies: Vec<Bytes> = letters.iter().map(|letter| letter.body.clone()).collect();
    let bodies = Arc::new(bodies);
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(CLIENTS);
    for first in 0..CLIENTS.min(letters.len()) {
        let (client, bodies) = (client.clone(), bodies.clone());
        let (address, token, content_type) =
            (address.to_owned(), token.to_owned(), content_type.clone());
        tasks.push(tokio::spawn(async move {
            let mut timings = Vec::new();
            let mut failures = Vec::new();
            for index in (first..bodies.len()).step_by(CLIENTS) {
                let began = Instant::now();
                let outcome = async {
                    let response = client
                        .post(&address)
                        .bearer_auth(&token)
                        .header(reqwest::header::CONTENT_TYPE, &content_type)
                        .body(bodies[index].clone())
                        .send()
                        .await?;
                    let status = response.status();
                    let body = response.bytes().await?;
                    Ok::<_, reqwest::Error>((status, body))
                }
                .await;
                timings.push(began.elapsed());
                match outcome {
                    Ok((status, _)) if status == reqwest::StatusCode::CREATED => {}
                    Ok((status, body)) => failures.push(format!(
                        "{status}: {}",
                        String::from_utf8_lossy(&body[..body.len().min(300)])
                    )),
                    Err(error) => failures.push(format!("request failed: {error}")),
                }
            }
            (timings, failures)
        }));
    }
    let mut timings = Vec::with_capacity(letters.len());
    let mut failures = Vec::new();
    for task in tasks {
        match task.await {
            Ok((task_timings, task_failures)) => {
                timings.extend(task_timings);
                failures.extend(task_failures);
            }
            Err(error) => failures.push(format!("client task failed: {error}")),
        }
    }
    let elapsed = started.elapsed();
    let (p50, p99) = percentiles(&mut timings);
    Sent {
        measured: Measured {
            count: letters.len(),
            failures: failures.len(),
            elapsed,
            p50,
            p99,
        },
        examples: failures.iter().take(3).cloned().collect(),
    }
}

// ---------------------------------------------------------------------------
// The baseline: the same bytes synced and the same rows committed, bare.
// ---------------------------------------------------------------------------

/// The rows one mailbox letter writes, with the values the broker writes.
struct BareRows {
    letter_id: Uuid,
    message_row: Uuid,
    message_id: Uuid,
    conversation_id: Uuid,
    recipient: String,
    title: String,
    document_sha256: String,
    package_sha256: String,
    document_bytes: i64,
    business_message: String,
    /// The blobs small enough to be stored as rows, by name.
    inline_blobs: Vec<(String, Bytes)>,
    receipt_id: Uuid,
    receipt: String,
    at: DateTime<Utc>,
}

type BareReply = oneshot::Sender<Result<(), String>>;

/// 64 tasks write each letter's blobs and hand its rows to one writer task,
/// which commits whatever has queued, up to `max_group`, in one transaction.
async fn bare_run(
    pool: &BarePool,
    directory: &Path,
    letters: &[Prebuilt],
    max_group: usize,
    inline_max_bytes: usize,
    own: &OrgNr,
) -> anyhow::Result<Measured> {
    let agency = OrgNr::parse(AGENCY)?;
    // Prepared before the clock starts, as the broker's own values are
    // prepared by work the baseline does not do.
    let mut prepared: Vec<Option<(Vec<Bytes>, BareRows)>> = letters
        .iter()
        .map(|letter| {
            let at = Utc::now();
            let document_sha256 = format!("{:064x}", letter.message_id.as_u128());
            let package_sha256 = format!("{:064x}", letter.conversation_id.as_u128());
            let (inline, files): (Vec<_>, Vec<_>) = [
                (package_sha256.clone(), letter.package.clone()),
                (document_sha256.clone(), letter.pdf.clone()),
            ]
            .into_iter()
            .partition(|(_, bytes)| bytes.len() <= inline_max_bytes);
            let context = ReceiptContext {
                conversation_id: app::domain::ConversationId::from_uuid(letter.conversation_id),
                process: postkasse::broker::routing::Process::Decision,
                provider: own,
                agency: &agency,
            };
            Some((
                files.into_iter().map(|(_, bytes)| bytes).collect(),
                BareRows {
                    letter_id: Uuid::new_v4(),
                    message_row: Uuid::new_v4(),
                    message_id: letter.message_id,
                    conversation_id: letter.conversation_id,
                    recipient: letter.recipient.as_str().to_owned(),
                    title: letter.title.clone(),
                    document_sha256,
                    package_sha256,
                    document_bytes: letter.pdf.len() as i64,
                    business_message: letter.business_message.clone(),
                    inline_blobs: inline,
                    receipt_id: Uuid::new_v4(),
                    receipt: receipt(&context, ReceiptKind::Delivered, at).document,
                    at,
                },
            ))
        })
        .collect();
    let mut shares: Vec<Vec<(Vec<Bytes>, BareRows)>> = (0..CLIENTS).map(|_| Vec::new()).collect();
    for (index, letter) in prepared.iter_mut().enumerate() {
        shares[index % CLIENTS].push(letter.take().expect("each letter once"));
    }

    let (queue, incoming) = mpsc::channel::<(BareRows, BareReply)>(max_group.max(1) * 4);
    let writer = tokio::spawn(bare_writer(pool.clone(), incoming, max_group.max(1)));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(CLIENTS);
    for share in shares.into_iter().filter(|share| !share.is_empty()) {
        let (queue, directory) = (queue.clone(), directory.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut timings = Vec::with_capacity(share.len());
            for (files, rows) in share {
                let began = Instant::now();
                if !files.is_empty() {
                    let directory = directory.clone();
                    tokio::task::spawn_blocking(move || write_blobs(&directory, &files)).await??;
                }
                let (reply, answer) = oneshot::channel();
                queue
                    .send((rows, reply))
                    .await
                    .map_err(|_| anyhow::anyhow!("the bare writer stopped"))?;
                answer
                    .await?
                    .map_err(|error| anyhow::anyhow!("bare commit failed: {error}"))?;
                timings.push(began.elapsed());
            }
            Ok::<_, anyhow::Error>(timings)
        }));
    }
    drop(queue);
    let mut timings = Vec::with_capacity(letters.len());
    for task in tasks {
        timings.extend(task.await??);
    }
    let elapsed = started.elapsed();
    writer.await?;
    let (p50, p99) = percentiles(&mut timings);
    Ok(Measured {
        count: letters.len(),
        failures: 0,
        elapsed,
        p50,
        p99,
    })
}

/// Each blob to its own new file, synced before the next, and then the
/// directory, without which a new file's name is not durable.
fn write_blobs(directory: &Path, blobs: &[Bytes]) -> std::io::Result<()> {
    use std::io::Write;
    for blob in blobs {
        let path: PathBuf = directory.join(Uuid::new_v4().to_string());
        let mut file = std::fs::File::create_new(path)?;
        file.write_all(blob)?;
        file.sync_all()?;
    }
    std::fs::File::open(directory)?.sync_all()
}

async fn bare_writer(
    pool: BarePool,
    mut incoming: mpsc::Receiver<(BareRows, BareReply)>,
    max_group: usize,
) {
    let mut group = Vec::with_capacity(max_group);
    while incoming.recv_many(&mut group, max_group).await > 0 {
        let (rows, replies): (Vec<_>, Vec<_>) = group.drain(..).unzip();
        let outcome = pool
            .commit(&rows)
            .await
            .map_err(|error| format!("{error:#}"));
        for reply in replies {
            let _ = reply.send(outcome.clone());
        }
    }
}

/// The eight statements the broker runs per mailbox letter, minus its
/// duplicate check, against bare tables.
macro_rules! commit_bare_group {
    ($pool:expr, $group:expr, $sender_name:expr) => {{
        let mut transaction = $pool.begin().await?;
        for rows in $group {
            sqlx::query(
                "INSERT INTO bench_citizen (fnr, display_name, created_at) VALUES ($1, NULL, $2)
                 ON CONFLICT (fnr) DO NOTHING",
            )
            .bind(&rows.recipient)
            .bind(rows.at)
            .execute(&mut *transaction)
            .await?;
            sqlx::query(
                "INSERT INTO bench_sender (org_nr, name) VALUES ($1, $2)
                 ON CONFLICT (org_nr) DO UPDATE SET name = excluded.name",
            )
            .bind(AGENCY)
            .bind($sender_name)
            .execute(&mut *transaction)
            .await?;
            sqlx::query(
                "INSERT INTO bench_letter (id, message_id, conversation_id, sender_org_nr,
                     recipient_fnr, nonsensitive_title, title, security_level, received_at,
                     read_at, effective_at, opening_receipt, language)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(rows.letter_id)
            .bind(rows.message_id)
            .bind(rows.conversation_id)
            .bind(AGENCY)
            .bind(&rows.recipient)
            .bind("Du har fått et brev")
            .bind(&rows.title)
            .bind(3_i32)
            .bind(rows.at)
            .bind(None::<DateTime<Utc>>)
            .bind(None::<DateTime<Utc>>)
            .bind(false)
            .bind("nb")
            .execute(&mut *transaction)
            .await?;
            sqlx::query(
                "INSERT INTO bench_document (letter_id, position, role, title, file_name,
                     media_type, sha256, size_bytes)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(rows.letter_id)
            .bind(0_i32)
            .bind("main")
            .bind(&rows.title)
            .bind("vedtak.pdf")
            .bind("application/pdf")
            .bind(&rows.document_sha256)
            .bind(rows.document_bytes)
            .execute(&mut *transaction)
            .await?;
            sqlx::query(
                "INSERT INTO bench_message (id, agency_org_nr, message_id, conversation_id,
                     kanal, avsenderidentifikator, process, content_sha256, document,
                     package_sha256, channel, provider_org_nr, reason, letter_id, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(rows.message_row)
            .bind(AGENCY)
            .bind(rows.message_id)
            .bind(rows.conversation_id)
            .bind("")
            .bind("")
            .bind("vedtak")
            .bind(&rows.package_sha256)
            .bind(&rows.business_message)
            .bind(&rows.package_sha256)
            .bind("postkasse")
            .bind(None::<&str>)
            .bind("the recipient chose a mailbox at this Postkasse")
            .bind(rows.letter_id)
            .bind(rows.at)
            .execute(&mut *transaction)
            .await?;
            for (status, beskrivelse) in [
                ("OPPRETTET", "mottatt og lagret"),
                ("SENDT", "levert til postkassen"),
            ] {
                sqlx::query(
                    "INSERT INTO bench_status (message_row, status, beskrivelse, at)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(rows.message_row)
                .bind(status)
                .bind(beskrivelse)
                .bind(rows.at)
                .execute(&mut *transaction)
                .await?;
            }
            sqlx::query(
                "INSERT INTO bench_receipt (id, message_row, agency_org_nr, kanal,
                     avsenderidentifikator, kind, document, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(rows.receipt_id)
            .bind(rows.message_row)
            .bind(AGENCY)
            .bind("")
            .bind("")
            .bind("leveringskvittering")
            .bind(&rows.receipt)
            .bind(rows.at)
            .execute(&mut *transaction)
            .await?;
        }
        for rows in $group {
            for (name, bytes) in &rows.inline_blobs {
                sqlx::query(
                    "INSERT INTO bench_inline_blob (sha256, bytes) VALUES ($1, $2)
                     ON CONFLICT (sha256) DO NOTHING",
                )
                .bind(name)
                .bind(bytes.as_ref())
                .execute(&mut *transaction)
                .await?;
            }
        }
        transaction.commit().await?;
    }};
}

/// The baseline's own connections to the bench database, outside Postkasse's
/// storage layer; SQLite with the same durability pragmas Postkasse uses.
#[derive(Clone)]
enum BarePool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl BarePool {
    async fn connect(url: &str) -> anyhow::Result<BarePool> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(5));
            Ok(BarePool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(2)
                    .connect_with(options)
                    .await?,
            ))
        } else {
            Ok(BarePool::Postgres(PgPool::connect(url).await?))
        }
    }

    async fn create_tables(&self) -> anyhow::Result<()> {
        // The columns and types of the real tables; keys only, nothing else.
        let (uuid, time, boolean, serial, bytes) = match self {
            BarePool::Sqlite(_) => (
                "BLOB",
                "TEXT",
                "INTEGER",
                "INTEGER PRIMARY KEY AUTOINCREMENT",
                "BLOB",
            ),
            BarePool::Postgres(_) => (
                "UUID",
                "TIMESTAMPTZ",
                "BOOLEAN",
                "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                "BYTEA",
            ),
        };
        let statements = [
            format!("CREATE TABLE bench_citizen (fnr TEXT PRIMARY KEY, display_name TEXT, created_at {time} NOT NULL)"),
            "CREATE TABLE bench_sender (org_nr TEXT PRIMARY KEY, name TEXT NOT NULL)".to_owned(),
            format!(
                "CREATE TABLE bench_letter (id {uuid} PRIMARY KEY, message_id {uuid} NOT NULL,
                     conversation_id {uuid} NOT NULL, sender_org_nr TEXT NOT NULL,
                     recipient_fnr TEXT NOT NULL, nonsensitive_title TEXT NOT NULL,
                     title TEXT NOT NULL, security_level INTEGER NOT NULL,
                     received_at {time} NOT NULL, read_at {time}, effective_at {time},
                     opening_receipt {boolean} NOT NULL, language TEXT)"
            ),
            format!(
                "CREATE TABLE bench_document (letter_id {uuid} NOT NULL, position INTEGER NOT NULL,
                     role TEXT NOT NULL, title TEXT NOT NULL, file_name TEXT NOT NULL,
                     media_type TEXT NOT NULL, sha256 TEXT NOT NULL, size_bytes BIGINT NOT NULL,
                     PRIMARY KEY (letter_id, position))"
            ),
            format!(
                "CREATE TABLE bench_message (id {uuid} PRIMARY KEY, agency_org_nr TEXT NOT NULL,
                     message_id {uuid} NOT NULL, conversation_id {uuid} NOT NULL,
                     kanal TEXT NOT NULL, avsenderidentifikator TEXT NOT NULL,
                     process TEXT NOT NULL, content_sha256 TEXT NOT NULL, document TEXT NOT NULL,
                     package_sha256 TEXT NOT NULL, channel TEXT NOT NULL, provider_org_nr TEXT,
                     reason TEXT NOT NULL, letter_id {uuid}, received_at {time} NOT NULL)"
            ),
            format!(
                "CREATE TABLE bench_status (id {serial}, message_row {uuid} NOT NULL,
                     status TEXT NOT NULL, beskrivelse TEXT NOT NULL, at {time} NOT NULL)"
            ),
            format!(
                "CREATE TABLE bench_receipt (id {uuid} PRIMARY KEY, message_row {uuid} NOT NULL,
                     agency_org_nr TEXT NOT NULL, kanal TEXT NOT NULL,
                     avsenderidentifikator TEXT NOT NULL, kind TEXT NOT NULL,
                     document TEXT NOT NULL, created_at {time} NOT NULL, read_at {time})"
            ),
            format!("CREATE TABLE bench_inline_blob (sha256 TEXT PRIMARY KEY, bytes {bytes} NOT NULL)"),
        ];
        for statement in statements {
            match self {
                BarePool::Sqlite(pool) => {
                    pool.execute(statement.as_str()).await?;
                }
                BarePool::Postgres(pool) => {
                    pool.execute(statement.as_str()).await?;
                }
            }
        }
        Ok(())
    }

    async fn commit(&self, group: &[BareRows]) -> anyhow::Result<()> {
        let sender_name = "Brønnøysundregistrene";
        match self {
            BarePool::Sqlite(pool) => commit_bare_group!(pool, group, sender_name),
            BarePool::Postgres(pool) => commit_bare_group!(pool, group, sender_name),
        }
        Ok(())
    }

    async fn count(&self, sql: &str) -> anyhow::Result<i64> {
        Ok(match self {
            BarePool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
            BarePool::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
        })
    }

    async fn close(&self) {
        match self {
            BarePool::Sqlite(pool) => pool.close().await,
            BarePool::Postgres(pool) => pool.close().await,
        }
    }
}

/// Shares the items among `CLIENTS` tasks, each doing its share one at a
/// time; the time each item took, and the whole run's.
async fn timed_by_clients<T, Work, Done>(
    items: impl Iterator<Item = T>,
    work: Work,
) -> anyhow::Result<(Vec<Duration>, Duration)>
where
    T: Send + 'static,
    Work: Fn(T) -> Done + Clone + Send + 'static,
    Done: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let mut shares: Vec<Vec<T>> = (0..CLIENTS).map(|_| Vec::new()).collect();
    for (index, item) in items.enumerate() {
        shares[index % CLIENTS].push(item);
    }
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(CLIENTS);
    for share in shares.into_iter().filter(|share| !share.is_empty()) {
        let work = work.clone();
        tasks.push(tokio::spawn(async move {
            let mut timings = Vec::with_capacity(share.len());
            for item in share {
                let began = Instant::now();
                work(item).await?;
                timings.push(began.elapsed());
            }
            Ok::<_, anyhow::Error>(timings)
        }));
    }
    let mut timings = Vec::new();
    for task in tasks {
        timings.extend(task.await??);
    }
    Ok((timings, started.elapsed()))
}

/// p50 and p99 in milliseconds.
fn percentiles(timings: &mut [Duration]) -> (f64, f64) {
    if timings.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    timings.sort();
    let at = |fraction: f64| {
        let index = ((timings.len() as f64 - 1.0) * fraction).round() as usize;
        timings[index].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.99))
}
