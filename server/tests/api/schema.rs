//! Twin migrations cannot drift: `migrations/sqlite/` and `migrations/postgres/`,
//! each applied to a fresh database, must give the same schema.
//!
//! Each backend's schema is read into one neutral [`Schema`] (tables, columns
//! with their type family and nullability, primary and unique keys, foreign
//! keys, indexes) and the two are compared; the failure names every
//! difference. Column types are compared by family, since the backends name
//! the same stored value differently (`TEXT` ~ `TIMESTAMPTZ`, `BLOB` ~ `UUID`,
//! `INTEGER` ~ `BOOLEAN`): the mapping and its reasons are on [`TypeFamily`].
//! What is not compared: CHECK constraints, defaults, the text of index
//! expressions and predicates (the backends spell them differently), column order.

mod description;
mod difference;
mod postgres;
mod sqlite;

use crate::helpers::{Backend, TestDatabase};
use description::{Column, Index, Schema, Table, TypeFamily};
use difference::differences;
use sqlx::{migrate::Migrator, sqlite::SqliteConnectOptions, Connection};
use sqlx::{PgConnection, SqliteConnection};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The migration tree the server embeds for `backend_directory` (`sqlite` or `postgres`).
fn real_migrations(backend_directory: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(backend_directory)
}

/// Applies the two trees to a fresh SQLite and a fresh PostgreSQL database
/// and reads both schemas back; `None` only when PostgreSQL is absent and
/// skipping was asked for (otherwise that absence fails the test).
async fn migrated_schemas(
    sqlite_migrations: &Path,
    postgres_migrations: &Path,
) -> Option<(Schema, Schema)> {
    let postgres_database = TestDatabase::create(Backend::Postgres).await?;
    let sqlite_database = TestDatabase::create(Backend::Sqlite)
        .await
        .expect("SQLite is always there");

    let options = SqliteConnectOptions::from_str(&sqlite_database.url)
        .expect("SQLite URL")
        .create_if_missing(true)
        .foreign_keys(true);
    let mut sqlite = SqliteConnection::connect_with(&options)
        .await
        .expect("open the SQLite database");
    Migrator::new(sqlite_migrations)
        .await
        .expect("read the SQLite migrations")
        .run(&mut sqlite)
        .await
        .expect("apply the SQLite migrations");
    let sqlite_schema = sqlite::read_sqlite_schema(&mut sqlite)
        .await
        .expect("read the SQLite schema");
    sqlite.close().await.expect("close SQLite");

    let mut postgres = PgConnection::connect(&postgres_database.url)
        .await
        .expect("connect to the PostgreSQL test database");
    Migrator::new(postgres_migrations)
        .await
        .expect("read the PostgreSQL migrations")
        .run(&mut postgres)
        .await
        .expect("apply the PostgreSQL migrations");
    let postgres_schema = postgres::read_postgres_schema(&mut postgres)
        .await
        .expect("read the PostgreSQL schema");
    postgres.close().await.expect("close PostgreSQL");

    Some((sqlite_schema, postgres_schema))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_and_postgres_migrations_give_the_same_schema() {
    let Some((sqlite, postgres)) =
        migrated_schemas(&real_migrations("sqlite"), &real_migrations("postgres")).await
    else {
        return;
    };
    assert_read_whole(&sqlite);
    assert_read_whole(&postgres);
    let found = differences(&sqlite, &postgres);
    assert!(
        found.is_empty(),
        "migrations/sqlite and migrations/postgres drifted apart ({} differences):\n  {}",
        found.len(),
        found.join("\n  ")
    );
}

/// A reader that saw nothing would make every comparison pass, so each part
/// of the description must have been found on `letter`, which has them all.
fn assert_read_whole(schema: &Schema) {
    let letter = schema.tables.get("letter").unwrap_or_else(|| {
        panic!(
            "no letter table read from {}: {:?}",
            schema.backend,
            schema.tables.keys().collect::<Vec<_>>()
        )
    });
    assert!(
        letter.columns.contains_key("received_at")
            && letter.primary_key == ["id"]
            && !letter.unique_keys.is_empty()
            && !letter.foreign_keys.is_empty()
            && letter.indexes.contains_key("letter_by_recipient"),
        "{}'s letter table was not read whole: {letter:#?}",
        schema.backend
    );
}

/// Copies a migration tree's files into `destination`.
fn copy_migrations(source: &Path, destination: &Path) {
    std::fs::create_dir_all(destination).expect("create the copy's directory");
    for entry in std::fs::read_dir(source).expect("read the migration tree") {
        let path = entry.expect("a directory entry").path();
        std::fs::copy(
            &path,
            destination.join(path.file_name().expect("a file name")),
        )
        .expect("copy a migration");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_column_added_to_one_tree_only_is_named() {
    let copies = tempfile::tempdir().expect("temporary directory");
    let sqlite_migrations = copies.path().join("sqlite");
    let postgres_migrations = copies.path().join("postgres");
    copy_migrations(&real_migrations("sqlite"), &sqlite_migrations);
    copy_migrations(&real_migrations("postgres"), &postgres_migrations);
    // Numbered after every real migration, so it is applied last.
    std::fs::write(
        sqlite_migrations.join("20991231000000_drift.sql"),
        "ALTER TABLE krr_person ADD COLUMN extra_col TEXT;\n",
    )
    .expect("write the drifting migration");

    let Some((sqlite, postgres)) = migrated_schemas(&sqlite_migrations, &postgres_migrations).await
    else {
        return;
    };
    assert_eq!(
        differences(&sqlite, &postgres),
        ["table krr_person: column extra_col only in sqlite"]
    );
}

#[test]
fn the_differences_name_a_nullability_change_and_a_missing_index() {
    let column = |family: TypeFamily, declared_type: &str, nullable: bool| Column {
        declared_type: declared_type.to_owned(),
        family,
        nullable,
    };
    let mut sqlite_letter = Table {
        primary_key: vec!["id".to_owned()],
        ..Table::default()
    };
    sqlite_letter
        .columns
        .insert("id".to_owned(), column(TypeFamily::Blob, "BLOB", false));
    sqlite_letter
        .columns
        .insert("read_at".to_owned(), column(TypeFamily::Text, "TEXT", true));
    sqlite_letter.indexes.insert(
        "letter_unread".to_owned(),
        Index {
            columns: vec!["read_at".to_owned()],
            unique: false,
            partial: true,
        },
    );

    let mut postgres_letter = Table {
        primary_key: vec!["id".to_owned()],
        ..Table::default()
    };
    postgres_letter
        .columns
        .insert("id".to_owned(), column(TypeFamily::Blob, "uuid", false));
    postgres_letter.columns.insert(
        "read_at".to_owned(),
        column(TypeFamily::Text, "timestamp with time zone", false),
    );

    let mut sqlite = Schema::empty("sqlite");
    sqlite.tables.insert("letter".to_owned(), sqlite_letter);
    let mut postgres = Schema::empty("postgres");
    postgres.tables.insert("letter".to_owned(), postgres_letter);

    assert_eq!(
        differences(&sqlite, &postgres),
        [
            "table letter: column read_at is nullable in sqlite but NOT NULL in postgres",
            "table letter: index letter_unread only in sqlite",
        ]
    );
    assert_eq!(differences(&sqlite, &sqlite), Vec::<String>::new());
}

#[test]
fn type_families_put_each_backends_name_for_a_stored_value_together() {
    let pairs = [
        ("TEXT", "text"),
        ("TEXT", "timestamp with time zone"),
        ("INTEGER", "integer"),
        ("INTEGER", "bigint"),
        ("INTEGER", "boolean"),
        ("BLOB", "bytea"),
        ("BLOB", "uuid"),
    ];
    for (sqlite_type, postgres_type) in pairs {
        assert_eq!(
            TypeFamily::of_sqlite_type(sqlite_type),
            TypeFamily::of_postgres_type(postgres_type),
            "{sqlite_type} ~ {postgres_type}"
        );
    }
    assert_ne!(
        TypeFamily::of_sqlite_type("TEXT"),
        TypeFamily::of_postgres_type("bigint")
    );
    assert_ne!(
        TypeFamily::of_sqlite_type("BLOB"),
        TypeFamily::of_postgres_type("text")
    );
}
