//! `POST /api/v1/letters`: a letter for one citizen, as `multipart/form-data`
//! with a JSON `metadata` part and a PDF `document` part.
//!
//! The handler only reads the request (with a size cap per part), hands it to
//! [`LetterSubmission::parse`] and [`Broker::accept`](super::Broker::accept),
//! and maps the outcome. Nothing is written unless every check has passed.

use super::{
    submission::{RawDocument, RawSubmission},
    BrokerError, LetterSubmission, SubmissionLimits,
};
use crate::{
    http::{bearer_token, ApiError, FieldError},
    startup::AppState,
};
use axum::{
    extract::{
        multipart::{Field, MultipartRejection},
        FromRequestParts, Multipart, State,
    },
    http::{request::Parts, StatusCode},
    response::IntoResponse,
    Json,
};
use bytes::{Bytes, BytesMut};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

/// The metadata is a small JSON object; anything larger is a mistake or abuse.
pub const MAX_METADATA_BYTES: usize = 64 * 1024;

/// Proof that the request carries the agency bearer token from the settings.
pub struct AgencyToken;

impl FromRequestParts<AppState> for AgencyToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let presented = bearer_token(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let expected = state.settings.ingest.token.expose_secret().as_bytes();
        if bool::from(presented.as_bytes().ct_eq(expected)) {
            Ok(AgencyToken)
        } else {
            Err(ApiError::Unauthorized)
        }
    }
}

pub async fn receive_letter(
    State(state): State<AppState>,
    _agency: AgencyToken,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let multipart = multipart.map_err(|_| {
        ApiError::Validation(vec![FieldError::new(
            "body",
            "must be multipart/form-data with the parts metadata and document",
        )])
    })?;
    let limits = SubmissionLimits {
        max_document_bytes: state.settings.ingest.max_document_bytes,
        synthetic_ids: state.settings.synthetic_ids(),
    };
    let raw = read_parts(multipart, limits.max_document_bytes).await;
    let submission = LetterSubmission::parse(raw, limits).map_err(ApiError::Validation)?;
    match state.broker.accept(submission).await {
        Ok(acceptance) => Ok((StatusCode::CREATED, Json(acceptance))),
        Err(BrokerError::Duplicate(message_id)) => Err(ApiError::Conflict(format!(
            "message {message_id} from this sender was already received"
        ))),
        Err(BrokerError::Internal(cause)) => Err(ApiError::Internal(cause)),
    }
}

/// Reads every part, keeping what is known and noting what is wrong. Stops
/// reading at the first broken or oversized part: the rest cannot be trusted.
async fn read_parts(mut multipart: Multipart, max_document_bytes: usize) -> RawSubmission {
    let mut raw = RawSubmission::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                raw.problems.push(FieldError::new(
                    "body",
                    format!("is not valid multipart/form-data: {}", error.body_text()),
                ));
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "metadata" if raw.metadata.is_none() => {
                match read_capped(field, MAX_METADATA_BYTES).await {
                    Ok(bytes) => raw.metadata = Some(bytes),
                    Err(reason) => {
                        raw.problems.push(FieldError::new("metadata", reason));
                        break;
                    }
                }
            }
            "document" if raw.document.is_none() => {
                let file_name = field.file_name().map(str::to_owned);
                let content_type = field.content_type().map(str::to_owned);
                match read_capped(field, max_document_bytes).await {
                    Ok(bytes) => {
                        raw.document = Some(RawDocument {
                            file_name,
                            content_type,
                            bytes,
                        })
                    }
                    Err(reason) => {
                        raw.problems.push(FieldError::new("document", reason));
                        break;
                    }
                }
            }
            "metadata" | "document" => raw
                .problems
                .push(FieldError::new(name, "must appear only once")),
            "" => raw
                .problems
                .push(FieldError::new("body", "has a part without a name")),
            _ => raw.problems.push(FieldError::new(
                name,
                "is not a known part (expected metadata and document)",
            )),
        }
    }
    raw
}

async fn read_capped(mut field: Field<'_>, max_bytes: usize) -> Result<Bytes, String> {
    let mut buffer = BytesMut::new();
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
