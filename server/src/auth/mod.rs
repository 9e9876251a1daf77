//! Citizens logging in and staying logged in.
//!
//! - [`oidc`]: the OpenID Connect relying party (ID-porten or TestID).
//! - [`Auth`]: logins held server-side until they return, sessions with idle
//!   and absolute timeouts, logout and front-channel logout.
//! - [`routes`]: the `/auth/*` endpoints.
//!
//! Cookies carry only random values; the database stores their SHA-256. The
//! session cookie is `__Host-` prefixed, Secure, HttpOnly and SameSite=Lax, and
//! its id is new at every login.
//!
//! A session may name a power of attorney its citizen holds ([`Powers`]);
//! while the power is in force the session reads the principal's mailbox as
//! [`Visitor::Delegate`], and the moment it is not, the session is the
//! citizen's own again.

pub mod oidc;
pub mod routes;
pub mod session_layer;
mod store;

pub use store::{LoginAttempt, Store, StoredSession};

use crate::{clock::Clock, store::StorageError, tokens::random_token};
use app::{
    api::{
        activity::ActivityKind,
        session::{ActingFor, OnBehalf, SignedIn},
    },
    domain::{Fnr, FullmaktId, SecurityLevel},
};
use chrono::{DateTime, Duration, Utc};
use oidc::{LoginRefused, RelyingParty};
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "__Host-postkasse-session";
pub const LOGIN_COOKIE: &str = "__Host-postkasse-login";
/// How long a citizen may spend at the provider.
pub const LOGIN_LIFETIME: Duration = Duration::minutes(10);

/// The facts of a citizen's login that a signature records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginEvidence {
    pub level: SecurityLevel,
    pub authenticated_at: DateTime<Utc>,
    pub provider_sid: Option<String>,
    /// SHA-256 (hex) of the ID token, so the evidence can be matched to the
    /// provider's records without the token leaving Postkasse.
    pub id_token_sha256: String,
}

/// Who a live session lets in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visitor {
    /// The citizen, in their own mailbox.
    Citizen(SignedIn),
    /// The citizen as a delegate, in a principal's mailbox.
    Delegate(ActingFor),
}

/// A power of attorney in force, as a delegate's session uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerInForce {
    pub principal: Fnr,
    pub principal_name: Option<String>,
    pub on_behalf: OnBehalf,
}

/// Powers of attorney as sessions need them (provided by `crate::fullmakt`).
#[async_trait::async_trait]
pub trait Powers: Send + Sync + 'static {
    /// Power `id`, if `delegate` holds it and it is in force now.
    async fn power_in_force(
        &self,
        id: FullmaktId,
        delegate: &Fnr,
    ) -> Result<Option<PowerInForce>, StorageError>;
}

#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
}

/// A login begun: where to send the browser and the cookie that binds it.
pub struct LoginRedirect {
    pub provider_url: String,
    pub browser_binding: String,
}

/// A login completed: the new session's cookie value and where to go next.
pub struct LoginCompleted {
    pub session_cookie: String,
    pub return_to: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("unknown, used or expired login state")]
    UnknownState,
    #[error("the login was begun in another browser")]
    OtherBrowser,
    #[error(transparent)]
    Refused(#[from] LoginRefused),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

pub struct Auth {
    relying_party: RelyingParty,
    store: Arc<dyn Store>,
    /// Every login is recorded for the citizen's "Min aktivitet".
    activity: Arc<dyn crate::activity::Store>,
    clock: Arc<dyn Clock>,
    policy: SessionPolicy,
    public_url: String,
    /// Powers of attorney, for sessions that switched to a principal.
    powers: Option<Arc<dyn Powers>>,
}

pub(crate) fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Only paths on this site, so a login can never be turned into a redirect elsewhere.
pub fn safe_return_path(candidate: Option<&str>) -> String {
    candidate
        .and_then(app::locale::local_path)
        .unwrap_or("/innboks")
        .to_owned()
}

impl Auth {
    pub fn new(
        relying_party: RelyingParty,
        store: Arc<dyn Store>,
        activity: Arc<dyn crate::activity::Store>,
        clock: Arc<dyn Clock>,
        policy: SessionPolicy,
        public_url: String,
    ) -> Self {
        Self {
            relying_party,
            store,
            activity,
            clock,
            policy,
            public_url,
            powers: None,
        }
    }

    /// Lets sessions switch into a principal's mailbox under a power.
    pub fn with_powers(mut self, powers: Arc<dyn Powers>) -> Self {
        self.powers = Some(powers);
        self
    }

    pub fn relying_party(&self) -> &RelyingParty {
        &self.relying_party
    }

    /// Sends the citizen to the provider, asking for at least `level`.
    pub async fn begin_login(
        &self,
        level: SecurityLevel,
        return_to: Option<&str>,
    ) -> anyhow::Result<LoginRedirect> {
        let start = self.relying_party.begin(level).await?;
        let browser_binding = random_token();
        let now = self.clock.now();
        self.store
            .insert_login_attempt(
                &LoginAttempt {
                    state: start.state,
                    browser_binding: sha256_hex(&browser_binding),
                    nonce: start.nonce,
                    pkce_verifier: start.pkce_verifier,
                    requested_level: level,
                    return_to: safe_return_path(return_to),
                    created_at: now,
                },
                now - LOGIN_LIFETIME,
            )
            .await?;
        Ok(LoginRedirect {
            provider_url: start.url,
            browser_binding,
        })
    }

    /// Finishes a login the provider sent back. The pre-login record is used
    /// up whatever the outcome; any session the browser had is ended, so the
    /// session id always changes at login. The login is recorded for the
    /// citizen with its level and the browser `user_agent` names.
    pub async fn complete_login(
        &self,
        state: &str,
        code: &str,
        issuer_in_response: Option<&str>,
        browser_binding: Option<&str>,
        previous_session: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<LoginCompleted, LoginError> {
        let now = self.clock.now();
        let attempt = self
            .store
            .take_login_attempt(state, now - LOGIN_LIFETIME)
            .await?
            .ok_or(LoginError::UnknownState)?;
        let same_browser =
            browser_binding.is_some_and(|binding| sha256_hex(binding) == attempt.browser_binding);
        if !same_browser {
            return Err(LoginError::OtherBrowser);
        }
        let login = self
            .relying_party
            .complete(
                code,
                issuer_in_response,
                &attempt.nonce,
                &attempt.pkce_verifier,
                attempt.requested_level,
            )
            .await?;
        if let Some(previous) = previous_session {
            self.store.delete_session(&sha256_hex(previous)).await?;
        }
        self.activity
            .record_activity(&[crate::activity::Activity {
                fnr: login.fnr.clone(),
                at: now,
                kind: ActivityKind::Login {
                    level: login.level,
                    browser: user_agent.and_then(crate::activity::browser_name),
                },
            }])
            .await?;
        let session_cookie = random_token();
        self.store
            .insert_session(&StoredSession {
                id_hash: sha256_hex(&session_cookie),
                fnr: login.fnr,
                level: login.level,
                provider_sid: login.provider_sid,
                id_token: login.id_token,
                created_at: now,
                last_seen_at: now,
                display_name: None,
                acting_for: None,
            })
            .await?;
        tracing::info!(level = login.level.as_number(), "citizen logged in");
        Ok(LoginCompleted {
            session_cookie,
            return_to: attempt.return_to,
        })
    }

    /// Who a session cookie lets in, if the session is alive: the citizen,
    /// or the citizen as a delegate while the power their session names is
    /// in force (once it is not, the session is their own again). An
    /// expired session is deleted on sight.
    pub async fn current(&self, session_cookie: &str) -> Result<Option<Visitor>, StorageError> {
        let Some(session) = self.live_session(session_cookie).await? else {
            return Ok(None);
        };
        if let (Some(power), Some(powers)) = (session.acting_for, &self.powers) {
            match powers.power_in_force(power, &session.fnr).await? {
                Some(power) => {
                    return Ok(Some(Visitor::Delegate(ActingFor(SignedIn {
                        fnr: power.principal,
                        level: session.level,
                        display_name: power.principal_name,
                        on_behalf: Some(power.on_behalf),
                    }))))
                }
                None => self.store.set_acting_for(&session.id_hash, None).await?,
            }
        }
        Ok(Some(Visitor::Citizen(SignedIn {
            fnr: session.fnr,
            level: session.level,
            display_name: session.display_name,
            on_behalf: None,
        })))
    }

    /// Switches the session into the mailbox power `id` reaches, or with
    /// None back to the citizen's own. The caller has checked the power.
    pub async fn act_for(
        &self,
        session_cookie: &str,
        power: Option<FullmaktId>,
    ) -> Result<(), StorageError> {
        let Some(session) = self.live_session(session_cookie).await? else {
            return Err(StorageError::NotFound);
        };
        self.store.set_acting_for(&session.id_hash, power).await
    }

    /// The session behind a cookie, if it is alive. An expired session is
    /// deleted on sight.
    async fn live_session(
        &self,
        session_cookie: &str,
    ) -> Result<Option<StoredSession>, StorageError> {
        let id_hash = sha256_hex(session_cookie);
        let Some(session) = self.store.session(&id_hash).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        let idle_expired = now - session.last_seen_at > self.policy.idle_timeout;
        let absolute_expired = now - session.created_at > self.policy.absolute_timeout;
        if idle_expired || absolute_expired {
            self.store.delete_session(&id_hash).await?;
            return Ok(None);
        }
        // Writing on every request would be wasteful; a minute's precision is plenty.
        if now - session.last_seen_at > Duration::minutes(1) {
            self.store.touch_session(&id_hash, now).await?;
        }
        Ok(Some(session))
    }

    /// What the login behind a live session proves, for a signature made
    /// on the citizen's behalf: the level, when they authenticated (the ID
    /// token's `auth_time`, else when the session began), the provider's
    /// session id and a hash of the ID token (the token itself stays here).
    pub async fn login_evidence(
        &self,
        session_cookie: &str,
    ) -> Result<Option<LoginEvidence>, StorageError> {
        Ok(self
            .live_session(session_cookie)
            .await?
            .map(|session| LoginEvidence {
                level: session.level,
                authenticated_at: oidc::auth_time(&session.id_token).unwrap_or(session.created_at),
                provider_sid: session.provider_sid,
                id_token_sha256: hex::encode(Sha256::digest(session.id_token.as_bytes())),
            }))
    }

    /// Ends the local session and returns where to send the browser: the
    /// provider's end-session endpoint when it has one, else the front page.
    pub async fn logout(&self, session_cookie: &str) -> Result<String, StorageError> {
        let id_hash = sha256_hex(session_cookie);
        let session = self.store.session(&id_hash).await?;
        self.store.delete_session(&id_hash).await?;
        let front_page = format!("{}/", self.public_url);
        let Some(session) = session else {
            return Ok(front_page);
        };
        Ok(self
            .relying_party
            .end_session_url(&session.id_token, &front_page)
            .await
            .unwrap_or(front_page))
    }

    /// The provider ended its session `sid`: end ours too.
    pub async fn frontchannel_logout(
        &self,
        issuer: Option<&str>,
        sid: Option<&str>,
    ) -> Result<u64, StorageError> {
        match (issuer, sid) {
            (Some(issuer), Some(sid)) if issuer == self.relying_party.issuer() => {
                self.store.delete_sessions_by_provider_sid(sid).await
            }
            _ => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(safe_return_path(Some("/brev/123")), "/brev/123");
        assert_eq!(safe_return_path(Some("//evil.example/")), "/innboks");
        assert_eq!(safe_return_path(Some("https://evil.example/")), "/innboks");
        assert_eq!(safe_return_path(Some("/\\evil.example")), "/innboks");
        assert_eq!(safe_return_path(Some("/a\r\nSet-Cookie: x")), "/innboks");
        assert_eq!(safe_return_path(None), "/innboks");
    }
}
