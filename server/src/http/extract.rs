//! Extractors whose refusals are problems: [`Json`], [`Form`], [`Query`] and
//! [`Path`] are axum's, except that a body or address they cannot read is
//! answered with `application/problem+json` naming the field (or `body`),
//! never axum's plain-text rejection: a malformed id, a page that is not a
//! number, a body of the wrong type (415) or over the route's limit (413).
//!
//! Server functions read their bodies themselves, past axum's limits;
//! [`limit_server_function_bodies`] gives them one.

use super::{problem::FieldError, ApiError};
use axum::{
    extract::{
        path::ErrorKind,
        rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection},
        FromRequest, FromRequestParts, Request,
    },
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};

/// A JSON body; see the module.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

/// A form body; see the module.
#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(ApiError))]
pub struct Form<T>(pub T);

/// A query string; see the module.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Path parameters; see the module. Deserialize them into a struct, so a
/// refusal names the parameter rather than its position.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// The field a serde error names, and what it says of it. axum's texts read
/// "<what failed>: <path>: <message>", the path being `.` for the whole
/// value; a missing field is named in its message instead.
fn named_field(body_text: &str, whole: &str) -> FieldError {
    let detail = body_text
        .split_once(": ")
        .map_or(body_text, |(_, detail)| detail);
    if let Some((path, message)) = detail.split_once(": ") {
        if !path.is_empty() && path != "." && !path.contains(' ') {
            return FieldError::new(path, message);
        }
        return field_in_message(message, whole);
    }
    field_in_message(detail, whole)
}

/// "missing field `kode`" (or a duplicate or unknown one) names `kode`;
/// other messages name the whole value.
fn field_in_message(message: &str, whole: &str) -> FieldError {
    let named = message
        .split_once('`')
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name)
        .filter(|_| {
            ["missing field", "duplicate field", "unknown field"]
                .iter()
                .any(|kind| message.starts_with(kind))
        });
    FieldError::new(named.unwrap_or(whole), message)
}

/// A body that could not be read: too large, of the wrong type, or not
/// what the route takes.
fn body_refusal(status: StatusCode, body_text: &str, expected: &'static str) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge { limit: None },
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType { expected },
        _ => ApiError::Validation(vec![named_field(body_text, "body")]),
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        body_refusal(
            rejection.status(),
            &rejection.body_text(),
            "application/json",
        )
    }
}

impl From<FormRejection> for ApiError {
    fn from(rejection: FormRejection) -> Self {
        body_refusal(
            rejection.status(),
            &rejection.body_text(),
            "application/x-www-form-urlencoded",
        )
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::Validation(vec![named_field(&rejection.body_text(), "query")])
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        let PathRejection::FailedToDeserializePathParams(error) = rejection else {
            // Only a route whose handler asks for parameters it does not
            // have: a mistake in the router, not in the request.
            return ApiError::from(anyhow::anyhow!("path rejection: {}", rejection.body_text()));
        };
        let field = match error.kind() {
            ErrorKind::ParseErrorAtKey {
                key, expected_type, ..
            } => FieldError::new(key, format!("must be {}", readable_type(expected_type))),
            ErrorKind::InvalidUtf8InPathParam { key } => FieldError::new(key, "must be UTF-8"),
            ErrorKind::DeserializeError { key, message, .. } => FieldError::new(key, message),
            other => FieldError::new("path", other.to_string()),
        };
        ApiError::Validation(vec![field])
    }
}

/// `u32` as a client reads it.
fn readable_type(expected_type: &str) -> String {
    match expected_type.rsplit("::").next().unwrap_or(expected_type) {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, 0 or more".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".to_owned(),
        "Uuid" => "a UUID".to_owned(),
        other => format!("a {other}"),
    }
}

/// Where server functions are served (Leptos's default prefix).
pub const SERVER_FUNCTION_PREFIX: &str = "/api/";

/// The largest body a server function takes. Their arguments are a few
/// form fields (a folder's name, an e-mail address); 64 kB is generous.
pub const MAX_SERVER_FUNCTION_BODY_BYTES: usize = 64 * 1024;

/// Reads a server function's body within [`MAX_SERVER_FUNCTION_BODY_BYTES`]
/// before Leptos does: it would read any length, and a body it could not
/// read would answer 500. Over the limit is 413.
pub async fn limit_server_function_bodies(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with(SERVER_FUNCTION_PREFIX) {
        return next.run(request).await;
    }
    let too_large = ApiError::PayloadTooLarge {
        limit: Some(MAX_SERVER_FUNCTION_BODY_BYTES),
    };
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_SERVER_FUNCTION_BODY_BYTES) {
        return too_large.into_response();
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, MAX_SERVER_FUNCTION_BODY_BYTES).await {
        Ok(bytes) => next.run(Request::from_parts(parts, bytes.into())).await,
        Err(_) => too_large.into_response(),
    }
}

/// A multipart field's bytes, refused once they pass `max_bytes`; the
/// reason reads after the field's name.
pub async fn read_capped(
    mut field: axum::extract::multipart::Field<'_>,
    max_bytes: usize,
) -> Result<bytes::Bytes, String> {
    let mut buffer = bytes::BytesMut::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                if buffer.len() + chunk.len() > max_bytes {
                    return Err(format!("must be at most {max_bytes} bytes"));
                }
                buffer.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(buffer.freeze()),
            Err(error) => return Err(format!("could not be read: {}", error.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_paths_name_the_field() {
        assert_eq!(
            named_field(
                "Failed to deserialize query string: page: invalid digit found in string",
                "query"
            ),
            FieldError::new("page", "invalid digit found in string")
        );
        assert_eq!(
            named_field(
                "Failed to deserialize form body: .: missing field `kode`",
                "body"
            ),
            FieldError::new("kode", "missing field `kode`")
        );
        assert_eq!(
            named_field(
                "Failed to parse the request body as JSON: expected value at line 1 column 1",
                "body"
            )
            .name,
            "body"
        );
    }
}
