//! What an operator page shows to someone without an operator session: not
//! the citizens' login, but a link to the operators' sign-in with a code
//! from the server. On the server it sets the status to 401.

use crate::{
    api::operator::SIGN_IN_PATH,
    i18n::{t, use_i18n},
};
use leptos::prelude::*;

#[component]
pub fn OperatorSignInPrompt(
    /// The page's heading, so the operator knows what they tried to open.
    title: String,
) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::error::AppError::Unauthorized.set_response_status();
    let i18n = use_i18n();
    view! {
        <h1>{title}</h1>
        <p>{t!(i18n, operator.not_signed_in)}</p>
        <p><a class="button" href=SIGN_IN_PATH>{t!(i18n, operator.sign_in_title)}</a></p>
    }
}
