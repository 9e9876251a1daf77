//! Links between the pages of a long list (the inbox, search hits).

use crate::i18n::{t, tu_string, use_i18n};
use leptos::prelude::*;

/// Links to the previous and next page, and where the citizen is; nothing
/// when everything fits on one page.
#[component]
pub fn PageLinks(
    page: u32,
    page_count: u32,
    href: impl Fn(u32) -> String + Send + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    (page_count > 1).then(|| {
        view! {
            <nav aria-label=tu_string!(i18n, common.pages) class="pager">
                {(page > 1).then(|| view! {
                    <a href=href(page - 1) rel="prev">{t!(i18n, common.previous_page)}</a>
                })}
                <span>{tu_string!(i18n, common.page_of, page, count = page_count).to_string()}</span>
                {(page < page_count).then(|| view! {
                    <a href=href(page + 1) rel="next">{t!(i18n, common.next_page)}</a>
                })}
            </nav>
        }
    })
}
