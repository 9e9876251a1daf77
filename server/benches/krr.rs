//! How fast the register imports and answers lookups, on SQLite and PostgreSQL.
//!
//! `cargo bench -p postkasse --bench krr [-- PERSONS]` (default 100,000).
//! For each backend it prints:
//! - persons imported per second through `postkasse krr import`'s own path
//!   (CSV parsing, checks, change detection, audit trail), against a bare
//!   multi-row INSERT of the same rows measured in the same run;
//! - p50/p99 latency of 1000-id lookups over HTTP against the real server,
//!   against the bare `SELECT … WHERE fnr IN (…)` those lookups rest on.
//!
//! PostgreSQL is expected at `POSTKASSE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); when it cannot be reached
//! the bench says so and measures SQLite only.

use app::domain::OrgNr;
use chrono::Utc;
use postkasse::{
    agency,
    csv_import::NoProgress,
    demo::population_csv,
    krr::{
        import::{import_csv, ImportRules},
        person::MailboxProvider,
    },
    settings::{Environment, Settings},
    startup::{Application, Services},
};
use secrecy::SecretString;
use sqlx::Executor;
use std::time::{Duration, Instant};

mod support;
use support::count_argument;

const LOOKUPS: usize = 200;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let persons = count_argument(100_000);
    let scratch = tempfile::tempdir()?;
    let sqlite_url = format!("sqlite://{}", scratch.path().join("bench.db").display());
    run("SQLite", &sqlite_url, persons, scratch.path()).await?;

    let scratch_path = scratch.path();
    support::on_scratch_postgres("krr", |url| async move {
        run("PostgreSQL", &url, persons, scratch_path).await
    })
    .await?;
    Ok(())
}

async fn run(
    label: &str,
    url: &str,
    persons: usize,
    scratch: &std::path::Path,
) -> anyhow::Result<()> {
    println!("\n{label}: {persons} persons");
    let mut settings = Settings::load(None)?;
    settings.environment = Environment::Test;
    settings.application.port = 0;
    settings.database.url = SecretString::from(url.to_owned());
    settings.blobs.directory = scratch.join(format!("blobs-{label}"));
    settings.provider.key_file = scratch.join("provider-key.pem");
    settings.provider.certificate_file = scratch.join("provider-certificate.pem");
    settings.testid.key_file = scratch.join("testid.pem");
    let services = Services::open_from(&settings).await?;
    let own = OrgNr::parse(&settings.provider.org_nr)?;
    let csv = population_csv(&own, persons, &[], Utc::now());
    // Some of the population chose the demo's other provider: register it.
    let other = OrgNr::parse(postkasse::demo::DEMO_PROVIDER_ORG_NR)?;
    postkasse::krr::Store::upsert_mailbox_provider(
        &services.database,
        &MailboxProvider {
            org_nr: other.clone(),
            name: "Eksempel Postkasse AS".to_owned(),
            endpoint: Some("http://127.0.0.1:9/dpi/messages".to_owned()),
            certificate_der: services.own_provider.provider.certificate_der.clone(),
        },
    )
    .await?;
    let rows = csv.lines().count() - 1;

    // Baseline: the same rows, parsed by nothing, inserted 500 at a time.
    let ids: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|line| line[..11].to_owned())
        .collect();
    let baseline = bare_insert(url, &ids).await?;
    let baseline_rate = rows as f64 / baseline.as_secs_f64();

    let started = Instant::now();
    let report = import_csv(
        services.krr_store().as_ref(),
        std::io::Cursor::new(csv.into_bytes()),
        None,
        ImportRules {
            synthetic_ids: settings.synthetic_ids(),
            known_providers: [own.as_str().to_owned(), other.as_str().to_owned()].into(),
            now: Utc::now(),
        },
        &NoProgress,
    )
    .await?;
    let import = started.elapsed();
    anyhow::ensure!(
        report.is_clean() && report.written == rows as u64,
        "{report:?}"
    );
    let import_rate = rows as f64 / import.as_secs_f64();
    println!(
        "  import: {import_rate:>10.0} persons/s ({rows} in {:.2} s); bare INSERT {baseline_rate:>10.0} rows/s; ratio {:.2}",
        import.as_secs_f64(),
        import_rate / baseline_rate
    );

    // Lookups over HTTP against the real server.
    let token = agency::issue_token(
        services.agency_store().as_ref(),
        services.clock.as_ref(),
        "bench",
        OrgNr::parse("974760673")?,
        &agency::KNOWN_SCOPES.map(str::to_owned),
        chrono::Duration::days(1),
    )
    .await?;
    sqlx::any::install_default_drivers();
    let bare_pool = sqlx::AnyPool::connect(url).await;
    let application = Application::build_with(settings, services).await?;
    let address = format!("http://127.0.0.1:{}", application.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let mut http = Vec::with_capacity(LOOKUPS);
    for round in 0..LOOKUPS {
        let start = (round * 997) % (ids.len().saturating_sub(1000).max(1));
        let batch = &ids[start..(start + 1000).min(ids.len())];
        let began = Instant::now();
        let response = client
            .post(format!("{address}/rest/v1/personer"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "personidentifikatorer": batch }))
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "lookup failed: {}",
            response.status()
        );
        let _ = response.bytes().await?;
        http.push(began.elapsed());
    }
    let bare = match bare_pool {
        Ok(pool) => Some(bare_selects(&pool, &ids).await?),
        Err(_) => None,
    };
    let _ = stop.send(());
    server.await??;
    let (p50, p99) = percentiles(&mut http);
    print!("  lookup of 1000 ids over HTTP: p50 {p50:.1} ms, p99 {p99:.1} ms");
    match bare {
        Some(mut bare) => {
            let (bare50, bare99) = percentiles(&mut bare);
            println!(
                "; bare SELECT p50 {bare50:.1} ms, p99 {bare99:.1} ms; ratio p50 {:.1}",
                p50 / bare50
            );
        }
        None => println!(),
    }
    Ok(())
}

/// Inserts bare rows (id, status, flags, time) into a scratch table: what a
/// register write costs before any of Postkasse's own work.
async fn bare_insert(url: &str, ids: &[String]) -> anyhow::Result<Duration> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await?;
    pool.execute("CREATE TABLE bench_bare (fnr TEXT PRIMARY KEY, status TEXT, reserved INTEGER, email TEXT, updated_at TEXT)")
        .await?;
    let started = Instant::now();
    let updated_at = Utc::now().to_rfc3339();
    for chunk in ids.chunks(500) {
        // `$n` placeholders by hand: the Any driver's query builder writes `?`,
        // which PostgreSQL does not read.
        let rows: Vec<String> = (0..chunk.len())
            .map(|row| {
                let first = row * 3 + 1;
                format!("(${first}, 'AKTIV', 0, ${}, ${})", first + 1, first + 2)
            })
            .collect();
        let sql = format!(
            "INSERT INTO bench_bare (fnr, status, reserved, email, updated_at) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query
                .bind(id.as_str())
                .bind(format!("{id}@example.no"))
                .bind(updated_at.as_str());
        }
        let mut transaction = pool.begin().await?;
        query.execute(&mut *transaction).await?;
        transaction.commit().await?;
    }
    let elapsed = started.elapsed();
    pool.execute("DROP TABLE bench_bare").await?;
    Ok(elapsed)
}

async fn bare_selects(pool: &sqlx::AnyPool, ids: &[String]) -> anyhow::Result<Vec<Duration>> {
    let mut timings = Vec::with_capacity(LOOKUPS);
    for round in 0..LOOKUPS {
        let start = (round * 997) % (ids.len().saturating_sub(1000).max(1));
        let batch = &ids[start..(start + 1000).min(ids.len())];
        let placeholders: Vec<String> = (1..=batch.len()).map(|n| format!("${n}")).collect();
        // Text columns only: the Any driver cannot decode every backend's time type.
        let sql = format!(
            "SELECT fnr, status, email, mobile, mailbox_address, provider_org_nr
             FROM krr_person WHERE fnr IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in batch {
            query = query.bind(id.as_str());
        }
        let began = Instant::now();
        let rows = query.fetch_all(pool).await?;
        timings.push(began.elapsed());
        anyhow::ensure!(
            rows.len() == batch.len(),
            "bare select found {} rows",
            rows.len()
        );
    }
    Ok(timings)
}

/// p50 and p99 in milliseconds.
fn percentiles(timings: &mut [Duration]) -> (f64, f64) {
    timings.sort();
    let at = |fraction: f64| {
        let index = ((timings.len() as f64 - 1.0) * fraction).round() as usize;
        timings[index].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.99))
}
