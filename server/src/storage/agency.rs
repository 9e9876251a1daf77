//! The agencies' part of the storage boundary: registered agencies (the
//! Maskinporten-style clients) and the grant ids they have spent.
//!
//! Like the rest of [`Storage`](super::Storage), one body of SQL serves SQLite
//! and PostgreSQL: [`impl_sql_agency!`] expands it for each backend.

use super::StorageError;
use crate::agency::registry::{Agency, Callback};
use anyhow::anyhow;
use app::domain::OrgNr;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;

#[async_trait]
pub trait AgencyStorage: Send + Sync + 'static {
    /// Registers the agency, or replaces everything stored for its
    /// organisation number. A client id another agency has is a
    /// [`StorageError::Conflict`].
    async fn upsert_agency(&self, agency: &Agency, at: DateTime<Utc>) -> Result<(), StorageError>;

    async fn agency_by_client_id(&self, client_id: &str) -> Result<Option<Agency>, StorageError>;

    async fn agency_by_org_nr(&self, org_nr: &OrgNr) -> Result<Option<Agency>, StorageError>;

    /// Every registered agency, by name.
    async fn agencies(&self) -> Result<Vec<Agency>, StorageError>;

    /// Spends the grant id: `true` the first time, `false` when the client
    /// already used it. Forgets ids whose grants expired by `now`, since an
    /// expired grant is refused anyway.
    async fn use_grant_jti(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
}

fn corrupt(what: &str) -> StorageError {
    StorageError::Other(anyhow!("stored agency {what} does not parse"))
}

pub(super) const AGENCY_COLUMNS: &str = "org_nr, name, client_id, public_key_pem,
    avsenderidentifikatorer, callback_url, callback_secret";

#[derive(sqlx::FromRow)]
pub(super) struct AgencyRow {
    org_nr: String,
    name: String,
    client_id: String,
    public_key_pem: String,
    avsenderidentifikatorer: String,
    callback_url: Option<String>,
    callback_secret: Option<String>,
}

impl AgencyRow {
    pub fn into_agency(self) -> Result<Agency, StorageError> {
        let callback = match (self.callback_url, self.callback_secret) {
            (Some(url), Some(secret)) => Some(Callback {
                url: url::Url::parse(&url).map_err(|_| corrupt("callback URL"))?,
                secret: SecretString::from(secret),
            }),
            _ => None,
        };
        Ok(Agency {
            org_nr: OrgNr::parse(&self.org_nr).map_err(|_| corrupt("org number"))?,
            name: self.name,
            client_id: self.client_id,
            public_key_pem: self.public_key_pem,
            avsenderidentifikatorer: serde_json::from_str(&self.avsenderidentifikatorer)
                .map_err(|_| corrupt("avsenderidentifikatorer"))?,
            callback,
        })
    }
}

/// The sender ids as the JSON array text the column holds.
pub(super) fn avsenderidentifikatorer_json(agency: &Agency) -> String {
    serde_json::Value::from(agency.avsenderidentifikatorer.clone()).to_string()
}

/// Implements [`AgencyStorage`] for a type with a `pool` field of a sqlx pool.
macro_rules! impl_sql_agency {
    ($storage:ty) => {
        #[async_trait::async_trait]
        impl $crate::storage::agency::AgencyStorage for $storage {
            async fn upsert_agency(
                &self,
                agency: &$crate::agency::registry::Agency,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::storage::StorageError> {
                use secrecy::ExposeSecret;
                sqlx::query(
                    "INSERT INTO agency (org_nr, name, client_id, public_key_pem,
                         avsenderidentifikatorer, callback_url, callback_secret, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (org_nr) DO UPDATE SET name = excluded.name,
                         client_id = excluded.client_id, public_key_pem = excluded.public_key_pem,
                         avsenderidentifikatorer = excluded.avsenderidentifikatorer,
                         callback_url = excluded.callback_url,
                         callback_secret = excluded.callback_secret",
                )
                .bind(agency.org_nr.as_str())
                .bind(&agency.name)
                .bind(&agency.client_id)
                .bind(&agency.public_key_pem)
                .bind($crate::storage::agency::avsenderidentifikatorer_json(agency))
                .bind(agency.callback.as_ref().map(|callback| callback.url.to_string()))
                .bind(
                    agency
                        .callback
                        .as_ref()
                        .map(|callback| callback.secret.expose_secret().to_owned()),
                )
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn agency_by_client_id(
                &self,
                client_id: &str,
            ) -> Result<Option<$crate::agency::registry::Agency>, $crate::storage::StorageError> {
                use $crate::storage::agency::{AgencyRow, AGENCY_COLUMNS};
                let sql = format!("SELECT {AGENCY_COLUMNS} FROM agency WHERE client_id = $1");
                let row: Option<AgencyRow> = sqlx::query_as(&sql)
                    .bind(client_id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(AgencyRow::into_agency).transpose()
            }

            async fn agency_by_org_nr(
                &self,
                org_nr: &app::domain::OrgNr,
            ) -> Result<Option<$crate::agency::registry::Agency>, $crate::storage::StorageError> {
                use $crate::storage::agency::{AgencyRow, AGENCY_COLUMNS};
                let sql = format!("SELECT {AGENCY_COLUMNS} FROM agency WHERE org_nr = $1");
                let row: Option<AgencyRow> = sqlx::query_as(&sql)
                    .bind(org_nr.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(AgencyRow::into_agency).transpose()
            }

            async fn agencies(
                &self,
            ) -> Result<Vec<$crate::agency::registry::Agency>, $crate::storage::StorageError> {
                use $crate::storage::agency::{AgencyRow, AGENCY_COLUMNS};
                let sql = format!("SELECT {AGENCY_COLUMNS} FROM agency ORDER BY name, org_nr");
                let rows: Vec<AgencyRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
                rows.into_iter().map(AgencyRow::into_agency).collect()
            }

            async fn use_grant_jti(
                &self,
                client_id: &str,
                jti: &str,
                expires_at: chrono::DateTime<chrono::Utc>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<bool, $crate::storage::StorageError> {
                sqlx::query("DELETE FROM grant_jti WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                // The primary key decides: of two concurrent uses, one inserts.
                let inserted = sqlx::query(
                    "INSERT INTO grant_jti (client_id, jti, expires_at) VALUES ($1, $2, $3)
                     ON CONFLICT (client_id, jti) DO NOTHING",
                )
                .bind(client_id)
                .bind(jti)
                .bind(expires_at)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(inserted == 1)
            }
        }
    };
}

pub(super) use impl_sql_agency;
