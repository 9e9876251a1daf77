//! The agency API described for machines: OpenAPI 3.1 at `/api/openapi.json`.
//!
//! Written by hand beside the handlers it describes (`openapi.json`); a test
//! holds it to the router's routes so neither drifts from the other.

use axum::{http::header, response::IntoResponse};

/// The description, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
