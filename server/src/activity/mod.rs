//! "Min aktivitet": the log of what was done with a citizen's mailbox and
//! register entry, shown to them on one page. The login, the archive export
//! and the register lookup each record their line here before they answer,
//! so nothing the citizen should see goes unrecorded.
//!
//! The log keeps the least that answers "who, when": a login's level and a
//! short browser name (never the whole User-Agent), an agency's name.

use crate::{errors::internal, store::StorageError};
use app::{
    api::{
        activity::{ssr::ActivityLog, ActivityEntry, ActivityKind, SHOWN},
        session::SignedIn,
    },
    domain::Fnr,
    error::AppError,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// A line to record for a citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub fnr: Fnr,
    pub at: DateTime<Utc>,
    pub kind: ActivityKind,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Records the lines, all or none.
    async fn record_activity(&self, activities: &[Activity]) -> Result<(), StorageError>;

    /// The person's newest `limit` lines, newest first.
    async fn activity(&self, fnr: &Fnr, limit: u32) -> Result<Vec<ActivityEntry>, StorageError>;
}

/// The browser a User-Agent names, shortly: "Firefox (Linux)". None for an
/// agent nobody can read.
pub fn browser_name(user_agent: &str) -> Option<String> {
    const UNKNOWN: &str = "UNKNOWN";
    let parsed = woothee::parser::Parser::new().parse(user_agent)?;
    if parsed.name.is_empty() || parsed.name == UNKNOWN {
        return None;
    }
    Some(if parsed.os.is_empty() || parsed.os == UNKNOWN {
        parsed.name.to_owned()
    } else {
        format!("{} ({})", parsed.name, parsed.os)
    })
}

/// What the activity page reads.
pub struct ActivityService {
    store: Arc<dyn Store>,
}

impl ActivityService {
    pub fn new(store: Arc<dyn Store>) -> ActivityService {
        ActivityService { store }
    }
}

#[async_trait]
impl ActivityLog for ActivityService {
    async fn activity(&self, viewer: &SignedIn) -> Result<Vec<ActivityEntry>, AppError> {
        self.store
            .activity(&viewer.fnr, SHOWN)
            .await
            .map_err(internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_named_shortly_and_unreadable_agents_not_at_all() {
        assert_eq!(
            browser_name("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
                .as_deref(),
            Some("Firefox (Linux)")
        );
        assert_eq!(
            browser_name(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
            )
            .as_deref(),
            Some("Chrome (Windows 10)")
        );
        assert_eq!(browser_name("curl-ish/1"), None);
        assert_eq!(browser_name(""), None);
    }
}
