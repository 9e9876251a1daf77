//! `POST /token`: agencies exchange a signed grant for an access token, as at
//! Maskinporten; `GET /jwk` publishes the key the tokens are signed with.
//! The rules are [`super::maskinporten`]'s; this is the HTTP shape: a form
//! body in, the token or an OAuth error out.
//!
//! Refusals are `application/problem+json` (as every error here is) that also
//! carry OAuth's `error` and `error_description` ([`ApiError::OAuth`]), so
//! both a problem-aware client and a stock OAuth client understand them.

use super::maskinporten::Maskinporten;
use super::maskinporten::{OAuthError, TokenError, TokenResponse};
use crate::http::ApiError;
use axum::{
    extract::{rejection::FormRejection, DefaultBodyLimit, FromRef, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Form, Json, Router,
};
use serde::Deserialize;
use std::sync::Arc;

/// The token endpoint. A grant is a few kilobytes; [`MAX_BODY_BYTES`] is generous.
pub fn routes<S>() -> Router<S>
where
    Arc<Maskinporten>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route(
            "/token",
            post(token).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .route("/jwk", get(jwk))
}

/// The keys access tokens are signed with, where Maskinporten publishes its own.
pub async fn jwk(State(maskinporten): State<Arc<Maskinporten>>) -> Json<serde_json::Value> {
    Json(maskinporten.jwks())
}

#[derive(Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    assertion: Option<String>,
}

pub async fn token(
    State(maskinporten): State<Arc<Maskinporten>>,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Response {
    let request =
        match form {
            Ok(Form(request)) => request,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return ApiError::PayloadTooLarge {
                    limit: Some(MAX_BODY_BYTES),
                }
                .into_response()
            }
            Err(_) => return refusal(
                OAuthError::InvalidRequest,
                "the body must be application/x-www-form-urlencoded with grant_type and assertion"
                    .to_owned(),
            ),
        };
    match maskinporten
        .exchange(request.grant_type.as_deref(), request.assertion.as_deref())
        .await
    {
        Ok(token) => granted(token),
        Err(TokenError::Refused { error, detail }) => {
            tracing::info!(error = error.code(), detail, "token request refused");
            refusal(error, detail)
        }
        Err(TokenError::Internal(cause)) => ApiError::from(cause).into_response(),
    }
}

/// The largest token request: a grant is a few kilobytes, so 64 kB is generous.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Tokens must not be cached on the way (RFC 6749 §5.1).
fn granted(token: TokenResponse) -> Response {
    let mut response = Json(token).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A refused grant, as the one problem writer puts OAuth errors.
fn refusal(error: OAuthError, detail: String) -> Response {
    let title = match error {
        OAuthError::InvalidRequest => "Invalid token request",
        OAuthError::InvalidGrant => "Invalid grant",
        OAuthError::UnsupportedGrantType => "Unsupported grant type",
        OAuthError::InvalidScope => "Invalid scope",
    };
    ApiError::OAuth {
        error: error.code(),
        title,
        detail,
    }
    .into_response()
}
