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
        AppError::Transport(error.to_string())
    }
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
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Internal | AppError::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
    }
}
