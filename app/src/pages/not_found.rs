//! The page for an address that leads nowhere: the routes' fallback, a 404.

use crate::components::error_notice::NotFoundNotice;
use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    view! { <NotFoundNotice /> }
}
