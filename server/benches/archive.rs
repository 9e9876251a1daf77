//! How fast a page of the archive is listed, on SQLite and PostgreSQL.
//!
//! `cargo bench -p postkasse --bench archive [-- LETTERS]` (default 5,000).
//! One citizen gets LETTERS letters and nine others get as many between them;
//! then, for each backend, it prints p50/p99 latency of `letter_slice` (the
//! inbox page: 20 summaries with attachment counts and the public-sender
//! flag, plus the place's total and unread counts) for the first and the last
//! page, against a bare `SELECT security_level … LIMIT 20 OFFSET n` on the same rows,
//! measured in the same run. Paging is by offset, so the last page shows what
//! that costs.
//!
//! PostgreSQL is expected at `POSTKASSE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); when it cannot be reached
//! the bench says so and measures SQLite only.

use app::domain::{Fnr, Place};
use chrono::Utc;
use postkasse::{
    mailbox::Store as _,
    sql::{Database, DatabaseOptions},
};
use secrecy::SecretString;
use std::time::{Duration, Instant};

mod support;

const RUNS: usize = 200;
const PAGE: u32 = 20;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let letters = support::count_argument(5_000);
    let scratch = tempfile::tempdir()?;
    let sqlite_url = format!("sqlite://{}", scratch.path().join("bench.db").display());
    run("SQLite", &sqlite_url, letters).await?;

    support::on_scratch_postgres("archive", |url| async move {
        run("PostgreSQL", &url, letters).await
    })
    .await?;
    Ok(())
}

fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let at = |fraction: f64| {
        let index = ((samples.len() as f64 * fraction).ceil() as usize).saturating_sub(1);
        samples[index.min(samples.len() - 1)].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.99))
}

async fn run(label: &str, url: &str, letters: usize) -> anyhow::Result<()> {
    println!("\n{label}: {letters} letters for one citizen, {letters} for nine others");
    let mailboxes = Database::connect(&DatabaseOptions {
        url: SecretString::from(url.to_owned()),
        max_connections: 4,
        acquire_timeout: Duration::from_secs(10),
    })
    .await?;
    let owner = support::citizen(1);
    let others: Vec<Fnr> = (2..11).map(support::citizen).collect();
    let started = Instant::now();
    for number in 0..letters {
        mailboxes
            .insert_letter(&support::archive_letter(&owner, number)?)
            .await?;
        mailboxes
            .insert_letter(&support::archive_letter(
                &others[number % others.len()],
                number,
            )?)
            .await?;
    }
    println!(
        "  seeded {} letters in {:.1} s",
        letters * 2,
        started.elapsed().as_secs_f64()
    );

    sqlx::any::install_default_drivers();
    let bare = sqlx::AnyPool::connect(url).await?;
    let last_page = (letters as u32).div_ceil(PAGE).max(1);
    for (name, page) in [("first page", 1u32), ("last page", last_page)] {
        let offset = u64::from(page - 1) * u64::from(PAGE);
        let mut slice_times = Vec::with_capacity(RUNS);
        let mut bare_times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let started = Instant::now();
            let slice = mailboxes
                .letter_slice(
                    postkasse::mailbox::Reader::owner(&owner),
                    Utc::now(),
                    Place::Inbox,
                    offset,
                    PAGE,
                )
                .await?;
            slice_times.push(started.elapsed());
            assert!(!slice.letters.is_empty(), "the page has letters");

            let started = Instant::now();
            let rows = sqlx::query(
                "SELECT security_level FROM letter WHERE recipient_fnr = $1
                 ORDER BY received_at DESC, id LIMIT $2 OFFSET $3",
            )
            .bind(owner.as_str().to_owned())
            .bind(i64::from(PAGE))
            .bind(offset as i64)
            .fetch_all(&bare)
            .await?;
            bare_times.push(started.elapsed());
            assert!(!rows.is_empty(), "the bare query finds the same page");
        }
        let (slice_p50, slice_p99) = percentiles(slice_times);
        let (bare_p50, bare_p99) = percentiles(bare_times);
        println!(
            "  {name:<10} (page {page}): letter_slice p50 {slice_p50:>7.2} ms p99 {slice_p99:>7.2} ms; \
             bare SELECT p50 {bare_p50:>7.2} ms p99 {bare_p99:>7.2} ms"
        );
    }
    Ok(())
}
