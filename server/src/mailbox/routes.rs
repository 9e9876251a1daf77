//! `GET /dokumenter/{letter_id}/{index}`: a document's bytes, for the citizen
//! who owns the letter, at the letter's level. Never cached.

use super::DocumentError;
use crate::{http::ApiError, startup::AppState};
use app::domain::LetterId;
use app::mailbox::ssr::SignedIn;
use axum::{
    extract::{Path, State},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    Extension,
};

pub async fn document(
    State(state): State<AppState>,
    viewer: Option<Extension<SignedIn>>,
    Path((letter_id, index)): Path<(String, usize)>,
) -> Result<Response, ApiError> {
    let Some(Extension(viewer)) = viewer else {
        return Err(ApiError::Unauthorized);
    };
    let letter_id: LetterId = letter_id.parse().map_err(|_| ApiError::NotFound)?;
    let opened = state
        .mailbox
        .document(&viewer, letter_id, index)
        .await
        .map_err(|error| match error {
            DocumentError::NotFound => ApiError::NotFound,
            DocumentError::NeedsHigherLevel(_) => {
                ApiError::Forbidden("a login at a higher security level is required")
            }
            DocumentError::NeedsOpeningConsent => ApiError::Forbidden(
                "the sender asked for an opening receipt: open the letter on its page first",
            ),
            DocumentError::Internal(cause) => ApiError::Internal(cause),
        })?;
    let disposition = content_disposition(&opened.document.file_name);
    let mut response = opened.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(opened.document.media_type.as_mime()),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("inline")),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `inline` with an ASCII fallback name and the real UTF-8 name (RFC 6266, RFC 8187),
/// so `brønnøysund.pdf` downloads under its own name.
fn content_disposition(file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .map(|character| {
            if character.is_ascii_graphic() && character != '"' && character != '\\' {
                character
            } else {
                '_'
            }
        })
        .collect();
    let encoded =
        percent_encoding::utf8_percent_encode(file_name, percent_encoding::NON_ALPHANUMERIC);
    format!("inline; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn file_names_keep_their_letters_and_cannot_break_the_header() {
        assert_eq!(
            content_disposition("brønnøysund.pdf"),
            "inline; filename=\"br_nn_ysund.pdf\"; filename*=UTF-8''br%C3%B8nn%C3%B8ysund%2Epdf"
        );
        assert!(!content_disposition("a\"; evil=1.pdf").contains("\"; evil"));
    }
}
