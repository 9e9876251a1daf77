//! What the benches share: the count from the command line and a scratch
//! PostgreSQL database.

use sqlx::{Connection, Executor, PgConnection};

/// The first number on the command line, else `default`.
pub fn count_argument(default: usize) -> usize {
    std::env::args()
        .skip(1)
        .find_map(|argument| argument.parse().ok())
        .unwrap_or(default)
}

/// A fresh database on the PostgreSQL at `POSTKASSE_TEST_POSTGRES_URL`
/// (default `postgres://postgres@127.0.0.1:5432/postgres`), dropped by
/// [`ScratchPostgres::drop_database`].
pub struct ScratchPostgres {
    admin: PgConnection,
    name: String,
    pub url: String,
}

impl ScratchPostgres {
    /// The new database, or (as `Err` inside `Ok`) why PostgreSQL cannot be
    /// reached, for the bench to print.
    pub async fn create(prefix: &str) -> anyhow::Result<Result<ScratchPostgres, String>> {
        let admin_url = std::env::var("POSTKASSE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let mut admin = match PgConnection::connect(&admin_url).await {
            Ok(admin) => admin,
            Err(error) => return Ok(Err(format!("cannot connect to {admin_url}: {error}"))),
        };
        let name = format!("{prefix}_{}", std::process::id());
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        let url = format!(
            "{}/{name}",
            admin_url.rsplit_once('/').expect("a URL with a database").0
        );
        Ok(Ok(ScratchPostgres { admin, name, url }))
    }

    pub async fn drop_database(mut self) -> anyhow::Result<()> {
        self.admin
            .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
            .await?;
        Ok(())
    }
}
