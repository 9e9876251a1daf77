//! TestID: a small OpenID Connect provider built into `postkasse`, shaped like
//! ID-porten's TestID login, so that newcomers, the demo and the end-to-end
//! tests can log in on one machine without a real ID-porten.
//!
//! A tester types a synthetic national id and picks the level. The provider
//! does the authorization code flow with mandatory PKCE (S256), single-use
//! codes, RS256 ID tokens carrying `pid`, `acr`, `amr: ["TestID"]`, `sid`,
//! `nonce` and `auth_time`, and end-session with front-channel logout.
//!
//! It is deliberately separate from the relying party in [`crate::auth`]:
//! the relying party reaches it over HTTP like any other provider. Settings
//! refuse it in production.

mod keys;
mod pages;
pub mod routes;

use crate::clock::Clock;
use app::domain::Fnr;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
};

pub use keys::SigningKey;

/// The levels TestID offers, as ID-porten's `acr` values.
pub const ACR_SUBSTANTIAL: &str = "idporten-loa-substantial";
pub const ACR_HIGH: &str = "idporten-loa-high";

/// A relying party allowed to use this provider.
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    pub client_id: String,
    pub client_secret: SecretString,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub frontchannel_logout_uri: Option<String>,
}

/// An authorization code waiting to be exchanged; dies after one use or a minute.
struct IssuedCode {
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    nonce: String,
    acr: String,
    pid: Fnr,
    sid: String,
    auth_time: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

pub struct TestIdProvider {
    issuer: String,
    key: SigningKey,
    clients: Vec<RegisteredClient>,
    codes: Mutex<HashMap<String, IssuedCode>>,
    clock: Arc<dyn Clock>,
}

impl TestIdProvider {
    /// `issuer` is the provider's public URL, e.g. `http://127.0.0.1:3000/testid`.
    pub fn new(
        issuer: String,
        key_file: &Path,
        clients: Vec<RegisteredClient>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            issuer,
            key: SigningKey::load_or_generate(key_file)?,
            clients,
            codes: Mutex::new(HashMap::new()),
            clock,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    fn client(&self, client_id: &str) -> Option<&RegisteredClient> {
        self.clients
            .iter()
            .find(|client| client.client_id == client_id)
    }
}
