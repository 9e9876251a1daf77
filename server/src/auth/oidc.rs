//! The OpenID Connect relying party, on the `openidconnect` crate.
//!
//! It works unchanged against ID-porten, the built-in TestID or any other
//! standard provider: everything comes from the issuer's discovery document.
//! The crate checks the signature (keys from the JWKS only), `iss`, `aud`,
//! `exp` and `nonce`; its defaults accept any `acr` and `iat`, so both are
//! checked here, and only RS256 is allowed (`none` and HMAC are refused).

use crate::clock::{norwegian_date, Clock};
use anyhow::Context;
use app::domain::{Fnr, SecurityLevel, SyntheticIds};
use chrono::Duration;
use openidconnect::{
    core::{
        CoreAuthDisplay, CoreAuthPrompt, CoreClaimName, CoreClaimType, CoreClientAuthMethod,
        CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey,
        CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
        CoreResponseMode, CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
        CoreSubjectIdentifierType, CoreTokenIntrospectionResponse, CoreTokenType,
    },
    AdditionalClaims, AdditionalProviderMetadata, AuthenticationContextClass, AuthenticationFlow,
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields, EndSessionUrl,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata, RedirectUrl, StandardErrorResponse,
    StandardTokenResponse,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::{sync::Arc, time::Instant};
use tokio::sync::RwLock;

/// ID-porten's claims beyond the standard ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdPortenClaims {
    /// The national id. Absent for some foreign eIDs, which Postkasse cannot serve.
    pid: Option<String>,
    /// The provider's session, for front-channel logout.
    sid: Option<String>,
}
impl AdditionalClaims for IdPortenClaims {}

/// Discovery fields the core metadata type leaves out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdPortenProviderMetadata {
    end_session_endpoint: Option<EndSessionUrl>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}
impl AdditionalProviderMetadata for IdPortenProviderMetadata {}

type Metadata = ProviderMetadata<
    IdPortenProviderMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;
type TokenFields = IdTokenFields<
    IdPortenClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type TokenResponse = StandardTokenResponse<TokenFields, CoreTokenType>;
type Client = openidconnect::Client<
    IdPortenClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// ID-porten asks clients to cache discovery for about a day.
const DISCOVERY_LIFETIME: std::time::Duration = std::time::Duration::from_secs(60 * 60);
/// Tolerated clock difference between us and the provider.
const CLOCK_SKEW: Duration = Duration::seconds(60);
/// An ID token older than this was not issued for the login in progress.
const MAX_TOKEN_AGE: Duration = Duration::minutes(5);

pub struct RelyingPartySettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub redirect_url: String,
    pub synthetic_ids: SyntheticIds,
}

/// What the browser is sent to, and what must be kept server-side until it returns.
pub struct AuthorizationStart {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// A login the provider vouched for and every check passed.
#[derive(Debug)]
pub struct VerifiedLogin {
    pub fnr: Fnr,
    pub level: SecurityLevel,
    pub provider_sid: Option<String>,
    pub id_token: String,
}

/// Why a login was refused. Reasons are for the log, never for the browser.
#[derive(Debug, thiserror::Error)]
pub enum LoginRefused {
    #[error("the authorization response came from issuer {0:?}")]
    WrongIssuerInResponse(Option<String>),
    #[error("the token exchange failed: {0}")]
    TokenExchange(String),
    #[error("the token response has no id token")]
    NoIdToken,
    #[error("the id token failed verification: {0}")]
    InvalidIdToken(String),
    #[error("the id token has no pid claim")]
    MissingPid,
    #[error("the pid claim is not a valid national id")]
    InvalidPid,
    #[error("the provider is unavailable: {0:#}")]
    Provider(#[from] anyhow::Error),
}

pub struct RelyingParty {
    settings: RelyingPartySettings,
    http: openidconnect::reqwest::Client,
    clock: Arc<dyn Clock>,
    discovered: RwLock<Option<(Metadata, Instant)>>,
}

impl RelyingParty {
    pub fn new(settings: RelyingPartySettings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let http = openidconnect::reqwest::Client::builder()
            // Following redirects would open the back channel to SSRF.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        Ok(Self {
            settings,
            http,
            clock,
            discovered: RwLock::new(None),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    /// The provider's metadata and keys, fetched on first use and cached.
    async fn metadata(&self) -> anyhow::Result<Metadata> {
        if let Some((metadata, fetched)) = self.discovered.read().await.as_ref() {
            if fetched.elapsed() < DISCOVERY_LIFETIME {
                return Ok(metadata.clone());
            }
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone()).context("invalid issuer URL")?;
        let metadata = Metadata::discover_async(issuer, &self.http)
            .await
            .context("OpenID discovery failed")?;
        *self.discovered.write().await = Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    /// Forgets the cached metadata, so rotated keys are fetched next time.
    async fn forget_metadata(&self) {
        *self.discovered.write().await = None;
    }

    fn client(&self, metadata: Metadata) -> anyhow::Result<Client> {
        Ok(Client::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(
                self.settings.client_secret.expose_secret().to_owned(),
            )),
        )
        .set_redirect_uri(RedirectUrl::new(self.settings.redirect_url.clone())?))
    }

    /// Starts a login asking for at least `level`.
    pub async fn begin(&self, level: SecurityLevel) -> anyhow::Result<AuthorizationStart> {
        let client = self.client(self.metadata().await?)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .add_auth_context_value(AuthenticationContextClass::new(level.acr().to_owned()))
            .add_extra_param("ui_locales", "nb")
            .url();
        Ok(AuthorizationStart {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Finishes a login: checks the response's issuer (RFC 9207), exchanges
    /// the code with the PKCE verifier and verifies the ID token.
    pub async fn complete(
        &self,
        code: &str,
        issuer_in_response: Option<&str>,
        nonce: &str,
        pkce_verifier: &str,
        requested_level: SecurityLevel,
    ) -> Result<VerifiedLogin, LoginRefused> {
        let metadata = self.metadata().await?;
        let iss_required = metadata
            .additional_metadata()
            .authorization_response_iss_parameter_supported;
        match issuer_in_response {
            Some(issuer) if issuer == self.settings.issuer => {}
            None if !iss_required => {}
            other => {
                return Err(LoginRefused::WrongIssuerInResponse(
                    other.map(str::to_owned),
                ))
            }
        }
        let client = self.client(metadata)?;
        let token_response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|error| LoginRefused::TokenExchange(error.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|error| LoginRefused::TokenExchange(error.to_string()))?;
        let id_token = token_response
            .extra_fields()
            .id_token()
            .ok_or(LoginRefused::NoIdToken)?;

        let now = self.clock.now();
        let time_clock = self.clock.clone();
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs([CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256])
            .set_time_fn(move || time_clock.now())
            .set_issue_time_verifier_fn(move |issued_at| {
                if issued_at > now + CLOCK_SKEW {
                    Err("issued in the future".to_owned())
                } else if issued_at < now - MAX_TOKEN_AGE {
                    Err("issued too long ago".to_owned())
                } else {
                    Ok(())
                }
            })
            .set_auth_context_verifier_fn(move |acr| {
                match acr.and_then(|acr| level_of_acr(acr.as_str())) {
                    Some(level) if level >= requested_level => Ok(()),
                    Some(_) => Err("acr is lower than requested".to_owned()),
                    None => Err("acr is missing or unknown".to_owned()),
                }
            });
        let claims = match id_token.claims(&verifier, &Nonce::new(nonce.to_owned())) {
            Ok(claims) => claims,
            Err(error) => {
                if matches!(
                    error,
                    openidconnect::ClaimsVerificationError::SignatureVerification(
                        openidconnect::SignatureVerificationError::NoMatchingKey
                    )
                ) {
                    // The provider may have rotated its keys: fetch them anew next time.
                    self.forget_metadata().await;
                }
                return Err(LoginRefused::InvalidIdToken(error.to_string()));
            }
        };
        let level = claims
            .auth_context_ref()
            .and_then(|acr| level_of_acr(acr.as_str()))
            .ok_or_else(|| LoginRefused::InvalidIdToken("acr".to_owned()))?;
        let pid = claims
            .additional_claims()
            .pid
            .as_deref()
            .ok_or(LoginRefused::MissingPid)?;
        let fnr = Fnr::parse_on(pid, self.settings.synthetic_ids, norwegian_date(now))
            .map_err(|_| LoginRefused::InvalidPid)?;
        Ok(VerifiedLogin {
            fnr,
            level,
            provider_sid: claims.additional_claims().sid.clone(),
            id_token: id_token.to_string(),
        })
    }

    /// Where to send the browser to end the provider's session too, if it has an end-session endpoint.
    pub async fn end_session_url(
        &self,
        id_token: &str,
        post_logout_redirect: &str,
    ) -> Option<String> {
        let metadata = self.metadata().await.ok()?;
        let endpoint = metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()?;
        let mut url = endpoint.url().clone();
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token)
            .append_pair("post_logout_redirect_uri", post_logout_redirect)
            .append_pair("client_id", &self.settings.client_id);
        Some(url.to_string())
    }
}

/// The ID-porten level an `acr` value stands for. Old `Level3`/`Level4` values still appear.
pub fn level_of_acr(acr: &str) -> Option<SecurityLevel> {
    match acr {
        "idporten-loa-substantial" | "Level3" => Some(SecurityLevel::Substantial),
        "idporten-loa-high" | "Level4" => Some(SecurityLevel::High),
        _ => None,
    }
}

/// The `auth_time` claim of an ID token this relying party verified at
/// login: when the citizen authenticated. Read without checking again.
pub fn auth_time(id_token: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let payload = id_token.split('.').nth(1)?;
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    chrono::DateTime::from_timestamp(claims.get("auth_time")?.as_i64()?, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_values_map_to_levels_and_nothing_else_does() {
        assert_eq!(
            level_of_acr("idporten-loa-substantial"),
            Some(SecurityLevel::Substantial)
        );
        assert_eq!(level_of_acr("idporten-loa-high"), Some(SecurityLevel::High));
        assert_eq!(level_of_acr("Level4"), Some(SecurityLevel::High));
        assert_eq!(level_of_acr("idporten-loa-low"), None);
        assert_eq!(level_of_acr(""), None);
    }
}
