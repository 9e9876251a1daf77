//! "Min aktivitet": what has been done with the citizen's mailbox and
//! register entry, by them and by others. The wire types, the server
//! function, and (on the server) the service trait it calls.
//!
//! Like every citizen query, the list is the logged-in citizen's own: there
//! is no way to name another person.

use crate::{domain::SecurityLevel, error::AppError};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The list shows this many, the newest.
pub const SHOWN: u32 = 200;

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivityKind {
    /// The citizen logged in, at this level, in this browser ("Firefox på
    /// Linux"; none when it did not say).
    Login {
        level: SecurityLevel,
        browser: Option<String>,
    },
    /// The citizen downloaded their whole archive.
    Export,
    /// An agency looked up the citizen's contact details in the register.
    Lookup { agency: String },
    /// The citizen gave `delegate` a power of attorney.
    FullmaktGiven { delegate: String },
    /// `delegate` opened the citizen's mailbox under their power.
    FullmaktUsed { delegate: String },
    /// The power `delegate` held was ended, by them or by the citizen.
    FullmaktEnded { delegate: String, by_delegate: bool },
    /// An operator of the print service downloaded a letter for the citizen
    /// going to paper: alone, or in its batch.
    PrintDownload { batch: bool },
}

/// One line of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub at: DateTime<Utc>,
    pub kind: ActivityKind,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Server-only: the activity log the server function calls.

    use super::*;
    use crate::api::session::{fail, SignedIn};
    use std::sync::Arc;

    #[async_trait::async_trait]
    pub trait ActivityLog: Send + Sync + 'static {
        /// The viewer's newest [`SHOWN`] entries, newest first.
        async fn activity(&self, viewer: &SignedIn) -> Result<Vec<ActivityEntry>, AppError>;
    }

    pub type SharedActivityLog = Arc<dyn ActivityLog>;

    pub fn activity_log() -> Result<SharedActivityLog, AppError> {
        use_context::<SharedActivityLog>().ok_or_else(|| fail(AppError::Internal))
    }
}

#[server(endpoint = "load_activity")]
pub async fn load_activity() -> Result<Vec<ActivityEntry>, AppError> {
    use crate::api::session;
    let citizen = session::require_signed_in()?;
    ssr::activity_log()?
        .activity(&citizen)
        .await
        .map_err(session::fail)
}
