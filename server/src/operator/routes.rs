//! The operator console's form posts, plain so they work without JavaScript
//! (the cross-site check in front of every unsafe request guards them):
//!
//! - `POST /drift/logg-inn` with `kode`: opens an operator session and goes to
//!   the sink's page, or back to the form with `?feil=kode`;
//! - `POST /drift/logg-ut`: ends it.

use super::{Operators, OPERATOR_COOKIE, SESSION_LIFETIME};
use crate::http::{
    cookies::{host_cookie, removal},
    ApiError,
};
use app::api::operator::{SIGN_IN_PATH, SINK_PATH};
use axum::{
    extract::{rejection::FormRejection, FromRef, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
    Form, Router,
};
use axum_extra::extract::cookie::{CookieJar, SameSite};
use serde::Deserialize;
use std::sync::Arc;

/// The largest sign-in or sign-out form: a code is well under 100 bytes.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// The sign-in and sign-out posts; the state needs the [`Operators`].
pub fn router<S>() -> Router<S>
where
    Arc<Operators>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route(SIGN_IN_PATH, post(sign_in))
        .route(app::api::operator::SIGN_OUT_PATH, post(sign_out))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_FORM_BYTES))
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    kode: Option<String>,
}

async fn sign_in(
    State(operators): State<Arc<Operators>>,
    jar: CookieJar,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::from(rejection),
        _ => ApiError::invalid(
            "kode",
            "the body must be a form with the single-use code in kode",
        ),
    })?;
    let code = form.kode.unwrap_or_default();
    let session = match code.trim() {
        "" => None,
        code => {
            operators
                .sign_in(code, jar.get(OPERATOR_COOKIE).map(|cookie| cookie.value()))
                .await?
        }
    };
    let Some(session) = session else {
        return Ok(Redirect::to(&format!("{SIGN_IN_PATH}?feil=kode")).into_response());
    };
    let mut cookie = host_cookie(
        OPERATOR_COOKIE,
        session,
        Some(time::Duration::seconds(SESSION_LIFETIME.num_seconds())),
    );
    cookie.set_same_site(SameSite::Strict);
    Ok((jar.add(cookie), Redirect::to(SINK_PATH)).into_response())
}

async fn sign_out(
    State(operators): State<Arc<Operators>>,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    if let Some(session) = jar.get(OPERATOR_COOKIE) {
        operators.sign_out(session.value()).await?;
    }
    Ok((
        jar.add(removal(OPERATOR_COOKIE)),
        Redirect::to(SIGN_IN_PATH),
    )
        .into_response())
}
