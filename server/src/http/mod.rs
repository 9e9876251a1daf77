//! HTTP plumbing shared by every route: the error shape, extractors that
//! answer with it, cookies and security headers. Routes that belong to a
//! domain live in that domain's module.

pub mod client_address;
pub mod cookies;
pub mod csrf;
pub mod extract;
pub mod language;
pub mod problem;
pub mod security_headers;

pub use problem::{ApiError, FieldError};

/// The token of an `Authorization: Bearer …` header, if there is a non-empty one.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|token| !token.is_empty())
}
