//! The stores not yet moved to their domains, on PostgreSQL (connected by
//! [`crate::sql::Database::connect`]).

use super::{sql::impl_sql_storage, Backend};
use sqlx::PgPool;

pub struct PostgresStorage {
    pub(super) pool: PgPool,
}

impl PostgresStorage {
    /// A transaction that will write; PostgreSQL's row locks need nothing more.
    pub(super) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }
}

super::broker::impl_sql_broker!(PostgresStorage);
impl_sql_storage!(PostgresStorage, Backend::Postgres);
