//! The print service's store in SQL: postal addresses and the print queue.
//! Jobs are inserted by the broker's group commit, with the message they
//! belong to, and marked posted by the broker (see `sql/broker.rs`).

use super::{insert_rows, Database, Query};
use crate::{
    print::{self, PostalAddress, PrintJob, PrintOrder},
    store::StorageError,
};
use app::domain::{Fnr, MessageId, OrgNr, Sha256Digest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::Value;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct PrintJobRow {
    message_row: Uuid,
    message_id: Uuid,
    agency_org_nr: String,
    print_order: String,
    package_sha256: String,
    created_at: DateTime<Utc>,
    printed_at: Option<DateTime<Utc>>,
}

impl PrintJobRow {
    fn into_job(self) -> Result<PrintJob, StorageError> {
        Ok(PrintJob {
            message_row: self.message_row,
            message_id: MessageId::from_uuid(self.message_id),
            agency: OrgNr::parse(&self.agency_org_nr)
                .map_err(|_| StorageError::corrupt("org number"))?,
            order: serde_json::from_str(&self.print_order)
                .map_err(|_| StorageError::corrupt("print order"))?,
            package: Sha256Digest::from_hex(&self.package_sha256)
                .ok_or_else(|| StorageError::corrupt("digest"))?,
            created_at: self.created_at,
            printed_at: self.printed_at,
        })
    }
}

/// A print order as its stored JSON.
pub(super) fn order_to_json(order: &PrintOrder) -> Result<String, StorageError> {
    serde_json::to_string(order).map_err(|error| StorageError::Other(error.into()))
}

#[async_trait]
impl print::Store for Database {
    async fn postal_address(&self, fnr: &Fnr) -> Result<Option<PostalAddress>, StorageError> {
        let row: Option<(String,)> = self
            .fetch_optional(
                Query::new("SELECT address FROM postal_address WHERE fnr = $1").bind(fnr.as_str()),
            )
            .await?;
        row.map(|(text,)| {
            serde_json::from_str(&text).map_err(|_| StorageError::corrupt("postal address"))
        })
        .transpose()
    }

    async fn set_postal_address(
        &self,
        fnr: &Fnr,
        address: &PostalAddress,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let address =
            serde_json::to_string(address).map_err(|error| StorageError::Other(error.into()))?;
        self.execute(
            Query::new(
                "INSERT INTO postal_address (fnr, address, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (fnr) DO UPDATE
                 SET address = excluded.address, updated_at = excluded.updated_at",
            )
            .bind(fnr.as_str())
            .bind(address)
            .bind(at),
        )
        .await?;
        Ok(())
    }

    async fn set_postal_addresses(
        &self,
        addresses: &[(Fnr, PostalAddress)],
        at: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let rows = addresses
            .iter()
            .map(|(fnr, address)| {
                let address = serde_json::to_string(address)
                    .map_err(|error| StorageError::Other(error.into()))?;
                Ok(vec![
                    Value::from(fnr.as_str()),
                    Value::from(address),
                    Value::from(at),
                ])
            })
            .collect::<Result<Vec<_>, StorageError>>()?;
        let mut transaction = self.begin_write().await?;
        // An address stored exactly so is left alone, and not counted.
        let written = insert_rows(
            &mut transaction,
            "INSERT INTO postal_address (fnr, address, updated_at)",
            rows,
            " ON CONFLICT (fnr) DO UPDATE
              SET address = excluded.address, updated_at = excluded.updated_at
              WHERE postal_address.address IS DISTINCT FROM excluded.address",
        )
        .await?;
        transaction.commit().await?;
        Ok(written)
    }

    async fn print_jobs(&self, include_printed: bool) -> Result<Vec<PrintJob>, StorageError> {
        let rows: Vec<PrintJobRow> = self
            .fetch_all(
                Query::new(
                    "SELECT p.message_row, m.message_id, m.agency_org_nr, p.print_order,
                         m.package_sha256, p.created_at, p.printed_at
                     FROM print_job p JOIN dpi_message m ON m.id = p.message_row
                     WHERE $1 OR p.printed_at IS NULL
                     ORDER BY p.created_at, p.message_row",
                )
                .bind(include_printed),
            )
            .await?;
        rows.into_iter().map(PrintJobRow::into_job).collect()
    }
}
