//! Middleware that turns a session cookie into the signed-in citizen, put in
//! the request's extensions for pages, server functions and handlers.
//! (Operators' sessions are resolved by their own layer, and neither grants
//! what the other does.)
//!
//! A missing, unknown or expired session just means "not logged in"; the
//! routes that need a citizen answer 401 or show a login prompt themselves.
//! A delegate in a principal's mailbox is put there as
//! [`ActingFor`](app::api::session::ActingFor), never as a signed-in citizen,
//! so only what asks for a reader lets them in.

use super::{Auth, Visitor, SESSION_COOKIE};
use crate::http::cookies;
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use axum_extra::extract::cookie::CookieJar;
use std::sync::Arc;

pub async fn resolve_session(
    State(auth): State<Arc<Auth>>,
    jar: CookieJar,
    mut request: Request,
    next: Next,
) -> Response {
    cookies::resolve_session(
        &jar,
        SESSION_COOKIE,
        &mut request,
        "session",
        |value| async move { auth.current(&value).await },
    )
    .await;
    // One of the two kinds, never both.
    match request.extensions_mut().remove::<Visitor>() {
        Some(Visitor::Citizen(citizen)) => {
            request.extensions_mut().insert(citizen);
        }
        Some(Visitor::Delegate(delegate)) => {
            request.extensions_mut().insert(delegate);
        }
        None => {}
    }
    next.run(request).await
}
