//! Errors as RFC 7807 `application/problem+json`, by meaning: the one
//! writer every HTTP route answers a refusal with, the token endpoint's
//! OAuth refusals included.
//!
//! Validation problems list every bad field in `invalid-params` at once, so a
//! sender can fix a message in one round. Internal errors reach the client
//! only as "internal error"; their cause was logged once, where it became an
//! [`ApiError`] (see [`crate::errors`]).

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;

pub use crate::validation::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request")]
    Validation(Vec<FieldError>),
    /// The body is larger than the route takes.
    #[error("request body too large")]
    PayloadTooLarge { limit: Option<usize> },
    /// The body is not of the type the route takes; `expected` names it.
    #[error("unsupported media type")]
    UnsupportedMediaType { expected: &'static str },
    #[error("missing or invalid credentials")]
    Unauthorized,
    /// Authenticated but not allowed; the detail says what is missing.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// The token endpoint refuses a grant: a 400 that also carries OAuth's
    /// `error` code and `error_description` (RFC 6749 §5.2), so both a
    /// problem-aware client and a stock OAuth client understand it.
    #[error("token request refused: {error}")]
    OAuth {
        /// RFC 6749's code, such as `invalid_grant`.
        error: &'static str,
        title: &'static str,
        detail: String,
    },
    /// A rate limit refused the request; `retry_after_seconds` says when
    /// there is room again (at least 1).
    #[error("too many requests")]
    TooManyRequests {
        limit: &'static str,
        retry_after_seconds: u64,
    },
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// An internal failure whose cause is already logged: made only by
    /// [`crate::errors`], from an `anyhow::Error` or an [`app::error::AppError`].
    #[error("internal error")]
    Internal,
}

#[derive(Debug, Serialize)]
struct Problem {
    #[serde(rename = "type")]
    problem_type: String,
    title: &'static str,
    status: u16,
    detail: String,
    #[serde(rename = "invalid-params", skip_serializing_if = "Vec::is_empty")]
    invalid_params: Vec<FieldError>,
    /// OAuth's error code, on the token endpoint's refusals only.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<String>,
}

impl Problem {
    fn new(problem: &str, title: &'static str, status: StatusCode, detail: String) -> Self {
        Problem {
            problem_type: format!("urn:postkasse:problem:{problem}"),
            title,
            status: status.as_u16(),
            detail,
            invalid_params: vec![],
            error: None,
            error_description: None,
        }
    }

    fn with_fields(mut self, fields: Vec<FieldError>) -> Self {
        self.invalid_params = fields;
        self
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::OAuth { .. } => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A validation problem with one bad field.
    pub fn invalid(name: impl Into<String>, reason: impl ToString) -> ApiError {
        ApiError::Validation(vec![FieldError::new(name, reason)])
    }

    fn problem(self) -> Problem {
        let status = self.status();
        match self {
            ApiError::Validation(fields) => Problem::new(
                "invalid-request",
                "Invalid request",
                status,
                format!(
                    "{} field(s) are invalid: {}",
                    fields.len(),
                    fields
                        .iter()
                        .map(|field| field.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_fields(fields),
            ApiError::PayloadTooLarge { limit } => {
                let reason = match limit {
                    Some(limit) => format!("must be at most {limit} bytes"),
                    None => "is larger than this route takes".to_owned(),
                };
                Problem::new(
                    "payload-too-large",
                    "Payload too large",
                    status,
                    format!("the body {reason}"),
                )
                .with_fields(vec![FieldError::new("body", reason)])
            }
            ApiError::UnsupportedMediaType { expected } => {
                let reason = format!("must be {expected}");
                Problem::new(
                    "unsupported-media-type",
                    "Unsupported media type",
                    status,
                    format!("the body {reason}"),
                )
                .with_fields(vec![FieldError::new("body", reason)])
            }
            ApiError::Unauthorized => Problem::new(
                "unauthorized",
                "Unauthorized",
                status,
                "a valid bearer token is required".to_owned(),
            ),
            ApiError::Forbidden(detail) => {
                Problem::new("forbidden", "Forbidden", status, detail.to_owned())
            }
            ApiError::NotFound => Problem::new(
                "not-found",
                "Not found",
                status,
                "no such resource".to_owned(),
            ),
            ApiError::Conflict(detail) => Problem::new("conflict", "Conflict", status, detail),
            ApiError::OAuth {
                error,
                title,
                detail,
            } => Problem {
                error: Some(error),
                error_description: Some(detail.clone()),
                ..Problem::new(&error.replace('_', "-"), title, status, detail)
            },
            ApiError::TooManyRequests {
                limit,
                retry_after_seconds,
            } => Problem::new(
                "too-many-requests",
                "Too many requests",
                status,
                format!(
                    "the {limit} limit is used up for now; try again in {retry_after_seconds} s"
                ),
            ),
            ApiError::Unavailable(_) => Problem::new(
                "unavailable",
                "Service unavailable",
                status,
                "the service cannot serve requests right now".to_owned(),
            ),
            ApiError::Internal => Problem::new(
                "internal",
                "Internal error",
                status,
                "internal error".to_owned(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Unavailable(cause) = &self {
            tracing::warn!(error = format!("{cause:#}"), "unavailable");
        }
        let status = self.status();
        let unauthorized = matches!(self, ApiError::Unauthorized);
        let oauth = matches!(self, ApiError::OAuth { .. });
        let retry_after = match &self {
            ApiError::TooManyRequests {
                retry_after_seconds,
                ..
            } => Some(HeaderValue::from(*retry_after_seconds)),
            _ => None,
        };
        let mut response = (status, Json(self.problem())).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if unauthorized {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if oauth {
            // Token responses, refusals too, must not be cached (RFC 6749 §5.1, §5.2).
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, seconds);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn body_of(error: ApiError) -> (StatusCode, String, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let content_type = response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, content_type, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn validation_errors_name_every_field() {
        let (status, content_type, body) = body_of(ApiError::Validation(vec![
            FieldError::new(
                "metadata.mottaker.personidentifikator",
                "has wrong control digits",
            ),
            FieldError::new("document", "is missing"),
        ]))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(body["status"], 400);
        assert_eq!(
            body["invalid-params"][0]["name"],
            "metadata.mottaker.personidentifikator"
        );
        assert_eq!(body["invalid-params"][1]["reason"], "is missing");
        assert!(body["detail"].as_str().unwrap().contains("document"));
    }

    #[tokio::test]
    async fn internal_errors_do_not_leak_their_cause() {
        let cause = anyhow::anyhow!("connection to 10.0.0.5 refused, password=hunter2");
        let (status, _, body) = body_of(ApiError::from(cause)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let text = body.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("10.0.0.5"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn oauth_refusals_carry_both_shapes() {
        let (status, content_type, body) = body_of(ApiError::OAuth {
            error: "invalid_grant",
            title: "Invalid grant",
            detail: "the grant has expired".to_owned(),
        })
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(body["type"], "urn:postkasse:problem:invalid-grant");
        assert_eq!(body["error"], "invalid_grant");
        assert_eq!(body["error_description"], "the grant has expired");
        assert_eq!(body["detail"], "the grant has expired");
    }

    #[tokio::test]
    async fn other_problems_have_no_oauth_fields() {
        let (status, _, body) = body_of(ApiError::PayloadTooLarge { limit: Some(10) }).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(body.get("error").is_none(), "{body}");
        assert_eq!(body["invalid-params"][0]["name"], "body");
    }
}
