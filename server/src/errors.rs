//! How failures become answers, in one place.
//!
//! - An internal failure's cause is logged here, once, at ERROR, when it
//!   becomes an answer: [`internal`] for the services server functions call
//!   ([`AppError::Internal`]), `From<anyhow::Error>` for HTTP routes
//!   ([`ApiError::Internal`]). Neither answer carries the cause.
//! - A store's failures by meaning: "not found" is 404 (or
//!   [`AppError::NotFound`]), a conflict 409, anything else internal.
//! - A server function's error reaching an HTTP route keeps its meaning.
//!
//! Causes are storage, I/O and library errors; code must not put tokens,
//! national identity numbers or letter contents into them.

use crate::{http::ApiError, store::StorageError, validation::FieldError};
use app::error::AppError;

/// Logs an internal failure's cause, the only place such causes are logged.
fn log_cause(cause: anyhow::Error) {
    tracing::error!(error = format!("{cause:#}"), "internal error");
}

/// An internal failure, as a server function's error: the cause is logged,
/// the citizen sees only that something went wrong.
pub fn internal(cause: impl Into<anyhow::Error>) -> AppError {
    log_cause(cause.into());
    AppError::Internal
}

impl From<anyhow::Error> for ApiError {
    fn from(cause: anyhow::Error) -> Self {
        log_cause(cause);
        ApiError::Internal
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound => ApiError::NotFound,
            StorageError::Conflict(what) => ApiError::Conflict(what.to_owned()),
            StorageError::Other(cause) => ApiError::from(cause),
        }
    }
}

impl From<StorageError> for AppError {
    /// A server function has no "conflict": the services name the conflicts
    /// a citizen can resolve (a folder name in use) as field problems before
    /// this; any other is internal.
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound => AppError::NotFound,
            other => internal(other),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::NotFound => ApiError::NotFound,
            AppError::Unauthorized => ApiError::Unauthorized,
            AppError::ActingForAnother => {
                ApiError::Forbidden("not while acting for another person under a power of attorney")
            }
            AppError::Invalid { field, problem } => {
                ApiError::Validation(vec![FieldError::new(field, problem)])
            }
            // Logged where it became an AppError.
            AppError::Internal => ApiError::Internal,
            AppError::Transport(cause) => ApiError::from(anyhow::anyhow!(cause)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::error::Problem;

    #[test]
    fn storage_errors_keep_their_meaning() {
        assert!(matches!(
            ApiError::from(StorageError::NotFound),
            ApiError::NotFound
        ));
        assert!(matches!(
            ApiError::from(StorageError::Conflict("a folder by that name")),
            ApiError::Conflict(_)
        ));
        assert!(matches!(
            ApiError::from(StorageError::Other(anyhow::anyhow!("disk full"))),
            ApiError::Internal
        ));
        assert_eq!(AppError::from(StorageError::NotFound), AppError::NotFound);
    }

    #[test]
    fn a_server_functions_field_problem_stays_a_field_problem() {
        let ApiError::Validation(fields) =
            ApiError::from(AppError::invalid("navn", Problem::Empty))
        else {
            panic!("not a validation problem");
        };
        assert_eq!(fields, vec![FieldError::new("navn", "must be filled in")]);
    }
}
