//! Server-only: who is making the request, as server functions read it from
//! the request context, and how their refusals set the response status.
//!
//! The server checks the session cookies and puts a [`SignedIn`] citizen or
//! an [`OperatorSignedIn`] operator in the request's extensions; the two
//! kinds of session are kept apart, so neither gives access to the other's
//! server functions.

use crate::{
    domain::{Fnr, SecurityLevel},
    error::AppError,
};
use leptos::prelude::*;

/// The logged-in citizen. The server puts it in the request's extensions
/// after checking the session cookie; it never crosses the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub fnr: Fnr,
    pub level: SecurityLevel,
    pub display_name: Option<String>,
}

/// The citizen making this request, if logged in.
pub fn signed_in() -> Option<SignedIn> {
    use_context::<http::request::Parts>()?
        .extensions
        .get::<SignedIn>()
        .cloned()
}

/// The citizen making this request; an error with status 401 otherwise.
pub fn require_signed_in() -> Result<SignedIn, AppError> {
    signed_in().ok_or_else(|| fail(AppError::Unauthorized))
}

/// A live operator session. The server puts it in the request's
/// extensions after checking the operator cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorSignedIn;

/// The operator making this request; an error with status 401 otherwise.
pub fn require_operator() -> Result<OperatorSignedIn, AppError> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<OperatorSignedIn>().copied())
        .ok_or_else(|| fail(AppError::Unauthorized))
}

/// Records the error's status on the response and hands it back.
///
/// Not for a form posted without JavaScript, though: Leptos answers that
/// with a 302 back to the form's page, the error in its query, and a
/// status set here would replace the 302 (leptos_axum applies it last),
/// leaving the browser on a bare JSON body instead of the page.
pub fn fail(error: AppError) -> AppError {
    if !is_plain_form_post() {
        error.set_response_status();
    }
    error
}

/// A POST that accepts HTML: a browser submitting a form by itself, which
/// server functions redirect. (Pages are GETs; the JavaScript client asks for JSON.)
fn is_plain_form_post() -> bool {
    use http::{header::ACCEPT, Method};
    use_context::<http::request::Parts>().is_some_and(|parts| {
        parts.method == Method::POST
            && parts
                .headers
                .get(ACCEPT)
                .and_then(|accept| accept.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
    })
}
