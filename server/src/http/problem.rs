//! Errors as RFC 7807 `application/problem+json`, by meaning.
//!
//! Validation problems list every bad field in `invalid-params` at once, so a
//! sender can fix a message in one round. Internal errors are logged here with
//! their cause and reach the client only as "internal error".

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
    #[error("missing or invalid credentials")]
    Unauthorized,
    /// Authenticated but not allowed; the detail says what is missing.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

#[derive(Debug, Serialize)]
struct Problem {
    #[serde(rename = "type")]
    problem_type: &'static str,
    title: &'static str,
    status: u16,
    detail: String,
    #[serde(rename = "invalid-params", skip_serializing_if = "Vec::is_empty")]
    invalid_params: Vec<FieldError>,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn problem(self) -> Problem {
        let status = self.status().as_u16();
        let (problem_type, title, detail, invalid_params) = match self {
            ApiError::Validation(fields) => (
                "urn:postkasse:problem:invalid-request",
                "Invalid request",
                format!(
                    "{} field(s) are invalid: {}",
                    fields.len(),
                    fields
                        .iter()
                        .map(|field| field.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                fields,
            ),
            ApiError::Unauthorized => (
                "urn:postkasse:problem:unauthorized",
                "Unauthorized",
                "a valid bearer token is required".to_owned(),
                vec![],
            ),
            ApiError::Forbidden(detail) => (
                "urn:postkasse:problem:forbidden",
                "Forbidden",
                detail.to_owned(),
                vec![],
            ),
            ApiError::NotFound => (
                "urn:postkasse:problem:not-found",
                "Not found",
                "no such resource".to_owned(),
                vec![],
            ),
            ApiError::Conflict(detail) => {
                ("urn:postkasse:problem:conflict", "Conflict", detail, vec![])
            }
            ApiError::Unavailable(_) => (
                "urn:postkasse:problem:unavailable",
                "Service unavailable",
                "the service cannot serve requests right now".to_owned(),
                vec![],
            ),
            ApiError::Internal(_) => (
                "urn:postkasse:problem:internal",
                "Internal error",
                "internal error".to_owned(),
                vec![],
            ),
        };
        Problem {
            problem_type,
            title,
            status,
            detail,
            invalid_params,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed")
            }
            ApiError::Unavailable(cause) => {
                tracing::warn!(error = format!("{cause:#}"), "unavailable")
            }
            _ => {}
        }
        let status = self.status();
        let unauthorized = matches!(self, ApiError::Unauthorized);
        let mut response = (status, Json(self.problem())).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if unauthorized {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
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
        let (status, _, body) = body_of(ApiError::Internal(cause)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let text = body.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("10.0.0.5"),
            "{text}"
        );
    }
}
