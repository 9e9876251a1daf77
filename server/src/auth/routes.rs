//! `/auth/*`: the browser's side of logging in and out.
//!
//! - `GET /auth/login?level=high&return_to=/brev/…` begins a login (also the step-up).
//! - `GET /auth/callback` is where the provider sends the browser back.
//! - `POST /auth/logout` ends the session here and at the provider.
//! - `GET /auth/frontchannel-logout?iss=…&sid=…` is framed by the provider's logout page.

use super::{Auth, LoginError, LOGIN_COOKIE, LOGIN_LIFETIME, SESSION_COOKIE};
use crate::http::{
    cookies::{host_cookie, removal},
    extract::Query,
    ApiError,
};
use app::domain::SecurityLevel;
use axum::{
    extract::{FromRef, State},
    http::{header, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use std::sync::Arc;

/// The login routes; the state needs the [`Auth`] service.
pub fn router<S>() -> Router<S>
where
    Arc<Auth>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route("/auth/logout", post(logout))
        .route("/auth/frontchannel-logout", get(frontchannel_logout))
}

#[derive(Debug, Deserialize)]
pub struct LoginParams {
    level: Option<String>,
    return_to: Option<String>,
}

async fn login(
    State(auth): State<Arc<Auth>>,
    jar: CookieJar,
    Query(params): Query<LoginParams>,
) -> Result<Response, ApiError> {
    let level = match params.level.as_deref() {
        Some("high") | Some("4") => SecurityLevel::High,
        _ => SecurityLevel::Substantial,
    };
    let redirect = auth
        .begin_login(level, params.return_to.as_deref())
        .await
        .map_err(ApiError::Unavailable)?;
    let max_age = time::Duration::seconds(LOGIN_LIFETIME.num_seconds());
    let jar = jar.add(host_cookie(
        LOGIN_COOKIE,
        redirect.browser_binding,
        Some(max_age),
    ));
    Ok((jar, Redirect::to(&redirect.provider_url)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(auth): State<Arc<Auth>>,
    jar: CookieJar,
    headers: axum::http::HeaderMap,
    Query(params): Query<CallbackParams>,
) -> Response {
    let binding = jar
        .get(LOGIN_COOKIE)
        .map(|cookie| cookie.value().to_owned());
    let previous = jar
        .get(SESSION_COOKIE)
        .map(|cookie| cookie.value().to_owned());
    let jar = jar.add(removal(LOGIN_COOKIE));
    let (Some(code), Some(login_state)) = (params.code.as_deref(), params.state.as_deref()) else {
        tracing::warn!(
            provider_error = params.error.as_deref().unwrap_or("none"),
            "login callback without code"
        );
        return (jar, failed_login_page()).into_response();
    };
    let result = auth
        .complete_login(
            login_state,
            code,
            params.iss.as_deref(),
            binding.as_deref(),
            previous.as_deref(),
            headers
                .get(axum::http::header::USER_AGENT)
                .and_then(|agent| agent.to_str().ok()),
        )
        .await;
    match result {
        Ok(completed) => {
            let jar = jar.add(host_cookie(SESSION_COOKIE, completed.session_cookie, None));
            (jar, Redirect::to(&completed.return_to)).into_response()
        }
        Err(LoginError::Storage(error)) => {
            tracing::error!(error = %error, "login failed on storage");
            (jar, failed_login_page()).into_response()
        }
        Err(refused) => {
            tracing::warn!(reason = %refused, "login refused");
            (jar, failed_login_page()).into_response()
        }
    }
}

fn failed_login_page() -> (StatusCode, Html<&'static str>) {
    (
        StatusCode::BAD_REQUEST,
        Html(
            r#"<!DOCTYPE html><html lang="nb"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Innloggingen mislyktes – Postkasse</title><link rel="stylesheet" href="/pkg/postkasse.css"></head><body><main id="hovedinnhold"><h1>Innloggingen mislyktes</h1><p>Vi kunne ikke logge deg inn. Det kan skyldes at innloggingen tok for lang tid, eller at den ble startet i en annen fane.</p><p><a href="/auth/login">Prøv å logge inn på nytt</a></p></main></body></html>"#,
        ),
    )
}

async fn logout(State(auth): State<Arc<Auth>>, jar: CookieJar) -> Result<Response, ApiError> {
    let Some(session) = jar
        .get(SESSION_COOKIE)
        .map(|cookie| cookie.value().to_owned())
    else {
        return Ok(Redirect::to("/").into_response());
    };
    let next = auth.logout(&session).await?;
    Ok((jar.add(removal(SESSION_COOKIE)), Redirect::to(&next)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct FrontchannelParams {
    iss: Option<String>,
    sid: Option<String>,
}

async fn frontchannel_logout(
    State(auth): State<Arc<Auth>>,
    Query(params): Query<FrontchannelParams>,
) -> Response {
    if let Err(error) = auth
        .frontchannel_logout(params.iss.as_deref(), params.sid.as_deref())
        .await
    {
        tracing::error!(error = %error, "front-channel logout failed");
    }
    let mut response = Html("<!DOCTYPE html><html lang=\"nb\"><head><title>Logget ut</title></head><body></body></html>").into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The provider's logout page frames this endpoint.
    let provider_origin = url::Url::parse(auth.relying_party().issuer())
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_default();
    if let Ok(policy) = HeaderValue::from_str(&format!(
        "default-src 'none'; frame-ancestors 'self' {provider_origin}"
    )) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}
