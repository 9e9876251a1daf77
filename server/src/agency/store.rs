//! What the agency register remembers: registered agencies (the
//! Maskinporten-style clients), the grant ids they have spent, and the bearer
//! tokens operators issued (by their SHA-256 only), and which processors may
//! send for which agencies.

use super::{delegation::Delegation, registry::Agency};
use crate::store::StorageError;
use app::domain::OrgNr;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A bearer token an operator issued, stored by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAccessToken {
    pub token_hash: String,
    pub client_name: String,
    pub org_nr: OrgNr,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
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

    async fn insert_access_token(&self, token: &StoredAccessToken) -> Result<(), StorageError>;

    async fn access_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<StoredAccessToken>, StorageError>;

    /// Records that the processor may send for the agency; `false` when it
    /// already could.
    async fn add_delegation(&self, delegation: &Delegation) -> Result<bool, StorageError>;

    /// Withdraws a delegation; `false` when there was none.
    async fn remove_delegation(
        &self,
        agency: &OrgNr,
        processor: &OrgNr,
    ) -> Result<bool, StorageError>;

    /// Whether the processor may send for the agency.
    async fn has_delegation(&self, agency: &OrgNr, processor: &OrgNr)
        -> Result<bool, StorageError>;

    /// Every delegation, by agency and then processor.
    async fn delegations(&self) -> Result<Vec<Delegation>, StorageError>;
}
