//! The Maskinporten access token a DPI business message embeds
//! (`maskinportentoken`): the sender's proof that it may send digital post,
//! checked end to end by the mailbox provider however the message travelled.
//!
//! A token is accepted when it is an RS256 JWT signed by a key of the
//! configured issuer, names that issuer as `iss`, has not expired at receipt
//! (allowing a little clock skew), grants `digitalpostinnbygger:send`, and its
//! `consumer` is the message's avsender; when a data processor sends for the
//! agency, its `supplier` is the processor. Each refusal names the claim.
//!
//! The issuer's keys come from its JWKS ([`IssuerKeys::Published`]), cached
//! and fetched again when a token names a key id the cache lacks (the issuer
//! rotated its keys) or the cache is old; or, by default, from this
//! installation's own token endpoint ([`IssuerKeys::Own`]).

use super::{maskinporten::Maskinporten, SEND_SCOPE};
use crate::clock::Clock;
use app::domain::OrgNr;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{jwk::JwkSet, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::{collections::HashMap, sync::Arc, time::Instant};
use tokio::sync::Mutex;

/// Who the token must name: the agency the message is from and, when a data
/// processor sends it, that processor.
#[derive(Debug, Clone, Copy)]
pub struct ExpectedParties<'a> {
    pub agency: &'a OrgNr,
    pub processor: Option<&'a OrgNr>,
}

/// Why a token is refused, naming the claim (or the signature) at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TokenRefusal(pub String);

fn refusal(text: impl Into<String>) -> TokenRefusal {
    TokenRefusal(text.into())
}

/// Where the issuer's signing keys come from.
pub enum IssuerKeys {
    /// This installation's own token endpoint (`POST /token`).
    Own(Arc<Maskinporten>),
    /// A JWKS published at a URL, as Maskinporten's at `https://maskinporten.no/jwk`.
    Published(Box<JwksCache>),
}

/// A JWKS fetched over HTTP and kept for `max_age`. A token with a key id
/// the cache lacks makes it fetch again, but not more often than
/// `min_refetch`, so a flood of made-up key ids cannot flood the issuer.
pub struct JwksCache {
    url: url::Url,
    http: reqwest::Client,
    max_age: std::time::Duration,
    min_refetch: std::time::Duration,
    cached: Mutex<CachedKeys>,
}

#[derive(Default)]
struct CachedKeys {
    keys: HashMap<String, Arc<DecodingKey>>,
    fetched_at: Option<Instant>,
}

impl JwksCache {
    pub fn new(url: url::Url, http: reqwest::Client, max_age: std::time::Duration) -> Self {
        JwksCache {
            url,
            http,
            max_age,
            min_refetch: std::time::Duration::from_secs(10).min(max_age),
            cached: Mutex::new(CachedKeys::default()),
        }
    }

    /// The key with this id, fetching the set when it is missing or old.
    async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, TokenRefusal> {
        let mut cached = self.cached.lock().await;
        let age = cached.fetched_at.map(|at| at.elapsed());
        let stale = age.is_none_or(|age| age > self.max_age);
        let may_refetch = age.is_none_or(|age| age > self.min_refetch);
        if stale || (!cached.keys.contains_key(kid) && may_refetch) {
            match self.fetch().await {
                Ok(keys) => {
                    *cached = CachedKeys {
                        keys,
                        fetched_at: Some(Instant::now()),
                    }
                }
                // Keys fetched earlier still serve while the issuer is away.
                Err(error) => tracing::warn!(
                    url = %self.url,
                    error = format!("{error:#}"),
                    "cannot fetch the token issuer's keys"
                ),
            }
        }
        cached.keys.get(kid).cloned().ok_or_else(|| {
            refusal(format!(
                "kid: the issuer publishes no key {kid:?} (at {})",
                self.url
            ))
        })
    }

    async fn fetch(&self) -> anyhow::Result<HashMap<String, Arc<DecodingKey>>> {
        let set: JwkSet = self
            .http
            .get(self.url.clone())
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(set
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                let key = DecodingKey::from_jwk(jwk).ok()?;
                Some((kid, Arc::new(key)))
            })
            .collect())
    }
}

/// Checks embedded access tokens against one issuer.
pub struct TokenVerifier {
    issuer: String,
    keys: IssuerKeys,
    clock_skew: Duration,
    clock: Arc<dyn Clock>,
}

/// A Maskinporten organisation claim (`consumer`, `supplier`).
#[derive(Debug, Clone, Deserialize)]
struct Organisation {
    #[serde(rename = "ID")]
    id: Option<String>,
}

/// The claims checked, each optional so that a missing one is named.
#[derive(Debug, Deserialize)]
struct EmbeddedClaims {
    iss: Option<String>,
    client_id: Option<String>,
    exp: Option<f64>,
    scope: Option<String>,
    consumer: Option<Organisation>,
    supplier: Option<Organisation>,
}

impl TokenVerifier {
    pub fn new(
        issuer: String,
        keys: IssuerKeys,
        clock_skew: Duration,
        clock: Arc<dyn Clock>,
    ) -> Self {
        TokenVerifier {
            issuer,
            keys,
            clock_skew,
            clock,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Accepts the token for a message from `expected`, or says why not.
    pub async fn verify(
        &self,
        token: &str,
        expected: ExpectedParties<'_>,
    ) -> Result<(), TokenRefusal> {
        let claims = self.decode(token).await?;
        check_claims(
            &claims,
            &self.issuer,
            expected,
            self.clock.now(),
            self.clock_skew,
        )
    }

    /// Who presents a bearer token the issuer made, and the scopes it
    /// grants: the token's `supplier` when a data processor acts for the
    /// `consumer`, else the consumer.
    pub async fn access(&self, token: &str) -> Result<IssuedAccess, TokenRefusal> {
        let claims = self.decode(token).await?;
        check_issued(&claims, &self.issuer, self.clock.now(), self.clock_skew)?;
        Ok(IssuedAccess {
            org_nr: presenter(&claims)?,
            scopes: claims
                .scope
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            client_id: claims.client_id,
        })
    }

    /// The token's claims, when the issuer signed it.
    async fn decode(&self, token: &str) -> Result<EmbeddedClaims, TokenRefusal> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| refusal("is not a JWT (a Maskinporten access token)"))?;
        if header.alg != Algorithm::RS256 {
            return Err(refusal(format!(
                "alg: the token is signed with {:?}; Maskinporten signs with RS256",
                header.alg
            )));
        }
        let key = match &self.keys {
            IssuerKeys::Own(maskinporten) => Arc::new(maskinporten.verifying_key().clone()),
            IssuerKeys::Published(cache) => {
                let kid = header
                    .kid
                    .as_deref()
                    .ok_or_else(|| refusal("kid: the token names no signing key"))?;
                cache.key(kid).await?
            }
        };
        let token = token.to_owned();
        // RSA verification is CPU work: off the async threads.
        Ok(tokio::task::spawn_blocking(move || {
            let mut validation = Validation::new(Algorithm::RS256);
            // Every claim is judged by the caller, by the app's clock.
            validation.validate_exp = false;
            validation.validate_nbf = false;
            validation.validate_aud = false;
            validation.required_spec_claims.clear();
            jsonwebtoken::decode::<EmbeddedClaims>(&token, &key, &validation)
        })
        .await
        .map_err(|_| refusal("could not be checked"))?
        .map_err(|error| match error.kind() {
            jsonwebtoken::errors::ErrorKind::Json(_) => {
                refusal("has claims that do not parse as Maskinporten's")
            }
            _ => refusal(format!(
                "is not signed by the token issuer ({})",
                self.issuer
            )),
        })?
        .claims)
    }
}

/// What a bearer token from the issuer lets its presenter do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedAccess {
    pub org_nr: OrgNr,
    pub scopes: Vec<String>,
    pub client_id: Option<String>,
}

fn organisation(claim: &Option<Organisation>) -> Option<OrgNr> {
    claim
        .as_ref()
        .and_then(|organisation| organisation.id.as_deref())
        .and_then(|id| OrgNr::parse_iso6523(id).ok())
}

/// Who presents the token: its `supplier` when it names one (a data
/// processor acting for the consumer), else its `consumer`, as
/// `AccessTokenClaims::client_org_nr` reads this installation's own tokens.
/// A claim that is there must name an organisation.
fn presenter(claims: &EmbeddedClaims) -> Result<OrgNr, TokenRefusal> {
    match &claims.supplier {
        Some(_) => organisation(&claims.supplier)
            .ok_or_else(|| refusal("supplier: must name an organisation (0192:…)")),
        None => organisation(&claims.consumer)
            .ok_or_else(|| refusal("consumer: must name an organisation (0192:…)")),
    }
}

/// The issuer made the token and it has not expired.
fn check_issued(
    claims: &EmbeddedClaims,
    issuer: &str,
    now: DateTime<Utc>,
    clock_skew: Duration,
) -> Result<(), TokenRefusal> {
    if claims.iss.as_deref() != Some(issuer) {
        return Err(refusal(format!("iss: must be the token issuer {issuer}")));
    }
    let exp = claims
        .exp
        .map(|exp| exp.floor() as i64)
        .ok_or_else(|| refusal("exp: is missing"))?;
    if exp + clock_skew.num_seconds() <= now.timestamp() {
        let expired =
            DateTime::from_timestamp(exp, 0).map_or_else(|| exp.to_string(), |at| at.to_rfc3339());
        return Err(refusal(format!(
            "exp: the token expired at {expired}, before the message was received"
        )));
    }
    Ok(())
}

fn check_claims(
    claims: &EmbeddedClaims,
    issuer: &str,
    expected: ExpectedParties<'_>,
    now: DateTime<Utc>,
    clock_skew: Duration,
) -> Result<(), TokenRefusal> {
    check_issued(claims, issuer, now, clock_skew)?;
    if !claims
        .scope
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .any(|scope| scope == SEND_SCOPE)
    {
        return Err(refusal(format!("scope: must include {SEND_SCOPE}")));
    }
    if organisation(&claims.consumer).as_ref() != Some(expected.agency) {
        return Err(refusal(format!(
            "consumer: must be 0192:{}, the message's avsender",
            expected.agency
        )));
    }
    let supplier = organisation(&claims.supplier);
    match expected.processor {
        Some(processor) if supplier.as_ref() != Some(processor) => Err(refusal(format!(
            "supplier: must be 0192:{processor}, the data processor that sends the message"
        ))),
        None if supplier.is_some() && supplier.as_ref() != Some(expected.agency) => {
            Err(refusal(format!(
                "supplier: names a data processor, but the message is sent by 0192:{} itself",
                expected.agency
            )))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(number: &str) -> OrgNr {
        OrgNr::parse(number).unwrap()
    }

    fn claims(value: serde_json::Value) -> EmbeddedClaims {
        serde_json::from_value(value).unwrap()
    }

    const ISSUER: &str = "https://maskinporten.example/";

    fn good() -> serde_json::Value {
        serde_json::json!({
            "iss": ISSUER,
            "exp": 1_000_100,
            "scope": "digitalpostinnbygger:send",
            "consumer": {"authority": "iso6523-actorid-upis", "ID": "0192:974760673"},
        })
    }

    fn check(value: serde_json::Value, processor: Option<&OrgNr>) -> Result<(), TokenRefusal> {
        let agency = org("974760673");
        check_claims(
            &claims(value),
            ISSUER,
            ExpectedParties {
                agency: &agency,
                processor,
            },
            DateTime::from_timestamp(1_000_000, 0).unwrap(),
            Duration::seconds(30),
        )
    }

    fn refused_for(value: serde_json::Value, processor: Option<&OrgNr>) -> String {
        check(value, processor).unwrap_err().0
    }

    #[test]
    fn a_token_for_the_agency_from_the_issuer_in_time_is_accepted() {
        assert_eq!(check(good(), None), Ok(()));
    }

    #[test]
    fn each_refusal_names_its_claim() {
        let mut other_issuer = good();
        other_issuer["iss"] = "https://elsewhere.example/".into();
        assert!(refused_for(other_issuer, None).starts_with("iss:"));

        let mut expired = good();
        expired["exp"] = 999_960.into();
        assert!(refused_for(expired, None).starts_with("exp:"));

        let mut no_scope = good();
        no_scope["scope"] = "krr:global/kontaktinformasjon.read".into();
        assert!(refused_for(no_scope, None).starts_with("scope:"));

        let mut other_consumer = good();
        other_consumer["consumer"]["ID"] = "0192:991825827".into();
        assert!(refused_for(other_consumer, None).starts_with("consumer:"));
    }

    #[test]
    fn exp_allows_the_clock_skew_and_no_more() {
        let mut within = good();
        within["exp"] = 999_980.into();
        assert_eq!(check(within, None), Ok(()));
        let mut beyond = good();
        beyond["exp"] = 999_970.into();
        assert!(check(beyond, None).is_err());
    }

    #[test]
    fn a_processor_needs_a_token_naming_it_as_supplier() {
        let processor = org("991825827");
        assert!(refused_for(good(), Some(&processor)).starts_with("supplier:"));
        let mut delegated = good();
        delegated["supplier"] =
            serde_json::json!({"authority": "iso6523-actorid-upis", "ID": "0192:991825827"});
        assert_eq!(check(delegated.clone(), Some(&processor)), Ok(()));
        // The same token does not let the processor pose as the agency itself.
        assert!(refused_for(delegated, None).starts_with("supplier:"));
    }

    #[test]
    fn a_bearer_token_is_presented_by_its_supplier_else_its_consumer() {
        assert_eq!(presenter(&claims(good())), Ok(org("974760673")));
        let mut processor = good();
        processor["supplier"] =
            serde_json::json!({"authority": "iso6523-actorid-upis", "ID": "0192:991825827"});
        assert_eq!(presenter(&claims(processor)), Ok(org("991825827")));
        // A supplier that names no organisation is not read as the consumer.
        let mut garbled = good();
        garbled["supplier"] = serde_json::json!({"authority": "iso6523-actorid-upis", "ID": "x"});
        assert!(presenter(&claims(garbled))
            .unwrap_err()
            .0
            .starts_with("supplier:"));
    }
}
