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

pub use crate::error::fail;
