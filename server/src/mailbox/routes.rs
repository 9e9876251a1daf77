//! The mailbox's plain HTTP routes, each for the signed-in citizen only and
//! never cached:
//!
//! - `GET /dokumenter/{letter_id}/{index}`: a letter's document, at the
//!   letter's level. HTML is sanitised and served under a policy that lets
//!   nothing load or run.
//! - `GET /dokumenter/{letter_id}/{index}/sider/{page}?bredde=800`: one page
//!   of a PDF document drawn as PNG at one of the widths the page offers,
//!   under the same rule as the document.
//! - `GET /opplastinger/{id}`: a document the citizen uploaded.
//! - `POST /mine-dokumenter/last-opp`: upload (multipart, field `fil`). A
//!   browser's form post is redirected back to the page, with the refusal as
//!   a code in the address; other clients get 201 or problem+json.
//! - `GET /eksport/postkasse.zip`: the whole archive as a zip.

use super::{archive::UploadError, html, DocumentError, MailboxService};
use crate::http::{
    extract::{Path, Query},
    problem::FieldError,
    ApiError,
};
use app::api::archive::UploadProblem;
use app::api::mailbox::PageView;
use app::api::session::{ActingFor, SignedIn};
use app::domain::{LetterId, MediaType, UploadId};
use axum::{
    body::Body,
    extract::{
        multipart::{Multipart, MultipartRejection},
        DefaultBodyLimit, FromRef, State,
    },
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Extension, Json, Router,
};
use bytes::Bytes;
use std::sync::Arc;
use tokio_util::io::ReaderStream;

/// The mailbox's routes, with the upload's body limit the mailbox's own
/// upload limit implies.
pub fn routes<S>(mailbox: &MailboxService) -> Router<S>
where
    Arc<MailboxService>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/dokumenter/{letter_id}/{index}", get(document))
        .route(
            "/dokumenter/{letter_id}/{index}/sider/{page}",
            get(document_page),
        )
        .route("/opplastinger/{id}", get(upload_document))
        .route("/eksport/postkasse.zip", get(export))
        .route(
            "/mine-dokumenter/last-opp",
            // Room for the multipart framing around the file.
            post(upload).layer(DefaultBodyLimit::max(
                mailbox.max_upload_bytes() + 64 * 1024,
            )),
        )
}

/// The page the upload form is on.
pub const UPLOAD_PAGE: &str = "/mine-dokumenter";

fn signed_in(viewer: Option<Extension<SignedIn>>) -> Result<SignedIn, ApiError> {
    viewer
        .map(|Extension(viewer)| viewer)
        .ok_or(ApiError::Unauthorized)
}

/// Bytes to download, with their type and name, never cached.
fn file_response(body: impl Into<Body>, content_type: &str, file_name: &str) -> Response {
    let mut response = body.into().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&content_disposition(file_name))
            .unwrap_or(HeaderValue::from_static("inline")),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `/dokumenter/{letter_id}/{index}`: by name, so a refusal names the part.
#[derive(Debug, serde::Deserialize)]
pub struct DocumentPath {
    letter_id: String,
    index: usize,
}

pub async fn document(
    State(mailbox): State<Arc<MailboxService>>,
    viewer: Option<Extension<SignedIn>>,
    acting: Option<Extension<ActingFor>>,
    Path(DocumentPath { letter_id, index }): Path<DocumentPath>,
) -> Result<Response, ApiError> {
    let viewer = crate::http::reader(viewer, acting)?;
    let letter_id: LetterId = letter_id
        .parse()
        .map_err(|_| ApiError::invalid("letter_id", "must be a letter's id (a UUID)"))?;
    let opened = mailbox
        .document(&viewer, letter_id, index)
        .await
        .map_err(document_refusal)?;
    let file_name = &opened.document.file_name;
    Ok(match opened.document.media_type {
        MediaType::Html => {
            let text = String::from_utf8_lossy(&opened.bytes).into_owned();
            let clean = html::sanitise_off_runtime(text).await?;
            let mut response =
                file_response(Bytes::from(clean), "text/html; charset=utf-8", file_name);
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(html::DOCUMENT_POLICY),
            );
            response
        }
        MediaType::PlainText => file_response(opened.bytes, "text/plain; charset=utf-8", file_name),
        other => file_response(opened.bytes, other.as_mime(), file_name),
    })
}

/// Why a document (or one of its pages) is not given, as an answer.
fn document_refusal(error: DocumentError) -> ApiError {
    match error {
        DocumentError::NotFound => ApiError::NotFound,
        DocumentError::NeedsHigherLevel(_) => {
            ApiError::Forbidden("a login at a higher security level is required")
        }
        DocumentError::NeedsOpeningConsent => ApiError::Forbidden(
            "the sender asked for an opening receipt: open the letter on its page first",
        ),
        DocumentError::Busy => {
            ApiError::Unavailable(anyhow::anyhow!("a page took too long to draw"))
        }
        DocumentError::Internal(cause) => ApiError::from(cause),
    }
}

/// `/dokumenter/{letter_id}/{index}/sider/{page}`.
#[derive(Debug, serde::Deserialize)]
pub struct PagePath {
    letter_id: String,
    index: usize,
    page: usize,
}

/// `?bredde=`: one of [`PageView::WIDTHS`].
#[derive(Debug, serde::Deserialize)]
pub struct PageWidth {
    bredde: u32,
}

pub async fn document_page(
    State(mailbox): State<Arc<MailboxService>>,
    viewer: Option<Extension<SignedIn>>,
    acting: Option<Extension<ActingFor>>,
    Path(PagePath {
        letter_id,
        index,
        page,
    }): Path<PagePath>,
    Query(PageWidth { bredde }): Query<PageWidth>,
) -> Result<Response, ApiError> {
    let viewer = crate::http::reader(viewer, acting)?;
    let letter_id: LetterId = letter_id
        .parse()
        .map_err(|_| ApiError::invalid("letter_id", "must be a letter's id (a UUID)"))?;
    if !PageView::WIDTHS.contains(&bredde) {
        return Err(ApiError::invalid(
            PageView::WIDTH_PARAMETER,
            format!("must be one of {:?} pixels", PageView::WIDTHS),
        ));
    }
    let png = mailbox
        .document_page(&viewer, letter_id, index, page, bredde)
        .await
        .map_err(document_refusal)?;
    Ok(file_response(png, "image/png", &format!("side-{page}.png")))
}

pub async fn upload_document(
    State(mailbox): State<Arc<MailboxService>>,
    viewer: Option<Extension<SignedIn>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let viewer = signed_in(viewer)?;
    let id: UploadId = id
        .parse()
        .map_err(|_| ApiError::invalid("id", "must be an upload's id (a UUID)"))?;
    let (upload, bytes) = mailbox.upload_document(&viewer, id).await?;
    Ok(file_response(bytes, &upload.media_type, &upload.name))
}

pub async fn export(
    State(mailbox): State<Arc<MailboxService>>,
    viewer: Option<Extension<SignedIn>>,
) -> Result<Response, ApiError> {
    let viewer = signed_in(viewer)?;
    let export = mailbox.export(&viewer).await?;
    let body = Body::from_stream(ReaderStream::new(tokio::fs::File::from_std(export.file)));
    let mut response = file_response(body, "application/zip", "postkasse.zip");
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(export.size_bytes));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"postkasse.zip\""),
    );
    Ok(response)
}

pub async fn upload(
    State(mailbox): State<Arc<MailboxService>>,
    viewer: Option<Extension<SignedIn>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let viewer = signed_in(viewer)?;
    let outcome = match multipart {
        Ok(multipart) => match read_file(multipart, mailbox.max_upload_bytes()).await {
            Ok((file_name, bytes)) => mailbox.upload(&viewer, &file_name, bytes).await,
            Err(problem) => Err(UploadError::Invalid(problem)),
        },
        Err(_) => Err(UploadError::Invalid(UploadProblem::Missing)),
    };
    let page = crate::http::wants_page(&headers);
    match outcome {
        Ok(_) if page => Ok(Redirect::to(&format!("{UPLOAD_PAGE}?lagret=1")).into_response()),
        Ok(upload) => Ok((StatusCode::CREATED, Json(upload)).into_response()),
        Err(UploadError::Invalid(problem)) if page => {
            Ok(Redirect::to(&format!("{UPLOAD_PAGE}?feil={}", problem.code())).into_response())
        }
        Err(UploadError::Invalid(problem)) => Err(ApiError::Validation(vec![FieldError::new(
            super::archive::UPLOAD_FIELD,
            problem,
        )])),
        Err(UploadError::Internal(cause)) => Err(ApiError::from(cause)),
    }
}

/// The `fil` part's file name and bytes; parts by other names are ignored.
async fn read_file(
    mut multipart: Multipart,
    max_bytes: usize,
) -> Result<(String, Bytes), UploadProblem> {
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Err(UploadProblem::Missing),
            // The body limit cuts an oversized upload off mid-stream.
            Err(_) => return Err(UploadProblem::TooLarge),
        };
        if field.name() != Some(super::archive::UPLOAD_FIELD) {
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let bytes = crate::http::extract::read_capped(field, max_bytes)
            .await
            .map_err(|_| UploadProblem::TooLarge)?;
        if file_name.is_empty() && bytes.is_empty() {
            return Err(UploadProblem::Missing);
        }
        return Ok((file_name, bytes));
    }
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
