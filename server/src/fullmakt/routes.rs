//! Switching a session into a principal's mailbox and back: plain form
//! posts, with or without JavaScript, because the whole page changes with
//! them.
//!
//! - `POST /fullmakter/bruk` (field `id`): the delegate opens the mailbox
//!   power `id` reaches; then the inbox. A power not in force sends the
//!   browser back to `/fullmakter?feil=ikke-gyldig`.
//! - `POST /fullmakter/tilbake`: back to the citizen's own mailbox.

use super::FullmaktService;
use crate::{
    auth::{Auth, SESSION_COOKIE},
    http::{extract::Form, ApiError},
};
use app::{
    api::session::{ActingFor, SignedIn},
    domain::FullmaktId,
    error::AppError,
};
use axum::{
    extract::{FromRef, State},
    response::{IntoResponse, Redirect, Response},
    routing::post,
    Extension, Router,
};
use axum_extra::extract::cookie::CookieJar;
use std::sync::Arc;

/// The page powers are given, ended and used from.
pub const PAGE: &str = "/fullmakter";
/// Where the delegate lands in the principal's mailbox.
const INBOX: &str = "/innboks";

pub fn routes<S>() -> Router<S>
where
    Arc<FullmaktService>: FromRef<S>,
    Arc<Auth>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/fullmakter/bruk", post(take_into_use))
        .route("/fullmakter/tilbake", post(back_to_own))
}

#[derive(Debug, serde::Deserialize)]
pub struct PowerForm {
    id: String,
}

fn session_cookie(jar: &CookieJar) -> Result<String, ApiError> {
    jar.get(SESSION_COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .ok_or(ApiError::Unauthorized)
}

pub async fn take_into_use(
    State(powers): State<Arc<FullmaktService>>,
    State(auth): State<Arc<Auth>>,
    own: Option<Extension<SignedIn>>,
    acting: Option<Extension<ActingFor>>,
    jar: CookieJar,
    Form(PowerForm { id }): Form<PowerForm>,
) -> Result<Response, ApiError> {
    let delegate = crate::http::reader(own, acting)?.as_themselves();
    let id: FullmaktId = id
        .parse()
        .map_err(|_| ApiError::invalid("id", "must be a power of attorney's id (a UUID)"))?;
    let cookie = session_cookie(&jar)?;
    match powers.take_into_use(&delegate, id).await {
        Ok(()) => {}
        Err(AppError::NotFound) => {
            return Ok(Redirect::to(&format!("{PAGE}?feil=ikke-gyldig")).into_response())
        }
        Err(error) => return Err(error.into()),
    }
    auth.act_for(&cookie, Some(id))
        .await
        .map_err(anyhow::Error::from)?;
    Ok(Redirect::to(INBOX).into_response())
}

pub async fn back_to_own(
    State(auth): State<Arc<Auth>>,
    own: Option<Extension<SignedIn>>,
    acting: Option<Extension<ActingFor>>,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    crate::http::reader(own, acting)?;
    let cookie = session_cookie(&jar)?;
    auth.act_for(&cookie, None)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(Redirect::to(PAGE).into_response())
}
