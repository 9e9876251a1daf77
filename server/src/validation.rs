//! What is wrong with input, by field, independent of how it arrived.
//!
//! Domain parsers (the broker's business messages and packages, the
//! register's lookups) report [`FieldError`]s; the HTTP layer
//! ([`crate::http::problem`]) lists them as a problem's `invalid-params`.
//! Keeping the type here means a parser never depends on HTTP.

use serde::Serialize;

/// One bad input field: `name` is its path (`metadata.avsender.navn`,
/// `document`), `reason` says what is wrong in plain words. Serialized as
/// RFC 7807's `invalid-params` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub name: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(name: impl Into<String>, reason: impl ToString) -> Self {
        Self {
            name: name.into(),
            reason: reason.to_string(),
        }
    }
}
