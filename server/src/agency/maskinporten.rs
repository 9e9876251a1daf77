//! Postkasse's own Maskinporten: agencies exchange a signed grant for a
//! short-lived access token, as at `https://maskinporten.no/token`
//! (docs/protocol.md#maskinporten).
//!
//! A grant is a JWT the agency signs with the RSA key it registered
//! (`postkasse agency add`). It names the agency as `iss` (and `kid`), this
//! Postkasse as `aud`, lives at most 120 seconds, carries a `jti` that may be
//! used once, and asks for `scope`s. The access token is a JWT in
//! Maskinporten's shape, signed by this Postkasse's provider key, so the APIs
//! can check it without a database round trip ([`Maskinporten::verify_access_token`]).

use crate::clock::Clock;
use anyhow::Context;
use app::domain::OrgNr;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::{
    pkcs1::EncodeRsaPrivateKey, pkcs8::DecodePublicKey, traits::PublicKeyParts, RsaPrivateKey,
    RsaPublicKey,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The one grant type the endpoint takes (RFC 7523).
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The longest a grant may live, `exp - iat`, as Maskinporten allows.
pub const MAX_GRANT_LIFETIME_SECONDS: i64 = 120;
/// How far a grant's `iat` may be from our clock either way.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 10;
/// How the client authenticated, as the access token says.
pub const CLIENT_AMR: &str = "private_key_jwt";
/// The authority of the `consumer` organisation id (`0192:<orgnr>`).
pub const CONSUMER_AUTHORITY: &str = "iso6523-actorid-upis";
/// The header `typ` of access tokens (RFC 9068). The provider key signs
/// other JWTs too; only one with this type and [`CLIENT_AMR`] is an access token.
const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// Signature algorithms a grant may use; `none` and HMAC never.
const GRANT_ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512];
/// A `jti` is stored; a megabyte of one is not an id.
const MAX_JTI_CHARS: usize = 200;
/// One message for an unknown client and a bad signature, so the endpoint
/// does not tell which client ids exist.
const NOT_SIGNED_BY_A_CLIENT: &str = "the grant is not signed with the key of a registered client";

/// What grants must name as `aud` and access tokens name as `iss`: the
/// public URL with a trailing slash, as `https://maskinporten.no/` is.
pub fn token_audience(public_url: &str) -> String {
    format!("{}/", public_url.trim_end_matches('/'))
}

/// The OAuth `error` codes the endpoint answers with (RFC 6749 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    InvalidRequest,
    InvalidGrant,
    UnsupportedGrantType,
    InvalidScope,
}

impl OAuthError {
    pub fn code(self) -> &'static str {
        match self {
            OAuthError::InvalidRequest => "invalid_request",
            OAuthError::InvalidGrant => "invalid_grant",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::InvalidScope => "invalid_scope",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The request is refused; `detail` says exactly why, for the agency's developers.
    #[error("{}: {detail}", error.code())]
    Refused { error: OAuthError, detail: String },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn refused(error: OAuthError, detail: impl Into<String>) -> TokenError {
    TokenError::Refused {
        error,
        detail: detail.into(),
    }
}

/// A grant's `aud`: one value, or a list (JWT allows both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The claims of an agency's grant. Each is optional so that a missing one
/// gets its own message rather than "does not parse". Times are JSON numbers,
/// which may have fractions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GrantClaims {
    pub iss: Option<String>,
    pub aud: Option<Audience>,
    pub iat: Option<f64>,
    pub exp: Option<f64>,
    pub jti: Option<String>,
    pub scope: Option<String>,
    /// The organisation a data processor asks to act for (Maskinporten's
    /// `consumer_org`); it must have delegated to the client's organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_org: Option<String>,
}

/// A grant that passed every check on its claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedGrant {
    /// Known scopes, each once, in the order asked.
    pub scopes: Vec<String>,
    pub jti: String,
    pub expires_at: DateTime<Utc>,
}

/// Checks a grant's claims (its signature already verified) against the
/// client its header or `iss` named, our audience and our clock.
pub fn check_grant_claims(
    claims: &GrantClaims,
    client_id: &str,
    audience: &str,
    now: DateTime<Utc>,
) -> Result<CheckedGrant, TokenError> {
    use OAuthError::{InvalidGrant, InvalidScope};
    match claims.iss.as_deref() {
        Some(iss) if iss == client_id => {}
        Some(_) => {
            return Err(refused(
                InvalidGrant,
                "iss must be the client id, the same as the header's kid",
            ))
        }
        None => return Err(refused(InvalidGrant, "iss (the client id) is missing")),
    }
    let aud_matches = match &claims.aud {
        Some(Audience::One(aud)) => aud == audience,
        Some(Audience::Many(auds)) => auds.iter().any(|aud| aud == audience),
        None => false,
    };
    if !aud_matches {
        return Err(refused(
            InvalidGrant,
            format!("aud must be this token endpoint's audience, {audience}"),
        ));
    }
    let now_seconds = now.timestamp();
    let Some(iat) = claims.iat.map(|iat| iat.floor() as i64) else {
        return Err(refused(InvalidGrant, "iat is missing"));
    };
    let Some(exp) = claims.exp.map(|exp| exp.floor() as i64) else {
        return Err(refused(InvalidGrant, "exp is missing"));
    };
    let skew = iat - now_seconds;
    if skew.abs() > MAX_CLOCK_SKEW_SECONDS {
        let direction = if skew > 0 { "ahead of" } else { "behind" };
        return Err(refused(
            InvalidGrant,
            format!(
                "iat is {} s {direction} Postkasse's clock; at most {MAX_CLOCK_SKEW_SECONDS} s is allowed",
                skew.abs()
            ),
        ));
    }
    if exp <= now_seconds {
        return Err(refused(InvalidGrant, "the grant has expired (exp is past)"));
    }
    if exp - iat > MAX_GRANT_LIFETIME_SECONDS {
        return Err(refused(
            InvalidGrant,
            format!(
                "exp - iat is {} s; a grant may live at most {MAX_GRANT_LIFETIME_SECONDS} s",
                exp - iat
            ),
        ));
    }
    let jti = match claims.jti.as_deref().map(str::trim) {
        Some(jti) if !jti.is_empty() && jti.chars().count() <= MAX_JTI_CHARS => jti,
        Some(jti) if !jti.is_empty() => {
            return Err(refused(
                InvalidGrant,
                format!("jti may be at most {MAX_JTI_CHARS} characters"),
            ))
        }
        _ => return Err(refused(InvalidGrant, "jti is missing")),
    };
    let mut scopes: Vec<String> = Vec::new();
    for scope in claims
        .scope
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
    {
        if !super::KNOWN_SCOPES.contains(&scope) {
            return Err(refused(
                InvalidScope,
                format!(
                    "unknown scope {scope:?}: use one of {}",
                    super::KNOWN_SCOPES.join(", ")
                ),
            ));
        }
        if !scopes.iter().any(|known| known == scope) {
            scopes.push(scope.to_owned());
        }
    }
    if scopes.is_empty() {
        return Err(refused(
            InvalidScope,
            "scope is missing: name the scopes wanted, separated by spaces",
        ));
    }
    Ok(CheckedGrant {
        scopes,
        jti: jti.to_owned(),
        expires_at: DateTime::from_timestamp(exp, 0)
            .ok_or_else(|| refused(InvalidGrant, "exp is out of range"))?,
    })
}

/// The `consumer` of an access token: the organisation the client acts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consumer {
    pub authority: String,
    #[serde(rename = "ID")]
    pub id: String,
}

/// An access token's claims, in Maskinporten's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub client_id: String,
    pub client_amr: String,
    pub consumer: Consumer,
    /// The data processor acting for the consumer, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<Consumer>,
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

impl AccessTokenClaims {
    /// The consumer's organisation number, when the id is `0192:<orgnr>`.
    pub fn consumer_org_nr(&self) -> Option<OrgNr> {
        (self.consumer.authority == CONSUMER_AUTHORITY)
            .then(|| OrgNr::parse_iso6523(&self.consumer.id).ok())
            .flatten()
    }

    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_whitespace()
    }

    /// The organisation presenting the token: the supplier when a data
    /// processor acts for the consumer, else the consumer.
    pub fn client_org_nr(&self) -> Option<OrgNr> {
        match &self.supplier {
            Some(supplier) if supplier.authority == CONSUMER_AUTHORITY => {
                OrgNr::parse_iso6523(&supplier.id).ok()
            }
            Some(_) => None,
            None => self.consumer_org_nr(),
        }
    }
}

/// The token endpoint's answer (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub scope: String,
}

/// The token endpoint and the check of the tokens it issued.
pub struct Maskinporten {
    audience: String,
    token_lifetime: Duration,
    kid: String,
    public_key: RsaPublicKey,
    signing_key: Arc<EncodingKey>,
    verifying_key: DecodingKey,
    store: Arc<dyn super::Store>,
    clock: Arc<dyn Clock>,
    /// The network's Maskinporten, when it is not this installation: its
    /// access tokens are accepted as bearer tokens too.
    network_issuer: Option<Arc<super::token_verifier::TokenVerifier>>,
}

impl Maskinporten {
    /// `audience` from [`token_audience`]; `key` is this Postkasse's provider key.
    pub fn new(
        audience: String,
        token_lifetime: Duration,
        key: &RsaPrivateKey,
        store: Arc<dyn super::Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Maskinporten> {
        let public_key = key.to_public_key();
        let pkcs1 = key
            .to_pkcs1_der()
            .context("cannot encode the provider key")?;
        Ok(Maskinporten {
            audience,
            token_lifetime,
            kid: key_id(&public_key),
            signing_key: Arc::new(EncodingKey::from_rsa_der(pkcs1.as_bytes())),
            verifying_key: decoding_key(&public_key),
            public_key,
            store,
            clock,
            network_issuer: None,
        })
    }

    /// Accepts the access tokens of the network's Maskinporten as well as
    /// this installation's own.
    pub fn with_network_issuer(
        mut self,
        issuer: Arc<super::token_verifier::TokenVerifier>,
    ) -> Maskinporten {
        self.network_issuer = Some(issuer);
        self
    }

    /// The network's Maskinporten, when it is not this installation.
    pub fn network_issuer(&self) -> Option<&Arc<super::token_verifier::TokenVerifier>> {
        self.network_issuer.as_ref()
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The key access tokens are signed with.
    pub fn verifying_key(&self) -> &DecodingKey {
        &self.verifying_key
    }

    /// The signing key as a JWKS (RFC 7517), as Maskinporten publishes its
    /// keys at `/jwk`, for those who check its tokens elsewhere.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({"keys": [{
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(self.public_key.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(self.public_key.e().to_bytes_be()),
        }]})
    }

    /// Exchanges a grant for an access token. The grant's `jti` is spent
    /// only when everything else about it is in order.
    pub async fn exchange(
        &self,
        grant_type: Option<&str>,
        assertion: Option<&str>,
    ) -> Result<TokenResponse, TokenError> {
        use OAuthError::{InvalidGrant, InvalidRequest, UnsupportedGrantType};
        match grant_type {
            None | Some("") => return Err(refused(InvalidRequest, "grant_type is missing")),
            Some(JWT_BEARER_GRANT_TYPE) => {}
            Some(_) => {
                return Err(refused(
                    UnsupportedGrantType,
                    format!("grant_type must be {JWT_BEARER_GRANT_TYPE}"),
                ))
            }
        }
        let assertion = match assertion.map(str::trim) {
            Some(assertion) if !assertion.is_empty() => assertion.to_owned(),
            _ => {
                return Err(refused(
                    InvalidRequest,
                    "assertion (the signed grant) is missing",
                ))
            }
        };
        let header = jsonwebtoken::decode_header(&assertion)
            .map_err(|_| refused(InvalidGrant, "the assertion is not a JWT"))?;
        if !GRANT_ALGORITHMS.contains(&header.alg) {
            return Err(refused(
                InvalidGrant,
                format!(
                    "the grant is signed with {:?}; use RS256, RS384 or RS512",
                    header.alg
                ),
            ));
        }
        let client_id = named_client(&assertion).ok_or_else(|| {
            refused(
                InvalidGrant,
                "the grant names no client: give kid in the header or iss",
            )
        })?;
        let agency = self
            .store
            .agency_by_client_id(&client_id)
            .await
            .context("cannot look up the client")?
            .ok_or_else(|| refused(InvalidGrant, NOT_SIGNED_BY_A_CLIENT))?;
        let public_key_pem = agency.public_key_pem.clone();
        let algorithm = header.alg;
        // RSA verification is CPU work: keep it off the async threads.
        let claims = tokio::task::spawn_blocking(move || {
            verify_grant(&assertion, algorithm, &public_key_pem)
        })
        .await
        .context("the grant check stopped")??;
        let now = self.clock.now();
        let grant = check_grant_claims(&claims, &agency.client_id, &self.audience, now)?;
        let first_use = self
            .store
            .use_grant_jti(&agency.client_id, &grant.jti, grant.expires_at, now)
            .await
            .context("cannot record the grant's jti")?;
        if !first_use {
            return Err(refused(
                InvalidGrant,
                "the grant's jti has been used before; make a new grant for each request",
            ));
        }
        let consumer = self
            .consumer_of(&agency, claims.consumer_org.as_deref())
            .await?;
        let supplier = (consumer != agency.org_nr).then_some(&agency.org_nr);
        let response = self
            .issue(
                &agency.client_id,
                &consumer,
                supplier,
                grant.scopes.join(" "),
            )
            .await?;
        tracing::info!(
            client_id = agency.client_id,
            org_nr = agency.org_nr.as_str(),
            scope = response.scope,
            "access token issued"
        );
        Ok(response)
    }

    /// Signs an access token for `client_id` acting for `consumer` (through
    /// `supplier`, a data processor, when one acts for it). The token
    /// endpoint calls this once a grant has passed; this Postkasse calls it
    /// for itself when it is the network's Maskinporten.
    pub async fn issue(
        &self,
        client_id: &str,
        consumer: &OrgNr,
        supplier: Option<&OrgNr>,
        scope: String,
    ) -> anyhow::Result<TokenResponse> {
        let now = self.clock.now();
        let organisation = |org_nr: &OrgNr| Consumer {
            authority: CONSUMER_AUTHORITY.to_owned(),
            id: org_nr.to_iso6523(),
        };
        let claims = AccessTokenClaims {
            iss: self.audience.clone(),
            client_id: client_id.to_owned(),
            client_amr: CLIENT_AMR.to_owned(),
            consumer: organisation(consumer),
            supplier: supplier.map(organisation),
            scope: scope.clone(),
            iat: now.timestamp(),
            exp: (now + self.token_lifetime).timestamp(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(self.kid.clone());
        let signing_key = self.signing_key.clone();
        // Signing with the private key is CPU work.
        let access_token = tokio::task::spawn_blocking(move || {
            jsonwebtoken::encode(&header, &claims, &signing_key)
        })
        .await
        .context("token signing stopped")?
        .context("cannot sign the access token")?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer".to_owned(),
            expires_in: self.token_lifetime.num_seconds(),
            scope,
        })
    }

    /// Whom the token will act for: the client's own organisation, or the
    /// one named by `consumer_org` when that one delegated to the client.
    async fn consumer_of(
        &self,
        client: &super::registry::Agency,
        consumer_org: Option<&str>,
    ) -> Result<OrgNr, TokenError> {
        let Some(consumer_org) = consumer_org else {
            return Ok(client.org_nr.clone());
        };
        let consumer = OrgNr::parse(consumer_org.trim_start_matches("0192:")).map_err(|_| {
            refused(
                OAuthError::InvalidGrant,
                "consumer_org must be an organisation number",
            )
        })?;
        if consumer == client.org_nr {
            return Ok(consumer);
        }
        let delegated = self
            .store
            .has_delegation(&consumer, &client.org_nr)
            .await
            .context("cannot look up the delegation")?;
        if !delegated {
            return Err(refused(
                OAuthError::InvalidGrant,
                format!(
                    "consumer_org: {consumer} has not delegated to {}",
                    client.org_nr
                ),
            ));
        }
        Ok(consumer)
    }

    /// Registered agencies and the tokens operators issued them.
    pub fn agencies(&self) -> &dyn super::Store {
        self.store.as_ref()
    }

    /// Now, by the clock tokens' expiry is judged by.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The claims of an access token this endpoint issued, when its
    /// signature verifies and it has not expired by the app's clock.
    /// RS256 verification with a public key takes microseconds, so this
    /// runs inline.
    pub fn verify_access_token(&self, token: &str) -> Option<AccessTokenClaims> {
        let mut validation = Validation::new(Algorithm::RS256);
        // Expiry is judged by the app's clock below, not the system's.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.set_issuer(&[&self.audience]);
        let token =
            jsonwebtoken::decode::<AccessTokenClaims>(token, &self.verifying_key, &validation)
                .ok()?;
        let is_access_token = token.header.typ.as_deref() == Some(ACCESS_TOKEN_TYPE)
            && token.claims.client_amr == CLIENT_AMR;
        (is_access_token && token.claims.exp > self.clock.now().timestamp()).then_some(token.claims)
    }
}

/// Verifies the grant's signature with the agency's key and reads its
/// claims; every claim check is [`check_grant_claims`]'s.
fn verify_grant(
    assertion: &str,
    algorithm: Algorithm,
    public_key_pem: &str,
) -> Result<GrantClaims, TokenError> {
    let public_key = RsaPublicKey::from_public_key_pem(public_key_pem)
        .context("a registered agency's public key does not parse")?;
    let mut validation = Validation::new(algorithm);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    match jsonwebtoken::decode::<GrantClaims>(assertion, &decoding_key(&public_key), &validation) {
        Ok(data) => Ok(data.claims),
        // Claims are read only after the signature verified.
        Err(error) if matches!(error.kind(), ErrorKind::Json(_)) => Err(refused(
            OAuthError::InvalidGrant,
            format!("the grant's claims do not parse: {error}"),
        )),
        Err(_) => Err(refused(OAuthError::InvalidGrant, NOT_SIGNED_BY_A_CLIENT)),
    }
}

/// The client a grant names, before its signature is checked: the header's
/// `kid`, or without one the `iss`. Only to find the key (the signature check
/// settles it) and to count the client's requests at the edge.
pub fn named_client(assertion: &str) -> Option<String> {
    match jsonwebtoken::decode_header(assertion).ok()?.kid {
        Some(kid) => Some(kid),
        None => unverified_issuer(assertion),
    }
}

/// The `iss` of a JWT whose signature is not checked yet: only to find the key.
fn unverified_issuer(token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Issuer {
        iss: Option<String>,
    }
    jsonwebtoken::dangerous::insecure_decode::<Issuer>(token)
        .ok()?
        .claims
        .iss
        .filter(|iss| !iss.is_empty())
}

fn decoding_key(public_key: &RsaPublicKey) -> DecodingKey {
    DecodingKey::from_rsa_raw_components(
        &public_key.n().to_bytes_be(),
        &public_key.e().to_bytes_be(),
    )
}

/// A stable id for a key, from a digest of its modulus.
fn key_id(public_key: &RsaPublicKey) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(public_key.n().to_bytes_be())[..12])
}

/// Signs a grant as an agency's own client would: RS256, `kid` = `iss` =
/// the client id, living [`MAX_GRANT_LIFETIME_SECONDS`] from `now`; with
/// `consumer_org`, a data processor's grant to act for that organisation. For the
/// operator's `postkasse agency grant` and for trying the API out.
pub fn sign_grant(
    private_key_pem: &str,
    client_id: &str,
    audience: &str,
    scopes: &[String],
    now: DateTime<Utc>,
    consumer_org: Option<&OrgNr>,
) -> anyhow::Result<String> {
    let key = EncodingKey::from_rsa_pem(private_key_pem.as_bytes())
        .context("the key is not a PEM RSA private key (PKCS#8 or PKCS#1)")?;
    anyhow::ensure!(!scopes.is_empty(), "name at least one scope");
    let claims = GrantClaims {
        iss: Some(client_id.to_owned()),
        aud: Some(Audience::One(audience.to_owned())),
        iat: Some(now.timestamp() as f64),
        exp: Some((now.timestamp() + MAX_GRANT_LIFETIME_SECONDS) as f64),
        jti: Some(uuid::Uuid::new_v4().to_string()),
        scope: Some(scopes.join(" ")),
        consumer_org: consumer_org.map(|org_nr| org_nr.as_str().to_owned()),
    };
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(client_id.to_owned());
    jsonwebtoken::encode(&header, &claims, &key).context("cannot sign the grant")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agency::CONTACT_SCOPE;

    const CLIENT: &str = "brreg-client";
    const AUDIENCE: &str = "https://postkasse.example.no/";

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn good_claims() -> GrantClaims {
        let now = now().timestamp() as f64;
        GrantClaims {
            iss: Some(CLIENT.into()),
            aud: Some(Audience::One(AUDIENCE.into())),
            iat: Some(now),
            exp: Some(now + 120.0),
            jti: Some("a-jti".into()),
            scope: Some(format!("{CONTACT_SCOPE} {}", super::super::SEND_SCOPE)),
            consumer_org: None,
        }
    }

    fn refusal(claims: GrantClaims) -> (OAuthError, String) {
        match check_grant_claims(&claims, CLIENT, AUDIENCE, now()) {
            Err(TokenError::Refused { error, detail }) => (error, detail),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_good_grant_passes_with_its_scopes_and_expiry() {
        let grant = check_grant_claims(&good_claims(), CLIENT, AUDIENCE, now()).unwrap();
        assert_eq!(
            grant.scopes,
            [CONTACT_SCOPE, super::super::SEND_SCOPE].map(String::from)
        );
        assert_eq!(grant.jti, "a-jti");
        assert_eq!(grant.expires_at, now() + Duration::seconds(120));
    }

    #[test]
    fn iat_may_be_ten_seconds_off_either_way_but_not_eleven() {
        for offset in [-10.0, 10.0] {
            let mut claims = good_claims();
            claims.iat = Some(claims.iat.unwrap() + offset);
            claims.exp = Some(claims.iat.unwrap() + 60.0);
            assert!(check_grant_claims(&claims, CLIENT, AUDIENCE, now()).is_ok());
        }
        let mut claims = good_claims();
        claims.iat = Some(claims.iat.unwrap() + 60.0);
        claims.exp = Some(claims.iat.unwrap() + 60.0);
        let (error, detail) = refusal(claims);
        assert_eq!(error, OAuthError::InvalidGrant);
        assert!(detail.contains("iat is 60 s ahead"), "{detail}");
        let mut claims = good_claims();
        claims.iat = Some(claims.iat.unwrap() - 11.0);
        assert!(refusal(claims).1.contains("11 s behind"));
    }

    #[test]
    fn an_expired_or_too_long_grant_is_refused() {
        let mut claims = good_claims();
        claims.iat = Some(claims.iat.unwrap() - 10.0);
        claims.exp = Some(now().timestamp() as f64);
        assert!(refusal(claims).1.contains("expired"));
        let mut claims = good_claims();
        claims.exp = Some(claims.iat.unwrap() + 121.0);
        let (error, detail) = refusal(claims);
        assert_eq!(error, OAuthError::InvalidGrant);
        assert!(detail.contains("121 s"), "{detail}");
    }

    #[test]
    fn issuer_audience_and_jti_must_be_right() {
        let mut claims = good_claims();
        claims.iss = Some("someone-else".into());
        assert!(refusal(claims).1.contains("iss"));
        let mut claims = good_claims();
        claims.aud = Some(Audience::One("https://maskinporten.no/".into()));
        assert!(refusal(claims).1.contains(AUDIENCE));
        let mut claims = good_claims();
        claims.aud = Some(Audience::Many(vec!["x".into(), AUDIENCE.into()]));
        assert!(check_grant_claims(&claims, CLIENT, AUDIENCE, now()).is_ok());
        let mut claims = good_claims();
        claims.jti = None;
        assert!(refusal(claims).1.contains("jti"));
        let mut claims = good_claims();
        claims.jti = Some("x".repeat(201));
        assert!(refusal(claims).1.contains("jti"));
        for missing in ["iat", "exp"] {
            let mut claims = good_claims();
            match missing {
                "iat" => claims.iat = None,
                _ => claims.exp = None,
            }
            assert!(refusal(claims).1.contains(missing));
        }
    }

    #[test]
    fn scopes_must_be_known_and_present() {
        let mut claims = good_claims();
        claims.scope = Some(format!("{CONTACT_SCOPE} krr:global/alt.read"));
        let (error, detail) = refusal(claims);
        assert_eq!(error, OAuthError::InvalidScope);
        assert!(detail.contains("krr:global/alt.read"), "{detail}");
        let mut claims = good_claims();
        claims.scope = Some("  ".into());
        assert_eq!(refusal(claims).0, OAuthError::InvalidScope);
        let mut claims = good_claims();
        claims.scope = Some(format!("{CONTACT_SCOPE} {CONTACT_SCOPE}"));
        let grant = check_grant_claims(&claims, CLIENT, AUDIENCE, now()).unwrap();
        assert_eq!(grant.scopes, [CONTACT_SCOPE]);
    }

    #[test]
    fn the_audience_is_the_public_url_with_one_slash() {
        assert_eq!(
            token_audience("https://postkasse.example.no"),
            "https://postkasse.example.no/"
        );
        assert_eq!(
            token_audience("https://postkasse.example.no/"),
            "https://postkasse.example.no/"
        );
    }
}
