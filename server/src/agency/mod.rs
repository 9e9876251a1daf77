//! Agencies as API clients: who they are, the access tokens they present and
//! the scopes those tokens grant.
//!
//! - [`registry`]: registered agencies and the keys their grants are signed with.
//! - [`delegation`]: processors allowed to send for an agency.
//! - [`token_verifier`]: the Maskinporten token a DPI message embeds, checked
//!   by the issuer's published keys.
//! - [`maskinporten`]: `POST /token`, exchanging a signed grant for a
//!   short-lived JWT access token, as at Maskinporten; [`http`] is its route.
//! - [`network_tokens`]: this Postkasse's own tokens, for talking to other
//!   mailbox providers.
//! - Here: tokens an operator issues with `postkasse token issue` (only their
//!   SHA-256 is stored; the token is shown once), and [`AgencyAccess`], which
//!   accepts both kinds of token.

pub mod delegation;
pub mod http;
pub mod maskinporten;
pub mod network_tokens;
pub mod registry;
mod store;
pub mod token_verifier;

pub use store::{Store, StoredAccessToken};

use crate::{
    clock::Clock,
    http::{bearer_token, ApiError},
    store::StorageError,
};
use app::domain::OrgNr;
use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
};
use chrono::Duration;
use maskinporten::Maskinporten;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Sending digital post to citizens, DPI's scope (docs/protocol.md#maskinporten).
pub const SEND_SCOPE: &str = "digitalpostinnbygger:send";

/// The register's scope for contact details, `varslingsstatus` and `spraak`.
pub const CONTACT_SCOPE: &str = "krr:global/kontaktinformasjon.read";
/// The register's scope for the digital mailbox and its certificate.
pub const DIGITAL_POST_SCOPE: &str = "krr:global/digitalpost.read";

/// Scopes a token may grant. Kept to the ones Postkasse understands, so a
/// typo cannot produce a token that silently grants nothing.
pub const KNOWN_SCOPES: [&str; 3] = [SEND_SCOPE, CONTACT_SCOPE, DIGITAL_POST_SCOPE];

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a token for the agency and returns it; it cannot be shown again.
pub async fn issue_token(
    store: &dyn Store,
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
    store
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

/// An agency that presented a valid, unexpired bearer token: one an
/// operator issued, or a JWT access token from `POST /token`.
#[derive(Debug, Clone)]
pub struct AgencyAccess {
    /// Who the logs name: the operator's name for the client, or the client id.
    pub client_name: String,
    pub org_nr: OrgNr,
    pub scopes: Vec<String>,
    /// The Maskinporten-style client id, for JWT access tokens.
    pub client_id: Option<String>,
}

impl AgencyAccess {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scopes.iter().map(String::as_str)
    }

    pub fn has(&self, scope: &str) -> bool {
        self.scopes().any(|granted| granted == scope)
    }

    /// [`ApiError::Forbidden`] unless the token grants `scope`.
    pub fn require(&self, scope: &'static str) -> Result<(), ApiError> {
        if self.has(scope) {
            return Ok(());
        }
        Err(ApiError::Forbidden(match scope {
            SEND_SCOPE => "the access token does not grant digitalpostinnbygger:send",
            CONTACT_SCOPE => "the access token does not grant krr:global/kontaktinformasjon.read",
            DIGITAL_POST_SCOPE => "the access token does not grant krr:global/digitalpost.read",
            _ => "the access token does not grant the scope this needs",
        }))
    }
}

/// A JWT has three dot-separated parts; operator-issued tokens have no dots.
fn is_jwt(token: &str) -> bool {
    token.bytes().filter(|&byte| byte == b'.').count() == 2
}

/// Who presented a token: a JWT access token this Postkasse issued at
/// `POST /token` or the network's Maskinporten issued, or a token an
/// operator issued; `None` for anything else.
pub async fn authenticate(
    maskinporten: &Maskinporten,
    presented: &str,
) -> Result<Option<AgencyAccess>, StorageError> {
    if is_jwt(presented) {
        if let Some(claims) = maskinporten.verify_access_token(presented) {
            return Ok(claims.client_org_nr().map(|org_nr| AgencyAccess {
                client_name: claims.client_id.clone(),
                org_nr,
                scopes: claims.scopes().map(str::to_owned).collect(),
                client_id: Some(claims.client_id),
            }));
        }
        let Some(network) = maskinporten.network_issuer() else {
            return Ok(None);
        };
        return Ok(network.access(presented).await.ok().map(|access| {
            let client_name = access
                .client_id
                .clone()
                .unwrap_or_else(|| access.org_nr.to_string());
            AgencyAccess {
                client_name,
                org_nr: access.org_nr,
                scopes: access.scopes,
                client_id: access.client_id,
            }
        }));
    }
    // Looking up by digest means no comparison of secrets happens here.
    let Some(stored) = maskinporten
        .agencies()
        .access_token(&token_hash(presented))
        .await?
    else {
        return Ok(None);
    };
    Ok(
        (stored.expires_at > maskinporten.now()).then_some(AgencyAccess {
            client_name: stored.client_name,
            org_nr: stored.org_nr,
            scopes: stored.scopes,
            client_id: None,
        }),
    )
}

/// Routes that need an agency take its access from the bearer token; the
/// state needs to hold the [`Maskinporten`] that checks it.
impl<S> FromRequestParts<S> for AgencyAccess
where
    Arc<Maskinporten>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        // The rate limit at the edge may have checked the token already.
        if let Some(access) = parts.extensions.get::<AgencyAccess>() {
            return Ok(access.clone());
        }
        let presented = bearer_token(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let maskinporten = Arc::<Maskinporten>::from_ref(state);
        authenticate(&maskinporten, presented)
            .await?
            .ok_or(ApiError::Unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(scopes: &[&str]) -> AgencyAccess {
        AgencyAccess {
            client_name: "brreg".into(),
            org_nr: OrgNr::parse("974760673").unwrap(),
            scopes: scopes.iter().map(|scope| scope.to_string()).collect(),
            client_id: None,
        }
    }

    #[test]
    fn require_answers_403_naming_the_missing_scope() {
        assert!(access(&[SEND_SCOPE]).require(SEND_SCOPE).is_ok());
        match access(&[CONTACT_SCOPE]).require(SEND_SCOPE) {
            Err(ApiError::Forbidden(detail)) => assert!(detail.contains(SEND_SCOPE)),
            other => panic!("expected 403, got {other:?}"),
        }
    }

    #[test]
    fn jwts_are_told_from_opaque_tokens_by_their_dots() {
        assert!(is_jwt("a.b.c"));
        assert!(!is_jwt(&crate::tokens::random_token()));
        assert!(!is_jwt("a.b"));
    }
}
