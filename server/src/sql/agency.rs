//! The agency register's store in SQL.

use super::{Database, Query};
use crate::{
    agency::{
        self,
        delegation::Delegation,
        registry::{Agency, Callback},
        StoredAccessToken,
    },
    store::StorageError,
};
use app::domain::OrgNr;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

const AGENCY_COLUMNS: &str = "org_nr, name, client_id, public_key_pem, avsenderidentifikatorer,
    callback_url, callback_secret";

#[derive(sqlx::FromRow)]
struct AgencyRow {
    org_nr: String,
    name: String,
    client_id: String,
    public_key_pem: String,
    /// A JSON array of strings.
    avsenderidentifikatorer: String,
    callback_url: Option<String>,
    callback_secret: Option<String>,
}

impl AgencyRow {
    fn into_agency(self) -> Result<Agency, StorageError> {
        let callback = match (self.callback_url, self.callback_secret) {
            (Some(url), Some(secret)) => Some(Callback {
                url: url::Url::parse(&url)
                    .map_err(|_| StorageError::corrupt("agency callback URL"))?,
                secret: SecretString::from(secret),
            }),
            _ => None,
        };
        Ok(Agency {
            org_nr: OrgNr::parse(&self.org_nr)
                .map_err(|_| StorageError::corrupt("agency org number"))?,
            name: self.name,
            client_id: self.client_id,
            public_key_pem: self.public_key_pem,
            avsenderidentifikatorer: serde_json::from_str(&self.avsenderidentifikatorer)
                .map_err(|_| StorageError::corrupt("agency avsenderidentifikatorer"))?,
            callback,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AccessTokenRow {
    token_hash: String,
    client_name: String,
    org_nr: String,
    /// Space-separated, as in an OAuth `scope`.
    scopes: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl AccessTokenRow {
    fn into_token(self) -> Result<StoredAccessToken, StorageError> {
        Ok(StoredAccessToken {
            token_hash: self.token_hash,
            client_name: self.client_name,
            org_nr: OrgNr::parse(&self.org_nr)
                .map_err(|_| StorageError::corrupt("token org number"))?,
            scopes: self.scopes.split_whitespace().map(str::to_owned).collect(),
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}

impl Database {
    async fn agency_where(
        &self,
        condition: &str,
        value: &str,
    ) -> Result<Option<Agency>, StorageError> {
        let row: Option<AgencyRow> = self
            .fetch_optional(
                Query::new(format!(
                    "SELECT {AGENCY_COLUMNS} FROM agency WHERE {condition} = $1"
                ))
                .bind(value),
            )
            .await?;
        row.map(AgencyRow::into_agency).transpose()
    }
}

#[async_trait]
impl agency::Store for Database {
    async fn upsert_agency(&self, agency: &Agency, at: DateTime<Utc>) -> Result<(), StorageError> {
        let sender_ids =
            serde_json::Value::from(agency.avsenderidentifikatorer.clone()).to_string();
        let callback = agency.callback.as_ref();
        self.execute(
            Query::new(
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
            .bind(agency.name.as_str())
            .bind(agency.client_id.as_str())
            .bind(agency.public_key_pem.as_str())
            .bind(sender_ids)
            .bind(callback.map(|callback| callback.url.to_string()))
            .bind(callback.map(|callback| callback.secret.expose_secret().to_owned()))
            .bind(at),
        )
        .await?;
        Ok(())
    }

    async fn agency_by_client_id(&self, client_id: &str) -> Result<Option<Agency>, StorageError> {
        self.agency_where("client_id", client_id).await
    }

    async fn agency_by_org_nr(&self, org_nr: &OrgNr) -> Result<Option<Agency>, StorageError> {
        self.agency_where("org_nr", org_nr.as_str()).await
    }

    async fn agencies(&self) -> Result<Vec<Agency>, StorageError> {
        let rows: Vec<AgencyRow> = self
            .fetch_all(Query::new(format!(
                "SELECT {AGENCY_COLUMNS} FROM agency ORDER BY name, org_nr"
            )))
            .await?;
        rows.into_iter().map(AgencyRow::into_agency).collect()
    }

    async fn use_grant_jti(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        self.execute(Query::new("DELETE FROM grant_jti WHERE expires_at <= $1").bind(now))
            .await?;
        // The primary key decides: of two concurrent uses, one inserts.
        let inserted = self
            .execute(
                Query::new(
                    "INSERT INTO grant_jti (client_id, jti, expires_at) VALUES ($1, $2, $3)
                     ON CONFLICT (client_id, jti) DO NOTHING",
                )
                .bind(client_id)
                .bind(jti)
                .bind(expires_at),
            )
            .await?;
        Ok(inserted == 1)
    }

    async fn insert_access_token(&self, token: &StoredAccessToken) -> Result<(), StorageError> {
        self.execute(
            Query::new(
                "INSERT INTO access_token (token_hash, client_name, org_nr, scopes, created_at,
                     expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(token.token_hash.as_str())
            .bind(token.client_name.as_str())
            .bind(token.org_nr.as_str())
            .bind(token.scopes.join(" "))
            .bind(token.created_at)
            .bind(token.expires_at),
        )
        .await?;
        Ok(())
    }

    async fn access_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<StoredAccessToken>, StorageError> {
        let row: Option<AccessTokenRow> = self
            .fetch_optional(
                Query::new(
                    "SELECT token_hash, client_name, org_nr, scopes, created_at, expires_at
                     FROM access_token WHERE token_hash = $1",
                )
                .bind(token_hash),
            )
            .await?;
        row.map(AccessTokenRow::into_token).transpose()
    }

    async fn add_delegation(&self, delegation: &Delegation) -> Result<bool, StorageError> {
        let inserted = self
            .execute(
                Query::new(
                    "INSERT INTO processor_delegation (agency_org_nr, processor_org_nr, created_at)
                     VALUES ($1, $2, $3)
                     ON CONFLICT (agency_org_nr, processor_org_nr) DO NOTHING",
                )
                .bind(delegation.agency.as_str())
                .bind(delegation.processor.as_str())
                .bind(delegation.created_at),
            )
            .await?;
        Ok(inserted == 1)
    }

    async fn remove_delegation(
        &self,
        agency: &OrgNr,
        processor: &OrgNr,
    ) -> Result<bool, StorageError> {
        let removed = self
            .execute(
                Query::new(
                    "DELETE FROM processor_delegation
                     WHERE agency_org_nr = $1 AND processor_org_nr = $2",
                )
                .bind(agency.as_str())
                .bind(processor.as_str()),
            )
            .await?;
        Ok(removed == 1)
    }

    async fn has_delegation(
        &self,
        agency: &OrgNr,
        processor: &OrgNr,
    ) -> Result<bool, StorageError> {
        let found: Option<(i32,)> = self
            .fetch_optional(
                Query::new(
                    "SELECT 1 FROM processor_delegation
                     WHERE agency_org_nr = $1 AND processor_org_nr = $2",
                )
                .bind(agency.as_str())
                .bind(processor.as_str()),
            )
            .await?;
        Ok(found.is_some())
    }

    async fn delegations(&self) -> Result<Vec<Delegation>, StorageError> {
        let rows: Vec<(String, String, DateTime<Utc>)> = self
            .fetch_all(Query::new(
                "SELECT agency_org_nr, processor_org_nr, created_at FROM processor_delegation
                 ORDER BY agency_org_nr, processor_org_nr",
            ))
            .await?;
        rows.into_iter()
            .map(|(agency, processor, created_at)| {
                Ok(Delegation {
                    agency: OrgNr::parse(&agency)
                        .map_err(|_| StorageError::corrupt("delegation agency"))?,
                    processor: OrgNr::parse(&processor)
                        .map_err(|_| StorageError::corrupt("delegation processor"))?,
                    created_at,
                })
            })
            .collect()
    }
}
