//! The SQL behind [`Storage`](super::Storage), written once for both backends.
//!
//! SQLite and PostgreSQL accept the same statements here (`$n` placeholders,
//! `ON CONFLICT`, correlated subqueries), and sqlx encodes the same Rust types
//! on both, so one body of code serves both pools: [`impl_sql_storage!`]
//! expands it for each backend type. What differs (connect options, pragmas,
//! migrations) lives in `sqlite.rs` and `postgres.rs`.

use app::domain::DocumentRole;

pub(super) fn role_to_sql(role: DocumentRole) -> &'static str {
    match role {
        DocumentRole::Main => "main",
        DocumentRole::Attachment => "attachment",
    }
}

pub(super) fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

/// Writes letters with their documents inside `$transaction`, opening each
/// recipient's mailbox and recording each sender on first sight: one
/// multi-row `INSERT` per table for the broker's whole commit group. The
/// mailbox's store writes a single letter to the same columns itself
/// (`crate::sql`'s `mailbox::Store::insert_letter`) until the broker moves.
macro_rules! insert_letter_rows {
    ($transaction:expr, $rows:expr) => {{
        let rows: &$crate::storage::broker::LetterRows = $rows;
        $crate::storage::broker::insert_many!(
            $transaction,
            "INSERT INTO citizen (fnr, display_name, created_at) ",
            rows.citizens,
            " ON CONFLICT (fnr) DO NOTHING",
            |row, (fnr, at)| {
                row.push_bind(*fnr).push_bind(None::<&str>).push_bind(*at);
            }
        );
        $crate::storage::broker::insert_many!(
            $transaction,
            "INSERT INTO sender (org_nr, name) ",
            rows.senders,
            " ON CONFLICT (org_nr) DO UPDATE SET name = excluded.name",
            |row, (org_nr, name)| {
                row.push_bind(*org_nr).push_bind(*name);
            }
        );
        $crate::storage::broker::insert_many!(
            $transaction,
            "INSERT INTO letter (id, message_id, conversation_id, sender_org_nr,
                 recipient_fnr, nonsensitive_title, title, security_level, received_at,
                 read_at, effective_at, opening_receipt, language) ",
            rows.letters,
            "",
            |row, (letter, terms)| {
                row.push_bind(letter.id.as_uuid())
                    .push_bind(letter.message_id.as_uuid())
                    .push_bind(letter.conversation_id.as_uuid())
                    .push_bind(letter.sender.org_nr.as_str())
                    .push_bind(letter.recipient.as_str())
                    .push_bind(letter.nonsensitive_title.as_str())
                    .push_bind(letter.title.as_str())
                    .push_bind(i32::from(letter.security_level.as_number()))
                    .push_bind(letter.received_at)
                    .push_bind(letter.read_at)
                    .push_bind(terms.effective_at)
                    .push_bind(terms.opening_receipt)
                    .push_bind(terms.language.as_deref());
            }
        );
        $crate::storage::broker::insert_many!(
            $transaction,
            "INSERT INTO document (letter_id, position, role, title, file_name,
                 media_type, sha256, size_bytes) ",
            rows.documents,
            "",
            |row, (letter_id, position, size_bytes, document)| {
                row.push_bind(*letter_id)
                    .push_bind(*position)
                    .push_bind($crate::storage::sql::role_to_sql(document.role))
                    .push_bind(document.title.as_str())
                    .push_bind(document.file_name.as_str())
                    .push_bind(document.media_type.as_mime())
                    .push_bind(document.digest.to_hex())
                    .push_bind(*size_bytes);
            }
        );
    }};
}

pub(super) use insert_letter_rows;

/// Implements [`Storage`](super::Storage) for a type with a `pool` field of a
/// sqlx pool, given its [`Backend`](super::Backend).
macro_rules! impl_sql_storage {
    ($storage:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl $crate::storage::Storage for $storage {
            fn backend(&self) -> $crate::storage::Backend {
                $backend
            }

            async fn ping(&self) -> Result<(), $crate::storage::StorageError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn statistics(
                &self,
            ) -> Result<$crate::storage::StoreStatistics, $crate::storage::StorageError> {
                let (citizens, letters, documents, register_entries, inline_blobs): (i64, i64, i64, i64, i64) =
                    sqlx::query_as(
                        "SELECT (SELECT COUNT(*) FROM citizen), (SELECT COUNT(*) FROM letter),
                             (SELECT COUNT(*) FROM document), (SELECT COUNT(*) FROM krr_person),
                             (SELECT COUNT(*) FROM inline_blob)",
                    )
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::storage::StoreStatistics {
                    citizens: $crate::storage::sql::count(citizens),
                    letters: $crate::storage::sql::count(letters),
                    documents: $crate::storage::sql::count(documents),
                    register_entries: $crate::storage::sql::count(register_entries),
                    inline_blobs: $crate::storage::sql::count(inline_blobs),
                })
            }
        }
    };
}

pub(super) use impl_sql_storage;
