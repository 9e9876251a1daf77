//! `POST /rest/v1/personer`: agencies look people up, as in Oppslagstjenesten.

use super::Register;
use super::{
    lookup::{LookupResponse, LookupScopes},
    MAX_LOOKUP_IDS,
};
use crate::{
    agency::{maskinporten::Maskinporten, AgencyAccess},
    http::{ApiError, FieldError},
};
use app::domain::Fnr;
use axum::{
    extract::{rejection::JsonRejection, DefaultBodyLimit, FromRef, State},
    http::StatusCode,
    routing::post,
    Json, Router,
};
use std::sync::Arc;

/// The lookup route. The state needs the register and the [`Maskinporten`]
/// that checks agencies' tokens.
pub fn routes<S>() -> Router<S>
where
    Arc<Register>: FromRef<S>,
    Arc<Maskinporten>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    // 1000 national ids in JSON are about 16 kB; 256 kB leaves room for whitespace.
    Router::new().route(
        "/rest/v1/personer",
        post(lookup_persons).layer(DefaultBodyLimit::max(256 * 1024)),
    )
}
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LookupRequest {
    personidentifikatorer: Vec<String>,
}

pub async fn lookup_persons(
    State(register): State<Arc<Register>>,
    access: AgencyAccess,
    body: Result<Json<LookupRequest>, JsonRejection>,
) -> Result<Json<LookupResponse>, ApiError> {
    let scopes = LookupScopes::from_granted(access.scopes());
    if !scopes.any() {
        return Err(ApiError::Forbidden(
            "the access token grants neither krr:global/kontaktinformasjon.read nor krr:global/digitalpost.read",
        ));
    }
    // Read after the scope check, so a token without the scopes learns nothing of the body.
    let Json(request) = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::from(rejection),
        _ => ApiError::invalid(
            "body",
            format!(
                "must be a JSON object with a list personidentifikatorer: {}",
                rejection.body_text()
            ),
        ),
    })?;
    let ids = parse_ids(
        &request.personidentifikatorer,
        register.synthetic_ids(),
        register.today(),
    )
    .map_err(ApiError::Validation)?;
    let agency = format!("{} ({})", access.client_name, access.org_nr.as_str());
    let personer = register.lookup(&ids, scopes, &agency).await?;
    tracing::info!(
        client = access.client_name,
        persons = personer.len(),
        "register lookup"
    );
    Ok(Json(LookupResponse { personer }))
}

/// Every id checked; every bad one named by its position.
fn parse_ids(
    raw: &[String],
    synthetic: app::domain::SyntheticIds,
    today: chrono::NaiveDate,
) -> Result<Vec<Fnr>, Vec<FieldError>> {
    if raw.is_empty() || raw.len() > MAX_LOOKUP_IDS {
        return Err(vec![FieldError::new(
            "personidentifikatorer",
            format!(
                "must name from 1 to {MAX_LOOKUP_IDS} persons (it names {})",
                raw.len()
            ),
        )]);
    }
    let mut problems = Vec::new();
    let mut ids = Vec::with_capacity(raw.len());
    for (index, id) in raw.iter().enumerate() {
        match Fnr::parse_on(id, synthetic, today) {
            Ok(fnr) => ids.push(fnr),
            Err(error) => problems.push(FieldError::new(
                format!("personidentifikatorer[{index}]"),
                error,
            )),
        }
    }
    if problems.is_empty() {
        Ok(ids)
    } else {
        Err(problems)
    }
}
