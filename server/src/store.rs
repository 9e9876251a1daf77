//! What a domain's store can fail with, by meaning.
//!
//! Each domain declares the trait for what it remembers (`krr::Store`,
//! `operator::Store`, ...) in its own words; they all answer with this one
//! error, so callers can tell "not there" and "already there" from a broken
//! database without knowing which database it is. The SQL implementations
//! (in `crate::sql`) turn driver errors into it.

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
