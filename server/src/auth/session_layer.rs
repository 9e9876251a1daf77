//! Middleware that turns a session cookie into the signed-in citizen, and an
//! operator cookie into the signed-in operator, put in the request's
//! extensions for pages, server functions and handlers. The two are
//! independent: neither session grants what the other does.
//!
//! A missing, unknown or expired session just means "not logged in"; the
//! routes that need a citizen answer 401 or show a login prompt themselves.

use super::SESSION_COOKIE;
use crate::{operator::OPERATOR_COOKIE, startup::AppState};
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use axum_extra::extract::cookie::CookieJar;

pub async fn resolve_session(
    State(state): State<AppState>,
    jar: CookieJar,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        match state.auth.current(cookie.value()).await {
            Ok(Some(citizen)) => {
                request.extensions_mut().insert(citizen);
            }
            Ok(None) => {}
            // Failing closed: without a readable session the request is anonymous.
            Err(error) => tracing::error!(error = %error, "session lookup failed"),
        }
    }
    if let Some(cookie) = jar.get(OPERATOR_COOKIE) {
        match state.operators.current(cookie.value()).await {
            Ok(Some(operator)) => {
                request.extensions_mut().insert(operator);
            }
            Ok(None) => {}
            Err(error) => tracing::error!(error = %error, "operator session lookup failed"),
        }
    }
    next.run(request).await
}
