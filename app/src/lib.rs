//! Postkasse's citizen web app: the Leptos components rendered on the server and
//! hydrated in the browser, and the domain types both sides share.
//!
//! Server-only code sits behind the `ssr` feature; the browser entry point
//! [`hydrate`] behind `hydrate`.

pub mod archive;
mod archive_pages;
pub mod contact;
#[cfg(feature = "ssr")]
pub mod csp;
pub mod domain;
pub mod error;
pub mod mailbox;
mod pages;
pub mod search;
mod search_page;
mod settings_page;
pub mod strings;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, SsrMode, StaticSegment,
};

/// The HTML document around every page. Rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="nb">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    set_page_security_policy();

    view! {
        <Stylesheet id="leptos" href="/pkg/postkasse.css" />
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg" />
        <Meta name="description" content="Postkasse: din digitale postkasse for brev fra det offentlige." />
        <Title formatter=|page: String| format!("{page} – Postkasse") />
        <Router>
            // target="_self" keeps the router from taking the click, so the browser
            // moves focus to <main> as it does without JavaScript.
            <a class="skip-link" href="#hovedinnhold" target="_self">"Hopp til hovedinnhold"</a>
            <pages::SiteHeader />
            <main id="hovedinnhold" tabindex="-1">
                <Routes fallback=pages::NotFound>
                    // Async: the whole page is rendered before it is sent, so it
                    // reads complete without JavaScript and statuses are right.
                    <Route path=StaticSegment("") view=pages::Landing ssr=SsrMode::Async />
                    <Route path=StaticSegment("innboks") view=pages::InboxPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("sok") view=search_page::SearchPage ssr=SsrMode::Async />
                    <Route
                        path=StaticSegment("innstillinger")
                        view=settings_page::SettingsPage
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment("mapper") view=archive_pages::FoldersPage ssr=SsrMode::Async />
                    <Route
                        path=StaticSegment("mine-dokumenter")
                        view=archive_pages::UploadsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("brev"), ParamSegment("id"))
                        view=pages::LetterPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
            <pages::SiteFooter />
        </Router>
    }
}

/// Sends this page's CSP with the nonce Leptos put on its inline scripts.
#[cfg(feature = "ssr")]
fn set_page_security_policy() {
    use http::{header::CONTENT_SECURITY_POLICY, HeaderValue};
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let nonce = leptos::nonce::use_nonce().map(|nonce| nonce.to_string());
    let form_targets = use_context::<csp::FormTargets>().unwrap_or_default();
    if let Ok(value) = HeaderValue::from_str(&csp::content_security_policy(
        nonce.as_deref(),
        &form_targets,
    )) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

/// Browser entry point: attaches the reactive system to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
