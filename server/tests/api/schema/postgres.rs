//! Reads a PostgreSQL database's schema (`public`) into a [`Schema`], from
//! `information_schema` for the columns and `pg_catalog` for keys and indexes.

use super::description::{Column, ForeignKey, Index, Schema, TypeFamily};
use sqlx::PgConnection;

/// Every base table in `public` but sqlx's bookkeeping. Catalog names are
/// cast to `text` because sqlx decodes `String` only from text types.
pub async fn read_postgres_schema(connection: &mut PgConnection) -> sqlx::Result<Schema> {
    let mut schema = Schema::empty("postgres");

    let columns: Vec<(String, String, String, bool)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text,
                c.is_nullable = 'YES'
         FROM information_schema.columns c
         JOIN information_schema.tables t
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
           AND c.table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut *connection)
    .await?;
    for (table_name, column_name, data_type, nullable) in columns {
        schema.tables.entry(table_name).or_default().columns.insert(
            column_name,
            Column {
                family: TypeFamily::of_postgres_type(&data_type),
                declared_type: data_type,
                nullable,
            },
        );
    }

    // Primary keys ('p') and UNIQUE constraints ('u'), columns in key order.
    let keys: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "SELECT rel.relname::text, con.contype::text,
                array_agg(att.attname::text ORDER BY key.position)
         FROM pg_constraint con
         JOIN pg_class rel ON rel.oid = con.conrelid
         JOIN pg_namespace ns ON ns.oid = rel.relnamespace
         CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS key(attnum, position)
         JOIN pg_attribute att ON att.attrelid = rel.oid AND att.attnum = key.attnum
         WHERE ns.nspname = 'public' AND rel.relname <> '_sqlx_migrations'
           AND con.contype IN ('p', 'u')
         GROUP BY con.oid, rel.relname, con.contype",
    )
    .fetch_all(&mut *connection)
    .await?;
    for (table_name, kind, columns) in keys {
        let table = schema.tables.entry(table_name).or_default();
        if kind == "p" {
            table.primary_key = columns;
        } else {
            table.unique_keys.insert(columns);
        }
    }

    // confdeltype: a = no action, r = restrict, c = cascade, n = set null, d = set default.
    let foreign_keys: Vec<ForeignKeyRow> = sqlx::query_as(
        "SELECT rel.relname::text AS table_name,
                array_agg(att.attname::text ORDER BY key.position) AS columns,
                referenced.relname::text AS referenced_table,
                array_agg(referenced_att.attname::text ORDER BY key.position) AS referenced_columns,
                CASE con.confdeltype
                    WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
                    WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT'
                END AS on_delete
         FROM pg_constraint con
         JOIN pg_class rel ON rel.oid = con.conrelid
         JOIN pg_namespace ns ON ns.oid = rel.relnamespace
         JOIN pg_class referenced ON referenced.oid = con.confrelid
         CROSS JOIN LATERAL unnest(con.conkey, con.confkey)
             WITH ORDINALITY AS key(attnum, referenced_attnum, position)
         JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = key.attnum
         JOIN pg_attribute referenced_att
           ON referenced_att.attrelid = con.confrelid AND referenced_att.attnum = key.referenced_attnum
         WHERE ns.nspname = 'public' AND con.contype = 'f'
         GROUP BY con.oid, rel.relname, referenced.relname, con.confdeltype",
    )
    .fetch_all(&mut *connection)
    .await?;
    for row in foreign_keys {
        schema
            .tables
            .entry(row.table_name)
            .or_default()
            .foreign_keys
            .insert(ForeignKey {
                columns: row.columns,
                referenced_table: row.referenced_table,
                referenced_columns: row.referenced_columns,
                on_delete: row.on_delete,
            });
    }

    // Indexes that back no primary key or UNIQUE constraint: those made by
    // CREATE INDEX. (A foreign key's conindid is the referenced table's key
    // index, so it must not count.) indkey 0 is an expression; bit 1 of
    // indoption (0-based, like indkey) marks a descending column.
    let indexes: Vec<(String, String, bool, bool, Vec<String>)> = sqlx::query_as(
        "SELECT tbl.relname::text, idx.relname::text, i.indisunique, i.indpred IS NOT NULL,
                array_agg(
                    CASE WHEN key.attnum = 0 THEN '(expression)' ELSE att.attname::text END
                    || CASE WHEN i.indoption[(key.position - 1)::int] & 1 = 1 THEN ' DESC' ELSE '' END
                    ORDER BY key.position)
         FROM pg_index i
         JOIN pg_class idx ON idx.oid = i.indexrelid
         JOIN pg_class tbl ON tbl.oid = i.indrelid
         JOIN pg_namespace ns ON ns.oid = tbl.relnamespace
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS key(attnum, position)
         LEFT JOIN pg_attribute att ON att.attrelid = tbl.oid AND att.attnum = key.attnum
         WHERE ns.nspname = 'public' AND tbl.relname <> '_sqlx_migrations'
           AND key.position <= i.indnkeyatts
           AND NOT EXISTS (
               SELECT 1 FROM pg_constraint con
               WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x'))
         GROUP BY i.indexrelid, tbl.relname, idx.relname, i.indisunique, i.indpred IS NOT NULL",
    )
    .fetch_all(&mut *connection)
    .await?;
    for (table_name, index_name, unique, partial, columns) in indexes {
        schema.tables.entry(table_name).or_default().indexes.insert(
            index_name,
            Index {
                columns,
                unique,
                partial,
            },
        );
    }

    Ok(schema)
}

/// One foreign key as the catalog query returns it, columns in key order.
#[derive(sqlx::FromRow)]
struct ForeignKeyRow {
    table_name: String,
    columns: Vec<String>,
    referenced_table: String,
    referenced_columns: Vec<String>,
    on_delete: String,
}
