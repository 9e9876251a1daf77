//! Server-only: a server function's arguments as they come, text, parsed
//! into domain types. Server functions take ids, pages and flags as text
//! and parse them here, so a malformed one is a field problem (a 4xx the
//! page can show) naming the argument, never a deserialization failure
//! answered as an internal error.

use crate::{
    api::session::fail,
    domain::PageNumber,
    error::{AppError, Problem},
};
use std::str::FromStr;

/// An id (a letter's, a folder's, an upload's).
pub fn id<T: FromStr>(field: &str, text: &str) -> Result<T, AppError> {
    text.trim()
        .parse()
        .map_err(|_| fail(AppError::invalid(field, Problem::NotAnId)))
}

/// A page number; none (or an empty field) is the first page.
pub fn page(field: &str, text: Option<&str>) -> Result<PageNumber, AppError> {
    match text.map(str::trim) {
        None | Some("") => Ok(PageNumber::FIRST),
        Some(text) => text.parse().map_err(|_| {
            fail(AppError::invalid(
                field,
                Problem::PageOutOfRange {
                    max: PageNumber::MAX,
                },
            ))
        }),
    }
}

/// A flag the page sends as `true` or `false`.
pub fn flag(field: &str, text: &str) -> Result<bool, AppError> {
    match text.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(fail(AppError::invalid(field, Problem::Malformed))),
    }
}
