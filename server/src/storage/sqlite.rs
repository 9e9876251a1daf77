//! SQLite, the embedded default.
//!
//! WAL with `synchronous=FULL`: in WAL mode `NORMAL` can lose the last commits
//! on power loss, and a letter must never be acknowledged and then lost.
//! Foreign keys are on (SQLite's default is off).

use super::{
    agency::impl_sql_agency, archive::impl_sql_archive, register::impl_sql_register,
    sql::impl_sql_storage, Backend, DatabaseOptions,
};
use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::{str::FromStr, time::Duration};

pub struct SqliteStorage {
    pool: SqlitePool,
}

impl SqliteStorage {
    /// A transaction that takes the write lock at once. A deferred one that
    /// reads before it writes fails with SQLITE_BUSY, without waiting, when
    /// another connection (the search indexer, a worker) committed a write
    /// since its read; BEGIN IMMEDIATE waits for the lock (busy_timeout) instead.
    pub(super) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    pub async fn connect(options: &DatabaseOptions) -> anyhow::Result<Self> {
        let connect_options = SqliteConnectOptions::from_str(options.url.expose_secret())
            .context("invalid SQLite database URL")?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        if let Some(directory) = connect_options.get_filename().parent() {
            if !directory.as_os_str().is_empty() {
                std::fs::create_dir_all(directory)
                    .with_context(|| format!("cannot create {}", directory.display()))?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect_options)
            .await
            .context("cannot open the SQLite database")?;
        sqlx::migrate!("../migrations/sqlite")
            .run(&pool)
            .await
            .context("cannot apply SQLite migrations")?;
        Ok(Self { pool })
    }

    /// The pragmas in force, so tests can hold the durability promise to account.
    pub async fn durability_pragmas(&self) -> anyhow::Result<(String, i64, i64)> {
        let mut connection = self.pool.acquire().await?;
        let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *connection)
            .await?;
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *connection)
            .await?;
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut *connection)
            .await?;
        Ok((journal_mode, synchronous, foreign_keys))
    }
}

impl_sql_archive!(SqliteStorage);
super::search::impl_sql_search!(SqliteStorage);
impl_sql_agency!(SqliteStorage);
impl_sql_register!(SqliteStorage, sqlx::Sqlite);
super::broker::impl_sql_broker!(SqliteStorage);
super::operator::impl_sql_operator!(SqliteStorage);
super::notify::impl_sql_notify!(SqliteStorage, "");
impl_sql_storage!(SqliteStorage, Backend::Sqlite);
