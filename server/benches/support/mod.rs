//! What the benches share: the count from the command line and a scratch
//! PostgreSQL database to measure on.

use sqlx::{Connection, Executor};
use std::future::Future;

/// The first number on the command line, else `default`.
pub fn count_argument(default: usize) -> usize {
    std::env::args()
        .skip(1)
        .find_map(|argument| argument.parse().ok())
        .unwrap_or(default)
}

/// Runs `measure` with the URL of a fresh PostgreSQL database named after
/// `bench`, dropped afterwards whatever the outcome. PostgreSQL is expected at
/// `POSTKASSE_TEST_POSTGRES_URL` (default
/// `postgres://postgres@127.0.0.1:5432/postgres`); when it cannot be reached
/// this says so and answers `Ok(None)`: the bench measures SQLite only.
pub async fn on_scratch_postgres<T, Measured>(
    bench: &str,
    measure: impl FnOnce(String) -> Measured,
) -> anyhow::Result<Option<T>>
where
    Measured: Future<Output = anyhow::Result<T>>,
{
    let admin_url = std::env::var("POSTKASSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(admin) => admin,
        Err(error) => {
            println!("\nPostgreSQL: NOT MEASURED, cannot connect to {admin_url}: {error}");
            return Ok(None);
        }
    };
    let name = format!("postkasse_bench_{bench}_{}", std::process::id());
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    let url = format!(
        "{}/{name}",
        admin_url.rsplit_once('/').expect("a URL with a database").0
    );
    let outcome = measure(url).await;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await?;
    outcome.map(Some)
}
