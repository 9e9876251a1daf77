//! How many due notices the workers process per second with the sink
//! channel, on SQLite and PostgreSQL.
//!
//! `cargo bench -p postkasse --bench notify [-- JOBS]` (default 100,000).
//!
//! For each backend: a fresh database with 100 citizens in the register
//! (current e-mail and mobile), then JOBS / 10 letters committed through the
//! broker's storage path, each with ten sender-ordered notices (e-mail and
//! SMS on days 0–4), all already due. Timed: two workers (as the default
//! `notify.workers`), batches of 100, no rate limit, until nothing is due.
//! Every job must end as sent, and the sink must hold one notice per job.
//!
//! Beside it, the same run's baseline: two tasks doing the same statements
//! on bare `bench_` tables (integer keys, no foreign keys, checks or
//! indexes beyond the key): claim 100 rows in one transaction (with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL), one insert per notice into a sink
//! table, then one transaction marking the 100 rows done. It leaves out the
//! register lookup and the opened-letter check. The ratio is workers over
//! baseline. Nothing here asserts a figure.
//!
//! PostgreSQL is expected at `POSTKASSE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); when it cannot be reached
//! the bench says so and measures SQLite only.

use app::domain::{
    ConversationId, Fnr, Letter, LetterId, MessageId, OrgNr, SecurityLevel, Sender, Sha256Digest,
    Title,
};
use chrono::{Duration, NaiveDate, Utc};
use postkasse::broker::{LetterTerms, NewMessage, Store as _, StoredChannel};
use postkasse::{
    broker::routing::Process,
    clock::{Clock, SystemClock},
    krr::{
        contact::{EmailAddress, MobileNumber},
        person::{Channel, Person},
    },
    notify::{
        channels::sink::SinkSender,
        worker::{NotifyWorker, NotifyWorkerSettings, RateLimit, Route, Routes},
        NewNotice, NoticeChannel, OrderedBy, Store as _,
    },
    sql::{Database, DatabaseOptions},
};
use secrecy::SecretString;
use sqlx::Executor;
use std::{sync::Arc, time::Instant};

mod support;
use support::count_argument;

const CITIZENS: usize = 100;
const NOTICES_PER_LETTER: usize = 10;
const WORKERS: usize = 2;
const BATCH: u32 = 100;
const OWN_PROVIDER: &str = "999900003";
const AGENCY: &str = "974760673";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let jobs = count_argument(100_000);
    let letters = jobs.div_ceil(NOTICES_PER_LETTER);
    let jobs = letters * NOTICES_PER_LETTER;
    println!("notify bench: {jobs} due notice jobs ({letters} letters), sink channel, {WORKERS} workers, batches of {BATCH}");
    let scratch = tempfile::tempdir()?;
    let mut results = Vec::new();
    let sqlite_url = format!("sqlite://{}", scratch.path().join("bench.db").display());
    results.push(("SQLite", Some(run(&sqlite_url, letters, false).await?)));

    let postgres =
        support::on_scratch_postgres(
            "notify",
            |url| async move { run(&url, letters, true).await },
        )
        .await?;
    results.push(("PostgreSQL", postgres));

    println!("\n=== Summary: notices processed per second ({jobs} jobs) ===");
    println!(
        "{:<12} {:>12} {:>12} {:>7}",
        "backend", "workers/s", "baseline/s", "ratio"
    );
    for (label, result) in results {
        match result {
            Some((workers, baseline)) => println!(
                "{label:<12} {workers:>12.0} {baseline:>12.0} {:>7.2}",
                workers / baseline
            ),
            None => println!("{label:<12} NOT MEASURED"),
        }
    }
    Ok(())
}

/// Seeds, times the workers, then times the baseline; (workers/s, baseline/s).
async fn run(url: &str, letters: usize, postgres: bool) -> anyhow::Result<(f64, f64)> {
    let database = Database::connect(&DatabaseOptions {
        url: SecretString::from(url.to_owned()),
        max_connections: 8,
        acquire_timeout: std::time::Duration::from_secs(30),
    })
    .await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let citizens = seed(&database, letters).await?;
    let jobs = letters * NOTICES_PER_LETTER;

    let routes = Arc::new(Routes {
        email: route(&database, &clock),
        sms: route(&database, &clock),
    });
    let started = Instant::now();
    let tasks: Vec<_> = (0..WORKERS)
        .map(|_| {
            let worker = NotifyWorker {
                notices: Arc::new(database.clone()),
                receipts: Arc::new(postkasse::broker::ReceiptIssuer::new(
                    Arc::new(database.clone()),
                    Arc::new(database.clone()),
                    Arc::new(database.clone()),
                    OrgNr::parse(OWN_PROVIDER).unwrap(),
                    clock.clone(),
                )),
                register: Arc::new(database.clone()),
                clock: clock.clone(),
                routes: routes.clone(),
                settings: NotifyWorkerSettings {
                    batch: BATCH,
                    max_attempts: 3,
                    // A busy SQLite may fail a sink write: retry at once.
                    retry_base: Duration::milliseconds(1),
                    retry_max: Duration::milliseconds(1),
                    lease: Duration::seconds(600),
                    poll: std::time::Duration::from_millis(50),
                },
            };
            tokio::spawn(async move {
                let mut handled = 0;
                loop {
                    match worker.work_once().await? {
                        0 => return anyhow::Ok((worker, handled)),
                        count => handled += count,
                    }
                }
            })
        })
        .collect();
    let mut handled = 0;
    let mut workers = Vec::new();
    for task in tasks {
        let (worker, count) = task.await??;
        handled += count;
        workers.push(worker);
    }
    // A retry may have come due just after the workers found nothing.
    while let Some(worker) = workers.first() {
        match worker.work_once().await? {
            0 => break,
            count => handled += count,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let sunk = database.sink_notices(u32::MAX).await?.len();
    // A transient sink failure (SQLite busy) is retried after its backoff,
    // so attempts may exceed jobs; each notice must still be stored once.
    anyhow::ensure!(
        handled >= jobs && sunk == jobs,
        "expected {jobs} notices, handled {handled} attempts, sink holds {sunk}"
    );
    let rate = jobs as f64 / elapsed;
    println!(
        "{}: {jobs} notices in {elapsed:.1} s = {rate:.0}/s ({} citizens, {} retried attempts)",
        if postgres { "PostgreSQL" } else { "SQLite" },
        citizens,
        handled - jobs
    );
    let baseline = baseline(url, jobs, postgres).await?;
    println!("  baseline: {baseline:.0}/s");
    Ok((rate, baseline))
}

fn route(database: &Database, clock: &Arc<dyn Clock>) -> Route {
    Route {
        sender: Arc::new(SinkSender {
            notices: Arc::new(database.clone()),
            clock: clock.clone(),
        }),
        limit: RateLimit::per_second(0),
    }
}

/// Citizens with current contacts, and letters whose notices are all due.
async fn seed(database: &Database, letters: usize) -> anyhow::Result<usize> {
    let now = Utc::now();
    let citizens: Vec<Fnr> = (0..CITIZENS)
        .map(|index| {
            let birth = NaiveDate::from_ymd_opt(1980, 1, 1).unwrap() + Duration::days(index as i64);
            (100..500)
                .find_map(|individual| Fnr::synthetic(birth, individual))
                .expect("a valid synthetic id")
        })
        .collect();
    let people: Vec<Person> = citizens
        .iter()
        .map(|fnr| {
            let mut person = Person::blank(fnr.clone());
            person.email = Some(Channel {
                value: EmailAddress::parse("innbygger@example.no").unwrap(),
                updated_at: now - Duration::days(10),
                verified_at: None,
            });
            person.mobile = Some(Channel {
                value: MobileNumber::parse("+4791234567").unwrap(),
                updated_at: now - Duration::days(10),
                verified_at: None,
            });
            person
        })
        .collect();
    postkasse::krr::Store::import_entries(database, &people, now).await?;
    let agency = OrgNr::parse(AGENCY).unwrap();
    let sender = Sender::new(agency.clone(), "Brønnøysundregistrene").unwrap();
    let title = Title::parse("Brev fra Brønnøysundregistrene").unwrap();
    let received = now - Duration::days(10);
    let messages: Vec<NewMessage> = (0..letters)
        .map(|index| {
            let recipient = citizens[index % CITIZENS].clone();
            let letter = Letter {
                id: LetterId::generate(),
                message_id: MessageId::generate(),
                conversation_id: ConversationId::generate(),
                recipient,
                sender: sender.clone(),
                nonsensitive_title: title.clone(),
                title: title.clone(),
                security_level: SecurityLevel::Substantial,
                received_at: received,
                read_at: None,
                documents: Vec::new(),
                link: None,
                signer: None,
            };
            let notices = [NoticeChannel::Email, NoticeChannel::Sms]
                .into_iter()
                .flat_map(|channel| {
                    (0..(NOTICES_PER_LETTER / 2) as u8).map(move |day| NewNotice {
                        channel,
                        day,
                        ordered_by: OrderedBy::Sender,
                        wording: postkasse::notify::Wording::Sender {
                            text: "Du har fått et brev.".to_owned(),
                        },
                        due_at: received + Duration::days(i64::from(day)),
                        purpose: postkasse::notify::NoticePurpose::Letter,
                    })
                })
                .collect();
            NewMessage {
                row_id: uuid::Uuid::new_v4(),
                agency: agency.clone(),
                message_id: letter.message_id,
                conversation_id: letter.conversation_id,
                kanal: String::new(),
                avsenderidentifikator: String::new(),
                process: Process::Decision,
                content_sha256: "0".repeat(64),
                document: "{}".to_owned(),
                package: Sha256Digest::from_bytes([0; 32]),
                channel: StoredChannel::Mailbox(Box::new((letter, LetterTerms::default()))),
                reason: "bench".to_owned(),
                received_at: received,
                statuses: Vec::new(),
                receipts: Vec::new(),
                push_receipts: false,
                inline_blobs: Vec::new(),
                notices,
            }
        })
        .collect();
    for group in messages.chunks(256) {
        database.commit_messages(group).await?;
    }
    Ok(CITIZENS)
}

/// The same claims, sink inserts and updates on bare tables; notices/s.
async fn baseline(url: &str, jobs: usize, postgres: bool) -> anyhow::Result<f64> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(8)
        .connect(url)
        .await?;
    pool.execute("CREATE TABLE bench_notice (id BIGINT PRIMARY KEY, leased INTEGER NOT NULL, done INTEGER NOT NULL, attempts INTEGER NOT NULL)")
        .await?;
    pool.execute("CREATE TABLE bench_sink (id BIGINT PRIMARY KEY, text TEXT NOT NULL, sent_at TEXT NOT NULL)")
        .await?;
    for chunk in (0..jobs as i64).collect::<Vec<_>>().chunks(500) {
        let values: Vec<String> = chunk.iter().map(|id| format!("({id}, 0, 0, 0)")).collect();
        pool.execute(
            format!(
                "INSERT INTO bench_notice (id, leased, done, attempts) VALUES {}",
                values.join(",")
            )
            .as_str(),
        )
        .await?;
    }
    let lock = if postgres {
        "FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let claim = format!(
        "UPDATE bench_notice SET leased = 1, attempts = attempts + 1
         WHERE id IN (SELECT id FROM bench_notice WHERE done = 0 AND leased = 0
                      ORDER BY id LIMIT {BATCH} {lock})
         RETURNING id"
    );
    let started = Instant::now();
    let tasks: Vec<_> = (0..WORKERS)
        .map(|_| {
            let pool = pool.clone();
            let claim = claim.clone();
            tokio::spawn(async move {
                let mut handled = 0usize;
                loop {
                    let mut transaction = pool.begin().await?;
                    let ids: Vec<(i64,)> =
                        sqlx::query_as(&claim).fetch_all(&mut *transaction).await?;
                    transaction.commit().await?;
                    if ids.is_empty() {
                        return anyhow::Ok(handled);
                    }
                    for (id,) in &ids {
                        sqlx::query(
                            "INSERT INTO bench_sink (id, text, sent_at) VALUES ($1, $2, $3)",
                        )
                        .bind(*id)
                        .bind("Du har fått et brev.")
                        .bind(Utc::now().to_rfc3339())
                        .execute(&pool)
                        .await?;
                    }
                    let mut transaction = pool.begin().await?;
                    for (id,) in &ids {
                        sqlx::query("UPDATE bench_notice SET done = 1, leased = 0 WHERE id = $1")
                            .bind(*id)
                            .execute(&mut *transaction)
                            .await?;
                    }
                    transaction.commit().await?;
                    handled += ids.len();
                }
            })
        })
        .collect();
    let mut handled = 0;
    for task in tasks {
        handled += task.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    anyhow::ensure!(handled == jobs, "baseline handled {handled} of {jobs}");
    Ok(jobs as f64 / elapsed)
}
