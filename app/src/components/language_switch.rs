//! The language switch in the header: a plain form posting to
//! [`SWITCH_PATH`], where the server sets the language cookie (see
//! [`crate::locale`]) and sends the browser back to the page it came from.
//! It works without JavaScript.

use crate::{
    i18n::{use_i18n, Locale},
    locale::SWITCH_PATH,
};
use leptos::prelude::*;

/// The page's languages, each named in itself, in the order the switch lists them.
const LANGUAGES: [(Locale, &str, &str); 3] = [
    (Locale::nb, "nb", "Norsk (bokmål)"),
    (Locale::nn, "nn", "Norsk (nynorsk)"),
    (Locale::en, "en", "English"),
];

/// The switch in the header: a button for each other language, named in
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
    let current = i18n.get_locale_untracked();
    view! {
        <form method="post" action=SWITCH_PATH class="language-switch">
            <input type="hidden" name="tilbake" value=here />
            {LANGUAGES
                .into_iter()
                .filter(|(locale, _, _)| *locale != current)
                .map(|(_, code, name)| view! {
                    <button type="submit" name="sprak" value=code lang=code>
                        {name}
                    </button>
                })
                .collect_view()}
        </form>
    }
}
