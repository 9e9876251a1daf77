//! One neutral description of a database schema, the same shape whichever
//! backend it was read from, so that two of them can be compared field by field.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Every table the migrations made, by name, as read from one backend.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// `"sqlite"` or `"postgres"`: the differences name the side they found a thing on.
    pub backend: &'static str,
    pub tables: BTreeMap<String, Table>,
}

impl Schema {
    pub fn empty(backend: &'static str) -> Schema {
        Schema {
            backend,
            tables: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: BTreeMap<String, Column>,
    /// The primary key's columns in key order; empty when the table has none.
    pub primary_key: Vec<String>,
    /// UNIQUE constraints, each its columns in order. A `CREATE UNIQUE INDEX`
    /// is an index, not one of these, on both backends.
    pub unique_keys: BTreeSet<Vec<String>>,
    pub foreign_keys: BTreeSet<ForeignKey>,
    /// Indexes made by `CREATE INDEX`, by name. Those that back a primary key
    /// or UNIQUE constraint are left out: each backend names them its own way
    /// (`sqlite_autoindex_letter_1`, `letter_pkey`) and the keys are compared above.
    pub indexes: BTreeMap<String, Index>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The type as the backend reports it; only shown in messages, since the
    /// names differ between backends by nature. `family` is what is compared.
    pub declared_type: String,
    pub family: TypeFamily,
    pub nullable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub referenced_table: String,
    pub referenced_columns: Vec<String>,
    /// `NO ACTION`, `RESTRICT`, `CASCADE`, `SET NULL` or `SET DEFAULT`.
    pub on_delete: String,
}

impl fmt::Display for ForeignKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} -> {} {} ON DELETE {}",
            column_list(&self.columns),
            self.referenced_table,
            column_list(&self.referenced_columns),
            self.on_delete
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    /// The key columns in order, `name` or `name DESC`. A key that is an
    /// expression (`lower(name)`) is `(expression)`: SQLite's pragmas do not
    /// give its text, and the backends would print it differently anyway.
    pub columns: Vec<String>,
    pub unique: bool,
    /// Whether it has a `WHERE` clause. The predicate's text is not compared,
    /// for the same reason as expressions.
    pub partial: bool,
}

impl fmt::Display for Index {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unique {
            formatter.write_str("UNIQUE ")?;
        }
        formatter.write_str(&column_list(&self.columns))?;
        if self.partial {
            formatter.write_str(" WHERE …")?;
        }
        Ok(())
    }
}

/// `(a, b)`, or `(none)` for an empty list (a table without a primary key).
pub fn column_list(columns: &[String]) -> String {
    if columns.is_empty() {
        "(none)".to_owned()
    } else {
        format!("({})", columns.join(", "))
    }
}

/// What kind of value a column holds, in terms both backends can be put in.
///
/// A family is the SQLite storage class the value is kept as. SQLite is the
/// coarser side: its STRICT tables (all of ours) accept only INTEGER, REAL,
/// TEXT, BLOB and ANY, so a PostgreSQL column belongs to the family of the
/// SQLite column the same Rust value is stored in. sqlx encodes the types the
/// storage code binds like this on SQLite:
///
/// | PostgreSQL                                  | family  | why                                                        |
/// |---------------------------------------------|---------|------------------------------------------------------------|
/// | `text`, `character varying`, `character`    | text    |                                                            |
/// | `json`, `jsonb`                             | text    | JSON is text on SQLite                                     |
/// | `timestamp with time zone`, `timestamp …`, `date`, `time …` | text | chrono values are RFC 3339 text on SQLite (`received_at TEXT` ~ `TIMESTAMPTZ`) |
/// | `smallint`, `integer`, `bigint`             | integer | SQLite has one 64-bit INTEGER (`INTEGER PRIMARY KEY` ~ `BIGINT … IDENTITY`) |
/// | `boolean`                                   | integer | a `bool` is 0 or 1 on SQLite (`archived INTEGER CHECK (archived IN (0, 1))` ~ `BOOLEAN`) |
/// | `bytea`                                     | blob    |                                                            |
/// | `uuid`                                      | blob    | a `uuid::Uuid` is 16 bytes on SQLite (`id BLOB` ~ `UUID`)  |
/// | `real`, `double precision`                  | real    |                                                            |
///
/// Any other type is [`TypeFamily::Unmapped`] and equals only the same
/// spelling on the other side; a new type in the migrations belongs in this table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeFamily {
    Text,
    Integer,
    Real,
    Blob,
    /// The declared type, lower-cased.
    Unmapped(String),
}

impl fmt::Display for TypeFamily {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeFamily::Text => formatter.write_str("text"),
            TypeFamily::Integer => formatter.write_str("integer"),
            TypeFamily::Real => formatter.write_str("real"),
            TypeFamily::Blob => formatter.write_str("blob"),
            TypeFamily::Unmapped(declared) => write!(formatter, "unmapped {declared}"),
        }
    }
}

impl TypeFamily {
    /// SQLite's own rules for a declared type's affinity
    /// (<https://sqlite.org/datatype3.html#determination_of_column_affinity>),
    /// checked in the same order. In STRICT tables only INT, INTEGER, REAL,
    /// TEXT, BLOB and ANY can be declared; the rules cover the others too.
    pub fn of_sqlite_type(declared: &str) -> TypeFamily {
        let upper = declared.to_ascii_uppercase();
        if upper.contains("INT") {
            TypeFamily::Integer
        } else if ["CHAR", "CLOB", "TEXT"]
            .iter()
            .any(|word| upper.contains(word))
        {
            TypeFamily::Text
        } else if upper.contains("BLOB") || upper.is_empty() {
            TypeFamily::Blob
        } else if ["REAL", "FLOA", "DOUB"]
            .iter()
            .any(|word| upper.contains(word))
        {
            TypeFamily::Real
        } else {
            // NUMERIC affinity (and ANY): no PostgreSQL type is stored that way.
            TypeFamily::Unmapped(declared.to_ascii_lowercase())
        }
    }

    /// The family of a PostgreSQL type as `information_schema.columns.data_type`
    /// spells it; see the table on [`TypeFamily`].
    pub fn of_postgres_type(data_type: &str) -> TypeFamily {
        match data_type {
            "text" | "character varying" | "character" | "json" | "jsonb" => TypeFamily::Text,
            "timestamp with time zone"
            | "timestamp without time zone"
            | "date"
            | "time with time zone"
            | "time without time zone" => TypeFamily::Text,
            "smallint" | "integer" | "bigint" | "boolean" => TypeFamily::Integer,
            "bytea" | "uuid" => TypeFamily::Blob,
            "real" | "double precision" => TypeFamily::Real,
            other => TypeFamily::Unmapped(other.to_ascii_lowercase()),
        }
    }
}
