//! The citizen's signing form and the agency's signing API.
//!
//! - `POST /brev/{letter_id}/signering`: `handling=signer` signs the
//!   letter's document, `handling=avvis` declines (with `begrunnelse`). A
//!   browser's form post is sent back to the letter (`#signering`), where
//!   the outcome shows; other clients get 204 or problem+json.
//! - `POST /signering/{id}` (a letter's id): the same for a signer after
//!   the recipient, whose page is `/signering/{id}`.
//! - `GET /signering/{id}/dokument`: the document such a signer is to sign,
//!   with the signatures before theirs.
//! - `GET /messages/out/{id}/signing`: how the job of the agency's message
//!   stands (`signeringsoppdrag`).
//! - `POST /messages/out/{id}/signing/cancel`: withdraws a waiting job.
//! - `GET /messages/out/{id}/signing/document`: the signed PDF.

use super::{JobError, SignError, SigningService, Via};
use crate::{
    agency::{AgencyAccess, SEND_SCOPE},
    auth::{Auth, SESSION_COOKIE},
    http::{
        extract::{Form, Path},
        ApiError,
    },
};
use app::api::session::SignedIn;
use app::domain::{LetterId, MessageId};
use axum::{
    extract::{FromRef, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Extension, Json, Router,
};
use axum_extra::extract::cookie::CookieJar;
use std::sync::Arc;

pub fn routes<S>() -> Router<S>
where
    Arc<SigningService>: FromRef<S>,
    Arc<Auth>: FromRef<S>,
    Arc<crate::agency::maskinporten::Maskinporten>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/brev/{letter_id}/signering", post(sign_or_decline))
        // `{id}`, as the page's own route at the same address names it.
        .route("/signering/{id}", post(sign_or_decline_in_turn))
        .route("/signering/{id}/dokument", get(document_to_sign))
        .route("/messages/out/{id}/signing", get(job_status))
        .route("/messages/out/{id}/signing/cancel", post(cancel))
        .route("/messages/out/{id}/signing/document", get(signed_document))
}

#[derive(Debug, serde::Deserialize)]
pub struct LetterPath {
    letter_id: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct Decision {
    handling: String,
    #[serde(default)]
    begrunnelse: Option<String>,
}

/// The recipient's decision, from the letter page.
pub async fn sign_or_decline(
    State(signing): State<Arc<SigningService>>,
    State(auth): State<Arc<Auth>>,
    viewer: Option<Extension<SignedIn>>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(LetterPath { letter_id }): Path<LetterPath>,
    Form(decision): Form<Decision>,
) -> Result<Response, ApiError> {
    let letter = letter_id_of(&letter_id)?;
    let back = format!("/brev/{letter}#signering");
    let place = (Via::Letter, back.as_str());
    decide(
        &signing, &auth, viewer, &jar, &headers, letter, decision, place,
    )
    .await
}

/// A later signer's decision, from their signing page.
pub async fn sign_or_decline_in_turn(
    State(signing): State<Arc<SigningService>>,
    State(auth): State<Arc<Auth>>,
    viewer: Option<Extension<SignedIn>>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(letter_id): Path<String>,
    Form(decision): Form<Decision>,
) -> Result<Response, ApiError> {
    let letter = letter_id_of(&letter_id)?;
    let back = format!("/signering/{letter}");
    let place = (Via::SigningPage, back.as_str());
    decide(
        &signing, &auth, viewer, &jar, &headers, letter, decision, place,
    )
    .await
}

/// The document a later signer signs, shown in the browser.
pub async fn document_to_sign(
    State(signing): State<Arc<SigningService>>,
    viewer: Option<Extension<SignedIn>>,
    Path(letter_id): Path<String>,
) -> Result<Response, ApiError> {
    let Extension(viewer) = viewer.ok_or(ApiError::Unauthorized)?;
    let letter = letter_id_of(&letter_id)?;
    let pdf = signing
        .document_to_sign(&viewer, letter)
        .await
        .map_err(sign_error)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"til-signering.pdf\"".to_owned(),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        pdf,
    )
        .into_response())
}

fn letter_id_of(text: &str) -> Result<LetterId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::invalid("letter_id", "must be a letter's id (a UUID)"))
}

/// Signs or declines for the viewer where they act (`place`: how, and the
/// page a browser is sent back to).
#[allow(clippy::too_many_arguments)]
async fn decide(
    signing: &SigningService,
    auth: &Auth,
    viewer: Option<Extension<SignedIn>>,
    jar: &CookieJar,
    headers: &HeaderMap,
    letter: LetterId,
    decision: Decision,
    (via, back): (Via, &str),
) -> Result<Response, ApiError> {
    let Extension(viewer) = viewer.ok_or(ApiError::Unauthorized)?;
    let outcome = match decision.handling.as_str() {
        "signer" => {
            let session = jar
                .get(SESSION_COOKIE)
                .map(|cookie| cookie.value().to_owned())
                .ok_or(ApiError::Unauthorized)?;
            let evidence = auth
                .login_evidence(&session)
                .await
                .map_err(anyhow::Error::from)?
                .ok_or(ApiError::Unauthorized)?;
            signing.sign(&viewer, via, letter, &evidence).await
        }
        "avvis" => {
            signing
                .decline(&viewer, via, letter, decision.begrunnelse.as_deref())
                .await
        }
        _ => {
            return Err(ApiError::invalid(
                "handling",
                "must be signer (sign) or avvis (decline)",
            ))
        }
    };
    let page = crate::http::wants_page(headers);
    match outcome {
        Ok(()) if page => Ok(Redirect::to(back).into_response()),
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        // The page says why by itself (answered, expired, cancelled, a
        // higher level needed).
        Err(
            SignError::Answered
            | SignError::Expired
            | SignError::Cancelled
            | SignError::NeedsHigherLevel,
        ) if page => Ok(Redirect::to(back).into_response()),
        Err(error) => Err(sign_error(error)),
    }
}

fn sign_error(error: SignError) -> ApiError {
    match error {
        SignError::NotFound => ApiError::NotFound,
        SignError::NeedsHigherLevel => {
            ApiError::Forbidden("a login at the signing order's security level is required")
        }
        SignError::Answered => {
            ApiError::Conflict("the signing order has been signed or declined already".into())
        }
        SignError::Expired => {
            ApiError::Conflict("the signing order's deadline (frist) has passed".into())
        }
        SignError::Cancelled => ApiError::Conflict(
            "the signing order was cancelled by its sender, or another signer declined".into(),
        ),
        SignError::ReasonTooLong => ApiError::invalid(
            "begrunnelse",
            format!(
                "must be at most {} characters",
                app::api::signing::REASON_MAX_CHARS
            ),
        ),
        SignError::Internal(cause) => ApiError::from(cause),
    }
}

fn message_id(text: &str) -> Result<MessageId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::invalid("id", "must be the message's id (a UUID)"))
}

fn job_error(error: JobError) -> ApiError {
    match error {
        JobError::NotFound => ApiError::NotFound,
        JobError::WrongStatus(status) => ApiError::Conflict(format!("the signing job is {status}")),
        JobError::Internal(cause) => ApiError::from(cause),
    }
}

pub async fn job_status(
    State(signing): State<Arc<SigningService>>,
    access: AgencyAccess,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    access.require(SEND_SCOPE)?;
    let status = signing
        .status(&access.org_nr, message_id(&id)?)
        .await
        .map_err(job_error)?;
    Ok(Json(status).into_response())
}

pub async fn cancel(
    State(signing): State<Arc<SigningService>>,
    access: AgencyAccess,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    access.require(SEND_SCOPE)?;
    let status = signing
        .cancel(&access.org_nr, message_id(&id)?)
        .await
        .map_err(job_error)?;
    Ok(Json(status).into_response())
}

pub async fn signed_document(
    State(signing): State<Arc<SigningService>>,
    access: AgencyAccess,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    access.require(SEND_SCOPE)?;
    let id = message_id(&id)?;
    let pdf = signing
        .signed_document(&access.org_nr, id)
        .await
        .map_err(job_error)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"signert-{id}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response())
}
