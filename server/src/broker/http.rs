//! The agency API in DPI's shape (docs/protocol.md#agency-api):
//!
//! - `POST /messages/out?kanal=`: a multipart request with the parts
//!   `forretningsmelding` (the business message, JSON or a signed JWT) and
//!   `dokumentpakke` (the ASiC-E package, plain or CMS-encrypted); another
//!   mailbox provider sends its receipts here too, as a signed business
//!   message without a package;
//! - `GET /messages/out/{id}/statuses`: transport statuses;
//! - `GET /messages/in?kanal=&avsenderidentifikator=&page=&page_size=`:
//!   unacknowledged receipts, or 204 when there are none;
//! - `POST /messages/in/{id}/read`: acknowledges a receipt.
//!
//! Handlers read the request within size limits and call one broker method.

use super::{Broker, BrokerError, Kanal, Submission};
use crate::{
    agency::{maskinporten::Maskinporten, AgencyAccess, SEND_SCOPE},
    http::{
        extract::{Path, Query},
        ApiError, FieldError,
    },
};
use axum::{
    extract::{multipart::MultipartRejection, DefaultBodyLimit, FromRef, Multipart, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use bytes::Bytes;
use serde::Deserialize;
use std::sync::Arc;
use uuid::Uuid;

/// What a request without a package is told.
pub const DOKUMENTPAKKE_REQUIRED: &str =
    "is required (only a receipt from another mailbox provider comes without one)";

/// A business message is small JSON; anything larger is a mistake or abuse.
pub const MAX_BUSINESS_MESSAGE_BYTES: usize = 256 * 1024;

/// The largest request body: a package at DPI's 50 MB limit, plus CMS and
/// multipart overhead, plus the business message.
pub fn max_request_bytes(max_package_bytes: usize) -> usize {
    max_package_bytes + max_package_bytes / 16 + MAX_BUSINESS_MESSAGE_BYTES + 64 * 1024
}

/// The agency API's routes, and its description, with the body limit the
/// broker's own package limit implies. The state needs the broker and the
/// [`Maskinporten`] that checks agencies' tokens.
pub fn routes<S>(broker: &Broker) -> Router<S>
where
    Arc<Broker>: FromRef<S>,
    Arc<Maskinporten>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route(
            "/messages/out",
            post(send_message).layer(DefaultBodyLimit::max(max_request_bytes(
                broker.max_package_bytes(),
            ))),
        )
        .route("/messages/out/{id}/statuses", get(message_statuses))
        .route("/messages/in", get(incoming))
        .route("/messages/in/{id}/read", post(acknowledge))
        .route("/api/openapi.json", get(super::openapi::document))
}

impl From<BrokerError> for ApiError {
    fn from(error: BrokerError) -> Self {
        match error {
            BrokerError::Invalid(problems) => ApiError::Validation(problems),
            BrokerError::Conflict(message) => ApiError::Conflict(message),
            BrokerError::NotFound => ApiError::NotFound,
            BrokerError::Internal(cause) => ApiError::from(cause),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct KanalQuery {
    kanal: Option<String>,
}

pub async fn send_message(
    State(broker): State<Arc<Broker>>,
    access: AgencyAccess,
    Query(query): Query<KanalQuery>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    access.require(SEND_SCOPE)?;
    let kanal = Kanal::parse(query.kanal.as_deref());
    let multipart = multipart.map_err(|_| {
        ApiError::Validation(vec![FieldError::new(
            "body",
            "must be multipart/form-data with the parts forretningsmelding and dokumentpakke",
        )])
    })?;
    let max_package_bytes = broker.max_package_bytes();
    let (parts, mut problems) = read_parts(multipart, max_package_bytes).await;
    // Refused before the business message is read: a missing package is
    // named too, since only a receipt comes without one.
    let refused_early = !problems.is_empty() || kanal.is_err();
    if refused_early
        && parts.dokumentpakke.is_none()
        && !problems
            .iter()
            .any(|problem| problem.name == "dokumentpakke")
    {
        problems.push(FieldError::new("dokumentpakke", DOKUMENTPAKKE_REQUIRED));
    }
    if let Err(problem) = &kanal {
        problems.push(problem.clone());
    }
    let (Some(forretningsmelding), Ok(kanal), true) =
        (parts.forretningsmelding, kanal, problems.is_empty())
    else {
        return Err(ApiError::Validation(problems));
    };
    let dokumentpakke = parts.dokumentpakke;
    let acceptance = broker
        .submit(Submission {
            agency: access.org_nr.clone(),
            client_name: access.client_name.clone(),
            kanal,
            forretningsmelding,
            dokumentpakke,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(acceptance)).into_response())
}

#[derive(Default)]
struct Parts {
    forretningsmelding: Option<Bytes>,
    dokumentpakke: Option<Bytes>,
}

/// Reads both parts, noting what is missing, repeated, unknown or too large.
/// Stops at the first broken or oversized part: the rest cannot be trusted.
async fn read_parts(
    mut multipart: Multipart,
    max_package_bytes: usize,
) -> (Parts, Vec<FieldError>) {
    let mut parts = Parts::default();
    let mut problems = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                problems.push(FieldError::new(
                    "body",
                    format!("is not valid multipart/form-data: {}", error.body_text()),
                ));
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let (slot, limit) = match name.as_str() {
            "forretningsmelding" => (&mut parts.forretningsmelding, MAX_BUSINESS_MESSAGE_BYTES),
            // CMS adds a little to the package's own limit.
            "dokumentpakke" => (
                &mut parts.dokumentpakke,
                max_package_bytes + max_package_bytes / 16,
            ),
            "" => {
                problems.push(FieldError::new("body", "has a part without a name"));
                continue;
            }
            _ => {
                problems.push(FieldError::new(
                    name,
                    "is not a known part (expected forretningsmelding and dokumentpakke)",
                ));
                continue;
            }
        };
        if slot.is_some() {
            problems.push(FieldError::new(name, "must appear only once"));
            continue;
        }
        match crate::http::extract::read_capped(field, limit).await {
            Ok(bytes) => *slot = Some(bytes),
            Err(reason) => {
                problems.push(FieldError::new(name, reason));
                break;
            }
        }
    }
    // The package is left out only with a receipt, which the broker knows
    // once it has read the business message.
    if parts.forretningsmelding.is_none()
        && !problems
            .iter()
            .any(|problem| problem.name == "forretningsmelding")
    {
        problems.push(FieldError::new("forretningsmelding", "is required"));
    }
    (parts, problems)
}

fn message_id(text: &str) -> Result<app::domain::MessageId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::Validation(vec![FieldError::new("id", "must be a UUID")]))
}

pub async fn message_statuses(
    State(broker): State<Arc<Broker>>,
    access: AgencyAccess,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    access.require(SEND_SCOPE)?;
    let statuses = broker.statuses(&access.org_nr, message_id(&id)?).await?;
    Ok(Json(statuses).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ReceiptQuery {
    kanal: Option<String>,
    avsenderidentifikator: Option<String>,
    page: Option<u32>,
    page_size: Option<u32>,
}

/// The most receipts one page holds.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// The last page (0-based) one may ask for: further is a mistake, not a
/// page that happens to be empty.
pub const MAX_PAGE: u32 = 10_000;

pub async fn incoming(
    State(broker): State<Arc<Broker>>,
    access: AgencyAccess,
    Query(query): Query<ReceiptQuery>,
) -> Result<Response, ApiError> {
    access.require(SEND_SCOPE)?;
    let mut problems = Vec::new();
    let kanal = Kanal::parse(query.kanal.as_deref()).map_err(|problem| problems.push(problem));
    let page = query.page.unwrap_or(0);
    if page > MAX_PAGE {
        problems.push(FieldError::new(
            "page",
            format!("must be from 0 to {MAX_PAGE}"),
        ));
    }
    // The same rule as the business message's field: bounded, no control
    // characters (which a database would not store either).
    if let Some(Err(error)) = query.avsenderidentifikator.as_deref().map(|identifier| {
        app::domain::letter::checked_text(
            identifier,
            super::message::MAX_AVSENDERIDENTIFIKATOR_CHARS,
        )
    }) {
        problems.push(FieldError::new("avsenderidentifikator", error));
    }
    let page_size = query.page_size.unwrap_or(100);
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        problems.push(FieldError::new(
            "page_size",
            format!("must be from 1 to {MAX_PAGE_SIZE}"),
        ));
    }
    let (Ok(kanal), true) = (kanal, problems.is_empty()) else {
        return Err(ApiError::Validation(problems));
    };
    let receipts = broker
        .receipts(
            &access.org_nr,
            &kanal,
            query.avsenderidentifikator.as_deref(),
            page,
            page_size,
        )
        .await?;
    if receipts.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    // DPI hands out each receipt as a signed JWT with a download URL for
    // packages; receipts have no package, so Postkasse gives the business
    // document as JSON with the id to acknowledge (an interpretation; see
    // docs/protocol.md#choices-where-the-sources-are-silent).
    let body: Vec<serde_json::Value> = receipts
        .into_iter()
        .map(|(id, document)| serde_json::json!({"id": id, "forretningsmelding": document}))
        .collect();
    Ok(Json(body).into_response())
}

pub async fn acknowledge(
    State(broker): State<Arc<Broker>>,
    access: AgencyAccess,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    access.require(SEND_SCOPE)?;
    let id: Uuid = id
        .parse()
        .map_err(|_| ApiError::Validation(vec![FieldError::new("id", "must be a UUID")]))?;
    broker.acknowledge(&access.org_nr, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
