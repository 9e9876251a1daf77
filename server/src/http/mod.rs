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

/// Who may read the mailbox a request is about: its owner, or a delegate in
/// it under a power of attorney (the session layer puts one or the other).
pub fn reader(
    own: Option<axum::Extension<app::api::session::SignedIn>>,
    acting: Option<axum::Extension<app::api::session::ActingFor>>,
) -> Result<app::api::session::SignedIn, ApiError> {
    use app::api::session::ActingFor;
    match (own, acting) {
        (Some(axum::Extension(own)), _) => Ok(own),
        (None, Some(axum::Extension(ActingFor(delegate)))) => Ok(delegate),
        (None, None) => Err(ApiError::Unauthorized),
    }
}

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
