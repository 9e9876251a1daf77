//! Where notices go: e-mail over SMTP, SMS through an HTTP gateway, or the
//! development sink that only stores what would have been sent.
//!
//! Every attempt carries the job's idempotency key, the same for each
//! retry, so a receiver can recognise a notice it has already delivered.

pub mod email;
pub mod sink;
pub mod sms;

use super::NoticeChannel;
use async_trait::async_trait;
use uuid::Uuid;

/// A notice on its way to one address.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingNotice {
    pub key: Uuid,
    pub channel: NoticeChannel,
    /// An e-mail address or mobile number from the register.
    pub address: String,
    pub text: String,
}

/// Contact details are personal data: kept out of logs.
impl std::fmt::Debug for OutgoingNotice {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OutgoingNotice")
            .field("key", &self.key)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// Why a notice did not go out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (network trouble, 5xx, 429, SMTP 4xx).
    #[error("transient: {0}")]
    Transient(String),
    /// Will not work however often it is tried (a refused address, 4xx).
    #[error("permanent: {0}")]
    Permanent(String),
}

#[async_trait]
pub trait NoticeSender: Send + Sync + 'static {
    async fn send(&self, notice: &OutgoingNotice) -> Result<(), SendError>;
}
