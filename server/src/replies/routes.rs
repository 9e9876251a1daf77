//! `POST /brev/{letter_id}/svar` (below) and `/melding` ([`message`]).
//!
//! `POST /brev/{letter_id}/svar`: the citizen's answers to a letter's form,
//! as a multipart form (fields `q.<question id>`, files for attachment
//! questions, and `utkast`, the draft being corrected).
//!
//! The answers are kept as a draft, problems and all. A browser's own form
//! post is sent back to the letter (`/brev/{id}?utkast=<draft>#svar`), where
//! the draft is shown for correction or review; other clients get the draft
//! as JSON (201), or problem+json naming each question at fault (422).

use super::{answers::Posted, answers::FIELD_PREFIX, PostError, ReplyService};
use crate::http::{extract::Path, problem::FieldError, ApiError};
use app::api::{
    replies::AnswerProblem,
    session::{ActingFor, SignedIn},
};
use app::domain::LetterId;
use app::error::AppError;
use axum::{
    extract::{
        multipart::{Multipart, MultipartRejection},
        DefaultBodyLimit, FromRef, State,
    },
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::post,
    Extension, Json, Router,
};
use std::sync::Arc;
use uuid::Uuid;

/// The most attachment questions' files one post carries, at the most each.
const MAX_FILES_PER_POST: usize = 10;
/// Room for the text fields and the multipart framing.
const TEXT_ROOM_BYTES: usize = 1024 * 1024;

pub fn routes<S>(replies: &ReplyService) -> Router<S>
where
    Arc<ReplyService>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route(
            "/brev/{letter_id}/svar",
            post(answer).layer(DefaultBodyLimit::max(
                replies.max_file_bytes() * MAX_FILES_PER_POST + TEXT_ROOM_BYTES,
            )),
        )
        .route(
            "/brev/{letter_id}/melding",
            post(message).layer(DefaultBodyLimit::max(
                replies.max_file_bytes() + TEXT_ROOM_BYTES,
            )),
        )
}

#[derive(Debug, serde::Deserialize)]
pub struct AnswerPath {
    letter_id: String,
}

/// Who answers (the citizen, or a delegate whose power lets them reply)
/// and the letter the address names.
fn citizen_and_letter(
    viewer: Option<Extension<SignedIn>>,
    acting: Option<Extension<ActingFor>>,
    letter_id: &str,
) -> Result<(SignedIn, LetterId), ApiError> {
    let viewer = crate::http::reader(viewer, acting)?;
    if viewer
        .on_behalf
        .as_ref()
        .is_some_and(|power| !power.may_reply)
    {
        return Err(ApiError::from(AppError::ActingForAnother));
    }
    let letter = letter_id
        .parse()
        .map_err(|_| ApiError::invalid("letter_id", "must be a letter's id (a UUID)"))?;
    Ok((viewer, letter))
}

pub async fn answer(
    State(replies): State<Arc<ReplyService>>,
    viewer: Option<Extension<SignedIn>>,
    acting: Option<Extension<ActingFor>>,
    headers: HeaderMap,
    Path(AnswerPath { letter_id }): Path<AnswerPath>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let (viewer, letter) = citizen_and_letter(viewer, acting, &letter_id)?;
    let multipart =
        multipart.map_err(|_| ApiError::invalid("svar", "must be multipart/form-data"))?;
    let (earlier, posted) = read_form(&replies, multipart).await?;
    let page = crate::http::wants_page(&headers);
    let letter_page = format!("/brev/{letter}");
    match replies.save_draft(&viewer, letter, earlier, posted).await {
        Ok(draft) if page => {
            Ok(Redirect::to(&format!("{letter_page}?utkast={}#svar", draft.id)).into_response())
        }
        Ok(draft) if draft.problems.is_empty() => Ok((
            StatusCode::CREATED,
            Json(serde_json::json!({"utkast": draft.id, "problemer": {}})),
        )
            .into_response()),
        Ok(draft) => Err(ApiError::Validation(
            draft
                .problems
                .iter()
                .map(|(id, problem)| {
                    FieldError::new(format!("{FIELD_PREFIX}{id}"), described(*problem))
                })
                .collect(),
        )),
        // The letter's page says why (closed, answered, locked) by itself.
        Err(PostError::Closed | PostError::AlreadyAnswered(_) | PostError::NeedsHigherLevel)
            if page =>
        {
            Ok(Redirect::to(&format!("{letter_page}#svar")).into_response())
        }
        Err(PostError::NotFound) => Err(ApiError::NotFound),
        Err(PostError::Closed) => Err(ApiError::Conflict(
            "the reply deadline (svarfrist) has passed".into(),
        )),
        Err(PostError::AlreadyAnswered(_)) => Err(ApiError::Conflict(
            "this letter has been answered already".into(),
        )),
        Err(PostError::NeedsHigherLevel) => Err(ApiError::Forbidden(
            "a login at security level 4 (high) is required to answer this letter",
        )),
        Err(PostError::Internal(cause)) => Err(ApiError::from(cause)),
    }
}

/// `POST /brev/{letter_id}/melding`: the citizen's message to the letter's
/// sender (fields `nokkel`, the form's key; `tekst`; `vedlegg`, a file). A
/// browser's own post is sent back to the letter's conversation, with a
/// refusal as a code (`?meldingfeil=`); other clients get 201, or
/// problem+json naming the field.
pub async fn message(
    State(replies): State<Arc<ReplyService>>,
    viewer: Option<Extension<SignedIn>>,
    acting: Option<Extension<ActingFor>>,
    headers: HeaderMap,
    Path(AnswerPath { letter_id }): Path<AnswerPath>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    use super::MessageError;
    use app::api::replies::MessageProblem;
    let (viewer, letter) = citizen_and_letter(viewer, acting, &letter_id)?;
    let mut multipart =
        multipart.map_err(|_| ApiError::invalid("melding", "must be multipart/form-data"))?;
    let (mut key, mut text, mut file) = (None, String::new(), None);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| ApiError::invalid("melding", "is too large or not well-formed multipart"))?
    {
        match field.name().unwrap_or_default() {
            "nokkel" => {
                let value = field.text().await.unwrap_or_default();
                key =
                    Some(value.trim().parse::<Uuid>().map_err(|_| {
                        ApiError::invalid("nokkel", "must be the form's key (a UUID)")
                    })?);
            }
            "tekst" => {
                text = field
                    .text()
                    .await
                    .map_err(|_| ApiError::invalid("tekst", "is not text"))?;
            }
            "vedlegg" => {
                if let Some((file_name, bytes)) = read_file(&replies, field, "vedlegg").await? {
                    // The bytes go along: the message is sent with them now.
                    let stored = replies.store_file(&file_name, bytes.clone()).await?;
                    file = Some(stored.map(|stored| (stored, bytes)));
                }
            }
            _ => {}
        }
    }
    let key = key.ok_or_else(|| ApiError::invalid("nokkel", "is required"))?;
    let page = crate::http::wants_page(&headers);
    let conversation = format!("/brev/{letter}");
    match replies
        .send_message(&viewer, letter, key, &text, file)
        .await
    {
        Ok(()) if page => {
            Ok(Redirect::to(&format!("{conversation}?melding=sendt#samtale")).into_response())
        }
        Ok(()) => Ok(StatusCode::CREATED.into_response()),
        Err(MessageError::Invalid(problem)) if page => Ok(Redirect::to(&format!(
            "{conversation}?meldingfeil={}#samtale",
            problem.code()
        ))
        .into_response()),
        Err(MessageError::Invalid(problem)) => {
            let (field, reason) = match problem {
                MessageProblem::Empty => ("tekst", "is required".to_owned()),
                MessageProblem::TooLong => (
                    "tekst",
                    format!(
                        "must be at most {} characters",
                        app::api::replies::MESSAGE_MAX_CHARS
                    ),
                ),
                MessageProblem::FileWrongKind => {
                    ("vedlegg", "must be a PDF, PNG or JPEG file".to_owned())
                }
                MessageProblem::FileTooLarge => ("vedlegg", "is too large".to_owned()),
            };
            Err(ApiError::Validation(vec![FieldError::new(field, reason)]))
        }
        Err(MessageError::NotFound) => Err(ApiError::NotFound),
        Err(MessageError::NotTaken) => Err(ApiError::Forbidden(
            "the sender does not take messages about this letter",
        )),
        Err(MessageError::NeedsHigherLevel) => Err(ApiError::Forbidden(
            "a login at security level 4 (high) is required to write about this letter",
        )),
        Err(MessageError::Internal(cause)) => Err(ApiError::from(cause)),
    }
}

/// A file part's name and bytes, at most the largest file an answer or
/// message may attach; `None` for an empty file input (a browser posts it
/// as a nameless, empty part).
async fn read_file(
    replies: &ReplyService,
    field: axum::extract::multipart::Field<'_>,
    name: &str,
) -> Result<Option<(String, bytes::Bytes)>, ApiError> {
    let file_name = field.file_name().unwrap_or_default().to_owned();
    let bytes = crate::http::extract::read_capped(field, replies.max_file_bytes())
        .await
        .map_err(|_| ApiError::invalid(name, "is too large"))?;
    Ok((!(file_name.is_empty() && bytes.is_empty())).then_some((file_name, bytes)))
}

/// What is wrong with an answer, in English, for API clients.
fn described(problem: AnswerProblem) -> String {
    match problem {
        AnswerProblem::Missing => "is required".to_owned(),
        AnswerProblem::NotAChoice => "is not one of the question's choices".to_owned(),
        AnswerProblem::TooLong { max } => format!("must be at most {max} characters"),
        AnswerProblem::NotANumber => "must be a whole number".to_owned(),
        AnswerProblem::BelowMin { min } => format!("must be at least {min}"),
        AnswerProblem::AboveMax { max } => format!("must be at most {max}"),
        AnswerProblem::NotADate => "must be a date as YYYY-MM-DD".to_owned(),
        AnswerProblem::FileWrongKind => "must be a PDF, PNG or JPEG file".to_owned(),
        AnswerProblem::FileTooLarge => "is too large".to_owned(),
    }
}

/// The form's fields: `utkast`, and each `q.<id>` as text or, with a file
/// name, as an attached file (checked and stored at once).
async fn read_form(
    replies: &ReplyService,
    mut multipart: Multipart,
) -> Result<(Option<Uuid>, Posted), ApiError> {
    let mut posted = Posted::default();
    let mut earlier = None;
    let mut files = 0;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                return Err(ApiError::invalid(
                    "svar",
                    "is too large or not well-formed multipart",
                ))
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "utkast" {
            let text = field.text().await.unwrap_or_default();
            earlier = match text.trim() {
                "" => None,
                id => Some(
                    id.parse()
                        .map_err(|_| ApiError::invalid("utkast", "must be a draft's id"))?,
                ),
            };
            continue;
        }
        let Some(id) = name.strip_prefix(FIELD_PREFIX).map(str::to_owned) else {
            continue;
        };
        match field.file_name().map(str::to_owned) {
            Some(_) => {
                let Some((file_name, bytes)) = read_file(replies, field, &name).await? else {
                    continue;
                };
                files += 1;
                if files > MAX_FILES_PER_POST {
                    return Err(ApiError::invalid(name, "is one file too many"));
                }
                let stored = replies.store_file(&file_name, bytes).await?;
                posted.files.insert(id, stored);
            }
            None => {
                let text = field
                    .text()
                    .await
                    .map_err(|_| ApiError::invalid(name, "is not text"))?;
                posted.values.entry(id).or_default().push(text);
            }
        }
    }
    Ok((earlier, posted))
}
