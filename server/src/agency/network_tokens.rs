//! This Postkasse's own Maskinporten access tokens, for when it talks to other
//! mailbox providers in the DPI network: forwarding a letter for the agency
//! that sent it (the token's `consumer` is that agency, its `supplier` this
//! Postkasse), or sending receipts for itself.
//!
//! Like every DPI participant it gets them from the network's Maskinporten:
//! from itself when this installation is the issuer, or from the configured
//! token endpoint with a grant signed by its provider key. A token is kept
//! until shortly before it expires.

use super::{
    maskinporten::{sign_grant, Maskinporten, TokenResponse, JWT_BEARER_GRANT_TYPE},
    SEND_SCOPE,
};
use crate::clock::Clock;
use anyhow::Context;
use app::domain::OrgNr;
use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use std::{collections::HashMap, sync::Arc};
use tokio::sync::Mutex;

/// A token is taken again this long before it expires, so it does not run
/// out on the way.
const RENEW_BEFORE_SECONDS: i64 = 20;

/// Where this Postkasse's tokens come from.
pub enum TokenSource {
    /// This installation is the network's Maskinporten and signs its own.
    Own(Arc<Maskinporten>),
    /// The network's Maskinporten is elsewhere; this Postkasse is a client there.
    Remote(Box<RemoteIssuer>),
    /// Another issuer is trusted, but no client there is configured: this
    /// Postkasse can receive from other providers, not send to them.
    Unconfigured,
}

/// A token endpoint where this Postkasse is registered as a client.
pub struct RemoteIssuer {
    pub token_url: url::Url,
    pub client_id: String,
    /// What grants name as `aud`: the issuer.
    pub audience: String,
    /// The provider key, PKCS#8 PEM, that grants are signed with.
    pub private_key_pem: SecretString,
    pub http: reqwest::Client,
}

pub struct NetworkTokens {
    source: TokenSource,
    own: OrgNr,
    clock: Arc<dyn Clock>,
    /// Tokens by the consumer they act for, with when to stop using them.
    cached: Mutex<HashMap<OrgNr, (String, DateTime<Utc>)>>,
}

impl NetworkTokens {
    pub fn new(source: TokenSource, own: OrgNr, clock: Arc<dyn Clock>) -> Self {
        NetworkTokens {
            source,
            own,
            clock,
            cached: Mutex::new(HashMap::new()),
        }
    }

    /// A token that lets this Postkasse send digital post for `consumer`:
    /// the agency a forwarded letter is from, or this Postkasse itself.
    pub async fn send_token(&self, consumer: &OrgNr) -> anyhow::Result<String> {
        let now = self.clock.now();
        if let Some((token, renew_at)) = self.cached.lock().await.get(consumer) {
            if now < *renew_at {
                return Ok(token.clone());
            }
        }
        let supplier = (*consumer != self.own).then_some(&self.own);
        let response = match &self.source {
            TokenSource::Own(maskinporten) => {
                maskinporten
                    .issue(
                        &format!("postkasse-{}", self.own),
                        consumer,
                        supplier,
                        SEND_SCOPE.to_owned(),
                    )
                    .await?
            }
            TokenSource::Remote(issuer) => issuer.token(supplier.map(|_| consumer), now).await?,
            TokenSource::Unconfigured => anyhow::bail!(
                "this Postkasse has no client at the network's Maskinporten: set maskinporten.token_url and maskinporten.client_id"
            ),
        };
        let renew_at = now + Duration::seconds((response.expires_in - RENEW_BEFORE_SECONDS).max(0));
        self.cached
            .lock()
            .await
            .insert(consumer.clone(), (response.access_token.clone(), renew_at));
        Ok(response.access_token)
    }
}

impl RemoteIssuer {
    /// Exchanges a fresh grant (asking to act for `consumer_org`, when given)
    /// for an access token.
    async fn token(
        &self,
        consumer_org: Option<&OrgNr>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<TokenResponse> {
        let (key, client_id, audience) = (
            self.private_key_pem.clone(),
            self.client_id.clone(),
            self.audience.clone(),
        );
        let consumer_org = consumer_org.cloned();
        // Signing is CPU work.
        let grant = tokio::task::spawn_blocking(move || {
            sign_grant(
                key.expose_secret(),
                &client_id,
                &audience,
                &[SEND_SCOPE.to_owned()],
                now,
                consumer_org.as_ref(),
            )
        })
        .await
        .context("grant signing stopped")??;
        let response = self
            .http
            .post(self.token_url.clone())
            .form(&[
                ("grant_type", JWT_BEARER_GRANT_TYPE),
                ("assertion", grant.as_str()),
            ])
            .send()
            .await
            .context("the network's Maskinporten could not be reached")?;
        let status = response.status();
        if !status.is_success() {
            // The OAuth error says why (an unknown client, a missing
            // delegation); it names no secret.
            let reason = response.text().await.unwrap_or_default();
            anyhow::bail!("the network's Maskinporten refused a token ({status}): {reason}");
        }
        response
            .json()
            .await
            .context("the network's Maskinporten answered something other than a token")
    }
}
