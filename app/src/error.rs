//! The one error type server functions return. It crosses the wire, so it
//! carries meaning only; causes are logged on the server.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("du må logge inn")]
    Unauthorized,
    #[error("fant ikke det du lette etter")]
    NotFound,
    /// Input the citizen can correct: `field` names the form field (its
    /// `name`), `message` says what is wrong, in words for the citizen.
    #[error("{field} {message}")]
    Invalid { field: String, message: String },
    #[error("noe gikk galt hos oss")]
    Internal,
    #[error("kunne ikke nå tjenesten: {0}")]
    Transport(String),
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
