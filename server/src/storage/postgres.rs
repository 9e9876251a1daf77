//! PostgreSQL, for installations that outgrow one machine's disk.

use super::{
    agency::impl_sql_agency, archive::impl_sql_archive, register::impl_sql_register,
    sql::impl_sql_storage, Backend, DatabaseOptions,
};
use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;

pub struct PostgresStorage {
    pool: PgPool,
}

impl PostgresStorage {
    /// A transaction that will write; PostgreSQL's row locks need nothing more.
    pub(super) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    pub async fn connect(options: &DatabaseOptions) -> anyhow::Result<Self> {
        let connect_options = PgConnectOptions::from_str(options.url.expose_secret())
            .context("invalid PostgreSQL database URL")?
            .application_name("postkasse");
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect_options)
            .await
            .context("cannot connect to PostgreSQL")?;
        sqlx::migrate!("../migrations/postgres")
            .run(&pool)
            .await
            .context("cannot apply PostgreSQL migrations")?;
        Ok(Self { pool })
    }
}

impl_sql_archive!(PostgresStorage);
super::search::impl_sql_search!(PostgresStorage);
impl_sql_agency!(PostgresStorage);
impl_sql_register!(PostgresStorage, sqlx::Postgres);
super::broker::impl_sql_broker!(PostgresStorage);
super::operator::impl_sql_operator!(PostgresStorage);
super::notify::impl_sql_notify!(PostgresStorage, "FOR UPDATE SKIP LOCKED");
impl_sql_storage!(PostgresStorage, Backend::Postgres);
