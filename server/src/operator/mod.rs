//! Operators at the web console: the development sink's page
//! (`/drift/varsler`), which shows what notices would have been sent.
//!
//! Operators are not citizens, so they do not log in through ID-porten, and
//! there is no operator password to leak. Whoever can run `postkasse operator
//! login-link` on the server (and so could read the database anyway) gets a
//! single-use code that opens a short operator session in a browser. Codes
//! and session cookies are random; only their SHA-256 is stored.

pub mod routes;
pub mod session_layer;
mod store;

pub use store::Store;

use crate::{
    auth::sha256_hex, clock::Clock, notify, notify::NoticeRoute, store::StorageError,
    tokens::random_token,
};
use app::{
    api::{
        operator::{ssr::OperatorConsole, ChannelRoute, SinkNoticeView, SinkPage, SIGN_IN_PATH},
        session::OperatorSignedIn,
    },
    error::AppError,
};
use chrono::Duration;
use std::sync::Arc;

/// The operator session's cookie: `__Host-`, Secure, HttpOnly, and
/// SameSite=Strict, since no operator page is ever reached from another site.
pub const OPERATOR_COOKIE: &str = "__Host-postkasse-drift";
/// How long a printed code can be used.
pub const CODE_LIFETIME: Duration = Duration::minutes(10);
/// How long an operator session lasts; it is not extended by use.
pub const SESSION_LIFETIME: Duration = Duration::hours(1);

pub struct Operators {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Operators {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// A new single-use code, valid for [`CODE_LIFETIME`].
    pub async fn issue_code(&self) -> Result<String, StorageError> {
        let code = random_token();
        self.store
            .insert_sign_in_code(&sha256_hex(&code), self.clock.now() + CODE_LIFETIME)
            .await?;
        Ok(code)
    }

    /// Uses the code up and opens a session: the session cookie's value, or
    /// `None` when the code is unknown, used or expired. The browser's
    /// `previous_session`, if any, ends: one operator session at a time.
    pub async fn sign_in(
        &self,
        code: &str,
        previous_session: Option<&str>,
    ) -> Result<Option<String>, StorageError> {
        let now = self.clock.now();
        if !self.store.take_sign_in_code(&sha256_hex(code), now).await? {
            return Ok(None);
        }
        if let Some(previous) = previous_session {
            self.sign_out(previous).await?;
        }
        let session = random_token();
        self.store
            .insert_session(&sha256_hex(&session), now, now + SESSION_LIFETIME)
            .await?;
        tracing::info!("operator signed in");
        Ok(Some(session))
    }

    pub async fn current(
        &self,
        session_cookie: &str,
    ) -> Result<Option<OperatorSignedIn>, StorageError> {
        let alive = self
            .store
            .session_alive(&sha256_hex(session_cookie), self.clock.now())
            .await?;
        Ok(alive.then_some(OperatorSignedIn))
    }

    pub async fn sign_out(&self, session_cookie: &str) -> Result<(), StorageError> {
        self.store
            .delete_session(&sha256_hex(session_cookie), self.clock.now())
            .await
    }
}

/// The link `postkasse operator login-link` prints.
pub fn sign_in_link(public_url: &str, code: &str) -> String {
    format!("{public_url}{SIGN_IN_PATH}?kode={code}")
}

/// What the operator pages show.
pub struct Console {
    /// Where the sink's notices are.
    notices: Arc<dyn notify::Store>,
    email: ChannelRoute,
    sms: ChannelRoute,
}

impl Console {
    pub fn new(notices: Arc<dyn notify::Store>, email: NoticeRoute, sms: NoticeRoute) -> Self {
        let route = |route| match route {
            NoticeRoute::Sink => ChannelRoute::Sink,
            NoticeRoute::Smtp | NoticeRoute::Http => ChannelRoute::Sent,
        };
        Self {
            notices,
            email: route(email),
            sms: route(sms),
        }
    }
}

#[async_trait::async_trait]
impl OperatorConsole for Console {
    async fn sink(&self, _operator: OperatorSignedIn) -> Result<SinkPage, AppError> {
        let notices = self
            .notices
            .sink_notices(SinkPage::LIMIT)
            .await
            .map_err(crate::errors::internal)?;
        Ok(SinkPage {
            notices: notices
                .into_iter()
                .map(|notice| SinkNoticeView {
                    sent_at: notice.sent_at,
                    channel: notice.channel,
                    address: notice.address,
                    text: notice.text,
                    key: notice.key.to_string(),
                })
                .collect(),
            email: self.email,
            sms: self.sms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_carries_the_code_to_the_sign_in_page() {
        assert_eq!(
            sign_in_link("http://127.0.0.1:3000", "abc"),
            "http://127.0.0.1:3000/drift/logg-inn?kode=abc"
        );
    }
}
