//! The one error type server functions return. It crosses the wire, so it
//! carries meaning only; causes are logged on the server. Pages put it in
//! words in the citizen's language (see [`crate::locale`]); its `Display` is
//! English, for APIs and logs.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("you must log in")]
    Unauthorized,
    #[error("not found")]
    NotFound,
    /// A delegate in another's mailbox asked for what the power of attorney
    /// does not give (their own settings, moving letters, signing, ...).
    #[error("not while acting for another person; switch back to your own mailbox first")]
    ActingForAnother,
    /// Input the citizen can correct: `field` names the form field (its
    /// `name`), `problem` says what is wrong. The page puts it in words in
    /// the citizen's language; the `Display` here is English, for APIs.
    #[error("{field} {problem}")]
    Invalid { field: String, problem: Problem },
    #[error("internal error")]
    Internal,
    #[error("could not reach the service: {0}")]
    Transport(String),
}

/// What is wrong with a field, by meaning. Its words are in the catalogue
/// (`problems.*`), read after the field's label ("Navnet må fylles ut.").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Problem {
    #[error("is missing")]
    Missing,
    #[error("must be filled in")]
    Empty,
    #[error("can be at most {max} characters")]
    TooLong { max: u32 },
    #[error("cannot contain control characters")]
    ControlCharacters,
    #[error("cannot contain / or \\")]
    PathSeparators,
    #[error("does not exist")]
    NoSuchPlace,
    #[error("is already the name of one of your folders")]
    FolderNameTaken,
    #[error("must be a year")]
    NotAYear,
    #[error("must be relevance or newest")]
    UnknownOrder,
    #[error("cannot be before the from year")]
    BeforeFromYear,
    #[error("is not a valid e-mail address")]
    InvalidEmail,
    #[error("is not a valid mobile number")]
    InvalidMobile,
    #[error("is a landline number; SMS notices need a mobile number")]
    NotMobile,
    #[error("must be one of the languages in the list")]
    UnknownLanguage,
    #[error("must be one of the mailboxes in the list")]
    UnknownProvider,
    /// Moving letters needs a chosen mailbox at another provider.
    #[error("must be a mailbox at another provider before letters can be moved there")]
    NowhereToMove,
    /// An id that is not one: a hand-edited address or a forged request.
    #[error("is not a valid id")]
    NotAnId,
    #[error("must be a page number from 1 to {max}")]
    PageOutOfRange { max: u32 },
    /// A value of the wrong kind where the page sends a fixed one (a flag,
    /// a number), or an argument that is missing altogether.
    #[error("has the wrong form")]
    Malformed,
    /// A reply sent after the form's deadline.
    #[error("cannot be sent: the reply deadline has passed")]
    ReplyDeadlinePassed,
    /// A second reply to a form that takes one.
    #[error("cannot be sent: this letter has been answered already")]
    AlreadyAnswered,
    /// A draft that still has problems, sent without the review.
    #[error("has answers that must be corrected first")]
    ReplyHasProblems,
    /// A letter at level 4 is answered after a login at level 4.
    #[error("needs a login at security level 4 (high)")]
    NeedsHigherLevel,
    /// A one-time code must be the six digits the message carried.
    #[error("must be the six digits in the message")]
    NotACode,
    /// A code typed where none was sent, or the last one was used.
    #[error("has not been sent: save the address to get one")]
    NoCodeSent,
    #[error("is wrong; {tries_left} tries left")]
    WrongCode { tries_left: u32 },
    /// Too many wrong codes: the code is void, even the right one.
    #[error("was typed wrong too many times: save the address again for a new code")]
    NoTriesLeft,
    #[error("has expired: save the address again for a new code")]
    CodeExpired,
    /// The hour's codes for this person are spent.
    #[error("cannot get another code now: try again in an hour")]
    TooManyCodes,
    /// The channel refused the address.
    #[error("could not be reached")]
    Unreachable,
    #[error("must be a valid national identity number or D number (11 digits)")]
    NotANationalId,
    #[error("has a birth date that has not come yet")]
    BornInTheFuture,
    /// A power of attorney to oneself.
    #[error("cannot be your own")]
    OwnNationalId,
    #[error("must be a date (YYYY-MM-DD)")]
    NotADate,
    #[error("must be after today")]
    NotAfterToday,
    #[error("can be at most {max_days} days ahead")]
    TooFarAhead { max_days: u32 },
    #[error("must have at least one sender chosen")]
    NoSenderChosen,
    /// A sender the citizen has no letters from.
    #[error("must be senders you have letters from")]
    UnknownSender,
}

impl AppError {
    pub fn invalid(field: &str, problem: Problem) -> AppError {
        AppError::Invalid {
            field: field.to_owned(),
            problem,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        match error {
            // Arguments this server could not read: the client's mistake, a
            // 4xx naming the field, never an internal error. (The server
            // functions take ids and numbers as text and parse them
            // themselves; this catches what is left, such as a missing field.)
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::Deserialization(message)
                if answering_request() =>
            {
                fail(AppError::invalid(
                    &named_argument(&message),
                    Problem::Malformed,
                ))
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

/// Records the error's status on the response and hands it back.
///
/// Not for a form posted without JavaScript, though: Leptos answers that
/// with a 302 back to the form's page, the error in its query, and a
/// status set here would replace the 302 (leptos_axum applies it last),
/// leaving the browser on a bare JSON body instead of the page.
#[cfg(feature = "ssr")]
pub fn fail(error: AppError) -> AppError {
    if !is_plain_form_post() {
        error.set_response_status();
    }
    error
}

/// A POST that accepts HTML: a browser submitting a form by itself, which
/// server functions redirect. (Pages are GETs; the JavaScript client asks for JSON.)
#[cfg(feature = "ssr")]
fn is_plain_form_post() -> bool {
    use http::{header::ACCEPT, Method};
    leptos::prelude::use_context::<http::request::Parts>().is_some_and(|parts| {
        parts.method == Method::POST
            && parts
                .headers
                .get(ACCEPT)
                .and_then(|accept| accept.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// Whether this is the server answering a request (rather than a browser
/// reading an answer, whose failures are the transport's).
#[cfg(feature = "ssr")]
fn answering_request() -> bool {
    leptos::prelude::use_context::<http::request::Parts>().is_some()
}

/// The argument a deserializer's message names ("missing field `id`"), or
/// `arguments` when it names none.
#[cfg(feature = "ssr")]
fn named_argument(message: &str) -> String {
    message
        .split_once("field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map_or("arguments", |(name, _)| name)
        .to_owned()
}

impl AppError {
    /// Sets the HTTP status of the response being built, so a page or server
    /// function answering NotFound is a real 404.
    #[cfg(feature = "ssr")]
    pub fn set_response_status(&self) {
        use http::StatusCode;
        let status = match self {
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::ActingForAnother => StatusCode::FORBIDDEN,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Internal | AppError::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
    }
}
