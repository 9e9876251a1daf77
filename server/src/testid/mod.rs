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

/// The codes waiting to be exchanged. Each new one sweeps out those whose
/// minute has passed, so codes never redeemed do not pile up in memory.
#[derive(Default)]
struct IssuedCodes(Mutex<HashMap<String, IssuedCode>>);

impl IssuedCodes {
    fn keep(&self, code: String, issued: IssuedCode, now: DateTime<Utc>) {
        let mut codes = self.0.lock().expect("codes lock");
        codes.retain(|_, waiting| waiting.expires_at > now);
        codes.insert(code, issued);
    }

    /// The code, once: a second exchange finds nothing.
    fn take(&self, code: &str) -> Option<IssuedCode> {
        self.0.lock().expect("codes lock").remove(code)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().expect("codes lock").len()
    }
}

pub struct TestIdProvider {
    issuer: String,
    key: SigningKey,
    clients: Vec<RegisteredClient>,
    codes: IssuedCodes,
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
            codes: IssuedCodes::default(),
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

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: chrono::Duration = chrono::Duration::seconds(60);

    #[test]
    fn codes_never_exchanged_are_swept_once_their_minute_has_passed() {
        let start = Utc::now();
        let issued = |at: DateTime<Utc>| IssuedCode {
            client_id: "postkasse".into(),
            redirect_uri: "http://127.0.0.1/auth/callback".into(),
            code_challenge: String::new(),
            nonce: String::new(),
            acr: String::new(),
            pid: Fnr::parse("14838510036", app::domain::SyntheticIds::Accepted).unwrap(),
            sid: String::new(),
            auth_time: at,
            expires_at: at + MINUTE,
        };
        let codes = IssuedCodes::default();
        for number in 0..1000 {
            codes.keep(format!("old-{number}"), issued(start), start);
        }
        assert_eq!(codes.len(), 1000, "all still waiting");
        let later = start + MINUTE + chrono::Duration::seconds(1);
        codes.keep("new".into(), issued(later), later);
        assert_eq!(codes.len(), 1, "the expired ones are gone");
        assert!(codes.take("new").is_some());
        assert!(codes.take("new").is_none(), "a code works once");
    }
}
