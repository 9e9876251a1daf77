//! The operators' console as the web app sees it: what the development sink
//! "sent" (the notices it stored instead of e-mailing or texting them).
//!
//! Operators are not citizens and do not log in through ID-porten: the server
//! prints a single-use sign-in link (`postkasse operator login-link`), and the
//! session it opens is kept apart from citizens' sessions. A citizen's session
//! gives no access here, and an operator's none to any mailbox.

use crate::{domain::NoticeChannel, error::AppError};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Where the sign-in form posts, and the page it lives on.
pub const SIGN_IN_PATH: &str = "/drift/logg-inn";
/// Where the sign-out form posts.
pub const SIGN_OUT_PATH: &str = "/drift/logg-ut";
/// The sink's page.
pub const SINK_PATH: &str = "/drift/varsler";

/// One notice the sink stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkNoticeView {
    pub sent_at: DateTime<Utc>,
    pub channel: NoticeChannel,
    /// The e-mail address or mobile number it would have gone to.
    pub address: String,
    pub text: String,
    /// The notice job's idempotency key: one key, one notice.
    pub key: String,
}

/// Where each channel's notices go in this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChannelRoute {
    /// Stored in the sink, shown here.
    Sink,
    /// Really sent (SMTP, or the HTTP SMS gateway).
    Sent,
}

/// The newest notices in the sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkPage {
    /// At most [`SinkPage::LIMIT`], newest first.
    pub notices: Vec<SinkNoticeView>,
    pub email: ChannelRoute,
    pub sms: ChannelRoute,
}

impl SinkPage {
    /// How many notices the page shows at most.
    pub const LIMIT: u32 = 200;
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Server-only: the console service.

    use super::*;
    use crate::api::session::{fail, OperatorSignedIn};
    use std::sync::Arc;

    #[async_trait::async_trait]
    pub trait OperatorConsole: Send + Sync + 'static {
        async fn sink(&self, operator: OperatorSignedIn) -> Result<SinkPage, AppError>;
    }

    pub type SharedOperatorConsole = Arc<dyn OperatorConsole>;

    pub fn console() -> Result<SharedOperatorConsole, AppError> {
        use_context::<SharedOperatorConsole>().ok_or_else(|| fail(AppError::Internal))
    }
}

#[server(endpoint = "sink_notices")]
pub async fn sink_notices() -> Result<SinkPage, AppError> {
    use crate::api::session::{fail, require_operator};
    let operator = require_operator()?;
    ssr::console()?.sink(operator).await.map_err(fail)
}
