//! The language switch in the page header (`POST /sprak`): remembers the
//! citizen's choice of bokmål or English in a cookie and sends the browser
//! back to the page it came from. A plain form post, so it works without
//! JavaScript; the cross-site check in front of every unsafe request guards it.

use crate::http::{cookies::host_cookie, ApiError, FieldError};
use app::locale::{parse_locale, safe_return_path, LANGUAGE_COOKIE};
use axum::{
    extract::rejection::FormRejection,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

/// A year: the choice outlives sessions, as citizens expect of a language.
const REMEMBERED_FOR: time::Duration = time::Duration::days(365);

/// The largest language form: two short fields.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

#[derive(Debug, Deserialize)]
pub struct LanguageChoice {
    sprak: Option<String>,
    tilbake: Option<String>,
}

pub async fn switch_language(
    jar: CookieJar,
    form: Result<Form<LanguageChoice>, FormRejection>,
) -> Response {
    let choice = match form {
        Ok(Form(choice)) => choice,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return ApiError::from(rejection).into_response()
        }
        Err(_) => {
            return ApiError::invalid("sprak", "the body must be a form with sprak=nb or sprak=en")
                .into_response()
        }
    };
    let Some(locale) = choice.sprak.as_deref().and_then(parse_locale) else {
        return ApiError::Validation(vec![FieldError::new("sprak", "must be nb or en")])
            .into_response();
    };
    let back = safe_return_path(choice.tilbake.as_deref().unwrap_or("/")).to_owned();
    let cookie = host_cookie(LANGUAGE_COOKIE, locale.to_string(), Some(REMEMBERED_FOR));
    (jar.add(cookie), Redirect::to(&back)).into_response()
}
