//! Errors in words: what a page shows instead of its content when a server
//! function refused or failed, and the "not found" notice (also the page for
//! an address that leads nowhere). On the server they set the response status.

use crate::{
    error::AppError,
    i18n::{t, tu_string, use_i18n},
};
use leptos::prelude::*;
use leptos_meta::Title;

/// Shows an error in words; on the server it also sets the response status.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    error.set_response_status();
    let i18n = use_i18n();
    match error {
        AppError::Unauthorized => view! {
            <Title text=tu_string!(i18n, errors.log_in_title) />
            <h1>{t!(i18n, errors.must_log_in)}</h1>
            <p>{t!(i18n, errors.log_in_to_see)}</p>
            <p><a class="button" href="/auth/login" rel="external">{t!(i18n, common.log_in)}</a></p>
        }
        .into_any(),
        AppError::NotFound => view! { <NotFoundNotice /> }.into_any(),
        AppError::ActingForAnother => view! {
            <Title text=tu_string!(i18n, errors.acting_title) />
            <h1>{t!(i18n, errors.acting_title)}</h1>
            <p>{t!(i18n, errors.acting_for_another)}</p>
        }
        .into_any(),
        other => {
            let explanation = match other {
                AppError::Transport(_) => tu_string!(i18n, errors.unreachable),
                _ => tu_string!(i18n, errors.internal),
            };
            view! {
                <Title text=tu_string!(i18n, errors.error_title) />
                <h1>{t!(i18n, errors.something_wrong)}</h1>
                <p>{explanation}</p>
            }
            .into_any()
        }
    }
}

/// "Fant ikke siden" with a link to the front page; on the server it also
/// sets the status to 404.
#[component]
pub fn NotFoundNotice() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, errors.not_found_title) />
        <h1>{t!(i18n, errors.not_found_title)}</h1>
        <p>
            {t!(i18n, errors.not_found_before)}
            <a href="/">{t!(i18n, errors.not_found_link)}</a>
            {t!(i18n, errors.not_found_after)}
        </p>
    }
}
