//! Agencies as API clients: the access tokens they present and the scopes
//! those tokens grant.
//!
//! Until the Maskinporten-style token endpoint arrives with the broker, an
//! operator issues tokens with `postkasse token issue`. Only the SHA-256 of a
//! token is stored; the token itself is shown once.

use crate::{
    clock::Clock,
    http::{bearer_token, ApiError},
    startup::AppState,
    storage::{register::StoredAccessToken, Storage},
};
use app::domain::OrgNr;
use axum::{extract::FromRequestParts, http::request::Parts};
use chrono::Duration;
use sha2::{Digest, Sha256};

/// Scopes an operator may grant. Kept to the ones Postkasse understands, so a
/// typo cannot produce a token that silently grants nothing.
pub const KNOWN_SCOPES: [&str; 2] = [
    crate::krr::lookup::CONTACT_SCOPE,
    crate::krr::lookup::DIGITAL_POST_SCOPE,
];

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a token for the agency and returns it; it cannot be shown again.
pub async fn issue_token(
    storage: &dyn Storage,
    clock: &dyn Clock,
    client_name: &str,
    org_nr: OrgNr,
    scopes: &[String],
    valid_for: Duration,
) -> anyhow::Result<String> {
    anyhow::ensure!(!client_name.trim().is_empty(), "the client needs a name");
    anyhow::ensure!(!scopes.is_empty(), "name at least one scope");
    for scope in scopes {
        anyhow::ensure!(
            KNOWN_SCOPES.contains(&scope.as_str()),
            "unknown scope {scope:?}: use one of {}",
            KNOWN_SCOPES.join(", ")
        );
    }
    anyhow::ensure!(
        valid_for > Duration::zero(),
        "the validity must be positive"
    );
    let token = crate::tokens::random_token();
    let now = clock.now();
    storage
        .insert_access_token(&StoredAccessToken {
            token_hash: token_hash(&token),
            client_name: client_name.trim().to_owned(),
            org_nr,
            scopes: scopes.to_vec(),
            created_at: now,
            expires_at: now + valid_for,
        })
        .await?;
    Ok(token)
}

/// An agency that presented a valid, unexpired bearer token.
#[derive(Debug, Clone)]
pub struct AgencyAccess {
    pub client_name: String,
    pub org_nr: OrgNr,
    pub scopes: Vec<String>,
}

impl AgencyAccess {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scopes.iter().map(String::as_str)
    }
}

impl FromRequestParts<AppState> for AgencyAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let presented = bearer_token(&parts.headers).ok_or(ApiError::Unauthorized)?;
        // Looking up by digest means no comparison of secrets happens here.
        let stored = state
            .storage
            .access_token(&token_hash(presented))
            .await
            .map_err(|error| ApiError::Internal(error.into()))?
            .ok_or(ApiError::Unauthorized)?;
        if stored.expires_at <= state.clock.now() {
            return Err(ApiError::Unauthorized);
        }
        Ok(AgencyAccess {
            client_name: stored.client_name,
            org_nr: stored.org_nr,
            scopes: stored.scopes,
        })
    }
}
