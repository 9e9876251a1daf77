//! What the relying party remembers: logins on their way through the
//! identity provider, and the sessions they open (keyed by the SHA-256 of the
//! session cookie, never the cookie itself).

use crate::store::StorageError;
use app::domain::{Fnr, FullmaktId, SecurityLevel};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A login on its way through the identity provider (see the login migration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    pub state: String,
    /// SHA-256 of the pre-login cookie: the login must end in the browser that began it.
    pub browser_binding: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub requested_level: SecurityLevel,
    /// A path on this site, checked before it was stored.
    pub return_to: String,
    pub created_at: DateTime<Utc>,
}

/// A logged-in citizen, keyed by the SHA-256 of the session cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub id_hash: String,
    pub fnr: Fnr,
    pub level: SecurityLevel,
    pub provider_sid: Option<String>,
    pub id_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// Read from the citizen's mailbox; not written with the session.
    pub display_name: Option<String>,
    /// The power of attorney whose principal's mailbox the session reads;
    /// set by switching, never at login.
    pub acting_for: Option<FullmaktId>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores a new attempt, and removes those created before
    /// `stale_before`, so logins never finished do not pile up.
    async fn insert_login_attempt(
        &self,
        attempt: &LoginAttempt,
        stale_before: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Removes and returns the attempt with this state, if it was created after
    /// `not_before`; an attempt can be taken only once. Stale attempts go too.
    async fn take_login_attempt(
        &self,
        state: &str,
        not_before: DateTime<Utc>,
    ) -> Result<Option<LoginAttempt>, StorageError>;

    /// Stores the session and opens the citizen's mailbox if this is their first login.
    async fn insert_session(&self, session: &StoredSession) -> Result<(), StorageError>;

    async fn session(&self, id_hash: &str) -> Result<Option<StoredSession>, StorageError>;

    async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<(), StorageError>;

    /// Names the power the session reads under, or none.
    async fn set_acting_for(
        &self,
        id_hash: &str,
        power: Option<FullmaktId>,
    ) -> Result<(), StorageError>;

    async fn delete_session(&self, id_hash: &str) -> Result<(), StorageError>;

    /// Ends every session the provider's session `sid` opened; returns how many.
    async fn delete_sessions_by_provider_sid(&self, sid: &str) -> Result<u64, StorageError>;
}
