//! SQL storage: the domains' store traits implemented once, for SQLite (the
//! embedded default) and PostgreSQL alike.
//!
//! How one body of code serves two databases, without macros:
//! - Both accept the statements written here (`$n` placeholders, `ON
//!   CONFLICT`, `RETURNING`, `IS DISTINCT FROM`), so a statement is SQL text
//!   plus its arguments: a [`Query`].
//! - The arguments are sea-query's backend-neutral [`Value`]s, which
//!   sea-query-binder binds to either driver; rows decode into structs that
//!   derive `sqlx::FromRow`, which sqlx derives for both drivers' rows ([`Row`]).
//! - [`Database`] is an enum of the two pools, and [`Connection`] is the one
//!   place that picks the driver for a statement.
//!
//! Generic code over `sqlx::Database` was the other way: every function then
//! repeats a where-clause for each Rust type it binds or decodes, and the
//! futures' `Send` bounds have to be proven again for each. What truly
//! differs between the backends is named here, once: connect options and
//! migrations ([`Database::connect`]), how a write transaction begins
//! ([`Database::begin_write`]) and row locks for work queues
//! ([`Database::skip_locked`]).
//!
//! This module depends on the domains (each `sql/<domain>.rs` implements that
//! domain's `Store`), never the reverse. Every query for a citizen's data
//! filters on the citizen in the query itself.

mod activity;
mod agency;
mod auth;
mod blobs;
mod broker;
mod fullmakt;
mod krr;
mod limits;
mod mailbox;
mod moving;
mod notify;
mod operator;
mod print;
mod replies;
mod search;
mod signing;

use crate::store::StorageError;
use anyhow::Context;
use sea_query::Value;
use sea_query_binder::SqlxValues;
use secrecy::{ExposeSecret, SecretString};
use sqlx::{
    pool::PoolConnection,
    postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow},
    sqlite::{
        SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
        SqliteRow, SqliteSynchronous,
    },
    FromRow, Postgres, Sqlite,
};
use std::{borrow::Cow, str::FromStr, time::Duration};

/// Opens a citizen's mailbox the first time anything arrives for them: a
/// letter, an upload or a login. Binds the national id and the time.
const OPEN_MAILBOX: &str =
    "INSERT INTO citizen (fnr, display_name, created_at) VALUES ($1, NULL, $2)
     ON CONFLICT (fnr) DO NOTHING";

/// Connection settings shared by both backends.
#[derive(Clone)]
pub struct DatabaseOptions {
    pub url: SecretString,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How much is stored, for operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStatistics {
    pub citizens: u64,
    pub letters: u64,
    pub documents: u64,
    /// Persons in the contact and reservation register.
    pub register_entries: u64,
    /// Small blobs stored in the database rather than as files.
    pub inline_blobs: u64,
}

#[derive(sqlx::FromRow)]
struct PragmaRow {
    journal_mode: String,
    synchronous: i64,
    foreign_keys: i64,
}

#[derive(sqlx::FromRow)]
struct StatisticsRow {
    citizens: i64,
    letters: i64,
    documents: i64,
    register_entries: i64,
    inline_blobs: i64,
}

/// The database, on whichever backend its URL named. Cloning shares the pool.
#[derive(Clone)]
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl From<sqlx::Error> for StorageError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => StorageError::NotFound,
            sqlx::Error::Database(ref database_error) if database_error.is_unique_violation() => {
                StorageError::Conflict("already stored")
            }
            other => StorageError::Other(anyhow::Error::new(other)),
        }
    }
}

impl Database {
    /// Opens the database the URL names (`sqlite:` or `postgres:`/`postgresql:`)
    /// and brings its schema up to date.
    pub async fn connect(options: &DatabaseOptions) -> anyhow::Result<Self> {
        let url = options.url.expose_secret();
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => connect_sqlite(options).await.map(Database::Sqlite),
            "postgres" | "postgresql" => connect_postgres(options).await.map(Database::Postgres),
            _ => anyhow::bail!(
                "unsupported database URL scheme {scheme:?}: use sqlite: or postgres:"
            ),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Database::Sqlite(_) => Backend::Sqlite,
            Database::Postgres(_) => Backend::Postgres,
        }
    }

    /// `FOR UPDATE SKIP LOCKED` where the backend has row locks (PostgreSQL),
    /// so workers claiming jobs pass over each other's; SQLite has one writer
    /// at a time, so a claim there needs no lock clause.
    /// `FOR UPDATE` where the backend has row locks (PostgreSQL): a row
    /// read in a transaction is held until it ends. SQLite's write
    /// transaction already holds everything.
    pub fn for_update(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "",
            Database::Postgres(_) => "FOR UPDATE",
        }
    }

    pub fn skip_locked(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "",
            Database::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        }
    }

    pub async fn execute(&self, query: Query<'_>) -> Result<u64, StorageError> {
        self.acquire().await?.connection().execute(query).await
    }

    pub async fn fetch_all<R: Row>(&self, query: Query<'_>) -> Result<Vec<R>, StorageError> {
        self.acquire().await?.connection().fetch_all(query).await
    }

    pub async fn fetch_optional<R: Row>(
        &self,
        query: Query<'_>,
    ) -> Result<Option<R>, StorageError> {
        self.acquire()
            .await?
            .connection()
            .fetch_optional(query)
            .await
    }

    /// The one row the query yields, or [`StorageError::NotFound`].
    pub async fn fetch_one<R: Row>(&self, query: Query<'_>) -> Result<R, StorageError> {
        self.fetch_optional(query)
            .await?
            .ok_or(StorageError::NotFound)
    }

    pub async fn begin(&self) -> Result<Transaction, StorageError> {
        Ok(match self {
            Database::Sqlite(pool) => Transaction::Sqlite(pool.begin().await?),
            Database::Postgres(pool) => Transaction::Postgres(pool.begin().await?),
        })
    }

    /// A transaction that will write. On SQLite it takes the write lock at
    /// once: a deferred one that reads before it writes fails with
    /// SQLITE_BUSY, without waiting, when another connection committed a
    /// write since its read; `BEGIN IMMEDIATE` waits (busy_timeout) instead.
    /// PostgreSQL's row locks need nothing more.
    pub async fn begin_write(&self) -> Result<Transaction, StorageError> {
        Ok(match self {
            Database::Sqlite(pool) => {
                Transaction::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?)
            }
            Database::Postgres(pool) => Transaction::Postgres(pool.begin().await?),
        })
    }

    /// SQLite's journal mode, `synchronous` and `foreign_keys` in force, so
    /// tests can hold the durability promise to account.
    pub async fn sqlite_pragmas(&self) -> Result<(String, i64, i64), StorageError> {
        let Database::Sqlite(_) = self else {
            return Err(anyhow::anyhow!("pragmas are SQLite's").into());
        };
        // One connection for all three: pragmas are per connection.
        let mut connection = self.acquire().await?;
        let row: PragmaRow = connection
            .connection()
            .fetch_optional(Query::new(
                "SELECT journal_mode, synchronous, foreign_keys
                 FROM pragma_journal_mode(), pragma_synchronous(), pragma_foreign_keys()",
            ))
            .await?
            .ok_or(StorageError::NotFound)?;
        Ok((row.journal_mode, row.synchronous, row.foreign_keys))
    }

    /// Answers when the database can serve queries (the readiness check).
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.execute(Query::new("SELECT 1")).await.map(|_| ())
    }

    /// How much is stored, across the domains, for operators and tests.
    pub async fn statistics(&self) -> Result<StoreStatistics, StorageError> {
        let row: StatisticsRow = self
            .fetch_one(Query::new(
                "SELECT (SELECT COUNT(*) FROM citizen) AS citizens,
                     (SELECT COUNT(*) FROM letter) AS letters,
                     (SELECT COUNT(*) FROM document) AS documents,
                     (SELECT COUNT(*) FROM krr_person) AS register_entries,
                     (SELECT COUNT(*) FROM inline_blob) AS inline_blobs",
            ))
            .await?;
        Ok(StoreStatistics {
            citizens: count(row.citizens),
            letters: count(row.letters),
            documents: count(row.documents),
            register_entries: count(row.register_entries),
            inline_blobs: count(row.inline_blobs),
        })
    }

    async fn acquire(&self) -> Result<Pooled, StorageError> {
        Ok(match self {
            Database::Sqlite(pool) => Pooled::Sqlite(pool.acquire().await?),
            Database::Postgres(pool) => Pooled::Postgres(pool.acquire().await?),
        })
    }
}

/// WAL with `synchronous=FULL`: in WAL mode `NORMAL` can lose the last
/// commits on power loss, and a letter must never be acknowledged and then
/// lost. Foreign keys are on (SQLite's default is off).
async fn connect_sqlite(options: &DatabaseOptions) -> anyhow::Result<SqlitePool> {
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
        // A COMMIT that fails (a disk that cannot sync) can leave sqlx
        // believing the connection is still in its transaction, and every
        // later BEGIN on it fails. Such a connection is closed rather than
        // handed out again (tests/api/disk_faults.rs).
        .before_acquire(|connection, _| {
            Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(connection)) })
        })
        .connect_with(connect_options)
        .await
        .context("cannot open the SQLite database")?;
    sqlx::migrate!("../migrations/sqlite")
        .run(&pool)
        .await
        .context("cannot apply SQLite migrations")?;
    Ok(pool)
}

async fn connect_postgres(options: &DatabaseOptions) -> anyhow::Result<PgPool> {
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
    Ok(pool)
}

/// A row type both backends decode: a struct that derives `sqlx::FromRow`,
/// or a tuple such as `(i64,)` for one column.
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

/// A statement: SQL text with `$n` placeholders and the values bound to them,
/// in order. Values are always bound, never spliced into the text.
pub struct Query<'s> {
    sql: Cow<'s, str>,
    args: Vec<Value>,
}

impl<'s> Query<'s> {
    pub fn new(sql: impl Into<Cow<'s, str>>) -> Self {
        Self {
            sql: sql.into(),
            args: Vec::new(),
        }
    }

    /// Binds the next placeholder.
    pub fn bind(mut self, value: impl Into<Value>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Appends `VALUES ($n, ...), ...` with one tuple per row, numbering the
    /// placeholders after those already bound and binding the rows' values.
    /// Every row must have the same number of values.
    pub fn values(mut self, rows: impl IntoIterator<Item = Vec<Value>>) -> Self {
        let mut sql = String::from(std::mem::take(&mut self.sql));
        sql.push_str(" VALUES ");
        for (index, row) in rows.into_iter().enumerate() {
            if index > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for (column, value) in row.into_iter().enumerate() {
                if column > 0 {
                    sql.push_str(", ");
                }
                self.args.push(value);
                sql.push_str(&format!("${}", self.args.len()));
            }
            sql.push(')');
        }
        self.sql = Cow::Owned(sql);
        self
    }

    /// Appends more SQL text.
    pub fn push(mut self, text: &str) -> Self {
        self.sql.to_mut().push_str(text);
        self
    }

    fn into_parts(self) -> (Cow<'s, str>, SqlxValues) {
        (self.sql, SqlxValues(sea_query::Values(self.args)))
    }
}

/// Rows per multi-row `INSERT`: with at most 16 columns, 500 rows stay well
/// within both databases' limits on bound parameters (SQLite 32,766,
/// PostgreSQL 65,535).
const ROWS_PER_INSERT: usize = 500;

/// Runs `<head> VALUES (...), (...) <tail>` inside the transaction, one
/// statement per [`ROWS_PER_INSERT`] rows; nothing for no rows. One round trip
/// per table rather than per row is what lets a group of 256 letters commit
/// in a few milliseconds, most of all on PostgreSQL. Returns the number of
/// rows written.
async fn insert_rows(
    transaction: &mut Transaction,
    head: &str,
    rows: Vec<Vec<Value>>,
    tail: &str,
) -> Result<u64, StorageError> {
    // The rows come collected: an iterator of borrowing closures held across
    // the awaits below would keep the future from being `Send`.
    let mut rows = rows.into_iter().peekable();
    let mut written = 0;
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Value>> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        written += transaction
            .execute(Query::new(head).values(chunk).push(tail))
            .await?;
    }
    Ok(written)
}

/// A security level read back from its number; rows were checked on the way in.
fn stored_level(number: i32) -> Result<app::domain::SecurityLevel, StorageError> {
    app::domain::SecurityLevel::try_from(i64::from(number))
        .map_err(|_| StorageError::corrupt("security level"))
}

/// A count from SQL, which is never negative.
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

/// Where a letter lies, from its `folder_id`, `archived` and `deleted_at`.
fn place_from_sql(
    folder_id: Option<uuid::Uuid>,
    archived: bool,
    deleted_at: Option<chrono::DateTime<chrono::Utc>>,
) -> app::domain::Place {
    use app::domain::{FolderId, Place};
    match (deleted_at, folder_id) {
        (Some(_), _) => Place::Trash,
        (None, Some(folder)) => Place::Folder(FolderId::from_uuid(folder)),
        (None, None) if archived => Place::Archive,
        (None, None) => Place::Inbox,
    }
}

/// `$first, $first+1, ...`: `count` placeholders for an `IN (...)` list.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|number| format!("${number}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An open transaction; dropped without [`Transaction::commit`], it rolls back.
pub enum Transaction {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Transaction {
    pub async fn execute(&mut self, query: Query<'_>) -> Result<u64, StorageError> {
        self.connection().execute(query).await
    }

    pub async fn fetch_all<R: Row>(&mut self, query: Query<'_>) -> Result<Vec<R>, StorageError> {
        self.connection().fetch_all(query).await
    }

    pub async fn fetch_optional<R: Row>(
        &mut self,
        query: Query<'_>,
    ) -> Result<Option<R>, StorageError> {
        self.connection().fetch_optional(query).await
    }

    pub async fn commit(self) -> Result<(), StorageError> {
        match self {
            Transaction::Sqlite(transaction) => transaction.commit().await?,
            Transaction::Postgres(transaction) => transaction.commit().await?,
        }
        Ok(())
    }

    fn connection(&mut self) -> Connection<'_> {
        match self {
            Transaction::Sqlite(transaction) => Connection::Sqlite(transaction),
            Transaction::Postgres(transaction) => Connection::Postgres(transaction),
        }
    }
}

/// A connection taken from the pool for one statement.
enum Pooled {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Pooled {
    fn connection(&mut self) -> Connection<'_> {
        match self {
            Pooled::Sqlite(connection) => Connection::Sqlite(connection),
            Pooled::Postgres(connection) => Connection::Postgres(connection),
        }
    }
}

/// Where a statement runs: the one place that picks the driver.
enum Connection<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl Connection<'_> {
    async fn execute(self, query: Query<'_>) -> Result<u64, StorageError> {
        let (sql, args) = query.into_parts();
        let done = match self {
            Connection::Sqlite(connection) => sqlx::query_with(&sql, args)
                .execute(connection)
                .await?
                .rows_affected(),
            Connection::Postgres(connection) => sqlx::query_with(&sql, args)
                .execute(connection)
                .await?
                .rows_affected(),
        };
        Ok(done)
    }

    async fn fetch_all<R: Row>(self, query: Query<'_>) -> Result<Vec<R>, StorageError> {
        let (sql, args) = query.into_parts();
        let rows = match self {
            Connection::Sqlite(connection) => {
                sqlx::query_as_with(&sql, args)
                    .fetch_all(connection)
                    .await?
            }
            Connection::Postgres(connection) => {
                sqlx::query_as_with(&sql, args)
                    .fetch_all(connection)
                    .await?
            }
        };
        Ok(rows)
    }

    async fn fetch_optional<R: Row>(self, query: Query<'_>) -> Result<Option<R>, StorageError> {
        let (sql, args) = query.into_parts();
        let row = match self {
            Connection::Sqlite(connection) => {
                sqlx::query_as_with(&sql, args)
                    .fetch_optional(connection)
                    .await?
            }
            Connection::Postgres(connection) => {
                sqlx::query_as_with(&sql, args)
                    .fetch_optional(connection)
                    .await?
            }
        };
        Ok(row)
    }
}

/// The condition a power of attorney puts on letter `l`: none when
/// parameter `$power` is NULL (the owner reads); otherwise the power is the
/// owner's, in force at parameter `$now`, and reaches the letter's sender.
pub(super) fn within_power(power: u8, now: u8) -> String {
    format!(
        "(${power} IS NULL OR EXISTS (
             SELECT 1 FROM fullmakt f
             WHERE f.id = ${power} AND f.principal_fnr = l.recipient_fnr
               AND f.ended_at IS NULL AND f.ends_at > ${now}
               AND (f.all_senders OR EXISTS (
                   SELECT 1 FROM fullmakt_sender fs
                   WHERE fs.fullmakt_id = f.id AND fs.org_nr = l.sender_org_nr))))"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_number_their_placeholders_after_those_bound() {
        let query = Query::new("INSERT INTO t (a, b)")
            .bind(1_i64)
            .values([
                vec![Value::from("x"), Value::from(2_i64)],
                vec![Value::from("y"), Value::from(3_i64)],
            ])
            .push(" RETURNING a");
        assert_eq!(
            query.sql,
            "INSERT INTO t (a, b) VALUES ($2, $3), ($4, $5) RETURNING a"
        );
        assert_eq!(query.args.len(), 5);
    }

    #[test]
    fn placeholders_count_from_the_first() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
        assert_eq!(placeholders(1, 0), "");
    }
}
