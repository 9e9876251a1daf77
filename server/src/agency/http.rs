//! `POST /token`: agencies exchange a signed grant for an access token, as at
//! Maskinporten. The rules are [`super::maskinporten`]'s; this is the HTTP
//! shape: a form body in, the token or an OAuth error out.
//!
//! Refusals are `application/problem+json` (as every error here is) that also
//! carry OAuth's `error` and `error_description`, so both a problem-aware
//! client and a stock OAuth client understand them.

use super::maskinporten::Maskinporten;
use super::maskinporten::{OAuthError, TokenError, TokenResponse};
use crate::http::ApiError;
use axum::{
    extract::{rejection::FormRejection, DefaultBodyLimit, FromRef, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Form, Json, Router,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The token endpoint. A grant is a few kilobytes; 64 kB is generous.
pub fn routes<S>() -> Router<S>
where
    Arc<Maskinporten>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new().route(
        "/token",
        post(token).layer(DefaultBodyLimit::max(64 * 1024)),
    )
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
    let Ok(Form(request)) = form else {
        return refusal(
            OAuthError::InvalidRequest,
            "the body must be application/x-www-form-urlencoded with grant_type and assertion"
                .to_owned(),
        );
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
        Err(TokenError::Internal(cause)) => ApiError::Internal(cause).into_response(),
    }
}

/// Tokens must not be cached on the way (RFC 6749 §5.1).
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn granted(token: TokenResponse) -> Response {
    no_store(Json(token).into_response())
}

#[derive(Serialize)]
struct TokenProblem {
    #[serde(rename = "type")]
    problem_type: String,
    title: &'static str,
    status: u16,
    detail: String,
    error: &'static str,
    error_description: String,
}

fn refusal(error: OAuthError, detail: String) -> Response {
    let title = match error {
        OAuthError::InvalidRequest => "Invalid token request",
        OAuthError::InvalidGrant => "Invalid grant",
        OAuthError::UnsupportedGrantType => "Unsupported grant type",
        OAuthError::InvalidScope => "Invalid scope",
    };
    let problem = TokenProblem {
        problem_type: format!("urn:postkasse:problem:{}", error.code().replace('_', "-")),
        title,
        status: StatusCode::BAD_REQUEST.as_u16(),
        error_description: detail.clone(),
        detail,
        error: error.code(),
    };
    let mut response = (StatusCode::BAD_REQUEST, Json(problem)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    no_store(response)
}
