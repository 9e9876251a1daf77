//! The console's downloads, plain links so they work without JavaScript:
//!
//! - `GET /drift/utskrift/bunke/{id}/last-ned`: the batch as a zip (its
//!   letters' PDFs and manifest);
//! - `GET /drift/utskrift/brev/{id}/last-ned`: one letter's print-ready PDF.
//!
//! Operators only (401 otherwise); each download is recorded for every
//! letter in it.

use super::console::PrintConsoleService;
use crate::http::ApiError;
use app::api::session::OperatorSignedIn;
use axum::{
    extract::{FromRef, Path, State},
    http::header,
    response::{IntoResponse, Response},
    routing::get,
    Extension, Router,
};
use std::sync::Arc;
use uuid::Uuid;

pub fn router<S>() -> Router<S>
where
    Arc<PrintConsoleService>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/drift/utskrift/bunke/{id}/last-ned", get(batch_zip))
        .route("/drift/utskrift/brev/{id}/last-ned", get(letter_pdf))
}

fn id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| ApiError::NotFound)
}

fn operator(signed_in: Option<Extension<OperatorSignedIn>>) -> Result<OperatorSignedIn, ApiError> {
    signed_in
        .map(|Extension(operator)| operator)
        .ok_or(ApiError::Unauthorized)
}

/// A download the browser saves rather than shows, never cached.
fn attachment(content_type: &'static str, file_name: String, bytes: impl IntoResponse) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

async fn batch_zip(
    State(console): State<Arc<PrintConsoleService>>,
    signed_in: Option<Extension<OperatorSignedIn>>,
    Path(batch): Path<String>,
) -> Result<Response, ApiError> {
    let operator = operator(signed_in)?;
    let batch = id(&batch)?;
    let zip = console
        .batch_zip(operator, batch)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(attachment(
        "application/zip",
        format!("utskriftsbunke-{batch}.zip"),
        zip,
    ))
}

async fn letter_pdf(
    State(console): State<Arc<PrintConsoleService>>,
    signed_in: Option<Extension<OperatorSignedIn>>,
    Path(letter): Path<String>,
) -> Result<Response, ApiError> {
    let operator = operator(signed_in)?;
    let letter = id(&letter)?;
    let pdf = console
        .letter_pdf(operator, letter)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(attachment(
        "application/pdf",
        format!("brev-{letter}.pdf"),
        pdf,
    ))
}
