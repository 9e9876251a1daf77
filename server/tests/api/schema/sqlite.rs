//! Reads a SQLite database's schema into a [`Schema`] through its pragmas
//! (`table_info`, `index_list`, `index_xinfo`, `foreign_key_list`).

use super::description::{Column, ForeignKey, Index, Schema, Table, TypeFamily};
use sqlx::SqliteConnection;

/// Every table but SQLite's own (`sqlite_*`) and sqlx's bookkeeping.
pub async fn read_sqlite_schema(connection: &mut SqliteConnection) -> sqlx::Result<Schema> {
    let table_names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master
         WHERE type = 'table' AND name NOT GLOB 'sqlite_*' AND name <> '_sqlx_migrations'
         ORDER BY name",
    )
    .fetch_all(&mut *connection)
    .await?;
    let mut schema = Schema::empty("sqlite");
    for name in table_names {
        let table = read_table(connection, &name).await?;
        schema.tables.insert(name, table);
    }
    Ok(schema)
}

async fn read_table(connection: &mut SqliteConnection, table_name: &str) -> sqlx::Result<Table> {
    let mut table = Table::default();

    // (name, declared type, NOT NULL, position in the primary key or 0)
    let columns: Vec<(String, String, bool, i64)> = sqlx::query_as(
        r#"SELECT name, type, "notnull", pk FROM pragma_table_info(?1) ORDER BY cid"#,
    )
    .bind(table_name)
    .fetch_all(&mut *connection)
    .await?;
    let mut primary_key: Vec<(i64, String)> = columns
        .iter()
        .filter(|(_, _, _, key_position)| *key_position > 0)
        .map(|(name, _, _, key_position)| (*key_position, name.clone()))
        .collect();
    primary_key.sort();
    table.primary_key = primary_key.into_iter().map(|(_, name)| name).collect();

    for (name, declared_type, not_null, _) in columns {
        // `id INTEGER PRIMARY KEY` is the rowid: pragma_table_info reports it
        // nullable, yet a NULL written to it becomes the next id, so it never holds one.
        let is_rowid =
            table.primary_key == [name.as_str()] && declared_type.eq_ignore_ascii_case("INTEGER");
        table.columns.insert(
            name,
            Column {
                family: TypeFamily::of_sqlite_type(&declared_type),
                declared_type,
                nullable: !not_null && !is_rowid,
            },
        );
    }

    // origin: 'c' = CREATE INDEX, 'u' = a UNIQUE constraint, 'pk' = the primary key.
    let indexes: Vec<(String, bool, String, bool)> =
        sqlx::query_as(r#"SELECT name, "unique", origin, partial FROM pragma_index_list(?1)"#)
            .bind(table_name)
            .fetch_all(&mut *connection)
            .await?;
    for (index_name, unique, origin, partial) in indexes {
        match origin.as_str() {
            "pk" => {} // already read from table_info
            "u" => {
                let columns = index_columns(connection, &index_name, false).await?;
                table.unique_keys.insert(columns);
            }
            _ => {
                let columns = index_columns(connection, &index_name, true).await?;
                table.indexes.insert(
                    index_name,
                    Index {
                        columns,
                        unique,
                        partial,
                    },
                );
            }
        }
    }

    // One row per column of each foreign key; `id` groups them, `seq` orders them.
    let references: Vec<(i64, String, String, Option<String>, String)> = sqlx::query_as(
        r#"SELECT id, "table", "from", "to", on_delete FROM pragma_foreign_key_list(?1)
           ORDER BY id, seq"#,
    )
    .bind(table_name)
    .fetch_all(&mut *connection)
    .await?;
    let mut foreign_keys: Vec<(i64, ForeignKey)> = Vec::new();
    for (id, referenced_table, column, referenced_column, on_delete) in references {
        if foreign_keys.last().map(|(last_id, _)| *last_id) != Some(id) {
            foreign_keys.push((
                id,
                ForeignKey {
                    columns: Vec::new(),
                    referenced_table,
                    referenced_columns: Vec::new(),
                    on_delete,
                },
            ));
        }
        let (_, foreign_key) = foreign_keys.last_mut().expect("just pushed");
        foreign_key.columns.push(column);
        // `to` is NULL when the REFERENCES clause named no columns: then it is
        // the referenced table's primary key, which is filled in below.
        if let Some(referenced_column) = referenced_column {
            foreign_key.referenced_columns.push(referenced_column);
        }
    }
    for (_, mut foreign_key) in foreign_keys {
        if foreign_key.referenced_columns.is_empty() {
            foreign_key.referenced_columns =
                primary_key_of(connection, &foreign_key.referenced_table).await?;
        }
        table.foreign_keys.insert(foreign_key);
    }

    Ok(table)
}

/// The key columns of an index in order; with `with_order`, descending ones
/// say `DESC` (a UNIQUE constraint's columns have no order to tell).
async fn index_columns(
    connection: &mut SqliteConnection,
    index_name: &str,
    with_order: bool,
) -> sqlx::Result<Vec<String>> {
    // `key = 0` rows are the rowid and other columns SQLite adds itself.
    let columns: Vec<(Option<String>, bool)> = sqlx::query_as(
        r#"SELECT name, "desc" FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno"#,
    )
    .bind(index_name)
    .fetch_all(&mut *connection)
    .await?;
    Ok(columns
        .into_iter()
        .map(|(name, descending)| {
            // No name: the key is an expression such as lower(name).
            let name = name.unwrap_or_else(|| "(expression)".to_owned());
            if with_order && descending {
                format!("{name} DESC")
            } else {
                name
            }
        })
        .collect())
}

async fn primary_key_of(
    connection: &mut SqliteConnection,
    table_name: &str,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")
        .bind(table_name)
        .fetch_all(&mut *connection)
        .await
}
