//! Middleware that turns an operator cookie into the signed-in operator, put
//! in the request's extensions for the console's pages and server functions.
//! Independent of the citizens' sessions: neither grants what the other does.

use super::{Operators, OPERATOR_COOKIE};
use crate::http::cookies;
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use axum_extra::extract::cookie::CookieJar;
use std::sync::Arc;

pub async fn resolve_operator(
    State(operators): State<Arc<Operators>>,
    jar: CookieJar,
    mut request: Request,
    next: Next,
) -> Response {
    let lookup = |value: String| async move { operators.current(&value).await };
    cookies::resolve_session(
        &jar,
        OPERATOR_COOKIE,
        &mut request,
        "operator session",
        lookup,
    )
    .await;
    next.run(request).await
}
