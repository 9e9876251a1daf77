//! The language switch in the header: a plain form posting to
//! [`SWITCH_PATH`], where the server sets the language cookie (see
//! [`crate::locale`]) and sends the browser back to the page it came from.
//! It works without JavaScript.

use crate::{
    i18n::{use_i18n, Locale},
    locale::SWITCH_PATH,
};
use leptos::prelude::*;

/// The switch in the header: one button for the other language, named in
/// that language (and marked up as such for screen readers).
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let location = leptos_router::hooks::use_location();
    let here = move || {
        let path = location.pathname.get();
        let query = location.search.get();
        if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        }
    };
    let (code, name) = match i18n.get_locale_untracked() {
        Locale::nb => ("en", "English"),
        Locale::en => ("nb", "Norsk (bokmål)"),
    };
    view! {
        <form method="post" action=SWITCH_PATH class="language-switch">
            <input type="hidden" name="tilbake" value=here />
            <button type="submit" name="sprak" value=code lang=code>
                {name}
            </button>
        </form>
    }
}
