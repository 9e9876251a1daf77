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

/// Whether a browser posted a form by itself (it asks for HTML): such a post
/// is answered by sending the browser back to a page, not with JSON.
pub fn wants_page(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

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
