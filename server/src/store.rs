//! What a domain's store can fail with, by meaning.
//!
//! Each domain declares the trait for what it remembers (`krr::Store`,
//! `operator::Store`, ...) in its own words; they all answer with this one
//! error, so callers can tell "not there" and "already there" from a broken
//! database without knowing which database it is. The SQL implementations
//! (in `crate::sql`) turn driver errors into it.
//!
//! [`Reader`] is whose letters a read of a citizen's data reaches: the
//! mailbox's and the replies' stores both take it.

use app::{
    api::session::SignedIn,
    domain::{Fnr, FullmaktId},
};

/// Whose letters a read reaches: the owner's, all of them; or, through the
/// power of attorney `power`, those of the senders it names, while it is in
/// force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader<'a> {
    pub owner: &'a Fnr,
    pub power: Option<FullmaktId>,
}

impl<'a> Reader<'a> {
    /// The owner reading their own letters.
    pub fn owner(owner: &'a Fnr) -> Reader<'a> {
        Reader { owner, power: None }
    }

    /// Whoever makes the request: the owner, or a delegate in their mailbox.
    pub fn of(viewer: &'a SignedIn) -> Reader<'a> {
        Reader {
            owner: &viewer.fnr,
            power: viewer.on_behalf.as_ref().map(|power| power.fullmakt),
        }
    }
}

/// Failures by meaning, so callers can answer 404 or 409 without knowing SQL.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    #[error("conflicts with stored data: {0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl StorageError {
    /// A stored row that no longer parses: rows are checked on the way in, so
    /// this means the database was changed behind Postkasse's back.
    pub fn corrupt(what: &str) -> Self {
        StorageError::Other(anyhow::anyhow!("stored {what} does not parse"))
    }
}
